//! The periods a report covers: a calendar month in a site's time zone (local midnight of the
//! 1st to local midnight of the next month's 1st, so 745 hours in a Paris October and 743 in
//! a Paris March) and its local days (23, 24 or 25 hours), or any interval asked on demand.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::ReportError;
use crate::calendar::resolve_local;
use crate::french::MONTH_NAMES;

/// The longest period a report covers: a year and a bit, so that a yearly report on demand
/// fits and nothing walks an unbounded number of days.
pub const MAX_PERIOD_DAYS: i64 = 400;

/// A day in milliseconds (24 hours of real time).
pub const DAY_MS: i64 = 86_400_000;

/// The first and last years a month may be written with (four digits, and a month before and
/// after it still within the calendar's range).
pub const MIN_YEAR: i16 = 1000;
pub const MAX_YEAR: i16 = 9998;

/// A calendar month, `2026-11`. Its instants depend on a time zone, given when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    month: i8,
}

impl Month {
    /// The month `month` (1 to 12) of `year` ([`MIN_YEAR`] to [`MAX_YEAR`]).
    pub fn new(year: i16, month: i8) -> Result<Month, ReportError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return Err(ReportError::InvalidMonth(format!("{year:04}-{month:02}")));
        }
        Ok(Month { year, month })
    }

    /// Reads `AAAA-MM` (`2026-11`).
    pub fn parse(text: &str) -> Result<Month, ReportError> {
        let invalid = || ReportError::InvalidMonth(crate::text::shorten(text, 40));
        let trimmed = text.trim();
        let (year, month) = trimmed.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4
            || month.len() != 2
            || !year
                .bytes()
                .chain(month.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let year = year.parse::<i16>().map_err(|_| invalid())?;
        let month = month.parse::<i8>().map_err(|_| invalid())?;
        Month::new(year, month).map_err(|_| invalid())
    }

    /// The month of the local date of `at_ms` in `zone`, if the instant is a date at all.
    pub fn containing(at_ms: i64, zone: &TimeZone) -> Option<Month> {
        let date = crate::calendar::zoned(at_ms, zone)?.date();
        Month::new(date.year(), date.month()).ok()
    }

    pub fn year(self) -> i16 {
        self.year
    }

    /// 1 for January to 12 for December.
    pub fn month(self) -> i8 {
        self.month
    }

    /// The month before (the first month of [`MIN_YEAR`] is its own previous: the range ends).
    pub fn previous(self) -> Month {
        match (self.year, self.month) {
            (MIN_YEAR, 1) => self,
            (year, 1) => Month {
                year: year - 1,
                month: 12,
            },
            (year, month) => Month {
                year,
                month: month - 1,
            },
        }
    }

    /// The month after (the last month of [`MAX_YEAR`] is its own next).
    pub fn next(self) -> Month {
        match (self.year, self.month) {
            (MAX_YEAR, 12) => self,
            (year, 12) => Month {
                year: year + 1,
                month: 1,
            },
            (year, month) => Month {
                year,
                month: month + 1,
            },
        }
    }

    /// In French: « novembre 2026 ».
    pub fn label(self) -> String {
        format!("{} {}", MONTH_NAMES[(self.month - 1) as usize], self.year)
    }

    /// The 1st of the month.
    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).expect("a checked month has a first day")
    }

    /// The month's instants in `zone`: local midnight of the 1st to local midnight of the next
    /// month's 1st, UTC epoch ms.
    pub fn bounds(self, zone: &TimeZone) -> (i64, i64) {
        let end = match (self.year, self.month) {
            (year, 12) => Date::new(year + 1, 1, 1),
            (year, month) => Date::new(year, month + 1, 1),
        }
        .expect("the month after a checked month exists");
        (
            local_midnight(zone, self.first_day()),
            local_midnight(zone, end),
        )
    }

    /// The month as a [`Period`] in `zone`.
    pub fn period(self, zone: &TimeZone) -> Period {
        let (from, to) = self.bounds(zone);
        Period { from, to }
    }

    /// The month's local days in `zone`, each from its local midnight to the next one (23, 24
    /// or 25 hours), in order, touching each other.
    pub fn days(self, zone: &TimeZone) -> Vec<(i64, i64)> {
        self.period(zone).days(zone)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = ReportError;
    fn from_str(text: &str) -> Result<Month, ReportError> {
        Month::parse(text)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Month, D::Error> {
        let text = String::deserialize(deserializer)?;
        Month::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Any interval a report covers, `[from, to)` in UTC epoch ms, not empty and at most
/// [`MAX_PERIOD_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    from: i64,
    to: i64,
}

impl Period {
    pub fn new(from: i64, to: i64) -> Result<Period, ReportError> {
        if to <= from {
            return Err(ReportError::InvalidPeriod(
                "la fin doit suivre le début".into(),
            ));
        }
        // A day more than the bound for the hour summer time may add to a year of local days.
        if to - from > MAX_PERIOD_DAYS * DAY_MS + DAY_MS {
            return Err(ReportError::InvalidPeriod(format!(
                "{MAX_PERIOD_DAYS} jours au plus"
            )));
        }
        if !crate::calendar::in_range(from) || !crate::calendar::in_range(to) {
            return Err(ReportError::InvalidPeriod(
                "instants hors des dates gérées".into(),
            ));
        }
        Ok(Period { from, to })
    }

    pub fn from(self) -> i64 {
        self.from
    }

    pub fn to(self) -> i64 {
        self.to
    }

    pub fn length_ms(self) -> i64 {
        self.to - self.from
    }

    /// The local days of `zone` the period touches, each clipped to the period, in order.
    pub fn days(self, zone: &TimeZone) -> Vec<(i64, i64)> {
        let mut days = Vec::new();
        let Some(start) = crate::calendar::zoned(self.from, zone) else {
            return days;
        };
        let mut date = start.date();
        let mut day_start = local_midnight(zone, date);
        // Bounded by the period's length: a local day lasts at least 23 hours on Earth's zones.
        for _ in 0..=MAX_PERIOD_DAYS + 2 {
            let Ok(next) = date.tomorrow() else { break };
            let day_end = local_midnight(zone, next);
            let (from, to) = (day_start.max(self.from), day_end.min(self.to));
            if from < to {
                days.push((from, to));
            }
            if day_end >= self.to {
                break;
            }
            date = next;
            day_start = day_end;
        }
        days
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Period, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            from: i64,
            to: i64,
        }
        let raw = Raw::deserialize(deserializer)?;
        Period::new(raw.from, raw.to).map_err(serde::de::Error::custom)
    }
}

/// The instant a local date starts in `zone`: its midnight, or the first instant after a gap
/// that swallows midnight (the calendar's one rule).
fn local_midnight(zone: &TimeZone, date: Date) -> i64 {
    resolve_local(zone, date.to_datetime(Time::midnight())).0
}
