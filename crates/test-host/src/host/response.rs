//! The outcome of one request as a test sees it ([`HostResponse`]): status, headers and
//! body, the trap if the guest had one, what it wrote to stderr and stdout, and its
//! [`RequestStats`].

use super::stats::RequestStats;

/// The outcome of one request.
///
/// When the guest traps before sending a response, `status` is 500 with no headers
/// and an empty body (Spin answers 500 too), and `trap` holds wasmtime's error with
/// its wasm backtrace. When it traps after sending the head, `status`/`headers` are
/// the ones sent, `body` what arrived, and `trap` is set as well. A response the guest
/// set to an `error-code` is a 500 with `trap` describing the code.
#[derive(Debug, Clone)]
pub struct HostResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub trap: Option<String>,
    /// What the component wrote to stderr during this request.
    pub stderr: String,
    /// What the component wrote to stdout during this request.
    pub stdout: String,
    pub stats: RequestStats,
}

impl HostResponse {
    /// The body as UTF-8 (panics with the bytes otherwise).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body)
            .unwrap_or_else(|e| panic!("body is not UTF-8 ({e}): {:?}", self.body))
    }

    /// The body parsed as JSON (panics with the body otherwise).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}); status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The first value of a header, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The answer to a request that got none from the guest: a 500 with no headers and no
/// body, and why in `trap`.
pub(super) fn synthetic_500(trap: String) -> HostResponse {
    HostResponse {
        status: 500,
        headers: http::HeaderMap::new(),
        body: Vec::new(),
        trap: Some(trap),
        stderr: String::new(),
        stdout: String::new(),
        stats: RequestStats::default(),
    }
}
