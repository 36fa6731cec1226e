//! Authentication: app key/secret pairs, access tokens, WebSocket approval keys.

pub mod approval;
pub mod credentials;
pub mod tokens;

pub use approval::ApprovalStore;
pub use credentials::{CredentialError, demo_credentials};
pub use tokens::{TokenError, TokenGrant, TokenStore};
