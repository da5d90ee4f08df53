//! Route handlers, one module per route group. A handler is thin: it reads input into
//! validated types ([`input`]), settles who is asking ([`session`]), calls the store,
//! and shapes the reply from the store's rows ([`wire`]).

pub mod auth;
pub mod favorites;
pub mod health;
pub mod input;
pub mod pokemon;
pub mod session;
pub mod throttle;
pub mod users;
pub mod wire;

use crate::domain::{Cursor, CursorKind, Limit};
use serde::Serialize;
use wire::PageBody;

/// A page of a list from up to `limit + 1` items in `T`'s form: the extra one, fetched
/// only to learn that another page follows, is dropped, and the cursor points after the
/// last item kept. The items are shown as `show` makes them.
pub fn page_of<'a, T, B: Serialize>(
    items: &'a [T],
    limit: Limit,
    kind: CursorKind,
    key: impl Fn(&T) -> i64,
    show: impl Fn(&'a T) -> B,
) -> PageBody<B> {
    let limit = limit.get() as usize;
    let (kept, next_cursor) = match items.get(..limit) {
        Some(kept) if items.len() > limit => {
            let cursor = kept
                .last()
                .map(|last| Cursor::after(key(last)).encode(kind));
            (kept, cursor)
        }
        _ => (items, None),
    };
    PageBody {
        items: kept.iter().map(show).collect(),
        next_cursor,
    }
}
