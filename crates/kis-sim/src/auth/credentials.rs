//! Simulator app keys and app secrets.
//!
//! The scheme (deterministic and documented, so anyone can make keys for the simulator):
//! * an **app key** is 36 characters `[0-9A-Za-z]`: `PS` + a profile tag (`RL` real, `VT` 모의투자) +
//!   32 more characters. [`demo_credentials`] makes `PS<tag>SIM<index: 9 digits>` + 20 characters of
//!   digest; any other 36-character key with a valid prefix works just as well.
//! * its **app secret** is 180 characters derived from the key by a keyed digest ([`app_secret_for`]),
//!   so a wrong secret is detected without storing anything.
//!
//! These are simulator keys, not secrets: they grant nothing outside the simulator.

use crate::config::Profile;

/// Length of a KIS app key.
pub const APP_KEY_LEN: usize = 36;
/// Length of a KIS app secret.
pub const APP_SECRET_LEN: usize = 180;

const SECRET_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const KEY_ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Why a credential pair is refused, in the order KIS checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("app key missing")]
    MissingKey,
    #[error("app key malformed or unknown")]
    InvalidKey,
    #[error("app secret missing")]
    MissingSecret,
    #[error("app secret does not match the app key")]
    InvalidSecret,
}

/// Test/demo credentials the simulator accepts: app key (36 chars) and app secret (180 chars) for a
/// profile. Different `index` values give independent keys (each with its own rate limit and tokens).
pub fn demo_credentials(profile: Profile, index: u32) -> (String, String) {
    let mut key = format!("PS{}SIM{index:09}", profile_tag(profile));
    let mut stream = DigestStream::new(b"kis-sim demo key v1", key.as_bytes());
    while key.len() < APP_KEY_LEN {
        key.push(KEY_ALPHABET[(stream.next_u64() % KEY_ALPHABET.len() as u64) as usize] as char);
    }
    let secret = app_secret_for(&key);
    (key, secret)
}

/// The one app secret the simulator accepts for `app_key`.
pub fn app_secret_for(app_key: &str) -> String {
    let mut stream = DigestStream::new(b"kis-sim app secret v1", app_key.as_bytes());
    let mut secret = String::with_capacity(APP_SECRET_LEN);
    while secret.len() < APP_SECRET_LEN {
        let word = stream.next_u64();
        for i in 0..10 {
            if secret.len() == APP_SECRET_LEN {
                break;
            }
            secret.push(SECRET_ALPHABET[((word >> (i * 6)) & 63) as usize] as char);
        }
    }
    secret
}

/// The profile an app key belongs to, or `None` when it is not a simulator key.
pub fn key_profile(app_key: &str) -> Option<Profile> {
    if app_key.len() != APP_KEY_LEN || !app_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match &app_key[..4] {
        "PSRL" => Some(Profile::Real),
        "PSVT" => Some(Profile::Vts),
        _ => None,
    }
}

/// Checks an app key / app secret pair; returns the key's profile.
pub fn verify(app_key: Option<&str>, app_secret: Option<&str>) -> Result<Profile, CredentialError> {
    let key = app_key
        .filter(|k| !k.is_empty())
        .ok_or(CredentialError::MissingKey)?;
    let profile = key_profile(key).ok_or(CredentialError::InvalidKey)?;
    let secret = app_secret
        .filter(|s| !s.is_empty())
        .ok_or(CredentialError::MissingSecret)?;
    if secret.len() != APP_SECRET_LEN || secret != app_secret_for(key) {
        return Err(CredentialError::InvalidSecret);
    }
    Ok(profile)
}

fn profile_tag(profile: Profile) -> &'static str {
    match profile {
        Profile::Real => "RL",
        Profile::Vts => "VT",
    }
}

/// A deterministic keyed stream of 64-bit words (FNV-1a of domain and input, then splitmix64).
/// Not cryptographic: it only has to make a wrong secret detectable in a simulator.
pub(crate) struct DigestStream {
    state: u64,
}

impl DigestStream {
    pub(crate) fn new(domain: &[u8], input: &[u8]) -> DigestStream {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in domain.iter().chain([0u8].iter()).chain(input.iter()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        DigestStream { state: h }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_credentials_have_kis_lengths_and_verify() {
        for profile in [Profile::Real, Profile::Vts] {
            let (key, secret) = demo_credentials(profile, 3);
            assert_eq!(key.len(), APP_KEY_LEN);
            assert_eq!(secret.len(), APP_SECRET_LEN);
            assert_eq!(verify(Some(&key), Some(&secret)), Ok(profile));
            assert_eq!(key_profile(&key), Some(profile));
        }
    }

    #[test]
    fn credentials_are_deterministic_and_distinct() {
        assert_eq!(
            demo_credentials(Profile::Real, 1),
            demo_credentials(Profile::Real, 1)
        );
        assert_ne!(
            demo_credentials(Profile::Real, 1).0,
            demo_credentials(Profile::Real, 2).0
        );
        assert_ne!(
            demo_credentials(Profile::Real, 1).1,
            demo_credentials(Profile::Vts, 1).1
        );
    }

    #[test]
    fn wrong_or_missing_parts_are_refused_in_order() {
        let (key, secret) = demo_credentials(Profile::Real, 0);
        let (_, other_secret) = demo_credentials(Profile::Real, 1);
        assert_eq!(verify(None, Some(&secret)), Err(CredentialError::MissingKey));
        assert_eq!(
            verify(Some("short"), Some(&secret)),
            Err(CredentialError::InvalidKey)
        );
        assert_eq!(verify(Some(&key), None), Err(CredentialError::MissingSecret));
        assert_eq!(
            verify(Some(&key), Some(&other_secret)),
            Err(CredentialError::InvalidSecret)
        );
        let mut tampered = secret.clone();
        tampered.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });
        assert_eq!(
            verify(Some(&key), Some(&tampered)),
            Err(CredentialError::InvalidSecret)
        );
    }

    #[test]
    fn custom_keys_with_a_valid_prefix_work() {
        let key = format!("PSVT{}", "x".repeat(32));
        assert_eq!(verify(Some(&key), Some(&app_secret_for(&key))), Ok(Profile::Vts));
    }
}
