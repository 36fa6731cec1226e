//! The app key and secret of a KIS app. Never printed: `Debug` redacts both.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::KisError;

/// Environment variable holding the app key.
pub const APP_KEY_VAR: &str = "KIS_APP_KEY";
/// Environment variable holding the app secret.
pub const APP_SECRET_VAR: &str = "KIS_APP_SECRET";

/// A KIS app key (36 characters) and app secret (180 characters).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    app_key: String,
    app_secret: String,
}

impl Credentials {
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<String>) -> Result<Credentials, KisError> {
        let app_key = app_key.into().trim().to_owned();
        let app_secret = app_secret.into().trim().to_owned();
        if app_key.is_empty() || app_secret.is_empty() {
            return Err(KisError::Credentials(
                "app key and app secret must not be empty".into(),
            ));
        }
        let printable = |s: &str| s.chars().all(|c| c.is_ascii_graphic());
        if !printable(&app_key) || !printable(&app_secret) {
            return Err(KisError::Credentials(
                "app key and app secret must be printable ASCII without spaces".into(),
            ));
        }
        Ok(Credentials { app_key, app_secret })
    }

    /// Reads `KIS_APP_KEY` and `KIS_APP_SECRET`; `Ok(None)` when the key is unset.
    pub fn from_env() -> Result<Option<Credentials>, KisError> {
        let Ok(key) = std::env::var(APP_KEY_VAR) else {
            return Ok(None);
        };
        let secret = std::env::var(APP_SECRET_VAR).map_err(|_| {
            KisError::Credentials(format!("{APP_KEY_VAR} is set but {APP_SECRET_VAR} is not"))
        })?;
        Credentials::new(key, secret).map(Some)
    }

    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    pub fn app_secret(&self) -> &str {
        &self.app_secret
    }

    /// A fingerprint of the app key (16 hex digits of SHA-256) that names it without revealing it.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.app_key.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A short, non-reversible name of an app key for metrics and logs: the first 4 bytes (8 hex
/// digits) of the key's SHA-256, the prefix of [`Credentials::fingerprint`]. Never the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyFingerprint([u8; 4]);

impl KeyFingerprint {
    pub fn of(app_key: &str) -> KeyFingerprint {
        let digest = Sha256::digest(app_key.as_bytes());
        KeyFingerprint([digest[0], digest[1], digest[2], digest[3]])
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({self})")
    }
}

impl Credentials {
    /// The app key's [`KeyFingerprint`] (8 hex digits).
    pub fn key_fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint::of(&self.app_key)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("app_key", &format_args!("<{}>", self.fingerprint()))
            .field("app_secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::new("PSabcdefghijklmnopqrstuvwxyz01234567", "S".repeat(180)).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("PSabcdef") && !shown.contains("SSSS"), "{shown}");
        assert_eq!(c.fingerprint().len(), 16);
        assert_eq!(c.fingerprint(), c.clone().fingerprint());
        let short = c.key_fingerprint().to_string();
        assert_eq!(short.len(), 8);
        assert!(c.fingerprint().starts_with(&short));
        assert!(!format!("{:?}", c.key_fingerprint()).contains("PSabcdef"));
    }

    #[test]
    fn rejects_empty_or_spaced_values() {
        assert!(Credentials::new("", "x").is_err());
        assert!(Credentials::new("a b", "x").is_err());
    }
}
