//! The defects of the foundation issue, each as a person would notice it, on
//! the real engine and worker (posting into memory) over a real SQLite file.

use crate::support::app::TestApp;
use crate::support::{NowUtc, at};
use chrono::Duration;
use mend::core::entities::Status;
use mend::core::model::{Kind, Role, ScheduleKind, Slot};
use mend::core::outbox::{Failure, ItemKind, ItemStatus, Notice, Unreachable};
use mend::core::schedule::ScheduleError;
use mend::engine::{EngineError, Job, Settings, UserError};

const DRIFTED: [Role; 2] = [Role::Drifted, Role::Drifted];

fn kinds(posts: &[mend::worker::Posted]) -> Vec<ItemKind> {
    posts.iter().map(|p| p.kind).collect()
}

/// Defect 1: after a timed pause ends, the couple is nudged again.
#[tokio::test]
async fn a_partner_is_nudged_again_once_a_timed_pause_is_over() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt().await;
    let length = Some(app.engine.settings().space);
    let until = app.engine.need_space(couple, Slot::A, Some(p.delivery.id), length).await.unwrap().unwrap();
    app.clock.set(until + Duration::hours(1));
    app.step().await;
    let next = app.next_prompt().await;
    // Six hours later neither has answered: each gets one gentle nudge, with the question.
    app.advance(Duration::hours(6));
    let nudges: Vec<_> = app.step_posts().await.into_iter().filter(|p| p.kind == ItemKind::Nudge).collect();
    assert_eq!(nudges.len(), 2, "both partners are nudged after the pause ended");
    for n in &nudges {
        let Job::Nudge { delivery, prompt, .. } = &n.job else { panic!("{:?}", n.job) };
        assert_eq!(delivery.id, next.delivery.id);
        assert!(!prompt.text.is_empty());
    }
    app.advance(Duration::hours(6));
    assert!(app.step_posts().await.iter().all(|p| p.kind != ItemKind::Nudge), "one nudge each, no more");
}

/// Defect 1, the other side: a pause that is still on stops the nudge.
#[tokio::test]
async fn no_nudge_while_paused_or_once_answered() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    app.answer(couple, &p, Slot::A, "I answered in time").await;
    app.engine.pause(couple, Slot::B, None).await.unwrap();
    app.advance(Duration::hours(7));
    let posts = app.step_posts().await;
    assert!(posts.iter().all(|p| p.kind != ItemKind::Nudge), "{:?}", kinds(&posts));
}

/// Defect 2: a timezone chosen with /schedule set becomes the couple's.
#[tokio::test]
async fn a_timezone_chosen_for_prompts_becomes_the_couples_everywhere() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    app.engine.set_schedule(couple, ScheduleKind::Prompt, "daily 08:30", Some("America/New_York")).await.unwrap();
    let c = app.engine.couple(couple).await.unwrap();
    assert_eq!(c.tz, "America/New_York");
    let schedules = app.engine.schedules(couple).await.unwrap();
    for s in &schedules {
        assert_eq!(s.schedule.tz().name(), "America/New_York", "{:?} follows the couple", s.kind);
    }
    // The reflection now comes Sunday 19:00 in New York (00:00 UTC Monday).
    let reflection = schedules.iter().find(|s| s.kind == ScheduleKind::Reflection).unwrap();
    assert_eq!(reflection.next, Some(at("2026-01-12T00:00:00Z")));
    // And a prompt setting without a zone keeps the couple's.
    app.engine.set_schedule(couple, ScheduleKind::Prompt, "daily 20:00", None).await.unwrap();
    assert_eq!(app.engine.couple(couple).await.unwrap().tz, "America/New_York");
}

/// Defect 3: "I need space" works on a prompt already revealed.
#[tokio::test]
async fn space_can_be_taken_after_the_answers_were_shared() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    app.answer(couple, &p, Slot::A, "one").await;
    assert!(app.answer(couple, &p, Slot::B, "two").await.revealed);
    let length = Some(app.engine.settings().space);
    let until = app
        .engine
        .need_space(couple, Slot::B, Some(p.delivery.id), length)
        .await
        .expect("space is always there")
        .unwrap();
    assert!(app.engine.couple(couple).await.unwrap().is_paused_at(app.clock.now_utc().timestamp()));
    let posts = app.step_posts().await;
    let told = posts.iter().filter_map(|p| p.notice()).any(|n| matches!(n, Notice::SpaceTaken { slot: Slot::B, .. }));
    assert!(told, "both are told, in the couple's home");
    app.clock.set(until - Duration::minutes(1));
    assert!(app.tick().await.is_empty(), "no prompt during the space");
    // The answers stay as they were.
    let bodies: Vec<_> = app.engine.responses(p.delivery.id).await.unwrap().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [Some("one".to_string()), Some("two".to_string())]);
}

/// Defect 4: a couple that cannot be reached holds up no one else's reflection,
/// and a reflection that reached one partner is never sent to them again.
#[tokio::test]
async fn one_unreachable_couple_holds_up_no_other_and_a_partial_send_is_not_repeated() {
    let app = TestApp::new().await;
    let couples: Vec<i64> = futures::future::join_all((0..5).map(|_| app.couple(DRIFTED))).await;
    for _ in 0..6 {
        assert_eq!(app.next_day().await.len(), 5);
    }
    let gone = couples[1];
    let half = couples[3];
    // Sunday 19:00 Paris: each partner's check-in; none checks in, so the
    // reflections come when the window closes, a day later.
    app.set_time("2026-01-11T18:00:00Z");
    app.step_posts().await;
    // Sam's DMs are closed to mend: only the part for Sam cannot be posted.
    let closed = Failure::Unreachable { why: Unreachable::DmClosed, slot: Some(Slot::B), detail: "50007".into() };
    app.transport().fail_part(gone, "d1", closed);
    app.transport().fail_part(half, "d1", Failure::Transient("502".into()));
    app.set_time("2026-01-12T18:00:00Z");
    let posts = app.step_posts().await;
    let reached: Vec<i64> = posts
        .iter()
        .filter(|p| p.kind == ItemKind::Reflection && !p.parts.is_empty())
        .filter_map(|p| p.couple)
        .collect();
    for c in [couples[0], couples[1], couples[2], couples[4]] {
        assert!(
            reached.contains(&c),
            "couple {c} got its reflection on time: {:?}",
            posts.iter().map(|p| (p.couple, p.kind, p.parts.clone())).collect::<Vec<_>>()
        );
    }
    // The couple that cannot be reached is paused, and the partner who can be reached is told, once.
    let g = app.engine.couple(gone).await.unwrap();
    assert!(g.is_paused_indefinitely());
    app.advance(Duration::minutes(1));
    let later = app.step_posts().await;
    let told: Vec<_> = later.iter().filter(|p| p.couple == Some(gone)).filter_map(|p| p.notice().cloned()).collect();
    assert_eq!(told, [Notice::DmClosed { slot: Slot::B }]);
    // The half-sent one: Alex got it, Sam's failed. Once healed, only Sam gets it.
    let first: Vec<_> = posts.iter().filter(|p| p.couple == Some(half) && p.kind == ItemKind::Reflection).collect();
    assert_eq!(first[0].parts, ["d0"]);
    app.transport().heal(half);
    app.advance(Duration::minutes(5));
    let retry: Vec<_> = app
        .step_posts()
        .await
        .into_iter()
        .filter(|p| p.couple == Some(half) && p.kind == ItemKind::Reflection)
        .collect();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].parts, ["d1"], "the partner who had it is not sent it twice");
}

/// Defect 5: a failing destination is tried again with growing waits, and one
/// that cannot be reached is not tried again at all.
#[tokio::test]
async fn failures_back_off_and_unreachable_destinations_are_not_retried() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    app.transport().fail(couple, Failure::Transient("503".into()));
    app.set_time("2026-01-05T07:30:00Z");
    let mut tries = Vec::new();
    // Seven hours of steps every minute.
    for _ in 0..420 {
        let report = app.step().await;
        if report.tried > 0 {
            tries.push(app.clock.now_utc());
        }
        app.advance(Duration::minutes(1));
    }
    let gaps: Vec<i64> = tries.windows(2).map(|w| (w[1] - w[0]).num_minutes()).collect();
    assert!(tries.len() <= 20, "not every pass (360): {} tries", tries.len());
    // (The very last wait is cut short by the deadline.)
    assert!(gaps[..gaps.len() - 1].windows(2).all(|g| g[1] >= g[0]), "waits never shrink: {gaps:?}");
    assert!(gaps.iter().max() == Some(&30), "waits grow to half an hour, no more: {gaps:?}");
    let d = &app.engine.deliveries_of(couple).await.unwrap()[0];
    assert_eq!(d.status, Status::Missed, "given up at its deadline, recorded missed");

    let other = app.couple(DRIFTED).await;
    app.transport().heal(couple);
    app.transport()
        .fail(other, Failure::Unreachable { why: Unreachable::DmClosed, slot: Some(Slot::A), detail: "50007".into() });
    app.set_time("2026-01-06T07:30:00Z");
    let first = app.step().await;
    assert!(first.tried >= 1);
    let mut again = 0;
    for _ in 0..60 {
        app.advance(Duration::minutes(1));
        again +=
            app.step_posts().await.iter().filter(|p| p.couple == Some(other) && p.kind == ItemKind::Prompt).count();
    }
    assert_eq!(again, 0, "an unreachable destination is not tried again");
}

/// Defect 6: a schedule more frequent than the host's floor is refused kindly.
#[tokio::test]
async fn schedules_more_frequent_than_the_floor_are_refused() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    for spec in ["* * * * *", "*/30 * * * *", "0,45 8 * * *"] {
        for kind in [ScheduleKind::Prompt, ScheduleKind::Reflection] {
            let refused = app.engine.set_schedule(couple, kind, spec, None).await;
            match refused {
                Err(EngineError::User(UserError::Schedule(e @ ScheduleError::TooFrequent { .. }))) => {
                    assert!(e.to_string().contains("hour"), "{e}");
                }
                other => panic!("{spec} for {kind}: {other:?}"),
            }
        }
    }
    // The floor lifted (MEND_MIN_INTERVAL_MINUTES=0), as in the sandbox.
    let open = TestApp::with(Settings { min_interval: Duration::zero(), ..Settings::default() }).await;
    let c = open.couple(DRIFTED).await;
    open.engine.set_schedule(c, ScheduleKind::Prompt, "*/2 * * * *", None).await.unwrap();
}

/// Defect 7: every query a step runs reads an index, never a whole table.
#[tokio::test]
async fn every_query_of_a_step_reads_an_index() {
    let app = TestApp::new().await;
    for (name, plan) in app.engine.step_query_plans().await.unwrap() {
        let scans = plan.split(" | ").filter(|l| l.starts_with("SCAN") && !l.contains("USING")).count();
        assert_eq!(scans, 0, "{name}: {plan}");
    }
}

/// Defect 9: a panic while posting for one couple stops nothing else.
#[tokio::test]
async fn a_panic_posting_one_couples_prompt_stops_no_one_else() {
    let app = TestApp::new().await;
    let a = app.couple(DRIFTED).await;
    let b = app.couple(DRIFTED).await;
    app.transport().panic_once(a);
    app.set_time("2026-01-05T07:30:00Z");
    let sent = app.tick().await;
    assert_eq!(sent.iter().map(|p| p.couple.id).collect::<Vec<_>>(), [b]);
    app.advance(Duration::minutes(1));
    let retried = app.tick().await;
    assert_eq!(retried.iter().map(|p| p.couple.id).collect::<Vec<_>>(), [a], "retried, not lost");
}

/// Defect 9: the worker's loop survives a step that panics and goes on.
#[tokio::test]
async fn the_worker_loop_goes_on_after_a_panic() {
    let app = TestApp::new().await;
    let a = app.couple(DRIFTED).await;
    app.transport().panic_once(a);
    app.set_time("2026-01-05T07:30:00Z");
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut steps = app.worker.steps();
    let running = tokio::spawn(app.worker.clone().run(wake.clone()));
    steps.wait_for(|n| *n >= 1).await.unwrap();
    app.advance(Duration::minutes(1));
    wake.notify_one();
    steps.wait_for(|n| *n >= 2).await.unwrap();
    assert!(!running.is_finished(), "the loop is alive");
    let prompts = app.transport().posts().into_iter().filter(|p| p.kind == ItemKind::Prompt).count();
    assert_eq!(prompts, 1, "the prompt came on the step after the panic");
    running.abort();
}

/// Defect 10: pairing is one transaction; a second accept pairs nothing twice,
/// and the welcome waits in the outbox.
#[tokio::test]
async fn pairing_is_one_step_with_its_welcome_in_the_outbox() {
    let app = TestApp::new().await;
    let who = |user, name: &str| mend::engine::Invitation { user, name: name.into() };
    let place = mend::engine::Place { guild: 99, channel: 7 };
    let id = app.engine.invite(&who(11, "Alex"), 22, place, None).await.unwrap();
    let paired = app.engine.accept(id, who(11, "Alex"), who(22, "Sam"), Some((99, 1234))).await.unwrap();
    let again = app.engine.accept(id, who(11, "Alex"), who(22, "Sam"), Some((99, 5678))).await;
    assert!(matches!(again, Err(EngineError::User(UserError::InvitationGone))), "{again:?}");
    assert_eq!(app.engine.couple_of("22").await.unwrap().map(|c| c.0), Some(paired.couple));
    assert_eq!(app.engine.schedules(paired.couple).await.unwrap().len(), 2, "schedules set with the couple");
    // The welcome post fails twice (Discord has trouble); it is retried, not lost.
    app.transport().fail(paired.couple, Failure::Transient("502".into()));
    app.step().await;
    app.transport().heal(paired.couple);
    app.advance(Duration::minutes(2));
    let posts = app.step_posts().await;
    let welcomed = posts.iter().filter(|p| p.notice() == Some(&Notice::Welcome)).count();
    assert_eq!(welcomed, 1);
}

/// Defect 11: "has answered" is in the outbox with the answer, so a crash does
/// not lose it, and it always comes before the reveal it announces.
#[tokio::test]
async fn has_answered_survives_a_crash_and_comes_before_the_reveal() {
    let mut app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    app.answer(couple, &p, Slot::A, "first").await;
    app.restart().await;
    app.answer(couple, &p, Slot::B, "second").await;
    let posts = app.step_posts().await;
    let order: Vec<String> = posts
        .iter()
        .filter(|p| p.couple == Some(couple))
        .map(|p| match (p.kind, p.notice()) {
            (_, Some(Notice::Answered { slot })) => format!("answered {}", slot.index()),
            (kind, _) => kind.to_string(),
        })
        .collect();
    assert_eq!(order, ["answered 0", "answered 1", "reveal"]);
    assert_eq!(app.engine.outbox_count(ItemStatus::Pending).await.unwrap(), 2, "only the two nudges wait");
}

/// A reveal that cannot reach one partner (their DMs closed) is kept, not given
/// up: the one who got it is not sent it again, the other gets it once they can.
#[tokio::test]
async fn a_reveal_that_cannot_reach_a_partner_is_kept_until_it_can() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    app.step().await;
    let closed = Failure::Unreachable { why: Unreachable::DmClosed, slot: Some(Slot::B), detail: "50007".into() };
    app.transport().fail_part(couple, "d1", closed);
    app.answer(couple, &p, Slot::A, "mine").await;
    app.answer(couple, &p, Slot::B, "yours").await;
    let first: Vec<_> = app.step_posts().await.into_iter().filter(|p| p.kind == ItemKind::Reveal).collect();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].parts, ["d0"], "Alex has it");
    assert!(app.engine.couple(couple).await.unwrap().is_paused_indefinitely(), "paused, and Alex told");
    // Sam opens their DMs again.
    app.transport().heal(couple);
    app.advance(Duration::minutes(1));
    let later: Vec<_> = app.step_posts().await.into_iter().filter(|p| p.kind == ItemKind::Reveal).collect();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].parts, ["d1"], "Sam gets it, Alex not again");
    assert_eq!(app.engine.waiting(ItemKind::Reveal).await.unwrap(), 0);
}

/// A reflection waiting out its check-in window when one partner takes space
/// (or says in the safety check they may not be safe) is not posted into that
/// space: nothing shared reaches them while it holds.
#[tokio::test]
async fn a_reflection_waiting_for_check_ins_is_not_posted_into_a_space() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    for _ in 0..3 {
        app.next_prompt().await;
    }
    app.set_time("2026-01-11T18:00:00Z");
    let asked = app.step_posts().await;
    assert!(asked.iter().any(|p| matches!(p.notice(), Some(Notice::CheckIn { .. }))), "the check-ins went out");
    // Monday morning Sam's safety check signals danger: a space of Sam's own.
    app.set_time("2026-01-12T07:00:00Z");
    app.engine.safety_concern(couple, Slot::B).await.unwrap();
    app.step_posts().await;
    app.set_time("2026-01-12T18:00:00Z");
    let posted = app.step_posts().await;
    assert!(
        posted.iter().all(|p| !matches!(p.job, Job::Reflection { .. })),
        "no reflection into the space: {posted:?}"
    );
}
