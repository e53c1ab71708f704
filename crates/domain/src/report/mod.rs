//! The analytics of the monthly reports (issue 9, DSH-2, CLO-3, SAV-7): plain data in, plain
//! data out (every result is `Serialize`), no IO and no clock. The store reads the facts, the
//! `vigie-report` crate lays the results out; this module computes in between.
//!
//! - [`period`]: [`Month`] (`Month::parse("2026-11")`, `previous`, `label` « novembre 2026 »,
//!   `bounds(zone)` local midnight to local midnight, `days(zone)` of 23, 24 or 25 hours) and
//!   [`Period`] for reports on demand over any interval (at most [`MAX_PERIOD_DAYS`]).
//! - [`availability`]: the exact availability of an equipment — up, down, unknown and
//!   maintenance durations that add up to the period ([`Measure`], `rate() = up ÷ (up +
//!   down)`, summed over a site or a client with `+` or `Sum`) — by [`equipment_measure`],
//!   per local day by [`equipment_days`] in the same pass, its [`outages`] for the incidents
//!   table, and the planned maintenance from a site's windows by [`maintenance_intervals`]
//!   (the alarms' own rules, `alarm::window`). The formula is in the module's documentation
//!   and in `docs/reports.md` (« Calcul de la disponibilité »).
//! - [`signals`]: weak signals of future failure (a disk filling, a temperature rising, an
//!   equipment cutting out more and more, alarms repeating) with a French explanation and
//!   recommendation each, by [`weak_signals`], thresholds from the policy's `[reports]`.
//! - [`review`]: the alarm review of a site for its security manager, by [`alarm_review`].
//! - [`satisfaction`]: the surveys' monthly analysis, by [`satisfaction_analysis`].
//!
//! Their sentences write figures and dates with [`crate::french`], the product's one French
//! formatter.
//!
//! Instants are UTC epoch milliseconds; local days and dates are those of the site's time
//! zone, given by the caller (`Europe/Paris` unless the site says otherwise).

pub mod availability;
pub mod period;
pub mod review;
pub mod satisfaction;
pub mod signals;

pub use availability::{
    CheckHistory, Measure, State, equipment_days, equipment_measure, maintenance_intervals, outages,
};
pub use period::{MAX_PERIOD_DAYS, Month, Period};
pub use review::{AlarmFacts, AlarmReview, alarm_review};
pub use satisfaction::{MonthSurveys, SatisfactionAnalysis, SurveyFacts, satisfaction_analysis};
pub use signals::{EquipmentFacts, Series, Signal, SignalFacts, WeakSignals, weak_signals};

/// Why a report's input was refused, in French for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("mois invalide : « {0} » (attendu AAAA-MM, par exemple 2026-11)")]
    InvalidMonth(String),
    #[error("période invalide : {0}")]
    InvalidPeriod(String),
    #[error("trop de données : {0}")]
    TooMany(String),
}
