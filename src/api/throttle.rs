//! The limits on password guessing and registration, shared by the three routes that
//! spend Argon2: login, the password change and registration.
//!
//! An attempt is **counted before it is checked** ([`admit_login`], [`admit_registration`]):
//! one statement under the write lock adds it to its keys and returns their counts, and
//! an attempt over a limit is refused with 429 before any password work. An attempt that
//! started a window then removes the windows that have ended (`store::logins`), still
//! before the work it was admitted for, so a failure there changes nothing but the
//! count. A login's success gives its attempt back ([`Admitted::succeeded`]).

use crate::config::{self, LoginLimits, RegisterLimits};
use crate::db::Db;
use crate::domain::address::{counting_key, parse_address};
use crate::error::{ApiError, Result};
use crate::http::Request;
use crate::store::logins::{self, Window};

/// The client's address as the per-address limits count it (`domain::address`): Spin's
/// own `spin-client-addr` (the last value: Spin appends it after whatever the client
/// sent), or, when that is a trusted proxy, the client it names in `X-Forwarded-For`.
/// `None` when the request carries no usable address. Reads `trusted_proxies`, so call
/// it only when a per-address limit is on.
pub fn client_address(request: &Request) -> Result<Option<String>> {
    let Some(peer) = request
        .header_values("spin-client-addr")
        .last()
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(parse_address)
    else {
        return Ok(None);
    };
    let trusted = config::trusted_proxies()?;
    let client = if trusted.is_empty() {
        peer
    } else {
        let forwarded: Vec<&[u8]> = request.header_values("x-forwarded-for").collect();
        trusted.client(peer, &forwarded)
    };
    Ok(Some(counting_key(client)))
}

/// A login attempt that was counted and let through.
#[must_use = "a login's success must give its attempt back"]
pub struct Admitted {
    name_key: String,
    /// The address's key and the end of the window this attempt was counted in.
    address: Option<(String, i64)>,
}

impl Admitted {
    /// The password was right: the name's failures are forgiven and the address gets
    /// this attempt back (only failures stay counted against an address). A failure
    /// needs nothing: it stays counted.
    pub fn succeeded(self, db: &Db) -> Result<()> {
        let address = self
            .address
            .as_ref()
            .map(|(key, ends)| (key.as_str(), *ends));
        Ok(logins::forgive(db, &self.name_key, address)?)
    }
}

/// Counts one attempt against `keys` and refuses it (with `refusal`) if a key is over
/// its limit; an attempt let through that started a window removes the ended ones.
fn admit(
    db: &Db,
    keys: &[(&str, u64)],
    window_seconds: u64,
    refusal: fn(u64) -> ApiError,
) -> Result<logins::Counted> {
    let names: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
    let counted = logins::count_attempt(db, &names, window_seconds)?;
    let windows: Vec<(Window, u64)> = keys
        .iter()
        .map(|(key, limit)| (counted.of(key), *limit))
        .collect();
    refuse_over_limit(&windows, refusal)?;
    if counted.started_a_window() {
        logins::remove_ended(db)?;
    }
    Ok(counted)
}

/// Counts a login (or a password change) against `username` and, when the address limit
/// is on, the client address; 429 if either is over its limit.
pub fn admit_login(
    request: &Request,
    db: &Db,
    username: &str,
    limits: &LoginLimits,
) -> Result<Admitted> {
    let name_key = logins::name_key(username);
    let address_key = match limits.per_address {
        0 => None,
        _ => client_address(request)?.map(|client| logins::address_key(&client)),
    };
    let mut keys = vec![(name_key.as_str(), limits.per_username)];
    if let Some(key) = &address_key {
        keys.push((key, limits.per_address));
    }
    let counted = admit(db, &keys, limits.window_seconds, ApiError::TooManyAttempts)?;
    let address = address_key.map(|key| {
        let ends = counted.of(&key).ends;
        (key, ends)
    });
    Ok(Admitted { name_key, address })
}

/// Counts a registration against the client address; 429 if it is over the limit.
/// Nothing is counted when the limit is off or the request has no address.
pub fn admit_registration(request: &Request, db: &Db, limits: &RegisterLimits) -> Result<()> {
    if limits.per_address == 0 {
        return Ok(());
    }
    let Some(client) = client_address(request)? else {
        return Ok(());
    };
    let key = logins::registration_key(&client);
    admit(
        db,
        &[(&key, limits.per_address)],
        limits.window_seconds,
        ApiError::TooManyRegistrations,
    )?;
    Ok(())
}

/// 429 (made by `refusal` from `Retry-After`) if any window holds more attempts than its
/// limit; `Retry-After` is the time until every window that refuses has ended.
fn refuse_over_limit(windows: &[(Window, u64)], refusal: fn(u64) -> ApiError) -> Result<()> {
    let wait = windows
        .iter()
        .filter(|(window, limit)| window.attempts > 0 && window.attempts as u64 > *limit)
        .map(|(window, _)| window.seconds_left)
        .max();
    match wait {
        Some(seconds) => Err(refusal(seconds.max(1) as u64)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(attempts: i64, seconds_left: i64) -> Window {
        Window {
            attempts,
            seconds_left,
            ends: 0,
        }
    }

    #[test]
    fn an_attempt_over_a_limit_waits_for_every_window_that_refuses() {
        let refuse =
            |windows: &[(Window, u64)]| match refuse_over_limit(windows, ApiError::TooManyAttempts)
            {
                Err(ApiError::TooManyAttempts(seconds)) => Some(seconds),
                _ => None,
            };
        assert_eq!(refuse(&[(window(5, 30), 5), (window(1, 900), 100)]), None);
        assert_eq!(
            refuse(&[(window(6, 30), 5), (window(1, 900), 100)]),
            Some(30)
        );
        assert_eq!(
            refuse(&[(window(6, 30), 5), (window(101, 70), 100)]),
            Some(70)
        );
        assert_eq!(refuse(&[(window(6, 0), 5)]), Some(1), "at least one second");
        assert_eq!(refuse(&[(window(0, 0), 0)]), None, "nothing counted");
    }
}
