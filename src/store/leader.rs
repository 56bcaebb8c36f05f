//! Which process works the outbox. Several `mend run` processes may share a
//! database (each holding some of the gateway's shards), but one at a time
//! posts what is owed, so Discord's global limit is shared, not multiplied.
//! The lead is a lock the server or the kernel lets go of when its holder
//! dies, however it dies, so another process takes over at its next try.
//!
//! - PostgreSQL: a session advisory lock on a connection of the lead's own.
//! - SQLite: an exclusive flock on `<db>.worker.lock` beside the database.

use sqlx::{AnyConnection, Connection};

use super::{Backend, Result, StoreError};

/// The advisory lock of the lead (couples' locks are their ids, positive).
const LEAD: i64 = -2;

/// The outbox's lead, held while this value lives.
#[derive(Debug)]
pub enum Lead {
    Postgres(AnyConnection),
    File(#[allow(dead_code)] std::fs::File),
    /// A database in memory is this process's alone.
    Alone,
}

/// Takes the lead of the database at `url` if no other process holds it.
pub async fn try_lead(url: &str) -> Result<Option<Lead>> {
    match Backend::of_url(url) {
        Backend::Postgres => {
            sqlx::any::install_default_drivers();
            let mut conn = AnyConnection::connect(url).await?;
            let got: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LEAD).fetch_one(&mut conn).await?;
            Ok(got.then_some(Lead::Postgres(conn)))
        }
        Backend::Sqlite => {
            let Some(db) = super::file_of(url) else { return Ok(Some(Lead::Alone)) };
            let mut path = db.into_os_string();
            path.push(".worker.lock");
            let mut open = std::fs::OpenOptions::new();
            open.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                open.mode(0o600);
            }
            let file = open.open(&path).map_err(|e| StoreError::Sqlx(sqlx::Error::Io(e)))?;
            match file.try_lock() {
                Ok(()) => Ok(Some(Lead::File(file))),
                Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Sqlx(sqlx::Error::Io(e))),
            }
        }
    }
}

impl Lead {
    /// Whether the lead is still this process's: on PostgreSQL, whether its
    /// connection (and with it the lock) is still up.
    pub async fn held(&mut self) -> bool {
        match self {
            Lead::Postgres(conn) => conn.ping().await.is_ok(),
            Lead::File(_) | Lead::Alone => true,
        }
    }
}
