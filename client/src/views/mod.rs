//! The screens: sign-in, the PIN and the lock, the case-file list, a new case file, and
//! one case file, with the warning of files that may be the same person.

pub mod case;
pub mod duplicates;
pub mod field;
pub mod list;
pub mod lock;
pub mod login;
pub mod new_case;
