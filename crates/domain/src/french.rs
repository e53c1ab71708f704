//! The French of Vigie's figures, one formatter for the whole product: numbers with a decimal
//! comma, spaced thousands and one rounding (half away from zero), quantities with their unit
//! and the no-break spaces of French punctuation (`french/typography.rs`, which `vigie-report`
//! compiles too); and the words around figures in sentences — dates as a reader says them
//! (« 1er janvier 2027 »), month names, plurals, changes in points.

use jiff::tz::TimeZone;

mod typography;

pub use typography::{
    MAX_DECIMALS, NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE, NO_VALUE, format_number, format_quantity,
    french_spacing,
};

/// The months in French, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// An availability (a rate from 0 to 1) in %, cut — not rounded — to `decimals`: 99,996 %
/// is written « 99,99 % », so that a month with any downtime never reads « 100,00 % » and a
/// rate just under a contractual target never reads as meeting it.
pub fn availability_percent(rate: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals.min(MAX_DECIMALS)));
    // The tolerance keeps a rate whose binary value falls just under its decimal one (0.9999
    // is 0.99989999…) at its decimal figure; it could lift a rate within a millionth of a
    // hundredth under 1 to 100, which the cap below forbids.
    let cut = ((rate * 100.0 * scale) + 1e-6).floor() / scale;
    if rate < 1.0 {
        cut.min(100.0 - 1.0 / scale)
    } else {
        cut
    }
}

/// A small rate of change with enough decimals to be seen: one from 0.1 up, two below, so that
/// 0.04 point a day is not written « 0,0 ».
pub fn format_rate(value: f64) -> String {
    if value.abs() >= 0.095 {
        format_number(value, 1)
    } else {
        format_number(value, 2)
    }
}

/// A change in points as a sentence says it (« 0,4 point », « 2,5 points »), the plural decided
/// on the number as written.
pub fn format_points(value: f64) -> String {
    let written = format_rate(value);
    let shown: f64 = written
        .replace(',', ".")
        .replace('\u{2212}', "-")
        .parse()
        .unwrap_or(value);
    format!("{written} {}", points_after(shown))
}

/// The local date of an instant in `zone`, as a French reader says it: « 12 janvier 2027 »,
/// « 1er mars 2027 ».
pub fn format_date(at_ms: i64, zone: &TimeZone) -> String {
    let Some(date) = crate::calendar::zoned(at_ms, zone).map(|z| z.date()) else {
        return NO_VALUE.into();
    };
    let day = match date.day() {
        1 => "1er".to_string(),
        day => day.to_string(),
    };
    format!(
        "{day} {} {}",
        MONTH_NAMES[usize::try_from(date.month() - 1).unwrap_or(0)],
        date.year()
    )
}

/// `count` followed by its noun, singular for 0 and 1 as French has it.
pub fn count_of(count: u64, singular: &str, plural: &str) -> String {
    let noun = if count <= 1 { singular } else { plural };
    format!("{} {noun}", format_number(count as f64, 0))
}

/// « point » or « points » after a difference: French puts the plural from 2 on.
pub fn points_after(difference: f64) -> &'static str {
    if difference.abs() >= 2.0 {
        "points"
    } else {
        "point"
    }
}
