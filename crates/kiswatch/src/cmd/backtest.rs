//! `kiswatch backtest --code C --condition EXPR [--from DATE]`: fetches the history the condition's
//! period needs (daily bars, or one session of minutes per call on real accounts), with a progress
//! bar, runs the condition over the closed bars and prints each signal and the summary.
//!
//! It talks to the same upstreams as `serve` (default: the embedded simulator when `KIS_APP_KEY` is
//! unset) and fetches directly, without the service's store.

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::ToSpan;
use jiff::civil::{Date, Time};
use kis::wire::chart::BarPeriod;
use market::krx::Calendar;
use market::{Candle, Condition, StockCode};

use crate::config::{RawConfig, UpstreamArgs};
use crate::upstream::Upstream;

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// The stock (e.g. 005930).
    #[arg(long)]
    pub code: String,
    /// The condition, e.g. "D: 골든크로스" or "30m: 정배열".
    #[arg(long)]
    pub condition: String,
    /// First date of history to test (default: three years back for D/W/M, 20 sessions for intraday).
    #[arg(long)]
    pub from: Option<Date>,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

fn candle(date: Date, time: Time, o: i64, h: i64, l: i64, c: i64, v: u64) -> Candle {
    Candle {
        time: date.to_datetime(time),
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
    }
}

pub async fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let code = StockCode::parse(&args.code)?;
    let condition = Condition::parse(&args.condition).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = RawConfig {
        no_demo_content: true,
        ..args.upstream.raw()
    }
    .resolve()?;
    let upstream = Upstream::start(&config.upstream, &config.data_dir).await?;
    let result = fetch_and_run(&upstream, code, &condition, args.from).await;
    upstream.shutdown().await;
    print!("{}", result?);
    Ok(())
}

async fn fetch_and_run(
    upstream: &Upstream,
    code: StockCode,
    condition: &Condition,
    from: Option<Date>,
) -> anyhow::Result<String> {
    let kis = &upstream.client;
    // Market time from upstream: the date of the newest minute bar.
    let probe = kis
        .today_minute_chart(code, Time::constant(23, 59, 59, 0))
        .await
        .with_context(|| format!("asking KIS about {code}"))?;
    let today = probe
        .bars
        .iter()
        .map(|b| b.date)
        .max()
        .unwrap_or_else(|| market::time::now_kst().date());
    let calendar = Calendar::krx();
    let period = condition.period;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (name, source) = if period.is_intraday() {
        if !upstream.has_past_minutes() {
            bail!(
                "this server has no past sessions' minutes (VTS): an intraday backtest needs a real account"
            );
        }
        let first = from.unwrap_or_else(|| calendar.trading_days_before(today, 20));
        let days: Vec<Date> = calendar
            .trading_days(first, today)
            .filter(|d| *d < today)
            .collect();
        bar.set_length(days.len() as u64);
        bar.set_message(format!("{code} minutes"));
        let mut minutes = Vec::new();
        for day in days {
            for b in kis.minute_bars(code, day).await? {
                minutes.push(candle(b.date, b.time, b.open, b.high, b.low, b.close, b.volume));
            }
            bar.inc(1);
        }
        let name = probe.summary.map(|s| s.name).unwrap_or_default();
        (name, minutes)
    } else {
        let first = from.unwrap_or_else(|| today.checked_sub(3.years()).unwrap_or(today));
        bar.set_length(1);
        bar.set_message(format!("{code} daily bars"));
        let to = today.yesterday().unwrap_or(today);
        let bars = kis.period_bars(code, BarPeriod::Day, first, to).await?;
        bar.inc(1);
        let name = kis
            .period_chart(code, BarPeriod::Day, to, to)
            .await
            .ok()
            .and_then(|c| c.summary)
            .map(|s| s.name)
            .unwrap_or_default();
        let daily = bars
            .iter()
            .map(|b| candle(b.date, Time::midnight(), b.open, b.high, b.low, b.close, b.volume))
            .collect();
        (name, daily)
    };
    bar.finish_and_clear();
    let bars = crate::history::backtest::closed_bars(&source, period, from, Some(today));
    let result = market::backtest::backtest(condition, &bars);
    Ok(render(code, &name, condition, &bars, &result))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:+.2}%"))
}

fn render(
    code: StockCode,
    name: &str,
    condition: &Condition,
    bars: &[Candle],
    r: &market::backtest::Backtest,
) -> String {
    let mut out = String::new();
    let span = match (bars.first(), bars.last()) {
        (Some(a), Some(b)) => format!("{} → {}", a.time, b.time),
        _ => "no bars".into(),
    };
    out.push_str(&format!(
        "{code} {name}  {}  ({} bars, {span}): {} signals\n",
        condition.source(),
        bars.len(),
        r.count
    ));
    if !r.signals.is_empty() {
        out.push_str(&format!(
            "{:<20} {:>10} {:>9} {:>9} {:>9}\n",
            "bar", "close", "+1", "+5", "+20"
        ));
        for s in &r.signals {
            out.push_str(&format!(
                "{:<20} {:>10} {:>9} {:>9} {:>9}\n",
                s.bar.time.to_string(),
                s.bar.close,
                pct(s.forward_returns[0]),
                pct(s.forward_returns[1]),
                pct(s.forward_returns[2])
            ));
        }
    }
    for h in &r.horizons {
        out.push_str(&format!(
            "after {:>2} bars: {:>3} samples, hit rate {}, mean return {}\n",
            h.bars,
            h.samples,
            h.hit_rate
                .map_or_else(|| "-".into(), |x| format!("{:.1}%", x * 100.0)),
            pct(h.mean_return)
        ));
    }
    out
}
