//! The store: the only code that knows table and column names. Each function is one
//! unit of database work for one route, with its SQL beside the code that reads it.
//!
//! The statement budget (`docs/database.md`, "What each route costs"; pinned by
//! `tests/api/statements.rs`): a read is one statement; a change that one statement can
//! say is one statement (atomic by itself, holding the write lock for one host call);
//! only a change that needs several runs through [`crate::db::Db::transaction`], so a reader
//! finds that transaction's beginning and end in one place.

pub mod favorites;
pub mod idempotency;
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
    /// An `Idempotency-Key` already answers another request of the user's.
    KeyReused,
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

/// A result the SQL promised but did not give (a check with no row, a JSON column that
/// does not parse).
fn malformed(what: &str) -> StoreError {
    StoreError::Db(DbError::Other(what.to_string()))
}

// The fragments statements share, as macros so that each statement is one `const`
// built by `concat!` and reads whole beside the function that runs it.

/// The current time as the API writes it: RFC 3339, UTC, whole seconds.
macro_rules! now {
    () => {
        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
    };
}

/// In a statement whose `?1` is the acting user's id and `?2` their token's session
/// version: the token is still live, as far as the session row says (the user's stored
/// session version is the token's; a user without a row is at 0). Folded into the
/// statement each route runs anyway, so a revoked token costs no statement to find out.
macro_rules! session_version {
    () => {
        "coalesce((SELECT version FROM sessions WHERE user_id = ?1), 0) = ?2"
    };
}

/// [`session_version!`], and the user exists.
macro_rules! session_is_live {
    () => {
        concat!(
            "(EXISTS (SELECT 1 FROM users WHERE id = ?1) AND ",
            $crate::store::session_version!(),
            ")"
        )
    };
}

pub(crate) use {now, session_is_live, session_version};

/// `?1` and `?2` of a statement about the acting user's session.
fn session_params(session: Session) -> [Value; 2] {
    [
        Value::Integer(session.user.get()),
        Value::Integer(session.version),
    ]
}

/// How often a single-statement write is tried before the request gives up.
const ATTEMPTS: usize = 3;

/// What one try of a conditioned write did.
enum Tried<T> {
    /// It changed what it should: the answer.
    Done(T),
    /// One of its conditions failed, so it changed nothing: ask why.
    Unchanged,
}

/// What the read that explains an unchanged write found.
enum Explained<T> {
    /// The answer (a client's error is the `Err` beside it).
    Answer(T),
    /// Nothing explains it: the data changed in between, or the read found the file
    /// behind and migrated it. The write runs again.
    TryAgain,
}

/// Runs a write that changes nothing when one of its conditions fails, and then asks
/// `explain` why, with a read outside any lock. The normal case is the one statement of
/// `write`.
fn write_or_explain<T>(
    mut write: impl FnMut() -> Result<Tried<T>>,
    mut explain: impl FnMut() -> Result<Explained<T>>,
) -> Result<T> {
    for _ in 0..ATTEMPTS {
        if let Tried::Done(done) = write()? {
            return Ok(done);
        }
        if let Explained::Answer(answer) = explain()? {
            return Ok(answer);
        }
    }
    Err(StoreError::Contended(ATTEMPTS))
}

/// The explanation of a write that only an older schema could have stopped: the read
/// migrates the file, and the write runs again.
fn schema_was_behind<T>(db: &Db) -> Result<Explained<T>> {
    db.check_schema()?;
    Ok(Explained::TryAgain)
}

/// The first row of a read that always returns one (a check, or a `LEFT JOIN` from
/// `(SELECT 1)`), for the check after the version column: the session is live.
fn live_row<'r>(rows: &'r crate::db::Rows, what: &str) -> Result<crate::db::Row<'r>> {
    let row = rows.first().ok_or_else(|| malformed(what))?;
    if row.int("live")? == 0 {
        return Err(StoreError::UserGone);
    }
    Ok(row)
}
