//! What a user signs up and signs in with, and the session a token speaks for.

use super::{FieldError, UserId};

/// What a valid token proves: who it was issued to, and the user's session version at
/// the time (the `ver` claim; 0 for a token issued before sessions existed). It speaks
/// for the user only while the stored version is still that one: logout and a password
/// change move it on, and every older token is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    pub version: i64,
}

/// A username: 3–32 characters of `A-Z a-z 0-9 _ . -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Username, FieldError> {
        let length = text.chars().count();
        if !(3..=32).contains(&length) {
            return Err(FieldError::new("username", "must be 3 to 32 characters"));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(FieldError::new(
                "username",
                "may only contain letters A-Z and a-z, digits, '_', '.' and '-'",
            ));
        }
        Ok(Username(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password: 8–128 Unicode scalar values. Never logged, never echoed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    pub fn parse(text: &str) -> Result<Password, FieldError> {
        let length = text.chars().count();
        if !(8..=128).contains(&length) {
            return Err(FieldError::new("password", "must be 8 to 128 characters"));
        }
        Ok(Password(text.to_string()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The `current_password` of a password change: any string, since it is only compared
/// with the stored hash (a password of another era may break today's rules).
pub fn current_password(text: &str) -> Password {
    Password(text.to_string())
}

/// A new password: the password rules, and not the current one again.
pub fn new_password(text: &str, current: &Password) -> Result<Password, FieldError> {
    let new = Password::parse(text).map_err(|err| FieldError::new("new_password", err.message))?;
    if new == *current {
        return Err(FieldError::new(
            "new_password",
            "must differ from the current password",
        ));
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract() {
        for ok in ["ash", "Misty_99", "a.b-c", &"x".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "ash ketchum",
            "pikachu!",
            "ésa",
            "a'b",
            "x;--",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_count_unicode_scalar_values_not_bytes() {
        assert!(Password::parse("ピカチュウピカチュ").is_ok()); // 9 chars, 27 bytes
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"é".repeat(129)).is_err());
    }

    #[test]
    fn a_new_password_follows_the_rules_and_differs_from_the_current_one() {
        let current = current_password("x");
        assert!(new_password("pikachu-pal", &current).is_ok());
        let short = new_password("short", &current).unwrap_err();
        assert_eq!(short.field, "new_password");
        let same = current_password("pikachu-pal");
        assert!(new_password("pikachu-pal", &same).is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::parse("hunter2-secret").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
