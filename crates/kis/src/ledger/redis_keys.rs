//! The Redis key names of one ledger, shared by the slot ledger and the token store on Redis.

/// The key names of one ledger (a hash tag keeps them on one cluster slot).
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub(crate) prefix: String,
}

impl Keys {
    pub(crate) fn new(name: &str) -> Keys {
        Keys {
            prefix: format!("kiswatch:ledger:{{{name}}}:"),
        }
    }

    pub(crate) fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    /// epoch, leases, marker expiries, marker counts, rate.
    pub(crate) fn slots(&self) -> [String; 5] {
        ["epoch", "leases", "mexp", "mcount", "rate"].map(|k| self.key(k))
    }
}
