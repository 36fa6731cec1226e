//! Realtime data frames: `<encrypted 0|1>|<TR_ID>|<count NNN>|<payload>`.
//!
//! The payload is `^`-separated fields; a frame with `count > 1` simply concatenates its records
//! with `^` (`docs/kis-wire.md` §7.3). [`split`] cuts a frame into its four parts; [`records`] cuts a
//! (decrypted) payload into records of a known width.

use super::error::ParseError;

/// One data frame, borrowed from the text it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Whether the payload is base64 of AES-256-CBC ciphertext (flag `1`).
    pub encrypted: bool,
    pub tr_id: &'a str,
    /// How many records the payload holds (at least 1).
    pub count: usize,
    pub payload: &'a str,
}

/// Whether a text message is a data frame rather than a JSON control message.
pub fn is_data_frame(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b'0' | b'1'))
}

/// Splits a data frame into flag, TR id, record count and payload.
pub fn split(text: &str) -> Result<Frame<'_>, ParseError> {
    let malformed = |reason: &'static str| ParseError::MalformedFrame {
        reason,
        head: head(text),
    };
    let mut parts = text.splitn(4, '|');
    let flag = parts.next().ok_or_else(|| malformed("empty frame"))?;
    let tr_id = parts.next().ok_or_else(|| malformed("no TR id"))?;
    let count = parts.next().ok_or_else(|| malformed("no record count"))?;
    let payload = parts.next().ok_or_else(|| malformed("no payload"))?;
    let encrypted = match flag {
        "0" => false,
        "1" => true,
        _ => return Err(malformed("encryption flag is not 0 or 1")),
    };
    if tr_id.is_empty() || !tr_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(malformed("TR id is not alphanumeric"));
    }
    if count.is_empty() || count.len() > 4 || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("record count is not a number"));
    }
    let count: usize = count
        .parse()
        .map_err(|_| malformed("record count is not a number"))?;
    if count == 0 {
        return Err(malformed("record count is 0"));
    }
    Ok(Frame {
        encrypted,
        tr_id,
        count,
        payload,
    })
}

/// Cuts a plain-text payload into `count` records of at least `fields` fields each.
///
/// The total must be `count × G` for some record width `G ≥ fields`: with `G > fields` (a newer
/// server that appended fields) each record is `G` wide and its first `fields` fields are returned.
/// Anything else — fewer fields than needed, or a total that does not divide evenly — is an error
/// naming the TR, the expected and the received field counts.
pub fn records<'a>(
    tr_id: &str,
    count: usize,
    payload: &'a str,
    fields: usize,
) -> Result<Vec<Vec<&'a str>>, ParseError> {
    let all: Vec<&str> = payload.split('^').collect();
    let got = all.len();
    let wrong = || ParseError::FieldCount {
        tr_id: tr_id.to_owned(),
        count,
        expected: count.saturating_mul(fields),
        got,
    };
    if count == 0 || fields == 0 || !got.is_multiple_of(count) {
        return Err(wrong());
    }
    let width = got / count;
    if width < fields {
        return Err(wrong());
    }
    Ok(all
        .chunks_exact(width)
        .map(|record| record[..fields].to_vec())
        .collect())
}

/// The start of a frame, for error messages (never the whole payload).
fn head(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_four_parts() {
        let f = split("0|H0STCNT0|002|a^b^c^d").unwrap();
        assert_eq!(
            f,
            Frame {
                encrypted: false,
                tr_id: "H0STCNT0",
                count: 2,
                payload: "a^b^c^d"
            }
        );
        assert!(split("1|H0STCNI9|001|Zm9v").unwrap().encrypted);
        // The payload may itself contain '|' only as data; splitn keeps it whole.
        assert_eq!(split("0|X|001|a|b").unwrap().payload, "a|b");
    }

    #[test]
    fn rejects_malformed_heads() {
        for bad in [
            "",
            "0",
            "0|H0STCNT0",
            "0|H0STCNT0|001",
            "2|H0STCNT0|001|x",
            "0||001|x",
            "0|H0STCNT0|abc|x",
            "0|H0STCNT0|000|x",
            "0|H0STCNT0|-01|x",
            "0|H0STCNT0|99999|x",
            "{\"header\":{}}",
        ] {
            assert!(
                matches!(split(bad), Err(ParseError::MalformedFrame { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn records_of_exact_width() {
        let r = records("T", 2, "a^b^c^d^e^f", 3).unwrap();
        assert_eq!(r, vec![vec!["a", "b", "c"], vec!["d", "e", "f"]]);
    }

    #[test]
    fn wider_records_keep_their_first_fields() {
        let r = records("T", 2, "a^b^c^X^d^e^f^Y", 3).unwrap();
        assert_eq!(r, vec![vec!["a", "b", "c"], vec!["d", "e", "f"]]);
    }

    #[test]
    fn inconsistent_totals_are_errors_naming_tr_and_counts() {
        let err = records("H0STCNT0", 4, "005930^123929^73100^5^...", 46).unwrap_err();
        assert_eq!(
            err,
            ParseError::FieldCount {
                tr_id: "H0STCNT0".into(),
                count: 4,
                expected: 184,
                got: 5
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("H0STCNT0") && msg.contains("184") && msg.contains('5'));
        // 7 fields cannot be 2 records.
        assert!(records("T", 2, "a^b^c^d^e^f^g", 3).is_err());
        // Too narrow.
        assert!(records("T", 1, "a^b", 3).is_err());
    }
}
