//! `kiswatch quote CODE...`: current prices through the KIS client — governor, token cache and
//! all — so a user can check a KIS setup with one command.
//!
//! `--kis demo` (the default while `KIS_APP_KEY` is unset) starts the embedded simulator on a
//! loopback port and talks to it over real HTTP. Credentials come only from the environment.

use std::path::PathBuf;

use anyhow::{Context, bail};
use kis::wire::quotations::Price;
use kis::{ClientConfig, Credentials, Environment, KisClient, KisError};
use market::StockCode;
use market::krx::Sign;

use crate::config::{KisMode, data_dir};

#[derive(Debug, clap::Args)]
pub struct QuoteArgs {
    /// Stock codes, six characters each (e.g. 005930 000660).
    #[arg(required = true, value_name = "CODE")]
    codes: Vec<String>,
    /// Which KIS to use; default `demo` when KIS_APP_KEY is unset, else `real`.
    #[arg(long, value_enum)]
    kis: Option<KisMode>,
    /// REST base URL for `--kis custom` (e.g. http://127.0.0.1:9443).
    #[arg(long)]
    kis_rest_url: Option<String>,
    /// WebSocket base URL for `--kis custom`.
    #[arg(long)]
    kis_ws_url: Option<String>,
    /// Requests per second per app key for `--kis custom` (default 20).
    #[arg(long, default_value_t = 20)]
    kis_rate: u32,
    /// Where tokens are cached (default $XDG_DATA_HOME/kiswatch, else ~/.local/share/kiswatch).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub async fn run(args: QuoteArgs) -> anyhow::Result<()> {
    // Bad codes are refused before anything is sent.
    let codes = args
        .codes
        .iter()
        .map(|c| StockCode::parse(c).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let credentials = Credentials::from_env()?;
    let mode = args.kis.unwrap_or(if credentials.is_some() {
        KisMode::Real
    } else {
        KisMode::Demo
    });

    let mut demo = None;
    let config = match mode {
        KisMode::Demo => {
            let sim = kis_sim::SimServer::start(kis_sim::SimConfig::default(), "127.0.0.1:0".parse()?)
                .await
                .context("starting the embedded simulator")?;
            let (key, secret) = kis_sim::demo_credentials(kis_sim::Profile::Real, 0);
            let env = Environment::Custom {
                rest_url: sim.rest_url(),
                ws_url: sim.ws_url(),
                rate: kis_sim::Profile::Real.default_rate(),
                vts: false,
            };
            eprintln!(
                "kiswatch quote: using the embedded KIS simulator at {}",
                sim.rest_url()
            );
            demo = Some(sim);
            // The simulator forgets its tokens when it stops: keep them in memory only.
            ClientConfig::new(env, Credentials::new(key, secret)?)
        }
        KisMode::Real | KisMode::Vts | KisMode::Custom => {
            let Some(credentials) = credentials else {
                bail!(
                    "--kis {} needs KIS_APP_KEY and KIS_APP_SECRET in the environment",
                    mode.as_str()
                );
            };
            let env = match mode {
                KisMode::Real => Environment::Real,
                KisMode::Vts => Environment::Vts,
                _ => {
                    let Some(rest_url) = args.kis_rest_url.clone() else {
                        bail!("--kis custom needs --kis-rest-url");
                    };
                    let ws_url = args
                        .kis_ws_url
                        .clone()
                        .unwrap_or_else(|| rest_url.replacen("http", "ws", 1));
                    Environment::Custom {
                        rest_url,
                        ws_url,
                        rate: args.kis_rate.max(1),
                        vts: false,
                    }
                }
            };
            ClientConfig::new(env, credentials).with_data_dir(data_dir(args.data_dir.clone()))
        }
    };
    let kis = KisClient::new(config)?;

    let lookups: Vec<_> = codes
        .iter()
        .map(|&code| {
            let kis = kis.clone();
            tokio::spawn(async move { quote(&kis, code).await })
        })
        .collect();
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for (code, lookup) in codes.iter().zip(lookups) {
        match lookup.await? {
            Ok(row) => table.push(row),
            Err(e) => failures.push(format!("{code}: {e}")),
        }
    }
    if !table.is_empty() {
        print!("{}", render(&table));
    }
    if let Some(sim) = demo {
        sim.shutdown().await;
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

struct Row {
    name: String,
    price: Price,
}

async fn quote(kis: &KisClient, code: StockCode) -> Result<Row, KisError> {
    let price = kis.price(code).await?;
    let name = if kis.environment().is_vts() {
        // 주식기본조회 is real-only; the chart summary carries the name on both.
        let today = market::time::now_kst().date();
        kis.period_chart(code, kis::wire::chart::BarPeriod::Day, today, today)
            .await
            .ok()
            .and_then(|c| c.summary)
            .map(|s| s.name)
            .unwrap_or_default()
    } else {
        kis.stock_info(code).await.map(|i| i.name).unwrap_or_default()
    };
    Ok(Row { name, price })
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
            kis: Some(KisMode::Demo),
            kis_rest_url: None,
            kis_ws_url: None,
            kis_rate: 20,
            data_dir: None,
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
        let row = quote(&kis, code).await.unwrap();
        assert_eq!(row.name, "삼성전자");
        let table = render(&[row]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("종목코드"));
        assert!(lines[1].starts_with("005930    삼성전자"), "{table}");
        assert!(lines[1].contains(','), "thousands separators: {table}");
        sim.shutdown().await;
    }

    #[test]
    fn korean_names_are_two_columns_wide() {
        assert_eq!(width("삼성전자"), 8);
        assert_eq!(width("NAVER"), 5);
        assert_eq!(pad("기아", 6, false), "기아  ");
    }
}
