//! Commitments in the engine, with the worker stepped directly: asked once
//! per occurrence however often the step runs or mend restarts, never while
//! the couple is held, never in the night, never in a burst after an outage.

use crate::support::app::TestApp;
use mend::core::model::{Role, Slot};
use mend::core::outbox::{Notice, To};
use mend::engine::{EngineError, Job, UserError};
use mend::store::commitments::Noticed;

const BETRAYAL: [Role; 2] = [Role::Repairing, Role::Hurt];

/// The "Did this happen?" a step posted: (check, to whom).
async fn asks(app: &TestApp) -> Vec<(i64, To)> {
    app.step_posts()
        .await
        .into_iter()
        .filter_map(|p| match p.job {
            Job::Notice { notice: Notice::CommitmentAsk { check, .. }, to, .. } => Some((check, to)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn asked_once_per_occurrence_in_waking_hours_and_only_of_the_partner() {
    let mut app = TestApp::new().await;
    let couple = app.couple(BETRAYAL).await;
    // The hurt partner is not asked to commit.
    let refused = app.engine.commit(couple, Slot::B, "I'll try.", None).await;
    assert!(matches!(refused, Err(EngineError::User(UserError::NotTheirsToCommit))), "{refused:?}");
    // 21:30 Paris daily: asked two hours later, which is night, so at 08:00.
    app.engine.commit(couple, Slot::A, "I'll say goodnight before bed.", Some("daily 21:30")).await.unwrap();
    app.set_time("2026-01-05T22:30:00Z");
    assert!(asks(&app).await.is_empty(), "not at 23:30 Paris");
    app.set_time("2026-01-06T06:59:00Z");
    assert!(asks(&app).await.is_empty(), "not before 08:00 Paris");
    app.set_time("2026-01-06T07:00:00Z");
    let asked = asks(&app).await;
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].1, To::Partner(Slot::B), "asked of the partner it was made to, privately");
    assert!(asks(&app).await.is_empty(), "a second step asks nothing more");
    app.restart().await;
    assert!(asks(&app).await.is_empty(), "nor does a restart");
    // The maker cannot answer for their partner.
    let check = asked[0].0;
    let own = app.engine.notice_commitment(couple, Slot::A, check, Noticed::Kept).await;
    assert!(matches!(own, Err(EngineError::User(UserError::NotYours))), "{own:?}");
    // A miss posts nothing; answering again changes nothing.
    let answered = app.engine.notice_commitment(couple, Slot::B, check, Noticed::NotThisTime).await.unwrap();
    assert_eq!(answered, mend::engine::Answered::KeptQuiet);
    let again = app.engine.notice_commitment(couple, Slot::B, check, Noticed::Kept).await.unwrap();
    assert_eq!(again, mend::engine::Answered::Already);
    let posted = app.step_posts().await;
    assert!(posted.iter().all(|p| !matches!(p.job, Job::Notice { notice: Notice::Kept { .. }, .. })), "{posted:?}");
    assert_eq!(app.engine.kept_between(couple, 0, i64::MAX).await.unwrap(), 0, "a miss is never counted");
}

#[tokio::test]
async fn no_ask_while_held_and_no_burst_after_an_outage() {
    let app = TestApp::new().await;
    let couple = app.couple(BETRAYAL).await;
    app.engine.commit(couple, Slot::A, "I'll text when I leave work.", Some("daily 18:00")).await.unwrap();
    app.step_posts().await;
    // Sam takes space over Monday evening: no one is asked then.
    app.set_time("2026-01-05T12:00:00Z");
    app.engine.need_space(couple, Slot::B, None, Some(chrono::Duration::hours(12))).await.unwrap();
    app.set_time("2026-01-05T19:00:00Z");
    assert!(asks(&app).await.is_empty(), "not while Sam has space");
    // Nor is anything new made or marked while Sam has space: no pressure through it.
    let made = app.engine.commit(couple, Slot::A, "Another thing.", None).await;
    assert!(matches!(made, Err(EngineError::User(UserError::CommitmentsHeld))), "{made:?}");
    // mend is down from Tuesday to Friday evening: one ask, about Friday only.
    app.set_time("2026-01-09T19:00:00Z");
    let asked = asks(&app).await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    let k = app.engine.commitment_check(asked[0].0).await.unwrap().unwrap();
    assert_eq!(mend::engine::instant(k.occurrence).to_rfc3339(), "2026-01-09T17:00:00+00:00");
}

#[tokio::test]
async fn at_most_three_open_and_a_retired_one_is_not_asked_about() {
    let app = TestApp::new().await;
    let couple = app.couple([Role::Drifted, Role::Drifted]).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(app.engine.commit(couple, Slot::B, &format!("Small thing {n}."), Some("daily 18:00")).await.unwrap());
    }
    let fourth = app.engine.commit(couple, Slot::B, "One more.", None).await;
    assert!(matches!(fourth, Err(EngineError::User(UserError::TooManyCommitments { max: 3 }))), "{fourth:?}");
    // Either partner of a drifted couple may commit.
    app.engine.commit(couple, Slot::A, "Mine.", None).await.unwrap();
    // Only the maker retires; then a fourth fits and no one is asked about it.
    let theirs = app.engine.retire_commitment(couple, Slot::A, ids[0], None).await;
    assert!(matches!(theirs, Err(EngineError::User(UserError::NotYourCommitment))), "{theirs:?}");
    app.engine.retire_commitment(couple, Slot::B, ids[0], Some("done")).await.unwrap();
    app.engine.commit(couple, Slot::B, "Another.", None).await.unwrap();
    app.set_time("2026-01-05T19:00:00Z");
    let asked = asks(&app).await;
    let about: Vec<i64> = {
        let mut v = Vec::new();
        for (check, _) in &asked {
            v.push(app.engine.commitment_check(*check).await.unwrap().unwrap().commitment_id);
        }
        v
    };
    assert!(!about.contains(&ids[0]), "{about:?}");
    assert!(about.contains(&ids[1]) && about.contains(&ids[2]), "{about:?}");
}
