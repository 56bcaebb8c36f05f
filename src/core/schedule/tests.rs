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
