//! `mend sandbox` (the `sandbox` feature): the project's local Discord with a
//! seeded server, mend connected to it on quick schedules, and a page on
//! 127.0.0.1 that shows what each person sees (`web`).
//!
//! `start` is the library's way in (the browser test runs the sandbox in its
//! own process, on free ports); `sandbox` is the command, which prints where
//! things are and runs until Ctrl-C or SIGTERM.

mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use discord_sim::{Sim, SimConfig, WorldSpec};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::bot::shutdown_signal;
use super::{InputError, load_library};
use crate::clock::{Clock, SystemClock};
use crate::config::StoreConfig;
use crate::crypto::Key;
use crate::discord::{Lifecycle, StartError};
use crate::engine::{Engine, Settings};

/// Where the sandbox keeps its things.
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
    /// Port of the sandbox's page on 127.0.0.1 (open it in a browser).
    #[arg(long, default_value_t = 7879)]
    pub web_port: u16,
}

/// How to start a sandbox: `SandboxArgs` for the command, or chosen by a test.
#[derive(Clone)]
pub struct Options {
    pub db: PathBuf,
    pub keep: bool,
    /// 0 picks a free port.
    pub control_port: u16,
    pub web_port: u16,
    pub extra_prompts: Vec<PathBuf>,
    /// When prompts and reflections come for new couples.
    pub schedule: String,
    pub reflection: String,
    /// mend's clock: the system's, or one a test holds still.
    pub clock: Arc<dyn Clock>,
}

impl Options {
    /// The command's options: quick schedules, so no one waits long.
    pub fn of(args: &SandboxArgs, store: &StoreConfig) -> Options {
        Options {
            db: args.db.clone(),
            keep: args.keep,
            control_port: args.port,
            web_port: args.web_port,
            extra_prompts: store.extra_prompts.clone(),
            schedule: "*/2 * * * *".into(),
            reflection: "*/10 * * * *".into(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The people of the sandbox's server. alex and sam are the couple-to-be in
/// the server, casey another member; robin and jo pair in direct messages.
pub const PEOPLE: [&str; 5] = ["alex", "sam", "casey", "robin", "jo"];

/// A running sandbox: the local Discord, mend against it, and the page.
pub struct Sandbox {
    pub sim: Sim,
    pub engine: Engine,
    /// Wakes mend's worker (after a schedule is brought forward).
    pub wake: Arc<Notify>,
    /// Where the page is served.
    pub web_addr: SocketAddr,
    lifecycle: Arc<Lifecycle>,
    shards: Arc<serenity::all::ShardManager>,
    bot: JoinHandle<Result<(), StartError>>,
    worker: JoinHandle<()>,
    web: JoinHandle<()>,
}

/// Starts the local Discord, mend against it (connected, its commands
/// registered) and the page.
pub async fn start(options: Options) -> anyhow::Result<Sandbox> {
    let world = WorldSpec { members: PEOPLE.iter().map(|p| p.to_string()).collect(), ..WorldSpec::default() };
    let config = SimConfig {
        http_addr: SocketAddr::from(([127, 0, 0, 1], options.control_port)),
        world,
        ..SimConfig::default()
    };
    let sim = Sim::start(config).await.map_err(|e| {
        InputError(format!("could not start the local Discord on port {}: {e} — try --port", options.control_port))
    })?;
    let web_listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.web_port))).await.map_err(|e| {
            InputError(format!("could not serve the page on port {}: {e} — try --web-port", options.web_port))
        })?;
    let web_addr = web_listener.local_addr()?;
    // Never wipe a database a mend is serving (held until the wipe is done).
    let _alone = crate::store::hold(&crate::config::database_url(&options.db.to_string_lossy()), true)
        .map_err(|e| InputError(format!("{}: {e}", options.db.display())))?;
    if !options.keep {
        for suffix in ["", "-wal", "-shm", ".keys", ".keys-journal"] {
            let mut path = options.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    let ca = options.db.with_extension("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).with_context(|| format!("could not write {}", ca.display()))?;
    let store = StoreConfig {
        database_url: crate::config::database_url(&options.db.to_string_lossy()),
        extra_prompts: options.extra_prompts.clone(),
        keystore: None,
    };
    let library = load_library(&store)?;
    let key_path = options.db.with_extension("key");
    let key = match Key::from_file(&key_path) {
        Ok(key) if options.keep => key,
        _ => {
            let _ = std::fs::remove_file(&key_path);
            Key::write_new(&key_path).map_err(|e| InputError(e.to_string()))?
        }
    };
    // Quick schedules, so no one waits: the sandbox lifts the floor
    // (MEND_MIN_INTERVAL_MINUTES=0) as tests do.
    let settings = Settings {
        default_tz: "UTC".into(),
        default_schedule: options.schedule.clone(),
        default_reflection: options.reflection.clone(),
        nudge_after: chrono::Duration::minutes(1),
        // Minutes stand for days here: nudges come at any hour.
        waking: crate::core::waking::WakingHours::ALWAYS,
        min_interval: chrono::Duration::zero(),
        retry_base: chrono::Duration::seconds(5),
        ..Settings::default()
    };
    let keys = super::keys(&store, &key).await?;
    let engine = Engine::open(&store.url(), keys, Arc::new(library), options.clock.clone(), settings)
        .await
        .map_err(|e| InputError(format!("could not open the sandbox's database {}: {e}", options.db.display())))?;
    let settings = crate::discord::BotSettings { referral: Some("your therapist's details would go here".into()) };
    let config = crate::discord::BotConfig {
        token: crate::discord::Secret::new(sim.token()),
        guild_id: None,
        api_addr: Some(sim.https_addr()),
        extra_root_cert: Some(ca),
        http_timeout: std::time::Duration::from_secs(30),
        shards: None,
        settings,
    };
    let mut bot = crate::discord::build(config, engine.clone()).await.map_err(|e| InputError(e.to_string()))?;
    let worker = bot.start_worker();
    let (wake, lifecycle, shards) = (bot.wake.clone(), bot.lifecycle.clone(), bot.client.shard_manager.clone());
    let bot = tokio::spawn(async move { crate::discord::run(&mut bot).await });
    let app = web::router(web::Page { sim: sim.clone(), engine: engine.clone(), wake: wake.clone() });
    let web = tokio::spawn(async move {
        if let Err(e) = axum::serve(web_listener, app).await {
            tracing::error!(error = %e, "the sandbox's page stopped");
        }
    });
    Ok(Sandbox { sim, engine, wake, web_addr, lifecycle, shards, bot, worker, web })
}

impl Sandbox {
    /// The page's address, e.g. `http://127.0.0.1:7879/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.web_addr)
    }

    /// Finishes work in flight (at most 10 s), then stops mend, the page and
    /// the local Discord.
    pub async fn stop(self) {
        if !self.lifecycle.stop(std::time::Duration::from_secs(10)).await {
            tracing::warn!(
                "work still in flight after 10 s; stopping anyway (the outbox resumes it at the next start)"
            );
        }
        self.shards.shutdown_all().await;
        self.worker.abort();
        self.web.abort();
        let _ = self.bot.await;
        self.sim.shutdown();
    }
}

/// The command: starts the sandbox, says where everything is, and runs until
/// asked to stop (Ctrl-C, SIGTERM) or mend stops.
pub(super) async fn sandbox(store: &StoreConfig, args: SandboxArgs) -> anyhow::Result<ExitCode> {
    refuse_real_files(store, &args.db)?;
    // A stop asked for while still connecting ends at once: nothing is in flight.
    let mut sandbox = tokio::select! {
        started = start(Options::of(&args, store)) => started?,
        _ = shutdown_signal() => return Ok(ExitCode::SUCCESS),
    };
    let sim = &sandbox.sim;
    let general = sim.channel_id("general");
    println!("mend sandbox: a local Discord with server \"{}\" (#general = {general})", sim.config().world.guild_name);
    println!("people: alex and sam (a couple-to-be in the server), casey (another member),");
    println!("        robin and jo (who pair in direct messages with mend)");
    println!("mend's data: {}", args.db.display());
    println!("prompts come every 2 minutes, reflections every 10, nudges after 1 minute (UTC);");
    println!("the page's \"due now\" brings a couple's next prompt or reflection forward.\n");
    println!("open {}", sandbox.url());
    println!(
        "\nThe local Discord's control API is at {} (curl works too: crates/discord-sim/README.md).",
        sim.control_url()
    );
    println!("Ctrl-C stops everything.\n");
    let ran = tokio::select! {
        ran = &mut sandbox.bot => Some(ran),
        _ = shutdown_signal() => None,
    };
    match ran {
        None => {
            tracing::info!("stopping: finishing work in flight");
            sandbox.stop().await;
            Ok(ExitCode::SUCCESS)
        }
        Some(ran) => {
            sandbox.worker.abort();
            sandbox.web.abort();
            super::bot::exit_code(ran?)
        }
    }
}

/// The sandbox starts its database and key afresh: it refuses to do so to the
/// host's real database (`DATABASE_URL`) or key (`MEND_KEY_FILE`).
fn refuse_real_files(store: &StoreConfig, db: &std::path::Path) -> Result<(), InputError> {
    let same = |a: &std::path::Path, b: &std::path::Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let real_db = crate::store::file_of(&store.url());
    let real_key = std::env::var_os("MEND_KEY_FILE").filter(|k| !k.is_empty()).map(std::path::PathBuf::from);
    let default_db = crate::store::file_of(crate::config::defaults::DATABASE_URL);
    // The default DATABASE_URL stands for nothing the host chose, unless the
    // file is there.
    let chosen_db = real_db.filter(|d| Some(d) != default_db.as_ref() || d.exists());
    if chosen_db.is_some_and(|d| same(&d, db)) {
        return Err(InputError(format!(
            "{} is mend's real database (DATABASE_URL): the sandbox starts afresh and would wipe it — give --db another file",
            db.display()
        )));
    }
    if real_key.is_some_and(|k| same(&k, &db.with_extension("key"))) {
        return Err(InputError(format!(
            "the sandbox would replace {} (MEND_KEY_FILE) — give --db a file in another place",
            db.with_extension("key").display()
        )));
    }
    Ok(())
}
