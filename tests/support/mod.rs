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
    /// The database: a SQLite file in `dir`, or with `MEND_TEST_BACKEND=postgres`
    /// a fresh database of the test's own in the suite's PostgreSQL.
    url: String,
    /// Where each partner's key is kept: beside the SQLite file (mend's
    /// default), or on PostgreSQL another fresh database of the test's own.
    keystore: String,
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
        let (url, keystore) = match backend() {
            mend::store::Backend::Postgres => (pg::fresh_database_url(), pg::fresh_database_url()),
            mend::store::Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("mend.db").display());
                let keystore = mend::store::keys::default_url(&url).unwrap();
                (url, keystore)
            }
        };
        Fixture { dir, url, keystore, key, clock: Arc::new(ManualClock::new(monday())), library: library() }
    }

    /// A fixture on a SQLite file whatever backend the suite runs on, for
    /// tests that start from one (`mend migrate-to`).
    pub fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("mend.db").display());
        let keystore = mend::store::keys::default_url(&url).unwrap();
        Fixture {
            dir,
            url,
            keystore,
            key: Key::generate(),
            clock: Arc::new(ManualClock::new(monday())),
            library: library(),
        }
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("mend.db")
    }

    /// Everything the database keeps: SQLite's file and its -wal, or on
    /// PostgreSQL every value of every table.
    pub fn on_disk(&self) -> Vec<u8> {
        if backend() == mend::store::Backend::Postgres {
            return pg::every_value(&self.url);
        }
        let mut bytes = std::fs::read(self.db_path()).unwrap();
        bytes.extend(std::fs::read(self.db_path().with_extension("db-wal")).unwrap_or_default());
        bytes
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn cipher(&self) -> Cipher {
        Cipher::new(&self.key)
    }

    /// The keystore's URL (`MEND_KEYSTORE` for a mend process on this fixture).
    pub fn keystore_url(&self) -> String {
        self.keystore.clone()
    }

    /// The fixture's keystore, opened with its key.
    pub async fn keys(&self) -> mend::store::keys::Keys {
        self.keys_with(self.cipher()).await
    }

    /// The fixture's keystore, opened with another host key.
    pub async fn keys_with(&self, host: Cipher) -> mend::store::keys::Keys {
        mend::store::keys::Keys::open(&self.keystore, host).await.unwrap()
    }

    /// Everything the keystore keeps, as bytes (its file, or its values on
    /// PostgreSQL).
    pub fn keystore_on_disk(&self) -> Vec<u8> {
        if backend() == mend::store::Backend::Postgres {
            return pg::every_value(&self.keystore);
        }
        let path = self.keystore.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(path).unwrap_or_default();
        bytes.extend(std::fs::read(format!("{path}-journal")).unwrap_or_default());
        bytes
    }

    /// The engine on the fixture's database and clock.
    pub async fn engine(&self, settings: Settings) -> Engine {
        self.engine_on(self.clock.clone(), settings).await
    }

    /// The engine on the fixture's database, with a clock of its own.
    pub async fn engine_on(&self, clock: Arc<dyn Clock>, settings: Settings) -> Engine {
        Engine::open(&self.url(), self.keys().await, self.library.clone(), clock, settings).await.unwrap()
    }

    /// A pool of the test's own on the database file, to look at what is stored
    /// (mend itself reaches the store only through its engine).
    pub async fn db(&self) -> mend::store::Pool {
        mend::store::open(&self.url(), 2).await.unwrap()
    }
}

/// The backend the suite runs on: SQLite, or PostgreSQL with
/// `MEND_TEST_BACKEND=postgres` (`.ci/run` runs the engine and end-to-end
/// tests on both).
pub fn backend() -> mend::store::Backend {
    match std::env::var("MEND_TEST_BACKEND").as_deref() {
        Ok("postgres") => mend::store::Backend::Postgres,
        _ => mend::store::Backend::Sqlite,
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
