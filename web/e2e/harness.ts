// The e2e harness: the real kiswatch binary on a free loopback port (its embedded demo simulator, or a
// standalone `kiswatch sim` for the VTS profile) and Debian's Chromium driven by playwright-core with a fresh
// profile. Nothing here waits on wall-clock sleeps: every wait polls for a state the test names.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../..");
export const screenshotDir = join(repoRoot, "target", "e2e-screenshots");
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function kiswatchBin(): string {
  if (process.env.KISWATCH_BIN) return process.env.KISWATCH_BIN;
  const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repoRoot, "target");
  return join(targetDir, "debug", "kiswatch");
}

/** Why the e2e tests cannot run here, or null when they can. */
export function missingPrerequisite(): string | null {
  if (!existsSync(chromiumPath)) return `Chromium is missing at ${chromiumPath} (Debian: apt-get install -y chromium; or set CHROMIUM)`;
  if (!existsSync(kiswatchBin())) return `the kiswatch binary is missing at ${kiswatchBin()} (cargo build -p kiswatch; or set KISWATCH_BIN)`;
  if (!existsSync(join(repoRoot, "web", "dist", "index.html"))) return "web/dist is not built (make web-build)";
  return null;
}

export interface Proc {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts a process and resolves once `pattern` appears in its stdout (the first group is returned as url). */
async function startProcess(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Proc & { match: RegExpExecArray }> {
  const child: ChildProcess = spawn(kiswatchBin(), args, {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const match = await new Promise<RegExpExecArray>((resolveMatch, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiswatch ${args[0]} did not start within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveMatch(m);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kiswatch ${args[0]} exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners("exit");
  return {
    url: match[1],
    match,
    output: () => out,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGINT");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

/** `kiswatch serve` in demo mode (embedded simulator) on a free port, with its own data dir. */
export async function startServe(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiswatch-e2e-"));
  const p = await startProcess(["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDir, ...extra], /open (http:\/\/127\.0\.0\.1:\d+)/, env);
  await until(async () => (await fetch(`${p.url}/api/v1/health`)).ok, "kiswatch health");
  return {
    ...p,
    stop: async () => {
      await p.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The standalone simulator; returns its REST url and its demo key pair. */
export async function startSim(args: string[]): Promise<Proc & { key: string; secret: string; wsUrl: string }> {
  const p = await startProcess(["sim", "--bind", "127.0.0.1:0", ...args], /REST\s+(http:\/\/\S+)[\s\S]*WebSocket\s+(ws:\/\/\S+?)(?:\/tryitout)?\s[\s\S]*KIS_APP_KEY=(\S+)\s+KIS_APP_SECRET=(\S+)/);
  return { ...p, wsUrl: p.match[2], key: p.match[3], secret: p.match[4] };
}

/** Polls `check` until it returns a truthy value (every 100 ms, at most `timeoutMs`). */
export async function until<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  consoleErrors: string[];
  close: () => Promise<void>;
}

/** Headless Debian Chromium with a fresh profile, a 1280×800 window and Korean locale. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "kiswatch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    locale: "ko-KR",
    timezoneId: "Asia/Seoul",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const consoleErrors: string[] = [];
  const watch = (p: Page) => {
    p.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(`${p.url()}: ${m.text()}`);
    });
    p.on("pageerror", (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
  };
  context.on("page", watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    consoleErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
