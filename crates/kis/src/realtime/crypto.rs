//! Decryption of encrypted realtime frames (flag `1`): base64 of AES-256-CBC with PKCS#7 padding,
//! keyed by the `key` (32 bytes) and `iv` (16 bytes) strings of that TR's subscribe ack.

use std::fmt;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::error::ParseError;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The key and iv of one TR, as received in its subscribe ack.
#[derive(Clone, PartialEq, Eq)]
pub struct FrameCipher {
    key: [u8; 32],
    iv: [u8; 16],
}

impl FrameCipher {
    /// Builds a cipher from the ack's `key` and `iv` strings (their UTF-8 bytes are used as is).
    pub fn new(key: &str, iv: &str) -> Result<FrameCipher, ParseError> {
        let key: [u8; 32] = key.as_bytes().try_into().map_err(|_| ParseError::CipherKey {
            reason: "the key must be 32 bytes",
        })?;
        let iv: [u8; 16] = iv.as_bytes().try_into().map_err(|_| ParseError::CipherKey {
            reason: "the iv must be 16 bytes",
        })?;
        Ok(FrameCipher { key, iv })
    }

    /// Decrypts a base64 payload into its `^`-separated plain text.
    pub fn decrypt(&self, tr_id: &str, payload: &str) -> Result<String, ParseError> {
        let fail = |reason| ParseError::Decrypt {
            tr_id: tr_id.to_owned(),
            reason,
        };
        let mut bytes = STANDARD
            .decode(payload.trim())
            .map_err(|_| fail("the payload is not base64"))?;
        if bytes.is_empty() || !bytes.len().is_multiple_of(16) {
            return Err(fail("the ciphertext is not a whole number of AES blocks"));
        }
        let plain = Aes256CbcDec::new(&self.key.into(), &self.iv.into())
            .decrypt_padded_mut::<Pkcs7>(&mut bytes)
            .map_err(|_| fail("bad padding (wrong key or iv?)"))?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail("the plain text is not UTF-8"))
    }
}

impl fmt::Debug for FrameCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FrameCipher(<redacted>)")
    }
}

/// Encrypts like the KIS server does; for tests of this crate and of simulators.
#[cfg(test)]
pub(crate) fn encrypt_for_test(key: &str, iv: &str, plain: &str) -> String {
    use aes::cipher::BlockEncryptMut;
    type Enc = cbc::Encryptor<aes::Aes256>;
    let key: [u8; 32] = key.as_bytes().try_into().unwrap();
    let iv: [u8; 16] = iv.as_bytes().try_into().unwrap();
    let mut buf = plain.as_bytes().to_vec();
    buf.resize(plain.len() + 16, 0);
    let ct = Enc::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
        .unwrap();
    STANDARD.encode(ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "iuheqrmvfxoceaxeyqgjwesozgizmmgx";
    const IV: &str = "d59d91fcf9fd0044";

    #[test]
    fn decrypts_what_the_server_encrypts() {
        let plain = "CUSTID^12345678^0000123^^02^0^00^0^005930^10^71500^093012";
        let wire = encrypt_for_test(KEY, IV, plain);
        let cipher = FrameCipher::new(KEY, IV).unwrap();
        assert_eq!(cipher.decrypt("H0STCNI0", &wire).unwrap(), plain);
    }

    #[test]
    fn rejects_bad_keys_and_payloads() {
        // The third-party ack fixture carries placeholder key/iv of the wrong length.
        assert!(matches!(
            FrameCipher::new("key-123", "iv-123"),
            Err(ParseError::CipherKey { .. })
        ));
        assert!(FrameCipher::new(KEY, "short").is_err());
        let cipher = FrameCipher::new(KEY, IV).unwrap();
        for bad in ["", "not base64!", "Zm9v", "AAAAAAAAAAAAAAAAAAAAAA=="] {
            assert!(
                matches!(cipher.decrypt("H0STCNI0", bad), Err(ParseError::Decrypt { .. })),
                "{bad:?}"
            );
        }
        let other = FrameCipher::new(KEY, "0123456789abcdef").unwrap();
        let wire = encrypt_for_test(KEY, IV, "hello");
        assert_ne!(other.decrypt("T", &wire).ok().as_deref(), Some("hello"));
    }

    #[test]
    fn debug_hides_the_key() {
        let cipher = FrameCipher::new(KEY, IV).unwrap();
        assert!(!format!("{cipher:?}").contains(KEY));
    }
}
