//! The worker: a step function (claim what is due, then post every outbox item
//! that is due through a `Transport`) in a dumb, supervised loop that sleeps
//! until the next due time or a wake-up. A panic in a step is caught, logged
//! and the loop goes on with the next step.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use futures::{FutureExt, StreamExt};
use tokio::sync::{Notify, watch};

use crate::core::outbox::{Failure, Item};
use crate::engine::{Engine, Outcome};

/// Posts an opened outbox item somewhere (Discord, or memory for the simulator
/// and benchmarks). It records each part it posts with `Engine::posted_part`
/// and skips parts `work.posted` says already went out.
pub trait Transport: Send + Sync + 'static {
    fn send<'a>(
        &'a self,
        engine: &'a Engine,
        work: &'a Outcome,
    ) -> impl Future<Output = Result<(), Failure>> + Send + 'a;
}

/// How many couples are posted to at once: concurrent within Discord's limits
/// (serenity's rate limiter queues per route), not one couple after another.
pub const FAN_OUT: usize = 16;

/// The longest the worker sleeps without looking again.
pub const MAX_SLEEP: StdDuration = StdDuration::from_secs(60);

/// When the worker's steps begin and end, for `/healthz`: a step running too
/// long, or no step done well for too long, means the scheduler has stalled.
#[derive(Debug)]
pub struct Pulse {
    born: std::time::Instant,
    /// The step running now, since when.
    running: std::sync::Mutex<Option<std::time::Instant>>,
    /// When the last step that did not fail ended.
    last_ok: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Default for Pulse {
    fn default() -> Self {
        Pulse { born: std::time::Instant::now(), running: Default::default(), last_ok: Default::default() }
    }
}

impl Pulse {
    fn began(&self) {
        *self.running.lock().expect("lock") = Some(std::time::Instant::now());
    }

    fn ended(&self, ok: bool) {
        let now = std::time::Instant::now();
        if let Some(began) = self.running.lock().expect("lock").take() {
            metrics::histogram!("mend_scheduler_step_seconds").record(now.duration_since(began).as_secs_f64());
        }
        if ok {
            *self.last_ok.lock().expect("lock") = Some(now);
        }
    }

    /// Why the scheduler looks stalled, if it does: a step has run longer than
    /// `bound`, or none has ended well within `bound` past the longest sleep.
    pub fn stalled(&self, bound: StdDuration) -> Option<String> {
        let now = std::time::Instant::now();
        if let Some(began) = *self.running.lock().expect("lock") {
            let ran = now.duration_since(began);
            if ran > bound {
                return Some(format!("a scheduler step has been running for {} s", ran.as_secs()));
            }
        }
        let since = self.last_ok.lock().expect("lock").unwrap_or(self.born);
        let quiet = now.duration_since(since);
        (quiet > bound + MAX_SLEEP).then(|| format!("no scheduler step has ended well for {} s", quiet.as_secs()))
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Items taken and tried.
    pub tried: usize,
    /// Items that failed this time (retried later or given up).
    pub failed: usize,
    /// When to look next.
    pub next: Option<DateTime<Utc>>,
}

pub struct Worker<T> {
    engine: Engine,
    transport: T,
    /// Who holds the leases this worker takes.
    owner: String,
    batch: i64,
    lifecycle: Arc<Lifecycle>,
    steps: watch::Sender<u64>,
    pulse: Arc<Pulse>,
}

impl<T: Transport> Worker<T> {
    pub fn new(engine: Engine, transport: T, lifecycle: Arc<Lifecycle>) -> Worker<T> {
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        Worker { engine, transport, owner, batch: 1_000, lifecycle, steps: watch::channel(0).0, pulse: Arc::default() }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Counts finished steps (a panicked or failed step counts too), so a test
    /// can wait for a step that started after what it did.
    pub fn steps(&self) -> watch::Receiver<u64> {
        self.steps.subscribe()
    }

    /// When steps began and ended: whether the scheduler keeps stepping.
    pub fn pulse(&self) -> Arc<Pulse> {
        self.pulse.clone()
    }

    /// One pass: claim the schedules that are due, then every outbox item that is
    /// due, a batch at a time. A couple's items go in order, one after another;
    /// couples go side by side, and one couple's failure holds up no other.
    pub async fn step(&self) -> anyhow::Result<StepReport> {
        let engine = &self.engine;
        engine.claim_due().await?;
        engine.claim_commitments().await?;
        let mut report = StepReport::default();
        while !self.lifecycle.stopping() {
            let items = engine.claim_work(&self.owner, self.batch).await?;
            let taken = items.len();
            tracing::debug!(taken, "outbox items taken");
            let mut by_couple: BTreeMap<(i64, i64), Vec<Item>> = BTreeMap::new();
            for item in items {
                // Items without a couple go alone.
                let key = item.couple_id.map_or((1, item.id), |c| (0, c));
                by_couple.entry(key).or_default().push(item);
            }
            let tried = AtomicUsize::new(0);
            let failed = AtomicUsize::new(0);
            futures::stream::iter(by_couple.into_values())
                .for_each_concurrent(FAN_OUT, |items| self.post_in_order(items, &tried, &failed))
                .await;
            report.tried += tried.into_inner();
            report.failed += failed.into_inner();
            if (taken as i64) < self.batch {
                break;
            }
        }
        report.next = engine.next_due().await?;
        Ok(report)
    }

    async fn post_in_order(&self, items: Vec<Item>, tried: &AtomicUsize, failed: &AtomicUsize) {
        let mut held_behind: Option<Option<i64>> = None;
        for item in items {
            // A stop starts no new sends; a couple whose earlier item failed waits
            // for it, so "has answered" never comes after the reveal it announces.
            if let Some(not_before) = held_behind.or(self.lifecycle.stopping().then_some(None)) {
                if let Err(e) = self.engine.release(&self.owner, item.id, not_before).await {
                    tracing::warn!(outbox_id = item.id, error = %e, "could not give back an outbox item");
                }
                continue;
            }
            tried.fetch_add(1, Ordering::Relaxed);
            let result = match self.engine.open_item(&self.owner, &item).await {
                // A panic while posting one item fails that item only.
                Ok(Some(work)) => std::panic::AssertUnwindSafe(self.transport.send(&self.engine, &work))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err(Failure::Transient("panicked while posting".into()))),
                Ok(None) => {
                    if matches!(item.kind, crate::core::outbox::ItemKind::Prompt) {
                        metrics::counter!("mend_prompts_missed_total").increment(1);
                    }
                    continue;
                }
                Err(e) => Err(Failure::Transient(format!("could not prepare it: {e}"))),
            };
            let ok = result.is_ok();
            if ok {
                metrics::counter!("mend_posted_total", "kind" => item.kind.as_str()).increment(1);
            }
            // Only a failure that will be retried holds back what follows it;
            // one given up (unreachable, refused) lets the rest go on.
            let retried = matches!(result, Err(Failure::Transient(_)));
            if let Err(e) = self.engine.finish(&self.owner, &item, result).await {
                tracing::error!(outbox_id = item.id, error = %e, "could not record how a post went");
            }
            if !ok {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            if retried {
                held_behind = Some(self.engine.next_attempt(item.id).await.ok().flatten());
            }
        }
    }

    /// Runs steps until stopped: after each, sleeps until the next due time (at
    /// most a minute) or a wake-up. A step that fails or panics is logged and
    /// the next one runs after a short pause, so one bad row never silences mend.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>) {
        while !self.lifecycle.stopping() {
            let running = self.lifecycle.enter();
            self.pulse.began();
            let outcome = std::panic::AssertUnwindSafe(self.step()).catch_unwind().await;
            self.pulse.ended(matches!(outcome, Ok(Ok(_))));
            drop(running);
            let next = match outcome {
                Ok(Ok(report)) => report.next.map(|t| (t - self.engine.now()).to_std().unwrap_or_default()),
                Ok(Err(e)) => {
                    tracing::error!(error = %format!("{e:#}"), "worker step failed; trying again shortly");
                    Some(StdDuration::from_secs(1))
                }
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(panic = %what, "worker step panicked; the worker goes on with the next step");
                    Some(StdDuration::from_secs(1))
                }
            };
            self.steps.send_modify(|n| *n += 1);
            let sleep = next.map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
            tracing::debug!(sleep_ms = sleep.as_millis() as u64, "worker sleeps");
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = wake.notified() => {}
            }
        }
    }
}

/// Whether mend is stopping, and the work still in flight: a stop lets the
/// worker finish its step and answers being saved finish, within a bound.
#[derive(Debug, Default)]
pub struct Lifecycle {
    stopping: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Held while a piece of work runs; dropping it marks the work done.
pub struct InFlight<'a>(&'a Lifecycle);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Lifecycle {
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self)
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Asks everything to stop and waits, at most `bound`, for work in flight.
    /// True if it all finished in time.
    pub async fn stop(&self, bound: StdDuration) -> bool {
        self.stopping.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let idle = self.idle.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.in_flight.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

/// A transport that posts into memory: for `mend simulate`, benchmarks and the
/// engine's tests. It can be told to fail (or panic) for a couple, as Discord
/// would for one whose channel is gone.
#[derive(Default)]
pub struct MemoryTransport {
    posts: std::sync::Mutex<Vec<Posted>>,
    failing: std::sync::Mutex<BTreeMap<i64, Failure>>,
    failing_parts: std::sync::Mutex<BTreeMap<(i64, String), Failure>>,
    panicking: std::sync::Mutex<std::collections::BTreeSet<i64>>,
    next_id: std::sync::atomic::AtomicU64,
}

/// One item the memory transport "posted", with the parts it posted this time.
#[derive(Debug, Clone)]
pub struct Posted {
    pub item: i64,
    pub kind: crate::core::outbox::ItemKind,
    pub couple: Option<i64>,
    pub parts: Vec<String>,
    pub job: crate::engine::Job,
}

impl Posted {
    /// For a notice: which one.
    pub fn notice(&self) -> Option<&crate::core::outbox::Notice> {
        match &self.job {
            crate::engine::Job::Notice { notice, .. } => Some(notice),
            _ => None,
        }
    }
}

impl MemoryTransport {
    /// Every post to `couple` fails this way until `heal`.
    pub fn fail(&self, couple: i64, failure: Failure) {
        self.failing.lock().expect("lock").insert(couple, failure);
    }

    /// Posts of one part (`d1`: the second partner's DMs) to `couple` fail this
    /// way until `heal`; the other parts go through.
    pub fn fail_part(&self, couple: i64, part: &str, failure: Failure) {
        self.failing_parts.lock().expect("lock").insert((couple, part.to_string()), failure);
    }

    pub fn heal(&self, couple: i64) {
        self.failing.lock().expect("lock").remove(&couple);
        self.failing_parts.lock().expect("lock").retain(|(c, _), _| *c != couple);
    }

    /// The next post to `couple` panics.
    pub fn panic_once(&self, couple: i64) {
        self.panicking.lock().expect("lock").insert(couple);
    }

    pub fn posts(&self) -> Vec<Posted> {
        self.posts.lock().expect("lock").clone()
    }

    /// Takes what was posted since the last call.
    pub fn drain(&self) -> Vec<Posted> {
        std::mem::take(&mut *self.posts.lock().expect("lock"))
    }

    /// The parts an item posts: the couple's channel, or each partner's DMs.
    fn parts(work: &Outcome) -> Vec<String> {
        use crate::core::outbox::To;
        use crate::engine::Job;
        let channel = work.home.as_ref().and_then(|h| h.channel_id).is_some();
        let dm = |s: crate::core::model::Slot| format!("d{}", s.index());
        match &work.job {
            Job::Nudge { slot, .. } => vec![dm(*slot)],
            Job::Notice { to: To::Partner(s), .. } => vec![dm(*s)],
            Job::Notice { to: To::HomeOr(s), .. } if !channel => vec![dm(*s)],
            Job::Notice { to: To::Users(users), .. } => (0..users.len()).map(|i| format!("u{i}")).collect(),
            _ if channel => vec!["c".into()],
            _ => vec!["d0".into(), "d1".into()],
        }
    }
}

impl Transport for MemoryTransport {
    async fn send(&self, engine: &Engine, work: &Outcome) -> Result<(), Failure> {
        let couple = work.item.couple_id;
        if let Some(c) = couple {
            if self.panicking.lock().expect("lock").remove(&c) {
                panic!("a post to couple {c} panicked");
            }
            if let Some(f) = self.failing.lock().expect("lock").get(&c).cloned() {
                return Err(f);
            }
        }
        let mut parts = Vec::new();
        let mut failure = None;
        for part in Self::parts(work) {
            if work.posted(&part).is_some() {
                continue;
            }
            let failing =
                couple.and_then(|c| self.failing_parts.lock().expect("lock").get(&(c, part.clone())).cloned());
            if let Some(f) = failing {
                failure.get_or_insert(f);
                continue;
            }
            let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
            engine.posted_part(&work.item, &part, 1, id).await.map_err(|e| Failure::Transient(e.to_string()))?;
            parts.push(part);
        }
        self.posts.lock().expect("lock").push(Posted {
            item: work.item.id,
            kind: work.item.kind,
            couple,
            parts,
            job: work.job.clone(),
        });
        failure.map_or(Ok(()), Err)
    }
}
