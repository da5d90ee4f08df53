//! Login throttling, shared by the two routes that check a password: login and the
//! password change. The counts come with each route's own read (`store::logins`);
//! this module decides from them, and counts a failure.

use crate::config::LoginLimits;
use crate::db::Db;
use crate::error::{ApiError, Result};
use crate::http::Request;
use crate::store::logins::{self, Attempts};

/// The throttling key of the client, from the `spin-client-addr` header Spin sets; none
/// when the address limit is off.
pub fn client_address(request: &Request, limits: &LoginLimits) -> Option<String> {
    if limits.per_address == 0 {
        return None;
    }
    request
        .header("spin-client-addr")
        .and_then(logins::address_key)
}

/// 429 if the name or the address has used up its failures; `Retry-After` is the time
/// until every window that blocks has ended.
pub fn refuse_if_throttled(attempts: &Attempts, limits: &LoginLimits) -> Result<()> {
    let blocked = |failures: i64, limit: u64| limit > 0 && failures as u64 >= limit;
    let mut wait = None;
    if blocked(attempts.name.failures, limits.per_username) {
        wait = wait.max(Some(attempts.name.seconds_left));
    }
    if blocked(attempts.address.failures, limits.per_address) {
        wait = wait.max(Some(attempts.address.seconds_left));
    }
    match wait {
        Some(seconds) => Err(ApiError::TooManyAttempts(seconds.max(1) as u64)),
        None => Ok(()),
    }
}

/// Counts a failed login (or a wrong current password) against the name and, when the
/// address limit is on, the address.
pub fn count_failure(
    db: &Db,
    name_key: &str,
    address_key: Option<&str>,
    limits: &LoginLimits,
) -> Result<()> {
    let keys: Vec<&str> = std::iter::once(name_key).chain(address_key).collect();
    Ok(logins::count_failure(db, &keys, limits.window_seconds)?)
}
