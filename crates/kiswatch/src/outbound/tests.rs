use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::*;

const STRICT: OutboundPolicy = OutboundPolicy { allow_private: false };
const OPEN: OutboundPolicy = OutboundPolicy { allow_private: true };

fn refusal(url: &str) -> Option<Refusal> {
    match check(url, STRICT) {
        Err(OutboundError::Refused { kind, .. }) => Some(kind),
        Err(OutboundError::LocalName { .. }) => Some(Refusal::Loopback),
        Err(other) => panic!("{url}: refused for another reason: {other}"),
        Ok(_) => None,
    }
}

#[test]
fn every_private_local_and_metadata_address_is_refused_when_saved() {
    use Refusal::*;
    for (url, kind) in [
        ("http://169.254.169.254/latest/meta-data/iam/", CloudMetadata),
        ("http://169.254.170.2/v2/credentials", CloudMetadata),
        ("http://100.100.100.200/latest/meta-data", CloudMetadata),
        ("http://[fd00:ec2::254]/latest/", CloudMetadata),
        ("http://[::1]:22/", Loopback),
        ("http://127.0.0.1:8080/hook", Loopback),
        ("http://127.8.9.10/", Loopback),
        ("http://localhost:9000/hook", Loopback),
        ("http://api.LOCALHOST./", Loopback),
        // Other spellings of 127.0.0.1 the URL parser understands.
        ("http://2130706433/", Loopback),
        ("http://0x7f.1/", Loopback),
        ("http://017700000001/", Loopback),
        // IPv4 inside IPv6.
        ("http://[::ffff:127.0.0.1]/", Loopback),
        ("http://[::ffff:169.254.169.254]/", CloudMetadata),
        ("http://[::127.0.0.1]/", Loopback),
        ("http://[64:ff9b::7f00:1]/", Loopback),
        ("http://[2002:a00:1::]/", Private),
        ("http://10.1.2.3/", Private),
        ("http://172.16.0.1/", Private),
        ("http://172.31.255.254/", Private),
        ("http://192.168.0.1/", Private),
        ("http://169.254.1.1/", LinkLocal),
        ("http://[fe80::1]/", LinkLocal),
        ("http://[fd12:3456::1]/", UniqueLocal),
        ("http://[fc00::1]/", UniqueLocal),
        ("http://100.64.0.1/", Shared),
        ("http://100.127.255.255/", Shared),
        ("http://224.0.0.1/", Multicast),
        ("http://[ff02::1]/", Multicast),
        ("http://0.0.0.0:8080/", Unspecified),
        ("http://0.1.2.3/", Unspecified),
        ("http://[::]/", Unspecified),
        ("http://255.255.255.255/", Broadcast),
        ("http://192.0.2.1/", Reserved),
        ("http://198.18.0.1/", Reserved),
        ("http://240.0.0.1/", Reserved),
        ("http://[2001:db8::1]/", Reserved),
    ] {
        assert_eq!(refusal(url), Some(kind), "{url}");
        // --allow-private-webhooks lets each through.
        assert!(check(url, OPEN).is_ok(), "{url} with the flag");
    }
}

#[test]
fn public_destinations_pass() {
    for url in [
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://discord.com/api/webhooks/1/abc",
        "https://ntfy.sh/kiswatch-alerts",
        "http://8.8.8.8/",
        "http://172.32.0.1/",
        "http://100.128.0.1/",
        "http://[2606:4700:4700::1111]/",
        "https://example.com:8443/hook?token=x",
    ] {
        assert!(check(url, STRICT).is_ok(), "{url}: {:?}", check(url, STRICT));
    }
}

#[test]
fn other_schemes_user_info_and_non_urls_are_refused_even_with_the_flag() {
    for policy in [STRICT, OPEN] {
        for (url, code) in [
            ("file:///etc/passwd", "url_scheme_refused"),
            ("gopher://example.com/", "url_scheme_refused"),
            ("ftp://example.com/", "url_scheme_refused"),
            ("http://user:hunter2@127.0.0.1:8080/", "url_userinfo_refused"),
            ("https://token@example.com/", "url_userinfo_refused"),
            ("not a url", "invalid_url"),
            ("http://", "invalid_url"),
            ("/relative/path", "invalid_url"),
        ] {
            let err = check(url, policy).unwrap_err();
            assert_eq!(err.code(), code, "{url}: {err}");
            assert!(!err.message_ko().is_empty());
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL));
        assert_eq!(check(&long, policy).unwrap_err(), OutboundError::TooLong);
    }
}

#[test]
fn messages_say_what_and_why_but_never_the_path_query_or_password() {
    let err = check("http://user:hunter2@127.0.0.1:8080/x", STRICT).unwrap_err();
    let (en, ko) = (err.to_string(), err.message_ko());
    assert!(!en.contains("hunter2") && !ko.contains("hunter2"), "{en} / {ko}");
    assert!(en.contains("127.0.0.1:8080"), "{en}");

    let err = check("http://169.254.169.254/latest/secret-token?key=abc", STRICT).unwrap_err();
    let (en, ko) = (err.to_string(), err.message_ko());
    for text in [&en, &ko] {
        assert!(
            !text.contains("secret-token") && !text.contains("key=abc"),
            "{text}"
        );
        assert!(text.contains("169.254.169.254"), "{text}");
        assert!(text.contains("--allow-private-webhooks"), "{text}");
    }
    assert!(en.contains("cloud metadata"), "{en}");
    assert!(ko.contains("메타데이터"), "{ko}");
    assert_eq!(err.code(), "destination_refused");
}

/// Names with the addresses a test gives them.
struct Names(HashMap<&'static str, Vec<IpAddr>>);

impl Lookup for Names {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let found = self.0.get(host).cloned();
        let host = host.to_string();
        Box::pin(async move {
            found.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, format!("no such name {host}"))
            })
        })
    }
}

fn names() -> Arc<Names> {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    Arc::new(Names(HashMap::from([
        ("hooks.example.test", vec![ip("127.0.0.1")]),
        ("metadata.example.test", vec![ip("169.254.169.254")]),
        ("mixed.example.test", vec![ip("93.184.216.34"), ip("10.0.0.7")]),
        (
            "public.example.test",
            vec![ip("93.184.216.34"), ip("2606:2800:220:1::1")],
        ),
        ("empty.example.test", vec![]),
    ])))
}

#[tokio::test]
async fn the_resolver_refuses_a_name_with_any_refused_address() {
    let strict = PolicyResolver::new(STRICT, names());
    let err = strict.resolve_checked("hooks.example.test").await.unwrap_err();
    assert!(
        matches!(&err, OutboundError::Refused { host, kind: Refusal::Loopback, .. } if host == "hooks.example.test"),
        "{err}"
    );
    let err = strict
        .resolve_checked("metadata.example.test.")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OutboundError::Refused {
                kind: Refusal::CloudMetadata,
                ..
            }
        ),
        "{err}"
    );
    let err = strict.resolve_checked("mixed.example.test").await.unwrap_err();
    assert!(
        matches!(
            err,
            OutboundError::Refused {
                kind: Refusal::Private,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        strict.resolve_checked("public.example.test").await.unwrap().len(),
        2
    );
    let err = strict.resolve_checked("empty.example.test").await.unwrap_err();
    assert_eq!(err.code(), "destination_unresolved");
    let err = strict.resolve_checked("nowhere.example.test").await.unwrap_err();
    assert_eq!(err.code(), "destination_unresolved");
    let open = PolicyResolver::new(OPEN, names());
    assert_eq!(open.resolve_checked("hooks.example.test").await.unwrap().len(), 1);
}

/// A receiver on 127.0.0.1: `/hook` counts POSTs, `/moved` redirects to `to`, `/big` answers 1 MB.
async fn receiver(to: Option<String>) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/hook",
            post(move || {
                let hits = counted.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        )
        .route(
            "/moved",
            post(move || {
                let to = to.clone().unwrap_or_default();
                async move { (StatusCode::FOUND, [(header::LOCATION, to)]).into_response() }
            }),
        )
        .route("/big", post(|| async { vec![b'x'; 1 << 20] }))
        .route("/", get(|| async { "up" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, hits)
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_when_sent_and_reached_only_with_the_flag() {
    let (addr, hits) = receiver(None).await;
    let url = format!("http://hooks.example.test:{}/hook", addr.port());
    let body = serde_json::json!({"hello": 1});
    // Allowed when saved (a name), refused when sent (it resolves to loopback).
    let strict = Outbound::with_lookup(STRICT, names());
    assert!(strict.check(&url).is_ok());
    let err = strict.post_json(&url, &body).await.unwrap_err();
    assert!(
        matches!(&err, OutboundError::Refused { host, kind: Refusal::Loopback, .. } if host == "hooks.example.test"),
        "{err}"
    );
    // An address literal is refused when sent, too (a URL saved under another policy).
    let literal = format!("http://127.0.0.1:{}/hook", addr.port());
    let err = strict.post_json(&literal, &body).await.unwrap_err();
    assert_eq!(err.code(), "destination_refused", "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the receiver");

    let open = Outbound::with_lookup(OPEN, names());
    let answer = open.post_json(&url, &body).await.unwrap();
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(answer.body, b"ok");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redirect_to_another_loopback_port_is_not_followed() {
    let (target, target_hits) = receiver(None).await;
    let (bouncer, _) = receiver(Some(format!("http://127.0.0.1:{}/hook", target.port()))).await;
    let open = Outbound::with_lookup(OPEN, names());
    let err = open
        .post_json(
            &format!("http://127.0.0.1:{}/moved", bouncer.port()),
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OutboundError::Redirect { status: 302, to, .. } if *to == format!("http://127.0.0.1:{}", target.port())),
        "{err}"
    );
    assert_eq!(err.code(), "redirect_not_followed");
    assert_eq!(
        target_hits.load(Ordering::SeqCst),
        0,
        "the redirect's target was never asked"
    );
}

#[tokio::test]
async fn at_most_max_body_of_an_answer_is_read() {
    let (addr, _) = receiver(None).await;
    let open = Outbound::with_lookup(OPEN, names());
    let answer = open
        .post_json(
            &format!("http://127.0.0.1:{}/big", addr.port()),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert_eq!(answer.body.len(), MAX_BODY);
    assert!(answer.truncated);
}

#[tokio::test]
async fn a_connection_refused_is_a_transient_failure_without_the_path() {
    // A port nothing listens on: bind one, note it, close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let open = Outbound::with_lookup(OPEN, names());
    let err = open
        .post_json(
            &format!("http://127.0.0.1:{port}/secret-path"),
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(!err.to_string().contains("secret-path"), "{err}");
}
