//! What every integration test stands on: one fixture — a temporary directory
//! with a real SQLite file, a key, the built-in prompt library and a clock the
//! test moves — and the three ways mend runs on it: the engine and its worker
//! step posting into memory (`app`), the real serenity + poise bot against the
//! project's local Discord (`bot`), and the real `mend run` process (`world`).
//! `pg` hands a test a brand-new PostgreSQL database on the suite's cluster.
#![allow(dead_code)]

pub mod app;
pub mod bot;
pub mod pg;
pub mod world;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use mend::clock::{Clock, ManualClock};
use mend::core::prompts::Library;
use mend::crypto::{Cipher, Key};
use mend::engine::{Engine, Settings};

/// Monday 5 January 2026, 00:00 UTC: where every test's clock starts.
pub fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn library() -> Arc<Library> {
    Arc::new(Library::builtin_with(&[]).expect("the built-in library loads"))
}

/// A database file of the test's own, its key, and a clock.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub key: Key,
    pub clock: Arc<ManualClock>,
    pub library: Arc<Library>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Self::with_key(Key::generate())
    }

    pub fn with_key(key: Key) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        Fixture { dir, key, clock: Arc::new(ManualClock::new(monday())), library: library() }
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("mend.db")
    }

    /// Everything SQLite has on disk for the database: the file and its -wal.
    pub fn on_disk(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(self.db_path()).unwrap();
        bytes.extend(std::fs::read(self.db_path().with_extension("db-wal")).unwrap_or_default());
        bytes
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }

    pub fn cipher(&self) -> Cipher {
        Cipher::new(&self.key)
    }

    /// The engine on the fixture's database and clock.
    pub async fn engine(&self, settings: Settings) -> Engine {
        self.engine_on(self.clock.clone(), settings).await
    }

    /// The engine on the fixture's database, with a clock of its own.
    pub async fn engine_on(&self, clock: Arc<dyn Clock>, settings: Settings) -> Engine {
        Engine::open(&self.url(), self.cipher(), self.library.clone(), clock, settings).await.unwrap()
    }

    /// A pool of the test's own on the database file, to look at what is stored
    /// (mend itself reaches the store only through its engine).
    pub async fn db(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&self.url()).await.unwrap()
    }
}

pub trait NowUtc {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> DateTime<Utc> {
        Clock::now(self)
    }
}
