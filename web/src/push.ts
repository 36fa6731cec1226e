// Web Push for this browser: a service worker (`/sw.js`, same origin) and a push subscription made with the
// service's VAPID key, saved as a `webpush` channel (default for new conditions), so an alert arrives while no
// kiswatch tab is open. Only where the browser has service workers, the Push API and notifications.

import { api } from "./api";

export function pushSupported(): boolean {
  return typeof navigator !== "undefined" && "serviceWorker" in navigator && typeof window !== "undefined" && "PushManager" in window && typeof Notification !== "undefined";
}

function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(b64url.length / 4) * 4, "=");
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function b64url(buf: ArrayBuffer | null): string {
  if (!buf) return "";
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Asks for permission, subscribes this browser and saves it as a channel; the channel's id. */
export async function enablePush(name: string): Promise<number> {
  if (!pushSupported()) throw new Error("Web Push is not supported by this browser");
  if ((await Notification.requestPermission()) !== "granted") throw new Error("notification permission denied");
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  const { public_key } = await api.call("get", "/api/v1/push/key");
  const existing = await registration.pushManager.getSubscription();
  const sub = existing ?? (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) }));
  const channel = await api.call("post", "/api/v1/channels", {
    body: {
      kind: "webpush",
      name,
      default: true,
      config: { endpoint: sub.endpoint, p256dh: b64url(sub.getKey("p256dh")), auth: b64url(sub.getKey("auth")) },
    },
  });
  return channel.id;
}
