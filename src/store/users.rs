//! Users: registration, login lookup, profile, deletion, and their sessions (sign out
//! everywhere, password change).

use super::{
    malformed, schema_check, session_params, write_or_explain, Result, StoreError, NOW,
    SESSION_IS_LIVE, SESSION_VERSION,
};
use crate::db::{Db, OnUnique, Value, SCHEMA_IS_CURRENT};
use crate::domain::{Session, UserId, Username};
use serde::Serialize;

/// A newly registered user, as the API shows it.
#[derive(Debug, Serialize)]
pub struct NewUser {
    pub id: i64,
    pub username: String,
    pub created_at: String,
}

/// A user with the size of their list, as `GET /api/users/{id}` shows it.
#[derive(Debug, Serialize)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub created_at: String,
    pub favorites_count: i64,
}

/// Inserts a user; a username taken in any letter case is [`StoreError::UsernameTaken`].
/// One statement, so SQLite makes it atomic without an explicit transaction.
pub fn create(db: &Db, username: &Username, password_hash: &str) -> Result<NewUser> {
    let sql = format!(
        "INSERT INTO users (username, password_hash, created_at)
         SELECT ?1, ?2, {NOW} WHERE {SCHEMA_IS_CURRENT}
         RETURNING id, created_at"
    );
    let params = [
        Value::Text(username.as_str().to_string()),
        Value::Text(password_hash.to_string()),
    ];
    let insert = || {
        let rows = db
            .query(&sql, &params)
            .on_unique(|| StoreError::UsernameTaken)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(NewUser {
            id: row.int(0)?,
            username: username.as_str().to_string(),
            created_at: row.text(1)?.to_string(),
        }))
    };
    // Only an older schema makes the insert a no-op; the read migrates it.
    write_or_explain(insert, || schema_check(db).map(|()| None))
}

/// Whether a user called `username` in any letter case exists: registration asks
/// before it spends an Argon2 run on a name that is taken (the `UNIQUE` index still
/// decides a race, in [`create`]).
pub fn name_is_taken(db: &Db, username: &Username) -> Result<bool> {
    let rows = db.read(
        "SELECT (SELECT user_version FROM pragma_user_version),
                EXISTS (SELECT 1 FROM users WHERE username = ?1 COLLATE NOCASE)",
        &[Value::Text(username.as_str().to_string())],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("EXISTS gave no row"))?;
    Ok(row.int(0)? != 0)
}

/// The user called `username` in any letter case, for a login: the session a token
/// would speak for (to put its version in the token) and the password hash to check.
/// An unknown name still gets a row (of NULLs), so its read carries the schema version
/// too.
pub fn login_lookup(db: &Db, username: &str) -> Result<Option<(Session, String)>> {
    let rows = db.read(
        "SELECT (SELECT user_version FROM pragma_user_version),
                u.id, coalesce(s.version, 0), u.password_hash
         FROM (SELECT 1)
         LEFT JOIN users u ON u.username = ?1 COLLATE NOCASE
         LEFT JOIN sessions s ON s.user_id = u.id",
        &[Value::Text(username.to_string())],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("the login read gave no row"))?;
    let Some(id) = row.opt_int(0)? else {
        return Ok(None);
    };
    let session = Session {
        user: UserId::from_db(id),
        version: row.int(1)?,
    };
    Ok(Some((session, row.text(2)?.to_string())))
}

/// The session's user and their favorites count, read in one statement (one snapshot);
/// a dead session still gets a row (of NULLs), so the read carries the schema version.
pub fn profile(db: &Db, session: Session) -> Result<Profile> {
    let rows = db.read(
        &format!(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    u.id, u.username, u.created_at,
                    (SELECT count(*) FROM favorites WHERE user_id = u.id)
             FROM (SELECT 1) LEFT JOIN users u ON u.id = ?1 AND {SESSION_VERSION}"
        ),
        &session_params(session),
    )?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("the profile gave no row"))?;
    let id = row.opt_int(0)?.ok_or(StoreError::UserGone)?;
    Ok(Profile {
        id,
        username: row.text(1)?.to_string(),
        created_at: row.text(2)?.to_string(),
        favorites_count: row.int(3)?,
    })
}

/// Whether the session is live: its user exists and has not signed out or changed
/// password since the token was issued.
pub fn session_is_live(db: &Db, session: Session) -> Result<bool> {
    let rows = db.read(
        &format!("SELECT (SELECT user_version FROM pragma_user_version), {SESSION_IS_LIVE}"),
        &session_params(session),
    )?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("EXISTS gave no row"))?;
    Ok(row.int(0)? != 0)
}

/// The explanation of a session write that changed nothing: a dead session, or (when
/// the session is live) a file that was behind and is now migrated, so the write runs
/// again.
fn dead_session<T>(db: &Db, session: Session) -> Result<Option<T>> {
    match session_is_live(db, session)? {
        true => Ok(None),
        false => Err(StoreError::UserGone),
    }
}

/// Deletes the session's user, and with them (schema step 4's trigger) their
/// favorites, session row and list epoch: one statement, conditioned on the session
/// being live, so it holds the write lock for one host call. The other rows go by the
/// trigger's statements rather than by `ON DELETE CASCADE`, which needs
/// `PRAGMA foreign_keys` on the connection, and a libSQL server may start with it off.
pub fn delete(db: &Db, session: Session) -> Result<()> {
    let params = session_params(session);
    let sql = format!(
        "DELETE FROM users WHERE id = ?1 AND {SESSION_VERSION} AND {SCHEMA_IS_CURRENT}
         RETURNING id"
    );
    let delete = || Ok((!db.query(&sql, &params)?.is_empty()).then_some(()));
    // Nothing deleted: the session is dead, or the file was behind (the read migrates it).
    write_or_explain(delete, || dead_session(db, session))
}

/// Signs the session's user out everywhere: their session version moves on, so every
/// token issued before (this one included) is dead. One statement, conditioned on the
/// session being live, so a dead token cannot sign anyone out.
pub fn sign_out(db: &Db, session: Session) -> Result<()> {
    let params = session_params(session);
    let sql = format!(
        "{NEXT_SESSION} WHERE {SESSION_IS_LIVE} AND {SCHEMA_IS_CURRENT}
         ON CONFLICT (user_id) DO UPDATE SET version = excluded.version
         RETURNING version"
    );
    let bump = || Ok((!db.query(&sql, &params)?.is_empty()).then_some(()));
    write_or_explain(bump, || dead_session(db, session))
}

/// The start of the statement that moves a session to the next version.
const NEXT_SESSION: &str = "INSERT INTO sessions (user_id, version) SELECT ?1, ?2 + 1";

/// What a password change needs to know: the session's user, with their password hash.
pub struct PasswordState {
    pub username: String,
    pub password_hash: String,
}

/// The password change's read: one statement, `StoreError::UserGone` if the session is
/// dead.
pub fn password_lookup(db: &Db, session: Session) -> Result<PasswordState> {
    let rows = db.read(
        &format!(
            "SELECT (SELECT user_version FROM pragma_user_version), u.username, u.password_hash
             FROM (SELECT 1) LEFT JOIN users u ON u.id = ?1 AND {SESSION_VERSION}"
        ),
        &session_params(session),
    )?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("the password read gave no row"))?;
    let username = row.opt_text(0)?.ok_or(StoreError::UserGone)?;
    Ok(PasswordState {
        username: username.to_string(),
        password_hash: row.text(1)?.to_string(),
    })
}

/// Stores a new password hash and moves the session on, in one transaction: the update
/// is conditioned on the session being live (under the write lock), so two changes
/// cannot both win, and the next version is the token's plus one. Returns the new
/// session, for the fresh token.
pub fn set_password(db: &Db, session: Session, password_hash: &str) -> Result<Session> {
    let [user, version] = session_params(session);
    let params = [user, version, Value::Text(password_hash.to_string())];
    let update = format!(
        "UPDATE users SET password_hash = ?3
         WHERE id = ?1 AND {SESSION_VERSION} AND {SCHEMA_IS_CURRENT}
         RETURNING id"
    );
    let bump = format!(
        "{NEXT_SESSION} WHERE true
         ON CONFLICT (user_id) DO UPDATE SET version = excluded.version
         RETURNING version"
    );
    let change = || {
        db.write(|tx| {
            if tx.query(&update, &params)?.is_empty() {
                return Ok(None);
            }
            let rows = tx.query(&bump, &params[..2])?;
            let row = rows
                .first()
                .ok_or_else(|| malformed("the session bump gave no row"))?;
            Ok(Some(Session {
                user: session.user,
                version: row.int(0)?,
            }))
        })
    };
    write_or_explain(change, || dead_session(db, session))
}
