//! The shipped library holds what DESIGN.md and the issue ask of it.

use mend::core::model::{Audience, Depth, Kind, Phase};
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
