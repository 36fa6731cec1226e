//! Stored bars: 1-minute bars (the truth every intraday period is aggregated from) and daily bars,
//! and what the backfill has covered: which past days' minutes are complete, which daily range.

use jiff::civil::{Date, DateTime};
use market::{Candle, StockCode};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, parse_date, parse_datetime};

/// A past day whose minutes were fetched completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteDay {
    pub date: Date,
    pub bars: u32,
}

/// The range of daily bars fetched; `complete` when the upstream had nothing older.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCoverage {
    pub first: Date,
    pub last: Date,
    pub complete: bool,
}

fn candle(time: DateTime, r: &rusqlite::Row<'_>) -> rusqlite::Result<Candle> {
    Ok(Candle {
        time,
        open: r.get(1)?,
        high: r.get(2)?,
        low: r.get(3)?,
        close: r.get(4)?,
        volume: r.get::<_, i64>(5)?.max(0) as u64,
    })
}

/// A stored key back to a bar's time.
type ParseKey = fn(&str) -> Result<DateTime, StoreError>;

/// Which bars table, and how a bar's time becomes its key there.
#[derive(Clone, Copy)]
enum Bars {
    Minute,
    Daily,
}

impl Bars {
    /// The last `limit` bars with a key before `before` (all if `None`), oldest first.
    fn recent(
        self,
        c: &rusqlite::Connection,
        code: StockCode,
        before: Option<String>,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        let (sql, time): (&str, ParseKey) = match self {
            Bars::Minute => (
                "SELECT time, open, high, low, close, volume FROM minute_bars
                 WHERE code = ?1 AND time < ?2 ORDER BY time DESC LIMIT ?3",
                parse_datetime,
            ),
            Bars::Daily => (
                "SELECT date, open, high, low, close, volume FROM daily_bars
                 WHERE code = ?1 AND date < ?2 ORDER BY date DESC LIMIT ?3",
                |d| Ok(parse_date(d)?.to_datetime(jiff::civil::Time::midnight())),
            ),
        };
        let bound = before.unwrap_or_else(|| "9999".to_string());
        let mut st = c.prepare_cached(sql)?;
        let mut out = Vec::new();
        let mut rows = st.query(params![code.as_str(), bound, limit as i64])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            out.push(candle(time(&key)?, r)?);
        }
        out.reverse();
        Ok(out)
    }

    /// Inserts or replaces `bars` (a later fetch of the same key wins).
    fn upsert(
        self,
        tx: &rusqlite::Transaction<'_>,
        code: StockCode,
        bars: &[Candle],
    ) -> Result<usize, StoreError> {
        let (sql, key): (&str, fn(&Candle) -> String) = match self {
            Bars::Minute => (
                "INSERT INTO minute_bars (code, time, open, high, low, close, volume)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (code, time) DO UPDATE SET open = excluded.open, high = excluded.high,
                   low = excluded.low, close = excluded.close, volume = excluded.volume",
                |b| b.time.to_string(),
            ),
            Bars::Daily => (
                "INSERT INTO daily_bars (code, date, open, high, low, close, volume)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (code, date) DO UPDATE SET open = excluded.open, high = excluded.high,
                   low = excluded.low, close = excluded.close, volume = excluded.volume",
                |b| b.time.date().to_string(),
            ),
        };
        let mut st = tx.prepare_cached(sql)?;
        for b in bars {
            st.execute(params![
                code.as_str(),
                key(b),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume as i64
            ])?;
        }
        Ok(bars.len())
    }
}

impl Store {
    async fn put_bars(&self, table: Bars, code: StockCode, bars: Vec<Candle>) -> Result<usize, StoreError> {
        if bars.is_empty() {
            return Ok(0);
        }
        self.write(move |tx| table.upsert(tx, code, &bars)).await
    }

    /// Inserts or replaces 1-minute bars (a later fetch of the same minute wins).
    pub async fn put_minutes(&self, code: StockCode, bars: Vec<Candle>) -> Result<usize, StoreError> {
        self.put_bars(Bars::Minute, code, bars).await
    }

    /// The last `limit` 1-minute bars before `before` (all if `None`), oldest first.
    pub async fn minutes(
        &self,
        code: StockCode,
        before: Option<DateTime>,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        let before = before.map(|t| t.to_string());
        self.read(move |c| Bars::Minute.recent(c, code, before, limit))
            .await
    }

    /// The latest stored minute of `date`, if any.
    pub async fn last_minute_of(&self, code: StockCode, date: Date) -> Result<Option<DateTime>, StoreError> {
        self.read(move |c| {
            let from = date.to_string();
            let to = date
                .tomorrow()
                .map(|d| d.to_string())
                .unwrap_or_else(|_| "9999".into());
            let t: Option<String> = c
                .query_row(
                    "SELECT max(time) FROM minute_bars WHERE code = ?1 AND time >= ?2 AND time < ?3",
                    params![code.as_str(), from, to],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            t.map(|t| parse_datetime(&t)).transpose()
        })
        .await
    }

    /// Stored 1-minute bars of a stock.
    pub async fn minute_count(&self, code: StockCode) -> Result<u64, StoreError> {
        self.read(move |c| {
            let n: i64 = c.query_row(
                "SELECT count(*) FROM minute_bars WHERE code = ?1",
                [code.as_str()],
                |r| r.get(0),
            )?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    /// Forgets every minute bar at or after `date` (the demo's session restarts with each process).
    pub async fn drop_minutes_from(&self, date: Date) -> Result<usize, StoreError> {
        self.write(move |tx| {
            let n = tx.execute("DELETE FROM minute_bars WHERE time >= ?1", [date.to_string()])?;
            tx.execute("DELETE FROM minute_days WHERE date >= ?1", [date.to_string()])?;
            Ok(n)
        })
        .await
    }

    /// Records that the minutes of a past `date` are stored completely.
    pub async fn mark_minute_day(&self, code: StockCode, day: MinuteDay) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO minute_days (code, date, bars) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code, date) DO UPDATE SET bars = excluded.bars",
                params![code.as_str(), day.date.to_string(), day.bars],
            )?;
            Ok(())
        })
        .await
    }

    /// The past days whose minutes are stored completely, newest first.
    pub async fn minute_days(&self, code: StockCode) -> Result<Vec<MinuteDay>, StoreError> {
        self.read(move |c| {
            let mut st =
                c.prepare_cached("SELECT date, bars FROM minute_days WHERE code = ?1 ORDER BY date DESC")?;
            let rows = st.query_map([code.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (d, bars) = row?;
                out.push(MinuteDay {
                    date: parse_date(&d)?,
                    bars,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Inserts or replaces daily bars (`time` at 00:00 of the date).
    pub async fn put_daily(&self, code: StockCode, bars: Vec<Candle>) -> Result<usize, StoreError> {
        self.put_bars(Bars::Daily, code, bars).await
    }

    /// The last `limit` daily bars before `before` (all if `None`), oldest first.
    pub async fn daily(
        &self,
        code: StockCode,
        before: Option<Date>,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        let before = before.map(|d| d.to_string());
        self.read(move |c| Bars::Daily.recent(c, code, before, limit))
            .await
    }

    pub async fn set_daily_coverage(&self, code: StockCode, cover: DailyCoverage) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO daily_coverage (code, first, last, complete) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (code) DO UPDATE SET first = excluded.first, last = excluded.last,
                   complete = excluded.complete",
                params![
                    code.as_str(),
                    cover.first.to_string(),
                    cover.last.to_string(),
                    cover.complete
                ],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn daily_coverage(&self, code: StockCode) -> Result<Option<DailyCoverage>, StoreError> {
        self.read(move |c| {
            let row: Option<(String, String, bool)> = c
                .query_row(
                    "SELECT first, last, complete FROM daily_coverage WHERE code = ?1",
                    [code.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            row.map(|(f, l, complete)| {
                Ok(DailyCoverage {
                    first: parse_date(&f)?,
                    last: parse_date(&l)?,
                    complete,
                })
            })
            .transpose()
        })
        .await
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use jiff::civil::date;

    pub(in crate::store) fn bar(t: DateTime, close: i64) -> Candle {
        Candle {
            time: t,
            open: close,
            high: close + 10,
            low: close - 10,
            close,
            volume: 7,
        }
    }

    #[tokio::test]
    async fn minutes_round_trip_oldest_first_and_replace_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let code = StockCode::parse("005930").unwrap();
        let day = date(2026, 11, 27);
        let bars: Vec<Candle> = (0..5)
            .map(|i| bar(day.at(9, i, 0, 0), 1000 + i64::from(i)))
            .collect();
        store.put_minutes(code, bars.clone()).await.unwrap();
        store
            .put_minutes(code, vec![bar(day.at(9, 4, 0, 0), 2000)])
            .await
            .unwrap();
        let got = store.minutes(code, None, 3).await.unwrap();
        assert_eq!(
            got.iter().map(|b| b.close).collect::<Vec<_>>(),
            [1002, 1003, 2000]
        );
        let before = store.minutes(code, Some(day.at(9, 2, 0, 0)), 10).await.unwrap();
        assert_eq!(before, bars[..2]);
        assert_eq!(
            store.last_minute_of(code, day).await.unwrap(),
            Some(day.at(9, 4, 0, 0))
        );
        assert_eq!(
            store.last_minute_of(code, date(2026, 11, 26)).await.unwrap(),
            None
        );
        assert_eq!(store.minute_count(code).await.unwrap(), 5);
        assert_eq!(store.drop_minutes_from(day).await.unwrap(), 5);
    }

    #[tokio::test]
    async fn daily_bars_and_coverage() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let code = StockCode::parse("000660").unwrap();
        let bars: Vec<Candle> = (1..=3)
            .map(|d| {
                bar(
                    date(2026, 11, d).to_datetime(jiff::civil::Time::midnight()),
                    100 * i64::from(d),
                )
            })
            .collect();
        store.put_daily(code, bars.clone()).await.unwrap();
        assert_eq!(store.daily(code, None, 10).await.unwrap(), bars);
        assert_eq!(
            store.daily(code, Some(date(2026, 11, 3)), 1).await.unwrap(),
            bars[1..2]
        );
        let cover = DailyCoverage {
            first: date(2026, 11, 1),
            last: date(2026, 11, 3),
            complete: true,
        };
        store.set_daily_coverage(code, cover).await.unwrap();
        assert_eq!(store.daily_coverage(code).await.unwrap(), Some(cover));
        store
            .mark_minute_day(
                code,
                MinuteDay {
                    date: date(2026, 11, 2),
                    bars: 381,
                },
            )
            .await
            .unwrap();
        assert_eq!(store.minute_days(code).await.unwrap()[0].bars, 381);
    }
}
