//! Every gateway payload the sim builds must parse with serenity 0.12.5 into
//! its event type, not `Event::Unknown` (which serenity drops silently).

use std::sync::Arc;

use serde_json::{Value, json};
use serenity::all::{
    CommandDataOptionValue, ComponentInteractionDataKind, Event, GatewayEvent, Interaction, ResolvedValue,
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::config::{SimConfig, intents};
use crate::gateway::conn::identify;
use crate::gateway::session::Outbound;
use crate::state::State;
use crate::state::messages::{Origin, Upload};

struct World {
    state: State,
    rx: UnboundedReceiver<Outbound>,
}

/// Everything the default portal settings allow (presences are not enabled).
const ALL_INTENTS: u64 = ((1 << 26) - 1) & !intents::GUILD_PRESENCES;

fn world_with_intents(wanted: u64) -> World {
    let cfg = Arc::new(SimConfig::default());
    let mut state = State::new(cfg, "ws://127.0.0.1:1".into());
    let (tx, rx) = unbounded_channel();
    let conn = state.gateway.connect(tx);
    let token = format!("Bot {}", state.cfg.token);
    identify(&mut state, conn, &json!({"token": token, "intents": wanted, "shard": [0, 1]}))
        .expect("identify accepted");
    World { state, rx }
}

fn world() -> World {
    world_with_intents(ALL_INTENTS)
}

/// Parses every frame sent so far on one connection; returns `(t, event)`
/// pairs, failing on a frame serenity would drop.
fn frames(rx: &mut UnboundedReceiver<Outbound>) -> Vec<(String, Event)> {
    let mut out = vec![];
    while let Ok(o) = rx.try_recv() {
        let Outbound::Frame(text) = o else { continue };
        let raw: Value = serde_json::from_str(&text).unwrap();
        match serde_json::from_str::<GatewayEvent>(&text) {
            Ok(GatewayEvent::Dispatch(_, event)) => {
                let t = raw["t"].as_str().unwrap().to_owned();
                assert!(!matches!(event, Event::Unknown(_)), "{t} became Event::Unknown: {}", raw["d"]);
                out.push((t, event));
            }
            Ok(_) => {}
            Err(e) => panic!("frame does not parse: {e}\n{text}"),
        }
    }
    out
}

impl World {
    /// Parses every frame sent so far; returns `(t, event)` pairs.
    fn events(&mut self) -> Vec<(String, Event)> {
        frames(&mut self.rx)
    }

    fn last(&mut self, t: &str) -> Event {
        self.events().into_iter().rev().find(|(name, _)| name == t).unwrap_or_else(|| panic!("no {t} dispatched")).1
    }

    fn id(&self, name: &str) -> u64 {
        self.state.seeded.user(name).unwrap()
    }

    fn general(&self) -> u64 {
        self.state.seeded.channel("general").unwrap()
    }

    fn register(&mut self) {
        let guild = self.state.seeded.guild_id;
        let commands = json!([
            {"name": "couple", "description": "Pairing", "type": 1, "options": [
                {"type": 1, "name": "start", "description": "Start", "options": [
                    {"type": 6, "name": "partner", "description": "Who", "required": true}]}]},
            {"name": "schedule", "description": "When", "type": 1, "options": [
                {"type": 3, "name": "timezone", "description": "tz", "required": true, "autocomplete": true},
                {"type": 4, "name": "hour", "description": "h"}]},
        ]);
        self.state.set_commands(Some(guild), &commands).unwrap();
        self.state.set_commands(None, &json!([{"name": "help", "description": "Help"}])).unwrap();
    }

    fn bot_post(&mut self, channel: u64, body: Value) -> u64 {
        let bot = self.state.bot_id();
        self.state.create_message(Origin::plain(channel, bot), &body, &[]).unwrap().id()
    }
}

#[test]
fn hello_ready_and_guild_create_parse() {
    let hello = crate::json::events::hello(1000).to_string();
    assert!(matches!(serde_json::from_str::<GatewayEvent>(&hello).unwrap(), GatewayEvent::Hello(1000)));
    let mut w = world();
    let app_id = w.state.app_id();
    let events = w.events();
    let Event::Ready(ready) = &events[0].1 else { panic!("first dispatch must be READY") };
    assert_eq!(ready.ready.application.id.get(), app_id);
    let Event::GuildCreate(g) = &events[1].1 else { panic!("then GUILD_CREATE") };
    assert_eq!(g.guild.roles.len(), 2);
    assert_eq!(g.guild.channels.len(), 1, "a channel that fails to parse is dropped silently");
    assert_eq!(g.guild.members.len(), 5, "owner, alex, sam, casey and the bot");
}

#[test]
fn guild_create_without_members_intent_holds_only_the_bot() {
    let mut w = world_with_intents(intents::GUILDS);
    let bot = w.state.bot_id();
    let Event::GuildCreate(g) = w.last("GUILD_CREATE") else { unreachable!() };
    let members: Vec<u64> = g.guild.members.keys().map(|k| k.get()).collect();
    assert_eq!(members, vec![bot]);
}

#[test]
fn slash_command_with_subcommand_and_user_option() {
    let mut w = world();
    w.register();
    let (alex, sam, general) = (w.id("alex"), w.id("sam"), w.general());
    w.state.invoke(alex, general, "couple start", &json!({"partner": sam}), None).unwrap();
    let Event::InteractionCreate(e) = w.last("INTERACTION_CREATE") else { unreachable!() };
    let Interaction::Command(cmd) = e.interaction else { panic!("not a command") };
    assert_eq!(cmd.data.name, "couple");
    assert_eq!(cmd.user.id.get(), alex);
    assert!(cmd.member.is_some() && cmd.guild_id.is_some());
    let resolved = cmd.data.options();
    let ResolvedValue::SubCommand(sub) = &resolved[0].value else { panic!("subcommand") };
    let ResolvedValue::User(user, member) = &sub[0].value else { panic!("user option resolves") };
    assert_eq!((user.id.get(), member.is_some()), (sam, true));
}

#[test]
fn dm_slash_and_autocomplete() {
    let mut w = world();
    w.register();
    let alex = w.id("alex");
    let dm = w.state.open_dm(alex);
    w.state.invoke(alex, dm, "help", &json!({}), None).unwrap();
    let Event::InteractionCreate(e) = w.last("INTERACTION_CREATE") else { unreachable!() };
    let Interaction::Command(cmd) = e.interaction else { panic!() };
    assert!(cmd.guild_id.is_none() && cmd.member.is_none());
    assert_eq!(cmd.user.id.get(), alex);
    assert!(w.state.invoke(alex, dm, "couple start", &json!({}), None).is_err(), "guild command in DM");

    let general = w.general();
    w.state.invoke(alex, general, "schedule", &json!({"timezone": "Euro"}), Some("timezone")).unwrap();
    let Event::InteractionCreate(e) = w.last("INTERACTION_CREATE") else { unreachable!() };
    let Interaction::Autocomplete(ac) = e.interaction else { panic!("autocomplete") };
    let focused = ac.data.autocomplete().expect("a focused option");
    assert_eq!((focused.name, focused.value), ("timezone", "Euro"));
}

#[test]
fn button_click_carries_the_message_and_modal_submit_its_values() {
    let mut w = world();
    w.register();
    let (alex, general) = (w.id("alex"), w.general());
    let button = json!({"type": 2, "style": 1, "label": "Answer", "custom_id": "answer:42"});
    let msg = w.bot_post(general, json!({"content": "Prompt", "components": [{"type": 1, "components": [button]}]}));
    let click = w.state.click(alex, msg, "answer:42", None).unwrap();
    let Event::InteractionCreate(e) = w.last("INTERACTION_CREATE") else { unreachable!() };
    let Interaction::Component(c) = e.interaction else { panic!("component") };
    assert_eq!(c.data.custom_id, "answer:42");
    assert!(matches!(c.data.kind, ComponentInteractionDataKind::Button));
    assert_eq!(c.message.id.get(), msg);

    let token = w.state.interactions[&click].token.clone();
    let modal = json!({"type": 9, "data": {"custom_id": click.to_string(), "title": "Your answer", "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": "answer", "style": 2, "label": "Answer", "required": true}]}]}});
    w.state.interaction_callback(click, &token, &modal, &[]).unwrap();
    w.state.submit_modal(alex, click, &[("answer".into(), "We walked".into())]).unwrap();
    let Event::InteractionCreate(e) = w.last("INTERACTION_CREATE") else { unreachable!() };
    let Interaction::Modal(m) = e.interaction else { panic!("modal submit") };
    assert_eq!(m.data.custom_id, click.to_string());
    let serenity::all::ActionRowComponent::InputText(input) = &m.data.components[0].components[0] else {
        panic!("text input")
    };
    assert_eq!(input.value.as_deref(), Some("We walked"));
    assert_eq!(m.message.map(|m| m.id.get()), Some(msg));
}

#[test]
fn messages_with_embeds_attachments_and_their_updates_parse() {
    let mut w = world();
    let (alex, general) = (w.id("alex"), w.general());
    let bot = w.state.bot_id();
    let embed = json!({"title": "Turning Toward", "description": "d", "color": 3447003,
        "fields": [{"name": "a", "value": "b"}], "footer": {"text": "f"}});
    let file = Upload {
        index: Some(0),
        filename: "week.png".into(),
        content_type: Some("image/png".into()),
        data: vec![1, 2, 3],
    };
    let body = json!({"content": "hi", "embeds": [embed], "attachments": [{"id": 0, "filename": "week.png"}], "nonce": "p1", "enforce_nonce": true});
    let id = w.state.create_message(Origin::plain(general, bot), &body, &[file]).unwrap().id();
    let Event::MessageCreate(m) = w.last("MESSAGE_CREATE") else { unreachable!() };
    assert_eq!(m.message.attachments[0].size, 3);
    assert_eq!(m.message.embeds[0].title.as_deref(), Some("Turning Toward"));
    assert!(m.message.guild_id.is_some());

    w.state.edit_message(id, &json!({"content": "edited"}), &[]).unwrap();
    let Event::MessageUpdate(u) = w.last("MESSAGE_UPDATE") else { unreachable!() };
    assert_eq!(u.content.as_deref(), Some("edited"));
    w.state.delete_message(id).unwrap();
    assert!(matches!(w.last("MESSAGE_DELETE"), Event::MessageDelete(_)));

    w.state.user_post(alex, None, "my answer").unwrap();
    let Event::MessageCreate(dm) = w.last("MESSAGE_CREATE") else { unreachable!() };
    assert!(dm.message.guild_id.is_none());
    assert_eq!((dm.message.author.id.get(), dm.message.content.as_str()), (alex, "my answer"));
}

#[test]
fn channel_thread_and_member_events_parse() {
    let mut w = world();
    let guild = w.state.seeded.guild_id;
    let (alex, general) = (w.id("alex"), w.general());
    let body = json!({"name": "alex-and-sam", "type": 0, "permission_overwrites": [
        {"id": guild.to_string(), "type": 0, "allow": "0", "deny": "1024"},
        {"id": alex.to_string(), "type": 1, "allow": "3072", "deny": "0"}]});
    let channel = w.state.create_guild_channel(guild, &body).unwrap();
    let Event::ChannelCreate(c) = w.last("CHANNEL_CREATE") else { unreachable!() };
    assert_eq!(c.channel.permission_overwrites.len(), 2);
    let allow = json!({"type": 1, "allow": "3072", "deny": "0"});
    let sam = w.id("sam");
    let hidden = w.state.put_overwrite(channel, sam, &allow).unwrap_err();
    assert_eq!(hidden.code, 50001, "the bot forgot to allow itself");
    let bot = w.state.bot_id();
    w.state.channels.get_mut(&channel).unwrap().overwrites.push(crate::perms::Overwrite {
        id: bot,
        kind: crate::perms::OverwriteKind::Member,
        allow: 3072,
        deny: 0,
    });
    w.state.put_overwrite(channel, sam, &allow).unwrap();
    assert!(matches!(w.last("CHANNEL_UPDATE"), Event::ChannelUpdate(_)));

    let msg = w.bot_post(general, json!({"content": "prompt"}));
    w.state.thread_from_message(general, msg, &json!({"name": "answers"})).unwrap();
    let Event::ThreadCreate(t) = w.last("THREAD_CREATE") else { unreachable!() };
    assert_eq!(t.thread.id.get(), msg);
    w.state.delete_channel(msg, true).unwrap();
    assert!(matches!(w.last("THREAD_DELETE"), Event::ThreadDelete(_)));
    w.state.delete_channel(channel, true).unwrap();
    assert!(matches!(w.last("CHANNEL_DELETE"), Event::ChannelDelete(_)));
    w.state.remove_member(guild, alex).unwrap();
    let Event::GuildMemberRemove(r) = w.last("GUILD_MEMBER_REMOVE") else { unreachable!() };
    assert_eq!(r.user.id.get(), alex);
}

#[test]
fn control_frames_parse() {
    for (frame, ok) in [
        (json!({"op": 7, "d": null}), "Reconnect"),
        (json!({"op": 9, "d": false}), "InvalidateSession"),
        (json!({"op": 11}), "HeartbeatAck"),
        (json!({"op": 0, "s": 3, "t": "RESUMED", "d": {}}), "Dispatch"),
    ] {
        let parsed = serde_json::from_value::<GatewayEvent>(frame).unwrap();
        assert!(format!("{parsed:?}").starts_with(ok), "{parsed:?}");
    }
}

#[test]
fn integer_and_string_options_are_typed() {
    let mut w = world();
    w.register();
    let (alex, general) = (w.id("alex"), w.general());
    w.state.invoke(alex, general, "schedule", &json!({"timezone": "Europe/Berlin", "hour": 8}), None).unwrap();
    let Event::InteractionCreate(e) = w.last("INTERACTION_CREATE") else { unreachable!() };
    let Interaction::Command(cmd) = e.interaction else { panic!() };
    let values: Vec<_> = cmd.data.options.iter().map(|o| o.value.clone()).collect();
    assert_eq!(
        values,
        vec![CommandDataOptionValue::String("Europe/Berlin".into()), CommandDataOptionValue::Integer(8)]
    );
    assert!(w.state.invoke(alex, general, "schedule", &json!({"hour": 8}), None).is_err(), "required option");
    assert!(w.state.invoke(alex, general, "schedule", &json!({"timezone": 5}), None).is_err(), "wrong type");
}

/// A world of four guilds, one session per shard of two.
fn sharded_world() -> (State, [UnboundedReceiver<Outbound>; 2]) {
    let mut cfg = SimConfig::default();
    cfg.world.more_guilds = (1..=3)
        .map(|i| crate::config::GuildSpec::new(&format!("Guild {i}"), &["alex"], &[&format!("room-{i}")]))
        .collect();
    let mut state = State::new(Arc::new(cfg), "ws://127.0.0.1:1".into());
    let token = format!("Bot {}", state.cfg.token);
    let rxs = [0, 1].map(|shard| {
        let (tx, rx) = unbounded_channel();
        let conn = state.gateway.connect(tx);
        identify(&mut state, conn, &json!({"token": token, "intents": ALL_INTENTS, "shard": [shard, 2]}))
            .expect("identify accepted");
        rx
    });
    (state, rxs)
}

fn parsed(rx: &mut UnboundedReceiver<Outbound>) -> Vec<Event> {
    frames(rx).into_iter().map(|(_, e)| e).collect()
}

#[test]
fn each_shard_gets_its_own_ready_and_the_guilds_of_its_shard_and_dms_go_to_shard_0() {
    let (mut state, mut rxs) = sharded_world();
    let guilds: Vec<u64> = state.seeded.guilds.iter().map(|(_, id)| *id).collect();
    assert_eq!(guilds.len(), 4);
    let shard_of = |g: u64| (g >> 22) % 2;
    for shard in [0, 1] {
        let mine: Vec<u64> = guilds.iter().copied().filter(|g| shard_of(*g) == shard).collect();
        assert_eq!(mine.len(), 2, "guilds made a millisecond apart alternate between two shards");
        let events = parsed(&mut rxs[shard as usize]);
        let Event::Ready(ready) = &events[0] else { panic!("shard {shard}: first READY, got {:?}", events.first()) };
        assert_eq!(ready.ready.shard.map(|s| (s.id.0, s.total)), Some((shard as u32, 2)));
        let listed: Vec<u64> = ready.ready.guilds.iter().map(|g| g.id.get()).collect();
        assert_eq!(listed, mine, "READY lists the guilds of its shard only");
        let created: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                Event::GuildCreate(g) => Some(g.guild.id.get()),
                _ => None,
            })
            .collect();
        assert_eq!(created, mine, "one GUILD_CREATE per guild of the shard");
    }
    state.set_commands(None, &json!([{"name": "help", "description": "Help"}])).unwrap();
    let alex = state.seeded.user("alex").unwrap();
    for (name, channel) in [("room-1", "room-1"), ("room-2", "room-2"), ("general", "general")] {
        let channel = state.seeded.channel(channel).unwrap();
        let guild = state.channels[&channel].guild_id.unwrap();
        state.invoke(alex, channel, "help", &json!({}), None).unwrap();
        let [on_0, on_1] = [0, 1].map(|s| parsed(&mut rxs[s]).len());
        assert_eq!((on_0, on_1), if shard_of(guild) == 0 { (1, 0) } else { (0, 1) }, "{name}");
    }
    let dm = state.open_dm(alex);
    state.invoke(alex, dm, "help", &json!({}), None).unwrap();
    let [on_0, on_1] = [0, 1].map(|s| parsed(&mut rxs[s]).len());
    assert_eq!((on_0, on_1), (1, 0), "a DM interaction reaches shard 0 only");
}
