//! Single-flight for identical concurrent GETs: callers asking for the same (path, TR, query) while
//! a call is under way share its answer instead of each spending a slot of the rate limit.
//!
//! The map holds only weak references: when every caller of a flight has gone (cancelled), the
//! flight itself is dropped, and with it its place in the governor's queue or its slot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};

use crate::error::KisError;
use crate::governor::Priority;

/// The identity of a GET: identical keys get one upstream call. The priority is part of it, so an
/// interactive caller never ends up waiting in a background flight's place in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CallKey {
    pub path: &'static str,
    pub tr_id: &'static str,
    pub query: Vec<(&'static str, String)>,
    pub priority: Priority,
}

pub(crate) type Answer = Result<Arc<[u8]>, KisError>;
type Flight = Shared<BoxFuture<'static, Answer>>;

#[derive(Default)]
pub(crate) struct Coalescer {
    flights: Mutex<HashMap<CallKey, WeakShared<BoxFuture<'static, Answer>>>>,
    joined: AtomicU64,
}

impl Coalescer {
    /// Joins the flight for `key`, or starts one with `start`.
    pub async fn run(&self, key: CallKey, start: impl FnOnce() -> BoxFuture<'static, Answer>) -> Answer {
        let flight: Flight = {
            let mut flights = self.lock();
            match flights.get(&key).and_then(WeakShared::upgrade) {
                Some(flight) => {
                    self.joined.fetch_add(1, Ordering::Relaxed);
                    flight
                }
                None => {
                    let flight = start().shared();
                    if let Some(weak) = flight.downgrade() {
                        flights.insert(key.clone(), weak);
                    }
                    flight
                }
            }
        };
        let answer = flight.clone().await;
        let mut flights = self.lock();
        let finished = flights
            .get(&key)
            .and_then(WeakShared::upgrade)
            .is_none_or(|f| f.ptr_eq(&flight));
        if finished {
            flights.remove(&key);
        }
        answer
    }

    /// Callers that shared another caller's flight instead of starting their own.
    pub fn joined(&self) -> u64 {
        self.joined.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallKey, WeakShared<BoxFuture<'static, Answer>>>> {
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn key(q: &str) -> CallKey {
        CallKey {
            path: "/p",
            tr_id: "T",
            query: vec![("Q", q.to_owned())],
            priority: Priority::Interactive,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn identical_concurrent_calls_share_one_flight() {
        let c = Arc::new(Coalescer::default());
        let started = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (c, started) = (c.clone(), started.clone());
            let q = if i < 8 { "same" } else { "other" };
            tasks.push(tokio::spawn(async move {
                c.run(key(q), move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    async move {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(Arc::from(q.as_bytes()))
                    }
                    .boxed()
                })
                .await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let body = t.await.unwrap().unwrap();
            assert_eq!(&*body, if i < 8 { &b"same"[..] } else { &b"other"[..] });
        }
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert_eq!(c.joined(), 8);
        assert!(c.lock().is_empty(), "finished flights are forgotten");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flight_abandoned_by_every_caller_is_dropped() {
        let c = Arc::new(Coalescer::default());
        let dropped = Arc::new(AtomicUsize::new(0));
        struct OnDrop(Arc<AtomicUsize>);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let (c2, d2) = (c.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            c2.run(key("x"), move || {
                let guard = OnDrop(d2);
                async move {
                    let _guard = guard;
                    futures_util::future::pending::<()>().await;
                    Ok(Arc::from(&b""[..]))
                }
                .boxed()
            })
            .await
        });
        tokio::task::yield_now().await;
        task.abort();
        let _ = task.await;
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the upstream call was dropped with its last caller"
        );
        // A new caller starts afresh.
        let body = c
            .run(key("x"), || async { Ok(Arc::from(&b"new"[..])) }.boxed())
            .await
            .unwrap();
        assert_eq!(&*body, b"new");
    }
}
