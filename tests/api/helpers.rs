//! What the black-box tests share beyond the test host's `TestApp`: `store_tests!`,
//! which runs a test body once on local SQLite and once on the libSQL-like store (every
//! black-box test is a matrix), the assertions on answers, and forged tokens.

#![allow(
    dead_code,
    reason = "each test module uses the part of the toolkit it needs"
)]

use crate::host::HostResponse;
pub use pokefavs_test_host::app::{check_response, dump};
pub use pokefavs_test_host::{TestApp, TestUser};
use serde_json::Value;

/// Runs each named test body, an ordinary `fn <name>(app: TestApp)` of the module, on
/// both stores: it defines the tests `<name>::local` and `<name>::libsql`, each with a
/// fresh [`TestApp`]. Attributes before a name (`#[ignore]`, `#[should_panic]`) go on both.
///
/// ```ignore
/// store_tests!(register_twice, #[ignore = "slow"] load);
///
/// fn register_twice(app: TestApp) { ... }
/// ```
macro_rules! store_tests {
    ($( $(#[$meta:meta])* $name:ident ),* $(,)?) => {
        $(
            mod $name {
                #[test]
                $(#[$meta])*
                fn local() {
                    super::$name($crate::helpers::TestApp::new($crate::host::StoreMode::Local))
                }

                #[test]
                $(#[$meta])*
                fn libsql() {
                    super::$name($crate::helpers::TestApp::new($crate::host::StoreMode::Libsql))
                }
            }
        )*
    };
}
pub(crate) use store_tests;

/// Asserts a problem+json answer with `status` and `code`, and returns its body.
#[track_caller]
pub fn assert_problem(response: &HostResponse, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status,
        status,
        "expected {status} {code}, got {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "problem responses are application/problem+json"
    );
    let body = response.json();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], "about:blank", "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    assert!(
        response.trap.is_none(),
        "the guest trapped: {:?}",
        response.trap
    );
    body
}

/// Asserts a JSON success answer with `status` and returns its body.
#[track_caller]
pub fn assert_json(response: &HostResponse, status: u16) -> Value {
    assert_eq!(
        response.status,
        status,
        "expected {status}, got {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    response.json()
}

/// Whether the request ran Argon2id: with m = 19 MiB it needs that much memory in the
/// instance, which the host measures (the component's initial memory is far smaller).
pub fn ran_argon2(response: &HostResponse) -> bool {
    response.stats.peak_memory_bytes >= 19 << 20
}

/// `Retry-After` of a 429 `too_many_attempts`, in seconds.
#[track_caller]
pub fn retry_after(response: &HostResponse) -> i64 {
    assert_problem(response, 429, "too_many_attempts");
    response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in whole seconds")
}

/// A dump without the rows of `login_failures`.
pub fn without_counters(dump: &str) -> String {
    let mut kept = String::new();
    let mut in_counters = false;
    for line in dump.lines() {
        if line.starts_with("== ") {
            in_counters = line == "== login_failures";
        } else if in_counters {
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// A token signed with `secret` for arbitrary header and claims (for forged tokens).
pub fn sign_token(secret: &[u8], header: &Value, claims: &Value) -> String {
    let encode = |v: &Value| base64url(serde_json::to_vec(v).expect("json").as_slice());
    let signing_input = format!("{}.{}", encode(header), encode(claims));
    let signature = hmac_sha256(secret, signing_input.as_bytes());
    format!("{signing_input}.{}", base64url(&signature))
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

pub fn base64url(bytes: &[u8]) -> String {
    use ct_codecs::{Base64UrlSafeNoPadding, Encoder};
    let length = Base64UrlSafeNoPadding::encoded_len(bytes.len()).expect("a length");
    let mut text = vec![0u8; length];
    Base64UrlSafeNoPadding::encode_to_str(&mut text, bytes)
        .expect("base64url")
        .to_string()
}

/// HMAC-SHA256, from the `hmac-sha256` crate (already in the tree under jwt-simple).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    hmac_sha256::HMAC::mac(message, key)
}

#[test]
fn the_test_hmac_matches_rfc_4231_case_2() {
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

// Attributes before a name reach both wrappers: both of these must panic to pass.
store_tests!(
    #[should_panic(expected = "the body ran")]
    store_tests_pass_attributes_on
);

fn store_tests_pass_attributes_on(app: TestApp) {
    let _ = app;
    panic!("the body ran");
}

/// The three favorites writes of a user's own list, each with extra header fields (the
/// tests of `If-Match` and of `Idempotency-Key` send them).
pub mod favorite_writes {
    use super::{TestApp, TestUser};
    use crate::host::HostResponse;
    use serde_json::json;

    pub fn favorites_path(user: &TestUser) -> String {
        format!("/api/users/{}/favorites", user.id)
    }

    /// The three writes, each with these extra headers.
    pub fn add(app: &TestApp, user: &TestUser, id: i64, headers: &[(&str, &str)]) -> HostResponse {
        let body = json!({ "pokemon_id": id });
        let path = favorites_path(user);
        app.send_with("POST", &path, Some(&user.token), Some(&body), headers)
    }

    pub fn replace(
        app: &TestApp,
        user: &TestUser,
        ids: &[i64],
        headers: &[(&str, &str)],
    ) -> HostResponse {
        let body = json!({ "pokemon_ids": ids });
        let path = favorites_path(user);
        app.send_with("PUT", &path, Some(&user.token), Some(&body), headers)
    }

    pub fn remove(
        app: &TestApp,
        user: &TestUser,
        id: i64,
        headers: &[(&str, &str)],
    ) -> HostResponse {
        let path = format!("{}/{id}", favorites_path(user));
        app.send_with("DELETE", &path, Some(&user.token), None, headers)
    }
}
