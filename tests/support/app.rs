//! The engine and its worker step, posting into memory, on the fixture's real
//! SQLite file, with the clock the test moves.

use std::sync::Arc;

use chrono::Duration;
use mend::clock::ManualClock;
use mend::core::answer::Answer;
use mend::core::entities::{CoupleId, Partner};
use mend::core::model::{Role, ScheduleKind, Slot};
use mend::engine::{Engine, Job, NewCouple, Prepared, Saved, Settings};
use mend::worker::{Lifecycle, MemoryTransport, Posted, StepReport, Worker};

use super::{Fixture, NowUtc, at};

pub struct TestApp {
    pub fixture: Fixture,
    pub engine: Engine,
    pub worker: Arc<Worker<MemoryTransport>>,
    pub clock: Arc<ManualClock>,
    pub settings: Settings,
}

impl TestApp {
    /// A fresh app at Monday 2026-01-05 00:00 UTC.
    pub async fn new() -> TestApp {
        Self::with(Settings::default()).await
    }

    pub async fn with(settings: Settings) -> TestApp {
        Self::on(Fixture::new(), settings).await
    }

    /// An app on a fixture of the test's choosing (`Fixture::sqlite()`).
    pub async fn on(fixture: Fixture, settings: Settings) -> TestApp {
        let engine = fixture.engine(settings.clone()).await;
        let worker = Arc::new(Worker::new(engine.clone(), MemoryTransport::default(), Arc::new(Lifecycle::default())));
        let clock = fixture.clock.clone();
        TestApp { fixture, engine, worker, clock, settings }
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.fixture.db_path()
    }

    /// Everything SQLite has on disk for the database: the file and its -wal.
    pub fn on_disk(&self) -> Vec<u8> {
        self.fixture.on_disk()
    }

    pub fn url(&self) -> String {
        self.fixture.url()
    }

    /// A pool of the test's own on the database file, to look at what is stored.
    pub async fn db(&self) -> mend::store::Pool {
        self.fixture.db().await
    }

    /// Throws the engine and worker away, as a crash would, and starts new ones
    /// on the same database file.
    pub async fn restart(&mut self) {
        self.engine.close().await;
        self.engine = self.fixture.engine(self.settings.clone()).await;
        self.worker =
            Arc::new(Worker::new(self.engine.clone(), MemoryTransport::default(), Arc::new(Lifecycle::default())));
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn set_time(&self, to: &str) {
        self.clock.set(at(to));
    }

    pub fn transport(&self) -> &MemoryTransport {
        self.worker.transport()
    }

    /// A couple in Paris with a daily 08:30 prompt and a Sunday 19:00 reflection.
    pub async fn couple(&self, roles: [Role; 2]) -> CoupleId {
        let names = ["Alex", "Sam"];
        let partners = [0, 1].map(|i| Partner { name: names[i].into(), role: roles[i], external_id: None });
        let id = self.engine.create_couple(NewCouple { tz: "Europe/Paris".into(), partners }).await.unwrap();
        self.engine.set_schedule(id, ScheduleKind::Prompt, "daily 08:30", Some("Europe/Paris")).await.unwrap();
        self.engine.set_schedule(id, ScheduleKind::Reflection, "sun 19:00", None).await.unwrap();
        id
    }

    /// One worker step, as mend runs it.
    pub async fn step(&self) -> StepReport {
        self.worker.step().await.unwrap()
    }

    /// One step; what it posted.
    pub async fn step_posts(&self) -> Vec<Posted> {
        self.step().await;
        self.transport().drain()
    }

    /// One pass of the worker: the prompts it posted.
    pub async fn tick(&self) -> Vec<Prepared> {
        self.step_posts()
            .await
            .into_iter()
            .filter_map(|p| match p.job {
                Job::Prompt(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    /// Moves to the next day's 08:30 in Paris (07:30 UTC in winter) and ticks:
    /// every couple's prompt of that morning.
    pub async fn next_day(&self) -> Vec<Prepared> {
        let now = self.clock.now_utc();
        let mut target = now.date_naive().and_hms_opt(7, 30, 0).unwrap().and_utc();
        if target <= now {
            target += Duration::days(1);
        }
        self.clock.set(target);
        self.tick().await
    }

    /// The next day's prompt of the only couple.
    pub async fn next_prompt(&self) -> Prepared {
        let mut sent = self.next_day().await;
        assert_eq!(sent.len(), 1, "one prompt at 08:30");
        sent.remove(0)
    }

    /// Moves day by day to the next prompt of `kind`.
    pub async fn next_prompt_of(&self, kind: mend::core::model::Kind) -> Prepared {
        loop {
            let p = self.next_prompt().await;
            if p.kind == kind {
                return p;
            }
        }
    }

    pub async fn answer(&self, couple: CoupleId, p: &Prepared, slot: Slot, text: &str) -> Saved {
        self.engine.answer(couple, p.delivery.id, slot, Answer::text(text).unwrap()).await.unwrap()
    }
}
