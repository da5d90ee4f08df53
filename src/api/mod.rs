//! Route handlers, one module per route group. A handler is thin: it parses input into
//! validated types, authorizes, calls the store, and shapes the reply.

pub mod auth;
pub mod favorites;
pub mod health;
pub mod input;
pub mod pokemon;
pub mod throttle;
pub mod users;

use crate::db::Db;
use crate::domain::{Cursor, CursorKind, Limit, Session, UserId};
use crate::error::{ApiError, Result};
use crate::http::Request;
use crate::store::{self, StoreError};
use serde::Serialize;

/// The authenticated session, allowed to act on `owner`'s resources only if it is
/// theirs.
///
/// A token for another user is 403, unless the token itself is dead (its user deleted,
/// or signed out or given a new password since): a dead token is 401 everywhere. That
/// lookup happens only on this refusal path; on the normal path the route's own query
/// checks the session.
pub fn authorize(request: &Request, db: &Db, owner: UserId) -> Result<Session> {
    let session = crate::auth::authenticate(request)?;
    if session.user == owner {
        return Ok(session);
    }
    if store::users::session_is_live(db, session)? {
        Err(ApiError::Forbidden)
    } else {
        Err(StoreError::UserGone.into())
    }
}

/// The session's parsed input, unless it failed to parse and the session is dead: a dead
/// token outranks a bad body (401 before 422). The lookup runs only when the input
/// failed.
pub fn input_unless_user_gone<T>(db: &Db, session: Session, parsed: Result<T>) -> Result<T> {
    if parsed.is_err() && !store::users::session_is_live(db, session)? {
        return Err(StoreError::UserGone.into());
    }
    parsed
}

/// A page of a list: its items and the cursor of the next page, `null` on the last.
#[derive(Serialize)]
pub struct Page<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Page<T> {
    /// A page from up to `limit + 1` items: the extra one, fetched only to learn that
    /// another page follows, is dropped, and the cursor points after the last item kept.
    pub fn from_lookahead(
        mut items: Vec<T>,
        limit: Limit,
        kind: CursorKind,
        key: impl Fn(&T) -> i64,
    ) -> Page<T> {
        let limit = limit.get() as usize;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|last| Cursor::after(key(last)).encode(kind))
        } else {
            None
        };
        Page { items, next_cursor }
    }
}
