//! Every way a request can fail, and the one place that turns a failure into an HTTP
//! answer (`application/problem+json`, RFC 9457) with a stable `code`.
//!
//! Handlers and the store return `Result<T>`; `?` carries failures here. Internal details
//! (SQLite messages, configuration problems) go to the log line of the request, never into
//! a response body: a 500 says only an opaque id that the log line also carries.

use crate::db::DbError;
use crate::domain::{FieldError, MAX_FAVORITES};
use crate::store::StoreError;
use http::StatusCode;

/// Result with [`ApiError`] as the default error.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// A failed request. Each variant names its status.
#[derive(Debug)]
pub enum ApiError {
    /// 400 `malformed_json`: the body is not JSON, or not an object.
    MalformedJson(&'static str),
    /// 400 `invalid_idempotency_key`: not 1–255 visible ASCII characters, or two fields.
    InvalidIdempotencyKey,
    /// 401 `unauthorized` with `WWW-Authenticate: Bearer`.
    Unauthorized,
    /// 401 `invalid_credentials`: unknown user or wrong password, indistinguishably.
    InvalidCredentials,
    /// 403 `forbidden`: another user's resources.
    Forbidden,
    /// 403 `wrong_password`: a password change whose `current_password` is wrong.
    WrongPassword,
    /// 404 `not_found`, with a detail that names what is missing.
    NotFound(String),
    /// 405 `method_not_allowed`, with the methods the path does allow.
    MethodNotAllowed(String),
    /// 409 `username_taken`.
    UsernameTaken,
    /// 409 `favorite_exists`.
    FavoriteExists(i64),
    /// 412 `precondition_failed`: `If-Match` names no current version of the list (or is
    /// not a valid field, which names none either); the detail says which.
    PreconditionFailed(&'static str),
    /// 413 `payload_too_large`.
    PayloadTooLarge,
    /// 415 `unsupported_media_type`.
    UnsupportedMediaType,
    /// 422 `validation_failed`, listing each field.
    Validation(Vec<FieldError>),
    /// 422 `idempotency_key_reused`: the key already answers another request.
    IdempotencyKeyReused,
    /// 422 `unknown_pokemon`: ids that are not in the catalog.
    UnknownPokemon(Vec<i64>),
    /// 429 `too_many_attempts`, with `Retry-After` in whole seconds (at least 1).
    TooManyAttempts(u64),
    /// 429 `too_many_attempts` for registrations from one address, with `Retry-After`.
    TooManyRegistrations(u64),
    /// 503 `database_unavailable` with `Retry-After`; the text is for the log only.
    DatabaseUnavailable(String),
    /// 500 `internal`; the text is for the log only.
    Internal(String),
}

impl ApiError {
    /// A single-field validation failure.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::WrongPassword => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UsernameTaken | ApiError::FavoriteExists(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_)
            | ApiError::UnknownPokemon(_)
            | ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyAttempts(_) | ApiError::TooManyRegistrations(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidIdempotencyKey => "invalid_idempotency_key",
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::Forbidden => "forbidden",
            ApiError::WrongPassword => "wrong_password",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::UsernameTaken => "username_taken",
            ApiError::FavoriteExists(_) => "favorite_exists",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::UnknownPokemon(_) => "unknown_pokemon",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::TooManyAttempts(_) | ApiError::TooManyRegistrations(_) => "too_many_attempts",
            ApiError::DatabaseUnavailable(_) => "database_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// What the log line says about this failure beyond status and code, if anything.
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            ApiError::DatabaseUnavailable(why) | ApiError::Internal(why) => Some(why),
            _ => None,
        }
    }

    fn detail(&self, request_id: &str) -> String {
        match self {
            ApiError::MalformedJson(why) => (*why).to_string(),
            ApiError::InvalidIdempotencyKey => {
                "Idempotency-Key must be one field of 1 to 255 visible ASCII characters".into()
            }
            ApiError::Unauthorized => "A valid bearer token is required".into(),
            ApiError::InvalidCredentials => "Unknown username or wrong password".into(),
            ApiError::Forbidden => "You may only act on your own account".into(),
            ApiError::WrongPassword => "The current password is wrong".into(),
            ApiError::NotFound(what) => what.clone(),
            ApiError::MethodNotAllowed(allow) => format!("This resource allows {allow}"),
            ApiError::UsernameTaken => "That username is already taken".into(),
            ApiError::FavoriteExists(id) => format!("Pokémon {id} is already a favorite"),
            ApiError::PreconditionFailed(why) => (*why).to_string(),
            ApiError::PayloadTooLarge => "The request body is larger than 64 KiB".into(),
            ApiError::UnsupportedMediaType => "The request body must be application/json".into(),
            ApiError::Validation(_) => "The request breaks one or more rules".into(),
            ApiError::IdempotencyKeyReused => {
                "This Idempotency-Key was used for another request; use a new key".into()
            }
            ApiError::UnknownPokemon(ids) => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("Not in the Pokémon catalog: {}", ids.join(", "))
            }
            ApiError::TooManyAttempts(seconds) => {
                format!("Too many failed logins; try again in {seconds} s")
            }
            ApiError::TooManyRegistrations(seconds) => {
                format!("Too many registrations from this address; try again in {seconds} s")
            }
            ApiError::DatabaseUnavailable(_) => {
                "The database is busy or unavailable; try again shortly".into()
            }
            ApiError::Internal(_) => format!("Internal error, id {request_id}"),
        }
    }

    /// The problem+json document for this failure.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": title(self.status()),
            "status": self.status().as_u16(),
            "code": self.code(),
            "detail": self.detail(request_id),
        });
        if let ApiError::Validation(errors) = self {
            body["errors"] = serde_json::json!(errors);
        }
        body
    }

    /// Headers the status requires besides the content type.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            // RFC 9110: every 401 names the scheme that would work.
            ApiError::Unauthorized | ApiError::InvalidCredentials => {
                vec![("www-authenticate", "Bearer".into())]
            }
            ApiError::MethodNotAllowed(allow) => vec![("allow", allow.clone())],
            ApiError::TooManyAttempts(seconds) | ApiError::TooManyRegistrations(seconds) => {
                vec![("retry-after", seconds.to_string())]
            }
            ApiError::DatabaseUnavailable(_) => vec![("retry-after", "1".into())],
            _ => Vec::new(),
        }
    }
}

/// The reason phrase of each status this API answers with, as RFC 9110 names them
/// (`http`'s `canonical_reason` has RFC 7231's older names for 413 and 422, and a
/// table of every status the .wasm would carry for eleven).
fn title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "Bad Request",
        StatusCode::UNAUTHORIZED => "Unauthorized",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::NOT_FOUND => "Not Found",
        StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::PRECONDITION_FAILED => "Precondition Failed",
        StatusCode::PAYLOAD_TOO_LARGE => "Content Too Large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported Media Type",
        StatusCode::UNPROCESSABLE_ENTITY => "Unprocessable Content",
        StatusCode::TOO_MANY_REQUESTS => "Too Many Requests",
        StatusCode::SERVICE_UNAVAILABLE => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::Validation(vec![err])
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        ApiError::Validation(errors)
    }
}

/// The store's outcomes as the API answers them. This is the one place that decides a
/// deleted user's token is `401`: the store only says the user is gone.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UserGone => ApiError::Unauthorized,
            StoreError::UsernameTaken => ApiError::UsernameTaken,
            StoreError::FavoriteExists(id) => ApiError::FavoriteExists(id),
            StoreError::UnknownPokemon(ids) => ApiError::UnknownPokemon(ids),
            StoreError::PreconditionFailed => ApiError::PreconditionFailed(
                "The favorites list has changed since the version in If-Match: read it again",
            ),
            StoreError::KeyReused => ApiError::IdempotencyKeyReused,
            StoreError::TooManyFavorites => ApiError::invalid(
                "pokemon_id",
                format!("a user may keep at most {MAX_FAVORITES} favorites"),
            ),
            StoreError::Contended(attempts) => ApiError::DatabaseUnavailable(format!(
                "the data changed under a write {attempts} times in a row"
            )),
            StoreError::Db(err) => err.into(),
        }
    }
}

/// A setting that is missing or unusable: 500, and the log line names it.
impl From<crate::config::ConfigError> for ApiError {
    fn from(err: crate::config::ConfigError) -> Self {
        ApiError::Internal(err.0)
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Unavailable(_, why) => ApiError::DatabaseUnavailable(why),
            // Not this build's to serve: a newer one (or a rollback of the deploy) fixes it.
            ahead @ DbError::SchemaAhead(_) => ApiError::DatabaseUnavailable(ahead.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_body_is_problem_json_with_its_code() {
        let err = ApiError::FavoriteExists(25);
        let body = err.body("abc");
        assert_eq!(body["status"], 409);
        assert_eq!(body["code"], "favorite_exists");
        assert_eq!(body["title"], "Conflict");
        assert_eq!(body["detail"], "Pokémon 25 is already a favorite");
    }

    #[test]
    fn an_internal_error_shows_only_the_request_id() {
        let err = ApiError::internal("no such table: users at /tmp/x.db");
        let body = err.body("req-123").to_string();
        assert!(body.contains("req-123"));
        assert!(!body.contains("no such table"));
        assert!(!body.contains("/tmp"));
    }

    #[test]
    fn validation_errors_list_each_field() {
        let err = ApiError::invalid("password", "must be 8 to 128 characters");
        let body = err.body("x");
        assert_eq!(body["errors"][0]["field"], "password");
    }

    #[test]
    fn database_unavailable_carries_retry_after() {
        let err = ApiError::DatabaseUnavailable("database is locked".into());
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(err.headers().iter().any(|(name, _)| *name == "retry-after"));
        assert!(!err.body("x").to_string().contains("locked"));
    }
}
