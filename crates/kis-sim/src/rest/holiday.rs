//! `chk-holiday` (CTCA0903R, also accepted as TCA0903R; 국내휴장일조회; real profile only): from `BASS_DT` on, whether each day is a
//! business, trading, opening and settlement day, from the built-in KRX calendar.

use jiff::ToSpan;
use jiff::civil::Weekday;
use market::krx::Calendar;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, parse_date};
use crate::rest::Reply;
use crate::rest::params::{Params, invalid};
use crate::server::AppState;

/// Days per answer.
pub const DAYS: i64 = 23;

pub fn handle(_state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let raw = p.required("BASS_DT")?;
    let start = parse_date(&raw).ok_or_else(|| invalid("BASS_DT", "expected YYYYMMDD"))?;
    p.get("CTX_AREA_NK")?;
    p.get("CTX_AREA_FK")?;
    let calendar = Calendar::krx();
    let rows = (0..DAYS)
        .filter_map(|i| start.checked_add(i.days()).ok())
        .map(|d| {
            let trading = calendar.is_trading_day(d);
            let weekday = match d.weekday() {
                Weekday::Sunday => "01",
                Weekday::Monday => "02",
                Weekday::Tuesday => "03",
                Weekday::Wednesday => "04",
                Weekday::Thursday => "05",
                Weekday::Friday => "06",
                Weekday::Saturday => "07",
            };
            let yn = |b: bool| if b { "Y" } else { "N" };
            let business = !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
            let mut o = Obj::with_capacity(140);
            o.date("bass_dt", d)
                .text("wday_dvsn_cd", weekday)
                .text("bzdy_yn", yn(business && trading))
                .text("tr_day_yn", yn(business))
                .text("opnd_yn", yn(trading))
                .text("sttl_day_yn", yn(trading));
            o.finish()
        });
    let mut body = ok_body(&[("output", &array(rows))]);
    // KIS puts its paging cursors beside the output.
    body.insert_str(1, "\"ctx_area_nk\":\"\",\"ctx_area_fk\":\"\",");
    Ok(Reply::last(body))
}
