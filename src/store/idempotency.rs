//! Keyed favorites writes (`Idempotency-Key`, schema step 5): the answer a keyed write
//! stores in the same statement as its change, and how a later request with the key
//! finds it.
//!
//! A keyed write is the unkeyed write's statement turned into an `INSERT` into step 5's
//! view `keyed_favorite_writes` (its `change` says which), with one more condition: no
//! live answer is stored under the key. The view's trigger makes the change and stores
//! the answer the statement hands it (status, `Location`, body) with the list's new
//! version, so the change and its answer commit together or not at all, under the write
//! lock of one host call. The statement's `RETURNING` is the answer as stored, read by
//! [`Stored::from_row`] as a replay reads it, so the first answer and every replay are the
//! same bytes.
//!
//! When the key holds a live answer, the keyed write changes nothing, and the read that
//! explains it (outside the lock) finds the answer first: the same request replays it
//! (before `If-Match` or any other check but the session's), another is
//! [`StoreError::KeyReused`]. Of several requests racing with one key, the first to take
//! the write lock changes the list; the others find its answer.

use super::{Result, StoreError};
use crate::db::{Row, Value};
use crate::domain::{IdempotencyKey, ListVersion};

/// A keyed request: its key, its fingerprint (see
/// [`crate::domain::idempotency::fingerprint`]), and the parts of its answer the handler
/// knows before the write (the store adds the body and the version).
pub struct Keyed<'a> {
    pub key: &'a IdempotencyKey,
    pub fingerprint: String,
    pub status: u16,
    pub location: Option<String>,
}

impl Keyed<'_> {
    /// The four parameters a keyed statement ends with: key, fingerprint, status,
    /// `Location`.
    pub(super) fn params(&self) -> [Value; 4] {
        [
            Value::Text(self.key.as_str().to_string()),
            Value::Text(self.fingerprint.clone()),
            Value::Integer(i64::from(self.status)),
            self.location.clone().map_or(Value::Null, Value::Text),
        ]
    }
}

/// An answer stored under a key: what the first request was told, and what every
/// replay is told again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub location: Option<String>,
    /// The list's version the answer's `ETag` names.
    pub version: ListVersion,
    /// The JSON body (`None` for 204).
    pub body: Option<String>,
}

impl Stored {
    /// Reads the columns `status`, `location`, `last`, `epoch` and `body`.
    pub(super) fn from_row(row: &Row) -> Result<Stored> {
        let status = u16::try_from(row.int("status")?)
            .map_err(|_| super::malformed("a stored answer's status is not a status"))?;
        Ok(Stored {
            status,
            location: row.opt_text("location")?.map(str::to_string),
            version: ListVersion {
                last: row.int("last")?,
                epoch: row.int("epoch")?,
            },
            body: row.opt_text("body")?.map(str::to_string),
        })
    }
}

/// What a keyed write answered.
#[derive(Debug)]
pub enum Answer {
    /// This request changed the list; its answer is stored under the key.
    Decided(Stored),
    /// An earlier request with the key and the same fingerprint changed it: its answer.
    Replayed(Stored),
}

/// How long a stored answer counts, in seconds: 24 hours. Step 5's trigger removes the
/// rows past it with the same number (a unit test holds the two together).
macro_rules! answer_lifetime {
    () => {
        "86400"
    };
}

/// The condition that row `$row` of `idempotency_keys` is live: under 24 hours old on
/// the database's clock.
macro_rules! is_live {
    ($row:literal) => {
        concat!(
            $row,
            "created_at > unixepoch() - ",
            $crate::store::idempotency::answer_lifetime!()
        )
    };
}

/// In a keyed write whose key is parameter `?$key`: the key holds no live answer (a
/// condition of the write).
macro_rules! key_is_free {
    ($key:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = ?1 AND key = ?",
            $key,
            " AND ",
            $crate::store::idempotency::is_live!(""),
            ")"
        )
    };
}

/// The `RETURNING` of a keyed write: the answer as its trigger stored it under key
/// `?$key` (the status, `Location` and body the statement handed it, the version the
/// trigger read after the change), in the columns a replay reads.
macro_rules! stored_answer {
    ($key:literal) => {
        concat!(
            "RETURNING status, location, body,
                    (SELECT last FROM idempotency_keys WHERE user_id = ?1 AND key = ?",
            $key,
            ") AS last,
                    (SELECT epoch FROM idempotency_keys WHERE user_id = ?1 AND key = ?",
            $key,
            ") AS epoch"
        )
    };
}

/// For the read that explains a keyed write: the live answer under key `?$key`, if any,
/// joined to the read's one row (`FROM (SELECT 1)`), as the columns [`keyed_columns!`]
/// names.
macro_rules! key_join {
    ($key:literal) => {
        concat!(
            " FROM (SELECT 1) LEFT JOIN idempotency_keys k ON k.user_id = ?1 AND k.key = ?",
            $key,
            " AND ",
            $crate::store::idempotency::is_live!("k.")
        )
    };
}

/// The columns of [`key_join!`]: whether fingerprint `?$print` is the stored answer's
/// request (`same_request`, NULL when the key holds none), and the answer.
macro_rules! keyed_columns {
    ($print:literal) => {
        concat!(
            "k.fingerprint = ?",
            $print,
            " AS same_request, k.status AS status, k.location AS location,
                k.body AS body, k.last AS last, k.epoch AS epoch"
        )
    };
}

pub(crate) use {answer_lifetime, is_live, key_is_free, key_join, keyed_columns, stored_answer};

/// The first thing the read that explains a keyed write decides (after the session,
/// before `If-Match` and every other condition): the answer stored under the key, for the
/// same request; [`StoreError::KeyReused`] for another; `None` when the key holds no live
/// answer, so the write's other conditions explain it.
pub(super) fn replay(row: &Row) -> Result<Option<Stored>> {
    match row.opt_int("same_request")? {
        None => Ok(None),
        Some(0) => Err(StoreError::KeyReused),
        Some(_) => Ok(Some(Stored::from_row(row)?)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_removes_answers_when_the_store_stops_reading_them() {
        // Step 5's trigger deletes the rows that `is_live!` no longer sees, with the same
        // number: a row the store reads as live is never deleted, and none outlives it.
        let migrations = include_str!("../../migrations.sql");
        let removal = concat!("created_at <= unixepoch() - ", answer_lifetime!());
        assert_eq!(migrations.matches(removal).count(), 1, "{removal}");
        assert_eq!(
            is_live!(""),
            concat!("created_at > unixepoch() - ", "86400")
        );
        assert_eq!(answer_lifetime!().parse::<u32>().unwrap(), 24 * 60 * 60);
    }
}
