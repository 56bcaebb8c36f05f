//! Two partners answering at the same instant. SQLite's one writer made the
//! second answer always read the first; on PostgreSQL two transactions run
//! side by side, so without the couple's lock each would read only its own
//! answer and neither would reveal (or, read the other way, both would).
//! `MEND_TEST_BACKEND=postgres` runs this on PostgreSQL (`.ci/run` does).

use std::collections::HashMap;
use std::sync::Arc;

use mend::core::answer::Answer;
use mend::core::model::{Kind, Role, Slot};
use mend::engine::Job;
use tokio::sync::Barrier;

use crate::support::app::TestApp;

const COUPLES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_couples_answering_at_the_same_instant_each_reveal_exactly_once() {
    let app = TestApp::new().await;
    let mut couples = Vec::with_capacity(COUPLES);
    for _ in 0..COUPLES {
        couples.push(app.couple([Role::Drifted, Role::Drifted]).await);
    }
    // Move day by day until every couple has had a prompt that is revealed
    // (shared or action; a journal prompt is never shown to the partner).
    let mut prompts = HashMap::new();
    while prompts.len() < COUPLES {
        for p in app.next_day().await {
            if p.kind != Kind::Journal {
                prompts.entry(p.delivery.couple_id).or_insert(p);
            }
        }
    }

    // Both partners of every couple answer at once: 400 answers released
    // together, on as many connections as the pool gives.
    let start = Arc::new(Barrier::new(COUPLES * 2));
    let mut answering = Vec::new();
    for (&couple, p) in &prompts {
        for slot in [Slot::A, Slot::B] {
            let (engine, start, delivery, kind) = (app.engine.clone(), start.clone(), p.delivery.id, p.kind);
            answering.push(tokio::spawn(async move {
                let text = format!("at the same instant, {slot:?}");
                let answer = match kind {
                    Kind::Action => Answer::action(true, Some(&text)).unwrap(),
                    _ => Answer::text(&text).unwrap(),
                };
                start.wait().await;
                let saved = engine.answer(couple, delivery, slot, answer).await.unwrap();
                (couple, saved.revealed)
            }));
        }
    }
    let mut revealed_by: HashMap<_, usize> = HashMap::new();
    for answered in answering {
        let (couple, revealed) = answered.await.unwrap();
        *revealed_by.entry(couple).or_default() += revealed as usize;
    }
    for couple in &couples {
        assert_eq!(revealed_by[couple], 1, "couple {couple}: exactly one of the two answers reveals");
    }

    // What the worker posts: one reveal per couple, holding both answers.
    let mut posted: HashMap<_, usize> = HashMap::new();
    loop {
        let step = app.step_posts().await;
        if step.is_empty() {
            break;
        }
        for p in step {
            if let Job::Reveal { reveal, .. } = p.job {
                assert!(reveal.responses.iter().all(|r| r.body.is_some()), "a reveal holds both answers");
                *posted.entry(reveal.delivery.couple_id).or_default() += 1;
            }
        }
    }
    assert_eq!(posted.len(), COUPLES, "every couple's answers are revealed");
    assert!(posted.values().all(|&n| n == 1), "and each only once: {posted:?}");
}
