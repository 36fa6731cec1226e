//! `kiswatch quote CODE...`: current prices through the KIS client — governor, token cache and
//! all — so a user can check a KIS setup with one command.
//!
//! It reaches KIS exactly as `serve` does ([`Upstream`], the same `--kis` flags and credentials):
//! `--kis demo` (the default while `KIS_APP_KEY` is unset) starts the embedded simulator on a
//! loopback port and talks to it over real HTTP.
//!
//! Names come from the on-disk name cache ([`crate::names`]), so a warm run sends one upstream
//! request per code.

use std::time::Duration;

use anyhow::{Context, bail};
use kis::wire::quotations::Price;
use kis::{GovernorMetrics, KisClient, KisError};
use market::StockCode;
use market::krx::Sign;

use crate::config::{RawConfig, UpstreamArgs};
use crate::upstream::names::{self, NameCache};
use crate::upstream::{Upstream, UpstreamKind};

#[derive(Debug, clap::Args)]
pub struct QuoteArgs {
    /// Stock codes, six characters each (e.g. 005930 000660).
    #[arg(required = true, value_name = "CODE")]
    codes: Vec<String>,
    #[command(flatten)]
    upstream: UpstreamArgs,
}

pub async fn run(args: QuoteArgs) -> anyhow::Result<()> {
    // Bad codes are refused before anything is sent.
    let codes = args
        .codes
        .iter()
        .map(|c| StockCode::parse(c).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = RawConfig {
        no_demo_content: true,
        ..args.upstream.raw()
    }
    .resolve()?;
    let upstream = Upstream::start(&config.upstream, &config.data_dir)
        .await
        .context("starting the upstream")?;
    let mut names = match upstream.kind {
        // The embedded simulator's names die with it.
        UpstreamKind::Demo => NameCache::in_memory(),
        _ => NameCache::load(&config.data_dir),
    };
    if let Some(url) = upstream.sim_url() {
        eprintln!("kiswatch quote: using the embedded KIS simulator at {url}");
    }
    let kis = upstream.client.clone();
    let waiting = tokio::spawn(report_waiting(kis.clone()));
    let result = quote_all(&kis, &codes, &mut names).await;
    waiting.abort();
    upstream.shutdown().await;
    let (table, failures) = result?;
    if let Err(err) = names.save() {
        eprintln!("kiswatch quote: could not save the name cache: {err}");
    }
    if !table.is_empty() {
        print!("{}", render(&table));
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

/// A wait for a slot longer than this is reported, so the command does not look hung.
const WAIT_NOTICE: Duration = Duration::from_millis(300);

/// Says on stderr, at most once a second, that requests wait for the rate limit (many codes, or
/// the app key's budget shared with another kiswatch process), while they do. The governor's
/// metrics are read on a timer: this is a progress display, not synchronisation.
async fn report_waiting(kis: KisClient) {
    let mut tick = tokio::time::interval(WAIT_NOTICE);
    let mut said_at: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let m = kis.governor_metrics();
        if m.queued_interactive + m.queued_background == 0 || m.longest_wait < WAIT_NOTICE {
            continue;
        }
        if said_at.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            continue;
        }
        said_at = Some(tokio::time::Instant::now());
        eprintln!("{}", waiting_message(&m));
    }
}

fn waiting_message(m: &GovernorMetrics) -> String {
    let queued = m.queued_interactive + m.queued_background;
    let mut line = format!(
        "waiting for the rate limit: {queued} request{} queued",
        if queued == 1 { "" } else { "s" }
    );
    if m.shared && m.other_processes > 0 {
        line.push_str(&format!(
            " ({}/s for this app key, shared with {} other kiswatch process{})",
            m.slots,
            m.other_processes,
            if m.other_processes == 1 { "" } else { "es" }
        ));
    }
    line
}

struct Row {
    name: String,
    price: Price,
}

/// Quotes every code concurrently; names come from `names` or are looked up once and added to it.
/// Returns the rows and one message per failed code.
async fn quote_all(
    kis: &KisClient,
    codes: &[StockCode],
    names: &mut NameCache,
) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
    let today = market::time::now_kst().date();
    let lookups: Vec<_> = codes
        .iter()
        .map(|&code| {
            let kis = kis.clone();
            let cached = names.get(code, today).map(str::to_owned);
            tokio::spawn(async move { quote(&kis, code, cached, today).await })
        })
        .collect();
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for (code, lookup) in codes.iter().zip(lookups) {
        match lookup.await? {
            Ok((row, fetched)) => {
                if fetched {
                    names.insert(*code, row.name.clone(), today);
                }
                table.push(row);
            }
            Err(e) => failures.push(format!("{code}: {e}")),
        }
    }
    Ok((table, failures))
}

/// One code: its price and, unless `cached`, its name (a failed name lookup leaves it blank).
/// The flag says whether the name was fetched now.
async fn quote(
    kis: &KisClient,
    code: StockCode,
    cached: Option<String>,
    today: jiff::civil::Date,
) -> Result<(Row, bool), KisError> {
    let price = kis.price(code).await?;
    let (name, fetched) = match cached {
        Some(name) => (name, false),
        None => (
            names::lookup(kis, code, today)
                .await
                .map(|n| n.name)
                .unwrap_or_default(),
            true,
        ),
    };
    Ok((Row { name, price }, fetched))
}

/// `1234567` → `1,234,567` (sign kept).
fn thousands(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The KIS/HTS arrow of a sign: ↑ upper limit, ▲ up, ↓ lower limit, ▼ down.
fn arrow(sign: Sign) -> &'static str {
    match sign {
        Sign::UpperLimit => "↑",
        Sign::Up => "▲",
        Sign::Flat => " ",
        Sign::LowerLimit => "↓",
        Sign::Down => "▼",
    }
}

/// Terminal columns of `s`: Hangul and other wide characters take two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFF00..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

fn pad(s: &str, cols: usize, right: bool) -> String {
    let fill = " ".repeat(cols.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

fn render(rows: &[Row]) -> String {
    let header = ["종목코드", "종목명", "현재가", "전일대비", "등락률", "거래량"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let p = &r.price;
            [
                p.code.to_string(),
                r.name.clone(),
                thousands(i128::from(p.price)),
                format!("{} {}", arrow(p.sign), thousands(i128::from(p.change.abs()))),
                format!("{}%", p.change_rate),
                thousands(i128::from(p.volume)),
            ]
        })
        .collect();
    let mut widths = header.map(width);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let line = |row: &[String; 6]| {
        let parts: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| pad(cell, widths[i], i >= 2))
            .collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = line(&header.map(str::to_owned));
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kis::{ClientConfig, Credentials, Environment};

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }

    fn args(codes: &[&str]) -> QuoteArgs {
        QuoteArgs {
            codes: codes.iter().map(|c| c.to_string()).collect(),
            upstream: UpstreamArgs {
                kis: Some(crate::config::KisMode::Demo),
                ..UpstreamArgs::default()
            },
        }
    }

    #[tokio::test]
    async fn a_malformed_code_is_refused_by_name() {
        let err = run(args(&["005930", "12345"])).await.unwrap_err().to_string();
        assert!(err.contains("12345"), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_code_fails_the_command_by_name() {
        let err = run(args(&["999990"])).await.unwrap_err().to_string();
        assert!(err.contains("999990") && err.contains("not found"), "{err}");
    }

    #[tokio::test]
    async fn quotes_render_through_the_client_against_the_simulator() {
        let sim = kis_sim::SimServer::start(kis_sim::SimConfig::default(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let (key, secret) = kis_sim::demo_credentials(kis_sim::Profile::Real, 0);
        let env = Environment::Custom {
            rest_url: sim.rest_url(),
            ws_url: sim.ws_url(),
            rate: 20,
            vts: false,
        };
        let kis = KisClient::new(ClientConfig::new(env, Credentials::new(key, secret).unwrap())).unwrap();
        let code = StockCode::parse("005930").unwrap();
        let today = market::time::now_kst().date();
        let (row, fetched) = quote(&kis, code, None, today).await.unwrap();
        assert!(fetched);
        assert_eq!(row.name, "삼성전자");
        let table = render(&[row]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("종목코드"));
        assert!(lines[1].starts_with("005930    삼성전자"), "{table}");
        assert!(lines[1].contains(','), "thousands separators: {table}");
        sim.shutdown().await;
    }

    /// 100 quotes used to cost 153 upstream requests (price + 주식기본조회 per code, plus retries);
    /// a cold run now costs price + one name lookup per code, a warm run (names and token on disk) one
    /// request per code. Counted by the simulator (`/sim/stats`).
    #[tokio::test]
    async fn a_warm_run_sends_one_request_per_code() {
        // No server-side rate limit: this counts requests, not the governor's pacing (two client
        // processes back to back may share one rate window; retries after EGW00201 would blur it).
        let sim = kis_sim::SimServer::start(
            kis_sim::SimConfig {
                rate: Some(0),
                ..kis_sim::SimConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let dir = std::env::temp_dir().join(format!("kiswatch-quote-warm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (key, secret) = kis_sim::demo_credentials(kis_sim::Profile::Real, 0);
        let client = || {
            let env = Environment::Custom {
                rest_url: sim.rest_url(),
                ws_url: sim.ws_url(),
                rate: kis_sim::Profile::Real.default_rate(),
                vts: false,
            };
            let config = ClientConfig::new(env, Credentials::new(key.clone(), secret.clone()).unwrap());
            KisClient::new(config.with_data_dir(&dir)).unwrap()
        };
        let codes: Vec<StockCode> = sim.market().stocks().iter().take(20).map(|s| s.code).collect();
        // `SimServer::stats` is what `GET /sim/stats` serves.
        let stats = || {
            let s = sim.stats();
            (s.requests, s.token_requests)
        };

        // Cold: a token, then price + name per code.
        let mut names = NameCache::load(&dir);
        let (rows, failures) = quote_all(&client(), &codes, &mut names).await.unwrap();
        names.save().unwrap();
        assert!(failures.is_empty(), "{failures:?}");
        assert!(rows.iter().all(|r| !r.name.is_empty()));
        let (cold, cold_tokens) = stats();
        assert_eq!(cold - cold_tokens, 2 * codes.len() as u64);

        // Warm (a new process: names and token from disk): one request per code.
        let mut names = NameCache::load(&dir);
        let (rows, failures) = quote_all(&client(), &codes, &mut names).await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
        let expected: Vec<&str> = sim.market().stocks().iter().take(20).map(|s| s.name).collect();
        let got: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(got, expected);
        let (warm, warm_tokens) = stats();
        assert_eq!(warm_tokens, cold_tokens, "the cached token is reused");
        assert_eq!(warm - cold, codes.len() as u64, "one upstream request per code");
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_wait_message_counts_the_queue_and_names_the_sharing() {
        let mut m = GovernorMetrics {
            slots: 20,
            queued_interactive: 12,
            ..GovernorMetrics::default()
        };
        assert_eq!(
            waiting_message(&m),
            "waiting for the rate limit: 12 requests queued"
        );
        m.shared = true;
        m.other_processes = 1;
        assert_eq!(
            waiting_message(&m),
            "waiting for the rate limit: 12 requests queued (20/s for this app key, shared with 1 other kiswatch process)"
        );
    }

    #[test]
    fn korean_names_are_two_columns_wide() {
        assert_eq!(width("삼성전자"), 8);
        assert_eq!(width("NAVER"), 5);
        assert_eq!(pad("기아", 6, false), "기아  ");
    }
}
