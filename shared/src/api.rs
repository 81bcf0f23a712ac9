//! The contract between the PWA and the server, outside the sync protocol
//! (`crate::sync`): sign-in, the account and its role, the reference data of a scope,
//! the error body, the codes of refused sync documents, and the message a reviewer's
//! change carries in the document history. One definition, used by the client, the
//! server and the test devices; the JSON shapes are the ones both sides have always
//! exchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rules::RuleSettings;

/// A closed list of machine codes sent as strings. A code this build does not know (sent
/// by a newer peer) is kept as `Other`, so that it round-trips unchanged.
macro_rules! wire_codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A code unknown to this build, as it was received.
            Other(String),
        }

        impl $name {
            /// Every code this build knows.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code as it goes on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                }
            }

            /// The code of a wire string; `Other` for one this build does not know.
            pub fn parse(s: &str) -> $name {
                match s {
                    $($text => $name::$variant,)*
                    _ => $name::Other(s.to_string()),
                }
            }
        }

        /// A code reads as its wire string wherever text is expected.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}

wire_codes! {
    /// The `code` of an error answered by the server (`ErrorBody`).
    ErrorCode {
        AccountInactive => "ACCOUNT_INACTIVE",
        ActorTaken => "ACTOR_TAKEN",
        AlreadyResolved => "ALREADY_RESOLVED",
        BadAction => "BAD_ACTION",
        BadActor => "BAD_ACTOR",
        BadBody => "BAD_BODY",
        BadChoice => "BAD_CHOICE",
        BadClass => "BAD_CLASS",
        BadCredentials => "BAD_CREDENTIALS",
        BadDate => "BAD_DATE",
        BadFile => "BAD_FILE",
        BadFilter => "BAD_FILTER",
        BadFormat => "BAD_FORMAT",
        /// A JSON body that does not parse or does not have the expected fields.
        BadJson => "BAD_JSON",
        BadName => "BAD_NAME",
        BadNumber => "BAD_NUMBER",
        BadOrg => "BAD_ORG",
        BadOrgId => "BAD_ORG_ID",
        /// A query string that does not have the expected fields.
        BadQuery => "BAD_QUERY",
        BadRequest => "BAD_REQUEST",
        BadRole => "BAD_ROLE",
        BadSetting => "BAD_SETTING",
        BadState => "BAD_STATE",
        BadSubTarget => "BAD_SUB_TARGET",
        BadSurvivor => "BAD_SURVIVOR",
        BadTerm => "BAD_TERM",
        BadUsername => "BAD_USERNAME",
        BadValue => "BAD_VALUE",
        BodyTooLarge => "BODY_TOO_LARGE",
        Csrf => "CSRF",
        DecisionRequired => "DECISION_REQUIRED",
        /// The device was revoked: its data must be erased.
        DeviceRevoked => "DEVICE_REVOKED",
        EmptyComment => "EMPTY_COMMENT",
        Forbidden => "FORBIDDEN",
        HandoffOutOfScope => "HANDOFF_OUT_OF_SCOPE",
        HandoffUnknownDevice => "HANDOFF_UNKNOWN_DEVICE",
        HandoffUnreadable => "HANDOFF_UNREADABLE",
        ImportInvalid => "IMPORT_INVALID",
        Internal => "INTERNAL",
        InvalidImport => "INVALID_IMPORT",
        MalformedSync => "MALFORMED_SYNC",
        NoticeRequired => "NOTICE_REQUIRED",
        NotFound => "NOT_FOUND",
        OrgClosed => "ORG_CLOSED",
        OrgCycle => "ORG_CYCLE",
        OrgExists => "ORG_EXISTS",
        OrgNotEmpty => "ORG_NOT_EMPTY",
        OrgRoot => "ORG_ROOT",
        OrgSame => "ORG_SAME",
        PasswordsDiffer => "PASSWORDS_DIFFER",
        PreviewExpired => "PREVIEW_EXPIRED",
        ReasonRequired => "REASON_REQUIRED",
        RequestTimeout => "REQUEST_TIMEOUT",
        SelfLockout => "SELF_LOCKOUT",
        /// Too many requests wait for the server's work already: try again later.
        ServerBusy => "SERVER_BUSY",
        TermNotRecorded => "TERM_NOT_RECORDED",
        /// The session expired: sign in again.
        TokenExpired => "TOKEN_EXPIRED",
        TooManyAttempts => "TOO_MANY_ATTEMPTS",
        TooManyDocuments => "TOO_MANY_DOCUMENTS",
        /// No valid session: sign in again.
        Unauthenticated => "UNAUTHENTICATED",
        UsernameTaken => "USERNAME_TAKEN",
        WeakPassword => "WEAK_PASSWORD",
        WrongYear => "WRONG_YEAR",
    }
}

wire_codes! {
    /// Why the server refused one document of a sync push (`crate::sync::Rejection`).
    RejectionCode {
        /// A change written by an actor id not bound to the pushing device.
        ForeignActor => "FOREIGN_ACTOR",
        OutOfScope => "OUT_OF_SCOPE",
        /// The document does not fit the case-file model.
        InvalidDocument => "INVALID_DOCUMENT",
        /// Change bytes that do not parse.
        BadChange => "BAD_CHANGE",
        MissingDeps => "MISSING_DEPS",
        LimitExceeded => "LIMIT_EXCEEDED",
        /// A field the device's role may not write.
        FieldNotWritable => "FIELD_NOT_WRITABLE",
        /// A change already stored under another file.
        ChangeOfOtherDoc => "CHANGE_OF_OTHER_DOC",
        /// The server failed to store the document; the push may be repeated.
        Internal => "INTERNAL",
    }
}

/// The body of every error answer: `{"error": {"code", "message_vi", "message_en"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    #[serde(default)]
    pub message_vi: String,
    #[serde(default)]
    pub message_en: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message_vi: String, message_en: String) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code,
                message_vi,
                message_en,
            },
        }
    }
}

/// What an account may do: cadres edit files on devices, reviewers work the central
/// office's queues, administrators also manage accounts, reference data and settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cadre,
    Reviewer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Cadre, Role::Reviewer, Role::Admin];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cadre => "cadre",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    /// Whether the role may use the reviewer's screens (reviewers and administrators).
    pub fn reviews(self) -> bool {
        matches!(self, Role::Reviewer | Role::Admin)
    }
}

/// `POST /api/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub device_name: String,
    /// The Automerge actor id (hex) this device will write with.
    #[serde(default)]
    pub actor: Option<String>,
}

/// The signed-in account as the server describes it (`/api/login`, `/api/me`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope_org: String,
    /// Materialised path of the scope organisation: its subtree shares this prefix.
    #[serde(default)]
    pub scope_path: String,
    pub device_id: String,
}

/// The answer to `POST /api/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub device_id: String,
    pub expires_at: i64,
    pub user: User,
    /// Set after an administrator reset the password: the user must choose a new one.
    #[serde(default)]
    pub must_change_password: bool,
}

/// What a device keeps of a login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub device_id: String,
    pub expires_at: i64,
    pub user: User,
    /// The Automerge actor this device writes with (bound to the device at login).
    #[serde(default)]
    pub actor: String,
}

impl Session {
    /// The session a login opened for the device writing with `actor`.
    pub fn of_login(login: LoginResponse, actor: String) -> Session {
        Session {
            token: login.token,
            device_id: login.device_id,
            expires_at: login.expires_at,
            user: login.user,
            actor,
        }
    }
}

/// One organisation of the tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub name: String,
    /// `district`, `committee` (đảng bộ), `branch` (chi bộ) or `sub_branch`.
    pub kind: String,
    #[serde(default)]
    pub sector: String,
    /// A grassroots party organisation (tổ chức cơ sở đảng).
    #[serde(default)]
    pub grassroots: bool,
}

/// A party member of the register (an introducer a file may name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub org_id: String,
    pub full_name: String,
    #[serde(default)]
    pub official_since: Option<String>,
    #[serde(default = "official")]
    pub status: String,
}

fn official() -> String {
    "official".into()
}

impl Default for Member {
    fn default() -> Member {
        Member {
            id: String::new(),
            org_id: String::new(),
            full_name: String::new(),
            official_since: None,
            status: official(),
        }
    }
}

/// An awareness class a device may pick.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub organiser: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub end_date: String,
}

/// `GET /api/reference`: the read-only reference data of the caller's scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub orgs: Vec<Org>,
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default)]
    pub rule_settings: RuleSettings,
    #[serde(default)]
    pub calendar: serde_json::Value,
    /// The server's public key for hand-off files (base64 of an uncompressed P-256
    /// point); empty from a server that has none.
    #[serde(default)]
    pub handoff_key: String,
    /// Awareness classes a file of the scope may name (opened in the scope or above it),
    /// newest first: the device offers them instead of a typed name. Empty from an older
    /// server.
    #[serde(default)]
    pub classes: Vec<ClassRef>,
}

/// What a reviewer's change to a case file did, written as the change's message in the
/// document history (in Vietnamese: the history is the audit trail) and read back by the
/// PWA, which shows resolved conflicts from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewChange {
    /// A conflict on `path` resolved; `by` names the reviewer ("Name (username)"), empty
    /// in the messages of an older server.
    ResolveConflict { path: String, by: String },
    /// The file returned to the cadre with a comment, or the return lifted.
    Return,
    /// The file moved to another organisation.
    Move { org_id: String },
    /// Fields taken over from the duplicate `loser` into the file kept.
    MergeDuplicate { loser: String },
    /// The file merged into `survivor`.
    MergedInto { survivor: String },
    /// The file's organisation `from` merged into `into`.
    MergeOrg { from: String, into: String },
}

const RESOLVE: &str = "giải quyết xung đột ";
const RETURN: &str = "trả lại hồ sơ";
const MOVE: &str = "chuyển hồ sơ sang ";
const MERGE_DUPLICATE: &str = "gộp hồ sơ trùng ";
const MERGED_INTO: &str = "đã gộp vào hồ sơ ";
const MERGE_ORG: &str = "gộp tổ chức ";

impl fmt::Display for ReviewChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewChange::ResolveConflict { path, by } if by.is_empty() => {
                write!(f, "{RESOLVE}{path}")
            }
            ReviewChange::ResolveConflict { path, by } => write!(f, "{RESOLVE}{path} — {by}"),
            ReviewChange::Return => f.write_str(RETURN),
            ReviewChange::Move { org_id } => write!(f, "{MOVE}{org_id}"),
            ReviewChange::MergeDuplicate { loser } => write!(f, "{MERGE_DUPLICATE}{loser}"),
            ReviewChange::MergedInto { survivor } => write!(f, "{MERGED_INTO}{survivor}"),
            ReviewChange::MergeOrg { from, into } => write!(f, "{MERGE_ORG}{from} vào {into}"),
        }
    }
}

impl ReviewChange {
    /// The change a history message describes; `None` for a message no reviewer's change
    /// carries (a cadre's edit, or none).
    pub fn parse(message: &str) -> Option<ReviewChange> {
        if let Some(rest) = message.strip_prefix(RESOLVE) {
            // Paths hold no spaces; what follows the first one names the reviewer.
            let (path, by) = rest.split_once(' ').unwrap_or((rest, ""));
            let by = by.trim_start_matches(['—', '-', ' ']).trim();
            return Some(ReviewChange::ResolveConflict {
                path: path.to_string(),
                by: by.to_string(),
            });
        }
        if message == RETURN {
            return Some(ReviewChange::Return);
        }
        if let Some(org_id) = message.strip_prefix(MOVE) {
            return Some(ReviewChange::Move {
                org_id: org_id.to_string(),
            });
        }
        if let Some(loser) = message.strip_prefix(MERGE_DUPLICATE) {
            return Some(ReviewChange::MergeDuplicate {
                loser: loser.to_string(),
            });
        }
        if let Some(survivor) = message.strip_prefix(MERGED_INTO) {
            return Some(ReviewChange::MergedInto {
                survivor: survivor.to_string(),
            });
        }
        let (from, into) = message.strip_prefix(MERGE_ORG)?.split_once(" vào ")?;
        Some(ReviewChange::MergeOrg {
            from: from.to_string(),
            into: into.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    /// Parses `json` as `T` and writes it back: the same bytes.
    fn round_trip<T: Serialize + DeserializeOwned>(json: &str) -> T {
        let value: T = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
        value
    }

    #[test]
    fn an_error_body_is_the_servers_json_and_keeps_an_unknown_code() {
        let body: ErrorBody = round_trip(
            r#"{"error":{"code":"BAD_CREDENTIALS","message_vi":"Sai tên đăng nhập hoặc mật khẩu.","message_en":"Wrong username or password."}}"#,
        );
        assert_eq!(body.error.code, ErrorCode::BadCredentials);
        let newer: ErrorBody = round_trip(
            r#"{"error":{"code":"SOMETHING_NEW","message_vi":"Mới.","message_en":"New."}}"#,
        );
        assert_eq!(newer.error.code, ErrorCode::Other("SOMETHING_NEW".into()));
        let bare: ErrorBody = serde_json::from_str(r#"{"error":{"code":"INTERNAL"}}"#).unwrap();
        assert_eq!(bare.error.code, ErrorCode::Internal);
        assert!(bare.error.message_en.is_empty());
    }

    #[test]
    fn every_code_reads_back_as_itself_and_no_two_share_a_string() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert_eq!(&ErrorCode::parse(c.as_str()), c);
            assert!(seen.insert(c.as_str()), "{c} twice");
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in RejectionCode::ALL {
            assert_eq!(&RejectionCode::parse(c.as_str()), c);
            assert!(seen.insert(c.as_str()), "{c} twice");
            let json = format!("\"{c}\"");
            assert_eq!(&round_trip::<RejectionCode>(&json), c);
        }
    }

    #[test]
    fn a_rejection_is_the_servers_json() {
        let r: crate::sync::Rejection = round_trip(
            r#"{"doc_id":"0123456789abcdef0123456789abcdef","code":"OUT_OF_SCOPE","message_vi":"Hồ sơ thuộc tổ chức ngoài phạm vi của tài khoản này.","message_en":"The file belongs to an organisation outside this account's scope."}"#,
        );
        assert_eq!(r.code, RejectionCode::OutOfScope);
    }

    #[test]
    fn a_login_request_is_the_pwas_json() {
        let r: LoginRequest = round_trip(
            r#"{"username":"canbo.lachtray","password":"demo2026","device_name":"Mozilla/5.0","actor":"00112233445566778899aabbccddeeff"}"#,
        );
        assert_eq!(r.actor.as_deref(), Some("00112233445566778899aabbccddeeff"));
        let short: LoginRequest =
            serde_json::from_str(r#"{"username":"a","password":"b"}"#).unwrap();
        assert_eq!((short.device_name.as_str(), short.actor), ("", None));
    }

    const USER: &str = r#"{"user_id":3,"username":"canbo.lachtray","display_name":"Cán bộ Lạch Tray","role":"cadre","scope_org":"phuong-lach-tray","scope_path":"/ngo-quyen/phuong-lach-tray/","device_id":"d-1"}"#;

    #[test]
    fn a_login_response_and_a_user_are_the_servers_json() {
        let user: User = round_trip(USER);
        assert_eq!(user.role, Role::Cadre);
        let login: LoginResponse = round_trip(&format!(
            r#"{{"token":"tok","device_id":"d-1","expires_at":1790000000,"user":{USER},"must_change_password":false}}"#
        ));
        let session: Session = round_trip(&format!(
            r#"{{"token":"tok","device_id":"d-1","expires_at":1790000000,"user":{USER},"actor":"ab"}}"#
        ));
        assert_eq!(Session::of_login(login, "ab".into()), session);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert_eq!(Role::parse("chief"), None);
    }

    #[test]
    fn reference_data_is_the_servers_json() {
        let settings = serde_json::to_string(&RuleSettings::default()).unwrap();
        let r: Reference = round_trip(&format!(
            r#"{{"orgs":[{{"id":"ngo-quyen","parent_id":null,"name":"Đảng bộ quận Ngô Quyền","kind":"district","sector":"","grassroots":false}},{{"id":"phuong-11","parent_id":"ngo-quyen","name":"Đảng bộ phường 11","kind":"committee","sector":"ward","grassroots":true}}],"members":[{{"id":"m1","org_id":"phuong-11","full_name":"Nguyễn Văn An","official_since":"2001-05-19","status":"official"}}],"rule_settings":{settings},"calendar":{{"holidays":[]}},"handoff_key":"BASE64","classes":[{{"id":"c1","name":"Lớp 1/2026","organiser":"TTCT","start_date":"2026-03-02","end_date":"2026-03-06"}}]}}"#
        ));
        assert_eq!(r.orgs[1].parent_id.as_deref(), Some("ngo-quyen"));
        // An older server sent no members, classes or key; an import may omit a status.
        let old: Reference = serde_json::from_str(r#"{"orgs":[]}"#).unwrap();
        assert_eq!(old, Reference::default());
        let m: Member = serde_json::from_str(r#"{"id":"m","org_id":"o","full_name":"A"}"#).unwrap();
        assert_eq!(m.status, "official");
    }

    #[test]
    fn a_review_change_reads_back_from_its_message() {
        let changes = [
            (
                ReviewChange::ResolveConflict {
                    path: "case.person.full_name".into(),
                    by: "Ban Tổ chức (bantochuc)".into(),
                },
                "giải quyết xung đột case.person.full_name — Ban Tổ chức (bantochuc)",
            ),
            (
                ReviewChange::ResolveConflict {
                    path: "case.person.birth_date".into(),
                    by: String::new(),
                },
                "giải quyết xung đột case.person.birth_date",
            ),
            (ReviewChange::Return, "trả lại hồ sơ"),
            (
                ReviewChange::Move {
                    org_id: "phuong-11".into(),
                },
                "chuyển hồ sơ sang phuong-11",
            ),
            (
                ReviewChange::MergeDuplicate {
                    loser: "ab12".into(),
                },
                "gộp hồ sơ trùng ab12",
            ),
            (
                ReviewChange::MergedInto {
                    survivor: "cd34".into(),
                },
                "đã gộp vào hồ sơ cd34",
            ),
            (
                ReviewChange::MergeOrg {
                    from: "chi-bo-1".into(),
                    into: "chi-bo-2".into(),
                },
                "gộp tổ chức chi-bo-1 vào chi-bo-2",
            ),
        ];
        for (change, message) in changes {
            assert_eq!(change.to_string(), message);
            assert_eq!(ReviewChange::parse(message), Some(change));
        }
        assert_eq!(ReviewChange::parse("sửa hồ sơ"), None);
        assert_eq!(ReviewChange::parse(""), None);
    }
}
