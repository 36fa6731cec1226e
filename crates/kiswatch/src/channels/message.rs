//! The alert as a person reads it on a lock screen: Korean, the stock's name and code, the
//! condition, the bar (period, date, time), the price and 등락률, the values that made it true (moving
//! averages in 20/60/120/240 order) and a link to the stock page at the public base URL — rendered
//! for each provider with its own formatting and escaping:
//!
//! * Telegram: HTML (`parse_mode: "HTML"`): `&`, `<`, `>` (and `"` in a link) escaped, so a name
//!   such as `<주>&B` cannot open a tag or an entity.
//! * Discord: an embed (title, link, fields); markdown characters in text escaped with `\`, mentions
//!   disabled (`allowed_mentions`).
//! * Slack: Block Kit (a `header`, `section` fields in `mrkdwn`), `&`, `<`, `>` escaped as Slack
//!   asks; `text` is the notification's fallback.
//! * ntfy, e-mail, Web Push: plain text (title and body), nothing to escape.
//!
//! A burst bigger than a channel's rate becomes one [`Summary`] listing the stocks.

use serde_json::{Value, json};

use crate::contract::{ScanEvent, ScanEventKind, Trigger};

/// The most stocks a summary lists by name (the rest are counted).
pub const SUMMARY_LISTED: usize = 25;

/// One alert, ready to be rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub name: String,
    pub code: String,
    pub condition: String,
    /// `30분봉`, `일봉` …
    pub period: String,
    /// `2026-11-27 10:30` (a date alone for D/W/M).
    pub bar: String,
    pub price: i64,
    /// 등락률 against the previous session's close, in percent.
    pub rate: Option<f64>,
    /// `(label, formatted value)`, moving averages first by window.
    pub values: Vec<(String, String)>,
    pub late: bool,
    pub url: String,
}

/// A period as Korean traders say it.
pub fn period_ko(period: &str) -> String {
    match period {
        "D" => "일봉".into(),
        "W" => "주봉".into(),
        "M" => "월봉".into(),
        p => match p.strip_suffix('m') {
            Some(n) => format!("{n}분봉"),
            None => p.to_string(),
        },
    }
}

/// `71,000`
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn value_text(v: f64) -> String {
    if v.abs() >= 100.0 {
        thousands(v.round() as i64)
    } else {
        format!("{:.2}", v)
    }
}

/// The window of `ma(20)`-like labels.
fn window(label: &str) -> Option<u32> {
    label.strip_prefix("ma(")?.strip_suffix(')')?.parse().ok()
}

impl Alert {
    /// The alert of a stored trigger; `prev_close`: the previous session's close (for 등락률);
    /// `base`: the public base URL of the web UI.
    pub fn of_trigger(t: &Trigger, prev_close: Option<i64>, base: &str) -> Alert {
        let f = &t.fired;
        let intraday = f.period.ends_with('m');
        let bar = if intraday && f.bar_time.len() >= 16 {
            format!("{} {}", &f.bar_time[..10], &f.bar_time[11..16])
        } else {
            f.bar_time.chars().take(10).collect()
        };
        let mut values: Vec<(String, f64)> = f.values.0.clone();
        values.sort_by_key(|(label, _)| window(label).map_or((1, 0), |w| (0, w)));
        Alert {
            name: f.name.clone(),
            code: f.code.clone(),
            condition: f.condition_name.clone(),
            period: period_ko(&f.period),
            bar,
            price: f.price,
            rate: prev_close
                .filter(|p| *p > 0)
                .map(|p| (f.price - p) as f64 * 100.0 / p as f64),
            values: values.into_iter().map(|(l, v)| (l, value_text(v))).collect(),
            late: f.late,
            url: format!(
                "{}/stocks/{}?period={}&trigger={}",
                base.trim_end_matches('/'),
                f.code,
                f.period,
                t.id
            ),
        }
    }

    /// The alert of a market scan's 편입/이탈: `condition` reads `<name> 편입` (or `이탈`), the bar is
    /// the sweep's date, and the link opens the 조건검색 page of the condition.
    pub fn of_scan_event(e: &ScanEvent, condition_name: &str, period: &str, base: &str) -> Alert {
        let mut values: Vec<(String, f64)> = e.values.0.clone();
        values.sort_by_key(|(label, _)| window(label).map_or((1, 0), |w| (0, w)));
        let what = match e.kind {
            ScanEventKind::Enter => "편입",
            ScanEventKind::Leave => "이탈",
        };
        Alert {
            name: e.name.clone(),
            code: e.code.clone(),
            condition: format!("{condition_name} {what}"),
            period: period_ko(period),
            bar: format!(
                "{} {}",
                e.time.get(..10).unwrap_or(""),
                e.time.get(11..16).unwrap_or("")
            ),
            price: e.price,
            rate: Some(e.change_rate),
            values: values.into_iter().map(|(l, v)| (l, value_text(v))).collect(),
            late: false,
            url: format!("{}/scan?id={}", base.trim_end_matches('/'), e.condition_id),
        }
    }

    /// `+1.23%`
    pub fn rate_text(&self) -> Option<String> {
        self.rate.map(|r| {
            let r = (r * 100.0).round() / 100.0;
            if r > 0.0 {
                format!("+{r:.2}%")
            } else {
                format!("{r:.2}%")
            }
        })
    }

    /// `71,000원 (+1.23%)`
    pub fn price_text(&self) -> String {
        match self.rate_text() {
            Some(r) => format!("{}원 ({r})", thousands(self.price)),
            None => format!("{}원", thousands(self.price)),
        }
    }

    /// The notification's title: `삼성전자(005930) 71,000원 (+1.23%)`.
    pub fn title(&self) -> String {
        format!("{}({}) {}", self.name, self.code, self.price_text())
    }

    /// `30분봉 정배열 · 2026-11-27 10:30 봉`
    pub fn headline(&self) -> String {
        format!("{} {} · {} 봉", self.period, self.condition, self.bar)
    }

    fn values_text(&self) -> String {
        self.values
            .iter()
            .map(|(l, v)| format!("{l} {v}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// Plain text lines (ntfy, e-mail, Web Push).
    pub fn plain(&self) -> String {
        let mut lines = vec![
            format!("조건: {} {}", self.period, self.condition),
            format!("봉: {} {}", self.period, self.bar),
            format!("가격: {}", self.price_text()),
        ];
        if !self.values.is_empty() {
            lines.push(format!("값: {}", self.values_text()));
        }
        if self.late {
            lines.push("지연 감지: 시세 공백을 메운 뒤 찾은 신호입니다".into());
        }
        lines.push(format!("차트: {}", self.url));
        lines.join("\n")
    }

    /// Telegram, `parse_mode: "HTML"`.
    pub fn telegram_html(&self) -> String {
        let mut out = format!(
            "🔔 <b>{}({})</b>\n<b>{} {}</b>\n봉: {}\n가격: <b>{}</b>",
            html(&self.name),
            html(&self.code),
            html(&self.period),
            html(&self.condition),
            html(&self.bar),
            html(&self.price_text()),
        );
        if !self.values.is_empty() {
            out.push_str(&format!("\n값: {}", html(&self.values_text())));
        }
        if self.late {
            out.push_str("\n<i>지연 감지</i>");
        }
        out.push_str(&format!("\n<a href=\"{}\">차트 보기</a>", html_attr(&self.url)));
        out
    }

    /// A Discord webhook body: one embed.
    pub fn discord(&self) -> Value {
        let mut fields = vec![
            json!({"name": "조건", "value": md(&format!("{} {}", self.period, self.condition)), "inline": true}),
            json!({"name": "봉", "value": md(&self.bar), "inline": true}),
            json!({"name": "가격", "value": md(&self.price_text()), "inline": true}),
        ];
        if !self.values.is_empty() {
            fields.push(json!({"name": "값", "value": md(&self.values_text()), "inline": false}));
        }
        let color = match self.rate {
            Some(r) if r < 0.0 => 0x1e5eff,
            _ => 0xe03131,
        };
        json!({
            "content": Value::Null,
            "allowed_mentions": {"parse": []},
            "embeds": [{
                "title": format!("🔔 {}({})", self.name, self.code),
                "url": self.url,
                "description": md(&format!("{} {}{}", self.period, self.condition, if self.late { " (지연 감지)" } else { "" })),
                "color": color,
                "fields": fields,
            }],
        })
    }

    /// A Slack incoming-webhook body: Block Kit with a plain-text fallback.
    pub fn slack(&self) -> Value {
        let mut fields = vec![
            json!({"type": "mrkdwn", "text": format!("*조건*\n{} {}", slack(&self.period), slack(&self.condition))}),
            json!({"type": "mrkdwn", "text": format!("*봉*\n{}", slack(&self.bar))}),
            json!({"type": "mrkdwn", "text": format!("*가격*\n{}", slack(&self.price_text()))}),
        ];
        if !self.values.is_empty() {
            fields.push(json!({"type": "mrkdwn", "text": format!("*값*\n{}", slack(&self.values_text()))}));
        }
        json!({
            "text": slack(&format!("{} · {}", self.title(), self.headline())),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": format!("🔔 {}({})", self.name, self.code), "emoji": true}},
                {"type": "section", "fields": fields},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("<{}|차트 보기>{}", slack_url(&self.url), if self.late { " · _지연 감지_" } else { "" })}},
            ],
        })
    }
}

/// Several alerts in one message (a burst bigger than the channel's rate).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub alerts: Vec<Alert>,
    /// The web UI's home page.
    pub url: String,
}

impl Summary {
    pub fn title(&self) -> String {
        format!("🔔 신호 {}건 — 한꺼번에 발생해 모아 보냅니다", self.alerts.len())
    }

    fn line(a: &Alert) -> String {
        format!(
            "{}({}) · {} {} · {}",
            a.name,
            a.code,
            a.period,
            a.condition,
            a.price_text()
        )
    }

    fn rest(&self) -> Option<String> {
        (self.alerts.len() > SUMMARY_LISTED).then(|| format!("외 {}건", self.alerts.len() - SUMMARY_LISTED))
    }

    pub fn plain(&self) -> String {
        let mut lines: Vec<String> = self
            .alerts
            .iter()
            .take(SUMMARY_LISTED)
            .map(|a| format!("• {}", Self::line(a)))
            .collect();
        lines.extend(self.rest());
        lines.push(format!("전체 보기: {}", self.url));
        lines.join("\n")
    }

    pub fn telegram_html(&self) -> String {
        let mut lines = vec![format!("<b>{}</b>", html(&self.title()))];
        lines.extend(
            self.alerts
                .iter()
                .take(SUMMARY_LISTED)
                .map(|a| format!("• <a href=\"{}\">{}</a>", html_attr(&a.url), html(&Self::line(a)))),
        );
        lines.extend(self.rest());
        lines.push(format!("<a href=\"{}\">전체 보기</a>", html_attr(&self.url)));
        lines.join("\n")
    }

    pub fn discord(&self) -> Value {
        let mut lines: Vec<String> = self
            .alerts
            .iter()
            .take(SUMMARY_LISTED)
            .map(|a| format!("• [{}]({})", md(&Self::line(a)), a.url))
            .collect();
        lines.extend(self.rest());
        json!({
            "content": Value::Null,
            "allowed_mentions": {"parse": []},
            "embeds": [{"title": self.title(), "url": self.url, "description": lines.join("\n"), "color": 0xe03131}],
        })
    }

    pub fn slack(&self) -> Value {
        let mut lines: Vec<String> = self
            .alerts
            .iter()
            .take(SUMMARY_LISTED)
            .map(|a| format!("• <{}|{}>", slack_url(&a.url), slack(&Self::line(a))))
            .collect();
        lines.extend(self.rest());
        json!({
            "text": slack(&self.title()),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title(), "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("<{}|전체 보기>", slack_url(&self.url))}},
            ],
        })
    }
}

/// Telegram HTML text.
pub fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn html_attr(s: &str) -> String {
    html(s).replace('"', "&quot;")
}

/// Discord markdown: every formatting character escaped.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '(' | ')' | '-' | '@' | ':'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Slack's three control characters.
pub fn slack(s: &str) -> String {
    html(s)
}

fn slack_url(s: &str) -> String {
    s.replace('|', "%7C").replace('>', "%3E").replace('<', "%3C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Fired, TriggerValues};

    #[test]
    fn a_scan_event_reads_as_entering_or_leaving_with_its_link() {
        let e = ScanEvent {
            id: 9,
            condition_id: 4,
            code: "247540".into(),
            name: "에코프로비엠".into(),
            kind: ScanEventKind::Leave,
            time: "2026-12-07T10:31:00+09:00".into(),
            price: 215_500,
            change_rate: -1.25,
            turnover: 80_000_000_000,
            values: TriggerValues(vec![("ma(60)".into(), 220_123.4), ("ma(20)".into(), 218_000.0)]),
        };
        let a = Alert::of_scan_event(&e, "일봉 정배열", "D", "https://kw.example/");
        assert_eq!(a.title(), "에코프로비엠(247540) 215,500원 (-1.25%)");
        assert_eq!(a.headline(), "일봉 일봉 정배열 이탈 · 2026-12-07 10:31 봉");
        assert_eq!(a.url, "https://kw.example/scan?id=4");
        assert_eq!(
            a.values[0],
            ("ma(20)".to_string(), "218,000".to_string()),
            "averages by window"
        );
    }

    fn trigger(name: &str, condition: &str) -> Trigger {
        Trigger::stored(
            12,
            Fired {
                code: "005930".into(),
                name: name.into(),
                condition_id: 1,
                condition_name: condition.into(),
                period: "30m".into(),
                bar_time: "2026-11-27T10:30:00+09:00".into(),
                time: "2026-11-27T10:41:07+09:00".into(),
                price: 71_000,
                values: TriggerValues(vec![
                    ("ma(240)".into(), 68_000.0),
                    ("ma(20)".into(), 70_950.5),
                    ("ma(120)".into(), 69_800.0),
                    ("ma(60)".into(), 70_100.33),
                ]),
                late: false,
                message: String::new(),
                message_ko: String::new(),
            },
            false,
            String::new(),
        )
    }

    #[test]
    fn a_lock_screen_message_in_korean_with_the_averages_in_order_and_the_link() {
        let a = Alert::of_trigger(
            &trigger("삼성전자", "정배열"),
            Some(70_140),
            "http://kw.example:8080/",
        );
        assert_eq!(a.title(), "삼성전자(005930) 71,000원 (+1.23%)");
        assert_eq!(a.headline(), "30분봉 정배열 · 2026-11-27 10:30 봉");
        let text = a.plain();
        assert!(
            text.contains("값: ma(20) 70,951 · ma(60) 70,100 · ma(120) 69,800 · ma(240) 68,000"),
            "{text}"
        );
        assert!(
            text.contains("차트: http://kw.example:8080/stocks/005930?period=30m&trigger=12"),
            "{text}"
        );
        assert_eq!(period_ko("D"), "일봉");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }

    #[test]
    fn special_characters_are_escaped_for_each_provider() {
        let a = Alert::of_trigger(
            &trigger("A&B <주>", "*굵게*_<b>x</b>"),
            None,
            "https://kw.example",
        );
        let tg = a.telegram_html();
        assert!(tg.contains("A&amp;B &lt;주&gt;"), "{tg}");
        assert!(tg.contains("&lt;b&gt;x&lt;/b&gt;"), "{tg}");
        assert!(!tg.contains("<b>x"), "{tg}");
        assert!(
            tg.contains("<a href=\"https://kw.example/stocks/005930?period=30m&amp;trigger=12\">"),
            "{tg}"
        );
        let d = a.discord().to_string();
        assert!(
            d.contains(r"\\*굵게\\*\\_<b>x<\/b>") || d.contains(r"\\*굵게\\*\\_"),
            "{d}"
        );
        assert!(d.contains(r#""allowed_mentions":{"parse":[]}"#), "{d}");
        let s = a.slack().to_string();
        assert!(
            s.contains("&lt;b&gt;x&lt;/b&gt;") && s.contains("A&amp;B &lt;주&gt;"),
            "{s}"
        );
        let sum = Summary {
            alerts: vec![a.clone(); 30],
            url: "https://kw.example/".into(),
        };
        let p = sum.plain();
        assert!(p.starts_with("• A&B <주>(005930)"), "{p}");
        assert!(p.contains("외 5건"), "{p}");
        assert!(sum.title().contains("30건"));
        assert!(sum.telegram_html().contains("A&amp;B"));
    }
}
