//! Request bodies: JSON, or `multipart/form-data` with `payload_json` and
//! `files[n]` parts as serenity sends them for attachments.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::state::messages::Upload;

pub(crate) struct Payload {
    pub json: Value,
    pub files: Vec<Upload>,
}

fn invalid_json() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, 50109, "The request body contains invalid JSON.")
}

/// `files[3]` → 3; `file` (serenity's single-file form) → 0.
fn file_index(name: &str) -> Option<Option<u64>> {
    if name == "file" {
        return Some(Some(0));
    }
    let inner = name.strip_prefix("files[")?.strip_suffix(']')?;
    Some(inner.parse().ok())
}

impl<S: Send + Sync> FromRequest<S> for Payload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let bytes = Bytes::from_request(req, state).await.map_err(|_| invalid_json())?;
            let json = if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).map_err(|_| invalid_json())?
            };
            return Ok(Self { json, files: vec![] });
        }
        let mut form = Multipart::from_request(req, state).await.map_err(|_| invalid_json())?;
        let mut json = Value::Null;
        let mut fields = Map::new();
        let mut files = vec![];
        while let Some(field) = form.next_field().await.map_err(|_| invalid_json())? {
            let name = field.name().unwrap_or_default().to_owned();
            if let Some(index) = file_index(&name) {
                let filename = field.file_name().unwrap_or("file").to_owned();
                let content_type = field.content_type().map(String::from);
                let data = field.bytes().await.map_err(|_| invalid_json())?.to_vec();
                files.push(Upload { index, filename, content_type, data });
            } else {
                let text = field.text().await.map_err(|_| invalid_json())?;
                if name == "payload_json" {
                    json = serde_json::from_str(&text).map_err(|_| invalid_json())?;
                } else {
                    fields.insert(name, Value::String(text));
                }
            }
        }
        // Plain form fields (e.g. `content`) count when there is no payload_json.
        if json.is_null() && !fields.is_empty() {
            json = Value::Object(fields);
        }
        Ok(Self { json, files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_field_names() {
        assert_eq!(file_index("files[0]"), Some(Some(0)));
        assert_eq!(file_index("files[12]"), Some(Some(12)));
        assert_eq!(file_index("file"), Some(Some(0)));
        assert_eq!(file_index("payload_json"), None);
    }
}
