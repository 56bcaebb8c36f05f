//! The hosting kit: the systemd units pass `systemd-analyze verify` with no
//! warning, and every variable the units and the container file set is one
//! mend reads (a misspelt name would be silently ignored).

use std::path::Path;
use std::process::Command;

const UNITS: [&str; 3] = ["mend.service", "mend-backup.service", "mend-backup.timer"];

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_systemd_units_verify_cleanly() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        panic!("systemd-analyze is missing: it comes with Debian's systemd package, which this machine kind has");
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    // The units name the installed binary; the one just built stands in for it.
    for unit in UNITS {
        let text = repo(&format!("deploy/{unit}")).replace("/usr/local/bin/mend", env!("CARGO_BIN_EXE_mend"));
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(UNITS.map(|u| dir.path().join(u)))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    // Unknown or misplaced keys are only warnings: none may be said of our units.
    let ours: Vec<&str> = said.lines().filter(|l| UNITS.iter().any(|u| l.contains(u))).collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

/// `NAME=` settings of mend's own (DATABASE_URL, DISCORD_*, MEND_*) in `text`.
fn variables(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit() || c == '='))
        .flat_map(|w| {
            let pieces: Vec<&str> = w.split('=').collect();
            pieces[..pieces.len() - 1].iter().map(|p| p.to_string()).collect::<Vec<_>>()
        })
        .filter(|n| n == "DATABASE_URL" || n.starts_with("MEND_") || n.starts_with("DISCORD_"))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_units_and_the_container_set_only_variables_mend_reads() {
    let known = variables(&repo(".env.example"));
    assert!(known.contains(&"MEND_KEY_FILE".to_string()) && known.contains(&"DATABASE_URL".to_string()));
    for file in ["deploy/mend.service", "deploy/mend-backup.service", "Dockerfile"] {
        let set = variables(&repo(file));
        assert!(set.contains(&"DATABASE_URL".to_string()), "{file} names the database");
        for name in set {
            assert!(known.contains(&name), "{file} sets {name}, which .env.example does not list (is it misspelt?)");
        }
    }
    // The container runs as a user of its own and keeps its data on the volume.
    let docker = repo("Dockerfile");
    assert!(docker.lines().any(|l| l.trim() == "USER mend"), "the container does not run as root");
    assert!(docker.contains("FROM rust:") && docker.contains("COPY --from=build"), "a multi-stage build");
    assert!(docker.contains("HEALTHCHECK") && docker.contains("/healthz"));
    assert!(docker.contains("sqlite:///data/") && docker.contains("MEND_KEY_FILE=/data/"));
}
