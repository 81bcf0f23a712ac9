//! Labels of the codes reports show: sectors, education levels, stages.

use shared::stage::Stage;

/// Labels of the sector codes used by the organisation tree.
pub fn sector_label(code: &str, en: bool) -> String {
    let (vi, e) = match code {
        "phuong" => ("Khối phường", "Wards"),
        "hcsn" => (
            "Khối lực lượng vũ trang, cơ quan hành chính, sự nghiệp công lập",
            "Armed forces, administration, public service units",
        ),
        "dnnn" => ("Khối doanh nghiệp Nhà nước", "State-owned enterprises"),
        "dnk" => (
            "Khối doanh nghiệp ngoài Nhà nước, HTX, sự nghiệp ngoài công lập",
            "Private enterprises, cooperatives, non-public units",
        ),
        "" => ("(không ghi khối)", "(no sector)"),
        other => (other, other),
    };
    if en { e.into() } else { vi.into() }
}

/// Labels of the education codes stored in projections.
pub fn education_label(code: &str, en: bool) -> &'static str {
    let (vi, e) = match code {
        "none" => ("Chưa biết chữ", "None"),
        "literate" => ("Biết đọc, biết viết", "Literate"),
        "primary" => ("Tiểu học", "Primary"),
        "lower_secondary_equivalent" => ("Tương đương THCS", "Lower secondary (equivalent)"),
        "lower_secondary" => ("Trung học cơ sở", "Lower secondary"),
        "upper_secondary" => ("Trung học phổ thông", "Upper secondary"),
        "vocational" => ("Trung cấp", "Vocational"),
        "college" => ("Cao đẳng", "College"),
        "university" => ("Đại học", "University"),
        "postgraduate" => ("Sau đại học", "Postgraduate"),
        "none_recorded" => ("Chưa ghi", "Not recorded"),
        _ => ("Khác", "Other"),
    };
    if en { e } else { vi }
}

pub fn stage_label(code: &str, en: bool) -> String {
    match Stage::from_code(code) {
        Some(s) if en => s.label_en().into(),
        Some(s) => s.label_vi().into(),
        None => code.into(),
    }
}
