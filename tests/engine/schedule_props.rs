//! Schedules over random zones, specs and dates: strictly increasing, once per
//! scheduled local day, on the right local day. Specs as people type them read
//! the days and time they say, into a canonical source that reads back the same;
//! zones as people type them read the zone they name.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};
use proptest::prelude::*;

use mend::core::schedule::{Schedule, Spec, parse_zone, zone_suggestions};

/// The zones mend takes (not `EST`, `CET`, `Etc/GMT+5` and the like).
fn accepted_zones() -> &'static [Tz] {
    static ZONES: std::sync::LazyLock<Vec<Tz>> =
        std::sync::LazyLock::new(|| TZ_VARIANTS.iter().copied().filter(|tz| parse_zone(tz.name()).is_ok()).collect());
    &ZONES
}

fn zone() -> impl Strategy<Value = Tz> {
    (0..accepted_zones().len()).prop_map(|i| accepted_zones()[i])
}

fn spec() -> impl Strategy<Value = String> {
    let hm = (0u32..24, 0u32..60);
    let days = prop::sample::subsequence(vec!["sun", "mon", "tue", "wed", "thu", "fri", "sat"], 1..=7);
    prop_oneof![
        1 => hm.clone().prop_map(|(h, m)| format!("daily {h:02}:{m:02}")),
        1 => hm.clone().prop_map(|(h, m)| format!("weekdays {h:02}:{m:02}")),
        1 => hm.clone().prop_map(|(h, m)| format!("weekends {h:02}:{m:02}")),
        1 => (days, hm.clone()).prop_map(|(d, (h, m))| format!("{} {h:02}:{m:02}", d.join(","))),
        1 => (0u32..60, 0u32..24, 0u32..24).prop_map(|(m, h1, h2)| format!("{m} {},{} * * *", h1.min(h2), h1.max(h2))),
        1 => (0u32..60, 0u32..24, 0u32..8).prop_map(|(m, h, d)| format!("{m} {h} * * {d}")),
        1 => (0u32..60, 0u32..24, 1u32..29, 0u32..7).prop_map(|(m, h, dom, dow)| format!("{m} {h} {dom} * {dow}")),
        1 => (0u32..60, 0u32..24).prop_map(|(m, h)| format!("{m} {h} * * 1-5/2")),
        2 => natural().prop_map(|n| n.text),
    ]
}

/// A spec as someone might type it, with the days (0 = Sunday) and wall time it
/// means.
#[derive(Debug, Clone)]
struct Natural {
    text: String,
    days: Vec<u32>,
    time: (u32, u32),
}

const FULL: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const SHORT: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const OTHER: [&str; 7] = ["sun", "mon", "tues", "weds", "thurs", "fri", "sat"];

/// Ways to say a wall time: 24-hour, am/pm in its spellings, a bare hour (24-hour),
/// noon and midnight.
fn say_time(h: u32, m: u32, style: usize) -> String {
    let h12 = if h.is_multiple_of(12) { 12 } else { h % 12 };
    let (am, pm) = [("am", "pm"), ("AM", "PM"), (" am", " pm"), (" a.m.", " p.m."), ("a", "p")][style % 5];
    let half = if h < 12 { am } else { pm };
    match (style / 5) % 5 {
        0 => format!("{h:02}:{m:02}"),
        1 => format!("{h}:{m:02}"),
        2 if m == 0 => format!("{h12}{half}"),
        2 | 3 => format!("{h12}:{m:02}{half}"),
        _ => match (h, m) {
            (12, 0) => "noon".into(),
            (0, 0) => "midnight".into(),
            (_, 0) => h.to_string(),
            _ => format!("{h}.{m:02}"),
        },
    }
}

/// Ways to say a set of days (each sorted, Sunday = 0).
fn say_days(days: &[u32], style: usize) -> String {
    let every: Vec<u32> = (0..7).collect();
    let weekdays: Vec<u32> = (1..=5).collect();
    if days == every {
        return ["daily", "every day", "everyday", "each day", "Daily", "every day of the week"][style % 6]
            .replace(" of the week", "");
    }
    if days == weekdays {
        return ["weekdays", "every weekday", "mon-fri", "monday to friday", "Mon - Fri", "weekday"][style % 6].into();
    }
    if days == [0, 6] {
        return ["weekends", "every weekend", "sat,sun", "saturday and sunday", "Sat & Sun", "weekend"][style % 6]
            .into();
    }
    // Monday first, as people list them.
    let ordered: Vec<u32> = [1, 2, 3, 4, 5, 6, 0].into_iter().filter(|d| days.contains(d)).collect();
    let names: Vec<String> = ordered
        .iter()
        .map(|&d| match style % 4 {
            0 => SHORT[d as usize].to_string(),
            1 => FULL[d as usize].to_string(),
            2 => format!("{}s", FULL[d as usize]),
            _ => OTHER[d as usize].to_string(),
        })
        .collect();
    match (style / 4) % 3 {
        0 => names.join(","),
        1 => names.join(" "),
        _ => match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.join(""),
        },
    }
}

fn natural() -> impl Strategy<Value = Natural> {
    let days = prop_oneof![
        Just((0..7).collect::<Vec<u32>>()),
        Just((1..=5).collect::<Vec<u32>>()),
        Just(vec![0, 6]),
        prop::sample::subsequence((0u32..7).collect::<Vec<_>>(), 1..=7),
    ];
    (days, 0u32..24, prop_oneof![Just(0u32), Just(30), 0u32..60], 0usize..60, 0usize..30, 0usize..8, any::<bool>())
        .prop_map(|(days, h, m, day_style, time_style, order, bare)| {
            let time = say_time(h, m, time_style);
            let when = say_days(&days, day_style);
            let text = match (bare && days.len() == 7, order % 4) {
                (true, 0) => time.clone(),
                (true, _) => format!("at {time}"),
                (false, 0) => format!("{when} {time}"),
                (false, 1) => format!("{when} at {time}"),
                (false, 2) => format!("at {time} {when}"),
                (false, _) => format!("{time} on {when}"),
            };
            let text = if order >= 4 { format!("  {}  ", text.to_uppercase().replace(' ', "   ")) } else { text };
            Natural { text, days, time: (h, m) }
        })
}

/// The canonical source of a friendly spec for these days and time.
fn canonical(days: &[u32], (h, m): (u32, u32)) -> String {
    let named = match days {
        d if d.len() == 7 => "daily".to_string(),
        [1, 2, 3, 4, 5] => "weekdays".to_string(),
        [0, 6] => "weekends".to_string(),
        d => [1, 2, 3, 4, 5, 6, 0]
            .into_iter()
            .filter(|x| d.contains(x))
            .map(|x| SHORT[x as usize])
            .collect::<Vec<_>>()
            .join(","),
    };
    format!("{named} {h:02}:{m:02}")
}

/// The days of the week of 2026-11-23 (a Monday) a schedule fires on, and the
/// wall times it fires at, in UTC.
fn week_of(s: &Schedule) -> (Vec<u32>, Vec<(u32, u32)>) {
    let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut days = Vec::new();
    let mut times = Vec::new();
    for date in (0..7).map(|d| monday + Duration::days(d)) {
        let fires = s.fires_on(date);
        if !fires.is_empty() {
            days.push(date.weekday().num_days_from_sunday());
        }
        times.extend(fires.iter().map(|(wall, _)| (wall.hour(), wall.minute())));
    }
    days.sort();
    times.sort();
    times.dedup();
    (days, times)
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
        accepted_zones()
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// What people type reads the days and time they said, in any case and spacing.
    #[test]
    fn a_natural_spec_reads_the_days_and_time_it_says(n in natural()) {
        let s = Schedule::parse(&n.text, "UTC").map_err(|e| TestCaseError::fail(format!("{:?}: {e}", n.text)))?;
        prop_assert_eq!(week_of(&s), (n.days.clone(), vec![n.time]), "{:?}", n.text);
        prop_assert_eq!(s.spec(), canonical(&n.days, n.time), "{:?}", n.text);
    }

    /// A friendly spec's source is canonical: it reads back to an equal spec,
    /// whose source is itself.
    #[test]
    fn a_canonical_source_reads_back_the_same(n in natural()) {
        let spec: Spec = n.text.parse().unwrap();
        let again: Spec = spec.source().parse().unwrap();
        prop_assert_eq!(&again, &spec);
        prop_assert_eq!(again.source(), spec.source());
    }

    /// Every spec that parses, friendly or crontab, reads back from its source to
    /// the same schedule.
    #[test]
    fn every_source_reads_back_the_same(spec in spec(), tz in zone()) {
        let s = Schedule::parse(&spec, tz.name()).unwrap();
        prop_assert_eq!(Schedule::parse(s.spec(), tz.name()).unwrap(), s);
    }

    /// Anything at all: it parses to a spec whose source reads back the same, or
    /// is refused in one line.
    #[test]
    fn any_text_reads_back_or_is_refused_in_one_line(text in "[a-zA-Z0-9:.,&@* -]{0,24}") {
        match text.parse::<Spec>() {
            Ok(spec) => {
                let again: Spec = spec.source().parse().map_err(|e| TestCaseError::fail(format!("{text:?} → {}: {e}", spec.source())))?;
                prop_assert_eq!(again, spec);
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(!message.contains('\n') && message.contains("`daily 8pm`"), "{message}");
            }
        }
    }

    /// A zone name reads as itself in any case and with spaces for underscores.
    #[test]
    fn a_zone_reads_in_any_case_and_spacing(tz in zone(), upper in any::<bool>()) {
        let name = tz.name();
        let typed = if upper { name.to_uppercase() } else { name.to_lowercase() }.replace('_', " ");
        prop_assert_eq!(parse_zone(name), Ok(tz));
        prop_assert_eq!(parse_zone(&typed), Ok(tz), "{:?}", typed);
    }

    /// Suggestions for a prefix of a zone's city: at most 25, each a zone mend
    /// takes, those whose city starts with the text first.
    #[test]
    fn zone_suggestions_start_with_the_city(tz in zone(), len in 1usize..6) {
        let name = tz.name();
        let city = name.rsplit('/').next().unwrap();
        let partial: String = city.chars().take(len).collect::<String>().replace('_', " ").to_lowercase();
        let found = zone_suggestions(&partial);
        prop_assert!(found.len() <= 25, "{partial:?}: {found:?}");
        for f in &found {
            prop_assert!(parse_zone(f).is_ok(), "{partial:?} offers {f}");
        }
        let key = partial.replace([' ', '-'], "_");
        let starts = |f: &str| f.rsplit('/').next().unwrap().to_lowercase().replace('-', "_").starts_with(&key);
        // A city in tzdb's own areas is offered, unless the city alone is refused
        // (`samoa` names two zones).
        let main_area = ["Africa/", "America/", "Asia/", "Atlantic/", "Europe/", "Indian/", "Pacific/"];
        if main_area.iter().any(|a| name.starts_with(a)) && parse_zone(city).is_ok() {
            prop_assert!(found.iter().any(|f| starts(f)), "{partial:?}: {found:?}");
        }
        if found.iter().any(|f| starts(f)) {
            prop_assert!(starts(found[0]), "{partial:?}: {found:?}");
            // Once a name does not start with the text, none after it does.
            let first_other = found.iter().position(|f| !starts(f)).unwrap_or(found.len());
            prop_assert!(found[first_other..].iter().all(|f| !starts(f)), "{partial:?}: {found:?}");
        }
    }
}

#[test]
fn the_zones_refused_are_abbreviations_and_fixed_offsets() {
    let refused: Vec<&str> = TZ_VARIANTS.iter().map(|tz| tz.name()).filter(|n| parse_zone(n).is_err()).collect();
    for name in &refused {
        let plain = !name.contains('/') && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let offset = name.starts_with("Etc/GMT") && name.len() > "Etc/GMT".len() + 1;
        assert!(plain || offset, "{name} is refused");
    }
    for name in
        ["EST", "MST", "HST", "CET", "EET", "WET", "MET", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "Etc/GMT+5"]
    {
        assert!(refused.contains(&name), "{name} is taken");
    }
}
