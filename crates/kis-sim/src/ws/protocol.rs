//! WebSocket control messages (`docs/kis-wire.md` §7.1, 7.2): the client's subscribe/unsubscribe requests and
//! PINGPONG echoes, the server's acks and errors.
//!
//! Error acks use the KIS `OPSP` codes: `OPSP9999` invalid JSON, `OPSP9998` no header, `OPSP9992` no
//! body, `OPSP9991` no input, `OPSP9990` no tr_key, `OPSP9996` no approval key, `OPSP9997` no custtype,
//! `OPSP8998` bad custtype, `OPSP8997` bad tr_type, `OPSP8991` unknown tr_id, `OPSP8992` bad tr_key,
//! `OPSP0011` unknown approval key, `OPSP8996` app key already in use, `OPSP0002` already subscribed,
//! `OPSP0003` not subscribed, `OPSP0008` the 42nd registration of a session.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::Value;

use crate::format::{Obj, write_json_str};

/// Realtime TRs the simulator serves.
pub const TR_EXECUTION: &str = "H0STCNT0";
pub const TR_ORDER_BOOK: &str = "H0STASP0";
/// Execution-notice TRs: accepted (there are no orders in the simulator, so nothing is ever sent).
pub const TR_NOTICES: [&str; 2] = ["H0STCNI0", "H0STCNI9"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Subscribe(Registration),
    Unsubscribe(Registration),
    /// The client echoed a PINGPONG.
    PingPong,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub approval_key: String,
    pub tr_id: String,
    pub tr_key: String,
}

/// An error answer: `(msg_cd, msg1)` with the request's `tr_id`/`tr_key` when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub msg_cd: &'static str,
    pub msg1: &'static str,
    pub tr_id: String,
    pub tr_key: String,
}

impl Refusal {
    pub fn new(msg_cd: &'static str, msg1: &'static str, tr_id: &str, tr_key: &str) -> Refusal {
        Refusal {
            msg_cd,
            msg1,
            tr_id: tr_id.to_string(),
            tr_key: tr_key.to_string(),
        }
    }
}

pub fn parse(text: &str) -> Result<Request, Refusal> {
    let refuse = |code, msg| Refusal::new(code, msg, "", "");
    let value: Value = serde_json::from_str(text)
        .map_err(|_| refuse("OPSP9999", "JSON PARSING ERROR : invalid json format"))?;
    let header = value
        .get("header")
        .and_then(Value::as_object)
        .ok_or_else(|| refuse("OPSP9998", "JSON PARSING ERROR : header not found"))?;
    if header.get("tr_id").and_then(Value::as_str) == Some("PINGPONG") {
        return Ok(Request::PingPong);
    }
    let input = value
        .get("body")
        .ok_or_else(|| refuse("OPSP9992", "JSON PARSING ERROR : body not found"))?
        .get("input")
        .ok_or_else(|| refuse("OPSP9991", "JSON PARSING ERROR : input not found"))?;
    let tr_id = input.get("tr_id").and_then(Value::as_str).unwrap_or("");
    let tr_key = input
        .get("tr_key")
        .and_then(Value::as_str)
        .ok_or_else(|| refuse("OPSP9990", "JSON PARSING ERROR : tr_key not found"))?;
    let here = |code, msg| Refusal::new(code, msg, tr_id, tr_key);
    let approval_key = header
        .get("approval_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| here("OPSP9996", "JSON PARSING ERROR : appkey"))?;
    match header.get("custtype").and_then(Value::as_str) {
        None => return Err(here("OPSP9997", "JSON PARSING ERROR : custtype not found")),
        Some("P" | "B") => {}
        Some(_) => return Err(here("OPSP8998", "JSON PARSING ERROR : invalid custtype")),
    }
    let subscribe = match header.get("tr_type").and_then(Value::as_str) {
        Some("1") => true,
        Some("2") => false,
        _ => return Err(here("OPSP8997", "JSON PARSING ERROR : invalid tr_type")),
    };
    if tr_id != TR_EXECUTION && tr_id != TR_ORDER_BOOK && !TR_NOTICES.contains(&tr_id) {
        return Err(here("OPSP8991", "SUBSCRIBE ERROR : invalid tr_id"));
    }
    let is_stock_tr = tr_id == TR_EXECUTION || tr_id == TR_ORDER_BOOK;
    if tr_key.is_empty() || (is_stock_tr && market::StockCode::parse(tr_key).is_err()) {
        return Err(here("OPSP8992", "SUBSCRIBE ERROR : invalid tr_key"));
    }
    let registration = Registration {
        approval_key: approval_key.to_string(),
        tr_id: tr_id.to_string(),
        tr_key: tr_key.to_string(),
    };
    Ok(if subscribe {
        Request::Subscribe(registration)
    } else {
        Request::Unsubscribe(registration)
    })
}

fn header(tr_id: &str, tr_key: &str, encrypt: bool) -> String {
    let mut o = Obj::with_capacity(80);
    o.text("tr_id", tr_id)
        .text("tr_key", tr_key)
        .text("encrypt", if encrypt { "Y" } else { "N" });
    o.finish()
}

/// The key and iv a subscription ack carries (AES-256-CBC for encrypted TRs; unused for plain ones).
pub fn new_cipher_key() -> (String, String) {
    let mut rng = rand::rng();
    let mut take = |n: usize| -> String {
        (&mut rng)
            .sample_iter(&Alphanumeric)
            .take(n)
            .map(|b| char::from(b).to_ascii_lowercase())
            .collect()
    };
    let iv = take(16);
    let key = take(32);
    (iv, key)
}

/// `OPSP0000 SUBSCRIBE SUCCESS` or `OPSP0001 UNSUBSCRIBE SUCCESS`, with `output.iv`/`output.key`.
pub fn ack(r: &Registration, subscribed: bool, iv: &str, key: &str) -> String {
    let encrypt = TR_NOTICES.contains(&r.tr_id.as_str());
    let mut output = Obj::with_capacity(80);
    output.text("iv", iv).text("key", key);
    let mut body = Obj::with_capacity(160);
    body.text("rt_cd", "0");
    if subscribed {
        body.text("msg_cd", "OPSP0000").text("msg1", "SUBSCRIBE SUCCESS");
    } else {
        body.text("msg_cd", "OPSP0001")
            .text("msg1", "UNSUBSCRIBE SUCCESS");
    }
    body.raw("output", &output.finish());
    let mut o = Obj::with_capacity(300);
    o.raw("header", &header(&r.tr_id, &r.tr_key, encrypt))
        .raw("body", &body.finish());
    o.finish()
}

/// An error answer (`rt_cd "1"`).
pub fn refusal(r: &Refusal) -> String {
    let mut body = Obj::with_capacity(120);
    body.text("rt_cd", "1")
        .text("msg_cd", r.msg_cd)
        .text("msg1", r.msg1);
    let mut o = Obj::with_capacity(240);
    o.raw("header", &header(&r.tr_id, &r.tr_key, false))
        .raw("body", &body.finish());
    o.finish()
}

/// `{"header":{"tr_id":"PINGPONG","datetime":"YYYYMMDDHHMMSS"}}`
pub fn pingpong(datetime: jiff::civil::DateTime) -> String {
    let mut s = String::from("{\"header\":{\"tr_id\":\"PINGPONG\",\"datetime\":");
    let stamp = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        datetime.year(),
        datetime.month(),
        datetime.day(),
        datetime.hour(),
        datetime.minute(),
        datetime.second()
    );
    write_json_str(&mut s, &stamp);
    s.push_str("}}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(tr_type: &str, tr_id: &str, tr_key: &str) -> String {
        format!(
            r#"{{"header":{{"approval_key":"AK","custtype":"P","tr_type":"{tr_type}","content-type":"utf-8"}},"body":{{"input":{{"tr_id":"{tr_id}","tr_key":"{tr_key}"}}}}}}"#
        )
    }

    #[test]
    fn subscribe_and_unsubscribe_parse() {
        let sub = parse(&request("1", "H0STCNT0", "005930")).unwrap();
        assert!(matches!(sub, Request::Subscribe(ref r) if r.tr_key == "005930" && r.approval_key == "AK"));
        assert!(matches!(
            parse(&request("2", "H0STASP0", "005930")).unwrap(),
            Request::Unsubscribe(_)
        ));
        assert_eq!(
            parse(r#"{"header":{"tr_id":"PINGPONG","datetime":"20230101120000"}}"#).unwrap(),
            Request::PingPong
        );
    }

    #[test]
    fn bad_requests_are_refused_with_kis_codes() {
        assert_eq!(parse("{").unwrap_err().msg_cd, "OPSP9999");
        assert_eq!(parse("{}").unwrap_err().msg_cd, "OPSP9998");
        assert_eq!(
            parse(&request("3", "H0STCNT0", "005930")).unwrap_err().msg_cd,
            "OPSP8997"
        );
        assert_eq!(
            parse(&request("1", "H0XXXXX0", "005930")).unwrap_err().msg_cd,
            "OPSP8991"
        );
        assert_eq!(
            parse(&request("1", "H0STCNT0", "59")).unwrap_err().msg_cd,
            "OPSP8992"
        );
    }

    proptest::proptest! {
        /// Arbitrary text (JSON or not) gets a request or a refusal, never a panic.
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}", tr_type in "[0-9]{0,2}", key in "[ -~]{0,10}") {
            let _ = parse(&text);
            let _ = parse(&request(&tr_type, "H0STCNT0", &key.replace(['"', '\\'], "")));
        }
    }

    #[test]
    fn ack_has_the_sample_shape() {
        let r = Registration {
            approval_key: "AK".into(),
            tr_id: "H0STASP0".into(),
            tr_key: "005930".into(),
        };
        let (iv, key) = new_cipher_key();
        let v: Value = serde_json::from_str(&ack(&r, true, &iv, &key)).unwrap();
        assert_eq!(v["header"]["encrypt"], "N");
        assert_eq!(v["body"]["msg_cd"], "OPSP0000");
        assert_eq!(v["body"]["output"]["iv"].as_str().unwrap().len(), 16);
        assert_eq!(v["body"]["output"]["key"].as_str().unwrap().len(), 32);
    }
}
