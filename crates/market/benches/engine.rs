//! The trigger engine's hot path: 2,000 stocks × 3 periods (1m, 30m, D) × 4 moving averages (20, 60,
//! 120, 240) × 3 conditions per period, every series seeded with 240 bars of history (so every average
//! is known and every condition does its full work), and trades fed in random stock order through one
//! trading day. Prints the engine's state size once.
//!
//! Run: `CARGO_TARGET_DIR=… cargo bench -p market --bench engine`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::SignedDuration;
use jiff::civil::{Date, DateTime, date};
use market::candle::{Candle, Period};
use market::code::StockCode;
use market::condition::Condition;
use market::krx::Calendar;
use market::trigger::{StockId, Tick, TriggerEngine};

const STOCKS_DEFAULT: usize = 2_000;

/// Whether criterion is benchmarking (`cargo bench`), rather than checking that the bench runs (`cargo
/// test --all-targets`, in a debug build): then everything is scaled down.
fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `BENCH_STOCKS` overrides the stock count (to separate compute from memory effects).
fn stock_count() -> usize {
    let default = if benchmarking() { STOCKS_DEFAULT } else { 20 };
    std::env::var("BENCH_STOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tick_count() -> usize {
    if benchmarking() { 1_000_000 } else { 10_000 }
}

/// A small deterministic generator (xorshift64*), so the bench needs no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CONDITIONS: [&str; 3] = [
    "ma(20) > ma(60) > ma(120) > ma(240)",
    "cross_up(ma(20), ma(60))",
    "close > 1.02 * ma(120) and not bearish()",
];

fn history(period: Period, end: Date, base: i64, rng: &mut Rng) -> Vec<Candle> {
    let cal = Calendar::krx();
    let mut times = Vec::with_capacity(240);
    match period {
        Period::Day => {
            let mut d = end;
            for _ in 0..240 {
                d = cal.prev_trading_day(d);
                times.push(d.at(0, 0, 0, 0));
            }
        }
        _ => {
            // Back from the previous day's last bar, day by day, within 09:00–15:30.
            let len = i64::from(period.minutes().unwrap_or(1));
            let last_offset = (389 / len) * len;
            let mut d = end;
            'days: loop {
                d = cal.prev_trading_day(d);
                let mut offset = last_offset;
                while offset >= 0 {
                    times.push(
                        d.at(9, 0, 0, 0)
                            .checked_add(SignedDuration::from_mins(offset))
                            .expect("in day"),
                    );
                    if times.len() == 240 {
                        break 'days;
                    }
                    offset -= len;
                }
            }
        }
    }
    times.reverse();
    let mut price = base;
    times
        .into_iter()
        .map(|time| {
            price = (price + rng.below(201) as i64 - 100).max(1_000);
            Candle {
                time,
                open: price,
                high: price + 50,
                low: price - 50,
                close: price,
                volume: 1_000 + rng.below(1_000),
            }
        })
        .collect()
}

fn seeded_engine() -> (TriggerEngine, Vec<StockId>, Vec<i64>) {
    let mut engine = TriggerEngine::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut id = 0;
    for period in ["1m", "30m", "D"] {
        for c in CONDITIONS {
            let cond = Condition::parse(&format!("{period}: {c}")).expect("bench condition");
            engine
                .add_condition(id, cond, Default::default())
                .expect("unique id");
            id += 1;
        }
    }
    let today = date(2026, 11, 20);
    let count = stock_count();
    let mut stocks = Vec::with_capacity(count);
    let mut prices = Vec::with_capacity(count);
    for i in 0..count {
        let code = StockCode::parse(&format!("{:06}", 100_000 + i)).expect("code");
        let s = engine.add_stock(code).expect("stock");
        let base = 10_000 + rng.below(90_000) as i64;
        for period in [Period::M1, Period::M30, Period::Day] {
            let bars = history(period, today, base, &mut rng);
            engine.seed(s, period, &bars);
        }
        stocks.push(s);
        prices.push(base);
    }
    (engine, stocks, prices)
}

/// Trades through one session (09:00–15:30), random stock each time, prices walking ±2 ticks.
fn trades(stocks: &[StockId], prices: &[i64]) -> Vec<Tick> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut prices = prices.to_vec();
    let open: DateTime = date(2026, 11, 20).at(9, 0, 0, 0);
    let session_ms = 390 * 60 * 1000;
    let count = tick_count();
    (0..count)
        .map(|i| {
            let s = rng.below(stocks.len() as u64) as usize;
            let step = market::krx::tick_size(prices[s]);
            prices[s] = (prices[s] + (rng.below(5) as i64 - 2) * step).max(1_000);
            let ms = (i as i64 * session_ms) / count as i64;
            let time = open.checked_add(SignedDuration::from_millis(ms)).unwrap_or(open);
            Tick {
                stock: stocks[s],
                time,
                price: prices[s],
                volume: 1 + rng.below(100),
            }
        })
        .collect()
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), so the rate can be stated per core
/// even when other processes share the machine; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let (engine, stocks, prices) = seeded_engine();
    let ticks = trades(&stocks, &prices);
    {
        // Passes timed by this thread's CPU time (other processes share the machine): best and median.
        let passes = std::env::var("BENCH_PASSES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if benchmarking() { 5usize } else { 1 });
        let mut rates = Vec::new();
        let mut single = Vec::new();
        let mut last = None;
        for _ in 0..passes {
            let mut e = engine.clone();
            let mut out = Vec::new();
            let cpu0 = thread_cpu_ns();
            e.on_ticks(&ticks, &mut out);
            if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
                rates.push(ticks.len() as f64 / ((b - a) as f64 / 1e9) / 1e6);
            }
            last = Some((e, out));
            // The same trades one call at a time (no prefetching ahead).
            let mut e = engine.clone();
            let mut out = Vec::new();
            let cpu0 = thread_cpu_ns();
            for &t in &ticks {
                e.on_tick(t, &mut out);
            }
            if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
                single.push(ticks.len() as f64 / ((b - a) as f64 / 1e9) / 1e6);
            }
        }
        for (name, rates) in [
            ("on_ticks (batched)", &mut rates),
            ("on_tick (one at a time)", &mut single),
        ] {
            rates.sort_by(f64::total_cmp);
            if let (Some(best), Some(median)) = (rates.last(), rates.get(rates.len() / 2)) {
                eprintln!(
                    "{name}: {} passes of {} trades, per core (thread CPU time): best {best:.2} M trades/s, \
                     median {median:.2} M trades/s",
                    rates.len(),
                    ticks.len()
                );
            }
        }
        let Some((e, out)) = last else { return };
        let mut per_condition = [0usize; 9];
        for t in &out {
            if let Some(n) = per_condition.get_mut(t.condition as usize) {
                *n += 1;
            }
        }
        eprintln!("triggers per condition (1m ×3, 30m ×3, D ×3): {per_condition:?}");
        eprintln!(
            "engine state: {} stocks × 3 periods × 3 conditions: {} bytes ({:.1} MiB), {:.0} bytes per stock; \
             {} triggers over {} trades",
            stocks.len(),
            e.memory_bytes(),
            e.memory_bytes() as f64 / (1024.0 * 1024.0),
            e.memory_bytes() as f64 / stocks.len() as f64,
            out.len(),
            ticks.len()
        );
    }
    let mut group = c.benchmark_group("trigger_engine");
    group.throughput(Throughput::Elements(ticks.len() as u64));
    group.sample_size(10);
    group.bench_function("on_tick_one_at_a_time", |b| {
        b.iter_batched(
            || (engine.clone(), Vec::with_capacity(4096)),
            |(mut e, mut out)| {
                for &t in &ticks {
                    e.on_tick(t, &mut out);
                }
                black_box((e, out))
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("on_ticks_batched", |b| {
        b.iter_batched(
            || (engine.clone(), Vec::with_capacity(4096)),
            |(mut e, mut out)| {
                e.on_ticks(&ticks, &mut out);
                black_box((e, out))
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
