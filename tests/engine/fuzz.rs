//! Fuzzing, driven by proptest, of everything mend parses from people: schedule
//! specs, prompt files, button and modal custom ids, answer text. Each target
//! runs for a bounded time and fails on a panic or a broken promise.
//!
//! In the test suite each runs for a few seconds. For a longer hunt:
//!
//! ```sh
//! MEND_FUZZ_SECONDS=300 cargo test --release --test fuzz -- --nocapture
//! ```

use std::cell::Cell;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use mend::core::answer::{Answer, MAX_ANSWER_CHARS};
use mend::core::model::Role;
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
                // The floor check and the shortest gap agree, and gaps are real.
                let hour = chrono::TimeDelta::minutes(60);
                let gap = s.shortest_gap(from);
                prop_assert!(gap.is_none_or(|g| g > chrono::TimeDelta::zero()), "{spec:?}: {gap:?}");
                let refused = s.check_floor(hour, from).is_err();
                prop_assert_eq!(refused, gap.is_some_and(|g| g < hour), "{:?} in {} from {}", spec, zones[z], from);
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

/// Every verb mend writes into a custom id.
const VERBS: [&str; 14] = [
    "answer",
    "submit",
    "skip",
    "space",
    "done",
    "nottoday",
    "meaningful",
    "accept",
    "decline",
    "askrole",
    "role",
    "phase",
    "forget",
    "end",
];

fn canonical_id() -> BoxedStrategy<String> {
    prop_oneof![1i64..1000, 1i64..=i64::MAX].prop_map(|n| n.to_string()).boxed()
}

fn role_name() -> BoxedStrategy<String> {
    prop::sample::select(Role::ALL.to_vec()).prop_map(|r| r.as_str().to_string()).boxed()
}

/// What mend itself would put after this verb.
fn right_arg(verb: &'static str) -> BoxedStrategy<String> {
    match verb {
        "role" => role_name(),
        "phase" => prop::sample::select(vec!["forward", "back"]).prop_map(String::from).boxed(),
        "askrole" | "forget" | "end" => Just(String::new()).boxed(),
        _ => canonical_id(),
    }
}

/// Arguments that look like mend's but are not, or belong to another verb.
fn near_arg() -> BoxedStrategy<String> {
    let odd = ["0", "-0", "+0", "00", "01", "+1", "-1", " 1", "1 ", "1e3", "0x1", "1_000", "1.0", "١", "１"];
    let wrong_words = ["HURT", "Hurt", "hurt ", "boss", "forward", "back", "Forward", "sideways"];
    prop_oneof![
        3 => canonical_id(),
        1 => prop::sample::select(odd.to_vec()).prop_map(String::from),
        1 => (1i64..=i64::MAX).prop_map(|n| format!("0{n}")),
        1 => (1i64..=i64::MAX).prop_map(|n| format!("+{n}")),
        1 => (i64::MIN..=0).prop_map(|n| n.to_string()),
        1 => ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(|n| n.to_string()),
        1 => "[1-9][0-9]{19,30}",
        1 => role_name(),
        1 => prop::sample::select(wrong_words.to_vec()).prop_map(String::from),
        1 => Just(String::new()),
        1 => "[0-9a-z:+ -]{0,12}",
        1 => "\\PC{0,8}",
    ]
    .boxed()
}

/// Custom ids built mostly from mend's own verbs and arguments, so that parsing
/// of real ids is what gets exercised, plus anything at all.
fn custom_id_like() -> impl Strategy<Value = String> {
    let verb = prop_oneof![
        9 => prop::sample::select(VERBS.to_vec()).prop_map(String::from),
        1 => prop_oneof![
            prop::sample::select(vec!["Skip", "SKIP", "skip ", " skip", "askrole ", "phases", ""])
                .prop_map(String::from),
            "[a-z]{0,12}",
        ],
    ];
    let verb_and_arg = verb.prop_flat_map(|verb| {
        let right = VERBS.iter().copied().find(|v| *v == verb).map_or_else(near_arg, right_arg);
        (Just(verb), prop_oneof![3 => right, 2 => near_arg()])
    });
    let prefix = prop_oneof![
        9 => Just("mend".to_string()),
        1 => prop::sample::select(vec!["", "Mend", "MEND", "mend ", " mend", "mendx", "x"]).prop_map(String::from),
    ];
    let shape = 0u8..20;
    let junk = "[0-9a-z:]{0,6}";
    let built = (prefix, verb_and_arg, shape, junk).prop_map(|(prefix, (verb, arg), shape, junk)| match shape {
        0 => format!("{prefix}:{verb}"),
        1 => format!("{prefix}:{verb}:{arg}:{junk}"),
        2 => format!("{prefix}:{verb}:{arg}{junk}"),
        3 => format!("{prefix}{verb}:{arg}"),
        _ => format!("{prefix}:{verb}:{arg}"),
    });
    prop_oneof![
        8 => built,
        1 => "\\PC{0,110}",
        1 => any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

#[test]
fn custom_ids() {
    let cases = Cell::new(0u64);
    let parsed = Cell::new(0u64);
    fuzz("custom ids", custom_id_like(), |id| {
        cases.set(cases.get() + 1);
        if let Some(action) = Action::parse(&id) {
            parsed.set(parsed.get() + 1);
            // Whatever parses means exactly what mend would have written: no two
            // strings are the same action.
            prop_assert_eq!(action.custom_id(), id.clone());
            prop_assert!(id.len() <= 100);
        }
        Ok(())
    });
    let (cases, parsed) = (cases.get(), parsed.get());
    eprintln!("custom ids: {parsed} of {cases} parsed");
    // Guards the generator: a target that never builds a real id tests nothing.
    assert!(parsed * 5 >= cases, "only {parsed} of {cases} generated ids parsed");
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
