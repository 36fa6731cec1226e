// A tiny element builder: the views are plain TypeScript, and this keeps them readable without a framework
// (the bundle stays small and nothing re-renders behind our back while a price ticks).

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Array<Child | Child[]>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === "class") {
        el.className = String(v);
      } else if (k === "style") {
        // Through the CSSOM: the Content-Security-Policy (style-src 'self') refuses style attributes
        // set as markup or with setAttribute, not the element's style object.
        el.style.cssText = String(v);
      } else if (v === true) {
        el.setAttribute(k, "");
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Array<Child | Child[]>): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c === null || c === undefined || c === false) continue;
    else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function setChildren(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

/** Sets text only when it changed (cheap for ticking numbers) and reports whether it did. */
export function setText(el: Element, text: string): boolean {
  if (el.textContent === text) return false;
  el.textContent = text;
  return true;
}

const FLASH_CLASSES = ["flash-up", "flash-down", "flash-new"];
const flashTimers = new WeakMap<Element, ReturnType<typeof setTimeout>>();

/**
 * A brief highlight on a changed value: a class on for a moment, then off, as an HTS blinks a cell. Not a
 * fade: a background-colour animation is restyled and repainted on the main thread on every frame it runs,
 * and a watchlist of rows ticking at the demo's pace kept one running nearly always — in the renderer that
 * every stock window opened from the watchlist shares. Under `prefers-reduced-motion` nothing blinks.
 */
export function flash(el: Element, cls = "flash-new"): void {
  if (document.documentElement.classList.contains("reduced-motion")) return;
  const pending = flashTimers.get(el);
  if (pending !== undefined) clearTimeout(pending);
  for (const c of FLASH_CLASSES) if (c !== cls) el.classList.remove(c);
  el.classList.add(cls);
  flashTimers.set(
    el,
    setTimeout(
      () => {
        flashTimers.delete(el);
        el.classList.remove(cls);
      },
      cls === "flash-new" ? 1_200 : 400,
    ),
  );
}
