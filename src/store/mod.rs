//! The store: the only code that knows table and column names. Each function is one
//! unit of database work for one route, with its SQL beside the code that reads it.
//!
//! The statement budget (README, "What each route costs"; pinned by
//! `tests/api/statements.rs`): a read is one statement; a change that one statement can
//! say is one statement (atomic by itself, holding the write lock for one host call);
//! only a change that needs several runs through [`crate::db::Db::write`], so a reader
//! finds that transaction's beginning and end in one place.

pub mod favorites;
pub mod logins;
pub mod pokemon;
pub mod users;

use crate::db::{Db, DbError, Value};
use crate::domain::Session;

/// What a unit of store work can answer besides its value: the domain outcomes a
/// handler turns into a client's error (in `error.rs`, the one place that knows their
/// statuses), or a database failure.
#[derive(Debug)]
pub enum StoreError {
    /// The acting user's token no longer speaks for anyone: the user was deleted, or
    /// signed out everywhere or changed password since the token was issued.
    UserGone,
    /// Another user has this username, in any letter case.
    UsernameTaken,
    /// The Pokémon is already one of the user's favorites.
    FavoriteExists(i64),
    /// Ids the catalog does not have.
    UnknownPokemon(Vec<i64>),
    /// The list is at [`crate::domain::MAX_FAVORITES`] already.
    TooManyFavorites,
    /// The favorites list is not at a version that `If-Match` accepts.
    PreconditionFailed,
    /// A write found the data changed under it on every attempt.
    Contended(usize),
    /// The database failed.
    Db(DbError),
}

impl From<DbError> for StoreError {
    fn from(err: DbError) -> Self {
        StoreError::Db(err)
    }
}

/// Result with [`StoreError`] as the error.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A result the SQL promised but did not give (a check with no row, too few columns).
fn malformed(what: &str) -> StoreError {
    StoreError::Db(DbError::Other(what.to_string()))
}

/// The current time as the API writes it: RFC 3339, UTC, whole seconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

/// The text of [`SESSION_VERSION`], for `concat!`.
macro_rules! session_version {
    () => {
        "coalesce((SELECT version FROM sessions WHERE user_id = ?1), 0) = ?2"
    };
}

/// The condition, in a statement whose `?1` is the acting user's id and `?2` their
/// token's session version, that the token is still live: the user's stored session
/// version is the token's (a user without a row is at 0). Folded into the statement each
/// route runs anyway, so a revoked token costs no statement to find out.
const SESSION_VERSION: &str = session_version!();

/// [`SESSION_VERSION`], and the user exists.
const SESSION_IS_LIVE: &str = concat!(
    "(EXISTS (SELECT 1 FROM users WHERE id = ?1) AND ",
    session_version!(),
    ")"
);

/// `?1` and `?2` of a statement about the acting user's session.
fn session_params(session: Session) -> [Value; 2] {
    [
        Value::Integer(session.user.get()),
        Value::Integer(session.version),
    ]
}

/// How often a single-statement write is tried before the request gives up.
const ATTEMPTS: usize = 3;

/// Runs a write that changes nothing when one of its conditions fails (`write` answers
/// `None`), and then asks `explain` why, with a read outside any lock: `explain` gives
/// the answer (a value or the client's error), or `None` when nothing explains it (the
/// data changed in between, or the read found the file behind and migrated it), and the
/// write runs again. The normal case is the one statement of `write`.
fn write_or_explain<T>(
    mut write: impl FnMut() -> Result<Option<T>>,
    mut explain: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    for _ in 0..ATTEMPTS {
        if let Some(done) = write()? {
            return Ok(done);
        }
        if let Some(answer) = explain()? {
            return Ok(answer);
        }
    }
    Err(StoreError::Contended(ATTEMPTS))
}

/// Runs a read of whole-number checks about the acting user (after the version column:
/// whether their session is live, then the caller's own checks) and returns the
/// caller's checks; a dead session is [`StoreError::UserGone`], whatever else the read
/// says.
fn user_checks(db: &Db, sql: &str, params: &[Value]) -> Result<Vec<i64>> {
    let rows = db.read(sql, params)?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("a check gave no row"))?;
    if row.int(0)? == 0 {
        return Err(StoreError::UserGone);
    }
    (1..row.len()).map(|i| Ok(row.int(i)?)).collect()
}

/// Reads the schema version (migrating the file if it is behind), for a write that
/// changed nothing although nothing but the schema could have stopped it.
fn schema_check(db: &Db) -> Result<()> {
    db.read("SELECT (SELECT user_version FROM pragma_user_version)", &[])?;
    Ok(())
}
