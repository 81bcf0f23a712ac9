//! The screens: sign-in, the case-file list, a new case file, and one case file.

pub mod case;
pub mod field;
pub mod list;
pub mod login;
pub mod new_case;
pub mod schema;
