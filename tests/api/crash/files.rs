//! What the parent reads after a kill: the database file as the dead process left it
//! (a copy, so that the check does not recover the hot WAL the next child must), and
//! every user's list in it, with its integrity checked.

use crate::host::{temp_db, TempDb};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Every user and their list, straight from the file at `path`. Fails on orphan
/// favorites, on a damaged file, and on foreign-key violations.
pub(super) fn read_database(path: &Path) -> BTreeMap<String, Vec<i64>> {
    let conn = rusqlite::Connection::open(path).expect("open the database after the crash");
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("integrity_check");
    assert_eq!(integrity, ["ok"], "PRAGMA integrity_check after SIGKILL");
    let fk_violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("foreign_key_check");
    assert_eq!(fk_violations, 0, "foreign key violations after SIGKILL");
    let mut state: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut users = conn.prepare("SELECT username FROM users").expect("users");
    for name in users
        .query_map([], |r| r.get::<_, String>(0))
        .expect("users")
    {
        state.insert(name.expect("a username"), Vec::new());
    }
    let mut favorites = conn
        .prepare(
            "SELECT u.username, f.pokemon_id FROM favorites f
             LEFT JOIN users u ON u.id = f.user_id ORDER BY f.id",
        )
        .expect("favorites");
    let rows = favorites
        .query_map([], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
        })
        .expect("favorites");
    for row in rows {
        let (user, pokemon) = row.expect("a favorite");
        let user = user.unwrap_or_else(|| panic!("favorite {pokemon} of a user that is gone"));
        state.get_mut(&user).expect("listed above").push(pokemon);
    }
    state
}

/// Copies the database and its WAL as the killed process left them, so the check does
/// not checkpoint the original: the next child must recover the hot WAL itself.
pub(super) fn snapshot(db: &Path, tag: &str) -> TempDb {
    let copy = temp_db(tag);
    for suffix in ["", "-wal"] {
        let from = with_suffix(db, suffix);
        if from.exists() {
            std::fs::copy(&from, with_suffix(&copy, suffix))
                .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        }
    }
    copy
}

pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.to_path_buf().into_os_string();
    p.push(suffix);
    PathBuf::from(p)
}

pub(super) fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis()
}
