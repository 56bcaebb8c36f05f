//! Configuration of a sim instance. Every field has a Discord-like default;
//! tests usually shorten the timings.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::perms::bits;

/// How a sim instance behaves. Deserializable from JSON (the binary's `--config`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// The bot token the sim accepts (`Authorization: Bot <token>`, IDENTIFY `token`).
    pub token: String,
    /// Where the HTTPS listener (REST as `https://discord.com`) binds. Port 0 picks one.
    pub https_addr: SocketAddr,
    /// Where the plain HTTP listener (gateway websocket, control API, REST) binds.
    pub http_addr: SocketAddr,
    /// If set, the CA certificate (PEM) is written here at start.
    pub ca_pem_path: Option<PathBuf>,
    /// Gateway Hello `heartbeat_interval` in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// Privileged intents "enabled in the developer portal". Asking for any
    /// other privileged intent closes the gateway with 4014.
    pub privileged_intents: u64,
    /// Time allowed for the initial interaction response (Discord: 3 s).
    pub interaction_ack_timeout_ms: u64,
    /// Lifetime of an interaction token for followups and edits (Discord: 15 min).
    pub interaction_token_ttl_ms: u64,
    /// Delay between the bot's type-9 (modal) callback and the earliest modal
    /// submit, because poise registers its collector only after the callback.
    pub modal_submit_delay_ms: u64,
    /// How long a `nonce` with `enforce_nonce` deduplicates (Discord: "a few minutes").
    pub nonce_window_ms: u64,
    pub rate_limits: RateLimitConfig,
    pub world: WorldSpec,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            token: "sim-bot-token".into(),
            https_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ca_pem_path: None,
            heartbeat_interval_ms: 41_250,
            privileged_intents: intents::GUILD_MEMBERS | intents::MESSAGE_CONTENT,
            interaction_ack_timeout_ms: 3_000,
            interaction_token_ttl_ms: 15 * 60 * 1000,
            modal_submit_delay_ms: 300,
            nonce_window_ms: 5 * 60 * 1000,
            rate_limits: RateLimitConfig::default(),
            world: WorldSpec::default(),
        }
    }
}

impl SimConfig {
    /// Defaults with timings suited to tests: a 1 s heartbeat (so heartbeats
    /// and ACKs are exercised) and everything else as on Discord.
    pub fn for_tests() -> Self {
        Self { heartbeat_interval_ms: 1_000, ..Self::default() }
    }
}

/// Gateway intent bits the sim filters on.
pub mod intents {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    pub const PRIVILEGED: u64 = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
}

/// REST rate limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Requests per second across all non-interaction routes; `None` turns the
    /// global limit off. Discord: 50.
    pub global_per_second: Option<u32>,
    /// The bucket every route gets unless an override matches.
    pub default_bucket: BucketLimit,
    /// Per-route limits: `pattern` is `METHOD /path/with/*/segments` (see `Fault`).
    pub overrides: Vec<RouteLimit>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            global_per_second: Some(50),
            default_bucket: BucketLimit { limit: 5, window_ms: 5_000 },
            overrides: Vec::new(),
        }
    }
}

/// `limit` requests per `window_ms` in one bucket.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct BucketLimit {
    pub limit: u32,
    pub window_ms: u64,
}

/// A bucket limit for routes matching `pattern`.
#[derive(Clone, Debug, Deserialize)]
pub struct RouteLimit {
    pub pattern: String,
    pub limit: BucketLimit,
}

/// The world the sim starts with: one guild with its members and channels,
/// and any number of other guilds (`more_guilds`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct WorldSpec {
    pub guild_name: String,
    /// The guild owner (has every permission).
    pub owner: String,
    /// Other human members, in order (the seeded ones are alex, sam, casey).
    pub members: Vec<String>,
    /// Users that exist but are not in the guild (can still DM the bot).
    pub outsiders: Vec<String>,
    /// Text channels to create; the first one is the guild's system channel.
    pub channels: Vec<String>,
    pub bot_name: String,
    /// Permissions of the bot's managed role.
    pub bot_permissions: u64,
    /// Permissions of @everyone.
    pub everyone_permissions: u64,
    /// Other guilds the bot is in, each with the bot's role as above and the
    /// world's owner as owner. Guild ids are made a millisecond apart, so that
    /// guilds spread over shards (`(guild_id >> 22) % num_shards`) as guilds
    /// made at different times do.
    pub more_guilds: Vec<GuildSpec>,
}

/// One more guild of the world.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct GuildSpec {
    pub name: String,
    /// Human members besides the owner; a name the world already has is that
    /// same user (a user may be in several guilds).
    pub members: Vec<String>,
    /// Text channels; the first one is the system channel. Give them names no
    /// other guild uses, for `Sim::channel_id` to find them.
    pub channels: Vec<String>,
}

impl GuildSpec {
    pub fn new(name: &str, members: &[&str], channels: &[&str]) -> Self {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Self { name: name.into(), members: strings(members), channels: strings(channels) }
    }
}

impl Default for WorldSpec {
    fn default() -> Self {
        Self {
            guild_name: "Mend Test Server".into(),
            owner: "owner".into(),
            members: vec!["alex".into(), "sam".into(), "casey".into()],
            outsiders: vec![],
            channels: vec!["general".into()],
            bot_name: "mend".into(),
            bot_permissions: bits::BOT_DEFAULT,
            everyone_permissions: bits::EVERYONE_DEFAULT,
            more_guilds: Vec::new(),
        }
    }
}

impl WorldSpec {
    /// The same world with the given permissions taken from the bot's role,
    /// e.g. `WorldSpec::default().bot_without(bits::MANAGE_CHANNELS)`.
    pub fn bot_without(mut self, perms: u64) -> Self {
        self.bot_permissions &= !perms;
        self
    }
}
