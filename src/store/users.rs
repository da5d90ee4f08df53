//! Users: registration, login lookup, profile, deletion.

use super::{malformed, write_or_explain, Result, StoreError, NOW};
use crate::db::{Db, OnUnique, Value, SCHEMA_IS_CURRENT};
use crate::domain::{UserId, Username};
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

/// The id and password hash of the user called `username` in any letter case. An
/// unknown name still gets a row (of NULLs), so its read carries the schema version too.
pub fn login_lookup(db: &Db, username: &str) -> Result<Option<(UserId, String)>> {
    let rows = db.read(
        "SELECT (SELECT user_version FROM pragma_user_version), u.id, u.password_hash
         FROM (SELECT 1) LEFT JOIN users u ON u.username = ?1 COLLATE NOCASE",
        &[Value::Text(username.to_string())],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let Some(id) = row.opt_int(0)? else {
        return Ok(None);
    };
    Ok(Some((UserId::from_db(id), row.text(1)?.to_string())))
}

/// A user and their favorites count, read in one statement (one snapshot); a user that
/// is gone still gets a row (of NULLs), so the read carries the schema version.
pub fn profile(db: &Db, user: UserId) -> Result<Profile> {
    let rows = db.read(
        "SELECT (SELECT user_version FROM pragma_user_version), u.id, u.username, u.created_at,
                (SELECT count(*) FROM favorites WHERE user_id = u.id)
         FROM (SELECT 1) LEFT JOIN users u ON u.id = ?1",
        &[Value::Integer(user.get())],
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

/// Whether the user still exists.
pub fn exists(db: &Db, user: UserId) -> Result<bool> {
    let rows = db.read(
        "SELECT (SELECT user_version FROM pragma_user_version),
                EXISTS (SELECT 1 FROM users WHERE id = ?1)",
        &[Value::Integer(user.get())],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| malformed("EXISTS gave no row"))?;
    Ok(row.int(0)? != 0)
}

/// Deletes a user and their favorites in one transaction. The favorites are deleted by
/// an explicit statement, not by `ON DELETE CASCADE`: that needs `PRAGMA foreign_keys`
/// on the connection, which a libSQL server starts with off.
pub fn delete(db: &Db, user: UserId) -> Result<()> {
    let user_id = Value::Integer(user.get());
    let delete_user =
        format!("DELETE FROM users WHERE id = ?1 AND {SCHEMA_IS_CURRENT} RETURNING id");
    let delete = || {
        db.write(|tx| {
            if tx
                .query(&delete_user, std::slice::from_ref(&user_id))?
                .is_empty()
            {
                return Ok(None);
            }
            tx.query(
                "DELETE FROM favorites WHERE user_id = ?1",
                std::slice::from_ref(&user_id),
            )?;
            Ok(Some(()))
        })
    };
    // Nothing deleted: the user is gone, or the file was behind (the read migrates it).
    let explain = || match exists(db, user)? {
        true => Ok(None),
        false => Err(StoreError::UserGone),
    };
    write_or_explain(delete, explain)
}

/// Reads the schema version (migrating the file if it is behind), for a write that
/// changed nothing although nothing but the schema could have stopped it.
fn schema_check(db: &Db) -> Result<()> {
    db.read("SELECT (SELECT user_version FROM pragma_user_version)", &[])?;
    Ok(())
}
