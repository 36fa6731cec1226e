//! The stock master files (종목 마스터) for the simulated stocks, served where KIS publishes its own:
//! `GET /common/master/kospi_code.mst.zip` and `GET /common/master/kosdaq_code.mst.zip` (KIS's download
//! host uses the same path under its own host). No token, no rate limit, as at KIS.
//!
//! Each zip holds one file (`kospi_code.mst` / `kosdaq_code.mst`), text in cp949, one stock per line
//! (`\n`-terminated):
//!
//! * a head of 61 bytes: the short code left-aligned in 9, the standard code (ISIN) in 12, the Korean
//!   name left-aligned in 40 bytes of cp949 (a Hangul syllable takes 2 bytes);
//! * a fixed-width tail of ASCII columns, 227 characters for KOSPI and 221 for KOSDAQ, in the order
//!   and widths of KIS's published layout (the `stocks_info` sample parsers of KIS's open-trading-api
//!   repository and the matching C headers). The tables below name every column.
//!
//! The values are the simulator's, for every listing of the universe (`model::universe`): the group code
//! (`ST` shares and SPACs, `EF` ETFs with ETP class `2`, `EN` ETNs with ETP class `3`, `RT` REITs); the
//! base price (기준가) is today's previous close — the stock's level on the first simulated session,
//! where the anchored history ends, so nothing is generated to write it; on later sessions the
//! stock's own previous close — the previous day's volume is the stock's typical daily volume, the
//! par value and listed shares come from the listing, the market cap from both; 시가총액규모 and
//! KOSPI200 / KOSDAQ150 membership from market-cap ranks; 거래정지, 정리매매, 관리종목, 시장경고,
//! 위험예고, 불성실공시, 단기과열, SPAC and 우선주 from the listing's designations, and 증거금 100% with
//! no credit for a designated stock. The ISIN is `KR7` + code + `00` + its ISIN check digit (what KRX
//! issues for ordinary shares; a preferred share's or an ETN's real ISIN differs). Industry index codes
//! are `0000`.
//!
//! This writer keeps its own copy of the layout on purpose: the client's parser (`kis::master`) is
//! tested against these files, so sharing a table would let one mistake hide in both.

use std::io::{Cursor, Write};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use zip::write::SimpleFileOptions;

use crate::model::{Market, MarketKind, Preferred, SecurityKind, StockInfo};
use crate::server::AppState;
use crate::stats::Counters;

/// `GET /common/master/{file}`: the zip, or 404 for another name, or 500 while the `master_error`
/// fault is set (`POST /sim/faults {"master_error":true}`). Every request is counted in
/// `master_downloads`.
pub(crate) async fn download(State(state): State<Arc<AppState>>, Path(file): Path<String>) -> Response {
    Counters::inc(&state.counters.master_downloads);
    if state.faults.master_error() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "master download failed (injected)",
        )
            .into_response();
    }
    let Some(section) = market_of_zip(&file) else {
        return (StatusCode::NOT_FOUND, format!("no master file {file:?}")).into_response();
    };
    let body = master_zip(&state.market, section);
    ([(header::CONTENT_TYPE, "application/zip")], body).into_response()
}

/// A column of the tail: its name in KIS's layout, its width and the value written when the simulator
/// sets nothing.
struct Column {
    name: &'static str,
    width: usize,
    fill: &'static str,
}

const fn c(name: &'static str, width: usize, fill: &'static str) -> Column {
    Column { name, width, fill }
}

/// KOSPI tail (227 characters).
#[rustfmt::skip]
const KOSPI: &[Column] = &[
    c("그룹코드", 2, "ST"), c("시가총액규모", 1, "0"), c("지수업종대분류", 4, "0"), c("지수업종중분류", 4, "0"),
    c("지수업종소분류", 4, "0"), c("제조업", 1, "N"), c("저유동성", 1, "N"), c("지배구조지수종목", 1, "N"),
    c("KOSPI200섹터업종", 1, "0"), c("KOSPI100", 1, "N"), c("KOSPI50", 1, "N"), c("KRX", 1, "N"), c("ETP", 1, " "),
    c("ELW발행", 1, "N"), c("KRX100", 1, "N"), c("KRX자동차", 1, "N"), c("KRX반도체", 1, "N"), c("KRX바이오", 1, "N"),
    c("KRX은행", 1, "N"), c("SPAC", 1, "N"), c("KRX에너지화학", 1, "N"), c("KRX철강", 1, "N"), c("단기과열", 1, "0"),
    c("KRX미디어통신", 1, "N"), c("KRX건설", 1, "N"), c("Non1", 1, "N"), c("KRX증권", 1, "N"), c("KRX선박", 1, "N"),
    c("KRX섹터_보험", 1, "N"), c("KRX섹터_운송", 1, "N"), c("SRI", 1, "N"), c("기준가", 9, "0"), c("매매수량단위", 5, "00001"),
    c("시간외수량단위", 5, "00001"), c("거래정지", 1, "N"), c("정리매매", 1, "N"), c("관리종목", 1, "N"), c("시장경고", 2, "00"),
    c("경고예고", 1, "N"), c("불성실공시", 1, "N"), c("우회상장", 1, "N"), c("락구분", 2, "00"), c("액면변경", 2, "00"),
    c("증자구분", 2, "00"), c("증거금비율", 3, "040"), c("신용가능", 1, "Y"), c("신용기간", 3, "090"), c("전일거래량", 12, "0"),
    c("액면가", 12, "0"), c("상장일자", 8, "0"), c("상장주수", 15, "0"), c("자본금", 21, "0"), c("결산월", 2, "12"),
    c("공모가", 7, " "), c("우선주", 1, "0"), c("공매도과열", 1, "N"), c("이상급등", 1, "N"), c("KRX300", 1, "N"),
    c("KOSPI", 1, "Y"), c("매출액", 9, "0"), c("영업이익", 9, "0"), c("경상이익", 9, "0"), c("당기순이익", 5, "0"),
    c("ROE", 9, "0"), c("기준년월", 8, "0"), c("시가총액", 9, "0"), c("그룹사코드", 3, " "), c("회사신용한도초과", 1, "N"),
    c("담보대출가능", 1, "N"), c("대주가능", 1, "N"),
];

/// KOSDAQ tail (221 characters).
#[rustfmt::skip]
const KOSDAQ: &[Column] = &[
    c("그룹코드", 2, "ST"), c("시가총액규모", 1, "0"), c("지수업종대분류", 4, "0"), c("지수업종중분류", 4, "0"),
    c("지수업종소분류", 4, "0"), c("벤처기업", 1, "N"), c("저유동성", 1, "N"), c("KRX", 1, "N"), c("ETP", 1, " "),
    c("KRX100", 1, "N"), c("KRX자동차", 1, "N"), c("KRX반도체", 1, "N"), c("KRX바이오", 1, "N"), c("KRX은행", 1, "N"),
    c("SPAC", 1, "N"), c("KRX에너지화학", 1, "N"), c("KRX철강", 1, "N"), c("단기과열", 1, "0"), c("KRX미디어통신", 1, "N"),
    c("KRX건설", 1, "N"), c("투자주의환기", 1, "N"), c("KRX증권", 1, "N"), c("KRX선박", 1, "N"), c("KRX섹터_보험", 1, "N"),
    c("KRX섹터_운송", 1, "N"), c("KOSDAQ150", 1, "N"), c("기준가", 9, "0"), c("매매수량단위", 5, "00001"),
    c("시간외수량단위", 5, "00001"), c("거래정지", 1, "N"), c("정리매매", 1, "N"), c("관리종목", 1, "N"), c("시장경고", 2, "00"),
    c("경고예고", 1, "N"), c("불성실공시", 1, "N"), c("우회상장", 1, "N"), c("락구분", 2, "00"), c("액면변경", 2, "00"),
    c("증자구분", 2, "00"), c("증거금비율", 3, "040"), c("신용가능", 1, "Y"), c("신용기간", 3, "090"), c("전일거래량", 12, "0"),
    c("액면가", 12, "0"), c("상장일자", 8, "0"), c("상장주수", 15, "0"), c("자본금", 21, "0"), c("결산월", 2, "12"),
    c("공모가", 7, " "), c("우선주", 1, "0"), c("공매도과열", 1, "N"), c("이상급등", 1, "N"), c("KRX300", 1, "N"),
    c("매출액", 9, "0"), c("영업이익", 9, "0"), c("경상이익", 9, "0"), c("당기순이익", 5, "0"), c("ROE", 9, "0"),
    c("기준년월", 8, "0"), c("시가총액", 9, "0"), c("그룹사코드", 3, " "), c("회사신용한도초과", 1, "N"),
    c("담보대출가능", 1, "N"), c("대주가능", 1, "N"),
];

/// The file name inside the zip and of the zip itself (`kospi_code.mst`, `kospi_code.mst.zip`).
pub fn file_name(market: MarketKind) -> &'static str {
    match market {
        MarketKind::Kospi => "kospi_code.mst",
        MarketKind::Kosdaq => "kosdaq_code.mst",
    }
}

/// The market a requested zip name stands for.
pub fn market_of_zip(name: &str) -> Option<MarketKind> {
    [MarketKind::Kospi, MarketKind::Kosdaq]
        .into_iter()
        .find(|&m| name.strip_suffix(".zip") == Some(file_name(m)))
}

/// The master file (cp949 bytes) of every simulated listing on `section`, in the universe's order.
pub fn master_file(market: &Market, section: MarketKind) -> Vec<u8> {
    let year = market.trading_date().year();
    let mut out = Vec::new();
    for stock in market.stocks().iter().filter(|s| s.market == section) {
        let base = market.base_price(&stock.code).unwrap_or(0);
        let prev_volume = market.typical_volume(&stock.code).unwrap_or(0);
        out.extend(line(stock, base, prev_volume, year));
        out.push(b'\n');
    }
    out
}

/// The zip KIS would serve: one deflated entry named [`file_name`].
pub fn master_zip(market: &Market, section: MarketKind) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // Writing to memory cannot fail.
    let written = zip
        .start_file(file_name(section), options)
        .and_then(|()| Ok(zip.write_all(&master_file(market, section))?))
        .and_then(|()| zip.finish());
    match written {
        Ok(cursor) => cursor.into_inner(),
        Err(err) => {
            tracing::error!(%err, "cannot build the master zip");
            Vec::new()
        }
    }
}

/// One record: head (61 bytes of cp949) and tail.
fn line(stock: &StockInfo, base: i64, prev_volume: u64, year: i16) -> Vec<u8> {
    let code = stock.code.as_str();
    let (name, _, _) = encoding_rs::EUC_KR.encode(stock.name);
    let mut out = format!("{code:<9}{}", isin(code)).into_bytes();
    out.extend_from_slice(&name[..name.len().min(40)]);
    out.resize(61, b' ');
    out.extend(tail(stock, base, prev_volume, year).into_bytes());
    out
}

fn tail(stock: &StockInfo, base: i64, prev_volume: u64, year: i16) -> String {
    let shares = stock.listed_shares;
    let base = base.max(0) as u64;
    let face = stock.face_value.max(0) as u64;
    // 억원.
    let cap = base.saturating_mul(shares) / 100_000_000;
    let columns: &[Column] = match stock.market {
        MarketKind::Kospi => KOSPI,
        MarketKind::Kosdaq => KOSDAQ,
    };
    let f = stock.flags;
    let shares_kind = stock.kind == SecurityKind::Stock;
    let ordinary = shares_kind && f.preferred == Preferred::No && !f.spac;
    let large = stock.cap_size == 1;
    let yes = |b: bool| if b { "Y" } else { "N" }.to_string();
    let set = |name: &str| -> Option<String> {
        Some(match name {
            "그룹코드" => stock.kind.group_code().to_string(),
            "시가총액규모" => stock.cap_size.to_string(),
            "KOSPI200섹터업종" if stock.index_member => kospi200_sector(stock.sector).to_string(),
            "KOSPI200섹터업종" => "0".to_string(),
            "KOSPI100" => yes(ordinary && large),
            "KOSPI50" => yes(ordinary && large && stock.index_member && cap >= 100_000),
            "KOSDAQ150" => yes(stock.index_member),
            "KRX" | "KRX300" => yes(ordinary && large),
            "ETP" => match stock.kind {
                SecurityKind::Etf => "2",
                SecurityKind::Etn => "3",
                _ => " ",
            }
            .to_string(),
            "SPAC" => yes(f.spac),
            "단기과열" => if f.overheated { "1" } else { "0" }.to_string(),
            "거래정지" => yes(f.halted),
            "정리매매" => yes(f.liquidation),
            "관리종목" => yes(f.administrative),
            "시장경고" => f.warning.code().to_string(),
            "경고예고" => yes(f.warning_notice),
            "불성실공시" => yes(f.unfaithful_disclosure),
            "증거금비율" => if f.restricted() { "100" } else { "040" }.to_string(),
            "신용가능" => yes(!f.restricted() && shares_kind),
            "우선주" => f.preferred.code().to_string(),
            "KOSPI" => yes(stock.market == MarketKind::Kospi && shares_kind),
            "기준가" => base.to_string(),
            "전일거래량" => prev_volume.to_string(),
            "액면가" => face.to_string(),
            "상장일자" => stock.listing_date.strftime("%Y%m%d").to_string(),
            "상장주수" => (shares / 1000).to_string(),
            "자본금" => face.saturating_mul(shares).to_string(),
            "기준년월" => format!("{}1231", year - 1),
            "시가총액" => cap.to_string(),
            _ => return None,
        })
    };
    let mut out = String::with_capacity(228);
    for col in columns {
        match set(col.name) {
            Some(v) if v.len() <= col.width => {
                let pad = if v.bytes().all(|b| b.is_ascii_digit()) {
                    '0'
                } else {
                    ' '
                };
                out.extend(std::iter::repeat_n(pad, col.width - v.len()));
                out.push_str(&v);
            }
            // A number too wide for its column saturates (never happens for the simulated table).
            Some(_) => out.extend(std::iter::repeat_n('9', col.width)),
            None if col.fill.len() == col.width => out.push_str(col.fill),
            None => out.extend(std::iter::repeat_n(col.fill, col.width)),
        }
    }
    out
}

/// KOSPI200 섹터업종 (the header's codes): 1 건설, 2 중공업, 3 철강소재, 4 에너지화학, 5 정보통신, 6 금융,
/// 7 필수소비재, 8 자유소비재, 9 산업재, A 건강관리, B 커뮤니케이션서비스.
fn kospi200_sector(sector: &str) -> char {
    match sector {
        "건설" => '1',
        "조선" | "기계" | "로봇" => '2',
        "철강" | "비철금속" | "제지" => '3',
        "화학" | "정유" | "2차전지" => '4',
        "반도체" | "반도체장비" | "반도체소재" | "반도체부품" | "전자" | "전자부품" | "IT서비스"
        | "소프트웨어" | "통신장비" => '5',
        "금융" | "보험" | "증권" | "지주" => '6',
        "식품" | "담배" | "유통" => '7',
        "자동차" | "자동차부품" | "화장품" | "엔터" | "섬유의복" | "레저" | "교육" => {
            '8'
        }
        "방산" | "해운" | "운송" | "전력" | "가스" => '9',
        "바이오" | "제약" | "의료기기" => 'A',
        "인터넷" | "게임" | "통신" | "미디어" => 'B',
        _ => '0',
    }
}

/// `KR7` + code + `00` + the ISIN check digit (letters count as 10..35, then the Luhn check).
pub fn isin(code: &str) -> String {
    let body = format!("KR7{code}00");
    let digits: Vec<u32> = body
        .chars()
        .flat_map(|c| {
            let v = c.to_digit(36).unwrap_or(0);
            if v >= 10 { vec![v / 10, v % 10] } else { vec![v] }
        })
        .collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_published_widths() {
        assert_eq!(KOSPI.iter().map(|c| c.width).sum::<usize>(), 227);
        assert_eq!(KOSDAQ.iter().map(|c| c.width).sum::<usize>(), 221);
        assert_eq!((KOSPI.len(), KOSDAQ.len()), (70, 64));
        for col in KOSPI.iter().chain(KOSDAQ) {
            assert!(col.fill.len() == col.width || col.fill.len() == 1, "{}", col.name);
        }
    }

    #[test]
    fn isin_check_digits_match_real_ones() {
        // Published ISINs of 삼성전자, SK하이닉스, NAVER, 에코프로비엠.
        assert_eq!(isin("005930"), "KR7005930003");
        assert_eq!(isin("000660"), "KR7000660001");
        assert_eq!(isin("035420"), "KR7035420009");
        assert_eq!(isin("247540"), "KR7247540008");
    }

    #[test]
    fn zip_names() {
        assert_eq!(market_of_zip("kospi_code.mst.zip"), Some(MarketKind::Kospi));
        assert_eq!(market_of_zip("kosdaq_code.mst.zip"), Some(MarketKind::Kosdaq));
        assert_eq!(market_of_zip("konex_code.mst.zip"), None);
        assert_eq!(market_of_zip("kospi_code.mst"), None);
    }
}
