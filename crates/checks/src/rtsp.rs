//! RTSP/1.0 check (RFC 2326): OPTIONS then DESCRIBE, with Basic or Digest (RFC 2617, MD5)
//! authentication when the camera answers 401, and a reading of the returned SDP to tell
//! whether a video track is offered. No media is set up: describing the stream is enough to
//! know the encoder is alive, and it costs the camera no RTP session.

use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use crate::error::within;
use crate::sdp::parse_sdp;
use crate::{CheckError, Credentials};

/// Largest response (head and body) read; an SDP is a few hundred bytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Most header lines accepted in one response.
pub const MAX_HEADERS: usize = 64;
/// Bytes asked of the socket per read.
const READ_CHUNK_BYTES: usize = 4096;
/// Port of `rtsp://` URLs that name none.
pub const DEFAULT_PORT: u16 = 554;

/// What the camera said about a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtspOutcome {
    /// Status of the DESCRIBE answer.
    pub status: u16,
    pub has_video: bool,
    /// Encoding names from `a=rtpmap` of the video tracks (`H264`, `H265`, `JPEG`…).
    pub video_codecs: Vec<String>,
    pub has_audio: bool,
    /// From the start of the connection to the complete DESCRIBE answer.
    pub response_time: Duration,
}

impl RtspOutcome {
    /// The camera answered but offers no picture: an error status or no `m=video` track.
    /// (No answer at all is a [`CheckError`].)
    pub fn signal_lost(&self) -> bool {
        !(200..300).contains(&self.status) || !self.has_video
    }
}

/// Describes the stream at `url` (`rtsp://host[:port]/path`). Credentials come from
/// `credentials`, else from the URL's user information; they are sent only when the camera
/// asks (401). Wrong or missing credentials give [`CheckError::AuthenticationRefused`].
pub async fn rtsp_check(
    url: &str,
    credentials: Option<&Credentials>,
    timeout: Duration,
) -> Result<RtspOutcome, CheckError> {
    let mut url = crate::http::parse_url(url, &["rtsp"])?;
    let credentials = match credentials {
        Some(credentials) => Some(credentials.clone()),
        None => credentials_from_url(&url),
    };
    // The user information must never reach the wire in the request line.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let (address, _host) = crate::http::endpoint(&url, DEFAULT_PORT)?;

    within(timeout, async {
        let started = Instant::now();
        let mut session = Session {
            address,
            uri: url.to_string(),
            stream: None,
            sequence: 0,
            credentials,
            challenge: None,
        };
        session.request("OPTIONS", &[]).await?;
        let described = session
            .request("DESCRIBE", &[("Accept", "application/sdp")])
            .await?;
        let response_time = started.elapsed();
        let description = if (200..300).contains(&described.status) {
            parse_sdp(&String::from_utf8_lossy(&described.body))
        } else {
            Default::default()
        };
        Ok(RtspOutcome {
            status: described.status,
            has_video: description.has_video,
            video_codecs: description.video_codecs,
            has_audio: description.has_audio,
            response_time,
        })
    })
    .await
}

fn credentials_from_url(url: &Url) -> Option<Credentials> {
    if url.username().is_empty() {
        return None;
    }
    let decode = |text: &str| {
        url::form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    Some(Credentials::new(
        decode(url.username()),
        decode(url.password().unwrap_or_default()),
    ))
}

/// One RTSP conversation with a camera.
struct Session {
    address: String,
    uri: String,
    /// `None` until connected, and again after the server said `Connection: close`.
    stream: Option<TcpStream>,
    sequence: u32,
    credentials: Option<Credentials>,
    /// The challenge of the last 401, answered on every later request.
    challenge: Option<Challenge>,
}

impl Session {
    /// Sends one request, answering a 401 once with the credentials.
    async fn request(
        &mut self,
        method: &str,
        headers: &[(&str, &str)],
    ) -> Result<RtspResponse, CheckError> {
        let response = self.send(method, headers).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let tried_already = self.challenge.is_some();
        let Some(credentials) = &self.credentials else {
            return Err(CheckError::AuthenticationRefused(
                "la caméra exige des identifiants et aucun n'est configuré".into(),
            ));
        };
        if tried_already {
            return Err(CheckError::AuthenticationRefused(format!(
                "identifiants de « {} » refusés par la caméra",
                credentials.username
            )));
        }
        self.challenge = Some(choose_challenge(&response)?);
        let response = self.send(method, headers).await?;
        if response.status == 401 {
            let username = self.credentials.as_ref().map(|c| c.username.as_str());
            return Err(CheckError::AuthenticationRefused(format!(
                "identifiants de « {} » refusés par la caméra",
                username.unwrap_or_default()
            )));
        }
        Ok(response)
    }

    async fn send(
        &mut self,
        method: &str,
        headers: &[(&str, &str)],
    ) -> Result<RtspResponse, CheckError> {
        self.sequence += 1;
        let mut request = format!(
            "{method} {} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: Vigie/{}\r\n",
            self.uri,
            self.sequence,
            env!("CARGO_PKG_VERSION")
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let (Some(challenge), Some(credentials)) = (&self.challenge, &self.credentials) {
            let authorization = authorization(challenge, credentials, method, &self.uri)?;
            request.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        request.push_str("\r\n");

        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => self
                .stream
                .insert(crate::tcp::connect(&self.address).await?.0),
        };
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(CheckError::from_exchange)?;
        let response = read_response(stream).await?;
        if let Some(sequence) = response.header("CSeq")
            && sequence.trim() != self.sequence.to_string()
        {
            return Err(CheckError::Protocol(format!(
                "RTSP : CSeq {sequence} reçu pour la requête {}",
                self.sequence
            )));
        }
        if response
            .header("Connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"))
        {
            self.stream = None;
        }
        Ok(response)
    }
}

async fn read_response(stream: &mut TcpStream) -> Result<RtspResponse, CheckError> {
    let mut buffer = Vec::with_capacity(READ_CHUNK_BYTES);
    let mut chunk = [0_u8; READ_CHUNK_BYTES];
    loop {
        if let Some((response, _consumed)) = parse_response(&buffer)? {
            return Ok(response);
        }
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(CheckError::from_exchange)?;
        if read == 0 {
            return Err(CheckError::Protocol(if buffer.is_empty() {
                "RTSP : connexion fermée sans réponse".into()
            } else {
                "RTSP : connexion fermée au milieu de la réponse".into()
            }));
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// A parsed RTSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtspResponse {
    pub status: u16,
    pub reason: String,
    /// In order of appearance, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RtspResponse {
    /// First header of that name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Parses one RTSP response at the start of `bytes`: `Ok(None)` while incomplete, else the
/// response and the number of bytes it used. The input is untrusted: every malformation or
/// bound exceeded is a [`CheckError::Protocol`], never a panic.
pub fn parse_response(bytes: &[u8]) -> Result<Option<(RtspResponse, usize)>, CheckError> {
    let Some(head_length) = head_end(bytes) else {
        if bytes.len() >= MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&bytes[..head_length]);
    let mut lines = head.lines().map(|line| line.trim_end_matches('\r'));
    let status_line = lines.next().unwrap_or_default();
    let (status, reason) = parse_status_line(status_line)?;

    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: the line continues the previous header's value.
            let Some((_, value)) = headers.last_mut() else {
                return Err(CheckError::Protocol(
                    "RTSP : en-tête continué sans en-tête".into(),
                ));
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        if headers.len() == MAX_HEADERS {
            return Err(CheckError::Protocol(format!(
                "RTSP : plus de {MAX_HEADERS} en-têtes"
            )));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(CheckError::Protocol(format!(
                "RTSP : en-tête illisible « {line} »"
            )));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }

    let content_length = match headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("Content-Length"))
    {
        Some((_, value)) => value.parse::<usize>().map_err(|_| {
            CheckError::Protocol(format!("RTSP : Content-Length invalide « {value} »"))
        })?,
        None => 0,
    };
    if content_length > MAX_RESPONSE_BYTES - head_length.min(MAX_RESPONSE_BYTES) {
        return Err(too_large());
    }
    let total = head_length + content_length;
    if bytes.len() < total {
        return Ok(None);
    }
    let response = RtspResponse {
        status,
        reason: reason.to_owned(),
        headers,
        body: bytes[head_length..total].to_vec(),
    };
    Ok(Some((response, total)))
}

fn too_large() -> CheckError {
    CheckError::Protocol(format!(
        "RTSP : réponse trop grande (plus de {MAX_RESPONSE_BYTES} octets)"
    ))
}

/// Length of the head including its blank line (CRLF CRLF, or LF LF from lax devices).
fn head_end(bytes: &[u8]) -> Option<usize> {
    let searched = &bytes[..bytes.len().min(MAX_RESPONSE_BYTES)];
    let crlf = searched
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|position| position + 4);
    let lf = searched
        .windows(2)
        .position(|window| window == b"\n\n")
        .map(|position| position + 2);
    match (crlf, lf) {
        (Some(crlf), Some(lf)) => Some(crlf.min(lf)),
        (crlf, lf) => crlf.or(lf),
    }
}

fn parse_status_line(line: &str) -> Result<(u16, &str), CheckError> {
    let malformed = || CheckError::Protocol(format!("RTSP : ligne de statut invalide « {line} »"));
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("RTSP/") {
        return Err(malformed());
    }
    let code = parts.next().unwrap_or_default();
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|status| (100..=599).contains(status) && code.len() == 3)
        .ok_or_else(malformed)?;
    Ok((status, parts.next().unwrap_or_default().trim()))
}

/// An authentication challenge from `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    Basic,
    Digest {
        realm: String,
        nonce: String,
        opaque: Option<String>,
        /// The server offers `qop=auth` (RFC 2617); otherwise the RFC 2069 form is used.
        qop_auth: bool,
    },
}

/// Picks Digest over Basic, since Basic sends the password in clear.
fn choose_challenge(response: &RtspResponse) -> Result<Challenge, CheckError> {
    let challenges: Vec<Challenge> = response
        .headers_named("WWW-Authenticate")
        .filter_map(parse_challenge)
        .collect();
    challenges
        .iter()
        .find(|challenge| matches!(challenge, Challenge::Digest { .. }))
        .or_else(|| challenges.first())
        .cloned()
        .ok_or_else(|| {
            CheckError::AuthenticationRefused(
                "la caméra exige une authentification d'un type non pris en charge".into(),
            )
        })
}

fn parse_challenge(value: &str) -> Option<Challenge> {
    let (scheme, parameters) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if scheme.eq_ignore_ascii_case("Basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let parameters = parse_parameters(parameters);
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    // Only MD5 is implemented; a challenge asking for another algorithm cannot be answered.
    if get("algorithm").is_some_and(|algorithm| !algorithm.eq_ignore_ascii_case("MD5")) {
        return None;
    }
    Some(Challenge::Digest {
        realm: get("realm")?,
        nonce: get("nonce")?,
        opaque: get("opaque"),
        qop_auth: get("qop").is_some_and(|qop| {
            qop.split(',')
                .any(|option| option.trim().eq_ignore_ascii_case("auth"))
        }),
    })
}

/// Splits `a="x, y", b=z` into pairs, honouring quotes and backslash escapes.
fn parse_parameters(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut characters = text.chars().peekable();
    loop {
        while characters
            .next_if(|c| *c == ',' || c.is_whitespace())
            .is_some()
        {}
        let name: String =
            std::iter::from_fn(|| characters.next_if(|c| *c != '=' && *c != ',')).collect();
        if name.trim().is_empty() && characters.peek().is_none() {
            return pairs;
        }
        let mut value = String::new();
        if characters.next_if_eq(&'=').is_some() {
            if characters.next_if_eq(&'"').is_some() {
                while let Some(c) = characters.next() {
                    match c {
                        '"' => break,
                        '\\' => value.extend(characters.next()),
                        c => value.push(c),
                    }
                }
            } else {
                value = std::iter::from_fn(|| characters.next_if(|c| *c != ','))
                    .collect::<String>()
                    .trim()
                    .to_owned();
            }
        }
        pairs.push((name.trim().to_owned(), value));
    }
}

/// The `Authorization` header value answering `challenge`.
fn authorization(
    challenge: &Challenge,
    credentials: &Credentials,
    method: &str,
    uri: &str,
) -> Result<String, CheckError> {
    use base64::Engine as _;
    match challenge {
        Challenge::Basic => {
            let pair = format!("{}:{}", credentials.username, credentials.password);
            Ok(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ))
        }
        Challenge::Digest {
            realm,
            nonce,
            opaque,
            qop_auth,
        } => {
            let client_nonce = if *qop_auth { Some(random_hex()?) } else { None };
            let response = digest_response(
                credentials,
                realm,
                nonce,
                method,
                uri,
                client_nonce.as_deref().map(|cnonce| (cnonce, "00000001")),
            );
            let mut header = format!(
                "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", algorithm=MD5",
                quote(&credentials.username),
                quote(realm),
                quote(nonce),
                quote(uri),
                response
            );
            if let Some(opaque) = opaque {
                header.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
            }
            if let Some(client_nonce) = client_nonce {
                header.push_str(&format!(
                    ", qop=auth, nc=00000001, cnonce=\"{client_nonce}\""
                ));
            }
            Ok(header)
        }
    }
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// RFC 2617 section 3.2.2.1 `request-digest` with MD5; `qop_auth` is `(cnonce, nc)` when the
/// server offered `qop=auth`.
fn digest_response(
    credentials: &Credentials,
    realm: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop_auth: Option<(&str, &str)>,
) -> String {
    let md5_hex = |text: String| format!("{:x}", Md5::digest(text.as_bytes()));
    let ha1 = md5_hex(format!(
        "{}:{realm}:{}",
        credentials.username, credentials.password
    ));
    let ha2 = md5_hex(format!("{method}:{uri}"));
    match qop_auth {
        Some((client_nonce, count)) => {
            md5_hex(format!("{ha1}:{nonce}:{count}:{client_nonce}:auth:{ha2}"))
        }
        None => md5_hex(format!("{ha1}:{nonce}:{ha2}")),
    }
}

fn random_hex() -> Result<String, CheckError> {
    let mut bytes = [0_u8; 8];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| CheckError::Protocol(format!("aléa indisponible : {error}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of RFC 2617 section 3.5.
    #[test]
    fn digest_matches_rfc_2617_example() {
        let credentials = Credentials::new("Mufasa", "Circle Of Life");
        let response = digest_response(
            &credentials,
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "GET",
            "/dir/index.html",
            Some(("0a4f113b", "00000001")),
        );
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn digest_challenge_with_quoted_commas() {
        let challenge = parse_challenge(
            r#"Digest realm="cam, inc", nonce="abc", qop="auth,auth-int", opaque="o""#,
        );
        assert_eq!(
            challenge,
            Some(Challenge::Digest {
                realm: "cam, inc".into(),
                nonce: "abc".into(),
                opaque: Some("o".into()),
                qop_auth: true,
            })
        );
    }
}
