//! Users: registration, login lookup, profile, deletion, and their sessions (sign out
//! everywhere, password change).

use super::{
    live_row, malformed, now, schema_was_behind, session_is_live, session_params, session_version,
    write_or_explain, Explained, Result, StoreError, Tried,
};
use crate::db::{change, read, schema_is_current, Db, OnUnique, Read, Value, Write};
use crate::domain::{Session, UserId, Username};

/// A newly registered user.
#[derive(Debug)]
pub struct NewUser {
    pub id: i64,
    pub username: String,
    pub created_at: String,
}

/// A user with the size of their list.
#[derive(Debug)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub created_at: String,
    pub favorites_count: i64,
}

/// Inserts a user; a username taken in any letter case is [`StoreError::UsernameTaken`].
/// One statement, so SQLite makes it atomic without an explicit transaction.
pub fn create(db: &Db, username: &Username, password_hash: &str) -> Result<NewUser> {
    const CREATE: Write = change! {
        "INSERT INTO users (username, password_hash, created_at)
         SELECT ?1, ?2, ", now!(), " WHERE ", schema_is_current!(), "
         RETURNING id, created_at"
    };
    let params = [
        Value::Text(username.as_str().to_string()),
        Value::Text(password_hash.to_string()),
    ];
    let insert = || {
        let rows = db
            .execute(&CREATE, &params)
            .on_unique(|| StoreError::UsernameTaken)?;
        let Some(row) = rows.first() else {
            return Ok(Tried::Unchanged);
        };
        Ok(Tried::Done(NewUser {
            id: row.int("id")?,
            username: username.as_str().to_string(),
            created_at: row.text("created_at")?.to_string(),
        }))
    };
    // Only an older schema makes the insert a no-op; the read migrates it.
    write_or_explain(insert, || schema_was_behind(db))
}

/// Whether a user called `username` in any letter case exists: registration asks
/// before it spends an Argon2 run on a name that is taken (the `UNIQUE` index still
/// decides a race, in [`create`]).
pub fn name_is_taken(db: &Db, username: &Username) -> Result<bool> {
    const TAKEN: Read = read! {
        "EXISTS (SELECT 1 FROM users WHERE username = ?1 COLLATE NOCASE) AS taken"
    };
    let rows = db.read(&TAKEN, &[Value::Text(username.as_str().to_string())])?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("EXISTS gave no row"))?;
    Ok(row.int("taken")? != 0)
}

/// The user called `username` in any letter case, for a login: the session a token
/// would speak for (to put its version in the token) and the password hash to check.
/// An unknown name still gets a row (of NULLs), so its read carries the schema version
/// too.
pub fn login_lookup(db: &Db, username: &str) -> Result<Option<(Session, String)>> {
    const LOGIN: Read = read! {
        "u.id AS id, coalesce(s.version, 0) AS version, u.password_hash AS password_hash
         FROM (SELECT 1)
         LEFT JOIN users u ON u.username = ?1 COLLATE NOCASE
         LEFT JOIN sessions s ON s.user_id = u.id"
    };
    let rows = db.read(&LOGIN, &[Value::Text(username.to_string())])?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("the login read gave no row"))?;
    let Some(id) = row.opt_int("id")? else {
        return Ok(None);
    };
    let session = Session {
        user: UserId::from_db(id),
        version: row.int("version")?,
    };
    Ok(Some((session, row.text("password_hash")?.to_string())))
}

/// The session's user and their favorites count, read in one statement (one snapshot);
/// a dead session still gets a row (of NULLs), so the read carries the schema version.
pub fn profile(db: &Db, session: Session) -> Result<Profile> {
    const PROFILE: Read = read! {
        "u.id AS id, u.username AS username, u.created_at AS created_at,
                (SELECT count(*) FROM favorites WHERE user_id = u.id) AS favorites_count
         FROM (SELECT 1) LEFT JOIN users u ON u.id = ?1 AND ", session_version!()
    };
    let rows = db.read(&PROFILE, &session_params(session))?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("the profile gave no row"))?;
    let id = row.opt_int("id")?.ok_or(StoreError::UserGone)?;
    Ok(Profile {
        id,
        username: row.text("username")?.to_string(),
        created_at: row.text("created_at")?.to_string(),
        favorites_count: row.int("favorites_count")?,
    })
}

/// Whether the session is live: its user exists and has not signed out or changed
/// password since the token was issued.
pub fn session_is_live(db: &Db, session: Session) -> Result<bool> {
    const LIVE: Read = read! { session_is_live!(), " AS live" };
    let rows = db.read(&LIVE, &session_params(session))?;
    match live_row(&rows, "EXISTS gave no row") {
        Ok(_) => Ok(true),
        Err(StoreError::UserGone) => Ok(false),
        Err(err) => Err(err),
    }
}

/// The explanation of a session write that changed nothing: a dead session, or (when
/// the session is live) a file that was behind and is now migrated, so the write runs
/// again.
fn dead_session<T>(db: &Db, session: Session) -> Result<Explained<T>> {
    match session_is_live(db, session)? {
        true => Ok(Explained::TryAgain),
        false => Err(StoreError::UserGone),
    }
}

/// Deletes the session's user, and with them (schema step 4's trigger) their
/// favorites, session row and list epoch: one statement, conditioned on the session
/// being live, so it holds the write lock for one host call. The other rows go by the
/// trigger's statements rather than by `ON DELETE CASCADE`, which needs
/// `PRAGMA foreign_keys` on the connection, and a libSQL server may start with it off.
pub fn delete(db: &Db, session: Session) -> Result<()> {
    const DELETE: Write = change! {
        "DELETE FROM users WHERE id = ?1 AND ", session_version!(), "
           AND ", schema_is_current!(), "
         RETURNING id"
    };
    let params = session_params(session);
    let delete = || match db.execute(&DELETE, &params)?.is_empty() {
        true => Ok(Tried::Unchanged),
        false => Ok(Tried::Done(())),
    };
    // Nothing deleted: the session is dead, or the file was behind (the read migrates it).
    write_or_explain(delete, || dead_session(db, session))
}

/// The start of the statement that moves a session to the next version.
macro_rules! next_session {
    () => {
        "INSERT INTO sessions (user_id, version) SELECT ?1, ?2 + 1"
    };
}

/// The end of it: a user with a row gets the next version in it.
macro_rules! or_update_session {
    () => {
        "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version
         RETURNING version"
    };
}

/// Signs the session's user out everywhere: their session version moves on, so every
/// token issued before (this one included) is dead. One statement, conditioned on the
/// session being live, so a dead token cannot sign anyone out.
pub fn sign_out(db: &Db, session: Session) -> Result<()> {
    const SIGN_OUT: Write = change! {
        next_session!(), " WHERE ", session_is_live!(), " AND ", schema_is_current!(), "
         ", or_update_session!()
    };
    let params = session_params(session);
    let bump = || match db.execute(&SIGN_OUT, &params)?.is_empty() {
        true => Ok(Tried::Unchanged),
        false => Ok(Tried::Done(())),
    };
    write_or_explain(bump, || dead_session(db, session))
}

/// What a password change needs to know: the session's user, with their password hash.
pub struct PasswordState {
    pub username: String,
    pub password_hash: String,
}

/// The password change's read: one statement, `StoreError::UserGone` if the session is
/// dead.
pub fn password_lookup(db: &Db, session: Session) -> Result<PasswordState> {
    const PASSWORD: Read = read! {
        "u.username AS username, u.password_hash AS password_hash
         FROM (SELECT 1) LEFT JOIN users u ON u.id = ?1 AND ", session_version!()
    };
    let rows = db.read(&PASSWORD, &session_params(session))?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("the password read gave no row"))?;
    let username = row.opt_text("username")?.ok_or(StoreError::UserGone)?;
    Ok(PasswordState {
        username: username.to_string(),
        password_hash: row.text("password_hash")?.to_string(),
    })
}

/// Stores a new password hash and moves the session on, in one transaction: the update
/// is conditioned on the session being live (under the write lock), so two changes
/// cannot both win, and the next version is the token's plus one. Returns the new
/// session, for the fresh token.
pub fn set_password(db: &Db, session: Session, password_hash: &str) -> Result<Session> {
    const UPDATE: Write = change! {
        "UPDATE users SET password_hash = ?3
         WHERE id = ?1 AND ", session_version!(), " AND ", schema_is_current!(), "
         RETURNING id"
    };
    // Inside the transaction, after the update: the session was live and the schema
    // current a statement ago, under the same lock.
    const BUMP: Write = change! {
        next_session!(), " WHERE ", schema_is_current!(), "
         ", or_update_session!()
    };
    let [user, version] = session_params(session);
    let params = [user, version, Value::Text(password_hash.to_string())];
    let change = || {
        db.transaction(|tx| {
            if tx.execute(&UPDATE, &params)?.is_empty() {
                return Ok(Tried::Unchanged);
            }
            let rows = tx.execute(&BUMP, &params[..2])?;
            let row = rows
                .first()
                .ok_or_else(|| malformed("the session bump gave no row"))?;
            Ok(Tried::Done(Session {
                user: session.user,
                version: row.int("version")?,
            }))
        })
    };
    write_or_explain(change, || dead_session(db, session))
}
