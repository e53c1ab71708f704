//! On-call load and response figures (issue 26, item 7), from what is already recorded: pages
//! per person per week, nights woken, and the mean times to acknowledge (MTTA) and to resolve
//! (MTTR) per rotation, territory and client, over any period. Plain data in and out.

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::Reference;
use crate::alarm::lifecycle::AlarmId;
use crate::inventory::Territory;
use crate::oncall::{Duty, Place, Rotation, route};
use crate::policy::Channel;

/// A page that reached one of the integrator's staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSent {
    pub recipient: Reference,
    pub name: String,
    pub channel: Channel,
    pub at: i64,
}

/// When an alarm was told, acknowledged and resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmTimes {
    pub alarm: AlarmId,
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub notified_at: i64,
    pub acknowledged_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

/// One person's load over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonLoad {
    pub recipient: Reference,
    pub name: String,
    /// Pages by SMS and email.
    pub pages: u32,
    /// (Monday 00:00 of the week, local, in ms; pages that week), weeks with a page only.
    pub weeks: Vec<(i64, u32)>,
    /// Nights (22:00 to 07:00, local) with at least one SMS.
    pub nights: u32,
}

/// How fast alarms were answered, for one rotation, territory or client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    pub group: Reference,
    pub alarms: u32,
    pub acknowledged: u32,
    /// Mean time from notification to acknowledgement.
    pub mtta_ms: Option<i64>,
    pub resolved: u32,
    /// Mean time from notification to resolution.
    pub mttr_ms: Option<i64>,
}

/// Everything the figures page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Figures {
    pub people: Vec<PersonLoad>,
    pub by_rotation: Vec<Response>,
    pub by_territory: Vec<Response>,
    pub by_client: Vec<Response>,
}

/// One person's pages as they are counted.
#[derive(Default)]
struct Tally {
    name: String,
    pages: u32,
    /// Week start → pages that week.
    weeks: BTreeMap<i64, u32>,
    /// The nights with an SMS, by their evening's day number.
    nights: BTreeSet<i64>,
}

/// When the night starts and ends, on the local clock: a page between them woke someone.
pub const NIGHT_STARTS_HOUR: i8 = 22;
pub const NIGHT_ENDS_HOUR: i8 = 7;

/// The figures of `pages` and `alarms`, weeks and nights on `zone`'s clock. Each alarm counts
/// for the rotation that answered for its site when it was told (through its territory and
/// fallbacks, `oncall::route`), for every territory covering its site, and for its client.
pub fn figures(
    pages: &[PageSent],
    alarms: &[AlarmTimes],
    rotations: &[Rotation],
    territories: &[Territory],
    zone: &TimeZone,
) -> Figures {
    // People: pages, weeks, nights.
    let mut people: BTreeMap<Reference, Tally> = BTreeMap::new();
    for page in pages {
        if !page.channel.reaches_a_person() {
            continue;
        }
        let Some(local) = crate::calendar::zoned(page.at, zone) else {
            continue;
        };
        let tally = people
            .entry(page.recipient.clone())
            .or_insert_with(|| Tally {
                name: page.name.clone(),
                ..Tally::default()
            });
        tally.pages += 1;
        if let Some(week) = week_start(&local, zone) {
            *tally.weeks.entry(week).or_default() += 1;
        }
        // A phone rings for an SMS or a call; an email at night wakes nobody.
        if matches!(page.channel, Channel::Sms | Channel::Voice)
            && let Some(night) = night_of(&local)
        {
            tally.nights.insert(night);
        }
    }
    let mut people: Vec<PersonLoad> = people
        .into_iter()
        .map(|(recipient, tally)| PersonLoad {
            recipient,
            name: tally.name,
            pages: tally.pages,
            weeks: tally.weeks.into_iter().collect(),
            nights: u32::try_from(tally.nights.len()).unwrap_or(u32::MAX),
        })
        .collect();
    people.sort_by(|a, b| b.pages.cmp(&a.pages).then(a.recipient.cmp(&b.recipient)));

    // Responses, grouped three ways.
    let mut by_rotation: BTreeMap<Reference, Vec<&AlarmTimes>> = BTreeMap::new();
    let mut by_territory: BTreeMap<Reference, Vec<&AlarmTimes>> = BTreeMap::new();
    let mut by_client: BTreeMap<Reference, Vec<&AlarmTimes>> = BTreeMap::new();
    for alarm in alarms {
        if let Some(client) = &alarm.client {
            by_client.entry(client.clone()).or_default().push(alarm);
        }
        let (Some(site), Some(client)) = (&alarm.site, &alarm.client) else {
            continue;
        };
        let place = Place { site, client };
        if let Some(answer) = route(
            rotations,
            territories,
            Some(place),
            Duty::Technician,
            alarm.notified_at,
        ) {
            by_rotation.entry(answer.rotation).or_default().push(alarm);
        }
        for territory in territories
            .iter()
            .filter(|t| t.covers(site, client).is_some())
        {
            by_territory
                .entry(territory.reference.clone())
                .or_default()
                .push(alarm);
        }
    }
    let responses = |groups: BTreeMap<Reference, Vec<&AlarmTimes>>| -> Vec<Response> {
        groups
            .into_iter()
            .map(|(group, alarms)| response(group, &alarms))
            .collect()
    };
    Figures {
        people,
        by_rotation: responses(by_rotation),
        by_territory: responses(by_territory),
        by_client: responses(by_client),
    }
}

fn response(group: Reference, alarms: &[&AlarmTimes]) -> Response {
    let mean = |durations: Vec<i64>| -> (u32, Option<i64>) {
        let count = durations.len();
        let total: i128 = durations.iter().map(|d| i128::from(*d)).sum();
        let mean = (count > 0).then(|| i64::try_from(total / count as i128).unwrap_or(i64::MAX));
        (u32::try_from(count).unwrap_or(u32::MAX), mean)
    };
    let (acknowledged, mtta_ms) = mean(
        alarms
            .iter()
            .filter_map(|a| Some((a.acknowledged_at? - a.notified_at).max(0)))
            .collect(),
    );
    let (resolved, mttr_ms) = mean(
        alarms
            .iter()
            .filter_map(|a| Some((a.resolved_at? - a.notified_at).max(0)))
            .collect(),
    );
    Response {
        group,
        alarms: u32::try_from(alarms.len()).unwrap_or(u32::MAX),
        acknowledged,
        mtta_ms,
        resolved,
        mttr_ms,
    }
}

/// Monday 00:00 of `local`'s week, on `zone`'s clock, in ms.
fn week_start(local: &jiff::Zoned, zone: &TimeZone) -> Option<i64> {
    let date = local.date();
    let back = i64::from(date.weekday().to_monday_zero_offset());
    let monday = date.checked_sub(jiff::Span::new().days(back)).ok()?;
    let start = monday.to_zoned(zone.clone()).ok()?;
    Some(start.timestamp().as_millisecond())
}

/// The night a local instant belongs to, named by the date of its evening (days since the
/// epoch, as an ordinal), or None in the day.
fn night_of(local: &jiff::Zoned) -> Option<i64> {
    let hour = local.hour();
    let evening = if hour >= NIGHT_STARTS_HOUR {
        local.date()
    } else if hour < NIGHT_ENDS_HOUR {
        local.date().yesterday().ok()?
    } else {
        return None;
    };
    Some(
        evening
            .since(jiff::civil::date(1970, 1, 1))
            .ok()?
            .get_days()
            .into(),
    )
}
