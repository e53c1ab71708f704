//! On-call rotations (*astreintes*): who is the on-call technician or the on-call manager at a
//! given instant, so that the policy's recipients `on_call_technician` and `on_call_manager`
//! name a person (NOT-1: every alert reaches the on-call technicians; NOT-3: a Critical alarm
//! pages the on-call technician at once; NOT-7: an alarm not handled within the hour escalates
//! to the on-call manager). The issue asks for "rotations (weekly or custom hand-off time,
//! ordered members), overrides and swaps, in the rotation's time zone and exact across DST; a
//! rotation with nobody on call is itself an alarm".
//!
//! A [`Rotation`] hands off on a wall clock: every week on a given day and time, or every N
//! days at a given time, in its own time zone. Shift `k` (from 0) belongs to
//! `members[k % members.len()]` and runs from hand-off `k` to hand-off `k + 1`, so a weekly
//! shift that contains the spring change lasts 167 hours and the autumn one 169. A hand-off
//! whose local time falls in a gap or a fold is placed by the calendar's one rule
//! ([`crate::calendar::resolve_local`]): in the spring gap it moves forward by the gap's length
//! (02:30 becomes 03:30 in Paris), in the autumn fold it is the earlier of the two instants
//! (still summer time). Before the first hand-off nobody is on call: [`uncovered`] lists such
//! rotations so the caller can raise a "nobody on call" alarm.
//!
//! An [`Override`] puts someone else on call for an interval; it wins over the regular shift,
//! which it cuts into before / override / after parts. Overrides of one rotation may not overlap
//! (which would win is ambiguous); a swap of two shifts is two overrides ([`Rotation::swap`]).
//!
//! Finding the shift holding an instant is arithmetic on civil dates (the number of days from the
//! first hand-off's date, divided by the period), never a walk from the start; everything is
//! bounded and nothing panics: an instant or a date outside jiff's range gives `None` or an error.
//!
//! Written in TOML (`docs/oncall.md`):
//!
//! ```toml
//! name = "ASTREINTE-TECH"
//! duty = "technician"                 # or "manager"
//! time_zone = "Europe/Paris"
//! members = ["TECH-DUPONT", "TECH-MARTIN", "TECH-DURAND"]
//! handoff = { every = "week", day = "monday", at = "08:00" }   # or { every_days = 2, at = "08:00" }
//! start = 2026-01-05                  # or "2026-01-05"
//!
//! [[overrides]]
//! from = 2026-07-10T18:00:00+02:00    # or a string; the offset (or Z) is required
//! to = 2026-07-13T08:00:00+02:00
//! member = "TECH-DURAND"
//! reason = "congés de TECH-MARTIN"    # optional
//! ```
//!
//! Instants are UTC epoch milliseconds (`i64`), as elsewhere in the domain; overrides are stored
//! as RFC 3339 text in UTC (`2026-07-10T16:00:00Z`).

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::inventory::Territory;
use crate::inventory::{LocalTime, Weekday};
use crate::policy::{Recipient, jiff_weekday};
use crate::values::{InvalidValue, Reference, Text, TimeZoneName};

/// At most this many overrides per rotation (a bound: ten years of daily overrides fit).
pub const MAX_OVERRIDES: usize = 10_000;
/// The longest period of an every-N-days rotation.
pub const MAX_EVERY_DAYS: u32 = 366;
/// At most this many shifts are listed by one call to [`Rotation::shifts`], whatever the limit.
pub const MAX_SHIFTS_LISTED: usize = 10_000;

/// Which on-call duty a rotation covers (the policy's recipients `on_call_technician` and
/// `on_call_manager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    Technician,
    Manager,
}

impl Duty {
    /// The escalation recipient this duty answers for.
    pub fn recipient(self) -> Recipient {
        match self {
            Duty::Technician => Recipient::OnCallTechnician,
            Duty::Manager => Recipient::OnCallManager,
        }
    }

    /// The duty behind an escalation recipient, when it is an on-call one.
    pub fn for_recipient(recipient: Recipient) -> Option<Duty> {
        match recipient {
            Recipient::OnCallTechnician => Some(Duty::Technician),
            Recipient::OnCallManager => Some(Duty::Manager),
            _ => None,
        }
    }

    /// The French noun, for messages.
    pub fn french(self) -> &'static str {
        match self {
            Duty::Technician => "technicien d'astreinte",
            Duty::Manager => "responsable d'astreinte",
        }
    }
}

/// When shifts change hands, on the rotation's wall clock.
///
/// Written `{ every = "week", day = "monday", at = "08:00" }` or `{ every_days = 3, at = "08:00" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawHandoff", into = "RawHandoff")]
pub enum Handoff {
    /// Every week on `day` at `at`.
    Weekly { day: Weekday, at: LocalTime },
    /// Every `every_days` days (1 to [`MAX_EVERY_DAYS`]) at `at`.
    Days { every_days: u32, at: LocalTime },
}

impl Handoff {
    /// The local time of day of the hand-off.
    pub fn at(&self) -> LocalTime {
        match *self {
            Handoff::Weekly { at, .. } | Handoff::Days { at, .. } => at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Every {
    Week,
}

/// The written shape of a [`Handoff`]: one flat table, pleasant in TOML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandoff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    every: Option<Every>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<Weekday>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    every_days: Option<u32>,
    at: LocalTime,
}

impl TryFrom<RawHandoff> for Handoff {
    type Error = InvalidValue;

    fn try_from(raw: RawHandoff) -> Result<Handoff, InvalidValue> {
        match (raw.every, raw.day, raw.every_days) {
            (Some(Every::Week), Some(day), None) => Ok(Handoff::Weekly { day, at: raw.at }),
            (None, None, Some(every_days)) => Ok(Handoff::Days {
                every_days,
                at: raw.at,
            }),
            (Some(Every::Week), None, None) => Err(InvalidValue(
                "relève hebdomadaire sans jour : ajouter day = \"monday\" (par exemple)".into(),
            )),
            (None, Some(_), None) => Err(InvalidValue(
                "relève avec un jour mais sans période : ajouter every = \"week\"".into(),
            )),
            (None, None, None) => Err(InvalidValue(
                "relève sans période : écrire every = \"week\" et day = \"monday\", ou every_days = 3"
                    .into(),
            )),
            (_, _, Some(_)) => Err(InvalidValue(
                "relève ambiguë : écrire soit every = \"week\" avec day, soit every_days, pas les deux"
                    .into(),
            )),
        }
    }
}

impl From<Handoff> for RawHandoff {
    fn from(handoff: Handoff) -> RawHandoff {
        match handoff {
            Handoff::Weekly { day, at } => RawHandoff {
                every: Some(Every::Week),
                day: Some(day),
                every_days: None,
                at,
            },
            Handoff::Days { every_days, at } => RawHandoff {
                every: None,
                day: None,
                every_days: Some(every_days),
                at,
            },
        }
    }
}

/// Someone else on call for `[from_ms, to_ms)`, whoever the regular shift belongs to. The member
/// may be outside the rotation (a colleague from another team); that the reference names a
/// member of staff is the inventory's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    #[serde(rename = "from", with = "instant_ms")]
    pub from_ms: i64,
    #[serde(rename = "to", with = "instant_ms")]
    pub to_ms: i64,
    pub member: Reference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// An on-call rotation: ordered members taking shifts in turn, hand-offs on a wall clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The rotation's reference (`ASTREINTE-TECH`).
    pub name: Reference,
    pub duty: Duty,
    /// Hand-offs happen on this zone's wall clock.
    pub time_zone: TimeZoneName,
    /// Staff references, in the order they take shifts: at least one, no duplicates.
    pub members: Vec<Reference>,
    pub handoff: Handoff,
    /// The first shift, `members[0]`'s, starts at the first hand-off on or after this date
    /// (weekly: the first `day` on or after it; every N days: this date) at the hand-off time.
    #[serde(with = "civil_date")]
    pub start: Date,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
    /// The territory it answers for (issue 26, item 1); None: the whole fleet, behind every
    /// territory's own rotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<Reference>,
    /// Its place in the territory's fallback: 1 the primary, 2 the secondary…; a site's
    /// on-call is the first rotation, in this order, with someone on call.
    #[serde(default = "primary", skip_serializing_if = "is_primary")]
    pub rank: u8,
}

/// The rank of a primary rotation, the default.
pub const PRIMARY: u8 = 1;
/// The deepest fallback a territory may have.
pub const MAX_RANK: u8 = 9;

fn primary() -> u8 {
    PRIMARY
}

fn is_primary(rank: &u8) -> bool {
    *rank == PRIMARY
}

/// Who is on call, for which uninterrupted interval `[from_ms, to_ms)`: an override, or the part
/// of a regular shift that no override cuts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCall {
    pub member: Reference,
    pub from_ms: i64,
    pub to_ms: i64,
    pub by_override: bool,
}

/// Why a rotation is refused, or a swap impossible, in French. Instants are written in the
/// rotation's time zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnCallError {
    #[error("astreinte « {rotation} » : aucun membre (il en faut au moins un)")]
    NoMembers { rotation: Reference },
    #[error("astreinte « {rotation} » : rang {rank} ; 1 (principale) à {max} (secours successifs)")]
    RankOutOfRange {
        rotation: Reference,
        rank: u8,
        max: u8,
    },
    #[error("astreinte « {rotation} » : « {member} » figure deux fois parmi les membres")]
    DuplicateMember {
        rotation: Reference,
        member: Reference,
    },
    #[error(
        "astreinte « {rotation} » : une relève tous les {every_days} jours est impossible (de 1 à 366 jours)"
    )]
    EveryDaysOutOfRange {
        rotation: Reference,
        every_days: u32,
    },
    #[error(
        "astreinte « {rotation} » : le remplacement par « {member} » ne finit pas après avoir commencé ({from} → {to})"
    )]
    EmptyOverride {
        rotation: Reference,
        member: Reference,
        from: String,
        to: String,
    },
    /// `first` and `second` describe the two overrides: member and interval.
    #[error(
        "astreinte « {rotation} » : les remplacements par {first} et par {second} se chevauchent ; lequel vaut serait ambigu"
    )]
    OverlappingOverrides {
        rotation: Reference,
        first: String,
        second: String,
    },
    #[error("astreinte « {rotation} » : {count} remplacements, au plus {max} sont admis")]
    TooManyOverrides {
        rotation: Reference,
        count: usize,
        max: usize,
    },
    #[error("astreinte « {rotation} » : {what} hors des dates gérées")]
    OutOfRange { rotation: Reference, what: String },
    #[error(
        "astreinte « {rotation} » : aucune garde régulière à {at} (avant le début de l'astreinte)"
    )]
    NoShift { rotation: Reference, at: String },
    #[error(
        "astreinte « {rotation} » : les deux gardes sont celles de « {member} », l'échange ne changerait rien"
    )]
    SameMember {
        rotation: Reference,
        member: Reference,
    },
    #[error(
        "astreinte « {rotation} » : la garde de « {member} » ({from} → {to}) a déjà un remplacement ; le retirer avant l'échange"
    )]
    SwapOverlapsOverride {
        rotation: Reference,
        member: Reference,
        from: String,
        to: String,
    },
}

/// The regular hand-offs of a rotation: hand-off `k` is at `at` on `first + k × period_days`.
struct Schedule {
    zone: TimeZone,
    first: Date,
    period_days: i64,
    at: Time,
}

/// A local time turned into an instant by the calendar's rule ([`crate::calendar::resolve_local`]:
/// "compatible" disambiguation, forward by the gap's length in a gap, the earlier instant in a
/// fold), but `None` rather than a panic at the very edges of jiff's range.
fn resolve(zone: &TimeZone, local: DateTime) -> Option<Timestamp> {
    zone.to_ambiguous_timestamp(local).compatible().ok()
}

impl Schedule {
    /// The instant of hand-off `k` (`None` when out of range).
    fn handoff(&self, k: i64) -> Option<Timestamp> {
        if k < 0 {
            return None;
        }
        let days = Span::new()
            .try_days(k.checked_mul(self.period_days)?)
            .ok()?;
        let date = self.first.checked_add(days).ok()?;
        resolve(&self.zone, date.to_datetime(self.at))
    }

    /// The regular shift holding `at`: its number and `[from, to)`, with `from <= at < to`.
    fn shift_at(&self, at: Timestamp) -> Option<(i64, Timestamp, Timestamp)> {
        let local_date = at.to_zoned(self.zone.clone()).date();
        let days = i64::from(local_date.since(self.first).ok()?.get_days());
        // The hand-off on or before the local date; offsets change by hours, so the true shift
        // is at most a step or two away (checked below, never assumed).
        let mut k = days.div_euclid(self.period_days).max(-1);
        for _ in 0..3 {
            match self.handoff(k) {
                Some(from) if from > at => k -= 1,
                _ => break,
            }
        }
        for _ in 0..3 {
            match self.handoff(k + 1) {
                Some(next) if next <= at => k += 1,
                _ => break,
            }
        }
        if k < 0 {
            return None;
        }
        let from = self.handoff(k)?;
        let to = self.handoff(k + 1)?;
        (from <= at && at < to).then_some((k, from, to))
    }
}

/// `ms` written in `zone` (`2026-03-29T08:00:00+02:00`), or the raw number when out of range.
fn format_instant(zone: &TimeZone, ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(at) => at
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

impl Rotation {
    fn zone(&self) -> TimeZone {
        self.time_zone.time_zone()
    }

    fn schedule(&self) -> Option<Schedule> {
        let at = self.handoff.at();
        let at = Time::new(
            i8::try_from(at.hour).ok()?,
            i8::try_from(at.minute).ok()?,
            0,
            0,
        )
        .ok()?;
        let (first, period_days) = match self.handoff {
            Handoff::Weekly { day, .. } => {
                let ahead = (jiff_weekday(day).to_monday_zero_offset()
                    - self.start.weekday().to_monday_zero_offset())
                .rem_euclid(7);
                let first = self
                    .start
                    .checked_add(Span::new().days(i64::from(ahead)))
                    .ok()?;
                (first, 7)
            }
            Handoff::Days { every_days: 0, .. } => return None,
            Handoff::Days { every_days, .. } => (self.start, i64::from(every_days)),
        };
        Some(Schedule {
            zone: self.zone(),
            first,
            period_days,
            at,
        })
    }

    /// The member of regular shift `k`.
    fn member(&self, k: i64) -> Option<&Reference> {
        let len = i64::try_from(self.members.len()).ok()?;
        if len == 0 {
            return None;
        }
        self.members.get(usize::try_from(k.rem_euclid(len)).ok()?)
    }

    /// The regular shift holding `at_ms`, overrides ignored: member, from, to.
    fn regular_at(&self, at_ms: i64) -> Option<(Reference, i64, i64)> {
        let at = Timestamp::from_millisecond(at_ms).ok()?;
        let (k, from, to) = self.schedule()?.shift_at(at)?;
        Some((
            self.member(k)?.clone(),
            from.as_millisecond(),
            to.as_millisecond(),
        ))
    }

    /// Overrides that cover some time (an unchecked rotation may hold empty ones: ignored).
    fn active_overrides(&self) -> impl Iterator<Item = &Override> {
        self.overrides.iter().filter(|o| o.from_ms < o.to_ms)
    }

    /// The instant of the first hand-off, when the first shift starts (`None` if the rotation
    /// has no computable hand-off: every 0 days, or a start out of range).
    pub fn first_handoff(&self) -> Option<i64> {
        Some(self.schedule()?.handoff(0)?.as_millisecond())
    }

    /// Refuses a rotation nobody could rely on: no members, a member twice, a period of 0 or
    /// more than 366 days, an override that does not end after it starts, overlapping overrides,
    /// more than [`MAX_OVERRIDES`] overrides, a start out of range.
    pub fn check(&self) -> Result<(), OnCallError> {
        let rotation = || self.name.clone();
        let zone = self.zone();
        if self.members.is_empty() {
            return Err(OnCallError::NoMembers {
                rotation: rotation(),
            });
        }
        if !(PRIMARY..=MAX_RANK).contains(&self.rank) {
            return Err(OnCallError::RankOutOfRange {
                rotation: rotation(),
                rank: self.rank,
                max: MAX_RANK,
            });
        }
        let mut seen = BTreeSet::new();
        for member in &self.members {
            if !seen.insert(member) {
                return Err(OnCallError::DuplicateMember {
                    rotation: rotation(),
                    member: member.clone(),
                });
            }
        }
        if let Handoff::Days { every_days, .. } = self.handoff
            && !(1..=MAX_EVERY_DAYS).contains(&every_days)
        {
            return Err(OnCallError::EveryDaysOutOfRange {
                rotation: rotation(),
                every_days,
            });
        }
        if self.first_handoff().is_none() {
            return Err(OnCallError::OutOfRange {
                rotation: rotation(),
                what: format!("la date de début {}", self.start),
            });
        }
        if self.overrides.len() > MAX_OVERRIDES {
            return Err(OnCallError::TooManyOverrides {
                rotation: rotation(),
                count: self.overrides.len(),
                max: MAX_OVERRIDES,
            });
        }
        for o in &self.overrides {
            for ms in [o.from_ms, o.to_ms] {
                if Timestamp::from_millisecond(ms).is_err() {
                    return Err(OnCallError::OutOfRange {
                        rotation: rotation(),
                        what: format!("le remplacement par « {} » ({ms} ms)", o.member),
                    });
                }
            }
            if o.to_ms <= o.from_ms {
                return Err(OnCallError::EmptyOverride {
                    rotation: rotation(),
                    member: o.member.clone(),
                    from: format_instant(&zone, o.from_ms),
                    to: format_instant(&zone, o.to_ms),
                });
            }
        }
        let mut sorted: Vec<&Override> = self.overrides.iter().collect();
        sorted.sort_by_key(|o| (o.from_ms, o.to_ms));
        // Sorted by start, each of positive length: any overlap shows between neighbours.
        if let Some(pair) = sorted
            .windows(2)
            .find(|pair| pair[1].from_ms < pair[0].to_ms)
        {
            let (first, second) = (pair[0], pair[1]);
            let describe = |o: &Override| {
                format!(
                    "« {} » ({} → {})",
                    o.member,
                    format_instant(&zone, o.from_ms),
                    format_instant(&zone, o.to_ms)
                )
            };
            return Err(OnCallError::OverlappingOverrides {
                rotation: rotation(),
                first: describe(first),
                second: describe(second),
            });
        }
        Ok(())
    }

    /// Who is on call at `at_ms`, and for which uninterrupted interval: an override covering
    /// `at_ms` wins (its own interval); else the regular shift holding it, cut by the overrides
    /// before and after. `None` when nobody is: before the first hand-off with no override, or
    /// an instant out of range. On an unchecked rotation whose overrides overlap, the first
    /// listed wins.
    pub fn on_call_at(&self, at_ms: i64) -> Option<OnCall> {
        if let Some(o) = self
            .active_overrides()
            .find(|o| o.from_ms <= at_ms && at_ms < o.to_ms)
        {
            return Some(OnCall {
                member: o.member.clone(),
                from_ms: o.from_ms,
                to_ms: o.to_ms,
                by_override: true,
            });
        }
        let (member, shift_from, shift_to) = self.regular_at(at_ms)?;
        let from = self
            .active_overrides()
            .map(|o| o.to_ms)
            .filter(|&end| shift_from < end && end <= at_ms)
            .max()
            .unwrap_or(shift_from);
        let to = self
            .active_overrides()
            .map(|o| o.from_ms)
            .filter(|&start| at_ms < start && start < shift_to)
            .min()
            .unwrap_or(shift_to);
        Some(OnCall {
            member,
            from_ms: from,
            to_ms: to,
            by_override: false,
        })
    }

    /// The next instant after `at_ms` when the on-call member may change: the end of what
    /// [`Rotation::on_call_at`] returns, or, when nobody is on call, the first hand-off or the
    /// next override, whichever comes first. A caller sleeps until then.
    pub fn next_change_after(&self, at_ms: i64) -> Option<i64> {
        if let Some(current) = self.on_call_at(at_ms) {
            return Some(current.to_ms);
        }
        let next_override = self
            .active_overrides()
            .map(|o| o.from_ms)
            .filter(|&start| start > at_ms)
            .min();
        let first = self.first_handoff().filter(|&first| first > at_ms);
        match (next_override, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The successive on-call intervals meeting `[from_ms, to_ms)`, in order, with their true
    /// bounds (the first may start before `from_ms`, the last end after `to_ms`), overrides cut
    /// in: at most `limit` of them, and never more than [`MAX_SHIFTS_LISTED`]. Times when nobody
    /// is on call (before the start) are skipped.
    pub fn shifts(&self, from_ms: i64, to_ms: i64, limit: usize) -> Vec<OnCall> {
        let limit = limit.min(MAX_SHIFTS_LISTED);
        let mut listed = Vec::new();
        let mut cursor = from_ms;
        // Each turn lists a shift or jumps to the next start of one: bounded by 2 × limit.
        for _ in 0..=limit.saturating_mul(2) {
            if cursor >= to_ms || listed.len() >= limit {
                break;
            }
            match self.on_call_at(cursor) {
                Some(shift) => {
                    cursor = shift.to_ms;
                    listed.push(shift);
                }
                None => match self.next_change_after(cursor) {
                    Some(next) if next > cursor => cursor = next,
                    _ => break,
                },
            }
        }
        listed
    }

    /// The two overrides that exchange the members of the regular shifts holding
    /// `first_shift_at_ms` and `second_shift_at_ms`: each shift is given to the other member.
    /// Refused when either instant has no regular shift, when both shifts are the same
    /// member's, or when either shift already has an override (remove it first).
    pub fn swap(
        &self,
        first_shift_at_ms: i64,
        second_shift_at_ms: i64,
    ) -> Result<[Override; 2], OnCallError> {
        let zone = self.zone();
        let regular = |at_ms: i64| {
            self.regular_at(at_ms).ok_or_else(|| OnCallError::NoShift {
                rotation: self.name.clone(),
                at: format_instant(&zone, at_ms),
            })
        };
        let (first, first_from, first_to) = regular(first_shift_at_ms)?;
        let (second, second_from, second_to) = regular(second_shift_at_ms)?;
        if first == second {
            return Err(OnCallError::SameMember {
                rotation: self.name.clone(),
                member: first,
            });
        }
        for (member, from, to) in [
            (&first, first_from, first_to),
            (&second, second_from, second_to),
        ] {
            if self
                .active_overrides()
                .any(|o| o.from_ms < to && from < o.to_ms)
            {
                return Err(OnCallError::SwapOverlapsOverride {
                    rotation: self.name.clone(),
                    member: member.clone(),
                    from: format_instant(&zone, from),
                    to: format_instant(&zone, to),
                });
            }
        }
        let reason = |a: &Reference, b: &Reference| {
            Text::parse(&format!("échange de garde entre « {a} » et « {b} »")).ok()
        };
        Ok([
            Override {
                from_ms: first_from,
                to_ms: first_to,
                member: second.clone(),
                reason: reason(&first, &second),
            },
            Override {
                from_ms: second_from,
                to_ms: second_to,
                member: first.clone(),
                reason: reason(&second, &first),
            },
        ])
    }
}

/// A site as on-call routing sees it: itself and its client.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub site: &'a Reference,
    pub client: &'a Reference,
}

/// Who answers for a duty somewhere at an instant, through which rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub rotation: Reference,
    pub on_call: OnCall,
    /// The rotations before it in the fallback order, which had nobody on call: the answer
    /// is a fallback when this is not empty.
    pub passed: Vec<Reference>,
}

/// The rotations of `duty` that answer for `place`, in fallback order (issue 26, item 1):
/// those of the territories naming the site, then those naming its client, then the fleet's
/// (no territory); within each, by rank (primary, secondary…) then name. Without a place (an
/// alarm about no site, such as a rotation with nobody on call), the fleet's only.
pub fn fallback_order<'r>(
    rotations: &'r [Rotation],
    territories: &[Territory],
    place: Option<Place<'_>>,
    duty: Duty,
) -> Vec<&'r Rotation> {
    // 0: the site named, 1: its client named, 2: the whole fleet; None: not for this place.
    let closeness = |rotation: &Rotation| -> Option<u8> {
        let Some(territory) = &rotation.territory else {
            return Some(2);
        };
        // An alarm about no site is the integrator's own: a territory does not answer for it.
        let place = place?;
        territories
            .iter()
            .find(|t| &t.reference == territory)?
            .covers(place.site, place.client)
    };
    let mut ordered: Vec<(u8, &Rotation)> = rotations
        .iter()
        .filter(|r| r.duty == duty)
        .filter_map(|r| Some((closeness(r)?, r)))
        .collect();
    ordered.sort_by(|(a, ra), (b, rb)| (a, ra.rank, &ra.name).cmp(&(b, rb.rank, &rb.name)));
    ordered.into_iter().map(|(_, r)| r).collect()
}

/// Who is on call for `duty` at `place` at `at_ms`: the first rotation of
/// [`fallback_order`] with someone on call, and the ones passed on the way.
pub fn route(
    rotations: &[Rotation],
    territories: &[Territory],
    place: Option<Place<'_>>,
    duty: Duty,
    at_ms: i64,
) -> Option<Answer> {
    let mut passed = Vec::new();
    for rotation in fallback_order(rotations, territories, place, duty) {
        match rotation.on_call_at(at_ms) {
            Some(on_call) => {
                return Some(Answer {
                    rotation: rotation.name.clone(),
                    on_call,
                    passed,
                });
            }
            None => passed.push(rotation.name.clone()),
        }
    }
    None
}

/// The rotations with nobody on call at `at_ms` (before their first hand-off, no override), in
/// name order: each is a "nobody on call" alarm to raise. A fallback rotation (rank 2 and
/// beyond) is left out: it may cover only nights or week-ends by design, and the territory's
/// own gaps are found by [`coverage_gaps`] before they happen.
pub fn uncovered(rotations: &[Rotation], at_ms: i64) -> Vec<Reference> {
    let mut names: Vec<Reference> = rotations
        .iter()
        .filter(|r| r.rank == PRIMARY && r.on_call_at(at_ms).is_none())
        .map(|r| r.name.clone())
        .collect();
    names.sort();
    names
}

/// How far ahead coverage is checked (issue 26, item 1): the coming 14 days.
pub const COVERAGE_HORIZON_MS: i64 = 14 * 86_400_000;
/// The most gaps reported, so that a fleet with no rotation at all gives one readable list.
pub const MAX_COVERAGE_GAPS: usize = 1_000;

/// An interval when nobody answers a duty for some sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageGap {
    pub duty: Duty,
    pub from_ms: i64,
    pub to_ms: i64,
    /// How many sites it leaves without anyone…
    pub site_count: usize,
    /// …and the first of them in reference order, at most [`CoverageGap::SITES_LISTED`]: a
    /// fleet without any rotation is one gap naming every site, which no answer should carry.
    pub sites: Vec<Reference>,
}

impl CoverageGap {
    /// The most sites a warning names; beyond, it says how many more.
    pub const SITES_NAMED: usize = 10;
    /// The most sites a gap lists.
    pub const SITES_LISTED: usize = 1_000;

    /// « du 02/03/2026 09:00 au 09/03/2026 08:00, personne d'astreinte (technicien d'astreinte)
    /// pour 2 sites : LYON-1, LYON-2 », times in `zone`.
    pub fn french(&self, zone: &TimeZone) -> String {
        let when = |ms: i64| {
            crate::calendar::zoned(ms, zone)
                .map(|z| z.strftime("%d/%m/%Y %H:%M").to_string())
                .unwrap_or_else(|| ms.to_string())
        };
        let named: Vec<&str> = self
            .sites
            .iter()
            .take(Self::SITES_NAMED)
            .map(|s| s.as_str())
            .collect();
        let more = self.site_count.saturating_sub(Self::SITES_NAMED);
        format!(
            "du {} au {}, personne d'astreinte ({}) pour {} : {}{}",
            when(self.from_ms),
            when(self.to_ms),
            crate::alarm::escalation::recipient_label(self.duty.recipient()),
            crate::french::count_of(self.site_count as u64, "site", "sites"),
            named.join(", "),
            if more > 0 {
                format!(
                    " et {}",
                    crate::french::count_of(more as u64, "autre", "autres")
                )
            } else {
                String::new()
            }
        )
    }
}

/// Where nobody will be on call for `duty` in `[from_ms, to_ms)`, site by site: the gaps of
/// the union of each site's rotations ([`fallback_order`]). Sites with the same rotations
/// are one computation, so a fleet of thousands of sites under a few territories costs a few
/// walks through the shifts. At most [`MAX_COVERAGE_GAPS`] gaps, earliest first.
pub fn coverage_gaps(
    rotations: &[Rotation],
    territories: &[Territory],
    sites: &[Place<'_>],
    duty: Duty,
    from_ms: i64,
    to_ms: i64,
) -> Vec<CoverageGap> {
    use std::collections::BTreeMap;
    let mut by_rotations: BTreeMap<Vec<Reference>, Vec<Reference>> = BTreeMap::new();
    for place in sites {
        let names = fallback_order(rotations, territories, Some(*place), duty)
            .into_iter()
            .map(|r| r.name.clone())
            .collect();
        by_rotations
            .entry(names)
            .or_default()
            .push(place.site.clone());
    }
    // The same interval for several groups of sites is one gap naming all their sites.
    let mut gaps: BTreeMap<(i64, i64), Vec<Reference>> = BTreeMap::new();
    for (names, group) in by_rotations {
        let covering: Vec<&Rotation> = rotations
            .iter()
            .filter(|r| names.contains(&r.name))
            .collect();
        for (from, to) in holes(&covering, from_ms, to_ms) {
            gaps.entry((from, to))
                .or_default()
                .extend(group.iter().cloned());
        }
    }
    gaps.into_iter()
        .take(MAX_COVERAGE_GAPS)
        .map(|((from_ms, to_ms), mut sites)| {
            sites.sort();
            let site_count = sites.len();
            sites.truncate(CoverageGap::SITES_LISTED);
            CoverageGap {
                duty,
                from_ms,
                to_ms,
                site_count,
                sites,
            }
        })
        .collect()
}

/// The parts of `[from_ms, to_ms)` when none of `rotations` has anyone on call.
fn holes(rotations: &[&Rotation], from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
    let mut covered: Vec<(i64, i64)> = rotations
        .iter()
        .flat_map(|r| r.shifts(from_ms, to_ms, MAX_SHIFTS_LISTED))
        .map(|shift| (shift.from_ms.max(from_ms), shift.to_ms.min(to_ms)))
        .filter(|(from, to)| from < to)
        .collect();
    covered.sort();
    let mut holes = Vec::new();
    let mut reached = from_ms;
    for (from, to) in covered {
        if from > reached {
            holes.push((reached, from));
        }
        reached = reached.max(to);
    }
    if reached < to_ms {
        holes.push((reached, to_ms));
    }
    holes
}

/// Serde for a civil date: written `2026-01-05` (a TOML date) or `"2026-01-05"`, stored as text.
mod civil_date {
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged, expecting = "une date AAAA-MM-JJ, par exemple 2026-01-05")]
    enum Written {
        Text(String),
        Toml(toml::value::Datetime),
    }

    pub(super) fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(date)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Date, D::Error> {
        let text = match Written::deserialize(deserializer)? {
            Written::Text(text) => text,
            Written::Toml(datetime) => datetime.to_string(),
        };
        let text = text.trim();
        let invalid =
            || D::Error::custom(format!("date invalide : « {text} » (attendu AAAA-MM-JJ)"));
        if text.len() != 10 {
            return Err(invalid());
        }
        text.parse::<Date>().map_err(|_| invalid())
    }
}

/// Serde for an instant kept in epoch milliseconds: written RFC 3339 with its offset (a TOML
/// offset date-time or a string), stored as RFC 3339 text in UTC.
mod instant_ms {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser};

    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "un instant avec son décalage horaire, par exemple 2026-07-10T18:00:00+02:00"
    )]
    enum Written {
        Text(String),
        Toml(toml::value::Datetime),
    }

    pub(super) fn serialize<S: Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        let at = Timestamp::from_millisecond(*ms)
            .map_err(|_| <S::Error as ser::Error>::custom("instant hors des dates gérées"))?;
        serializer.collect_str(&at)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let text = match Written::deserialize(deserializer)? {
            Written::Text(text) => text,
            Written::Toml(datetime) => datetime.to_string(),
        };
        let text = text.trim();
        text.parse::<Timestamp>()
            .map(|at| at.as_millisecond())
            .map_err(|_| {
                D::Error::custom(format!(
                    "instant invalide : « {text} » (attendu avec son décalage horaire : 2026-07-10T18:00:00+02:00 ou 2026-07-10T16:00:00Z)"
                ))
            })
    }
}

/// One shift as a calendar event (iCalendar, RFC 5545): what a phone's calendar shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarShift {
    /// Unique and stable across reads, so that a subscribed calendar updates rather than
    /// duplicates: the rotation and the shift's start.
    pub uid: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub summary: String,
    pub description: String,
}

/// Text escaped as an iCalendar TEXT value: backslash, comma, semicolon and line breaks.
fn ical_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ',' => escaped.push_str("\\,"),
            ';' => escaped.push_str("\\;"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// A content line folded at 75 octets (RFC 5545 §3.1), never inside a character, each line
/// ended by CRLF.
fn ical_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let size = c.len_utf8();
        if width + size > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += size;
    }
    out.push_str("\r\n");
}

/// `20260315T070000Z`: an instant in UTC, as iCalendar writes it.
fn ical_instant(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| "19700101T000000Z".into())
}

/// A calendar feed of shifts (`text/calendar`), named `name`, written at `now_ms`.
pub fn calendar_feed(name: &str, shifts: &[CalendarShift], now_ms: i64) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Vigie//Astreintes//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        ical_line(&mut out, line);
    }
    ical_line(&mut out, &format!("X-WR-CALNAME:{}", ical_text(name)));
    // Issue 26, item 8: calendars that honour it ask again every minute, so that a
    // replacement shows within one.
    ical_line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT1M");
    ical_line(&mut out, "X-PUBLISHED-TTL:PT1M");
    let stamp = ical_instant(now_ms);
    for shift in shifts {
        ical_line(&mut out, "BEGIN:VEVENT");
        ical_line(&mut out, &format!("UID:{}", ical_text(&shift.uid)));
        ical_line(&mut out, &format!("DTSTAMP:{stamp}"));
        ical_line(
            &mut out,
            &format!("DTSTART:{}", ical_instant(shift.from_ms)),
        );
        ical_line(&mut out, &format!("DTEND:{}", ical_instant(shift.to_ms)));
        ical_line(&mut out, &format!("SUMMARY:{}", ical_text(&shift.summary)));
        ical_line(
            &mut out,
            &format!("DESCRIPTION:{}", ical_text(&shift.description)),
        );
        ical_line(&mut out, "END:VEVENT");
    }
    ical_line(&mut out, "END:VCALENDAR");
    out
}
