//! Exports of every list and report to XLSX (opens in Excel and LibreOffice) and CSV.
//!
//! Reports are first turned into plain [`Sheet`]s (a title row, then rows of typed
//! cells) from the same structures the screens render, so an export always holds the
//! figures on the screen. CSV starts with a UTF-8 byte-order mark: without it Excel reads
//! the file as the local code page and Vietnamese names come out garbled. XLSX sheets are
//! written in constant-memory mode (rows streamed to a temporary file) so a province-wide
//! list of 100,000 files does not hold every cell in memory.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use shared::api::ErrorCode;
use shared::date::Date;

use crate::error::{AppError, AppResult};
use crate::reports::{
    CaseRow, Dashboard, Deadlines, FindingRow, education_label, sector_label, stage_label,
};

/// One typed cell. Numbers stay numbers and dates stay dates, so the spreadsheet can sum
/// and sort them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Date(Date),
    /// A yes/no fact, written "Có"/"Không" (or "Yes"/"No" in an English export).
    Bool(bool),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Cell {
        Cell::Int(n as i64)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<Option<i64>> for Cell {
    fn from(n: Option<i64>) -> Cell {
        n.map_or(Cell::Empty, Cell::Int)
    }
}

impl From<Option<f64>> for Cell {
    fn from(n: Option<f64>) -> Cell {
        n.map_or(Cell::Empty, Cell::Float)
    }
}

impl From<Option<Date>> for Cell {
    fn from(d: Option<Date>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Cell {
        Cell::Bool(b)
    }
}

/// A yes/no cell as a reader writes it.
fn yes_no(b: bool, en: bool) -> &'static str {
    match (b, en) {
        (true, false) => "Có",
        (false, false) => "Không",
        (true, true) => "Yes",
        (false, true) => "No",
    }
}

/// A table: its sheet name, its column titles and its rows.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    pub fn new(name: &str, columns: &[&str]) -> Sheet {
        Sheet {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// Excel limits sheet names to 31 characters without `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "Sheet".into()
    } else {
        clean
    }
}

/// Writes the sheets into one XLSX workbook (yes/no in Vietnamese).
pub fn xlsx(sheets: &[Sheet]) -> AppResult<Vec<u8>> {
    xlsx_in(sheets, false)
}

/// Writes the sheets into one XLSX workbook, yes/no cells in English when `en`; every
/// sheet opens with its title row frozen and filter buttons on it.
pub fn xlsx_in(sheets: &[Sheet], en: bool) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    // Grouped digits: Excel and LibreOffice show them with the reader's separators
    // (11.971 and 6,5 in Vietnamese); the cells stay numbers. Integers below 10,000 are
    // left ungrouped so years (2026) read as years.
    let integer = Format::new().set_num_format("[>=10000]#,##0;[<=-10000]-#,##0;0");
    let decimal = Format::new().set_num_format("#,##0.0");
    for s in sheets {
        let ws = book.add_worksheet_with_constant_memory();
        ws.set_name(sheet_name(&s.name)).map_err(xlsx_error)?;
        // Widths must be set before the first row is streamed out.
        for (i, c) in s.columns.iter().enumerate() {
            let width = (c.chars().count() as f64 + 2.0).clamp(8.0, 45.0);
            ws.set_column_width(i as u16, width).map_err(xlsx_error)?;
        }
        for (i, c) in s.columns.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, c, &bold)
                .map_err(xlsx_error)?;
        }
        if !s.columns.is_empty() {
            ws.autofilter(0, 0, s.rows.len() as u32, s.columns.len() as u16 - 1)
                .map_err(xlsx_error)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => {
                        ws.write_string(r, c, t).map_err(xlsx_error)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number_with_format(r, c, *n as f64, &integer)
                            .map_err(xlsx_error)?;
                    }
                    Cell::Float(x) => {
                        ws.write_number_with_format(r, c, *x, &decimal)
                            .map_err(xlsx_error)?;
                    }
                    Cell::Date(d) => {
                        let (y, m, day) = d.ymd();
                        match ExcelDateTime::from_ymd(y as u16, m as u8, day as u8) {
                            Ok(dt) => {
                                ws.write_datetime_with_format(r, c, dt, &date)
                                    .map_err(xlsx_error)?;
                            }
                            Err(_) => {
                                ws.write_string(r, c, d.format_vn()).map_err(xlsx_error)?;
                            }
                        }
                    }
                    Cell::Bool(b) => {
                        ws.write_string(r, c, yes_no(*b, en)).map_err(xlsx_error)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    }
    if sheets.is_empty() {
        book.add_worksheet();
    }
    book.save_to_buffer().map_err(xlsx_error)
}

/// Text typed by a person, made safe for a spreadsheet: a cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return would be read as a formula by Excel or
/// LibreOffice, so it gets a leading apostrophe, which they show as plain text.
pub fn neutralise_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Writes one sheet as CSV (RFC 4180 quoting), UTF-8 with a byte-order mark, CRLF lines.
/// Text cells are neutralised against formula injection; numbers and dates are written
/// as they are.
pub fn csv(sheet: &Sheet) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let line: Vec<String> = sheet.columns.iter().map(|c| field(c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
    for row in &sheet.rows {
        let line: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(t) => field(&neutralise_formula(t)),
                Cell::Int(n) => n.to_string(),
                Cell::Float(x) => format!("{x:.1}"),
                // ISO dates: unambiguous, and Excel and LibreOffice recognise them.
                Cell::Date(d) => d.to_string(),
                // CSV stays machine-readable: 1 and 0, as before.
                Cell::Bool(b) => i32::from(*b).to_string(),
                Cell::Empty => String::new(),
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// The file formats a list can be downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

impl ExportFormat {
    pub fn parse(s: Option<&str>) -> AppResult<ExportFormat> {
        match s.unwrap_or("xlsx") {
            "xlsx" => Ok(ExportFormat::Xlsx),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(AppError::bad_request(
                ErrorCode::BadFormat,
                format!("Định dạng xuất không hỗ trợ: {other} (chọn xlsx hoặc csv)."),
                format!("Unsupported export format: {other} (use xlsx or csv)."),
            )),
        }
    }
}

/// Every sheet of a report in one long-format CSV: one line per figure, with the
/// section (sheet), the row's label (its first cell), the column and the value. Numbers
/// stay machine-readable (no grouping, a point for decimals).
pub fn csv_long(sheets: &[Sheet]) -> Vec<u8> {
    let mut long = Sheet::new("long", &["section", "row", "column", "value"]);
    for s in sheets {
        for (i, row) in s.rows.iter().enumerate() {
            let label = match row.first() {
                Some(Cell::Text(t)) => t.clone(),
                Some(Cell::Int(n)) => n.to_string(),
                Some(Cell::Date(d)) => d.to_string(),
                _ => (i + 1).to_string(),
            };
            for (c, cell) in row.iter().enumerate().skip(1) {
                long.push(vec![
                    s.name.as_str().into(),
                    label.as_str().into(),
                    s.columns.get(c).map(String::as_str).unwrap_or("").into(),
                    cell.clone(),
                ]);
            }
        }
    }
    csv(&long)
}

/// A download response. CSV holds the one sheet of a list, or every sheet of a report in
/// long format ([`csv_long`]).
pub fn download(sheets: &[Sheet], format: ExportFormat, basename: &str) -> AppResult<Response> {
    download_in(sheets, format, basename, false)
}

/// [`download`] with yes/no cells in English when `en`.
pub fn download_in(
    sheets: &[Sheet],
    format: ExportFormat,
    basename: &str,
    en: bool,
) -> AppResult<Response> {
    let (bytes, mime, ext) = match format {
        ExportFormat::Xlsx => (
            xlsx_in(sheets, en)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ExportFormat::Csv => (
            if sheets.len() > 1 {
                csv_long(sheets)
            } else {
                sheets.first().map(csv).unwrap_or_default()
            },
            "text/csv; charset=utf-8",
            "csv",
        ),
    };
    file_response(bytes, mime, &format!("{basename}.{ext}"))
}

pub fn file_response(bytes: Vec<u8>, mime: &'static str, filename: &str) -> AppResult<Response> {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

fn t(en: bool, vi: &'static str, e: &'static str) -> &'static str {
    if en { e } else { vi }
}

fn sex_label(sex: Option<&str>, en: bool) -> String {
    match sex {
        Some("female") => t(en, "Nữ", "Female"),
        Some("male") => t(en, "Nam", "Male"),
        Some(_) => t(en, "Khác", "Other"),
        None => "",
    }
    .into()
}

/// The list of case files behind a figure.
pub fn cases_sheet(rows: &[CaseRow], en: bool) -> Sheet {
    let mut s = Sheet::new(
        t(en, "Hồ sơ", "Case files"),
        &[
            t(en, "Họ và tên", "Full name"),
            t(en, "Giới tính", "Sex"),
            t(en, "Ngày sinh", "Birth date"),
            t(en, "Dân tộc", "Ethnicity"),
            t(en, "Trình độ", "Education"),
            t(en, "Đoàn viên", "Youth Union"),
            t(en, "Tổ chức", "Organisation"),
            t(en, "Tổ chức cơ sở đảng", "Grassroots organisation"),
            t(en, "Khối", "Sector"),
            t(en, "Giai đoạn", "Stage"),
            t(en, "Ngày cấp giấy chứng nhận lớp", "Class certificate"),
            t(en, "Ngày chi bộ xét", "Branch vote"),
            t(en, "Ngày quyết định kết nạp", "Decision signed"),
            t(en, "Ngày lễ kết nạp", "Ceremony"),
            t(en, "Ngày chính thức", "Official"),
            t(en, "Lỗi chặn", "Blocking"),
            t(en, "Cảnh báo", "Warnings"),
            t(en, "Đã trả lại", "Returned"),
            t(en, "Mã hồ sơ", "Case id"),
        ],
    );
    for r in rows {
        s.push(vec![
            r.full_name.as_str().into(),
            sex_label(r.sex.as_deref(), en).into(),
            r.birth_date.into(),
            r.ethnicity.as_str().into(),
            education_label(r.education_code(), en).into(),
            r.youth_union.into(),
            r.org_name.as_str().into(),
            r.grassroots_name.as_str().into(),
            sector_label(&r.sector, en).into(),
            stage_label(&r.stage, en).into(),
            r.class_date.into(),
            r.branch_vote_date.into(),
            r.decision_date.into(),
            r.ceremony_date.into(),
            r.official_date.into(),
            r.blocking.into(),
            r.warnings.into(),
            r.returned.into(),
            r.doc_id.as_str().into(),
        ]);
    }
    s
}

/// Cohort conversion: every step and both shares, for all, per source, per occupation.
pub fn cohort_sheet(c: &crate::figures::Cohort, en: bool) -> Sheet {
    let mut cohort = Sheet::new(
        t(en, "Chuyển đổi theo khóa", "Cohort conversion"),
        &[
            t(en, "Nhóm", "Group"),
            t(en, "Vào nguồn trong kỳ", "Entered in the period"),
            t(en, "Đã học lớp nhận thức", "Attended the class"),
            t(en, "Đã kết nạp", "Admitted"),
            t(en, "Kết nạp / vào nguồn (%)", "Admitted / entered (%)"),
            t(
                en,
                "Kết nạp trong số đã học lớp",
                "Admitted among attendees",
            ),
            t(en, "Kết nạp / đã học lớp (%)", "Admitted / attendees (%)"),
        ],
    );
    let conv = |label: String, c: &crate::figures::Conversion| -> Vec<Cell> {
        vec![
            label.into(),
            c.entered.into(),
            c.attended_class.into(),
            c.admitted.into(),
            c.admitted_percent.into(),
            c.admitted_of_attendees.into(),
            c.admitted_of_attendees_percent.into(),
        ]
    };
    cohort.push(conv(t(en, "Tất cả", "All").into(), &c.total));
    for line in &c.by_source {
        cohort.push(conv(
            format!(
                "{}: {}",
                t(en, "Nguồn", "Source"),
                if en { &line.label_en } else { &line.label_vi }
            ),
            &line.figures,
        ));
    }
    for line in &c.by_occupation {
        cohort.push(conv(
            format!(
                "{}: {}",
                t(en, "Nghề nghiệp", "Occupation"),
                if en { &line.label_en } else { &line.label_vi }
            ),
            &line.figures,
        ));
    }
    cohort
}

/// The dashboard as sheets: the headline figures first, then each table.
pub fn dashboard_sheets(d: &Dashboard, en: bool) -> Vec<Sheet> {
    let mut head = Sheet::new(
        t(en, "Tổng hợp", "Summary"),
        &[t(en, "Chỉ tiêu", "Figure"), t(en, "Giá trị", "Value")],
    );
    let period = format!(
        "{} – {}",
        d.period.from.format_vn(),
        d.period.to.format_vn()
    );
    head.push(vec![
        t(en, "Tổ chức", "Organisation").into(),
        d.org_name.as_str().into(),
    ]);
    head.push(vec![t(en, "Thời gian", "Period").into(), period.into()]);
    head.push(vec![
        t(en, "Kết nạp đảng viên", "Admitted").into(),
        d.admitted.into(),
    ]);
    head.push(vec![
        t(
            en,
            "Công nhận đảng viên chính thức",
            "Recognised as official members",
        )
        .into(),
        d.official.into(),
    ]);
    head.push(vec![t(en, "Chỉ tiêu", "Target").into(), d.target.into()]);
    head.push(vec![
        t(en, "Đạt % chỉ tiêu", "% of target").into(),
        d.target_percent.into(),
    ]);
    head.push(vec![
        t(en, "Đảng viên đầu năm", "Members at start of year").into(),
        d.members_start.into(),
    ]);
    head.push(vec![
        t(
            en,
            "Kết nạp / đảng viên đầu năm (%)",
            "Admitted / members (%)",
        )
        .into(),
        d.rate_percent.into(),
    ]);
    head.push(vec![
        t(en, "Tổ chức cơ sở đảng", "Grassroots organisations").into(),
        d.no_admission.grassroots_total.into(),
    ]);
    head.push(vec![
        format!(
            "{} {}–{}",
            t(
                en,
                "Tổ chức cơ sở đảng không kết nạp được đảng viên",
                "Grassroots organisations with no admission"
            ),
            d.no_admission.first_year,
            d.no_admission.last_year
        )
        .into(),
        d.no_admission.orgs.len().into(),
    ]);
    let b = &d.breakdown;
    for (label, n) in [
        (t(en, "Nữ", "Women"), b.women),
        (
            t(en, "Dân tộc thiểu số", "Ethnic minorities"),
            b.ethnic_minority,
        ),
        (t(en, "Tuổi 18–30", "Aged 18–30"), b.age_18_30),
        (
            t(en, "Đoàn viên thanh niên", "Youth Union members"),
            b.youth_union,
        ),
    ] {
        head.push(vec![label.into(), n.into()]);
    }

    let mut years = Sheet::new(
        t(en, "Theo năm", "Per year"),
        &[
            t(en, "Năm", "Year"),
            t(en, "Kết nạp", "Admitted"),
            t(en, "Đảng viên đầu năm", "Members at start"),
            t(en, "Tỷ lệ (%)", "Rate (%)"),
            t(en, "Chỉ tiêu", "Target"),
            t(en, "Đạt % chỉ tiêu", "% of target"),
        ],
    );
    for y in &d.per_year {
        years.push(vec![
            i64::from(y.year).into(),
            y.admitted.into(),
            y.members_start.into(),
            y.rate_percent.into(),
            y.target.into(),
            y.target_percent.into(),
        ]);
    }

    let mut orgs = Sheet::new(
        t(en, "Theo tổ chức", "Per organisation"),
        &[
            t(en, "Tổ chức cơ sở đảng", "Grassroots organisation"),
            t(en, "Khối", "Sector"),
            t(en, "Kết nạp", "Admitted"),
            t(en, "Đảng viên đầu năm", "Members at start"),
        ],
    );
    for o in &d.per_org {
        orgs.push(vec![
            o.name.as_str().into(),
            sector_label(&o.sector, en).into(),
            o.count.into(),
            o.members_start.into(),
        ]);
    }

    let mut stages = Sheet::new(
        t(en, "Theo giai đoạn", "Per stage"),
        &[t(en, "Giai đoạn", "Stage"), t(en, "Số hồ sơ", "Case files")],
    );
    for s in &d.per_stage {
        stages.push(vec![stage_label(&s.stage, en).into(), s.count.into()]);
    }

    let cohort = cohort_sheet(&d.cohort, en);

    let mut targets = Sheet::new(
        t(en, "Chỉ tiêu thành phần", "Sub-targets"),
        &[
            t(en, "Nhóm", "Group"),
            t(en, "Chỉ tiêu", "Target"),
            t(en, "Kết nạp", "Admitted"),
            t(en, "Đạt %", "% reached"),
        ],
    );
    for st in &d.sub_targets {
        targets.push(vec![
            if en { &st.label_en } else { &st.label_vi }.as_str().into(),
            st.target.into(),
            st.admitted.into(),
            st.percent.into(),
        ]);
    }
    let mut revisions = Sheet::new(
        t(en, "Điều chỉnh chỉ tiêu", "Target revisions"),
        &[
            t(en, "Chỉ tiêu", "Figure"),
            t(en, "Trước", "Before"),
            t(en, "Sau", "After"),
            t(en, "Hiệu lực", "Effective"),
            t(en, "Quyết định", "Decision"),
        ],
    );
    for r in &d.target_revisions {
        revisions.push(vec![
            r.field.as_str().into(),
            r.old_value.into(),
            r.new_value.into(),
            r.effective
                .as_deref()
                .and_then(|e| e.parse::<shared::date::Date>().ok())
                .into(),
            r.decision.as_str().into(),
        ]);
    }
    let mut classes = Sheet::new(
        t(en, "Lớp nhận thức", "Awareness classes"),
        &[
            t(en, "Lớp", "Class"),
            t(en, "Đơn vị mở lớp", "Opened by"),
            t(en, "Khai giảng", "Start"),
            t(en, "Bế giảng", "End"),
            t(en, "Học viên", "Trainees"),
            t(en, "Được cấp giấy chứng nhận", "Certified"),
            t(en, "Đã kết nạp", "Admitted"),
        ],
    );
    classes.push(vec![
        t(en, "Tổng số lớp trong kỳ", "Classes in the period").into(),
        d.classes.classes.into(),
        Cell::Empty,
        Cell::Empty,
        d.classes.trainees.into(),
        d.classes.certified.into(),
        d.classes.admitted.into(),
    ]);
    for c in &d.classes.list {
        classes.push(vec![
            c.name.as_str().into(),
            c.org_name.as_str().into(),
            Some(c.start_date).into(),
            Some(c.end_date).into(),
            c.participants.into(),
            c.certified.into(),
            c.admitted.into(),
        ]);
    }
    let mut trend = Sheet::new(
        t(en, "Diễn biến", "Trend"),
        &[
            t(en, "Kỳ", "Period"),
            t(en, "Kết nạp", "Admitted"),
            t(en, "Lũy kế", "Cumulative"),
            t(en, "Theo kế hoạch (lũy kế)", "Plan (cumulative)"),
        ],
    );
    for p in &d.trend.points {
        trend.push(vec![
            p.label.as_str().into(),
            p.admitted.into(),
            p.cumulative.into(),
            p.plan.into(),
        ]);
    }

    let mut breakdown = Sheet::new(
        t(en, "Cơ cấu", "Breakdown"),
        &[t(en, "Nhóm", "Group"), t(en, "Kết nạp", "Admitted")],
    );
    for (code, n) in &b.sectors {
        breakdown.push(vec![sector_label(code, en).into(), (*n).into()]);
    }
    for (code, n) in &b.education {
        breakdown.push(vec![education_label(code, en).into(), (*n).into()]);
    }
    for (code, n) in &b.sources {
        breakdown.push(vec![
            format!(
                "{}: {}",
                t(en, "Nguồn", "Source"),
                crate::figures::source_label(code, en)
            )
            .into(),
            (*n).into(),
        ]);
    }
    for (code, n) in &b.occupations {
        breakdown.push(vec![
            crate::figures::occupation_label(code, en).into(),
            (*n).into(),
        ]);
    }

    let mut none = Sheet::new(
        t(en, "Không kết nạp", "No admission"),
        &[
            t(en, "Tổ chức cơ sở đảng", "Grassroots organisation"),
            t(en, "Khối", "Sector"),
            t(en, "Đảng viên đầu năm", "Members at start"),
        ],
    );
    for o in &d.no_admission.orgs {
        none.push(vec![
            o.name.as_str().into(),
            sector_label(&o.sector, en).into(),
            o.members_start.into(),
        ]);
    }
    vec![
        head, years, targets, revisions, trend, orgs, stages, cohort, classes, breakdown, none,
    ]
}

fn plan_status(s: crate::reports::PlanStatus, en: bool) -> &'static str {
    use crate::reports::PlanStatus::*;
    match s {
        NoTarget => t(en, "Chưa giao chỉ tiêu", "No target"),
        Zero => t(en, "Chưa kết nạp", "None admitted"),
        Behind => t(en, "Chậm so với kế hoạch", "Behind plan"),
        OnPlan => t(en, "Đúng hoặc vượt tiến độ", "On or ahead of plan"),
        Reached => t(en, "Đạt chỉ tiêu", "Target reached"),
    }
}

/// Plan vs done of every organisation of a subtree.
pub fn plan_sheets(p: &crate::reports::Plan, en: bool) -> Vec<Sheet> {
    let mut s = Sheet::new(
        t(en, "Kế hoạch và thực hiện", "Plan vs done"),
        &[
            t(en, "Tổ chức", "Organisation"),
            t(en, "Khối", "Sector"),
            t(en, "Chỉ tiêu", "Target"),
            t(en, "Kết nạp", "Admitted"),
            t(en, "Đạt %", "% of target"),
            t(en, "Theo tiến độ đến nay", "Expected to date"),
            t(en, "Đánh giá", "Status"),
            t(en, "Nhiệm kỳ", "Term"),
            t(en, "Chỉ tiêu nhiệm kỳ", "Term target"),
            t(
                en,
                "Kết nạp từ đầu nhiệm kỳ",
                "Admitted in the term to date",
            ),
            t(en, "Đạt % nhiệm kỳ", "% of term target"),
            t(en, "Mã tổ chức", "Organisation id"),
        ],
    );
    for r in &p.rows {
        s.push(vec![
            r.name.as_str().into(),
            sector_label(&r.sector, en).into(),
            r.target.into(),
            r.admitted.into(),
            r.percent.into(),
            r.expected.into(),
            plan_status(r.status, en).into(),
            r.term.clone().unwrap_or_default().into(),
            r.term_target.into(),
            r.term_admitted.map(|n| n as i64).into(),
            r.term_percent.into(),
            r.org_id.as_str().into(),
        ]);
    }
    vec![s]
}

pub fn findings_sheet(rows: &[FindingRow], en: bool) -> Sheet {
    let mut s = Sheet::new(
        t(en, "Phát hiện", "Findings"),
        &[
            t(en, "Họ và tên", "Full name"),
            t(en, "Tổ chức", "Organisation"),
            t(en, "Giai đoạn", "Stage"),
            t(en, "Mức", "Severity"),
            t(en, "Mã", "Code"),
            t(en, "Trường", "Field"),
            t(en, "Nội dung", "Message"),
            t(en, "Đã trả lại", "Returned"),
            t(en, "Mã hồ sơ", "Case id"),
        ],
    );
    for r in rows {
        s.push(vec![
            r.full_name.as_str().into(),
            r.org_name.as_str().into(),
            stage_label(&r.stage, en).into(),
            r.severity.as_str().into(),
            r.code.as_str().into(),
            r.field.as_str().into(),
            if en { &r.message_en } else { &r.message_vi }
                .as_str()
                .into(),
            r.returned.into(),
            r.doc_id.as_str().into(),
        ]);
    }
    s
}

pub fn deadlines_sheets(d: &Deadlines, en: bool) -> Vec<Sheet> {
    let mut s = Sheet::new(
        t(en, "Thời hạn", "Deadlines"),
        &[
            t(en, "Hạn", "Due"),
            t(en, "Quá hạn", "Overdue"),
            t(en, "Còn (ngày)", "Days left"),
            t(en, "Việc", "Task"),
            t(en, "Họ và tên", "Full name"),
            t(en, "Tổ chức", "Organisation"),
            t(en, "Tổ chức cơ sở đảng", "Grassroots organisation"),
            t(en, "Mã hồ sơ", "Case id"),
        ],
    );
    for r in &d.rows {
        s.push(vec![
            Cell::Date(r.due),
            r.overdue.into(),
            i64::from(r.days_left).into(),
            if en { &r.label_en } else { &r.label_vi }.as_str().into(),
            r.full_name.as_str().into(),
            r.org_name.as_str().into(),
            r.grassroots_name.as_str().into(),
            r.doc_id.as_str().into(),
        ]);
    }
    let mut per = Sheet::new(
        t(en, "Theo tổ chức", "Per organisation"),
        &[
            t(en, "Tổ chức cơ sở đảng", "Grassroots organisation"),
            t(en, "Quá hạn", "Overdue"),
            t(en, "Sắp đến hạn", "Upcoming"),
        ],
    );
    for o in &d.per_org {
        per.push(vec![
            o.name.as_str().into(),
            o.overdue.into(),
            o.upcoming.into(),
        ]);
    }
    vec![s, per]
}

/// A date as dd/mm/yyyy, or a dash.
pub fn date(d: Option<Date>) -> String {
    d.map(|d| d.format_vn()).unwrap_or_else(|| "–".into())
}

/// Seconds since the epoch as dd/mm/yyyy hh:mm in Vietnam time (UTC+7).
pub fn format_time(secs: i64) -> String {
    if secs <= 0 {
        return "–".into();
    }
    let (day, s) = Date::vietnam_day_and_seconds(secs);
    format!("{} {:02}:{:02}", day.format_vn(), s / 3600, (s % 3600) / 60)
}

/// A competing or chosen value as people read it.
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(trống)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_quotes_commas_and_quotes() {
        let mut s = Sheet::new("x", &["Tên", "Số"]);
        s.push(vec!["Nguyễn, \"An\"".into(), Cell::Int(3)]);
        let text = String::from_utf8(csv(&s)).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\"Nguyễn, \"\"An\"\"\",3\r\n"));
    }

    #[test]
    fn csv_text_that_looks_like_a_formula_is_neutralised() {
        let mut s = Sheet::new("x", &["a", "b", "c"]);
        s.push(vec![
            Cell::Text("=HYPERLINK(\"http://x\")".into()),
            Cell::Text("@SUM(A1)".into()),
            Cell::Int(-5),
        ]);
        let text = String::from_utf8(csv(&s)).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert_eq!(row, "\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),-5");
    }

    #[test]
    fn an_xlsx_is_a_zip_archive() {
        let mut s = Sheet::new("Hồ sơ", &["Tên"]);
        s.push(vec!["Lê Thị Hoa".into()]);
        let bytes = xlsx(&[s]).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
