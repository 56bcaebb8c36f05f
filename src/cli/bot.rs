//! `mend run`: what it needs to reach Discord, how mend behaves as the host
//! decides (checked at start-up), and serving until asked to stop.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;

use super::{InputError, engine, key_from_env, load_library};
use crate::config::{ShardRange, StoreConfig, defaults};
use crate::core::schedule::Schedule;
use crate::engine::{Engine, Settings};

/// What `mend run` needs to reach Discord, all from the environment or flags.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The bot token (Developer Portal → your app → Bot).
    #[arg(long, env = "DISCORD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Register commands in this server only (instant; for trying things out).
    #[arg(long, env = "DISCORD_GUILD_ID")]
    pub guild_id: Option<u64>,
    /// Where discord.com is, as host:port (only for a local Discord).
    #[arg(long, env = "DISCORD_API_ADDR")]
    pub api_addr: Option<std::net::SocketAddr>,
    /// An extra root certificate (PEM) that signs that local Discord.
    #[arg(long, env = "DISCORD_EXTRA_ROOT_CERT")]
    pub extra_root_cert: Option<PathBuf>,
    /// Seconds one request to Discord may take before it is given up and retried later.
    #[arg(long, env = "MEND_DISCORD_TIMEOUT_SECONDS", default_value_t = defaults::DISCORD_TIMEOUT_SECONDS)]
    pub timeout_seconds: u64,
    /// Serve `/healthz` and `/metrics` on this address (e.g. 127.0.0.1:9000).
    #[arg(long, env = "MEND_HTTP_ADDR")]
    pub http_addr: Option<std::net::SocketAddr>,
    /// The gateway shards this process holds, when several `mend run` share
    /// them: `0-1/4` (shards 0 and 1 of 4), `2/4` (shard 2 of 4). Unset: all.
    /// The process holding shard 0 gets the direct messages and registers the
    /// commands.
    #[arg(long, env = "MEND_SHARDS")]
    pub shards: Option<String>,
    /// Seconds a scheduler step may run before `/healthz` calls it stalled.
    #[arg(long, env = "MEND_HEALTH_STALL_SECONDS", default_value_t = defaults::HEALTH_STALL_SECONDS)]
    pub health_stall_seconds: u64,
    #[command(flatten)]
    pub bot: BotArgs,
}

impl RunArgs {
    /// `MEND_SHARDS`, checked.
    pub fn shards(&self) -> Result<Option<ShardRange>, InputError> {
        ShardRange::parse(self.shards.as_deref().unwrap_or_default())
            .map_err(|e| InputError(format!("MEND_SHARDS: {e}")))
    }
}

/// How mend behaves, as the host decides.
#[derive(Debug, Clone, clap::Args)]
pub struct BotArgs {
    /// Timezone for new couples until they choose theirs (IANA name).
    #[arg(long, env = "MEND_DEFAULT_TZ", default_value = defaults::TZ)]
    pub default_tz: String,
    /// When prompts come for new couples.
    #[arg(long, env = "MEND_DEFAULT_SCHEDULE", default_value = defaults::SCHEDULE)]
    pub default_schedule: String,
    /// When the weekly reflection comes for new couples.
    #[arg(long, env = "MEND_DEFAULT_REFLECTION", default_value = defaults::REFLECTION)]
    pub default_reflection: String,
    /// "When you're ready, I'm here: …" — shown in /help and weekly reflections.
    #[arg(long, env = "MEND_REFERRAL")]
    pub referral: Option<String>,
    /// Minutes after a prompt before one gentle nudge to a partner who hasn't answered.
    #[arg(long, env = "MEND_NUDGE_AFTER_MINUTES", default_value_t = defaults::NUDGE_AFTER_MINUTES)]
    pub nudge_after_minutes: i64,
    /// The hours in each couple's own timezone in which a nudge may come
    /// (a nudge due outside them waits for the morning).
    #[arg(long, env = "MEND_NUDGE_HOURS", default_value = defaults::NUDGE_HOURS)]
    pub nudge_hours: String,
    /// The shortest gap, in minutes, a couple's prompt or reflection schedule may
    /// have (0 lifts the floor: for the sandbox and tests).
    #[arg(long, env = "MEND_MIN_INTERVAL_MINUTES", default_value_t = defaults::MIN_INTERVAL_MINUTES)]
    pub min_interval_minutes: i64,
    /// Seconds an outbox item is held by the worker posting it before another
    /// may take it (after a crash, what was in flight waits this long).
    #[arg(long, env = "MEND_OUTBOX_LEASE_SECONDS", default_value_t = defaults::LEASE_SECONDS)]
    pub lease_seconds: i64,
    /// Seconds before a failed post is first tried again (doubling after).
    #[arg(long, env = "MEND_RETRY_BASE_SECONDS", default_value_t = defaults::RETRY_BASE_SECONDS)]
    pub retry_base_seconds: i64,
}

impl BotArgs {
    /// Checks every value now, so a typo fails at start-up with what to fix.
    pub fn settings(&self) -> Result<(Settings, crate::discord::BotSettings), InputError> {
        crate::core::schedule::parse_zone(&self.default_tz).map_err(|e| InputError(format!("MEND_DEFAULT_TZ: {e}")))?;
        if !(0..=7 * 24 * 60).contains(&self.min_interval_minutes) {
            return Err(InputError("MEND_MIN_INTERVAL_MINUTES must be between 0 and 10080 (a week)".into()));
        }
        let floor = chrono::Duration::minutes(self.min_interval_minutes);
        for (name, spec) in
            [("MEND_DEFAULT_SCHEDULE", &self.default_schedule), ("MEND_DEFAULT_REFLECTION", &self.default_reflection)]
        {
            let schedule = Schedule::parse(spec, &self.default_tz).map_err(|e| InputError(format!("{name}: {e}")))?;
            schedule.check_floor(floor, Utc::now()).map_err(|e| {
                InputError(format!("{name} comes more often than MEND_MIN_INTERVAL_MINUTES allows: {e}"))
            })?;
        }
        if !(1..=7 * 24 * 60).contains(&self.nudge_after_minutes) {
            return Err(InputError("MEND_NUDGE_AFTER_MINUTES must be between 1 and 10080 (a week)".into()));
        }
        let waking = crate::core::waking::WakingHours::parse(&self.nudge_hours)
            .map_err(|e| InputError(format!("MEND_NUDGE_HOURS: {e}")))?;
        if !(1..=3600).contains(&self.lease_seconds) {
            return Err(InputError("MEND_OUTBOX_LEASE_SECONDS must be between 1 and 3600".into()));
        }
        if !(0..=3600).contains(&self.retry_base_seconds) {
            return Err(InputError("MEND_RETRY_BASE_SECONDS must be between 0 and 3600".into()));
        }
        let settings = Settings {
            default_tz: self.default_tz.clone(),
            default_schedule: self.default_schedule.clone(),
            default_reflection: self.default_reflection.clone(),
            nudge_after: chrono::Duration::minutes(self.nudge_after_minutes),
            waking,
            min_interval: floor,
            lease: chrono::Duration::seconds(self.lease_seconds),
            retry_base: chrono::Duration::seconds(self.retry_base_seconds),
            ..Settings::default()
        };
        let bot = crate::discord::BotSettings { referral: self.referral.clone().filter(|r| !r.trim().is_empty()) };
        Ok((settings, bot))
    }
}

pub(super) async fn run_bot(store: &StoreConfig, args: RunArgs) -> anyhow::Result<ExitCode> {
    let shards = args.shards()?;
    let token = args.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        InputError(
            "DISCORD_TOKEN is not set — put your bot token in it (or run `mend sandbox` to try mend without one)"
                .into(),
        )
    })?;
    let (settings, bot) = args.bot.settings()?;
    // Held while mend serves: `mend restore` and `mend rekey` wait for a stop.
    let _serving = crate::store::hold(&store.url(), false).map_err(|e| InputError(e.to_string()))?;
    let library = load_library(store)?;
    let engine = engine(store, library, &key_from_env()?, settings).await?;
    let config = crate::discord::BotConfig {
        token: crate::discord::Secret::new(token.trim()),
        guild_id: args.guild_id,
        api_addr: args.api_addr,
        extra_root_cert: args.extra_root_cert,
        http_timeout: std::time::Duration::from_secs(args.timeout_seconds.clamp(1, 600)),
        shards,
        settings: bot,
    };
    let ops = args
        .http_addr
        .map(|addr| Ops { addr, stall: std::time::Duration::from_secs(args.health_stall_seconds.max(1)) });
    serve_with(config, engine, ops).await
}

/// Where to serve `/healthz` and `/metrics`, and the stall bound.
#[derive(Debug, Clone, Copy)]
pub struct Ops {
    pub addr: std::net::SocketAddr,
    pub stall: std::time::Duration,
}

/// Runs the bot until it stops or the process is asked to (Ctrl-C, SIGTERM).
pub async fn serve(config: crate::discord::BotConfig, engine: Engine) -> anyhow::Result<ExitCode> {
    serve_with(config, engine, None).await
}

/// `serve`, with `/healthz` and `/metrics` when `ops` says where.
pub async fn serve_with(
    config: crate::discord::BotConfig,
    engine: Engine,
    ops: Option<Ops>,
) -> anyhow::Result<ExitCode> {
    let metrics = ops.map(|_| crate::http::metrics());
    let probe_engine = engine.clone();
    // A stop asked for while still connecting ends at once: nothing is in flight.
    let mut bot = tokio::select! {
        built = crate::discord::build(config, engine) => built.map_err(|e| InputError(e.to_string()))?,
        _ = shutdown_signal() => return Ok(ExitCode::SUCCESS),
    };
    // Plainly on stderr: the default log level (warn) would hide it.
    for line in bot.startup.lines() {
        eprintln!("{line}");
    }
    if let Some(ops) = ops {
        let probe = crate::http::Probe {
            engine: probe_engine,
            shards: bot.client.shard_manager.clone(),
            pulse: bot.worker.pulse(),
            stall: ops.stall,
            metrics,
        };
        let bound = crate::http::serve(ops.addr, probe)
            .await
            .map_err(|e| InputError(format!("MEND_HTTP_ADDR: could not listen on {}: {e}", ops.addr)))?;
        eprintln!("mend: serving /healthz and /metrics on http://{bound}");
    }
    let shards = bot.client.shard_manager.clone();
    let lifecycle = bot.lifecycle.clone();
    let url = bot.worker.engine().database_url();
    let worker = lead_the_outbox(bot.worker.clone(), bot.wake.clone(), url);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("stopping: finishing work in flight");
        if !lifecycle.stop(std::time::Duration::from_secs(10)).await {
            tracing::warn!(
                "work still in flight after 10 s; stopping anyway (the outbox resumes it at the next start)"
            );
        }
        shards.shutdown_all().await;
    });
    let ran = crate::discord::run(&mut bot).await;
    worker.abort();
    exit_code(ran)
}

/// How often a process that does not work the outbox tries to take it over,
/// and the one that does checks it still holds it and looks for what other
/// processes owe (an answer saved by another process wakes only its own).
const LEAD_TRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Works the outbox while this process holds its lead (`store::leader`), and
/// waits to take it over otherwise: of several `mend run` processes on one
/// database, one posts at a time, and another follows within seconds of its
/// death.
fn lead_the_outbox(
    worker: std::sync::Arc<crate::worker::Worker<crate::discord::deliver::DiscordTransport>>,
    wake: std::sync::Arc<tokio::sync::Notify>,
    url: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut waiting_said = false;
        loop {
            match crate::store::leader::try_lead(&url).await {
                Ok(Some(mut lead)) => {
                    tracing::info!("this process works the outbox");
                    let run = tokio::spawn(worker.clone().run(wake.clone()));
                    loop {
                        tokio::time::sleep(LEAD_TRY).await;
                        if run.is_finished() {
                            return;
                        }
                        if !lead.held().await {
                            tracing::warn!(
                                "lost the outbox's lead (the database connection went); stopping the worker"
                            );
                            run.abort();
                            break;
                        }
                        wake.notify_one();
                    }
                }
                Ok(None) => {
                    if !waiting_said {
                        tracing::info!("another process works the outbox; this one answers its shards' interactions");
                        waiting_said = true;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not ask for the outbox's lead; trying again"),
            }
            tokio::time::sleep(LEAD_TRY).await;
        }
    })
}

/// How a bot's run ends the process: a setup mistake (token, certificate,
/// commands, intent) is one line and exit 2.
pub(super) fn exit_code(ran: Result<(), crate::discord::StartError>) -> anyhow::Result<ExitCode> {
    use crate::discord::StartError;
    match ran {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e @ (StartError::BadToken | StartError::Cert(..) | StartError::Commands(..) | StartError::IntentOff)) => {
            Err(InputError(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
