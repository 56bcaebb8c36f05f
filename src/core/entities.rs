//! What mend keeps: couples, partners, where they live, invitations, deliveries
//! and responses. Plain data; the store reads and writes them, the engine
//! applies the rules to them.

use super::model::{Kind, Phase, Role, Slot};

pub type CoupleId = i64;
pub type DeliveryId = i64;
pub type PairingId = i64;

/// A couple as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Couple {
    pub id: CoupleId,
    pub created_at: i64,
    pub tz: String,
    pub phase: Phase,
    pub phase_changed_at: i64,
    pub paused: bool,
    pub paused_until: Option<i64>,
    /// What holds the couple's prompts, each on its own.
    pub holds: Holds,
    pub ended_at: Option<i64>,
    pub partners: [Partner; 2],
}

impl Couple {
    pub fn roles(&self) -> [Role; 2] {
        [self.partners[0].role, self.partners[1].role]
    }

    /// Whether prompts are paused at `now` (a pause with an end is over once
    /// that instant has passed, whatever the stored flag still says).
    pub fn is_paused_at(&self, now: i64) -> bool {
        self.paused && self.paused_until.is_none_or(|until| until > now)
    }

    /// Paused with no end: only `/resume` (or whoever fixes what stopped it)
    /// brings prompts back.
    pub fn is_paused_indefinitely(&self) -> bool {
        self.paused && self.paused_until.is_none()
    }

    /// The partners whose space holds prompts at `now`: only they (or the
    /// space's end) can lift it.
    pub fn space_holders(&self, now: i64) -> Vec<Slot> {
        Slot::BOTH.into_iter().filter(|s| self.holds.space[s.index()].is_some_and(|u| u > now)).collect()
    }

    pub fn partner(&self, slot: Slot) -> &Partner {
        &self.partners[slot.index()]
    }

    /// The slot of the partner known outside mend by `external_id`.
    pub fn slot_of(&self, external_id: &str) -> Option<Slot> {
        Slot::BOTH.into_iter().find(|s| self.partner(*s).external_id.as_deref() == Some(external_id))
    }

    /// The couple's timezone (stored names always parse; UTC if one no longer does).
    pub fn zone(&self) -> chrono_tz::Tz {
        super::schedule::parse_stored_zone(&self.tz).unwrap_or(chrono_tz::UTC)
    }
}

/// The end of a hold that lasts until it is lifted.
pub const UNTIL_LIFTED: i64 = i64::MAX;

/// What holds a couple's prompts: a pause either partner may lift, and each
/// partner's space, which only they (or its end) lift. Each is the instant it
/// ends (`UNTIL_LIFTED`: when lifted), or `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holds {
    pub pause: Option<i64>,
    pub space: [Option<i64>; 2],
    /// Each partner who has yet to take the private safety check (a newly
    /// paired couple): prompts wait for both. Only this is kept, never an answer.
    pub checking: [bool; 2],
}

impl Holds {
    /// The combined pause at `now`: `None` if nothing holds; `Some(None)` if a
    /// hold lasts until lifted; `Some(Some(end))` otherwise.
    pub fn combined(&self, now: i64) -> Option<Option<i64>> {
        let checking = self.checking.contains(&true).then_some(UNTIL_LIFTED);
        let active: Vec<i64> =
            [self.pause, self.space[0], self.space[1], checking].into_iter().flatten().filter(|u| *u > now).collect();
        let end = active.iter().copied().max()?;
        Some((end != UNTIL_LIFTED).then_some(end))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub name: String,
    pub role: Role,
    pub external_id: Option<String>,
}

impl Partner {
    /// The partner's Discord user id, when they have one.
    pub fn user_id(&self) -> Option<u64> {
        self.external_id.as_deref().and_then(|s| s.parse().ok())
    }
}

/// Where a couple lives: a private channel in a server, or direct messages only
/// (`channel_id` `None`). Ids are the chat platform's, opaque to the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub couple_id: CoupleId,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
}

crate::core::model::spelled_enum!(
    /// Where an invitation to pair stands.
    PairingStatus, "pairing status" {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Expired => "expired",
    }
);

/// An invitation to pair: to a named partner in a server, or a one-time code in DMs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    pub id: PairingId,
    pub initiator: u64,
    pub partner: Option<u64>,
    pub guild_id: Option<u64>,
    pub code: Option<String>,
    pub expires_at: i64,
    pub status: PairingStatus,
    /// The couple's timezone, when the one who started the pairing gave it.
    pub tz: Option<String>,
}

impl Pairing {
    /// Still open to an answer at `now`.
    pub fn is_open_at(&self, now: i64) -> bool {
        self.status == PairingStatus::Pending && self.expires_at >= now
    }
}

crate::core::model::spelled_enum!(
    /// Where a claimed prompt or reflection stands.
    Status, "delivery status" {
        Pending => "pending",
        Sent => "sent",
        Missed => "missed",
    }
);

/// The prompt chosen for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub pillar: String,
    pub phase: Phase,
    pub kind: Kind,
    pub prompts: [String; 2],
}

/// One scheduled prompt occurrence of a couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub couple_id: CoupleId,
    pub occurrence: i64,
    pub claimed_at: i64,
    pub status: Status,
    pub chosen: Option<Chosen>,
    pub sent_at: Option<i64>,
    pub message_ref: Option<String>,
    pub revealed_at: Option<i64>,
}

impl Delivery {
    pub fn kind(&self) -> Kind {
        self.chosen.as_ref().map_or(Kind::Shared, |c| c.kind)
    }
}

/// One weekly reflection occurrence of a couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReflection {
    pub id: i64,
    pub couple_id: CoupleId,
    pub occurrence: i64,
    pub week_start: i64,
    pub status: Status,
}

crate::core::model::spelled_enum!(
    /// What a partner did with a delivery.
    ResponseStatus, "response status" {
        Answered => "answered",
        Skipped => "skipped",
        Space => "space",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub delivery_id: DeliveryId,
    pub slot: Slot,
    pub status: ResponseStatus,
    pub body: Option<String>,
    pub done: Option<bool>,
    pub answered_at: i64,
    pub edited_at: Option<i64>,
    pub meaningful_at: Option<i64>,
}
