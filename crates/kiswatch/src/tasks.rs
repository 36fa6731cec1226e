//! The service's background tasks, all under one cancellation token and one task tracker
//! (`tokio-util`), so that stopping the service stops every one of them and waits for them.
//!
//! * [`Tasks::spawn`] runs a task until it ends or the service stops; at the stop the task's future
//!   is dropped at its next `.await` (every task here keeps its state in the store or in memory that
//!   is being dropped anyway, so nothing is lost by stopping between two awaits).
//! * [`Tasks::spawn_finishing`] runs work that must not be cut in the middle — a delivery already on
//!   the wire — to its end; [`Tasks::shutdown`] waits for it, within a bound.
//!
//! Cloning is cheap: components that start work of their own (gap repair, webhook deliveries) hold
//! a clone, so that work is tracked too.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Tasks {
    pub fn new() -> Tasks {
        Tasks::default()
    }

    /// Runs `task` until it ends or the service stops.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            cancel.run_until_cancelled(task).await;
        })
    }

    /// Runs `work` to its end even when the service stops; [`Tasks::shutdown`] waits for it.
    pub fn spawn_finishing<F>(&self, work: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(work)
    }

    /// Tells every task to stop, without waiting (see [`Tasks::shutdown`] to wait).
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Whether the service is stopping.
    pub fn is_stopping(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves when the service starts stopping.
    pub async fn stopping(&self) {
        self.cancel.cancelled().await
    }

    /// Stops every task and waits at most `bound` for them all to end; `false` when some did not
    /// end in time (they are left to the runtime's own shutdown).
    pub async fn shutdown(&self, bound: Duration) -> bool {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(bound, self.tracker.wait()).await.is_ok()
    }

    /// Tasks still running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_spawned_tasks_and_waits_for_finishing_work() {
        let tasks = Tasks::new();
        tasks.spawn(std::future::pending());
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let inner = tasks.clone();
        tasks.spawn_finishing(async move {
            // Work in flight: it sees the stop and still finishes.
            inner.stopping().await;
            let _ = go_rx.await;
            let _ = done_tx.send(());
        });
        assert_eq!(tasks.running(), 2);
        let stopping = tokio::spawn({
            let tasks = tasks.clone();
            async move { tasks.shutdown(Duration::from_secs(10)).await }
        });
        let _ = go_tx.send(());
        assert!(stopping.await.unwrap(), "everything ended within the bound");
        assert!(done_rx.await.is_ok(), "the finishing work ran to its end");
        assert_eq!(tasks.running(), 0);
        assert!(tasks.is_stopping());
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_does_not_end_is_reported() {
        let tasks = Tasks::new();
        tasks.spawn_finishing(std::future::pending());
        assert!(!tasks.shutdown(Duration::from_millis(100)).await);
    }
}
