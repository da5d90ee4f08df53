//! Requests as a client sends them, for [`Host::request`](crate::host::Host::request):
//! the tests' `TestApp` and the benchmark build theirs here, so both speak to the
//! component the same way.

use serde_json::Value;

/// `method path`, with `Authorization: Bearer <token>` when a token is given and, when
/// `body` is given, that JSON as the body with `content-type: application/json`.
pub fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let bytes = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            serde_json::to_vec(body).expect("a JSON body")
        }
        None => Vec::new(),
    };
    builder.body(bytes).expect("a well-formed request")
}

/// A `GET` with no body.
pub fn get(path: &str, token: Option<&str>) -> http::Request<Vec<u8>> {
    request("GET", path, token, None)
}

/// A request exactly as given: these headers (none added) and these bytes.
pub fn raw(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.to_vec()).expect("a well-formed request")
}

/// The JSON body `register` and `login` take.
pub fn credentials(username: &str, password: &str) -> Value {
    serde_json::json!({ "username": username, "password": password })
}
