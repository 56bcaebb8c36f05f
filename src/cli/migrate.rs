//! `mend migrate-to POSTGRES_URL`: the SQLite database moved into an empty
//! PostgreSQL one, with mend stopped; the SQLite file is left as it was.

use std::process::ExitCode;

use super::{InputError, key_from_env};
use crate::config::StoreConfig;
use crate::crypto::{Cipher, KeyError};
use crate::store::migrate::{self, MoveError};
use crate::store::{self, Backend, StoreError};

pub(super) async fn migrate_to(store: &StoreConfig, target: &str) -> anyhow::Result<ExitCode> {
    let input = |m: String| anyhow::Error::from(InputError(m));
    let shown = store::shown_url(target);
    if Backend::of_url(target) != Backend::Postgres {
        return Err(input(format!(
            "{shown} is not a PostgreSQL URL: give `mend migrate-to` one such as postgres://mend@localhost/mend"
        )));
    }
    if Backend::of_url(&store.database_url) == Backend::Postgres {
        return Err(input(
            "DATABASE_URL already names a PostgreSQL database: point it at the SQLite file to move".into(),
        ));
    }
    let source_url = store.url();
    let Some(path) = store::file_of(&source_url).filter(|p| p.is_file()) else {
        return Err(input(format!(
            "DATABASE_URL ({}) names no SQLite file: point it at the database mend has used so far",
            store.database_url
        )));
    };
    // Rows written after their table was copied would be lost: mend is stopped.
    let _alone = store::hold(&source_url, true).map_err(|e| input(e.to_string()))?;

    // The key must open the database before anything is written anywhere.
    let key = key_from_env()?;
    let cipher = Cipher::new(&key);
    let seen = store::inspect(&path, &cipher).await?;
    if seen.key_opens == Some(false) {
        return Err(input(KeyError::Wrong.to_string()));
    }
    if !seen.unknown.is_empty() || !seen.failed.is_empty() {
        return Err(input(format!(
            "{} was written by a newer mend or a migration of it failed: run `mend doctor` first",
            path.display()
        )));
    }
    // Migrations this mend has and the file lacks are applied, as any command does.
    let keys = super::keys(store, &key).await?;
    let keystore = store.keystore_url().map_err(input)?;
    let source = store::connect(&source_url, &keys).await.map_err(|e| match e {
        StoreError::Key(e) => input(e.to_string()),
        e => input(format!("could not open the database {}: {e}", store.database_url)),
    })?;
    let pool = store::open(target, 2).await.map_err(|e| input(format!("could not reach {shown}: {e}")))?;

    let mut rows = 0;
    let moved = migrate::to_postgres(&source, &pool, &cipher, |m| {
        rows += m.rows;
        eprintln!("copied {}: {} {}", m.table, m.rows, if m.rows == 1 { "row" } else { "rows" });
    })
    .await;
    source.close().await;
    keys.close().await;
    pool.close().await;
    let moved = moved.map_err(|e| match e {
        MoveError::NotEmpty { table } => input(format!(
            "{shown} already holds mend's data ({table} has rows): give `mend migrate-to` an empty database \
             (e.g. a new one from `createdb`); nothing was written"
        )),
        MoveError::OtherKey => input(format!(
            "{shown} was set up with another encryption key: give `mend migrate-to` an empty database; nothing was written"
        )),
        e => anyhow::Error::from(e).context(format!("the move into {shown} was undone")),
    })?;
    println!(
        "moved {rows} {} in {} tables from {} into {shown}, in one transaction; {} is left as it was.",
        if rows == 1 { "row" } else { "rows" },
        moved.len(),
        store.database_url,
        path.display()
    );
    println!(
        "then: set DATABASE_URL={shown} (with its password, if it has one) and MEND_KEYSTORE={} (the partners' keys \
         stay in it, apart from the database), and start mend again, with the same key.",
        store::shown_url(&keystore)
    );
    Ok(ExitCode::SUCCESS)
}
