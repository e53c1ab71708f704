//! The document model: what a report says, as plain data, before any layout. The content
//! (figures already formatted, tables, charts) is built by the caller; the renderers decide how
//! it looks.

use serde::{Deserialize, Serialize};

use crate::chart::Chart;

/// A report: a title page block, then blocks in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The report's title, e.g. « Rapport de supervision ».
    pub title: String,
    /// Who issues the report, e.g. « Mileo Technology ».
    pub organisation: String,
    /// For whom: the client's name.
    pub recipient: String,
    /// The period covered, already worded, e.g. « novembre 2026 ».
    pub period: String,
    /// The generation instant already worded in French, e.g. « Généré le 1 décembre 2026 à
    /// 06:00 » (this crate reads no clock and knows no time zone).
    pub generated: String,
    /// The generation instant, UTC epoch milliseconds: the PDF's creation date, so that the
    /// same document gives the same bytes.
    pub created_ms: i64,
    /// The body, in reading order.
    pub blocks: Vec<Block>,
}

/// One block of a report's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "content", rename_all = "snake_case")]
pub enum Block {
    /// A section heading; `level` 1 to 3 (others are brought into that range).
    Heading { level: u8, text: String },
    /// A paragraph of running text.
    Paragraph(String),
    /// Key figures, shown as a row of boxes (four to a row).
    Figures(Vec<Figure>),
    /// A table; its header row repeats on every page it spans.
    Table(Table),
    /// A chart with its caption.
    Chart { caption: String, chart: Chart },
    /// A bulleted list.
    List(Vec<String>),
    /// A boxed remark, set apart from the text.
    Note(String),
    /// Starts the next block on a new page (nothing if already at the top of one).
    PageBreak,
}

/// How a row, a figure or a bar should catch the eye.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    #[default]
    Normal,
    /// Worth a look (e.g. availability close to the contract's threshold).
    Warning,
    /// Needs action (e.g. availability under the contract's threshold).
    Critical,
}

/// A key figure: a value with its label, e.g. « 99,7 % » « Disponibilité moyenne ».
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub label: String,
    /// Already formatted (see [`crate::format_quantity`]).
    pub value: String,
    /// A short remark under the label, e.g. « contrat : 99 % ».
    pub note: Option<String>,
    #[serde(default)]
    pub tone: Tone,
}

impl Figure {
    /// A figure without note, in the normal tone.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Figure {
        Figure {
            label: label.into(),
            value: value.into(),
            note: None,
            tone: Tone::Normal,
        }
    }

    /// The same figure with a note under its label.
    pub fn with_note(mut self, note: impl Into<String>) -> Figure {
        self.note = Some(note.into());
        self
    }

    /// The same figure in another tone.
    pub fn with_tone(mut self, tone: Tone) -> Figure {
        self.tone = tone;
        self
    }
}

/// A table: columns, rows of already formatted cells, and an optional total row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Shown above the table, e.g. « Disponibilité par site ».
    pub caption: Option<String>,
    pub columns: Vec<Column>,
    /// Each row has one cell per column; missing cells are shown empty, extra ones dropped.
    pub rows: Vec<Row>,
    /// A last row in bold (totals, averages), after every row.
    pub total: Option<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            caption: None,
            columns,
            rows: Vec::new(),
            total: None,
        }
    }

    /// The same table with a caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Table {
        self.caption = Some(caption.into());
        self
    }

    /// Adds a row in the normal tone.
    pub fn push(&mut self, cells: Vec<String>) {
        self.rows.push(Row {
            cells,
            tone: Tone::Normal,
        });
    }

    /// Adds a row in a given tone.
    pub fn push_toned(&mut self, cells: Vec<String>, tone: Tone) {
        self.rows.push(Row { cells, tone });
    }
}

/// A table's column: its title and how its cells are aligned (figures to the right).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub title: String,
    pub align: Align,
}

impl Column {
    /// A column of text, aligned left; it takes the width the others leave.
    pub fn left(title: impl Into<String>) -> Column {
        Column {
            title: title.into(),
            align: Align::Left,
        }
    }

    /// A column of figures, aligned right.
    pub fn right(title: impl Into<String>) -> Column {
        Column {
            title: title.into(),
            align: Align::Right,
        }
    }

    /// A column of short values (states, codes), centred.
    pub fn center(title: impl Into<String>) -> Column {
        Column {
            title: title.into(),
            align: Align::Center,
        }
    }
}

/// The alignment of a column's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    Left,
    Right,
    Center,
}

/// One row of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub cells: Vec<String>,
    #[serde(default)]
    pub tone: Tone,
}
