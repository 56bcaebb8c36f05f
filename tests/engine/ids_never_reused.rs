//! Ids are never handed out twice: an old button or nonce naming a couple's
//! delivery must never reach another couple's row, and the migration that made
//! it so keeps every row of a database written before it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::support::app::TestApp;
use chrono::{TimeZone, Utc};
use mend::clock::ManualClock;
use mend::core::entities::Partner;
use mend::core::model::{Role, Slot};
use mend::crypto::{Cipher, Key};
use mend::engine::{Engine, Settings};
use mend::store::{Pool, pairings};
use sqlx::migrate::Migrator;

const DRIFTED: [Role; 2] = [Role::Drifted, Role::Drifted];

/// The migration under test; everything before it is the schema it starts from.
const IDS_NEVER_REUSED: i64 = 20261201000001;

#[tokio::test]
async fn a_couple_that_starts_after_another_ended_gets_new_ids() {
    let app = TestApp::new().await;
    let db = app.db().await;
    let old = app.couple(DRIFTED).await;
    for day in 5..=11 {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        app.engine.claim_due().await.unwrap();
    }
    app.set_time("2026-01-11T18:00:00Z");
    app.engine.claim_due().await.unwrap();
    let old_deliveries = ids(&db, "deliveries", old).await;
    let old_reflections = ids(&db, "reflections", old).await;
    assert_eq!((old_deliveries.len(), old_reflections.len()), (7, 1), "a week of prompts and its reflection");
    app.engine.end_couple(old, None).await.unwrap();

    let new = app.couple(DRIFTED).await;
    app.set_time("2026-01-12T07:30:00Z");
    app.engine.claim_due().await.unwrap();
    app.set_time("2026-01-18T18:00:00Z");
    app.engine.claim_due().await.unwrap();
    let new_deliveries = ids(&db, "deliveries", new).await;
    let new_reflections = ids(&db, "reflections", new).await;

    assert!(new > old, "couple {new} takes an id up to {old}");
    assert!(new_deliveries[0] > old_deliveries[6], "deliveries {new_deliveries:?} after {old_deliveries:?}");
    assert!(new_reflections[0] > old_reflections[0], "reflection {new_reflections:?} after {old_reflections:?}");
}

#[tokio::test]
async fn an_invitation_made_after_one_was_forgotten_gets_a_new_id() {
    let app = TestApp::new().await;
    let db = app.db().await;
    let old = pairings::insert_pairing(&db, 1, Some(2), None, Some("old-code"), 0, 60).await.unwrap();
    pairings::delete_pairings_of(&db, 1).await.unwrap();
    let new = pairings::insert_pairing(&db, 3, Some(4), None, Some("new-code"), 0, 60).await.unwrap();
    assert!(new > old, "invitation {new} takes the id of {old}");
}

/// A second pool on a test's database, for what the engine does not show.
async fn open(path: &Path) -> Pool {
    mend::store::open(&format!("sqlite://{}", path.display()), 1).await.unwrap()
}

async fn ids(db: &Pool, table: &str, couple: i64) -> Vec<i64> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM {table} WHERE couple_id = $1 ORDER BY id")))
        .bind(couple)
        .fetch_all(db)
        .await
        .unwrap()
}

/// Two couples as the schema before the migration held them: partners, schedules,
/// a Discord home, deliveries with their messages and nudges, reflections, and
/// invitations. Answers are added sealed, as mend seals them.
const BEFORE: &str = "
INSERT INTO couples (id, created_at, tz, phase, phase_changed_at, paused, paused_until, ended_at) VALUES
    (1, 100, 'Europe/Paris', 'attune', 100, 0, NULL, NULL),
    (2, 200, 'UTC', 'atone', 250, 1, 9000, NULL);
INSERT INTO partners (couple_id, slot, name, role, external_id) VALUES
    (1, 0, 'Alex', 'drifted', '1001'), (1, 1, 'Sam', 'drifted', '1002'),
    (2, 0, 'Kim', 'hurt', NULL), (2, 1, 'Lee', 'repairing', '2002');
INSERT INTO schedules (couple_id, kind, spec, tz, next_fire_at) VALUES
    (1, 'prompt', 'daily 08:30', 'Europe/Paris', 5000), (1, 'reflection', 'sun 19:00', 'Europe/Paris', 6000),
    (2, 'prompt', 'daily 20:00', 'UTC', NULL);
INSERT INTO discord_couples (couple_id, guild_id, channel_id) VALUES (1, '77', '7001'), (2, NULL, NULL);
INSERT INTO deliveries (id, couple_id, occurrence, claimed_at, status, pillar, kind, prompt_a, prompt_b, phase,
        sent_at, message_ref, revealed_at, reveal_posted_at) VALUES
    (1, 1, 1000, 1000, 'sent', 'gratitude', 'shared', 'a1', 'b1', 'attune', 1001, 'm1', 1500, 1501),
    (2, 1, 2000, 2000, 'sent', 'gratitude', 'shared', 'a2', 'b2', 'attune', 2001, 'm2', 2500, NULL),
    (3, 2, 1000, 1000, 'missed', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, 2, 2000, 2000, 'pending', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO delivery_messages (delivery_id, slot, channel_id, message_id) VALUES
    (1, -1, '7001', '8001'), (2, -1, '7001', '8002');
INSERT INTO nudges (delivery_id, slot, sent_at, via) VALUES (2, 1, 2400, 'channel');
INSERT INTO reflections (id, couple_id, occurrence, week_start, status, sent_at, message_ref) VALUES
    (1, 1, 3000, 400, 'sent', 3001, 'r1'), (2, 2, 3000, 400, 'pending', NULL, NULL);
INSERT INTO pairings (id, initiator, partner, guild_id, code, created_at, expires_at, status) VALUES
    (1, '1001', '1002', '77', NULL, 50, 90, 'accepted'), (2, '3003', NULL, NULL, 'K7Q2', 60, 99, 'pending');
";

const ANSWERS: [(i64, Slot, &str); 3] = [(1, Slot::A, "the walk"), (1, Slot::B, "your laugh"), (2, Slot::A, "coffee")];

#[tokio::test]
async fn the_migration_keeps_every_row_id_and_constraint_of_an_older_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mend.db");
    let key = Key::generate();
    let cipher = Cipher::new(&key);
    let migrations = Migrator::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))).await.unwrap();

    // One connection, so the pragma checked below is the one the migration ran on.
    let pool = open(&path).await;
    migrations.run_to(IDS_NEVER_REUSED - 1, &pool).await.unwrap();
    sqlx::raw_sql(BEFORE).execute(&pool).await.unwrap();
    for (delivery, slot, text) in ANSWERS {
        let at = 1200;
        // Sealed as mend sealed answers then: under the host key itself.
        let sealed = cipher.seal(text.as_bytes(), format!("response:{delivery}:{}", slot.index()).as_bytes());
        sqlx::query(
            "INSERT INTO responses (delivery_id, slot, status, body, answered_at) VALUES ($1, $2, 'answered', $3, $4)",
        )
        .bind(delivery)
        .bind(slot.index() as i64)
        .bind(sealed)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    let schema_before = schema(&pool).await;
    let rows_before = contents(&pool).await;

    migrations.run_to(IDS_NEVER_REUSED, &pool).await.unwrap();
    assert_eq!(schema_before, schema(&pool).await, "the same columns, constraints, keys and indexes");
    assert_eq!(rows_before, contents(&pool).await, "every row, with its id");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&pool).await.unwrap();
    assert_eq!(fk, 1, "foreign keys are back on for the migrating connection");
    let sequence: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, seq FROM sqlite_sequence ORDER BY name").fetch_all(&pool).await.unwrap();
    let sequence: Vec<_> = sequence.iter().map(|(name, seq)| (name.as_str(), *seq)).collect();
    assert_eq!(sequence, [("couples", 2), ("deliveries", 4), ("pairings", 2), ("reflections", 2)]);
    pool.close().await;

    // mend opens it as always, applying whatever comes after.
    let url = format!("sqlite://{}", path.display());
    let keystore = mend::store::keys::default_url(&url).unwrap();
    let keys = mend::store::keys::Keys::open(&keystore, cipher.clone()).await.unwrap();
    let db = mend::store::connect(&url, &keys).await.unwrap();
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()));
    let engine = Engine::new(db.clone(), keys.clone(), crate::support::library(), clock, Settings::default());
    let kept: Vec<_> = engine.responses(1).await.unwrap().into_iter().map(|r| r.body.unwrap()).collect();
    assert_eq!(kept, ["the walk", "your laugh"], "answers still open: they are sealed to their delivery id");
    // On this first open each answer was resealed under its writer's own key
    // (all three are couple 1's: Alex twice, Sam once): none is under the host key now.
    let bodies: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT body FROM responses ORDER BY delivery_id, slot").fetch_all(&db).await.unwrap();
    let under: Vec<_> = bodies.iter().map(|b| mend::crypto::sealed_with(b)).collect();
    assert!(under.iter().all(|u| matches!(u, mend::crypto::SealedWith::Data(_))), "{under:?}");
    assert_ne!(under[0], under[1], "each partner's own key");
    assert_eq!(under[0], under[2], "both of Alex's under Alex's key");
    assert_eq!(keys.count().await.unwrap(), 2, "a key for each partner who wrote");
    let violations: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&db).await.unwrap();
    assert!(violations.is_empty(), "rows pointing at nothing: {violations:?}");
    for bad in [
        "INSERT INTO couples (created_at, tz, phase, phase_changed_at) VALUES (0, 'UTC', 'sulk', 0)",
        "INSERT INTO deliveries (couple_id, occurrence, claimed_at, status) VALUES (2, 2000, 0, 'pending')",
        "INSERT INTO deliveries (couple_id, occurrence, claimed_at, status) VALUES (99, 1, 0, 'pending')",
        "INSERT INTO reflections (couple_id, occurrence, week_start, status) VALUES (2, 1, 0, 'lost')",
        "INSERT INTO pairings (initiator, code, created_at, expires_at, status) VALUES ('9', 'K7Q2', 0, 0, 'pending')",
    ] {
        assert!(sqlx::query(bad).execute(&db).await.is_err(), "accepted: {bad}");
    }

    // Deleting a couple still cascades to everything of theirs, and only theirs.
    sqlx::query("DELETE FROM couples WHERE id = 1").execute(&db).await.unwrap();
    let left = contents(&db).await;
    let couple_2_and_the_invitations = [
        ("couples", 1),
        ("partners", 2),
        ("schedules", 1),
        ("discord_couples", 1),
        ("deliveries", 2),
        ("responses", 0),
        ("delivery_messages", 0),
        ("nudges", 0),
        ("reflections", 1),
        ("pairings", 2),
    ];
    for (table, rows) in couple_2_and_the_invitations {
        assert_eq!(left[table].len(), rows, "rows left in {table}: {:?}", left[table]);
    }

    let next = engine
        .create_couple(mend::engine::NewCouple {
            tz: "UTC".into(),
            partners: ["Ana", "Bo"].map(|name| Partner { name: name.into(), role: Role::Drifted, external_id: None }),
        })
        .await
        .unwrap();
    assert!(next > 2, "couple {next} reuses an id");
}

/// Every table's and index's definition, columns, keys and index columns, with
/// whitespace, comments, quotes and AUTOINCREMENT left out.
async fn schema(pool: &Pool) -> BTreeMap<String, String> {
    let objects: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_schema
         WHERE name NOT IN ('sqlite_sequence', '_sqlx_migrations') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = BTreeMap::new();
    for (kind, name, sql) in objects {
        let pragmas: &[(&str, &str)] = match kind.as_str() {
            "table" => &[
                ("table_xinfo", r#"cid, name, type, "notnull", dflt_value, pk, hidden"#),
                ("foreign_key_list", r#"id, seq, "table", "from", "to", on_update, on_delete, "match""#),
                ("index_list", r#"name, "unique", origin, partial"#),
            ],
            _ => &[("index_xinfo", r#"seqno, cid, name, "desc", coll, key"#)],
        };
        let mut shape = normalized(sql.as_deref().unwrap_or(""));
        for (pragma, columns) in pragmas {
            let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT json_group_array(json_array({columns})) FROM (SELECT * FROM pragma_{pragma}(?) ORDER BY 1, 2)"
            )))
            .bind(&name)
            .fetch_one(pool)
            .await
            .unwrap();
            shape += &format!("\n{pragma}: {rows}");
        }
        schema.insert(name, shape);
    }
    schema
}

fn normalized(sql: &str) -> String {
    let without_comments: String = sql.lines().map(|l| l.split("--").next().unwrap()).collect();
    without_comments
        .to_lowercase()
        .replace("autoincrement", "")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect()
}

/// Every row of every table, each as its quoted values, sorted.
async fn contents(pool: &Pool) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_schema WHERE type = 'table'
         AND name NOT IN ('sqlite_sequence', '_sqlx_migrations') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut contents = BTreeMap::new();
    for (table,) in tables {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(&table)
            .fetch_all(pool)
            .await
            .unwrap();
        let row = columns.iter().map(|(c,)| format!("quote({c})")).collect::<Vec<_>>().join(" || '|' || ");
        let rows: Vec<(String,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {row} AS row FROM {table} ORDER BY row")))
                .fetch_all(pool)
                .await
                .unwrap();
        contents.insert(table, rows.into_iter().map(|(r,)| r).collect());
    }
    contents
}
