//! Fuzzing, driven by proptest, of everything mend parses from people: schedule
//! specs, prompt files, button and modal custom ids, answer text. Each target
//! runs for a bounded time and fails on a panic or a broken promise.
//!
//! In the test suite each runs for a few seconds. For a longer hunt:
//!
//! ```sh
//! MEND_FUZZ_SECONDS=300 cargo test --release --test fuzz -- --nocapture
//! ```

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use mend::core::answer::{Answer, MAX_ANSWER_CHARS};
use mend::core::prompts::{Library, MAX_TEXT_CHARS};
use mend::core::schedule::Schedule;
use mend::discord::ids::Action;

/// Runs `test` on inputs from `strategy` until the time is up; a failure
/// panics with the (shrunk) input. Deterministic: the same inputs every run.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let seconds: u64 = std::env::var("MEND_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let config = Config { cases: 256, failure_persistence: None, ..Config::default() };
    let mut inputs = 0u64;
    let mut round = 0u64;
    while Instant::now() < deadline {
        // A runner stops after `cases` successes: a fresh one per round, on a
        // fork of one seeded generator, so every round tries new inputs.
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&round.to_le_bytes());
        round += 1;
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
        let mut runner = TestRunner::new_with_rng(config.clone(), rng);
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("{name}: {e}");
        }
        inputs += u64::from(config.cases);
    }
    eprintln!("{name}: {inputs} inputs in {seconds} s, no failure");
}

/// Text made of pieces that look like what people type, plus anything at all.
fn spec_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("daily".to_string()),
        Just("weekdays".to_string()),
        Just("weekends".to_string()),
        Just("mon,wed,fri".to_string()),
        "[0-9]{1,3}:[0-9]{1,3}",
        "[0-9*/,-]{1,8}",
        "[a-z]{1,5}",
        "\\PC{0,6}",
    ];
    prop::collection::vec(piece, 0..7).prop_map(|p| p.join(" "))
}

#[test]
fn schedule_specs() {
    let zones = ["UTC", "Europe/Paris", "America/New_York", "Pacific/Apia", "Asia/Kathmandu", "Australia/Lord_Howe"];
    fuzz("schedule specs", (spec_like(), 0usize..zones.len(), 0i64..2_000_000_000), |(spec, z, from)| {
        match Schedule::parse(&spec, zones[z]) {
            Ok(s) => {
                let from = Utc.timestamp_opt(from, 0).unwrap();
                let next = s.upcoming(from, 3);
                prop_assert!(!next.is_empty(), "{spec:?} parsed but never fires");
                prop_assert!(next[0] > from);
                prop_assert!(next.windows(2).all(|w| w[0] < w[1]));
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(!message.is_empty() && !message.contains('\n'), "one line: {message:?}");
            }
        }
        Ok(())
    });
}

fn toml_like() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "\"[^\"\\\\\n]{0,40}\"",
        "\\[(\"[a-z]{0,8}\", ?){0,4}\\]",
        "[0-9]{1,5}",
        "\\PC{0,20}",
        Just(format!("\"{}\"", "x".repeat(MAX_TEXT_CHARS + 1))),
    ];
    let key = prop_oneof![
        Just("pillar"),
        Just("id"),
        Just("kind"),
        Just("audience"),
        Just("depth"),
        Just("phases"),
        Just("text"),
        Just("name"),
        Just("colour"),
        Just("bogus")
    ];
    let line = prop_oneof![
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        Just("[[prompt]]".to_string()),
        Just("pillar = \"patience-time\"".to_string()),
        Just("kind = \"shared\"".to_string()),
        "\\PC{0,30}",
    ];
    prop::collection::vec(line, 0..30).prop_map(|l| l.join("\n"))
}

#[test]
fn prompt_files() {
    fuzz("prompt files", toml_like(), |text| {
        let (library, problems) = Library::check_source("fuzz.toml", &text);
        for p in &problems {
            prop_assert!(p.to_string().starts_with("fuzz.toml"), "every problem names the file: {p}");
        }
        for prompt in library.prompts() {
            let chars = prompt.text.chars().count();
            prop_assert!(chars > 0 && chars <= MAX_TEXT_CHARS, "only valid prompts load");
            prop_assert!(!prompt.id.is_empty() && !prompt.phases.is_empty());
        }
        Ok(())
    });
}

#[test]
fn custom_ids() {
    let id_like = prop_oneof![
        "mend:[a-z]{0,12}:[0-9a-z:-]{0,24}",
        "\\PC{0,110}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ];
    fuzz("custom ids", id_like, |id| {
        if let Some(action) = Action::parse(&id) {
            // Whatever parses means exactly what mend would have written.
            prop_assert_eq!(action.custom_id(), id.clone());
            prop_assert!(id.len() <= 100);
        }
        Ok(())
    });
}

#[test]
fn answer_text() {
    let text = prop_oneof![
        "\\PC{0,1200}",
        "[\u{200B}-\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}\u{FEFF} \n\t]{0,40}",
        "(@everyone|@here|<@[0-9]{1,20}>|\\*\\*|```|> ){0,20}",
    ];
    fuzz("answer text", text, |raw| {
        match Answer::text(&raw) {
            Ok(Answer::Text(kept)) => {
                let chars = kept.chars().count();
                prop_assert!(chars > 0 && chars <= MAX_ANSWER_CHARS);
                prop_assert_eq!(kept.as_str(), raw.trim(), "kept as written");
            }
            Ok(other) => prop_assert!(false, "a text answer came back as {other:?}"),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    });
}
