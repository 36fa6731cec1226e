//! KIS Open API client.
