//! Secrets at rest: a channel's secrets (bot tokens, webhook URLs, passwords) and the Web Push
//! private key are stored sealed with AES-256-GCM under a key kept beside the databases in
//! `<data-dir>/secrets.key` (32 random bytes, mode 0600, made once: temp file + rename). The
//! database alone — a backup, a copy kept aside after damage, a file attached to a bug report —
//! then holds no secret in the clear; the key file is treated like the KIS credentials file (owner
//! only). Losing the key file makes stored secrets unreadable: the channels say so and ask for them
//! again.

use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The key file's name under the data directory.
pub const KEY_FILE: &str = "secrets.key";
const PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the secrets key {path}: {detail}")]
    Key { path: String, detail: String },
    #[error("the secrets key {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")]
    TooOpen { path: String, mode: u32 },
    #[error("a stored secret cannot be opened (the secrets key changed or is lost): enter it again")]
    Unreadable,
}

/// Seals and opens secrets. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// The key of `data_dir`, made when there is none. Refuses a key file others can read.
    pub fn open(data_dir: &Path) -> Result<Sealer, SealError> {
        let path = data_dir.join(KEY_FILE);
        let shown = path.display().to_string();
        let key_error = |detail: String| SealError::Key {
            path: shown.clone(),
            detail,
        };
        if !path.exists() {
            std::fs::create_dir_all(data_dir).map_err(|e| key_error(e.to_string()))?;
            write_new_key(&path).map_err(|e| key_error(e.to_string()))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map_err(|e| key_error(e.to_string()))?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(SealError::TooOpen { path: shown, mode });
            }
        }
        let bytes = std::fs::read(&path).map_err(|e| key_error(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(key_error(format!("{} bytes, not 32", bytes.len())));
        }
        Ok(Sealer::from_key(&bytes))
    }

    pub fn from_key(key: &[u8]) -> Sealer {
        Sealer {
            cipher: Aes256Gcm::new_from_slice(key).expect("a 32-byte key"),
        }
    }

    /// `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plain: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM seals any input this size");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open_text(&self, sealed: &str) -> Result<String, SealError> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > 12)
            .ok_or(SealError::Unreadable)?;
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&raw[..12]), &raw[12..])
            .map_err(|_| SealError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SealError::Unreadable)
    }
}

fn write_new_key(path: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp = PathBuf::from(path);
    tmp.set_extension("key.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp)?;
    let key: [u8; 32] = rand::random();
    f.write_all(&key)?;
    f.sync_all()?;
    drop(f);
    match std::fs::hard_link(&tmp, path) {
        // Another process made it first: keep theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        other => other?,
    }
    std::fs::remove_file(&tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only_and_the_key_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let s = Sealer::open(dir.path()).unwrap();
        let sealed = s.seal("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
        assert!(!sealed.contains("AAHdq"));
        assert_ne!(
            sealed,
            s.seal("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            "a fresh nonce each time"
        );
        let again = Sealer::open(dir.path()).unwrap();
        assert_eq!(
            again.open_text(&sealed).unwrap(),
            "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
        );
        let other = Sealer::from_key(&[7; 32]);
        assert!(matches!(other.open_text(&sealed), Err(SealError::Unreadable)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let path = dir.path().join(KEY_FILE);
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(Sealer::open(dir.path()), Err(SealError::TooOpen { .. })));
        }
    }
}
