//! Telephone numbers as the SMS channels see them: the E.164 form the caller passes, the forms
//! French gateways expect, and the forms inbound gateways send back.

use crate::DeliveryError;

/// Refuses anything but an E.164 number (`+` then 7 to 15 digits, no leading zero): the
/// server stores numbers in that form, so anything else is a caller's bug, not a retry case.
pub(crate) fn check_e164(to: &str) -> Result<(), DeliveryError> {
    let valid = match to.strip_prefix('+') {
        Some(digits) => {
            (7..=15).contains(&digits.len())
                && digits.bytes().all(|byte| byte.is_ascii_digit())
                && !digits.starts_with('0')
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(DeliveryError::Permanent(format!(
            "numéro invalide « {} » : format international attendu, par exemple « +33612345678 »",
            to.chars().take(40).collect::<String>()
        )))
    }
}

/// The French national form (`0612345678`) of a French E.164 number (`+33612345678`); any
/// other number is returned unchanged, since no national form is known for it.
pub(crate) fn french_national(to_e164: &str) -> String {
    match to_e164.strip_prefix("+33") {
        Some(rest) if rest.len() == 9 => format!("0{rest}"),
        _ => to_e164.to_owned(),
    }
}

/// Normalises a sender number received from a gateway to E.164 when its form is known:
/// `06 12 34 56 78`, `0033612345678`, `33612345678` and `+33 6 12 34 56 78` all become
/// `+33612345678`. Anything else (short codes, names) is returned trimmed, unchanged, so that
/// the caller can still show it.
pub fn normalise_sender(raw: &str) -> String {
    let trimmed = raw.trim();
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}'))
        .collect();
    let all_digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if let Some(digits) = compact.strip_prefix('+') {
        if all_digits(digits) {
            return compact;
        }
    } else if let Some(digits) = compact.strip_prefix("00") {
        if all_digits(digits) && !digits.starts_with('0') {
            return format!("+{digits}");
        }
    } else if all_digits(&compact) {
        // A French national number: 0 then nine digits, the first of which is not 0.
        if compact.len() == 10 && compact.starts_with('0') && !compact[1..].starts_with('0') {
            return format!("+33{}", &compact[1..]);
        }
        // A French number without its "+", as some gateways send it.
        if compact.len() == 11 && compact.starts_with("33") && !compact[2..].starts_with('0') {
            return format!("+{compact}");
        }
    }
    trimmed.to_owned()
}
