//! Alert channels end to end, against local fakes of each provider (`fakes.rs`) and a real SMTP
//! server (aiosmtpd): saving (secrets masked, masked values kept on PUT, the outgoing-URL policy),
//! test messages, a trigger delivered once to each channel with its text checked (name, price,
//! condition, link; special characters escaped per provider), a 429 honoured and retried, a 401
//! marking the channel failing, a burst summarised, and the delivery log. The receivers live on
//! 127.0.0.1, so the service runs with `--allow-private-webhooks`.

use crate::common;
use crate::fakes::{Fake, Provider, Received, Scripted};

use std::time::Duration;

use common::{config, eventually, spawn_with};
use kiswatch::config::{ServeConfig, UpstreamConfig};
use kiswatch::outbound::OutboundPolicy;
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const NTFY_TOKEN: &str = "tk_abcdefghijklmnopqrstuvwxyz012";
const HMAC_SECRET: &str = "s3cret-for-hmac";
/// A condition name with what each provider's formatting must escape.
const TRICKY: &str = "돌파 <A&B> *굵게*_";

fn serve(dir: &std::path::Path, background: bool, allow_private: bool) -> ServeConfig {
    ServeConfig {
        outbound: OutboundPolicy { allow_private },
        public_url: Some("https://kiswatch.example.net".into()),
        ..config(
            dir,
            UpstreamConfig::Demo {
                seed: 42,
                speed: 60.0,
            },
            background,
        )
    }
}

struct Fakes {
    telegram: Fake,
    discord: Fake,
    slack: Fake,
    ntfy: Fake,
    webhook: Fake,
}

async fn fakes() -> Fakes {
    Fakes {
        telegram: Fake::start(Provider::Telegram, Some(BOT_TOKEN)).await,
        discord: Fake::start(Provider::Discord, None).await,
        slack: Fake::start(Provider::Slack, None).await,
        ntfy: Fake::start(Provider::Ntfy, Some(NTFY_TOKEN)).await,
        webhook: Fake::start(Provider::Webhook, None).await,
    }
}

/// Saves one channel of each kind; their ids in the order telegram, discord, slack, ntfy, webhook.
async fn save_channels(t: &common::TestApp, f: &Fakes) -> Vec<u64> {
    let mut ids = Vec::new();
    for body in [
        json!({"kind": "telegram", "name": "텔레그램", "config": {"bot_token": BOT_TOKEN, "chat_id": "123456", "api_url": f.telegram.channel_url()}}),
        json!({"kind": "discord", "name": "디스코드", "config": {"url": f.discord.channel_url()}}),
        json!({"kind": "slack", "name": "슬랙", "config": {"url": f.slack.channel_url()}}),
        json!({"kind": "ntfy", "name": "ntfy", "config": {"server": f.ntfy.channel_url(), "topic": "kiswatch-alerts", "token": NTFY_TOKEN}}),
        json!({"kind": "webhook", "name": "웹훅", "config": {"url": f.webhook.channel_url(), "secret": HMAC_SECRET}}),
    ] {
        let (status, c) = t.post("/api/v1/channels", body).await;
        assert_eq!(status, 201, "{c}");
        ids.push(c["id"].as_u64().unwrap());
    }
    ids
}

#[tokio::test]
async fn channels_are_saved_with_secrets_masked_tested_and_refused_outside_the_policy() {
    let f = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(serve(dir.path(), false, true), dir).await;
    let ids = save_channels(&t, &f).await;
    let (_, list) = t.get("/api/v1/channels").await;
    let text = list.to_string();
    for secret in [
        BOT_TOKEN,
        NTFY_TOKEN,
        HMAC_SECRET,
        "tok-en_SECRET",
        "XXXXSECRET",
        "kiswatch-alerts",
    ] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    assert_eq!(list[0]["config"]["bot_token"], "••••Dsaw");
    assert_eq!(list[0]["config"]["chat_id"], "123456");
    assert_eq!(list[1]["config"]["url"], format!("{}/••••", f.discord.base));
    // A PUT sending the masked values back keeps the stored secrets: the test still gets through.
    let tg = list[0].clone();
    let (status, put) = t
        .put(
            &format!("/api/v1/channels/{}", ids[0]),
            json!({"kind": "telegram", "name": "내 봇", "config": tg["config"]}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["name"], "내 봇");
    for (id, fake) in ids
        .iter()
        .zip([&f.telegram, &f.discord, &f.slack, &f.ntfy, &f.webhook])
    {
        let (status, r) = t.post(&format!("/api/v1/channels/{id}/test"), json!({})).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["ok"], true, "{id}: {r}");
        assert_eq!(fake.delivered().len(), 1, "{id}");
        assert!(fake.delivered()[0].text().contains("kiswatch"), "{id}");
    }
    // The webhook's test is signed and carries a delivery id.
    let hook = &f.webhook.delivered()[0];
    let ts: u64 = hook.header("x-kiswatch-timestamp").unwrap().parse().unwrap();
    assert_eq!(
        hook.header("x-kiswatch-signature").unwrap(),
        kiswatch::channels::providers::signature(HMAC_SECRET, ts, &hook.body)
    );
    assert_eq!(hook.header("x-kiswatch-event").as_deref(), Some("test"));
    // The provider's refusal is reported as it answered.
    f.telegram.script([Scripted::Unauthorized]);
    let (_, r) = t
        .post(&format!("/api/v1/channels/{}/test", ids[0]), json!({}))
        .await;
    assert_eq!(
        (r["ok"].clone(), r["status"].clone()),
        (json!(false), json!(401)),
        "{r}"
    );
    assert!(r["answer"].as_str().unwrap().contains("Unauthorized"), "{r}");
    // Bad settings are refused with the field and why.
    let (status, e) = t
        .post(
            "/api/v1/channels",
            json!({"kind": "telegram", "config": {"bot_token": "nope", "chat_id": "1"}}),
        )
        .await;
    assert_eq!((status, common::error_code(&e)), (400, "invalid_channel"), "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().starts_with("bot_token"),
        "{e}"
    );
    let (status, _) = t.get("/api/v1/channels/999").await;
    assert_eq!(status, 404);
    let (status, _) = t.delete(&format!("/api/v1/channels/{}", ids[2])).await;
    assert_eq!(status, 204);
    assert_eq!(t.get("/api/v1/channels").await.1.as_array().unwrap().len(), 4);
    t.stop().await;

    // Without --allow-private-webhooks a loopback receiver, the metadata service, a local SMTP host
    // are refused when saved.
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(serve(dir.path(), false, false), dir).await;
    for (body, shown) in [
        (
            json!({"kind": "slack", "config": {"url": f.slack.channel_url()}}),
            "loopback",
        ),
        (
            json!({"kind": "webhook", "config": {"url": "http://169.254.169.254/latest/"}}),
            "cloud metadata",
        ),
        (
            json!({"kind": "ntfy", "config": {"server": "http://10.0.0.5", "topic": "t"}}),
            "private",
        ),
        (
            json!({"kind": "email", "config": {"host": "localhost", "from": "a@b.kr", "to": "c@d.kr"}}),
            "local name",
        ),
    ] {
        let (status, e) = t.post("/api/v1/channels", body.clone()).await;
        assert_eq!(
            (status, common::error_code(&e)),
            (400, "invalid_channel"),
            "{body}: {e}"
        );
        assert!(e["error"]["message"].as_str().unwrap().contains(shown), "{e}");
        assert!(!e["error"]["message"].as_str().unwrap().contains("SECRET"), "{e}");
    }
    t.stop().await;
}

/// Watches one stock with a condition that fires on every up-closing 1-minute bar (60× speed):
/// the first trigger, once its history is in.
async fn fire(t: &common::TestApp, channels: &[u64], name: &str) -> Value {
    let (status, body) = t.post("/api/v1/watchlist", json!({"code": "035420"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": name, "expr": "1m: close > open", "channels": channels}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["channels"], json!(channels));
    eventually(Duration::from_secs(90), "a trigger", || async {
        let (_, l) = t.get("/api/v1/triggers?after=0&limit=1").await;
        l.as_array()?.first().cloned()
    })
    .await
}

/// The deliveries of a trigger once none is pending.
async fn settled(t: &common::TestApp, id: u64) -> Vec<Value> {
    eventually(Duration::from_secs(30), "the deliveries settled", || async {
        let (status, d) = t.get(&format!("/api/v1/triggers/{id}/deliveries")).await;
        assert_eq!(status, 200, "{d}");
        let d = d.as_array()?.clone();
        (!d.is_empty() && d.iter().all(|e| e["status"] != "pending")).then_some(d)
    })
    .await
}

/// The messages a fake got for trigger `id` (its link, or for a webhook its JSON id).
fn for_trigger(fake: &Fake, id: u64) -> Vec<Received> {
    fake.delivered()
        .into_iter()
        .filter(|r| r.text().contains(&format!("trigger={id}")) || r.json()["id"] == id)
        .collect()
}

#[tokio::test]
async fn a_trigger_reaches_every_channel_once_with_its_text_escaped_for_each() {
    let f = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(serve(dir.path(), true, true), dir).await;
    let ids = save_channels(&t, &f).await;
    let trig = fire(&t, &ids, TRICKY).await;
    let id = trig["id"].as_u64().unwrap();
    t.put(
        &format!("/api/v1/conditions/{}", trig["condition_id"]),
        json!({"expr": "1m: close > open", "enabled": false}),
    )
    .await;
    let log = settled(&t, id).await;
    assert_eq!(log.len(), 5, "{log:?}");
    for e in &log {
        assert_eq!(
            (e["status"].as_str(), e["attempts"].as_u64()),
            (Some("delivered"), Some(1)),
            "{e}"
        );
    }
    let price = kiswatch::channels::message::thousands(trig["price"].as_i64().unwrap());
    let link = format!("https://kiswatch.example.net/stocks/035420?period=1m&trigger={id}");
    // Telegram: HTML with the name's and condition's characters escaped.
    let tg = for_trigger(&f.telegram, id);
    assert_eq!(tg.len(), 1, "once");
    let body = tg[0].json();
    assert_eq!(body["parse_mode"], "HTML");
    assert_eq!(body["chat_id"], 123456);
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("<b>NAVER(035420)</b>"), "{text}");
    assert!(text.contains("돌파 &lt;A&amp;B&gt; *굵게*_"), "{text}");
    assert!(text.contains(&format!("{price}원")), "{text}");
    assert!(text.contains(&link.replace('&', "&amp;")), "{text}");
    // Discord: an embed, markdown escaped, no mentions.
    let dc = for_trigger(&f.discord, id);
    assert_eq!(dc.len(), 1);
    let embed = &dc[0].json()["embeds"][0];
    assert_eq!(embed["title"], "🔔 NAVER(035420)");
    assert_eq!(embed["url"], link);
    // Every markdown character escaped (Discord renders `\x` as `x` for any punctuation).
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .contains(r"<A&B\> \*굵게\*\_"),
        "{embed}"
    );
    assert_eq!(dc[0].json()["allowed_mentions"], json!({"parse": []}));
    assert!(dc[0].path.ends_with("tok-en_SECRET"));
    // Slack: blocks, & < > escaped, the link as <url|text>.
    let sl = for_trigger(&f.slack, id);
    assert_eq!(sl.len(), 1);
    let blocks = sl[0].json()["blocks"].to_string();
    assert!(blocks.contains("돌파 &lt;A&amp;B&gt;"), "{blocks}");
    assert!(blocks.contains(&format!("<{link}|차트 보기>")), "{blocks}");
    // ntfy: plain text, the click action to the stock page, the bearer token.
    let nt = for_trigger(&f.ntfy, id);
    assert_eq!(nt.len(), 1);
    let n = nt[0].json();
    assert_eq!(n["topic"], "kiswatch-alerts");
    assert_eq!(n["click"], link);
    assert!(
        n["title"]
            .as_str()
            .unwrap()
            .starts_with(&format!("NAVER(035420) {price}원")),
        "{n}"
    );
    assert!(n["message"].as_str().unwrap().contains(TRICKY), "{n}");
    assert_eq!(
        nt[0].header("authorization"),
        Some(format!("Bearer {NTFY_TOKEN}"))
    );
    // Webhook: the trigger as stored, its delivery id, an HMAC signature.
    let wh = for_trigger(&f.webhook, id);
    assert_eq!(wh.len(), 1);
    let (_, listed) = t.get(&format!("/api/v1/triggers?after={}&limit=1", id - 1)).await;
    assert_eq!(wh[0].json(), listed[0]);
    let hook_log = log.iter().find(|e| e["kind"] == "webhook").unwrap();
    assert_eq!(
        wh[0].header("x-kiswatch-delivery").unwrap(),
        hook_log["delivery_id"].as_str().unwrap()
    );
    let ts: u64 = wh[0].header("x-kiswatch-timestamp").unwrap().parse().unwrap();
    assert_eq!(
        wh[0].header("x-kiswatch-signature").unwrap(),
        kiswatch::channels::providers::signature(HMAC_SECRET, ts, &wh[0].body)
    );
    for fake in [&f.telegram, &f.discord, &f.slack, &f.ntfy] {
        assert_eq!(fake.violations(), 0, "the provider's rate was kept");
    }
    // Health and metrics count per channel.
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["channels"].as_array().unwrap().len(), 5, "{h}");
    assert!(
        h["channels"][0]["counts"]["delivered"].as_u64().unwrap() >= 1,
        "{h}"
    );
    let metrics = t.get_full("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("kiswatch_channel_delivered_total{channel=\"1\",kind=\"telegram\"}"),
        "{metrics}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_429_is_honoured_and_retried_a_5xx_retried_and_a_401_marks_the_channel_failing() {
    let f = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(serve(dir.path(), true, true), dir).await;
    let ids = save_channels(&t, &f).await;
    f.telegram.script([Scripted::RateLimited(2.0)]);
    f.discord.script([Scripted::RateLimited(0.75)]);
    f.slack
        .script([Scripted::Status(503), Scripted::Slow(Duration::from_millis(300))]);
    f.ntfy.script([Scripted::Unauthorized]);
    let trig = fire(&t, &ids[..4], "양봉").await;
    let id = trig["id"].as_u64().unwrap();
    let log = settled(&t, id).await;
    let by = |kind: &str| log.iter().find(|e| e["kind"] == kind).unwrap().clone();
    for kind in ["telegram", "discord", "slack"] {
        let e = by(kind);
        assert_eq!(
            (e["status"].as_str(), e["attempts"].as_u64()),
            (Some("delivered"), Some(2)),
            "{e}"
        );
    }
    assert!(
        by("telegram")["last_error"].as_str().unwrap().contains("429"),
        "{log:?}"
    );
    // Honoured: the retry came no sooner than the provider asked.
    let tg = f.telegram.received();
    assert!(
        tg[1].at.duration_since(tg[0].at) >= Duration::from_secs(2),
        "{:?}",
        tg[1].at - tg[0].at
    );
    let dc = f.discord.received();
    assert!(dc[1].at.duration_since(dc[0].at) >= Duration::from_millis(750));
    // The 401: failed at once, no retry, the channel marked failing (health says so).
    let nt = by("ntfy");
    assert_eq!(
        (nt["status"].as_str(), nt["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{nt}"
    );
    assert!(nt["last_error"].as_str().unwrap().contains("401"), "{nt}");
    let (_, ch) = t.get(&format!("/api/v1/channels/{}", ids[3])).await;
    assert!(ch["failing"]["error"].as_str().unwrap().contains("401"), "{ch}");
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(h["reasons"].to_string().contains("is failing"), "{h}");
    // Later triggers fail at once for it, without a request.
    let next = eventually(Duration::from_secs(60), "a second trigger", || async {
        let (_, l) = t.get(&format!("/api/v1/triggers?after={id}&limit=1")).await;
        l.as_array()?.first().cloned()
    })
    .await;
    let log = settled(&t, next["id"].as_u64().unwrap()).await;
    let nt2 = log.iter().find(|e| e["kind"] == "ntfy").unwrap();
    assert_eq!(
        (nt2["status"].as_str(), nt2["attempts"].as_u64()),
        (Some("failed"), Some(0)),
        "{nt2}"
    );
    assert_eq!(f.ntfy.received().len(), 1, "no request to a failing channel");
    // A test that passes clears the mark.
    let (_, r) = t
        .post(&format!("/api/v1/channels/{}/test", ids[3]), json!({}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(
        t.get(&format!("/api/v1/channels/{}", ids[3])).await.1["failing"],
        Value::Null
    );
    t.stop().await;
}

/// A burst bigger than the channel's rate (Telegram: one message a second per chat) goes as one
/// summary listing the stocks, not as a queue of minutes; every event carried is logged delivered.
#[tokio::test]
async fn a_burst_beyond_the_rate_is_summarised_in_one_message() {
    use kiswatch::channels::{ChannelSpec, Channels};
    use kiswatch::contract::{ChannelKind, DeliveryStatus, Fired, TriggerValues};
    use kiswatch::store::{Routed, Store};
    let telegram = Fake::start(Provider::Telegram, Some(BOT_TOKEN)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db"), "t").unwrap();
    let tasks = kiswatch::tasks::Tasks::new();
    let channels = Channels::start(
        store.clone(),
        kiswatch::outbound::Outbound::new(OutboundPolicy { allow_private: true }),
        kiswatch::channels::seal::Sealer::open(dir.path()).unwrap(),
        "https://kw.example".into(),
        tasks.clone(),
    )
    .await
    .unwrap();
    let ch = channels
        .create(ChannelSpec {
            kind: ChannelKind::Telegram,
            name: "tg".into(),
            config: json!({"bot_token": BOT_TOKEN, "chat_id": "7", "api_url": telegram.channel_url()}),
            default: true,
        })
        .await
        .unwrap();
    let mut trigger_ids = Vec::new();
    for i in 0..40 {
        let fired = Fired {
            code: format!("{:06}", 100 + i),
            name: format!("종목{i}"),
            condition_id: 1,
            condition_name: "정배열".into(),
            period: "30m".into(),
            bar_time: "2026-11-27T10:30:00+09:00".into(),
            time: "2026-11-27T10:31:00+09:00".into(),
            price: 10_000 + i,
            values: TriggerValues(vec![]),
            late: false,
            message: String::new(),
            message_ko: String::new(),
        };
        let routes = vec![Routed {
            channel_id: ch.id,
            kind: ChannelKind::Telegram,
            status: DeliveryStatus::Pending,
            last_error: None,
        }];
        let (row, outbox) = store.add_trigger_routed(fired, routes).await.unwrap().unwrap();
        channels.enqueued(&outbox);
        trigger_ids.push(row.id);
    }
    for id in &trigger_ids {
        eventually(Duration::from_secs(20), "every event delivered", || async {
            let d = channels.deliveries(*id).await.unwrap();
            (d[0].status == DeliveryStatus::Delivered).then_some(())
        })
        .await;
    }
    let got = telegram.delivered();
    assert!(got.len() <= 3, "{} messages for a burst of 40", got.len());
    // Every event is in exactly one message: alone, listed in a summary, or counted in its "외 N건".
    let mut accounted = 0;
    for m in &got {
        let text = m.json()["text"].as_str().unwrap().to_string();
        let Some(n) = text
            .split("신호 ")
            .nth(1)
            .and_then(|t| t.split('건').next())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            accounted += 1;
            continue;
        };
        assert!(text.contains("건 — 한꺼번에 발생해 모아 보냅니다"), "{text}");
        let listed = text.matches("• <a href=").count();
        assert_eq!(
            listed,
            n.min(kiswatch::channels::message::SUMMARY_LISTED),
            "{text}"
        );
        if n > listed {
            assert!(text.contains(&format!("외 {}건", n - listed)), "{text}");
        }
        accounted += n;
    }
    assert_eq!(accounted, 40, "every event of the burst carried once");
    assert!(got.len() < 40, "the burst was summarised");
    let summarized = channels.deliveries(*trigger_ids.last().unwrap()).await.unwrap();
    assert!(summarized[0].summarized);
    assert_eq!(telegram.violations(), 0);
    tasks.shutdown(Duration::from_secs(2)).await;
}

/// The e-mail channel against a real SMTP server (aiosmtpd in a throwaway virtualenv): a test
/// message and a trigger, their Korean subject and body, the delivery id as Message-ID.
#[tokio::test]
async fn e_mail_goes_through_a_real_smtp_server() {
    let Some(mut smtp) = crate::smtp::Smtp::start().await else {
        return;
    };
    let f = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(serve(dir.path(), true, true), dir).await;
    let (status, c) = t
        .post(
            "/api/v1/channels",
            json!({"kind": "email", "name": "메일", "config": {"host": "127.0.0.1", "port": smtp.port, "tls": "none",
                   "from": "kiswatch <alerts@kiswatch.example>", "to": ["trader@example.kr"]}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_u64().unwrap();
    let (_, r) = t.post(&format!("/api/v1/channels/{id}/test"), json!({})).await;
    assert_eq!(
        (r["ok"].clone(), r["status"].clone()),
        (json!(true), json!(250)),
        "{r}"
    );
    let test = smtp.next_message().await;
    assert_eq!(test["rcpt_tos"], json!(["trader@example.kr"]));
    let trig = fire(&t, &[id], TRICKY).await;
    let tid = trig["id"].as_u64().unwrap();
    let log = settled(&t, tid).await;
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
    let mail = loop {
        let m = smtp.next_message().await;
        if m["body"].as_str().unwrap().contains(&format!("trigger={tid}")) {
            break m;
        }
    };
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("[kiswatch] NAVER(035420)"), "{subject}");
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains(TRICKY) && body.contains("원"), "{body}");
    assert!(
        body.contains(&format!(
            "https://kiswatch.example.net/stocks/035420?period=1m&trigger={tid}"
        )),
        "{body}"
    );
    assert_eq!(
        mail["message_id"],
        format!("<{}@kiswatch>", log[0]["delivery_id"].as_str().unwrap())
    );
    drop(f);
    t.stop().await;
}
