// How a trigger reaches a person who is not looking: the stock's page opens, optionally with a browser
// notification and a sound.
//
// Browsers block `window.open` that no user gesture caused, and a trigger arrives over the WebSocket, not from
// a click. So the open is tried, a `null` window (the popup blocker) is detected, and the page falls back to a
// banner whose button opens the window (a click is a gesture) — or, when the user chose it, navigates this
// tab. One named window per stock (`kiswatch-005930`) means repeated triggers reuse a window instead of
// piling them up. A notification's click is a gesture too, so it opens the window as well. Sound needs one
// interaction with the page before it may play (autoplay policy): the first click anywhere unlocks it.

import { h } from "./dom";
import { t } from "./i18n";
import type { Trigger } from "./model";
import { navigate, stockUrl } from "./router";
import type { Settings } from "./settings";
import { thisWindow } from "./windows";

export function windowName(code: string): string {
  return `kiswatch-${code}`;
}

export function triggerUrl(tr: Trigger): string {
  return stockUrl(tr.code, { period: tr.period || undefined, trigger: tr.id ?? undefined });
}

/** `window.open`, with the other windows told to make room while it opens (`windows.ts`). */
function openWindow(url: string, name: string): Window | null {
  thisWindow()?.opening(name);
  const w = window.open(url, name);
  if (!w) thisWindow()?.abandon(name);
  return w;
}

export type OpenOutcome = "window" | "focused" | "tab" | "blocked" | "none";

/** A window this page opened, as far as this page can tell. */
export interface WindowLike {
  closed: boolean;
  focus(): void;
}

/** The stock windows this page opened, by code: a second trigger for a stock whose window is open goes to
 * that window's banner (its page hears the trigger on its own WebSocket) instead of reloading it on
 * another period. */
const opened = new Map<string, WindowLike>();

/** Opens the trigger's stock page as the settings say; `blocked` when the popup blocker refused. */
export function openTriggerPage(
  tr: Trigger,
  settings: Settings,
  deps: { open: (url: string, name: string) => WindowLike | null; navigate: (url: string) => void; windows?: Map<string, WindowLike> } = {
    open: openWindow,
    navigate,
  },
): OpenOutcome {
  const url = triggerUrl(tr);
  if (settings.openMode === "none") return "none";
  if (settings.openMode === "tab") {
    deps.navigate(url);
    return "tab";
  }
  const windows = deps.windows ?? opened;
  const already = windows.get(tr.code);
  if (already && !already.closed) {
    already.focus();
    return "focused";
  }
  const w = deps.open(url, windowName(tr.code));
  if (!w) return "blocked";
  windows.set(tr.code, w);
  return "window";
}

/** The banner shown when the popup blocker refused: a button opens the window with a real gesture. */
export function popupBlockedBanner(tr: Trigger, host: HTMLElement): void {
  host.querySelector(".banner.popup")?.remove();
  const banner = h(
    "div",
    { class: "banner popup", role: "alert" },
    h("span", null, `${t("popupBlocked")} · ${tr.name}`),
    h(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: () => {
          const w = openWindow(triggerUrl(tr), windowName(tr.code));
          if (w) opened.set(tr.code, w);
          banner.remove();
        },
      },
      t("openNow"),
    ),
    h("button", { type: "button", onclick: () => banner.remove() }, t("dismiss")),
  );
  host.appendChild(banner);
}

export function notify(tr: Trigger): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const n = new Notification(`${tr.name} (${tr.code})`, {
    body: [tr.conditionName, tr.period].filter(Boolean).join(" · "),
    tag: windowName(tr.code),
  });
  n.onclick = () => {
    const open = opened.get(tr.code);
    if (open && !open.closed) open.focus();
    else {
      const w = openWindow(triggerUrl(tr), windowName(tr.code));
      if (w) {
        opened.set(tr.code, w);
        w.focus();
      }
    }
    n.close();
  };
}

/** Asks for notification permission (call from a click). */
export async function requestNotificationPermission(): Promise<boolean> {
  if (typeof Notification === "undefined") return false;
  if (Notification.permission === "granted") return true;
  return (await Notification.requestPermission()) === "granted";
}

let audio: AudioContext | null = null;

/** Whether a sound may play now (the page has had its one interaction). */
export function soundUnlocked(): boolean {
  return audio !== null && audio.state === "running";
}

/** Creates or resumes the audio context; call from a user gesture. */
export function unlockSound(): void {
  if (typeof AudioContext === "undefined") return;
  audio ??= new AudioContext();
  if (audio.state === "suspended") void audio.resume();
}

/** Two short tones. */
export function beep(): void {
  if (!audio || audio.state !== "running") return;
  const now = audio.currentTime;
  for (const [i, freq] of [880, 1320].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, now + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.18);
    osc.stop(now + i * 0.18 + 0.17);
  }
}
