//! The sync and review server.
