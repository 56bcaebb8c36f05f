//! Pairing, with consent: an invitation to a named partner in a server, or a
//! one-time code in DMs; accepted in one transaction with everything a couple
//! needs, declined leaving nothing behind.

use rand::Rng;

use super::{Engine, Result, UserError, ts};
use crate::core::entities::{CoupleId, Home, Pairing, PairingId, PairingStatus, Partner};
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

    /// `from` invites `partner` to pair, in a server; returns the invitation's id.
    pub async fn invite(&self, from: u64, partner: u64, guild: u64) -> Result<PairingId> {
        if from == partner {
            return Err(UserError::NotYourself.into());
        }
        self.refuse_if_paired(from, UserError::AlreadyPaired).await?;
        self.refuse_if_paired(partner, UserError::PartnerAlreadyPaired).await?;
        let now = ts(self.now());
        let expires = now + self.settings.pairing_ttl.num_seconds();
        Ok(pairings::insert_pairing(&self.pool, from, Some(partner), Some(guild), None, now, expires).await?)
    }

    /// A one-time pairing code for `from`, in DMs; returns it and its minutes of life.
    pub async fn pairing_code(&self, from: u64) -> Result<(String, i64)> {
        self.refuse_if_paired(from, UserError::AlreadyPaired).await?;
        let code = pairing_code(&mut rand::rng());
        let now = ts(self.now());
        let expires = now + self.settings.pairing_ttl.num_seconds();
        pairings::insert_pairing(&self.pool, from, None, None, Some(&code), now, expires).await?;
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

    /// The partner declines: nothing is created, and the invitation is closed.
    pub async fn decline(&self, pairing: PairingId, user: u64) -> Result<()> {
        self.invitation_for(pairing, user).await?;
        pairings::settle_pairing(&self.pool, pairing, PairingStatus::Declined).await?;
        Ok(())
    }

    /// The pairing is made, in one transaction: the invitation settled (once: a
    /// double click pairs once), the couple and both partners, the host's default
    /// schedules, where they live, and the welcome in the outbox.
    pub async fn accept(
        &self,
        pairing: PairingId,
        initiator: Invitation,
        partner: Invitation,
        channel: Option<(u64, u64)>,
    ) -> Result<Paired> {
        let now = self.now();
        let s = &self.settings;
        let prompt = Schedule::parse(&s.default_schedule, &s.default_tz)?;
        let reflection = Schedule::parse(&s.default_reflection, &s.default_tz)?;
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
        let couple = couples::insert(&mut tx, ts(now), &s.default_tz, phase, &partners).await?;
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
        let home = Home { couple_id: couple, guild_id: channel.map(|c| c.0), channel_id: channel.map(|c| c.1) };
        homes::set_home(&mut *tx, &home).await?;
        // In a server the welcome goes to the new channel; in DMs the partner who
        // joined reads it in their reply, and the one who invited gets it here.
        let to = if channel.is_some() { To::Home } else { To::Partner(Slot::A) };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), Notice::Welcome, to, ts(now)), ts(now)).await?;
        tx.commit().await?;
        Ok(Paired { couple, home })
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
