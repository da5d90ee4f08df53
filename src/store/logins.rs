//! Failed logins, counted per username (any letter case, whether or not the user
//! exists) and per client address, so that online password guessing is refused before
//! it costs an Argon2 run (contract v2, "Login throttling").
//!
//! A row per key holds the failures of a window that began with the first of them and
//! ends at `window_ends`, on the database's clock, so every replica of the component
//! sees the same counts and the same time. The reads that need the counts (login,
//! password change) carry them as extra columns of their own statement; a failure is
//! counted in a write transaction that also removes the rows whose window has ended.

use super::{malformed, Result};
use crate::db::{Db, Row, Value, SCHEMA_IS_CURRENT};

/// The failures and seconds left of the name's (`n`) and the address's (`a`) live
/// windows, as four columns (0 where there is none): see [`attempts_joins`].
pub const ATTEMPTS_COLUMNS: &str = "coalesce(n.failures, 0), \
     coalesce(n.window_ends - unixepoch(), 0), \
     coalesce(a.failures, 0), \
     coalesce(a.window_ends - unixepoch(), 0)";

/// The name key of the user `u` of a statement, as [`name_key`] spells it.
pub const NAME_KEY_OF_U: &str = "'user:' || lower(u.username)";

/// The joins behind [`ATTEMPTS_COLUMNS`]: the live windows of two keys, given as SQL
/// expressions (a parameter, or a column). A NULL key joins nothing.
pub fn attempts_joins(name_key: &str, address_key: &str) -> String {
    format!(
        "LEFT JOIN login_failures n ON n.key = {name_key} AND n.window_ends > unixepoch()
         LEFT JOIN login_failures a ON a.key = {address_key} AND a.window_ends > unixepoch()"
    )
}

/// The recent failures of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub failures: i64,
    /// Seconds until the window ends (0 when there is no live window).
    pub seconds_left: i64,
}

/// The recent failures of a login's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub name: Window,
    pub address: Window,
}

impl Attempts {
    /// Reads [`ATTEMPTS_COLUMNS`] starting at column `at`.
    pub fn from_row(row: Row, at: usize) -> Result<Attempts> {
        Ok(Attempts {
            name: Window {
                failures: row.int(at)?,
                seconds_left: row.int(at + 1)?,
            },
            address: Window {
                failures: row.int(at + 2)?,
                seconds_left: row.int(at + 3)?,
            },
        })
    }
}

/// The throttling key of a username: the same for every letter case.
pub fn name_key(username: &str) -> String {
    format!("user:{}", username.to_ascii_lowercase())
}

/// The throttling key of a client, from `spin-client-addr` (`host:port`, or
/// `[v6 host]:port`): the host alone, since each connection has a port of its own.
pub fn address_key(client_addr: &str) -> Option<String> {
    let client_addr = client_addr.trim();
    let host = match client_addr.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']')?.0,
        // One colon: IPv4 and a port. More: an IPv6 address written without a port.
        None => match client_addr.split_once(':') {
            Some((host, port)) if !port.contains(':') => host,
            _ => client_addr,
        },
    };
    (!host.is_empty()).then(|| format!("addr:{}", host.to_ascii_lowercase()))
}

/// Counts one failed login against each of `keys`, in one write transaction that
/// first removes every row whose window has ended (so the table holds only live
/// windows). A key without a live window starts one of `window_seconds`.
pub fn count_failure(db: &Db, keys: &[&str], window_seconds: u64) -> Result<()> {
    let keys = Value::Text(serde_json::to_string(keys).map_err(|e| malformed(&e.to_string()))?);
    let window = Value::Integer(i64::try_from(window_seconds).unwrap_or(i64::MAX));
    let expire = format!(
        "DELETE FROM login_failures WHERE window_ends <= unixepoch() AND {SCHEMA_IS_CURRENT}"
    );
    let count = format!(
        "INSERT INTO login_failures (key, failures, window_ends)
         SELECT value, 1, unixepoch() + ?2 FROM json_each(?1) WHERE {SCHEMA_IS_CURRENT}
         ON CONFLICT (key) DO UPDATE SET failures = failures + 1"
    );
    db.write(|tx| {
        tx.query(&expire, &[])?;
        tx.query(&count, &[keys.clone(), window.clone()])?;
        Ok(())
    })
}

/// Forgets the failures of a name, after a successful login. One statement.
pub fn clear(db: &Db, name_key: &str) -> Result<()> {
    db.query(
        &format!("DELETE FROM login_failures WHERE key = ?1 AND {SCHEMA_IS_CURRENT}"),
        &[Value::Text(name_key.to_string())],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_key_ignores_letter_case() {
        assert_eq!(name_key("Ash"), name_key("aSH"));
        assert_eq!(name_key("Ash"), "user:ash");
    }

    #[test]
    fn an_address_key_is_the_host_without_the_port() {
        assert_eq!(
            address_key("127.0.0.1:54321").as_deref(),
            Some("addr:127.0.0.1")
        );
        assert_eq!(address_key("[::1]:443").as_deref(), Some("addr:::1"));
        assert_eq!(
            address_key("[2001:DB8::1]:80").as_deref(),
            Some("addr:2001:db8::1")
        );
        assert_eq!(
            address_key("2001:db8::1").as_deref(),
            Some("addr:2001:db8::1")
        );
        assert_eq!(address_key("10.0.0.7").as_deref(), Some("addr:10.0.0.7"));
        assert_eq!(address_key(""), None);
        assert_eq!(address_key("[]:80"), None);
    }
}
