//! Business time (DEC-5): named cases from the procedures' calendar, an independent holiday
//! oracle, and properties over many years, DST changes included.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use vigie_domain::calendar::{self, Calendar, Holidays, LocalResolution, parse_instant};

/// An instant written RFC 3339, as the calendars take it: UTC epoch milliseconds.
fn at(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn minutes(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// `calendar.add(from, duration)` written with the calendar's offset.
fn due(calendar: &Calendar, from: &str, duration: SignedDuration) -> String {
    calendar.format(calendar.add(at(from), duration).unwrap())
}

#[test]
fn ascension_is_closed() {
    // Wednesday 13 May 2026 17:00 + 4 business hours: 1 h on Wednesday, Thursday 14 is
    // Ascension, 3 h on Friday morning.
    assert_eq!(
        due(&Calendar::business(), "2026-05-13T17:00:00+02:00", hours(4)),
        "2026-05-15T11:00:00+02:00"
    );
}

#[test]
fn whit_monday_is_closed() {
    assert_eq!(
        due(&Calendar::business(), "2026-05-22T16:00:00+02:00", hours(4)),
        "2026-05-26T10:00:00+02:00"
    );
}

#[test]
fn easter_monday_is_closed() {
    assert_eq!(
        due(&Calendar::business(), "2026-04-03T17:30:00+02:00", hours(1)),
        "2026-04-07T08:30:00+02:00"
    );
    // Good Friday is open in mainland France, closed in Alsace-Moselle.
    assert_eq!(
        due(&Calendar::business(), "2026-04-02T17:00:00+02:00", hours(2)),
        "2026-04-03T09:00:00+02:00"
    );
    assert_eq!(
        due(
            &Calendar::business_alsace_moselle(),
            "2026-04-02T17:00:00+02:00",
            hours(2)
        ),
        "2026-04-07T09:00:00+02:00"
    );
}

#[test]
fn eleventh_of_november_is_closed() {
    // Wednesday 11 November 2026.
    assert_eq!(
        due(&Calendar::business(), "2026-11-10T17:00:00+01:00", hours(2)),
        "2026-11-12T09:00:00+01:00"
    );
}

#[test]
fn christmas_eve_into_the_weekend() {
    // Thursday 24 December 2026 is worked; Friday 25 is Christmas; then the weekend.
    assert_eq!(
        due(&Calendar::business(), "2026-12-24T17:00:00+01:00", hours(2)),
        "2026-12-28T09:00:00+01:00"
    );
    // In Alsace-Moselle 26 December is closed too: 2027's falls on a Sunday, 2025's on a Friday.
    assert_eq!(
        due(
            &Calendar::business_alsace_moselle(),
            "2025-12-24T17:00:00+01:00",
            hours(2)
        ),
        "2025-12-29T09:00:00+01:00"
    );
    assert_eq!(
        due(&Calendar::business(), "2025-12-24T17:00:00+01:00", hours(2)),
        "2025-12-26T09:00:00+01:00"
    );
}

#[test]
fn friday_evening_before_each_dst_change() {
    let business = Calendar::business();
    // Spring: clocks go forward on Sunday 29 March 2026; the deadline is on Monday, in summer time.
    assert_eq!(
        due(&business, "2026-03-27T17:00:00+01:00", hours(2)),
        "2026-03-30T09:00:00+02:00"
    );
    // Autumn: clocks go back on Sunday 25 October 2026.
    assert_eq!(
        due(&business, "2026-10-23T17:00:00+02:00", hours(2)),
        "2026-10-26T09:00:00+01:00"
    );
    // Round the clock counts real elapsed time: 48 h over the 23-hour Sunday ends an hour later
    // on the wall clock, over the 25-hour Sunday an hour earlier.
    let always = Calendar::always();
    assert_eq!(
        due(&always, "2026-03-27T20:00:00+01:00", hours(48)),
        "2026-03-29T21:00:00+02:00"
    );
    assert_eq!(
        due(&always, "2026-10-23T20:00:00+02:00", hours(48)),
        "2026-10-25T19:00:00+01:00"
    );
    // The business time elapsed over those weekends is exactly the two hours.
    assert_eq!(
        business.elapsed(
            at("2026-03-27T17:00:00+01:00"),
            at("2026-03-30T09:00:00+02:00")
        ),
        hours(2)
    );
    assert_eq!(
        business.elapsed(
            at("2026-10-23T17:00:00+02:00"),
            at("2026-10-26T09:00:00+01:00")
        ),
        hours(2)
    );
}

#[test]
fn the_autumn_fold_at_half_past_two() {
    let paris = Calendar::always().time_zone;
    // 02:30 happens twice on 25 October 2026: the first occurrence, in summer time, is taken.
    let (instant, resolution) = parse_instant("2026-10-25T02:30:00", &paris).unwrap();
    assert_eq!(resolution, LocalResolution::InFold);
    assert_eq!(instant, at("2026-10-25T00:30:00Z"));
    let always = Calendar::always();
    assert_eq!(
        always.format(always.add(instant, hours(1)).unwrap()),
        "2026-10-25T02:30:00+01:00"
    );
    // With an explicit offset there is no ambiguity.
    assert_eq!(
        due(&always, "2026-10-25T02:30:00+01:00", minutes(30)),
        "2026-10-25T03:00:00+01:00"
    );
    // In the spring gap, 02:30 does not exist: it is read as 03:30 summer time.
    let (instant, resolution) = parse_instant("2026-03-29T02:30", &paris).unwrap();
    assert_eq!(resolution, LocalResolution::InGap);
    assert_eq!(always.format(instant), "2026-03-29T03:30:00+02:00");
}

#[test]
fn a_start_on_saturday_counts_from_monday_morning() {
    let business = Calendar::business();
    assert_eq!(
        due(&business, "2026-05-16T10:00:00+02:00", minutes(30)),
        "2026-05-18T08:30:00+02:00"
    );
    assert_eq!(
        business.format(
            business
                .next_opening(at("2026-05-16T10:00:00+02:00"))
                .unwrap()
        ),
        "2026-05-18T08:00:00+02:00"
    );
    // A deadline that ends at closing time is that closing time, not the next morning.
    assert_eq!(
        due(&business, "2026-05-18T17:30:00+02:00", minutes(30)),
        "2026-05-18T18:00:00+02:00"
    );
    // Zero business time from outside the hours is the next opening.
    assert_eq!(
        due(&business, "2026-05-18T19:00:00+02:00", SignedDuration::ZERO),
        "2026-05-19T08:00:00+02:00"
    );
}

#[test]
fn extra_closed_days_and_negative_durations() {
    let mut calendar = Calendar::business();
    if let calendar::Rule::Business { closed_days, .. } = &mut calendar.rule {
        closed_days.insert(jiff::civil::date(2026, 5, 15));
    }
    assert_eq!(
        due(&calendar, "2026-05-13T17:00:00+02:00", hours(4)),
        "2026-05-18T11:00:00+02:00"
    );
    assert!(
        calendar
            .closed_days(2026)
            .iter()
            .any(|(d, name)| *d == jiff::civil::date(2026, 5, 15) && name == "jour de fermeture")
    );
    assert_eq!(
        calendar.add(at("2026-05-13T17:00:00+02:00"), hours(-1)),
        Err(calendar::CalendarError::NegativeDuration)
    );
}

#[test]
fn holidays_have_french_names() {
    let names: Vec<String> = Calendar::business()
        .closed_days(2026)
        .into_iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    assert_eq!(
        names,
        [
            "2026-01-01 Jour de l'an",
            "2026-04-06 Lundi de Pâques",
            "2026-05-01 Fête du Travail",
            "2026-05-08 Victoire 1945",
            "2026-05-14 Ascension",
            "2026-05-25 Lundi de Pentecôte",
            "2026-07-14 Fête nationale",
            "2026-08-15 Assomption",
            "2026-11-01 Toussaint",
            "2026-11-11 Armistice 1918",
            "2026-12-25 Noël",
        ]
    );
    // Two holidays on one day are one closed day with both names.
    assert!(
        Calendar::business()
            .closed_days(2008)
            .iter()
            .any(|(d, n)| *d == jiff::civil::date(2008, 5, 1) && n == "Fête du Travail, Ascension")
    );
    assert!(Calendar::always().closed_days(2026).is_empty());
}

/// Vigie's holidays against python-holidays' (scripts/holiday-oracle.py), 1982–2100.
#[test]
fn holidays_match_an_independent_oracle() {
    let oracle = include_str!("data/holidays-oracle.txt");
    for (name, calendar) in [
        (calendar::BUSINESS, Calendar::business()),
        (
            calendar::BUSINESS_ALSACE_MOSELLE,
            Calendar::business_alsace_moselle(),
        ),
    ] {
        let mut compared = 0;
        for year in 1982..=2100i16 {
            // 2005–2007: Whit Monday was a worked "solidarity day" by law; Vigie applies the
            // rule in force since 2008 to every year.
            if (2005..=2007).contains(&year) {
                continue;
            }
            let expected: BTreeSet<Date> = oracle
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once(' '))
                .filter(|(date, cal)| *cal == name && date.starts_with(&year.to_string()))
                .map(|(date, _)| date.parse().unwrap())
                .collect();
            let ours: BTreeSet<Date> = calendar
                .closed_days(year)
                .into_iter()
                .map(|(d, _)| d)
                .collect();
            assert_eq!(ours, expected, "{name} {year}");
            compared += 1;
        }
        assert_eq!(compared, 116);
    }
    let _ = Holidays::France;
}

/// Instants from 1990 to 2100, at any minute (UTC epoch milliseconds).
fn instant() -> impl Strategy<Value = i64> {
    (631_152_000i64..4_102_444_800i64).prop_map(|s| (s - s % 60) * 1000)
}

fn calendars() -> impl Strategy<Value = Calendar> {
    prop_oneof![
        Just(Calendar::business()),
        Just(Calendar::business_alsace_moselle()),
        Just(Calendar::always())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adding_then_measuring_gives_back_the_duration(calendar in calendars(), start in instant(), minutes in 0i64..(200 * 60)) {
        let duration = SignedDuration::from_mins(minutes);
        let end = calendar.add(start, duration).unwrap();
        prop_assert!(end >= start);
        prop_assert_eq!(calendar.elapsed(start, end), duration);
        // The deadline is inside opening hours, or exactly at a closing time.
        if minutes > 0 {
            let just_before = end - 1000;
            prop_assert!(calendar.is_open(just_before));
        }
    }

    #[test]
    fn more_time_never_gives_an_earlier_deadline(calendar in calendars(), start in instant(), a in 0i64..6000, b in 0i64..6000) {
        let (short, long) = (a.min(b), a.max(b));
        prop_assert!(calendar.add(start, SignedDuration::from_mins(short)).unwrap() <= calendar.add(start, SignedDuration::from_mins(long)).unwrap());
    }

    #[test]
    fn elapsed_time_adds_up_and_never_exceeds_real_time(calendar in calendars(), a in instant(), b in 0i64..(90 * 86_400), c in 0i64..(90 * 86_400)) {
        let later = |seconds: i64| a + seconds * 1000;
        let mut points = [a, later(b), later(c)];
        points.sort();
        let [a, b, c] = points;
        let (ab, bc, ac) = (calendar.elapsed(a, b), calendar.elapsed(b, c), calendar.elapsed(a, c));
        prop_assert_eq!(ab + bc, ac);
        prop_assert!(ac <= SignedDuration::from_millis(c - a));
    }

    #[test]
    fn the_next_opening_is_open_and_not_before(calendar in calendars(), start in instant()) {
        let opening = calendar.next_opening(start).unwrap();
        prop_assert!(opening >= start);
        prop_assert!(calendar.is_open(opening));
        // Nothing is open in between.
        prop_assert_eq!(calendar.elapsed(start, opening), SignedDuration::ZERO);
    }

    #[test]
    fn business_days_are_ten_hours_whatever_the_season(year in 1990i16..2100, day_of_year in 1i16..366) {
        let business = Calendar::business();
        let Ok(date) = Date::new(year, 1, 1).unwrap().with().day_of_year(day_of_year).build() else { return Ok(()) };
        let start = calendar::resolve_local(&business.time_zone, date.at(0, 0, 0, 0)).0;
        let end = calendar::resolve_local(&business.time_zone, date.tomorrow().unwrap().at(0, 0, 0, 0)).0;
        let open = business.elapsed(start, end);
        let weekend = matches!(date.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday);
        let expected = if weekend || business.closed_reason(date).is_some() { SignedDuration::ZERO } else { SignedDuration::from_hours(10) };
        prop_assert_eq!(open, expected);
    }
}
