//! Why a condition fired, in words a person reads: Korean and English, stored with the trigger.

use market::trigger::Trigger;

/// `(korean, english)` for a trigger of `condition` on `name` (`code`).
pub fn describe(name: &str, code: &str, condition: &str, t: &Trigger) -> (String, String) {
    let values = t
        .values
        .iter()
        .map(|(k, v)| format!("{k} = {}", (v * 100.0).round() / 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    let bar = t.bar_time.strftime("%H:%M");
    let ko = format!(
        "{name}({code}) {period}봉 {bar} 봉에서 조건 '{condition}' 충족: 가격 {price}원 ({values})",
        period = t.period,
        price = t.price
    );
    let en = format!(
        "{name} ({code}): '{condition}' became true on the {period} bar of {bar} at {price} KRW ({values})",
        period = t.period,
        price = t.price
    );
    (ko, en)
}
