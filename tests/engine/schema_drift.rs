//! One schema on two stores: after each version, SQLite's migrations and
//! PostgreSQL's give the same tables, columns (name, kind, nullability,
//! default, generated id), primary keys, unique constraints, indexes (name,
//! uniqueness, columns, predicate), foreign keys (with their ON DELETE) and
//! CHECKs, read back from each database's catalogue. Kinds are compared as
//! mend's code sees them: SQLite's INTEGER is PostgreSQL's BIGINT (never
//! INTEGER, which would not hold an instant past 2038), BLOB is BYTEA, and an
//! AUTOINCREMENT id is an identity column. Expressions are compared with
//! casts, parentheses, quotes around numbers and case left out, and
//! PostgreSQL's `= ANY (ARRAY[…])` read as the `IN (…)` it came from.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::pg;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    primary_key: Vec<String>,
    /// Unnamed on SQLite (`UNIQUE (…)`, `TEXT UNIQUE`), so known by their columns.
    unique: BTreeSet<Vec<String>>,
    indexes: BTreeMap<String, Index>,
    foreign_keys: BTreeSet<ForeignKey>,
    checks: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    /// integer, text or blob; anything else names its store and type.
    kind: String,
    not_null: bool,
    default: Option<String>,
    /// AUTOINCREMENT on SQLite, an identity on PostgreSQL.
    generated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    unique: bool,
    columns: Vec<String>,
    predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    table: String,
    references: Vec<String>,
    on_delete: String,
    on_update: String,
}

type Schema = BTreeMap<String, Table>;

/// A row of pg_constraint: its kind, columns, the table and columns it
/// references and its actions (a foreign key's), and its definition.
type ConstraintRow = (String, Option<String>, Option<String>, Option<String>, Option<String>, String);

#[tokio::test]
async fn both_stores_have_the_same_migrations() {
    let (sqlite, postgres) = (sqlx::migrate!("migrations/sqlite"), sqlx::migrate!("migrations/postgres"));
    let versions = |m: &Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect::<Vec<_>>();
    assert_eq!(versions(&sqlite), versions(&postgres), "the same versions, with the same names");
    assert!(versions(&sqlite).len() >= 12, "migrate! found the migrations");
}

#[tokio::test]
async fn postgres_has_sqlites_schema_after_every_migration() {
    let (sqlite, postgres) = (sqlx::migrate!("migrations/sqlite"), sqlx::migrate!("migrations/postgres"));
    let dir = tempfile::tempdir().unwrap();
    let mut lite = open_sqlite(&dir).await;
    let mut pg = PgConnection::connect(&pg::fresh_database_url()).await.unwrap();
    for migration in sqlite.iter() {
        let version = migration.version;
        sqlite.run_to(version, &mut lite).await.unwrap();
        postgres.run_to(version, &mut pg).await.unwrap();
        let differences = differences(&sqlite_schema(&mut lite).await, &postgres_schema(&mut pg).await);
        assert!(
            differences.is_empty(),
            "after {version} {}, PostgreSQL's schema differs from SQLite's:\n{}",
            migration.description,
            differences.join("\n")
        );
    }

    let schema = postgres_schema(&mut pg).await;
    // Not an empty comparison: every table is there, and every id that must
    // never be reused is generated on both.
    assert!(schema.len() >= 18, "every table: {:?}", schema.keys());
    let generated: Vec<_> =
        schema.iter().filter(|(_, t)| t.columns.iter().any(|c| c.generated)).map(|(name, _)| name.as_str()).collect();
    let ids = [
        "commitment_checks",
        "commitments",
        "couples",
        "deliveries",
        "hard_moments",
        "outbox",
        "pairings",
        "reflections",
    ];
    for table in ids {
        assert!(generated.contains(&table), "{table}'s id is generated: {generated:?}");
    }
}

/// Each kind of difference the comparison must see, made on PostgreSQL in a
/// transaction that is rolled back: were one unseen, the test above could pass
/// on schemas that differ.
#[tokio::test]
async fn every_kind_of_drift_is_seen() {
    let (sqlite, postgres) = (sqlx::migrate!("migrations/sqlite"), sqlx::migrate!("migrations/postgres"));
    let dir = tempfile::tempdir().unwrap();
    let mut lite = open_sqlite(&dir).await;
    let mut pg = PgConnection::connect(&pg::fresh_database_url()).await.unwrap();
    sqlite.run(&mut lite).await.unwrap();
    postgres.run(&mut pg).await.unwrap();
    let expected = sqlite_schema(&mut lite).await;
    assert_eq!(differences(&expected, &postgres_schema(&mut pg).await), Vec::<String>::new());

    let drifts = [
        ("a table more", "CREATE TABLE extra (id BIGINT)"),
        ("a column more", "ALTER TABLE dm_channels ADD COLUMN note TEXT"),
        ("INTEGER, not BIGINT", "ALTER TABLE partners ALTER COLUMN slot TYPE integer"),
        ("BYTEA for TEXT", "ALTER TABLE couples ALTER COLUMN tz TYPE bytea USING tz::bytea"),
        ("nullable", "ALTER TABLE couples ALTER COLUMN tz DROP NOT NULL"),
        ("another default", "ALTER TABLE outbox ALTER COLUMN attempts SET DEFAULT 1"),
        ("an id that may be reused", "ALTER TABLE commitments ALTER COLUMN id DROP IDENTITY"),
        (
            "another primary key",
            "ALTER TABLE partners DROP CONSTRAINT partners_pkey; ALTER TABLE partners ADD PRIMARY KEY (slot, couple_id)",
        ),
        ("a unique constraint fewer", "ALTER TABLE deliveries DROP CONSTRAINT deliveries_couple_id_occurrence_key"),
        ("an index renamed", "ALTER INDEX schedules_due RENAME TO schedules_next"),
        (
            "an index on other columns",
            "DROP INDEX hard_moments_couple; CREATE INDEX hard_moments_couple ON hard_moments (couple_id)",
        ),
        (
            "an index no longer unique",
            "DROP INDEX partners_external; CREATE INDEX partners_external ON partners (external_id) WHERE external_id IS NOT NULL",
        ),
        (
            "an index without its predicate",
            "DROP INDEX outbox_once; CREATE UNIQUE INDEX outbox_once ON outbox \
             (kind, COALESCE(delivery_id, 0), COALESCE(reflection_id, 0), COALESCE(slot, -1))",
        ),
        (
            "another predicate",
            "DROP INDEX deliveries_pending; CREATE INDEX deliveries_pending ON deliveries (claimed_at) WHERE status = 'sent'",
        ),
        (
            "another expression",
            "DROP INDEX outbox_once; CREATE UNIQUE INDEX outbox_once ON outbox \
             (kind, COALESCE(delivery_id, 0), COALESCE(reflection_id, 0), COALESCE(slot, -2)) WHERE kind <> 'notice'",
        ),
        (
            "another ON DELETE",
            "ALTER TABLE checkins DROP CONSTRAINT checkins_couple_id_fkey; \
             ALTER TABLE checkins ADD FOREIGN KEY (couple_id) REFERENCES couples (id) ON DELETE SET NULL",
        ),
        ("a foreign key fewer", "ALTER TABLE outbox DROP CONSTRAINT outbox_reflection_id_fkey"),
        ("a CHECK fewer", "ALTER TABLE nudges DROP CONSTRAINT nudges_via_check"),
        (
            "another CHECK",
            "ALTER TABLE delivery_messages DROP CONSTRAINT delivery_messages_slot_check; \
             ALTER TABLE delivery_messages ADD CHECK (slot IN (0, 1))",
        ),
    ];
    for (drift, sql) in drifts {
        let mut tx = pg.begin().await.unwrap();
        sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
        let found = differences(&expected, &postgres_schema(&mut tx).await);
        tx.rollback().await.unwrap();
        assert!(!found.is_empty(), "{drift} ({sql}) goes unseen");
    }
    assert_eq!(differences(&expected, &postgres_schema(&mut pg).await), Vec::<String>::new(), "all rolled back");
}

#[test]
fn a_test_database_url_names_the_database_and_keeps_the_rest() {
    assert_eq!(pg::with_database("postgres://u@127.0.0.1:5/postgres", "t"), "postgres://u@127.0.0.1:5/t");
    assert_eq!(
        pg::with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t"),
        "postgres://u:p@h:5/t?sslmode=disable"
    );
    assert_eq!(pg::with_database("postgres://u@h:5", "t"), "postgres://u@h:5/t");
    assert_eq!(pg::redacted("postgres://u:secret@h:5/db"), "postgres://u:***@h:5/db");
    assert_eq!(pg::redacted("postgres://u@h:5/db?sslmode=require"), "postgres://u@h:5/db?sslmode=require");
}

async fn open_sqlite(dir: &tempfile::TempDir) -> SqliteConnection {
    let options = SqliteConnectOptions::new().filename(dir.path().join("mend.db")).create_if_missing(true);
    options.foreign_keys(true).connect().await.unwrap()
}

/// Where `sqlite` and `postgres` differ, one line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    for name in sqlite.keys().chain(postgres.keys()).collect::<BTreeSet<_>>() {
        let (a, b) = match (sqlite.get(name), postgres.get(name)) {
            (Some(a), Some(b)) => (a, b),
            (a, _) => {
                found.push(format!("table {name} only on {}", if a.is_some() { "SQLite" } else { "PostgreSQL" }));
                continue;
            }
        };
        let mut differ = |what: &str, a: String, b: String| {
            if a != b {
                found.push(format!("{name}: {what}\n  SQLite:     {a}\n  PostgreSQL: {b}"));
            }
        };
        let columns = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        differ("columns", format!("{:?}", columns(a)), format!("{:?}", columns(b)));
        for (x, y) in a.columns.iter().zip(&b.columns).filter(|(x, y)| x.name == y.name) {
            differ(&format!("column {}", x.name), format!("{x:?}"), format!("{y:?}"));
        }
        differ("primary key", format!("{:?}", a.primary_key), format!("{:?}", b.primary_key));
        differ("unique constraints", format!("{:?}", a.unique), format!("{:?}", b.unique));
        differ("indexes", format!("{:?}", a.indexes.keys()), format!("{:?}", b.indexes.keys()));
        for (index, x) in &a.indexes {
            if let Some(y) = b.indexes.get(index) {
                differ(&format!("index {index}"), format!("{x:?}"), format!("{y:?}"));
            }
        }
        differ("foreign keys", format!("{:?}", a.foreign_keys), format!("{:?}", b.foreign_keys));
        differ("checks", format!("{:?}", a.checks), format!("{:?}", b.checks));
    }
    found
}

async fn sqlite_schema(db: &mut SqliteConnection) -> Schema {
    let tables: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT s.name, s.sql, l.wr FROM sqlite_schema s JOIN pragma_table_list l ON l.name = s.name AND l.schema = 'main'
         WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite_%' AND s.name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (name, sql, without_rowid) in tables {
        let rows: Vec<(String, String, bool, Option<String>, i64)> =
            sqlx::query_as(r#"SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid"#)
                .bind(&name)
                .fetch_all(&mut *db)
                .await
                .unwrap();
        let mut primary_key: Vec<_> = rows.iter().filter(|r| r.4 > 0).map(|r| (r.4, r.0.clone())).collect();
        primary_key.sort();
        let primary_key: Vec<String> = primary_key.into_iter().map(|(_, c)| c).collect();
        // A rowid table's INTEGER PRIMARY KEY is its rowid, never NULL; a WITHOUT
        // ROWID table's key is NOT NULL, declared or not. Any other key may hold NULL.
        let rowid = |c: &(String, String, bool, Option<String>, i64)| {
            !without_rowid && primary_key == [c.0.clone()] && c.1.eq_ignore_ascii_case("integer")
        };
        let autoincrement = sql.to_ascii_uppercase().contains("AUTOINCREMENT");
        let columns = rows
            .iter()
            .map(|c| Column {
                name: c.0.clone(),
                kind: match c.1.to_ascii_uppercase().as_str() {
                    "INTEGER" => "integer".into(),
                    // The one column declared TEXT that has always held sealed
                    // bytes (an answer's text): `bytea` on PostgreSQL.
                    "TEXT" if name == "responses" && c.0 == "body" => "blob".into(),
                    "TEXT" => "text".into(),
                    "BLOB" => "blob".into(),
                    other => format!("SQLite {other}"),
                },
                not_null: c.2 || (c.4 > 0 && without_rowid) || rowid(c),
                default: c.3.as_deref().map(expression),
                generated: rowid(c) && autoincrement,
            })
            .collect();

        let list: Vec<(String, bool, String)> =
            sqlx::query_as(r#"SELECT name, "unique", origin FROM pragma_index_list(?)"#)
                .bind(&name)
                .fetch_all(&mut *db)
                .await
                .unwrap();
        let (mut unique, mut indexes) = (BTreeSet::new(), BTreeMap::new());
        for (index, is_unique, origin) in list {
            match origin.as_str() {
                "pk" => {}
                "u" => {
                    let columns: Vec<(String,)> =
                        sqlx::query_as("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                            .bind(&index)
                            .fetch_all(&mut *db)
                            .await
                            .unwrap();
                    unique.insert(columns.into_iter().map(|(c,)| c).collect());
                }
                _ => {
                    let sql: String =
                        sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?")
                            .bind(&index)
                            .fetch_one(&mut *db)
                            .await
                            .unwrap();
                    let parsed = index_definition(&sql);
                    assert_eq!(parsed.unique, is_unique, "{sql}");
                    indexes.insert(index, parsed);
                }
            }
        }

        let keys: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
            r#"SELECT id, "table", "from", "to", on_delete, on_update FROM pragma_foreign_key_list(?) ORDER BY id, seq"#,
        )
        .bind(&name)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let mut foreign_keys = BTreeMap::<i64, ForeignKey>::new();
        for (id, table, from, to, on_delete, on_update) in keys {
            let key = foreign_keys.entry(id).or_insert_with(|| ForeignKey {
                columns: vec![],
                table,
                references: vec![],
                on_delete,
                on_update,
            });
            key.columns.push(from);
            // `REFERENCES t` without columns names t's primary key; mend always names them.
            key.references.push(to.expect("REFERENCES names its columns"));
        }

        let table = Table {
            columns,
            primary_key,
            unique,
            indexes,
            foreign_keys: foreign_keys.into_values().collect(),
            checks: checks(&sql),
        };
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(db: &mut PgConnection) -> Schema {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    // A constraint's columns, in its order, as `a,b`.
    const COLUMNS: &str = "(SELECT string_agg(a.attname::text, ',' ORDER BY k.n)
        FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)";
    let split = |columns: String| columns.split(',').map(str::to_owned).collect::<Vec<_>>();
    let mut schema = Schema::new();
    for (name,) in tables {
        let rows: Vec<(String, String, bool, Option<String>, bool)> = sqlx::query_as(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid), a.attidentity <> ''
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        )
        .bind(&name)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let columns = rows
            .into_iter()
            .map(|(name, kind, not_null, default, generated)| Column {
                name,
                kind: match kind.as_str() {
                    "bigint" => "integer".into(),
                    "text" => "text".into(),
                    "bytea" => "blob".into(),
                    other => format!("PostgreSQL {other}"),
                },
                not_null,
                default: default.as_deref().map(expression),
                generated,
            })
            .collect();

        let constraints: Vec<ConstraintRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.contype::text, {COLUMNS}, c.confrelid::regclass::text,
                    (SELECT string_agg(a.attname::text, ',' ORDER BY k.n)
                     FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum),
                    c.confdeltype::text || c.confupdtype::text, pg_get_constraintdef(c.oid)
                 FROM pg_constraint c WHERE c.conrelid = $1::text::regclass"
        )))
        .bind(&name)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let (mut primary_key, mut unique, mut foreign_keys, mut checks) =
            (vec![], BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (kind, columns, table, references, actions, definition) in constraints {
            match kind.as_str() {
                "p" => primary_key = split(columns.unwrap()),
                "u" => {
                    unique.insert(split(columns.unwrap()));
                }
                "f" => {
                    let action = |code| match code {
                        'a' => "NO ACTION",
                        'r' => "RESTRICT",
                        'c' => "CASCADE",
                        'n' => "SET NULL",
                        'd' => "SET DEFAULT",
                        _ => panic!("an ON DELETE/UPDATE action {code}"),
                    };
                    let actions: Vec<char> = actions.unwrap().chars().collect();
                    foreign_keys.insert(ForeignKey {
                        columns: split(columns.unwrap()),
                        table: table.unwrap(),
                        references: split(references.unwrap()),
                        on_delete: action(actions[0]).into(),
                        on_update: action(actions[1]).into(),
                    });
                }
                "c" => {
                    checks.insert(expression(definition.strip_prefix("CHECK ").unwrap()));
                }
                other => panic!("a constraint of kind {other} on {name}: {definition}"),
            }
        }

        // Indexes of their own, not those behind a primary key or UNIQUE.
        let list: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.relname::text, pg_get_indexdef(x.indexrelid)
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = $1::text::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                 WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))",
        )
        .bind(&name)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let indexes = list.into_iter().map(|(index, sql)| (index, index_definition(&sql))).collect();

        schema.insert(name, Table { columns, primary_key, unique, indexes, foreign_keys, checks });
    }
    schema
}

/// `CREATE [UNIQUE] INDEX name ON table [USING method] (columns) [WHERE predicate]`,
/// as SQLite keeps it and as `pg_get_indexdef` writes it.
fn index_definition(sql: &str) -> Index {
    let sql = without_comments(sql);
    let upper = sql.to_ascii_uppercase();
    let on = upper.find(" ON ").expect("CREATE INDEX … ON");
    let open = on + sql[on..].find('(').expect("an index's columns");
    let close = open + closing(&sql[open..]);
    let rest = sql[close + 1..].trim();
    let predicate = match rest.get(..6).map(str::to_ascii_uppercase) {
        Some(w) if w == "WHERE " => Some(expression(&rest[6..])),
        _ if rest.is_empty() => None,
        _ => panic!("after an index's columns: {rest}"),
    };
    Index {
        unique: upper.trim_start().starts_with("CREATE UNIQUE"),
        columns: top_level(&sql[open + 1..close], ',').iter().map(|c| expression(c)).collect(),
        predicate,
    }
}

/// The CHECKs of a CREATE TABLE as SQLite keeps it (ALTER TABLE … ADD COLUMN
/// included), column and table constraints alike.
fn checks(create_table: &str) -> BTreeSet<String> {
    let sql = without_comments(create_table);
    let open = sql.find('(').expect("a table's columns");
    let close = open + closing(&sql[open..]);
    let mut checks = BTreeSet::new();
    for item in top_level(&sql[open + 1..close], ',') {
        for (i, part) in top_level(&item, ' ').iter().enumerate() {
            if part.eq_ignore_ascii_case("check") {
                let parts = top_level(&item, ' ');
                let condition = parts[i + 1..].iter().find(|p| !p.is_empty()).expect("CHECK (…)");
                checks.insert(expression(condition));
            }
        }
    }
    checks
}

/// An expression as both stores would agree on it: lowercase outside quotes;
/// casts, parentheses, brackets, whitespace and double quotes left out; quotes
/// around a number left out; `= ANY (ARRAY[…])` as `IN (…)`; `!=` as `<>`.
fn expression(sql: &str) -> String {
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let mut literal = String::new();
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    literal.push(c);
                }
                let numeric = !literal.is_empty() && literal.chars().all(|c| c.is_ascii_digit() || "+-.".contains(c));
                if numeric {
                    out += &literal;
                } else {
                    out += &format!("'{}'", literal.replace('\'', "''"));
                }
            }
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                while chars.peek().is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    chars.next();
                }
            }
            '(' | ')' | '[' | ']' | '"' => {}
            c if c.is_whitespace() => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out.replace("=anyarray", "in").replace("!=", "<>")
}

fn without_comments(sql: &str) -> String {
    sql.lines().map(|l| l.split("--").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// The index of the parenthesis closing the one `s` starts with.
fn closing(s: &str) -> usize {
    let mut depth = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced: {s}")
}

/// `s` split at each `separator` outside parentheses and quotes, trimmed;
/// whitespace counts as a space.
fn top_level(s: &str, separator: char) -> Vec<String> {
    let (mut parts, mut part, mut depth, mut quoted) = (vec![], String::new(), 0, false);
    for c in s.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == separator && depth == 0 && !quoted => {
                parts.push(std::mem::take(&mut part).trim().to_owned());
                continue;
            }
            _ => {}
        }
        part.push(c);
    }
    parts.push(part.trim().to_owned());
    parts
}
