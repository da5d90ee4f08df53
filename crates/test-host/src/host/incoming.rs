//! The request as Spin hands it to the component: a test's request turned into an
//! absolute URI on Spin's default origin with Spin's `spin-*` headers ([`spin_request`]),
//! from the fake client's address or the one a test chose ([`ClientAddr`]).

use bytes::Bytes;
use http_body_util::Full;

/// Where the fake client connects from, as Spin reports it in `spin-client-addr`.
pub const CLIENT_ADDR: &str = "127.0.0.1:54321";

/// A request extension that makes the fake client connect from another address. Spin
/// takes `spin-client-addr` from the socket and **appends** it after the client's own
/// header fields: a `spin-client-addr` the client sent stays in the request, before
/// Spin's (see [`spin_request`]).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);
/// The origin Spin listens on by default (`spin up`).
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// Turn a test's request into what Spin 4.0.2 hands the component: an absolute URI
/// on 127.0.0.1:3000 with the path as sent, plus Spin's `spin-*` headers, appended after
/// the client's own fields as Spin does (`crates/trigger-http`, `wasi.rs` and
/// `headers.rs`: the request's fields are copied first, then Spin's are appended), so a
/// client that sends its own `spin-client-addr` is seen with two values, its own first.
pub fn spin_request(req: http::Request<Vec<u8>>) -> http::Request<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let full_url = format!("{ORIGIN}{path_and_query}");
    parts.uri = full_url
        .parse()
        .unwrap_or_else(|e| panic!("request path {path_and_query:?} makes a bad URI: {e}"));
    let path = parts.uri.path().to_string();
    let client_addr = parts
        .extensions
        .get::<ClientAddr>()
        .map_or(CLIENT_ADDR.to_string(), |addr| addr.0.clone());

    let headers = &mut parts.headers;
    let mut set = |name: &'static str, value: &str| {
        let value = http::HeaderValue::from_str(value)
            .unwrap_or_else(|e| panic!("bad value for header {name}: {value:?}: {e}"));
        headers.append(name, value);
    };
    set("spin-full-url", &full_url);
    set("spin-path-info", &path);
    set("spin-matched-route", "/...");
    set("spin-raw-component-route", "/...");
    set("spin-component-route", "");
    set("spin-base-path", "/");
    set("spin-client-addr", &client_addr);
    // What any real client sends; left alone when the test chose its own.
    if !headers.contains_key(http::header::HOST) {
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("127.0.0.1:3000"),
        );
    }
    if !body.is_empty()
        && !headers.contains_key(http::header::CONTENT_LENGTH)
        && !headers.contains_key(http::header::TRANSFER_ENCODING)
    {
        headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(body.len()),
        );
    }
    http::Request::from_parts(parts, Full::new(Bytes::from(body)))
}
