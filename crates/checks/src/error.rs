//! The one error type of every check, with French messages for the people reading alarms.

use std::time::Duration;

/// Why a check could not reach a verdict on the equipment.
///
/// A check that got an answer, even a bad one (HTTP 500, RTSP 404), returns an outcome, not
/// an error: only the absence of a usable answer is an error here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("délai dépassé : aucune réponse en {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("connexion refusée")]
    Refused,
    #[error("équipement injoignable : {0}")]
    Unreachable(String),
    #[error("erreur TLS : {0}")]
    Tls(String),
    #[error("authentification refusée : {0}")]
    AuthenticationRefused(String),
    #[error("faute SOAP {code} : {reason}")]
    SoapFault { code: String, reason: String },
    #[error("erreur de protocole : {0}")]
    Protocol(String),
    #[error("cible invalide : {0}")]
    InvalidTarget(String),
}

impl CheckError {
    /// Maps an error met while connecting: a refusal is told apart because it means the host
    /// answered (the service is down), while anything else means the host itself is not there.
    pub(crate) fn from_connect(error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::ConnectionRefused => CheckError::Refused,
            _ => CheckError::Unreachable(error.to_string()),
        }
    }

    /// Maps an error met after the connection was established.
    pub(crate) fn from_exchange(error: std::io::Error) -> Self {
        CheckError::Protocol(format!("échange interrompu : {error}"))
    }
}

/// Runs `future` within `timeout`, turning the elapsed deadline into [`CheckError::Timeout`].
pub(crate) async fn within<T>(
    timeout: Duration,
    future: impl Future<Output = Result<T, CheckError>>,
) -> Result<T, CheckError> {
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result,
        Err(_elapsed) => Err(CheckError::Timeout(timeout)),
    }
}
