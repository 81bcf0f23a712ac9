//! Domain model, rules and sync core shared by the server and the client.

pub mod api;
pub mod calendar;
pub mod date;
pub mod deadlines;
pub mod dedup;
pub mod doc;
pub mod limits;
pub mod model;
pub mod rand;
pub mod report;
pub mod rules;
pub mod schema;
pub mod short_deps;
pub mod stage;
pub mod summary;
pub mod sync;
pub mod text;
