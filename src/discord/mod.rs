//! mend on Discord: serenity and poise around the engine. This module renders
//! and parses; the rules live in `core` and `engine`.

pub mod checks;
pub mod commands;
pub mod commitments;
pub mod components;
pub mod deliver;
pub mod ids;
pub mod render;
pub mod safety;
pub mod text;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::worker::Worker;

use poise::serenity_prelude as serenity;
use serenity::{ClientBuilder, GatewayIntents, HttpBuilder};
use tokio::sync::Notify;

use crate::config::ShardRange;
use crate::engine::{Engine, EngineError};

/// How the bot reaches Discord and behaves; typed and checked at start-up.
#[derive(Clone)]
pub struct BotConfig {
    pub token: Secret,
    /// Register commands in this guild only (instant, for iteration) instead of globally.
    pub guild_id: Option<u64>,
    /// Where `discord.com` is, when not the real one (the local Discord in tests
    /// and the sandbox), and the extra root certificate that signs it.
    pub api_addr: Option<SocketAddr>,
    pub extra_root_cert: Option<PathBuf>,
    /// How long one request to Discord may take before it is given up (and
    /// retried later: nonces and the outbox keep a retry from doubling).
    pub http_timeout: std::time::Duration,
    /// The gateway shards this process holds (`None`: all, as one shard).
    pub shards: Option<ShardRange>,
    pub settings: BotSettings,
}

/// What the host decides about how mend speaks on Discord.
#[derive(Debug, Clone, Default)]
pub struct BotSettings {
    /// "When you're ready, I'm here: …" — shown in /help and reflections.
    pub referral: Option<String>,
}

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::fmt::Debug for BotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("token", &self.token)
            .field("guild_id", &self.guild_id)
            .field("api_addr", &self.api_addr)
            .field("extra_root_cert", &self.extra_root_cert)
            .field("http_timeout", &self.http_timeout)
            .field("shards", &self.shards)
            .field("settings", &self.settings)
            .finish()
    }
}

pub use crate::worker::{InFlight, Lifecycle};

/// What every command and handler gets.
pub struct Data {
    pub engine: Engine,
    pub settings: BotSettings,
    /// Wakes the scheduler when a schedule changes (or a test moves the clock).
    pub wake: Arc<Notify>,
    pub lifecycle: Arc<Lifecycle>,
}

/// The two kinds of error: one the user can act on, worded for them, and every
/// other, which is logged once in full and shown as a generic apology.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("{0}")]
    User(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl BotError {
    pub fn user(s: impl Into<String>) -> Self {
        BotError::User(s.into())
    }
}

impl From<EngineError> for BotError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::User(u) => BotError::User(text::user_error(&u)),
            EngineError::Store(s) => BotError::Internal(s.into()),
        }
    }
}

impl From<serenity::Error> for BotError {
    fn from(e: serenity::Error) -> Self {
        BotError::Internal(e.into())
    }
}

pub type Context<'a> = poise::Context<'a, Data, BotError>;

/// Why the bot could not start, worded for the host.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Discord rejected the token: check DISCORD_TOKEN (Developer Portal → your app → Bot → Reset Token)")]
    BadToken,
    #[error("could not read the extra root certificate {0}: {1}")]
    Cert(PathBuf, String),
    #[error("could not connect to Discord: {0}")]
    Connect(String),
    #[error("could not register mend's slash commands {0}")]
    Commands(String),
    #[error(
        "Discord refused the Server Members Intent: Developer Portal → your app → Bot → Privileged Gateway Intents → turn on Server Members Intent"
    )]
    IntentOff,
}

/// The HTTP client: the real discord.com, or the address configured for it.
fn http(config: &BotConfig) -> Result<serenity::Http, StartError> {
    // serenity's own client has no timeout: a request Discord never answers
    // would hold a send forever.
    let mut client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(config.http_timeout)
        .connect_timeout(config.http_timeout.min(std::time::Duration::from_secs(10)));
    if let Some(addr) = config.api_addr {
        client = client.resolve("discord.com", addr);
        if let Some(path) = &config.extra_root_cert {
            let pem = std::fs::read(path).map_err(|e| StartError::Cert(path.clone(), e.to_string()))?;
            let cert =
                reqwest::Certificate::from_pem(&pem).map_err(|e| StartError::Cert(path.clone(), e.to_string()))?;
            client = client.add_root_certificate(cert);
        }
    }
    let client = client.build().map_err(|e| StartError::Connect(e.to_string()))?;
    Ok(HttpBuilder::new(config.token.expose()).client(client).build())
}

/// A running bot: its serenity client, its worker, and a handle to wake it.
pub struct Bot {
    pub client: serenity::Client,
    pub wake: Arc<Notify>,
    /// Gateway events serenity could not read (a payload missing a field is
    /// dropped silently otherwise; this makes it visible).
    pub unreadable_events: Arc<AtomicUsize>,
    pub lifecycle: Arc<Lifecycle>,
    pub worker: Arc<Worker<deliver::DiscordTransport>>,
    /// Who mend signed in as, where it is, and what `mend doctor` would flag
    /// on Discord's side: what `mend run` says as it starts.
    pub startup: Startup,
    /// The shards `run` starts (`None`: all of them, as one).
    pub shards: Option<ShardRange>,
}

/// What mend says as it starts, at any log level.
#[derive(Debug, Clone)]
pub struct Startup {
    pub bot_name: String,
    pub bot_id: u64,
    pub application_id: u64,
    pub servers: usize,
    /// The shards this process holds, when it holds some of several
    /// (`servers` and `problems` are then of those shards' servers).
    pub shards: Option<ShardRange>,
    /// The Discord-side checks that failed (the intent, permissions per server).
    pub problems: Vec<checks::Check>,
}

impl Startup {
    /// One line saying who and where, with the invite link; then one per problem.
    pub fn lines(&self) -> Vec<String> {
        let servers = if self.servers == 1 { "1 server".to_string() } else { format!("{} servers", self.servers) };
        let shards = self.shards.map(|r| format!(" on {r}")).unwrap_or_default();
        let mut lines = vec![format!(
            "mend: signed in to Discord as {} ({}), in {servers}{shards}; invite link: {}",
            self.bot_name,
            self.bot_id,
            checks::invite_link(self.application_id)
        )];
        lines.extend(self.problems.iter().map(|p| format!("mend: {p}")));
        lines
    }
}

/// Counts and logs gateway events serenity could not parse.
struct UnreadableEvents(Arc<AtomicUsize>);

#[serenity::async_trait]
impl serenity::RawEventHandler for UnreadableEvents {
    async fn raw_event(&self, _ctx: serenity::Context, event: serenity::Event) {
        if let serenity::Event::Unknown(unknown) = event {
            self.0.fetch_add(1, Ordering::SeqCst);
            tracing::warn!(kind = %unknown.kind, "Discord sent an event serenity could not read");
        }
    }
}

/// Builds the bot, failing fast: the token is checked and the slash commands
/// are registered before the gateway connects, so a setup problem is one line
/// and a non-zero exit, never a bot that is connected but deaf. Of several
/// processes sharing the shards, only the one holding shard 0 registers them:
/// one set of commands, put once. The worker is
/// built here and started by `start_worker`, once (never from `Ready`, which
/// fires again on every reconnect).
pub async fn build(config: BotConfig, engine: Engine) -> Result<Bot, StartError> {
    let wake = Arc::new(Notify::new());
    let lifecycle = Arc::new(Lifecycle::default());
    let http = http(&config)?;
    // Check the token now: serenity itself would only find out at the gateway,
    // after falling back silently on some errors.
    let me = match patiently(|| http.get_current_user()).await {
        Ok(me) => me,
        Err(serenity::Error::Http(e)) if e.status_code().is_some_and(|s| s.as_u16() == 401) => {
            return Err(StartError::BadToken);
        }
        Err(e) => return Err(StartError::Connect(e.to_string())),
    };
    tracing::info!(bot = %me.name, "token accepted");
    let app =
        patiently(|| http.get_current_application_info()).await.map_err(|e| StartError::Connect(e.to_string()))?;
    http.set_application_id(app.id);
    // What `mend doctor` would flag on Discord's side, said as mend starts. A
    // server list Discord does not give now is no reason not to start.
    let mut problems: Vec<checks::Check> =
        Some(checks::members_intent(app.flags)).filter(|c| !c.ok).into_iter().collect();
    // The servers on this process's shards: another process checks the rest.
    let mine = |guild: u64| config.shards.is_none_or(|r| r.holds_guild(guild));
    let servers = match patiently(|| checks::servers(&http, me.id, mine)).await {
        Ok(servers) => {
            problems.extend(servers.iter().map(|s| s.check(app.id.get())).filter(|c| !c.ok));
            servers.len()
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the servers mend is in");
            0
        }
    };
    let startup = Startup {
        bot_name: me.name.clone(),
        bot_id: me.id.get(),
        application_id: app.id.get(),
        servers,
        shards: config.shards,
        problems,
    };
    let cmds = commands::all();
    let registers = config.shards.is_none_or(|r| r.holds_shard_zero());
    let create = poise::builtins::create_application_commands(&cmds);
    let register = || async {
        match config.guild_id {
            Some(g) => serenity::GuildId::new(g).set_commands(&http, create.clone()).await.map(|_| ()),
            None => serenity::Command::set_global_commands(&http, create.clone()).await.map(|_| ()),
        }
    };
    let registered = if registers { patiently(register).await } else { Ok(()) };
    if let Err(e) = registered {
        let fix = match (config.guild_id, deliver::discord_code(&e)) {
            (Some(g), Some(50001)) => format!(
                "in server {g} (DISCORD_GUILD_ID): Discord says mend has no access there — invite the bot to that server \
                 with the `bot` and `applications.commands` scopes, or unset DISCORD_GUILD_ID"
            ),
            (Some(g), Some(10004)) => format!(
                "in server {g} (DISCORD_GUILD_ID): Discord knows no server with that id — copy the server's id \
                 (Developer Mode, right-click the server, Copy Server ID), or unset DISCORD_GUILD_ID"
            ),
            (Some(g), _) => format!("in server {g} (DISCORD_GUILD_ID): {e} — check the id, or unset DISCORD_GUILD_ID"),
            (None, _) => format!("globally: {e} — check the application in the Developer Portal"),
        };
        return Err(StartError::Commands(fix));
    }
    let settings = config.settings.clone();
    let data_engine = engine.clone();
    let setup_wake = wake.clone();
    let setup_lifecycle = lifecycle.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: cmds,
            on_error: |error| Box::pin(on_error(error)),
            // Which command, on which shard: never what was typed.
            pre_command: |ctx| {
                Box::pin(async move {
                    tracing::info!(
                        command = %ctx.command().qualified_name,
                        interaction = ctx.id(),
                        shard = ctx.serenity_context().shard_id.0,
                        "command"
                    );
                })
            },
            event_handler: |framework, event| {
                Box::pin(components::on_event(framework.serenity_context, event, framework.user_data))
            },
            ..Default::default()
        })
        .setup(move |_ctx, _ready, _framework| {
            Box::pin(async move {
                if registers {
                    tracing::info!("mend is connected and its commands are registered");
                } else {
                    tracing::info!("mend is connected; the process holding shard 0 registers the commands");
                }
                Ok(Data { engine: data_engine, settings, wake: setup_wake, lifecycle: setup_lifecycle })
            })
        })
        .build();
    // GUILD_MEMBERS (privileged: "Server Members Intent" in the Developer
    // Portal) tells mend when a partner leaves the server.
    let intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS | GatewayIntents::DIRECT_MESSAGES;
    let unreadable_events = Arc::new(AtomicUsize::new(0));
    let client = ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .raw_event_handler(UnreadableEvents(unreadable_events.clone()))
        .await
        .map_err(|e| StartError::Connect(e.to_string()))?;
    let transport = deliver::DiscordTransport { http: client.http.clone(), referral: config.settings.referral.clone() };
    let worker = Arc::new(Worker::new(engine, transport, lifecycle.clone()));
    Ok(Bot { client, wake, unreadable_events, lifecycle, worker, startup, shards: config.shards })
}

/// A start-up request, tried again while Discord answers that it is busy (a
/// 429 or 5xx, a timeout: a restart during a busy minute must not exit), at
/// most five times over about fifteen seconds; anything else fails at once.
async fn patiently<T, F, Fut>(call: F) -> serenity::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = serenity::Result<T>>,
{
    let mut wait = std::time::Duration::from_millis(500);
    for _ in 0..4 {
        match call().await {
            Err(e) if matches!(deliver::classify(&e, None), crate::core::outbox::Failure::Transient(_)) => {
                tracing::info!(error = %e, "Discord is busy at start-up; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            done => return done,
        }
    }
    call().await
}

impl Bot {
    /// Starts the worker's loop, once; its task is supervised (a panicking step
    /// is logged and the next one runs). Returns its handle.
    pub fn start_worker(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.worker.clone().run(self.wake.clone()))
    }
}

/// Runs until the gateway closes; a rejected token is `StartError::BadToken`.
pub async fn run(bot: &mut Bot) -> Result<(), StartError> {
    let client = &mut bot.client;
    let ran = match bot.shards {
        None => client.start().await,
        Some(r) if r.is_all() => client.start_shards(r.total).await,
        Some(r) if r.first == r.last => client.start_shard(r.first, r.total).await,
        // serenity starts the end of this range too (`start_connection(start,
        // end, ..)` boots start..=end).
        Some(r) => client.start_shard_range(r.first..r.last, r.total).await,
    };
    match ran {
        Ok(()) => Ok(()),
        Err(serenity::Error::Gateway(serenity::GatewayError::InvalidAuthentication)) => Err(StartError::BadToken),
        Err(serenity::Error::Gateway(serenity::GatewayError::DisallowedGatewayIntents)) => Err(StartError::IntentOff),
        Err(serenity::Error::Http(e)) if e.status_code().is_some_and(|s| s.as_u16() == 401) => {
            Err(StartError::BadToken)
        }
        Err(e) => Err(StartError::Connect(e.to_string())),
    }
}

async fn on_error(error: poise::FrameworkError<'_, Data, BotError>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let message = match &error {
                BotError::User(m) => m.clone(),
                BotError::Internal(e) => {
                    tracing::error!(command = %ctx.command().qualified_name, error = %format!("{e:#}"), "command failed");
                    text::APOLOGY.to_string()
                }
            };
            if let Err(e) = ctx.send(poise::CreateReply::default().content(message).ephemeral(true)).await {
                tracing::warn!(error = %e, "could not tell the user about an error");
            }
        }
        poise::FrameworkError::CommandCheckFailed { ctx, .. } | poise::FrameworkError::GuildOnly { ctx, .. } => {
            let _ = ctx.send(poise::CreateReply::default().content(text::OUTSIDE_CHANNEL).ephemeral(true)).await;
        }
        poise::FrameworkError::ArgumentParse { ctx, input, .. } => {
            let what = input.unwrap_or_default();
            let _ = ctx
                .send(
                    poise::CreateReply::default()
                        .content(format!("I couldn't read `{what}`. Check the option and try again."))
                        .ephemeral(true),
                )
                .await;
        }
        other => {
            // Setup errors and the rest: log without echoing user content.
            tracing::error!(kind = other_kind(&other), "framework error");
        }
    }
}

fn other_kind(e: &poise::FrameworkError<'_, Data, BotError>) -> &'static str {
    match e {
        poise::FrameworkError::Setup { .. } => "setup",
        poise::FrameworkError::EventHandler { .. } => "event handler",
        _ => "other",
    }
}
