//! Inbound SMS, as the gateway's webhook posts them: the sender and the text, from a JSON or
//! form body, and the acknowledgement code a technician typed in the reply; and the keys
//! pressed during a call, as the voice gateway posts them. The input is
//! untrusted: every path returns an error instead of panicking.

use percent_encoding::percent_decode;

use crate::phone::normalise_sender;

/// Largest body accepted: an SMS, even concatenated, is far smaller.
pub const MAX_INBOUND_BYTES: usize = 16 * 1024;

/// Which fields of the gateway's body hold the sender and the text. In a JSON body a dotted
/// name (`message.from`) follows nested objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSmsConfig {
    pub from_field: String,
    pub text_field: String,
}

impl Default for InboundSmsConfig {
    fn default() -> Self {
        InboundSmsConfig {
            from_field: "from".to_owned(),
            text_field: "text".to_owned(),
        }
    }
}

/// An SMS received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// E.164 when the number's form is known (`06 12 34 56 78` → `+33612345678`), otherwise
    /// as the gateway sent it, trimmed.
    pub from: String,
    pub text: String,
}

/// Why an inbound body was refused; the gateway is told, and the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("corps trop volumineux : {0} octets (au plus {MAX_INBOUND_BYTES})")]
    TooLarge(usize),
    #[error("corps illisible : le texte n'est pas en UTF-8")]
    NotUtf8,
    #[error("corps JSON invalide : {0}")]
    InvalidJson(String),
    #[error("corps invalide : un objet JSON est attendu")]
    NotAnObject,
    #[error("corps de formulaire invalide : {0}")]
    InvalidForm(String),
    #[error("champ « {0} » manquant")]
    MissingField(String),
    #[error("champ « {0} » vide")]
    EmptyField(String),
    #[error("champ « {0} » invalide : texte ou nombre attendu")]
    InvalidField(String),
}

/// Reads an inbound SMS from the gateway's request body. JSON when `content_type` says so
/// (`application/json`, `…+json`), a form (`application/x-www-form-urlencoded`) otherwise;
/// without a content type, a body starting with `{` is taken as JSON.
pub fn parse_inbound(
    config: &InboundSmsConfig,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<InboundSms, InboundError> {
    let (body, is_json) = body_text(content_type, body)?;
    let (from, text) = if is_json {
        let value: serde_json::Value = serde_json::from_str(body)
            .map_err(|error| InboundError::InvalidJson(error.to_string()))?;
        if !value.is_object() {
            return Err(InboundError::NotAnObject);
        }
        (
            json_field(&value, &config.from_field)?,
            json_field(&value, &config.text_field)?,
        )
    } else {
        let fields = parse_form(body)?;
        let field = |name: &str| {
            fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .ok_or_else(|| InboundError::MissingField(name.to_owned()))
        };
        (field(&config.from_field)?, field(&config.text_field)?)
    };
    let from = normalise_sender(&from);
    if from.is_empty() {
        return Err(InboundError::EmptyField(config.from_field.clone()));
    }
    Ok(InboundSms { from, text })
}

/// The keys a person pressed during a call, as the voice gateway posts them to the call's
/// callback (issue 26, item 3): the field `field` of a JSON or form body, read as
/// [`parse_inbound`] reads an SMS; only digits, `*` and `#` are kept (at most 32), so that
/// `"1"`, `1` and `"Digits=1"` alike give `1`.
pub fn read_keypad(
    field: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<String, InboundError> {
    let (body, is_json) = body_text(content_type, body)?;
    let value = if is_json {
        let value: serde_json::Value = serde_json::from_str(body)
            .map_err(|error| InboundError::InvalidJson(error.to_string()))?;
        if !value.is_object() {
            return Err(InboundError::NotAnObject);
        }
        json_field(&value, field)?
    } else {
        parse_form(body)?
            .into_iter()
            .find(|(key, _)| key == field)
            .map(|(_, value)| value)
            .ok_or_else(|| InboundError::MissingField(field.to_owned()))?
    };
    let keys: String = value
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
        .take(32)
        .collect();
    if keys.is_empty() {
        return Err(InboundError::EmptyField(field.to_owned()));
    }
    Ok(keys)
}

/// A gateway's body as text, within its bound, and whether it is JSON: as `content_type`
/// says, or, without one, when it starts with `{`.
fn body_text<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<(&'a str, bool), InboundError> {
    if body.len() > MAX_INBOUND_BYTES {
        return Err(InboundError::TooLarge(body.len()));
    }
    let body = std::str::from_utf8(body).map_err(|_| InboundError::NotUtf8)?;
    let is_json = match content_type {
        Some(content_type) => crate::sms::is_json(&crate::sms::media_type(content_type)),
        None => body.trim_start().starts_with('{'),
    };
    Ok((body, is_json))
}

/// The acknowledgement code of a reply: the first run of exactly six ASCII digits (`OK 482913`,
/// `482913`). Longer runs (a phone number, a date) are not codes.
pub fn reply_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}

/// A string or number field of a JSON object: the field named `path` if there is one, else
/// the dotted path through nested objects.
fn json_field(value: &serde_json::Value, path: &str) -> Result<String, InboundError> {
    let missing = || InboundError::MissingField(path.to_owned());
    let field = match value.get(path) {
        Some(field) => field,
        None => path
            .split('.')
            .try_fold(value, |current, name| current.get(name))
            .ok_or_else(missing)?,
    };
    match field {
        serde_json::Value::String(text) => Ok(text.clone()),
        // Some gateways send the number as a JSON number (33612345678).
        serde_json::Value::Number(number) => Ok(number.to_string()),
        serde_json::Value::Null => Err(missing()),
        _ => Err(InboundError::InvalidField(path.to_owned())),
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body; a value that does not decode to
/// UTF-8 is refused rather than altered, since it may be the code the technician typed.
fn parse_form(body: &str) -> Result<Vec<(String, String)>, InboundError> {
    let decode = |text: &str| {
        let text = text.replace('+', " ");
        percent_decode(text.as_bytes())
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| InboundError::NotUtf8)
    };
    let body = body.trim();
    if body.is_empty() {
        return Err(InboundError::InvalidForm("corps vide".to_owned()));
    }
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}
