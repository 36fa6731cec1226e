// The kiswatch UI: the page shell (top bar, status line, banners, settings) and the router that mounts one
// view at a time. Views: the watchlist (`/`), a stock (`/stocks/{code}`), the conditions (`/conditions`), 조건검색
// over the whole market (`/scan`), the alert channels (`/channels`).

import "pretendard/dist/web/variable/pretendardvariable-dynamic-subset.css";
import "./style.css";
import { requestNotificationPermission, soundUnlocked, unlockSound } from "./alerts";
import { live, settings, settingsChanged, triggers, updateSettings, upstream, windows } from "./app";
import { h, setChildren } from "./dom";
import { lang, setLang, t, type MessageKey } from "./i18n";
import { api } from "./api";
import { kstMs, kstParts, phaseLabel, projected, readingFrom, speedLabel, type MarketReading } from "./market";
import { installLinkInterception, onRouteChange, parseRoute } from "./router";
import { mountChannels } from "./views/channels";
import { mountConditions } from "./views/conditions";
import { mountHome } from "./views/home";
import { mountScan } from "./views/scan";
import { mountStock } from "./views/stock";

const shell = document.querySelector<HTMLElement>("#app") ?? document.body;
const connectionBanner = h("div", { class: "connection-banner", "data-testid": "connection-banner", role: "status", hidden: true });
const banners = h("div", { class: "banners" });
const statusLine = h("span", { class: "status-line" });
const nav = h("nav", { class: "nav" });
const settingsBox = h("details", { class: "settings" });
const langBtn = h("button", { type: "button", class: "lang", onclick: () => toggleLang() });
const demoBadge = h("span", { class: "demo-badge", "data-testid": "demo-badge", hidden: true });
const clockEl = h("span", { class: "market-clock", "data-testid": "market-clock", "data-phase": "", title: "" });
const view = h("main", { class: "view" });
let unmount: (() => void) | null = null;
let wasOpen = false;

setChildren(
  shell,
  connectionBanner,
  h(
    "header",
    { class: "topbar" },
    h("a", { href: "/", "data-nav": true, class: "brand" }, "kiswatch"),
    nav,
    h("div", { class: "topbar-right" }, demoBadge, clockEl, statusLine, langBtn, settingsBox),
  ),
  banners,
  view,
);

function renderChrome(): void {
  document.documentElement.lang = lang();
  const path = location.pathname;
  setChildren(
    nav,
    h("a", { href: "/", "data-nav": true, class: path === "/" ? "active" : "" }, t("navWatchlist")),
    h("a", { href: "/conditions", "data-nav": true, class: path === "/conditions" ? "active" : "" }, t("navConditions")),
    h("a", { href: "/scan", "data-nav": true, "data-testid": "nav-scan", class: path === "/scan" ? "active" : "" }, t("navScan")),
    h("a", { href: "/channels", "data-nav": true, class: path === "/channels" ? "active" : "" }, t("navChannels")),
  );
  langBtn.textContent = lang() === "ko" ? "EN" : "한국어";
  langBtn.title = t("language");
  renderSettings();
  renderStatus();
  renderClock();
}

function renderSettings(): void {
  const s = settings();
  const radio = (value: "window" | "tab" | "none", label: MessageKey) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "radio", name: "openMode", value, checked: s.openMode === value, onchange: () => updateSettings({ openMode: value }) }),
      t(label),
    );
  const notifyInput = h("input", { type: "checkbox", checked: s.notify });
  notifyInput.addEventListener("change", async () => {
    const on = notifyInput.checked && (await requestNotificationPermission());
    notifyInput.checked = on;
    updateSettings({ notify: on });
  });
  const soundInput = h("input", { type: "checkbox", checked: s.sound });
  soundInput.addEventListener("change", () => {
    if (soundInput.checked) unlockSound();
    updateSettings({ sound: soundInput.checked });
  });
  const open = settingsBox.open;
  setChildren(
    settingsBox,
    h("summary", { title: t("settings") }, "⚙ ", h("span", { class: "settings-label" }, t("settings"))),
    h(
      "div",
      { class: "settings-panel" },
      h("div", { class: "settings-title" }, t("openMode")),
      radio("window", "openWindow"),
      radio("tab", "openTab"),
      radio("none", "openNone"),
      h("label", { class: "check" }, notifyInput, t("notify")),
      h("label", { class: "check" }, soundInput, t("sound")),
    ),
  );
  settingsBox.open = open;
}

function renderStatus(): void {
  const ws = live.connection;
  const up = upstream.state;
  const key: MessageKey =
    ws === "reconnecting" ? "upstreamReconnecting" : up === "down" ? "upstreamDown" : up === "reconnecting" ? "upstreamReconnecting" : up === "polling" ? "upstreamPolling" : "upstreamConnected";
  statusLine.className = `status-line ${key}`;
  statusLine.textContent = t(key);
  // The banner: the browser's own connection is gone (and had been up), or the service says KIS is down.
  if (ws === "open") wasOpen = true;
  const browserDown = (ws === "reconnecting" || ws === "connecting") && wasOpen;
  const upstreamDown = up === "down" || up === "reconnecting";
  connectionBanner.hidden = !(browserDown || upstreamDown);
  connectionBanner.textContent = browserDown ? t("connectionLost") : t(up === "down" ? "upstreamDown" : "upstreamReconnecting");
}

function soundPrompt(): void {
  banners.querySelector(".banner.sound")?.remove();
  if (!settings().sound || soundUnlocked()) return;
  banners.appendChild(h("div", { class: "banner sound" }, t("soundPrompt")));
}

function route(): void {
  unmount?.();
  unmount = null;
  window.scrollTo(0, 0);
  const r = parseRoute(location.pathname, location.search);
  renderChrome();
  document.body.dataset.route = r.name;
  if (r.name === "home") unmount = mountHome(view, banners);
  else if (r.name === "stock") unmount = mountStock(view, r.code, r.period, r.trigger);
  else if (r.name === "conditions") unmount = mountConditions(view);
  else if (r.name === "scan") unmount = mountScan(view, r.id);
  else if (r.name === "channels") unmount = mountChannels(view);
  else {
    document.title = `${t("notFound")} · kiswatch`;
    setChildren(
      view,
      h(
        "div",
        { class: "not-found", "data-testid": "not-found" },
        h("div", { class: "not-found-code" }, "404"),
        h("h1", null, t("notFound")),
        h("p", { class: "muted" }, t("notFoundHint", { path: location.pathname })),
        h("a", { href: "/", "data-nav": true, class: "button primary" }, t("backToWatchlist")),
      ),
    );
  }
}

// ---- The market clock and the demo badge ----------------------------------------------------------------
let reading: MarketReading | null = null;
let readAt = 0;

function renderClock(): void {
  if (!reading) return;
  const ms = projected(reading, performance.now() - readAt);
  clockEl.dataset.phase = reading.phase ?? "";
  if (ms === null || reading.phase === null) {
    clockEl.textContent = "";
    return;
  }
  const { date, time, seconds } = kstParts(ms);
  setChildren(
    clockEl,
    h("span", { class: "clock-date" }, date),
    " ",
    h("span", { class: "clock-time" }, time),
    " ",
    h("span", { class: `clock-phase phase-${reading.phase}` }, phaseLabel(reading.phase, lang())),
  );
  clockEl.title = `${t("marketTime")} ${date} ${seconds}`;
  demoBadge.hidden = !reading.simulated;
  demoBadge.textContent = lang() === "en" ? `Demo · simulated market · ${reading.speed}×` : `데모 · 가상 시장 · ${speedLabel(reading.speed)}`;
  demoBadge.title = t("demoHint");
}

async function refreshMarket(): Promise<void> {
  try {
    const next = readingFrom(await api.market());
    // A trade already on screen is never ahead of the clock.
    const shown = reading ? projected(reading, performance.now() - readAt) : null;
    if (shown !== null && next.nowMs !== null && shown > next.nowMs && shown - next.nowMs < 60_000 * next.speed) next.nowMs = shown;
    reading = next;
    readAt = performance.now();
    renderClock();
  } catch {
    // The status line tells about the service; the clock keeps running on what it had.
  }
}

live.on("tick", (msg) => {
  if (!reading) return;
  const at = kstMs(msg.time);
  const shown = projected(reading, performance.now() - readAt);
  if (shown !== null && at > shown) {
    reading = { ...reading, nowMs: at };
    readAt = performance.now();
  }
});

// ---- Settings: a popover that closes on Escape and on a click outside it --------------------------------
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && settingsBox.open) {
    settingsBox.open = false;
    settingsBox.querySelector("summary")?.focus();
  }
});
document.addEventListener("pointerdown", (ev) => {
  if (settingsBox.open && !settingsBox.contains(ev.target as Node)) settingsBox.open = false;
});

function toggleLang(): void {
  setLang(lang() === "ko" ? "en" : "ko");
  route();
}

// The first interaction unlocks sound (autoplay policy), once.
document.addEventListener(
  "pointerdown",
  () => {
    if (settings().sound) unlockSound();
    setTimeout(soundPrompt, 100);
  },
  { once: true },
);

const reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");
document.documentElement.classList.toggle("reduced-motion", reducedMotion?.matches ?? false);
// Trigger arrows and the banner's icon blink: one class, twice a second (style.css says why not a CSS animation).
setInterval(() => document.documentElement.classList.toggle("blink-dim"), 500);

live.on("connection", renderStatus);
upstream.changed.on(renderStatus);
settingsChanged.on(() => {
  renderSettings();
  soundPrompt();
});
onRouteChange(route);
installLinkInterception();
route();
// A stock page says it is drawn once its chart is; any other page at once (see `windows.ts`).
if (parseRoute(location.pathname, location.search).name !== "stock") setTimeout(() => windows.opened(), 0);
soundPrompt();
// The clock after the page's own requests: a trigger's page draws its chart first.
setTimeout(() => void refreshMarket(), 0);
setInterval(() => void refreshMarket(), 5_000);
setInterval(renderClock, 1_000);
triggers
  .load()
  .catch((err: unknown) => console.warn("kiswatch: trigger history unavailable", err))
  .finally(() => live.connect());
