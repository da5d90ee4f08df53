//! The component's log: one JSON object per line on stderr, which Spin keeps as the
//! component's log. Every layer writes through here (the request line of [`crate::http`],
//! the warnings of [`crate::db`]), so no layer imports another just to log.

use serde::Serialize;

/// Writes one JSON line in one write: Rust's stderr is unbuffered, and
/// `eprintln!("{json}")` would hand the host each token of the JSON as a write of its
/// own (a host call each).
pub fn write_line(line: &impl Serialize) {
    let mut text = serde_json::to_vec(line).unwrap_or_default();
    text.push(b'\n');
    // Nowhere to report a log that cannot be written.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), &text);
}

/// A warning: something went wrong that the request's answer does not show.
pub fn warn(message: &str) {
    write_line(&serde_json::json!({"level": "warn", "message": message}));
}
