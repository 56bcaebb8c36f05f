//! `outbox` and `outbox_parts`: every message mend owes someone, and the
//! messages each was posted as.

use sqlx::{AnyExecutor, Row};

use super::{Batch, Result, StoreError, parse_enum};
use crate::core::model::Slot;
use crate::core::outbox::{Item, ItemStatus, NewItem, OutboxId};

const BATCH: usize = 100;

const COLUMNS: &str = "id, couple_id, kind, delivery_id, reflection_id, slot, payload, status, attempts, \
                       failures, next_attempt_at, deadline, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Item> {
    let slot: Option<i64> = r.try_get("slot")?;
    let payload: Option<String> = r.try_get("payload")?;
    let notice = payload
        .map(|p| serde_json::from_str(&p).map_err(|e| StoreError::Corrupt(format!("outbox notice: {e}"))))
        .transpose()?;
    Ok(Item {
        id: r.try_get("id")?,
        couple_id: r.try_get("couple_id")?,
        kind: parse_enum(r.try_get::<&str, _>("kind")?)?,
        delivery_id: r.try_get("delivery_id")?,
        reflection_id: r.try_get("reflection_id")?,
        slot: slot.map(|s| Slot::from_index(s).ok_or_else(|| StoreError::Corrupt(format!("slot {s}")))).transpose()?,
        notice,
        status: parse_enum(r.try_get::<&str, _>("status")?)?,
        attempts: r.try_get::<i64, _>("attempts")?.clamp(0, u32::MAX as i64) as u32,
        failures: r.try_get::<i64, _>("failures")?.clamp(0, u32::MAX as i64) as u32,
        next_attempt_at: r.try_get("next_attempt_at")?,
        deadline: r.try_get("deadline")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Adds items; one already there for the same prompt, reveal, nudge or
/// reflection is left as it is, so nothing is owed twice.
pub async fn insert_many(conn: &mut sqlx::AnyConnection, items: &[NewItem], now: i64) -> Result<()> {
    for chunk in items.chunks(BATCH) {
        let mut q = Batch::new(
            "INSERT INTO outbox (couple_id, kind, delivery_id, reflection_id, slot, payload, status, \
             next_attempt_at, deadline, created_at) ",
        );
        q.values(chunk, |b, i| {
            let payload = i.notice.as_ref().map(|n| serde_json::to_string(n).expect("notices serialize"));
            b.bind(i.couple_id)
                .bind(i.kind.as_str())
                .bind(i.delivery_id)
                .bind(i.reflection_id)
                .bind(i.slot.map(|s| s.index() as i64))
                .bind(payload)
                .bind(ItemStatus::Pending.as_str())
                .bind(i.due)
                .bind(i.deadline)
                .bind(now);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn insert(conn: &mut sqlx::AnyConnection, item: NewItem, now: i64) -> Result<()> {
    insert_many(conn, &[item], now).await
}

/// Leases up to `limit` items due by `now` that no one else holds, earliest
/// first, counting the attempt. Reads only due rows of the partial index.
pub async fn claim(
    exec: &mut sqlx::AnyConnection,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Item>> {
    // On PostgreSQL a row another claimer holds is passed over, not waited on.
    let skip_locked = match super::Backend::of(exec) {
        super::Backend::Sqlite => "",
        super::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let mut items: Vec<Item> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM outbox
                      WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $4)
                      ORDER BY next_attempt_at, id LIMIT $5{skip_locked})
         RETURNING {COLUMNS}"
    )))
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .bind(now)
    .bind(limit)
    .fetch_all(exec)
    .await?
    .iter()
    .map(from_row)
    .collect::<Result<_>>()?;
    items.sort_by_key(|i| (i.next_attempt_at, i.id));
    Ok(items)
}

/// Whether any item is due by `now` and free to take (a read: an idle step
/// takes no write lock).
pub async fn any_due(exec: impl AnyExecutor<'_>, now: i64) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
         AND (lease_until IS NULL OR lease_until <= $2) LIMIT 1",
    )
    .bind(now)
    .bind(now)
    .fetch_optional(exec)
    .await?
    .is_some())
}

pub async fn get(exec: impl AnyExecutor<'_>, id: OutboxId) -> Result<Option<Item>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Ends an item held by `owner` (a worker whose lease was taken over writes nothing).
pub async fn finish(
    exec: impl AnyExecutor<'_>,
    id: OutboxId,
    owner: &str,
    status: ItemStatus,
    at: i64,
    error: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        // A notice to people whose couple has ended keeps their ids only until it is done.
        "UPDATE outbox SET status = $1, done_at = $2, last_error = $3, lease_owner = NULL, lease_until = NULL,
             payload = CASE WHEN couple_id IS NULL THEN NULL ELSE payload END
         WHERE id = $4 AND lease_owner = $5 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(at)
    .bind(error)
    .bind(id)
    .bind(owner)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts an item held by `owner` back, to be tried again at `next`.
pub async fn retry_at(exec: impl AnyExecutor<'_>, id: OutboxId, owner: &str, next: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, last_error = $2, failures = failures + 1, lease_owner = NULL,
             lease_until = NULL
         WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
    )
    .bind(next)
    .bind(error)
    .bind(id)
    .bind(owner)
    .execute(exec)
    .await?;
    Ok(())
}

/// Gives back an item taken but not tried (an earlier item of its couple failed
/// first, and order matters within a couple), due no earlier than `not_before`.
pub async fn release(exec: impl AnyExecutor<'_>, id: OutboxId, owner: &str, not_before: Option<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1,
             next_attempt_at = CASE WHEN $1 > next_attempt_at THEN $1 ELSE next_attempt_at END
         WHERE id = $2 AND lease_owner = $3 AND status = 'pending'",
    )
    .bind(not_before)
    .bind(id)
    .bind(owner)
    .execute(exec)
    .await?;
    Ok(())
}

/// Every item of a couple, oldest first.
pub async fn for_couple(exec: impl AnyExecutor<'_>, couple: i64) -> Result<Vec<Item>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE couple_id = $1 ORDER BY id")))
        .bind(couple)
        .fetch_all(exec)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The earliest instant an item may be taken: the first due one no worker
/// holds, or the first lease to run out.
pub async fn earliest(exec: &mut sqlx::AnyConnection) -> Result<Option<i64>> {
    let free: Option<i64> =
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' AND lease_until IS NULL")
            .fetch_one(&mut *exec)
            .await?;
    let held: Option<i64> =
        sqlx::query_scalar("SELECT MIN(lease_until) FROM outbox WHERE status = 'pending' AND lease_until IS NOT NULL")
            .fetch_one(&mut *exec)
            .await?;
    Ok([free, held].into_iter().flatten().min())
}

/// The parts of an item already posted: (part, channel, message).
pub async fn parts(exec: impl AnyExecutor<'_>, id: OutboxId) -> Result<Vec<(String, u64, u64)>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT part, channel_id, message_id FROM outbox_parts WHERE outbox_id = $1 ORDER BY part")
            .bind(id)
            .fetch_all(exec)
            .await?;
    Ok(rows.into_iter().filter_map(|(p, c, m)| Some((p, c.parse().ok()?, m.parse().ok()?))).collect())
}

pub async fn add_part(exec: impl AnyExecutor<'_>, id: OutboxId, part: &str, channel: u64, message: u64) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox_parts (outbox_id, part, channel_id, message_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (outbox_id, part) DO NOTHING",
    )
    .bind(id)
    .bind(part)
    .bind(channel.to_string())
    .bind(message.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

/// Items by status, for `mend status` and tests.
pub async fn count(exec: impl AnyExecutor<'_>, status: ItemStatus) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = $1")
        .bind(status.as_str())
        .fetch_one(exec)
        .await?)
}

/// Pending items of one kind for a couple (a pause drops its waiting nudges).
pub async fn drop_pending(
    exec: impl AnyExecutor<'_>,
    couple: i64,
    kind: crate::core::outbox::ItemKind,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'dropped', done_at = $1 WHERE couple_id = $2 AND kind = $3 AND status = 'pending'",
    )
    .bind(at)
    .bind(couple)
    .bind(kind.as_str())
    .execute(exec)
    .await?;
    Ok(())
}

/// Items of one kind still owed, across all couples.
pub async fn count_waiting(exec: impl AnyExecutor<'_>, kind: crate::core::outbox::ItemKind) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND kind = $1")
        .bind(kind.as_str())
        .fetch_one(exec)
        .await?)
}

/// The messages mend posted that hold what `slot` of `couple` wrote: their
/// answers in reveals (parts `a{slot}…`, or `d{reader}a{slot}…` in DMs), and the
/// weekly reflections given, which quoted them. Their records go with them:
/// the caller deletes the messages.
pub async fn take_messages_holding(
    exec: &mut sqlx::AnyConnection,
    couple: i64,
    slot: Slot,
    reflections: &[i64],
) -> Result<Vec<(u64, u64)>> {
    let s = slot.index();
    let reflections = super::id_list(reflections);
    // Parts are mend's own lowercase names: `LIKE` reads them alike on both backends.
    let filter = format!(
        "FROM outbox_parts WHERE outbox_id IN (SELECT id FROM outbox WHERE couple_id = $1 AND kind = 'reveal')
           AND (part LIKE 'a{s}%' OR part LIKE 'd0a{s}%' OR part LIKE 'd1a{s}%')
         OR outbox_id IN (SELECT id FROM outbox WHERE couple_id = $1 AND kind = 'reflection'
           AND reflection_id IN {reflections})"
    );
    let rows: Vec<(String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT channel_id, message_id {filter}")))
            .bind(couple)
            .fetch_all(&mut *exec)
            .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {filter}"))).bind(couple).execute(&mut *exec).await?;
    Ok(rows.into_iter().filter_map(|(c, m)| Some((c.parse().ok()?, m.parse().ok()?))).collect())
}

/// The messages mend posted that quoted the commitments `ids` (made, kept,
/// revised, retired, the partner's "Did this happen?"). Their records go with
/// them: the caller deletes the messages.
pub async fn take_commitment_messages(
    exec: &mut sqlx::AnyConnection,
    couple: i64,
    ids: &[i64],
) -> Result<Vec<(u64, u64)>> {
    let ids = super::id_list(ids);
    let commitment = match super::Backend::of(exec) {
        super::Backend::Sqlite => "json_extract(payload, '$[0].commitment')",
        super::Backend::Postgres => "CAST(CAST(payload AS jsonb) -> 0 ->> 'commitment' AS BIGINT)",
    };
    let filter = format!(
        "FROM outbox_parts WHERE outbox_id IN (SELECT id FROM outbox WHERE couple_id = $1 AND kind = 'notice'
           AND {commitment} IN {ids})"
    );
    let rows: Vec<(String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT channel_id, message_id {filter}")))
            .bind(couple)
            .fetch_all(&mut *exec)
            .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {filter}"))).bind(couple).execute(&mut *exec).await?;
    Ok(rows.into_iter().filter_map(|(c, m)| Some((c.parse().ok()?, m.parse().ok()?))).collect())
}

/// How many items are due and waiting to be posted by `now`, and since when
/// the longest-waiting of them has been due: a walk of the due pending rows
/// only (the `outbox_due` index), for `/metrics`. An item not yet due (a
/// reflection waiting out its check-in day, a retry's backoff) is not waiting.
pub async fn depth(pool: &super::Pool, now: i64) -> Result<(i64, Option<i64>)> {
    // SQLite's planner is told the index; PostgreSQL's picks it from the predicate.
    let index = match super::Backend::of_pool(pool) {
        super::Backend::Sqlite => " INDEXED BY outbox_due",
        super::Backend::Postgres => "",
    };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*), MIN(next_attempt_at) FROM outbox{index}
         WHERE status = 'pending' AND next_attempt_at <= $1"
    )))
    .bind(now)
    .fetch_one(pool)
    .await?)
}
