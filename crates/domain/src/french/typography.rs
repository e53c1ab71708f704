//! French typography for figures and text a person reads: numbers with a decimal comma, spaced
//! thousands and the rounding people use, a quantity and its unit, the no-break spaces of
//! French punctuation.
//!
//! Only the standard library, and no `crate::` path: `vigie-report`, which depends on no other
//! Vigie crate, compiles this very file (`#[path]` in its `lib.rs`), so that a figure is written
//! the same way in the domain's sentences, the server's reports and the reports' charts.

/// The narrow no-break space (« espace fine insécable »): thousands separator, and the space
/// before `;`, `!`, `?`, `%` and inside « », so that a line never starts with them.
pub const NARROW_NO_BREAK_SPACE: char = '\u{202F}';

/// The no-break space (« espace insécable »), before `:` as French typography wants.
pub const NO_BREAK_SPACE: char = '\u{00A0}';

/// Beyond this many decimals a figure is noise; more are refused by clamping.
pub const MAX_DECIMALS: u8 = 6;

/// What is shown for a value that is not a number (NaN, infinite): an en dash, as in a table
/// cell with nothing to show.
pub const NO_VALUE: &str = "–";

/// The minus sign (U+2212), wider than a hyphen, as French typography writes it.
const MINUS_SIGN: char = '\u{2212}';

/// A number as a French reader writes it: decimal comma, thousands grouped by a narrow no-break
/// space, the minus sign (U+2212), `decimals` digits after the comma (at most
/// [`MAX_DECIMALS`]) rounded half away from zero — « la moitié vers le haut » of
/// `docs/reports.md`: `4.25` with 1 decimal is `4,3`, `-2.5` with none `−3`. `1234.5` with 1
/// decimal is `1 234,5`; a rounded zero has no sign (`-0.04` is `0,0`); a value that is not a
/// number is [`NO_VALUE`].
pub fn format_number(value: f64, decimals: u8) -> String {
    if !value.is_finite() {
        return NO_VALUE.to_string();
    }
    let (whole, fraction) = rounded_digits(value.abs(), usize::from(decimals.min(MAX_DECIMALS)));
    let is_zero = whole
        .bytes()
        .chain(fraction.bytes())
        .all(|digit| digit == b'0');
    let mut text = String::with_capacity(whole.len() + fraction.len() + 8);
    if value < 0.0 && !is_zero {
        text.push(MINUS_SIGN);
    }
    // Groups of three from the right; a four-digit number is grouped too (« 1 234 »), as the
    // Imprimerie nationale does in tables, so that columns of figures line up.
    let digits = whole.as_bytes();
    for (index, digit) in digits.iter().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            text.push(NARROW_NO_BREAK_SPACE);
        }
        text.push(char::from(*digit));
    }
    if !fraction.is_empty() {
        text.push(',');
        text.push_str(&fraction);
    }
    text
}

/// The whole and fractional digits of `value` (not negative) rounded to `decimals` places,
/// half away from zero. The rounding is done on the number as written — the shortest decimal
/// that reads back as the same `f64` — not on its binary approximation: `1.005` is `1,01`,
/// where rounding `1.00499999999999989…` would give `1,00`, and no reader would understand.
fn rounded_digits(value: f64, decimals: usize) -> (String, String) {
    // `Display` writes that shortest decimal, and never in exponent form (`1e21` is 22 digits).
    let written = value.to_string();
    let (whole, fraction) = written.split_once('.').unwrap_or((&written, ""));
    // The digits kept: the whole part, then the fraction padded with zeros to `decimals`.
    let kept_fraction = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(decimals);
    let mut digits: Vec<u8> = whole.bytes().chain(kept_fraction).collect();
    let half_or_more = fraction
        .as_bytes()
        .get(decimals)
        .is_some_and(|first_dropped| *first_dropped >= b'5');
    if half_or_more {
        // Add one to the last digit kept, carrying through the nines (« 99,95 » is « 100,0 »).
        let mut carried = true;
        for digit in digits.iter_mut().rev() {
            if *digit == b'9' {
                *digit = b'0';
            } else {
                *digit += 1;
                carried = false;
                break;
            }
        }
        if carried {
            digits.insert(0, b'1');
        }
    }
    let fraction = digits.split_off(digits.len() - decimals);
    (
        String::from_utf8(digits).unwrap_or_default(),
        String::from_utf8(fraction).unwrap_or_default(),
    )
}

/// A number followed by its unit with a narrow no-break space (`99,5 %`, `1 234 Go`); no
/// space when the unit is empty; [`NO_VALUE`] alone for a value that is not a number.
pub fn format_quantity(value: f64, decimals: u8, unit: &str) -> String {
    let number = format_number(value, decimals);
    if unit.is_empty() || !value.is_finite() {
        number
    } else {
        format!("{number}{NARROW_NO_BREAK_SPACE}{unit}")
    }
}

/// French punctuation spacing of a text: the ordinary space before `:` becomes a no-break
/// space, the one before `;`, `!`, `?`, `%` a narrow no-break space, « » get narrow no-break
/// spaces inside (added when missing), and the space of « n° 12 » a no-break space. Only an
/// existing space is changed before `:;!?`, so that `10:30`, `https://…`, `a?b` or `50%` stay as
/// they are. Nothing else is touched: the text is shown, never interpreted.
pub fn french_spacing(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(current) = chars.next() {
        match current {
            ' ' | NO_BREAK_SPACE | NARROW_NO_BREAK_SPACE => match chars.peek().copied() {
                Some(':') => out.push(NO_BREAK_SPACE),
                // « n° 12 » is never split across lines.
                Some(digit)
                    if digit.is_ascii_digit() && (out.ends_with("n°") || out.ends_with("N°")) =>
                {
                    out.push(NO_BREAK_SPACE)
                }
                Some(';' | '!' | '?' | '»' | '%') => out.push(NARROW_NO_BREAK_SPACE),
                _ => out.push(current),
            },
            '«' => {
                out.push('«');
                if let Some(' ' | NO_BREAK_SPACE | NARROW_NO_BREAK_SPACE) = chars.peek().copied() {
                    chars.next();
                }
                out.push(NARROW_NO_BREAK_SPACE);
            }
            '»' => {
                if !out.ends_with([' ', NO_BREAK_SPACE, NARROW_NO_BREAK_SPACE]) {
                    out.push(NARROW_NO_BREAK_SPACE);
                }
                out.push('»');
            }
            _ => out.push(current),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        text.replace(NARROW_NO_BREAK_SPACE, "_")
            .replace(NO_BREAK_SPACE, "~")
    }

    #[test]
    fn numbers_are_written_the_french_way() {
        let cases: &[(f64, u8, &str)] = &[
            (0.0, 0, "0"),
            (0.0, 2, "0,00"),
            (7.0, 0, "7"),
            (999.0, 0, "999"),
            (1000.0, 0, "1_000"),
            (1234.5, 1, "1_234,5"),
            (1234.56, 1, "1_234,6"),
            (99.95, 1, "100,0"),
            (99.5, 1, "99,5"),
            (999.5, 0, "1_000"),
            (1_234_567.891, 2, "1_234_567,89"),
            (-1234.0, 0, "\u{2212}1_234"),
            (-0.04, 1, "0,0"),
            (-0.0, 0, "0"),
            (0.000_000_4, 6, "0,000000"),
            (12.0, 200, "12,000000"),
            (1e21, 0, "1_000_000_000_000_000_000_000"),
            (f64::NAN, 1, "–"),
            (f64::INFINITY, 1, "–"),
            (f64::NEG_INFINITY, 0, "–"),
        ];
        for (value, decimals, expected) in cases {
            assert_eq!(
                plain(&format_number(*value, *decimals)),
                *expected,
                "{value} with {decimals} decimals"
            );
        }
    }

    #[test]
    fn the_half_goes_away_from_zero_on_the_number_as_written() {
        let cases: &[(f64, u8, &str)] = &[
            // Exact halves in binary, which the standard formatter rounds to even.
            (4.25, 1, "4,3"),
            (0.125, 2, "0,13"),
            (2.5, 0, "3"),
            (-2.5, 0, "\u{2212}3"),
            (87.125, 2, "87,13"),
            // Halves that binary holds just below: rounded as they are written.
            (1.005, 2, "1,01"),
            (0.285, 2, "0,29"),
            (4.35, 1, "4,4"),
            // Below the half, whatever follows.
            (99.994_999, 2, "99,99"),
            (4.249_999, 1, "4,2"),
        ];
        for (value, decimals, expected) in cases {
            assert_eq!(
                plain(&format_number(*value, *decimals)),
                *expected,
                "{value} with {decimals} decimals"
            );
        }
    }

    #[test]
    fn quantities_put_a_narrow_space_before_the_unit() {
        assert_eq!(plain(&format_quantity(99.5, 1, "%")), "99,5_%");
        assert_eq!(plain(&format_quantity(12345.0, 0, "Go")), "12_345_Go");
        assert_eq!(plain(&format_quantity(3.0, 0, "")), "3");
        assert_eq!(format_quantity(f64::NAN, 1, "%"), "–");
    }

    #[test]
    fn punctuation_gets_its_french_spaces() {
        let cases = [
            ("Disponibilité : 99 %", "Disponibilité~: 99_%"),
            ("50% de 10:30", "50% de 10:30"),
            ("Site n° 12, N° 3, n° x", "Site n°~12, N°~3, n° x"),
            (
                "Attention ! Pourquoi ? Voilà ; fin",
                "Attention_! Pourquoi_? Voilà_; fin",
            ),
            ("« Caméra »", "«_Caméra_»"),
            ("«Caméra»", "«_Caméra_»"),
            ("10:30 https://x.fr a?b", "10:30 https://x.fr a?b"),
            (
                "#import \"x\": ] $ @x <script>",
                "#import \"x\": ] $ @x <script>",
            ),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(plain(&french_spacing(text)), expected, "{text}");
        }
    }
}
