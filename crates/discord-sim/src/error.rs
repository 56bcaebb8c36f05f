//! Discord's JSON error bodies (`{code, message}` plus an `errors` tree for
//! 50035), and the error type of the sim's own Rust and control API.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An error response exactly as Discord shapes it; serenity needs `code` and
/// `message` to decode it into `DiscordJsonError`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
    pub errors: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: &str) -> Self {
        Self { status, code, message: message.into(), errors: None }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, 0, "404: Not Found")
    }
    pub fn unknown_channel() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10003, "Unknown Channel")
    }
    pub fn unknown_guild() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10004, "Unknown Guild")
    }
    pub fn unknown_member() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10007, "Unknown Member")
    }
    pub fn unknown_message() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10008, "Unknown Message")
    }
    pub fn unknown_overwrite() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10009, "Unknown Overwrite")
    }
    pub fn unknown_user() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10013, "Unknown User")
    }
    pub fn unknown_webhook() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10015, "Unknown Webhook")
    }
    pub fn unknown_application() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10002, "Unknown Application")
    }
    pub fn unknown_interaction() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10062, "Unknown interaction")
    }
    pub fn invalid_webhook_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token")
    }
    pub fn already_acknowledged() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 40060, "Interaction has already been acknowledged.")
    }
    pub fn missing_access() -> Self {
        Self::new(StatusCode::FORBIDDEN, 50001, "Missing Access")
    }
    pub fn missing_permissions() -> Self {
        Self::new(StatusCode::FORBIDDEN, 50013, "Missing Permissions")
    }
    pub fn cannot_dm() -> Self {
        Self::new(StatusCode::FORBIDDEN, 50007, "Cannot send messages to this user")
    }
    pub fn cannot_edit_foreign() -> Self {
        Self::new(StatusCode::FORBIDDEN, 50005, "Cannot edit a message authored by another user")
    }
    pub fn empty_message() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 50006, "Cannot send an empty message")
    }
    pub fn thread_exists() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 160004, "A thread has already been created for this message")
    }
    pub fn invalid_form(errors: FormErrors) -> Self {
        Self { errors: Some(errors.tree), ..Self::new(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body") }
    }
    /// A 50035 with a single error at `path` (e.g. `["embeds", "0", "title"]`).
    pub fn invalid_field(path: &[&str], code: &str, message: &str) -> Self {
        let mut errors = FormErrors::default();
        errors.add(path, code, message);
        Self::invalid_form(errors)
    }

    pub fn body(&self) -> Value {
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(errors) = &self.errors {
            body["errors"] = errors.clone();
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Discord's nested `errors` object:
/// `{"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "…"}]}}`.
#[derive(Clone, Debug)]
pub struct FormErrors {
    tree: Value,
}

impl Default for FormErrors {
    fn default() -> Self {
        Self { tree: Value::Object(Map::new()) }
    }
}

impl FormErrors {
    pub fn add(&mut self, path: &[&str], code: &str, message: &str) {
        let mut node = &mut self.tree;
        for key in path {
            node = node
                .as_object_mut()
                .expect("error tree nodes are objects")
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let list = node
            .as_object_mut()
            .expect("error tree nodes are objects")
            .entry("_errors")
            .or_insert_with(|| Value::Array(vec![]));
        list.as_array_mut().expect("_errors is an array").push(json!({"code": code, "message": message}));
    }

    pub fn max_length(&mut self, path: &[&str], max: usize) {
        self.add(path, "BASE_TYPE_MAX_LENGTH", &format!("Must be {max} or fewer in length."));
    }

    pub fn is_empty(&self) -> bool {
        self.tree.as_object().is_none_or(Map::is_empty)
    }

    /// `Err(50035)` if anything was added.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() { Ok(()) } else { Err(ApiError::invalid_form(self)) }
    }
}

/// Why a sim operation (control API or Rust API) failed. These are test-side
/// errors, not Discord errors: e.g. "alex cannot see that channel".
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("unknown {0}")]
    NotFound(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("timed out waiting for {0}")]
    Timeout(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("tls: {0}")]
    Tls(String),
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Io(_) | Self::Tls(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, axum::Json(json!({"error": self.to_string()}))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_nest_like_discord() {
        let mut e = FormErrors::default();
        e.max_length(&["embeds", "0", "title"], 256);
        e.max_length(&["content"], 2000);
        let body = ApiError::invalid_form(e).body();
        assert_eq!(body["code"], 50035);
        assert_eq!(body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
        assert_eq!(body["errors"]["content"]["_errors"][0]["message"], "Must be 2000 or fewer in length.");
    }

    #[test]
    fn empty_form_errors_are_ok() {
        assert!(FormErrors::default().into_result().is_ok());
    }
}
