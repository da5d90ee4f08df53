//! The request as handlers read it: method, path, query, header fields, and the body,
//! which is not read up front. A handler that takes JSON calls [`Request::json`], which
//! checks the content type, refuses a declared `content-length` over 64 KiB without
//! reading, and reads at most 64 KiB + 1 bytes from the stream, so an oversized body
//! costs us no more than that.

use crate::error::{ApiError, Result};
use ::http::Method;
use spin_sdk::http::IncomingRequest;

/// The largest request body the API accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// An incoming request, its body still unread.
pub struct Request {
    /// `None` for a method no route has (see [`method_of`]).
    pub method: Option<Method>,
    /// The method as sent, for the log line.
    method_name: String,
    /// The path exactly as sent: not normalised, escapes left as they are.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    headers: Vec<(String, Vec<u8>)>,
    incoming: IncomingRequest,
}

impl Request {
    pub fn from_incoming(incoming: IncomingRequest) -> Request {
        let path_and_query = incoming.path_with_query().unwrap_or_else(|| "/".into());
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path.to_string(), query.to_string()),
            None => (path_and_query, String::new()),
        };
        let method = incoming.method();
        Request {
            method: method_of(&method),
            method_name: method.to_string(),
            path,
            query,
            headers: incoming.headers().entries(),
            incoming,
        }
    }

    /// The method as sent, for the log line.
    pub fn method_name(&self) -> &str {
        &self.method_name
    }

    /// Every value of a header, in the order sent (names compare case-insensitively).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of a header, if it was sent and is text.
    pub fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name)
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The decoded value of the first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Result<Option<String>> {
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if percent_decode(key).as_deref() == Some(name) {
                return percent_decode(value)
                    .map(Some)
                    .ok_or_else(|| ApiError::invalid(name, "is not valid percent-encoded UTF-8"));
            }
        }
        Ok(None)
    }

    /// Reads the body as JSON: 415 without a JSON content type, 413 over 64 KiB,
    /// 400 if it does not parse.
    pub fn json(&self) -> Result<serde_json::Value> {
        // The declared size first: it costs no read, and an oversized body is 413
        // whatever it claims to be.
        let declared = self
            .header("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
        let content_type = self.header("content-type");
        if content_type.is_some_and(|content_type| !is_json(content_type)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let body = self.read_body()?;
        if content_type.is_none() && !body.is_empty() {
            return Err(ApiError::UnsupportedMediaType);
        }
        serde_json::from_slice(&body)
            .map_err(|_| ApiError::MalformedJson("The body is not valid JSON"))
    }

    /// Reads at most `MAX_BODY + 1` bytes of the body: enough to know it is too large.
    fn read_body(&self) -> Result<Vec<u8>> {
        let broken = |what: &str| ApiError::internal(format!("reading the request body: {what}"));
        let body = self
            .incoming
            .consume()
            .map_err(|()| broken("already consumed"))?;
        let mut bytes = Vec::new();
        {
            let stream = body.stream().map_err(|()| broken("no stream"))?;
            while bytes.len() <= MAX_BODY {
                let want = (MAX_BODY + 1 - bytes.len()) as u64;
                match stream.blocking_read(want) {
                    Ok(chunk) => bytes.extend_from_slice(&chunk),
                    Err(wasi::io::streams::StreamError::Closed) => break,
                    Err(wasi::io::streams::StreamError::LastOperationFailed(err)) => {
                        return Err(broken(&err.to_debug_string()))
                    }
                }
            }
            // The stream is a child of the body: it must go first.
        }
        drop(body);
        if bytes.len() > MAX_BODY {
            return Err(ApiError::PayloadTooLarge);
        }
        Ok(bytes)
    }
}

/// Spin's method as `http`'s, for the methods a route can have; `None` for any other
/// (no route answers it, so it is 404 or 405). Spin's own conversion would also parse
/// extension methods, at 2.6 KiB of .wasm, and panic on one that is not a valid token.
fn method_of(method: &spin_sdk::http::Method) -> Option<Method> {
    use spin_sdk::http::Method as Spin;
    Some(match method {
        Spin::Get => Method::GET,
        Spin::Head => Method::HEAD,
        Spin::Post => Method::POST,
        Spin::Put => Method::PUT,
        Spin::Delete => Method::DELETE,
        Spin::Patch => Method::PATCH,
        Spin::Options => Method::OPTIONS,
        Spin::Connect => Method::CONNECT,
        Spin::Trace => Method::TRACE,
        Spin::Other(_) => return None,
    })
}

/// `application/json`, with or without parameters such as `; charset=utf-8`.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Decodes `%XX` escapes and `+` (a space in a query string); `None` if the result is
/// not UTF-8 or an escape is broken.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        match b {
            b'%' => {
                let hex = [input.next()?, input.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b'+' => bytes.push(b' '),
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_may_carry_parameters() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json("application/problem+json"));
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(percent_decode("Mr.%20Mime").as_deref(), Some("Mr. Mime"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a b"));
        assert_eq!(
            percent_decode("Flab%C3%A9b%C3%A9").as_deref(),
            Some("Flabébé")
        );
        assert_eq!(percent_decode("%ZZ"), None);
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(percent_decode("%4"), None);
    }
}
