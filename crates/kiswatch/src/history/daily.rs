//! Daily bars: a stock's daily range fetched once and kept, extended only by what is missing.

use jiff::ToSpan;
use jiff::civil::Date;
use kis::Priority;
use market::StockCode;

use crate::store::{DailyCoverage, Store};
use crate::upstream::gateway::daily_span_days;
use crate::upstream::{Gateway, GatewayError};

/// Makes sure `need` daily bars before `today` are stored (as far as upstream has them), fetching only
/// the dates not covered yet. Returns whether anything was fetched.
pub async fn ensure_daily(
    gateway: &Gateway,
    store: &Store,
    code: StockCode,
    today: Date,
    need: usize,
    priority: Priority,
) -> Result<bool, GatewayError> {
    let Ok(yesterday) = today.yesterday() else {
        return Ok(false);
    };
    let cover = store.daily_coverage(code).await?;
    let span_days = daily_span_days(need);
    let wanted_first = today.checked_sub(span_days.days()).unwrap_or(today);
    let (from, to, first, last) = match cover {
        Some(c) if c.last >= yesterday && (c.complete || c.first <= wanted_first) => return Ok(false),
        // The older part is covered: only the new sessions since.
        Some(c) if c.complete || c.first <= wanted_first => {
            (c.last.tomorrow().unwrap_or(c.last), yesterday, c.first, yesterday)
        }
        // The newer part is covered (a page drew its recent bars first): only the older sessions.
        Some(c) if c.last >= yesterday => (
            wanted_first,
            c.first.yesterday().unwrap_or(c.first),
            wanted_first,
            c.last,
        ),
        _ => (wanted_first, yesterday, wanted_first, yesterday),
    };
    if from > to {
        return Ok(false);
    }
    let bars = gateway.daily_bars(code, from, to, priority).await?;
    store.put_daily(code, bars).await?;
    // Fewer sessions stored than the span holds: upstream has nothing older (a young listing).
    let complete = cover.is_some_and(|c| c.complete)
        || (from == wanted_first && store.daily(code, Some(today), need).await?.len() < need);
    store
        .set_daily_coverage(
            code,
            DailyCoverage {
                first,
                last,
                complete,
            },
        )
        .await?;
    Ok(true)
}
