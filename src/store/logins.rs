//! Attempts counted per key, so that password guessing and mass registration are refused
//! before they cost an Argon2 run (contract v2 "Login throttling", v3 "Every guess is
//! counted before it is checked" and "Registration").
//!
//! A row per key (`user:<name>`, `addr:<client>`, `reg:<client>`) holds the attempts of a
//! window that began with the first of them and ends at `window_ends`, on the database's
//! clock, so every replica of the component sees the same counts and the same time. The
//! table is still called `login_failures` (schema step 2): after a login has been decided
//! it holds only failures, since a success takes its own attempt back.
//!
//! Every change here is **one statement**, so it holds the write lock for one host call:
//!
//! - [`count_attempt`] adds one to each key (starting a window where none is live) and
//!   returns the counts, this attempt included: the caller refuses the attempt if a count
//!   is over its limit, before any password work. Because the count is taken under the
//!   write lock, N guesses that arrive at once get the counts 1…N, and only the first
//!   `limit` of them are checked.
//! - [`forgive`] is a login's success: the name's window ends, and the address gives back
//!   the attempt it was charged.
//! - [`remove_ended`] deletes the rows whose window has ended. It runs after an attempt
//!   that started a window (see `api::throttle`): rows are only ever created by such an
//!   attempt, so the table never holds more than the live windows and the rows that ended
//!   since the last window started. Running it on every request would be a write (and a
//!   host call) on a path that has nothing to clean; running it never would let the table
//!   grow with every name and address ever tried.

use super::{malformed, schema_was_behind, write_or_explain, Result, Tried};
use crate::db::{change, schema_is_current, Db, Value, Write};

/// The longest username the registration rules allow, in characters.
const LONGEST_NAME: usize = 32;

/// The throttling key of a username: the same for every letter case. A name longer than
/// any username can be is cut after one character more than that: it still gets a key of
/// its own that no real name shares, and a 60 000-character guess is never stored whole.
pub fn name_key(username: &str) -> String {
    let cut: String = username.chars().take(LONGEST_NAME + 1).collect();
    format!("user:{}", cut.to_ascii_lowercase())
}

/// The key of a client address (see `domain::address::counting_key`) for logins.
pub fn address_key(client: &str) -> String {
    format!("addr:{client}")
}

/// The key of a client address for registrations.
pub fn registration_key(client: &str) -> String {
    format!("reg:{client}")
}

/// The attempts of one key's live window, the one just counted included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub attempts: i64,
    /// Seconds until the window ends.
    pub seconds_left: i64,
    /// When it ends (Unix seconds, the database's clock): which window it is.
    pub ends: i64,
}

/// What [`count_attempt`] found, per key.
#[derive(Debug, Clone, Default)]
pub struct Counted(Vec<(String, Window)>);

impl Counted {
    /// The window of `key` (empty if it was not counted).
    pub fn of(&self, key: &str) -> Window {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, window)| *window)
            .unwrap_or_default()
    }

    /// Whether this attempt began a window for some key (it was the first of it).
    pub fn started_a_window(&self) -> bool {
        self.0.iter().any(|(_, window)| window.attempts == 1)
    }
}

/// Counts one attempt against each of `keys` in one statement: a key without a live
/// window (no row, or a row whose window has ended) starts one of `window_seconds` at 1,
/// any other adds 1. Returns every key's window as it is after this attempt.
pub fn count_attempt(db: &Db, keys: &[&str], window_seconds: u64) -> Result<Counted> {
    // In SQLite every expression of an UPDATE reads the row as it was before it, so
    // both CASEs see the old window.
    const COUNT: Write = change! {
        "INSERT INTO login_failures (key, failures, window_ends)
         SELECT value, 1, unixepoch() + ?2 FROM json_each(?1) WHERE ", schema_is_current!(), "
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN window_ends > unixepoch() THEN failures + 1 ELSE 1 END,
           window_ends = CASE WHEN window_ends > unixepoch() THEN window_ends
                              ELSE excluded.window_ends END
         RETURNING key, failures AS attempts, window_ends - unixepoch() AS seconds_left,
                   window_ends"
    };
    let keys_json =
        Value::Text(serde_json::to_string(keys).map_err(|e| malformed(&e.to_string()))?);
    let window = Value::Integer(i64::try_from(window_seconds).unwrap_or(i64::MAX));
    let params = [keys_json, window];
    let count = || {
        let rows = db.execute(&COUNT, &params)?;
        if rows.is_empty() {
            // Only an older (or newer) schema stops the insert.
            return Ok(Tried::Unchanged);
        }
        let mut counted = Vec::with_capacity(rows.len());
        for row in rows.iter() {
            let window = Window {
                attempts: row.int("attempts")?,
                seconds_left: row.int("seconds_left")?,
                ends: row.int("window_ends")?,
            };
            counted.push((row.text("key")?.to_string(), window));
        }
        Ok(Tried::Done(Counted(counted)))
    };
    write_or_explain(count, || schema_was_behind(db))
}

/// A login that succeeded: the name's window ends (its failures are forgiven, this
/// attempt's included), and the address gives back the one attempt it was charged for
/// this login, its window ending too if that was its only one. The address's window is
/// named by its end (`address`, from [`count_attempt`]): if it ended and another began
/// meanwhile, that other window's attempts are not this login's to give back. One
/// statement.
pub fn forgive(db: &Db, name_key: &str, address: Option<(&str, i64)>) -> Result<()> {
    const FORGIVE: Write = change! {
        "UPDATE login_failures SET
           failures = CASE WHEN key = ?1 THEN 0 ELSE failures - 1 END,
           window_ends = CASE WHEN key = ?1 OR failures <= 1 THEN 0 ELSE window_ends END
         WHERE (key = ?1 OR (key = ?2 AND window_ends = ?3))
           AND window_ends > unixepoch() AND ", schema_is_current!()
    };
    let (address_key, address_ends) = match address {
        Some((key, ends)) => (Value::Text(key.to_string()), Value::Integer(ends)),
        None => (Value::Null, Value::Null),
    };
    let params = [Value::Text(name_key.to_string()), address_key, address_ends];
    db.execute(&FORGIVE, &params)?;
    Ok(())
}

/// Removes every row whose window has ended. One statement.
pub fn remove_ended(db: &Db) -> Result<()> {
    const REMOVE_ENDED: Write = change! {
        "DELETE FROM login_failures WHERE window_ends <= unixepoch() AND ", schema_is_current!()
    };
    db.execute(&REMOVE_ENDED, &[])?;
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
    fn a_name_longer_than_any_username_gets_a_short_key_of_its_own() {
        let longest = "a".repeat(32);
        let long = "a".repeat(60_000);
        assert_eq!(name_key(&longest), format!("user:{longest}"));
        assert_eq!(name_key(&long), format!("user:{}", "a".repeat(33)));
        assert_ne!(name_key(&long), name_key(&longest));
        // Cut by characters, not bytes: never inside a character.
        assert_eq!(name_key(&"é".repeat(100)).chars().count(), 5 + 33);
    }

    #[test]
    fn each_limit_has_its_own_kind_of_key() {
        assert_eq!(address_key("192.0.2.1"), "addr:192.0.2.1");
        assert_eq!(registration_key("2001:db8::/64"), "reg:2001:db8::/64");
    }

    #[test]
    fn a_window_starts_with_its_first_attempt() {
        let counted = Counted(vec![
            (
                "user:ash".into(),
                Window {
                    attempts: 3,
                    seconds_left: 10,
                    ends: 1_000,
                },
            ),
            (
                "addr:192.0.2.1".into(),
                Window {
                    attempts: 1,
                    seconds_left: 900,
                    ends: 1_900,
                },
            ),
        ]);
        assert!(counted.started_a_window());
        assert_eq!(counted.of("user:ash").attempts, 3);
        assert_eq!(counted.of("user:misty"), Window::default());
    }
}
