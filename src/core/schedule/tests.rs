//! Unit tests: fire instants across clock changes, the floor, and the wording of
//! parse errors and refusals.

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
        ("daily 25:00", "hours go from 0 to 23"),
        ("funday 08:00", "not a day"),
        ("0 9 31 2 *", "no day that exists"),
        ("61 * * * *", "not a valid crontab"),
        ("0 9 * * 8", "past 7"),
        ("0 9 * *", "a crontab line has five"),
        ("0 9 L * *", "syntax crontab(5) does not have"),
    ] {
        let err = spec.parse::<Spec>().unwrap_err().to_string();
        assert!(err.contains(needle), "{spec:?}: {err}");
        assert!(err.contains("daily 8pm"), "error shows an example: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
    let err = Schedule::parse("daily 08:00", "Mars/Olympus").unwrap_err().to_string();
    assert!(err.contains("Mars/Olympus") && err.contains("Europe/Paris"), "{err}");
}

/// The days (0 = Sunday) and the one wall time a spec names, read through the
/// week of 2026-11-23 (a Monday), and its source.
fn read(spec: &str) -> (Vec<u32>, (u32, u32), String) {
    use chrono::{Datelike, Timelike};
    let s: Spec = spec.parse().unwrap_or_else(|e| panic!("{spec:?}: {e}"));
    let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut days: Vec<u32> = (0..7)
        .map(|d| monday + Duration::days(d))
        .filter(|d| s.day_matches(*d))
        .map(|d| d.weekday().num_days_from_sunday())
        .collect();
    days.sort();
    let times: Vec<NaiveTime> = s.wall_times().collect();
    assert_eq!(times.len(), 1, "{spec:?} names one time");
    (days, (times[0].hour(), times[0].minute()), s.source().to_string())
}

const EVERY_DAY: [u32; 7] = [0, 1, 2, 3, 4, 5, 6];
const WEEKDAYS: [u32; 5] = [1, 2, 3, 4, 5];
const WEEKENDS: [u32; 2] = [0, 6];
const MON_WED_FRI: [u32; 3] = [1, 3, 5];

#[track_caller]
fn accepts(spec: &str, days: &[u32], time: (u32, u32), source: &str) {
    assert_eq!(read(spec), (days.to_vec(), time, source.to_string()), "{spec:?}");
    // The canonical form is itself a spec, and reads back the same.
    assert_eq!(source.parse::<Spec>().unwrap(), spec.parse::<Spec>().unwrap(), "{spec:?} via {source:?}");
}

#[test]
fn the_forms_mend_took_before_read_the_same() {
    accepts("daily 08:30", &EVERY_DAY, (8, 30), "daily 08:30");
    accepts("Daily 8:30", &EVERY_DAY, (8, 30), "daily 08:30");
    accepts("everyday 08:30", &EVERY_DAY, (8, 30), "daily 08:30");
    accepts("weekdays 21:00", &WEEKDAYS, (21, 0), "weekdays 21:00");
    accepts("weekends 10:00", &WEEKENDS, (10, 0), "weekends 10:00");
    accepts("mon,wed,fri 07:15", &MON_WED_FRI, (7, 15), "mon,wed,fri 07:15");
    accepts("  MON,Wed,fri    07:15 ", &MON_WED_FRI, (7, 15), "mon,wed,fri 07:15");
    accepts("sun 20:00", &[0], (20, 0), "sun 20:00");
    accepts("sun,sat 20:00", &WEEKENDS, (20, 0), "weekends 20:00");
    accepts("sun,mon 20:00", &[0, 1], (20, 0), "mon,sun 20:00");
    accepts("mon,tue,wed,thu,fri 20:00", &WEEKDAYS, (20, 0), "weekdays 20:00");
}

#[test]
fn a_bare_time_is_every_day() {
    for (spec, time) in [
        ("8pm", (20, 0)),
        ("9am", (9, 0)),
        ("8:30pm", (20, 30)),
        ("8.30 pm", (20, 30)),
        ("8:30 P.M.", (20, 30)),
        ("8 p.m.", (20, 0)),
        ("20:00", (20, 0)),
        ("9", (9, 0)),
        ("21", (21, 0)),
        ("0830", (8, 30)),
        ("930pm", (21, 30)),
        ("noon", (12, 0)),
        ("Midnight", (0, 0)),
        ("12 noon", (12, 0)),
        ("9 o'clock", (9, 0)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
        ("12:30am", (0, 30)),
        ("12:45 pm", (12, 45)),
        ("00:00", (0, 0)),
        ("23:59", (23, 59)),
    ] {
        accepts(spec, &EVERY_DAY, time, &format!("daily {:02}:{:02}", time.0, time.1));
    }
}

#[test]
fn twelve_and_twenty_four_hour_times_go_everywhere_a_time_does() {
    accepts("daily 8pm", &EVERY_DAY, (20, 0), "daily 20:00");
    accepts("weekdays 9:15am", &WEEKDAYS, (9, 15), "weekdays 09:15");
    accepts("mon 7", &[1], (7, 0), "mon 07:00");
    accepts("weekends noon", &WEEKENDS, (12, 0), "weekends 12:00");
    accepts("mon,wed,fri 7pm", &MON_WED_FRI, (19, 0), "mon,wed,fri 19:00");
    accepts("daily 12am", &EVERY_DAY, (0, 0), "daily 00:00");
    accepts("daily 12pm", &EVERY_DAY, (12, 0), "daily 12:00");
}

#[test]
fn sentences_about_every_day_weekdays_and_weekends() {
    accepts("every day at 9", &EVERY_DAY, (9, 0), "daily 09:00");
    accepts("everyday at 9pm", &EVERY_DAY, (21, 0), "daily 21:00");
    accepts("each day at 21:30", &EVERY_DAY, (21, 30), "daily 21:30");
    accepts("daily at 8", &EVERY_DAY, (8, 0), "daily 08:00");
    accepts("at 9pm every day", &EVERY_DAY, (21, 0), "daily 21:00");
    accepts("At 9PM Every Day.", &EVERY_DAY, (21, 0), "daily 21:00");
    accepts("at 9", &EVERY_DAY, (9, 0), "daily 09:00");
    accepts("every weekday at 21:30", &WEEKDAYS, (21, 30), "weekdays 21:30");
    accepts("weekdays at 21:30", &WEEKDAYS, (21, 30), "weekdays 21:30");
    accepts("every week day at 7am", &WEEKDAYS, (7, 0), "weekdays 07:00");
    accepts("every weekend at 10am", &WEEKENDS, (10, 0), "weekends 10:00");
    accepts("weekend 10am", &WEEKENDS, (10, 0), "weekends 10:00");
    accepts("weekdays and weekends at 9", &EVERY_DAY, (9, 0), "daily 09:00");
}

#[test]
fn days_by_full_or_short_name_singly_listed_or_plural() {
    accepts("monday 07:15", &[1], (7, 15), "mon 07:15");
    accepts("mondays at 7:15", &[1], (7, 15), "mon 07:15");
    accepts("every monday at 7am", &[1], (7, 0), "mon 07:00");
    accepts("on mondays at 7am", &[1], (7, 0), "mon 07:00");
    accepts("mon wed fri 7:15", &MON_WED_FRI, (7, 15), "mon,wed,fri 07:15");
    accepts("mon, wed, fri 7:15", &MON_WED_FRI, (7, 15), "mon,wed,fri 07:15");
    accepts("monday, wednesday and friday at 7pm", &MON_WED_FRI, (19, 0), "mon,wed,fri 19:00");
    accepts("Monday, Wednesday & Friday at 7pm", &MON_WED_FRI, (19, 0), "mon,wed,fri 19:00");
    accepts("tues 8pm", &[2], (20, 0), "tue 20:00");
    accepts("thurs 8pm", &[4], (20, 0), "thu 20:00");
    accepts("weds 8pm", &[3], (20, 0), "wed 20:00");
    accepts("tuesdays and thursdays at 6:45pm", &[2, 4], (18, 45), "tue,thu 18:45");
    accepts("sunday 19:00", &[0], (19, 0), "sun 19:00");
    accepts("saturdays 9", &[6], (9, 0), "sat 09:00");
    accepts("8pm on sundays", &[0], (20, 0), "sun 20:00");
    accepts("saturday and sunday 10:00", &WEEKENDS, (10, 0), "weekends 10:00");
}

#[test]
fn day_ranges() {
    accepts("mon-fri 21:00", &WEEKDAYS, (21, 0), "weekdays 21:00");
    accepts("Mon - Fri 9pm", &WEEKDAYS, (21, 0), "weekdays 21:00");
    accepts("monday to friday at 9pm", &WEEKDAYS, (21, 0), "weekdays 21:00");
    accepts("from monday through friday at 9pm", &WEEKDAYS, (21, 0), "weekdays 21:00");
    accepts("mon-wed 8am", &[1, 2, 3], (8, 0), "mon,tue,wed 08:00");
    // A range may run through the weekend.
    accepts("fri-mon 8am", &[0, 1, 5, 6], (8, 0), "mon,fri,sat,sun 08:00");
    accepts("sat-sun 8am", &WEEKENDS, (8, 0), "weekends 08:00");
    accepts("mon-thu, sat 8am", &[1, 2, 3, 4, 6], (8, 0), "mon,tue,wed,thu,sat 08:00");
}

#[test]
fn a_part_of_the_day_says_which_half_a_plain_hour_is_on() {
    accepts("every night at 9", &EVERY_DAY, (21, 0), "daily 21:00");
    accepts("nightly 10:30", &EVERY_DAY, (22, 30), "daily 22:30");
    accepts("monday night at 9", &[1], (21, 0), "mon 21:00");
    accepts("12 at night", &EVERY_DAY, (0, 0), "daily 00:00");
    accepts("every night at 1", &EVERY_DAY, (1, 0), "daily 01:00");
    accepts("weekday mornings at 7:30", &WEEKDAYS, (7, 30), "weekdays 07:30");
    accepts("9 in the morning", &EVERY_DAY, (9, 0), "daily 09:00");
    accepts("at 3 in the afternoon", &EVERY_DAY, (15, 0), "daily 15:00");
    accepts("sunday afternoons at 12:30", &[0], (12, 30), "sun 12:30");
    accepts("every evening at 7", &EVERY_DAY, (19, 0), "daily 19:00");
    // A time already on one half only has to fall in the part.
    accepts("every night at 21:00", &EVERY_DAY, (21, 0), "daily 21:00");
    accepts("every evening at 7pm", &EVERY_DAY, (19, 0), "daily 19:00");
    refuses("every morning at 9pm", &["`9pm` does not fall in the morning", "`8pm`"]);
    refuses("every evening at 2", &["does not fall in the evening"]);
    refuses("12 in the morning", &["does not fall in the morning"]);
    refuses("every evening", &["add one, e.g. `every evening at 7`"]);
    assert_eq!(read("every evening at 7").1, (19, 0));
    refuses("morning and evening at 8", &["both the morning and the evening"]);
}

#[test]
fn crontab_lines_keep_their_own_text() {
    for line in ["30 8 * * 1-5", "0 9 1 * mon", "*/30 8-9 * * 1-5/2", "0 12 29 2 *", "0 20 * * SUN"] {
        let s: Spec = line.parse().unwrap();
        assert_eq!(s.source(), line);
    }
    assert_eq!("  30   8 * *  1-5 ".parse::<Spec>().unwrap().source(), "30 8 * * 1-5");
    assert_eq!(read("30 8 * * 1-5"), (WEEKDAYS.to_vec(), (8, 30), "30 8 * * 1-5".to_string()));
}

#[track_caller]
fn refuses(spec: &str, needles: &[&str]) {
    let err = spec.parse::<Spec>().expect_err(spec).to_string();
    for needle in needles {
        assert!(err.contains(needle), "{spec:?}: {err}");
    }
    assert!(!err.contains('\n'), "one line: {err}");
    let (own, _examples) = err.split_once(" — try something like").expect("the examples follow");
    assert!(!own.contains("crontab"), "no crontab jargon for {spec:?} before the examples: {err}");
}

#[test]
fn impossible_or_ambiguous_times_are_refused_with_the_fix() {
    refuses("25:00", &["`25:00`", "0 to 23", "`21:00`"]);
    refuses("daily 24:00", &["`00:00`", "`midnight`"]);
    refuses("13pm", &["`13pm`", "`13:00`", "`1pm`"]);
    refuses("weekdays 13:30pm", &["`13:30`", "`1:30pm`"]);
    refuses("0am", &["`12am`", "`00:00`"]);
    refuses("0pm", &["`12pm`", "`12:00`"]);
    refuses("25pm", &["1 to 12"]);
    refuses("8:75", &["00 to 59", "`8:45`"]);
    refuses("8:5pm", &["two digits", "`8:05`", "`8:50`"]);
    refuses("9ish", &["`9ish`", "`9pm`"]);
    refuses("daily 8am 9pm", &["more than one time", "`daily 8am`"]);
    refuses("9-5", &["stretch of time", "one time"]);
    refuses("weekdays 9 to 5", &["stretch of time", "`weekdays 9am`"]);
}

#[test]
fn days_without_a_time_or_unknown_words_are_refused_with_the_fix() {
    refuses("monday", &["add a time, e.g. `monday 07:15` or `monday 7pm`"]);
    refuses("every weekday", &["`every weekday 07:15`"]);
    for fix in ["monday 07:15", "monday 7pm", "every weekday 07:15"] {
        assert!(fix.parse::<Spec>().is_ok(), "{fix}");
    }
    refuses("funday 08:00", &["`funday` is not a day: did you mean `sunday`?"]);
    refuses("tueday 08:00", &["did you mean `tuesday`?"]);
    refuses("wensday 8pm", &["did you mean `wednesday`?"]);
    refuses("thrusday 8pm", &["did you mean `thursday`?"]);
    refuses("xyzzy 8pm", &["`xyzzy` is not a day or a time", "`mon,wed,fri`"]);
    refuses("weekly 8pm", &["`sundays at 8pm`"]);
    refuses("every", &["`every day at 9`"]);
    refuses("mon - 9pm", &["joins two days", "`mon-fri`"]);
    refuses("mon-", &["joins two days"]);
}

#[test]
fn intervals_are_refused_not_misread_as_times() {
    refuses("every 2 days", &["interval", "`mon,wed,fri 8pm`"]);
    refuses("every other day at 9", &["interval"]);
    refuses("every 3 hours", &["interval"]);
}

#[test]
fn the_spec_refusal_leads_with_friendly_examples() {
    let err = ScheduleError::Spec("x".into()).to_string();
    let at = |s: &str| err.find(s).unwrap_or_else(|| panic!("{s} in {err}"));
    assert!(at("`daily 8pm`") < at("`weekdays 21:00`"));
    assert!(at("`weekdays 21:00`") < at("`mon,wed,fri 07:15`"));
    assert!(at("`mon,wed,fri 07:15`") < at("`every day at 9`"));
    assert!(at("`every day at 9`") < at("crontab"));
    // Every example in it is a spec.
    for example in err.split('`').skip(1).step_by(2) {
        assert!(example.parse::<Spec>().is_ok(), "{example}");
    }
}

#[test]
fn zones_in_any_case_with_spaces_or_by_city() {
    let zone = |s: &str| parse_zone(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).name();
    for (typed, want) in [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("EUROPE/PARIS", "Europe/Paris"),
        ("  Europe / Paris ", "Europe/Paris"),
        ("america/new york", "America/New_York"),
        ("America/New_York", "America/New_York"),
        ("america/los-angeles", "America/Los_Angeles"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "GMT"),
        ("gmt", "GMT"),
        ("utc+0", "UTC"),
        ("paris", "Europe/Paris"),
        ("Paris", "Europe/Paris"),
        ("new york", "America/New_York"),
        ("New_York", "America/New_York"),
        ("tokyo", "Asia/Tokyo"),
        ("london", "Europe/London"),
        ("kolkata", "Asia/Kolkata"),
        ("sao paulo", "America/Sao_Paulo"),
        ("port au prince", "America/Port-au-Prince"),
        ("argentina/cordoba", "America/Argentina/Cordoba"),
        // Aliases of one zone are one zone: tzdb's own name.
        ("indianapolis", "America/Indiana/Indianapolis"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("istanbul", "Europe/Istanbul"),
        // Names chrono_tz knows that do follow a place's clock.
        ("US/Eastern", "US/Eastern"),
        ("Asia/Calcutta", "Asia/Calcutta"),
        ("hawaii", "US/Hawaii"),
        ("Japan", "Japan"),
    ] {
        assert_eq!(zone(typed), want, "{typed:?}");
    }
}

#[test]
fn every_zone_mend_accepts_reads_back_as_itself() {
    for tz in chrono_tz::TZ_VARIANTS {
        if let Ok(parsed) = parse_zone(tz.name()) {
            assert_eq!(parsed, tz);
            assert_eq!(parse_zone(&tz.name().to_lowercase()), Ok(tz));
            assert_eq!(parse_zone(&tz.name().replace('_', " ")), Ok(tz));
        }
    }
}

#[track_caller]
fn zone_refused(typed: &str, needles: &[&str]) {
    let err = parse_zone(typed).expect_err(typed);
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{typed:?}: {text}");
    }
    assert!(!text.contains('\n'), "one line: {text}");
    // Every zone it names is one mend takes.
    for name in text.split('`').skip(3).step_by(2) {
        assert!(parse_zone(name).is_ok(), "{typed:?} suggests {name}");
    }
}

#[test]
fn abbreviations_and_fixed_offsets_are_refused_with_the_places_to_use() {
    zone_refused("EST", &["`EST`", "summer time", "`America/New_York` or `America/Toronto`"]);
    zone_refused("est", &["`America/New_York`"]);
    zone_refused("EDT", &["`America/New_York`"]);
    zone_refused("EST5EDT", &["`America/New_York`"]);
    zone_refused("MST", &["`America/Denver`", "`America/Phoenix`"]);
    zone_refused("MST7MDT", &["`America/Denver`"]);
    zone_refused("MDT", &["`America/Denver`"]);
    zone_refused("HST", &["`Pacific/Honolulu`"]);
    zone_refused("CST", &["`America/Chicago`", "`Asia/Shanghai`"]);
    zone_refused("CDT", &["`America/Chicago`"]);
    zone_refused("CST6CDT", &["`America/Chicago`"]);
    zone_refused("PST", &["`America/Los_Angeles`"]);
    zone_refused("PDT", &["`America/Los_Angeles`"]);
    zone_refused("PST8PDT", &["`America/Los_Angeles`"]);
    zone_refused("BST", &["`Europe/London`"]);
    zone_refused("IST", &["`Asia/Kolkata`, `Europe/Dublin` or `Asia/Jerusalem`"]);
    zone_refused("CET", &["`Europe/Paris`", "`Europe/Berlin`"]);
    zone_refused("CEST", &["`Europe/Paris`"]);
    zone_refused("MET", &["`Europe/Paris`"]);
    zone_refused("EET", &["`Europe/Athens`"]);
    zone_refused("WET", &["`Europe/Lisbon`"]);
    zone_refused("AEST", &["`Australia/Sydney`"]);
    zone_refused("Eastern", &["`America/New_York`"]);
    zone_refused("pacific", &["`America/Los_Angeles`"]);
    zone_refused("UTC+2", &["`UTC+2`", "`Europe/Athens`"]);
    zone_refused("UTC+1", &["`Europe/Paris`"]);
    zone_refused("GMT-5", &["`America/New_York`"]);
    zone_refused("utc +05:30", &["`Asia/Kolkata`"]);
    zone_refused("Etc/GMT+5", &["`America/New_York`"]);
    zone_refused("Etc/GMT-1", &["`Europe/Paris`"]);
    assert!(matches!(parse_zone("EST"), Err(ScheduleError::ZoneNotAPlace { .. })));
    assert!(matches!(Schedule::parse("daily 20:00", "EST"), Err(ScheduleError::ZoneNotAPlace { .. })));
}

#[test]
fn a_zone_typo_gets_the_closest_names() {
    zone_refused("Europe/Pariss", &["did you mean `Europe/Paris`?"]);
    zone_refused("europe/pari", &["did you mean `Europe/Paris`?"]);
    zone_refused("pari", &["`Europe/Paris`"]);
    zone_refused("tokio", &["did you mean `Asia/Tokyo`?"]);
    zone_refused("new yrok", &["`America/New_York`"]);
    zone_refused("Amercia/Chicago", &["`America/Chicago`"]);
    assert!(matches!(parse_zone("tokio"), Err(ScheduleError::ZoneTypo { .. })));
    // Nothing close: the usual examples.
    assert_eq!(parse_zone("Mars/Olympus"), Err(ScheduleError::Zone("Mars/Olympus".into())));
    assert_eq!(parse_zone("zz"), Err(ScheduleError::Zone("zz".into())));
}

#[test]
fn zone_suggestions_start_with_the_city_typed() {
    let refused = |name: &str| parse_zone(name).is_err();
    for partial in
        ["", "par", "PAR", "new y", "europe/", "america/new", "kol", "est", "pst", "utc+2", "tokio", "x", "a"]
    {
        let found = zone_suggestions(partial);
        assert!(found.len() <= 25, "{partial:?}: {}", found.len());
        for name in &found {
            assert!(!refused(name), "{partial:?} offers {name}");
        }
        let unique: std::collections::BTreeSet<_> = found.iter().collect();
        assert_eq!(unique.len(), found.len(), "{partial:?}: {found:?}");
    }
    assert_eq!(zone_suggestions("par")[0], "Europe/Paris");
    assert_eq!(zone_suggestions("PAR")[0], "Europe/Paris");
    assert_eq!(zone_suggestions("new y")[0], "America/New_York");
    assert_eq!(zone_suggestions("tok")[0], "Asia/Tokyo");
    assert_eq!(zone_suggestions("kol")[0], "Asia/Kolkata");
    assert!(zone_suggestions("europe/").iter().all(|n| n.starts_with("Europe/")));
    assert!(zone_suggestions("america/new").contains(&"America/New_York"));
    assert_eq!(zone_suggestions("est")[..2], ["America/New_York", "America/Toronto"]);
    assert!(zone_suggestions("tokio").contains(&"Asia/Tokyo"));
    assert!(zone_suggestions("").contains(&"Europe/London") && zone_suggestions("").contains(&"UTC"));
    for name in zone_suggestions("") {
        assert!(parse_zone(name).is_ok(), "{name}");
    }
    // The city comes before a name that only contains the text.
    let pa = zone_suggestions("pa");
    let paris = pa.iter().position(|n| *n == "Europe/Paris").expect("Paris");
    assert!(pa[..paris].iter().all(|n| n.rsplit('/').next().unwrap().to_lowercase().starts_with("pa")), "{pa:?}");
    assert!(!zone_suggestions("e").iter().any(|n| ["EST", "EET", "EST5EDT"].contains(n)));
}

#[test]
fn zone_lists_are_real_zones() {
    for (_, zones) in NOT_A_PLACE {
        for z in *zones {
            assert!(parse_zone(z).is_ok(), "{z}");
        }
    }
    for z in POPULAR_ZONES.iter().chain(MORE_ZONES.iter()) {
        assert!(parse_zone(z).is_ok(), "{z}");
    }
}

#[test]
fn edit_distance_counts_edits() {
    assert_eq!(edit_distance("", ""), 0);
    assert_eq!(edit_distance("paris", "paris"), 0);
    assert_eq!(edit_distance("pari", "paris"), 1);
    assert_eq!(edit_distance("tokio", "tokyo"), 1);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
}

#[test]
fn a_zone_stored_before_the_refusals_still_reads() {
    assert_eq!(parse_stored_zone("EST"), Some(chrono_tz::EST));
    assert_eq!(parse_stored_zone("Europe/Paris"), Some(chrono_tz::Europe::Paris));
    assert_eq!(parse_stored_zone("paris"), Some(chrono_tz::Europe::Paris));
    assert_eq!(parse_stored_zone("Mars/Olympus"), None);
    let s = Schedule::parse_stored("daily 08:30", "CST6CDT").unwrap();
    assert_eq!(s.tz(), chrono_tz::CST6CDT);
    assert!(Schedule::parse("daily 08:30", "CST6CDT").is_err());
}
