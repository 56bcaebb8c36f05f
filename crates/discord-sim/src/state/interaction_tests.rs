//! The interaction state machine's rules, as Discord enforces them.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::State;
use super::messages::Origin;
use super::model::flags;
use crate::config::SimConfig;

fn state_with(cfg: SimConfig) -> State {
    let mut s = State::new(Arc::new(cfg), "ws://127.0.0.1:1".into());
    let guild = s.seeded.guild_id;
    s.set_commands(
        Some(guild),
        &json!([{"name": "ping", "description": "Ping"},
        {"name": "tz", "description": "Zone", "options": [
            {"type": 3, "name": "zone", "description": "z", "autocomplete": true}]}]),
    )
    .unwrap();
    s
}

fn state() -> State {
    state_with(SimConfig::default())
}

fn slash(s: &mut State) -> (u64, String) {
    let alex = s.seeded.user("alex").unwrap();
    let general = s.seeded.channel("general").unwrap();
    let id = s.invoke(alex, general, "ping", &json!({}), None).unwrap();
    (id, s.interactions[&id].token.clone())
}

fn callback(s: &mut State, id: u64, token: &str, body: Value) -> Result<(), u32> {
    s.interaction_callback(id, token, &body, &[]).map_err(|e| e.code)
}

#[test]
fn only_one_initial_response_and_only_with_the_right_token() {
    let mut s = state();
    let (id, token) = slash(&mut s);
    assert_eq!(callback(&mut s, id, "wrong", json!({"type": 4, "data": {"content": "x"}})), Err(10062));
    assert_eq!(callback(&mut s, id, &token, json!({"type": 4, "data": {"content": "hi"}})), Ok(()));
    assert_eq!(callback(&mut s, id, &token, json!({"type": 4, "data": {"content": "again"}})), Err(40060));
}

#[test]
fn a_late_first_response_is_unknown() {
    let mut s = state_with(SimConfig { interaction_ack_timeout_ms: 10, ..SimConfig::default() });
    let (id, token) = slash(&mut s);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(callback(&mut s, id, &token, json!({"type": 5})), Err(10062));
}

#[test]
fn the_view_reports_the_time_from_dispatch_to_the_first_accepted_callback() {
    let view = |s: &State, id: u64| crate::views::InteractionView::of(s, &s.interactions[&id]);
    let mut s = state();
    let (id, token) = slash(&mut s);
    assert_eq!(view(&s, id).first_ack_latency, None, "no callback yet");
    std::thread::sleep(Duration::from_millis(30));
    let before = s.interactions[&id].created.elapsed();
    callback(&mut s, id, &token, json!({"type": 5})).unwrap();
    let after = s.interactions[&id].created.elapsed();
    let latency = view(&s, id).first_ack_latency.expect("acknowledged");
    assert!(latency >= before && latency <= after, "{latency:?} not within {before:?}..={after:?}");
    // A later followup does not move it.
    std::thread::sleep(Duration::from_millis(10));
    s.followup(s.app_id(), &token, &json!({"content": "done"}), &[]).unwrap();
    assert_eq!(view(&s, id).first_ack_latency, Some(latency));
    let json = serde_json::to_value(view(&s, id)).unwrap();
    let ms = json["first_ack_latency_ms"].as_f64().unwrap();
    assert!((ms - latency.as_secs_f64() * 1000.0).abs() < 1e-6, "{ms}");

    // A late callback is rejected and leaves no latency behind.
    let mut s = state_with(SimConfig { interaction_ack_timeout_ms: 10, ..SimConfig::default() });
    let (id, token) = slash(&mut s);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(callback(&mut s, id, &token, json!({"type": 5})), Err(10062));
    assert_eq!(view(&s, id).first_ack_latency, None);
    assert!(serde_json::to_value(view(&s, id)).unwrap()["first_ack_latency_ms"].is_null());
}

#[test]
fn callback_types_must_fit_the_interaction() {
    let mut s = state();
    for kind in [1, 6, 7, 8, 42] {
        let (id, token) = slash(&mut s);
        assert_eq!(callback(&mut s, id, &token, json!({"type": kind})), Err(50035), "type {kind} on a command");
    }
    let alex = s.seeded.user("alex").unwrap();
    let general = s.seeded.channel("general").unwrap();
    let ac = s.invoke(alex, general, "tz", &json!({"zone": "Eu"}), Some("zone")).unwrap();
    let token = s.interactions[&ac].token.clone();
    assert_eq!(callback(&mut s, ac, &token, json!({"type": 4, "data": {"content": "x"}})), Err(50035));
    let choices = json!({"type": 8, "data": {"choices": [{"name": "Europe/Berlin", "value": "Europe/Berlin"}]}});
    assert_eq!(callback(&mut s, ac, &token, choices), Ok(()));
    assert_eq!(s.interactions[&ac].choices.as_ref().map(Vec::len), Some(1));
}

#[test]
fn deferral_then_followups_edit_the_placeholder_once() {
    let mut s = state();
    let app = s.app_id();
    let (id, token) = slash(&mut s);
    assert_eq!(s.followup(app, &token, &json!({"content": "early"}), &[]).unwrap_err().code, 10015);
    callback(&mut s, id, &token, json!({"type": 5, "data": {"flags": 64}})).unwrap();
    let original = s.interactions[&id].original_id.unwrap();
    assert_ne!(s.messages[&original].flags & flags::LOADING, 0);
    let first = s.followup(app, &token, &json!({"content": "done"}), &[]).unwrap();
    assert_eq!(first, original, "the first followup after a deferral edits @original");
    let m = &s.messages[&original];
    assert_eq!((m.content.as_str(), m.flags & flags::LOADING, m.ephemeral_for.is_some()), ("done", 0, true));
    let second = s.followup(app, &token, &json!({"content": "more"}), &[]).unwrap();
    assert_ne!(second, original);
    assert_eq!(s.messages[&second].ephemeral_for, None, "a followup without flags is public");
    assert_eq!(s.webhook_message(app, &token, "@original").unwrap(), original);
    assert_eq!(s.followup(app + 1, &token, &json!({"content": "x"}), &[]).unwrap_err().code, 10015);
}

#[test]
fn followups_stop_when_the_token_expires() {
    let mut s = state_with(SimConfig { interaction_token_ttl_ms: 10, ..SimConfig::default() });
    let app = s.app_id();
    let (id, token) = slash(&mut s);
    callback(&mut s, id, &token, json!({"type": 4, "data": {"content": "hi"}})).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let err = s.followup(app, &token, &json!({"content": "late"}), &[]).unwrap_err();
    assert_eq!((err.status.as_u16(), err.code), (401, 50027));
}

#[test]
fn component_ack_makes_the_clicked_message_the_original() {
    let mut s = state();
    let app = s.app_id();
    let (alex, general, bot) = (s.seeded.user("alex").unwrap(), s.seeded.channel("general").unwrap(), s.bot_id());
    let button = json!({"type": 2, "style": 1, "label": "Done", "custom_id": "done"});
    let body = json!({"content": "Today", "components": [{"type": 1, "components": [button]}]});
    let msg = s.create_message(Origin::plain(general, bot), &body, &[]).unwrap().id();
    let click = s.click(alex, msg, "done", None).unwrap();
    let token = s.interactions[&click].token.clone();
    callback(&mut s, click, &token, json!({"type": 6})).unwrap();
    s.edit_webhook_message(app, &token, "@original", &json!({"content": "Done ✓", "components": []}), &[]).unwrap();
    assert_eq!(s.messages[&msg].content, "Done ✓");
    assert!(s.click(alex, msg, "done", None).is_err(), "the button is gone");
    let modal = json!({"type": 9, "data": {"title": "t", "custom_id": "m", "components": []}});
    let (id, token) = slash(&mut s);
    assert_eq!(callback(&mut s, id, &token, modal), Err(50035), "a modal needs 1–5 rows");
}
