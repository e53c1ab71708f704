//! French conventions for text a person reads: numbers with a decimal comma and spaced
//! thousands, and the no-break spaces French punctuation wants.

/// The narrow no-break space (« espace fine insécable »): thousands separator, and the space
/// before `;`, `!`, `?`, `%` and inside « », so that a line never starts with them.
pub const NARROW_NO_BREAK_SPACE: char = '\u{202F}';

/// The no-break space (« espace insécable »), before `:` as French typography wants.
pub const NO_BREAK_SPACE: char = '\u{00A0}';

/// Beyond this many decimals a figure is noise in a report; more are refused by clamping.
pub const MAX_DECIMALS: u8 = 6;

/// What is shown for a value that is not a number (NaN, infinite): an en dash, as in a table
/// cell with nothing to show.
pub const NO_VALUE: &str = "–";

/// A number as a French reader writes it: decimal comma, thousands grouped by a narrow
/// no-break space, the minus sign (U+2212), `decimals` digits after the comma (at most
/// [`MAX_DECIMALS`]). `1234.5` with 1 decimal is `1 234,5`; `-0.04` with 1 decimal is `0,0`
/// (a rounded zero has no sign).
pub fn format_number(value: f64, decimals: u8) -> String {
    if !value.is_finite() {
        return NO_VALUE.to_string();
    }
    let decimals = usize::from(decimals.min(MAX_DECIMALS));
    let rounded = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match rounded.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rounded.as_str(), None),
    };
    let is_zero = rounded.bytes().all(|byte| byte == b'0' || byte == b'.');
    let mut text = String::with_capacity(rounded.len() + 8);
    if value < 0.0 && !is_zero {
        text.push('\u{2212}');
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
    if let Some(fraction) = fraction {
        text.push(',');
        text.push_str(fraction);
    }
    text
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
/// space, the one before `;`, `!`, `?`, `%` a narrow no-break space, and « » get narrow no-break
/// spaces inside (added when missing), and the space of « n° 12 » a no-break space. Only an existing space is changed before `:;!?`, so
/// that `10:30`, `https://…`, `a?b` or `50%` stay as they are. Nothing else is touched: the text is
/// shown, never interpreted.
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
                match chars.peek().copied() {
                    Some(' ' | NO_BREAK_SPACE | NARROW_NO_BREAK_SPACE) => {
                        chars.next();
                        out.push(NARROW_NO_BREAK_SPACE);
                    }
                    _ => out.push(NARROW_NO_BREAK_SPACE),
                }
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
            (1_234_567.891, 2, "1_234_567,89"),
            (-1234.0, 0, "\u{2212}1_234"),
            (-0.04, 1, "0,0"),
            (-0.0, 0, "0"),
            (12.0, 200, "12,000000"),
            (1e21, 0, "1_000_000_000_000_000_000_000"),
            (f64::NAN, 1, "–"),
            (f64::INFINITY, 1, "–"),
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
