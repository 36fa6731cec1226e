//! The watchlist: codes in the user's order.

use market::StockCode;
use rusqlite::params;

use super::{Store, StoreError, now_text};

/// One watched stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchItem {
    pub code: StockCode,
    pub added_at: String,
}

fn code(s: &str) -> Result<StockCode, StoreError> {
    StockCode::parse(s).map_err(|_| StoreError::Corrupt {
        what: "stock code",
        value: s.to_string(),
    })
}

impl Store {
    /// The watchlist in order.
    pub async fn watchlist(&self) -> Result<Vec<WatchItem>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT code, added_at FROM watchlist ORDER BY position, code")?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let c: String = r.get(0)?;
                out.push(WatchItem {
                    code: code(&c)?,
                    added_at: r.get(1)?,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Appends a code at the end; `false` if it was already there (nothing changes).
    pub async fn watch(&self, code: StockCode) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let next: i64 = tx.query_row("SELECT coalesce(max(position), -1) + 1 FROM watchlist", [], |r| r.get(0))?;
            let n = tx.execute(
                "INSERT INTO watchlist (code, position, added_at) VALUES (?1, ?2, ?3) ON CONFLICT (code) DO NOTHING",
                params![code.as_str(), next, now_text()],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// Removes a code; `false` if it was not watched.
    pub async fn unwatch(&self, code: StockCode) -> Result<bool, StoreError> {
        self.write(move |tx| Ok(tx.execute("DELETE FROM watchlist WHERE code = ?1", [code.as_str()])? == 1))
            .await
    }

    /// Puts the watchlist in the order of `codes`, which must be exactly the watched codes.
    /// `Err(Ok(message))` explains a list that is not a permutation.
    pub async fn reorder(&self, codes: Vec<StockCode>) -> Result<Result<(), String>, StoreError> {
        self.write(move |tx| {
            let mut current: Vec<String> = {
                let mut st = tx.prepare("SELECT code FROM watchlist")?;
                st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let mut wanted: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
            current.sort();
            wanted.sort();
            if current != wanted {
                return Ok(Err(format!(
                    "codes must list every watched stock exactly once ({} watched, {} given)",
                    current.len(),
                    codes.len()
                )));
            }
            for (i, c) in codes.iter().enumerate() {
                tx.execute(
                    "UPDATE watchlist SET position = ?1 WHERE code = ?2",
                    params![i as i64, c.as_str()],
                )?;
            }
            Ok(Ok(()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn watch_reorder_unwatch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let [a, b, c] = ["005930", "000660", "035420"].map(|s| StockCode::parse(s).unwrap());
        for x in [a, b, c] {
            assert!(store.watch(x).await.unwrap());
        }
        assert!(!store.watch(a).await.unwrap(), "a second add changes nothing");
        assert!(
            store.reorder(vec![c, a]).await.unwrap().is_err(),
            "not a permutation"
        );
        store.reorder(vec![c, a, b]).await.unwrap().unwrap();
        let order: Vec<_> = store
            .watchlist()
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.code)
            .collect();
        assert_eq!(order, [c, a, b]);
        assert!(store.unwatch(a).await.unwrap());
        assert!(!store.unwatch(a).await.unwrap());
        assert!(store.watch(a).await.unwrap());
        let order: Vec<_> = store
            .watchlist()
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.code)
            .collect();
        assert_eq!(order, [c, b, a], "a re-added stock goes to the end");
    }
}
