//! The inventory file (`docs/inventory.md`): a TOML document of `[[client]]`, `[[contact]]`,
//! `[[contract]]`, `[[staff]]`, `[[site]]` and `[[equipment]]` tables. Parsing keeps where each
//! record starts so that every error names its line; checking runs [`check::check`] and maps
//! each problem back to the line of the offending field.

use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::inventory::check::{self, KnownObjects};
use crate::inventory::{Inventory, ObjectKind, Record};
use crate::text::{french_serde_message, quoted};

/// The format version this code reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// Largest inventory file accepted, in bytes (a 100,000-equipment fleet fits well below).
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// One error in an inventory file: the line it is on (1-based, 0 when it concerns the whole
/// file) and what is wrong, in French.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "ligne {} : {}", self.line, self.message)
        }
    }
}

/// A parsed inventory file: its records, and where each one is in the text.
#[derive(Debug, Clone)]
pub struct InventoryFile {
    pub inventory: Inventory,
    text: String,
    /// For each kind, the byte range of each record, in list order.
    spans: Vec<(ObjectKind, Vec<Range<usize>>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<i64>,
    #[serde(default)]
    client: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    contact: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    contract: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    staff: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    site: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    equipment: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    territory: Vec<Spanned<toml::Table>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// The line inside `span` where `key = …` is written, if it is.
fn line_of_key(text: &str, span: &Range<usize>, key: &str) -> Option<usize> {
    let record = text.get(span.clone())?;
    let mut offset = span.start;
    for line in record.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(line_of(text, offset));
        }
        offset += line.len();
    }
    None
}

/// The line inside `span` holding the first « value » quoted in `message`, if any.
fn line_of_quoted_value(text: &str, span: &Range<usize>, message: &str) -> Option<usize> {
    let start = message.find('«')? + '«'.len_utf8();
    let end = start + message[start..].find('»')?;
    let value = message[start..end].trim();
    if value.is_empty() {
        return None;
    }
    let record = text.get(span.clone())?;
    let position = record
        .find(&format!("\"{value}\""))
        .or_else(|| record.find(value))?;
    Some(line_of(text, span.start + position))
}

impl InventoryFile {
    /// Parses the text of an inventory file. Every record is read even when an earlier one is
    /// wrong, so that one run reports all the errors.
    pub fn parse(text: &str) -> Result<InventoryFile, Vec<FileError>> {
        if text.len() > MAX_FILE_BYTES {
            return Err(vec![FileError {
                line: 0,
                message: format!(
                    "fichier trop volumineux ({} octets, au plus {MAX_FILE_BYTES})",
                    text.len()
                ),
            }]);
        }
        let raw: RawFile = toml::from_str(text).map_err(|error| {
            let line = error.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            vec![FileError {
                line,
                message: french_serde_message(error.message()),
            }]
        })?;
        if let Some(version) = raw.version
            && version != FORMAT_VERSION
        {
            return Err(vec![FileError {
                line: line_of_key(text, &(0..text.len()), "version").unwrap_or(1),
                message: format!(
                    "version de format {version} inconnue (cette version de Vigie lit la version {FORMAT_VERSION})"
                ),
            }]);
        }

        let mut errors = Vec::new();
        let mut inventory = Inventory::default();
        let mut spans = Vec::new();
        let lists = [
            (ObjectKind::Client, raw.client),
            (ObjectKind::Contact, raw.contact),
            (ObjectKind::Contract, raw.contract),
            (ObjectKind::Staff, raw.staff),
            (ObjectKind::Site, raw.site),
            (ObjectKind::Equipment, raw.equipment),
            (ObjectKind::Territory, raw.territory),
        ];
        for (kind, tables) in lists {
            let mut kind_spans = Vec::with_capacity(tables.len());
            for table in tables {
                let span = table.span();
                let table = table.into_inner();
                let reference = table.get("ref").and_then(|v| v.as_str()).map(str::to_owned);
                match Record::from_toml(kind, table) {
                    Ok(record) => {
                        inventory.push(record);
                        kind_spans.push(span);
                    }
                    Err(error) => {
                        let message = french_serde_message(&error.to_string());
                        let field = message
                            .strip_prefix("champ inconnu « ")
                            .or_else(|| message.strip_prefix("champ en double : « "))
                            .and_then(|rest| rest.split(" »").next());
                        let line = field
                            .and_then(|f| line_of_key(text, &span, f))
                            .or_else(|| line_of_quoted_value(text, &span, &message))
                            .unwrap_or_else(|| line_of(text, span.start));
                        let who = match reference {
                            Some(r) => format!("{} {}", kind.french(), quoted(&r)),
                            None => kind.french().to_string(),
                        };
                        errors.push(FileError {
                            line,
                            message: format!("{who} : {message}"),
                        });
                    }
                }
            }
            spans.push((kind, kind_spans));
        }
        if errors.is_empty() {
            Ok(InventoryFile {
                inventory,
                text: text.to_string(),
                spans,
            })
        } else {
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }

    /// Checks references, client walls and cycles against what is already stored.
    pub fn check(&self, stored: &KnownObjects) -> Result<(), Vec<FileError>> {
        let problems = check::check(&self.inventory, stored);
        if problems.is_empty() {
            return Ok(());
        }
        let mut errors: Vec<FileError> = problems
            .into_iter()
            .map(|p| {
                let span = self
                    .spans
                    .iter()
                    .find(|(kind, _)| *kind == p.kind)
                    .and_then(|(_, spans)| spans.get(p.index))
                    .cloned()
                    .unwrap_or(0..0);
                let line = p
                    .field
                    .and_then(|f| line_of_key(&self.text, &span, f))
                    .unwrap_or_else(|| line_of(&self.text, span.start));
                FileError {
                    line,
                    message: format!(
                        "{} {} : {}",
                        p.kind.french(),
                        quoted(p.reference.as_str()),
                        p.message
                    ),
                }
            })
            .collect();
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

impl Record {
    fn from_toml(kind: ObjectKind, table: toml::Table) -> Result<Record, toml::de::Error> {
        let value = toml::Value::Table(table);
        Ok(match kind {
            ObjectKind::Client => Record::Client(value.try_into()?),
            ObjectKind::Contact => Record::Contact(value.try_into()?),
            ObjectKind::Contract => Record::Contract(value.try_into()?),
            ObjectKind::Staff => Record::Staff(value.try_into()?),
            ObjectKind::Site => Record::Site(value.try_into()?),
            ObjectKind::Equipment => Record::Equipment(value.try_into()?),
            ObjectKind::Territory => Record::Territory(value.try_into()?),
        })
    }
}

/// Writes an inventory in the file format, sorted by reference, so that `export` then `import`
/// changes nothing and two exports of the same data are identical.
pub fn write(inventory: &Inventory) -> String {
    let mut sorted = inventory.clone();
    sorted.sort();
    #[derive(serde::Serialize)]
    struct Out<'a> {
        version: i64,
        #[serde(flatten)]
        inventory: &'a Inventory,
    }
    let body = toml::to_string(&Out {
        version: FORMAT_VERSION,
        inventory: &sorted,
    })
    .expect("inventory records always serialise to TOML");
    format!(
        "# Inventaire Vigie (format décrit dans docs/inventory.md).\n# Ce fichier peut être modifié puis réimporté avec `vigie import`.\n\n{body}"
    )
}
