//! Typed realtime records: [`Execution`] (H0STCNT0), [`OrderBook`] (H0STASP0) and
//! [`ExecutionNotice`] (H0STCNI0 / H0STCNI9). Field positions follow `docs/kis-wire.md` §7.4–7.6.

use jiff::civil::{Date, DateTime, Time};
use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;
use serde::Serialize;

use super::crypto::FrameCipher;
use super::error::ParseError;
use super::fields::Record;
use super::frame;

pub const EXECUTIONS_TR: &str = "H0STCNT0";
pub const ORDER_BOOK_TR: &str = "H0STASP0";
pub const NOTICES_TR_REAL: &str = "H0STCNI0";
pub const NOTICES_TR_VTS: &str = "H0STCNI9";

/// Fields per record of each TR, as documented; wider records are tolerated (see `frame::records`).
pub const EXECUTION_FIELDS: usize = 46;
pub const ORDER_BOOK_FIELDS: usize = 59;
pub const NOTICE_FIELDS: usize = 26;

/// One trade (주식 체결가, H0STCNT0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    pub code: StockCode,
    /// 영업일자 (BSOP_DATE), the business day of the trade.
    pub business_date: Date,
    /// 체결시간, KST.
    pub time: Time,
    pub price: i64,
    pub sign: Sign,
    /// Change from the previous close, negative when the sign is down.
    pub change: i64,
    /// Percent change from the previous close.
    pub change_rate: Decimal,
    /// 가중평균가 (VWAP of the day).
    pub weighted_average_price: Decimal,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub ask1: i64,
    pub bid1: i64,
    /// 체결거래량: the size of this trade.
    pub volume: u64,
    pub acc_volume: u64,
    /// 누적거래대금 in KRW.
    pub acc_turnover: i64,
    pub sell_trades: u64,
    pub buy_trades: u64,
    /// 체결강도.
    pub strength: Decimal,
    pub total_sell_volume: u64,
    pub total_buy_volume: u64,
    pub side: TradeSide,
    /// 매수비율.
    pub buy_rate: Decimal,
    /// 전일거래량대비등락율.
    pub volume_rate_vs_prev_day: Decimal,
    /// 신장운영구분코드 (first digit: 1 before, 2 regular, 3 after hours, 4 extended).
    pub session_code: String,
    pub halted: bool,
    pub ask1_quantity: u64,
    pub bid1_quantity: u64,
    pub total_ask_quantity: u64,
    pub total_bid_quantity: u64,
    /// 시간구분코드 (0 regular session).
    pub hour_class: String,
    /// 정적VI발동기준가, absent when empty.
    pub vi_base_price: Option<i64>,
}

impl Execution {
    /// The trade's KST wall-clock date and time.
    pub fn datetime(&self) -> DateTime {
        self.business_date.to_datetime(self.time)
    }
}

/// 체결구분 (CCLD_DVSN): who took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeSide {
    /// `1`: a buyer hit the ask (매수, shown red).
    Buy,
    /// `5`: a seller hit the bid (매도, shown blue).
    Sell,
    /// `3` (장전) or any other code.
    Other,
}

impl TradeSide {
    fn from_code(code: &str) -> TradeSide {
        match code.trim() {
            "1" => TradeSide::Buy,
            "5" => TradeSide::Sell,
            _ => TradeSide::Other,
        }
    }
}

/// One price level of the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Level {
    pub price: i64,
    pub quantity: u64,
}

/// The 10-level order book (주식 호가, H0STASP0). `asks[0]` and `bids[0]` are the best levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderBook {
    pub code: StockCode,
    /// 영업시간 (KST); the frame carries no date.
    pub time: Time,
    pub hour_class: String,
    pub asks: [Level; 10],
    pub bids: [Level; 10],
    pub total_ask_quantity: u64,
    pub total_bid_quantity: u64,
    pub after_hours_total_ask_quantity: u64,
    pub after_hours_total_bid_quantity: u64,
    /// 예상체결가 (0 during continuous trading).
    pub expected_price: i64,
    pub expected_quantity: u64,
    pub expected_volume: u64,
    pub expected_change: i64,
    pub expected_sign: Sign,
    pub expected_change_rate: Decimal,
    pub acc_volume: u64,
    pub total_ask_quantity_change: i64,
    pub total_bid_quantity_change: i64,
}

/// An order or fill notice for the account (체결통보, H0STCNI0 / H0STCNI9; decrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionNotice {
    pub order_no: String,
    pub original_order_no: String,
    /// 매도매수구분 as sent (commonly `01` sell, `02` buy; unverified).
    pub side_code: String,
    pub code: StockCode,
    /// A fill (`CNTG_YN` = 2) or an order/amend/cancel/reject acceptance (`1`).
    pub kind: NoticeKind,
    /// Filled quantity for a fill; the order quantity for an acceptance.
    pub quantity: u64,
    /// Fill price for a fill; the order price for an acceptance.
    pub price: i64,
    pub time: Time,
    pub refused: bool,
    pub accepted: bool,
    pub order_quantity: Option<i64>,
    pub stock_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Fill,
    Acceptance,
}

/// One typed record of a data frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Message {
    Execution(Execution),
    OrderBook(OrderBook),
    Notice(ExecutionNotice),
}

/// Parses one record of a TR into a [`Message`].
type RecordParser = fn(&str, &[&str]) -> Result<Message, ParseError>;

/// Decodes a whole data frame into its records, every one of them (a frame may carry several).
///
/// `cipher` gives the key of an encrypted TR (from its subscribe ack). One bad record fails the
/// frame: the records of a frame share one field layout, so a bad one means the layout is wrong.
pub fn decode_frame(
    text: &str,
    cipher: impl FnOnce(&str) -> Option<FrameCipher>,
) -> Result<Vec<Message>, ParseError> {
    let f = frame::split(text)?;
    let plain;
    let payload = if f.encrypted {
        let cipher = cipher(f.tr_id).ok_or_else(|| ParseError::NoCipher {
            tr_id: f.tr_id.to_owned(),
        })?;
        plain = cipher.decrypt(f.tr_id, f.payload)?;
        plain.as_str()
    } else {
        f.payload
    };
    let (fields, parse): (usize, RecordParser) = match f.tr_id {
        EXECUTIONS_TR => (EXECUTION_FIELDS, |tr, v| {
            parse_execution(tr, v).map(Message::Execution)
        }),
        ORDER_BOOK_TR => (ORDER_BOOK_FIELDS, |tr, v| {
            parse_order_book(tr, v).map(Message::OrderBook)
        }),
        NOTICES_TR_REAL | NOTICES_TR_VTS => (NOTICE_FIELDS, |tr, v| parse_notice(tr, v).map(Message::Notice)),
        other => {
            return Err(ParseError::UnknownTr {
                tr_id: other.to_owned(),
            });
        }
    };
    frame::records(f.tr_id, f.count, payload, fields)?
        .iter()
        .map(|values| parse(f.tr_id, values))
        .collect()
}

/// Reads an H0STCNT0 record (at least [`EXECUTION_FIELDS`] values).
pub fn parse_execution(tr_id: &str, values: &[&str]) -> Result<Execution, ParseError> {
    let r = Record { tr_id, values };
    let sign = r.sign(3, "PRDY_VRSS_SIGN")?;
    let change = r.int(4, "PRDY_VRSS")?;
    // Some sources send the change unsigned; the sign code is authoritative.
    let change = if sign.is_down() { -change.abs() } else { change };
    Ok(Execution {
        code: r.code(0, "MKSC_SHRN_ISCD")?,
        time: r.time(1, "STCK_CNTG_HOUR")?,
        price: r.int(2, "STCK_PRPR")?,
        sign,
        change,
        change_rate: r.decimal(5, "PRDY_CTRT")?,
        weighted_average_price: r.decimal(6, "WGHN_AVRG_STCK_PRC")?,
        open: r.int(7, "STCK_OPRC")?,
        high: r.int(8, "STCK_HGPR")?,
        low: r.int(9, "STCK_LWPR")?,
        ask1: r.int(10, "ASKP1")?,
        bid1: r.int(11, "BIDP1")?,
        volume: r.uint(12, "CNTG_VOL")?,
        acc_volume: r.uint(13, "ACML_VOL")?,
        acc_turnover: r.int(14, "ACML_TR_PBMN")?,
        sell_trades: r.uint(15, "SELN_CNTG_CSNU")?,
        buy_trades: r.uint(16, "SHNU_CNTG_CSNU")?,
        strength: r.decimal(18, "CTTR")?,
        total_sell_volume: r.uint(19, "SELN_CNTG_SMTN")?,
        total_buy_volume: r.uint(20, "SHNU_CNTG_SMTN")?,
        side: TradeSide::from_code(r.text(21)),
        buy_rate: r.decimal(22, "SHNU_RATE")?,
        volume_rate_vs_prev_day: r.decimal(23, "PRDY_VOL_VRSS_ACML_VOL_RATE")?,
        business_date: r.date(33, "BSOP_DATE")?,
        session_code: r.string(34),
        halted: r.flag(35, "TRHT_YN")?,
        ask1_quantity: r.uint(36, "ASKP_RSQN1")?,
        bid1_quantity: r.uint(37, "BIDP_RSQN1")?,
        total_ask_quantity: r.uint(38, "TOTAL_ASKP_RSQN")?,
        total_bid_quantity: r.uint(39, "TOTAL_BIDP_RSQN")?,
        hour_class: r.string(43),
        vi_base_price: r.opt_int(45, "VI_STND_PRC")?,
    })
}

/// Reads an H0STASP0 record (at least [`ORDER_BOOK_FIELDS`] values).
pub fn parse_order_book(tr_id: &str, values: &[&str]) -> Result<OrderBook, ParseError> {
    let r = Record { tr_id, values };
    let level = |price: usize, qty: usize| -> Result<Level, ParseError> {
        Ok(Level {
            price: r.int(price, "ASKP/BIDP")?,
            quantity: r.uint(qty, "ASKP_RSQN/BIDP_RSQN")?,
        })
    };
    let mut asks = [Level {
        price: 0,
        quantity: 0,
    }; 10];
    let mut bids = asks;
    for i in 0..10 {
        asks[i] = level(3 + i, 23 + i)?;
        bids[i] = level(13 + i, 33 + i)?;
    }
    Ok(OrderBook {
        code: r.code(0, "MKSC_SHRN_ISCD")?,
        time: r.time(1, "BSOP_HOUR")?,
        hour_class: r.string(2),
        asks,
        bids,
        total_ask_quantity: r.uint(43, "TOTAL_ASKP_RSQN")?,
        total_bid_quantity: r.uint(44, "TOTAL_BIDP_RSQN")?,
        after_hours_total_ask_quantity: r.uint(45, "OVTM_TOTAL_ASKP_RSQN")?,
        after_hours_total_bid_quantity: r.uint(46, "OVTM_TOTAL_BIDP_RSQN")?,
        expected_price: r.int(47, "ANTC_CNPR")?,
        expected_quantity: r.uint(48, "ANTC_CNQN")?,
        expected_volume: r.uint(49, "ANTC_VOL")?,
        expected_change: r.int(50, "ANTC_CNTG_VRSS")?,
        expected_sign: r.sign(51, "ANTC_CNTG_VRSS_SIGN")?,
        expected_change_rate: r.decimal(52, "ANTC_CNTG_PRDY_CTRT")?,
        acc_volume: r.uint(53, "ACML_VOL")?,
        total_ask_quantity_change: r.int(54, "TOTAL_ASKP_RSQN_ICDC")?,
        total_bid_quantity_change: r.int(55, "TOTAL_BIDP_RSQN_ICDC")?,
    })
}

/// Reads a decrypted H0STCNI0/H0STCNI9 record (at least [`NOTICE_FIELDS`] values).
pub fn parse_notice(tr_id: &str, values: &[&str]) -> Result<ExecutionNotice, ParseError> {
    let r = Record { tr_id, values };
    let kind = match r.text(13).trim() {
        "2" => NoticeKind::Fill,
        "1" => NoticeKind::Acceptance,
        _ => {
            return Err(ParseError::Field {
                tr_id: tr_id.to_owned(),
                index: 13,
                field: "CNTG_YN",
                value: r.text(13).chars().take(40).collect(),
                expected: "1 or 2",
            });
        }
    };
    Ok(ExecutionNotice {
        order_no: r.string(2),
        original_order_no: r.string(3),
        side_code: r.string(4),
        code: r.code(8, "STCK_SHRN_ISCD")?,
        kind,
        quantity: r.uint(9, "CNTG_QTY")?,
        price: r.int(10, "CNTG_UNPR")?,
        time: r.time(11, "STCK_CNTG_HOUR")?,
        refused: r.text(12).trim() == "1" || r.text(12).trim() == "Y",
        accepted: r.text(14).trim() == "1" || r.text(14).trim() == "Y",
        order_quantity: r.opt_int(16, "ODER_QTY")?,
        stock_name: r.string(24),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &str = "005930^115214^250500^5^-19500^-7.22^257548.62^266000^266500^248500^250500^250000^2^11701513^3013709268750^113664^103131^-10533^60.51^7129195^4313943^1^0.37^73.08^090025^5^-15500^090025^5^-16000^114825^2^2000^20260724^20^N^8930^67892^101158^466092^0.20^8331745^140.44^0^^266000";

    #[test]
    fn execution_fields_land_in_place() {
        let values: Vec<&str> = CAPTURED.split('^').collect();
        let e = parse_execution(EXECUTIONS_TR, &values).unwrap();
        assert_eq!(e.code.as_str(), "005930");
        assert_eq!(e.datetime(), DateTime::constant(2026, 7, 24, 11, 52, 14, 0));
        assert_eq!((e.price, e.sign, e.change), (250500, Sign::Down, -19500));
        assert_eq!(e.change_rate, Decimal::new(-722, 2));
        assert_eq!((e.open, e.high, e.low), (266000, 266500, 248500));
        assert_eq!((e.ask1, e.bid1), (250500, 250000));
        assert_eq!((e.volume, e.acc_volume), (2, 11701513));
        assert_eq!(e.acc_turnover, 3_013_709_268_750);
        assert_eq!(e.side, TradeSide::Buy);
        assert_eq!((e.ask1_quantity, e.bid1_quantity), (8930, 67892));
        assert_eq!(e.vi_base_price, Some(266000));
        assert!(!e.halted);
    }

    #[test]
    fn an_unsigned_change_with_a_down_sign_becomes_negative() {
        let line = CAPTURED.replacen("^-19500^", "^19500^", 1);
        let values: Vec<&str> = line.split('^').collect();
        assert_eq!(parse_execution(EXECUTIONS_TR, &values).unwrap().change, -19500);
    }

    #[test]
    fn a_bad_field_is_named() {
        let line = CAPTURED.replacen("^11701513^", "^lots^", 1);
        let values: Vec<&str> = line.split('^').collect();
        let err = parse_execution(EXECUTIONS_TR, &values).unwrap_err().to_string();
        assert!(err.contains("ACML_VOL") && err.contains("13"), "{err}");
    }

    #[test]
    fn notice_fill() {
        let line =
            "CUST^12345678^0000123^^02^0^00^0^005930^10^71500^093012^0^2^Y^01^10^NAME^^^^^^^삼성전자^71500";
        let values: Vec<&str> = line.split('^').collect();
        let n = parse_notice(NOTICES_TR_REAL, &values).unwrap();
        assert_eq!(n.kind, NoticeKind::Fill);
        assert_eq!((n.quantity, n.price), (10, 71500));
        assert_eq!(n.code.as_str(), "005930");
        assert_eq!(n.stock_name, "삼성전자");
        assert_eq!(n.order_quantity, Some(10));
    }
}
