//! Maintenance windows (ALR-9): when a site's window covers an instant, and when that cover
//! ends. A window opens on each of its days at its local start time, in the window's time zone
//! (else its site's), and closes at the local time its duration later, on the wall clock: a
//! window "Sunday 01:00, 4h" closes at 05:00 local time on the night summer time ends too, so
//! that night it lasts 5 real hours (and 3 on the night summer time starts). A start or end
//! that falls in a gap or a fold is read by the calendar's one rule ([`resolve_local`]).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::calendar::resolve_local;
use crate::inventory::MaintenanceWindow;
use crate::policy::jiff_weekday;

/// A window covering an instant: its label and when the cover ends (UTC epoch ms), windows
/// that follow each other without a gap counting as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    pub label: Option<String>,
    pub until: i64,
}

/// The occurrence of `window` covering `at`, as (start, end) in epoch ms.
fn occurrence(
    window: &MaintenanceWindow,
    site_zone: &TimeZone,
    at: Timestamp,
) -> Option<(i64, i64)> {
    let zone = window
        .time_zone
        .as_ref()
        .map(|name| name.time_zone())
        .unwrap_or_else(|| site_zone.clone());
    let today = at.to_zoned(zone.clone()).date();
    let duration = SignedDuration::from_secs(i64::try_from(window.duration.seconds()).ok()?);
    let days = window
        .days
        .iter()
        .map(|day| jiff_weekday(*day))
        .collect::<Vec<_>>();
    // A window lasts at most 7 days (the inventory check), so one starting 8 days back has
    // closed; a day more covers the hour a time zone shift may add.
    (0..=8)
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .filter(|date| days.contains(&date.weekday()))
        .filter_map(|date| {
            let start_local = DateTime::from_parts(
                date,
                jiff::civil::Time::new(
                    i8::try_from(window.start.hour).ok()?,
                    i8::try_from(window.start.minute).ok()?,
                    0,
                    0,
                )
                .ok()?,
            );
            let end_local = start_local.checked_add(duration).ok()?;
            let (start, _) = resolve_local(&zone, start_local);
            let (end, _) = resolve_local(&zone, end_local);
            (start <= at && at < end).then_some((start.as_millisecond(), end.as_millisecond()))
        })
        .max_by_key(|(_, end)| *end)
}

/// The window covering `at` among a site's, if any, and when the cover ends.
pub fn covering(windows: &[MaintenanceWindow], site_zone: &TimeZone, at: i64) -> Option<Cover> {
    let instant = |ms: i64| Timestamp::from_millisecond(ms).ok();
    let longest = |at: i64| {
        windows
            .iter()
            .filter_map(|window| {
                occurrence(window, site_zone, instant(at)?)
                    .map(|(_, end)| (window.label.as_ref().map(|l| l.to_string()), end))
            })
            .max_by_key(|(_, end)| *end)
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
