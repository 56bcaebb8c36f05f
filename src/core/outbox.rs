//! The outbox's rules: what kinds of message mend posts, to whom, how a failed
//! post is classified and when it is tried again. Plain Rust: the engine applies
//! them, the Discord adapter classifies Discord's answers into `Failure`.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::model::Slot;

pub type OutboxId = i64;

crate::core::model::spelled_enum!(
    /// What an outbox item posts.
    ItemKind, "outbox kind" {
        Prompt => "prompt",
        Reveal => "reveal",
        Nudge => "nudge",
        Reflection => "reflection",
        Notice => "notice",
    }
);

crate::core::model::spelled_enum!(
    /// Where an outbox item stands: `dropped` when no longer needed when its
    /// turn came (answered before the nudge, paused…); `failed` when given up
    /// (unreachable, refused, or out of time).
    ItemStatus, "outbox status" {
        Pending => "pending",
        Sent => "sent",
        Dropped => "dropped",
        Failed => "failed",
    }
);

/// Something mend tells a couple in its own words (the adapter words it): the
/// facts only, never anything a partner wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A partner answered today's prompt (never what).
    Answered {
        slot: Slot,
    },
    /// A partner took space; prompts pause until `until` (`None`: until they
    /// are ready).
    SpaceTaken {
        slot: Slot,
        until: Option<i64>,
    },
    /// The space `slot` took came to its end at `until` (posted then, and only
    /// if the space was not lifted or lengthened meanwhile).
    SpaceEnded {
        slot: Slot,
        until: i64,
    },
    /// A partner paused prompts, until an instant or until resumed.
    Paused {
        slot: Slot,
        until: Option<i64>,
    },
    /// A partner resumed prompts.
    Resumed {
        slot: Slot,
    },
    /// To the partner of `slot`, privately: `slot` is having a hard moment
    /// (nothing more), with a guide and an "I'm here" button for `moment`.
    HardMoment {
        slot: Slot,
        moment: i64,
    },
    /// To the one having a hard moment: `slot`, their partner, is here.
    ImHere {
        slot: Slot,
    },
    /// `slot` lifted their pause or space, and prompts wait for the rest of
    /// `by`'s space.
    StillHeld {
        slot: Slot,
        by: Slot,
    },
    /// The couple moved to `phase` (on, or back when slowing down). It names
    /// no one: who may move on would tell a private role.
    PhaseMoved {
        phase: crate::core::model::Phase,
        forward: bool,
    },
    /// Both partners took the private safety check, and prompts begin.
    Ready,
    /// `slot` made a commitment (its words are read, sealed, when posted).
    Committed {
        commitment: i64,
        slot: Slot,
    },
    /// To the partner it was made to by `slot`, privately: did it happen this time?
    CommitmentAsk {
        commitment: i64,
        check: i64,
        slot: Slot,
    },
    /// `slot` noticed the commitment kept (told to both; nothing else ever is).
    Kept {
        commitment: i64,
        slot: Slot,
    },
    /// The committer revised it, or retired it, with their note.
    CommitmentRevised {
        commitment: i64,
    },
    CommitmentRetired {
        commitment: i64,
    },
    /// To the committer: `slot` marked it as the one that matters most to them.
    MattersMost {
        commitment: i64,
        slot: Slot,
    },
    /// The couple was paired: the welcome, with the private question of how each comes to this.
    Welcome,
    /// The couple's channel was deleted: they continue in DMs, paused.
    ChannelGone,
    /// mend lost access to the couple's channel: paused until fixed.
    ChannelNoAccess,
    /// mend cannot reach `slot` by direct message: paused until fixed.
    DmClosed {
        slot: Slot,
    },
    /// `slot` left the server the couple's channel is in: paused.
    PartnerLeft {
        slot: Slot,
    },
    /// The couple ended mend; everything it held is deleted. `by`: the name of
    /// the partner who ended it, in the notice to the other.
    Ended {
        #[serde(default)]
        by: Option<String>,
    },
    /// An invitation to pair, to the invited partner privately (with Accept /
    /// Not now). Should their DMs be closed, a neutral mention in `channel` (where
    /// it was started) asks them to open DMs, naming nothing of what it is.
    Invitation {
        pairing: i64,
        from: String,
        channel: u64,
    },
    /// The invitation could not reach the invited partner's DMs (to the one
    /// who invited, privately).
    InvitationNotReached,
    /// The invited partner would rather not (to the one who invited, privately).
    Declined {
        name: String,
    },
    /// An invitation was accepted but mend could not open the couple's private
    /// channel: nothing was set up (to the one who invited).
    NoChannel,
    /// To `slot`, privately, before the weekly reflection `reflection`: an
    /// appreciation and what would help them feel cared for, both optional.
    CheckIn {
        slot: Slot,
        reflection: i64,
    },
}

impl Notice {
    /// The commitment whose words this notice tells, if any.
    pub fn commitment(&self) -> Option<i64> {
        match self {
            Notice::Committed { commitment, .. }
            | Notice::CommitmentAsk { commitment, .. }
            | Notice::Kept { commitment, .. }
            | Notice::CommitmentRevised { commitment }
            | Notice::CommitmentRetired { commitment }
            | Notice::MattersMost { commitment, .. } => Some(*commitment),
            _ => None,
        }
    }
}

/// Who a notice is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "who", rename_all = "snake_case")]
pub enum To {
    /// The couple's channel, or both partners in DMs.
    Home,
    /// The couple's channel, or only this partner in DMs.
    HomeOr(Slot),
    /// This partner, by direct message.
    Partner(Slot),
    /// People known outside mend by these ids (a couple that no longer exists).
    Users(Vec<String>),
}

/// One row of the outbox: a message mend owes someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: OutboxId,
    pub couple_id: Option<i64>,
    pub kind: ItemKind,
    pub delivery_id: Option<i64>,
    pub reflection_id: Option<i64>,
    /// A nudge: the partner it is for.
    pub slot: Option<Slot>,
    /// A notice: what to say, and to whom.
    pub notice: Option<(Notice, To)>,
    pub status: ItemStatus,
    /// How many times a worker has taken it, this time included.
    pub attempts: u32,
    /// How many of those failed (a take cut short by a crash is not a failure).
    pub failures: u32,
    pub next_attempt_at: i64,
    pub deadline: i64,
    pub created_at: i64,
}

/// An item to add to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub couple_id: Option<i64>,
    pub kind: ItemKind,
    pub delivery_id: Option<i64>,
    pub reflection_id: Option<i64>,
    pub slot: Option<Slot>,
    pub notice: Option<(Notice, To)>,
    pub due: i64,
    pub deadline: i64,
}

impl NewItem {
    /// A notice for a couple, due at once.
    pub fn notice(couple: Option<i64>, notice: Notice, to: To, now: i64) -> NewItem {
        NewItem {
            couple_id: couple,
            kind: ItemKind::Notice,
            delivery_id: None,
            reflection_id: None,
            slot: None,
            notice: Some((notice, to)),
            due: now,
            deadline: now + lifetime(ItemKind::Notice, Duration::zero()).num_seconds(),
        }
    }
}

/// Why mend cannot post somewhere, so that retrying will not help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The couple's channel was deleted.
    ChannelGone,
    /// mend may no longer see or post in the couple's channel.
    NoAccess,
    /// A partner does not accept direct messages from mend.
    DmClosed,
}

/// How a post failed, classified once for every kind of message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Rate limited, a server error, a timeout: try again later.
    Transient(String),
    /// The destination cannot be used until someone fixes it.
    Unreachable { why: Unreachable, slot: Option<Slot>, detail: String },
    /// Discord refused the request itself: retrying would fail the same way.
    Permanent(String),
}

impl Failure {
    pub fn detail(&self) -> &str {
        match self {
            Failure::Transient(d) | Failure::Permanent(d) | Failure::Unreachable { detail: d, .. } => d,
        }
    }
}

/// How long an item may keep failing before it is given up: a prompt or a
/// reflection is worth sending only the day it belongs to; a reveal holds what
/// both partners wrote and is kept trying for a week.
pub fn lifetime(kind: ItemKind, grace: Duration) -> Duration {
    match kind {
        ItemKind::Prompt => grace,
        // A reflection waits for the partners' check-ins, up to a day after
        // its slot, and is worth sending within the grace window after that.
        ItemKind::Reflection => Duration::seconds(super::reflection::CHECK_IN_WINDOW_SECONDS) + grace,
        ItemKind::Nudge => Duration::hours(6),
        ItemKind::Notice => Duration::days(1),
        ItemKind::Reveal => Duration::days(7),
    }
}

/// The wait after the `failures`-th failure: doubling from `base`, never more
/// than `ceiling`, and never less than a second (so a step never retries what
/// it just tried).
pub fn backoff(failures: u32, base: Duration, ceiling: Duration) -> Duration {
    let factor = 1i64 << failures.saturating_sub(1).min(20);
    let wait = base.num_seconds().saturating_mul(factor).min(ceiling.num_seconds());
    Duration::seconds(wait.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let (base, ceiling) = (Duration::seconds(30), Duration::minutes(30));
        let waits: Vec<i64> = (1..=8).map(|a| backoff(a, base, ceiling).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(backoff(1000, base, ceiling), ceiling);
        assert_eq!(backoff(1, Duration::zero(), ceiling), Duration::seconds(1), "never a busy loop");
    }

    #[test]
    fn notices_round_trip_as_json() {
        for (n, to) in [
            (Notice::Answered { slot: Slot::B }, To::HomeOr(Slot::A)),
            (Notice::Paused { slot: Slot::A, until: None }, To::Home),
            (Notice::Ended { by: Some("Sam".into()) }, To::Users(vec!["1".into(), "2".into()])),
        ] {
            let json = serde_json::to_string(&(&n, &to)).unwrap();
            let back: (Notice, To) = serde_json::from_str(&json).unwrap();
            assert_eq!(back, (n, to));
        }
    }
}
