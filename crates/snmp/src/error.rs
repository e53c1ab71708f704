//! The one error type of the crate: every failure of decoding, security or exchange, in French.

use std::net::SocketAddr;
use std::time::Duration;

use crate::ber::Oid;

/// What can go wrong while decoding, securing or exchanging SNMP messages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "pas de réponse SNMP de {target} après {attempts} tentative(s) de {} ms chacune",
        timeout.as_millis()
    )]
    Timeout {
        target: SocketAddr,
        attempts: u32,
        timeout: Duration,
    },
    #[error(
        "échec d'authentification SNMPv3 : condensat incorrect (mauvais mot de passe ou mauvaise clé)"
    )]
    AuthenticationFailure,
    #[error("utilisateur SNMPv3 inconnu : « {0} »")]
    UnknownUser(String),
    #[error("identifiant de moteur SNMPv3 inconnu de l'agent")]
    UnknownEngineId,
    /// A notification from a known user, sent by an engine this receiver has no keys for.
    #[error(
        "identifiant de moteur SNMPv3 de l'émetteur inconnu pour l'utilisateur « {user} » : {engine_id}"
    )]
    UnknownSenderEngine {
        user: String,
        /// The sender's snmpEngineID in hexadecimal, as net-snmp writes it (`0x…`).
        engine_id: String,
    },
    #[error("échec du déchiffrement SNMPv3 (mauvais mot de passe de confidentialité ?)")]
    DecryptionFailure,
    #[error(
        "message SNMPv3 hors de la fenêtre de temps (horloges de moteur désynchronisées ou rejeu)"
    )]
    NotInTimeWindow,
    #[error("niveau de sécurité SNMPv3 non accepté pour cet utilisateur")]
    UnsupportedSecurityLevel,
    #[error("communauté SNMP refusée : « {0} »")]
    UnknownCommunity(String),
    #[error("paquet SNMP malformé : {0}")]
    Malformed(String),
    #[error("l'agent SNMP a répondu « {} » (code {status}) pour la variable n° {index}", error_status_name(*status))]
    ErrorStatus { status: i32, index: i32 },
    #[error("rapport SNMPv3 inattendu de l'agent : {0}")]
    Report(Oid),
    #[error("parcours SNMP interrompu : l'OID {next} ne suit pas {previous} (agent défectueux)")]
    NonIncreasingOid { previous: Oid, next: Oid },
    #[error("parcours SNMP interrompu : plus de {max_rows} lignes")]
    TooManyRows { max_rows: usize },
    #[error("configuration SNMP invalide : {0}")]
    Configuration(String),
    #[error("fonction SNMP non prise en charge : {0}")]
    Unsupported(String),
    #[error("erreur réseau SNMP : {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Shorthand used by the decoders.
    pub(crate) fn malformed(reason: impl Into<String>) -> Error {
        Error::Malformed(reason.into())
    }
}

/// The RFC 3416 name of an error-status, for messages.
pub fn error_status_name(status: i32) -> &'static str {
    match status {
        0 => "noError",
        1 => "tooBig",
        2 => "noSuchName",
        3 => "badValue",
        4 => "readOnly",
        5 => "genErr",
        6 => "noAccess",
        7 => "wrongType",
        8 => "wrongLength",
        9 => "wrongEncoding",
        10 => "wrongValue",
        11 => "noCreation",
        12 => "inconsistentValue",
        13 => "resourceUnavailable",
        14 => "commitFailed",
        15 => "undoFailed",
        16 => "authorizationError",
        17 => "notWritable",
        18 => "inconsistentName",
        _ => "inconnu",
    }
}
