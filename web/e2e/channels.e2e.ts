// Alert channels in a real browser against the real service (demo simulator, `--allow-private-webhooks` so a
// receiver on 127.0.0.1 is allowed): configure a webhook channel on the channels page, send a test and read the
// provider's answer, pick the channel in the conditions editor, and see a trigger's delivery log.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, launchBrowser, missingPrerequisite, screenshot, startServe, until, type Browser, type Proc } from "./harness";

const missing = missingPrerequisite();
if (missing) console.warn(`\n  e2e SKIPPED: ${missing}\n`);

interface Hit {
  event: string | undefined;
  delivery: string | undefined;
  body: string;
}

describe.skipIf(missing !== null)("alert channels", () => {
  let app: Proc;
  let browser: Browser;
  let receiver: Server;
  let hookUrl = "";
  const hits: Hit[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        hits.push({ event: req.headers["x-kiswatch-event"] as string | undefined, delivery: req.headers["x-kiswatch-delivery"] as string | undefined, body });
        res.writeHead(200, { "content-type": "text/plain" }).end("received by the e2e receiver");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook?token=E2ESECRET`;
    app = await startServe(["--no-demo-content", "--allow-private-webhooks", "--speed", "60"]);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await new Promise<void>((r) => receiver?.close(() => r()));
  });

  it("configures a channel, sends a test, and shows a trigger's delivery log", async () => {
    const page = browser.page;
    await page.goto(`${app.url}/channels`);
    const form = page.getByTestId("channel-form");
    await form.locator("select.channel-kind").selectOption("webhook");
    await form.locator("input.channel-name").fill("내 웹훅");
    await form.locator('input[name="url"]').fill(hookUrl);
    await form.locator('button[type="submit"]').click();
    const row = page.locator('[data-testid="channel-row"][data-kind="webhook"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("내 웹훅");
    expect(await row.textContent()).not.toContain("E2ESECRET");
    const channelId = Number(await row.getAttribute("data-channel-id"));

    await row.getByTestId("channel-test").click();
    const result = row.getByTestId("channel-test-result");
    await until(async () => (await result.textContent())?.includes("전송 성공"), "the test's answer");
    expect(await result.textContent()).toContain("received by the e2e receiver");
    expect(hits.some((h) => h.event === "test")).toBe(true);
    await screenshot(page, "channels");

    // The conditions editor offers it, checked for a new condition (it is a default channel).
    await page.goto(`${app.url}/conditions`);
    const picker = page.getByTestId("channel-picker");
    await picker.locator("input[type=checkbox]").first().waitFor();
    expect(await picker.locator("input[type=checkbox]").first().isChecked()).toBe(true);

    // A trigger routed to it: the webhook gets it, and the log says so.
    expect((await api(app.url, "POST", "/api/v1/watchlist", { code: "035420" })).status).toBe(201);
    const cond = await api<{ id: number }>(app.url, "POST", "/api/v1/conditions", { name: "양봉", expr: "1m: close > open", channels: [channelId] });
    expect(cond.status, JSON.stringify(cond.body)).toBe(201);
    const trig = await until(async () => (await api<Array<{ id: number }>>(app.url, "GET", "/api/v1/triggers?after=0&limit=1")).body[0], "a trigger", 120_000);
    await api(app.url, "PUT", `/api/v1/conditions/${cond.body.id}`, { expr: "1m: close > open", enabled: false });
    await until(async () => hits.some((h) => h.event === "trigger" && h.body.includes(`"id":${trig.id}`)), "the webhook received the trigger", 30_000);

    await page.goto(`${app.url}/channels`);
    const item = page.locator(`.delivery-triggers [data-trigger-id="${trig.id}"]`);
    await item.waitFor();
    await until(async () => {
      await item.getByTestId("delivery-log-show").click();
      return (await item.locator('[data-testid="delivery-log"] tr[data-status="delivered"]').count()) === 1;
    }, "the delivery log shows it delivered");
    const log = await item.getByTestId("delivery-log").textContent();
    expect(log).toContain("내 웹훅");
    expect(log).toContain("전송됨");
    await screenshot(page, "channels-delivery-log");
    expect(browser.consoleErrors.join("\n")).toBe("");
  });
});
