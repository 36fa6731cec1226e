//! Where the realtime client gets its WebSocket approval key (`POST /oauth2/Approval`).
//!
//! The REST side of the crate implements [`ApprovalSource`] on top of its credentials; tests use
//! [`FixedApproval`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};

/// The future returned by [`ApprovalSource::approval_key`].
pub type ApprovalFuture<'a> = Pin<Box<dyn Future<Output = Result<String, ApprovalError>> + Send + 'a>>;

/// Supplies the approval key sent in every subscribe/unsubscribe header.
///
/// `force_new = false` may return a cached key; `force_new = true` is asked once after the server
/// rejected the current key ("INVALID APPROVAL KEY") and must fetch a fresh one.
pub trait ApprovalSource: Send + Sync + 'static {
    fn approval_key(&self, force_new: bool) -> ApprovalFuture<'_>;
}

/// Why no approval key could be obtained. The message must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("approval key unavailable: {0}")]
pub struct ApprovalError(pub String);

/// An [`ApprovalSource`] that always returns the same key (tests, fixed deployments).
pub struct FixedApproval {
    key: String,
    forced: AtomicU32,
}

impl FixedApproval {
    pub fn new(key: impl Into<String>) -> FixedApproval {
        FixedApproval {
            key: key.into(),
            forced: AtomicU32::new(0),
        }
    }

    /// How many times a fresh key was requested (`force_new = true`).
    pub fn forced_renewals(&self) -> u32 {
        self.forced.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for FixedApproval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedApproval")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ApprovalSource for FixedApproval {
    fn approval_key(&self, force_new: bool) -> ApprovalFuture<'_> {
        if force_new {
            self.forced.fetch_add(1, Ordering::Relaxed);
        }
        let key = self.key.clone();
        Box::pin(async move { Ok(key) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn fixed_approval_returns_its_key_and_counts_renewals() {
        let source: Arc<dyn ApprovalSource> = Arc::new(FixedApproval::new("k-1"));
        assert_eq!(source.approval_key(false).await.unwrap(), "k-1");
        assert_eq!(source.approval_key(true).await.unwrap(), "k-1");
        let fixed = FixedApproval::new("secret-value");
        let _ = fixed.approval_key(true).await;
        assert_eq!(fixed.forced_renewals(), 1);
        assert!(!format!("{fixed:?}").contains("secret-value"));
    }
}
