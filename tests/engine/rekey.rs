//! `mend rekey`: every sealed text resealed under a new key in one
//! transaction. After it the old key is refused and every word still reads;
//! a rekey stopped part-way (a text that will not open, or the process killed)
//! leaves the old state whole: never some texts under one key and some under
//! the other.

use std::process::Command;

use crate::support::app::TestApp;
use mend::core::answer::Answer;
use mend::core::entities::CoupleId;
use mend::core::model::{Kind, Role, Slot};
use mend::core::outbox::Notice;
use mend::crypto::{Cipher, Key};
use mend::engine::{Engine, Job};

/// Words of every kind mend seals, all marked so the file can be searched.
struct Filled {
    couple: CoupleId,
    deliveries: Vec<i64>,
    commitment: i64,
}

async fn fill(app: &TestApp) -> Filled {
    let couple = app.couple([Role::Repairing, Role::Hurt]).await;
    let mut deliveries = Vec::new();
    for day in 0..3 {
        let p = app.next_prompt().await;
        for slot in [Slot::A, Slot::B] {
            let text = format!("badger-rekey-answer-{day}-{slot:?}");
            let answer = match p.kind {
                Kind::Action => Answer::action(true, Some(&text)).unwrap(),
                _ => Answer::text(&text).unwrap(),
            };
            app.engine.answer(couple, p.delivery.id, slot, answer).await.unwrap();
        }
        deliveries.push(p.delivery.id);
    }
    let moment = app.engine.hard_moment(couple, Slot::B).await.unwrap();
    app.engine.note_hard_moment(couple, Slot::B, moment, Some("badger-rekey-moment")).await.unwrap();
    let commitment = app.engine.commit(couple, Slot::A, "badger-rekey-commitment", Some("daily 21:30")).await.unwrap();
    app.engine.retire_commitment(couple, Slot::A, commitment, Some("badger-rekey-retired")).await.unwrap();
    // Sunday 19:00 in Paris: the reflection's check-ins are asked for.
    app.set_time("2026-01-11T18:00:00Z");
    let reflection = app
        .step_posts()
        .await
        .into_iter()
        .find_map(|p| match p.job {
            Job::Notice { notice: Notice::CheckIn { reflection, .. }, .. } => Some(reflection),
            _ => None,
        })
        .expect("a check-in is asked for on Sunday evening");
    app.engine
        .check_in_as(couple, Slot::A, reflection, Some("badger-rekey-thanks"), Some("badger-rekey-cared"))
        .await
        .unwrap();
    Filled { couple, deliveries, commitment }
}

/// Every sealed word of `filled`, read back through the engine.
async fn words(engine: &Engine, filled: &Filled) -> Vec<String> {
    let mut out = Vec::new();
    for &d in &filled.deliveries {
        out.extend(engine.responses(d).await.unwrap().into_iter().filter_map(|r| r.body));
    }
    out.extend(engine.hard_moments_of(filled.couple, Slot::B).await.unwrap().into_iter().filter_map(|m| m.note));
    let c = engine.commitment(filled.couple, filled.commitment).await.unwrap();
    out.push(c.text);
    out.extend(c.note);
    for check_in in engine.check_ins_of(filled.couple, Slot::A).await.unwrap() {
        out.extend(check_in.check_in.appreciation);
        out.extend(check_in.check_in.cared_for);
    }
    out
}

async fn open(app: &TestApp, key: &Key) -> Result<Engine, mend::engine::EngineError> {
    let library = std::sync::Arc::new(app.engine.library().clone());
    let keys = app.fixture.keys_with(Cipher::new(key)).await;
    Engine::open(&app.url(), keys, library, app.clock.clone(), app.settings.clone()).await
}

#[tokio::test]
async fn after_a_rekey_every_word_reads_under_the_new_key_and_the_old_one_is_refused() {
    let app = TestApp::new().await;
    let filled = fill(&app).await;
    let before = words(&app.engine, &filled).await;
    assert_eq!(before.len(), 6 + 1 + 2 + 2, "{before:?}");
    // Every blob the database holds is in a column the rekey knows.
    let uncovered = mend::store::rekey::uncovered_blobs(&app.db().await).await.unwrap();
    assert!(uncovered.is_empty(), "sealed values a rekey would miss: {uncovered:?}");

    // Each partner's texts are under their own key: the rekey reseals the
    // two keys (in the keystore) and the database's key check.
    assert_eq!(app.engine.keys().count().await.unwrap(), 2, "one key per partner");
    let new = Key::generate();
    let resealed = app.engine.clone().rekey(&Cipher::new(&new), |_| {}).await.unwrap();
    assert_eq!(resealed, 2 + 1, "both partners' keys and the key check");

    let refused = open(&app, &app.fixture.key).await;
    assert!(
        matches!(
            refused,
            Err(mend::engine::EngineError::Store(mend::store::StoreError::Key(mend::crypto::KeyError::Wrong)))
        ),
        "the old key is refused: {:?}",
        refused.err()
    );
    let reopened = open(&app, &new).await.unwrap();
    assert_eq!(words(&reopened, &filled).await, before);
    let disk = app.on_disk();
    assert!(!disk.windows(12).any(|w| w == b"badger-rekey"), "texts stay sealed on disk");
    // The keystore opens with the new key only.
    let keystore = app.fixture.keys_with(Cipher::new(&app.fixture.key)).await;
    assert_eq!(keystore.host_opens().await.unwrap(), Some(false), "the old key opens no partner's key");
    let keystore = app.fixture.keys_with(Cipher::new(&new)).await;
    assert_eq!(keystore.host_opens().await.unwrap(), Some(true));
}

#[tokio::test]
async fn a_rekey_that_fails_part_way_leaves_every_text_under_the_old_key() {
    let app = TestApp::new().await;
    let filled = fill(&app).await;
    let before = words(&app.engine, &filled).await;
    // A hard moment's note that no key opens: answers (resealed first) are
    // already under the new key in the transaction when the rekey meets it.
    let db = app.db().await;
    let broken: i64 = sqlx::query_scalar(
        "INSERT INTO hard_moments (couple_id, slot, created_at, note) VALUES ($1, 0, 0, $2) RETURNING id",
    )
    .bind(filled.couple)
    .bind(Cipher::new(&Key::generate()).seal(b"lost", b"hard_moment:0"))
    .fetch_one(&db)
    .await
    .unwrap();
    let new = Key::generate();
    let failed = app.engine.clone().rekey(&Cipher::new(&new), |_| {}).await;
    assert!(failed.is_err(), "a text that does not open stops the rekey");
    assert!(open(&app, &new).await.is_err(), "the new key opens nothing");
    let old = open(&app, &app.fixture.key).await.unwrap();
    assert_eq!(words(&old, &filled).await, before, "every text reads under the old key");
    sqlx::query("DELETE FROM hard_moments WHERE id = $1").bind(broken).execute(&db).await.unwrap();
    // With the broken note gone, the same rekey goes through.
    old.rekey(&Cipher::new(&new), |_| {}).await.unwrap();
    assert_eq!(words(&open(&app, &new).await.unwrap(), &filled).await, before);
}

/// Kills `mend rekey` at moments spread over its run, from just after it says
/// it has begun resealing (inside its transaction) to later and later ones:
/// whatever moment a kill lands on, exactly one key (the old one, or the new one
/// if the commit was reached) opens the database, with every word.
#[tokio::test]
async fn mend_rekey_killed_at_any_moment_leaves_one_key_opening_every_word() {
    use std::io::BufRead;
    let app = TestApp::new().await;
    let filled = fill(&app).await;
    let before = words(&app.engine, &filled).await;
    // Enough keys in the keystore that resealing them lasts a while (keys of
    // no one: what a text sealed under one would be, for the rekey's work).
    {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
        let path = app.fixture.keystore_url().trim_start_matches("sqlite://").to_string();
        let options = SqliteConnectOptions::new().filename(&path).journal_mode(SqliteJournalMode::Delete);
        let keystore = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let host = app.fixture.cipher();
        let mut tx = keystore.begin().await.unwrap();
        for _ in 0..20_000 {
            let key = mend::crypto::DataKey::generate();
            sqlx::query("INSERT INTO data_keys (id, sealed, created_at) VALUES ($1, $2, 0)")
                .bind(key.id())
                .bind(key.sealed_by(&host))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        keystore.close().await;
    }
    app.engine.close().await;
    let dir = app.fixture.dir.path();
    let key_file = |name: &str, key: &Key| {
        let path = dir.join(name);
        std::fs::write(&path, key.to_hex()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path
    };
    let mut current = app.fixture.key.clone();
    let mut killed_inside = 0;
    // The last round is not killed: it runs to the end, and the new key takes over.
    for (round, delay_ms) in [Some(0u64), Some(5), Some(50), Some(300), None].into_iter().enumerate() {
        let new = Key::generate();
        let old_file = key_file(&format!("old-{round}.key"), &current);
        let new_file = key_file(&format!("new-{round}.key"), &new);
        let mut child = Command::new(env!("CARGO_BIN_EXE_mend"))
            .args(["rekey", new_file.to_str().unwrap()])
            .env("DATABASE_URL", app.url())
            .env("MEND_KEY_FILE", &old_file)
            .env_remove("MEND_KEY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The first progress line comes from inside the transaction.
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let begun = stderr.read_line(&mut line).unwrap() > 0 && line.contains("resealing");
        if let Some(delay_ms) = delay_ms {
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = child.kill();
        }
        let status = child.wait().unwrap();
        let old_opens = open(&app, &current).await;
        let new_opens = open(&app, &new).await;
        let opened = match (old_opens, new_opens) {
            (Ok(engine), Err(_)) => {
                assert!(!status.success(), "round {round}: a rekey that finished left the old key working");
                killed_inside += usize::from(begun);
                engine
            }
            (Err(_), Ok(engine)) => {
                assert!(delay_ms.is_some() || status.success(), "round {round}: {status}");
                current = new;
                engine
            }
            (a, b) => {
                panic!("round {round}: exactly one key must open the database: old {:?}, new {:?}", a.err(), b.err())
            }
        };
        assert_eq!(words(&opened, &filled).await, before, "round {round}: every word, under one key");
        opened.close().await;
    }
    assert!(killed_inside > 0, "no kill landed inside the transaction: the test proved nothing");
    assert!(open(&app, &current).await.is_ok() && current.to_hex() != app.fixture.key.to_hex(), "the last rekey took");
}
