//! Passwords and access tokens.
//!
//! Passwords are stored only as Argon2id PHC strings (OWASP's minimum: m = 19 MiB, t = 2,
//! p = 1; a random 16-byte salt each). A login for an unknown user verifies against a
//! dummy hash with the same parameters, so it costs what a wrong password costs.
//!
//! Tokens are HS256 JWTs signed with the `jwt_secret` variable: `sub` (user id),
//! `iat`, `exp`, `iss = pokefavs`. Verification refuses any other algorithm (`none`
//! included), another issuer, a token without `exp`, and allows 30 s of clock drift.

use crate::domain::{Password, UserId};
use crate::error::{ApiError, Result};
use crate::http::Request;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jwt_simple::prelude::{
    Claims, Duration, HS256Key, MACLike, NoCustomClaims, VerificationOptions,
};
use std::collections::HashSet;

pub const ISSUER: &str = "pokefavs";

/// A well-formed PHC string with the parameters of real hashes and an output no password
/// produces: verifying against it costs a real verification and always fails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cG9rZWZhdnMtZHVtbXk$\
                          AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Hashes a password into an Argon2id PHC string with a fresh random salt.
pub fn hash_password(password: &Password) -> Result<String> {
    let salt = SaltString::encode_b64(&crate::random::bytes::<16>()).map_err(ApiError::internal)?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(ApiError::internal)?;
    Ok(hash.to_string())
}

/// Whether `password` matches `stored`; with no stored hash (unknown user) it still does
/// the work of a verification, then says no.
pub fn verify_password(password: &[u8], stored: Option<&str>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DUMMY_HASH)) else {
        return false;
    };
    let matches = Argon2::default().verify_password(password, &parsed).is_ok();
    matches && stored.is_some()
}

/// Signs an access token for `user` valid for `ttl_seconds`.
pub fn issue_token(secret: &[u8], user: UserId, ttl_seconds: u64) -> Result<String> {
    let mut claims = Claims::create(Duration::from_secs(ttl_seconds))
        .with_issuer(ISSUER)
        .with_subject(user.get());
    claims.invalid_before = None; // the contract's claims are sub, iat, exp and iss
    HS256Key::from_bytes(secret)
        .authenticate(claims)
        .map_err(|e| ApiError::internal(format!("signing a token: {e}")))
}

/// The user a token speaks for, if the token is valid.
pub fn verify_token(secret: &[u8], token: &str) -> Option<UserId> {
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISSUER.to_string()])),
        time_tolerance: Some(Duration::from_secs(30)),
        max_token_length: Some(2048),
        ..VerificationOptions::default()
    };
    let claims = HS256Key::from_bytes(secret)
        .verify_token::<NoCustomClaims>(token, Some(options))
        .ok()?;
    claims.expires_at?;
    claims.issued_at?;
    UserId::parse(claims.subject.as_deref()?)
}

/// The bearer token of a request: exactly one `Authorization` header saying
/// `Bearer <token>`. Two headers are ambiguous and refused.
pub fn bearer_token(request: &Request) -> Result<&str> {
    let mut values = request.header_values("authorization");
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::Unauthorized);
    };
    let value = std::str::from_utf8(value).map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::Unauthorized);
    }
    Ok(token)
}

/// The user a request's token speaks for. Whether that user still exists is checked by
/// the route's own query, which has to touch the user's row anyway.
pub fn authenticate(request: &Request) -> Result<UserId> {
    let token = bearer_token(request)?;
    let secret = crate::config::jwt_secret()?;
    verify_token(&secret, token).ok_or(ApiError::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    #[test]
    fn a_token_names_its_user_and_verifies_with_the_same_secret() {
        let token = issue_token(SECRET, UserId::from_db(7), 3600).unwrap();
        assert_eq!(verify_token(SECRET, &token), Some(UserId::from_db(7)));
        assert_eq!(
            verify_token(b"another-secret-another-secret-xx", &token),
            None
        );
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // {"alg":"none","typ":"JWT"} . {"sub":"1","iss":"pokefavs","iat":1,"exp":9999999999} .
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.\
                     eyJzdWIiOiIxIiwiaXNzIjoicG9rZWZhdnMiLCJpYXQiOjEsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(verify_token(SECRET, token), None);
    }

    #[test]
    fn the_dummy_hash_is_a_valid_phc_string_that_never_matches() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password(b"anything at all", None));
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let password = Password::parse("pikachu-pal").unwrap();
        let stored = hash_password(&password).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(b"pikachu-pal", Some(&stored)));
        assert!(!verify_password(b"pikachu-pa1", Some(&stored)));
    }
}
