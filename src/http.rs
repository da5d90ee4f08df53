//! The HTTP edge: turns Spin's incoming request into a [`Request`] the handlers read,
//! and a handler's `Result<Reply>` into the response, with one log line per request.
//!
//! The body is not read up front. A handler that takes JSON calls [`Request::json`], which
//! checks the content type, refuses a declared `content-length` over 64 KiB without
//! reading, and reads at most 64 KiB + 1 bytes from the stream, so an oversized body costs
//! us no more than that.

use crate::error::{ApiError, Result};
use ::http::{Method, StatusCode};
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use std::time::Instant;

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

/// A successful answer.
pub struct Reply {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Option<(&'static str, Vec<u8>)>,
}

impl Reply {
    /// A JSON body with `status`.
    pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Result<Reply> {
        let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
        Ok(Reply {
            status,
            headers: Vec::new(),
            body: Some(("application/json", bytes)),
        })
    }

    /// A JSON document kept as text (the OpenAPI description).
    pub fn json_text(text: &'static str) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Some(("application/json", text.as_bytes().to_vec())),
        }
    }

    /// `204 No Content`.
    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        }
    }

    /// `304 Not Modified`: the client's copy is current; no body.
    pub fn not_modified() -> Reply {
        Reply {
            status: StatusCode::NOT_MODIFIED,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// What a request produced, for the log line.
struct Outcome {
    /// The route's template, if a route had the path.
    route: Option<&'static str>,
    status: StatusCode,
    error: Option<String>,
}

/// A response ready to go out: status, header fields and body.
struct Rendered {
    status: StatusCode,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Serves one request: routes it, writes the answer to Spin, and writes the log line.
pub async fn serve(
    incoming: IncomingRequest,
    out: ResponseOutparam,
    route: impl FnOnce(&Request) -> (Option<&'static str>, Result<Reply>),
) {
    let started = Instant::now();
    let request_id = new_request_id();
    let request = Request::from_incoming(incoming);
    let (template, answer) = route(&request);
    let (mut rendered, mut outcome) = match answer {
        Ok(reply) => render(reply, &request_id),
        Err(err) => render_error(&err, &request_id),
    };
    if crate::router::is_private(&request.path) {
        rendered
            .headers
            .push(field("cache-control", "no-store".to_string()));
    }
    outcome.route = template;
    // HEAD: what GET would answer, without the body (RFC 9110 §9.3.2).
    if request.method == Some(Method::HEAD) {
        rendered.body.clear();
    }
    if let Err(why) = send(out, rendered).await {
        let error = outcome
            .error
            .take()
            .map(|e| format!("{e}; "))
            .unwrap_or_default();
        outcome.error = Some(format!("{error}the response could not be sent: {why}"));
    }
    log_request(&request, &request_id, &outcome, started);
}

fn render(reply: Reply, request_id: &str) -> (Rendered, Outcome) {
    let mut headers = vec![field("x-request-id", request_id.to_string())];
    headers.extend(reply.headers.into_iter().map(|(n, v)| field(n, v)));
    let body = match reply.body {
        Some((content_type, bytes)) => {
            headers.push(field("content-type", content_type.to_string()));
            bytes
        }
        None => Vec::new(),
    };
    let outcome = Outcome {
        route: None,
        status: reply.status,
        error: None,
    };
    let rendered = Rendered {
        status: reply.status,
        headers,
        body,
    };
    (rendered, outcome)
}

fn render_error(err: &ApiError, request_id: &str) -> (Rendered, Outcome) {
    let mut headers = vec![
        field("content-type", "application/problem+json".to_string()),
        field("x-request-id", request_id.to_string()),
    ];
    headers.extend(err.headers().into_iter().map(|(n, v)| field(n, v)));
    let outcome = Outcome {
        route: None,
        status: err.status(),
        error: err.log_detail().map(str::to_string),
    };
    let rendered = Rendered {
        status: err.status(),
        headers,
        body: serde_json::to_vec(&err.body(request_id)).unwrap_or_default(),
    };
    (rendered, outcome)
}

/// A header field as wasi-http takes it. Our names are lowercase already.
fn field(name: &str, value: String) -> (String, Vec<u8>) {
    (name.to_string(), value.into_bytes())
}

/// Hands the response to Spin and streams its body.
async fn send(out: ResponseOutparam, rendered: Rendered) -> std::result::Result<(), String> {
    let fields = Fields::from_list(&rendered.headers).map_err(|e| format!("headers: {e:?}"))?;
    let response = OutgoingResponse::new(fields);
    response
        .set_status_code(rendered.status.as_u16())
        .map_err(|()| format!("status {}", rendered.status.as_u16()))?;
    out.set_with_body(response, rendered.body)
        .await
        .map_err(|e| format!("body: {e:?}"))
}

/// One JSON line per request on stderr, which Spin keeps in the component's log.
/// Never a body, a header value, a query string or a secret: the query may carry
/// search text, and bodies carry passwords.
fn log_request(request: &Request, request_id: &str, outcome: &Outcome, started: Instant) {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        level: &'static str,
        request_id: &'a str,
        method: &'a str,
        path: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        route: Option<&'a str>,
        status: u16,
        duration_ms: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    }
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let line = Line {
        level: if outcome.status.is_server_error() {
            "error"
        } else {
            "info"
        },
        request_id,
        method: &request.method_name,
        path: &request.path,
        route: outcome.route,
        status: outcome.status.as_u16(),
        duration_ms: (duration_ms * 1000.0).round() / 1000.0,
        error: outcome.error.as_deref(),
    };
    crate::log::write_line(&line);
}

/// A random id that ties a response to its log line: 64 bits, as 16 hex digits.
fn new_request_id() -> String {
    format!("{:016x}", u64::from_le_bytes(crate::random::bytes()))
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
