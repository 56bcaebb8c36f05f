//! Settings read at start-up, so that a bad value fails at once with a clear
//! message rather than later in the middle of someone's evening.
//!
//! One tree: `StoreConfig` (where the data is), `engine::Settings` (the rules'
//! numbers), `discord::BotConfig` (how to reach Discord); `defaults` is the one
//! place their default values are written.

use std::path::PathBuf;

use clap::Args;

/// The default of every setting that has one, shared by the command line and
/// `engine::Settings::default()`.
pub mod defaults {
    pub const DATABASE_URL: &str = "sqlite://mend.db";
    pub const TZ: &str = "UTC";
    pub const SCHEDULE: &str = "daily 20:00";
    pub const REFLECTION: &str = "sun 19:00";
    pub const NUDGE_AFTER_MINUTES: i64 = 360;
    /// Nudges come between 08:00 and 22:00 in the couple's timezone.
    pub const NUDGE_HOURS: &str = "08-22";
    /// The shortest gap between two prompts (or reflections) a couple may choose.
    pub const MIN_INTERVAL_MINUTES: i64 = 60;
    pub const RETRY_BASE_SECONDS: i64 = 30;
    pub const LEASE_SECONDS: i64 = 120;
    pub const DISCORD_TIMEOUT_SECONDS: u64 = 30;
    /// `/healthz` calls the scheduler stalled when a step runs longer than
    /// this (the worker steps at least once a minute).
    pub const HEALTH_STALL_SECONDS: u64 = 180;
}

/// Where mend keeps its data and which prompts it offers.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// The SQLite database (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = defaults::DATABASE_URL, global = true)]
    pub database_url: String,

    /// Extra directories of prompt files, added to the built-in library
    /// (separate several with `:` in the environment variable).
    #[arg(long = "extra-prompts", env = "MEND_EXTRA_PROMPTS", value_delimiter = ':', global = true)]
    pub extra_prompts: Vec<PathBuf>,

    /// Where each partner's own key is kept, apart from the database and its
    /// backups: a SQLite file (by default the database's path with `.keys`
    /// added) or a PostgreSQL database of its own. Required with a PostgreSQL
    /// database.
    #[arg(long, env = "MEND_KEYSTORE", global = true)]
    pub keystore: Option<String>,
}

impl StoreConfig {
    /// The database URL with `sqlite:` added to a bare path.
    pub fn url(&self) -> String {
        database_url(&self.database_url)
    }

    /// The keystore's URL: `MEND_KEYSTORE`, or beside a SQLite database.
    pub fn keystore_url(&self) -> Result<String, String> {
        match self.keystore.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) if database_url(k) == self.url() => Err(
                "MEND_KEYSTORE names the database itself: the keys must live apart from it (and from its backups), in a file or a database of their own".into(),
            ),
            Some(k) => Ok(database_url(k)),
            None => crate::store::keys::default_url(&self.url()).ok_or_else(|| {
                "MEND_KEYSTORE is not set: on PostgreSQL each partner's key lives in a store of its own, kept out of the database's backups — set MEND_KEYSTORE=postgres://…/mend_keys (a database every mend process reaches) or, with one machine, a file path such as /var/lib/mend/mend.keys".into()
            }),
        }
    }
}

/// Accepts `postgres://…` (or `postgresql://…`), `sqlite://file.db`,
/// `sqlite::memory:` or a bare path (a SQLite file).
pub fn database_url(value: &str) -> String {
    if value.starts_with("sqlite:") || crate::store::Backend::of_url(value) == crate::store::Backend::Postgres {
        value.to_string()
    } else {
        format!("sqlite://{value}")
    }
}

/// Reads `.env` from the working directory, if there is one, into the
/// environment; what is already set there wins, and an empty value is "not
/// set". Returns a one-line problem to tell the host (a line that does not
/// parse: then nothing of the file is used), or `None`.
pub fn load_dotenv() -> Option<String> {
    // A line that does not parse is named by its variable, never printed: it
    // may hold the token.
    let problem = |e: dotenvy::Error| match e {
        dotenvy::Error::LineParse(rest, _) => {
            // `rest` is the text dotenvy could not read (a value, maybe the
            // token): find its line in the file for the name in front of it.
            let file = std::fs::read_to_string(".env").unwrap_or_default();
            let name = file
                .lines()
                .find(|l| l.contains(rest.as_str()))
                .and_then(|l| l.split_once('='))
                .map(|(n, _)| n.trim().trim_start_matches("export ").trim())
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or("a variable")
                .to_string();
            format!(
                "mend: .env was not read: the line setting {name} does not parse (quote a value with spaces: \
                 NAME=\"a b\") — fix the line, or remove .env"
            )
        }
        other => format!("mend: .env was not read: {other} — fix it, or remove .env"),
    };
    let lines = match dotenvy::dotenv_iter() {
        Ok(lines) => lines,
        Err(e) if e.not_found() => return None,
        Err(e) => return Some(problem(e)),
    };
    // Read it whole first: a bad line leaves the environment as it was.
    let mut set = Vec::new();
    for line in lines {
        match line {
            // An empty value (`DISCORD_GUILD_ID=`, as .env.example writes the
            // optional ones) means "not set"; the environment wins over the file.
            Ok((name, value)) if !value.trim().is_empty() && std::env::var_os(&name).is_none() => {
                set.push((name, value))
            }
            Ok(_) => {}
            Err(e) => return Some(problem(e)),
        }
    }
    for (name, value) in set {
        // SAFETY: called first thing in `main`, before anything else reads or
        // writes the environment (dotenvy's own loader does the same).
        unsafe { std::env::set_var(name, value) };
    }
    None
}

/// Which of the bot's gateway shards this process holds (`MEND_SHARDS`), when
/// several `mend run` share them: `first` to `last` (both included) of `total`.
/// Discord sends a server's events to shard `(server id >> 22) % total`, and
/// direct messages to shard 0 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

/// What `MEND_SHARDS` looks like, for the fix in every refusal.
const SHARDS_EXAMPLE: &str = "e.g. MEND_SHARDS=0-1/4 (shards 0 and 1 of 4) or MEND_SHARDS=2/4";

impl ShardRange {
    /// Reads `0-1/4`, `2/4`, `2 / 4`, `0–1 of 4` (as the start-up line says
    /// it) or `0..=1/4`; empty is "not set" (one process, every shard). A
    /// mistake is one sentence with the fix.
    pub fn parse(value: &str) -> Result<Option<ShardRange>, String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        let (range, total) = value
            .split_once('/')
            .or_else(|| value.split_once(" of "))
            .ok_or_else(|| format!("\"{value}\" does not say how many shards there are in all — {SHARDS_EXAMPLE}"))?;
        let number = |s: &str, what: &str| {
            s.trim().parse::<u32>().map_err(|_| format!("\"{}\" is not a {what} — {SHARDS_EXAMPLE}", s.trim()))
        };
        let total = number(total, "number of shards")?;
        if total == 0 {
            return Err(format!("there must be at least 1 shard in all, not 0 — {SHARDS_EXAMPLE}"));
        }
        let range = range.trim();
        let (first, last) = if let Some((a, b)) = range.split_once("..=") {
            (number(a, "shard number")?, number(b, "shard number")?)
        } else if range.contains("..") {
            // Rust's `0..1` leaves 1 out, serenity's `start_shard_range(0..1)`
            // starts it: too easy to read either way.
            return Err(format!(
                "\"{range}\" could mean either end included or not — write both ends with a dash, {SHARDS_EXAMPLE}"
            ));
        } else if let Some((a, b)) = range.split_once(['-', '–']) {
            (number(a, "shard number")?, number(b, "shard number")?)
        } else {
            let n = number(range, "shard number")?;
            (n, n)
        };
        if first > last {
            return Err(format!(
                "the range {first}-{last} runs backwards — write the lower shard first: MEND_SHARDS={last}-{first}/{total}"
            ));
        }
        if last >= total {
            return Err(format!(
                "there is no shard {last} of {total} (shards are numbered 0 to {}) — {SHARDS_EXAMPLE}",
                total - 1
            ));
        }
        Ok(Some(ShardRange { first, last, total }))
    }

    /// Whether this process holds shard 0, which gets the direct messages,
    /// and is the one that registers the slash commands.
    pub fn holds_shard_zero(&self) -> bool {
        self.first == 0
    }

    /// Whether Discord sends this server's events to a shard of this range.
    pub fn holds_guild(&self, guild_id: u64) -> bool {
        let shard = (guild_id >> 22) % u64::from(self.total);
        (u64::from(self.first)..=u64::from(self.last)).contains(&shard)
    }

    /// Whether this process holds every shard there is.
    pub fn is_all(&self) -> bool {
        self.first == 0 && self.last + 1 == self.total
    }
}

impl std::fmt::Display for ShardRange {
    /// `shard 2 of 4`, `shards 0–1 of 4`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "shard {} of {}", self.first, self.total)
        } else {
            write!(f, "shards {}–{} of {}", self.first, self.last, self.total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShardRange;

    fn range(first: u32, last: u32, total: u32) -> Option<ShardRange> {
        Some(ShardRange { first, last, total })
    }

    #[test]
    fn shards_are_read_as_people_write_them() {
        for (typed, want) in [
            ("0-1/4", range(0, 1, 4)),
            ("2/4", range(2, 2, 4)),
            (" 2 / 4 ", range(2, 2, 4)),
            ("0 - 1 / 4", range(0, 1, 4)),
            ("0–1 of 4", range(0, 1, 4)),
            ("0..=1/4", range(0, 1, 4)),
            ("0-3/4", range(0, 3, 4)),
            ("0/1", range(0, 0, 1)),
            ("", None),
            ("  ", None),
        ] {
            assert_eq!(ShardRange::parse(typed), Ok(want), "{typed:?}");
        }
    }

    #[test]
    fn a_bad_value_is_one_sentence_with_the_fix() {
        for (typed, says) in [
            ("5/4", "there is no shard 5 of 4 (shards are numbered 0 to 3)"),
            ("4/4", "there is no shard 4 of 4"),
            ("2-1/4", "runs backwards — write the lower shard first: MEND_SHARDS=1-2/4"),
            ("0/0", "at least 1 shard in all"),
            ("0-1", "does not say how many shards there are in all"),
            ("0..1/4", "write both ends with a dash"),
            ("a/4", "\"a\" is not a shard number"),
            ("1/four", "\"four\" is not a number of shards"),
            ("-1/4", "\"\" is not a shard number"),
        ] {
            let e = ShardRange::parse(typed).unwrap_err();
            assert!(e.contains(says), "{typed:?}: {e}");
            assert!(e.contains("MEND_SHARDS="), "{typed:?}: the fix shows the setting: {e}");
            assert!(!e.contains('\n'), "{typed:?}: one line: {e}");
        }
    }

    #[test]
    fn the_start_up_line_names_the_shards_and_reads_back() {
        let two = ShardRange { first: 0, last: 1, total: 4 };
        assert_eq!(two.to_string(), "shards 0–1 of 4");
        assert_eq!(ShardRange { first: 2, last: 2, total: 4 }.to_string(), "shard 2 of 4");
        assert_eq!(ShardRange::parse(&two.to_string().replace("shards ", "")), Ok(Some(two)));
        assert!(two.holds_shard_zero() && !two.is_all());
        assert!(!ShardRange { first: 2, last: 3, total: 4 }.holds_shard_zero());
        assert!(ShardRange { first: 0, last: 3, total: 4 }.is_all());
    }

    #[test]
    fn a_server_is_on_the_shard_discords_formula_names() {
        let two = ShardRange { first: 1, last: 2, total: 4 };
        let on = |shard: u64| (shard << 22) | 12345;
        assert_eq!([0, 1, 2, 3, 4, 5].map(|s| two.holds_guild(on(s))), [false, true, true, false, false, true]);
    }
}
