//! Vietnamese and English texts. Every text sits beside its translation at the place it
//! is used (`tr("Lưu", "Save")`), so a screen reads as one piece in both languages and no
//! key can go missing; Vietnamese is the default and comes first everywhere.

use leptos::prelude::*;
use shared::date::Date;

/// The language of the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Lang {
        if code == "en" { Lang::En } else { Lang::Vi }
    }
}

thread_local! {
    // One signal for the whole app; created lazily inside the first reactive owner.
    static LANG: RwSignal<Lang> = RwSignal::new(Lang::Vi);
}

/// The language signal (reading it inside a view makes the view follow the switch).
pub fn lang_signal() -> RwSignal<Lang> {
    LANG.with(|l| *l)
}

pub fn lang() -> Lang {
    lang_signal().get()
}

/// Picks the text of the current language; reactive when called inside a view closure.
pub fn tr(vi: &'static str, en: &'static str) -> &'static str {
    match lang() {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// Same as [`tr`] for texts built at run time (messages from the rules and the server).
pub fn tr_s(vi: &str, en: &str) -> String {
    match lang() {
        Lang::Vi => vi.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// A share as people write it: "64,7 %" in Vietnamese, "64.7%" in English.
pub fn percent(x: f64) -> String {
    let s = format!("{x:.1}");
    match lang() {
        Lang::Vi => format!("{} %", s.replace('.', ",")),
        Lang::En => format!("{s}%"),
    }
}

/// A count with thousands grouped: "1.841" in Vietnamese, "1,841" in English.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = if lang() == Lang::Vi { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A date as shown everywhere in the app: dd/mm/yyyy, in both languages.
pub fn show_date(d: Option<Date>) -> String {
    d.map(|d| d.format_vn()).unwrap_or_default()
}

/// Parses what a cadre types into a date field (dd/mm/yyyy, d/m/yyyy, ddmmyyyy).
pub use crate::device::input::parse_vn_date;

/// Splits a bilingual message "vi / en" and keeps the half of the current language.
pub fn bilingual(msg: &str) -> String {
    match msg.split_once(" / ") {
        Some((vi, en)) => tr_s(vi, en),
        None => msg.to_owned(),
    }
}

/// "3 phút", "2 giờ", "5 ngày": how old the oldest unsynced change is.
pub fn age(ms: f64) -> String {
    let mins = (ms / 60_000.0).max(0.0) as u64;
    if mins == 0 {
        return tr("dưới 1 phút", "under a minute").to_string();
    }
    let (n, vi, en) = if mins < 60 {
        (mins, "phút", "min")
    } else if mins < 48 * 60 {
        (mins / 60, "giờ", "h")
    } else {
        (mins / 1440, "ngày", "days")
    };
    match lang() {
        Lang::Vi => format!("{n} {vi}"),
        Lang::En => format!("{n} {en}"),
    }
}

/// A moment as "dd/mm/yyyy hh:mm", Vietnam time (UTC+7).
pub fn show_time(ms: f64) -> String {
    let local = ms + 7.0 * 3_600_000.0;
    let days = (local / 86_400_000.0).floor();
    let mins = ((local - days * 86_400_000.0) / 60_000.0) as u32;
    let d = Date::from_days_since_epoch(days as i32);
    format!("{} {:02}:{:02}", d.format_vn(), mins / 60, mins % 60)
}

/// "vừa xong", "5 phút trước": when something last happened.
pub fn ago(ms: f64) -> String {
    if ms < 60_000.0 {
        return tr("vừa xong", "just now").to_string();
    }
    match lang() {
        Lang::Vi => format!("{} trước", age(ms)),
        Lang::En => format!("{} ago", age(ms)),
    }
}
