//! The account and the read-only reference data of its scope, as the server sends
//! them (`shared::api`) and the device keeps them.

use serde::{Deserialize, Serialize};

pub use shared::api::{ClassRef, Member, Org, Reference, Session, User};

/// The last hand-off file written on this device: when, and the files in it with the
/// heads exported (hex change hashes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Handed {
    pub at: f64,
    pub docs: Vec<(shared::sync::DocId, Vec<String>)>,
}
