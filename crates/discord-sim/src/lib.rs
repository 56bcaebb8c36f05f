//! discord-sim: a local, protocol-faithful fake of Discord (REST API v10 and
//! the gateway websocket) on 127.0.0.1, for end-to-end tests of serenity and
//! poise bots with serenity's own rate limiter active.
//!
//! ```no_run
//! # async fn demo() -> Result<(), discord_sim::SimError> {
//! use std::time::Duration;
//! use discord_sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::for_tests()).await?;
//! // ... start the bot with `sim.https_addr()` and `sim.ca_pem()` ...
//! sim.wait_for_bot_ready(Duration::from_secs(10)).await?;
//! let alex = sim.user("alex");
//! let general = sim.channel_id("general");
//! let ix = alex.slash(general, "help", serde_json::json!({}))?;
//! let reply = alex.wait_for_response(ix, |m| m.contains("not therapy"), Duration::from_secs(5)).await?;
//! assert!(reply.ephemeral);
//! # Ok(()) }
//! ```

mod actor;
pub mod config;
mod control;
mod error;
mod gateway;
mod ids;
mod json;
pub mod perms;
mod rest;
mod server;
mod shared;
mod sim;
mod state;
mod tls;
mod views;

pub use actor::SimUser;
pub use config::{BucketLimit, GuildSpec, RateLimitConfig, RouteLimit, SimConfig, WorldSpec, intents};
pub use error::{ApiError, SimError};
pub use gateway::session::{GatewayStats, SentDispatch};
pub use rest::limits::{Fault, FaultKind, RequestRecord};
pub use sim::Sim;
pub use state::WorldIds;
pub use state::interaction::InteractionKind;
pub use state::model::ChannelKind;
pub use views::{AttachmentView, ChannelView, ComponentView, InteractionView, MessageView, ModalView, TextInputView};
