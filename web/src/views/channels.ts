// The alert channels page (`/channels`): Telegram, Discord, Slack, ntfy, e-mail, webhooks and this browser's Web
// Push — saved once (secrets come back masked, and a masked value sent back keeps the stored one), tested with
// one click (the provider's answer shown as it came), counted (delivered, retried, failed, pending) and marked
// when failing. Below, the delivery log of the latest triggers. `channelPicker` is the conditions editor's
// choice of channels.

import { ApiError, api } from "../api";
import { h, setChildren } from "../dom";
import { formatKstDateTime } from "../format";
import { lang } from "../i18n";
import type { Wire } from "../model";
import { enablePush, pushSupported } from "../push";
import { errorMessage, errorPanel, skeleton } from "./common";
import "./channels.css";

type Channel = Wire["Channel"];
type Kind = Wire["ChannelKind"];
type Delivery = Wire["DeliveryEntry"];

const KINDS: Kind[] = ["telegram", "discord", "slack", "ntfy", "email", "webhook"];

const KO = {
  title: "알림 채널",
  intro: "신호를 휴대폰·메신저로 받습니다. 비밀값(토큰, 웹훅 URL, 비밀번호)은 저장 후 가려서 보여 주며, 가려진 값을 그대로 두고 저장하면 기존 값이 유지됩니다.",
  add: "채널 추가",
  edit: "채널 수정",
  kind: "종류",
  name: "이름",
  default: "새 조건에 기본 사용",
  save: "저장",
  cancel: "취소",
  test: "테스트 전송",
  del: "삭제",
  status: "상태",
  ok: "정상",
  failing: "실패",
  counts: "전송 {d} · 재시도 {r} · 실패 {f} · 대기 {p}",
  none: "아직 채널이 없습니다. 아래에서 추가하세요.",
  testOk: "전송 성공",
  testFail: "전송 실패",
  answer: "응답",
  confirmDelete: "이 채널을 삭제할까요? 조건에서도 빠집니다.",
  push: "이 브라우저에서 웹 푸시 받기",
  pushOn: "웹 푸시 채널을 만들었습니다",
  pushUnsupported: "이 브라우저는 웹 푸시를 지원하지 않습니다",
  log: "최근 신호의 전송 기록",
  logShow: "전송 기록",
  logEmpty: "이 신호는 보낼 채널이 없었습니다",
  noTriggers: "아직 신호가 없습니다",
  attempts: "시도",
  lastError: "마지막 오류",
  summarized: "묶음",
  pending: "대기",
  delivered: "전송됨",
  failed: "실패",
  skipped: "건너뜀",
  channels: "알림 채널",
};
const EN: typeof KO = {
  title: "Alert channels",
  intro: "Get triggers on your phone. Secrets (tokens, webhook URLs, passwords) are shown masked once saved; saving a masked value unchanged keeps the stored one.",
  add: "Add a channel",
  edit: "Edit channel",
  kind: "Kind",
  name: "Name",
  default: "Use for new conditions",
  save: "Save",
  cancel: "Cancel",
  test: "Send a test",
  del: "Delete",
  status: "Status",
  ok: "OK",
  failing: "Failing",
  counts: "delivered {d} · retried {r} · failed {f} · pending {p}",
  none: "No channel yet. Add one below.",
  testOk: "Delivered",
  testFail: "Not delivered",
  answer: "Answer",
  confirmDelete: "Delete this channel? It is taken out of every condition.",
  push: "Get Web Push in this browser",
  pushOn: "A Web Push channel was made",
  pushUnsupported: "This browser has no Web Push",
  log: "Delivery log of recent triggers",
  logShow: "Deliveries",
  logEmpty: "This trigger had no channel to go to",
  noTriggers: "No trigger yet",
  attempts: "Attempts",
  lastError: "Last error",
  summarized: "summary",
  pending: "pending",
  delivered: "delivered",
  failed: "failed",
  skipped: "skipped",
  channels: "Channels",
};

function tt(key: keyof typeof KO, vars: Record<string, string | number> = {}): string {
  let s = (lang() === "en" ? EN : KO)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

const KIND_LABEL: Record<Kind, [string, string]> = {
  telegram: ["텔레그램", "Telegram"],
  discord: ["디스코드", "Discord"],
  slack: ["슬랙", "Slack"],
  ntfy: ["ntfy", "ntfy"],
  email: ["이메일", "E-mail"],
  webhook: ["웹훅", "Webhook"],
  webpush: ["웹 푸시", "Web Push"],
};

export function kindLabel(k: Kind): string {
  return KIND_LABEL[k][lang() === "en" ? 1 : 0];
}

interface Field {
  key: string;
  ko: string;
  en: string;
  placeholder?: string;
  type?: "text" | "password" | "number" | "select";
  options?: string[];
}

const FIELDS: Record<Kind, Field[]> = {
  telegram: [
    { key: "bot_token", ko: "봇 토큰", en: "Bot token", placeholder: "123456789:AA…", type: "password" },
    { key: "chat_id", ko: "채팅 ID", en: "Chat id", placeholder: "123456789 / -100… / @channel" },
    { key: "api_url", ko: "Bot API 주소 (선택)", en: "Bot API URL (optional)", placeholder: "https://api.telegram.org" },
  ],
  discord: [{ key: "url", ko: "웹훅 URL", en: "Webhook URL", type: "password", placeholder: "https://discord.com/api/webhooks/…" }],
  slack: [{ key: "url", ko: "Incoming 웹훅 URL", en: "Incoming webhook URL", type: "password", placeholder: "https://hooks.slack.com/services/…" }],
  ntfy: [
    { key: "server", ko: "서버", en: "Server", placeholder: "https://ntfy.sh" },
    { key: "topic", ko: "토픽", en: "Topic", type: "password" },
    { key: "token", ko: "토큰 (선택)", en: "Token (optional)", type: "password" },
  ],
  email: [
    { key: "host", ko: "SMTP 서버", en: "SMTP host", placeholder: "smtp.example.com" },
    { key: "port", ko: "포트", en: "Port", type: "number", placeholder: "587" },
    { key: "tls", ko: "보안", en: "Security", type: "select", options: ["starttls", "tls", "none"] },
    { key: "username", ko: "사용자 이름", en: "User name" },
    { key: "password", ko: "비밀번호", en: "Password", type: "password" },
    { key: "from", ko: "보내는 주소", en: "From", placeholder: "kiswatch <alerts@example.com>" },
    { key: "to", ko: "받는 주소 (쉼표로 구분)", en: "To (comma-separated)", placeholder: "me@example.com" },
  ],
  webhook: [
    { key: "url", ko: "URL", en: "URL", type: "password", placeholder: "https://…" },
    { key: "secret", ko: "HMAC 서명 비밀값 (선택)", en: "HMAC signing secret (optional)", type: "password" },
  ],
  webpush: [],
};

function channelsApi() {
  return {
    list: () => api.call("get", "/api/v1/channels"),
    create: (body: Wire["ChannelRequest"]) => api.call("post", "/api/v1/channels", { body }),
    update: (id: number, body: Wire["ChannelRequest"]) => api.call("put", "/api/v1/channels/{id}", { params: { id }, body }),
    remove: (id: number) => api.call("delete", "/api/v1/channels/{id}", { params: { id } }),
    test: (id: number) => api.call("post", "/api/v1/channels/{id}/test", { params: { id } }),
    deliveries: (id: number) => api.call("get", "/api/v1/triggers/{id}/deliveries", { params: { id } }),
  };
}

function summary(c: Channel): string {
  const cfg = c.config as Record<string, unknown>;
  const parts: string[] = [];
  for (const f of FIELDS[c.kind]) {
    const v = cfg[f.key];
    if (v === null || v === undefined || v === "") continue;
    parts.push(`${lang() === "en" ? f.en : f.ko}: ${Array.isArray(v) ? v.join(", ") : String(v)}`);
  }
  if (c.kind === "webpush") parts.push(String(cfg.endpoint ?? ""));
  return parts.join(" · ");
}

export function mountChannels(root: HTMLElement): () => void {
  const calls = channelsApi();
  let editing: Channel | null = null;
  let alive = true;
  const listBox = h("div", { class: "channel-list" }, skeleton("rows", 3));
  const kindSelect = h("select", { class: "channel-kind", "aria-label": tt("kind") }, KINDS.map((k) => h("option", { value: k }, kindLabel(k))));
  const nameInput = h("input", { type: "text", class: "channel-name", maxlength: 100 });
  const defaultInput = h("input", { type: "checkbox", class: "channel-default" });
  const fieldsBox = h("div", { class: "channel-fields" });
  const formError = h("div", { class: "expr-error", role: "alert", hidden: true });
  const title = h("h2", null, tt("add"));
  const saveBtn = h("button", { type: "submit", class: "primary" }, tt("save"));
  const form = h(
    "form",
    { class: "channel-form", "data-testid": "channel-form", novalidate: true },
    title,
    h("label", { class: "field" }, h("span", null, tt("kind")), kindSelect),
    h("label", { class: "field" }, h("span", null, tt("name")), nameInput),
    fieldsBox,
    h("label", { class: "check" }, defaultInput, tt("default")),
    formError,
    h("div", { class: "actions" }, saveBtn, h("button", { type: "button", onclick: () => startNew() }, tt("cancel"))),
  );
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const pushBtn = h("button", { type: "button", class: "push-enable", disabled: !pushSupported() }, tt("push"));
  const pushNote = h("p", { class: "muted push-note" }, pushSupported() ? "" : tt("pushUnsupported"));
  const logBox = h("div", { class: "delivery-section" }, skeleton("rows", 3));

  setChildren(
    root,
    h(
      "div",
      { class: "channels-page conditions-page" },
      h(
        "section",
        { class: "panel" },
        h("div", { class: "panel-head" }, h("h2", null, tt("title"))),
        h("p", { class: "muted" }, tt("intro")),
        listBox,
        h("div", { class: "push-box" }, pushBtn, pushNote),
      ),
      h("div", { class: "cond-side" }, h("section", { class: "panel" }, form), h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", null, tt("log"))), logBox)),
    ),
  );

  function drawFields(values: Record<string, unknown> = {}): void {
    inputs.clear();
    const kind = kindSelect.value as Kind;
    setChildren(
      fieldsBox,
      FIELDS[kind].map((f) => {
        const v = values[f.key];
        const text = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v);
        const input =
          f.type === "select"
            ? h("select", { name: f.key }, (f.options ?? []).map((o) => h("option", { value: o, selected: o === (text || f.options?.[0]) }, o)))
            : h("input", { name: f.key, type: f.type === "number" ? "number" : f.type === "password" ? "password" : "text", value: text, placeholder: f.placeholder ?? "", autocomplete: "off" });
        inputs.set(f.key, input);
        return h("label", { class: "field" }, h("span", null, lang() === "en" ? f.en : f.ko), input);
      }),
    );
  }

  function startNew(): void {
    editing = null;
    title.textContent = tt("add");
    kindSelect.disabled = false;
    nameInput.value = "";
    defaultInput.checked = true;
    formError.hidden = true;
    drawFields();
  }

  function startEdit(c: Channel): void {
    editing = c;
    title.textContent = `${tt("edit")}: ${c.name}`;
    kindSelect.value = c.kind;
    kindSelect.disabled = true;
    nameInput.value = c.name;
    defaultInput.checked = c.default;
    formError.hidden = true;
    drawFields(c.config as Record<string, unknown>);
    nameInput.focus();
  }

  kindSelect.addEventListener("change", () => drawFields());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void save();
  });

  async function save(): Promise<void> {
    const kind = (editing?.kind ?? kindSelect.value) as Kind;
    const config: Record<string, unknown> = {};
    for (const [key, input] of inputs) {
      const v = input.value.trim();
      if (v === "") continue;
      config[key] = key === "port" ? Number(v) : v;
    }
    if (editing?.kind === "webpush") Object.assign(config, editing.config);
    const body = { kind, name: nameInput.value.trim(), config, default: defaultInput.checked };
    saveBtn.disabled = true;
    formError.hidden = true;
    try {
      if (editing) await calls.update(editing.id, body);
      else await calls.create(body);
      startNew();
      await load();
    } catch (err) {
      setChildren(formError, h("div", null, errorMessage(err)));
      formError.hidden = false;
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function test(c: Channel, out: HTMLElement, btn: HTMLButtonElement): Promise<void> {
    btn.disabled = true;
    setChildren(out, "…");
    try {
      const r = await calls.test(c.id);
      out.className = `channel-test ${r.ok ? "up" : "down"}`;
      const msg = lang() === "en" ? r.error : r.error_ko;
      setChildren(
        out,
        h("strong", null, r.ok ? tt("testOk") : tt("testFail")),
        r.status !== null ? ` (${r.status})` : "",
        msg ? h("div", null, msg) : null,
        h("div", { class: "muted" }, `${tt("answer")}: `, h("code", null, r.answer.slice(0, 300))),
      );
      await load();
    } catch (err) {
      setChildren(out, errorMessage(err));
    } finally {
      btn.disabled = false;
    }
  }

  async function remove(c: Channel): Promise<void> {
    if (!confirm(`${tt("confirmDelete")}\n${c.name}`)) return;
    try {
      await calls.remove(c.id);
    } catch (err) {
      console.warn("kiswatch: delete failed", err);
    }
    if (editing?.id === c.id) startNew();
    await load();
  }

  async function load(): Promise<void> {
    try {
      const list = await calls.list();
      if (!alive) return;
      if (list.length === 0) {
        setChildren(listBox, h("p", { class: "empty" }, tt("none")));
        return;
      }
      setChildren(
        listBox,
        h(
          "table",
          { class: "cond-table channel-table" },
          h("tbody", null, list.map((c) => row(c))),
        ),
      );
    } catch (err) {
      setChildren(listBox, errorPanel(err, () => void load()));
    }
  }

  // A test's answer stays shown when the list is drawn again (the test itself reloads it for the counts).
  const testResults = new Map<number, HTMLElement>();

  function row(c: Channel): HTMLElement {
    let out = testResults.get(c.id);
    if (!out) {
      out = h("div", { class: "channel-test", "data-testid": "channel-test-result", role: "status" });
      testResults.set(c.id, out);
    }
    const result = out;
    const testBtn = h("button", { type: "button", class: "small", "data-testid": "channel-test" }, tt("test"));
    testBtn.addEventListener("click", () => void test(c, result, testBtn));
    const counts = tt("counts", { d: c.counts.delivered, r: c.counts.retried, f: c.counts.failed, p: c.counts.pending });
    return h(
      "tr",
      { "data-testid": "channel-row", "data-channel-id": c.id, "data-kind": c.kind, class: c.failing ? "failing" : "" },
      h("td", null, h("span", { class: "badge period" }, kindLabel(c.kind))),
      h(
        "td",
        { class: "cond-name-cell" },
        h("div", null, c.name, c.default ? h("span", { class: "badge", title: tt("default") }, "★") : null),
        h("div", { class: "muted small-text" }, summary(c)),
        h("div", { class: "muted small-text" }, counts),
        c.failing ? h("div", { class: "down", "data-testid": "channel-failing" }, `${tt("failing")}: ${c.failing.error}`) : null,
        result,
      ),
      h(
        "td",
        { class: "row-actions" },
        testBtn,
        h("button", { type: "button", class: "small", onclick: () => startEdit(c) }, tt("edit")),
        h("button", { type: "button", class: "small danger", onclick: () => void remove(c) }, tt("del")),
      ),
    );
  }

  pushBtn.addEventListener("click", async () => {
    pushBtn.disabled = true;
    try {
      await enablePush(lang() === "en" ? "This browser" : "이 브라우저");
      pushNote.textContent = tt("pushOn");
      await load();
    } catch (err) {
      pushNote.textContent = err instanceof ApiError ? errorMessage(err) : String((err as Error).message ?? err);
    } finally {
      pushBtn.disabled = !pushSupported();
    }
  });

  async function loadLog(): Promise<void> {
    try {
      const list = await api.triggers({ limit: 20 });
      if (!alive) return;
      if (list.length === 0) {
        setChildren(logBox, h("p", { class: "empty" }, tt("noTriggers")));
        return;
      }
      setChildren(
        logBox,
        h(
          "ol",
          { class: "trigger-list delivery-triggers" },
          list.map((tr) => {
            const box = h("div", { class: "delivery-log", "data-testid": "delivery-log", hidden: true });
            const btn = h("button", { type: "button", class: "small", "data-testid": "delivery-log-show" }, tt("logShow"));
            // An unstored trigger (no id yet) has no delivery log to show.
            btn.addEventListener("click", () => {
              if (tr.id !== null) void showLog(tr.id, box);
            });
            return h(
              "li",
              { class: "trigger-item", "data-trigger-id": tr.id },
              h("div", { class: "trigger-head" }, h("span", { class: "trigger-time" }, formatKstDateTime(tr.time)), h("span", { class: "stock-name" }, tr.name), btn),
              h("div", { class: "trigger-body" }, h("span", { class: "trigger-cond" }, tr.conditionName)),
              box,
            );
          }),
        ),
      );
    } catch (err) {
      setChildren(logBox, errorPanel(err, () => void loadLog()));
    }
  }

  async function showLog(id: number, box: HTMLElement): Promise<void> {
    box.hidden = false;
    setChildren(box, "…");
    try {
      const entries: Delivery[] = await calls.deliveries(id);
      if (entries.length === 0) {
        setChildren(box, h("p", { class: "muted" }, tt("logEmpty")));
        return;
      }
      setChildren(
        box,
        h(
          "table",
          { class: "delivery-table" },
          h("thead", null, h("tr", null, h("th", null, tt("channels")), h("th", null, tt("status")), h("th", { class: "num" }, tt("attempts")), h("th", null, tt("lastError")))),
          h(
            "tbody",
            null,
            entries.map((e) =>
              h(
                "tr",
                { "data-status": e.status, "data-channel-id": e.channel_id },
                h("td", null, `${e.channel_name ?? "—"} (${kindLabel(e.kind)})`),
                h("td", { class: e.status === "delivered" ? "up" : e.status === "failed" ? "down" : "" }, tt(e.status), e.summarized ? ` · ${tt("summarized")}` : ""),
                h("td", { class: "num" }, String(e.attempts)),
                h("td", { class: "muted" }, e.last_error ?? ""),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      setChildren(box, errorMessage(err));
    }
  }

  startNew();
  void load();
  void loadLog();
  return () => {
    alive = false;
  };
}

/** The conditions editor's choice of channels: a checkbox per channel; `set(null)` checks the defaults. */
export function channelPicker(): { el: HTMLElement; get: () => number[]; set: (ids: number[] | null) => void } {
  const el = h("fieldset", { class: "channel-picker", "data-testid": "channel-picker" }, h("legend", null, tt("channels")));
  let boxes: Array<{ id: number; input: HTMLInputElement; isDefault: boolean }> = [];
  let wanted: number[] | null = null;
  const apply = () => {
    for (const b of boxes) b.input.checked = wanted === null ? b.isDefault : wanted.includes(b.id);
  };
  void channelsApi()
    .list()
    .then((list) => {
      boxes = list.map((c) => ({ id: c.id, isDefault: c.default, input: h("input", { type: "checkbox", value: c.id }) }));
      setChildren(
        el,
        h("legend", null, tt("channels")),
        boxes.length === 0 ? h("a", { href: "/channels", "data-nav": true, class: "muted" }, tt("none")) : null,
        boxes.map((b, i) => h("label", { class: "check" }, b.input, `${list[i].name} (${kindLabel(list[i].kind)})`)),
      );
      apply();
    })
    .catch((err: unknown) => console.warn("kiswatch: channels unavailable", err));
  return {
    el,
    get: () => boxes.filter((b) => b.input.checked).map((b) => b.id),
    set: (ids) => {
      wanted = ids;
      apply();
    },
  };
}
