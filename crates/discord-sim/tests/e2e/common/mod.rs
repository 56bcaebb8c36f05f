//! A real serenity client wired to a sim exactly as a bot would be: its own
//! reqwest client resolving discord.com to the sim and trusting the sim's CA,
//! serenity's rate limiter enabled.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use discord_sim::{Sim, SimConfig};
use serenity::all::{
    Client, ClientBuilder, Context, Event, EventHandler, GatewayIntents, HttpBuilder, RawEventHandler, ShardManager,
};
use serenity::async_trait;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

pub const WAIT: Duration = Duration::from_secs(10);

/// The reqwest client a bot builds for the sim (same reqwest 0.12 as serenity).
pub fn reqwest_client(sim: &Sim) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .resolve("discord.com", sim.https_addr())
        .add_root_certificate(reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap()
}

pub fn http(sim: &Sim) -> serenity::http::Http {
    HttpBuilder::new(sim.token()).client(reqwest_client(sim)).build()
}

/// Every event the client receives, as `(name, event)`; `Event::Unknown` is
/// reported as `UNKNOWN <t>` so tests can fail on it.
pub struct Forward(pub UnboundedSender<(String, Event)>);

#[async_trait]
impl RawEventHandler for Forward {
    async fn raw_event(&self, _ctx: Context, event: Event) {
        let name = match &event {
            Event::Unknown(u) => format!("UNKNOWN {}", u.kind),
            other => other.name().unwrap_or_default(),
        };
        let _ = self.0.send((name, event));
    }
}

pub struct Bot {
    pub http: Arc<serenity::http::Http>,
    pub shards: Arc<ShardManager>,
    pub events: UnboundedReceiver<(String, Event)>,
    pub task: tokio::task::JoinHandle<Result<(), serenity::Error>>,
}

impl Bot {
    /// Waits for an event by name, failing on any `Event::Unknown` before it.
    pub async fn next(&mut self, name: &str) -> Event {
        let found = tokio::time::timeout(WAIT, async {
            while let Some((n, e)) = self.events.recv().await {
                assert!(!n.starts_with("UNKNOWN"), "serenity could not parse: {n}");
                if n == name {
                    return e;
                }
            }
            panic!("event stream ended");
        })
        .await;
        found.unwrap_or_else(|_| panic!("no {name} within {WAIT:?}"))
    }

    pub async fn stop(self) {
        self.shards.shutdown_all().await;
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

pub async fn start_bot(sim: &Sim, intents: GatewayIntents) -> Bot {
    start_bot_with(sim, intents, NoHandler).await
}

/// For bots that only need the raw event stream.
pub struct NoHandler;

impl EventHandler for NoHandler {}

/// Starts a client with an extra (plain) event handler.
pub async fn start_bot_with(sim: &Sim, intents: GatewayIntents, handler: impl EventHandler + 'static) -> Bot {
    let (tx, events) = unbounded_channel();
    let mut client: Client = ClientBuilder::new_with_http(http(sim), intents)
        .raw_event_handler(Forward(tx))
        .event_handler(handler)
        .await
        .expect("client builds");
    let http = client.http.clone();
    let shards = client.shard_manager.clone();
    let task = tokio::spawn(async move { client.start().await });
    Bot { http, shards, events, task }
}

/// A sim with a fast heartbeat and the global limit on, like production.
pub async fn sim() -> Sim {
    Sim::start(SimConfig::for_tests()).await.expect("sim starts")
}
