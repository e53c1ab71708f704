//! The PDF renderer: Typst as a library, over a world held in memory. The fixed template
//! `templates/report.typ` reads the document as JSON from a virtual file, so a person's text is
//! only ever data to Typst, never markup. Fonts are those embedded in the binary: no system
//! font, no network, no package.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use crate::document::Document;
use crate::prepare::prepare;

/// The template, compiled into the binary.
const TEMPLATE: &str = include_str!("../templates/report.typ");
/// Where the template finds itself and the document in the virtual file system.
const TEMPLATE_PATH: &str = "/report.typ";
const DOCUMENT_PATH: &str = "/document.json";
/// At most this many Typst diagnostics are kept in an error or a list of warnings.
const MAX_DIAGNOSTICS: usize = 20;
/// Typst memoises layouts across compilations; entries unused for this many compilations are
/// dropped after each one, so that a long-running server's memory stays bounded.
const MEMO_GENERATIONS: usize = 4;

/// A rendered PDF, with what Typst warned about (nothing, for a sound template).
#[derive(Debug, Clone)]
pub struct Pdf {
    pub bytes: Vec<u8>,
    /// Typst's warnings, worded like its errors (see [`ReportError`]).
    pub warnings: Vec<String>,
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("la mise en page du rapport a échoué : {}", .0.join(" ; "))]
    Layout(Vec<String>),
    #[error("l’export du rapport en PDF a échoué : {}", .0.join(" ; "))]
    Export(Vec<String>),
    #[error("le document n’a pas pu être transmis au modèle de mise en page : {0}")]
    Data(String),
}

/// The document as a PDF: A4, French typography, header and footer on every page. The same
/// document gives the same bytes (the creation date is `created_ms`).
pub fn pdf(document: &Document) -> Result<Pdf, ReportError> {
    let prepared = prepare(document);
    let mut data =
        serde_json::to_value(&prepared).map_err(|error| ReportError::Data(error.to_string()))?;
    breakable_words(&mut data);
    let json = serde_json::to_vec(&data).map_err(|error| ReportError::Data(error.to_string()))?;
    let created = datetime_of(document.created_ms);
    let world = ReportWorld::new(json, created);
    let compiled = typst::compile::<PagedDocument>(&world);
    let warnings = compiled
        .warnings
        .iter()
        .take(MAX_DIAGNOSTICS)
        .map(|warning| describe(&world, warning))
        .collect();
    let result = match compiled.output {
        Ok(paged) => {
            let options = PdfOptions {
                ident: Smart::Auto,
                creator: Smart::Custom(Some("Vigie".into())),
                timestamp: created.map(Timestamp::new_utc),
                ..PdfOptions::default()
            };
            typst_pdf::pdf(&paged, &options)
                .map(|bytes| Pdf { bytes, warnings })
                .map_err(|errors| ReportError::Export(describe_all(&world, &errors)))
        }
        Err(errors) => Err(ReportError::Layout(describe_all(&world, &errors))),
    };
    typst::comemo::evict(MEMO_GENERATIONS);
    result
}

/// Typst breaks a line only between words or at a hyphenation point: a long run without
/// either (a reference, an address, a serial number) would run past the margin or over the next
/// table cell. A zero-width space every [`WORD_PIECE_CHARS`] characters of such a run lets it
/// break there (it is invisible, but copied with the text: hence only in runs that need it).
/// Addresses (`://`, `www.`) are left alone: Typst breaks them itself. Every string of the
/// data is treated but the charts' SVG, which is not text.
fn breakable_words(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if text.chars().count() > LONG_WORD_CHARS => {
            *text = break_long_words(text);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(breakable_words),
        serde_json::Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if key != "svg" {
                    breakable_words(field);
                }
            }
        }
        _ => {}
    }
}

/// A run without a space longer than this gets break points.
const LONG_WORD_CHARS: usize = 30;
/// The length of the pieces a long run is broken into: narrow enough for a column of a
/// table of twelve.
const WORD_PIECE_CHARS: usize = 8;

fn break_long_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (index, word) in text.split(' ').enumerate() {
        if index > 0 {
            out.push(' ');
        }
        if word.chars().count() <= LONG_WORD_CHARS
            || word.contains("://")
            || word.starts_with("www.")
        {
            out.push_str(word);
            continue;
        }
        let mut run = 0;
        for character in word.chars() {
            if character.is_whitespace() {
                run = 0;
            } else if run == WORD_PIECE_CHARS {
                out.push('\u{200B}');
                run = 0;
            }
            run += 1;
            out.push(character);
        }
    }
    out
}

fn describe_all(world: &ReportWorld, diagnostics: &[SourceDiagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .take(MAX_DIAGNOSTICS)
        .map(|diagnostic| describe(world, diagnostic))
        .collect()
}

/// A diagnostic as one line: where in the template (line and column), Typst's message (in
/// English: it is for the developer), and its hints.
fn describe(world: &ReportWorld, diagnostic: &SourceDiagnostic) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "erreur",
        Severity::Warning => "avertissement",
    };
    let mut text = format!("{severity} de Typst");
    if let (Some(id), Some(range)) = (diagnostic.span.id(), world.range(diagnostic.span)) {
        let path = id.vpath().get_with_slash().to_string();
        let place = world
            .source(id)
            .ok()
            .and_then(|source| source.lines().byte_to_line_column(range.start))
            .map(|(line, column)| format!(" ({path}, ligne {}, colonne {})", line + 1, column + 1))
            .unwrap_or_else(|| format!(" ({path})"));
        text.push_str(&place);
    }
    text.push_str(&format!(" : {}", diagnostic.message));
    for hint in &diagnostic.hints {
        text.push_str(&format!(" (indice : {})", hint.v));
    }
    text
}

/// UTC epoch milliseconds as a Typst date and time (to the second), by the civil-from-days
/// algorithm (Howard Hinnant's), since this crate has no calendar crate. `None` outside years
/// 1 to 9999, which a PDF date cannot carry.
fn datetime_of(epoch_ms: i64) -> Option<Datetime> {
    let seconds = epoch_ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    if !(1..=9999).contains(&year) {
        return None;
    }
    Datetime::from_ymd_hms(
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(second_of_day / 3600).ok()?,
        u8::try_from(second_of_day % 3600 / 60).ok()?,
        u8::try_from(second_of_day % 60).ok()?,
    )
}

/// The embedded fonts, read once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

fn file_id(path: &str) -> FileId {
    // The paths are constants of this module: they are valid.
    let path = VirtualPath::new(path).expect("a constant virtual path");
    RootedPath::new(VirtualRoot::Project, path).intern()
}

/// Everything Typst may read for one document: the template, the document's JSON, the
/// embedded fonts, and the document's creation date as "today". Nothing else exists.
struct ReportWorld {
    template: Source,
    document_id: FileId,
    document: Bytes,
    today: Option<Datetime>,
}

impl ReportWorld {
    fn new(document: Vec<u8>, today: Option<Datetime>) -> ReportWorld {
        ReportWorld {
            template: Source::new(file_id(TEMPLATE_PATH), TEMPLATE.to_string()),
            document_id: file_id(DOCUMENT_PATH),
            document: Bytes::new(document),
            today,
        }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }

    fn main(&self) -> FileId {
        self.template.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.template.id() {
            Ok(self.template.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.document_id {
            Ok(self.document.clone())
        } else if id == self.template.id() {
            Ok(Bytes::from_string(self.template.clone()))
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_get_break_points_and_short_ones_do_not() {
        let long = "a".repeat(36);
        let broken = break_long_words(&format!("court {long} fin"));
        let pieces = [
            "a".repeat(8),
            "a".repeat(8),
            "a".repeat(8),
            "a".repeat(8),
            "a".repeat(4),
        ];
        assert_eq!(broken, format!("court {} fin", pieces.join("\u{200B}")));
        let address = format!("https://exemple.fr/{long}");
        assert_eq!(break_long_words(&address), address);
        let mut data = serde_json::json!({"svg": long, "blocks": [{"text": long}, "court"]});
        breakable_words(&mut data);
        assert_eq!(data["svg"], long.as_str());
        let text = data["blocks"][0]["text"].as_str().unwrap();
        assert_eq!(text.matches('\u{200B}').count(), 4);
        assert_eq!(data["blocks"][1], "court");
    }

    #[test]
    fn epoch_milliseconds_become_utc_dates() {
        let cases = [
            (0, (1970, 1, 1, 0, 0, 0)),
            (1_796_104_800_000, (2026, 12, 1, 6, 0, 0)),
            (1_796_105_025_999, (2026, 12, 1, 6, 3, 45)),
            (951_782_400_000, (2000, 2, 29, 0, 0, 0)),
            (-1, (1969, 12, 31, 23, 59, 59)),
        ];
        for (epoch_ms, (year, month, day, hour, minute, second)) in cases {
            let expected = Datetime::from_ymd_hms(year, month, day, hour, minute, second);
            assert_eq!(datetime_of(epoch_ms), expected, "{epoch_ms}");
        }
        assert_eq!(datetime_of(i64::MAX), None);
        assert_eq!(datetime_of(i64::MIN), None);
    }
}
