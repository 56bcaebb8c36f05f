//! Discord permission bits and the permission computation Discord documents
//! ("Permission Overwrites" in the permissions topic): guild base permissions
//! from @everyone and the member's roles, ADMINISTRATOR short-circuits, then
//! channel overwrites in the order @everyone → roles (combined) → member.

/// Permission bits used by the sim (names as in Discord's docs).
pub mod bits {
    pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
    pub const KICK_MEMBERS: u64 = 1 << 1;
    pub const BAN_MEMBERS: u64 = 1 << 2;
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
    pub const CONNECT: u64 = 1 << 20;
    pub const SPEAK: u64 = 1 << 21;
    pub const CHANGE_NICKNAME: u64 = 1 << 26;
    pub const MANAGE_ROLES: u64 = 1 << 28;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const CREATE_PRIVATE_THREADS: u64 = 1 << 36;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

    /// Every permission bit Discord defines (up to bit 50), for owners and admins.
    pub const ALL: u64 = (1 << 51) - 1;

    /// What a freshly created server grants @everyone.
    pub const EVERYONE_DEFAULT: u64 = CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | MENTION_EVERYONE
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | SEND_MESSAGES_IN_THREADS;

    /// What the seeded bot role grants: enough for a bot that creates private
    /// channels, posts prompts with embeds and buttons, and opens threads.
    pub const BOT_DEFAULT: u64 = VIEW_CHANNEL
        | SEND_MESSAGES
        | SEND_MESSAGES_IN_THREADS
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | MANAGE_CHANNELS
        | MANAGE_ROLES
        | MANAGE_MESSAGES
        | MANAGE_THREADS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | USE_APPLICATION_COMMANDS;
}

/// Whose overwrite it is: Discord's overwrite `type` 0 (role) or 1 (member).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverwriteKind {
    Role,
    Member,
}

impl OverwriteKind {
    pub fn code(self) -> u8 {
        match self {
            Self::Role => 0,
            Self::Member => 1,
        }
    }

    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Self::Role),
            1 => Some(Self::Member),
            _ => None,
        }
    }
}

/// A channel permission overwrite.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Overwrite {
    pub id: u64,
    pub kind: OverwriteKind,
    pub allow: u64,
    pub deny: u64,
}

/// Everything the computation needs to know about one member in one guild.
pub(crate) struct Subject<'a> {
    pub user_id: u64,
    pub guild_id: u64,
    pub owner_id: u64,
    /// Permissions of the @everyone role (whose id is the guild id).
    pub everyone: u64,
    /// `(role id, role permissions)` for each role the member has.
    pub roles: &'a [(u64, u64)],
}

/// The member's guild-level permissions.
pub(crate) fn base(subject: &Subject) -> u64 {
    if subject.user_id == subject.owner_id {
        return bits::ALL;
    }
    let perms = subject.roles.iter().fold(subject.everyone, |acc, (_, p)| acc | p);
    if perms & bits::ADMINISTRATOR != 0 { bits::ALL } else { perms }
}

/// The member's permissions in a channel with these overwrites.
pub(crate) fn in_channel(subject: &Subject, overwrites: &[Overwrite]) -> u64 {
    let mut perms = base(subject);
    if perms & bits::ADMINISTRATOR != 0 {
        return bits::ALL;
    }
    let find = |kind: OverwriteKind, id: u64| overwrites.iter().find(move |o| o.kind == kind && o.id == id);
    if let Some(o) = find(OverwriteKind::Role, subject.guild_id) {
        perms = (perms & !o.deny) | o.allow;
    }
    let (mut allow, mut deny) = (0, 0);
    for (role_id, _) in subject.roles {
        if let Some(o) = find(OverwriteKind::Role, *role_id) {
            allow |= o.allow;
            deny |= o.deny;
        }
    }
    perms = (perms & !deny) | allow;
    if let Some(o) = find(OverwriteKind::Member, subject.user_id) {
        perms = (perms & !o.deny) | o.allow;
    }
    // Without VIEW_CHANNEL a member has no permission in the channel at all.
    if perms & bits::VIEW_CHANNEL == 0 {
        return 0;
    }
    perms
}

#[cfg(test)]
mod tests {
    use super::bits::*;
    use super::*;

    const GUILD: u64 = 10;
    const ROLE: u64 = 20;
    const USER: u64 = 30;

    fn subject(roles: &[(u64, u64)]) -> Subject<'_> {
        Subject { user_id: USER, guild_id: GUILD, owner_id: 99, everyone: VIEW_CHANNEL | SEND_MESSAGES, roles }
    }

    fn ow(id: u64, kind: OverwriteKind, allow: u64, deny: u64) -> Overwrite {
        Overwrite { id, kind, allow, deny }
    }

    #[test]
    fn private_channel_hides_everyone_but_allowed_member() {
        let roles = [(ROLE, MANAGE_CHANNELS)];
        let s = subject(&roles);
        let deny_all = [ow(GUILD, OverwriteKind::Role, 0, VIEW_CHANNEL)];
        assert_eq!(in_channel(&s, &deny_all), 0);
        let with_member = [deny_all[0].clone(), ow(USER, OverwriteKind::Member, VIEW_CHANNEL | SEND_MESSAGES, 0)];
        let p = in_channel(&s, &with_member);
        assert_ne!(p & VIEW_CHANNEL, 0);
        assert_ne!(p & SEND_MESSAGES, 0);
    }

    #[test]
    fn role_allow_beats_role_deny_and_member_beats_roles() {
        let roles = [(ROLE, 0), (21, 0)];
        let s = subject(&roles);
        let overwrites =
            [ow(ROLE, OverwriteKind::Role, 0, SEND_MESSAGES), ow(21, OverwriteKind::Role, SEND_MESSAGES, 0)];
        assert_ne!(in_channel(&s, &overwrites) & SEND_MESSAGES, 0);
        let member_deny =
            [overwrites[0].clone(), overwrites[1].clone(), ow(USER, OverwriteKind::Member, 0, SEND_MESSAGES)];
        assert_eq!(in_channel(&s, &member_deny) & SEND_MESSAGES, 0);
    }

    #[test]
    fn administrator_and_owner_ignore_overwrites() {
        let roles = [(ROLE, ADMINISTRATOR)];
        let deny_all = [ow(GUILD, OverwriteKind::Role, 0, ALL)];
        assert_eq!(in_channel(&subject(&roles), &deny_all), ALL);
        let mut owner = subject(&[]);
        owner.owner_id = USER;
        assert_eq!(in_channel(&owner, &deny_all), ALL);
    }
}
