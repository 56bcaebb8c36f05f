//! Waking hours: a gentle message to a person never arrives in their night.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use super::schedule::resolve_local;

/// The hours of a day in which mend may nudge someone, in their own timezone:
/// from `start` (inclusive) to `end` (exclusive), e.g. 08:00 to 22:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WakingHours {
    pub start: u32,
    pub end: u32,
}

impl Default for WakingHours {
    fn default() -> Self {
        WakingHours { start: 8, end: 22 }
    }
}

impl WakingHours {
    /// The whole day (the sandbox, where minutes stand for days).
    pub const ALWAYS: WakingHours = WakingHours { start: 0, end: 24 };

    /// Parses `08-22` (hours, start before end, end at most 24).
    pub fn parse(s: &str) -> Result<WakingHours, String> {
        let bad = || format!("`{s}` is not a span of hours like `08-22` (from 8:00 to 22:00)");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let (start, end): (u32, u32) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
        if start >= end || end > 24 {
            return Err(bad());
        }
        Ok(WakingHours { start, end })
    }

    /// `t`, or the start of the next waking hours after it, in `tz`.
    pub fn next_waking(&self, t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = t.with_timezone(&tz).naive_local();
        let hour = local.hour();
        if (self.start..self.end).contains(&hour) {
            return t;
        }
        let start = NaiveTime::from_hms_opt(self.start, 0, 0).expect("an hour of the day");
        let day = if hour < self.start { local.date() } else { local.date() + Duration::days(1) };
        resolve_local(tz, day.and_time(start)).max(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_nudge_due_in_the_night_waits_for_the_morning() {
        let paris = chrono_tz::Europe::Paris;
        let hours = WakingHours::default();
        // 02:00 Paris (after a 20:00 prompt and six hours): 08:00 Paris.
        assert_eq!(hours.next_waking(at("2026-01-06T01:00:00Z"), paris), at("2026-01-06T07:00:00Z"));
        // 22:30 Paris: the next morning.
        assert_eq!(hours.next_waking(at("2026-01-05T21:30:00Z"), paris), at("2026-01-06T07:00:00Z"));
        // 14:30 Paris stays.
        assert_eq!(hours.next_waking(at("2026-01-05T13:30:00Z"), paris), at("2026-01-05T13:30:00Z"));
        // In New York's evening it is already night in Paris, not there.
        let ny = chrono_tz::America::New_York;
        assert_eq!(hours.next_waking(at("2026-01-06T01:00:00Z"), ny), at("2026-01-06T01:00:00Z"));
        assert_eq!(WakingHours::ALWAYS.next_waking(at("2026-01-06T01:00:00Z"), paris), at("2026-01-06T01:00:00Z"));
        let _ = Utc.timestamp_opt(0, 0);
    }

    #[test]
    fn hours_are_read_as_a_span() {
        assert_eq!(WakingHours::parse("08-22"), Ok(WakingHours { start: 8, end: 22 }));
        assert_eq!(WakingHours::parse(" 7 - 23 "), Ok(WakingHours { start: 7, end: 23 }));
        for bad in ["22-08", "8", "8-25", "a-b", "8-8"] {
            assert!(WakingHours::parse(bad).is_err(), "{bad}");
        }
    }
}
