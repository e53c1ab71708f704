//! Active checks that Vigie runs against video-surveillance equipment: TCP connect, HTTP(S),
//! TLS certificate, RTSP stream description and ONVIF device service (ICMP and SNMP live
//! elsewhere).
//!
//! Each check is one async function that takes its own timeout, measures what it needs with
//! [`std::time::Instant`] and returns either its outcome struct or a [`CheckError`] whose
//! message is French, for people. Every read from the network is bounded (see the `MAX_…`
//! constants of each module) so that a broken or hostile device cannot exhaust memory.

mod error;
pub mod http;
pub mod onvif;
pub mod rtsp;
pub mod sdp;
pub mod tcp;
pub mod tls;

pub use error::CheckError;
pub use http::{HttpOptions, HttpOutcome, http_check};
pub use onvif::{
    DeviceInformation, OnvifTime, onvif_device_information, onvif_system_date_and_time,
};
pub use rtsp::{RtspOutcome, rtsp_check};
pub use tcp::{TcpOutcome, tcp_connect};
pub use tls::{CertificateInfo, tls_certificate};

/// A user name and password for a device (RTSP Digest/Basic, ONVIF UsernameToken).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }
}

/// The password never appears in logs or debug output.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<masqué>")
            .finish()
    }
}
