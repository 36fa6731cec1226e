//! Property tests: no input makes the realtime parsers panic, and well-formed multi-record frames
//! always yield every record.

use kis::realtime::control;
use kis::realtime::crypto::FrameCipher;
use kis::realtime::frame;
use kis::realtime::messages::{self, Message};
use proptest::prelude::*;

const KEY: &str = "iuheqrmvfxoceaxeyqgjwesozgizmmgx";
const IV: &str = "d59d91fcf9fd0044";

const RECORD: &str = "005930^112616^62700^2^400^0.64^62700.41^62700^63000^62300^62700^62600^125^9694968^607878273600^25807^15918^-9889^93.01^4614191^4291558^1^0.45^63.03^090013^3^0^090646^5^-300^100741^2^400^20230324^20^N^71292^244009^2795345^2044512^0.16^5367918^180.61^0^^62700";

fn cipher(_: &str) -> Option<FrameCipher> {
    FrameCipher::new(KEY, IV).ok()
}

/// Frame-shaped strings: a plausible head and a payload of `^`-joined field-like tokens.
fn frame_like() -> impl Strategy<Value = String> {
    let tr = prop_oneof![
        Just("H0STCNT0".to_owned()),
        Just("H0STASP0".to_owned()),
        Just("H0STCNI0".to_owned()),
        Just("H0STCNI9".to_owned()),
        "[A-Z0-9]{0,9}",
    ];
    let field = prop_oneof![
        "[0-9]{0,8}",
        "-?[0-9]{1,6}\\.[0-9]{2}",
        Just(String::new()),
        "[YN]",
        any::<String>(),
    ];
    ("[0-2]", tr, "[0-9]{0,4}", prop::collection::vec(field, 0..120))
        .prop_map(|(flag, tr, count, fields)| format!("{flag}|{tr}|{count}|{}", fields.join("^")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = frame::split(&text);
        let _ = messages::decode_frame(&text, cipher);
        let _ = control::parse(&text);
        let _ = frame::records("T", 3, &text, 46);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = messages::decode_frame(&text, cipher);
        let _ = control::parse(&text);
        if let Some(c) = cipher("") {
            let _ = c.decrypt("H0STCNI0", &text);
        }
    }

    #[test]
    fn frame_shaped_text_never_panics(text in frame_like()) {
        let _ = messages::decode_frame(&text, cipher);
    }

    #[test]
    fn json_shaped_text_never_panics(
        tr_id in "[A-Z0-9]{0,8}",
        rt_cd in "[0-9]?",
        msg_cd in "(OPSP[0-9]{4})?",
        msg1 in any::<String>(),
        key in "[a-z0-9]{0,40}",
    ) {
        let text = serde_json::json!({
            "header": {"tr_id": tr_id, "tr_key": "005930"},
            "body": {"rt_cd": rt_cd, "msg_cd": msg_cd, "msg1": msg1, "output": {"key": key, "iv": key}}
        })
        .to_string();
        let _ = control::parse(&text);
    }

    #[test]
    fn every_record_of_a_multi_record_frame_is_delivered(
        count in 1usize..=30,
        extra in 0usize..3,
    ) {
        // `extra` trailing fields per record model a newer server with wider records.
        let mut record = RECORD.to_owned();
        for _ in 0..extra {
            record.push_str("^X");
        }
        let payload = vec![record.as_str(); count].join("^");
        let text = format!("0|H0STCNT0|{count:03}|{payload}");
        let msgs = messages::decode_frame(&text, cipher).unwrap();
        prop_assert_eq!(msgs.len(), count);
        prop_assert!(msgs.iter().all(|m| matches!(m, Message::Execution(e) if e.price == 62700)));
    }

    #[test]
    fn a_frame_short_of_one_field_is_rejected(count in 1usize..=10) {
        let payload = vec![RECORD; count].join("^");
        let cut = &payload[..payload.rfind('^').unwrap()];
        let text = format!("0|H0STCNT0|{count:03}|{cut}");
        prop_assert!(messages::decode_frame(&text, cipher).is_err());
    }
}
