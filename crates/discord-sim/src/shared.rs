//! What every server task shares: the state lock, a change signal for the
//! wait-for helpers, and the HTTP-level bookkeeping (rate limits, faults,
//! request log).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::config::SimConfig;
use crate::error::SimError;
use crate::rest::limits::HttpControl;
use crate::state::State;

pub(crate) struct Shared {
    pub config: Arc<SimConfig>,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    pub http: Mutex<HttpControl>,
    pub https_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a handler must not wedge every later test step.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(
        config: Arc<SimConfig>,
        state: State,
        https_addr: SocketAddr,
        http_addr: SocketAddr,
        ca_pem: String,
        ca_der: Vec<u8>,
    ) -> Self {
        Self {
            http: Mutex::new(HttpControl::new(&config.rate_limits)),
            config,
            state: Mutex::new(state),
            changes: watch::Sender::new(0),
            https_addr,
            http_addr,
            ca_pem,
            ca_der,
        }
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&lock(&self.state))
    }

    /// Mutates the state and wakes every waiter.
    pub fn write<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut lock(&self.state));
        self.changes.send_modify(|v| *v += 1);
        out
    }

    pub fn http(&self) -> MutexGuard<'_, HttpControl> {
        lock(&self.http)
    }

    /// Polls `check` after every state change until it yields a value.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, SimError> {
        let mut rx = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            if let Some(found) = self.read(&mut check) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return Err(SimError::Timeout(what.to_owned())),
            }
        }
    }
}
