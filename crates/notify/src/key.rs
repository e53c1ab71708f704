//! The idempotency key of a delivery: which characters it may hold, so that it can travel in an
//! HTTP header, and how it is written in an e-mail's `Message-ID`.

use crate::DeliveryError;

/// Longest idempotency key accepted; the server's keys are well under 100 characters.
pub const MAX_KEY_CHARS: usize = 200;

/// Refuses a key that could not travel unchanged in a header: empty, too long, or holding
/// anything but visible ASCII (`!` to `~`: no space, no accent, no control character). A bad key
/// is a bug of the caller, so the delivery fails for good instead of being retried.
pub(crate) fn check_key(key: &str) -> Result<(), DeliveryError> {
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DeliveryError::Permanent(format!(
            "clé d'idempotence invalide « {} » : 1 à {MAX_KEY_CHARS} caractères ASCII visibles, \
             sans espace ni accent",
            key.chars().take(MAX_KEY_CHARS).collect::<String>()
        )));
    }
    Ok(())
}

/// `<key@vigie>`, the key's characters that a `Message-ID` cannot hold (`@`, `:`, `<`…,
/// anything outside RFC 5322 `atext` and the dot) written `%XX`, so that two keys never give
/// the same identifier.
pub(crate) fn message_id(key: &str) -> String {
    let mut id = String::with_capacity(key.len() + 8);
    id.push('<');
    for byte in key.bytes() {
        let atext = byte.is_ascii_alphanumeric() || b".!#$&'*+-/=?^_`{|}~".contains(&byte);
        if atext {
            id.push(char::from(byte));
        } else {
            id.push_str(&format!("%{byte:02X}"));
        }
    }
    id.push_str("@vigie>");
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_keeps_atext_and_encodes_the_rest() {
        assert_eq!(
            message_id("alarm-42.critical-astreinte.ST-TECH.email"),
            "<alarm-42.critical-astreinte.ST-TECH.email@vigie>"
        );
        assert_eq!(
            message_id("42/critical/astreinte#2/a@b:c%/email"),
            "<42/critical/astreinte#2/a%40b%3Ac%25/email@vigie>"
        );
    }

    #[test]
    fn keys_must_be_visible_ascii() {
        assert!(check_key("42/critical/astreinte#2/ST-TECH/sms").is_ok());
        for bad in [
            "",
            "a b",
            "clé",
            "a\r\nBcc: x",
            &"x".repeat(MAX_KEY_CHARS + 1),
        ] {
            assert!(check_key(bad).unwrap_err().is_permanent(), "{bad:?}");
        }
    }
}
