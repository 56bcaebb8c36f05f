//! `mend migrate-to`: a SQLite database that has lived a while (answers
//! revealed, a commitment, a hard moment, a check-in, a partner's words
//! forgotten, a couple ended) moves into an empty PostgreSQL database, where
//! the same key reads everything as it was and new ids go on after every old
//! one; a target that already holds mend's data, and a wrong key, are refused
//! before anything is written.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use crate::support::app::TestApp;
use crate::support::{Fixture, pg};
use mend::core::answer::Answer;
use mend::core::entities::{CoupleId, Partner};
use mend::core::model::{Kind, Role, ScheduleKind, Slot};
use mend::core::outbox::Notice;
use mend::crypto::{Cipher, Key};
use mend::engine::{Engine, Job, NewCouple};

const DRIFTED: [Role; 2] = [Role::Drifted, Role::Drifted];

/// A SQLite database with something of everything, the couple ended last
/// holding the highest ids (so SQLite's high-water marks are above every id
/// left), and the engine closed so the file is whole.
struct Lived {
    app: TestApp,
    /// The couples left, and the ended one.
    couples: Vec<CoupleId>,
    ended: CoupleId,
    /// What SQLite's engine reads of them.
    view: Vec<String>,
    /// SQLite's `sqlite_sequence`: the highest id each table ever handed out.
    high_water: BTreeMap<String, i64>,
}

async fn lived() -> Lived {
    let app = TestApp::on(Fixture::sqlite(), Default::default()).await;
    assert!(app.url().starts_with("sqlite:"), "the source is a SQLite file");
    let kept = app.couple([Role::Repairing, Role::Hurt]).await;
    let forgotten = app.couple(DRIFTED).await;
    let ended = app.couple(DRIFTED).await;
    for day in 0..3 {
        for p in app.next_day().await {
            // Both partners answer: each prompt is revealed.
            for slot in [Slot::A, Slot::B] {
                let text = format!("badger-move-{}-{day}-{slot:?}", p.couple.id);
                let answer = match p.kind {
                    Kind::Action => Answer::action(true, Some(&text)).unwrap(),
                    _ => Answer::text(&text).unwrap(),
                };
                app.engine.answer(p.couple.id, p.delivery.id, slot, answer).await.unwrap();
            }
        }
        app.step_posts().await;
    }
    let moment = app.engine.hard_moment(kept, Slot::B).await.unwrap();
    app.engine.note_hard_moment(kept, Slot::B, moment, Some("badger-move-moment")).await.unwrap();
    app.engine.commit(kept, Slot::A, "badger-move-commitment", Some("daily 21:30")).await.unwrap();
    // Sunday 19:00 in Paris: check-ins are asked for.
    app.set_time("2026-01-11T18:00:00Z");
    let reflection = app
        .step_posts()
        .await
        .into_iter()
        .find_map(|p| match p.job {
            Job::Notice { couple: Some(c), notice: Notice::CheckIn { reflection, .. }, .. } if c.id == kept => {
                Some(reflection)
            }
            _ => None,
        })
        .expect("a check-in is asked for on Sunday evening");
    app.engine
        .check_in_as(kept, Slot::A, reflection, Some("badger-move-thanks"), Some("badger-move-cared"))
        .await
        .unwrap();
    app.engine.forget(forgotten, Slot::A).await.unwrap();
    app.engine.end_couple(ended, None).await.unwrap();
    assert!(ended > kept && ended > forgotten);

    let couples = vec![kept, forgotten];
    let view = view(&app.engine, &couples).await;
    let db = app.db().await;
    let high_water: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>("SELECT name, seq FROM sqlite_sequence")
        .fetch_all(&db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    db.close().await;
    app.engine.close().await;
    Lived { app, couples, ended, view, high_water }
}

/// Everything the engine reads of `couples`, answers and notes opened.
async fn view(engine: &Engine, couples: &[CoupleId]) -> Vec<String> {
    let mut out = Vec::new();
    for &c in couples {
        out.push(format!("{:?}", engine.couple(c).await.unwrap()));
        out.push(format!("{:?}", engine.schedules(c).await.unwrap()));
        out.push(format!("{:?}", engine.commitments(c).await.unwrap()));
        out.push(format!("{:?}", engine.reflections_of(c).await.unwrap()));
        out.push(format!("{:?}", engine.outbox_of(c).await.unwrap()));
        for slot in [Slot::A, Slot::B] {
            out.push(format!("{:?}", engine.hard_moments_of(c, slot).await.unwrap()));
            out.push(format!("{:?}", engine.check_ins_of(c, slot).await.unwrap()));
        }
        for d in engine.deliveries_of(c).await.unwrap() {
            out.push(format!("{:?}", engine.responses(d.id).await.unwrap()));
            out.push(format!("{d:?}"));
        }
    }
    out
}

/// The real binary, as a host runs it: `mend migrate-to URL` with the SQLite
/// database in DATABASE_URL and the key in MEND_KEY.
fn migrate_to(lived: &Lived, key: &Key, target: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mend"))
        .args(["migrate-to", target])
        .current_dir(lived.app.fixture.dir.path())
        .env("DATABASE_URL", lived.app.url())
        .env("MEND_KEY", key.to_hex())
        .env_remove("MEND_KEY_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("mend runs")
}

async fn open(lived: &Lived, url: &str, key: &Key) -> Result<Engine, mend::engine::EngineError> {
    let app = &lived.app;
    let keys = app.fixture.keys_with(Cipher::new(key)).await;
    Engine::open(url, keys, app.fixture.library.clone(), app.clock.clone(), app.settings.clone()).await
}

#[tokio::test]
async fn a_lived_in_database_moves_to_postgres_and_reads_the_same() {
    let lived = lived().await;
    let file = std::fs::read(lived.app.db_path()).unwrap();
    let target = pg::fresh_database_url();
    let key = &lived.app.fixture.key;

    let moved = migrate_to(&lived, key, &target);
    let (out, err) = (String::from_utf8_lossy(&moved.stdout), String::from_utf8_lossy(&moved.stderr));
    assert!(moved.status.success(), "{err}");
    assert!(err.contains("copied couples: 2 rows"), "progress per table: {err}");
    assert!(err.contains("copied responses: "), "{err}");
    assert!(out.contains("DATABASE_URL=postgres://"), "how to switch: {out}");
    assert!(!out.contains("badger") && !err.contains("badger"), "counts only, never what anyone wrote");
    assert_eq!(std::fs::read(lived.app.db_path()).unwrap(), file, "the SQLite file is left as it was");

    // The same key reads every couple, delivery, answer, commitment and schedule as SQLite did.
    let pg = open(&lived, &target, key).await.unwrap();
    assert_eq!(view(&pg, &lived.couples).await, lived.view);
    assert!(pg.couple(lived.ended).await.is_err(), "the ended couple stays gone");
    let stored = pg::every_value(&target);
    assert!(!stored.windows(6).any(|w| w == b"badger"), "answers arrive sealed");

    // New ids go on after every id SQLite ever handed out, the ended couple's too.
    let partners = ["Kit", "Ren"].map(|n| Partner { name: n.into(), role: Role::Drifted, external_id: None });
    let new = pg.create_couple(NewCouple { tz: "Europe/Paris".into(), partners }).await.unwrap();
    pg.set_schedule(new, ScheduleKind::Prompt, "daily 08:30", Some("Europe/Paris")).await.unwrap();
    assert!(new > lived.ended && new > lived.high_water["couples"], "couple {new} reuses an id");
    lived.app.set_time("2026-01-12T07:30:00Z");
    pg.claim_due().await.unwrap();
    let deliveries = pg.deliveries_of(new).await.unwrap();
    assert!(!deliveries.is_empty());
    assert!(deliveries.iter().all(|d| d.id > lived.high_water["deliveries"]), "a delivery reuses an id");
    pg.close().await;

    // A second move into the same database is refused, and changes nothing.
    let before = snapshot(&target).await;
    let again = migrate_to(&lived, key, &target);
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("already holds mend's data") && err.contains("empty database"), "{err}");
    assert_eq!(snapshot(&target).await, before);
}

#[tokio::test]
async fn a_wrong_key_or_a_running_mend_is_refused_before_anything_is_written() {
    let lived = lived().await;
    let file = std::fs::read(lived.app.db_path()).unwrap();
    let target = pg::fresh_database_url();

    let wrong = migrate_to(&lived, &Key::generate(), &target);
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("not the one the database was written with"), "{err}");

    // mend serving the file (it keeps a shared hold) stops the move too.
    let serving = mend::store::hold(&lived.app.url(), false).unwrap();
    let running = migrate_to(&lived, &lived.app.fixture.key, &target);
    let err = String::from_utf8_lossy(&running.stderr);
    assert_eq!(running.status.code(), Some(2), "{err}");
    assert!(err.contains("stop it first"), "{err}");
    drop(serving);

    let elsewhere = migrate_to(&lived, &lived.app.fixture.key, "sqlite://other.db");
    assert_eq!(elsewhere.status.code(), Some(2));

    assert!(snapshot(&target).await.is_empty(), "nothing was written to the target");
    assert_eq!(std::fs::read(lived.app.db_path()).unwrap(), file, "nor to the SQLite file");
}

/// Every table of the PostgreSQL database with its count and a digest of its
/// rows, and every sequence where it stands.
async fn snapshot(url: &str) -> Vec<(String, i64, String)> {
    let pool = mend::store::open(url, 1).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let sql = format!(
            "SELECT COUNT(*), COALESCE(md5(string_agg(CAST(t AS TEXT), ',' ORDER BY CAST(t AS TEXT))), '') FROM \"{t}\" t"
        );
        let (n, digest): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap();
        out.push((t, n, digest));
    }
    let sequences: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT CAST(sequencename AS TEXT), last_value FROM pg_sequences ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    out.extend(sequences.into_iter().map(|(s, v)| (s, v.unwrap_or(0), "sequence".into())));
    pool.close().await;
    out
}
