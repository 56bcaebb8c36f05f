//! PostgreSQL for tests: a brand-new empty database for each caller, on the
//! cluster `.ci/run` starts for the whole suite (its admin URL in
//! `MEND_TEST_POSTGRES_URL`) or, without one, on a cluster this test process
//! starts for itself through `.ci/postgres serve`. That one lives as long as the
//! process: `serve` stops it when the pipe to its standard input closes, which
//! happens when the process ends however it ends (nextest runs each test in a
//! process of its own, and kills one that hangs).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The admin URL of a running cluster to make the tests' databases on.
pub const ADMIN_URL_VAR: &str = "MEND_TEST_POSTGRES_URL";

/// A `postgres://…@127.0.0.1:PORT/NAME` URL of a database no one else uses,
/// created empty for the caller. Sync, so a sync fixture may call it; it blocks
/// for the CREATE DATABASE (and, once per process without
/// `MEND_TEST_POSTGRES_URL`, for the cluster's start).
pub fn fresh_database_url() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let admin = admin_url();
    let name = format!(
        "mend_test_{}_{}_{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    );
    let create = format!(r#"CREATE DATABASE "{name}""#);
    let admin_for_thread = admin.to_owned();
    // A runtime of its own, on a thread of its own: the caller may already be
    // inside one (a #[tokio::test]), where another cannot be entered.
    let created = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_for_thread).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut admin).await?;
            admin.close().await?;
            Ok::<_, anyhow::Error>(())
        })
    })
    .join()
    .expect("the thread creating the database panicked");
    if let Err(e) = created {
        panic!("could not create a test database on {}: {e:#}", redacted(admin));
    }
    with_database(admin, &name)
}

/// The cluster's admin URL: `MEND_TEST_POSTGRES_URL`, or the one this process
/// started on first use.
pub fn admin_url() -> &'static str {
    static ADMIN: OnceLock<Result<String, String>> = OnceLock::new();
    let admin = ADMIN.get_or_init(|| match std::env::var(ADMIN_URL_VAR) {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => start_cluster(),
    });
    match admin {
        Ok(url) => url,
        Err(e) => panic!("{e}"),
    }
}

/// Starts `.ci/postgres serve` and keeps the write end of its standard input
/// open for the rest of the process: the kernel closes it when the process
/// ends, and `serve` then stops the server and removes its directory.
fn start_cluster() -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/postgres");
    let mut child = Command::new("bash")
        .arg(script)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A process group of its own: a signal nextest sends this test's group
        // (a timeout) ends the test, whose exit then stops the server.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not run {script}: {e}"))?;
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let url = line.trim();
    if read.is_err() || !url.starts_with("postgres://") {
        let mut why = String::new();
        child.stderr.take().unwrap().read_to_string(&mut why).ok();
        child.wait().ok();
        let why = match why.trim() {
            "" => format!("{script} serve gave no URL (set {ADMIN_URL_VAR} to the admin URL of a running cluster)"),
            why => why.to_owned(),
        };
        return Err(format!("no PostgreSQL for the tests: {why}"));
    }
    // Never written to, never closed: its end is the process's end.
    std::mem::forget(child.stdin.take());
    Ok(url.to_owned())
}

/// `admin` with its database replaced by `name`, anything else kept.
pub fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let base = base[authority_at..].find('/').map_or(base, |slash| &base[..authority_at + slash]);
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A URL fit for a message: any password left out.
pub fn redacted(url: &str) -> String {
    mend::store::shown_url(url)
}

/// Every value every table of the database at `url` holds, as bytes (text as
/// written, `bytea` as stored): what the database keeps of what anyone wrote,
/// for tests that search it for words that must not be there in the clear.
pub fn every_value(url: &str) -> Vec<u8> {
    let url = url.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let columns: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT)
                 FROM information_schema.columns WHERE table_schema = current_schema()",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            let mut bytes = Vec::new();
            for (table, column, kind) in columns {
                if kind == "bytea" {
                    let sql = format!("SELECT \"{column}\" FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
                    for v in sqlx::query_scalar::<_, Vec<u8>>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut c).await.unwrap()
                    {
                        bytes.extend(v);
                    }
                } else {
                    let sql =
                        format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
                    for v in sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut c).await.unwrap()
                    {
                        bytes.extend(v.into_bytes());
                    }
                }
            }
            bytes
        })
    })
    .join()
    .unwrap()
}
