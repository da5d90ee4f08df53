//! Route handlers, one module per route group. A handler is thin: it parses input into
//! validated types, authorizes, calls the store, and shapes the reply.

pub mod auth;
pub mod favorites;
pub mod health;
pub mod pokemon;
pub mod users;

use crate::db::Db;
use crate::domain::{Cursor, CursorKind, Limit, UserId};
use crate::error::{ApiError, Result};
use crate::http::Request;
use serde::Serialize;

/// The authenticated user, allowed to act on `owner`'s resources only if it is them.
///
/// A token for another user is 403, unless the token's own user no longer exists: an
/// old token of a deleted user is 401 everywhere. That lookup happens only on this
/// refusal path; on the normal path the route's own query checks the user exists.
pub fn authorize(request: &Request, db: &Db, owner: UserId) -> Result<UserId> {
    let user = crate::auth::authenticate(request)?;
    if user == owner {
        return Ok(user);
    }
    if crate::store::users::exists(db, user)? {
        Err(ApiError::Forbidden)
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Input parsed for `user`'s request. If it does not parse and `user` no longer
/// exists, the answer is 401 (their token is dead) rather than the parse error; the
/// lookup runs only on that failure path.
pub fn parsed_for<T>(db: &Db, user: UserId, parsed: Result<T>) -> Result<T> {
    if parsed.is_err() && !crate::store::users::exists(db, user)? {
        return Err(ApiError::Unauthorized);
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
