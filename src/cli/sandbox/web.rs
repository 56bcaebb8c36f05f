//! The sandbox's page: a small Discord-like client over the local Discord, on
//! 127.0.0.1 only. Plain HTML, CSS and JavaScript built into the binary, and a
//! JSON API that acts and reads as one person through discord-sim's Rust API.
//!
//! Every id leaves as a string: Discord's snowflakes exceed 2^53, which
//! JavaScript's numbers cannot hold exactly.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use discord_sim::{ChannelKind, Sim, SimError, SimUser};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::PEOPLE;
use crate::core::model::ScheduleKind;
use crate::engine::Engine;

/// How long the page waits for the bot (autocomplete choices, a modal).
const WAIT: Duration = Duration::from_secs(5);

/// What the page's handlers share.
#[derive(Clone)]
pub(super) struct Page {
    pub sim: Sim,
    pub engine: Engine,
    pub wake: Arc<Notify>,
}

pub(super) fn router(page: Page) -> Router {
    Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", include_str!("page/index.html"))))
        .route("/app.js", get(|| asset("text/javascript; charset=utf-8", include_str!("page/app.js"))))
        .route("/style.css", get(|| asset("text/css; charset=utf-8", include_str!("page/style.css"))))
        .route("/api/world", get(world))
        .route("/api/commands", get(commands))
        .route("/api/as/{who}/channels", get(channels))
        .route("/api/as/{who}/channels/{channel}/messages", get(messages))
        .route("/api/as/{who}/attachments/{message}/{attachment}", get(attachment))
        .route("/api/as/{who}/slash", post(slash))
        .route("/api/as/{who}/autocomplete", post(autocomplete))
        .route("/api/as/{who}/click", post(click))
        .route("/api/as/{who}/interactions/{id}", get(interaction))
        .route("/api/as/{who}/modal", post(submit_modal))
        .route("/api/as/{who}/due-now", post(due_now))
        .with_state(page)
}

async fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// A refusal worded for the page's notice line.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<SimError> for Refused {
    fn from(e: SimError) -> Self {
        let status = match &e {
            SimError::NotFound(_) => StatusCode::NOT_FOUND,
            SimError::Forbidden(_) => StatusCode::FORBIDDEN,
            SimError::Invalid(_) => StatusCode::BAD_REQUEST,
            SimError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Refused(status, e.to_string())
    }
}

type Answer = Result<Json<Value>, Refused>;

impl Page {
    /// One of the sandbox's people (never the owner or a made-up name).
    fn person(&self, who: &str) -> Result<SimUser, Refused> {
        PEOPLE
            .contains(&who)
            .then(|| self.sim.try_user(who))
            .flatten()
            .ok_or_else(|| Refused(StatusCode::NOT_FOUND, format!("no one called {who} here")))
    }
}

fn parse_id(s: &str) -> Result<u64, Refused> {
    s.parse().map_err(|_| Refused(StatusCode::BAD_REQUEST, format!("{s} is not an id")))
}

/// Every id in `v` (a key `id`, `nonce` or ending in `_id`) as a string.
fn ids_as_strings(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let is_id = key == "id" || key == "nonce" || key.ends_with("_id");
                match value {
                    Value::Number(n) if is_id => *value = Value::String(n.to_string()),
                    other => ids_as_strings(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(ids_as_strings),
        _ => {}
    }
}

fn stringified(v: impl serde::Serialize) -> Value {
    let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
    ids_as_strings(&mut v);
    v
}

async fn world(State(page): State<Page>) -> Json<Value> {
    let sim = &page.sim;
    let people: Vec<Value> = PEOPLE
        .iter()
        .filter_map(|p| sim.try_user(p))
        .map(|u| json!({"id": u.id().to_string(), "name": u.name()}))
        .collect();
    Json(json!({
        "guild": sim.config().world.guild_name,
        "bot_id": sim.bot_user_id().to_string(),
        "people": people,
    }))
}

/// The registered slash commands: global ones (the sandbox registers there)
/// and the server's.
async fn commands(State(page): State<Page>) -> Json<Value> {
    let mut all = page.sim.commands(None);
    all.extend(page.sim.commands(Some(page.sim.guild_id())));
    all.retain(|c| c["type"].as_u64().is_none_or(|t| t == 1));
    Json(stringified(all))
}

/// The channels and threads `who` sees, and their DM with mend.
async fn channels(State(page): State<Page>, Path(who): Path<String>) -> Answer {
    let user = page.person(&who)?;
    let dm = user.dm_channel().ok();
    let list: Vec<Value> = user
        .visible_channels()
        .into_iter()
        .filter(|c| matches!(c.kind, ChannelKind::Text | ChannelKind::PublicThread | ChannelKind::PrivateThread))
        .map(|c| {
            json!({
                "id": c.id.to_string(),
                "name": c.name,
                "thread": c.kind != ChannelKind::Text,
                "private": c.kind == ChannelKind::PrivateThread
                    || c.overwrites.iter().any(|o| o.deny & discord_sim::perms::bits::VIEW_CHANNEL != 0),
                "parent_id": c.parent_id.map(|p| p.to_string()),
            })
        })
        .collect();
    Ok(Json(json!({ "channels": list, "dm": dm.map(|d| d.to_string()) })))
}

/// What `who` sees in a channel (their own ephemeral replies included);
/// attachments are fetched one by one, not inlined.
async fn messages(State(page): State<Page>, Path((who, channel)): Path<(String, String)>) -> Answer {
    let user = page.person(&who)?;
    let mut list = stringified(user.messages_in(parse_id(&channel)?)?);
    for m in list.as_array_mut().into_iter().flatten() {
        for a in m["attachments"].as_array_mut().into_iter().flatten() {
            if let Some(a) = a.as_object_mut() {
                a.remove("data");
            }
        }
    }
    Ok(Json(list))
}

async fn attachment(
    State(page): State<Page>,
    Path((who, message, attachment)): Path<(String, String, String)>,
) -> Result<Response, Refused> {
    let user = page.person(&who)?;
    let (message, attachment) = (parse_id(&message)?, parse_id(&attachment)?);
    let gone = || Refused(StatusCode::NOT_FOUND, "no such file".into());
    let channel = page.sim.message(message).ok_or_else(gone)?.channel_id;
    // Through what this person sees: someone else's file stays theirs.
    let seen = user.messages_in(channel)?.into_iter().find(|m| m.id == message).ok_or_else(gone)?;
    let file = seen.attachments.into_iter().find(|a| a.id == attachment).ok_or_else(gone)?;
    let kind = file.content_type.unwrap_or_else(|| "application/octet-stream".into());
    Ok(([(header::CONTENT_TYPE, kind)], file.data).into_response())
}

#[derive(Deserialize)]
struct Slash {
    /// `None`: in their DM with mend.
    channel_id: Option<String>,
    command: String,
    #[serde(default)]
    options: Value,
}

async fn slash(State(page): State<Page>, Path(who): Path<String>, Json(body): Json<Slash>) -> Answer {
    let user = page.person(&who)?;
    let options = if body.options.is_null() { json!({}) } else { body.options };
    let ix = match body.channel_id.as_deref() {
        Some(channel) => user.slash(parse_id(channel)?, &body.command, options)?,
        None => user.slash_in_dm(&body.command, options)?,
    };
    Ok(Json(json!({ "interaction_id": ix.to_string() })))
}

#[derive(Deserialize)]
struct Autocomplete {
    channel_id: Option<String>,
    command: String,
    options: Value,
    focused: String,
}

async fn autocomplete(State(page): State<Page>, Path(who): Path<String>, Json(body): Json<Autocomplete>) -> Answer {
    let user = page.person(&who)?;
    let channel = match body.channel_id.as_deref() {
        Some(channel) => parse_id(channel)?,
        None => user.dm_channel()?,
    };
    let choices = user.autocomplete_choices(channel, &body.command, body.options, &body.focused, WAIT).await?;
    Ok(Json(json!({ "choices": choices })))
}

#[derive(Deserialize)]
struct Click {
    message_id: String,
    custom_id: String,
    #[serde(default)]
    values: Option<Vec<String>>,
}

async fn click(State(page): State<Page>, Path(who): Path<String>, Json(body): Json<Click>) -> Answer {
    let user = page.person(&who)?;
    let message = parse_id(&body.message_id)?;
    let ix = match &body.values {
        Some(values) => {
            user.select(message, &body.custom_id, &values.iter().map(String::as_str).collect::<Vec<_>>())?
        }
        None => user.click(message, &body.custom_id)?,
    };
    Ok(Json(json!({ "interaction_id": ix.to_string() })))
}

/// An interaction of `who`: whether mend answered, and the modal it opened.
async fn interaction(State(page): State<Page>, Path((who, id)): Path<(String, String)>) -> Answer {
    let user = page.person(&who)?;
    let ix = user.interaction(parse_id(&id)?)?;
    Ok(Json(json!({
        "id": ix.id.to_string(),
        "callback": ix.callback,
        "modal": ix.modal,
        "responses": stringified(ix.messages().iter().map(|m| json!({"id": m.id, "loading": m.loading})).collect::<Vec<_>>()),
    })))
}

#[derive(Deserialize)]
struct Submit {
    interaction_id: String,
    values: serde_json::Map<String, Value>,
}

async fn submit_modal(State(page): State<Page>, Path(who): Path<String>, Json(body): Json<Submit>) -> Answer {
    let user = page.person(&who)?;
    let values: Vec<(String, String)> =
        body.values.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect();
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ix = user.submit_modal(parse_id(&body.interaction_id)?, &pairs, WAIT).await?;
    Ok(Json(json!({ "interaction_id": ix.to_string() })))
}

#[derive(Deserialize)]
struct DueNow {
    /// `prompt` or `reflection`.
    what: String,
}

/// The sandbox's own control: `who`'s couple gets its next prompt (or
/// reflection) now, through the engine, and the worker is woken for it.
async fn due_now(State(page): State<Page>, Path(who): Path<String>, Json(body): Json<DueNow>) -> Answer {
    let user = page.person(&who)?;
    let kind = match body.what.as_str() {
        "prompt" => ScheduleKind::Prompt,
        "reflection" => ScheduleKind::Reflection,
        other => return Err(Refused(StatusCode::BAD_REQUEST, format!("nothing called {other} can be due"))),
    };
    let internal = |e: crate::engine::EngineError| {
        tracing::error!(error = %e, "due now failed");
        Refused(StatusCode::INTERNAL_SERVER_ERROR, "mend could not do that; its log says why".into())
    };
    let Some((couple, _)) = page.engine.couple_of(&user.id().to_string()).await.map_err(internal)? else {
        return Err(Refused(StatusCode::CONFLICT, format!("{who} is not in a couple yet: pair first (/couple start)")));
    };
    if !page.engine.due_now(couple, kind).await.map_err(internal)? {
        return Err(Refused(
            StatusCode::CONFLICT,
            "this couple's prompts are held for now (a safety check still to take, a pause or a space): \
             nothing comes until that ends"
                .into(),
        ));
    }
    page.wake.notify_one();
    Ok(Json(json!({ "due": body.what })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_leaves_as_an_exact_string() {
        let big = 1_234_567_890_123_456_789u64;
        let mut v = json!({"id": big, "channel_id": big, "flags": 64, "nested": [{"message_id": big, "count": 3}]});
        ids_as_strings(&mut v);
        assert_eq!(v["id"], "1234567890123456789");
        assert_eq!(v["channel_id"], "1234567890123456789");
        assert_eq!(v["nested"][0]["message_id"], "1234567890123456789");
        assert_eq!(v["flags"], 64, "other numbers stay numbers");
        assert_eq!(v["nested"][0]["count"], 3);
    }
}
