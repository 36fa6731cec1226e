//! A master file (cp949 bytes) → [`MasterRecord`]s, every line checked.
//!
//! Lines are split on `\n` *before* decoding (a cp949 trail byte is never `0x0A`, so this is safe),
//! a trailing `\r` is dropped and empty lines are skipped. Each line is decoded strictly: a byte
//! sequence that is not cp949 is an error for that line, not a replacement character.
//!
//! The official parser slices the *decoded* line (Python string slicing counts characters): the head
//! is `line[:-228]`, the tail `line[-228:]` for KOSPI (222 for KOSDAQ), with the line still carrying
//! its `\n`. So the fixed-width columns are the last 227 (221) characters of a line without its line
//! break, and their widths add up to exactly that. Every column holds ASCII, so there characters and
//! bytes coincide; they differ only in the head, whose Korean name is a fixed 40 bytes of cp949 in
//! KIS's files (every line of a file has the same byte length: 288 for KOSPI, 282 for KOSDAQ) but a
//! varying number of characters. Reading the head as "everything before the tail" works either way.

use jiff::civil::Date;
use market::search::{Kind, Market};
use rust_decimal::Decimal;

use super::MasterError;
use super::layout::{self, Layout, Span};
use super::record::{MarketWarning, MasterRecord};

/// Code (9) + standard code (12) characters before the name.
const NAME_START: usize = 21;

/// Every record of one market's master file, in file order. The first malformed line is an error
/// naming the file, the line (1-based) and the field.
pub fn parse_master(market: Market, bytes: &[u8]) -> Result<Vec<MasterRecord>, MasterError> {
    let layout = layout::of(market);
    let mut records = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let line = i + 1;
        let text = encoding_rs::EUC_KR
            .decode_without_bom_handling_and_without_replacement(raw)
            .ok_or(MasterError::Encoding { market, line })?;
        records.push(parse_line(market, layout, line, &text)?);
    }
    Ok(records)
}

/// The byte offset of character `n` of `s` (or `None` past the end).
fn char_offset(s: &str, n: usize) -> Option<usize> {
    s.char_indices().map(|(i, _)| i).chain([s.len()]).nth(n)
}

fn parse_line(market: Market, layout: &Layout, line: usize, text: &str) -> Result<MasterRecord, MasterError> {
    let chars = text.chars().count();
    let need = NAME_START + 1 + layout.tail_len;
    if chars < need {
        return Err(MasterError::TooShort {
            market,
            line,
            chars,
            need,
        });
    }
    let split = char_offset(text, chars - layout.tail_len).unwrap_or(text.len());
    let (head, tail) = text.split_at(split);
    let field = |column: &'static str, value: &str, reason: &'static str| MasterError::Field {
        market,
        line,
        field: column,
        value: value.to_owned(),
        reason,
    };
    if !tail.is_ascii() {
        return Err(field(
            "tail",
            tail,
            "the fixed-width columns must be ASCII (misaligned line?)",
        ));
    }
    let code_end = char_offset(head, 9).unwrap_or(head.len());
    let isin_end = char_offset(head, NAME_START).unwrap_or(head.len());
    let code = head[..code_end].trim_end();
    if code.is_empty() || code.len() > 9 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(field(
            "단축코드 (short code)",
            code,
            "expected 1 to 9 letters or digits",
        ));
    }
    let isin = head[code_end..isin_end].trim_end();
    if isin.len() != 12 || !isin.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(field(
            "표준코드 (standard code)",
            isin,
            "expected 12 letters or digits (an ISIN)",
        ));
    }
    let name = head[isin_end..].trim();
    if name.is_empty() {
        return Err(field("한글명 (Korean name)", name, "empty"));
    }

    let cols = Columns { tail, market, line };
    let group = cols.get(layout.group).trim();
    if group.is_empty() || !group.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(cols.error(layout.group, "expected a security group code such as ST or EF"));
    }
    let etp = cols.code_char(layout.etp)?;
    let mut kind = Kind::from_group_code(group);
    if matches!(etp, Some('3' | '4')) {
        // ETP 상품구분코드 3: ETN, 4: 손실제한 ETN.
        kind = Kind::Etn;
    }
    let kospi200_sector = match layout.kospi200_sector {
        Some(span) => cols.code_char(span)?.filter(|&c| c != '0'),
        None => None,
    };
    Ok(MasterRecord {
        market,
        code: code.to_owned(),
        standard_code: isin.to_owned(),
        name: name.to_owned(),
        group: group.to_owned(),
        kind,
        cap_size: cols.code_char(layout.cap_size)?.filter(|&c| c != '0'),
        kospi200_sector,
        base_price: cols.number(layout.base_price)?,
        par_value: cols.decimal(layout.par_value)?,
        listing_date: cols.date(layout.listing_date)?,
        listed_shares_thousands: cols.number(layout.listed_shares)?,
        market_cap: cols.number(layout.market_cap)?,
        halted: cols.flag(layout.halted)?,
        liquidation: cols.flag(layout.liquidation)?,
        administrative: cols.flag(layout.administrative)?,
        warning: cols.warning(layout.warning)?,
        warning_notice: cols.flag(layout.warning_notice)?,
        unfaithful_disclosure: cols.flag(layout.unfaithful_disclosure)?,
        short_term_overheat: cols.code_char(layout.overheat)?.is_some_and(|c| c != '0'),
        spac: cols.flag(layout.spac)?,
        preferred: cols.code_char(layout.preferred)?.is_some_and(|c| c != '0'),
    })
}

/// The tail of one line, read column by column.
struct Columns<'a> {
    tail: &'a str,
    market: Market,
    line: usize,
}

impl<'a> Columns<'a> {
    fn get(&self, span: Span) -> &'a str {
        // The tail is ASCII and exactly `tail_len` long, and every span lies inside it.
        self.tail
            .get(span.start..span.start + span.column.width)
            .unwrap_or("")
    }

    fn error(&self, span: Span, reason: &'static str) -> MasterError {
        MasterError::Field {
            market: self.market,
            line: self.line,
            field: span.column.name,
            value: self.get(span).to_owned(),
            reason,
        }
    }

    /// `Y` → true; `N` or blank → false.
    fn flag(&self, span: Span) -> Result<bool, MasterError> {
        match self.get(span) {
            "Y" => Ok(true),
            "N" | " " => Ok(false),
            _ => Err(self.error(span, "expected Y, N or blank")),
        }
    }

    /// A one-character code (letter or digit); blank → `None`.
    fn code_char(&self, span: Span) -> Result<Option<char>, MasterError> {
        match self.get(span).chars().next() {
            Some(' ') | None => Ok(None),
            Some(c) if c.is_ascii_alphanumeric() => Ok(Some(c)),
            Some(_) => Err(self.error(span, "expected a letter or digit")),
        }
    }

    /// Zero-padded digits; blank → `None`.
    fn number(&self, span: Span) -> Result<Option<u64>, MasterError> {
        let v = self.get(span).trim();
        if v.is_empty() {
            return Ok(None);
        }
        if !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(span, "expected digits"));
        }
        v.parse()
            .map(Some)
            .map_err(|_| self.error(span, "number out of range"))
    }

    /// Digits with an optional decimal point (a par value below 1 KRW is possible for foreign
    /// shares); blank → `None`.
    fn decimal(&self, span: Span) -> Result<Option<Decimal>, MasterError> {
        let v = self.get(span).trim();
        if v.is_empty() {
            return Ok(None);
        }
        if !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(self.error(span, "expected a decimal number"));
        }
        v.parse()
            .map(Some)
            .map_err(|_| self.error(span, "expected a decimal number"))
    }

    /// `YYYYMMDD`; blank or all zeros → `None`.
    fn date(&self, span: Span) -> Result<Option<Date>, MasterError> {
        let v = self.get(span).trim();
        if v.is_empty() || v.bytes().all(|b| b == b'0') {
            return Ok(None);
        }
        if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(span, "expected a date YYYYMMDD"));
        }
        let (y, m, d) = (&v[..4], &v[4..6], &v[6..]);
        let date = (|| Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok())();
        date.map(Some)
            .ok_or_else(|| self.error(span, "not a calendar date"))
    }

    /// 시장경고 구분: `00` none, `01` 투자주의, `02` 투자경고, `03` 투자위험.
    fn warning(&self, span: Span) -> Result<MarketWarning, MasterError> {
        match self.get(span) {
            "00" | "  " => Ok(MarketWarning::None),
            "01" => Ok(MarketWarning::Caution),
            "02" => Ok(MarketWarning::Warning),
            "03" => Ok(MarketWarning::Risk),
            _ => Err(self.error(span, "expected 00, 01, 02 or 03")),
        }
    }
}
