//! Report queries of the central office: the case-file list behind every figure, the
//! dashboard of a period and organisation subtree, the findings queue and deadlines.
//!
//! Every figure on the dashboard is computed from the same [`CaseFilter`] that the list
//! behind it uses, so a figure and its list always agree, and exports (XLSX, CSV) render
//! these same structures. SQL narrows rows with indexes (decision date, organisation,
//! stage); the rest of a filter (age on the decision date, ethnicity, folded search) runs
//! in Rust with the definitions of `shared::report`, so the server reports what the
//! shared crate would compute from the documents.

mod cases;
mod dashboard;
mod filter;
mod labels;
mod orgs;
mod plan;
mod queues;

pub use cases::*;
pub use dashboard::*;
pub use filter::*;
pub use labels::*;
pub use orgs::*;
pub use plan::*;
pub use queues::*;
