// Client-side routes (`/`, `/stocks/{code}`, `/conditions`, `/scan`) over the History API. The service answers
// every such path with index.html, so a reload or a window opened on `/stocks/005930` lands on the same view.

export type Route =
  | { name: "home" }
  | { name: "stock"; code: string; period: string | null; trigger: number | null }
  | { name: "conditions" }
  | { name: "scan"; id: number | null }
  | { name: "channels" }
  | { name: "notFound" };

export function parseRoute(pathname: string, search = ""): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return { name: "home" };
  if (path === "/conditions") return { name: "conditions" };
  if (path === "/channels") return { name: "channels" };
  if (path === "/scan") {
    const id = new URLSearchParams(search).get("id");
    return { name: "scan", id: id !== null && /^\d+$/.test(id) ? Number(id) : null };
  }
  const m = /^\/stocks\/([0-9A-Za-z]{6})$/.exec(path);
  if (m) {
    const q = new URLSearchParams(search);
    const trig = q.get("trigger");
    return {
      name: "stock",
      code: m[1].toUpperCase(),
      period: q.get("period"),
      trigger: trig !== null && /^\d+$/.test(trig) ? Number(trig) : null,
    };
  }
  return { name: "notFound" };
}

export function stockUrl(code: string, opts: { period?: string; trigger?: number } = {}): string {
  const q = new URLSearchParams();
  if (opts.period) q.set("period", opts.period);
  if (opts.trigger !== undefined) q.set("trigger", String(opts.trigger));
  const s = q.toString();
  return `/stocks/${code}${s ? `?${s}` : ""}`;
}

/** The 조건검색 page of a market-scope condition (or the page's own choice). */
export function scanUrl(id: number | null = null): string {
  return id === null ? "/scan" : `/scan?id=${id}`;
}

type Listener = () => void;
const listeners = new Set<Listener>();

export function onRouteChange(cb: Listener): void {
  listeners.add(cb);
}

export function navigate(url: string): void {
  if (url === location.pathname + location.search) return;
  history.pushState(null, "", url);
  for (const cb of listeners) cb();
}

/** Makes same-origin `<a data-nav>` clicks client-side navigations (a modified click still opens a tab). */
export function installLinkInterception(): void {
  window.addEventListener("popstate", () => {
    for (const cb of listeners) cb();
  });
  document.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = (ev.target as Element | null)?.closest?.("a[data-nav]");
    if (!(a instanceof HTMLAnchorElement) || a.target) return;
    ev.preventDefault();
    navigate(a.getAttribute("href") ?? "/");
  });
}
