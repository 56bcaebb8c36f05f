//! The simulator's invariants as tests, on real SQLite files, with downtime,
//! pauses, skips and space: 40 couples of every kind for a whole year, and the
//! same year for one couple of each kind under other seeds. Every run must hold
//! its invariants whatever the seed.

use std::sync::Arc;

use mend::core::prompts::Library;
use mend::simulate::{COUPLE_TYPES, Outcome, SimOptions, run};

async fn year(couples: usize, seed: u64) -> (Outcome, String) {
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let options = SimOptions { couples, days: 365, seed, db: None, transcript: false };
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

/// The full run the simulator is meant for: `mend simulate --couples 40 --days 365`.
#[tokio::test]
async fn forty_couples_for_a_year_keep_every_invariant() {
    let (outcome, summary) = year(40, 42).await;
    holds(&outcome, &summary);
    // The run exercised what the invariants are about.
    assert!(outcome.sent > 40 * 250, "sent {}", outcome.sent);
    assert!(outcome.missed > 0, "downtime made some prompts miss");
    assert!(outcome.reveals > 3000, "reveals {}", outcome.reveals);
    assert!(outcome.pauses > 0);
    assert!(outcome.reflections >= 40 * 45, "reflections {}", outcome.reflections);
    // A year is long enough for readers to come round to prompts again, so
    // the no-repeat rule was put to the test.
    assert!(outcome.types.iter().any(|t| t.first_repeat.is_some()), "{summary}");
}

/// Other seeds, one couple of each kind for the same year (a full 40-couple year
/// costs minutes in a debug build; see `forty_couples_for_a_year_…`).
#[tokio::test]
async fn a_year_of_every_kind_of_couple_keeps_every_invariant_under_other_seeds() {
    for seed in [7, 2026] {
        let (outcome, summary) = year(COUPLE_TYPES.len(), seed).await;
        holds(&outcome, &summary);
    }
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
