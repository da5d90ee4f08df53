//! Passwords and access tokens.
//!
//! Passwords are stored only as Argon2id PHC strings (OWASP's minimum: m = 19 MiB, t = 2,
//! p = 1; a random 16-byte salt each). A login for an unknown user verifies against a
//! dummy hash with the same parameters, so it costs what a wrong password costs.
//!
//! Tokens are HS256 JWTs signed with the `jwt_secret` variable: `sub` (user id),
//! `iat`, `exp`, `iss = pokefavs`, and `ver`, the user's session version when it was
//! issued. Verification refuses any other algorithm (`none` included), another issuer, a
//! token without `exp`, a `ver` that is not an integer, and allows 30 s of clock drift.
//! Whether the session is still live is the store's question, asked by the route's own
//! query. Nothing here knows HTTP: reading the token from a request is
//! `api::session`'s.

use crate::domain::{Password, Session, UserId};
use crate::error::{ApiError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jwt_simple::prelude::{
    Claims, Duration, HS256Key, MACLike, NoCustomClaims, VerificationOptions,
};
use serde::{Deserialize, Serialize};
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

/// The claim this API adds to the registered ones. A missing `ver` is a token from
/// before v2 (version 0); a `ver` that is there must be an integer, `null` included.
#[derive(Serialize, Deserialize)]
struct SessionClaim {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    ver: Option<i64>,
}

/// A claim that is there: an integer, never `null` (which plain `Option` would read as
/// missing, and so as version 0).
fn present<'de, D: serde::Deserializer<'de>>(
    claim: D,
) -> std::result::Result<Option<i64>, D::Error> {
    i64::deserialize(claim).map(Some)
}

/// Signs an access token for `session` valid for `ttl_seconds`.
pub fn issue_token(secret: &[u8], session: Session, ttl_seconds: u64) -> Result<String> {
    let claim = SessionClaim {
        ver: Some(session.version),
    };
    let mut claims = Claims::with_custom_claims(claim, Duration::from_secs(ttl_seconds))
        .with_issuer(ISSUER)
        .with_subject(session.user.get());
    claims.invalid_before = None; // the contract's claims are sub, iat, exp and iss
    HS256Key::from_bytes(secret)
        .authenticate(claims)
        .map_err(|e| ApiError::internal(format!("signing a token: {e}")))
}

/// The session a token speaks for, if the token is valid.
pub fn verify_token(secret: &[u8], token: &str) -> Option<Session> {
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISSUER.to_string()])),
        time_tolerance: Some(Duration::from_secs(30)),
        max_token_length: Some(2048),
        ..VerificationOptions::default()
    };
    // Verified without custom claims: jwt-simple reads custom claims through
    // `#[serde(flatten)]`, which cost the favorites read at 32 clients about 8 % of its
    // throughput in the benchmark. `ver` is read from the payload just verified instead.
    let claims = HS256Key::from_bytes(secret)
        .verify_token::<NoCustomClaims>(token, Some(options))
        .ok()?;
    claims.expires_at?;
    claims.issued_at?;
    Some(Session {
        user: UserId::parse(claims.subject.as_deref()?)?,
        version: session_version(token)?,
    })
}

/// The `ver` claim of a token whose signature has been verified: 0 when absent, `None`
/// when it is there but not an integer.
fn session_version(token: &str) -> Option<i64> {
    use ct_codecs::{Base64UrlSafeNoPadding, Decoder};
    let payload = token.split('.').nth(1)?;
    let mut buffer = vec![0u8; payload.len()];
    let json = Base64UrlSafeNoPadding::decode(&mut buffer, payload, None).ok()?;
    let claim: SessionClaim = serde_json::from_slice(json).ok()?;
    Some(claim.ver.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn session(user: i64, version: i64) -> Session {
        Session {
            user: UserId::from_db(user),
            version,
        }
    }

    /// Signs `claims` as this API would, whatever they say.
    fn sign(claims: serde_json::Value) -> String {
        let claims = Claims::with_custom_claims(claims, Duration::from_secs(600))
            .with_issuer(ISSUER)
            .with_subject(7);
        HS256Key::from_bytes(SECRET).authenticate(claims).unwrap()
    }

    #[test]
    fn a_token_names_its_session_and_verifies_with_the_same_secret() {
        let token = issue_token(SECRET, session(7, 3), 3600).unwrap();
        assert_eq!(verify_token(SECRET, &token), Some(session(7, 3)));
        assert_eq!(
            verify_token(b"another-secret-another-secret-xx", &token),
            None
        );
    }

    #[test]
    fn a_token_without_ver_is_version_0_and_a_ver_of_another_type_is_refused() {
        let old = sign(serde_json::json!({}));
        assert_eq!(verify_token(SECRET, &old), Some(session(7, 0)));
        for bad in [
            serde_json::json!({"ver": "1"}),
            serde_json::json!({"ver": 1.5}),
            serde_json::json!({"ver": null}),
            serde_json::json!({"ver": [1]}),
        ] {
            assert_eq!(verify_token(SECRET, &sign(bad.clone())), None, "{bad}");
        }
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
