//! The `mend` binary as a host uses it: exit codes and what it prints.

use std::process::{Command, Output};

fn mend(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mend"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("mend runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn preview_prints_rfc3339_utc_instants_across_a_dst_gap() {
    let o = mend(&[
        "schedule",
        "preview",
        "daily 02:30",
        "--tz",
        "America/New_York",
        "--from",
        "2026-03-07T12:00:00Z",
        "--count",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "2026-03-08T07:30:00Z\n2026-03-09T06:30:00Z\n2026-03-10T06:30:00Z\n");
}

#[test]
fn preview_takes_crontab_lines() {
    let o = mend(&[
        "schedule",
        "preview",
        "30 8 * * 1-5",
        "--tz",
        "Europe/Paris",
        "--from",
        "2026-11-27T12:00:00Z",
        "--count",
        "2",
    ]);
    assert_eq!(stdout(&o), "2026-11-30T07:30:00Z\n2026-12-01T07:30:00Z\n");
}

#[test]
fn a_bad_spec_or_zone_is_one_line_with_an_example_and_exit_2() {
    for args in [
        vec!["schedule", "preview", "daily 25:00", "--tz", "UTC"],
        vec!["schedule", "preview", "daily 08:00", "--tz", "Atlantis/Capital"],
        vec!["schedule", "preview", "daily 08:00", "--tz", "UTC", "--from", "yesterday"],
    ] {
        let o = mend(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("21:00") || err.contains("Europe/Paris") || err.contains("2026-"),
            "shows an example: {err}"
        );
    }
}

#[test]
fn the_shipped_prompt_library_passes_its_check() {
    let o = mend(&["prompts", "check", "prompts"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("ok: "));
}

#[test]
fn check_names_the_file_and_prompt_of_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(4097);
    std::fs::write(
        dir.path().join("bad.toml"),
        format!(
            r#"pillar = "patience-time"

[[prompt]]
id = "p.1"
kind = "shared"
audience = "both"
depth = "light"
phases = ["atone"]
text = "A fine prompt."

[[prompt]]
id = "p.1"
kind = "shared"
audience = "both"
depth = "light"
phases = ["atone"]
text = "Same id again."

[[prompt]]
id = "p.2"
kind = "poem"
audience = "everyone"
depth = "bottomless"
phases = ["atone", "later"]
text = "   "

[[prompt]]
id = "p.3"
kind = "journal"
audience = "hurt"
depth = "deep"
phases = ["attach"]
text = "{long}"

[[prompt]]
id = "p.4"
kind = "action"
audience = "both"
depth = "light"
phases = ["attune"]
text = "Share your location with each other today."
"#
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("other.toml"), "pillar = \"gardening\"\n").unwrap();
    let o = mend(&["prompts", "check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    for needle in [
        "bad.toml: prompt p.1: duplicate id",
        "bad.toml: prompt p.2: unknown kind `poem`",
        "bad.toml: prompt p.2: unknown audience `everyone`",
        "bad.toml: prompt p.2: unknown depth `bottomless`",
        "bad.toml: prompt p.2: unknown phase `later`",
        "bad.toml: prompt p.2: has an empty `text`",
        "bad.toml: prompt p.3: `text` is 4097 characters",
        "bad.toml: prompt p.4: `text` uses \"location\"",
        "other.toml: unknown pillar `gardening`",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn list_filters_by_pillar_and_refuses_an_unknown_one() {
    let o = mend(&["prompts", "list", "--pillar", "patience-time"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.lines().count() >= 15);
    assert!(out.lines().all(|l| l.starts_with("patience-time.")), "{out}");
    let o = mend(&["prompts", "list", "--pillar", "patience"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("patience-time"));
}

#[test]
fn simulate_prints_a_transcript_and_exits_0_when_the_invariants_hold() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sim.db");
    let o = mend(&["simulate", "--couples", "4", "--days", "15", "--seed", "3", "--db", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("for Alex:") && out.contains("Weekly reflection"), "{out}");
    assert!(out.contains("invariants: all hold"));
    assert!(db.exists(), "the run used a real SQLite file");
}

#[test]
fn status_creates_the_database_from_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let o = Command::new(env!("CARGO_BIN_EXE_mend"))
        .arg("status")
        .env("DATABASE_URL", format!("sqlite://{}", path.display()))
        .env("MEND_KEY", "11".repeat(32))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(path.exists(), "created if missing");
    assert!(stdout(&o).contains("couples: 0 (0 paused)"), "{}", stdout(&o));
}

#[cfg(unix)]
#[test]
fn keygen_writes_an_owner_only_key_and_mend_refuses_to_start_without_the_right_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("mend.key");
    let o = mend(&["keygen", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(mend(&["keygen", key.to_str().unwrap()]).status.code(), Some(2), "never overwrites");

    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let run = |envs: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mend"));
        c.arg("status").env("DATABASE_URL", &db).env_remove("MEND_KEY").env_remove("MEND_KEY_FILE");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let missing = run(&[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("mend keygen"), "{}", stderr(&missing));
    assert!(run(&[("MEND_KEY_FILE", key.to_str().unwrap())]).status.success());
    let wrong = run(&[("MEND_KEY", &"22".repeat(32))]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("not the one the database was written with"), "{}", stderr(&wrong));
    let perms = std::fs::metadata(dir.path().join("m.db")).unwrap().permissions().mode() & 0o777;
    assert_eq!(perms, 0o600, "the database file is owner-only");
}

/// A prompt file with `n` light prompts for both partners, in every phase.
fn thin_library(dir: &std::path::Path, n: usize) {
    let mut s = String::from("pillar = \"being-present\"\n");
    for i in 0..n {
        s.push_str(&format!(
            "[[prompt]]\nid = \"thin.{i}\"\nkind = \"shared\"\naudience = \"both\"\ndepth = \"light\"\nphases = [\"atone\", \"attune\", \"attach\"]\ntext = \"What made you smile today? ({i})\"\n"
        ));
    }
    std::fs::write(dir.join("thin.toml"), s).unwrap();
}

#[test]
fn prompt_stats_prints_a_row_per_reader_and_phase() {
    let o = mend(&["prompts", "stats"]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("reader") && lines[0].contains("fitting") && lines[0].contains("days until a repeat"));
    for reader in ["hurt", "repairing", "drifted", "unsaid"] {
        for phase in ["atone", "attune", "attach"] {
            let row = lines.iter().find(|l| l.split_whitespace().take(2).eq([reader, phase]));
            let row = row.unwrap_or_else(|| panic!("no row for {reader} in {phase}:\n{out}"));
            let numbers: Vec<&str> = row.split_whitespace().skip(2).take(3).collect();
            assert!(numbers.iter().all(|n| n.parse::<u32>().is_ok()), "{row}");
        }
    }
    // The shipped library meets the minimums: exit 0.
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("ok: every reader has at least 90 prompts"), "{out}");
}

#[test]
fn prompt_stats_and_check_fail_on_a_library_below_the_minimums() {
    let dir = tempfile::tempdir().unwrap();
    thin_library(dir.path(), 12);
    let path = dir.path().to_str().unwrap();
    let o = mend(&["prompts", "stats", "--dir", path]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("hurt       atone        12     12  12")), "{out}");
    let reasons: Vec<&str> = out.lines().filter(|l| l.starts_with("too few prompts: ")).collect();
    assert_eq!(reasons.len(), 12, "a line per row:\n{out}");
    assert!(reasons.contains(
        &"too few prompts: drifted reader in attach: 12 prompts fit (at least 90 needed); 12 of them light (at least 30 needed)"
    ));

    let o = mend(&["prompts", "check", path]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("too few prompts: unsaid reader in atone: 12 prompts fit (at least 90 needed)"), "{out}");
    assert!(!out.contains("ok: "), "{out}");
}

/// A `.env` in the working directory is read (what `.env.example` says), and a
/// variable already set in the environment wins over it.
#[test]
fn a_dotenv_file_in_the_working_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "MEND_EXTRA_PROMPTS=/nowhere-from-dotenv\n").unwrap();
    let run = |extra: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mend"));
        c.args(["prompts", "list"]).current_dir(dir.path()).env_remove("DATABASE_URL").env_remove("MEND_EXTRA_PROMPTS");
        if let Some(e) = extra {
            c.env("MEND_EXTRA_PROMPTS", e);
        }
        c.output().expect("mend runs")
    };
    let o = run(None);
    assert!(stderr(&o).contains("/nowhere-from-dotenv"), "the .env was read: {}", stderr(&o));
    let o = run(Some("/nowhere-from-the-environment"));
    assert!(stderr(&o).contains("/nowhere-from-the-environment"), "the environment wins: {}", stderr(&o));
    assert!(!stderr(&o).contains("dotenv"), "{}", stderr(&o));
}

/// `.env.example` copied to `.env` as it is works: its empty lines
/// (`DISCORD_GUILD_ID=`) mean "not set", so mend asks for what is missing (the
/// token) instead of refusing an empty server id.
#[test]
fn the_example_env_file_copied_as_it_is_asks_only_for_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
    std::fs::write(dir.path().join(".env"), example).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_mend"));
    c.arg("run").current_dir(dir.path());
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("MEND_") || n.starts_with("DISCORD_")) {
        c.env_remove(name);
    }
    let o = c.env_remove("DATABASE_URL").output().expect("mend runs");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("DISCORD_TOKEN is not set"), "{}", stderr(&o));
}

/// `mend backup` writes an owner-only copy the key opens, and never over a file.
#[test]
fn backup_writes_a_copy_never_over_a_file_and_restore_puts_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    assert!(mend(&["keygen", key.to_str().unwrap()]).status.success());
    let run = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_mend"))
            .args(["backup", file])
            .current_dir(dir.path())
            .env("DATABASE_URL", "sqlite://m.db")
            .env("MEND_KEY_FILE", &key)
            .env_remove("MEND_KEY")
            .output()
            .expect("mend runs")
    };
    let o = run("copy.db");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("this key opens it"), "{}", stdout(&o));
    let o = run("copy.db");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("never overwrites"), "{}", stderr(&o));

    // Restore: another key is refused before anything is touched; the key
    // puts it back, keeping the database it replaces beside it.
    let other = dir.path().join("other.key");
    assert!(mend(&["keygen", other.to_str().unwrap()]).status.success());
    let restore = |key: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_mend"))
            .args(["restore", "copy.db"])
            .current_dir(dir.path())
            .env("DATABASE_URL", "sqlite://m.db")
            .env("MEND_KEY_FILE", key)
            .env_remove("MEND_KEY")
            .output()
            .expect("mend runs")
    };
    let o = restore(&other);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let aside = |d: &std::path::Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("before-restore"))
            .count()
    };
    assert_eq!(aside(dir.path()), 0, "nothing was touched");
    let o = restore(&key);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("is kept as"), "{}", stdout(&o));
    assert!(aside(dir.path()) >= 1);
    let o = Command::new(env!("CARGO_BIN_EXE_mend"))
        .arg("status")
        .current_dir(dir.path())
        .env("DATABASE_URL", "sqlite://m.db")
        .env("MEND_KEY_FILE", &key)
        .output()
        .unwrap();
    assert!(o.status.success() && stdout(&o).contains("couples: 0"), "the restored database opens: {}", stderr(&o));
}

/// A key handed over as a systemd credential is readable through an ACL, so
/// its group bits show the ACL's mask (0440): taken from
/// `$CREDENTIALS_DIRECTORY`, refused anywhere else.
#[cfg(unix)]
#[test]
fn a_key_in_the_services_credentials_directory_is_taken_as_it_is() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    let key = creds.join("mend.key");
    assert!(mend(&["keygen", key.to_str().unwrap()]).status.success());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o440)).unwrap();
    let status = |credentials: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mend"));
        c.arg("status").current_dir(dir.path()).env("DATABASE_URL", "sqlite://m.db").env("MEND_KEY_FILE", &key);
        c.env_remove("MEND_KEY").env_remove("CREDENTIALS_DIRECTORY");
        if let Some(d) = credentials {
            c.env("CREDENTIALS_DIRECTORY", d);
        }
        c.output().expect("mend runs")
    };
    let o = status(None);
    assert_eq!(o.status.code(), Some(2), "a key others could read is refused: {}", stderr(&o));
    let o = status(Some(&creds));
    assert!(o.status.success(), "a credential is taken: {}", stderr(&o));
    let o = status(Some(dir.path()));
    assert_eq!(o.status.code(), Some(2), "only in the credentials directory itself: {}", stderr(&o));
}

/// A line of `.env` that does not parse is named, never printed: it may hold
/// the token.
#[test]
fn a_bad_dotenv_line_is_named_without_its_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "DISCORD_TOKEN=abc secret-token-value\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mend"))
        .args(["prompts", "list"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .expect("mend runs");
    assert!(stderr(&o).contains(".env was not read") && stderr(&o).contains("DISCORD_TOKEN"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("secret-token-value"), "{}", stderr(&o));
}

/// The sandbox starts its database and key afresh, so it refuses the host's
/// real ones, and leaves them as they were.
#[test]
fn the_sandbox_never_wipes_the_real_database_or_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mend.db"), b"the real one").unwrap();
    std::fs::write(dir.path().join("real.key"), b"the real key").unwrap();
    let run = |db: &str, key: &str| {
        Command::new(env!("CARGO_BIN_EXE_mend"))
            .args(["sandbox", "--db", db])
            .current_dir(dir.path())
            .env("DATABASE_URL", "sqlite://mend.db")
            .env("MEND_KEY_FILE", dir.path().join(key))
            .output()
            .expect("mend runs")
    };
    let o = run("mend.db", "other.key");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("real database (DATABASE_URL)"), "{}", stderr(&o));
    let o = run("real.db", "real.key");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("(MEND_KEY_FILE)"), "{}", stderr(&o));
    assert_eq!(std::fs::read(dir.path().join("mend.db")).unwrap(), b"the real one");
    assert_eq!(std::fs::read(dir.path().join("real.key")).unwrap(), b"the real key");
}

/// A `MEND_SHARDS` that names no real part of the shards is refused before
/// anything starts: one line with the fix, exit 2, in the environment or as
/// `--shards`.
#[test]
fn a_bad_shard_range_is_one_line_with_the_fix_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (how, value, says) in [
        ("env", "5/4", "mend: MEND_SHARDS: there is no shard 5 of 4 (shards are numbered 0 to 3)"),
        (
            "flag",
            "2-1/4",
            "mend: MEND_SHARDS: the range 2-1 runs backwards — write the lower shard first: MEND_SHARDS=1-2/4",
        ),
        ("env", "0/0", "mend: MEND_SHARDS: there must be at least 1 shard in all"),
    ] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mend"));
        c.arg("run").current_dir(dir.path()).env_remove("DATABASE_URL").env("DISCORD_TOKEN", "not-used");
        match how {
            "env" => c.env("MEND_SHARDS", value),
            _ => c.env_remove("MEND_SHARDS").args(["--shards", value]),
        };
        let o = c.output().expect("mend runs");
        assert_eq!(o.status.code(), Some(2), "{value}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{value}: {}", stderr(&o));
        assert!(stderr(&o).starts_with(says), "{value}: {}", stderr(&o));
        assert!(!dir.path().join("mend.db").exists(), "{value}: refused before the database was opened");
    }
}
