//! Pairing, with consent: an invitation to a named partner in a server, or a
//! one-time code in DMs; accepted in one transaction with everything a couple
//! needs, declined leaving nothing behind.

use rand::Rng;

use super::{Engine, Result, UserError, ts};
use crate::core::entities::{CoupleId, Holds, Home, Pairing, PairingId, PairingStatus, Partner};
use crate::core::model::{Phase, Role, ScheduleKind, Slot};
use crate::core::outbox::{NewItem, Notice, To};
use crate::core::schedule::Schedule;
use crate::store::schedules::StoredSchedule;
use crate::store::{self, couples, homes, outbox, pairings, schedules};

/// Someone on the chat platform: their id and the name mend calls them by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub user: u64,
    pub name: String,
}

/// Where an invitation was started: the server, and the channel of the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub guild: u64,
    pub channel: u64,
}

/// A pairing just made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paired {
    pub couple: CoupleId,
    pub home: Home,
}

impl Engine {
    async fn refuse_if_paired(&self, user: u64, why: UserError) -> Result<()> {
        match self.couple_of(&user.to_string()).await? {
            Some(_) => Err(why.into()),
            None => Ok(()),
        }
    }

    /// `from` invites `partner` to pair, in a server, with the couple's timezone
    /// if given. The invitation reaches the partner privately, from the outbox,
    /// in the same transaction; `channel` is where it was started (see
    /// `Notice::Invitation`). Returns the invitation's id.
    pub async fn invite(&self, from: &Invitation, partner: u64, place: Place, tz: Option<&str>) -> Result<PairingId> {
        if from.user == partner {
            return Err(UserError::NotYourself.into());
        }
        let tz = tz.map(crate::core::schedule::parse_zone).transpose()?;
        self.refuse_if_paired(from.user, UserError::AlreadyPaired).await?;
        self.refuse_if_paired(partner, UserError::PartnerAlreadyPaired).await?;
        let now = ts(self.now());
        let expires = now + self.settings.invitation_ttl.num_seconds();
        let mut tx = store::begin_write(&self.pool).await?;
        let id =
            pairings::insert_pairing(&mut *tx, from.user, Some(partner), Some(place.guild), None, now, expires).await?;
        if let Some(tz) = tz {
            pairings::set_zone(&mut *tx, id, tz.name()).await?;
        }
        let notice = Notice::Invitation { pairing: id, from: from.name.clone(), channel: place.channel };
        outbox::insert(&mut tx, NewItem::notice(None, notice, To::Users(vec![partner.to_string()]), now), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A one-time pairing code for `from`, in DMs, with the couple's timezone if
    /// given; returns it and its minutes of life.
    pub async fn pairing_code(&self, from: u64, tz: Option<&str>) -> Result<(String, i64)> {
        let tz = tz.map(crate::core::schedule::parse_zone).transpose()?;
        self.refuse_if_paired(from, UserError::AlreadyPaired).await?;
        let code = pairing_code(&mut rand::rng());
        let now = ts(self.now());
        let expires = now + self.settings.pairing_ttl.num_seconds();
        let mut tx = store::begin_write(&self.pool).await?;
        let id = pairings::insert_pairing(&mut *tx, from, None, None, Some(&code), now, expires).await?;
        if let Some(tz) = tz {
            pairings::set_zone(&mut *tx, id, tz.name()).await?;
        }
        tx.commit().await?;
        Ok((code, self.settings.pairing_ttl.num_minutes()))
    }

    /// The invitation `user` may answer (it is theirs and still open, and
    /// neither of them has paired since).
    pub async fn invitation_for(&self, pairing: PairingId, user: u64) -> Result<Pairing> {
        let p = pairings::pairing_by_id(&self.pool, pairing).await?.ok_or(UserError::InvitationGone)?;
        if p.partner != Some(user) {
            return Err(UserError::NotForYou.into());
        }
        if !p.is_open_at(ts(self.now())) {
            return Err(UserError::InvitationGone.into());
        }
        self.refuse_if_paired(user, UserError::AlreadyPaired).await?;
        self.refuse_if_paired(p.initiator, UserError::PartnerAlreadyPaired).await?;
        Ok(p)
    }

    /// The open pairing a code stands for, which `user` may join.
    pub async fn code_for(&self, code: &str, user: u64) -> Result<Pairing> {
        let code = code.trim().to_ascii_uppercase();
        let p = pairings::pairing_by_code(&self.pool, &code).await?.ok_or(UserError::CodeUnknown)?;
        if p.initiator == user {
            return Err(UserError::CodeOwn.into());
        }
        if !p.is_open_at(ts(self.now())) {
            return Err(UserError::CodeExpired.into());
        }
        self.refuse_if_paired(user, UserError::AlreadyPaired).await?;
        self.refuse_if_paired(p.initiator, UserError::PartnerAlreadyPaired).await?;
        Ok(p)
    }

    /// The partner declines: nothing is created, the invitation is closed, and
    /// the one who invited is told privately.
    pub async fn decline(&self, pairing: PairingId, user: &Invitation) -> Result<()> {
        let p = self.invitation_for(pairing, user.user).await?;
        let now = ts(self.now());
        let mut tx = store::begin_write(&self.pool).await?;
        if pairings::settle_pairing(&mut *tx, pairing, PairingStatus::Declined).await? {
            let notice = Notice::Declined { name: user.name.clone() };
            let to = To::Users(vec![p.initiator.to_string()]);
            outbox::insert(&mut tx, NewItem::notice(None, notice, to, now), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The pairing is made, in one transaction: the invitation settled (once: a
    /// double click pairs once), the couple and both partners, the host's default
    /// schedules (waiting for both partners' private safety check), where they
    /// live, and the welcome in the outbox.
    pub async fn accept(
        &self,
        pairing: PairingId,
        initiator: Invitation,
        partner: Invitation,
        channel: Option<(u64, u64)>,
    ) -> Result<Paired> {
        let now = self.now();
        let s = &self.settings;
        let tz = pairings::pairing_by_id(&self.pool, pairing).await?.and_then(|p| p.tz);
        let tz = tz.as_deref().unwrap_or(&s.default_tz);
        let prompt = Schedule::parse(&s.default_schedule, tz)?;
        let reflection = Schedule::parse(&s.default_reflection, tz)?;
        let mut tx = store::begin_write(&self.pool).await?;
        if !pairings::settle_pairing(&mut *tx, pairing, PairingStatus::Accepted).await? {
            return Err(UserError::InvitationGone.into());
        }
        for (who, why) in [(&initiator, UserError::PartnerAlreadyPaired), (&partner, UserError::AlreadyPaired)] {
            if couples::find_by_external(&mut *tx, &who.user.to_string()).await?.is_some() {
                return Err(why.into());
            }
        }
        let partners = [&initiator, &partner].map(|p| Partner {
            name: p.name.clone(),
            role: Role::Unsaid,
            external_id: Some(p.user.to_string()),
        });
        let phase = Phase::starting([Role::Unsaid; 2]);
        let couple = couples::insert(&mut tx, ts(now), tz, phase, &partners).await?;
        for (kind, schedule) in [(ScheduleKind::Prompt, &prompt), (ScheduleKind::Reflection, &reflection)] {
            let stored = StoredSchedule {
                couple_id: couple,
                kind,
                spec: schedule.spec().to_string(),
                tz: schedule.tz().name().to_string(),
                next_fire_at: schedule.next_after(now).map(ts),
            };
            schedules::upsert(&mut *tx, &stored).await?;
        }
        // Before any shared prompt, each partner takes the private safety check.
        let checking = Holds { checking: [true; 2], ..Holds::default() };
        super::couples::hold(&mut tx, couple, checking, ts(now)).await?;
        let home = Home { couple_id: couple, guild_id: channel.map(|c| c.0), channel_id: channel.map(|c| c.1) };
        homes::set_home(&mut *tx, &home).await?;
        // In a server the welcome goes to the new channel; in DMs the partner who
        // joined reads it in their reply, and the one who invited gets it here.
        let to = if channel.is_some() { To::Home } else { To::Partner(Slot::A) };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), Notice::Welcome, to, ts(now)), ts(now)).await?;
        tx.commit().await?;
        Ok(Paired { couple, home })
    }

    /// An invitation could not reach the invited partner (their DMs are closed
    /// to mend): the one who invited is told privately what to do.
    pub async fn invitation_not_reached(&self, pairing: PairingId) -> Result<()> {
        let Some(p) = pairings::pairing_by_id(&self.pool, pairing).await? else { return Ok(()) };
        let now = ts(self.now());
        let notice = NewItem::notice(None, Notice::InvitationNotReached, To::Users(vec![p.initiator.to_string()]), now);
        let mut tx = store::begin_write(&self.pool).await?;
        outbox::insert(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mend could not open the couple's private channel: the one who invited is
    /// told privately what a server admin can do. Nothing else was created.
    pub async fn tell_no_channel(&self, pairing: &Pairing) -> Result<()> {
        let now = ts(self.now());
        let notice = NewItem::notice(None, Notice::NoChannel, To::Users(vec![pairing.initiator.to_string()]), now);
        let mut tx = store::begin_write(&self.pool).await?;
        outbox::insert(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A short code without letters that look alike.
fn pairing_code(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pairing_codes_avoid_look_alike_characters() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let code = pairing_code(&mut rng);
            assert_eq!(code.len(), 8);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
    }
}
