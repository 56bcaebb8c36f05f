//! Couples: pairing with consent, roles, phases, pauses and space, where they
//! live, and ending. Each action is one transaction, with the notices it owes
//! the couple written to the outbox in it.

use super::schedules::parse_stored;
use super::{Engine, Result, UserError, ts};
use crate::core::entities::{Couple, CoupleId, DeliveryId, Holds, Home, Partner, ResponseStatus, UNTIL_LIFTED};
use crate::core::model::{Phase, Role, Slot};
use crate::core::outbox::{NewItem, Notice, To, Unreachable};
use crate::store::{self, couples, homes, outbox, pairings, responses, schedules};
use chrono::{DateTime, Utc};

/// What `/forget` removed from mend, and the Discord messages (channel,
/// message) still holding that partner's words, to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgotten {
    pub answers: usize,
    pub reflections: usize,
    pub messages: Vec<(u64, u64)>,
}

/// A new couple: who they are and where they live.
#[derive(Debug, Clone)]
pub struct NewCouple {
    pub tz: String,
    pub partners: [Partner; 2],
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Engine {
    /// Creates a couple with no schedules and no home (the simulator and tests).
    pub async fn create_couple(&self, new: NewCouple) -> Result<CoupleId> {
        crate::core::schedule::parse_zone(&new.tz)?;
        let phase = Phase::starting([new.partners[0].role, new.partners[1].role]);
        let mut tx = store::begin_write(&self.pool).await?;
        let id = couples::insert(&mut tx, ts(self.now()), &new.tz, phase, &new.partners).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn couple(&self, id: CoupleId) -> Result<Couple> {
        let mut conn = self.pool.acquire().await?;
        couples::get(&mut conn, id).await?.ok_or(UserError::UnknownCouple.into())
    }

    /// The couple and slot of a partner known outside mend by `external_id`.
    pub async fn couple_of(&self, external_id: &str) -> Result<Option<(CoupleId, Slot)>> {
        Ok(couples::find_by_external(&self.pool, external_id).await?)
    }

    /// The couple and slot of `user`, acting in `channel` (in a server: it must be
    /// their couple's private channel). Refuses anyone not in a couple.
    pub async fn acting(&self, user: u64, channel: Option<u64>) -> Result<(Couple, Slot)> {
        let (id, slot) = self.couple_of(&user.to_string()).await?.ok_or(UserError::NotInACouple)?;
        if let Some(channel) = channel
            && homes::couple_of_channel(&self.pool, channel).await? != Some(id)
        {
            return Err(UserError::NotYours.into());
        }
        Ok((self.couple(id).await?, slot))
    }

    /// `user`'s couple and slot, if `delivery` is that couple's; refused otherwise.
    pub async fn acting_on(&self, user: u64, delivery: DeliveryId) -> Result<(Couple, Slot)> {
        let (id, slot) = self.couple_of(&user.to_string()).await?.ok_or(UserError::NotYours)?;
        let d = store::deliveries::get(&self.pool, delivery).await?.ok_or(UserError::NotYours)?;
        if d.couple_id != id {
            return Err(UserError::NotYours.into());
        }
        Ok((self.couple(id).await?, slot))
    }

    /// The couple whose private channel `channel` is.
    pub async fn couple_of_channel(&self, channel: u64) -> Result<Option<CoupleId>> {
        Ok(homes::couple_of_channel(&self.pool, channel).await?)
    }

    pub async fn home(&self, couple: CoupleId) -> Result<Option<Home>> {
        Ok(homes::home(&self.pool, couple).await?)
    }

    /// A partner says privately how they come to mend. Before the first prompt
    /// it also sets where the couple starts.
    pub async fn set_role(&self, couple: CoupleId, slot: Slot, role: Role) -> Result<()> {
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        couples::set_role(&mut *tx, couple, slot, role).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let started = store::deliveries::latest_sent(&mut *tx, couple).await?.is_some();
        if !started {
            couples::set_phase(&mut *tx, couple, Phase::starting(c.roles()), ts(self.now())).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves the couple to the next repair phase. Only the partner who was hurt
    /// decides this; in a couple without one, either partner may.
    pub async fn advance_phase(&self, couple: CoupleId, by: Slot) -> Result<Phase> {
        let c = self.couple(couple).await?;
        let next = c.phase.next().ok_or(UserError::LastPhase)?;
        self.move_phase(couple, by, c.phase, next).await
    }

    /// Either partner can slow down: back to the previous phase.
    pub async fn slow_down(&self, couple: CoupleId, by: Slot) -> Result<Phase> {
        let c = self.couple(couple).await?;
        let previous = c.phase.previous().ok_or(UserError::FirstPhase)?;
        self.move_phase(couple, by, c.phase, previous).await
    }

    /// A phase change `by` confirmed, from the phase they saw to a neighbour of
    /// it, told to both. Confirming again (a double click) changes nothing
    /// more; a change from a phase the couple has since left is refused.
    pub async fn move_phase(&self, couple: CoupleId, by: Slot, from: Phase, to: Phase) -> Result<Phase> {
        let now = ts(self.now());
        let forward = from.next() == Some(to);
        if !forward && from.previous() != Some(to) {
            return Err(UserError::PhaseMoved { now: from }.into());
        }
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if forward && !may_move_on(&c, by) {
            return Err(UserError::NotTheirsToMove.into());
        }
        if c.phase == to {
            return Ok(to);
        }
        if c.phase != from {
            return Err(UserError::PhaseMoved { now: c.phase }.into());
        }
        couples::set_phase(&mut *tx, couple, to, now).await?;
        let notice = Notice::PhaseMoved { phase: to, forward };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, now), now).await?;
        tx.commit().await?;
        Ok(to)
    }

    /// `slot` pauses the couple's prompts and reflections, until an instant or
    /// until resumed; both are told. Either partner may resume a pause; a
    /// partner's space is apart from it, and stays theirs.
    pub async fn pause(&self, couple: CoupleId, slot: Slot, until: Option<DateTime<Utc>>) -> Result<()> {
        let now = self.now();
        if until.is_some_and(|u| u <= now) {
            return Err(UserError::PauseInPast.into());
        }
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if until.is_none() && c.holds.pause == Some(UNTIL_LIFTED) {
            return Err(UserError::AlreadyPaused.into());
        }
        let holds = Holds { pause: Some(until.map_or(UNTIL_LIFTED, ts)), ..c.holds };
        hold(&mut tx, couple, holds, ts(now)).await?;
        let notice = Notice::Paused { slot, until: until.map(ts) };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, ts(now)), ts(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `slot` resumes: the pause is lifted, and their own space if they took
    /// some; both are told. The other partner's space is theirs to lift: while
    /// it alone holds prompts, this is refused; while it still holds them after,
    /// prompts wait for it (returned: whose space).
    pub async fn resume(&self, couple: CoupleId, slot: Slot) -> Result<Option<Slot>> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let active = |end: Option<i64>| end.is_some_and(|u| u > now);
        let theirs = active(c.holds.space[slot.other().index()]).then_some(slot.other());
        if !active(c.holds.pause) && !active(c.holds.space[slot.index()]) {
            return Err(match theirs {
                Some(holder) => self.space_held(&c, holder).into(),
                None if c.holds.checking.contains(&true) => UserError::NotStarted.into(),
                None => UserError::NotPaused.into(),
            });
        }
        let mut holds = Holds { pause: None, ..c.holds };
        holds.space[slot.index()] = None;
        hold(&mut tx, couple, holds, now).await?;
        let notice = match theirs {
            None => Notice::Resumed { slot },
            Some(holder) => Notice::StillHeld { slot, by: holder },
        };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, now), now).await?;
        tx.commit().await?;
        Ok(theirs)
    }

    fn space_held(&self, c: &Couple, holder: Slot) -> UserError {
        let zone = c.zone();
        let end = c.holds.space[holder.index()].filter(|u| *u != UNTIL_LIFTED);
        UserError::SpaceHeld {
            name: c.partner(holder).name.clone(),
            until: end.map(|u| super::instant(u).with_timezone(&zone)),
        }
    }

    /// "I need space": it belongs to `slot`. Prompts pause for `length` (`None`:
    /// until they are ready), today's prompt (`delivery`, if still open) is set
    /// aside for them, both partners are told, and both are told again when it
    /// ends. Only `slot` lifts it early (with `/resume`). Always available, even
    /// once today's answers were shared or while already paused. Returns when
    /// their space ends (`None`: when they say so).
    pub async fn need_space(
        &self,
        couple: CoupleId,
        slot: Slot,
        delivery: Option<DeliveryId>,
        length: Option<chrono::Duration>,
    ) -> Result<Option<DateTime<Utc>>> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        if let Some(delivery) = delivery {
            let d = store::deliveries::get(&mut *tx, delivery).await?.ok_or(UserError::NotYours)?;
            if d.couple_id != couple {
                return Err(UserError::NotYours.into());
            }
            if d.revealed_at.is_none() {
                super::answers::respond(&mut tx, &self.keys, couple, delivery, slot, ResponseStatus::Space, now)
                    .await?;
            }
        }
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let wanted = length.map_or(UNTIL_LIFTED, |l| now + l.num_seconds());
        // A space of theirs already running longer stands.
        let current = c.holds.space[slot.index()].filter(|u| *u > now);
        let end = current.map_or(wanted, |u| u.max(wanted));
        if current != Some(end) {
            let mut holds = c.holds;
            holds.space[slot.index()] = Some(end);
            hold(&mut tx, couple, holds, now).await?;
            let until = (end != UNTIL_LIFTED).then_some(end);
            let mut items = vec![NewItem::notice(Some(couple), Notice::SpaceTaken { slot, until }, To::Home, now)];
            if let Some(end) = until {
                items.push(NewItem::notice(Some(couple), Notice::SpaceEnded { slot, until: end }, To::Home, end));
            }
            outbox::insert_many(&mut tx, &items, now).await?;
        }
        tx.commit().await?;
        Ok((end != UNTIL_LIFTED).then(|| super::instant(end)))
    }

    /// The couple cannot be reached where mend posts to them: prompts pause
    /// (instead of failing every day) and whoever can fix it is told, once. A
    /// deleted channel moves the couple to direct messages.
    pub async fn unreachable(&self, couple: CoupleId, why: Unreachable, slot: Option<Slot>) -> Result<()> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let Some(c) = couples::get(&mut tx, couple).await? else { return Ok(()) };
        // No home on record: the couple meets mend in direct messages.
        let home = homes::home(&mut *tx, couple).await?.unwrap_or(Home {
            couple_id: couple,
            guild_id: None,
            channel_id: None,
        });
        let notices: Vec<(Notice, To)> = match (why, slot) {
            (Unreachable::ChannelGone, _) if home.channel_id.is_some() => {
                homes::set_home(&mut *tx, &Home { channel_id: None, ..home }).await?;
                vec![(Notice::ChannelGone, To::Home)]
            }
            (Unreachable::NoAccess, _) if home.channel_id.is_some() => {
                Slot::BOTH.map(|s| (Notice::ChannelNoAccess, To::Partner(s))).to_vec()
            }
            // Only a couple living in DMs depends on them.
            (Unreachable::DmClosed, Some(s)) if home.channel_id.is_none() => {
                vec![(Notice::DmClosed { slot: s }, To::Partner(s.other()))]
            }
            _ => Vec::new(),
        };
        if !notices.is_empty() && c.holds.pause != Some(UNTIL_LIFTED) {
            hold(&mut tx, couple, Holds { pause: Some(UNTIL_LIFTED), ..c.holds }, now).await?;
            let items: Vec<NewItem> =
                notices.into_iter().map(|(n, to)| NewItem::notice(Some(couple), n, to, now)).collect();
            outbox::insert_many(&mut tx, &items, now).await?;
            tracing::warn!(couple_id = couple, reason = ?why, "the couple cannot be reached; prompts paused");
        }
        tx.commit().await?;
        Ok(())
    }

    /// A partner left the server the couple lives in: prompts pause, and the
    /// partner still there is told.
    pub async fn partner_left(&self, user: u64, guild: u64) -> Result<()> {
        let Some((couple, slot)) = self.couple_of(&user.to_string()).await? else { return Ok(()) };
        let now = ts(self.now());
        let mut tx = store::begin_write(&self.pool).await?;
        let home = homes::home(&mut *tx, couple).await?;
        if home.is_none_or(|h| h.guild_id != Some(guild)) {
            return Ok(());
        }
        let Some(c) = couples::get(&mut tx, couple).await? else { return Ok(()) };
        hold(&mut tx, couple, Holds { pause: Some(UNTIL_LIFTED), ..c.holds }, now).await?;
        let notice = NewItem::notice(Some(couple), Notice::PartnerLeft { slot }, To::HomeOr(slot.other()), now);
        outbox::insert(&mut tx, notice, now).await?;
        tx.commit().await?;
        tracing::info!(couple_id = couple, "a partner left the server; prompts paused");
        Ok(())
    }

    /// Ends a couple: everything mend holds for them is deleted, and both are
    /// told by direct message (the other partner, by whom). Returns where they
    /// lived (the adapter deletes their channel, which holds the revealed
    /// answers).
    pub async fn end_couple(&self, couple: CoupleId, by: Option<Slot>) -> Result<Option<Home>> {
        let now = ts(self.now());
        let mut tx = store::begin_write(&self.pool).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let home = homes::home(&mut *tx, couple).await?;
        let user = |s: Slot| c.partner(s).external_id.clone();
        let notices: Vec<(Notice, Vec<String>)> = match by {
            Some(s) => vec![
                (Notice::Ended { by: None }, user(s).into_iter().collect()),
                (Notice::Ended { by: Some(c.partner(s).name.clone()) }, user(s.other()).into_iter().collect()),
            ],
            None => {
                vec![(Notice::Ended { by: None }, c.partners.iter().filter_map(|p| p.external_id.clone()).collect())]
            }
        };
        for p in &c.partners {
            if let Some(user) = p.user_id() {
                pairings::delete_pairings_of(&mut *tx, user).await?;
            }
        }
        // Their keys go with them: no copy of the database opens their words again.
        let keys = store::keys::retire(&mut tx, couple, None).await?;
        // (Their DM channels are kept until the goodbye below is sent.)
        couples::delete(&mut *tx, couple).await?;
        for (notice, users) in notices.into_iter().filter(|(_, users)| !users.is_empty()) {
            outbox::insert(&mut tx, NewItem::notice(None, notice, To::Users(users), now), now).await?;
        }
        tx.commit().await?;
        store::keys::destroy(&self.pool, &self.keys, &keys).await?;
        store::scrub(&self.pool).await?;
        tracing::info!(couple_id = couple, "couple ended and deleted; their keys destroyed");
        Ok(home)
    }

    /// Deletes everything a partner wrote and destroys their key; their
    /// partner's answers stay theirs.
    /// Returns what went, with the Discord messages that held their words (their
    /// shared answers, and the weekly reflections that quoted them), for the
    /// adapter to delete.
    pub async fn forget(&self, couple: CoupleId, slot: Slot) -> Result<Forgotten> {
        let mut tx = store::begin_write(&self.pool).await?;
        let written = responses::for_couple(&mut *tx, &self.keys, couple, 0, i64::MAX).await?;
        let mine: Vec<&crate::core::entities::Response> = written.iter().filter(|r| r.slot == slot).collect();
        let answers = mine.iter().filter(|r| r.status == ResponseStatus::Answered).count();
        // The weeks whose reflection quoted an answer of theirs a partner had marked.
        let deliveries = store::deliveries::for_couple(&mut *tx, couple, 0, i64::MAX).await?;
        let quoted: Vec<i64> = mine
            .iter()
            .filter(|r| r.meaningful_at.is_some())
            .filter_map(|r| deliveries.iter().find(|d| d.id == r.delivery_id).map(|d| d.occurrence))
            .collect();
        let mut reflections: Vec<i64> = store::reflections::for_couple(&mut *tx, couple)
            .await?
            .into_iter()
            .filter(|r| r.status == crate::core::entities::Status::Sent)
            .filter(|r| quoted.iter().any(|o| (r.week_start..r.occurrence).contains(o)))
            .map(|r| r.id)
            .collect();
        // And the reflections that quoted their check-in.
        for r in store::checkins::quoted_reflections(&mut *tx, couple, slot).await? {
            if !reflections.contains(&r) {
                reflections.push(r);
            }
        }
        let messages = outbox::take_messages_holding(&mut tx, couple, slot, &reflections).await?;
        responses::delete_for_partner(&mut *tx, couple, slot).await?;
        store::hard_moments::delete_for_partner(&mut *tx, couple, slot).await?;
        store::checkins::delete_for_partner(&mut *tx, couple, slot).await?;
        // Their commitments, and the messages that quoted them; what they
        // noticed of their partner's.
        let made = store::commitments::ids_of_partner(&mut *tx, couple, slot).await?;
        let mut messages = messages;
        messages.extend(outbox::take_commitment_messages(&mut tx, couple, &made).await?);
        store::commitments::delete_for_partner(&mut *tx, couple, slot).await?;
        store::commitments::delete_noticed_by(&mut *tx, couple, slot).await?;
        // Their key too: any copy of the database (a backup, a replica, the
        // log) holds their words sealed under it, and none opens again.
        let keys = store::keys::retire(&mut tx, couple, Some(slot)).await?;
        tx.commit().await?;
        store::keys::destroy(&self.pool, &self.keys, &keys).await?;
        store::scrub(&self.pool).await?;
        Ok(Forgotten { answers, reflections: reflections.len(), messages })
    }
}

impl Engine {
    /// In a database restored from a copy older than a `/forget` or a
    /// couple's end: deletes what the partners whose keys are destroyed
    /// wrote (it cannot be read, and they asked for it gone), as their
    /// forgetting did. Returns how many partners. Reads every sealed text.
    pub async fn forget_again(&self) -> Result<usize> {
        let gone = store::rekey::writers_forgotten(&self.pool, &self.keys).await?;
        let mut tx = store::begin_write(&self.pool).await?;
        for &(couple, slot) in &gone {
            responses::delete_for_partner(&mut *tx, couple, slot).await?;
            store::hard_moments::delete_for_partner(&mut *tx, couple, slot).await?;
            store::checkins::delete_for_partner(&mut *tx, couple, slot).await?;
            store::commitments::delete_for_partner(&mut *tx, couple, slot).await?;
            store::keys::retire(&mut tx, couple, Some(slot)).await?;
        }
        tx.commit().await?;
        store::keys::destroy_pending(&self.pool, &self.keys).await?;
        store::scrub(&self.pool).await?;
        Ok(gone.len())
    }
}

/// Whether `slot` may move the couple on: the partner who was hurt decides; in
/// a couple without one, either partner.
pub fn may_move_on(c: &Couple, slot: Slot) -> bool {
    c.partner(slot).role == Role::Hurt || !c.roles().contains(&Role::Hurt)
}

/// Records what holds a couple's prompts, and follows it: paused until the
/// last hold ends (its schedules next fire after it, or not at all while one
/// lasts until lifted), or running again from `now`.
pub(super) async fn hold(tx: &mut Tx, couple: CoupleId, holds: Holds, now: i64) -> Result<()> {
    couples::set_holds(&mut **tx, couple, &holds).await?;
    let combined = holds.combined(now);
    couples::set_paused(&mut **tx, couple, combined.is_some(), combined.flatten()).await?;
    for s in schedules::for_couple(&mut **tx, couple).await? {
        let after = match combined {
            None => Some(now),
            Some(until) => until,
        };
        let next = after.and_then(|u| parse_stored(&s).and_then(|sch| sch.next_after(super::instant(u)))).map(ts);
        schedules::set_next(&mut **tx, couple, s.kind, next).await?;
    }
    Ok(())
}

impl Engine {
    /// Sets where a couple lives (seeding a world in tests; moving a couple).
    pub async fn set_home(&self, home: &Home) -> Result<()> {
        homes::set_home(&self.pool, home).await?;
        Ok(())
    }

    /// Where a delivery's prompt was posted: (slot, channel, message); slot
    /// `None` for the couple's channel.
    pub async fn prompt_messages(&self, delivery: DeliveryId) -> Result<Vec<(Option<Slot>, u64, u64)>> {
        Ok(homes::messages(&self.pool, delivery).await?)
    }

    /// The direct-message channel mend already opened with `user`, if any.
    pub async fn dm_channel(&self, user: u64) -> Result<Option<u64>> {
        Ok(homes::dm_channel(&self.pool, user).await?)
    }

    pub async fn remember_dm_channel(&self, user: u64, channel: u64) -> Result<()> {
        homes::set_dm_channel(&self.pool, user, channel).await?;
        Ok(())
    }

    /// Prompts claimed and not yet sent or missed, across all couples.
    pub async fn prompts_waiting(&self) -> Result<i64> {
        Ok(store::deliveries::count_pending(&self.pool).await?)
    }
}
