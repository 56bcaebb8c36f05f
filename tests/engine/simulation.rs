//! The simulator's invariants as a test: 50 couples over 120 days, with
//! downtime, pauses, skips and space, on a real SQLite file.

use std::sync::Arc;

use mend::core::prompts::Library;
use mend::simulate::{SimOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_couples_for_120_days_keep_every_invariant() {
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let options = SimOptions { couples: 50, days: 120, seed: 42, db: None, transcript: false };
    let mut out = Vec::new();
    let outcome = run(library, &options, &mut out).await.unwrap();
    assert!(outcome.violations.is_empty(), "{}", String::from_utf8_lossy(&out));
    // The run exercised what the invariants are about.
    assert!(outcome.sent > 50 * 80, "sent {}", outcome.sent);
    assert!(outcome.missed > 0, "downtime made some prompts miss");
    assert!(outcome.reveals > 1000);
    assert!(outcome.pauses > 0);
    assert!(outcome.reflections >= 50 * 16, "reflections {}", outcome.reflections);
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
