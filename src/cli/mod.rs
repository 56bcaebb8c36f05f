//! The command line: parse, call the library, print. Input mistakes are one line
//! on stderr with what to do, and exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::{StoreConfig, defaults};
use crate::core::prompts::{Library, PILLARS};
use crate::core::schedule::Schedule;
use crate::crypto::{Cipher, Key};
use crate::engine::{Engine, Settings};
use crate::simulate::{self, SimOptions};

#[derive(Debug, Parser)]
#[command(
    name = "mend",
    version,
    about = "A companion for couples rebuilding trust: one prompt a day, answered privately, revealed together."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub store: StoreConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to Discord and run mend.
    Run(RunArgs),
    /// Check or list the prompt library.
    #[command(subcommand)]
    Prompts(PromptsCommand),
    /// Try schedule specs.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Try mend with no Discord account: a local Discord with a server and two
    /// users, and mend connected to it.
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Write a new encryption key for answers at rest to FILE (owner-only; never
    /// overwrites). Then set MEND_KEY_FILE=FILE.
    Keygen { file: PathBuf },
    /// Open the database (creating and migrating it if needed) and say what it holds.
    Status,
    /// Run the whole engine on a simulated clock with scripted couples, print the
    /// first couple's transcript and a summary, and check the invariants.
    Simulate {
        #[arg(long, default_value_t = 3)]
        couples: usize,
        #[arg(long, default_value_t = 28)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Database file for the run (default: a temporary file, removed after).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Print only the summary, not the first couple's transcript.
        #[arg(long)]
        quiet: bool,
    },
}

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
    #[command(flatten)]
    pub bot: BotArgs,
}

/// Where the sandbox keeps its things.
#[cfg(feature = "sandbox")]
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// mend's database for the sandbox: a file of its own, never your real one.
    #[arg(long, default_value = "mend-sandbox.db")]
    pub db: PathBuf,
    /// Keep what the database holds from an earlier sandbox (by default it starts
    /// empty, as the local Discord does).
    #[arg(long)]
    pub keep: bool,
    /// Port of the local Discord's control API (and gateway) on 127.0.0.1.
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
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
            schedule
                .check_floor(floor, Utc::now())
                .map_err(|e| InputError(format!("{name} comes more often than MEND_MIN_INTERVAL_MINUTES allows: {e}")))?;
        }
        if !(1..=7 * 24 * 60).contains(&self.nudge_after_minutes) {
            return Err(InputError("MEND_NUDGE_AFTER_MINUTES must be between 1 and 10080 (a week)".into()));
        }
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
            min_interval: floor,
            lease: chrono::Duration::seconds(self.lease_seconds),
            retry_base: chrono::Duration::seconds(self.retry_base_seconds),
            ..Settings::default()
        };
        let bot = crate::discord::BotSettings { referral: self.referral.clone().filter(|r| !r.trim().is_empty()) };
        Ok((settings, bot))
    }
}

#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// Validate prompt files: every problem is named with its file and prompt.
    Check {
        /// Directories to check (default: `prompts`).
        dirs: Vec<PathBuf>,
    },
    /// List prompts.
    List {
        /// Only this pillar (its id, e.g. `patience-time`).
        #[arg(long)]
        pillar: Option<String>,
        /// Read this directory instead of the built-in library.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Print the next fire instants of a spec, in UTC.
    Preview {
        /// `daily 08:30`, `weekdays 21:00`, `weekends 10:00`, `mon,wed,fri 07:15`,
        /// or a crontab(5) line such as `30 8 * * 1-5` (quote it).
        #[arg(required = true, num_args = 1..)]
        spec: Vec<String>,
        /// IANA timezone, e.g. Europe/Paris.
        #[arg(long)]
        tz: String,
        /// Start strictly after this instant (RFC 3339; default: now).
        #[arg(long)]
        from: Option<String>,
        #[arg(long, default_value_t = 5)]
        count: usize,
    },
}

/// A mistake in what was typed: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<InputError>() {
            Some(input) => {
                eprintln!("mend: {input}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("mend: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Prompts(PromptsCommand::Check { dirs }) => Ok(check_prompts(dirs)),
        Command::Prompts(PromptsCommand::List { pillar, dir }) => list_prompts(&cli.store, pillar, dir),
        Command::Schedule(ScheduleCommand::Preview { spec, tz, from, count }) => {
            preview(&spec.join(" "), &tz, from.as_deref(), count)
        }
        Command::Run(args) => run_bot(&cli.store, args).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox(&cli.store, args).await,
        Command::Keygen { file } => {
            Key::write_new(&file).map_err(|e| InputError(e.to_string()))?;
            println!(
                "wrote a new key to {} (readable by you only). Keep a copy somewhere safe: without it, answers cannot be read.",
                file.display()
            );
            println!("then: export MEND_KEY_FILE={}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => status(&cli.store).await,
        Command::Simulate { couples, days, seed, db, quiet } => {
            let library = load_library(&cli.store)?;
            let options = SimOptions { couples, days, seed, db, transcript: !quiet };
            let outcome = simulate::run(Arc::new(library), &options, &mut std::io::stdout()).await?;
            Ok(if outcome.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// The built-in prompts plus the host's extra directories.
pub fn load_library(store: &StoreConfig) -> anyhow::Result<Library> {
    Library::builtin_with(&store.extra_prompts).map_err(|problems| {
        let first = problems.first().map(ToString::to_string).unwrap_or_default();
        InputError(format!(
            "the prompt library has {} problem(s), first: {first} — run `mend prompts check DIR` for all",
            problems.len()
        ))
        .into()
    })
}

/// Opens the configured database with `key` and builds an engine on the system
/// clock; a wrong key or a database that cannot be opened is one line.
pub async fn engine(store: &StoreConfig, library: Library, key: &Key, settings: Settings) -> anyhow::Result<Engine> {
    let opened = Engine::open(&store.url(), Cipher::new(key), Arc::new(library), Arc::new(SystemClock), settings).await;
    match opened {
        Ok(engine) => Ok(engine),
        Err(crate::engine::EngineError::Store(crate::store::StoreError::Key(e))) => Err(InputError(e.to_string()).into()),
        Err(e) => Err(InputError(format!("could not open the database {}: {e}", store.database_url)).into()),
    }
}

/// The encryption key from MEND_KEY or MEND_KEY_FILE.
fn key_from_env() -> anyhow::Result<Key> {
    Key::from_env().map_err(|e| InputError(e.to_string()).into())
}

async fn run_bot(store: &StoreConfig, args: RunArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        InputError(
            "DISCORD_TOKEN is not set — put your bot token in it (or run `mend sandbox` to try mend without one)"
                .into(),
        )
    })?;
    let (settings, bot) = args.bot.settings()?;
    let library = load_library(store)?;
    let engine = engine(store, library, &key_from_env()?, settings).await?;
    let config = crate::discord::BotConfig {
        token: crate::discord::Secret::new(token.trim()),
        guild_id: args.guild_id,
        api_addr: args.api_addr,
        extra_root_cert: args.extra_root_cert,
        http_timeout: std::time::Duration::from_secs(args.timeout_seconds.clamp(1, 600)),
        settings: bot,
    };
    serve(config, engine).await
}

/// Runs the bot until it stops or the process is asked to (Ctrl-C, SIGTERM).
pub async fn serve(config: crate::discord::BotConfig, engine: Engine) -> anyhow::Result<ExitCode> {
    use crate::discord::StartError;
    // A stop asked for while still connecting ends at once: nothing is in flight.
    let mut bot = tokio::select! {
        built = crate::discord::build(config, engine) => built.map_err(|e| InputError(e.to_string()))?,
        _ = shutdown_signal() => return Ok(ExitCode::SUCCESS),
    };
    let shards = bot.client.shard_manager.clone();
    let lifecycle = bot.lifecycle.clone();
    let worker = bot.start_worker();
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
    match ran {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e @ (StartError::BadToken | StartError::Cert(..) | StartError::Commands(..))) => {
            Err(InputError(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(feature = "sandbox")]
/// The sandbox: the project's local Discord, seeded with a server (#general)
/// and users alex, sam and casey, and mend against it with a quick schedule.
async fn sandbox(store: &StoreConfig, args: SandboxArgs) -> anyhow::Result<ExitCode> {
    use discord_sim::{Sim, SimConfig};
    let config =
        SimConfig { http_addr: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)), ..SimConfig::default() };
    let sim = Sim::start(config).await.map_err(|e| {
        InputError(format!("could not start the local Discord on port {}: {e} — try --port", args.port))
    })?;
    if !args.keep {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = args.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    let ca = args.db.with_extension("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).with_context(|| format!("could not write {}", ca.display()))?;
    let store = StoreConfig { database_url: crate::config::database_url(&args.db.to_string_lossy()), ..store.clone() };
    let library = load_library(&store)?;
    let key_path = args.db.with_extension("key");
    let key = match Key::from_file(&key_path) {
        Ok(key) if args.keep => key,
        _ => {
            let _ = std::fs::remove_file(&key_path);
            Key::write_new(&key_path).map_err(|e| InputError(e.to_string()))?
        }
    };
    // Quick schedules, so no one waits: the sandbox lifts the floor
    // (MEND_MIN_INTERVAL_MINUTES=0) as tests do.
    let settings = Settings {
        default_tz: "UTC".into(),
        default_schedule: "*/2 * * * *".into(),
        default_reflection: "*/10 * * * *".into(),
        nudge_after: chrono::Duration::minutes(1),
        min_interval: chrono::Duration::zero(),
        retry_base: chrono::Duration::seconds(5),
        ..Settings::default()
    };
    let engine = engine(&store, library, &key, settings).await?;
    let settings = crate::discord::BotSettings { referral: Some("your therapist's details would go here".into()) };
    let config = crate::discord::BotConfig {
        token: crate::discord::Secret::new(sim.token()),
        guild_id: None,
        api_addr: Some(sim.https_addr()),
        extra_root_cert: Some(ca),
        http_timeout: std::time::Duration::from_secs(30),
        settings,
    };
    let control = sim.control_url();
    let general = sim.channel_id("general");
    let [alex, sam, casey] = ["alex", "sam", "casey"].map(|u| sim.user(u).id());
    println!("mend sandbox: a local Discord with server \"{}\" (#general = {general})", sim.config().world.guild_name);
    println!("users: alex = {alex} and sam = {sam} (the couple-to-be), casey = {casey} (another member)");
    println!("mend's data: {}", args.db.display());
    println!("prompts come every 2 minutes, reflections every 10, nudges after 1 minute (UTC).\n");
    println!("Act as a user through the control API ({control}), for example:");
    println!("  curl -s {control}/users/alex/slash -H 'content-type: application/json' \\");
    println!("       -d '{{\"channel_id\":{general},\"command\":\"couple start\",\"options\":{{\"partner\":{sam}}}}}'");
    println!("  curl -s {control}/users/alex/channels/{general}/messages      # what alex sees in #general");
    println!(
        "  curl -s {control}/users/sam/click -H 'content-type: application/json' -d '{{\"message_id\":ID,\"custom_id\":\"mend:accept:1\"}}'"
    );
    println!(
        "  curl -s {control}/users/sam/channels                         # sam's channels, the private one included"
    );
    println!("The full list of routes is in crates/discord-sim/README.md. Ctrl-C stops both.\n");
    serve(config, engine).await
}

async fn shutdown_signal() {
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

async fn status(store: &StoreConfig) -> anyhow::Result<ExitCode> {
    let engine = engine(store, load_library(store)?, &key_from_env()?, Settings::default()).await?;
    let st = engine.status().await?;
    println!("database: {}", store.database_url);
    println!("couples: {} ({} paused)", st.couples, st.paused);
    println!("messages waiting to be sent: {} ({} given up)", st.waiting, st.failed);
    match st.next {
        Some(t) => println!("next due: {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => println!("next due: nothing scheduled"),
    }
    Ok(ExitCode::SUCCESS)
}

fn count<K: Ord>(m: &std::collections::BTreeMap<K, usize>, k: K) -> usize {
    m.get(&k).copied().unwrap_or(0)
}

fn check_prompts(dirs: Vec<PathBuf>) -> ExitCode {
    let dirs = if dirs.is_empty() { vec![PathBuf::from("prompts")] } else { dirs };
    let (library, problems) = Library::check(&dirs);
    for problem in &problems {
        println!("{problem}");
    }
    for (pillar, c) in library.coverage() {
        use crate::core::model::{Audience, Depth, Kind, Phase};
        println!(
            "{pillar:<28} {:>3} prompts · light {} medium {} deep {} · hurt {} repairing {} · journal {} action {} · atone {} attune {} attach {}",
            c.total,
            count(&c.depths, Depth::Light),
            count(&c.depths, Depth::Medium),
            count(&c.depths, Depth::Deep),
            count(&c.audiences, Audience::Hurt),
            count(&c.audiences, Audience::Repairing),
            count(&c.kinds, Kind::Journal),
            count(&c.kinds, Kind::Action),
            count(&c.phases, Phase::Atone),
            count(&c.phases, Phase::Attune),
            count(&c.phases, Phase::Attach),
        );
    }
    if problems.is_empty() {
        println!("ok: {} prompts in {} pillars", library.prompts().len(), library.pillars().len());
        ExitCode::SUCCESS
    } else {
        println!("{} problem(s)", problems.len());
        ExitCode::from(2)
    }
}

fn list_prompts(store: &StoreConfig, pillar: Option<String>, dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let library = match dir {
        Some(dir) => Library::load(&[dir])
            .map_err(|p| InputError(format!("{} problem(s) in the prompts, first: {}", p.len(), p[0])))?,
        None => load_library(store)?,
    };
    if let Some(p) = &pillar
        && !PILLARS.iter().any(|(id, ..)| id == p)
    {
        let known: Vec<&str> = PILLARS.iter().map(|p| p.0).collect();
        return Err(InputError(format!("unknown pillar `{p}`; pillars are: {}", known.join(", "))).into());
    }
    for prompt in library.prompts().iter().filter(|p| pillar.as_ref().is_none_or(|want| &p.pillar == want)) {
        let phases: Vec<&str> = prompt.phases.iter().map(|p| p.as_str()).collect();
        println!(
            "{:<32} {:<7} {:<9} {:<6} {:<20} {}",
            prompt.id,
            prompt.kind,
            prompt.audience,
            prompt.depth,
            phases.join(","),
            prompt.text
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn preview(spec: &str, tz: &str, from: Option<&str>, count: usize) -> anyhow::Result<ExitCode> {
    let schedule = Schedule::parse(spec, tz).map_err(|e| InputError(e.to_string()))?;
    let from = match from {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| InputError(format!("`{s}` is not an RFC 3339 instant — try 2026-03-08T00:00:00Z")))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    for t in schedule.upcoming(from, count) {
        println!("{}", t.format("%Y-%m-%dT%H:%M:%SZ"));
    }
    Ok(ExitCode::SUCCESS)
}
