//! When prompts and reflections fire: a spec (friendly form or crontab(5)) in an
//! IANA timezone, turned into UTC instants.
//!
//! Each scheduled local day fires once per scheduled wall time. A wall time that a
//! spring-forward gap skips fires shifted later by the gap (02:30 → 03:30); one that
//! a fall-back repeats fires at its first occurrence.
//!
//! The spec grammar is in `spec`; the floor on how often a schedule may fire, in
//! `floor`.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

mod floor;
mod spec;
#[cfg(test)]
mod tests;

pub use spec::Spec;

/// How far ahead `next_after` looks before concluding a spec never fires again
/// (covers `29 2` on leap days across a skipped century leap year).
const HORIZON_DAYS: i64 = 366 * 9;

/// A parse or validation failure, worded for the person who typed the spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{0} — try something like `daily 08:30`, `weekdays 21:00`, `mon,wed,fri 07:15` or `30 8 * * 1-5`")]
    Spec(String),
    #[error("unknown timezone `{0}` — use an IANA name such as `Europe/Paris` or `America/New_York`")]
    Zone(String),
    /// Two fires would come closer together than this mend allows.
    #[error("{}", floor::too_frequent(*floor_minutes))]
    TooFrequent { floor_minutes: i64 },
}

/// A spec in a timezone: the thing that knows its next fire instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    spec: Spec,
    tz: Tz,
}

impl Schedule {
    /// Parses a spec and an IANA zone name, with an error the user can act on.
    pub fn parse(spec: &str, tz: &str) -> Result<Self, ScheduleError> {
        let spec = spec.parse()?;
        let tz = parse_zone(tz)?;
        Ok(Schedule { spec, tz })
    }

    pub fn spec(&self) -> &str {
        self.spec.source()
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first fire instant strictly after `after`, or `None` if there is none
    /// within the horizon (only possible for specs naming rare days).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Start a day early: a fire on the previous local date can still be after
        // `after` once gaps shift it.
        let first = after.with_timezone(&self.tz).date_naive() - Duration::days(1);
        let day_candidates = |date: NaiveDate| {
            self.spec
                .day_matches(date)
                .then(|| {
                    self.spec
                        .wall_times()
                        .map(|t| self.resolve(date.and_time(t)))
                        .filter(|instant| *instant > after)
                        .min()
                })
                .flatten()
        };
        let (offset, found) =
            (0..HORIZON_DAYS).find_map(|d| day_candidates(first + Duration::days(d)).map(|t| (d, t)))?;
        // Gap shifts can move a wall time of the next day before this one's; look
        // one day further and keep the earlier.
        let next_day = day_candidates(first + Duration::days(offset + 1));
        Some(next_day.map_or(found, |t| t.min(found)))
    }

    /// The wall times scheduled on a local date and the instants they fire at
    /// (none when the date is not a scheduled day).
    pub fn fires_on(&self, date: NaiveDate) -> Vec<(NaiveDateTime, DateTime<Utc>)> {
        if !self.spec.day_matches(date) {
            return Vec::new();
        }
        self.spec
            .wall_times()
            .map(|t| {
                let local = date.and_time(t);
                (local, self.resolve(local))
            })
            .collect()
    }

    /// The next `count` fire instants strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        std::iter::successors(self.next_after(after), |t| self.next_after(*t)).take(count).collect()
    }

    /// The fire instants in `(after, until]`, in order, read a local day at a time.
    fn fires_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        // The same margins as `next_after`: a day either side of the local dates.
        let mut date = after.with_timezone(&self.tz).date_naive() - Duration::days(1);
        let last = until.with_timezone(&self.tz).date_naive() + Duration::days(1);
        let mut pending = BTreeSet::new();
        std::iter::from_fn(move || {
            loop {
                // A gap can put a day's fire before the previous day's, but a wall
                // time on `date` or later fires no earlier than the clock first
                // reads `date` 00:00; what comes before that is final.
                let settled = (date <= last).then(|| self.first_reading(date));
                if let Some(&first) = pending.first()
                    && settled.is_none_or(|s| first < s)
                {
                    return pending.pop_first();
                }
                if date > last {
                    return None;
                }
                pending.extend(self.fires_on(date).into_iter().map(|(_, t)| t).filter(|t| *t > after && *t <= until));
                date += Duration::days(1);
            }
        })
    }

    /// The first instant the zone's clock reads `date` 00:00 or later, or one
    /// before it when midnight falls in a gap (no offset reaches 24 hours).
    fn first_reading(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN);
        match self.tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => (midnight - Duration::days(1)).and_utc(),
        }
    }

    /// The instant a local wall time names in this zone (see the module docs).
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        resolve_local(self.tz, local)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.spec.source(), self.tz.name())
    }
}

/// Parses an IANA zone name.
pub fn parse_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.trim().parse::<Tz>().map_err(|_| ScheduleError::Zone(name.trim().to_string()))
}

/// Local wall time → UTC: the earlier instant of a repeated hour, and for a time
/// inside a gap, the same wall time read with the offset in force before the gap.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Walk back to the last wall time that exists; its offset is the one
            // in force before the gap.
            let before = (1..=48 * 60)
                .map(|m| local - Duration::minutes(m))
                .find_map(|t| tz.from_local_datetime(&t).earliest())
                .expect("no timezone gap lasts 48 hours");
            let offset = before.offset().fix().local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(offset.into())))
        }
    }
}
