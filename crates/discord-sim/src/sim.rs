//! `Sim`, the handle tests and the binary hold: start/stop, addresses, the
//! seeded world, gateway controls, fault injection and the request log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::actor::SimUser;
use crate::config::SimConfig;
use crate::error::SimError;
use crate::gateway::session::{Dispatch, GatewayStats, SentDispatch};
use crate::rest::limits::{Fault, RequestRecord};
use crate::rest::route::{RouteKey, matches};
use crate::shared::Shared;
use crate::state::{State, WorldIds};
use crate::views::{ChannelView, MessageView};
use crate::{server, tls};

/// A running local Discord. Cheap to clone; the servers stop when the last
/// clone is dropped (or on `shutdown`).
#[derive(Clone)]
pub struct Sim {
    pub(crate) shared: Arc<Shared>,
    servers: Arc<Servers>,
}

struct Servers(Vec<JoinHandle<()>>);

impl Drop for Servers {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Sim {
    /// Generates the CA, binds both listeners and seeds the world.
    pub async fn start(config: SimConfig) -> Result<Self, SimError> {
        let certs = tls::generate()?;
        let https = TcpListener::bind(config.https_addr).await?;
        let http = TcpListener::bind(config.http_addr).await?;
        let (https_addr, http_addr) = (https.local_addr()?, http.local_addr()?);
        if let Some(path) = &config.ca_pem_path {
            std::fs::write(path, &certs.ca_pem)?;
        }
        let config = Arc::new(config);
        // No path, query or trailing slash: serenity appends `?v=10` itself.
        let state = State::new(config.clone(), format!("ws://{http_addr}"));
        let shared = Arc::new(Shared::new(config, state, https_addr, http_addr, certs.ca_pem, certs.ca_der));
        let app = server::router(shared.clone());
        let tasks = vec![
            server::serve(http, app.clone(), None),
            server::serve(https, app, Some(TlsAcceptor::from(certs.server))),
        ];
        Ok(Self { shared, servers: Arc::new(Servers(tasks)) })
    }

    /// A handle for the control API's handlers. It does not own the servers,
    /// so the handlers inside the servers do not keep them alive.
    pub(crate) fn detached(shared: Arc<Shared>) -> Self {
        Self { shared, servers: Arc::new(Servers(Vec::new())) }
    }

    /// Closes every gateway connection and stops accepting new ones.
    pub fn shutdown(&self) {
        self.shared.write(|s| s.gateway.drop_connections(Some(1001)));
        for task in &self.servers.0 {
            task.abort();
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The HTTPS address a bot resolves `discord.com` to.
    pub fn https_addr(&self) -> SocketAddr {
        self.shared.https_addr
    }

    /// The plain address: gateway websocket, control API, REST.
    pub fn http_addr(&self) -> SocketAddr {
        self.shared.http_addr
    }

    /// What `GET /gateway` returns, e.g. `ws://127.0.0.1:4567`.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.shared.http_addr)
    }

    pub fn control_url(&self) -> String {
        format!("http://{}/control", self.shared.http_addr)
    }

    /// The throw-away CA certificate to add as an extra root (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.shared.ca_pem
    }

    /// The same CA certificate, DER-encoded.
    pub fn ca_der(&self) -> &[u8] {
        &self.shared.ca_der
    }

    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// Ids of the seeded world.
    pub fn world(&self) -> WorldIds {
        self.shared.read(|s| s.seeded.clone())
    }

    pub fn guild_id(&self) -> u64 {
        self.shared.read(|s| s.seeded.guild_id)
    }

    pub fn application_id(&self) -> u64 {
        self.shared.read(|s| s.app_id())
    }

    pub fn bot_user_id(&self) -> u64 {
        self.shared.read(|s| s.bot_id())
    }

    /// A seeded channel by name. Panics if there is none: a test typo.
    pub fn channel_id(&self, name: &str) -> u64 {
        self.world().channel(name).unwrap_or_else(|| panic!("no seeded channel named {name:?}"))
    }

    /// Plays the user with this username. Panics if there is none: a test typo.
    pub fn user(&self, name: &str) -> SimUser {
        self.try_user(name).unwrap_or_else(|| panic!("no user named {name:?}"))
    }

    pub fn try_user(&self, name: &str) -> Option<SimUser> {
        let id = self.shared.read(|s| s.user_by_name(name).map(|u| u.id))?;
        Some(SimUser::new(self.clone(), id))
    }

    pub fn user_by_id(&self, id: u64) -> Option<SimUser> {
        let known = self.shared.read(|s| s.users.contains_key(&id));
        known.then(|| SimUser::new(self.clone(), id))
    }

    // --- gateway -------------------------------------------------------

    /// Waits until a bot session is connected and has been sent READY.
    pub async fn wait_for_bot_ready(&self, timeout: Duration) -> Result<(), SimError> {
        self.shared
            .wait_for(timeout, "the bot to connect and identify", |s| {
                (s.gateway.connected_sessions() > 0).then_some(())
            })
            .await
    }

    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.read(|s| s.gateway.stats.clone())
    }

    /// Every dispatch sent to bot sessions (bounded replay buffer).
    pub fn dispatched(&self) -> Vec<SentDispatch> {
        self.shared.read(|s| s.gateway.sent())
    }

    /// Sends an arbitrary dispatch to every session (no intent filtering).
    pub fn dispatch_raw(&self, t: &str, d: Value) {
        self.shared.write(|s| s.gateway.broadcast(&Dispatch::new(t, d)));
    }

    /// op 7 Reconnect to every live connection; returns how many got it.
    pub fn request_reconnect(&self) -> usize {
        self.shared.write(|s| s.gateway.request_reconnect())
    }

    /// op 9 Invalid Session; `resumable: false` also forgets the sessions.
    pub fn invalidate_session(&self, resumable: bool) -> usize {
        self.shared.write(|s| s.gateway.invalidate(resumable))
    }

    /// Closes gateway connections with `code`, or (None) drops them without
    /// a close frame like a network failure.
    pub fn drop_gateway(&self, code: Option<u16>) -> usize {
        self.shared.write(|s| s.gateway.drop_connections(code))
    }

    /// Swallows the next `n` heartbeat ACKs, so serenity sees a zombie connection.
    pub fn drop_heartbeat_acks(&self, n: u32) {
        self.shared.write(|s| s.gateway.drop_next_acks(n));
    }

    // --- REST ----------------------------------------------------------

    pub fn inject_fault(&self, fault: Fault) {
        self.shared.http().inject(fault);
    }

    /// Turns the global limit on (requests per second) or off.
    pub fn set_global_rate_limit(&self, per_second: Option<u32>) {
        self.shared.http().set_global_limit(per_second);
    }

    /// Every REST request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.http().log()
    }

    /// Requests matching a route pattern such as `POST /channels/*/messages`.
    pub fn requests_to(&self, pattern: &str) -> Vec<RequestRecord> {
        self.requests().into_iter().filter(|r| matches(pattern, &RouteKey::new(&r.method, &r.path))).collect()
    }

    /// Application commands registered globally (`None`) or in a guild.
    pub fn commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.shared.read(|s| s.commands_of(guild))
    }

    /// Waits until a chat-input command with this name is registered anywhere.
    pub async fn wait_for_command(&self, name: &str, timeout: Duration) -> Result<Value, SimError> {
        self.shared
            .wait_for(timeout, &format!("command /{name} to be registered"), |s| {
                s.commands.iter().find(|c| c.name == name).map(|c| c.body.clone())
            })
            .await
    }

    /// Every channel, thread and DM (what a server admin would see).
    pub fn channels(&self) -> Vec<ChannelView> {
        self.shared.read(|s| s.channels.values().map(ChannelView::from).collect())
    }

    /// The newest channel or thread with this name, e.g. one the bot created.
    pub fn find_channel(&self, name: &str) -> Option<ChannelView> {
        self.channels().into_iter().rev().find(|c| c.name == name)
    }

    /// Waits until a channel or thread with this name exists (e.g. the private
    /// channel the bot creates when a couple pairs).
    pub async fn wait_for_channel(&self, name: &str, timeout: Duration) -> Result<ChannelView, SimError> {
        self.shared
            .wait_for(timeout, &format!("channel {name:?}"), |s| {
                s.channels.values().rev().find(|c| c.name == name).map(ChannelView::from)
            })
            .await
    }

    /// Any message by id, ephemeral or not (an admin's view, for assertions).
    pub fn message(&self, id: u64) -> Option<MessageView> {
        self.shared.read(|s| s.messages.get(&id).map(|m| MessageView::of(s, m)))
    }

    /// A server admin deletes a channel (CHANNEL_DELETE reaches the bot).
    /// As a server admin, sets a member's (or the bot's) permission overwrite on
    /// a channel; CHANNEL_UPDATE reaches the bot.
    pub fn set_member_overwrite(&self, channel_id: u64, member: u64, allow: u64, deny: u64) -> Result<(), SimError> {
        let overwrite = crate::perms::Overwrite { id: member, kind: crate::perms::OverwriteKind::Member, allow, deny };
        self.shared
            .write(|s| s.admin_set_overwrite(channel_id, overwrite))
            .map_err(|e| SimError::NotFound(format!("channel {channel_id}: {}", e.message)))
    }

    pub fn delete_channel(&self, channel_id: u64) -> Result<(), SimError> {
        self.shared
            .write(|s| s.delete_channel(channel_id, false))
            .map(|_| ())
            .map_err(|e| SimError::NotFound(format!("channel {channel_id}: {}", e.message)))
    }
}
