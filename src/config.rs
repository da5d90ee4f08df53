//! The component's settings, read from Spin variables (`spin.toml` declares them).
//!
//! Each lookup is a host call, so a route reads only what it needs, when it needs it.
//! A missing or unusable value is a [`ConfigError`]: the route answers `500 internal`
//! (`error.rs`), the log line says which setting is wrong, and `/health` reports it.

use crate::domain::address::TrustedProxies;
use spin_sdk::variables;

/// A setting that is missing or unusable: the text names it (never its value, for a
/// secret), for the log line only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Result with [`ConfigError`] as the error.
pub type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// A [`ConfigError`] from the host's failure to give `name`.
fn unavailable(name: &str, err: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("config: {name} unavailable: {err}"))
}

/// HS256 wants a key at least as long as its hash output.
pub const MIN_SECRET_BYTES: usize = 32;

/// The key that signs and verifies access tokens.
pub fn jwt_secret() -> Result<Vec<u8>> {
    let secret = variables::get("jwt_secret").map_err(|err| unavailable("jwt_secret", err))?;
    check_secret(&secret).map_err(ConfigError)?;
    Ok(secret.into_bytes())
}

/// What is wrong with the configuration, in a fixed phrase fit for an unauthenticated
/// health check: it names the setting, never its value or its length.
pub fn problem() -> Option<&'static str> {
    match variables::get("jwt_secret") {
        Err(_) => return Some("jwt_secret is not set"),
        Ok(secret) if check_secret(&secret).is_err() => {
            return Some("jwt_secret is shorter than 32 bytes")
        }
        Ok(_) => {}
    }
    match variables::get("token_ttl_seconds") {
        Ok(ttl) if parse_ttl(&ttl).is_ok() => {}
        _ => return Some("token_ttl_seconds is not whole seconds from 60 to 2592000"),
    }
    if let Some(limit) = LIMITS.iter().find(|limit| limit.read().is_err()) {
        return Some(limit.problem);
    }
    if crate::db::sync_setting().is_err() {
        return Some("POKEFAVS_DB_SYNCHRONOUS is not normal, full or server");
    }
    trusted_proxies()
        .is_err()
        .then_some("trusted_proxies is not a comma-separated list of IP addresses and CIDR ranges")
}

/// A whole-number login throttling setting (contract v2, "Login throttling").
struct LimitSetting {
    name: &'static str,
    /// The smallest value that makes sense (0 turns the address limit off).
    min: u64,
    max: u64,
    /// What `/health` says when the value is unusable.
    problem: &'static str,
}

impl LimitSetting {
    fn read(&self) -> Result<u64> {
        let text = variables::get(self.name).map_err(|err| unavailable(self.name, err))?;
        self.parse(&text).map_err(ConfigError)
    }

    fn parse(&self, text: &str) -> std::result::Result<u64, String> {
        match text.trim().parse::<u64>() {
            Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
            _ => Err(format!(
                "config: {} must be a whole number from {} to {}, got {text:?}",
                self.name, self.min, self.max
            )),
        }
    }
}

const FAILURE_LIMIT: LimitSetting = LimitSetting {
    name: "login_failure_limit",
    min: 1,
    max: 1_000_000,
    problem: "login_failure_limit is not a whole number from 1 to 1000000",
};
const ADDRESS_LIMIT: LimitSetting = LimitSetting {
    name: "login_address_limit",
    min: 0,
    max: 1_000_000,
    problem: "login_address_limit is not a whole number from 0 to 1000000",
};
const WINDOW: LimitSetting = LimitSetting {
    name: "login_window_seconds",
    min: 1,
    max: 30 * 24 * 3600,
    problem: "login_window_seconds is not whole seconds from 1 to 2592000",
};
const REGISTER_LIMIT: LimitSetting = LimitSetting {
    name: "register_address_limit",
    min: 0,
    max: 1_000_000,
    problem: "register_address_limit is not a whole number from 0 to 1000000",
};
const LIMITS: [LimitSetting; 4] = [FAILURE_LIMIT, ADDRESS_LIMIT, WINDOW, REGISTER_LIMIT];

/// How many failed logins are allowed, and for how long they are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures per username (any letter case) within a window.
    pub per_username: u64,
    /// Failures per client address within a window; 0 means no address limit.
    pub per_address: u64,
    /// The window, in seconds from the first failure.
    pub window_seconds: u64,
}

/// The login throttling settings.
pub fn login_limits() -> Result<LoginLimits> {
    Ok(LoginLimits {
        per_username: FAILURE_LIMIT.read()?,
        per_address: ADDRESS_LIMIT.read()?,
        window_seconds: WINDOW.read()?,
    })
}

/// How many registrations one client address may make, and for how long they are
/// remembered (contract v3, "Registration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterLimits {
    /// Registrations per client address within a window; 0 means no limit.
    pub per_address: u64,
    /// The window, in seconds from the first registration (`login_window_seconds`).
    pub window_seconds: u64,
}

/// The registration limit. The window is read only when the limit is on.
pub fn register_limits() -> Result<RegisterLimits> {
    let per_address = REGISTER_LIMIT.read()?;
    let window_seconds = match per_address {
        0 => 0,
        _ => WINDOW.read()?,
    };
    Ok(RegisterLimits {
        per_address,
        window_seconds,
    })
}

/// The proxies trusted to name the client in `X-Forwarded-For` (`trusted_proxies`).
/// Read only by the routes that count client addresses, and only when a limit is on.
pub fn trusted_proxies() -> Result<TrustedProxies> {
    let text =
        variables::get("trusted_proxies").map_err(|err| unavailable("trusted_proxies", err))?;
    TrustedProxies::parse(&text)
        .map_err(|why| ConfigError(format!("config: trusted_proxies: {why}")))
}

/// Why `secret` cannot sign tokens, if it cannot.
pub fn check_secret(secret: &str) -> std::result::Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "config: jwt_secret is {} bytes, shorter than the {MIN_SECRET_BYTES} required",
            secret.len()
        ));
    }
    Ok(())
}

/// How long an access token lives, in seconds.
pub fn token_ttl_seconds() -> Result<u64> {
    let text =
        variables::get("token_ttl_seconds").map_err(|err| unavailable("token_ttl_seconds", err))?;
    parse_ttl(&text).map_err(ConfigError)
}

/// A lifetime from one minute to thirty days.
pub fn parse_ttl(text: &str) -> std::result::Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(seconds) if (60..=30 * 24 * 3600).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "config: token_ttl_seconds must be whole seconds from 60 to 2592000, got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_secret_is_a_configuration_error() {
        assert!(check_secret(&"x".repeat(31)).is_err());
        assert!(check_secret(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn login_limits_are_whole_numbers_in_range() {
        assert_eq!(FAILURE_LIMIT.parse("5"), Ok(5));
        assert_eq!(ADDRESS_LIMIT.parse("0"), Ok(0));
        assert_eq!(WINDOW.parse(" 900 "), Ok(900));
        assert_eq!(REGISTER_LIMIT.parse("0"), Ok(0));
        assert_eq!(REGISTER_LIMIT.parse("20"), Ok(20));
        assert!(FAILURE_LIMIT.parse("0").is_err());
        assert!(WINDOW.parse("0").is_err());
        for bad in ["", "-1", "1.5", "five", "99999999999"] {
            for setting in &LIMITS {
                assert!(setting.parse(bad).is_err(), "{} {bad}", setting.name);
            }
        }
    }

    #[test]
    fn the_token_lifetime_is_sane_whole_seconds() {
        assert_eq!(parse_ttl("3600"), Ok(3600));
        for bad in ["", "abc", "-5", "0", "59", "1.5", "99999999999"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
