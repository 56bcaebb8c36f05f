//! `mend backup`: a consistent copy while mend keeps writing, owner-only,
//! sealed as the original, opened only by the same key.

use crate::support::app::TestApp;
use mend::core::answer::Answer;
use mend::core::model::{Kind, Role, Slot};
use mend::engine::Engine;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_answers_arrive_holds_every_acknowledged_one() {
    let app = TestApp::new().await;
    let mut couples = Vec::new();
    for _ in 0..20 {
        couples.push(app.couple([Role::Drifted, Role::Drifted]).await);
    }
    app.set_time("2026-01-05T07:30:00Z");
    let prompts = app.tick().await;
    assert_eq!(prompts.len(), 20);
    let answer = |i: usize, kind: Kind| {
        let text = format!("badger-backup-answer-{i}");
        match kind {
            Kind::Action => Answer::action(true, Some(&text)).unwrap(),
            _ => Answer::text(&text).unwrap(),
        }
    };
    // Ten answers acknowledged before the backup…
    for (i, p) in prompts.iter().enumerate().take(10) {
        app.engine.answer(p.couple.id, p.delivery.id, Slot::A, answer(i, p.kind)).await.unwrap();
    }
    // …ten more arriving while it runs.
    let writer = {
        let engine = app.engine.clone();
        let rest: Vec<_> = prompts.iter().skip(10).map(|p| (p.couple.id, p.delivery.id, p.kind)).collect();
        tokio::spawn(async move {
            for (i, (couple, delivery, kind)) in rest.into_iter().enumerate() {
                engine.answer(couple, delivery, Slot::A, answer(10 + i, kind)).await.unwrap();
            }
        })
    };
    let copy = app.fixture.dir.path().join("copy.db");
    let status = app.engine.backup(&copy).await.unwrap();
    writer.await.unwrap();
    assert_eq!(status.couples, 20);

    // The copy is owner-only, never overwritten, and sealed like the original.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(app.engine.backup(&copy).await.is_err(), "an existing file is never overwritten");
    let bytes = std::fs::read(&copy).unwrap();
    assert!(!bytes.windows(13).any(|w| w == b"badger-backup"), "answers stay sealed in the copy");

    // It opens with the key and holds every answer acknowledged before it began.
    let url = format!("sqlite://{}", copy.display());
    let other = mend::crypto::Cipher::new(&mend::crypto::Key::generate());
    let library = std::sync::Arc::new(app.engine.library().clone());
    let refused = Engine::open(
        &url,
        app.fixture.keys_with(other).await,
        library.clone(),
        app.clock.clone(),
        app.settings.clone(),
    )
    .await;
    assert!(refused.is_err(), "another key cannot open it");
    let restored =
        Engine::open(&url, app.fixture.keys().await, library, app.clock.clone(), app.settings.clone()).await.unwrap();
    for (i, p) in prompts.iter().enumerate().take(10) {
        let kept = restored.responses(p.delivery.id).await.unwrap();
        let body = kept.iter().find(|r| r.slot == Slot::A).and_then(|r| r.body.clone());
        assert_eq!(body.as_deref(), Some(format!("badger-backup-answer-{i}").as_str()));
    }
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&sqlx::SqlitePool::connect(&url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let _ = couples;
}
