//! TLS: the client configuration used by the checks, a certificate verifier that records the
//! device's end-entity certificate (even self-signed or expired, as cameras' usually are), and
//! the plain "what certificate does this port present" check.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::CheckError;
use crate::error::within;

/// Largest end-entity certificate we keep and parse; real device certificates are a few KiB.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// What the checks report about a server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Distinguished name, RFC 4514 style (`CN=camera-12, O=Acme`).
    pub subject: String,
    pub issuer: String,
    pub not_before: jiff::Timestamp,
    pub not_after: jiff::Timestamp,
    /// Subject equals issuer and the certificate's signature verifies with its own key.
    pub self_signed: bool,
}

/// Connects to `address` (`host:port`), performs a TLS handshake presenting `server_name`
/// (a DNS name or an IP address), and returns the server's certificate whatever its validity.
pub async fn tls_certificate(
    address: &str,
    server_name: &str,
    timeout: Duration,
) -> Result<CertificateInfo, CheckError> {
    within(timeout, async {
        let (tcp, _connect_time) = crate::tcp::connect(address).await?;
        let (_stream, certificate) = handshake(tcp, server_name, true, &[]).await?;
        certificate
            .ok_or_else(|| CheckError::Tls("le serveur n'a présenté aucun certificat".into()))
    })
    .await
}

/// Performs the TLS handshake on `tcp` and returns the stream with the parsed end-entity
/// certificate. With `accept_invalid_certificates` false, the chain and name are verified
/// against the system's trust store and a failure is a [`CheckError::Tls`].
pub(crate) async fn handshake(
    tcp: TcpStream,
    server_name: &str,
    accept_invalid_certificates: bool,
    alpn_protocols: &[&[u8]],
) -> Result<(TlsStream<TcpStream>, Option<CertificateInfo>), CheckError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(RecordingVerifier {
        recorded: Mutex::new(None),
        algorithms: provider.signature_verification_algorithms,
        verifying: if accept_invalid_certificates {
            None
        } else {
            Some(webpki_verifier(provider.clone())?)
        },
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| CheckError::Tls(error.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    config.alpn_protocols = alpn_protocols
        .iter()
        .map(|protocol| protocol.to_vec())
        .collect();
    let name = ServerName::try_from(server_name.to_owned()).map_err(|_| {
        CheckError::InvalidTarget(format!("nom de serveur TLS invalide : « {server_name} »"))
    })?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|error| CheckError::Tls(error.to_string()))?;
    let recorded = recorder
        .recorded
        .lock()
        .map_err(|_| CheckError::Tls("état interne du vérificateur corrompu".into()))?
        .take();
    let certificate = recorded.map(|der| parse_certificate(&der)).transpose()?;
    Ok((stream, certificate))
}

fn webpki_verifier(
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, CheckError> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (_added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if roots.is_empty() {
        return Err(CheckError::Tls(
            "aucune autorité de certification système n'a pu être chargée".into(),
        ));
    }
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|error| CheckError::Tls(error.to_string()))?;
    Ok(verifier)
}

/// Keeps the end-entity certificate seen during the handshake. Without an inner verifier it
/// accepts any certificate, but it still checks the handshake signatures, so the server must
/// hold the private key of the certificate we report.
#[derive(Debug)]
struct RecordingVerifier {
    recorded: Mutex<Option<Vec<u8>>>,
    algorithms: WebPkiSupportedAlgorithms,
    verifying: Option<Arc<dyn ServerCertVerifier>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.len() <= MAX_CERTIFICATE_BYTES
            && let Ok(mut recorded) = self.recorded.lock()
        {
            *recorded = Some(end_entity.to_vec());
        }
        match &self.verifying {
            Some(inner) => {
                inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, certificate, signature, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, certificate, signature, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Parses a DER certificate into what the checks report.
pub fn parse_certificate(der: &[u8]) -> Result<CertificateInfo, CheckError> {
    let (_rest, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|error| CheckError::Tls(format!("certificat illisible : {error}")))?;
    let validity = certificate.validity();
    let timestamp = |time: x509_parser::time::ASN1Time| {
        jiff::Timestamp::from_second(time.timestamp())
            .map_err(|error| CheckError::Tls(format!("date du certificat hors limites : {error}")))
    };
    let self_signed = certificate.subject().as_raw() == certificate.issuer().as_raw()
        && certificate.verify_signature(None).is_ok();
    Ok(CertificateInfo {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        not_before: timestamp(validity.not_before)?,
        not_after: timestamp(validity.not_after)?,
        self_signed,
    })
}
