//! One websocket connection: Hello, then IDENTIFY or RESUME, heartbeats, and
//! whatever the session sends. Close codes as Discord uses them.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc::unbounded_channel;

use super::session::{Dispatch, Outbound};
use crate::config::intents;
use crate::ids::random_token;
use crate::json::events;
use crate::shared::Shared;
use crate::state::State;

/// A close code and reason to end the connection with.
type Close = (u16, &'static str);

const UNKNOWN_OPCODE: Close = (4001, "Unknown opcode.");
const DECODE_ERROR: Close = (4002, "Error while decoding payload.");
const NOT_AUTHENTICATED: Close = (4003, "Not authenticated.");
const AUTH_FAILED: Close = (4004, "Authentication failed.");
const ALREADY_AUTHENTICATED: Close = (4005, "Already authenticated.");
const INVALID_SHARD: Close = (4010, "Invalid shard.");
const INVALID_INTENTS: Close = (4013, "Invalid intent(s).");
const DISALLOWED_INTENTS: Close = (4014, "Disallowed intent(s).");

/// Intent bits Discord defines (0–25, with gaps ignored here).
const KNOWN_INTENTS: u64 = (1 << 26) - 1;

pub(crate) async fn serve(shared: Arc<Shared>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = unbounded_channel();
    let conn = shared.write(|s| s.gateway.connect(tx));
    let hello = events::hello(shared.config.heartbeat_interval_ms).to_string();
    if sink.send(Message::Text(hello.into())).await.is_err() {
        shared.write(|s| s.gateway.disconnect(conn));
        return;
    }
    loop {
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(Message::Text(text))) => {
                    if let Err((code, reason)) = shared.write(|s| handle(s, conn, &text)) {
                        shared.write(|s| s.gateway.close(conn, code, reason));
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    shared.write(|s| s.gateway.close(conn, DECODE_ERROR.0, DECODE_ERROR.1));
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            outbound = rx.recv() => match outbound {
                Some(Outbound::Frame(frame)) => {
                    if sink.send(Message::Text(frame.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
                Some(Outbound::Abort) | None => break,
            },
        }
    }
    shared.write(|s| s.gateway.disconnect(conn));
}

fn handle(state: &mut State, conn: u64, text: &str) -> Result<(), Close> {
    let frame: Value = serde_json::from_str(text).map_err(|_| DECODE_ERROR)?;
    let op = frame["op"].as_u64().ok_or(DECODE_ERROR)?;
    let d = &frame["d"];
    match op {
        1 => {
            state.gateway.heartbeat(conn);
            Ok(())
        }
        2 => identify(state, conn, d),
        6 => resume(state, conn, d),
        _ if !state.gateway.is_authenticated(conn) => Err(NOT_AUTHENTICATED),
        // Presence, voice state and member requests are accepted and ignored.
        3 | 4 | 8 => Ok(()),
        _ => Err(UNKNOWN_OPCODE),
    }
}

/// serenity sends `Bot <token>` even inside IDENTIFY and RESUME.
fn token_ok(state: &State, d: &Value) -> bool {
    let token = d["token"].as_str().unwrap_or_default();
    token.strip_prefix("Bot ").unwrap_or(token) == state.cfg.token
}

pub(crate) fn identify(state: &mut State, conn: u64, d: &Value) -> Result<(), Close> {
    if state.gateway.is_authenticated(conn) {
        return Err(ALREADY_AUTHENTICATED);
    }
    if !token_ok(state, d) {
        return Err(AUTH_FAILED);
    }
    let wanted = d["intents"].as_u64().ok_or(INVALID_INTENTS)?;
    if wanted & !KNOWN_INTENTS != 0 {
        return Err(INVALID_INTENTS);
    }
    if wanted & intents::PRIVILEGED & !state.cfg.privileged_intents != 0 {
        return Err(DISALLOWED_INTENTS);
    }
    let shard = match d["shard"].as_array().map(Vec::as_slice) {
        None => (0, 1),
        Some([id, count]) => match (id.as_u64(), count.as_u64()) {
            (Some(id), Some(count)) if id < count => (id, count),
            _ => return Err(INVALID_SHARD),
        },
        Some(_) => return Err(INVALID_SHARD),
    };
    let session_id = random_token("", 32);
    state.gateway.identify(conn, session_id.clone(), wanted, shard);
    let ready = events::ready(state, &session_id, shard);
    state.gateway.send_to(&session_id, Dispatch::for_session("READY", ready));
    let bot = state.bot_id();
    let guilds: Vec<(u64, Value)> = state
        .guilds
        .values()
        .filter(|g| g.members.contains_key(&bot))
        .map(|g| (g.id, events::guild_create(state, g, wanted)))
        .collect();
    for (id, guild) in guilds {
        let dispatch = Dispatch::new("GUILD_CREATE", guild).intent(intents::GUILDS).guild(Some(id));
        state.gateway.send_to(&session_id, dispatch);
    }
    Ok(())
}

fn resume(state: &mut State, conn: u64, d: &Value) -> Result<(), Close> {
    if !token_ok(state, d) {
        return Err(AUTH_FAILED);
    }
    let session_id = d["session_id"].as_str().unwrap_or_default();
    let seq = d["seq"].as_u64().unwrap_or(0);
    if state.gateway.resume(conn, session_id, seq).is_err() {
        state.gateway.send_raw(conn, json!({"op": 9, "d": false}));
    }
    Ok(())
}
