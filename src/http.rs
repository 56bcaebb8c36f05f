//! `MEND_HTTP_ADDR`: `/healthz` (200 `ok`, or 503 with the reasons as plain
//! text) and `/metrics` (Prometheus's text format). No label of any metric
//! holds a person's id, name or words: only kinds and classes.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poise::serenity_prelude as serenity;

use crate::engine::Engine;
use crate::worker::Pulse;

/// How long `/healthz` waits for its database write before calling it unwritable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's metrics recorder, installed once (the `metrics` macros write
/// to one global recorder); its handle renders what was recorded.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("mend_scheduler_step_seconds".into()),
                    &[0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 180.0],
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder set first (a test's) keeps recording; this one
            // then renders nothing, which `/metrics` shows as it is.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!("mend_posted_total", "Outbox items posted to Discord, by kind");
    metrics::describe_counter!(
        "mend_prompts_missed_total",
        "Prompts not sent: their moment passed or the couple paused"
    );
    metrics::describe_counter!("mend_answers_total", "Answers saved, by prompt kind");
    metrics::describe_counter!("mend_discord_responses_total", "Discord's answers to mend's posts, by class");
    metrics::describe_histogram!("mend_scheduler_step_seconds", "How long one scheduler step took");
    metrics::describe_gauge!("mend_outbox_pending", "Outbox items waiting to be posted");
    metrics::describe_gauge!("mend_outbox_oldest_pending_seconds", "How long the oldest waiting item has waited");
    metrics::describe_gauge!("mend_gateway_connected", "1 while the Discord gateway is connected");
}

/// What `/healthz` looks at.
#[derive(Clone)]
pub struct Probe {
    pub engine: Engine,
    pub shards: Arc<serenity::ShardManager>,
    pub pulse: Arc<Pulse>,
    /// A scheduler step running longer than this (or none ending well for
    /// this long past the worker's longest sleep) is a stall.
    pub stall: Duration,
    /// Renders `/metrics`; `None` serves no metrics.
    pub metrics: Option<PrometheusHandle>,
}

impl Probe {
    /// serenity's own view of its shards. After a close frame it changes at
    /// once; after a heartbeat that failed to send, serenity 0.12.5 keeps
    /// reporting the shard connected while its restart waits (up to ~10 s).
    async fn gateway_connected(&self) -> bool {
        let runners = self.shards.runners.lock().await;
        !runners.is_empty() && runners.values().all(|r| r.stage == serenity::ConnectionStage::Connected)
    }

    /// Why mend is unhealthy, one reason a line; empty when it is well.
    pub async fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        // The write first: it may wait, and the rest is then read as of after.
        match tokio::time::timeout(PROBE_TIMEOUT, self.engine.probe_write()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => problems.push(format!("the database does not take writes: {e}")),
            Err(_) => problems.push(format!("the database did not take a write within {} s", PROBE_TIMEOUT.as_secs())),
        }
        if let Some(stall) = self.pulse.stalled(self.stall) {
            problems.push(stall);
        }
        if !self.gateway_connected().await {
            problems.push("the Discord gateway is not connected".to_string());
        }
        problems
    }
}

/// Listens on `addr` (failing now if it cannot) and serves until the process
/// ends; returns the address it listens on.
pub async fn serve(addr: SocketAddr, probe: Probe) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new().route("/healthz", get(healthz)).route("/metrics", get(render)).with_state(probe);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the health and metrics server stopped");
        }
    });
    Ok(bound)
}

async fn healthz(State(probe): State<Probe>) -> Response {
    let problems = probe.problems().await;
    if problems.is_empty() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", problems.join("\n"))).into_response()
    }
}

async fn render(State(probe): State<Probe>) -> Response {
    let Some(handle) = &probe.metrics else { return StatusCode::NOT_FOUND.into_response() };
    // The gauges are read now, by one cheap query over the pending rows.
    match probe.engine.outbox_depth().await {
        Ok((pending, oldest)) => {
            metrics::gauge!("mend_outbox_pending").set(pending as f64);
            metrics::gauge!("mend_outbox_oldest_pending_seconds").set(oldest.map_or(0.0, |d| d.num_seconds() as f64));
        }
        Err(e) => tracing::warn!(error = %e, "could not read the outbox's depth for /metrics"),
    }
    metrics::gauge!("mend_gateway_connected").set(if probe.gateway_connected().await { 1.0 } else { 0.0 });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}
