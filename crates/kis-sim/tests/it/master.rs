//! The stock master files served at `/common/master/*`, checked against KIS's published layout written
//! out here a second time (widths from the `stocks_info` sample parsers of KIS's open-trading-api and
//! the matching C headers), independently of both the simulator's writer and the client's parser.

use crate::common;

use std::io::{Cursor, Read};

use kis_sim::{Profile, SimConfig};
use serde_json::json;

/// KOSPI tail widths, in the published column order (70 columns, 227 characters).
const KOSPI_WIDTHS: [usize; 70] = [
    2, 1, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 5, 5, 1,
    1, 1, 2, 1, 1, 1, 2, 2, 2, 3, 1, 3, 12, 12, 8, 15, 21, 2, 7, 1, 1, 1, 1, 1, 9, 9, 9, 5, 9, 8, 9, 3, 1, 1,
    1,
];
/// KOSDAQ tail widths (64 columns, 221 characters).
const KOSDAQ_WIDTHS: [usize; 64] = [
    2, 1, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 5, 5, 1, 1, 1, 2, 1, 1,
    1, 2, 2, 2, 3, 1, 3, 12, 12, 8, 15, 21, 2, 7, 1, 1, 1, 1, 9, 9, 9, 5, 9, 8, 9, 3, 1, 1, 1,
];

/// Column indexes (0-based) of the fields checked below, per layout.
struct Idx {
    group: usize,
    base_price: usize,
    halted: usize,
    administrative: usize,
    warning: usize,
    par: usize,
    listing_date: usize,
    shares: usize,
    market_cap: usize,
}
const KOSPI_IDX: Idx = Idx {
    group: 0,
    base_price: 31,
    halted: 34,
    administrative: 36,
    warning: 37,
    par: 48,
    listing_date: 49,
    shares: 50,
    market_cap: 65,
};
const KOSDAQ_IDX: Idx = Idx {
    group: 0,
    base_price: 26,
    halted: 29,
    administrative: 31,
    warning: 32,
    par: 43,
    listing_date: 44,
    shares: 45,
    market_cap: 59,
};

fn columns<'a>(tail: &'a str, widths: &[usize]) -> Vec<&'a str> {
    let mut at = 0;
    widths
        .iter()
        .map(|w| {
            let col = &tail[at..at + w];
            at += w;
            col
        })
        .collect()
}

async fn fetch(url: &str) -> (u16, Vec<u8>) {
    let resp = reqwest::get(url).await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

fn unzip(bytes: &[u8], expected_name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), 1);
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name().unwrap(), expected_name);
    let mut out = Vec::new();
    entry.read_to_end(&mut out).unwrap();
    out
}

#[tokio::test]
async fn master_files_follow_the_published_layout() {
    let server = common::start(common::config(Profile::Real)).await;
    let stocks = server.market().stocks().to_vec();
    for (file, section, widths, idx) in [
        ("kospi_code.mst", "KOSPI", &KOSPI_WIDTHS[..], KOSPI_IDX),
        ("kosdaq_code.mst", "KOSDAQ", &KOSDAQ_WIDTHS[..], KOSDAQ_IDX),
    ] {
        let tail_len: usize = widths.iter().sum();
        let (status, zip) = fetch(&format!("{}/common/master/{file}.zip", server.rest_url())).await;
        assert_eq!(status, 200);
        let raw = unzip(&zip, file);
        assert!(raw.ends_with(b"\n"));
        let lines: Vec<&[u8]> = raw[..raw.len() - 1].split(|&b| b == b'\n').collect();
        let expected: Vec<_> = stocks.iter().filter(|s| s.market.as_str() == section).collect();
        assert_eq!(lines.len(), expected.len(), "{file}: one line per stock");
        for (line, stock) in lines.iter().zip(expected) {
            // cp949 round trip: decodes without error and encodes back to the same bytes.
            let (text, _, bad) = encoding_rs::EUC_KR.decode(line);
            assert!(!bad, "{file}: not cp949");
            let (again, _, _) = encoding_rs::EUC_KR.encode(&text);
            assert_eq!(&again[..], *line);
            // Head: 9 + 12 + 40 bytes, then the ASCII tail.
            assert_eq!(line.len(), 61 + tail_len, "{file} {}", stock.code);
            let (head, tail) = line.split_at(61);
            assert!(tail.is_ascii());
            let tail = std::str::from_utf8(tail).unwrap();
            // The columns are the last characters of the decoded line, as the official parser reads them.
            assert!(text.ends_with(tail));
            let code = std::str::from_utf8(&head[..9]).unwrap();
            assert_eq!(code.trim_end(), stock.code.as_str());
            let isin = std::str::from_utf8(&head[9..21]).unwrap();
            assert!(
                isin.starts_with("KR7") && isin[3..9] == *stock.code.as_str(),
                "{isin}"
            );
            let (name, _, _) = encoding_rs::EUC_KR.decode(&head[21..]);
            assert_eq!(name.trim_end(), stock.name);

            let cols = columns(tail, widths);
            assert_eq!(cols.len(), widths.len());
            // The listing's kind and designations (all off and `ST` for the core's real stocks).
            let yn = |b: bool| if b { "Y" } else { "N" };
            assert_eq!(cols[idx.group], stock.kind.group_code(), "{}", stock.code);
            assert_eq!(cols[idx.halted], yn(stock.flags.halted));
            assert_eq!(cols[idx.administrative], yn(stock.flags.administrative));
            assert_eq!(cols[idx.warning], stock.flags.warning.code());
            if stock.flags == kis_sim::model::Flags::default()
                && stock.kind == kis_sim::model::SecurityKind::Stock
            {
                assert_eq!(
                    (
                        cols[idx.group],
                        cols[idx.halted],
                        cols[idx.administrative],
                        cols[idx.warning]
                    ),
                    ("ST", "N", "N", "00")
                );
            }
            let num = |i: usize| -> u64 { cols[i].parse().unwrap_or_else(|_| panic!("{:?}", cols[i])) };
            assert_eq!(num(idx.par), stock.face_value as u64);
            assert_eq!(num(idx.shares), stock.listed_shares / 1000);
            let base = num(idx.base_price);
            assert!(base > 0 && market::krx::is_on_tick(base as i64), "{base}");
            assert_eq!(num(idx.market_cap), base * stock.listed_shares / 100_000_000);
            let date = cols[idx.listing_date];
            assert!(
                jiff::civil::Date::strptime("%Y%m%d", date).is_ok(),
                "listing date {date:?}"
            );
            for (i, col) in cols.iter().enumerate() {
                assert!(
                    col.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' '),
                    "{file} {} column {i}: {col:?}",
                    stock.code
                );
            }
        }
    }
    assert_eq!(server.stats().master_downloads, 2);
    assert_eq!(server.stats().requests, 0, "the master is not a KIS REST API");
    server.shutdown().await;
}

#[tokio::test]
async fn master_error_fault_answers_500_until_cleared() {
    let server = common::start(SimConfig {
        control: true,
        ..common::config(Profile::Real)
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/common/master/kospi_code.mst.zip", server.rest_url());
    let faults = format!("{}/sim/faults", server.rest_url());
    let (status, state) = common::post(&http, &faults, &json!({"master_error": true})).await;
    assert_eq!(status, 200);
    assert_eq!(state["master_error"], true);
    assert_eq!(fetch(&url).await.0, 500);
    let (_, state) = common::post(&http, &faults, &json!({"master_error": false})).await;
    assert_eq!(state["master_error"], false);
    assert_eq!(fetch(&url).await.0, 200);
    let other = format!("{}/common/master/konex_code.mst.zip", server.rest_url());
    assert_eq!(fetch(&other).await.0, 404);
    assert_eq!(server.stats().master_downloads, 3);
    server.shutdown().await;
}
