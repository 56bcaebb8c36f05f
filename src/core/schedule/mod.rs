//! When prompts and reflections fire: a spec (friendly form or crontab(5)) in an
//! IANA timezone, turned into UTC instants.
//!
//! Each scheduled local day fires once per scheduled wall time. A wall time that a
//! spring-forward gap skips fires shifted later by the gap (02:30 → 03:30); one that
//! a fall-back repeats fires at its first occurrence.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use cron::TimeUnitSpec;

/// How far ahead `next_after` looks before concluding a spec never fires again
/// (covers `29 2` on leap days across a skipped century leap year).
const HORIZON_DAYS: i64 = 366 * 9;

/// How far ahead `shortest_gap` looks: a year holds every clock change a zone makes.
const GAP_HORIZON_DAYS: i64 = 366;

/// The most fires `shortest_gap` reads in its pass over the year. A spec that
/// fires this often shows its regular gaps long before; the irregular ones, near
/// clock changes, are read separately.
const GAP_MAX_FIRES: usize = 2_000;

/// A parse or validation failure, worded for the person who typed the spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{0} — try something like `daily 08:30`, `weekdays 21:00`, `mon,wed,fri 07:15` or `30 8 * * 1-5`")]
    Spec(String),
    #[error("unknown timezone `{0}` — use an IANA name such as `Europe/Paris` or `America/New_York`")]
    Zone(String),
    /// Two fires would come closer together than this mend allows.
    #[error("{}", too_frequent(*floor_minutes))]
    TooFrequent { floor_minutes: i64 },
}

fn too_frequent(floor_minutes: i64) -> String {
    let often = match floor_minutes {
        1 => "once a minute".to_string(),
        60 => "once an hour".to_string(),
        1440 => "once a day".to_string(),
        m if m % 1440 == 0 => format!("once every {} days", m / 1440),
        m if m % 60 == 0 => format!("once every {} hours", m / 60),
        m => format!("once every {m} minutes"),
    };
    // Examples that pass the floor even in a zone with clock changes, where a
    // daily spec is 23 hours apart once a year.
    let example = match floor_minutes {
        ..=1380 => "`daily 20:00` or `weekdays 21:00`",
        1381..=10_020 => "`sun 20:00`",
        _ => "`0 20 1 * *` (the first of each month)",
    };
    format!(
        "On that schedule, messages would come more often than {often}, and this mend keeps at least that long \
         between them. Try something like {example}."
    )
}

/// The days and wall times a spec names, before a timezone is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    source: String,
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    days_of_month: BTreeSet<u32>,
    months: BTreeSet<u32>,
    /// 0 = Sunday … 6 = Saturday, as in crontab(5).
    days_of_week: BTreeSet<u32>,
    /// crontab(5): when both day fields are restricted, a day matching either fires.
    dom_restricted: bool,
    dow_restricted: bool,
}

impl Spec {
    /// The text the spec was parsed from, trimmed.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        if !self.months.contains(&date.month()) {
            return false;
        }
        let dom = self.days_of_month.contains(&date.day());
        let dow = self.days_of_week.contains(&date.weekday().num_days_from_sunday());
        match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }

    fn wall_times(&self) -> impl Iterator<Item = NaiveTime> + '_ {
        self.hours.iter().flat_map(move |&h| {
            self.minutes.iter().map(move |&m| NaiveTime::from_hms_opt(h, m, 0).expect("validated hour and minute"))
        })
    }
}

impl FromStr for Spec {
    type Err = ScheduleError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let source = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if source.is_empty() {
            return Err(ScheduleError::Spec("the schedule is empty".into()));
        }
        let fields: Vec<&str> = source.split(' ').collect();
        let spec = match fields.as_slice() {
            [days, time] => friendly(days, time)?,
            [m, h, dom, mon, dow] => crontab(m, h, dom, mon, dow)?,
            _ => {
                return Err(ScheduleError::Spec(format!(
                    "`{source}` is neither a day list with a time nor five crontab fields"
                )));
            }
        };
        let spec = Spec { source, ..spec };
        if !spec.fires_at_all() {
            return Err(ScheduleError::Spec(format!("`{}` names no day that exists", spec.source)));
        }
        Ok(spec)
    }
}

impl Spec {
    /// A spec like `31 2` (31 February) never fires; reject it at once rather than
    /// leave a couple silently without prompts.
    fn fires_at_all(&self) -> bool {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
        (0..HORIZON_DAYS).any(|d| self.day_matches(start + Duration::days(d)))
    }
}

fn friendly(days: &str, time: &str) -> Result<Spec, ScheduleError> {
    let (hour, minute) = parse_hh_mm(time)?;
    let days_of_week: BTreeSet<u32> = match days.to_ascii_lowercase().as_str() {
        "daily" | "everyday" => (0..7).collect(),
        "weekdays" => (1..6).collect(),
        "weekends" => [0, 6].into(),
        list => list
            .split(',')
            .map(|name| {
                day_name(name).ok_or_else(|| {
                    ScheduleError::Spec(format!(
                        "`{name}` is not a day: use daily, weekdays, weekends or three-letter days like mon,wed,fri"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let all_days = days_of_week.len() == 7;
    Ok(Spec {
        source: String::new(),
        minutes: [minute].into(),
        hours: [hour].into(),
        days_of_month: (1..=31).collect(),
        months: (1..=12).collect(),
        days_of_week,
        dom_restricted: false,
        dow_restricted: !all_days,
    })
}

fn parse_hh_mm(time: &str) -> Result<(u32, u32), ScheduleError> {
    let bad = || ScheduleError::Spec(format!("`{time}` is not a time of day in 24-hour HH:MM"));
    let (h, m) = time.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    if hour > 23 || minute > 59 {
        return Err(bad());
    }
    Ok((hour, minute))
}

fn day_name(name: &str) -> Option<u32> {
    const NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let lower = name.to_ascii_lowercase();
    NAMES.iter().position(|n| *n == lower).map(|i| i as u32)
}

/// Minute, hour, day-of-month and month fields go through the `cron` crate, whose
/// numbering matches crontab(5) for them. Day of week does not (cron counts
/// 1 = Sunday, crontab 0 or 7 = Sunday), so that field is read here.
fn crontab(m: &str, h: &str, dom: &str, mon: &str, dow: &str) -> Result<Spec, ScheduleError> {
    for (name, field) in [("minute", m), ("hour", h), ("day-of-month", dom), ("month", mon)] {
        if field.contains(['?', 'L', 'W', '#']) {
            return Err(ScheduleError::Spec(format!(
                "the {name} field `{field}` uses syntax crontab(5) does not have"
            )));
        }
    }
    let parsed = cron::Schedule::from_str(&format!("0 {m} {h} {dom} {mon} *")).map_err(|e| {
        // cron's message points at the column over several lines; keep its last, the reason.
        let text = e.to_string();
        let reason = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        ScheduleError::Spec(format!("`{m} {h} {dom} {mon} {dow}` is not a valid crontab line ({reason})"))
    })?;
    let collect = |spec: &dyn Fn(u32) -> bool, range: std::ops::RangeInclusive<u32>| -> BTreeSet<u32> {
        range.filter(|&v| spec(v)).collect()
    };
    Ok(Spec {
        source: String::new(),
        minutes: collect(&|v| parsed.minutes().includes(v), 0..=59),
        hours: collect(&|v| parsed.hours().includes(v), 0..=23),
        days_of_month: collect(&|v| parsed.days_of_month().includes(v), 1..=31),
        months: collect(&|v| parsed.months().includes(v), 1..=12),
        days_of_week: day_of_week_field(dow)?,
        dom_restricted: !dom.starts_with('*'),
        dow_restricted: !dow.starts_with('*'),
    })
}

fn day_of_week_field(field: &str) -> Result<BTreeSet<u32>, ScheduleError> {
    let bad = |why: &str| ScheduleError::Spec(format!("the day-of-week field `{field}` {why}"));
    let value = |s: &str| -> Result<u32, ScheduleError> {
        let v = match s.parse::<u32>() {
            Ok(n) if n <= 7 => n,
            Ok(_) => return Err(bad("goes past 7 (0 and 7 are Sunday)")),
            Err(_) => day_name(s).ok_or_else(|| bad("has a name that is not a day"))?,
        };
        Ok(v)
    };
    let mut days = BTreeSet::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| bad("has a step that is not a number"))?;
                if step == 0 {
                    return Err(bad("has a step of 0"));
                }
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = match range {
            "*" => (0, 7),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // crontab(5): `N/S` means from N to the end of the range.
                None if step > 1 => (value(r)?, 7),
                None => (value(r)?, value(r)?),
            },
        };
        if lo > hi {
            return Err(bad("has a range that runs backwards"));
        }
        days.extend((lo..=hi).step_by(step as usize).map(|d| d % 7));
    }
    Ok(days)
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

    /// The shortest time between two consecutive fires in the year after `from`
    /// (or, for a spec naming rare days, the year after its next fire), or `None`
    /// when it never fires twice.
    ///
    /// Real elapsed time, so clock changes count: `daily 02:30` in New York is 23
    /// hours apart once a year. Cheap even for `* * * * *`: a gap of a minute ends
    /// the search, since wall times are whole minutes.
    pub fn shortest_gap(&self, from: DateTime<Utc>) -> Option<Duration> {
        self.shortest_gap_until(from, |gap| gap <= Duration::minutes(1))
    }

    /// Refuses a spec whose fires would ever come closer than `floor` in the year
    /// after `from` (see [`Schedule::shortest_gap`]). A floor of zero refuses nothing.
    pub fn check_floor(&self, floor: Duration, from: DateTime<Utc>) -> Result<(), ScheduleError> {
        if floor <= Duration::zero() {
            return Ok(());
        }
        match self.shortest_gap_until(from, |gap| gap < floor) {
            Some(gap) if gap < floor => {
                // Whole minutes, rounded up: a floor of 90 s reads "every 2 minutes".
                let floor_minutes = (floor.num_seconds() + 59) / 60;
                Err(ScheduleError::TooFrequent { floor_minutes })
            }
            _ => Ok(()),
        }
    }

    /// The shortest gap seen, stopping as soon as `enough` says no shorter one
    /// matters.
    fn shortest_gap_until(&self, from: DateTime<Utc>, enough: impl Fn(Duration) -> bool) -> Option<Duration> {
        let until = from + Duration::days(GAP_HORIZON_DAYS);
        if let Some(gap) = self.closest_pair_on_one_day(from, until)
            && enough(gap)
        {
            return Some(gap);
        }
        let mut shortest: Option<Duration> = None;
        let mut scan = |after: DateTime<Utc>, end: DateTime<Utc>, cap: usize| -> (usize, bool) {
            let mut previous = None;
            let mut seen = 0;
            for fire in self.fires_between(after, end).take(cap) {
                seen += 1;
                if let Some(p) = previous.replace(fire) {
                    let gap = fire - p;
                    shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
                    if enough(gap) {
                        return (seen, true);
                    }
                }
            }
            (seen, false)
        };
        let (seen, done) = scan(from, until, GAP_MAX_FIRES);
        if done {
            return shortest;
        }
        if seen < 2 {
            // Rare days (29 February): judge the spec by the next year it fires in.
            if let Some(next) = self.next_after(until) {
                scan(next - Duration::seconds(1), next + Duration::days(GAP_HORIZON_DAYS), GAP_MAX_FIRES);
            }
            return shortest;
        }
        // A gap a clock change shortens lies within a day of it (a longer gap is
        // no shortest: a spec dense enough to reach the cap fires hours apart).
        for change in self.clock_changes(from, until) {
            let after = (change - Duration::days(1)).max(from);
            let end = (change + Duration::days(2)).min(until);
            if scan(after, end, usize::MAX).1 {
                break;
            }
        }
        shortest
    }

    /// How far apart the two closest wall times of the spec fire on its first
    /// scheduled day after `from`. Two fires that close bound the shortest gap, so a
    /// spec far too frequent is refused without reading the year.
    fn closest_pair_on_one_day(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Option<Duration> {
        let walls: Vec<NaiveTime> = self.spec.wall_times().collect();
        let (a, b) = walls.windows(2).min_by_key(|w| w[1] - w[0]).map(|w| (w[0], w[1]))?;
        let start = from.with_timezone(&self.tz).date_naive() + Duration::days(1);
        let date = (0..8).map(|d| start + Duration::days(d)).find(|d| self.spec.day_matches(*d))?;
        let (first, second) = (self.resolve(date.and_time(a)), self.resolve(date.and_time(b)));
        (from < first && first < second && second <= until).then(|| second - first)
    }

    /// Instants `t` in `[from, until)` such that the zone's UTC offset changes
    /// within the day after `t`.
    fn clock_changes(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let offset = |t: DateTime<Utc>| t.with_timezone(&self.tz).offset().fix().local_minus_utc();
        let days: Vec<_> = (0..=(until - from).num_days()).map(|d| from + Duration::days(d)).collect();
        days.windows(2).filter(|w| offset(w[0]) != offset(w[1])).map(|w| w[0]).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(spec: &str, tz: &str, from: &str, n: usize) -> Vec<String> {
        Schedule::parse(spec, tz)
            .unwrap()
            .upcoming(utc(from), n)
            .iter()
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect()
    }

    #[test]
    fn daily_fires_every_local_day() {
        assert_eq!(
            next("daily 08:30", "Europe/Paris", "2026-01-01T00:00:00Z", 2),
            ["2026-01-01T07:30:00Z", "2026-01-02T07:30:00Z"]
        );
    }

    #[test]
    fn spring_forward_gap_shifts_later_by_the_gap() {
        // 2026-03-08 02:30 does not exist in New York; it fires at 03:30 EDT.
        assert_eq!(
            next("daily 02:30", "America/New_York", "2026-03-07T12:00:00Z", 2),
            ["2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"]
        );
    }

    #[test]
    fn fall_back_fires_at_the_first_occurrence_only() {
        // 01:30 happens twice on 2026-11-01 in New York: EDT first (05:30Z).
        assert_eq!(
            next("daily 01:30", "America/New_York", "2026-10-31T12:00:00Z", 3),
            ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"]
        );
    }

    #[test]
    fn friendly_day_lists() {
        // 2026-11-26 is a Thursday.
        assert_eq!(
            next("mon,wed,fri 07:15", "UTC", "2026-11-26T00:00:00Z", 3),
            ["2026-11-27T07:15:00Z", "2026-11-30T07:15:00Z", "2026-12-02T07:15:00Z"]
        );
        assert_eq!(
            next("weekends 10:00", "UTC", "2026-11-26T00:00:00Z", 2),
            ["2026-11-28T10:00:00Z", "2026-11-29T10:00:00Z"]
        );
        assert_eq!(next("weekdays 21:00", "UTC", "2026-11-27T22:00:00Z", 1), ["2026-11-30T21:00:00Z"]);
    }

    #[test]
    fn crontab_day_fields_match_either_when_both_are_restricted() {
        // The 1st of the month or any Monday, as crontab(5) says.
        assert_eq!(
            next("0 9 1 * mon", "UTC", "2026-11-26T00:00:00Z", 3),
            ["2026-11-30T09:00:00Z", "2026-12-01T09:00:00Z", "2026-12-07T09:00:00Z"]
        );
        // Sunday is 0 and 7.
        assert_eq!(next("0 9 * * 7", "UTC", "2026-11-26T00:00:00Z", 1), ["2026-11-29T09:00:00Z"]);
        assert_eq!(next("0 9 * * 0", "UTC", "2026-11-26T00:00:00Z", 1), ["2026-11-29T09:00:00Z"]);
        // A step in the day-of-week field starting with `*` leaves it unrestricted
        // for the either-or rule.
        assert_eq!(
            next("*/30 8-9 * * 1-5/2", "UTC", "2026-11-26T00:00:00Z", 3),
            ["2026-11-27T08:00:00Z", "2026-11-27T08:30:00Z", "2026-11-27T09:00:00Z"]
        );
    }

    #[test]
    fn leap_day_only_spec_finds_its_day() {
        assert_eq!(next("0 12 29 2 *", "UTC", "2026-11-26T00:00:00Z", 1), ["2028-02-29T12:00:00Z"]);
    }

    fn minutes(m: i64) -> Duration {
        Duration::minutes(m)
    }

    fn floor_check(spec: &str, tz: &str, from: &str, floor: i64) -> Result<(), ScheduleError> {
        Schedule::parse(spec, tz).unwrap().check_floor(minutes(floor), utc(from))
    }

    #[test]
    fn shortest_gap_of_regular_specs() {
        let gap = |spec: &str| Schedule::parse(spec, "UTC").unwrap().shortest_gap(utc("2026-11-26T10:00:00Z"));
        assert_eq!(gap("* * * * *"), Some(minutes(1)));
        assert_eq!(gap("*/2 * * * *"), Some(minutes(2)));
        assert_eq!(gap("0 8,9 * * *"), Some(minutes(60)));
        assert_eq!(gap("daily 20:00"), Some(minutes(24 * 60)));
        assert_eq!(gap("weekdays 21:00"), Some(minutes(24 * 60)));
        assert_eq!(gap("30 8 * * 1-5"), Some(minutes(24 * 60)));
        assert_eq!(gap("sun 20:00"), Some(minutes(7 * 24 * 60)));
        // Last fire of one day to the first of the next.
        assert_eq!(gap("0 0,23 * * *"), Some(minutes(60)));
    }

    #[test]
    fn a_floor_refuses_only_what_comes_closer() {
        let from = "2026-11-26T10:00:00Z";
        let refused = |spec: &str, floor: i64| floor_check(spec, "UTC", from, floor).is_err();
        assert!(refused("* * * * *", 60));
        assert!(!refused("* * * * *", 0), "a floor of zero refuses nothing");
        assert!(!refused("* * * * *", 1));
        assert!(!refused("*/2 * * * *", 0));
        assert!(!refused("*/2 * * * *", 2));
        assert!(refused("*/2 * * * *", 3));
        assert!(!refused("daily 20:00", 60));
        assert!(!refused("daily 20:00", 1440));
        assert!(refused("daily 20:00", 1441));
        assert!(!refused("0 8,9 * * *", 60));
        assert!(refused("0 8,9 * * *", 61));
        assert!(!refused("weekdays 21:00", 60));
        assert!(!refused("weekdays 21:00", 1440));
        assert!(refused("weekdays 21:00", 1441));
        assert!(!refused("30 8 * * 1-5", 60));
        assert!(!refused("30 8 * * 1-5", 1440));
        assert!(refused("30 8 * * 1-5", 1441));
        assert_eq!(floor_check("* * * * *", "UTC", from, 60), Err(ScheduleError::TooFrequent { floor_minutes: 60 }));
    }

    #[test]
    fn a_schedule_that_never_fires_twice_passes() {
        // Leap days only, at one time: the next fire is years after the one before.
        assert_eq!(floor_check("0 12 29 2 *", "UTC", "2026-11-26T00:00:00Z", 60), Ok(()));
        // At two times an hour apart, it is judged in the year it fires.
        assert!(floor_check("0 8,9 29 2 *", "UTC", "2026-11-26T00:00:00Z", 61).is_err());
        let s = Schedule::parse("0 12 29 2 *", "UTC").unwrap();
        assert_eq!(s.shortest_gap(utc("2028-02-29T13:00:00Z")), None, "one fire in the year looked at");
    }

    #[test]
    fn across_clock_changes_a_daily_spec_is_23_to_25_hours_apart() {
        let s = Schedule::parse("daily 02:30", "America/New_York").unwrap();
        // 07:30Z on 7 March (EST), 07:30Z on 8 March (the gap: 03:30 EDT), 06:30Z
        // on 9 March (EDT): 24 h then 23 h. Fall back makes one 25 h gap.
        assert_eq!(
            next("daily 02:30", "America/New_York", "2026-03-07T00:00:00Z", 3),
            ["2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"]
        );
        for from in ["2026-01-15T00:00:00Z", "2026-06-15T00:00:00Z", "2026-10-31T12:00:00Z"] {
            assert_eq!(s.shortest_gap(utc(from)), Some(minutes(23 * 60)), "from {from}");
            assert_eq!(s.check_floor(minutes(23 * 60), utc(from)), Ok(()));
            assert!(s.check_floor(minutes(23 * 60 + 1), utc(from)).is_err());
        }
        // Without clock changes, a day is a day.
        let tokyo = Schedule::parse("daily 02:30", "Asia/Tokyo").unwrap();
        assert_eq!(tokyo.shortest_gap(utc("2026-06-15T00:00:00Z")), Some(minutes(24 * 60)));
        // A half-hour change (Lord Howe) shortens a day by half an hour.
        let howe = Schedule::parse("daily 20:00", "Australia/Lord_Howe").unwrap();
        assert_eq!(howe.shortest_gap(utc("2026-06-15T00:00:00Z")), Some(minutes(23 * 60 + 30)));
    }

    #[test]
    fn a_clock_change_far_past_the_first_fires_still_counts() {
        // Eight fires a day read 2,000 fires only to December; the spring-forward
        // in March 2027 makes 00:00 EST to 03:00 EDT two hours.
        let s = Schedule::parse("0 */3 * * *", "America/New_York").unwrap();
        assert_eq!(s.shortest_gap(utc("2026-04-01T00:00:00Z")), Some(minutes(120)));
        assert_eq!(s.shortest_gap(utc("2026-01-01T00:00:00Z")), Some(minutes(120)));
        let utc_only = Schedule::parse("0 */3 * * *", "UTC").unwrap();
        assert_eq!(utc_only.shortest_gap(utc("2026-04-01T00:00:00Z")), Some(minutes(180)));
    }

    #[test]
    fn too_frequent_says_the_floor_the_way_people_do() {
        let says = |m: i64| ScheduleError::TooFrequent { floor_minutes: m }.to_string();
        assert_eq!(
            says(60),
            "On that schedule, messages would come more often than once an hour, and this mend keeps at least that \
             long between them. Try something like `daily 20:00` or `weekdays 21:00`."
        );
        assert!(says(120).contains("more often than once every 2 hours,"), "{}", says(120));
        assert!(says(30).contains("more often than once every 30 minutes,"), "{}", says(30));
        assert!(says(90).contains("more often than once every 90 minutes,"), "{}", says(90));
        assert!(says(1).contains("more often than once a minute,"), "{}", says(1));
        assert!(says(1440).contains("more often than once a day,") && says(1440).contains("`sun 20:00`"));
        assert!(says(2880).contains("once every 2 days"));
        for m in [1, 30, 60, 120, 1440, 2880, 20_000] {
            let text = says(m);
            assert!(!text.contains('\n') && text.ends_with('.'), "{text}");
        }
    }

    #[test]
    fn the_examples_in_the_refusal_pass_their_floor() {
        let from = "2026-01-15T00:00:00Z";
        for floor in [1, 60, 600, 1380, 1381, 5000, 10_020, 10_021, 40_000] {
            let text = ScheduleError::TooFrequent { floor_minutes: floor }.to_string();
            let examples: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
            assert!(!examples.is_empty(), "{text}");
            for example in examples {
                for tz in ["UTC", "America/New_York", "Australia/Lord_Howe"] {
                    assert_eq!(floor_check(example, tz, from, floor), Ok(()), "{example} at {floor} in {tz}");
                }
            }
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        for (spec, needle) in [
            ("", "empty"),
            ("daily 25:00", "HH:MM"),
            ("daily 8", "HH:MM"),
            ("funday 08:00", "not a day"),
            ("0 9 31 2 *", "no day that exists"),
            ("61 * * * *", "not a valid crontab"),
            ("0 9 * * 8", "past 7"),
            ("0 9 * *", "neither"),
        ] {
            let err = spec.parse::<Spec>().unwrap_err().to_string();
            assert!(err.contains(needle), "{spec:?}: {err}");
            assert!(err.contains("daily 08:30"), "error shows an example: {err}");
        }
        let err = Schedule::parse("daily 08:00", "Mars/Olympus").unwrap_err().to_string();
        assert!(err.contains("Mars/Olympus") && err.contains("Europe/Paris"), "{err}");
    }
}
