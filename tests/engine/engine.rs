//! The engine on a real SQLite file: what each partner would notice.

use crate::support::NowUtc;
use crate::support::app::TestApp;
use chrono::Duration;
use mend::core::answer::Answer;
use mend::core::entities::Status;
use mend::core::model::{Depth, Kind, Phase, Role, Slot};
use mend::core::outbox::Notice;
use mend::engine::{EngineError, Job, Reveal, UserError};

const BETRAYAL: [Role; 2] = [Role::Repairing, Role::Hurt];
const DRIFTED: [Role; 2] = [Role::Drifted, Role::Drifted];

/// One worker step; the reveals it posted.
async fn reveals(app: &TestApp) -> Vec<Reveal> {
    app.step_posts()
        .await
        .into_iter()
        .filter_map(|p| match p.job {
            Job::Reveal { reveal, .. } => Some(reveal),
            _ => None,
        })
        .collect()
}

fn user_error<T: std::fmt::Debug>(r: Result<T, EngineError>) -> UserError {
    match r {
        Err(EngineError::User(e)) => e,
        other => panic!("expected a user error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_database_is_a_real_file_with_wal_and_foreign_keys() {
    let app = TestApp::new().await;
    assert!(app.db_path().exists());
    let db = app.db().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&db).await.unwrap();
    assert_eq!(mode, "wal");
    let plans = app.engine.step_query_plans().await.unwrap();
    assert!(!plans.is_empty());
}

#[tokio::test]
async fn a_daily_prompt_is_claimed_once_even_across_a_restart() {
    let mut app = TestApp::new().await;
    let couple = app.couple(BETRAYAL).await;
    app.set_time("2026-01-05T07:29:59Z");
    assert!(app.tick().await.is_empty(), "nothing before 08:30 Paris");
    app.set_time("2026-01-05T07:30:00Z");
    let report = app.engine.claim_due().await.unwrap();
    assert_eq!(report.prompts, 1);
    assert_eq!(app.engine.claim_due().await.unwrap().prompts, 0, "claiming again claims nothing");
    // A crash after the claim and before the send: the prompt waits in the outbox.
    app.restart().await;
    // The first attempt chooses the prompt and fails (Discord is down)…
    app.transport().fail(couple, mend::core::outbox::Failure::Transient("502".into()));
    let report = app.step().await;
    assert_eq!((report.tried, report.failed), (1, 1));
    let chosen = app.engine.deliveries_of(couple).await.unwrap()[0].chosen.clone();
    assert!(chosen.is_some());
    // …a second crash, and the retry posts the same prompt, not a new one.
    app.restart().await;
    app.advance(Duration::minutes(1));
    let sent = app.tick().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].delivery.chosen, chosen);
    app.advance(Duration::minutes(1));
    assert!(app.tick().await.is_empty(), "posted once");
    let rows = app.engine.deliveries_of(couple).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, Status::Sent);
}

#[tokio::test]
async fn answers_stay_private_until_both_have_answered_then_are_revealed_once() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    let first = app.answer(couple, &p, Slot::A, "our walk by the river").await;
    assert!(!first.revealed, "nothing is revealed with one answer");
    assert!(reveals(&app).await.is_empty());
    let edit = app.answer(couple, &p, Slot::A, "our walk by the river, and the rain").await;
    assert!(edit.edited && !edit.revealed);
    let second = app.answer(couple, &p, Slot::B, "the coffee you made me").await;
    assert!(second.revealed, "both answered: revealed");
    let mut posted = reveals(&app).await;
    assert_eq!(posted.len(), 1, "the reveal is posted once");
    let reveal = posted.remove(0);
    assert!(reveals(&app).await.is_empty(), "and only once");
    let bodies: Vec<_> = reveal.responses.iter().map(|r| r.body.clone().unwrap()).collect();
    assert_eq!(bodies, ["our walk by the river, and the rain", "the coffee you made me"]);
    let late = app.engine.answer(couple, p.delivery.id, Slot::A, Answer::text("changed my mind").unwrap()).await;
    assert_eq!(user_error(late), UserError::AlreadyRevealed);
}

#[tokio::test]
async fn journal_answers_are_never_revealed() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let mut journals = 0;
    for _ in 0..40 {
        let p = app.next_prompt().await;
        if p.kind != Kind::Journal {
            continue;
        }
        journals += 1;
        assert!(!app.answer(couple, &p, Slot::A, "just for me").await.revealed);
        assert!(!app.answer(couple, &p, Slot::B, "just for me too").await.revealed);
        assert!(reveals(&app).await.is_empty());
        let d = app.engine.delivery(p.delivery.id).await.unwrap().unwrap();
        assert_eq!(d.revealed_at, None);
    }
    assert!(journals > 0, "40 days include journal prompts");
}

#[tokio::test]
async fn action_prompts_take_done_or_not_today() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Action).await;
    let wrong = app.engine.answer(couple, p.delivery.id, Slot::A, Answer::text("hello").unwrap()).await;
    assert_eq!(user_error(wrong), UserError::ActionNeedsDone);
    app.engine.answer(couple, p.delivery.id, Slot::A, Answer::action(true, Some("we did it")).unwrap()).await.unwrap();
    let saved = app.engine.answer(couple, p.delivery.id, Slot::B, Answer::action(false, None).unwrap()).await.unwrap();
    assert!(saved.revealed);
    let reveal = reveals(&app).await.remove(0);
    assert_eq!(reveal.responses[0].done, Some(true));
    assert_eq!(reveal.responses[1].done, Some(false));
}

#[tokio::test]
async fn another_couple_cannot_answer_or_skip_a_prompt_that_is_not_theirs() {
    let app = TestApp::new().await;
    let ours = app.couple(DRIFTED).await;
    let theirs = app.couple(DRIFTED).await;
    app.set_time("2026-01-05T07:30:00Z");
    let sent = app.tick().await;
    let p = sent.iter().find(|p| p.couple.id == ours).unwrap();
    let r = app.engine.answer(theirs, p.delivery.id, Slot::A, Answer::text("hi").unwrap()).await;
    assert_eq!(user_error(r), UserError::NotYours);
    assert_eq!(user_error(app.engine.skip(theirs, p.delivery.id, Slot::A).await), UserError::NotYours);
}

#[tokio::test]
async fn after_downtime_only_the_newest_prompt_is_sent_and_only_within_grace() {
    let mut app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    // Down from Monday until Thursday 10:00 UTC: Mon, Tue, Wed 08:30 Paris are
    // stale; Thu 08:30 Paris (07:30 UTC) is 2.5 h late, inside the grace window.
    app.set_time("2026-01-08T10:00:00Z");
    app.restart().await;
    let sent = app.tick().await;
    assert_eq!(sent.len(), 1, "no burst of stale prompts");
    assert_eq!(mend::engine::instant(sent[0].delivery.occurrence), crate::support::at("2026-01-08T07:30:00Z"));
    let rows = app.engine.deliveries_of(couple).await.unwrap();
    let missed = rows.iter().filter(|d| d.status == Status::Missed).count();
    assert_eq!(missed, 3, "each missed day is recorded");
    // Down again past the grace window: Friday's prompt is only recorded.
    app.set_time("2026-01-09T18:00:00Z");
    assert!(app.tick().await.is_empty());
    let rows = app.engine.deliveries_of(couple).await.unwrap();
    assert_eq!(rows.last().unwrap().status, Status::Missed);
}

#[tokio::test]
async fn paused_couples_get_nothing_until_they_resume() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    app.engine.pause(couple, Slot::A, None).await.unwrap();
    assert_eq!(user_error(app.engine.pause(couple, Slot::B, None).await), UserError::AlreadyPaused);
    app.set_time("2026-01-09T12:00:00Z");
    assert!(app.tick().await.is_empty(), "nothing while paused, not even missed rows");
    let rows = app.engine.deliveries_of(couple).await.unwrap();
    assert!(rows.is_empty());
    app.engine.resume(couple, Slot::B).await.unwrap();
    let p = app.next_prompt().await;
    assert_eq!(mend::engine::instant(p.delivery.occurrence), crate::support::at("2026-01-10T07:30:00Z"));
}

#[tokio::test]
async fn a_pause_with_an_end_resumes_by_itself() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    app.engine.pause(couple, Slot::A, Some(crate::support::at("2026-01-07T00:00:00Z"))).await.unwrap();
    app.set_time("2026-01-06T12:00:00Z");
    assert!(app.tick().await.is_empty());
    let p = app.next_prompt().await;
    assert_eq!(mend::engine::instant(p.delivery.occurrence), crate::support::at("2026-01-07T07:30:00Z"));
}

#[tokio::test]
async fn needing_space_pauses_prompts_for_two_days_without_losing_an_answer() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    app.answer(couple, &p, Slot::A, "I wrote this first").await;
    // A skip after answering keeps the answer.
    app.engine.skip(couple, p.delivery.id, Slot::A).await.unwrap();
    let length = Some(app.engine.settings().space);
    let until = app.engine.need_space(couple, Slot::B, Some(p.delivery.id), length).await.unwrap().unwrap();
    assert_eq!(until, app.clock.now_utc() + Duration::days(2));
    let kept = app.engine.responses(p.delivery.id).await.unwrap();
    assert_eq!(kept[0].body.as_deref(), Some("I wrote this first"));
    app.clock.set(until);
    assert!(app.tick().await.is_empty(), "no prompt for two days");
    let next = app.next_prompt().await;
    assert_eq!(next.delivery.occurrence, (until + Duration::days(1)).timestamp(), "back the day after");
}

#[tokio::test]
async fn only_the_hurt_partner_moves_the_couple_on_and_either_can_slow_down() {
    let app = TestApp::new().await;
    let couple = app.couple(BETRAYAL).await;
    assert_eq!(app.engine.couple(couple).await.unwrap().phase, Phase::Atone);
    assert_eq!(user_error(app.engine.advance_phase(couple, Slot::A).await), UserError::NotTheirsToMove);
    assert_eq!(app.engine.advance_phase(couple, Slot::B).await.unwrap(), Phase::Attune);
    assert_eq!(app.engine.slow_down(couple, Slot::A).await.unwrap(), Phase::Atone);
    assert_eq!(user_error(app.engine.slow_down(couple, Slot::A).await), UserError::FirstPhase);
    let drifted = app.couple(DRIFTED).await;
    assert_eq!(app.engine.couple(drifted).await.unwrap().phase, Phase::Attune);
    assert_eq!(app.engine.advance_phase(drifted, Slot::A).await.unwrap(), Phase::Attach);
}

#[tokio::test]
async fn prompts_balance_the_pillars_and_start_light() {
    let app = TestApp::new().await;
    let couple = app.couple(BETRAYAL).await;
    let mut pillars = Vec::new();
    for _ in 0..10 {
        let p = app.next_prompt().await;
        pillars.push(p.pillar.clone());
        for (slot, prompt) in p.prompts.iter().enumerate() {
            assert_eq!(prompt.depth, Depth::Light, "the first two weeks are light");
            assert!(prompt.phases.contains(&Phase::Atone));
            let role = p.couple.partners[slot].role;
            assert!(
                prompt.audience == mend::core::model::Audience::Both || Some(prompt.audience) == role.audience(),
                "{} is worded for its reader",
                prompt.id
            );
        }
    }
    pillars.sort();
    pillars.dedup();
    assert_eq!(pillars.len(), 10, "ten days touch all ten pillars");
    let _ = couple;
}

#[tokio::test]
async fn the_same_couple_and_day_always_get_the_same_prompt() {
    let a = TestApp::new().await;
    let b = TestApp::new().await;
    let ca = a.couple(BETRAYAL).await;
    let cb = b.couple(BETRAYAL).await;
    assert_eq!(ca, cb);
    for _ in 0..5 {
        assert_eq!(a.next_prompt().await.delivery.chosen, b.next_prompt().await.delivery.chosen);
    }
}

#[tokio::test]
async fn the_weekly_reflection_counts_without_shame_and_leads_with_appreciation() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let mut revealed = None;
    for day in 0..6 {
        let p = app.next_prompt().await;
        let answer = |slot| match p.kind {
            Kind::Action => Answer::action(true, Some("done together")).unwrap(),
            _ => Answer::text(&format!("day {day} from {slot:?}")).unwrap(),
        };
        app.engine.answer(couple, p.delivery.id, Slot::A, answer(Slot::A)).await.unwrap();
        if day % 2 == 0 {
            let saved = app.engine.answer(couple, p.delivery.id, Slot::B, answer(Slot::B)).await.unwrap();
            if saved.revealed && revealed.is_none() {
                revealed = Some(p.delivery.id);
            }
        }
    }
    let revealed = revealed.expect("a revealed prompt this week");
    // Sam marks what Alex wrote as meaningful.
    app.engine.mark_meaningful(couple, revealed, Slot::B).await.unwrap();
    let week: Vec<String> =
        app.engine.deliveries_of(couple).await.unwrap().iter().filter_map(|d| Some(d.chosen.clone()?.pillar)).collect();
    // Sunday 19:00 Paris: each partner's check-in first; neither checks in,
    // so the reflection comes when the window closes, a day later.
    app.set_time("2026-01-11T18:00:00Z");
    let asked = app.step_posts().await;
    assert!(asked.iter().all(|p| !matches!(p.job, Job::Reflection { .. })), "it waits for the check-ins");
    let check_ins = asked.iter().filter(|p| matches!(p.notice(), Some(Notice::CheckIn { .. }))).count();
    assert_eq!(check_ins, 2, "one check-in for each partner");
    app.set_time("2026-01-12T18:00:00Z");
    let posted = app.step_posts().await;
    let reflections: Vec<_> = posted
        .iter()
        .filter_map(|p| match &p.job {
            Job::Reflection { reflection, .. } => Some(reflection.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reflections.len(), 1, "a day after Sunday 19:00 Paris");
    let r = &reflections[0];
    assert_eq!(r.prompts, 6);
    // Alex answered all six, Sam three: the reflection only knows what they
    // shared, never who did more.
    let delivered = app.engine.deliveries_of(couple).await.unwrap();
    let shared = delivered.iter().filter(|d| d.revealed_at.is_some()).count();
    assert!((1..=3).contains(&shared), "{shared}");
    assert_eq!(r.shared, shared);
    assert_eq!(r.actions_taken, delivered.iter().filter(|d| d.kind() == Kind::Action).count());
    let sections = r.sections(app.engine.library(), ["Alex", "Sam"], |s| s.to_string());
    for line in sections.iter().flat_map(|(_, v)| v.lines()) {
        let named = ["Alex", "Sam"].iter().any(|n| line.contains(n));
        assert!(!named || !line.chars().any(|c| c.is_ascii_digit()), "a name next to a count: {line}");
    }
    let numbers = &sections.iter().find(|(h, _)| *h == "The week in numbers").expect("numbers").1;
    assert!(numbers.contains("you both answered and saw each other's words"), "{numbers}");
    assert!(!numbers.contains("Alex") && !numbers.contains("Sam"), "{numbers}");
    assert_eq!(r.appreciations.len(), 1);
    assert_eq!(r.appreciations[0].writer, Slot::A);
    // The pillars touched are exactly the week's, the others are still waiting.
    let mut touched = week.clone();
    touched.sort();
    touched.dedup();
    let mut got = r.pillars_touched.clone();
    got.sort();
    assert_eq!(got, touched);
    assert!(r.pillars_missed.iter().all(|p| !week.contains(p)));
    assert_eq!(r.pillars_missed.len(), 10 - touched.len());
    assert!(r.topic.is_some());
}

#[tokio::test]
async fn marking_before_the_reveal_is_refused() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt().await;
    assert_eq!(user_error(app.engine.mark_meaningful(couple, p.delivery.id, Slot::A).await), UserError::NotRevealed);
}

#[tokio::test]
async fn a_bad_schedule_or_zone_is_refused_and_the_old_one_kept() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let bad = app
        .engine
        .set_schedule(couple, mend::core::model::ScheduleKind::Prompt, "daily 25:00", Some("Europe/Paris"))
        .await;
    assert!(matches!(user_error(bad), UserError::Schedule(_)));
    // EST is a fixed offset with no summer time: refused, with the names to use.
    let zone =
        app.engine.set_schedule(couple, mend::core::model::ScheduleKind::Prompt, "daily 08:00", Some("EST")).await;
    assert!(matches!(user_error(zone), UserError::Schedule(_)));
    let p = app.next_prompt().await;
    assert_eq!(mend::engine::instant(p.delivery.occurrence), crate::support::at("2026-01-05T07:30:00Z"));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn sealed_bodies(app: &TestApp) -> Vec<Vec<u8>> {
    sqlx::query_scalar("SELECT body FROM responses WHERE body IS NOT NULL").fetch_all(&app.db().await).await.unwrap()
}

#[tokio::test]
async fn answer_text_cannot_be_found_in_the_database_file() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    let p = app.next_prompt_of(Kind::Shared).await;
    app.answer(couple, &p, Slot::A, "the secret we kept about the lighthouse").await;
    app.answer(couple, &p, Slot::B, "a second secret about the orchard").await;
    mend::store::scrub(&app.db().await).await.unwrap();
    let disk = app.on_disk();
    assert!(!contains(&disk, b"lighthouse") && !contains(&disk, b"orchard"), "answer text is sealed at rest");
    // And it still reads back for the couple.
    let bodies: Vec<_> = app.engine.responses(p.delivery.id).await.unwrap().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies[0].as_deref(), Some("the secret we kept about the lighthouse"));
}

#[tokio::test]
async fn forget_and_end_leave_no_trace_in_the_file() {
    let app = TestApp::new().await;
    let couple = app.couple(DRIFTED).await;
    for day in 0..4 {
        let p = app.next_prompt().await;
        let answer = |who: &str| match p.kind {
            Kind::Action => Answer::action(true, Some(&format!("{who} note {day}"))).unwrap(),
            _ => Answer::text(&format!("{who} wrote on day {day}")).unwrap(),
        };
        app.engine.answer(couple, p.delivery.id, Slot::A, answer("alex")).await.unwrap();
        app.engine.answer(couple, p.delivery.id, Slot::B, answer("sam")).await.unwrap();
    }
    let before = sealed_bodies(&app).await;
    assert_eq!(before.len(), 8);
    let alex_rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT body FROM responses WHERE slot = 0").fetch_all(&app.db().await).await.unwrap();

    app.engine.forget(couple, Slot::A).await.unwrap();
    let disk = app.on_disk();
    for sealed in &alex_rows {
        assert!(!contains(&disk, sealed), "a forgotten answer's ciphertext is still in the file");
    }
    assert_eq!(sealed_bodies(&app).await.len(), 4, "Sam's answers stay");

    let sam_rows = sealed_bodies(&app).await;
    app.engine.end_couple(couple, None).await.unwrap();
    let disk = app.on_disk();
    for sealed in &sam_rows {
        assert!(!contains(&disk, sealed));
    }
    for table in
        ["couples", "partners", "schedules", "deliveries", "responses", "reflections", "outbox", "outbox_parts"]
    {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&app.db().await)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} still holds rows of the ended couple");
    }
    assert!(!contains(&disk, b"Alex") && !contains(&disk, b"Sam"), "partner names are gone");
}

#[tokio::test]
async fn a_different_key_cannot_open_the_database() {
    let app = TestApp::new().await;
    app.couple(DRIFTED).await;
    let url = app.url();
    let other = mend::crypto::Cipher::new(&mend::crypto::Key::generate());
    let err = mend::store::connect(&url, &app.fixture.keys_with(other).await).await.unwrap_err();
    assert!(err.to_string().contains("not the one the database was written with"), "{err}");
}

/// A confirmed phase change is applied once however often it is clicked, a
/// change confirmed from a phase the couple has left is refused, and both are
/// told once, by a notice that names no one.
#[tokio::test]
async fn a_phase_change_is_confirmed_once_and_told_to_both() {
    let app = TestApp::new().await;
    let couple = app.couple(BETRAYAL).await;
    let (hurt, other) = if app.engine.couple(couple).await.unwrap().roles()[0] == mend::core::model::Role::Hurt {
        (Slot::A, Slot::B)
    } else {
        (Slot::B, Slot::A)
    };
    let refused = app.engine.move_phase(couple, other, Phase::Atone, Phase::Attune).await;
    assert_eq!(user_error(refused), UserError::NotTheirsToMove);
    for _ in 0..2 {
        assert_eq!(app.engine.move_phase(couple, hurt, Phase::Atone, Phase::Attune).await.unwrap(), Phase::Attune);
    }
    assert_eq!(app.engine.couple(couple).await.unwrap().phase, Phase::Attune, "one phase on, not two");
    let posts = app.step_posts().await;
    let told: Vec<_> = posts.iter().filter(|p| matches!(p.notice(), Some(Notice::PhaseMoved { .. }))).collect();
    assert_eq!(told.len(), 1, "told once");
    assert_eq!(told[0].notice(), Some(&Notice::PhaseMoved { phase: Phase::Attune, forward: true }));
    // The couple moves on again; a slow-down confirmed from the view of Attune
    // no longer applies.
    app.engine.move_phase(couple, hurt, Phase::Attune, Phase::Attach).await.unwrap();
    let stale = app.engine.move_phase(couple, other, Phase::Attune, Phase::Atone).await;
    assert_eq!(user_error(stale), UserError::PhaseMoved { now: Phase::Attach });
    assert_eq!(app.engine.couple(couple).await.unwrap().phase, Phase::Attach);
}

/// The sandbox's "due now": the couple's next prompt comes at the next step,
/// once, and never through a pause.
#[tokio::test]
async fn due_now_brings_the_next_prompt_forward_but_never_through_a_pause() {
    use mend::core::model::ScheduleKind;
    let app = TestApp::new().await;
    let couple = app.couple([Role::Drifted, Role::Drifted]).await;
    app.set_time("2026-01-05T05:00:00Z");
    assert!(app.tick().await.is_empty(), "nothing is due before 08:30 in Paris");
    assert!(app.engine.due_now(couple, ScheduleKind::Prompt).await.unwrap());
    assert_eq!(app.tick().await.len(), 1, "the prompt comes now");
    assert!(app.tick().await.is_empty(), "and once");
    app.engine.pause(couple, Slot::A, None).await.unwrap();
    assert!(!app.engine.due_now(couple, ScheduleKind::Prompt).await.unwrap(), "a pause holds");
    app.advance(Duration::minutes(1));
    assert!(app.tick().await.is_empty());
}
