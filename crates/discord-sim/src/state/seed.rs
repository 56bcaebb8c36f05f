//! Builds the initial world from a `WorldSpec`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::{Channel, ChannelKind, Guild, Member, Role, User};
use super::{State, WorldIds};
use crate::config::{SimConfig, WorldSpec};
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
    let guild_ids = ids.spread(1 + spec.more_guilds.len());

    let owner = human(&mut ids, &spec.owner);
    let owner_id = owner.id;
    let mut named = vec![(owner.username.clone(), owner.id)];
    users.insert(owner.id, owner);
    let mut member_ids = vec![];
    for name in &spec.members {
        let u = human(&mut ids, name);
        named.push((u.username.clone(), u.id));
        member_ids.push(u.id);
        users.insert(u.id, u);
    }
    for name in &spec.outsiders {
        let u = human(&mut ids, name);
        named.push((u.username.clone(), u.id));
        users.insert(u.id, u);
    }

    let mut world = Seeding { ids, bot_id, owner_id, channels: BTreeMap::new(), channel_names: vec![] };
    let (first, bot_role_id) = world.guild(guild_ids[0], &spec.guild_name, &member_ids, &spec.channels, spec);
    let mut guilds = BTreeMap::from([(first.id, first)]);
    let mut guild_names = vec![(spec.guild_name.clone(), guild_ids[0])];
    for (g, &id) in spec.more_guilds.iter().zip(&guild_ids[1..]) {
        let mut members = vec![];
        for name in &g.members {
            let known = named.iter().find(|(n, _)| n == name).map(|(_, id)| *id);
            let user = known.unwrap_or_else(|| {
                let u = human(&mut world.ids, name);
                let id = u.id;
                named.push((u.username.clone(), id));
                users.insert(id, u);
                id
            });
            members.push(user);
        }
        let (guild, _) = world.guild(id, &g.name, &members, &g.channels, spec);
        guilds.insert(id, guild);
        guild_names.push((g.name.clone(), id));
    }

    let Seeding { ids, channels, channel_names, .. } = world;
    State {
        seeded: WorldIds {
            application_id: bot_id,
            bot_user_id: bot_id,
            bot_role_id,
            guild_id: guild_ids[0],
            owner_id,
            guilds: guild_names,
            channels: channel_names,
            users: named,
        },
        cfg,
        ids,
        users,
        guilds,
        channels,
        messages: BTreeMap::new(),
        interactions: BTreeMap::new(),
        commands: vec![],
        gateway: Gateway::default(),
        gateway_url,
    }
}

/// What the guilds of the world are built into.
struct Seeding {
    ids: IdGen,
    bot_id: u64,
    owner_id: u64,
    channels: BTreeMap<u64, Channel>,
    channel_names: Vec<(String, u64)>,
}

impl Seeding {
    /// A guild with @everyone, the bot's managed role, the bot, the owner,
    /// `members` and text channels; returns it and the bot role's id.
    fn guild(
        &mut self,
        guild_id: u64,
        name: &str,
        member_ids: &[u64],
        channel_names: &[String],
        spec: &WorldSpec,
    ) -> (Guild, u64) {
        let bot_role_id = self.ids.next();
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
                bot_id: Some(self.bot_id),
            },
        ];
        let joined_at = now_timestamp();
        let member = |user_id, roles| Member { user_id, roles, joined_at: joined_at.clone() };
        let mut members = BTreeMap::new();
        members.insert(self.bot_id, member(self.bot_id, vec![bot_role_id]));
        members.insert(self.owner_id, member(self.owner_id, vec![]));
        for &id in member_ids {
            members.insert(id, member(id, vec![]));
        }
        let mut first_channel = None;
        for (position, name) in channel_names.iter().enumerate() {
            let id = self.ids.next();
            first_channel.get_or_insert(id);
            self.channel_names.push((name.clone(), id));
            self.channels.insert(
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
            name: name.to_owned(),
            owner_id: self.owner_id,
            roles,
            members,
            system_channel_id: first_channel,
        };
        (guild, bot_role_id)
    }
}
