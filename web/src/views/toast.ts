// A short message at the bottom of the screen, optionally with one action (되돌리기). One at a time: a new one
// replaces the last.

import { h } from "../dom";

let current: { el: HTMLElement; timer: ReturnType<typeof setTimeout> } | null = null;

export function toast(message: string, action?: { label: string; run: () => void }, ms = 8_000): void {
  dismissToast();
  const el = h(
    "div",
    { class: "toast", role: "status", "data-testid": "toast" },
    h("span", null, message),
    action
      ? h(
          "button",
          {
            type: "button",
            class: "toast-action",
            "data-testid": "toast-undo",
            onclick: () => {
              dismissToast();
              action.run();
            },
          },
          action.label,
        )
      : null,
  );
  document.body.appendChild(el);
  current = { el, timer: setTimeout(dismissToast, ms) };
}

export function dismissToast(): void {
  if (!current) return;
  clearTimeout(current.timer);
  current.el.remove();
  current = null;
}
