//! Reports as documents: a typed [`Document`] (headings, paragraphs, key figures, tables,
//! charts, lists, notes) rendered to PDF through Typst, used as a library, and to HTML.
//!
//! The content is built by the caller, figures already formatted ([`format_number`],
//! [`format_quantity`]); this crate decides the layout. It depends on no other Vigie crate,
//! yet writes figures and escapes text exactly as the rest of the product does: it compiles
//! the domain's French typography and escape as its own modules (see below). It does no IO
//! (Typst reads the template, the document and the embedded fonts from memory) and reads no
//! clock: the generation instant is part of the document, so that the same document
//! gives the same bytes. A person's text never enters Typst markup: the fixed template
//! (`templates/report.typ`) reads the document as JSON data. Everything is bounded (rows,
//! columns, text, bars, points): what a bound leaves out is said in a French note.
//!
//! The layout is described in `docs/reports.md`.

mod chart;
mod document;
mod html;
mod pdf;
mod prepare;

// The product has one French formatter and one escape, in the domain (`vigie_domain::french`,
// `vigie_domain::markup`). This crate may depend on no Vigie crate (its architecture test), so it
// compiles those two files, which use only the standard library, rather than a copy of them
// that would round or escape differently.
#[path = "../../domain/src/french/typography.rs"]
mod french;
#[path = "../../domain/src/markup.rs"]
mod markup;

pub use chart::{
    Bar, BarChart, Chart, Colour, Layer, LineChart, MAX_BARS, MAX_CATEGORIES, MAX_LABEL_CHARS,
    MAX_POINTS, MAX_SERIES, Orientation, Series, StackedBars, Threshold,
};
pub use document::{Align, Block, Column, Document, Figure, Row, Table, Tone};
pub use french::{
    MAX_DECIMALS, NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE, NO_VALUE, format_number, format_quantity,
    french_spacing,
};
pub use html::{HTML_STYLESHEET, html_fragment, html_page};
pub use pdf::{Pdf, ReportError, pdf};
pub use prepare::{
    MAX_BLOCKS, MAX_CELL_CHARS, MAX_DOCUMENT_CHARS, MAX_LIST_ITEMS, MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS, MAX_TEXT_CHARS,
};
