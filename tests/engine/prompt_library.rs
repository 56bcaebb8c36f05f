//! The shipped library holds what DESIGN.md and the issue ask of it, and the
//! coverage rows (`mend prompts stats`) name what a thin library lacks.

use mend::core::coverage::{self, Repeat};
use mend::core::model::{Audience, Depth, Kind, Phase, Role};
use mend::core::prompts::{Library, PILLARS};

#[test]
fn every_pillar_is_covered_in_every_way() {
    let library = Library::load(&["prompts".into()]).expect("prompts/ loads");
    let coverage = library.coverage();
    assert_eq!(coverage.len(), 10);
    for (id, ..) in PILLARS {
        let c = &coverage[id];
        assert!(c.total >= 15, "{id}: {} prompts", c.total);
        for depth in Depth::ALL {
            assert!(c.depths.get(depth).copied().unwrap_or(0) >= 1, "{id}: no {depth} prompt");
        }
        assert!(c.audiences.get(&Audience::Hurt).copied().unwrap_or(0) >= 2, "{id}: hurt");
        assert!(c.audiences.get(&Audience::Repairing).copied().unwrap_or(0) >= 2, "{id}: repairing");
        assert!(c.kinds.get(&Kind::Journal).copied().unwrap_or(0) >= 1, "{id}: journal");
        assert!(c.kinds.get(&Kind::Action).copied().unwrap_or(0) >= 2, "{id}: action");
    }
    for phase in Phase::ALL {
        let n = library.prompts().iter().filter(|p| p.phases.contains(phase)).count();
        assert!(n >= 30, "{phase}: {n} prompts");
    }
}

#[test]
fn the_built_in_library_is_the_prompts_directory() {
    let built_in = Library::builtin_with(&[]).unwrap();
    let on_disk = Library::load(&["prompts".into()]).unwrap();
    let sorted = |l: &Library| {
        let mut v = l.prompts().to_vec();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    };
    assert!(sorted(&built_in) == sorted(&on_disk), "every file of prompts/ is built in, unchanged");
}

#[test]
fn a_host_can_add_prompts_but_not_reuse_an_id() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("extra.toml"),
        "pillar = \"being-present\"\n[[prompt]]\nid = \"host.001\"\nkind = \"shared\"\naudience = \"both\"\ndepth = \"light\"\nphases = [\"attune\"]\ntext = \"What did you notice about each other today?\"\n",
    )
    .unwrap();
    let library = Library::builtin_with(&[dir.path().into()]).unwrap();
    assert!(library.prompt("host.001").is_some());
    std::fs::write(
        dir.path().join("clash.toml"),
        "pillar = \"being-present\"\n[[prompt]]\nid = \"being-present.001\"\nkind = \"shared\"\naudience = \"both\"\ndepth = \"light\"\nphases = [\"attune\"]\ntext = \"Again?\"\n",
    )
    .unwrap();
    let problems = Library::builtin_with(&[dir.path().into()]).unwrap_err();
    assert!(problems[0].to_string().contains("duplicate id"));
}

/// The shipped library holds enough for every reader in every phase: at least
/// `MIN_FITTING` prompts that fit them, `MIN_LIGHT` of them light.
#[test]
fn every_reader_has_enough_prompts_in_every_phase() {
    let library = Library::load(&["prompts".into()]).expect("prompts/ loads");
    let rows = coverage::rows(&library);
    assert_eq!(rows.len(), coverage::READERS.len() * Phase::ALL.len());
    let shortfalls = coverage::shortfalls(&rows);
    assert!(shortfalls.is_empty(), "below the minimums:\n{}", shortfalls.join("\n"));
    assert!(rows.iter().all(|r| !matches!(r.repeat, Repeat::Silent(_))), "{rows:#?}");
}

/// One pillar file with `n` prompts for both partners, light, in every phase.
fn tiny(n: usize, audience: &str) -> String {
    let mut s = String::from("pillar = \"being-present\"\n");
    for i in 0..n {
        s.push_str(&format!(
            "[[prompt]]\nid = \"tiny.{i}\"\nkind = \"shared\"\naudience = \"{audience}\"\ndepth = \"light\"\nphases = [\"atone\", \"attune\", \"attach\"]\ntext = \"What is one small thing you noticed today? ({i})\"\n"
        ));
    }
    s
}

#[test]
fn a_library_below_the_minimums_is_reported_row_by_row() {
    let (library, problems) = Library::check_source("tiny.toml", &tiny(5, "both"));
    assert!(problems.is_empty(), "{problems:?}");
    let rows = coverage::rows(&library);
    for row in &rows {
        assert_eq!((row.fitting, row.light), (5, 5), "{row:?}");
        // Five prompts, one a day: the sixth day is the first repeat.
        assert_eq!(row.repeat, Repeat::OnDay(5), "{row:?}");
    }
    let shortfalls = coverage::shortfalls(&rows);
    assert_eq!(shortfalls.len(), rows.len(), "one line per row: {shortfalls:#?}");
    assert!(shortfalls.contains(
        &"hurt reader in atone: 5 prompts fit (at least 90 needed); 5 of them light (at least 30 needed)".to_string()
    ));
}

#[test]
fn a_library_with_nothing_for_a_partner_is_reported_as_silent() {
    // Prompts worded for the hurt partner only: nothing fits the one repairing,
    // so a couple after a betrayal would get nothing at all.
    let (library, _) = Library::check_source("tiny.toml", &tiny(100, "hurt"));
    let rows = coverage::rows(&library);
    let hurt = rows.iter().find(|r| r.reader == Role::Hurt && r.phase == Phase::Atone).unwrap();
    assert_eq!((hurt.fitting, hurt.light, hurt.repeat), (100, 100, Repeat::Silent(0)));
    let problem = hurt.problem().expect("a problem");
    assert!(
        problem.ends_with("nothing fits the reader and a repairing partner on day 0, so the couple would go silent"),
        "{problem}"
    );
    assert!(!problem.contains("prompts fit"), "100 fit the hurt reader: {problem}");
    assert!(
        coverage::shortfalls(&rows)
            .iter()
            .any(|p| p.starts_with("drifted reader in attune: 0 prompts fit (at least 90 needed); 0 of them light"))
    );
}
