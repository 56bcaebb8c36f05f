//! Discord's REST API v10, served under `/api/v10` on both the HTTPS listener
//! (as `https://discord.com`) and the plain one.

mod app;
pub(crate) mod body;
mod channels;
mod interactions;
pub(crate) mod limits;
mod messages;
pub(crate) mod route;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::shared::Shared;
use limits::{FaultAction, Verdict};
use route::RouteKey;

pub(crate) type Ctx = State<Arc<Shared>>;

/// Discord's upload limit plus room for the JSON around it.
const BODY_LIMIT: usize = 26 * 1024 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .merge(app::routes())
        .merge(channels::routes())
        .merge(messages::routes())
        .merge(interactions::routes())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, 0, "405: Method Not Allowed")
        })
        .layer(middleware::from_fn_with_state(shared.clone(), gatekeeper))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared);
    Router::new().nest("/api/v10", api)
}

/// A path segment that must be a snowflake.
pub(crate) fn snowflake(name: &str, value: &str) -> Result<u64, ApiError> {
    value.parse::<u64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        ApiError::invalid_field(&[name], "NUMBER_TYPE_COERCE", &format!("Value \"{value}\" is not snowflake."))
    })
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bot "))
        .is_some_and(|t| t == token)
}

/// Faults, authentication and rate limits, in front of every REST handler.
async fn gatekeeper(State(shared): Ctx, req: Request, next: Next) -> Response {
    let key = RouteKey::new(req.method().as_str(), req.uri().path());
    let fault = shared.http().take_fault(&key);
    match fault {
        Some(FaultAction::Respond(response)) => {
            shared.http().record(&key, response.status(), true);
            response
        }
        // Held, then served in a task of its own: like Discord, the request
        // takes effect even if the client gave up waiting and hung up.
        Some(FaultAction::Delay(d)) => {
            let held = tokio::spawn(async move {
                tokio::time::sleep(d).await;
                serve(shared, key, req, next).await
            });
            held.await.unwrap_or_else(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        None => serve(shared, key, req, next).await,
    }
}

async fn serve(shared: Arc<Shared>, key: RouteKey, req: Request, next: Next) -> Response {
    // Discord does not require a token for GET /gateway or interaction webhooks.
    let open = key.is_interaction() || key.path == "/gateway";
    if !open && !authorized(req.headers(), &shared.config.token) {
        let response = ApiError::unauthorized().into_response();
        shared.http().record(&key, response.status(), false);
        return response;
    }
    let verdict = shared.http().admit(&key, Instant::now());
    match verdict {
        Verdict::Reject(response) => {
            shared.http().record(&key, response.status(), false);
            response
        }
        Verdict::Admit(headers) => {
            let mut response = next.run(req).await;
            response.headers_mut().extend(headers);
            shared.http().record(&key, response.status(), false);
            response
        }
    }
}
