// kiswatch's service worker: shows a Web Push alert while no kiswatch page is open (the service sends it
// through the browser's push service, encrypted, signed with its VAPID key), and opens the stock page when the
// notification is clicked. Served same-origin from web/dist (no inline script, nothing evaluated).
/* global self, clients, URL */

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));

self.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "kiswatch", body: event.data ? event.data.text() : "" };
  }
  const title = data.title || "kiswatch";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || "kiswatch",
      data: { url: data.url || "/" },
      renotify: true,
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  event.waitUntil(
    clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
      for (const c of list) {
        if (new URL(c.url).origin === target.origin && "focus" in c) {
          c.navigate(target.href);
          return c.focus();
        }
      }
      return clients.openWindow(target.href);
    }),
  );
});
