//! `mend doctor`: everything `mend run` depends on, checked and printed as a
//! checklist, one line per check, each problem with its fix in plain words.
//! Exit 0 when all is well, 1 otherwise.

use std::path::Path;
use std::process::ExitCode;

use super::RunArgs;
use crate::config::StoreConfig;
use crate::crypto::{Cipher, Key, KeyError};
use crate::discord::checks::Check;

/// Less room than this on the database's disk is a problem: SQLite needs
/// space for its write-ahead log and for `mend backup`.
const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;

pub(super) async fn doctor(store: &StoreConfig, args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut checks = Vec::new();
    checks.extend(discord(&args).await);
    let key = Key::from_env();
    checks.push(key_check(&key));
    checks.extend(database(store, key.as_ref().ok()).await);
    checks.extend(keystore(store, key.as_ref().ok()).await);
    checks.push(settings(&args));
    for check in &checks {
        println!("{check}");
    }
    let problems = checks.iter().filter(|c| !c.ok).count();
    if problems == 0 {
        println!("all well: mend is ready to run");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{problems} problem(s) to fix before mend runs well");
        Ok(ExitCode::FAILURE)
    }
}

async fn discord(args: &RunArgs) -> Vec<Check> {
    let Some(token) = args.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return vec![Check::problem(
            "DISCORD_TOKEN is not set",
            "put your bot token in it (Developer Portal → your app → Bot → Reset Token)",
        )];
    };
    let config = crate::discord::BotConfig {
        token: crate::discord::Secret::new(token),
        guild_id: args.guild_id,
        api_addr: args.api_addr,
        extra_root_cert: args.extra_root_cert.clone(),
        http_timeout: std::time::Duration::from_secs(args.timeout_seconds.clamp(1, 600)),
        shards: args.shards().ok().flatten(),
        settings: crate::discord::BotSettings::default(),
    };
    crate::discord::checks::discord(&config).await
}

/// The keystore: named (required beside PostgreSQL), owner-only, and opened
/// by the key. A missing SQLite keystore is not created here.
async fn keystore(store: &StoreConfig, key: Option<&Key>) -> Vec<Check> {
    let url = match store.keystore_url() {
        Ok(url) => url,
        Err(problem) => {
            let (what, fix) = problem.split_once(": ").unwrap_or((problem.as_str(), "set MEND_KEYSTORE"));
            return vec![Check::problem(what, fix)];
        }
    };
    let shown = crate::store::shown_url(&url);
    let mut checks = Vec::new();
    if let Some(path) = crate::store::file_of(&url) {
        if !path.exists() {
            return vec![Check::ok(format!(
                "the keystore {shown} does not exist yet: mend creates it at its next start (keep it with the database, out of its backups)"
            ))];
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            checks.push(if mode & 0o077 == 0 {
                Check::ok(format!("the keystore {shown} is readable by its owner only"))
            } else {
                Check::problem(
                    format!("the keystore {shown} can be read by other users"),
                    format!("run `chmod 600 {}`", path.display()),
                )
            });
        }
    }
    let Some(key) = key else { return checks };
    let opened = match crate::store::keys::Keys::open(&url, Cipher::new(key)).await {
        Ok(keys) => keys,
        Err(e) => {
            checks.push(Check::problem(
                format!("could not open the keystore {shown}: {e}"),
                "check MEND_KEYSTORE (a file path, or the URL of a PostgreSQL database of its own)",
            ));
            return checks;
        }
    };
    checks.push(match opened.host_opens().await {
        Ok(Some(true)) => Check::ok(format!("the key opens the partners' keys in the keystore {shown}")),
        Ok(None) => Check::ok(format!("the keystore {shown} holds no partner's key yet")),
        Ok(Some(false)) => Check::problem(
            format!("the key does not open the partners' keys in the keystore {shown}"),
            "set MEND_KEY / MEND_KEY_FILE to the key mend last ran with (after `mend rekey`, the new one)",
        ),
        Err(e) => Check::problem(format!("could not read the keystore {shown}: {e}"), "check MEND_KEYSTORE"),
    });
    opened.close().await;
    checks
}

fn key_check(key: &Result<Key, KeyError>) -> Check {
    let from = match std::env::var_os("MEND_KEY").filter(|k| !k.is_empty()) {
        Some(_) => "MEND_KEY".to_string(),
        None => format!("MEND_KEY_FILE={}", std::env::var("MEND_KEY_FILE").unwrap_or_default()),
    };
    match key {
        Ok(_) if from == "MEND_KEY" => Check::ok("the key is set (MEND_KEY)"),
        Ok(_) => Check::ok(format!("the key is readable by its owner only ({from})")),
        Err(e) => {
            let what = e.to_string();
            // KeyError's words already say what to do; split them at the fix.
            match what.split_once(": run ").or_else(|| what.split_once("; run ")) {
                Some((problem, fix)) => Check::problem(problem, format!("run {fix}")),
                None => Check::problem(what, "set MEND_KEY or MEND_KEY_FILE to the key the database was written with"),
            }
        }
    }
}

async fn database(store: &StoreConfig, key: Option<&Key>) -> Vec<Check> {
    let url = store.url();
    if crate::store::Backend::of_url(&url) == crate::store::Backend::Postgres {
        return postgres(&url, key).await;
    }
    let Some(path) = crate::store::file_of(&url) else {
        return vec![Check::problem(
            format!("DATABASE_URL ({}) names no file", store.database_url),
            "set DATABASE_URL to a file, e.g. sqlite://mend.db",
        )];
    };
    let shown = path.display().to_string();
    let mut checks = Vec::new();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    checks.push(free_space(dir));
    checks.push(writable(dir, &path));
    if !path.exists() {
        checks
            .push(Check::ok(format!("database {shown} does not exist yet: mend creates it (owner-only) as it starts")));
        return checks;
    }
    checks.push(owner_only(&path));
    let Some(key) = key else {
        checks.push(Check::problem(
            format!("could not check database {shown} without the key"),
            "fix the key first (above)",
        ));
        return checks;
    };
    let found = crate::store::inspect(&path, &Cipher::new(key)).await;
    report_inspection(&mut checks, &shown, found);
    checks
}

/// What `store::inspect` found in the database `shown`, as checks.
fn report_inspection(
    checks: &mut Vec<Check>,
    shown: &str,
    found: Result<crate::store::Inspection, crate::store::StoreError>,
) {
    match found {
        Err(e) => checks.push(Check::problem(
            format!("could not open database {shown}: {e}"),
            "check DATABASE_URL names mend's database and that it is readable by you",
        )),
        Ok(found) => {
            if !found.unknown.is_empty() || !found.failed.is_empty() {
                checks.push(Check::problem(
                    format!(
                        "database {shown} has migrations this mend does not know or that failed ({:?})",
                        [found.unknown, found.failed].concat()
                    ),
                    "run the newest mend, or restore a backup (`mend restore FILE`)",
                ));
            } else if found.pending.is_empty() {
                checks.push(Check::ok(format!("database {shown}: all {} migrations applied", found.applied)));
            } else {
                checks.push(Check::ok(format!(
                    "database {shown}: {} migrations applied, {} pending ({}); `mend run` applies them as it starts",
                    found.applied,
                    found.pending.len(),
                    found.pending.join(", ")
                )));
            }
            checks.push(match found.key_opens {
                Some(true) => Check::ok("the key opens the database"),
                None => Check::ok("the database holds no key check yet: mend records this key at its next start"),
                Some(false) => Check::problem(
                    "the key does not open the database (it was written with another key)",
                    "set MEND_KEY / MEND_KEY_FILE to the original key; without it the answers stored cannot be read",
                ),
            });
        }
    }
}

/// A PostgreSQL database: reachable, its migrations, and the key.
async fn postgres(url: &str, key: Option<&Key>) -> Vec<Check> {
    let shown = crate::store::shown_url(url);
    let Some(key) = key else {
        return vec![Check::problem(
            format!("could not check database {shown} without the key"),
            "fix the key first (above)",
        )];
    };
    let mut checks = Vec::new();
    let found = crate::store::inspect_postgres(url, &Cipher::new(key)).await;
    report_inspection(&mut checks, &shown, found);
    checks
}

#[cfg(unix)]
fn owner_only(path: &Path) -> Check {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let exposed: Vec<String> = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| format!("{shown}{suffix}"))
        .filter_map(|file| {
            let mode = std::fs::metadata(&file).ok()?.permissions().mode();
            (mode & 0o077 != 0).then(|| format!("{file} (mode {:o})", mode & 0o777))
        })
        .collect();
    if exposed.is_empty() {
        Check::ok(format!("database {shown} is readable by its owner only"))
    } else {
        let files: Vec<&str> = exposed.iter().map(|e| e.split(" (").next().unwrap_or_default()).collect();
        Check::problem(
            format!("other users can read {}", exposed.join(", ")),
            format!("run `chmod 600 {}`", files.join(" ")),
        )
    }
}

#[cfg(not(unix))]
fn owner_only(path: &Path) -> Check {
    Check::ok(format!("database {} (file modes are not checked on this system)", path.display()))
}

fn free_space(dir: &Path) -> Check {
    #[cfg(unix)]
    match rustix::fs::statvfs(dir) {
        Ok(st) => {
            let free = st.f_bavail.saturating_mul(st.f_frsize);
            let mib = free / (1024 * 1024);
            if free >= MIN_FREE_BYTES {
                Check::ok(format!("{mib} MiB free on the disk of {}", dir.display()))
            } else {
                Check::problem(
                    format!("only {mib} MiB free on the disk of {}", dir.display()),
                    format!(
                        "free at least {} MiB there (SQLite needs room to write, and backups too)",
                        MIN_FREE_BYTES / (1024 * 1024)
                    ),
                )
            }
        }
        Err(e) => Check::problem(
            format!("could not read the free space of {}: {e}", dir.display()),
            "check the database's directory exists",
        ),
    }
    #[cfg(not(unix))]
    Check::ok(format!("free space of {} is not checked on this system", dir.display()))
}

fn settings(args: &RunArgs) -> Check {
    let b = &args.bot;
    match b.settings().and_then(|_| args.shards()) {
        Ok(shards) => Check::ok(format!(
            "settings: timezone {}, prompts \"{}\", reflections \"{}\", a nudge after {} min within {}, schedules at most every {} min{}",
            b.default_tz,
            b.default_schedule,
            b.default_reflection,
            b.nudge_after_minutes,
            b.nudge_hours,
            b.min_interval_minutes,
            shards.map(|r| format!(", {r} in this process")).unwrap_or_default()
        )),
        Err(e) => Check::problem(format!("a setting is wrong: {e}"), "correct it in the environment (or .env)"),
    }
}

/// Whether mend, as the user running this, may write the database and make
/// its -wal, -shm and lock files beside it (a database restored as root, or a
/// read-only directory, would let mend start and then fail).
fn writable(dir: &Path, db: &Path) -> Check {
    use rustix::fs::{Access, access};
    let mut cannot = Vec::new();
    if access(dir, Access::WRITE_OK | Access::EXEC_OK).is_err() {
        cannot.push(format!("make files in {}", dir.display()));
    }
    let mut beside = Vec::new();
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let mut file = db.as_os_str().to_owned();
        file.push(suffix);
        let file = std::path::PathBuf::from(file);
        if file.exists() && access(&file, Access::READ_OK | Access::WRITE_OK).is_err() {
            beside.push(file.display().to_string());
        }
    }
    if !beside.is_empty() {
        cannot.push(format!("write {}", beside.join(", ")));
    }
    if cannot.is_empty() {
        Check::ok(format!("mend may write its database and the files beside it in {}", dir.display()))
    } else {
        Check::problem(
            format!("mend, as this user, cannot {}", cannot.join(", nor ")),
            "run doctor as the user mend runs as, and give that user the database's directory and files \
             (chown -R; after `sudo mend restore` or `sudo mend rekey` in particular)",
        )
    }
}
