//! The app key and secret of a KIS app. Never printed: `Debug` redacts both.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::KisError;

/// Environment variable holding the app key.
pub const APP_KEY_VAR: &str = "KIS_APP_KEY";
/// Environment variable holding the app secret.
pub const APP_SECRET_VAR: &str = "KIS_APP_SECRET";

/// The most app keys one service takes (`KIS_APP_KEY_1` … `KIS_APP_KEY_16`).
pub const MAX_KEYS: usize = 16;

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

    /// Every key pair `lookup` names (the environment, or a credentials file's lines): the plain
    /// `KIS_APP_KEY` / `KIS_APP_SECRET` pair is key 1, and numbered pairs `KIS_APP_KEY_n` /
    /// `KIS_APP_SECRET_n` (n = 1 … [`MAX_KEYS`], without gaps) are keys n. Empty when no key is named.
    /// Errors name the variable at fault, never a value.
    pub fn key_set(lookup: impl Fn(&str) -> Option<String>) -> Result<Vec<Credentials>, KisError> {
        let pair = |key_var: String, secret_var: String| -> Result<Option<Credentials>, KisError> {
            match (lookup(&key_var), lookup(&secret_var)) {
                (None, None) => Ok(None),
                (Some(_), None) => Err(KisError::Credentials(format!(
                    "{key_var} is set but {secret_var} is not"
                ))),
                (None, Some(_)) => Err(KisError::Credentials(format!(
                    "{secret_var} is set but {key_var} is not"
                ))),
                (Some(k), Some(s)) => Credentials::new(k, s)
                    .map(Some)
                    .map_err(|e| KisError::Credentials(format!("{key_var}: {e}"))),
            }
        };
        let mut keys: Vec<(String, Credentials)> = Vec::new();
        if let Some(c) = pair(APP_KEY_VAR.into(), APP_SECRET_VAR.into())? {
            keys.push((APP_KEY_VAR.into(), c));
        }
        // The plain pair is key 1, so the numbered ones then start at 2.
        let first = if keys.is_empty() { 1 } else { 2 };
        let mut missing: Option<usize> = None;
        for n in 1..=MAX_KEYS {
            let name = format!("{APP_KEY_VAR}_{n}");
            let Some(c) = pair(name.clone(), format!("{APP_SECRET_VAR}_{n}"))? else {
                if n >= first {
                    missing.get_or_insert(n);
                }
                continue;
            };
            if n < first {
                return Err(KisError::Credentials(format!(
                    "{APP_KEY_VAR} and {name} both name key 1: keep one of them"
                )));
            }
            if let Some(m) = missing {
                return Err(KisError::Credentials(format!(
                    "{name} is set but {APP_KEY_VAR}_{m} is not: number the keys without gaps"
                )));
            }
            if let Some((earlier, _)) = keys.iter().find(|(_, k)| k.app_key == c.app_key) {
                return Err(KisError::Credentials(format!(
                    "{name} repeats the key of {earlier}"
                )));
            }
            keys.push((name, c));
        }
        if lookup(&format!("{APP_KEY_VAR}_{}", MAX_KEYS + 1)).is_some() {
            return Err(KisError::Credentials(format!("at most {MAX_KEYS} app keys")));
        }
        Ok(keys.into_iter().map(|(_, c)| c).collect())
    }

    /// [`Credentials::key_set`] of the environment.
    pub fn keys_from_env() -> Result<Vec<Credentials>, KisError> {
        Credentials::key_set(|name| std::env::var(name).ok())
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

    fn key(n: u8) -> String {
        format!("PS{:0>34}", n)
    }

    fn lookup<'a>(vars: &'a [(&'a str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_plain_pair_is_key_one_and_numbered_pairs_follow() {
        let secret = "S".repeat(180);
        let plain = [(APP_KEY_VAR, key(1)), (APP_SECRET_VAR, secret.clone())];
        let keys = Credentials::key_set(lookup(&plain)).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].app_key(), key(1));

        let numbered = [
            ("KIS_APP_KEY_1", key(1)),
            ("KIS_APP_SECRET_1", secret.clone()),
            ("KIS_APP_KEY_2", key(2)),
            ("KIS_APP_SECRET_2", secret.clone()),
            ("KIS_APP_KEY_3", key(3)),
            ("KIS_APP_SECRET_3", secret.clone()),
        ];
        let keys = Credentials::key_set(lookup(&numbered)).unwrap();
        assert_eq!(
            keys.iter().map(|c| c.app_key().to_string()).collect::<Vec<_>>(),
            [key(1), key(2), key(3)]
        );

        let plain_then_two = [
            (APP_KEY_VAR, key(1)),
            (APP_SECRET_VAR, secret.clone()),
            ("KIS_APP_KEY_2", key(2)),
            ("KIS_APP_SECRET_2", secret.clone()),
        ];
        assert_eq!(Credentials::key_set(lookup(&plain_then_two)).unwrap().len(), 2);
        assert!(Credentials::key_set(lookup(&[])).unwrap().is_empty());
    }

    #[test]
    fn key_set_errors_name_the_variable_never_the_value() {
        let secret = "S".repeat(180);
        let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
            (
                vec![("KIS_APP_KEY_2", key(2))],
                "KIS_APP_KEY_2 is set but KIS_APP_SECRET_2 is not",
            ),
            (
                vec![
                    (APP_KEY_VAR, key(1)),
                    (APP_SECRET_VAR, secret.clone()),
                    ("KIS_APP_KEY_1", key(2)),
                    ("KIS_APP_SECRET_1", secret.clone()),
                ],
                "both name key 1",
            ),
            (
                vec![
                    ("KIS_APP_KEY_1", key(1)),
                    ("KIS_APP_SECRET_1", secret.clone()),
                    ("KIS_APP_KEY_3", key(3)),
                    ("KIS_APP_SECRET_3", secret.clone()),
                ],
                "KIS_APP_KEY_3 is set but KIS_APP_KEY_2 is not",
            ),
            (
                vec![
                    ("KIS_APP_KEY_1", key(1)),
                    ("KIS_APP_SECRET_1", secret.clone()),
                    ("KIS_APP_KEY_2", key(1)),
                    ("KIS_APP_SECRET_2", secret.clone()),
                ],
                "KIS_APP_KEY_2 repeats the key of KIS_APP_KEY_1",
            ),
        ];
        for (vars, expected) in cases {
            let err = Credentials::key_set(lookup(&vars)).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains(&key(1)) && !err.contains("SSSS"), "{err}");
        }
    }

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
