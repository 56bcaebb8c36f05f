//! The simulator's invariants as tests, on real SQLite files, with downtime,
//! pauses, skips and space: a whole year for one couple of each kind under two
//! seeds, and forty couples side by side. Every run must hold its invariants
//! whatever the seed.

use std::sync::Arc;

use mend::core::prompts::Library;
use mend::simulate::{COUPLE_TYPES, Outcome, SimOptions, run};

async fn run_for(couples: usize, days: u32, seed: u64) -> (Outcome, String) {
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let options = SimOptions { couples, days, seed, db: None, transcript: false };
    let mut out = Vec::new();
    let outcome = run(library, &options, &mut out).await.unwrap();
    (outcome, String::from_utf8_lossy(&out).into_owned())
}

/// No violation, and every kind of couple lived through the run.
fn holds(outcome: &Outcome, summary: &str) {
    assert!(outcome.violations.is_empty(), "{summary}");
    assert_eq!(outcome.types.len(), COUPLE_TYPES.len(), "{summary}");
    for t in &outcome.types {
        assert!(t.couples > 0 && t.deliveries > 0, "no {} couple took part:\n{summary}", t.name);
        assert!(summary.contains(&format!("  {}: {} couples", t.name, t.couples)), "{summary}");
    }
}

/// A year for one couple of each kind (a full `mend simulate --couples 40
/// --days 365` takes minutes in a debug build and is run in release: README).
#[tokio::test]
async fn a_year_of_every_kind_of_couple_keeps_every_invariant() {
    let couples = COUPLE_TYPES.len();
    let (outcome, summary) = run_for(couples, 365, 42).await;
    holds(&outcome, &summary);
    // The run exercised what the invariants are about.
    assert!(outcome.sent > couples * 250, "sent {}\n{summary}", outcome.sent);
    assert!(outcome.missed > 0, "downtime made some prompts miss\n{summary}");
    assert!(outcome.reveals > couples * 60, "reveals {}\n{summary}", outcome.reveals);
    assert!(outcome.pauses > 0, "{summary}");
    assert!(outcome.reflections >= couples * 45, "reflections {}\n{summary}", outcome.reflections);
    // A year is long enough for readers to come round to prompts again, so
    // the no-repeat rule was put to the test.
    assert!(outcome.types.iter().any(|t| t.first_repeat.is_some()), "{summary}");
    // Hard moments were met, shared, and written about privately: no note was
    // ever posted (checked on every post).
    assert!(outcome.hard_moments_shared > 0 && !outcome.private_notes.is_empty(), "{summary}");
    // Commitments were made and asked about, some noticed kept and some not:
    // every ask was checked once per occurrence, every "kept" told once, and
    // no other answer ever posted.
    assert!(outcome.commitments > 0 && outcome.kept > 0, "{summary}");
    assert!(outcome.commitment_asks > outcome.kept, "some asks were answered otherwise\n{summary}");
    assert_eq!(outcome.asked.len(), outcome.commitment_asks, "{summary}");
    // Each reflection came after a check-in to each partner, once a week per
    // couple (checked on every post), with its picture drawn.
    assert!(outcome.check_in_asks >= outcome.reflections * 2, "{summary}");
    assert!(outcome.check_ins > 0 && outcome.check_ins < outcome.check_in_asks, "{summary}");
    assert_eq!(outcome.reflection_weeks.len(), outcome.reflections, "{summary}");
    assert!(outcome.pictures >= 45, "{summary}");
}

/// Another seed, for five months (the suite's time is bounded; the README's
/// release run of forty couples for a year is the longer proof).
#[tokio::test]
async fn five_months_keep_every_invariant_under_another_seed() {
    let (outcome, summary) = run_for(COUPLE_TYPES.len(), 150, 2026).await;
    holds(&outcome, &summary);
}

/// Forty couples side by side on one outbox, for six weeks.
#[tokio::test]
async fn forty_couples_side_by_side_keep_every_invariant() {
    let (outcome, summary) = run_for(40, 42, 7).await;
    holds(&outcome, &summary);
    assert!(outcome.sent > 40 * 28, "sent {}\n{summary}", outcome.sent);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_transcript() {
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let options = SimOptions { couples: 3, days: 20, seed: 9, db: None, transcript: true };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    run(library.clone(), &options, &mut a).await.unwrap();
    run(library, &options, &mut b).await.unwrap();
    assert_eq!(a, b);
}
