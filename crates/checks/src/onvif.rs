//! ONVIF Device service checks over SOAP 1.2: the device clock (`GetSystemDateAndTime`,
//! which ONVIF allows before authentication) and the device identity
//! (`GetDeviceInformation`, authenticated with a WS-Security UsernameToken digest).
//!
//! Responses are read namespace-agnostically, on local element names, since devices disagree
//! on prefixes and some even on namespaces.

use std::time::Duration;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use quick_xml::events::Event;
use sha1::{Digest, Sha1};

use crate::error::within;
use crate::http::{Overflow, Request, exchange, parse_url};
use crate::{CheckError, Credentials};

/// Largest SOAP response read; device information is under 2 KiB, but some devices pad.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Deepest element nesting accepted, against pathological documents.
pub const MAX_XML_DEPTH: usize = 64;
/// Random bytes in a UsernameToken nonce (WS-Security recommends at least 16).
const NONCE_BYTES: usize = 16;

const DEVICE_NAMESPACE: &str = "http://www.onvif.org/ver10/device/wsdl";

/// The device's clock as seen from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnvifTime {
    /// The device's UTC time (ONVIF gives whole seconds).
    pub device_utc: Timestamp,
    /// `device_utc` minus the local clock at the middle of the exchange: positive when the
    /// device is ahead. Only accurate to about a second, the device's resolution.
    pub offset: SignedDuration,
}

/// The identity a device gives for itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInformation {
    pub manufacturer: String,
    pub model: String,
    pub firmware_version: String,
    pub serial_number: String,
    pub hardware_id: String,
}

/// Asks the device service at `url` (e.g. `http://host/onvif/device_service`) for its UTC
/// time, without authentication, and computes its offset to the local clock.
pub async fn onvif_system_date_and_time(
    url: &str,
    timeout: Duration,
) -> Result<OnvifTime, CheckError> {
    let url = parse_url(url, &["http", "https"])?;
    within(timeout, async {
        let sent = Timestamp::now();
        let body = soap_call(&url, "GetSystemDateAndTime", "").await?;
        let received = Timestamp::now();
        let device_utc = parse_system_date_and_time(&body)?;
        let middle = sent + received.duration_since(sent) / 2;
        Ok(OnvifTime {
            device_utc,
            offset: device_utc.duration_since(middle),
        })
    })
    .await
}

/// Asks the device service at `url` for its identity, authenticating as `credentials`.
/// `device_clock_offset` (from [`onvif_system_date_and_time`], or zero) dates the token on
/// the device's clock, because devices refuse tokens whose creation time is too far from
/// their own.
pub async fn onvif_device_information(
    url: &str,
    credentials: &Credentials,
    device_clock_offset: SignedDuration,
    timeout: Duration,
) -> Result<DeviceInformation, CheckError> {
    let url = parse_url(url, &["http", "https"])?;
    within(timeout, async {
        let created = Timestamp::now()
            .checked_add(device_clock_offset)
            .map_err(|error| CheckError::InvalidTarget(format!("décalage d'horloge : {error}")))?;
        let header = username_token(credentials, created)?;
        let body = soap_call(&url, "GetDeviceInformation", &header).await?;
        parse_device_information(&body)
    })
    .await
}

/// Posts one Device service action and returns the body of a 200 answer; any other answer
/// becomes the error its SOAP fault (or status) describes.
async fn soap_call(url: &url::Url, action: &str, header: &str) -> Result<Vec<u8>, CheckError> {
    let envelope = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="{namespace}">"#,
            "{header}<s:Body><tds:{action}/></s:Body></s:Envelope>"
        ),
        namespace = DEVICE_NAMESPACE,
        header = header,
        action = action
    );
    let content_type =
        format!(r#"application/soap+xml; charset=utf-8; action="{DEVICE_NAMESPACE}/{action}""#);
    let response = exchange(Request {
        method: http::Method::POST,
        url,
        headers: &[(http::header::CONTENT_TYPE, content_type)],
        body: envelope.into_bytes(),
        accept_invalid_certificates: true,
        max_body_bytes: MAX_RESPONSE_BYTES,
        on_body_overflow: Overflow::Fail,
    })
    .await?;
    if response.status == 200 {
        return Ok(response.body);
    }
    let fault = parse_fault(&response.body).ok().flatten();
    Err(match fault {
        Some(fault) if response.status == 401 || fault.is_authentication() => {
            CheckError::AuthenticationRefused(fault.reason)
        }
        Some(fault) => CheckError::SoapFault {
            code: fault.code,
            reason: fault.reason,
        },
        None if response.status == 401 => {
            CheckError::AuthenticationRefused(format!("HTTP 401 en réponse à {action}"))
        }
        None => CheckError::Protocol(format!("HTTP {} en réponse à {action}", response.status)),
    })
}

/// The WS-Security header: PasswordDigest = Base64(SHA-1(nonce + created + password)).
fn username_token(credentials: &Credentials, created: Timestamp) -> Result<String, CheckError> {
    let mut nonce = [0_u8; NONCE_BYTES];
    getrandom::getrandom(&mut nonce)
        .map_err(|error| CheckError::Protocol(format!("aléa indisponible : {error}")))?;
    // Whole seconds: some devices reject fractional `Created` values.
    let created = Timestamp::from_second(created.as_second())
        .map_err(|error| CheckError::InvalidTarget(format!("date de création : {error}")))?
        .to_string();
    let digest = password_digest(&nonce, &created, &credentials.password);
    let base64 = &base64::engine::general_purpose::STANDARD;
    Ok(format!(
        concat!(
            r#"<s:Header><wsse:Security s:mustUnderstand="1" "#,
            r#"xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" "#,
            r#"xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">"#,
            "<wsse:UsernameToken><wsse:Username>{username}</wsse:Username>",
            r#"<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">{digest}</wsse:Password>"#,
            r#"<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">{nonce}</wsse:Nonce>"#,
            "<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>"
        ),
        username = quick_xml::escape::escape(credentials.username.as_str()),
        digest = digest,
        nonce = base64.encode(nonce),
        created = created,
    ))
}

/// WS-Security UsernameToken Profile 1.0 section 3.1 password digest.
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(nonce);
    hasher.update(created.as_bytes());
    hasher.update(password.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}

/// Reads the UTC time of a `GetSystemDateAndTimeResponse`.
pub fn parse_system_date_and_time(xml: &[u8]) -> Result<Timestamp, CheckError> {
    fail_on_fault(xml)?;
    let mut fields: [Option<i64>; 6] = [None; 6];
    const NAMES: [&str; 6] = ["Year", "Month", "Day", "Hour", "Minute", "Second"];
    walk(xml, |path, text| {
        if path.iter().any(|name| name == "UTCDateTime")
            && let Some(last) = path.last()
            && let Some(index) = NAMES.iter().position(|name| name == last)
        {
            fields[index] = text.trim().parse().ok();
        }
    })?;
    let [
        Some(year),
        Some(month),
        Some(day),
        Some(hour),
        Some(minute),
        Some(second),
    ] = fields
    else {
        return Err(CheckError::Protocol(
            "ONVIF : date UTC absente ou incomplète dans la réponse".into(),
        ));
    };
    let out_of_range = |_| {
        CheckError::Protocol(format!(
            "ONVIF : date UTC invalide {year}-{month}-{day} {hour}:{minute}:{second}"
        ))
    };
    let narrow = |value: i64| i8::try_from(value).map_err(out_of_range);
    let datetime = jiff::civil::DateTime::new(
        i16::try_from(year).map_err(out_of_range)?,
        narrow(month)?,
        narrow(day)?,
        narrow(hour)?,
        narrow(minute)?,
        narrow(second)?,
        0,
    )
    .map_err(|error| CheckError::Protocol(format!("ONVIF : date UTC invalide : {error}")))?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(datetime)
        .map_err(|error| CheckError::Protocol(format!("ONVIF : date UTC invalide : {error}")))
}

/// Reads a `GetDeviceInformationResponse`.
pub fn parse_device_information(xml: &[u8]) -> Result<DeviceInformation, CheckError> {
    fail_on_fault(xml)?;
    let mut information = DeviceInformation::default();
    let mut found = false;
    walk(xml, |path, _text| {
        found |= path
            .iter()
            .any(|name| name == "GetDeviceInformationResponse");
    })?;
    walk(xml, |path, text| {
        let [.., parent, last] = path else { return };
        if parent != "GetDeviceInformationResponse" {
            return;
        }
        let field = match last.as_str() {
            "Manufacturer" => &mut information.manufacturer,
            "Model" => &mut information.model,
            "FirmwareVersion" => &mut information.firmware_version,
            "SerialNumber" => &mut information.serial_number,
            "HardwareId" => &mut information.hardware_id,
            _ => return,
        };
        field.push_str(text.trim());
    })?;
    if !found {
        return Err(CheckError::Protocol(
            "ONVIF : réponse sans GetDeviceInformationResponse".into(),
        ));
    }
    Ok(information)
}

/// A SOAP fault, 1.2 (`Code/Value`, `Subcode/Value`, `Reason/Text`) or 1.1 (`faultcode`,
/// `faultstring`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Fault {
    /// The most specific code given (the innermost subcode, else the code).
    code: String,
    codes: Vec<String>,
    reason: String,
}

impl Fault {
    fn is_authentication(&self) -> bool {
        self.codes.iter().any(|code| {
            let local = code.rsplit(':').next().unwrap_or_default();
            local == "NotAuthorized" || local == "FailedAuthentication"
        })
    }
}

fn fail_on_fault(xml: &[u8]) -> Result<(), CheckError> {
    match parse_fault(xml)? {
        Some(fault) if fault.is_authentication() => {
            Err(CheckError::AuthenticationRefused(fault.reason))
        }
        Some(fault) => Err(CheckError::SoapFault {
            code: fault.code,
            reason: fault.reason,
        }),
        None => Ok(()),
    }
}

fn parse_fault(xml: &[u8]) -> Result<Option<Fault>, CheckError> {
    let mut fault: Option<Fault> = None;
    walk(xml, |path, text| {
        let Some(position) = path.iter().position(|name| name == "Fault") else {
            return;
        };
        let fault = fault.get_or_insert_with(Fault::default);
        let inside = &path[position + 1..];
        let text = text.trim();
        match inside {
            [.., parent, last] if last == "Value" && (parent == "Code" || parent == "Subcode") => {
                fault.codes.push(text.to_owned());
                fault.code = text.to_owned();
            }
            [.., parent, last]
                if last == "Text" && parent == "Reason" && fault.reason.is_empty() =>
            {
                fault.reason = text.to_owned();
            }
            [last] if last == "faultcode" => {
                fault.codes.push(text.to_owned());
                fault.code = text.to_owned();
            }
            [last] if last == "faultstring" => fault.reason = text.to_owned(),
            _ => {}
        }
    })?;
    Ok(fault.map(|mut fault| {
        if fault.reason.is_empty() {
            fault.reason = "sans motif".into();
        }
        fault
    }))
}

/// Calls `visit` with the path of local element names and the text of every non-blank text
/// node. Malformed XML and excessive nesting are errors.
fn walk(xml: &[u8], mut visit: impl FnMut(&[String], &str)) -> Result<(), CheckError> {
    if xml.len() > MAX_RESPONSE_BYTES {
        return Err(CheckError::Protocol(format!(
            "ONVIF : document XML trop grand (plus de {MAX_RESPONSE_BYTES} octets)"
        )));
    }
    let malformed = |error: &dyn std::fmt::Display| {
        CheckError::Protocol(format!("ONVIF : XML illisible : {error}"))
    };
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    loop {
        match reader.read_event().map_err(|error| malformed(&error))? {
            Event::Start(element) => {
                if path.len() == MAX_XML_DEPTH {
                    return Err(CheckError::Protocol(format!(
                        "ONVIF : XML imbriqué sur plus de {MAX_XML_DEPTH} niveaux"
                    )));
                }
                path.push(String::from_utf8_lossy(element.local_name().as_ref()).into_owned());
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|error| malformed(&error))?;
                if !text.trim().is_empty() {
                    visit(&path, &text);
                }
            }
            Event::CData(data) => {
                let text = String::from_utf8_lossy(&data);
                if !text.trim().is_empty() {
                    visit(&path, &text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(CheckError::Protocol("ONVIF : XML tronqué".into()));
    }
    Ok(())
}
