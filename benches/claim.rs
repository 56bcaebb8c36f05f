//! How claiming scales: the cost of a minute with 10,000 prompts due, and of a
//! tick with none due, with 20,000 and with 1,000,000 couples in SQLite. The
//! ratio between the two sizes, measured in one run, shows the cost follows
//! what is due and not how many couples there are.
//!
//! Run: `cargo bench --bench claim` (prints a table for BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use mend::clock::ManualClock;
use mend::core::prompts::Library;
use mend::engine::{Engine, Settings};

const DUE: i64 = 10_000;

/// Fills the database with `couples` couples, each with a daily prompt and a
/// weekly reflection; `DUE` of them fire at `at`, the rest over the next week.
async fn seed(pool: &sqlx::SqlitePool, couples: i64, at: i64) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO couples (id, created_at, tz, phase, phase_changed_at)
         SELECT i, ?, 'Europe/Paris', 'attune', ? FROM n",
    )
    .bind(couples)
    .bind(at - 86_400)
    .bind(at - 86_400)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO partners (couple_id, slot, name, role)
         SELECT id, 0, 'A', 'drifted' FROM couples UNION ALL SELECT id, 1, 'B', 'drifted' FROM couples",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    // Due couples fire at `at`; the others at a minute of the coming week.
    sqlx::query(
        "INSERT INTO schedules (couple_id, kind, spec, tz, next_fire_at)
         SELECT id, 'prompt', 'daily 08:30', 'Europe/Paris',
                CASE WHEN id <= ? THEN ? ELSE ? + 60 + (id * 7919) % (7 * 86400 - 120) END FROM couples
         UNION ALL
         SELECT id, 'reflection', 'sun 19:00', 'Europe/Paris', ? + 86400 + (id * 104729) % (6 * 86400) FROM couples",
    )
    .bind(DUE)
    .bind(at)
    .bind(at)
    .bind(at)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn reset_due(pool: &sqlx::SqlitePool, at: i64) {
    // The claim's outbox rows go with their deliveries (ON DELETE CASCADE).
    sqlx::query("DELETE FROM deliveries").execute(pool).await.unwrap();
    sqlx::query("UPDATE schedules SET next_fire_at = ? WHERE kind = 'prompt' AND couple_id <= ?")
        .bind(at)
        .bind(DUE)
        .execute(pool)
        .await
        .unwrap();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Figures {
    couples: i64,
    claim: Vec<Duration>,
    idle: Vec<Duration>,
}

async fn measure(couples: i64) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let cipher = mend::crypto::Cipher::new(&mend::crypto::Key::generate());
    // 2026-01-05 08:30 Paris.
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 7, 30, 0).unwrap();
    let clock = Arc::new(ManualClock::new(at));
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let settings = Settings { claim_batch: DUE, ..Settings::default() };
    // The engine creates and migrates the database; the bench's own pool seeds
    // it in bulk and resets what is due between claims.
    let keys = mend::store::keys::Keys::open(&mend::store::keys::default_url(&url).unwrap(), cipher).await.unwrap();
    let engine = Engine::open(&url, keys, library, clock.clone(), settings).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let started = Instant::now();
    seed(&pool, couples, at.timestamp()).await;
    eprintln!("seeded {couples} couples in {:.1}s", started.elapsed().as_secs_f64());

    let mut claim = Vec::new();
    for _ in 0..7 {
        reset_due(&pool, at.timestamp()).await;
        clock.set(at);
        let t = Instant::now();
        let report = engine.claim_due().await.unwrap();
        claim.push(t.elapsed());
        assert_eq!(report.prompts as i64, DUE, "every due prompt claimed");
    }
    // Nothing is due 30 seconds later: the tick a sleeping scheduler makes.
    clock.set(at + chrono::Duration::seconds(30));
    let mut idle = Vec::new();
    for _ in 0..2_000 {
        let t = Instant::now();
        let report = engine.claim_due().await.unwrap();
        idle.push(t.elapsed());
        assert_eq!(report.prompts, 0);
    }
    claim.sort();
    idle.sort();
    Figures { couples, claim, idle }
}

#[tokio::main]
async fn main() {
    // Under `cargo test --benches` the harness passes `--bench` only when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        println!("claim bench: run with `cargo bench --bench claim`");
        return;
    }
    let small = measure(20_000).await;
    let large = measure(1_000_000).await;
    println!("| couples | claim 10,000 due: median | min | max | idle tick: median | p99 | max |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for f in [&small, &large] {
        println!(
            "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.3} ms | {:.3} ms | {:.3} ms |",
            f.couples,
            ms(percentile(&f.claim, 0.5)),
            ms(f.claim[0]),
            ms(*f.claim.last().unwrap()),
            ms(percentile(&f.idle, 0.5)),
            ms(percentile(&f.idle, 0.99)),
            ms(*f.idle.last().unwrap()),
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "\nratio 1,000,000 / 20,000 couples: claim {:.2}×, idle tick {:.2}×",
        ratio(percentile(&large.claim, 0.5), percentile(&small.claim, 0.5)),
        ratio(percentile(&large.idle, 0.5), percentile(&small.idle, 0.5)),
    );
}
