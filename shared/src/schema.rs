//! Every fact of `crate::model::CaseFile` as a form field with Vietnamese and English
//! labels, grouped by the stage of the pipeline where the cadre records it.
//!
//! The schema is data, not markup: the PWA's one generic field component draws all of
//! it, and the office's pages name fields and show values with the same labels, so a
//! fact added to the model needs one line here. Paths are relative to the document's
//! `case` map and are the serde names of the model (the document layout).

use crate::stage::Stage;

/// How a fact is typed and validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Text,
    /// A date typed as dd/mm/yyyy, stored as ISO "yyyy-mm-dd".
    Date,
    /// A count (non-negative integer).
    Num,
    Bool,
    /// Yes / no / not recorded.
    Tri,
    /// One of the model's enum codes.
    Choice(&'static [Opt]),
}

/// One choice: the stored code, then the Vietnamese and English labels.
pub type Opt = (&'static str, &'static str, &'static str);

#[derive(Debug)]
pub struct Field {
    pub path: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
    pub kind: Kind,
}

/// A list of records (introducers, verifications, votes).
#[derive(Debug)]
pub struct ListDef {
    pub path: &'static str,
    pub item_vi: &'static str,
    pub item_en: &'static str,
    pub fields: &'static [Field],
    /// The records are votes: show the two-thirds check beside them.
    pub votes: bool,
}

#[derive(Debug)]
pub struct Section {
    /// The stage whose facts these are (used to open the right sections).
    pub stage: Stage,
    pub vi: &'static str,
    pub en: &'static str,
    pub fields: &'static [Field],
    pub lists: &'static [ListDef],
}

const fn f(path: &'static str, vi: &'static str, en: &'static str, kind: Kind) -> Field {
    Field { path, vi, en, kind }
}

use Kind::*;

pub const SEX: &[Opt] = &[
    ("male", "Nam", "Male"),
    ("female", "Nữ", "Female"),
    ("other", "Khác", "Other"),
];

pub const EDUCATION: &[Opt] = &[
    ("none", "Chưa biết đọc, biết viết", "Cannot read and write"),
    ("literate", "Biết đọc, biết viết chữ quốc ngữ", "Literate"),
    ("primary", "Tốt nghiệp tiểu học", "Primary school"),
    (
        "lower_secondary_equivalent",
        "Tương đương THCS (chưa công nhận)",
        "Lower-secondary equivalent",
    ),
    ("lower_secondary", "Tốt nghiệp THCS", "Lower secondary"),
    ("upper_secondary", "Tốt nghiệp THPT", "Upper secondary"),
    ("vocational", "Trung cấp nghề", "Vocational"),
    ("college", "Cao đẳng", "College"),
    ("university", "Đại học", "University"),
    ("postgraduate", "Sau đại học", "Postgraduate"),
];

pub const EDU_EXCEPTION: &[Opt] = &[
    (
        "difficult_area",
        "Vùng cao, biên giới, hải đảo, vùng khó khăn, ngư dân",
        "Difficult area or fisherman",
    ),
    (
        "prestigious_person",
        "Già làng, trưởng bản, người có uy tín",
        "Village elder or prestigious person",
    ),
    ("other", "Khác", "Other"),
];

pub const EXIT_REASON: &[Opt] = &[
    (
        "abandoned_activities",
        "Bỏ sinh hoạt đảng",
        "Abandoned party activities",
    ),
    ("applied_to_leave", "Xin ra khỏi Đảng", "Applied to leave"),
    (
        "applied_to_leave_family_hardship",
        "Xin ra vì hoàn cảnh gia đình",
        "Left for family hardship",
    ),
    (
        "serious_disunity",
        "Gây mất đoàn kết nghiêm trọng",
        "Serious disunity",
    ),
    (
        "corruption_conviction",
        "Bị kết án về tham nhũng",
        "Corruption conviction",
    ),
    (
        "serious_crime",
        "Bị kết án tội nghiêm trọng",
        "Serious crime",
    ),
    (
        "less_serious_crime",
        "Bị kết án tội ít nghiêm trọng",
        "Less serious crime",
    ),
    (
        "population_policy",
        "Vi phạm chính sách dân số",
        "Population policy",
    ),
    ("other", "Khác", "Other"),
];

pub const INTRO_ORG: &[Opt] = &[
    ("youth_union", "Đoàn TNCS Hồ Chí Minh", "Youth Union"),
    ("trade_union", "Công đoàn", "Trade union"),
    ("other", "Khác", "Other"),
];

pub const SOURCE_KIND: &[Opt] = &[
    ("youth_union", "Đoàn Thanh niên", "Youth Union"),
    ("trade_union", "Công đoàn", "Trade union"),
    (
        "other_association",
        "Đoàn thể, hội khác",
        "Other association",
    ),
    ("other", "Khác", "Other"),
];

pub const OCCUPATION: &[Opt] = &[
    (
        "high_school_student",
        "Học sinh trung học phổ thông",
        "High-school student",
    ),
    ("student", "Sinh viên", "Student"),
    ("worker", "Công nhân", "Worker"),
    ("farmer", "Nông dân", "Farmer"),
    (
        "civil_servant",
        "Cán bộ, công chức, viên chức",
        "Civil servant",
    ),
    ("armed_forces", "Lực lượng vũ trang", "Armed forces"),
    (
        "enterprise_owner",
        "Chủ doanh nghiệp tư nhân",
        "Private enterprise owner",
    ),
    (
        "enterprise_employee",
        "Người lao động trong doanh nghiệp",
        "Enterprise employee",
    ),
    ("teacher", "Giáo viên", "Teacher"),
    ("health_worker", "Y tế", "Health worker"),
    ("self_employed", "Lao động tự do", "Self-employed"),
    ("religious", "Chức sắc, nhà tu hành", "Religious dignitary"),
    ("other", "Khác", "Other"),
];

pub const INTRO_PATH: &[Opt] = &[
    (
        "two_members",
        "Hai đảng viên chính thức",
        "Two official members",
    ),
    (
        "youth_union",
        "Ban chấp hành Đoàn cơ sở và một đảng viên",
        "Youth Union committee and one member",
    ),
    (
        "trade_union",
        "Ban chấp hành Công đoàn cơ sở và một đảng viên",
        "Trade-union committee and one member",
    ),
    ("other", "Khác", "Other"),
];

pub const VOTE_METHOD: &[Opt] = &[
    ("secret_ballot", "Bỏ phiếu kín", "Secret ballot"),
    ("show_of_cards", "Giơ thẻ", "Show of cards"),
    ("other", "Khác", "Other"),
];

pub const STOP_REASON: &[Opt] = &[
    ("withdrew", "Xin rút", "Withdrew"),
    ("not_admitted", "Không được kết nạp", "Not admitted"),
    ("name_removed", "Xóa tên", "Name removed"),
    ("other", "Khác", "Other"),
];

const VOTE: &[Field] = &[
    f("meeting_date", "Ngày họp", "Meeting date", Date),
    f("attempt", "Lần xét thứ", "Attempt", Num),
    f(
        "official_members_total",
        "Tổng số đảng viên chính thức",
        "Official members",
        Num,
    ),
    f(
        "excluded_temporary",
        "Số sinh hoạt tạm thời nơi khác",
        "On temporary activity elsewhere",
        Num,
    ),
    f(
        "excluded_exempt_absent",
        "Số miễn sinh hoạt và vắng",
        "Exempt and absent",
        Num,
    ),
    f("present", "Số có mặt", "Present", Num),
    f("votes_for", "Số tán thành", "Votes for", Num),
    f("votes_against", "Số không tán thành", "Votes against", Num),
    f("invalid", "Phiếu không hợp lệ", "Invalid ballots", Num),
    f(
        "method",
        "Hình thức biểu quyết",
        "Voting method",
        Choice(VOTE_METHOD),
    ),
];

pub const SECTIONS: &[Section] = &[
    Section {
        stage: Stage::Source,
        vi: "Tạo nguồn — quần chúng ưu tú",
        en: "Source — outstanding person",
        fields: &[
            f("person.full_name", "Họ và tên", "Full name", Text),
            f("person.birth_date", "Ngày sinh", "Date of birth", Date),
            f(
                "person.id_number",
                "Số CCCD/CMND",
                "Identity-card number",
                Text,
            ),
            f("person.sex", "Giới tính", "Sex", Choice(SEX)),
            f("person.ethnicity", "Dân tộc", "Ethnicity", Text),
            f("person.religion", "Tôn giáo", "Religion", Text),
            f(
                "person.education_level",
                "Trình độ học vấn",
                "Education",
                Choice(EDUCATION),
            ),
            f(
                "person.education_exception",
                "Trường hợp đặc biệt về học vấn",
                "Education exception",
                Choice(EDU_EXCEPTION),
            ),
            f("person.residence_unit", "Nơi cư trú", "Residence", Text),
            f(
                "person.workplace_unit",
                "Nơi công tác, học tập",
                "Workplace or school",
                Text,
            ),
            f(
                "person.youth_union_member",
                "Là đoàn viên Đoàn TNCS Hồ Chí Minh",
                "Youth Union member",
                Bool,
            ),
            f(
                "person.youth_union_unit",
                "Tổ chức Đoàn",
                "Youth Union unit",
                Text,
            ),
            f(
                "person.trade_union_member",
                "Là đoàn viên công đoàn",
                "Trade-union member",
                Bool,
            ),
            f(
                "person.private_business_owner",
                "Là chủ doanh nghiệp tư nhân",
                "Private business owner",
                Bool,
            ),
            f(
                "person.occupation",
                "Nghề nghiệp",
                "Occupation",
                Choice(OCCUPATION),
            ),
            f(
                "source.kind",
                "Nguồn giới thiệu (loại)",
                "Source (kind)",
                Choice(SOURCE_KIND),
            ),
            f(
                "source.origin_org",
                "Tổ chức giới thiệu nguồn",
                "Proposed by",
                Text,
            ),
            f(
                "source.outstanding_list_date",
                "Ngày vào danh sách quần chúng ưu tú",
                "Outstanding list date",
                Date,
            ),
            f(
                "source.helper_name",
                "Đảng viên giúp đỡ",
                "Helper (member)",
                Text,
            ),
            f(
                "source.helper_member_id",
                "Mã đảng viên giúp đỡ",
                "Helper's member id",
                Text,
            ),
            f(
                "source.unit_has_youth_union",
                "Đơn vị có tổ chức Đoàn",
                "Unit has a Youth Union",
                Tri,
            ),
            f(
                "source.no_party_organisation",
                "Nơi làm việc chưa có tổ chức đảng",
                "No party organisation at the base",
                Bool,
            ),
            f(
                "source.helping_branch",
                "Chi bộ được giao giúp đỡ",
                "Branch assigned to help",
                Text,
            ),
            f(
                "person.readmission.is_readmission",
                "Kết nạp lại",
                "Re-admission",
                Bool,
            ),
            f(
                "person.readmission.previous_exit_date",
                "Ngày ra khỏi Đảng trước đây",
                "Previous exit date",
                Date,
            ),
            f(
                "person.readmission.exit_reason",
                "Lý do ra khỏi Đảng",
                "Exit reason",
                Choice(EXIT_REASON),
            ),
            f(
                "person.readmission.expunge_date",
                "Ngày xóa án tích",
                "Record expunged on",
                Date,
            ),
            f(
                "person.readmission.provincial_approval_number",
                "Số văn bản đồng ý của tỉnh ủy",
                "Provincial approval no.",
                Text,
            ),
            f(
                "person.readmission.provincial_approval_date",
                "Ngày văn bản đồng ý",
                "Provincial approval date",
                Date,
            ),
            f(
                "person.readmission.previously_readmitted",
                "Đã từng được kết nạp lại",
                "Already re-admitted once",
                Bool,
            ),
        ],
        lists: &[],
    },
    Section {
        stage: Stage::AwarenessClass,
        vi: "Lớp bồi dưỡng nhận thức về Đảng",
        en: "Party awareness class",
        fields: &[
            f("awareness_class.class_name", "Tên lớp", "Class", Text),
            f(
                "awareness_class.certificate_number",
                "Số giấy chứng nhận",
                "Certificate number",
                Text,
            ),
            f("awareness_class.issuer", "Nơi cấp", "Issued by", Text),
            f(
                "awareness_class.certificate_date",
                "Ngày cấp giấy chứng nhận",
                "Certificate date",
                Date,
            ),
        ],
        lists: &[],
    },
    Section {
        stage: Stage::FilePreparation,
        vi: "Hoàn thiện hồ sơ",
        en: "File preparation",
        fields: &[
            f(
                "application.letter_date",
                "Ngày đơn xin vào Đảng",
                "Application letter date",
                Date,
            ),
            f(
                "biography.declared_date",
                "Ngày khai lý lịch",
                "Biography declared on",
                Date,
            ),
            f(
                "biography.chi_uy_comment_date",
                "Ngày chi ủy nhận xét lý lịch",
                "Branch committee comment",
                Date,
            ),
            f(
                "biography.grassroots_certification_date",
                "Ngày đảng ủy cơ sở chứng nhận lý lịch",
                "Grassroots certification",
                Date,
            ),
            f(
                "biography.political_standard_cleared_by",
                "Cơ quan kết luận tiêu chuẩn chính trị",
                "Political standard cleared by",
                Text,
            ),
            f(
                "biography.political_standard_cleared_date",
                "Ngày kết luận tiêu chuẩn chính trị",
                "Political standard cleared on",
                Date,
            ),
            f(
                "biography.supplement_date",
                "Ngày bổ sung lý lịch",
                "Supplementary declaration",
                Date,
            ),
            f(
                "introduction_path",
                "Hình thức giới thiệu",
                "Introduction path",
                Choice(INTRO_PATH),
            ),
            f(
                "introducing_org.kind",
                "Tổ chức giới thiệu",
                "Introducing organisation",
                Choice(INTRO_ORG),
            ),
            f(
                "introducing_org.resolution_number",
                "Số nghị quyết giới thiệu",
                "Resolution number",
                Text,
            ),
            f(
                "introducing_org.resolution_date",
                "Ngày nghị quyết giới thiệu",
                "Resolution date",
                Date,
            ),
            f(
                "opinions.residence_date",
                "Ngày nhận xét của chi ủy nơi cư trú",
                "Residence opinion",
                Date,
            ),
            f(
                "opinions.workplace_date",
                "Ngày nhận xét của đoàn thể nơi làm việc",
                "Workplace opinion",
                Date,
            ),
            f(
                "opinions.summary_date",
                "Ngày tổng hợp ý kiến (Mẫu 5-KNĐ)",
                "Opinion summary",
                Date,
            ),
            f(
                "approvals.over_60.number",
                "Trên 60 tuổi: số văn bản đồng ý",
                "Over 60: approval no.",
                Text,
            ),
            f(
                "approvals.over_60.date",
                "Trên 60 tuổi: ngày văn bản",
                "Over 60: approval date",
                Date,
            ),
            f(
                "approvals.over_60.body",
                "Trên 60 tuổi: cơ quan đồng ý",
                "Over 60: approving body",
                Text,
            ),
            f(
                "approvals.over_60.basis",
                "Trên 60 tuổi: căn cứ",
                "Over 60: basis",
                Text,
            ),
            f(
                "approvals.literacy.number",
                "Học vấn đặc biệt: số văn bản",
                "Literacy: approval no.",
                Text,
            ),
            f(
                "approvals.literacy.date",
                "Học vấn đặc biệt: ngày văn bản",
                "Literacy: approval date",
                Date,
            ),
            f(
                "approvals.literacy.body",
                "Học vấn đặc biệt: cơ quan đồng ý",
                "Literacy: approving body",
                Text,
            ),
        ],
        lists: &[
            ListDef {
                path: "introducers",
                item_vi: "Người giới thiệu",
                item_en: "Introducer",
                fields: &[
                    f("name", "Họ và tên", "Name", Text),
                    f("member_id", "Mã đảng viên", "Member id", Text),
                    f(
                        "official_since",
                        "Ngày vào Đảng chính thức",
                        "Official member since",
                        Date,
                    ),
                    f(
                        "co_working_since",
                        "Cùng công tác từ ngày",
                        "Working together since",
                        Date,
                    ),
                    f(
                        "letter_date",
                        "Ngày giấy giới thiệu (Mẫu 3-KNĐ)",
                        "Introduction letter",
                        Date,
                    ),
                    f(
                        "replacement",
                        "Được phân công thay thế",
                        "Assigned as replacement",
                        Bool,
                    ),
                ],
                votes: false,
            },
            ListDef {
                path: "biography.verifications",
                item_vi: "Thẩm tra lý lịch",
                item_en: "Biography verification",
                fields: &[
                    f("target", "Người được thẩm tra", "Person verified", Text),
                    f(
                        "relation",
                        "Quan hệ (bản thân, cha, mẹ, vợ/chồng…)",
                        "Relation",
                        Text,
                    ),
                    f("sent_date", "Ngày gửi công văn", "Request sent", Date),
                    f("reply_date", "Ngày nhận trả lời", "Reply received", Date),
                    f("result", "Kết quả", "Result", Text),
                ],
                votes: false,
            },
        ],
    },
    Section {
        stage: Stage::BranchVote,
        vi: "Chi bộ xét, đề nghị kết nạp",
        en: "Branch vote on admission",
        fields: &[],
        lists: &[ListDef {
            path: "branch_votes",
            item_vi: "Lần họp xét",
            item_en: "Branch meeting",
            fields: VOTE,
            votes: true,
        }],
    },
    Section {
        stage: Stage::Committee,
        vi: "Đảng ủy cơ sở xét",
        en: "Grassroots committee",
        fields: &[
            f(
                "committee.authorised",
                "Đảng ủy cơ sở được ủy quyền kết nạp",
                "Committee authorised to admit",
                Bool,
            ),
            f(
                "committee.members_total",
                "Tổng số cấp ủy viên",
                "Committee members",
                Num,
            ),
            f(
                "committee.votes_for",
                "Số cấp ủy viên tán thành",
                "Members in favour",
                Num,
            ),
            f(
                "committee.resolution_number",
                "Số nghị quyết",
                "Resolution number",
                Text,
            ),
            f(
                "committee.resolution_date",
                "Ngày nghị quyết",
                "Resolution date",
                Date,
            ),
        ],
        lists: &[],
    },
    Section {
        stage: Stage::Decision,
        vi: "Quyết định kết nạp",
        en: "Admission decision",
        fields: &[
            f("decision.number", "Số quyết định", "Decision number", Text),
            f(
                "decision.deciding_body",
                "Cấp ủy ra quyết định",
                "Deciding committee",
                Text,
            ),
            f(
                "decision.date_signed",
                "Ngày ký quyết định",
                "Date signed",
                Date,
            ),
            f(
                "decision.date_received",
                "Ngày chi bộ nhận quyết định",
                "Date received by the branch",
                Date,
            ),
            f(
                "decision.extension_granted",
                "Đã được gia hạn (tối đa 30 ngày làm việc)",
                "Extension granted",
                Bool,
            ),
        ],
        lists: &[],
    },
    Section {
        stage: Stage::Probation,
        vi: "Lễ kết nạp, đảng viên dự bị",
        en: "Ceremony and probation",
        fields: &[
            f(
                "probation.ceremony_date",
                "Ngày lễ kết nạp",
                "Ceremony date",
                Date,
            ),
            f("probation.helper_name", "Đảng viên giúp đỡ", "Helper", Text),
            f(
                "probation.helper_member_id",
                "Mã đảng viên giúp đỡ",
                "Helper's member id",
                Text,
            ),
            f(
                "probation.course_certificate_number",
                "Số giấy chứng nhận lớp đảng viên mới",
                "New-member course certificate",
                Text,
            ),
            f(
                "probation.course_certificate_date",
                "Ngày cấp giấy chứng nhận",
                "Certificate date",
                Date,
            ),
        ],
        lists: &[],
    },
    Section {
        stage: Stage::Recognition,
        vi: "Xét công nhận đảng viên chính thức",
        en: "Recognition as official member",
        fields: &[
            f(
                "recognition.self_assessment_date",
                "Ngày bản tự kiểm điểm",
                "Self-assessment",
                Date,
            ),
            f(
                "recognition.helper_assessment_date",
                "Ngày nhận xét của người giúp đỡ",
                "Helper's assessment",
                Date,
            ),
            f(
                "recognition.opinions_summary_date",
                "Ngày tổng hợp ý kiến",
                "Opinion summary",
                Date,
            ),
            f(
                "recognition.committee_resolution_number",
                "Số nghị quyết của đảng ủy cơ sở",
                "Committee resolution no.",
                Text,
            ),
            f(
                "recognition.committee_resolution_date",
                "Ngày nghị quyết",
                "Committee resolution date",
                Date,
            ),
            f(
                "recognition.decision_number",
                "Số quyết định công nhận",
                "Recognition decision no.",
                Text,
            ),
            f(
                "recognition.decision_date",
                "Ngày quyết định công nhận",
                "Recognition decision date",
                Date,
            ),
            f(
                "official_date",
                "Ngày trở thành đảng viên chính thức",
                "Official member from",
                Date,
            ),
        ],
        lists: &[ListDef {
            path: "recognition.votes",
            item_vi: "Lần chi bộ xét công nhận",
            item_en: "Recognition vote",
            fields: VOTE,
            votes: true,
        }],
    },
    Section {
        stage: Stage::Official,
        vi: "Thẻ đảng viên",
        en: "Party card",
        fields: &[
            f("card.number", "Số thẻ đảng viên", "Card number", Text),
            f(
                "card.handed_over_date",
                "Ngày trao thẻ",
                "Handed over on",
                Date,
            ),
        ],
        lists: &[],
    },
    Section {
        stage: Stage::Stopped,
        vi: "Dừng hồ sơ",
        en: "Stop the file",
        fields: &[
            f("stop.reason", "Lý do dừng", "Reason", Choice(STOP_REASON)),
            f("stop.date", "Ngày dừng", "Date", Date),
            f("stop.note", "Ghi chú", "Note", Text),
        ],
        lists: &[],
    },
];

/// The date a cadre must enter to move a case into `next`, with its label.
pub fn key_fact(next: Stage) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match next {
        Stage::AwarenessClass => (
            "awareness_class.certificate_date",
            "Ngày cấp giấy chứng nhận lớp nhận thức về Đảng",
            "Awareness-class certificate date",
        ),
        Stage::FilePreparation => (
            "application.letter_date",
            "Ngày đơn xin vào Đảng",
            "Application letter date",
        ),
        Stage::BranchVote => (
            "branch_votes",
            "Ngày chi bộ họp xét kết nạp",
            "Date of the branch meeting",
        ),
        Stage::Committee => (
            "committee.resolution_date",
            "Ngày nghị quyết của đảng ủy cơ sở",
            "Grassroots resolution date",
        ),
        Stage::Decision => (
            "decision.date_signed",
            "Ngày ký quyết định kết nạp",
            "Date the decision was signed",
        ),
        Stage::Probation => (
            "probation.ceremony_date",
            "Ngày tổ chức lễ kết nạp",
            "Ceremony date",
        ),
        Stage::Recognition => (
            "recognition.self_assessment_date",
            "Ngày bản tự kiểm điểm",
            "Self-assessment date",
        ),
        Stage::Official => (
            "recognition.decision_date",
            "Ngày quyết định công nhận chính thức",
            "Recognition decision date",
        ),
        Stage::Source | Stage::Stopped => return None,
    })
}

/// The label of a choice code in the current language.
pub fn opt_label(opts: &[Opt], code: &str) -> Option<(&'static str, &'static str)> {
    opts.iter().find(|o| o.0 == code).map(|o| (o.1, o.2))
}

/// The facts to record while a file is at `stage`, before it moves on (the key date
/// of the next stage, recorded by "Chuyển bước", is not among them). A pattern with
/// `[]` is about the latest record of its list; a list's own path asks for one record.
pub fn stage_checklist(stage: Stage) -> &'static [&'static str] {
    match stage {
        Stage::Source => &[
            "person.full_name",
            "person.birth_date",
            "person.sex",
            "person.ethnicity",
            "person.education_level",
            "person.residence_unit",
            "source.outstanding_list_date",
            "source.helper_name",
        ],
        Stage::AwarenessClass => &[
            "awareness_class.class_name",
            "awareness_class.certificate_number",
            "awareness_class.issuer",
        ],
        Stage::FilePreparation => &[
            "biography.declared_date",
            "biography.chi_uy_comment_date",
            "biography.grassroots_certification_date",
            "introduction_path",
            "introducers",
            "opinions.residence_date",
            "opinions.summary_date",
        ],
        Stage::BranchVote => &[
            "branch_votes[].official_members_total",
            "branch_votes[].present",
            "branch_votes[].votes_for",
            "branch_votes[].method",
            "committee.members_total",
            "committee.votes_for",
            "committee.resolution_number",
        ],
        Stage::Committee => &["decision.number", "decision.deciding_body"],
        Stage::Decision => &["decision.date_received"],
        Stage::Probation => &["probation.helper_name", "probation.course_certificate_date"],
        Stage::Recognition => &[
            "recognition.helper_assessment_date",
            "recognition.opinions_summary_date",
            "recognition.votes",
            "recognition.committee_resolution_date",
        ],
        Stage::Official => &["official_date", "card.number", "card.handed_over_date"],
        Stage::Stopped => &["stop.reason", "stop.date"],
    }
}

/// Whether a checklist fact is recorded in the case as JSON (see [`stage_checklist`]).
pub fn fact_recorded(case: &serde_json::Value, pattern: &str) -> bool {
    fn at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
        path.split('.').try_fold(v, |v, k| v.get(k))
    }
    let filled = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
        Some(serde_json::Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    };
    match pattern.split_once("[].") {
        Some((list, field)) => at(case, list)
            .and_then(|l| l.as_array())
            .and_then(|l| l.last())
            .is_some_and(|item| filled(at(item, field))),
        None => filled(at(case, pattern)),
    }
}

/// A field found by the pattern rule findings use ("person.birth_date",
/// "branch_votes[].meeting_date"), with the list it belongs to, if any, and its section.
pub fn field_by_pattern(
    pattern: &str,
) -> Option<(&'static Section, Option<&'static ListDef>, &'static Field)> {
    for s in SECTIONS {
        if let Some(f) = s.fields.iter().find(|f| f.path == pattern) {
            return Some((s, None, f));
        }
        for l in s.lists {
            if let Some(rest) = pattern
                .strip_prefix(l.path)
                .and_then(|r| r.strip_prefix("[]."))
                && let Some(f) = l.fields.iter().find(|f| f.path == rest)
            {
                return Some((s, Some(l), f));
            }
        }
    }
    None
}

/// "branch_votes.0.present" → "branch_votes[].present": a document path as the pattern
/// findings and the schema use.
pub fn pattern_of(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('.') {
        if seg.parse::<usize>().is_ok() {
            out.push_str("[]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// A list of records named by its path ("branch_votes").
pub fn list_by_path(path: &str) -> Option<&'static ListDef> {
    SECTIONS
        .iter()
        .flat_map(|s| s.lists.iter())
        .find(|l| l.path == path)
}

/// The label people read for a document path or a finding's pattern, in Vietnamese and
/// English: "Ngày sinh", "Lần biểu quyết 2 — Số có mặt". A path the schema does not know
/// keeps a readable fallback built from its list and its last segment, never the path.
pub fn path_label(path: &str) -> (String, String) {
    let pattern = pattern_of(path);
    // The 1-based position of the record in its list, when the path names one.
    let index = path
        .split('.')
        .find_map(|s| s.parse::<usize>().ok())
        .map(|i| i + 1);
    if let Some((_, list, f)) = field_by_pattern(&pattern) {
        return match (list, index) {
            (Some(l), Some(i)) => (
                format!("{} {i} — {}", l.item_vi, f.vi),
                format!("{} {i} — {}", l.item_en, f.en),
            ),
            (Some(l), None) => (
                format!("{} — {}", l.item_vi, f.vi),
                format!("{} — {}", l.item_en, f.en),
            ),
            _ => (f.vi.to_string(), f.en.to_string()),
        };
    }
    // A whole record ("branch_votes.1") or a whole list ("introducers").
    let head = pattern.split("[]").next().unwrap_or_default();
    if let Some(l) = list_by_path(head) {
        return match index {
            Some(i) => (format!("{} {i}", l.item_vi), format!("{} {i}", l.item_en)),
            None => (l.item_vi.to_string(), l.item_en.to_string()),
        };
    }
    // Parts of the document the forms do not show (the reviewer's map, the file's unit).
    match pattern.as_str() {
        "org_id" => return ("Chi bộ".into(), "Branch".into()),
        "review.returned" => return ("Trả lại để bổ sung".into(), "Returned".into()),
        "review.comment" => return ("Ý kiến của cấp trên".into(), "Reviewer's comment".into()),
        "review.merged_into" => return ("Đã gộp vào hồ sơ".into(), "Merged into".into()),
        _ => {}
    }
    let last = pattern
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches("[]")
        .replace('_', " ");
    (format!("Mục «{last}»"), format!("Item «{last}»"))
}

/// A stored value as people read it: choice labels, dates dd/mm/yyyy, yes/no, in
/// Vietnamese (`vi`) or English. Empty values are "(trống)" / "(empty)".
pub fn value_label(path: &str, value: &serde_json::Value, vi: bool) -> String {
    use serde_json::Value as J;
    let pick = |a: &str, b: &str| if vi { a.to_string() } else { b.to_string() };
    let kind = field_by_pattern(&pattern_of(path)).map(|(_, _, f)| f.kind);
    match (kind, value) {
        (_, J::Null) => pick("(trống)", "(empty)"),
        (_, J::String(s)) if s.is_empty() => pick("(trống)", "(empty)"),
        (Some(Kind::Choice(opts)), J::String(s)) => opt_label(opts, s)
            .map(|(a, b)| pick(a, b))
            .unwrap_or_else(|| s.clone()),
        (Some(Kind::Date), J::String(s)) => s
            .parse::<crate::date::Date>()
            .map(|d| d.format_vn())
            .unwrap_or_else(|_| s.clone()),
        (_, J::Bool(true)) => pick("Có", "Yes"),
        (_, J::Bool(false)) => pick("Không", "No"),
        (_, J::String(s)) => s.clone(),
        (_, J::Number(n)) => n.to_string(),
        (_, J::Array(a)) => {
            if vi {
                format!("({} mục)", a.len())
            } else {
                format!("({} entries)", a.len())
            }
        }
        (_, J::Object(_)) => pick("(bản ghi)", "(record)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_fields_and_records_never_paths() {
        assert_eq!(path_label("person.birth_date").0, "Ngày sinh");
        let (vi, en) = path_label("branch_votes.1.present");
        assert!(
            vi.ends_with(" 2 — Số có mặt") || vi.contains(" 2 — "),
            "{vi}"
        );
        assert!(
            !vi.contains('.') && !en.contains("branch_votes"),
            "{vi} / {en}"
        );
        let (vi, _) = path_label("branch_votes[].meeting_date");
        assert!(!vi.contains("[]"), "{vi}");
        assert!(!path_label("introducers.0").0.contains("introducers"));
        assert_eq!(
            pattern_of("recognition.votes.3.votes_for"),
            "recognition.votes[].votes_for"
        );
    }

    #[test]
    fn every_checklist_fact_has_a_field() {
        for s in Stage::ALL {
            for p in stage_checklist(s) {
                assert!(
                    field_by_pattern(p).is_some() || list_by_path(p).is_some(),
                    "{p} of {s:?} is not in the schema"
                );
            }
        }
        let case = serde_json::json!({"person": {"full_name": "A", "birth_date": null},
            "branch_votes": [{"present": 3}, {"present": null}]});
        assert!(fact_recorded(&case, "person.full_name"));
        assert!(!fact_recorded(&case, "person.birth_date"));
        assert!(
            !fact_recorded(&case, "branch_votes[].present"),
            "the latest vote counts"
        );
        assert!(!fact_recorded(&case, "introducers"));
    }

    #[test]
    fn values_read_as_people_write_them() {
        use serde_json::json;
        assert_eq!(
            value_label("person.birth_date", &json!("2001-03-05"), true),
            "05/03/2001"
        );
        assert_eq!(value_label("person.sex", &json!("female"), true), "Nữ");
        assert_eq!(value_label("person.sex", &json!("female"), false), "Female");
        assert_eq!(
            value_label("person.youth_union_member", &json!(true), true),
            "Có"
        );
        assert_eq!(
            value_label("person.ethnicity", &json!(null), true),
            "(trống)"
        );
    }
}
