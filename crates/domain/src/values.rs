//! Values parsed at the edge ("parse, don't validate"): once built, a reference, a phone number,
//! an email address or a time zone is known to be well formed everywhere else.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::quoted;

/// Why a value was refused, in French, ready to show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

macro_rules! string_value {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, InvalidValue> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

/// The text newtypes of other modules (`supervision`'s check and metric names) share these.
pub(crate) use string_value;

/// The stable reference of an inventory object (`BNP-PAR01-CAM-012`): what files, the API and
/// URLs use to name it. ASCII letters, digits, `-`, `_` and `.`, 1 to 64 characters, starting
/// with a letter or a digit, so that it is safe in a URL path and in a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference(String);
string_value!(Reference);

impl Reference {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if value.is_empty() {
            return Err(InvalidValue("la référence est vide".into()));
        }
        if value.len() > Self::MAX_LEN {
            return Err(InvalidValue(format!(
                "la référence {} dépasse {} caractères",
                quoted(value),
                Self::MAX_LEN
            )));
        }
        if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) || !value.chars().all(ok_char) {
            return Err(InvalidValue(format!(
                "la référence {} ne doit contenir que des lettres sans accent, des chiffres, « - », « _ » ou « . », et commencer par une lettre ou un chiffre",
                quoted(value)
            )));
        }
        Ok(Self(value.to_string()))
    }
}

/// A person's or an object's display name: trimmed, not empty, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);
string_value!(Name);

impl Name {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue("le nom est vide".into()));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue(format!(
                "le nom dépasse {} caractères",
                Self::MAX_CHARS
            )));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidValue(
                "le nom contient un caractère de contrôle".into(),
            ));
        }
        Ok(Self(trimmed.to_string()))
    }
}

/// A free text field (address, model, firmware): trimmed, at most 500 characters, no control
/// characters other than line breaks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);
string_value!(Text);

impl Text {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let trimmed = value.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue(format!(
                "le texte dépasse {} caractères",
                Self::MAX_CHARS
            )));
        }
        if trimmed.chars().any(|c| c.is_control() && c != '\n') {
            return Err(InvalidValue(
                "le texte contient un caractère de contrôle".into(),
            ));
        }
        Ok(Self(trimmed.to_string()))
    }
}

/// An email address: one `@`, a non-empty local part, a domain with a dot, no spaces.
/// Deliberately simple: the mail server is the final judge, this only stops typing mistakes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);
string_value!(EmailAddress);

impl EmailAddress {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let value = value.trim();
        let invalid = || InvalidValue(format!("adresse email invalide : {}", quoted(value)));
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@');
        if !domain_ok || !local_ok || value.len() > 254 {
            return Err(invalid());
        }
        Ok(Self(value.to_lowercase()))
    }
}

/// A phone number in E.164 (`+33612345678`). A French national number (`06 12 34 56 78`)
/// is accepted and normalised, since that is how the integrator's staff write them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);
string_value!(PhoneNumber);

impl PhoneNumber {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue(format!(
                "numéro de téléphone invalide : {} (attendu au format international E.164, par exemple +33612345678)",
                quoted(value)
            ))
        };
        let compact: String = value
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let international = if let Some(digits) = compact.strip_prefix('+') {
            digits.to_string()
        } else if let Some(digits) = compact.strip_prefix("00") {
            digits.to_string()
        } else if compact.len() == 10 && compact.starts_with('0') && !compact.starts_with("00") {
            format!("33{}", &compact[1..])
        } else {
            return Err(invalid());
        };
        // E.164: country code first (never 0), at most 15 digits in all.
        let ok = (8..=15).contains(&international.len())
            && international.chars().all(|c| c.is_ascii_digit())
            && !international.starts_with('0');
        // French numbers have exactly 9 digits after +33 and no trunk 0.
        let french_ok = !international.starts_with("33")
            || (international.len() == 11 && !international[2..].starts_with('0'));
        if !ok || !french_ok {
            return Err(invalid());
        }
        Ok(Self(format!("+{international}")))
    }
}

/// An IANA time zone name known to the bundled time zone database (`Europe/Paris`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);
string_value!(TimeZoneName);

impl TimeZoneName {
    pub const PARIS: &'static str = "Europe/Paris";

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match jiff::tz::TimeZone::get(value) {
            Ok(_) => Ok(Self(value.to_string())),
            Err(_) => Err(InvalidValue(format!(
                "fuseau horaire inconnu : {} (exemple : Europe/Paris)",
                quoted(value)
            ))),
        }
    }

    pub fn paris() -> Self {
        Self(Self::PARIS.to_string())
    }

    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).expect("checked when parsed")
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::paris()
    }
}

/// A duration written the way people write them in a file: `90s`, `30min`, `4h`, `1h30`,
/// `2d`. Kept in seconds; at most 366 days, since no deadline or interval is longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DurationSpec {
    seconds: u64,
}

impl DurationSpec {
    pub const MAX_SECONDS: u64 = 366 * 24 * 3600;

    pub fn from_seconds(seconds: u64) -> Self {
        Self { seconds }
    }

    pub fn seconds(self) -> u64 {
        self.seconds
    }

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue(format!(
                "durée invalide : {} (exemples : 90s, 30m, 4h, 1h30m, 2d)",
                quoted(value)
            ))
        };
        let text = value.trim().to_lowercase().replace(' ', "");
        if text.is_empty() {
            return Err(invalid());
        }
        let mut seconds: u64 = 0;
        let mut rest = text.as_str();
        let mut last_unit_was_hour = false;
        while !rest.is_empty() {
            let digits_len = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits_len == 0 || digits_len > 9 {
                return Err(invalid());
            }
            let number: u64 = rest[..digits_len].parse().map_err(|_| invalid())?;
            rest = &rest[digits_len..];
            let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let factor = match unit {
                "s" => 1,
                "min" | "m" => 60,
                "h" => 3600,
                "d" | "j" => 86_400,
                // `1h30`: minutes after hours without a unit.
                "" if last_unit_was_hour && rest.is_empty() => 60,
                _ => return Err(invalid()),
            };
            last_unit_was_hour = unit == "h";
            seconds = seconds
                .checked_add(number.checked_mul(factor).ok_or_else(invalid)?)
                .ok_or_else(invalid)?;
        }
        if seconds > Self::MAX_SECONDS {
            return Err(InvalidValue(format!(
                "durée trop longue : {} (au plus 366 jours)",
                quoted(value)
            )));
        }
        Ok(Self { seconds })
    }
}

impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s == 0 {
            return f.write_str("0s");
        }
        let (days, hours, minutes, secs) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
        if days > 0 {
            write!(f, "{days}d")?;
        }
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 {
            write!(f, "{minutes}min")?;
        }
        if secs > 0 {
            write!(f, "{secs}s")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for DurationSpec {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, InvalidValue> {
        Self::parse(&value)
    }
}

impl From<DurationSpec> for String {
    fn from(value: DurationSpec) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn references_are_url_safe() {
        assert!(Reference::parse("BNP-PAR01-CAM-012").is_ok());
        assert!(Reference::parse("a.b_c").is_ok());
        for bad in ["", "-x", "a b", "é", "a/b", "../x", &"x".repeat(65)] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn phone_numbers_are_normalised_to_e164() {
        assert_eq!(
            PhoneNumber::parse("06 12 34 56 78").unwrap().as_str(),
            "+33612345678"
        );
        assert_eq!(
            PhoneNumber::parse("+33 1 42 00 00 00").unwrap().as_str(),
            "+33142000000"
        );
        assert_eq!(
            PhoneNumber::parse("0032 2 555 12 12").unwrap().as_str(),
            "+3225551212"
        );
        assert_eq!(
            PhoneNumber::parse("+33612345678").unwrap().as_str(),
            "+33612345678"
        );
        for bad in [
            "",
            "abc",
            "+33 6 12",
            "612345678",
            "+33 06 12 34 56 78",
            "+0612345678",
            "+1234567890123456",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn email_addresses() {
        assert_eq!(
            EmailAddress::parse(" Jean.Dupont@Example.fr ")
                .unwrap()
                .as_str(),
            "jean.dupont@example.fr"
        );
        for bad in [
            "",
            "jean",
            "jean@",
            "@x.fr",
            "jean@x",
            "je an@x.fr",
            "a@b..fr",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn time_zones_come_from_the_bundled_database() {
        assert!(TimeZoneName::parse("Europe/Paris").is_ok());
        assert!(TimeZoneName::parse("America/Martinique").is_ok());
        assert!(TimeZoneName::parse("Europe/Lutece").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(DurationSpec::parse("30min").unwrap().seconds(), 1800);
        assert_eq!(DurationSpec::parse("1h30").unwrap().seconds(), 5400);
        assert_eq!(DurationSpec::parse("2d").unwrap().seconds(), 172_800);
        assert_eq!(DurationSpec::parse("90s").unwrap().seconds(), 90);
        for bad in ["", "h", "10", "3 ans", "-1h", "400d"] {
            assert!(DurationSpec::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn durations_print_and_parse_back(seconds in 0u64..DurationSpec::MAX_SECONDS) {
            let d = DurationSpec::from_seconds(seconds);
            prop_assert_eq!(DurationSpec::parse(&d.to_string()).unwrap(), d);
        }

        #[test]
        fn e164_numbers_parse_to_themselves(digits in "[1-9][0-9]{7,14}") {
            prop_assume!(!digits.starts_with("33") || digits.len() == 11);
            prop_assume!(!digits.starts_with("330"));
            let number = format!("+{digits}");
            let parsed = PhoneNumber::parse(&number).unwrap();
            prop_assert_eq!(parsed.as_str(), number.as_str());
        }
    }
}
