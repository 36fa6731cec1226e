//! Web Push (RFC 8030/8291/8292): the service's VAPID key pair, made once and kept sealed in the
//! store's `meta`, and a push request for one browser subscription — the payload encrypted
//! (`aes128gcm`, by `web-push-native`) and signed with a VAPID JWT (ES256, by `p256`). The request
//! goes through [`crate::outbound`] like every other destination; the push service's own answers
//! (201, 404/410 for a subscription gone, 429) are read by `providers`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};

use super::seal::Sealer;
use crate::outbound::Post;
use crate::store::{Store, StoreError};

const META_KEY: &str = "vapid_private_key";
/// How long a push service keeps a message for a browser that is offline.
const TTL_SECS: u64 = 3600;

pub fn decode_b64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// The service's VAPID key pair.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    public: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public", &self.public).finish()
    }
}

impl Vapid {
    /// The store's key pair, made and stored (sealed) on first use.
    pub async fn load_or_create(store: &Store, sealer: &Sealer) -> Result<Vapid, StoreError> {
        if let Some(sealed) = store.meta(META_KEY).await?
            && let Ok(b64) = sealer.open_text(&sealed)
            && let Some(bytes) = decode_b64url(&b64)
            && let Ok(key) = SigningKey::from_slice(&bytes)
        {
            return Ok(Vapid::from_key(key));
        }
        let key = loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(k) = SigningKey::from_slice(&bytes) {
                break k;
            }
        };
        let sealed = sealer.seal(&URL_SAFE_NO_PAD.encode(key.to_bytes()));
        store.set_meta(META_KEY, sealed).await?;
        Ok(Vapid::from_key(key))
    }

    fn from_key(key: SigningKey) -> Vapid {
        let public = URL_SAFE_NO_PAD.encode(key.verifying_key().to_encoded_point(false).as_bytes());
        Vapid { key, public }
    }

    /// The public key, base64url (the browser's `applicationServerKey`).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// `vapid t=<JWT>, k=<public key>` for a push service at `endpoint`.
    pub fn authorization(&self, endpoint: &reqwest::Url, now_secs: u64) -> String {
        let aud = endpoint.origin().ascii_serialization();
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims =
            serde_json::json!({"aud": aud, "exp": now_secs + 12 * 3600, "sub": "mailto:kiswatch@localhost"});
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let sig: Signature = self.key.sign(signing_input.as_bytes());
        let jwt = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
        format!("vapid t={jwt}, k={}", self.public)
    }
}

/// The push request carrying `payload` to one subscription; `Err` for subscription keys that do
/// not decode (a permanent problem of the channel).
pub fn request(
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    payload: &[u8],
    vapid: &Vapid,
) -> Result<Post, String> {
    let url = reqwest::Url::parse(endpoint).map_err(|e| format!("the endpoint is not a URL: {e}"))?;
    let public = decode_b64url(p256dh)
        .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
        .ok_or("the subscription's p256dh key does not decode")?;
    let auth = decode_b64url(auth)
        .filter(|b| b.len() == 16)
        .ok_or("the subscription's auth secret does not decode")?;
    let auth = web_push_native::Auth::clone_from_slice(&auth);
    let body = web_push_native::encrypt(payload.to_vec(), &public, &auth)
        .map_err(|e| format!("encrypting the push message failed: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderName};
    Ok(Post {
        url: endpoint.to_string(),
        headers: vec![
            (HeaderName::from_static("ttl"), TTL_SECS.to_string()),
            (HeaderName::from_static("urgency"), "high".into()),
            (CONTENT_ENCODING, "aes128gcm".into()),
            (CONTENT_TYPE, "application/octet-stream".into()),
            (AUTHORIZATION, vapid.authorization(&url, now)),
        ],
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;

    /// A push message a browser's keys decrypt, signed with a JWT the public key verifies.
    #[tokio::test]
    async fn a_push_request_decrypts_with_the_subscription_keys_and_its_jwt_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let sealer = Sealer::from_key(&[3; 32]);
        let vapid = Vapid::load_or_create(&store, &sealer).await.unwrap();
        let again = Vapid::load_or_create(&store, &sealer).await.unwrap();
        assert_eq!(vapid.public_key(), again.public_key(), "made once");
        // The browser's side.
        let ua_secret = p256::SecretKey::from_slice(&[9; 32]).unwrap();
        let ua_public = URL_SAFE_NO_PAD.encode(ua_secret.public_key().to_encoded_point(false).as_bytes());
        let auth = URL_SAFE_NO_PAD.encode([5u8; 16]);
        let post = request(
            "https://push.example.net/send/abc",
            &ua_public,
            &auth,
            "삼성전자".as_bytes(),
            &vapid,
        )
        .unwrap();
        let plain = web_push_native::decrypt(
            post.body.clone(),
            &ua_secret,
            &web_push_native::Auth::clone_from_slice(&[5u8; 16]),
        )
        .unwrap();
        assert_eq!(plain, "삼성전자".as_bytes());
        let authz = &post.headers.iter().find(|(n, _)| n == "authorization").unwrap().1;
        let jwt = authz
            .strip_prefix("vapid t=")
            .unwrap()
            .split(", k=")
            .next()
            .unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&decode_b64url(vapid.public_key()).unwrap()).unwrap();
        let sig = Signature::from_slice(&decode_b64url(sig).unwrap()).unwrap();
        key.verify(input.as_bytes(), &sig).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&decode_b64url(input.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
    }
}
