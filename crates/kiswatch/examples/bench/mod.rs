//! What the benchmark examples share: quantiles of a sample, the machine's load, and a stock page's requests.
#![allow(dead_code)]

/// The `p` quantile (0..=1) of an ascending sample, by nearest rank; the default for an empty one.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` states them ("" where there is none).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The four requests the web UI's stock page fires at once: price, order book, executions, and the
/// daily chart with MA240.
pub fn stock_page_paths(code: &str) -> [String; 4] {
    [
        format!("/api/v1/stocks/{code}/price"),
        format!("/api/v1/stocks/{code}/orderbook"),
        format!("/api/v1/stocks/{code}/executions"),
        format!("/api/v1/stocks/{code}/candles?period=D&count=400"),
    ]
}
