//! The keystore: each partner's data key, sealed under the host key, in a
//! store of its own (`MEND_KEYSTORE`: a SQLite file, by default
//! `<database>.keys`, or a PostgreSQL database of its own), never in the
//! database it serves.
//!
//! Every text a partner writes is sealed under their data key; the database
//! names only which key is whose (`partners.key_id`, and the key's id at the
//! head of each sealed text). `/forget` and `/couple end` destroy the keys in
//! the keystore: from then on no copy of the database — its WAL, a replica, a
//! backup taken the day before — can be read for those texts, with any host
//! key. What a keystore copy taken before the forgetting holds is the one way
//! back, so the keystore is kept small, apart and without long-lived copies.
//!
//! A SQLite keystore keeps no write-ahead log (`journal_mode = DELETE`) and
//! overwrites what it deletes (`secure_delete`), so a destroyed key leaves no
//! page behind in the file.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, Row};

use super::{Backend, Pool, Result, StoreError};
use crate::core::entities::CoupleId;
use crate::core::model::Slot;
use crate::crypto::{Cipher, DataKey, KeyError, SealedWith, sealed_with};

/// Keys kept open in memory at most; past it the cache starts again (a key
/// is read back from the keystore when next needed).
const CACHED: usize = 20_000;

/// The advisory lock that makes one process at a time create a PostgreSQL
/// keystore's tables.
const CREATING: i64 = -3;

/// A keystore, with the host key that opens it.
#[derive(Clone)]
pub struct Keys {
    host: Cipher,
    pool: Pool,
    open: Arc<Mutex<HashMap<i64, DataKey>>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

/// The keystore URL for a database URL when `MEND_KEYSTORE` is not set: a
/// SQLite file beside a SQLite database. A PostgreSQL database has none: its
/// keystore must be named (a file beside one process, or a database of its
/// own that every process reaches).
pub fn default_url(database_url: &str) -> Option<String> {
    if Backend::of_url(database_url) == Backend::Postgres {
        return None;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url).ok()?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
        return Some("sqlite::memory:".into());
    }
    Some(format!("sqlite://{}.keys", path.display()))
}

impl Keys {
    /// Opens (creating) the keystore at `url`: a path or `sqlite://` URL, or
    /// `postgres://`.
    pub async fn open(url: &str, host: Cipher) -> Result<Keys> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url);
        let pool = match backend {
            Backend::Sqlite => {
                // One connection for a keystore in memory (a benchmark's): each
                // connection would open a memory of its own.
                super::sqlite_pool(
                    url,
                    if url.contains(":memory:") { 1 } else { 4 },
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;
                     PRAGMA secure_delete = ON;",
                )
                .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(AnyConnectOptions::from_str(url)?)
                    .await?
            }
        };
        let (integer, bytes) = match backend {
            Backend::Sqlite => ("INTEGER", "BLOB"),
            Backend::Postgres => ("BIGINT", "BYTEA"),
        };
        let mut conn = pool.acquire().await?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_lock($1)").bind(CREATING).execute(&mut *conn).await?;
        }
        let created = async {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE IF NOT EXISTS keystore (
                     id {integer} PRIMARY KEY CHECK (id = 1),
                     keystore_id TEXT NOT NULL,
                     linked {integer} NOT NULL DEFAULT 0
                 )"
            )))
            .execute(&mut *conn)
            .await?;
            // `resealed`: the key under a new host key while `mend rekey` runs.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE IF NOT EXISTS data_keys (
                     id {integer} PRIMARY KEY,
                     sealed {bytes} NOT NULL,
                     resealed {bytes},
                     created_at {integer} NOT NULL
                 )"
            )))
            .execute(&mut *conn)
            .await?;
            sqlx::query("INSERT INTO keystore (id, keystore_id) VALUES (1, $1) ON CONFLICT DO NOTHING")
                .bind(hex::encode(rand::random::<[u8; 16]>()))
                .execute(&mut *conn)
                .await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock($1)").bind(CREATING).execute(&mut *conn).await?;
        }
        created?;
        drop(conn);
        Ok(Keys { host, pool, open: Arc::default() })
    }

    /// The same keystore opened with another host key (after `mend rekey`).
    pub fn with_host(&self, host: Cipher) -> Keys {
        Keys { host, pool: self.pool.clone(), open: Arc::default() }
    }

    /// The host key, which seals the keys (and the database's key check).
    pub fn host(&self) -> &Cipher {
        &self.host
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// This keystore's random id, which the database it serves records.
    pub async fn id(&self) -> Result<String> {
        Ok(sqlx::query_scalar("SELECT keystore_id FROM keystore WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Whether a database has taken this keystore for its own.
    pub async fn linked(&self) -> Result<bool> {
        let linked: i64 = sqlx::query_scalar("SELECT linked FROM keystore WHERE id = 1").fetch_one(&self.pool).await?;
        Ok(linked != 0)
    }

    pub async fn mark_linked(&self) -> Result<()> {
        sqlx::query("UPDATE keystore SET linked = 1 WHERE id = 1").execute(&self.pool).await?;
        Ok(())
    }

    /// How many keys it holds.
    pub async fn count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM data_keys").fetch_one(&self.pool).await?)
    }

    /// Whether the host key opens a key of this keystore (any one: they are
    /// all sealed under the same), or `None` for a keystore without keys.
    pub async fn host_opens(&self) -> Result<Option<bool>> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, sealed FROM data_keys ORDER BY id LIMIT 1").fetch_optional(&self.pool).await?;
        Ok(row.map(|(id, sealed)| DataKey::open_with(&self.host, id, &sealed).is_ok()))
    }

    /// A new key, written to the keystore before any text is sealed under it.
    async fn create(&self) -> Result<DataKey> {
        let now = chrono::Utc::now().timestamp();
        loop {
            let key = DataKey::generate();
            let done = sqlx::query(
                "INSERT INTO data_keys (id, sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(key.id())
            .bind(key.sealed_by(&self.host))
            .bind(now)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                self.remember(&key);
                return Ok(key);
            }
        }
    }

    fn remember(&self, key: &DataKey) {
        let mut open = self.open.lock().expect("the key cache is never poisoned");
        if open.len() >= CACHED {
            open.clear();
        }
        open.insert(key.id(), key.clone());
    }

    /// The keys with these ids that the keystore still holds.
    pub async fn load(&self, ids: impl IntoIterator<Item = i64>) -> Result<Opener> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        {
            let open = self.open.lock().expect("the key cache is never poisoned");
            for id in ids {
                match open.get(&id) {
                    Some(key) => {
                        found.insert(id, key.clone());
                    }
                    None if !missing.contains(&id) => missing.push(id),
                    None => {}
                }
            }
        }
        for chunk in missing.chunks(500) {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, sealed FROM data_keys WHERE id IN {}",
                super::id_list(chunk)
            )))
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                let id: i64 = row.try_get(0)?;
                let sealed: Vec<u8> = row.try_get(1)?;
                let key = DataKey::open_with(&self.host, id, &sealed).map_err(StoreError::Key)?;
                self.remember(&key);
                found.insert(id, key);
            }
        }
        Ok(Opener { keys: found, host: self.host.clone() })
    }

    /// The keys that open these sealed texts.
    pub async fn opener<'a>(&self, sealed: impl IntoIterator<Item = &'a [u8]>) -> Result<Opener> {
        self.load(sealed.into_iter().filter_map(|s| match sealed_with(s) {
            SealedWith::Data(id) => Some(id),
            _ => None,
        }))
        .await
    }

    /// The keys that open the texts in these `columns` of `rows`.
    pub async fn opener_for(&self, rows: &[sqlx::any::AnyRow], columns: &[&str]) -> Result<Opener> {
        let mut sealed: Vec<Vec<u8>> = Vec::new();
        for r in rows {
            for c in columns {
                if let Some(s) = r.try_get::<Option<Vec<u8>>, _>(*c)? {
                    sealed.push(s);
                }
            }
        }
        self.opener(sealed.iter().map(Vec::as_slice)).await
    }

    /// The key `slot` of `couple` seals their texts under, made (and named
    /// in their row, inside the caller's transaction) if they have none or
    /// theirs was destroyed.
    pub async fn writer(&self, conn: &mut AnyConnection, couple: CoupleId, slot: Slot) -> Result<DataKey> {
        let id: Option<i64> = sqlx::query_scalar("SELECT key_id FROM partners WHERE couple_id = $1 AND slot = $2")
            .bind(couple)
            .bind(slot.index() as i64)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("couple {couple} has no partner {slot:?}")))?;
        if let Some(id) = id
            && let Some(key) = self.load([id]).await?.keys.remove(&id)
        {
            return Ok(key);
        }
        let key = self.create().await?;
        sqlx::query("UPDATE partners SET key_id = $1 WHERE couple_id = $2 AND slot = $3")
            .bind(key.id())
            .bind(couple)
            .bind(slot.index() as i64)
            .execute(&mut *conn)
            .await?;
        Ok(key)
    }

    /// Destroys these keys: every text sealed under them, wherever a copy of
    /// it is, can no longer be read.
    pub async fn destroy(&self, ids: &[i64]) -> Result<()> {
        {
            let mut open = self.open.lock().expect("the key cache is never poisoned");
            for id in ids {
                open.remove(id);
            }
        }
        for chunk in ids.chunks(500) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM data_keys WHERE id IN {}", super::id_list(chunk))))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Which of these keys the keystore holds.
    pub async fn held(&self, ids: &[i64]) -> Result<Vec<i64>> {
        let mut held = Vec::new();
        for chunk in ids.chunks(500) {
            let found: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM data_keys WHERE id IN {}",
                super::id_list(chunk)
            )))
            .fetch_all(&self.pool)
            .await?;
            held.extend(found);
        }
        Ok(held)
    }

    /// `mend rekey`, first step: every key sealed under `new` beside its
    /// sealing under the host key, in one transaction. Nothing reads the new
    /// sealing until [`Keys::finish_rekey`].
    pub async fn stage_rekey(&self, new: &Cipher, mut progress: impl FnMut(u64)) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT id, sealed FROM data_keys").fetch_all(&mut *tx).await?;
        for (n, (id, sealed)) in rows.iter().enumerate() {
            if n % 500 == 0 {
                progress(n as u64);
            }
            let key = DataKey::open_with(&self.host, *id, sealed)
                .map_err(|_| StoreError::Corrupt(format!("data key {id} does not open with the key")))?;
            sqlx::query("UPDATE data_keys SET resealed = $1 WHERE id = $2")
                .bind(key.sealed_by(new))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Whether a rekey is under way (keys resealed under a new host key that
    /// has not yet taken over).
    pub async fn rekey_staged(&self) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM data_keys WHERE resealed IS NOT NULL LIMIT 1) s")
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    /// Ends a rekey once the database's key check is under `host` (this
    /// keystore's host key): a key resealed under it takes that sealing; a
    /// resealing under any other key (a rekey that stopped before the
    /// database changed) is dropped.
    pub async fn finish_rekey(&self) -> Result<()> {
        let staged: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, resealed FROM data_keys WHERE resealed IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        let Some((id, resealed)) = staged.first() else { return Ok(()) };
        let mut tx = self.pool.begin().await?;
        if DataKey::open_with(&self.host, *id, resealed).is_ok() {
            sqlx::query("UPDATE data_keys SET sealed = resealed, resealed = NULL WHERE resealed IS NOT NULL")
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE data_keys SET resealed = NULL").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The keys a set of texts needs, to open them one by one.
pub struct Opener {
    keys: HashMap<i64, DataKey>,
    host: Cipher,
}

impl Opener {
    /// Opens a text sealed to `context`; one whose key was destroyed is
    /// [`StoreError::Forgotten`].
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        match sealed_with(sealed) {
            SealedWith::Data(id) => match self.keys.get(&id) {
                Some(key) => Ok(key.open(sealed, context)?),
                None => Err(StoreError::Forgotten),
            },
            // Written before data keys, and not yet resealed under one.
            SealedWith::Host => Ok(self.host.open(sealed, context)?),
            SealedWith::Unknown => Err(StoreError::Key(KeyError::Wrong)),
        }
    }

    /// As [`Opener::open`], read as text (`what` names it in an error).
    pub fn text(&self, sealed: &[u8], context: &[u8], what: &str) -> Result<String> {
        let plain = self.open(sealed, context).map_err(|e| match e {
            StoreError::Forgotten => StoreError::Forgotten,
            e => StoreError::Corrupt(format!("{what} cannot be opened: {e}")),
        })?;
        String::from_utf8(plain).map_err(|_| StoreError::Corrupt(format!("{what} is not UTF-8")))
    }
}

/// In a forgetting's transaction on the database: the keys of `slot` of
/// `couple` (both partners' for `None`) are no longer theirs and are marked
/// to be destroyed. Returns their ids, for [`Keys::destroy`] once the
/// transaction commits ([`destroy_pending`] finishes it after a crash).
pub async fn retire(conn: &mut AnyConnection, couple: CoupleId, slot: Option<Slot>) -> Result<Vec<i64>> {
    let slots: Vec<i64> = match slot {
        Some(s) => vec![s.index() as i64],
        None => vec![0, 1],
    };
    let mut ids = Vec::new();
    for s in slots {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT key_id FROM partners WHERE couple_id = $1 AND slot = $2 AND key_id IS NOT NULL")
                .bind(couple)
                .bind(s)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(id) = id {
            sqlx::query("INSERT INTO keys_to_destroy (key_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE partners SET key_id = NULL WHERE couple_id = $1 AND slot = $2")
                .bind(couple)
                .bind(s)
                .execute(&mut *conn)
                .await?;
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Destroys `ids` in the keystore and clears them from the database's list.
pub async fn destroy(pool: &Pool, keys: &Keys, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    keys.destroy(ids).await?;
    for chunk in ids.chunks(500) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM keys_to_destroy WHERE key_id IN {}",
            super::id_list(chunk)
        )))
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// Destroys the keys a forgetting marked and did not get to (a crash, the
/// keystore out of reach).
pub async fn destroy_pending(pool: &Pool, keys: &Keys) -> Result<()> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT key_id FROM keys_to_destroy").fetch_all(pool).await?;
    destroy(pool, keys, &ids).await
}
