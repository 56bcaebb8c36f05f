//! Runs discord-sim standalone and prints where it listens.

use std::path::PathBuf;

use clap::Parser;
use discord_sim::{Sim, SimConfig};

/// A local, protocol-faithful Discord (REST v10 + gateway) for testing bots.
#[derive(Parser)]
struct Args {
    /// JSON file with a `SimConfig` (every field optional).
    #[arg(long)]
    config: Option<PathBuf>,
    /// HTTPS listen address (REST as https://discord.com).
    #[arg(long)]
    https: Option<std::net::SocketAddr>,
    /// Plain HTTP listen address (gateway, control API, REST).
    #[arg(long)]
    http: Option<std::net::SocketAddr>,
    /// Bot token to accept.
    #[arg(long)]
    token: Option<String>,
    /// Where to write the CA certificate (PEM).
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Turn the global 50 req/s limit off.
    #[arg(long)]
    no_global_limit: bool,
}

fn config(args: &Args) -> Result<SimConfig, Box<dyn std::error::Error>> {
    let mut cfg: SimConfig = match &args.config {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => SimConfig::default(),
    };
    if let Some(a) = args.https {
        cfg.https_addr = a;
    }
    if let Some(a) = args.http {
        cfg.http_addr = a;
    }
    if let Some(t) = &args.token {
        cfg.token = t.clone();
    }
    if args.ca_out.is_some() {
        cfg.ca_pem_path = args.ca_out.clone();
    }
    if args.no_global_limit {
        cfg.rate_limits.global_per_second = None;
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let sim = Sim::start(config(&args)?).await?;
    let world = sim.world();
    println!("discord-sim is running");
    println!("  https (resolve discord.com here): {}", sim.https_addr());
    println!("  gateway:                          {}", sim.gateway_url());
    println!("  control API:                      {}", sim.control_url());
    println!("  token:                            {}", sim.token());
    if let Some(path) = &sim.config().ca_pem_path {
        println!("  CA certificate:                   {}", path.display());
    }
    println!("  guild {} with channels {:?}", world.guild_id, world.channels);
    println!("  users {:?}", world.users);
    tokio::signal::ctrl_c().await?;
    sim.shutdown();
    Ok(())
}
