//! WebSocket approval keys (`/oauth2/Approval`): each maps back to the app key that asked for it.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;

use super::tokens::lock;

#[derive(Default)]
pub struct ApprovalStore {
    keys: Mutex<HashMap<String, String>>,
}

impl ApprovalStore {
    /// Issues a new approval key (UUID-shaped, 36 characters) for `app_key`.
    pub fn issue(&self, app_key: &str) -> String {
        let mut rng = rand::rng();
        let hex = |rng: &mut rand::rngs::ThreadRng, n: usize| -> String {
            (0..n)
                .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                .collect()
        };
        let key = format!(
            "{}-{}-{}-{}-{}",
            hex(&mut rng, 8),
            hex(&mut rng, 4),
            hex(&mut rng, 4),
            hex(&mut rng, 4),
            hex(&mut rng, 12)
        );
        lock(&self.keys).insert(key.clone(), app_key.to_string());
        key
    }

    /// The app key an approval key was issued to.
    pub fn app_key_of(&self, approval_key: &str) -> Option<String> {
        lock(&self.keys).get(approval_key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_resolve_to_their_app_key() {
        let store = ApprovalStore::default();
        let a = store.issue("APP1");
        let b = store.issue("APP2");
        assert_eq!(a.len(), 36);
        assert_ne!(a, b);
        assert_eq!(store.app_key_of(&a).as_deref(), Some("APP1"));
        assert_eq!(store.app_key_of(&b).as_deref(), Some("APP2"));
        assert_eq!(store.app_key_of("unknown"), None);
    }
}
