//! Errors of the realtime layer: [`ParseError`] for what the server sent, [`RealtimeError`] for
//! what a caller asked.

use super::approval::ApprovalError;

/// A realtime message that could not be read. Messages name the TR and the field; they never
/// contain keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed realtime frame ({reason}): {head:?}")]
    MalformedFrame { reason: &'static str, head: String },
    #[error("{tr_id} frame with {count} record(s) needs {expected} fields, got {got}")]
    FieldCount {
        tr_id: String,
        count: usize,
        expected: usize,
        got: usize,
    },
    #[error("{tr_id} field {index} {field}: {value:?} is not {expected}")]
    Field {
        tr_id: String,
        index: usize,
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("no parser for realtime TR {tr_id}")]
    UnknownTr { tr_id: String },
    #[error("{tr_id} frame is encrypted but no key was received in its subscribe ack")]
    NoCipher { tr_id: String },
    #[error("cannot decrypt {tr_id} frame: {reason}")]
    Decrypt { tr_id: String, reason: &'static str },
    #[error("bad AES key/iv in the subscribe ack: {reason}")]
    CipherKey { reason: &'static str },
    #[error("malformed control message: {reason}")]
    Control { reason: String },
}

/// Why a realtime request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealtimeError {
    #[error(
        "too many realtime registrations: KIS allows {limit} per session (executions, order books and notices combined); unsubscribe something first"
    )]
    TooManyRegistrations { limit: usize },
    #[error("KIS refused {tr_id}/{tr_key}: {message} ({code})")]
    Rejected {
        tr_id: String,
        tr_key: String,
        code: String,
        message: String,
    },
    #[error("KIS did not acknowledge {tr_id}/{tr_key} in time")]
    AckTimeout { tr_id: String, tr_key: String },
    #[error("KIS rejected the approval key even after a fresh one was issued: {message}")]
    ApprovalRejected { message: String },
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("{topic} was unsubscribed before KIS acknowledged the subscription")]
    Withdrawn { topic: String },
    #[error("{0:?} is not a valid HTS id for execution notices")]
    InvalidHtsId(String),
    #[error("the realtime client has stopped")]
    Closed,
}
