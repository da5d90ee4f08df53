//! Users: registration, login lookup, profile, deletion.

use crate::db::{Constraint, Db, DbError, Value};
use crate::domain::{UserId, Username};
use crate::error::{ApiError, Result};
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

/// Inserts a user; a username taken in any letter case is `409 username_taken`.
/// One statement, so SQLite makes it atomic without an explicit transaction.
pub fn create(db: &Db, username: &Username, password_hash: &str) -> Result<NewUser> {
    let sql = format!(
        "INSERT INTO users (username, password_hash, created_at) VALUES (?1, ?2, {})
         RETURNING id, created_at",
        super::NOW
    );
    let params = [
        Value::Text(username.as_str().to_string()),
        Value::Text(password_hash.to_string()),
    ];
    let rows = db.query(&sql, &params).map_err(|err| match err {
        DbError::Constraint(Constraint::Unique(_)) => ApiError::UsernameTaken,
        other => other.into(),
    })?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::internal("INSERT … RETURNING gave no row"))?;
    Ok(NewUser {
        id: row.int(0)?,
        username: username.as_str().to_string(),
        created_at: row.text(1)?.to_string(),
    })
}

/// The id and password hash of the user called `username` in any letter case.
pub fn login_lookup(db: &Db, username: &str) -> Result<Option<(UserId, String)>> {
    let rows = db.query(
        "SELECT id, password_hash FROM users WHERE username = ?1 COLLATE NOCASE",
        &[Value::Text(username.to_string())],
    )?;
    match rows.first() {
        Some(row) => Ok(Some((
            UserId::from_db(row.int(0)?),
            row.text(1)?.to_string(),
        ))),
        None => Ok(None),
    }
}

/// A user and their favorites count, read in one statement (one snapshot).
pub fn profile(db: &Db, user: UserId) -> Result<Option<Profile>> {
    let rows = db.query(
        "SELECT id, username, created_at,
                (SELECT count(*) FROM favorites WHERE user_id = users.id)
         FROM users WHERE id = ?1",
        &[Value::Integer(user.get())],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Profile {
        id: row.int(0)?,
        username: row.text(1)?.to_string(),
        created_at: row.text(2)?.to_string(),
        favorites_count: row.int(3)?,
    }))
}

/// Whether the user still exists.
pub fn exists(db: &Db, user: UserId) -> Result<bool> {
    let rows = db.query(
        "SELECT 1 FROM users WHERE id = ?1",
        &[Value::Integer(user.get())],
    )?;
    Ok(!rows.is_empty())
}

/// Deletes a user; their favorites go with them through `ON DELETE CASCADE`, which
/// needs `foreign_keys` on, so this runs as a write. Returns whether the user existed.
pub fn delete(db: &Db, user: UserId) -> Result<bool> {
    db.write(|tx| {
        let rows = tx.query(
            "DELETE FROM users WHERE id = ?1 RETURNING id",
            &[Value::Integer(user.get())],
        )?;
        Ok(!rows.is_empty())
    })
}
