//! The store: the only code that knows table and column names. Each function is one
//! unit of database work for one route, with its SQL beside the code that reads it.
//! Multi-statement writes run through [`crate::db::Db::write`], so a reader finds the
//! transaction's beginning and end in one place.

pub mod favorites;
pub mod pokemon;
pub mod users;

/// The current time as the API writes it: RFC 3339, UTC, whole seconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
