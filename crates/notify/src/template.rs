//! Request templates of the SMS and voice gateways: text with `{to}`, `{to_national}`,
//! `{to_digits}`, `{text}`, `{key}` placeholders, `{encoding}` for an SMS and `{callback}` for a
//! call, each value escaped for where it lands (JSON string, form or URL, header).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::ConfigError;

/// Everything but the unreserved characters of RFC 3986 is percent-encoded, so that a value
/// is one opaque piece in a URL path, a query string or a form body.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How a value is escaped where it is inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escaping {
    /// Inside a JSON string: the template writes the quotes, the value is escaped.
    JsonString,
    /// Percent-encoding, for URLs and `application/x-www-form-urlencoded` bodies.
    Percent,
    /// As is, for plain-text bodies and headers.
    Raw,
}

/// The values of one SMS, for every placeholder.
#[derive(Debug, Clone)]
pub(crate) struct Values<'a> {
    /// E.164: `+33612345678`.
    pub to: &'a str,
    /// French national form for +33 numbers (`0612345678`), E.164 otherwise.
    pub to_national: &'a str,
    /// E.164 without its `+`: `33612345678`.
    pub to_digits: &'a str,
    pub text: &'a str,
    /// `gsm` or `ucs2`: the alphabet the text was written for, for gateways that ask.
    pub encoding: &'a str,
    pub key: &'a str,
    /// For a call: where the gateway posts the keypad's digits (issue 26, item 3).
    pub callback: &'a str,
}

/// Which gateway a template is for: each has one placeholder of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sms,
    Voice,
}

impl Kind {
    /// The placeholders this gateway's templates may use, as an error message lists them.
    fn known(self) -> &'static str {
        match self {
            Kind::Sms => "{to}, {to_national}, {to_digits}, {text}, {encoding} et {key}",
            Kind::Voice => "{to}, {to_national}, {to_digits}, {text}, {key} et {callback}",
        }
    }
}

impl Values<'static> {
    /// Values that need every kind of escaping, used to check templates when the gateway is
    /// configured, before a real SMS depends on them.
    pub(crate) const SAMPLE: Values<'static> = Values {
        to: "+33612345678",
        to_national: "0612345678",
        to_digits: "33612345678",
        text: "Alarme « critique » : caméra 12 \"hall\"\nsite A & B",
        encoding: "ucs2",
        key: "alarm-1.sample.sms",
        callback: "https://vigie.example.fr/api/v1/voice/keypad/1-abc?x=1&y=\"2\"",
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    To,
    ToNational,
    ToDigits,
    Text,
    Encoding,
    Key,
    Callback,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(Field),
}

/// A parsed template: literal text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `source`. A placeholder is `{` + letters, digits or `_` + `}`; any other brace is
    /// literal text, so JSON bodies need no escaping of their own braces. An unknown name
    /// (`{foo}`) is refused, naming `location` (« l'adresse », « le corps »…), because a typo
    /// would otherwise send the braces themselves to every recipient.
    pub(crate) fn parse(source: &str, location: &str, kind: Kind) -> Result<Template, ConfigError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                let field = match (name, kind) {
                    ("to", _) => Field::To,
                    ("to_national", _) => Field::ToNational,
                    ("to_digits", _) => Field::ToDigits,
                    ("text", _) => Field::Text,
                    ("encoding", Kind::Sms) => Field::Encoding,
                    ("key", _) => Field::Key,
                    ("callback", Kind::Voice) => Field::Callback,
                    _ => {
                        return Err(ConfigError::UnknownPlaceholder {
                            placeholder: name.to_owned(),
                            location: location.to_owned(),
                            known: kind.known(),
                        });
                    }
                };
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(Part::Field(field));
                rest = &after[name_len + 1..];
            } else {
                literal.push('{');
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// The template with every placeholder replaced by its value, escaped by `escaping`.
    pub(crate) fn render(&self, values: &Values<'_>, escaping: Escaping) -> String {
        let mut output = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => output.push_str(text),
                Part::Field(field) => {
                    let value = match field {
                        Field::To => values.to,
                        Field::ToNational => values.to_national,
                        Field::ToDigits => values.to_digits,
                        Field::Text => values.text,
                        Field::Encoding => values.encoding,
                        Field::Key => values.key,
                        Field::Callback => values.callback,
                    };
                    push_escaped(&mut output, value, escaping);
                }
            }
        }
        output
    }
}

fn push_escaped(output: &mut String, value: &str, escaping: Escaping) {
    match escaping {
        Escaping::Raw => output.push_str(value),
        Escaping::Percent => output.extend(utf8_percent_encode(value, COMPONENT)),
        Escaping::JsonString => {
            // serde_json writes a complete JSON string; the template already has the quotes.
            let quoted = serde_json::Value::String(value.to_owned()).to_string();
            output.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
}
