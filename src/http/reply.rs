//! A handler's successful answer: status, header fields, and a body with its media type.

use crate::error::{ApiError, Result};
use ::http::StatusCode;

/// A successful answer.
pub struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Option<(&'static str, Vec<u8>)>,
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

    /// A JSON body already serialized (an answer stored under an `Idempotency-Key`), or
    /// none.
    pub fn stored(status: StatusCode, body: Option<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.map(|body| ("application/json", body.into_bytes())),
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
