//! KIS Open API client.

pub mod realtime;
