//! Business time (DEC-5): calendars of opening hours in a time zone, closed on French public
//! holidays, and the round-the-clock calendar. Deadlines "in N business hours" are computed
//! here: adding business time to an instant, measuring business time between two instants,
//! finding the next opening. Every operation works on instants (UTC) and converts to local
//! time per day, so 23- and 25-hour days come out right; local times that fall in a spring
//! gap or an autumn fold are resolved by one stated rule (see [`resolve_local`]).

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The instant of UTC epoch milliseconds `ms` for jiff's date arithmetic, which stays inside
/// this module: everywhere else an instant is `i64` milliseconds. An instant beyond jiff's
/// range (years −9999 to 9999) is taken at that range's edge.
fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The wall-clock time in `zone` of the instant `ms` (UTC epoch milliseconds), for what is
/// written or counted by local date; None beyond the dates jiff handles. With [`resolve_local`]
/// (local time to instant) it is the one place an instant meets a time zone.
pub fn zoned(ms: i64, zone: &TimeZone) -> Option<jiff::Zoned> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned(zone.clone()))
}

/// Whether `ms` is an instant the calendars can count from (years −9999 to 9999).
pub fn in_range(ms: i64) -> bool {
    Timestamp::from_millisecond(ms).is_ok()
}

/// Serde for an instant kept as RFC 3339 text in a stored record (`2026-03-03T09:00:00Z`),
/// held as `i64` milliseconds in the code: the records written before instants were
/// milliseconds everywhere read and write as they did.
pub mod rfc3339_ms {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        super::timestamp(*ms).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        Timestamp::deserialize(deserializer).map(|t| t.as_millisecond())
    }
}

/// How far ahead an opening is searched before a calendar is declared never open: ten years,
/// far beyond the longest deadline (366 days of business time is about 3.4 years).
pub const MAX_SEARCH_DAYS: i32 = 3660;

/// Which public holidays close the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holidays {
    None,
    /// Mainland France: 1 January, Easter Monday, 1 May, 8 May, Ascension, Whit Monday,
    /// 14 July, 15 August, 1 November, 11 November, 25 December.
    France,
    /// France plus Good Friday and 26 December (Alsace and Moselle).
    AlsaceMoselle,
}

/// Opening windows of each weekday (Monday first), each `[start, end)` within the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<(Time, Time)>; 7],
}

impl WeeklyHours {
    /// Monday to Friday, 08:00–18:00 (DEC-5).
    pub fn office() -> WeeklyHours {
        let day = vec![(Time::constant(8, 0, 0, 0), Time::constant(18, 0, 0, 0))];
        WeeklyHours {
            days: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                vec![],
                vec![],
            ],
        }
    }

    /// Builds weekly hours from windows per weekday; windows must not be empty, overlap or
    /// cross midnight, and at least one must exist.
    pub fn new(windows: Vec<(Weekday, Time, Time)>) -> Result<WeeklyHours, CalendarError> {
        let mut days: [Vec<(Time, Time)>; 7] = Default::default();
        for (weekday, start, end) in windows {
            if end <= start {
                return Err(CalendarError::Invalid(format!(
                    "plage horaire vide ou à l'envers : {start} – {end}"
                )));
            }
            days[weekday.to_monday_zero_offset() as usize].push((start, end));
        }
        for day in &mut days {
            day.sort();
            if day.windows(2).any(|pair| pair[1].0 < pair[0].1) {
                return Err(CalendarError::Invalid(
                    "deux plages horaires d'un même jour se chevauchent".into(),
                ));
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err(CalendarError::Invalid(
                "le calendrier n'a aucune plage d'ouverture".into(),
            ));
        }
        Ok(WeeklyHours { days })
    }

    fn on(&self, weekday: Weekday) -> &[(Time, Time)] {
        &self.days[weekday.to_monday_zero_offset() as usize]
    }
}

/// What makes a calendar open.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Round the clock: every instant is open.
    Always,
    Business {
        hours: WeeklyHours,
        holidays: Holidays,
        closed_days: BTreeSet<Date>,
    },
}

/// A named calendar in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub name: String,
    pub time_zone: TimeZone,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendrier invalide : {0}")]
    Invalid(String),
    #[error("le calendrier « {0} » n'ouvre jamais dans les dix ans qui suivent")]
    NeverOpens(String),
    #[error("durée négative")]
    NegativeDuration,
    #[error("instant hors des dates gérées")]
    OutOfRange,
}

/// The names of the built-in calendars.
pub const BUSINESS: &str = "business";
pub const BUSINESS_ALSACE_MOSELLE: &str = "business-alsace-moselle";
pub const ALWAYS: &str = "always";

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").expect("Europe/Paris is in the bundled database")
}

impl Calendar {
    /// Mainland France business hours: Monday–Friday 08:00–18:00 Europe/Paris, public
    /// holidays closed (DEC-5).
    pub fn business() -> Calendar {
        Calendar {
            name: BUSINESS.into(),
            time_zone: paris(),
            rule: Rule::Business {
                hours: WeeklyHours::office(),
                holidays: Holidays::France,
                closed_days: BTreeSet::new(),
            },
        }
    }

    /// The same with Alsace-Moselle's two extra holidays.
    pub fn business_alsace_moselle() -> Calendar {
        Calendar {
            name: BUSINESS_ALSACE_MOSELLE.into(),
            time_zone: paris(),
            rule: Rule::Business {
                hours: WeeklyHours::office(),
                holidays: Holidays::AlsaceMoselle,
                closed_days: BTreeSet::new(),
            },
        }
    }

    /// Round the clock (24/7 contracts), shown in Europe/Paris.
    pub fn always() -> Calendar {
        Calendar {
            name: ALWAYS.into(),
            time_zone: paris(),
            rule: Rule::Always,
        }
    }

    /// The local date of an instant in this calendar's time zone.
    pub fn local_date(&self, at_ms: i64) -> Date {
        self.date_of(timestamp(at_ms))
    }

    fn date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.time_zone.clone()).date()
    }

    /// Why `date` is closed all day, if it is (a holiday's French name, or an extra closed day).
    pub fn closed_reason(&self, date: Date) -> Option<String> {
        match &self.rule {
            Rule::Always => None,
            Rule::Business {
                holidays,
                closed_days,
                ..
            } => {
                let names: Vec<&str> = holidays_of(*holidays, date.year())
                    .into_iter()
                    .filter(|(d, _)| *d == date)
                    .map(|(_, name)| name)
                    .collect();
                if !names.is_empty() {
                    Some(names.join(", "))
                } else if closed_days.contains(&date) {
                    Some("jour de fermeture".into())
                } else {
                    None
                }
            }
        }
    }

    /// The days of `year` this calendar is closed all day for a holiday or an extra closed
    /// day, with their French names (weekends are not listed).
    pub fn closed_days(&self, year: i16) -> Vec<(Date, String)> {
        let Rule::Business {
            holidays,
            closed_days,
            ..
        } = &self.rule
        else {
            return Vec::new();
        };
        let mut days: Vec<(Date, String)> = Vec::new();
        for (date, name) in holidays_of(*holidays, year) {
            match days.iter_mut().find(|(d, _)| *d == date) {
                Some((_, names)) => {
                    names.push_str(", ");
                    names.push_str(name);
                }
                None => days.push((date, name.to_string())),
            }
        }
        for date in closed_days.iter().filter(|d| d.year() == year) {
            if !days.iter().any(|(d, _)| d == date) {
                days.push((*date, "jour de fermeture".into()));
            }
        }
        days.sort_by_key(|(date, _)| *date);
        days
    }

    /// The open intervals `[start, end)` of one local date, as instants, in order.
    fn open_intervals(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        let Rule::Business { hours, .. } = &self.rule else {
            return vec![(
                self.start_of_day(date),
                self.start_of_day(date.tomorrow().unwrap_or(date)),
            )];
        };
        if self.closed_reason(date).is_some() {
            return Vec::new();
        }
        hours
            .on(date.weekday())
            .iter()
            .filter_map(|(start, end)| {
                let start = resolve_local_at(&self.time_zone, date.to_datetime(*start)).0;
                let end = resolve_local_at(&self.time_zone, date.to_datetime(*end)).0;
                (start < end).then_some((start, end))
            })
            .collect()
    }

    fn start_of_day(&self, date: Date) -> Timestamp {
        resolve_local_at(&self.time_zone, date.to_datetime(Time::midnight())).0
    }

    /// Whether the calendar is open at `at_ms`.
    pub fn is_open(&self, at_ms: i64) -> bool {
        let at = timestamp(at_ms);
        match self.rule {
            Rule::Always => true,
            Rule::Business { .. } => self
                .open_intervals(self.date_of(at))
                .iter()
                .any(|(start, end)| *start <= at && at < *end),
        }
    }

    /// The first open instant at or after `at_ms`.
    pub fn next_opening(&self, at_ms: i64) -> Result<i64, CalendarError> {
        self.next_opening_at(timestamp(at_ms))
            .map(|t| t.as_millisecond())
    }

    fn next_opening_at(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        if self.rule == Rule::Always {
            return Ok(at);
        }
        let mut date = self.date_of(at);
        for _ in 0..MAX_SEARCH_DAYS {
            if let Some((start, _)) = self
                .open_intervals(date)
                .into_iter()
                .find(|(_, end)| *end > at)
            {
                return Ok(start.max(at));
            }
            date = date.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
        }
        Err(CalendarError::NeverOpens(self.name.clone()))
    }

    /// The instant when `duration` of open time has elapsed from `start`. Time before the next
    /// opening does not count; a deadline that ends exactly at closing time is that closing
    /// time (not the next morning). Round the clock, this is plain elapsed time.
    pub fn add(&self, start_ms: i64, duration: SignedDuration) -> Result<i64, CalendarError> {
        self.add_at(timestamp(start_ms), duration)
            .map(|t| t.as_millisecond())
    }

    fn add_at(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if duration.is_negative() {
            return Err(CalendarError::NegativeDuration);
        }
        if self.rule == Rule::Always {
            return start
                .checked_add(duration)
                .map_err(|_| CalendarError::OutOfRange);
        }
        let mut remaining = duration;
        let mut date = self.date_of(start);
        for _ in 0..MAX_SEARCH_DAYS {
            for (open, close) in self.open_intervals(date) {
                if close <= start {
                    continue;
                }
                let from = open.max(start);
                let available = close.duration_since(from);
                if remaining <= available {
                    return if remaining.is_zero() {
                        Ok(from)
                    } else {
                        from.checked_add(remaining)
                            .map_err(|_| CalendarError::OutOfRange)
                    };
                }
                remaining -= available;
            }
            date = date.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
        }
        Err(CalendarError::NeverOpens(self.name.clone()))
    }

    /// "Within N business days": the closing time of the N-th open day after the local date of
    /// `start` (that date itself does not count, open or not). Round the clock, N × 24 h.
    pub fn add_open_days(&self, start_ms: i64, days: u32) -> Result<i64, CalendarError> {
        let start = timestamp(start_ms);
        if self.rule == Rule::Always {
            return start
                .checked_add(SignedDuration::from_hours(24 * i64::from(days)))
                .map(|t| t.as_millisecond())
                .map_err(|_| CalendarError::OutOfRange);
        }
        if days == 0 {
            return Ok(start_ms);
        }
        let mut date = self.date_of(start);
        let mut counted = 0;
        for _ in 0..MAX_SEARCH_DAYS {
            date = date.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
            if let Some((_, close)) = self.open_intervals(date).last() {
                counted += 1;
                if counted == days {
                    return Ok(close.as_millisecond());
                }
            }
        }
        Err(CalendarError::NeverOpens(self.name.clone()))
    }

    /// Open time between `from_ms` and `to_ms` (zero when `to_ms` is not after `from_ms`).
    pub fn elapsed(&self, from_ms: i64, to_ms: i64) -> SignedDuration {
        let (from, to) = (timestamp(from_ms), timestamp(to_ms));
        if to <= from {
            return SignedDuration::ZERO;
        }
        if self.rule == Rule::Always {
            return to.duration_since(from);
        }
        let mut total = SignedDuration::ZERO;
        let mut date = self.date_of(from);
        let last = self.date_of(to);
        while date <= last {
            for (open, close) in self.open_intervals(date) {
                let start = open.max(from);
                let end = close.min(to);
                if end > start {
                    total += end.duration_since(start);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// `at_ms` written RFC 3339 with seconds and this calendar's UTC offset at that instant
    /// (`2026-05-15T11:00:00+02:00`).
    pub fn format(&self, at_ms: i64) -> String {
        timestamp(at_ms)
            .to_zoned(self.time_zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }
}

/// How a local time was turned into an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalResolution {
    /// It exists once.
    Unique,
    /// It falls in the spring gap (does not exist): moved forward by the gap's length, as
    /// clocks were (02:30 becomes 03:30 in Paris).
    InGap,
    /// It happens twice (autumn fold): the first occurrence, still in summer time.
    InFold,
}

impl fmt::Display for LocalResolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LocalResolution::Unique => "heure locale sans ambiguïté",
            LocalResolution::InGap => "heure locale inexistante (passage à l'heure d'été) : avancée de la durée du saut",
            LocalResolution::InFold => "heure locale ambiguë (passage à l'heure d'hiver) : première occurrence, à l'heure d'été",
        })
    }
}

/// The one rule for local times that do not name exactly one instant: in a gap, move forward
/// by the gap; in a fold, take the earlier occurrence ("compatible" disambiguation, RFC 5545).
pub fn resolve_local(time_zone: &TimeZone, local: DateTime) -> (i64, LocalResolution) {
    let (instant, resolution) = resolve_local_at(time_zone, local);
    (instant.as_millisecond(), resolution)
}

fn resolve_local_at(time_zone: &TimeZone, local: DateTime) -> (Timestamp, LocalResolution) {
    let ambiguous = time_zone.to_ambiguous_timestamp(local);
    let resolution = match ambiguous.offset() {
        jiff::tz::AmbiguousOffset::Unambiguous { .. } => LocalResolution::Unique,
        jiff::tz::AmbiguousOffset::Gap { .. } => LocalResolution::InGap,
        jiff::tz::AmbiguousOffset::Fold { .. } => LocalResolution::InFold,
    };
    let instant = ambiguous
        .compatible()
        .expect("compatible disambiguation always yields an instant within jiff's range");
    (instant, resolution)
}

/// Reads an instant: RFC 3339 with an offset or `Z` (`2026-05-15T09:30:00+02:00`), or a local
/// date and time without offset (`2026-10-25T02:30:00`, seconds optional) read in
/// `time_zone` by [`resolve_local`].
pub fn parse_instant(text: &str, time_zone: &TimeZone) -> Result<(i64, LocalResolution), String> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok((instant.as_millisecond(), LocalResolution::Unique));
    }
    match text.parse::<DateTime>() {
        Ok(local) => Ok(resolve_local(time_zone, local)),
        Err(_) => Err(format!(
            "instant invalide : « {text} » (attendu : 2026-05-15T09:30:00+02:00, 2026-05-15T07:30:00Z ou une heure locale 2026-05-15T09:30)"
        )),
    }
}

/// Easter Sunday of a Gregorian year (Meeus/Jones/Butcher algorithm).
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8).expect("Easter is a valid date")
}

fn shifted(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .expect("holidays stay within the year")
}

/// The public holidays of a year, with their French names, in date order (two holidays may
/// share a date, as Ascension and 1 May in 2008).
pub fn holidays_of(holidays: Holidays, year: i16) -> Vec<(Date, &'static str)> {
    if holidays == Holidays::None || !(1583..=9998).contains(&year) {
        return Vec::new();
    }
    let fixed =
        |month: i8, day: i8| Date::new(year, month, day).expect("fixed holidays are valid dates");
    let easter = easter_sunday(year);
    let mut days = vec![
        (fixed(1, 1), "Jour de l'an"),
        (shifted(easter, 1), "Lundi de Pâques"),
        (fixed(5, 1), "Fête du Travail"),
        (fixed(5, 8), "Victoire 1945"),
        (shifted(easter, 39), "Ascension"),
        (shifted(easter, 50), "Lundi de Pentecôte"),
        (fixed(7, 14), "Fête nationale"),
        (fixed(8, 15), "Assomption"),
        (fixed(11, 1), "Toussaint"),
        (fixed(11, 11), "Armistice 1918"),
        (fixed(12, 25), "Noël"),
    ];
    if holidays == Holidays::AlsaceMoselle {
        days.push((shifted(easter, -2), "Vendredi saint"));
        days.push((fixed(12, 26), "Saint-Étienne"));
    }
    // Stable: two holidays on one date keep the order above.
    days.sort_by_key(|(date, _)| *date);
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        assert_eq!(easter_sunday(2024), jiff::civil::date(2024, 3, 31));
        assert_eq!(easter_sunday(2026), jiff::civil::date(2026, 4, 5));
        assert_eq!(easter_sunday(2038), jiff::civil::date(2038, 4, 25));
        assert_eq!(easter_sunday(2285), jiff::civil::date(2285, 3, 22));
    }
}
