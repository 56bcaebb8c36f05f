//! A database of its own for each test on PostgreSQL (temporary: replaced by
//! the cluster support).

use std::sync::atomic::{AtomicU64, Ordering};

/// A brand-new, empty database in the suite's cluster (`MEND_TEST_POSTGRES_URL`).
pub fn fresh_database_url() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = std::env::var("MEND_TEST_POSTGRES_URL").expect("MEND_TEST_POSTGRES_URL");
    let name = format!("t{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), rand::random::<u32>());
    let create = admin.clone();
    let n = name.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&create).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {n}"))).execute(&mut c).await.unwrap();
        })
    })
    .join()
    .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
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
                    for v in sqlx::query_scalar::<_, Vec<u8>>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut c).await.unwrap() {
                        bytes.extend(v);
                    }
                } else {
                    let sql =
                        format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
                    for v in sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut c).await.unwrap() {
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
