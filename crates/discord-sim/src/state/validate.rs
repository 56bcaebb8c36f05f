//! Discord's limits on message bodies and modals, answered like Discord does:
//! 400 code 50035 with an `errors` tree naming each offending field.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::{ApiError, FormErrors};

pub(crate) const CONTENT_MAX: usize = 2000;
pub(crate) const NONCE_MAX: usize = 25;
const EMBEDS_MAX: usize = 10;
const EMBED_TOTAL_MAX: usize = 6000;

fn len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn check_len(errors: &mut FormErrors, v: &Value, path: &[&str], max: usize) -> usize {
    let n = len(v);
    if n > max {
        errors.max_length(path, max);
    }
    n
}

/// Content, nonce, embeds and components of a message create/edit body.
pub(crate) fn message_body(body: &Value) -> Result<(), ApiError> {
    let mut errors = FormErrors::default();
    check_len(&mut errors, &body["content"], &["content"], CONTENT_MAX);
    if let Some(nonce) = body.get("nonce").and_then(Value::as_str) {
        check_len(&mut errors, &Value::from(nonce), &["nonce"], NONCE_MAX);
    }
    if let Some(embeds) = body.get("embeds").and_then(Value::as_array) {
        embeds_limits(&mut errors, embeds);
    }
    if let Some(rows) = body.get("components").and_then(Value::as_array) {
        components(&mut errors, rows);
    }
    errors.into_result()
}

fn embeds_limits(errors: &mut FormErrors, embeds: &[Value]) {
    if embeds.len() > EMBEDS_MAX {
        errors.max_length(&["embeds"], EMBEDS_MAX);
    }
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        let i = i.to_string();
        let at = |field: &'static str| [String::from("embeds"), i.clone(), field.to_owned()];
        for (field, max) in [("title", 256), ("description", 4096)] {
            let path = at(field);
            total += check_len(errors, &embed[field], &refs(&path), max);
        }
        let footer = ["embeds", &i, "footer", "text"];
        total += check_len(errors, &embed["footer"]["text"], &footer, 2048);
        let author = ["embeds", &i, "author", "name"];
        total += check_len(errors, &embed["author"]["name"], &author, 256);
        let fields = embed["fields"].as_array().map_or(&[][..], Vec::as_slice);
        if fields.len() > 25 {
            errors.max_length(&["embeds", &i, "fields"], 25);
        }
        for (j, field) in fields.iter().enumerate() {
            let j = j.to_string();
            for (key, max) in [("name", 256), ("value", 1024)] {
                let path = ["embeds", &i, "fields", &j, key];
                if len(&field[key]) == 0 {
                    errors.add(&path, "BASE_TYPE_REQUIRED", "This field is required");
                }
                total += check_len(errors, &field[key], &path, max);
            }
        }
    }
    if total > EMBED_TOTAL_MAX {
        errors.add(&["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
    }
}

fn refs(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

fn components(errors: &mut FormErrors, rows: &[Value]) {
    if rows.len() > 5 {
        errors.max_length(&["components"], 5);
    }
    let mut seen = BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        let i = i.to_string();
        if row["type"].as_u64() != Some(1) {
            errors.add(
                &["components", &i, "type"],
                "UNION_TYPE_CHOICES",
                "Value of field \"type\" must be one of (1,).",
            );
            continue;
        }
        let items = row["components"].as_array().map_or(&[][..], Vec::as_slice);
        if items.is_empty() || items.len() > 5 {
            errors.add(&["components", &i, "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
        }
        for (j, item) in items.iter().enumerate() {
            let j = j.to_string();
            let path = |k: &'static str| ["components", &i, "components", &j, k].map(String::from);
            check_len(errors, &item["label"], &refs(&path("label")), 80);
            let is_link = item["type"].as_u64() == Some(2) && item["style"].as_u64() == Some(5);
            if is_link {
                if len(&item["url"]) == 0 {
                    errors.add(&refs(&path("url")), "BASE_TYPE_REQUIRED", "This field is required");
                }
                continue;
            }
            let custom_id = item["custom_id"].as_str().unwrap_or_default();
            if custom_id.is_empty() {
                errors.add(&refs(&path("custom_id")), "BASE_TYPE_REQUIRED", "This field is required");
            }
            check_len(errors, &item["custom_id"], &refs(&path("custom_id")), 100);
            if !custom_id.is_empty() && !seen.insert(custom_id.to_owned()) {
                errors.add(
                    &refs(&path("custom_id")),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                );
            }
        }
    }
}

/// A type-9 callback's `data`: title ≤ 45, custom_id 1–100, 1–5 rows of one
/// text input each, with Discord's text-input limits.
pub(crate) fn modal(data: &Value) -> Result<(), ApiError> {
    let mut errors = FormErrors::default();
    let title = len(&data["title"]);
    if title == 0 || title > 45 {
        errors.add(&["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.");
    }
    let custom_id = len(&data["custom_id"]);
    if custom_id == 0 || custom_id > 100 {
        errors.add(&["data", "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    }
    let rows = data["components"].as_array().map_or(&[][..], Vec::as_slice);
    if rows.is_empty() || rows.len() > 5 {
        errors.add(&["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
    }
    for (i, row) in rows.iter().enumerate() {
        let i = i.to_string();
        let inputs = row["components"].as_array().map_or(&[][..], Vec::as_slice);
        if row["type"].as_u64() != Some(1) || inputs.len() != 1 || inputs[0]["type"].as_u64() != Some(4) {
            errors.add(
                &["data", "components", &i],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "A modal row holds exactly one text input.",
            );
            continue;
        }
        let input = &inputs[0];
        let at = |k: &'static str| ["data", "components", &i, "components", "0", k].map(String::from);
        let id_len = len(&input["custom_id"]);
        if id_len == 0 || id_len > 100 {
            errors.add(&refs(&at("custom_id")), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
        }
        let label = len(&input["label"]);
        if label == 0 || label > 45 {
            errors.add(&refs(&at("label")), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.");
        }
        if !matches!(input["style"].as_u64(), Some(1 | 2)) {
            errors.add(&refs(&at("style")), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.");
        }
        check_len(&mut errors, &input["placeholder"], &refs(&at("placeholder")), 100);
        check_len(&mut errors, &input["value"], &refs(&at("value")), 4000);
        if input["min_length"].as_u64().is_some_and(|n| n > 4000) {
            errors.add(&refs(&at("min_length")), "NUMBER_TYPE_MAX", "Must be 4000 or less.");
        }
        if input["max_length"].as_u64().is_some_and(|n| n == 0 || n > 4000) {
            errors.add(&refs(&at("max_length")), "NUMBER_TYPE_MAX", "Must be between 1 and 4000.");
        }
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(r: Result<(), ApiError>) -> Value {
        let e = r.expect_err("should be rejected");
        assert_eq!(e.code, 50035);
        e.errors.unwrap()
    }

    #[test]
    fn content_over_2000_chars_is_rejected() {
        assert!(message_body(&json!({"content": "é".repeat(2000)})).is_ok());
        let errors = errors_of(message_body(&json!({"content": "é".repeat(2001)})));
        assert_eq!(errors["content"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    }

    #[test]
    fn embed_field_and_total_limits() {
        let long_field = json!({"embeds": [{"fields": [{"name": "n", "value": "v".repeat(1025)}]}]});
        let errors = errors_of(message_body(&long_field));
        assert!(errors["embeds"]["0"]["fields"]["0"]["value"]["_errors"].is_array());

        let big = json!({"description": "d".repeat(4000)});
        let errors = errors_of(message_body(&json!({"embeds": [big.clone(), big]})));
        assert_eq!(errors["embeds"]["_errors"][0]["code"], "MAX_EMBED_SIZE_EXCEEDED");
    }

    #[test]
    fn nonce_is_at_most_25_chars_and_custom_ids_are_unique() {
        assert!(message_body(&json!({"nonce": "a".repeat(25)})).is_ok());
        assert!(message_body(&json!({"nonce": 123456789})).is_ok());
        errors_of(message_body(&json!({"nonce": "a".repeat(26)})));
        let button = json!({"type": 2, "style": 1, "custom_id": "x", "label": "X"});
        let dup = json!({"components": [{"type": 1, "components": [button.clone(), button]}]});
        let errors = errors_of(message_body(&dup));
        assert_eq!(
            errors["components"]["0"]["components"]["1"]["custom_id"]["_errors"][0]["code"],
            "COMPONENT_CUSTOM_ID_DUPLICATED"
        );
    }

    #[test]
    fn modal_limits() {
        let input = json!({"type": 4, "custom_id": "answer", "style": 2, "label": "Answer"});
        let ok = json!({"title": "Your answer", "custom_id": "m", "components": [{"type": 1, "components": [input]}]});
        assert!(modal(&ok).is_ok());
        let mut long_title = ok.clone();
        long_title["title"] = json!("t".repeat(46));
        assert!(errors_of(modal(&long_title))["data"]["title"].is_object());
        let mut empty = ok;
        empty["components"] = json!([]);
        errors_of(modal(&empty));
    }
}
