//! What an answer to hostile input may be: the property every answer of the fuzzer and
//! of the corpus must have.

use super::case::Sent;
use serde_json::Value;

/// The property every answer must have. `Err` says what is wrong.
pub(super) fn judge(method: &str, sent: &Sent) -> Result<(), String> {
    let response = &sent.response;
    let status = response.status;
    let what = format!("{method} {} -> {status}", sent.target);
    if let Some(trap) = &response.trap {
        return Err(format!("{what}: the guest trapped: {trap}"));
    }
    if status >= 500 {
        return Err(format!(
            "{what}: a server error for client input: {}\nlog: {}",
            String::from_utf8_lossy(&response.body),
            response.stderr
        ));
    }
    if (200..300).contains(&status) {
        return Ok(()); // check_response held it to openapi.json
    }
    if !(400..500).contains(&status) {
        return Err(format!("{what}: neither 2xx nor 4xx"));
    }
    if response.header("content-type") != Some("application/problem+json") {
        return Err(format!(
            "{what}: a 4xx that is not problem+json: {:?}",
            response.header("content-type")
        ));
    }
    if method == "HEAD" {
        // The problem GET would carry, without its body.
        if !response.body.is_empty() {
            return Err(format!("{what}: a HEAD answer with a body"));
        }
        if status == 405 && response.header("allow").is_none() {
            return Err(format!("{what}: 405 without Allow"));
        }
        return Ok(());
    }
    let body: Value = serde_json::from_slice(&response.body)
        .map_err(|e| format!("{what}: the problem body is not JSON: {e}"))?;
    if body["status"] != status || !body["code"].is_string() || !body["title"].is_string() {
        return Err(format!("{what}: a malformed problem: {body}"));
    }
    if status == 405 && response.header("allow").is_none() {
        return Err(format!("{what}: 405 without Allow"));
    }
    if body["code"] == "unauthorized"
        && !response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    {
        return Err(format!(
            "{what}: 401 unauthorized without WWW-Authenticate: Bearer"
        ));
    }
    Ok(())
}
