//! Builds the initial world from a `WorldSpec`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::{Channel, ChannelKind, Guild, Member, Role, User};
use super::{State, WorldIds};
use crate::config::SimConfig;
use crate::gateway::session::Gateway;
use crate::ids::{IdGen, now_timestamp};

fn human(ids: &mut IdGen, name: &str) -> User {
    let mut display = name.to_owned();
    if let Some(first) = display.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    User { id: ids.next(), username: name.to_owned(), global_name: Some(display), bot: false, dms_closed: false }
}

pub(super) fn seed(cfg: Arc<SimConfig>, gateway_url: String) -> State {
    let spec = &cfg.world;
    let mut ids = IdGen::default();
    let mut users = BTreeMap::new();

    // Modern applications share their id with their bot user.
    let bot = User { id: ids.next(), username: spec.bot_name.clone(), global_name: None, bot: true, dms_closed: false };
    let bot_id = bot.id;
    users.insert(bot.id, bot);

    let guild_id = ids.next();
    let bot_role_id = ids.next();
    let roles = vec![
        Role {
            id: guild_id,
            name: "@everyone".into(),
            permissions: spec.everyone_permissions,
            position: 0,
            color: 0,
            bot_id: None,
        },
        Role {
            id: bot_role_id,
            name: spec.bot_name.clone(),
            permissions: spec.bot_permissions,
            position: 1,
            color: 0,
            bot_id: Some(bot_id),
        },
    ];

    let joined_at = now_timestamp();
    let mut members = BTreeMap::new();
    let mut named = vec![];
    let member = |user_id, roles| Member { user_id, roles, joined_at: joined_at.clone() };
    members.insert(bot_id, member(bot_id, vec![bot_role_id]));
    let owner = human(&mut ids, &spec.owner);
    let owner_id = owner.id;
    named.push((owner.username.clone(), owner.id));
    members.insert(owner.id, member(owner.id, vec![]));
    users.insert(owner.id, owner);
    for name in &spec.members {
        let u = human(&mut ids, name);
        named.push((u.username.clone(), u.id));
        members.insert(u.id, member(u.id, vec![]));
        users.insert(u.id, u);
    }
    for name in &spec.outsiders {
        let u = human(&mut ids, name);
        named.push((u.username.clone(), u.id));
        users.insert(u.id, u);
    }

    let mut channels = BTreeMap::new();
    let mut channel_names = vec![];
    for (position, name) in spec.channels.iter().enumerate() {
        let id = ids.next();
        channel_names.push((name.clone(), id));
        channels.insert(
            id,
            Channel {
                id,
                kind: ChannelKind::Text,
                guild_id: Some(guild_id),
                name: name.clone(),
                topic: None,
                parent_id: None,
                position: position as u32,
                overwrites: vec![],
                recipient_id: None,
                owner_id: None,
                thread_members: Default::default(),
                last_message_id: None,
                message_count: 0,
            },
        );
    }

    let guild = Guild {
        id: guild_id,
        name: spec.guild_name.clone(),
        owner_id,
        roles,
        members,
        system_channel_id: channel_names.first().map(|(_, id)| *id),
    };

    State {
        seeded: WorldIds {
            application_id: bot_id,
            bot_user_id: bot_id,
            bot_role_id,
            guild_id,
            owner_id,
            channels: channel_names,
            users: named,
        },
        cfg,
        ids,
        users,
        guilds: BTreeMap::from([(guild_id, guild)]),
        channels,
        messages: BTreeMap::new(),
        interactions: BTreeMap::new(),
        commands: vec![],
        gateway: Gateway::default(),
        gateway_url,
    }
}
