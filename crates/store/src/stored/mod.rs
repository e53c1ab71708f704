//! The JSON records the store keeps in its tables, as versioned types of their own (issue 24,
//! item 7): an alarm, an alarm's event, a ticket, a ticket's event and a message of the outbox.
//! The store writes and reads them only through these types, never through the domain's serde
//! shapes, so that renaming or restructuring a domain type cannot change what is stored, nor
//! stop an old row from reading, without a compile error in the conversions here. The golden
//! rows of `crates/store/tests/it/data/stored/` pin the text of each format.
//!
//! Format 1 is the records as the store always wrote them: a record without `format` is format
//! 1, and format 1 is written without the field, so that the rows already stored and those
//! written now are the same. A record of a format this build does not know is refused with a
//! message that names it. A format 2 gets new types beside these (`…V2`); `decode` then reads
//! both, `encode` writes 2, and the golden rows of format 1 stay, to be read still.
//!
//! Each family has its file: [`alarm`], [`alarm_event`], [`ticket`], [`ticket_event`] and
//! [`outgoing`], each with its `…V1` types, their conversions from and to the domain's
//! (`From<&domain>` to write, `TryFrom<…V1>` to read: the domain refuses what it never
//! accepts, a malformed reference), and one `encode` and one `decode`.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use vigie_domain::Reference;
use vigie_domain::values::InvalidValue;

use crate::StoreError;

/// An enum of unit variants as a record stores it (snake_case, as the domain's serde spells
/// it), with its conversions both ways. The matches name every variant, without a wildcard: a
/// variant added to the domain does not compile until its stored name is decided here. A
/// variant renamed in the domain needs its enum written out by hand, keeping the stored name.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident for $domain:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> $name {
                match value {
                    $($domain::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> $domain {
                match value {
                    $($name::$variant => $domain::$variant),+
                }
            }
        }
    };
}

pub mod alarm;
pub mod alarm_event;
pub mod outgoing;
pub mod ticket;
pub mod ticket_event;

/// The format this build writes, and the only one it reads.
pub const FORMAT: u64 = 1;

/// Only the format of a record, read first so that a record of a later format gets a clear
/// refusal instead of a field-by-field one.
#[derive(Deserialize)]
struct Format {
    #[serde(default)]
    format: Option<u64>,
}

/// `record` (the JSON of a row) as its format-1 type; `what` names the record for the error
/// (« alarme stockée »).
fn read<T: DeserializeOwned>(record: &str, what: &str) -> Result<T, StoreError> {
    // Every record written so far has no `format`, and reads in one pass. The text `"format"`
    // is in a record only as a key or as a whole string value (a longer string escapes its
    // quotes): where it is absent there is no such field, and the record is not read twice.
    let format = if record.contains("\"format\"") {
        let Format { format } = serde_json::from_str(record).map_err(|e| unreadable(what, e))?;
        format
    } else {
        None
    };
    match format {
        // As every record has been written so far.
        None => serde_json::from_str(record).map_err(|e| unreadable(what, e)),
        // Written with its format by a later version that still writes format 1: the field is
        // no part of the record's types.
        Some(FORMAT) => {
            let mut value: serde_json::Value =
                serde_json::from_str(record).map_err(|e| unreadable(what, e))?;
            if let Some(object) = value.as_object_mut() {
                object.remove("format");
            }
            serde_json::from_value(value).map_err(|e| unreadable(what, e))
        }
        Some(format) => Err(StoreError::other(anyhow::anyhow!(
            "{what} : enregistrement au format {format} : cette version de Vigie lit le format {FORMAT} ; mettez Vigie à jour"
        ))),
    }
}

/// The JSON of a record's format-1 value.
fn write<T: serde::Serialize>(record: &T) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(StoreError::other)
}

/// A stored record that does not read, or holds a value the domain refuses.
fn unreadable(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::other(anyhow::anyhow!("{what} illisible : {error}"))
}

/// A reference read back, the field named if the domain refuses it.
fn reference(field: &str, text: String) -> Result<Reference, InvalidValue> {
    Reference::parse(&text).map_err(|e| InvalidValue(format!("{field} : {}", e.0)))
}

fn optional_reference(
    field: &str,
    text: Option<String>,
) -> Result<Option<Reference>, InvalidValue> {
    text.map(|text| reference(field, text)).transpose()
}

fn references(field: &str, texts: Vec<String>) -> Result<Vec<Reference>, InvalidValue> {
    texts
        .into_iter()
        .map(|text| reference(field, text))
        .collect()
}

/// For `skip_serializing_if`: a count of zero is not written.
fn is_zero(value: &u32) -> bool {
    *value == 0
}

fn is_zero_ms(value: &i64) -> bool {
    *value == 0
}
