//! Maintenance windows (ALR-9): when a site's window covers an instant, when that cover ends,
//! and every occurrence of a window over a period (the monthly reports take maintenance out of
//! availability). A window opens on each of its days at its local start time, in the window's
//! time zone (else its site's), and closes at the local time its duration later, on the wall
//! clock: a window "Sunday 01:00, 4h" closes at 05:00 local time on the night summer time ends
//! too, so that night it lasts 5 real hours (and 3 on the night summer time starts). A start or
//! end that falls in a gap or a fold is read by the calendar's one rule ([`resolve_local`]).
//!
//! Beside the recurring windows of the inventory, a person opens one-off windows from the
//! console ([`OneOffWindow`]): a planned maintenance (its time is taken out of availability, as
//! a recurring window's) or a silence (notifications held, availability still measured), on a
//! whole site or one equipment, from an instant to an end, with a reason; either may be ended
//! before its end. Both kinds hold back the notification of the alarms they cover.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span};

use serde::{Deserialize, Serialize};

use crate::Reference;
use crate::calendar::resolve_local;
use crate::inventory::MaintenanceWindow;
use crate::policy::jiff_weekday;
use crate::values::Text;

/// How many local days back an occurrence may have started and still be open: a window lasts
/// at most 7 days (the inventory check), so one starting 8 days back has closed; a day more
/// covers the hour a time zone shift may add.
const LOOKBACK_DAYS: i64 = 8;

/// A window covering an instant: its label and when the cover ends (UTC epoch ms), windows
/// that follow each other without a gap counting as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    pub label: Option<String>,
    pub until: i64,
}

/// A window read once for its occurrences: its zone, days, local start and wall-clock length.
struct Recurrence {
    zone: TimeZone,
    days: Vec<jiff::civil::Weekday>,
    start: Time,
    duration: SignedDuration,
}

impl Recurrence {
    fn of(window: &MaintenanceWindow, site_zone: &TimeZone) -> Option<Recurrence> {
        let zone = window
            .time_zone
            .as_ref()
            .map(|name| name.time_zone())
            .unwrap_or_else(|| site_zone.clone());
        Some(Recurrence {
            zone,
            days: window.days.iter().map(|day| jiff_weekday(*day)).collect(),
            start: Time::new(
                i8::try_from(window.start.hour).ok()?,
                i8::try_from(window.start.minute).ok()?,
                0,
                0,
            )
            .ok()?,
            duration: SignedDuration::from_secs(i64::try_from(window.duration.seconds()).ok()?),
        })
    }

    /// The occurrence opening on the local `date`, if the window opens that day, as instants.
    fn on(&self, date: Date) -> Option<(i64, i64)> {
        if !self.days.contains(&date.weekday()) {
            return None;
        }
        let start_local = DateTime::from_parts(date, self.start);
        let end_local = start_local.checked_add(self.duration).ok()?;
        let (start, _) = resolve_local(&self.zone, start_local);
        let (end, _) = resolve_local(&self.zone, end_local);
        Some((start, end))
    }

    fn local_date(&self, at: i64) -> Option<Date> {
        crate::calendar::zoned(at, &self.zone).map(|z| z.date())
    }
}

/// The occurrence of `window` covering `at`, as (start, end) in epoch ms.
fn occurrence(window: &MaintenanceWindow, site_zone: &TimeZone, at: i64) -> Option<(i64, i64)> {
    let recurrence = Recurrence::of(window, site_zone)?;
    let today = recurrence.local_date(at)?;
    (0..=LOOKBACK_DAYS)
        .filter_map(|back| today.checked_sub(Span::new().days(back)).ok())
        .filter_map(|date| recurrence.on(date))
        .filter(|(start, end)| *start <= at && at < *end)
        .max_by_key(|(_, end)| *end)
}

/// The longest a one-off window may last: a month of works; longer is an inventory change
/// (a recurring window, or the equipment taken out).
pub const MAX_ONE_OFF_DAYS: i64 = 31;

/// How far before its opening a one-off window may start: enough to cover an alarm being held
/// while the form was filled, not enough to rewrite a past month's availability.
pub const MAX_BACKDATE_MS: i64 = 3_600_000;

/// What a one-off window is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OneOffKind {
    /// Planned works (ALR-9): notifications held and the time taken out of availability.
    Maintenance,
    /// Notifications held only: the equipment's time still counts in availability (a known
    /// fault waiting for its part is still a fault).
    Silence,
}

impl OneOffKind {
    pub const ALL: [OneOffKind; 2] = [OneOffKind::Maintenance, OneOffKind::Silence];

    pub fn key(self) -> &'static str {
        match self {
            OneOffKind::Maintenance => "maintenance",
            OneOffKind::Silence => "silence",
        }
    }

    pub fn parse(value: &str) -> Option<OneOffKind> {
        OneOffKind::ALL.into_iter().find(|kind| kind.key() == value)
    }
}

/// A one-off window opened by a person: on `site` (of `client`), or only on `equipment` of
/// it, from `starts_at` to `ends_at` (UTC epoch ms), unless ended earlier (`ended_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneOffWindow {
    pub id: i64,
    pub kind: OneOffKind,
    pub client: Reference,
    pub site: Reference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<Reference>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: Text,
    pub created_by: Reference,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<Reference>,
}

impl OneOffWindow {
    /// Whether a window from `starts_at` to `ends_at`, opened at `now`, may be: it ends after
    /// it starts and after `now` (a window wholly past holds nothing back), starts at most
    /// [`MAX_BACKDATE_MS`] before `now`, and lasts at most [`MAX_ONE_OFF_DAYS`]. The error is
    /// in French, for the form.
    pub fn check_period(starts_at: i64, ends_at: i64, now: i64) -> Result<(), String> {
        if ends_at <= starts_at {
            return Err("la fin doit suivre le début".into());
        }
        if starts_at < now - MAX_BACKDATE_MS {
            return Err(
                "le début ne peut précéder maintenant de plus d'une heure : la disponibilité passée ne se réécrit pas"
                    .into(),
            );
        }
        if ends_at <= now {
            return Err("la fin est déjà passée".into());
        }
        if ends_at - starts_at > MAX_ONE_OFF_DAYS * 24 * 3_600_000 {
            return Err(format!(
                "une fenêtre ponctuelle dure au plus {MAX_ONE_OFF_DAYS} jours"
            ));
        }
        Ok(())
    }

    /// When the window stops holding: its end, or when a person ended it, if earlier.
    pub fn end(&self) -> i64 {
        self.ended_at
            .map_or(self.ends_at, |ended| ended.min(self.ends_at))
    }

    /// Whether the window holds back an alarm of its site about `equipment` (`None`: the
    /// site's own) at `at`: a site window holds all of them, an equipment window its own.
    pub fn holds(&self, equipment: Option<&Reference>, at: i64) -> bool {
        self.starts_at <= at
            && at < self.end()
            && (self.equipment.is_none() || self.equipment.as_ref() == equipment)
    }
}

/// The window covering `at` among a site's, if any, and when the cover ends.
pub fn covering(windows: &[MaintenanceWindow], site_zone: &TimeZone, at: i64) -> Option<Cover> {
    covering_with(windows, &[], None, site_zone, at)
}

/// The window covering `at` among a site's recurring windows and one-off windows, for an
/// alarm about `equipment` (`None`: the site's own), if any, and when the cover ends.
pub fn covering_with(
    windows: &[MaintenanceWindow],
    one_offs: &[OneOffWindow],
    equipment: Option<&Reference>,
    site_zone: &TimeZone,
    at: i64,
) -> Option<Cover> {
    let longest = |at: i64| {
        let recurring = windows.iter().filter_map(|window| {
            occurrence(window, site_zone, at)
                .map(|(_, end)| (window.label.as_ref().map(|l| l.to_string()), end))
        });
        let one_off = one_offs
            .iter()
            .filter(|window| window.holds(equipment, at))
            .map(|window| (Some(window.reason.to_string()), window.end()));
        recurring.chain(one_off).max_by_key(|(_, end)| *end)
    };
    let (label, mut until) = longest(at)?;
    // Windows that follow each other without a gap are one cover; bounded, for a site whose
    // windows cover the whole week.
    for _ in 0..16 {
        match longest(until) {
            Some((_, next)) if next > until => until = next,
            _ => break,
        }
    }
    Some(Cover { label, until })
}

/// Every occurrence of `window` that overlaps `[from, to)`, as (start, end) in epoch ms, in
/// order, not clipped: the same occurrences [`covering`] sees, one per local day the window
/// opens. The caller bounds the period (each local day of it is visited once).
pub fn occurrences(
    window: &MaintenanceWindow,
    site_zone: &TimeZone,
    from: i64,
    to: i64,
) -> Vec<(i64, i64)> {
    let Some(recurrence) = Recurrence::of(window, site_zone) else {
        return Vec::new();
    };
    let (Some(first_day), Some(last_day)) =
        (recurrence.local_date(from), recurrence.local_date(to))
    else {
        return Vec::new();
    };
    if to <= from {
        return Vec::new();
    }
    let Ok(mut day) = first_day.checked_sub(Span::new().days(LOOKBACK_DAYS)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    // An occurrence opening after the local date of `to` opens after `to`.
    while day <= last_day {
        if let Some((start, end)) = recurrence.on(day)
            && start < to
            && end > from
        {
            found.push((start, end));
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    found
}
