//! The account and the read-only reference data of its scope, as the server sends
//! them and the device keeps them.

use serde::{Deserialize, Serialize};

/// The signed-in user as the server describes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope_org: String,
    #[serde(default)]
    pub scope_path: String,
    pub device_id: String,
}

/// What the device keeps of a login.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub device_id: String,
    pub expires_at: i64,
    pub user: User,
    /// The Automerge actor this device writes with (bound to the device at login).
    #[serde(default)]
    pub actor: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub sector: String,
    #[serde(default)]
    pub grassroots: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub org_id: String,
    pub full_name: String,
    #[serde(default)]
    pub official_since: Option<String>,
    #[serde(default)]
    pub status: String,
}

/// The read-only reference data of the user's scope.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reference {
    pub orgs: Vec<Org>,
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default)]
    pub rule_settings: shared::rules::RuleSettings,
    #[serde(default)]
    pub calendar: serde_json::Value,
    /// The server's public key for hand-off files (base64 of an uncompressed P-256
    /// point); empty from a server that has none.
    #[serde(default)]
    pub handoff_key: String,
    /// Awareness classes the office recorded, newest first: the case editor offers them
    /// instead of a typed class name. Empty from an older server.
    #[serde(default)]
    pub classes: Vec<ClassRef>,
}

/// An awareness class the device may pick.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

/// The last hand-off file written on this device: when, and the files in it with the
/// heads exported (hex change hashes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Handed {
    pub at: f64,
    pub docs: Vec<(shared::sync::DocId, Vec<String>)>,
}
