//! The statement protocol as types: what every statement must carry so that a request
//! learns the schema's state without a statement of its own (see the module docs of
//! [`crate::db`]).
//!
//! - A [`Read`] starts with the schema version as its first column, named
//!   `schema_version`. Write one with [`read!`](crate::db::read), which adds that column
//!   in front of the columns given; [`Read::new`] refuses any other text, and
//!   [`crate::db::Db::read`] checks the column is there in what comes back.
//! - A [`Write`] (a single-statement change, or a statement inside a transaction) holds
//!   [`SCHEMA_IS_CURRENT`] in its condition; write one with
//!   [`change!`](crate::db::change); [`Write::new`] refuses text that does not hold it
//!   (it checks the text, not that the condition sits in the `WHERE`: that is the
//!   reader's to see, and the statement is short enough to).
//!
//! Both constructors are `const fn`, and every statement of the store is a `const`
//! beside the function that runs it, so one that breaks the protocol does not compile (a
//! panic while a constant is evaluated is a compile error); called at run time instead,
//! the same check panics:
//!
//! ```compile_fail,E0080
//! const GONE: pokefavs::db::Write = pokefavs::db::Write::new("DELETE FROM users");
//! ```
//!
//! ```compile_fail,E0080
//! const NAMES: pokefavs::db::Read = pokefavs::db::Read::new("SELECT name FROM pokemon");
//! ```
//!
//! while the same statements with the protocol's parts compile:
//!
//! ```
//! use pokefavs::db::{change, read, schema_is_current, Read, Write};
//! const GONE: Write = change! { "DELETE FROM users WHERE ", schema_is_current!() };
//! const NAMES: Read = read! { "name FROM pokemon" };
//! assert!(NAMES.sql().starts_with("SELECT (SELECT user_version"));
//! assert!(GONE.sql().ends_with("= 5"));
//! ```

/// The `PRAGMA user_version` that `migrations.sql` leaves behind, as a literal, for
/// `concat!`: both [`SCHEMA_VERSION`] and [`SCHEMA_IS_CURRENT`] are made from it.
#[macro_export]
#[doc(hidden)]
macro_rules! __schema_version {
    () => {
        5
    };
}

/// The text of [`SCHEMA_IS_CURRENT`], for `concat!` in a statement's `const`.
#[macro_export]
#[doc(hidden)]
macro_rules! __schema_is_current {
    () => {
        concat!(
            "(SELECT user_version FROM pragma_user_version) = ",
            $crate::db::schema_version!()
        )
    };
}

/// The head of every read: its first column is the schema version. For `concat!`.
#[macro_export]
#[doc(hidden)]
macro_rules! __read_head {
    () => {
        "SELECT (SELECT user_version FROM pragma_user_version) AS schema_version"
    };
}

/// A [`Read`] of the columns (and the rest of the statement) given, as string literals or
/// macros that expand to them: `read! { "p.id AS id, p.name AS name FROM …" }`. The schema
/// version column comes first, added here. (Braces: rustfmt leaves a statement's lines as
/// written.)
#[macro_export]
#[doc(hidden)]
macro_rules! __read {
    ($($part:tt)+) => {
        $crate::db::Read::new(concat!($crate::db::read_head!(), ", ", $($part)+))
    };
}

/// A [`Write`] of the parts given (string literals, or macros that expand to them),
/// joined: `change! { "DELETE FROM … WHERE ", schema_is_current!() }`.
#[macro_export]
#[doc(hidden)]
macro_rules! __change {
    ($($part:tt)+) => {
        $crate::db::Write::new(concat!($($part)+))
    };
}

pub use crate::__change as change;
pub use crate::__read as read;
pub use crate::__read_head as read_head;
pub use crate::__schema_is_current as schema_is_current;
pub use crate::__schema_version as schema_version;

/// The `PRAGMA user_version` that `migrations.sql` leaves behind.
pub const SCHEMA_VERSION: i64 = schema_version!();

/// The condition of every write: on a file older than this build the write changes
/// nothing (and the read that explains why migrates it); on a file newer than this build
/// (a rolled-back deploy) it changes nothing either, and the read refuses to go on.
pub const SCHEMA_IS_CURRENT: &str = schema_is_current!();

/// The name of a read's first column.
pub const VERSION_COLUMN: &str = "schema_version";

/// A read: one `SELECT` whose first column is the schema version.
#[derive(Debug, Clone, Copy)]
pub struct Read {
    sql: &'static str,
}

impl Read {
    /// The read `sql`, which must start as [`read!`](crate::db::read) starts it.
    pub const fn new(sql: &'static str) -> Read {
        assert!(
            starts_with(sql, read_head!()),
            "a read starts with the schema version column: write it with read!"
        );
        Read { sql }
    }

    pub const fn sql(&self) -> &'static str {
        self.sql
    }
}

/// A change: one statement whose condition holds [`SCHEMA_IS_CURRENT`].
#[derive(Debug, Clone, Copy)]
pub struct Write {
    sql: &'static str,
}

impl Write {
    /// The change `sql`, which must hold [`SCHEMA_IS_CURRENT`].
    pub const fn new(sql: &'static str) -> Write {
        assert!(
            contains(sql, SCHEMA_IS_CURRENT),
            "a write holds SCHEMA_IS_CURRENT in its condition"
        );
        Write { sql }
    }

    pub const fn sql(&self) -> &'static str {
        self.sql
    }
}

const fn starts_with(text: &str, head: &str) -> bool {
    let (text, head) = (text.as_bytes(), head.as_bytes());
    if text.len() < head.len() {
        return false;
    }
    let mut i = 0;
    while i < head.len() {
        if text[i] != head[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains(text: &str, part: &str) -> bool {
    let (text, part) = (text.as_bytes(), part.as_bytes());
    let mut start = 0;
    while start + part.len() <= text.len() {
        let mut i = 0;
        while i < part.len() && text[start + i] == part[i] {
            i += 1;
        }
        if i == part.len() {
            return true;
        }
        start += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_condition_is_made_from_the_schema_version() {
        assert_eq!(
            SCHEMA_IS_CURRENT,
            format!("(SELECT user_version FROM pragma_user_version) = {SCHEMA_VERSION}")
        );
    }

    #[test]
    fn a_read_gets_the_version_column_in_front() {
        const NAMES: Read = read!("name FROM pokemon");
        assert_eq!(
            NAMES.sql(),
            "SELECT (SELECT user_version FROM pragma_user_version) AS schema_version, \
             name FROM pokemon"
        );
    }

    #[test]
    #[should_panic(expected = "schema version column")]
    fn a_read_without_the_version_column_is_refused() {
        let sql = String::from("SELECT name FROM pokemon").leak();
        Read::new(sql);
    }

    #[test]
    #[should_panic(expected = "SCHEMA_IS_CURRENT")]
    fn a_write_without_the_schema_condition_is_refused() {
        let sql = String::from("DELETE FROM users WHERE id = ?1").leak();
        Write::new(sql);
    }

    #[test]
    fn text_search_in_constants() {
        assert!(contains("abc", "bc") && contains("abc", "") && !contains("ab", "abc"));
        assert!(starts_with("abc", "ab") && !starts_with("a", "ab"));
    }
}
