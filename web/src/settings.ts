// The user's preferences, persisted in localStorage: how a trigger opens its stock page, and whether it also
// raises a browser notification and a sound.

export type OpenMode = "window" | "tab" | "none";

export interface Settings {
  /** `window`: a named window per stock (`kiswatch-005930`); `tab`: navigate this tab; `none`: only the list
   * and the row mark (and the notification or sound, where chosen). */
  openMode: OpenMode;
  notify: boolean;
  sound: boolean;
}

const STORAGE_KEY = "kiswatch.settings";
const DEFAULTS: Settings = { openMode: "window", notify: false, sound: false };

/** Reads the settings, ignoring anything malformed field by field (a bad value never loses the others). */
export function loadSettings(storage: Pick<Storage, "getItem"> | undefined = globalThis.localStorage): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(STORAGE_KEY) ?? "null");
  } catch {
    raw = null;
  }
  const s = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  return {
    openMode: s.openMode === "tab" || s.openMode === "none" ? s.openMode : DEFAULTS.openMode,
    notify: typeof s.notify === "boolean" ? s.notify : DEFAULTS.notify,
    sound: typeof s.sound === "boolean" ? s.sound : DEFAULTS.sound,
  };
}

export function saveSettings(
  settings: Settings,
  storage: Pick<Storage, "setItem"> | undefined = globalThis.localStorage,
): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Storage may be full or disabled; the settings then last for this page only.
  }
}
