//! The floor on how often a schedule may fire: the shortest real gap between two
//! fires, clock changes included, and the refusal worded for the person who set it.

use chrono::{DateTime, Duration, NaiveTime, Offset, Utc};

use super::{Schedule, ScheduleError};

/// How far ahead `shortest_gap` looks: a year holds every clock change a zone makes.
const GAP_HORIZON_DAYS: i64 = 366;

/// The most fires `shortest_gap` reads in its pass over the year. A spec that
/// fires this often shows its regular gaps long before; the irregular ones, near
/// clock changes, are read separately.
const GAP_MAX_FIRES: usize = 2_000;

/// The `TooFrequent` sentence: the floor the way people say it, and an example
/// that passes it.
pub(super) fn too_frequent(floor_minutes: i64) -> String {
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

impl Schedule {
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
}
