//! The errors of the crate: why a delivery failed (retry or give up), and why a channel's
//! configuration was refused. Their messages are French, for the people reading the journal.

use crate::MAX_TIMEOUT_MS;

/// Why a delivery failed: retry later, or never.
///
/// The caller decides what to do with it (retry after a delay, try another channel,
/// escalate); this crate only says whether trying again the same way can succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The peer was unreachable, slow, overloaded or asked to come back later: the same
    /// message may go through on a later attempt.
    #[error("échec temporaire : {0}")]
    Transient(String),
    /// The peer refused the message for good (unknown recipient, bad credentials, request
    /// refused): sending it again unchanged will fail again.
    #[error("échec définitif : {0}")]
    Permanent(String),
}

impl DeliveryError {
    /// True when retrying the same delivery is pointless.
    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Permanent(_))
    }
}

/// Why a channel's configuration was refused; each message names the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("adresse invalide « {url} » : {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("méthode HTTP inconnue « {0} » : POST ou GET attendu")]
    UnknownMethod(String),
    #[error("variable inconnue « {{{placeholder}}} » dans {location} : seules {known} existent")]
    UnknownPlaceholder {
        placeholder: String,
        location: String,
        /// The gateway's placeholders, as the message lists them.
        known: &'static str,
    },
    #[error("en-tête HTTP invalide « {name} » : {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("modèle de corps invalide : {0}")]
    InvalidBody(String),
    #[error("délai invalide : {0} ms (attendu entre 1 et {MAX_TIMEOUT_MS} ms)")]
    InvalidTimeout(u64),
    #[error("limite d'envoi invalide : {max} SMS par {per_ms} ms (au moins 1 SMS par 1 ms)")]
    InvalidRateLimit { max: u32, per_ms: i64 },
    #[error("secret vide : la signature des webhooks exige un secret")]
    EmptySecret,
    #[error("adresse d'expéditeur invalide « {value} » : {reason}")]
    InvalidSender { value: String, reason: String },
    #[error("adresse de réponse invalide « {value} » : {reason}")]
    InvalidReplyTo { value: String, reason: String },
    #[error("serveur SMTP mal configuré : {0}")]
    InvalidSmtp(String),
    #[error("boîte IMAP mal configurée : {0}")]
    InvalidImap(String),
    #[error("configuration TLS impossible : {0}")]
    Tls(String),
}

/// Checks a timeout against the crate's bound: zero would fail every delivery, and an
/// unbounded one would let a silent peer hold a notification worker forever.
pub(crate) fn check_timeout(timeout_ms: u64) -> Result<std::time::Duration, ConfigError> {
    if timeout_ms == 0 || timeout_ms > MAX_TIMEOUT_MS {
        return Err(ConfigError::InvalidTimeout(timeout_ms));
    }
    Ok(std::time::Duration::from_millis(timeout_ms))
}

/// An error and its chain of causes on one line: libraries put the useful part (refused,
/// certificate unknown…) in the causes, not in the top-level message.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some libraries repeat their cause in their own message.
        if !text.contains(&cause_text) {
            text.push_str(" : ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
