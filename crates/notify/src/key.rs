//! The idempotency key of a delivery: which characters it may hold, so that it lands unchanged
//! in a `Message-ID`, an HTTP header, a URL or a JSON string.

use crate::DeliveryError;

/// Longest idempotency key accepted; the server's keys are well under 100 characters.
pub const MAX_KEY_CHARS: usize = 200;

/// Refuses a key that would need escaping somewhere it is sent. A bad key is a bug of the
/// caller, so the delivery fails for good instead of being retried.
///
/// Allowed: ASCII letters and digits, and `. - _ + = ~ ! # $ % & ' * / ? ^ ` { | }` (the
/// characters of an e-mail `Message-ID`, RFC 5322 `atext`, and the dot).
pub(crate) fn check_key(key: &str) -> Result<(), DeliveryError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_+=~!#$%&'*/?^`{|}".contains(c);
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.chars().all(allowed) {
        return Err(DeliveryError::Permanent(format!(
            "clé d'idempotence invalide « {} » : 1 à {MAX_KEY_CHARS} caractères parmi les \
             lettres et chiffres ASCII et « .-_+=~!#$%&'*/?^`{{|}} »",
            key.chars().take(MAX_KEY_CHARS).collect::<String>()
        )));
    }
    Ok(())
}
