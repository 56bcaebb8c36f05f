//! Schedules over random zones, specs and dates: strictly increasing, once per
//! scheduled local day, on the right local day.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};
use proptest::prelude::*;

use mend::core::schedule::Schedule;

fn zone() -> impl Strategy<Value = Tz> {
    (0..TZ_VARIANTS.len()).prop_map(|i| TZ_VARIANTS[i])
}

fn spec() -> impl Strategy<Value = String> {
    let hm = (0u32..24, 0u32..60);
    let days = prop::sample::subsequence(vec!["sun", "mon", "tue", "wed", "thu", "fri", "sat"], 1..=7);
    prop_oneof![
        hm.clone().prop_map(|(h, m)| format!("daily {h:02}:{m:02}")),
        hm.clone().prop_map(|(h, m)| format!("weekdays {h:02}:{m:02}")),
        hm.clone().prop_map(|(h, m)| format!("weekends {h:02}:{m:02}")),
        (days, hm.clone()).prop_map(|(d, (h, m))| format!("{} {h:02}:{m:02}", d.join(","))),
        (0u32..60, 0u32..24, 0u32..24).prop_map(|(m, h1, h2)| format!("{m} {},{} * * *", h1.min(h2), h1.max(h2))),
        (0u32..60, 0u32..24, 0u32..8).prop_map(|(m, h, d)| format!("{m} {h} * * {d}")),
        (0u32..60, 0u32..24, 1u32..29, 0u32..7).prop_map(|(m, h, dom, dow)| format!("{m} {h} {dom} * {dow}")),
        (0u32..60, 0u32..24).prop_map(|(m, h)| format!("{m} {h} * * 1-5/2")),
    ]
}

fn start() -> impl Strategy<Value = DateTime<Utc>> {
    // 1990 to 2040, to the minute: old and future transitions alike.
    (0i64..(50 * 365 * 24 * 60)).prop_map(|m| Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(m))
}

/// Every scheduled (wall time, instant) on local dates from `from` to `to`.
fn scheduled(s: &Schedule, from: NaiveDate, to: NaiveDate) -> Vec<(chrono::NaiveDateTime, DateTime<Utc>)> {
    from.iter_days().take_while(|d| *d <= to).flat_map(|d| s.fires_on(d)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn fires_are_strictly_increasing_once_per_scheduled_day_on_the_right_day(
        spec in spec(), tz in zone(), from in start()
    ) {
        let s = Schedule::parse(&spec, tz.name()).unwrap();
        let fires = s.upcoming(from, 12);
        prop_assert!(!fires.is_empty());
        prop_assert!(fires[0] > from);
        for pair in fires.windows(2) {
            prop_assert!(pair[0] < pair[1], "strictly increasing: {pair:?}");
        }
        let first_day = from.with_timezone(&tz).date_naive() - Duration::days(2);
        let last_day = fires.last().unwrap().with_timezone(&tz).date_naive() + Duration::days(1);
        let all = scheduled(&s, first_day, last_day);
        for f in &fires {
            // Each fire is a scheduled wall time of a scheduled day; where that
            // wall time exists, it is exactly that local time.
            let (wall, _) = all.iter().find(|(_, t)| t == f).copied()
                .ok_or_else(|| TestCaseError::fail(format!("{f} is no scheduled time")))?;
            if tz.from_local_datetime(&wall).earliest().is_some() {
                prop_assert_eq!(f.with_timezone(&tz).naive_local(), wall);
            } else {
                prop_assert!(f.with_timezone(&tz).naive_local() > wall, "a gap shifts later");
            }
        }
        // None skipped: every scheduled instant between `from` and the last fire
        // is one of the fires.
        for (wall, t) in &all {
            if *t > from && t <= fires.last().unwrap() {
                prop_assert!(fires.contains(t), "{wall} ({t}) was skipped");
            }
        }
    }

    #[test]
    fn a_repeated_wall_time_fires_at_its_first_occurrence(tz in zone(), from in start(), h in 0u32..24, m in 0u32..60) {
        let s = Schedule::parse(&format!("daily {h:02}:{m:02}"), tz.name()).unwrap();
        for f in s.upcoming(from, 10) {
            let wall = f.with_timezone(&tz).naive_local();
            if let chrono::LocalResult::Ambiguous(first, _) = tz.from_local_datetime(&wall) {
                prop_assert_eq!(f, first.with_timezone(&Utc));
            }
        }
    }
}

/// Zones that changed offset between 2024 and 2026: the ones with gaps and
/// repeated hours to test.
fn dst_zone() -> impl Strategy<Value = Tz> {
    static ZONES: std::sync::LazyLock<Vec<Tz>> = std::sync::LazyLock::new(|| {
        let from = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        TZ_VARIANTS
            .iter()
            .copied()
            .filter(|tz| {
                let offset = |t: DateTime<Utc>| t.with_timezone(tz).offset().fix().local_minus_utc();
                (0..730).any(|d| offset(from + Duration::days(d)) != offset(from))
            })
            .collect()
    });
    (0..ZONES.len()).prop_map(|i| ZONES[i])
}

/// The next change of UTC offset in the wanted direction (`forward`: the clock
/// jumps ahead) after `from`: (instant, offset before, offset after).
fn next_change(tz: Tz, mut from: DateTime<Utc>, forward: bool) -> Option<(DateTime<Utc>, i32, i32)> {
    for _ in 0..8 {
        let (at, before, after) = next_transition(tz, from)?;
        if (after > before) == forward {
            return Some((at, before, after));
        }
        from = at;
    }
    None
}

/// The next change of UTC offset after `from` within two years: (instant, offset
/// before, offset after), to the minute.
fn next_transition(tz: Tz, from: DateTime<Utc>) -> Option<(DateTime<Utc>, i32, i32)> {
    let offset = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix().local_minus_utc();
    let mut t = from;
    let start = offset(from);
    for _ in 0..(2 * 366 * 24) {
        let next = t + Duration::hours(1);
        if offset(next) != start {
            // Narrow down to the minute.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::minutes(1) {
                let mid = lo + (hi - lo) / 2;
                if offset(mid) == start { lo = mid } else { hi = mid }
            }
            return Some((hi, start, offset(hi)));
        }
        t = next;
    }
    None
}

use chrono::Offset;

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, max_global_rejects: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn a_time_in_a_fall_back_fires_once_at_its_first_occurrence(tz in dst_zone(), from in start(), pick in 0i64..1000) {
        let found = next_change(tz, from, false);
        prop_assume!(found.is_some());
        let (at, before, after) = found.unwrap();
        let repeated = i64::from(before - after) / 60;
        // A wall time inside the repeated stretch, to the minute.
        let wall = (at + Duration::seconds(after.into())).naive_utc() + Duration::minutes(pick % repeated);
        prop_assume!(wall.time().format("%S").to_string() == "00");
        let s = Schedule::parse(&format!("daily {}", wall.format("%H:%M")), tz.name()).unwrap();
        let fires = s.upcoming(at - Duration::days(2), 4);
        let on_that_day: Vec<_> = fires.iter().filter(|f| f.with_timezone(&tz).date_naive() == wall.date()).collect();
        prop_assert_eq!(on_that_day.len(), 1, "once on the day: {:?}", fires);
        let first = Utc.from_utc_datetime(&(wall - Duration::seconds(before.into())));
        prop_assert_eq!(*on_that_day[0], first);
    }

    #[test]
    fn a_time_in_a_spring_forward_gap_fires_shifted_later_by_the_gap(tz in dst_zone(), from in start(), pick in 0i64..1000) {
        let found = next_change(tz, from, true);
        prop_assume!(found.is_some());
        let (at, before, after) = found.unwrap();
        let gap = i64::from(after - before) / 60;
        let wall = (at + Duration::seconds(before.into())).naive_utc() + Duration::minutes(pick % gap);
        prop_assume!(wall.time().format("%S").to_string() == "00");
        let s = Schedule::parse(&format!("daily {}", wall.format("%H:%M")), tz.name()).unwrap();
        let fires = s.upcoming(at - Duration::days(2), 4);
        let shifted = Utc.from_utc_datetime(&(wall - Duration::seconds(before.into())));
        prop_assert!(fires.contains(&shifted), "{shifted} in {fires:?}");
        prop_assert_eq!(shifted.with_timezone(&tz).naive_local(), wall + Duration::minutes(gap));
    }
}

/// Specs firing several times a day, more than 2,000 times a year, so that
/// `shortest_gap` stops reading the year early and relies on the days around
/// clock changes; every few hours, so that a clock change can shorten a gap.
fn dense_spec() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u32..60, 2u32..5).prop_map(|(m, step)| format!("{m} */{step} * * *")),
        1 => (0u32..30, 30u32..60, 0u32..6, 18u32..24).prop_map(|(m1, m2, h1, h2)| format!("{m1},{m2} {h1}-{h2} * * *")),
    ]
}

/// The shortest gap between consecutive fires of the year after `from`, found
/// with `next_after` one fire at a time.
fn brute_force_shortest_gap(s: &Schedule, from: DateTime<Utc>) -> Option<Duration> {
    let until = from + Duration::days(366);
    let fires: Vec<_> =
        std::iter::successors(s.next_after(from), |t| s.next_after(*t)).take_while(|t| *t <= until).collect();
    fires.windows(2).map(|w| w[1] - w[0]).min()
}

fn check_shortest_gap(spec: &str, tz: Tz, from: DateTime<Utc>) -> Result<(), TestCaseError> {
    let s = Schedule::parse(spec, tz.name()).unwrap();
    let expected = brute_force_shortest_gap(&s, from);
    prop_assert!(expected.is_some(), "{} fires twice a year", spec);
    prop_assert_eq!(s.shortest_gap(from), expected, "{} in {} from {}", spec, tz.name(), from);
    // The floor check agrees, to the minute.
    let whole_minutes = Duration::minutes(expected.unwrap().num_minutes());
    prop_assert_eq!(s.check_floor(whole_minutes, from), Ok(()));
    prop_assert!(s.check_floor(whole_minutes + Duration::minutes(1), from).is_err());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// The shortest gap is exactly the shortest between consecutive fires of the
    /// year, clock changes included.
    #[test]
    fn shortest_gap_is_the_shortest_between_a_years_fires(spec in spec(), tz in zone(), from in start()) {
        check_shortest_gap(&spec, tz, from)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn shortest_gap_of_a_dense_spec_still_sees_every_clock_change(spec in dense_spec(), tz in dst_zone(), from in start()) {
        check_shortest_gap(&spec, tz, from)?;
    }
}

#[test]
fn a_whole_skipped_day_still_fires_once() {
    // Samoa skipped 30 December 2011.
    let s = Schedule::parse("daily 08:30", "Pacific/Apia").unwrap();
    let from = Utc.with_ymd_and_hms(2011, 12, 28, 0, 0, 0).unwrap();
    let fires = s.upcoming(from, 4);
    let days: Vec<String> =
        fires.iter().map(|f| f.with_timezone(&chrono_tz::Pacific::Apia).format("%m-%d %H:%M").to_string()).collect();
    assert_eq!(days, ["12-28 08:30", "12-29 08:30", "12-31 08:30", "01-01 08:30"]);
}
