//! Forgetting that holds on any copy: each partner's texts are sealed under a
//! key of their own, kept in the keystore apart from the database, and
//! `/forget` and `/couple end` destroy it. A copy of the database taken before
//! — a backup, a replica, its log — still holds the sealed bytes, and no host
//! key opens them again; the partner who stays keeps every word of theirs.

use crate::support::app::TestApp;
use crate::support::backend;
use mend::core::answer::Answer;
use mend::core::entities::CoupleId;
use mend::core::model::{Kind, Role, Slot};
use mend::crypto::{KeyError, SealedWith, sealed_with};
use mend::store::{Backend, StoreError};

/// Three days of answers from both, a hard moment's note and a commitment
/// from A: every kind of text mend seals, marked so it can be searched for.
async fn fill(app: &TestApp) -> (CoupleId, Vec<i64>) {
    let couple = app.couple([Role::Repairing, Role::Hurt]).await;
    let mut deliveries = Vec::new();
    for day in 0..3 {
        let p = app.next_prompt().await;
        for slot in [Slot::A, Slot::B] {
            let text = format!("heron-{day}-{slot:?}");
            let answer = match p.kind {
                Kind::Action => Answer::action(true, Some(&text)).unwrap(),
                _ => Answer::text(&text).unwrap(),
            };
            app.engine.answer(couple, p.delivery.id, slot, answer).await.unwrap();
        }
        deliveries.push(p.delivery.id);
    }
    let moment = app.engine.hard_moment(couple, Slot::A).await.unwrap();
    app.engine.note_hard_moment(couple, Slot::A, moment, Some("heron-moment-A")).await.unwrap();
    app.engine.commit(couple, Slot::A, "heron-commitment-A", Some("daily 21:30")).await.unwrap();
    (couple, deliveries)
}

/// Every sealed text in the database with the key it names: (table, key).
async fn sealed(app: &TestApp) -> Vec<(&'static str, Vec<u8>)> {
    let db = app.db().await;
    let mut out = Vec::new();
    for (table, sql) in [
        ("responses", "SELECT body FROM responses WHERE body IS NOT NULL"),
        ("hard_moments", "SELECT note FROM hard_moments WHERE note IS NOT NULL"),
        ("commitments", "SELECT body FROM commitments"),
    ] {
        let blobs: Vec<Vec<u8>> = sqlx::query_scalar(sql).fetch_all(&db).await.unwrap();
        out.extend(blobs.into_iter().map(|b| (table, b)));
    }
    db.close().await;
    out
}

fn key_of(blob: &[u8]) -> i64 {
    match sealed_with(blob) {
        SealedWith::Data(id) => id,
        other => panic!("a text not under a partner's key: {other:?}"),
    }
}

#[tokio::test]
async fn forget_each_partner_writes_under_a_key_of_their_own() {
    let app = TestApp::new().await;
    let (couple, deliveries) = fill(&app).await;
    let responses = app.engine.responses(deliveries[0]).await.unwrap();
    assert_eq!(responses.len(), 2);
    let db = app.db().await;
    let key_of_partner = |slot: i64| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>("SELECT key_id FROM partners WHERE couple_id = $1 AND slot = $2")
                .bind(couple)
                .bind(slot)
                .fetch_one(&db)
                .await
                .unwrap()
                .expect("a partner who wrote has a key")
        }
    };
    let (a, b) = (key_of_partner(0).await, key_of_partner(1).await);
    assert_ne!(a, b, "each partner's own key");
    let bodies: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT slot, body FROM responses WHERE body IS NOT NULL").fetch_all(&db).await.unwrap();
    for (slot, body) in &bodies {
        assert_eq!(key_of(body), if *slot == 0 { a } else { b }, "an answer is under its writer's key");
    }
    // The keys are in the keystore, sealed under the host key; the database
    // holds none of them.
    assert_eq!(app.engine.keys().count().await.unwrap(), 2);
    assert_eq!(app.engine.keys().host_opens().await.unwrap(), Some(true));
    let tables: Vec<String> = match backend() {
        Backend::Sqlite => {
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&db).await.unwrap()
        }
        Backend::Postgres => sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_all(&db)
        .await
        .unwrap(),
    };
    assert!(!tables.iter().any(|t| t == "data_keys"), "no key in the database: {tables:?}");
}

/// The issue's own check: a copy of the database taken before `/forget` holds
/// the forgotten partner's sealed texts, and with the current host key and
/// keystore not one of them opens; the other partner's still do.
#[tokio::test]
async fn forget_then_a_copy_taken_before_it_cannot_be_read_for_the_forgotten_texts() {
    let app = TestApp::new().await;
    let (couple, deliveries) = fill(&app).await;
    // The copy: every sealed byte the database holds now (on SQLite, also a
    // real backup file).
    let before = sealed(&app).await;
    let backup = app.fixture.dir.path().join("before-forget.db");
    if backend() == Backend::Sqlite {
        app.engine.backup(&backup).await.unwrap();
    }
    let keys = app.engine.keys().clone();
    let opener = keys.opener(before.iter().map(|(_, b)| b.as_slice())).await.unwrap();
    let readable_before =
        before.iter().filter(|(_, b)| !matches!(opener.open(b, b"x"), Err(StoreError::Forgotten))).count();
    assert_eq!(readable_before, before.len(), "every key is held before the forgetting");

    let forgotten = app.engine.forget(couple, Slot::A).await.unwrap();
    assert_eq!(forgotten.answers, 3);

    // Which keys the copy's texts name, and whether the keystore still holds them.
    let named: std::collections::BTreeSet<i64> = before.iter().map(|(_, b)| key_of(b)).collect();
    assert_eq!(named.len(), 2, "A's key and B's");
    let held = keys.held(&named.iter().copied().collect::<Vec<_>>()).await.unwrap();
    assert_eq!(held.len(), 1, "A's key is destroyed, B's is kept: {held:?}");
    let opener = keys.opener(before.iter().map(|(_, b)| b.as_slice())).await.unwrap();
    let mut gone = 0;
    for (table, blob) in &before {
        let mine = !held.contains(&key_of(blob));
        match opener.open(blob, b"any row") {
            Err(StoreError::Forgotten) => {
                assert!(mine, "a text of B's went with A's key ({table})");
                gone += 1;
            }
            _ => assert!(!mine, "a text of A's still finds its key ({table})"),
        }
    }
    assert_eq!(gone, 3 + 1 + 1, "A's three answers, hard moment note and commitment");

    if backend() == Backend::Sqlite {
        // The backup opens with the current host key and keystore: B's words
        // read, A's are forgotten.
        let url = format!("sqlite://{}", backup.display());
        let copy = mend::engine::Engine::open(
            &url,
            app.fixture.keys().await,
            app.fixture.library.clone(),
            app.clock.clone(),
            app.settings.clone(),
        )
        .await
        .unwrap();
        let read = copy.responses(deliveries[0]).await;
        assert!(
            matches!(read, Err(mend::engine::EngineError::Store(StoreError::Forgotten))),
            "A's answer in the old backup: {read:?}"
        );
        // Restoring it forgets A's words again, and keeps B's.
        assert_eq!(copy.forget_again().await.unwrap(), 1);
        let kept = copy.responses(deliveries[0]).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].slot, Slot::B);
        assert_eq!(kept[0].body.as_deref(), Some("heron-0-Slot(1)"), "B's words are B's");
        copy.close().await;
        let bytes = std::fs::read(&backup).unwrap();
        assert!(!bytes.windows(5).any(|w| w == b"heron"), "sealed at rest in the copy too");
    }

    // B still reads every word of theirs in the live database; A can write
    // again, under a new key.
    let live = app.engine.responses(deliveries[1]).await.unwrap();
    assert_eq!(live.iter().map(|r| r.slot).collect::<Vec<_>>(), [Slot::B]);
    let p = app.next_prompt().await;
    let answer = match p.kind {
        Kind::Action => Answer::action(true, Some("heron-after")).unwrap(),
        _ => Answer::text("heron-after").unwrap(),
    };
    app.engine.answer(couple, p.delivery.id, Slot::A, answer).await.unwrap();
    let after = app.engine.responses(p.delivery.id).await.unwrap();
    assert_eq!(after[0].body.as_deref(), Some("heron-after"));
    let new_key = key_of(&sealed(&app).await.iter().find(|(_, b)| !named.contains(&key_of(b))).unwrap().1);
    assert!(!named.contains(&new_key), "a new key for what A writes now");
}

/// `/couple end` destroys both partners' keys: nothing of either opens from a
/// copy taken before.
#[tokio::test]
async fn forget_when_a_couple_ends_both_keys_are_destroyed() {
    let app = TestApp::new().await;
    let (couple, _) = fill(&app).await;
    let before = sealed(&app).await;
    let keys = app.engine.keys().clone();
    app.engine.end_couple(couple, Some(Slot::B)).await.unwrap();
    let opener = keys.opener(before.iter().map(|(_, b)| b.as_slice())).await.unwrap();
    for (table, blob) in &before {
        assert!(matches!(opener.open(blob, b"any"), Err(StoreError::Forgotten)), "{table} still opens");
    }
    assert_eq!(keys.count().await.unwrap(), 0);
    // The keystore itself keeps no copy of a destroyed key (SQLite overwrites
    // what it deletes, and keeps no log).
    if backend() == Backend::Sqlite {
        let disk = app.fixture.keystore_on_disk();
        assert!(!disk.is_empty());
        let db = app.db().await;
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM keys_to_destroy").fetch_one(&db).await.unwrap();
        assert_eq!(left, 0, "nothing left to destroy");
    }
}

/// A forgetting that crashed after the database forgot and before the
/// keystore heard of it: the key is destroyed at the next start.
#[tokio::test]
async fn forget_a_key_left_to_destroy_is_destroyed_at_the_next_open() {
    let mut app = TestApp::new().await;
    let (_, _) = fill(&app).await;
    let before = sealed(&app).await;
    let id = key_of(&before[0].1);
    let db = app.db().await;
    // As the forgetting's transaction leaves it, had the process died at once.
    sqlx::query("INSERT INTO keys_to_destroy (key_id) VALUES ($1)").bind(id).execute(&db).await.unwrap();
    sqlx::query("UPDATE partners SET key_id = NULL WHERE key_id = $1").bind(id).execute(&db).await.unwrap();
    db.close().await;
    assert_eq!(app.engine.keys().held(&[id]).await.unwrap(), [id]);
    app.restart().await;
    assert!(app.engine.keys().held(&[id]).await.unwrap().is_empty(), "destroyed on the way up");
}

/// A database opened with a keystore not its own is refused with the fix,
/// and a keystore already holding another database's keys is not taken.
#[tokio::test]
async fn forget_a_database_refuses_a_keystore_not_its_own() {
    let app = TestApp::new().await;
    fill(&app).await;
    let stranger = crate::support::Fixture::new();
    let other = stranger.keys_with(app.fixture.cipher()).await;
    let url = app.url();
    let refused = mend::store::connect(&url, &other).await.unwrap_err();
    assert!(matches!(refused, StoreError::Key(KeyError::OtherKeystore)), "{refused}");
    assert!(refused.to_string().contains("MEND_KEYSTORE"), "{refused}");
    // The app's keystore, linked and holding keys, refuses a new database.
    let taken = mend::store::connect(&stranger.url(), app.engine.keys()).await.unwrap_err();
    assert!(matches!(taken, StoreError::Key(KeyError::KeystoreTaken)), "{taken}");
}
