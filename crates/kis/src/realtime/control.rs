//! JSON control messages from the server: subscribe/unsubscribe acks, errors and PINGPONG
//! (`docs/kis-wire.md` §7.2, error codes 6.4).

use serde::Deserialize;

use super::error::ParseError;

/// A JSON text message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The keep-alive; the client echoes the same text back.
    PingPong,
    Ack(Ack),
}

/// The server's answer to a subscribe or unsubscribe request.
#[derive(Clone, PartialEq, Eq)]
pub struct Ack {
    pub tr_id: String,
    pub tr_key: String,
    pub outcome: AckOutcome,
    /// `msg_cd`, e.g. `OPSP0000` (absent in some acks).
    pub code: String,
    /// `msg1`, e.g. `SUBSCRIBE SUCCESS`.
    pub message: String,
    /// AES key and iv for this TR's encrypted frames (`body.output.key` / `.iv`).
    pub cipher: Option<(String, String)>,
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ack")
            .field("tr_id", &self.tr_id)
            .field("tr_key", &self.tr_key)
            .field("outcome", &self.outcome)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("cipher", &self.cipher.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What an ack says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// `OPSP0000 SUBSCRIBE SUCCESS`.
    Subscribed,
    /// `OPSP0001 UNSUBSCRIBE SUCCESS`.
    Unsubscribed,
    /// `OPSP0002 ALREADY IN SUBSCRIBE`: the registration is active.
    AlreadySubscribed,
    /// `OPSP0003`: unsubscribing something that was not subscribed.
    NotSubscribed,
    /// `INVALID APPROVAL KEY`.
    InvalidApproval,
    /// `OPSP8996`: the app key already has a session.
    SessionInUse,
    /// Any other failure (`rt_cd` ≠ 0, e.g. `OPSP0007` internal error, or the cap reached).
    Failed,
}

impl AckOutcome {
    /// Whether the registration is active on the server after this ack.
    pub fn is_subscribed(self) -> bool {
        matches!(self, AckOutcome::Subscribed | AckOutcome::AlreadySubscribed)
    }
}

#[derive(Deserialize)]
struct Wire {
    header: WireHeader,
    #[serde(default)]
    body: Option<WireBody>,
}

#[derive(Deserialize)]
struct WireHeader {
    tr_id: String,
    #[serde(default)]
    tr_key: String,
}

#[derive(Deserialize)]
struct WireBody {
    #[serde(default)]
    rt_cd: String,
    #[serde(default)]
    msg_cd: String,
    #[serde(default)]
    msg1: String,
    #[serde(default)]
    output: Option<WireOutput>,
}

#[derive(Deserialize)]
struct WireOutput {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    iv: Option<String>,
}

/// Parses a JSON control message.
pub fn parse(text: &str) -> Result<Control, ParseError> {
    let wire: Wire = serde_json::from_str(text).map_err(|e| ParseError::Control {
        reason: e.to_string(),
    })?;
    if wire.header.tr_id == "PINGPONG" {
        return Ok(Control::PingPong);
    }
    let body = wire.body.ok_or_else(|| ParseError::Control {
        reason: format!("{} message without a body", wire.header.tr_id),
    })?;
    let outcome = classify(&body.rt_cd, &body.msg_cd, &body.msg1);
    let cipher = body
        .output
        .and_then(|o| Some((o.key?, o.iv?)))
        .filter(|(key, iv)| !key.is_empty() && !iv.is_empty());
    Ok(Control::Ack(Ack {
        tr_id: wire.header.tr_id,
        tr_key: wire.header.tr_key,
        outcome,
        code: body.msg_cd,
        message: body.msg1,
        cipher,
    }))
}

fn classify(rt_cd: &str, msg_cd: &str, msg1: &str) -> AckOutcome {
    let msg = msg1.trim().to_ascii_uppercase();
    match msg_cd {
        "OPSP0000" => return AckOutcome::Subscribed,
        "OPSP0001" => return AckOutcome::Unsubscribed,
        "OPSP0002" => return AckOutcome::AlreadySubscribed,
        "OPSP0003" => return AckOutcome::NotSubscribed,
        "OPSP8996" => return AckOutcome::SessionInUse,
        _ => {}
    }
    if msg.contains("INVALID APPROVAL") {
        AckOutcome::InvalidApproval
    } else if msg.starts_with("ALREADY IN SUBSCRIBE") {
        AckOutcome::AlreadySubscribed
    } else if rt_cd != "0" {
        AckOutcome::Failed
    } else if msg.starts_with("UNSUB") {
        AckOutcome::Unsubscribed
    } else if msg.starts_with("SUBSCRIBE") {
        AckOutcome::Subscribed
    } else {
        AckOutcome::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(text: &str) -> Ack {
        match parse(text).unwrap() {
            Control::Ack(a) => a,
            other => panic!("not an ack: {other:?}"),
        }
    }

    #[test]
    fn unsubscribe_and_errors() {
        let a = ack(
            r#"{"header":{"tr_id":"H0STCNT0","tr_key":"005930","encrypt":"N"},"body":{"rt_cd":"0","msg_cd":"OPSP0001","msg1":"UNSUBSCRIBE SUCCESS"}}"#,
        );
        assert_eq!(a.outcome, AckOutcome::Unsubscribed);
        let a = ack(
            r#"{"header":{"tr_id":"H0STCNT0","tr_key":"005930"},"body":{"rt_cd":"0","msg1":"UNSUBSCRIBE SUCCESS"}}"#,
        );
        assert_eq!(a.outcome, AckOutcome::Unsubscribed);
        let a = ack(
            r#"{"header":{"tr_id":"H0STCNT0","tr_key":"005930"},"body":{"rt_cd":"1","msg_cd":"OPSP0002","msg1":"ALREADY IN SUBSCRIBE"}}"#,
        );
        assert!(a.outcome.is_subscribed());
        let a = ack(
            r#"{"header":{"tr_id":"H0STCNT0","tr_key":"005930"},"body":{"rt_cd":"9","msg_cd":"OPSP0011","msg1":"invalid approval : NOT FOUND"}}"#,
        );
        assert_eq!(a.outcome, AckOutcome::InvalidApproval);
        let a = ack(
            r#"{"header":{"tr_id":"H0STCNT0","tr_key":"005930"},"body":{"rt_cd":"1","msg_cd":"OPSP8996","msg1":"ALREADY IN USE appkey"}}"#,
        );
        assert_eq!(a.outcome, AckOutcome::SessionInUse);
        let a = ack(
            r#"{"header":{"tr_id":"H0STCNT0","tr_key":"005930"},"body":{"rt_cd":"1","msg_cd":"OPSP0007","msg1":"internal error"}}"#,
        );
        assert_eq!(a.outcome, AckOutcome::Failed);
        assert!(a.cipher.is_none());
    }

    #[test]
    fn rejects_non_control_json() {
        for bad in [
            "",
            "{}",
            "[]",
            "0|H0STCNT0|001|x",
            r#"{"header":{"tr_id":"H0STCNT0"}}"#,
        ] {
            assert!(matches!(parse(bad), Err(ParseError::Control { .. })), "{bad:?}");
        }
    }
}
