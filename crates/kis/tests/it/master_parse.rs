//! The master parser on real master lines (`testdata/kis/master/`), on synthetic ETF/ETN lines in the
//! published layout, on malformed lines (an error naming the line and the field) and on arbitrary
//! bytes (never a panic).

use std::path::PathBuf;

use jiff::civil::date;
use kis::master::{MarketWarning, MasterError, MasterRecord, parse_master};
use market::search::{Kind, Market};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/kis/master")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kospi() -> Vec<MasterRecord> {
    parse_master(Market::Kospi, &fixture("kospi_code.thirdparty-20260630.mst")).unwrap()
}

#[test]
fn real_kospi_lines() {
    let records = kospi();
    assert_eq!(records.len(), 2);
    let s = &records[0];
    assert_eq!(
        (s.code.as_str(), s.standard_code.as_str(), s.name.as_str()),
        ("005930", "KR7005930003", "삼성전자")
    );
    assert_eq!(
        (s.market, s.group.as_str(), s.kind),
        (Market::Kospi, "ST", Kind::Stock)
    );
    assert_eq!(s.cap_size, Some('1'));
    assert_eq!(s.kospi200_sector, Some('5'), "정보통신");
    assert_eq!(s.base_price, Some(269_000));
    assert_eq!(s.par_value, Some(Decimal::from(100)));
    assert_eq!(s.listing_date, Some(date(1975, 6, 11)));
    assert_eq!(s.listed_shares_thousands, Some(5_846_278));
    assert_eq!(s.market_cap, Some(15_726_489));
    assert!(!s.halted && !s.liquidation && !s.administrative && !s.spac && !s.preferred);
    assert_eq!(s.warning, MarketWarning::None);

    let m = &records[1];
    assert_eq!((m.code.as_str(), m.name.as_str()), ("000040", "KR모터스"));
    assert!(m.administrative, "KR모터스 is a 관리종목 in this file");
    assert_eq!(m.kospi200_sector, None);
    assert_eq!(m.cap_size, Some('3'));
    assert_eq!(m.par_value, Some(Decimal::from(2_500)));
    assert_eq!(m.listing_date, Some(date(1976, 5, 25)));
}

#[test]
fn real_kosdaq_lines() {
    let records = parse_master(Market::Kosdaq, &fixture("kosdaq_code.thirdparty-20260630.mst")).unwrap();
    let names: Vec<_> = records
        .iter()
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("247540", "에코프로비엠"),
            ("0004Y0", "디비금융제14호스팩"),
            ("001000", "신라섬유")
        ]
    );
    let e = &records[0];
    assert_eq!(e.kospi200_sector, None);
    assert_eq!(e.listing_date, Some(date(2019, 3, 5)));
    assert_eq!(e.listed_shares_thousands, Some(97_830));
    assert_eq!(e.market_cap, Some(101_645));
    assert_eq!(e.base_price, Some(103_900));
    assert!(records[1].spac && !records[0].spac);
    assert!(records[2].administrative);
    assert!(
        records
            .iter()
            .all(|r| r.kind == Kind::Stock && r.market == Market::Kosdaq)
    );
}

#[test]
fn etf_and_etn_are_flagged() {
    let records = parse_master(Market::Kospi, &fixture("kospi_code.SYNTHETIC-etf-etn.mst")).unwrap();
    assert_eq!(records[0].name, "KODEX 200");
    assert_eq!((records[0].group.as_str(), records[0].kind), ("EF", Kind::Etf));
    assert_eq!(records[1].kind, Kind::Etn);
    assert_eq!(records[1].name, "신한 인버스 WTI원유 선물 ETN");
}

#[test]
fn crlf_and_a_missing_final_newline_are_accepted() {
    let bytes = fixture("kospi_code.thirdparty-20260630.mst");
    let crlf: Vec<u8> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(&b"\r\n"[..]);
    assert_eq!(parse_master(Market::Kospi, &crlf).unwrap(), kospi());
}

/// The KOSPI fixture with `bytes` written over line `line` (1-based) from tail column offset `offset`
/// (a negative offset reaches into the head).
fn corrupt(line: usize, offset: isize, bytes: &[u8]) -> Vec<u8> {
    let fixture = fixture("kospi_code.thirdparty-20260630.mst");
    let mut lines: Vec<Vec<u8>> = fixture
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let l = &mut lines[line - 1];
    let at = (l.len() as isize - 227 + offset) as usize;
    l[at..at + bytes.len()].copy_from_slice(bytes);
    lines.join(&b'\n')
}

#[test]
fn malformed_lines_name_the_line_and_the_field() {
    // 거래정지 starts at offset 60 of the 227-character KOSPI tail.
    let err = parse_master(Market::Kospi, &corrupt(2, 60, b"X")).unwrap_err();
    assert!(
        matches!(
            err,
            MasterError::Field {
                line: 2,
                field: "거래정지",
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("kospi_code.mst line 2") && msg.contains("거래정지"),
        "{msg}"
    );

    // 상장일자 (offset 105) with month 13.
    let err = parse_master(Market::Kospi, &corrupt(1, 105, b"19751311")).unwrap_err();
    assert!(
        matches!(
            err,
            MasterError::Field {
                line: 1,
                field: "상장일자",
                reason: "not a calendar date",
                ..
            }
        ),
        "{err:?}"
    );
    // 기준가 (offset 41) with a letter.
    let err = parse_master(Market::Kospi, &corrupt(1, 41, b"00026900A")).unwrap_err();
    assert!(
        matches!(
            err,
            MasterError::Field {
                field: "기준가", ..
            }
        ),
        "{err:?}"
    );
    // The ISIN (head bytes 9..21; the head is 61 bytes) with a space in it.
    let err = parse_master(Market::Kospi, &corrupt(1, -46, b" ")).unwrap_err();
    assert!(matches!(err, MasterError::Field { line: 1, .. }), "{err:?}");

    // A truncated line.
    let mut short = fixture("kospi_code.thirdparty-20260630.mst");
    short.truncate(100);
    let err = parse_master(Market::Kospi, &short).unwrap_err();
    assert!(matches!(err, MasterError::TooShort { line: 1, .. }), "{err:?}");

    // A KOSDAQ file read as KOSPI is misaligned: its fields land on the wrong columns.
    assert!(parse_master(Market::Kospi, &fixture("kosdaq_code.thirdparty-20260630.mst")).is_err());

    // Bytes that are not cp949 (0xFF is never a lead byte).
    let err = parse_master(Market::Kospi, &corrupt(1, -30, &[0xFF])).unwrap_err();
    assert!(matches!(err, MasterError::Encoding { line: 1, .. }), "{err:?}");
}

#[test]
fn records_become_listings() {
    let records = kospi();
    let index = market::search::StockIndex::new(records.iter().map(MasterRecord::listing));
    let hits = index.search("ㅅㅅㅈㅈ", 5).unwrap();
    assert_eq!(hits[0].code, "005930");
    assert_eq!(index.get("000040").unwrap().market_cap, Some(226));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let _ = parse_master(Market::Kospi, &bytes);
        let _ = parse_master(Market::Kosdaq, &bytes);
    }

    #[test]
    fn mutated_real_lines_never_panic(at in 0usize..577, byte in any::<u8>()) {
        let mut bytes = fixture("kospi_code.thirdparty-20260630.mst");
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Ok(records) = parse_master(Market::Kospi, &bytes) {
            prop_assert!(records.len() <= 3);
        }
    }
}
