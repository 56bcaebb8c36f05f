//! The control API: plain-HTTP JSON under `/control` for tests written in
//! any language. Every route is a thin wrapper over `Sim` / `SimUser`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::actor::SimUser;
use crate::error::SimError;
use crate::rest::limits::Fault;
use crate::shared::Shared;
use crate::sim::Sim;
use crate::views::MessageView;

type Ctx = State<Arc<Shared>>;
type Reply = Result<Json<Value>, SimError>;

const DEFAULT_WAIT_MS: u64 = 5_000;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let user_routes = Router::new()
        .route("/slash", post(slash))
        .route("/autocomplete", post(autocomplete))
        .route("/click", post(click))
        .route("/forge-click", post(forge_click))
        .route("/modal", post(modal))
        .route("/messages", post(post_message))
        .route("/leave", post(leave))
        .route("/dms-closed", post(dms_closed))
        .route("/dms", get(dms))
        .route("/channels", get(user_channels))
        .route("/channels/{channel}/messages", get(channel_messages))
        .route("/interactions/{id}", get(interaction))
        .route("/wait/message", post(wait_message))
        .route("/wait/response", post(wait_response))
        .route("/wait/modal", post(wait_modal));
    let control = Router::new()
        .route("/info", get(info))
        .route("/ca.pem", get(ca_pem))
        .route("/gateway", get(gateway_stats))
        .route("/gateway/dispatches", get(dispatches))
        .route("/gateway/reconnect", post(reconnect))
        .route("/gateway/invalidate", post(invalidate))
        .route("/gateway/drop", post(drop_gateway))
        .route("/gateway/drop-acks", post(drop_acks))
        .route("/gateway/dispatch", post(dispatch))
        .route("/wait/ready", post(wait_ready))
        .route("/faults", post(fault))
        .route("/rate-limit/global", post(global_limit))
        .route("/requests", get(requests))
        .route("/commands", get(commands))
        .route("/channels", get(channels))
        .route("/channels/{channel}", delete(delete_channel))
        .nest("/users/{user}", user_routes)
        .with_state(shared);
    Router::new().nest("/control", control)
}

fn sim(shared: &Arc<Shared>) -> Sim {
    Sim::detached(shared.clone())
}

/// `{user}` is a username or a user id.
fn user(shared: &Arc<Shared>, who: &str) -> Result<SimUser, SimError> {
    let sim = sim(shared);
    let found = match who.parse::<u64>() {
        Ok(id) => sim.user_by_id(id),
        Err(_) => sim.try_user(who),
    };
    found.ok_or_else(|| SimError::NotFound(format!("user {who:?}")))
}

fn wait(ms: Option<u64>) -> Duration {
    Duration::from_millis(ms.unwrap_or(DEFAULT_WAIT_MS))
}

fn ok(v: impl serde::Serialize) -> Reply {
    Ok(Json(json!(v)))
}

async fn info(State(shared): Ctx) -> Reply {
    let sim = sim(&shared);
    ok(json!({
        "https_addr": sim.https_addr().to_string(),
        "http_addr": sim.http_addr().to_string(),
        "gateway_url": sim.gateway_url(),
        "token": sim.token(),
        "ca_pem": sim.ca_pem(),
        "world": sim.world(),
    }))
}

async fn ca_pem(State(shared): Ctx) -> Response {
    ([("content-type", "application/x-pem-file")], shared.ca_pem.clone()).into_response()
}

async fn gateway_stats(State(shared): Ctx) -> Reply {
    let sim = sim(&shared);
    ok(json!({"stats": sim.gateway_stats(), "dispatched": sim.dispatched().len()}))
}

async fn dispatches(State(shared): Ctx) -> Reply {
    ok(sim(&shared).dispatched())
}

async fn reconnect(State(shared): Ctx) -> Reply {
    ok(json!({"sent": sim(&shared).request_reconnect()}))
}

#[derive(Deserialize)]
struct Invalidate {
    #[serde(default)]
    resumable: bool,
}

async fn invalidate(State(shared): Ctx, Json(b): Json<Invalidate>) -> Reply {
    ok(json!({"sent": sim(&shared).invalidate_session(b.resumable)}))
}

#[derive(Deserialize)]
struct DropBody {
    code: Option<u16>,
}

async fn drop_gateway(State(shared): Ctx, Json(b): Json<DropBody>) -> Reply {
    ok(json!({"dropped": sim(&shared).drop_gateway(b.code)}))
}

#[derive(Deserialize)]
struct Count {
    count: u32,
}

async fn drop_acks(State(shared): Ctx, Json(b): Json<Count>) -> Reply {
    sim(&shared).drop_heartbeat_acks(b.count);
    ok(json!({}))
}

#[derive(Deserialize)]
struct RawDispatch {
    t: String,
    d: Value,
}

async fn dispatch(State(shared): Ctx, Json(b): Json<RawDispatch>) -> Reply {
    sim(&shared).dispatch_raw(&b.t, b.d);
    ok(json!({}))
}

#[derive(Deserialize, Default)]
struct Timeout {
    timeout_ms: Option<u64>,
}

async fn wait_ready(State(shared): Ctx, Json(b): Json<Timeout>) -> Reply {
    sim(&shared).wait_for_bot_ready(wait(b.timeout_ms)).await?;
    ok(json!({"ready": true}))
}

async fn fault(State(shared): Ctx, Json(f): Json<Fault>) -> Reply {
    sim(&shared).inject_fault(f);
    ok(json!({}))
}

#[derive(Deserialize)]
struct Global {
    per_second: Option<u32>,
}

async fn global_limit(State(shared): Ctx, Json(b): Json<Global>) -> Reply {
    sim(&shared).set_global_rate_limit(b.per_second);
    ok(json!({}))
}

#[derive(Deserialize)]
struct RouteQuery {
    route: Option<String>,
}

async fn requests(State(shared): Ctx, Query(q): Query<RouteQuery>) -> Reply {
    let sim = sim(&shared);
    ok(match q.route {
        Some(pattern) => sim.requests_to(&pattern),
        None => sim.requests(),
    })
}

#[derive(Deserialize)]
struct GuildQuery {
    guild_id: Option<u64>,
}

async fn commands(State(shared): Ctx, Query(q): Query<GuildQuery>) -> Reply {
    ok(sim(&shared).commands(q.guild_id))
}

async fn channels(State(shared): Ctx) -> Reply {
    ok(sim(&shared).channels())
}

async fn delete_channel(State(shared): Ctx, Path(channel): Path<u64>) -> Reply {
    sim(&shared).delete_channel(channel)?;
    ok(json!({}))
}

/// Where a user acts: a channel id, or their DM with the bot.
#[derive(Deserialize)]
struct Place {
    channel_id: Option<u64>,
    #[serde(default)]
    dm: bool,
}

impl Place {
    fn resolve(&self, u: &SimUser) -> Result<u64, SimError> {
        match (self.channel_id, self.dm) {
            (Some(id), false) => Ok(id),
            (None, true) => u.dm_channel(),
            _ => Err(SimError::Invalid("give exactly one of channel_id or dm: true".into())),
        }
    }
}

#[derive(Deserialize)]
struct Slash {
    #[serde(flatten)]
    place: Place,
    command: String,
    #[serde(default)]
    options: Value,
}

async fn slash(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<Slash>) -> Reply {
    let u = user(&shared, &who)?;
    let channel = b.place.resolve(&u)?;
    ok(json!({"interaction_id": u.slash(channel, &b.command, b.options)?}))
}

#[derive(Deserialize)]
struct Autocomplete {
    #[serde(flatten)]
    place: Place,
    command: String,
    #[serde(default)]
    options: Value,
    focused: String,
    timeout_ms: Option<u64>,
}

async fn autocomplete(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<Autocomplete>) -> Reply {
    let u = user(&shared, &who)?;
    let channel = b.place.resolve(&u)?;
    let choices = u.autocomplete_choices(channel, &b.command, b.options, &b.focused, wait(b.timeout_ms)).await?;
    ok(json!({"choices": choices}))
}

#[derive(Deserialize)]
struct Click {
    message_id: u64,
    custom_id: String,
    values: Option<Vec<String>>,
}

async fn click(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<Click>) -> Reply {
    let u = user(&shared, &who)?;
    let id = match &b.values {
        Some(values) => {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            u.select(b.message_id, &b.custom_id, &values)?
        }
        None => u.click(b.message_id, &b.custom_id)?,
    };
    ok(json!({"interaction_id": id}))
}

#[derive(Deserialize)]
struct ForgedClick {
    channel_id: u64,
    #[serde(flatten)]
    click: Click,
}

/// A click a tampering client could send: no check that the user sees the channel.
async fn forge_click(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<ForgedClick>) -> Reply {
    let u = user(&shared, &who)?;
    let Click { message_id, custom_id, values } = b.click;
    let id = match &values {
        Some(values) => {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            u.forge_select(b.channel_id, message_id, &custom_id, &values)?
        }
        None => u.forge_click(b.channel_id, message_id, &custom_id)?,
    };
    ok(json!({"interaction_id": id}))
}

#[derive(Deserialize)]
struct Modal {
    interaction_id: u64,
    values: serde_json::Map<String, Value>,
    timeout_ms: Option<u64>,
}

async fn modal(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<Modal>) -> Reply {
    let u = user(&shared, &who)?;
    let values: Vec<(String, String)> =
        b.values.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), String::from))).collect();
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let id = u.submit_modal(b.interaction_id, &pairs, wait(b.timeout_ms)).await?;
    ok(json!({"interaction_id": id}))
}

#[derive(Deserialize)]
struct Post {
    channel_id: Option<u64>,
    content: String,
}

async fn post_message(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<Post>) -> Reply {
    let u = user(&shared, &who)?;
    let id = match b.channel_id {
        Some(channel) => u.say(channel, &b.content)?,
        None => u.dm(&b.content)?,
    };
    ok(json!({"message_id": id}))
}

async fn leave(State(shared): Ctx, Path(who): Path<String>) -> Reply {
    user(&shared, &who)?.leave_guild()?;
    ok(json!({}))
}

#[derive(Deserialize)]
struct Closed {
    closed: bool,
}

async fn dms_closed(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<Closed>) -> Reply {
    user(&shared, &who)?.set_dms_closed(b.closed);
    ok(json!({}))
}

async fn dms(State(shared): Ctx, Path(who): Path<String>) -> Reply {
    ok(user(&shared, &who)?.dms())
}

async fn user_channels(State(shared): Ctx, Path(who): Path<String>) -> Reply {
    ok(user(&shared, &who)?.visible_channels())
}

async fn channel_messages(State(shared): Ctx, Path((who, channel)): Path<(String, u64)>) -> Reply {
    ok(user(&shared, &who)?.messages_in(channel)?)
}

async fn interaction(State(shared): Ctx, Path((who, id)): Path<(String, u64)>) -> Reply {
    ok(user(&shared, &who)?.interaction(id)?)
}

/// A message filter: all given conditions must hold.
#[derive(Deserialize)]
struct Filter {
    contains: Option<String>,
    #[serde(default)]
    from_bot: bool,
    timeout_ms: Option<u64>,
}

impl Filter {
    fn predicate(&self, bot: u64) -> impl Fn(&MessageView) -> bool + '_ {
        move |m| self.contains.as_deref().is_none_or(|c| m.contains(c)) && (!self.from_bot || m.author_id == bot)
    }
}

#[derive(Deserialize)]
struct WaitMessage {
    /// Absent: the user's DMs with the bot.
    channel_id: Option<u64>,
    #[serde(flatten)]
    filter: Filter,
}

async fn wait_message(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<WaitMessage>) -> Reply {
    let u = user(&shared, &who)?;
    let bot = sim(&shared).bot_user_id();
    let timeout = wait(b.filter.timeout_ms);
    let found = match b.channel_id {
        Some(channel) => u.wait_for_message(channel, b.filter.predicate(bot), timeout).await?,
        None => u.wait_for_dm(b.filter.predicate(bot), timeout).await?,
    };
    ok(found)
}

#[derive(Deserialize)]
struct WaitResponse {
    interaction_id: u64,
    #[serde(flatten)]
    filter: Filter,
}

async fn wait_response(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<WaitResponse>) -> Reply {
    let u = user(&shared, &who)?;
    let bot = sim(&shared).bot_user_id();
    let timeout = wait(b.filter.timeout_ms);
    ok(u.wait_for_response(b.interaction_id, b.filter.predicate(bot), timeout).await?)
}

#[derive(Deserialize)]
struct WaitModal {
    interaction_id: u64,
    timeout_ms: Option<u64>,
}

async fn wait_modal(State(shared): Ctx, Path(who): Path<String>, Json(b): Json<WaitModal>) -> Reply {
    let u = user(&shared, &who)?;
    ok(u.wait_for_modal(b.interaction_id, wait(b.timeout_ms)).await?)
}
