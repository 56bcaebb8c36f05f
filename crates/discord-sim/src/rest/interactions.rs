//! Interaction callbacks and the interaction webhook (followups, `@original`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::body::Payload;
use super::{Ctx, snowflake};
use crate::error::ApiError;
use crate::json::model::message;
use crate::shared::Shared;

type Reply = Result<Json<Value>, ApiError>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/interactions/{id}/{token}/callback", post(callback))
        .route("/webhooks/{app}/{token}", post(followup))
        .route(
            "/webhooks/{app}/{token}/messages/{message}",
            get(get_message).patch(edit_message).delete(delete_message),
        )
}

/// 204 with no body, which is what serenity's `wind(204)` expects.
async fn callback(
    State(shared): Ctx,
    Path((id, token)): Path<(String, String)>,
    body: Payload,
) -> Result<StatusCode, ApiError> {
    let id = snowflake("interaction_id", &id)?;
    shared.write(|s| s.interaction_callback(id, &token, &body.json, &body.files))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn followup(State(shared): Ctx, Path((app, token)): Path<(String, String)>, body: Payload) -> Reply {
    let app = snowflake("webhook_id", &app)?;
    shared.write(|s| {
        let id = s.followup(app, &token, &body.json, &body.files)?;
        Ok(Json(message(s, &s.messages[&id])))
    })
}

async fn get_message(State(shared): Ctx, Path((app, token, m)): Path<(String, String, String)>) -> Reply {
    let app = snowflake("webhook_id", &app)?;
    shared.read(|s| {
        let id = s.webhook_message(app, &token, &m)?;
        Ok(Json(message(s, &s.messages[&id])))
    })
}

async fn edit_message(
    State(shared): Ctx,
    Path((app, token, m)): Path<(String, String, String)>,
    body: Payload,
) -> Reply {
    let app = snowflake("webhook_id", &app)?;
    shared.write(|s| {
        let id = s.edit_webhook_message(app, &token, &m, &body.json, &body.files)?;
        Ok(Json(message(s, &s.messages[&id])))
    })
}

async fn delete_message(
    State(shared): Ctx,
    Path((app, token, m)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = snowflake("webhook_id", &app)?;
    shared.write(|s| {
        let id = s.webhook_message(app, &token, &m)?;
        s.delete_message(id)?;
        Ok(StatusCode::NO_CONTENT)
    })
}
