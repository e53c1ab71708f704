//! The French wording the reports' sentences share: numbers with a decimal comma, dates as a
//! reader says them (« 1er janvier 2027 »), month names, plurals.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The narrow no-break space between thousands, as the report documents write them.
const THOUSANDS_SEPARATOR: char = '\u{202F}';

/// More decimals than this are noise in a sentence.
const MAX_DECIMALS: u8 = 6;

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

/// A number as a French reader writes it: decimal comma, thousands grouped by a narrow
/// no-break space, `decimals` digits after the comma rounded half away from zero; a rounded
/// zero has no sign, and a value that is not a number is an en dash.
pub fn format_number(value: f64, decimals: u8) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let decimals = decimals.min(MAX_DECIMALS);
    // Half away from zero, as people round (4,25 is « 4,3 »), where the formatter would round
    // half to even.
    let factor = 10f64.powi(i32::from(decimals));
    let half_up = (value.abs() * factor).round() / factor;
    let value_abs = if half_up.is_finite() {
        half_up
    } else {
        value.abs()
    };
    let decimals = usize::from(decimals);
    let rounded = format!("{:.*}", decimals, value_abs);
    let (whole, fraction) = match rounded.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rounded.as_str(), None),
    };
    let is_zero = rounded.bytes().all(|byte| byte == b'0' || byte == b'.');
    let mut text = String::with_capacity(rounded.len() + 8);
    if value < 0.0 && !is_zero {
        text.push('\u{2212}');
    }
    let digits = whole.as_bytes();
    for (index, digit) in digits.iter().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            text.push(THOUSANDS_SEPARATOR);
        }
        text.push(char::from(*digit));
    }
    if let Some(fraction) = fraction {
        text.push(',');
        text.push_str(fraction);
    }
    text
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
    let Ok(instant) = Timestamp::from_millisecond(at_ms) else {
        return "–".into();
    };
    let date = instant.to_zoned(zone.clone()).date();
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
