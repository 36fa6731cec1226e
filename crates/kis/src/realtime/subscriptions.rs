//! What the client wants registered: a set of [`Topic`]s capped at KIS's 41 registrations per
//! session (executions, order books and notices combined).

use std::collections::BTreeSet;
use std::fmt;

use market::StockCode;
use serde::Serialize;

use super::error::RealtimeError;
use super::messages::{EXECUTIONS_TR, NOTICES_TR_REAL, NOTICES_TR_VTS, ORDER_BOOK_TR};

/// Registrations KIS accepts on one session (`docs/kis-wire.md` §6.1).
pub const MAX_REGISTRATIONS: usize = 41;

/// A realtime feed (one KIS TR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// H0STCNT0, keyed by stock code.
    Executions,
    /// H0STASP0, keyed by stock code.
    OrderBook,
    /// H0STCNI0 (real account), keyed by HTS id; encrypted.
    NoticesReal,
    /// H0STCNI9 (VTS account), keyed by HTS id; encrypted.
    NoticesVts,
}

impl Channel {
    pub fn tr_id(self) -> &'static str {
        match self {
            Channel::Executions => EXECUTIONS_TR,
            Channel::OrderBook => ORDER_BOOK_TR,
            Channel::NoticesReal => NOTICES_TR_REAL,
            Channel::NoticesVts => NOTICES_TR_VTS,
        }
    }

    pub fn from_tr_id(tr_id: &str) -> Option<Channel> {
        [
            Channel::Executions,
            Channel::OrderBook,
            Channel::NoticesReal,
            Channel::NoticesVts,
        ]
        .into_iter()
        .find(|c| c.tr_id() == tr_id)
    }
}

/// One registration: a channel and its `tr_key` (a stock code, or an HTS id for notices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Topic {
    pub channel: Channel,
    pub key: String,
}

impl Topic {
    pub fn stock(channel: Channel, code: StockCode) -> Topic {
        Topic {
            channel,
            key: code.as_str().to_owned(),
        }
    }

    /// A notice topic; the HTS id must be 1–16 ASCII letters, digits, `_` or `-`.
    pub fn notices(channel: Channel, hts_id: &str) -> Result<Topic, RealtimeError> {
        let valid = !hts_id.is_empty()
            && hts_id.len() <= 16
            && hts_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid || !matches!(channel, Channel::NoticesReal | Channel::NoticesVts) {
            return Err(RealtimeError::InvalidHtsId(hts_id.to_owned()));
        }
        Ok(Topic {
            channel,
            key: hts_id.to_owned(),
        })
    }

    /// The topic an ack or frame header names, if it is one the client can register.
    pub fn from_wire(tr_id: &str, tr_key: &str) -> Option<Topic> {
        Some(Topic {
            channel: Channel::from_tr_id(tr_id.trim())?,
            key: tr_key.trim().to_owned(),
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.channel.tr_id(), self.key)
    }
}

/// The registrations the client wants, at most `limit` of them.
#[derive(Debug, Clone)]
pub struct Registrations {
    limit: usize,
    topics: BTreeSet<Topic>,
}

impl Registrations {
    /// A set capped at `limit` (never above [`MAX_REGISTRATIONS`]).
    pub fn new(limit: usize) -> Registrations {
        Registrations {
            limit: limit.min(MAX_REGISTRATIONS),
            topics: BTreeSet::new(),
        }
    }

    /// Adds a topic; `Ok(false)` when it was already there. Refuses one past the cap.
    pub fn add(&mut self, topic: Topic) -> Result<bool, RealtimeError> {
        if self.topics.contains(&topic) {
            return Ok(false);
        }
        if self.topics.len() >= self.limit {
            return Err(RealtimeError::TooManyRegistrations { limit: self.limit });
        }
        Ok(self.topics.insert(topic))
    }

    pub fn remove(&mut self, topic: &Topic) -> bool {
        self.topics.remove(topic)
    }

    pub fn contains(&self, topic: &Topic) -> bool {
        self.topics.contains(topic)
    }

    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Topic> {
        self.topics.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(i: usize) -> StockCode {
        StockCode::parse(&format!("{i:06}")).unwrap()
    }

    #[test]
    fn the_42nd_registration_is_refused() {
        let mut r = Registrations::new(MAX_REGISTRATIONS);
        for i in 0..41 {
            assert!(r.add(Topic::stock(Channel::Executions, code(i))).unwrap());
        }
        // Re-adding an existing one is fine, a new one is not.
        assert!(!r.add(Topic::stock(Channel::Executions, code(0))).unwrap());
        assert_eq!(
            r.add(Topic::stock(Channel::OrderBook, code(0))),
            Err(RealtimeError::TooManyRegistrations { limit: 41 })
        );
        assert_eq!(r.len(), 41);
        r.remove(&Topic::stock(Channel::Executions, code(3)));
        assert!(r.add(Topic::stock(Channel::OrderBook, code(0))).unwrap());
    }

    #[test]
    fn limit_never_exceeds_kis_cap() {
        assert_eq!(Registrations::new(100).limit, 41);
    }

    #[test]
    fn topics_map_to_and_from_the_wire() {
        let t = Topic::from_wire("H0STASP0", "005930").unwrap();
        assert_eq!(t, Topic::stock(Channel::OrderBook, code(5930)));
        assert_eq!(t.to_string(), "H0STASP0/005930");
        assert!(Topic::from_wire("PINGPONG", "").is_none());
        assert!(Topic::notices(Channel::NoticesVts, "MYHTSID").is_ok());
        assert!(Topic::notices(Channel::NoticesVts, "").is_err());
        assert!(Topic::notices(Channel::NoticesVts, "a\"b").is_err());
        assert!(Topic::notices(Channel::Executions, "MYHTSID").is_err());
    }
}
