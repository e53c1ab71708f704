//! HTTP(S) check, and the small bounded HTTP/1.1 client that the ONVIF check reuses.

use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use url::Url;

use crate::CheckError;
use crate::error::within;
use crate::tls::CertificateInfo;

/// Largest response head (status line and headers) accepted; hyper's buffer cannot go lower
/// than 8 KiB, and device web servers never need more than a few.
pub const MAX_RESPONSE_HEAD_BYTES: usize = 64 * 1024;
/// Most response headers accepted.
pub const MAX_RESPONSE_HEADERS: usize = 100;
/// Default for [`HttpOptions::max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// How to run an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    pub timeout: Duration,
    /// Statuses that count as healthy; the outcome says whether the status fell inside.
    pub expected_status: RangeInclusive<u16>,
    /// Devices almost always present self-signed certificates, so by default any certificate
    /// is accepted (and still reported); false verifies against the system's trust store.
    pub accept_invalid_certificates: bool,
    /// Bytes of body read at most; the rest is not read (the connection is dropped), which
    /// bounds both memory and time spent on a large page.
    pub max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            expected_status: 200..=399,
            accept_invalid_certificates: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// What an HTTP check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOutcome {
    pub status: u16,
    /// `status` is within [`HttpOptions::expected_status`].
    pub status_expected: bool,
    /// From the start of the connection to the end of the (bounded) body.
    pub response_time: Duration,
    /// The server's certificate, for `https` URLs.
    pub certificate: Option<CertificateInfo>,
    /// Body bytes read, at most [`HttpOptions::max_body_bytes`].
    pub body_bytes: usize,
}

/// Sends `GET url` (http or https) and reports the status, timing and certificate.
/// Any answered status is an outcome; only the absence of an answer is an error.
pub async fn http_check(url: &str, options: &HttpOptions) -> Result<HttpOutcome, CheckError> {
    let url = parse_url(url, &["http", "https"])?;
    within(options.timeout, async {
        let started = Instant::now();
        let response = exchange(Request {
            method: http::Method::GET,
            url: &url,
            headers: &[],
            body: Vec::new(),
            accept_invalid_certificates: options.accept_invalid_certificates,
            max_body_bytes: options.max_body_bytes,
            on_body_overflow: Overflow::Truncate,
        })
        .await?;
        Ok(HttpOutcome {
            status: response.status,
            status_expected: options.expected_status.contains(&response.status),
            response_time: started.elapsed(),
            certificate: response.certificate,
            body_bytes: response.body.len(),
        })
    })
    .await
}

/// Parses a target URL, refusing schemes the check does not speak.
pub(crate) fn parse_url(url: &str, schemes: &[&str]) -> Result<Url, CheckError> {
    let parsed = Url::parse(url)
        .map_err(|error| CheckError::InvalidTarget(format!("URL « {url} » invalide : {error}")))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(CheckError::InvalidTarget(format!(
            "schéma « {} » non pris en charge (attendu : {})",
            parsed.scheme(),
            schemes.join(", ")
        )));
    }
    if parsed.host().is_none() {
        return Err(CheckError::InvalidTarget(format!(
            "URL « {url} » sans hôte"
        )));
    }
    Ok(parsed)
}

/// The `host:port` to connect to and the host as TLS server name and `Host` header.
pub(crate) fn endpoint(url: &Url, default_port: u16) -> Result<(String, String), CheckError> {
    let port = url.port().unwrap_or(default_port);
    match url.host() {
        Some(url::Host::Domain(domain)) => Ok((format!("{domain}:{port}"), domain.to_owned())),
        Some(url::Host::Ipv4(ip)) => Ok((format!("{ip}:{port}"), ip.to_string())),
        Some(url::Host::Ipv6(ip)) => Ok((format!("[{ip}]:{port}"), ip.to_string())),
        None => Err(CheckError::InvalidTarget(format!(
            "URL « {url} » sans hôte"
        ))),
    }
}

/// What to do when a body is larger than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Keep the first bytes: a status check does not need the rest.
    Truncate,
    /// Fail: a document cut in the middle cannot be parsed.
    Fail,
}

pub(crate) struct Request<'a> {
    pub method: http::Method,
    pub url: &'a Url,
    pub headers: &'a [(http::HeaderName, String)],
    pub body: Vec<u8>,
    pub accept_invalid_certificates: bool,
    pub max_body_bytes: usize,
    pub on_body_overflow: Overflow,
}

pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub certificate: Option<CertificateInfo>,
}

/// One HTTP/1.1 request on a fresh connection (no pooling: each check measures a full
/// connection, as a client would see it). The caller bounds the time.
pub(crate) async fn exchange(request: Request<'_>) -> Result<Response, CheckError> {
    let https = request.url.scheme() == "https";
    let (address, host) = endpoint(request.url, if https { 443 } else { 80 })?;
    let (tcp, _connect_time) = crate::tcp::connect(&address).await?;
    if https {
        let (tls, certificate) = crate::tls::handshake(
            tcp,
            &host,
            request.accept_invalid_certificates,
            &[b"http/1.1"],
        )
        .await?;
        let mut response = send(tls, request).await?;
        response.certificate = certificate;
        Ok(response)
    } else {
        send(tcp, request).await
    }
}

async fn send<S>(stream: S, request: Request<'_>) -> Result<Response, CheckError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(MAX_RESPONSE_HEAD_BYTES)
        .max_headers(MAX_RESPONSE_HEADERS)
        .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|error| CheckError::Protocol(format!("HTTP : {error}")))?;

    let host_header = match request.url.port() {
        Some(port) => format!("{}:{port}", request.url.host_str().unwrap_or_default()),
        None => request.url.host_str().unwrap_or_default().to_owned(),
    };
    let target = match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    };
    let mut builder = http::Request::builder()
        .method(request.method)
        .uri(target)
        .header(http::header::HOST, host_header)
        .header(
            http::header::USER_AGENT,
            concat!("Vigie/", env!("CARGO_PKG_VERSION")),
        )
        .header(http::header::CONNECTION, "close");
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    let http_request = builder
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|error| CheckError::InvalidTarget(format!("requête HTTP invalide : {error}")))?;

    let max_body_bytes = request.max_body_bytes;
    let on_body_overflow = request.on_body_overflow;
    let exchange = async move {
        let response = sender
            .send_request(http_request)
            .await
            .map_err(|error| CheckError::Protocol(format!("HTTP : {error}")))?;
        let status = response.status().as_u16();
        let body = read_body(response.into_body(), max_body_bytes, on_body_overflow).await?;
        Ok(Response {
            status,
            body,
            certificate: None,
        })
    };
    // hyper's connection future does the actual IO and must be polled alongside the request.
    // It is not spawned, so that nothing outlives the check's timeout. Once it ends, whatever
    // it delivered (or its error) is still in the request's channels: finish reading those.
    tokio::pin!(exchange);
    tokio::select! {
        result = &mut exchange => result,
        _connection_ended = connection => exchange.await,
    }
}

async fn read_body(
    mut body: hyper::body::Incoming,
    max_body_bytes: usize,
    on_body_overflow: Overflow,
) -> Result<Vec<u8>, CheckError> {
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| CheckError::Protocol(format!("corps HTTP : {error}")))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing a check needs
        };
        let room = max_body_bytes - collected.len();
        if data.len() > room {
            return match on_body_overflow {
                Overflow::Truncate => {
                    collected.extend_from_slice(&data[..room]);
                    Ok(collected)
                }
                Overflow::Fail => Err(CheckError::Protocol(format!(
                    "réponse HTTP trop grande (plus de {max_body_bytes} octets)"
                ))),
            };
        }
        collected.extend_from_slice(&data);
    }
    Ok(collected)
}
