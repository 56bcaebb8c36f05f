//! The engine: the only door to the store. Every rule of `core` is applied here,
//! each user action in one transaction, with time from the clock. The Discord
//! adapter calls these methods and words their outcomes; it never sees SQL.
//!
//! By concern: `couples` (pairing, roles, phases, pauses, ending), `answers`,
//! `schedules` (setting them, claiming what is due), `outbox` (what mend owes
//! someone, leased, retried and recorded), `reflections`.

mod answers;
mod checkins;
mod commitments;
mod couples;
mod moments;
mod outbox;
mod pairing;
mod reflections;
mod safety;
mod schedules;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::AnyPool;

use crate::clock::Clock;
use crate::config::defaults;
use crate::core::answer::AnswerError;
use crate::core::entities::{Delivery, Response};
use crate::core::prompts::{Library, Prompt};
use crate::core::schedule::ScheduleError;
use crate::crypto::Cipher;
use crate::store::keys::Keys;
use crate::store::{self, StoreError};

pub use checkins::{CheckInForm, CheckedIn, PostedReflection};
pub use commitments::{Answered, MAX_COMMITMENT_CHARS, MAX_OPEN, may_commit};
pub use couples::{Forgotten, NewCouple, may_move_on};
pub use outbox::{Job, Outcome};
pub use pairing::{Invitation, Paired, Place};
pub use safety::Cleared;

/// How the engine behaves; the defaults suit production (`config::defaults`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// A prompt found due later than this (mend was down) is recorded as missed
    /// instead of sent.
    pub grace: Duration,
    /// How long "I need space" pauses a couple's prompts.
    pub space: Duration,
    /// Schedules claimed per transaction.
    pub claim_batch: i64,
    /// The shortest gap a prompt or reflection schedule may have (zero: none).
    pub min_interval: Duration,
    /// Timezone and schedules for new couples.
    pub default_tz: String,
    pub default_schedule: String,
    pub default_reflection: String,
    /// How long after a prompt a partner who hasn't answered gets one nudge.
    pub nudge_after: Duration,
    /// The hours, in each couple's timezone, in which a nudge may come.
    pub waking: crate::core::waking::WakingHours,
    /// How long an invitation or pairing code stays open.
    pub pairing_ttl: Duration,
    /// How long an invitation sent to a partner's DMs stays open: they may not
    /// read it for a while, and need not decide at once.
    pub invitation_ttl: Duration,
    /// The first wait before a failed post is tried again (doubling each time).
    pub retry_base: Duration,
    pub retry_ceiling: Duration,
    /// How long a worker holds an item it took before another may take it.
    pub lease: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            grace: Duration::hours(6),
            space: Duration::days(2),
            claim_batch: 5_000,
            min_interval: Duration::minutes(defaults::MIN_INTERVAL_MINUTES),
            default_tz: defaults::TZ.into(),
            default_schedule: defaults::SCHEDULE.into(),
            default_reflection: defaults::REFLECTION.into(),
            nudge_after: Duration::minutes(defaults::NUDGE_AFTER_MINUTES),
            waking: crate::core::waking::WakingHours::default(),
            pairing_ttl: Duration::minutes(30),
            invitation_ttl: Duration::days(7),
            retry_base: Duration::seconds(defaults::RETRY_BASE_SECONDS),
            retry_ceiling: Duration::minutes(30),
            lease: Duration::seconds(defaults::LEASE_SECONDS),
        }
    }
}

/// Something the person acting can fix or should know. The adapter words each
/// kind for them (`discord::text::user_error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("unknown couple")]
    UnknownCouple,
    #[error("not in a couple")]
    NotInACouple,
    #[error("not this person's couple")]
    NotYours,
    #[error("prompt not sent")]
    NotSent,
    #[error("already revealed")]
    AlreadyRevealed,
    #[error("an action needs done or not today")]
    ActionNeedsDone,
    #[error("this prompt needs words")]
    TextNeeded,
    #[error("not revealed")]
    NotRevealed,
    #[error("only the hurt partner moves the phase on")]
    NotTheirsToMove,
    #[error("already in the last phase")]
    LastPhase,
    #[error("already in the first phase")]
    FirstPhase,
    #[error("already paused")]
    AlreadyPaused,
    #[error("not paused")]
    NotPaused,
    /// Prompts wait for both partners' private safety check.
    #[error("prompts not started")]
    NotStarted,
    #[error("a commitment needs words")]
    CommitmentEmpty,
    #[error("a commitment too long")]
    CommitmentTooLong { max: usize },
    #[error("already three commitments open")]
    TooManyCommitments { max: i64 },
    #[error("commitments are for the partner rebuilding trust")]
    NotTheirsToCommit,
    #[error("not this person's commitment")]
    NotYourCommitment,
    #[error("the commitment is retired or gone")]
    CommitmentGone,
    /// While a space or pause holds the couple, commitments rest too.
    #[error("commitments rest while held")]
    CommitmentsHeld,
    /// A commitment before both partners have taken the safety check.
    #[error("commitments have not started")]
    CommitmentsNotStarted,
    /// The partner asked for space: only they, or its end, lift it.
    #[error("the partner's space")]
    SpaceHeld { name: String, until: Option<chrono::DateTime<chrono_tz::Tz>> },
    /// A phase change confirmed from a stale view: the couple has moved since.
    #[error("the phase changed meanwhile")]
    PhaseMoved { now: crate::core::model::Phase },
    #[error("pause end in the past")]
    PauseInPast,
    #[error("already paired")]
    AlreadyPaired,
    #[error("partner already paired")]
    PartnerAlreadyPaired,
    #[error("pairing with oneself")]
    NotYourself,
    #[error("invitation gone")]
    InvitationGone,
    #[error("invitation for someone else")]
    NotForYou,
    #[error("unknown code")]
    CodeUnknown,
    #[error("own code")]
    CodeOwn,
    #[error("code expired")]
    CodeExpired,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EngineError {
    fn from(e: sqlx::Error) -> Self {
        EngineError::Store(e.into())
    }
}

impl From<AnswerError> for EngineError {
    fn from(e: AnswerError) -> Self {
        EngineError::User(e.into())
    }
}

impl From<ScheduleError> for EngineError {
    fn from(e: ScheduleError) -> Self {
        EngineError::User(e.into())
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// A delivery ready to send, with the prompt each partner gets.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub delivery: Delivery,
    pub couple: crate::core::entities::Couple,
    pub pillar: String,
    pub kind: crate::core::model::Kind,
    pub prompts: [Prompt; 2],
}

/// Both answers of a delivery, revealed together.
#[derive(Debug, Clone)]
pub struct Reveal {
    pub delivery: Delivery,
    pub responses: [Response; 2],
}

/// What saving an answer led to.
#[derive(Debug, Clone)]
pub struct Saved {
    pub edited: bool,
    pub kind: crate::core::model::Kind,
    /// True when this answer completed a pair: both are now revealed (the reveal
    /// is in the outbox, posted by the worker).
    pub revealed: bool,
}

#[derive(Clone)]
pub struct Engine {
    pool: AnyPool,
    keys: Keys,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Engine {
    /// `keys` seal what partners write at rest; they must be the ones `pool`
    /// was opened with.
    pub fn new(pool: AnyPool, keys: Keys, library: Arc<Library>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        Engine { pool, keys, library, clock, settings }
    }

    /// Opens (creating and migrating) the database at `url`, its texts
    /// sealed with `keys`, and builds an engine on it.
    pub async fn open(
        url: &str,
        keys: Keys,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Engine> {
        let pool = store::connect(url, &keys).await?;
        Ok(Engine::new(pool, keys, library, clock, settings))
    }

    /// Closes the database and its keystore (a test's "crash" before opening
    /// it again).
    pub async fn close(&self) {
        self.pool.close().await;
        self.keys.close().await;
    }

    /// The keystore its texts are sealed with.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    /// The URL of the database this engine is on (it may hold a password:
    /// for connecting, never for a log).
    pub fn database_url(&self) -> String {
        self.pool.connect_options().database_url.to_string()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// What the database holds, for `mend status`.
    pub async fn status(&self) -> Result<Status> {
        let now = ts(self.now());
        let (couples, paused) = store::couples::count(&self.pool, now).await?;
        Ok(Status {
            couples,
            paused,
            waiting: store::outbox::count(&self.pool, crate::core::outbox::ItemStatus::Pending).await?,
            failed: store::outbox::count(&self.pool, crate::core::outbox::ItemStatus::Failed).await?,
            next: self.next_due().await?,
        })
    }

    /// Writes a consistent copy of the database to `to` while mend runs (see
    /// `store::backup`), then opens the copy with this engine's key to check
    /// it: a copy the key cannot open is removed and refused.
    pub async fn backup(&self, to: &std::path::Path) -> Result<Status> {
        store::backup(&self.pool, to).await?;
        let url = crate::config::database_url(&to.to_string_lossy());
        let opened = store::connect(&url, &self.keys).await;
        let pool = match opened {
            Ok(pool) => pool,
            Err(e) => {
                let _ = std::fs::remove_file(to);
                return Err(e.into());
            }
        };
        let copy =
            Engine::new(pool, self.keys.clone(), self.library.clone(), self.clock.clone(), self.settings.clone());
        let status = copy.status().await;
        copy.pool.close().await;
        status
    }

    /// Puts the database under the host key `new`: every partner's key is
    /// resealed under it in the keystore, beside its sealing under the old
    /// key; then, in one transaction, the database's key check (and any text
    /// from before data keys); then the keystore takes the new sealing. A
    /// rekey stopped between the steps is ended, or undone, by the next open
    /// with whichever key the database's check is then under
    /// (`store::connect`). The write-ahead log is folded into the database
    /// so no page sealed under the old key is left in it. The engine is
    /// consumed: its key is the old one, which no longer opens the database.
    /// Returns how many keys and texts were resealed; `progress` hears the
    /// count as it goes.
    pub async fn rekey(self, new: &Cipher, mut progress: impl FnMut(u64)) -> Result<u64> {
        let keys = self.keys.stage_rekey(new, &mut progress).await?;
        let resealed = store::rekey::rekey(&self.pool, self.keys.host(), new, |n| progress(keys + n)).await?;
        self.keys.with_host(new.clone()).finish_rekey().await?;
        store::scrub(&self.pool).await?;
        self.close().await;
        Ok(keys + resealed)
    }

    /// How many outbox items are due and not yet posted, and how long the
    /// longest-waiting has been due (by the engine's clock), for `/metrics`.
    pub async fn outbox_depth(&self) -> Result<(i64, Option<Duration>)> {
        let (n, oldest) = store::outbox::depth(&self.pool, ts(self.now())).await?;
        Ok((n, oldest.map(|t| Duration::seconds((ts(self.now()) - t).max(0)))))
    }

    /// Whether the database takes a write now (one that changes nothing).
    pub async fn probe_write(&self) -> Result<()> {
        Ok(store::probe_write(&self.pool).await?)
    }

    /// The query plan of each query a worker step runs, for tests that check
    /// a step's cost follows what is due.
    pub async fn step_query_plans(&self) -> Result<Vec<(String, String)>> {
        Ok(store::explain_step_queries(&self.pool).await?)
    }
}

/// What `mend status` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub couples: i64,
    pub paused: i64,
    /// Messages waiting in the outbox.
    pub waiting: i64,
    /// Messages given up.
    pub failed: i64,
    pub next: Option<DateTime<Utc>>,
}
