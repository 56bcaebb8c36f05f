//! `mend sandbox` (the `sandbox` feature): the project's local Discord with a
//! seeded server, and mend connected to it on quick schedules.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{InputError, engine, load_library, serve};
use crate::config::StoreConfig;
use crate::crypto::Key;
use crate::engine::Settings;

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
}

/// The sandbox: the project's local Discord, seeded with a server (#general)
/// and users alex, sam and casey, and mend against it with a quick schedule.
pub(super) async fn sandbox(store: &StoreConfig, args: SandboxArgs) -> anyhow::Result<ExitCode> {
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
        // Minutes stand for days here: nudges come at any hour.
        waking: crate::core::waking::WakingHours::ALWAYS,
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
    println!("  curl -s {control}/users/sam/dms                              # the invitation reaches sam privately");
    println!(
        "  curl -s {control}/users/sam/click -H 'content-type: application/json' -d '{{\"message_id\":ID,\"custom_id\":\"mend:accept:1\"}}'"
    );
    println!(
        "  curl -s {control}/users/sam/channels                         # sam's channels, the private one included"
    );
    println!("The full list of routes is in crates/discord-sim/README.md. Ctrl-C stops both.\n");
    serve(config, engine).await
}
