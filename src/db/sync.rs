//! How a request's writes sync to disk: the one setting a request sends before its first
//! write (see `Db::prepare_write`), chosen by the operator through the component's
//! environment.

use super::DbError;

/// The environment variable an operator sets to choose how writes sync (`spin up -e
/// POKEFAVS_DB_SYNCHRONOUS=full`, or `environment` in `spin.toml`).
pub const SYNC_VARIABLE: &str = "POKEFAVS_DB_SYNCHRONOUS";

/// The statement that sets how this request's writes sync, from [`SYNC_VARIABLE`]:
/// unset or `normal` is NORMAL (the team's choice, and sqld's own), `full` is FULL (a
/// sync on every commit), `server` sends nothing (for a libSQL server, which refuses the
/// statement and owns the setting: one round trip saved per write). The variable is the
/// component's WASI environment, read in the instance: no Spin interface, no thread
/// hand-off, unlike a Spin variable. A value not in that list is a configuration error.
pub fn sync_setting() -> Result<Option<&'static str>, DbError> {
    let value = std::env::var(SYNC_VARIABLE).unwrap_or_default();
    parse_sync_setting(&value).ok_or_else(|| {
        DbError::Other(format!(
            "config: {SYNC_VARIABLE} must be normal, full or server, got {value:?}"
        ))
    })
}

fn parse_sync_setting(value: &str) -> Option<Option<&'static str>> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "normal" => Some(Some("PRAGMA synchronous = NORMAL")),
        "full" => Some(Some("PRAGMA synchronous = FULL")),
        "server" => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_sync_normal_unless_the_operator_says_otherwise() {
        assert_eq!(
            parse_sync_setting(""),
            Some(Some("PRAGMA synchronous = NORMAL"))
        );
        assert_eq!(
            parse_sync_setting(" Normal "),
            Some(Some("PRAGMA synchronous = NORMAL"))
        );
        assert_eq!(
            parse_sync_setting("FULL"),
            Some(Some("PRAGMA synchronous = FULL"))
        );
        assert_eq!(parse_sync_setting("server"), Some(None));
        for bad in ["off", "2", "extra", "normal;"] {
            assert_eq!(parse_sync_setting(bad), None, "{bad}");
        }
    }
}
