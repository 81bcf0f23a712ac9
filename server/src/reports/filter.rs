//! The filter behind every figure and list: period, organisation and every criterion,
//! parsed once from the query string, and its query string for links and exports.

use crate::db::Connection;
use serde::{Deserialize, Serialize};
use shared::api::ErrorCode;
use shared::date::Date;
use shared::model::{Occupation, SourceKind};
use shared::rules::TermWithoutDates;
use shared::stage::Stage;

use super::*;
use crate::error::{AppError, AppResult};

/// The period a report covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn year(year: i32) -> Period {
        Period {
            from: Date::from_ymd(year, 1, 1).unwrap_or(Date::from_days_since_epoch(0)),
            to: Date::from_ymd(year, 12, 31).unwrap_or(Date::from_days_since_epoch(0)),
        }
    }

    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.from.year()..=self.to.year()
    }

    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }
}

/// The filter as a form or a query string holds it: text, as typed (HTML forms send
/// empty fields). Pages echo it back into their form; [`CaseFilter::parse`] reads it
/// once into typed fields, and [`CaseFilter::query_string`] writes a typed filter back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterForm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub female: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub youth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub education: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub official: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

impl FilterForm {
    /// The organisation asked for, whatever else the form holds: the scope a page shows
    /// even when other boxes cannot be used.
    pub fn org_id(&self) -> Option<OrgId> {
        Reader::text(&self.org).map(OrgId)
    }
}

/// The id of an organisation of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(pub String);

impl OrgId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for OrgId {
    fn from(s: &str) -> OrgId {
        OrgId(s.to_string())
    }
}

/// The id of an awareness-class record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(pub String);

impl ClassId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ClassId {
    fn from(s: &str) -> ClassId {
        ClassId(s.to_string())
    }
}

/// Which admissions a filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// The admission decision was signed inside the period.
    InPeriod,
    /// Admitted at any time.
    Ever,
}

/// Which findings a filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeverityFilter {
    Blocking,
    Warning,
    /// Either.
    Any,
}

impl SeverityFilter {
    pub fn code(self) -> &'static str {
        match self {
            SeverityFilter::Blocking => "blocking",
            SeverityFilter::Warning => "warning",
            SeverityFilter::Any => "any",
        }
    }
}

/// A coded field asked for by its value, or for the files that do not record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded<T> {
    NotRecorded,
    Is(T),
}

impl<T> Recorded<T> {
    /// A code as reports and forms carry it: "" or [`NOT_RECORDED`] for the files that
    /// do not record the field; `None` for a code `from_code` does not know.
    pub fn parse(code: &str, from_code: impl FnOnce(&str) -> Option<T>) -> Option<Recorded<T>> {
        if code.is_empty() || code == NOT_RECORDED {
            Some(Recorded::NotRecorded)
        } else {
            from_code(code).map(Recorded::Is)
        }
    }
}

impl<T> Recorded<T> {
    /// The stored code this asks for, `code` of the value; `None` for the files that do
    /// not record the field.
    pub fn stored<'a>(&'a self, code: impl FnOnce(&'a T) -> &'a str) -> Option<&'a str> {
        match self {
            Recorded::NotRecorded => None,
            Recorded::Is(t) => Some(code(t)),
        }
    }

    /// The code in forms and links: the stored code, or [`NOT_RECORDED`].
    pub fn form_code<'a>(&'a self, code: impl FnOnce(&'a T) -> &'a str) -> &'a str {
        self.stored(code).unwrap_or(NOT_RECORDED)
    }
}

/// The code of "not recorded" in forms and links.
pub const NOT_RECORDED: &str = "none_recorded";

/// Every filter of the case-file list, typed; the dashboard links to the list with the
/// filter that reproduces each figure. Made by [`CaseFilter::parse`] from what a form
/// sends, or built directly.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(into = "FilterForm")]
pub struct CaseFilter {
    /// Root of the organisation subtree; the caller's scope when absent.
    pub org: Option<OrgId>,
    pub year: Option<i32>,
    /// A party term by its name, such as "2020-2025".
    pub term: Option<String>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub admitted: Option<Admitted>,
    pub stage: Option<Stage>,
    pub sector: Option<String>,
    pub female: bool,
    pub minority: bool,
    pub youth: bool,
    /// Aged 18–30 on the decision date.
    pub age: bool,
    /// An education code (`shared::report` codes).
    pub education: Option<Recorded<String>>,
    /// Holds an awareness-class certificate.
    pub class: bool,
    pub introduced: bool,
    pub source: Option<Recorded<SourceKind>>,
    pub occupation: Option<Recorded<Occupation>>,
    /// Recognised as an official member (official date) inside the period.
    pub official: bool,
    /// Entered the pipeline inside the period (the cohort; which date counts is the
    /// `cohort_entry` setting).
    pub cohort: bool,
    /// A class record the file names.
    pub class_id: Option<ClassId>,
    /// A finding code the file carries.
    pub code: Option<String>,
    pub severity: Option<SeverityFilter>,
    pub returned: bool,
    /// Diacritic-insensitive search in the name.
    pub q: Option<String>,
}

/// Why one box of a filter cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterProblem {
    NotADate,
    NotAYear,
    /// `from` is after `to`.
    Reversed,
    /// Not one of the values the box takes.
    Unknown,
}

/// One box of a filter that cannot be used, with what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The query parameter.
    pub field: &'static str,
    pub value: String,
    pub problem: FilterProblem,
}

impl FilterError {
    /// The label of the box on the forms.
    fn label(&self, en: bool) -> &'static str {
        let (vi, e) = match self.field {
            "from" => ("Từ ngày", "From"),
            "to" => ("Đến ngày", "To"),
            "year" => ("Năm", "Year"),
            "admitted" => ("Kết nạp", "Admitted"),
            "stage" => ("Giai đoạn", "Stage"),
            "source" => ("Nguồn giới thiệu", "Source"),
            "occupation" => ("Nghề nghiệp", "Occupation"),
            "severity" => ("Mức độ", "Severity"),
            "female" => ("Nữ", "Women"),
            "minority" => ("Dân tộc thiểu số", "Ethnic minority"),
            "youth" => ("Đoàn viên", "Youth Union"),
            "age" => ("Tuổi 18–30", "Aged 18–30"),
            "class" => ("Đã học lớp cảm tình", "Attended the class"),
            "introduced" => ("Được giới thiệu", "Introduced"),
            "official" => ("Công nhận chính thức", "Recognised"),
            "cohort" => ("Vào nguồn", "Entered the pipeline"),
            "returned" => ("Bị trả lại", "Returned"),
            other => (other, other),
        };
        if en { e } else { vi }
    }

    /// What is wrong, naming the box by its label, in one language.
    pub fn message(&self, en: bool) -> String {
        let (label, v) = (self.label(en), &self.value);
        match (&self.problem, en) {
            (FilterProblem::NotADate, false) => format!(
                "«{label}»: {v} không phải là ngày có thật. Hãy gõ theo dạng ngày/tháng/năm, ví dụ 05/03/2026."
            ),
            (FilterProblem::NotADate, true) => format!(
                "«{label}»: {v} is not a real date. Type it as dd/mm/yyyy, for example 05/03/2026."
            ),
            (FilterProblem::NotAYear, false) => {
                format!("«{label}»: {v} không phải là năm. Hãy gõ bốn chữ số, ví dụ 2026.")
            }
            (FilterProblem::NotAYear, true) => {
                format!("«{label}»: {v} is not a year. Type four digits, for example 2026.")
            }
            (FilterProblem::Reversed, false) => {
                "«Từ ngày» đang sau «Đến ngày»: hãy đổi lại hai ngày.".to_string()
            }
            (FilterProblem::Reversed, true) => {
                "«From» is after «To»: swap the two dates.".to_string()
            }
            (FilterProblem::Unknown, false) => {
                format!("«{label}»: giá trị «{v}» không dùng được.")
            }
            (FilterProblem::Unknown, true) => format!("«{label}»: the value «{v}» cannot be used."),
        }
    }
}

/// The API's answer to a filter that cannot be used: 400 with every problem, in both
/// languages.
pub fn filter_error(errors: &[FilterError]) -> AppError {
    let join = |en: bool| {
        errors
            .iter()
            .map(|e| e.message(en))
            .collect::<Vec<_>>()
            .join(" ")
    };
    AppError::bad_request(ErrorCode::BadFilter, join(false), join(true))
}

pub(super) fn bad(field: &str, value: &str) -> AppError {
    AppError::bad_request(
        ErrorCode::BadFilter,
        format!("Giá trị không hợp lệ cho «{field}»: {value}"),
        format!("Invalid value for '{field}': {value}"),
    )
}

/// Reads a form into typed fields, collecting every problem.
struct Reader {
    errors: Vec<FilterError>,
}

impl Reader {
    fn text(v: &Option<String>) -> Option<String> {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    fn fail(&mut self, field: &'static str, value: &str, problem: FilterProblem) {
        self.errors.push(FilterError {
            field,
            value: value.to_string(),
            problem,
        });
    }

    /// A value read by `parse`, or the problem recorded.
    fn typed<T>(
        &mut self,
        field: &'static str,
        v: &Option<String>,
        problem: FilterProblem,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let s = Self::text(v)?;
        let out = parse(&s);
        if out.is_none() {
            self.fail(field, &s, problem);
        }
        out
    }

    fn flag(&mut self, field: &'static str, v: &Option<String>) -> bool {
        let Some(s) = Self::text(v) else {
            return false;
        };
        match s.as_str() {
            "1" | "true" | "on" | "yes" => true,
            "0" | "false" | "off" | "no" => false,
            _ => {
                self.fail(field, &s, FilterProblem::Unknown);
                false
            }
        }
    }

    fn coded<T>(
        &mut self,
        field: &'static str,
        v: &Option<String>,
        from_code: impl FnOnce(&str) -> Option<T>,
    ) -> Option<Recorded<T>> {
        self.typed(field, v, FilterProblem::Unknown, |s| {
            Recorded::parse(s, from_code)
        })
    }
}

fn flag_text(on: bool) -> Option<String> {
    on.then(|| "1".to_string())
}

impl From<CaseFilter> for FilterForm {
    fn from(f: CaseFilter) -> FilterForm {
        FilterForm::from(&f)
    }
}

impl From<&CaseFilter> for FilterForm {
    fn from(f: &CaseFilter) -> FilterForm {
        FilterForm {
            org: f.org.as_ref().map(|o| o.0.clone()),
            year: f.year.map(|y| y.to_string()),
            term: f.term.clone(),
            from: f.from.map(|d| d.format_vn()),
            to: f.to.map(|d| d.format_vn()),
            admitted: f.admitted.map(|a| match a {
                Admitted::InPeriod => "1".to_string(),
                Admitted::Ever => "any".to_string(),
            }),
            stage: f.stage.map(|s| s.code().to_string()),
            sector: f.sector.clone(),
            female: flag_text(f.female),
            minority: flag_text(f.minority),
            youth: flag_text(f.youth),
            age: flag_text(f.age),
            education: f
                .education
                .as_ref()
                .map(|e| e.form_code(String::as_str).to_string()),
            class: flag_text(f.class),
            introduced: flag_text(f.introduced),
            source: f.source.map(|s| s.form_code(|k| k.code()).to_string()),
            occupation: f.occupation.map(|o| o.form_code(|k| k.code()).to_string()),
            official: flag_text(f.official),
            cohort: flag_text(f.cohort),
            class_id: f.class_id.as_ref().map(|c| c.0.clone()),
            code: f.code.clone(),
            severity: f.severity.map(|s| s.code().to_string()),
            returned: flag_text(f.returned),
            q: f.q.clone(),
        }
    }
}

impl CaseFilter {
    /// Reads what a form or query string sent, once: every box that cannot be used is
    /// named in the errors, in the order of the form.
    pub fn parse(form: &FilterForm) -> Result<CaseFilter, Vec<FilterError>> {
        let mut r = Reader { errors: Vec::new() };
        let year = r.typed("year", &form.year, FilterProblem::NotAYear, |s| {
            s.parse::<i32>().ok().filter(|y| (1930..=2100).contains(y))
        });
        let from = r.typed("from", &form.from, FilterProblem::NotADate, Date::parse_vn);
        let to = r.typed("to", &form.to, FilterProblem::NotADate, Date::parse_vn);
        if let (Some(a), Some(b)) = (from, to)
            && a > b
        {
            r.fail("from", &a.format_vn(), FilterProblem::Reversed);
        }
        let admitted = r.typed(
            "admitted",
            &form.admitted,
            FilterProblem::Unknown,
            |s| match s {
                "any" => Some(Admitted::Ever),
                "1" | "true" | "on" | "yes" => Some(Admitted::InPeriod),
                _ => None,
            },
        );
        let stage = r.typed(
            "stage",
            &form.stage,
            FilterProblem::Unknown,
            Stage::from_code,
        );
        let female = r.flag("female", &form.female);
        let minority = r.flag("minority", &form.minority);
        let youth = r.flag("youth", &form.youth);
        let age = r.flag("age", &form.age);
        let education = r.coded("education", &form.education, |s| Some(s.to_string()));
        let class = r.flag("class", &form.class);
        let introduced = r.flag("introduced", &form.introduced);
        let source = r.coded("source", &form.source, SourceKind::from_code);
        let occupation = r.coded("occupation", &form.occupation, Occupation::from_code);
        let official = r.flag("official", &form.official);
        let cohort = r.flag("cohort", &form.cohort);
        let severity = r.typed(
            "severity",
            &form.severity,
            FilterProblem::Unknown,
            |s| match s {
                "blocking" => Some(SeverityFilter::Blocking),
                "warning" => Some(SeverityFilter::Warning),
                "any" => Some(SeverityFilter::Any),
                _ => None,
            },
        );
        let returned = r.flag("returned", &form.returned);
        if !r.errors.is_empty() {
            return Err(r.errors);
        }
        Ok(CaseFilter {
            org: form.org_id(),
            year,
            term: Reader::text(&form.term),
            from,
            to,
            admitted,
            stage,
            sector: Reader::text(&form.sector),
            female,
            minority,
            youth,
            age,
            education,
            class,
            introduced,
            source,
            occupation,
            official,
            cohort,
            class_id: Reader::text(&form.class_id).map(ClassId),
            code: Reader::text(&form.code),
            severity,
            returned,
            q: Reader::text(&form.q),
        })
    }

    /// [`CaseFilter::parse`] for the API: a filter that cannot be used is a 400.
    pub fn from_form(form: &FilterForm) -> AppResult<CaseFilter> {
        CaseFilter::parse(form).map_err(|e| filter_error(&e))
    }

    /// The organisation asked for, as the id text.
    pub fn org_id(&self) -> Option<&str> {
        self.org.as_ref().map(OrgId::as_str)
    }

    /// The period named by `from`/`to`, a term, or a year; the current year by default.
    pub fn period(&self, today: Date) -> AppResult<Period> {
        if self.from.is_some() || self.to.is_some() {
            let base = Period::year(self.year.unwrap_or(today.year()));
            return Ok(Period {
                from: self.from.unwrap_or(base.from),
                to: self.to.unwrap_or(base.to),
            });
        }
        if let Some(t) = self.term.as_deref() {
            let (a, b) = t.split_once('-').ok_or_else(|| bad("term", t))?;
            let a: i32 = a.trim().parse().map_err(|_| bad("term", t))?;
            let b: i32 = b.trim().parse().map_err(|_| bad("term", t))?;
            if a > b || b - a > 10 {
                return Err(bad("term", t));
            }
            return Ok(Period {
                from: Period::year(a).from,
                to: Period::year(b).to,
            });
        }
        Ok(Period::year(self.year.unwrap_or(today.year())))
    }

    /// The period of this filter for the subtree `root`: a term is looked up by name in
    /// the terms recorded for the organisation or its nearest ancestor, and runs from its
    /// congress to the day before the next one. Without a recorded term the
    /// `term_without_dates` setting decides (refuse, or whole calendar years).
    pub fn resolve(
        &self,
        conn: &Connection,
        orgs: &OrgIndex,
        root: &OrgInfo,
        today: Date,
    ) -> AppResult<Resolved> {
        let plain = |period| Resolved {
            period,
            term: None,
            calendar_years: false,
        };
        let Some(name) = self.term.as_deref() else {
            return Ok(plain(self.period(today)?));
        };
        if self.from.is_some() || self.to.is_some() {
            return Ok(plain(self.period(today)?));
        }
        if let Some(t) = crate::targets::find_term(conn, orgs, &root.id, name)? {
            let to = t.end.add_days(-1).max(t.start);
            return Ok(Resolved {
                period: Period { from: t.start, to },
                term: Some(t),
                calendar_years: false,
            });
        }
        match crate::figures::settings(conn)?.term_without_dates {
            TermWithoutDates::CalendarYears => Ok(Resolved {
                period: self.period(today)?,
                term: None,
                calendar_years: true,
            }),
            TermWithoutDates::Refuse => Err(AppError::bad_request(
                ErrorCode::TermNotRecorded,
                format!(
                    "Chưa có nhiệm kỳ «{name}» với ngày đại hội cho {} hoặc cấp trên. Hãy nhập nhiệm kỳ ở trang Quản trị › Nhiệm kỳ và chỉ tiêu.",
                    root.name
                ),
                format!(
                    "No term `{name}` with its congress dates is recorded for {} or above. Record it under Administration › Terms and targets.",
                    root.name
                ),
            )),
        }
    }

    /// The query string reproducing this filter, for links and exports.
    pub fn query_string(&self) -> String {
        serde_urlencoded::to_string(FilterForm::from(self)).unwrap_or_default()
    }

    /// Only the period and organisation of this filter: the base of the dashboard's links.
    pub fn scope_only(&self) -> CaseFilter {
        CaseFilter {
            org: self.org.clone(),
            year: self.year,
            term: self.term.clone(),
            from: self.from,
            to: self.to,
            ..CaseFilter::default()
        }
    }
}

/// A filter's period once terms are looked up.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub period: Period,
    /// The recorded term the period comes from.
    pub term: Option<crate::targets::TermDates>,
    /// A term read as whole calendar years, for want of recorded dates (a setting).
    pub calendar_years: bool,
}

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &str) -> FilterForm {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn a_form_is_read_once_into_typed_fields_and_written_back_the_same() {
        let f = CaseFilter::parse(&form(
            "org=h03&year=2024&from=5/3/2024&to=2024-12-31&admitted=1&stage=branch_vote\
             &female=on&minority=1&education=none_recorded&source=youth_union\
             &occupation=high_school_student&class_id=vy-1&severity=warning&q=Nguy%E1%BB%85n+An\
             &youth=&age=",
        ))
        .unwrap();
        assert_eq!(f.org_id(), Some("h03"));
        assert_eq!(f.year, Some(2024));
        assert_eq!(f.from, Date::from_ymd(2024, 3, 5).ok());
        assert_eq!(f.to, Date::from_ymd(2024, 12, 31).ok());
        assert_eq!(f.admitted, Some(Admitted::InPeriod));
        assert_eq!(f.stage, Some(Stage::BranchVote));
        assert!(f.female && f.minority && !f.youth && !f.age);
        assert_eq!(f.education, Some(Recorded::NotRecorded));
        assert_eq!(f.source, Some(Recorded::Is(SourceKind::YouthUnion)));
        assert_eq!(
            f.occupation,
            Some(Recorded::Is(Occupation::HighSchoolStudent))
        );
        assert_eq!(f.class_id, Some(ClassId::from("vy-1")));
        assert_eq!(f.severity, Some(SeverityFilter::Warning));
        assert_eq!(f.q.as_deref(), Some("Nguyễn An"));
        // Links carry the typed filter: reading them back gives the same filter.
        let q = f.query_string();
        assert!(q.contains("from=05%2F03%2F2024"), "{q}");
        let keys: Vec<&str> = q
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|kv| kv.0)
            .collect();
        assert!(!keys.contains(&"youth") && !keys.contains(&"age"), "{q}");
        assert_eq!(CaseFilter::parse(&form(&q)).unwrap(), f);
        assert_eq!(CaseFilter::default().query_string(), "");
    }

    #[test]
    fn every_box_that_cannot_be_used_is_named_in_both_languages() {
        let errors = CaseFilter::parse(&form(
            "year=20x4&from=31/02/2024&to=01/01/2024&stage=nowhere&female=maybe&source=club",
        ))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["year", "from", "stage", "female", "source"]);
        assert!(errors[1].message(false).contains("«Từ ngày»: 31/02/2024"));
        assert!(
            errors[1]
                .message(true)
                .contains("«From»: 31/02/2024 is not a real date")
        );
        let reversed = CaseFilter::parse(&form("from=02/01/2024&to=01/01/2024")).unwrap_err();
        assert_eq!(reversed[0].problem, FilterProblem::Reversed);
        let e = filter_error(&errors);
        assert!(matches!(
            e,
            AppError::User {
                code: ErrorCode::BadFilter,
                ..
            }
        ));
    }
}
