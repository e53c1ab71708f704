//! Exact availability over a period (DSH-2), for the monthly supervision report.
//!
//! At each instant an equipment is in one of four states, from its checks and its site's
//! planned maintenance:
//!
//! - **maintenance** while a planned maintenance interval covers the instant, whatever the
//!   checks say (ALR-9: planned maintenance is excluded from availability);
//! - else **down** while at least one of its checks is down;
//! - else **up** while at least one of its checks is up;
//! - else **unknown**: every check unknown, or not observed yet. The monitoring path (a site
//!   probe or an agent's link lost) failing is not the client's outage, so this time is
//!   neither up nor down.
//!
//! The four durations ([`Measure`]) add up to the period's length exactly, and the rate is
//! `up ÷ (up + down)`: the share of the time actually measured during which the equipment
//! worked. A site's or a client's measure is the sum of its equipment's, so its rate is
//! weighted by measured time. (The live dashboard's rate, `crate::availability`, counts
//! unknown time as available; the report gives it its own column instead.)
//!
//! One sort-merge pass per equipment: its checks' changes sorted once, walked with
//! the maintenance intervals; nothing loops per millisecond or re-reads the changes per day.

use std::iter::Sum;
use std::ops::{Add, AddAssign};

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::ReportError;
use super::period::{DAY_MS, MAX_PERIOD_DAYS};
use crate::alarm::window;
use crate::inventory::MaintenanceWindow;
use crate::supervision::CheckStatus;

/// The most maintenance windows of one site read for a report (an inventory writes a handful).
pub const MAX_MAINTENANCE_WINDOWS: usize = 100;

/// What is known of one check over a period: its status when the period began and its
/// changes since, (instant, status after it). Changes before the period's start are taken as
/// the state at the start; changes at or after its end are ignored; unordered changes are
/// ordered (for one instant, the last listed wins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckHistory {
    /// None: never observed before the period.
    pub at_start: Option<CheckStatus>,
    pub changes: Vec<(i64, CheckStatus)>,
}

/// An equipment's state at an instant, as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Up,
    Down,
    Unknown,
    Maintenance,
}

/// How long an equipment (or a site, a client: the sum of theirs) spent in each state over a
/// period, in ms. The four add up to the period's length (times the number of equipment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Measure {
    pub up_ms: i64,
    pub down_ms: i64,
    pub unknown_ms: i64,
    pub maintenance_ms: i64,
}

impl Measure {
    /// Up ÷ (up + down): the share of measured time the equipment worked; None when nothing
    /// was measured (all unknown or maintenance).
    pub fn rate(&self) -> Option<f64> {
        let measured = self.up_ms + self.down_ms;
        (measured > 0).then(|| self.up_ms as f64 / measured as f64)
    }

    /// The four durations together: the period's length for one equipment.
    pub fn total_ms(&self) -> i64 {
        self.up_ms + self.down_ms + self.unknown_ms + self.maintenance_ms
    }

    fn count(&mut self, state: State, ms: i64) {
        match state {
            State::Up => self.up_ms += ms,
            State::Down => self.down_ms += ms,
            State::Unknown => self.unknown_ms += ms,
            State::Maintenance => self.maintenance_ms += ms,
        }
    }
}

impl Add for Measure {
    type Output = Measure;
    fn add(self, other: Measure) -> Measure {
        Measure {
            up_ms: self.up_ms + other.up_ms,
            down_ms: self.down_ms + other.down_ms,
            unknown_ms: self.unknown_ms + other.unknown_ms,
            maintenance_ms: self.maintenance_ms + other.maintenance_ms,
        }
    }
}

impl AddAssign for Measure {
    fn add_assign(&mut self, other: Measure) {
        *self = *self + other;
    }
}

impl Sum for Measure {
    fn sum<I: Iterator<Item = Measure>>(iter: I) -> Measure {
        iter.fold(Measure::default(), Add::add)
    }
}

impl<'a> Sum<&'a Measure> for Measure {
    fn sum<I: Iterator<Item = &'a Measure>>(iter: I) -> Measure {
        iter.copied().sum()
    }
}

/// The state the checks give, before maintenance.
fn state_of(down: u32, up: u32) -> State {
    if down > 0 {
        State::Down
    } else if up > 0 {
        State::Up
    } else {
        State::Unknown
    }
}

/// The maintenance intervals within `[from, to)`, clipped, sorted and merged.
fn merged_maintenance(from: i64, to: i64, maintenance: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut clipped: Vec<(i64, i64)> = maintenance
        .iter()
        .map(|&(start, end)| (start.max(from), end.min(to)))
        .filter(|(start, end)| start < end)
        .collect();
    clipped.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(clipped.len());
    for (start, end) in clipped {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Walks `[from, to)` once and hands `emit` its consecutive segments (start, end, state),
/// covering the interval exactly, two neighbours never of the same state.
fn timeline(
    from: i64,
    to: i64,
    checks: &[CheckHistory],
    maintenance: &[(i64, i64)],
    mut emit: impl FnMut(i64, i64, State),
) {
    if to <= from {
        return;
    }
    let mut current: Vec<Option<CheckStatus>> = checks.iter().map(|c| c.at_start).collect();
    let (mut down, mut up) = (0u32, 0u32);
    for status in current.iter().flatten() {
        match status {
            CheckStatus::Down => down += 1,
            CheckStatus::Up => up += 1,
            CheckStatus::Unknown => {}
        }
    }
    let mut events: Vec<(i64, u32, CheckStatus)> =
        Vec::with_capacity(checks.iter().map(|c| c.changes.len()).sum());
    for (index, check) in checks.iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        events.extend(
            check
                .changes
                .iter()
                .filter(|(at, _)| *at < to)
                .map(|&(at, status)| (at.max(from), index, status)),
        );
    }
    // Stable: for one check at one instant, the change listed last wins.
    events.sort_by_key(|event| event.0);
    let maintenance = merged_maintenance(from, to, maintenance);

    let mut pending: Option<(i64, i64, State)> = None;
    let mut push = |start: i64, end: i64, state: State| {
        if start >= end {
            return;
        }
        match &mut pending {
            Some((_, pending_end, pending_state))
                if *pending_state == state && *pending_end == start =>
            {
                *pending_end = end;
            }
            _ => {
                if let Some((s, e, st)) = pending.replace((start, end, state)) {
                    emit(s, e, st);
                }
            }
        }
    };
    let mut next_maintenance = 0;
    // Lays `[start, end)` in `state` under the maintenance intervals.
    let mut lay = |mut start: i64,
                   end: i64,
                   state: State,
                   push: &mut dyn FnMut(i64, i64, State)| {
        while start < end {
            while next_maintenance < maintenance.len() && maintenance[next_maintenance].1 <= start {
                next_maintenance += 1;
            }
            match maintenance.get(next_maintenance) {
                Some(&(m_start, m_end)) if m_start <= start => {
                    let stop = m_end.min(end);
                    push(start, stop, State::Maintenance);
                    start = stop;
                }
                Some(&(m_start, _)) => {
                    let stop = m_start.min(end);
                    push(start, stop, state);
                    start = stop;
                }
                None => {
                    push(start, end, state);
                    start = end;
                }
            }
        }
    };

    let mut cursor = from;
    let mut index = 0;
    while cursor < to {
        let next = events.get(index).map_or(to, |event| event.0);
        lay(cursor, next, state_of(down, up), &mut push);
        cursor = next;
        while let Some(&(at, check, status)) = events.get(index) {
            if at != cursor {
                break;
            }
            let slot = &mut current[check as usize];
            match slot.replace(status) {
                Some(CheckStatus::Down) => down -= 1,
                Some(CheckStatus::Up) => up -= 1,
                _ => {}
            }
            match status {
                CheckStatus::Down => down += 1,
                CheckStatus::Up => up += 1,
                CheckStatus::Unknown => {}
            }
            index += 1;
        }
    }
    if let Some((s, e, st)) = pending {
        emit(s, e, st);
    }
}

/// An equipment's time in each state over `[from, to)` (UTC epoch ms), from its checks'
/// histories and its planned maintenance intervals (which may overlap and go beyond the
/// period).
pub fn equipment_measure(
    from: i64,
    to: i64,
    checks: &[CheckHistory],
    maintenance: &[(i64, i64)],
) -> Measure {
    let mut measure = Measure::default();
    timeline(from, to, checks, maintenance, |start, end, state| {
        measure.count(state, end - start)
    });
    measure
}

/// An equipment's measure for each of `days` (e.g. [`super::Month::days`]), in one pass over
/// its changes. Days given in order without overlap (as a month's are) take one pass; any
/// other list is measured day by day, with the same result.
pub fn equipment_days(
    days: &[(i64, i64)],
    checks: &[CheckHistory],
    maintenance: &[(i64, i64)],
) -> Vec<Measure> {
    let mut measures = vec![Measure::default(); days.len()];
    let ordered = days.iter().all(|(start, end)| start <= end)
        && days.windows(2).all(|pair| pair[0].1 <= pair[1].0);
    if !ordered {
        for (measure, &(start, end)) in measures.iter_mut().zip(days) {
            *measure = equipment_measure(start, end, checks, maintenance);
        }
        return measures;
    }
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return measures;
    };
    let mut day = 0;
    timeline(first.0, last.1, checks, maintenance, |start, end, state| {
        while day < days.len() && days[day].1 <= start {
            day += 1;
        }
        let mut cursor = day;
        while cursor < days.len() && days[cursor].0 < end {
            let (day_start, day_end) = days[cursor];
            let overlap = end.min(day_end) - start.max(day_start);
            if overlap > 0 {
                measures[cursor].count(state, overlap);
            }
            if day_end > end {
                break;
            }
            cursor += 1;
        }
    });
    measures
}

/// The equipment's outages within `[from, to)`: its down intervals, clipped to the period,
/// with maintenance taken out (an outage that a maintenance interval cuts in two is two), in
/// order. Their number and the longest go in the report's incidents table.
pub fn outages(
    from: i64,
    to: i64,
    checks: &[CheckHistory],
    maintenance: &[(i64, i64)],
) -> Vec<(i64, i64)> {
    let mut found = Vec::new();
    timeline(from, to, checks, maintenance, |start, end, state| {
        if state == State::Down {
            found.push((start, end));
        }
    });
    found
}

/// Every occurrence of a site's maintenance windows within `[from, to)`, computed by the
/// alarms' rules (`alarm::window`: wall clock of the window's or the site's zone, DST
/// included), clipped to the period, sorted and merged. At most one occurrence per window per
/// local day: the period is bounded ([`MAX_PERIOD_DAYS`]) and so are the windows
/// ([`MAX_MAINTENANCE_WINDOWS`]).
pub fn maintenance_intervals(
    windows: &[MaintenanceWindow],
    site_zone: &TimeZone,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64)>, ReportError> {
    if to <= from {
        return Ok(Vec::new());
    }
    if to - from > MAX_PERIOD_DAYS * DAY_MS + DAY_MS {
        return Err(ReportError::InvalidPeriod(format!(
            "{MAX_PERIOD_DAYS} jours au plus"
        )));
    }
    if windows.len() > MAX_MAINTENANCE_WINDOWS {
        return Err(ReportError::TooMany(format!(
            "{} fenêtres de maintenance pour un site ({MAX_MAINTENANCE_WINDOWS} au plus)",
            windows.len()
        )));
    }
    let all: Vec<(i64, i64)> = windows
        .iter()
        .flat_map(|window| window::occurrences(window, site_zone, from, to))
        .collect();
    Ok(merged_maintenance(from, to, &all))
}
