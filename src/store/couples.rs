//! `couples` and `partners`.

use sqlx::{AnyExecutor, Row};

use super::{Result, StoreError, parse_enum};
use crate::core::entities::{Couple, CoupleId, Holds, Partner};
use crate::core::model::{Phase, Role, Slot};

/// Inserts a couple and its two partners; returns the new id.
pub async fn insert(
    tx: &mut sqlx::AnyConnection,
    created_at: i64,
    tz: &str,
    phase: Phase,
    partners: &[Partner; 2],
) -> Result<CoupleId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO couples (created_at, tz, phase, phase_changed_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(created_at)
    .bind(tz)
    .bind(phase.as_str())
    .bind(created_at)
    .fetch_one(&mut *tx)
    .await?;
    for (slot, p) in partners.iter().enumerate() {
        sqlx::query("INSERT INTO partners (couple_id, slot, name, role, external_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(slot as i64)
            .bind(&p.name)
            .bind(p.role.as_str())
            .bind(&p.external_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}

pub async fn get(conn: &mut sqlx::AnyConnection, id: CoupleId) -> Result<Option<Couple>> {
    let Some(row) = sqlx::query(
        "SELECT id, created_at, tz, phase, phase_changed_at, paused, paused_until, pause_hold, space_a, space_b, checking_a,
         checking_b, ended_at FROM couples WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let rows = sqlx::query("SELECT slot, name, role, external_id FROM partners WHERE couple_id = $1 ORDER BY slot")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let partners: Vec<Partner> = rows
        .iter()
        .map(|r| {
            Ok(Partner {
                name: r.try_get("name")?,
                role: parse_enum(r.try_get::<&str, _>("role")?)?,
                external_id: r.try_get("external_id")?,
            })
        })
        .collect::<Result<_>>()?;
    let partners: [Partner; 2] =
        partners.try_into().map_err(|_| StoreError::Corrupt(format!("couple {id} does not have two partners")))?;
    Ok(Some(Couple {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        tz: row.try_get("tz")?,
        phase: parse_enum(row.try_get::<&str, _>("phase")?)?,
        phase_changed_at: row.try_get("phase_changed_at")?,
        paused: super::get_set_flag(&row, "paused")?,
        paused_until: row.try_get("paused_until")?,
        holds: Holds {
            pause: row.try_get("pause_hold")?,
            space: [row.try_get("space_a")?, row.try_get("space_b")?],
            checking: [super::get_set_flag(&row, "checking_a")?, super::get_set_flag(&row, "checking_b")?],
        },
        ended_at: row.try_get("ended_at")?,
        partners,
    }))
}

/// The couple a partner belongs to, by their id outside mend.
pub async fn find_by_external(exec: impl AnyExecutor<'_>, external_id: &str) -> Result<Option<(CoupleId, Slot)>> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT couple_id, slot FROM partners WHERE external_id = $1")
        .bind(external_id)
        .fetch_optional(exec)
        .await?;
    Ok(row.and_then(|(c, s)| Slot::from_index(s).map(|s| (c, s))))
}

pub async fn set_phase(exec: impl AnyExecutor<'_>, id: CoupleId, phase: Phase, at: i64) -> Result<()> {
    sqlx::query("UPDATE couples SET phase = $1, phase_changed_at = $2 WHERE id = $3")
        .bind(phase.as_str())
        .bind(at)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn set_tz(exec: impl AnyExecutor<'_>, id: CoupleId, tz: &str) -> Result<()> {
    sqlx::query("UPDATE couples SET tz = $1 WHERE id = $2").bind(tz).bind(id).execute(exec).await?;
    Ok(())
}

pub async fn set_role(exec: impl AnyExecutor<'_>, id: CoupleId, slot: Slot, role: Role) -> Result<()> {
    sqlx::query("UPDATE partners SET role = $1 WHERE couple_id = $2 AND slot = $3")
        .bind(role.as_str())
        .bind(id)
        .bind(slot.index() as i64)
        .execute(exec)
        .await?;
    Ok(())
}

/// What holds the couple's prompts (see `Holds`).
pub async fn set_holds(exec: impl AnyExecutor<'_>, id: CoupleId, holds: &Holds) -> Result<()> {
    sqlx::query(
        "UPDATE couples SET pause_hold = $1, space_a = $2, space_b = $3, checking_a = $4, checking_b = $5 WHERE id = $6",
    )
    .bind(holds.pause)
    .bind(holds.space[0])
    .bind(holds.space[1])
    .bind(super::flag(holds.checking[0]))
    .bind(super::flag(holds.checking[1]))
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn set_paused(exec: impl AnyExecutor<'_>, id: CoupleId, paused: bool, until: Option<i64>) -> Result<()> {
    sqlx::query("UPDATE couples SET paused = $1, paused_until = $2 WHERE id = $3")
        .bind(super::flag(paused))
        .bind(until)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Marks a couple ended; its schedules stop firing (the caller deletes them).
pub async fn set_ended(exec: impl AnyExecutor<'_>, id: CoupleId, at: i64) -> Result<()> {
    sqlx::query("UPDATE couples SET ended_at = $1 WHERE id = $2").bind(at).bind(id).execute(exec).await?;
    Ok(())
}

/// Deletes a couple and, through the foreign keys, everything of theirs.
pub async fn delete(exec: impl AnyExecutor<'_>, id: CoupleId) -> Result<()> {
    sqlx::query("DELETE FROM couples WHERE id = $1").bind(id).execute(exec).await?;
    Ok(())
}

pub async fn ids(exec: impl AnyExecutor<'_>) -> Result<Vec<CoupleId>> {
    Ok(sqlx::query_scalar("SELECT id FROM couples ORDER BY id").fetch_all(exec).await?)
}

/// How many couples there are, and how many of them are paused at `now`.
pub async fn count(exec: impl AnyExecutor<'_>, now: i64) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN paused = 1 AND (paused_until IS NULL OR paused_until > $1) THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM couples WHERE ended_at IS NULL",
    )
    .bind(now)
    .fetch_one(exec)
    .await?)
}
