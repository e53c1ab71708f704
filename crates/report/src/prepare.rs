//! The document brought within bounds, with French spacing and its charts drawn, as both
//! renderers read it: what is cut here is cut in the PDF and the HTML alike, with a French note
//! saying what was left out.

use serde::Serialize;

use crate::document::{Align, Block, Column, Document, Figure, Row, Table, Tone};
use crate::french::{format_number, french_spacing};

/// At most this many rows in one table (about a hundred pages); the others are left out and
/// counted in a note under the table.
pub const MAX_TABLE_ROWS: usize = 5_000;
/// At most this many columns in a table: more do not fit across an A4 page.
pub const MAX_TABLE_COLUMNS: usize = 12;
/// At most this many characters in a table cell, a figure or a list item.
pub const MAX_CELL_CHARS: usize = 500;
/// At most this many characters in a paragraph, a note, a heading or a title.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// At most this many items in a list, figures in a row of figures.
pub const MAX_LIST_ITEMS: usize = 500;
/// At most this many blocks in a document.
pub const MAX_BLOCKS: usize = 2_000;
/// At most this many characters of text and chart drawing in a whole document (about a
/// thousand pages): once spent, the rest of the document is left out with a note, so that
/// no document can make the renderers run for ever.
pub const MAX_DOCUMENT_CHARS: usize = 4_000_000;

/// At most `max_chars` characters of the text, the last one an ellipsis when some were cut.
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A document ready to be rendered.
#[derive(Debug, Serialize)]
pub(crate) struct Prepared {
    pub title: String,
    pub organisation: String,
    pub recipient: String,
    pub period: String,
    pub generated: String,
    pub blocks: Vec<PreparedBlock>,
}

/// A block ready to be rendered; the template reads its `kind`.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum PreparedBlock {
    Heading {
        level: u8,
        text: String,
    },
    Paragraph {
        text: String,
    },
    Figures {
        figures: Vec<Figure>,
    },
    Table {
        caption: Option<String>,
        columns: Vec<Column>,
        rows: Vec<Row>,
        total: Option<Vec<String>>,
        /// Says how many rows were left out, if any.
        note: Option<String>,
    },
    Chart {
        caption: String,
        svg: String,
        /// Says what the chart's bounds left out, if anything.
        note: Option<String>,
    },
    List {
        items: Vec<String>,
    },
    Note {
        text: String,
    },
    PageBreak,
}

/// What is left of [`MAX_DOCUMENT_CHARS`] as the document is read.
struct Budget {
    chars_left: usize,
}

impl Budget {
    /// The text cut to `max_chars`, without control characters (but line breaks and tabs),
    /// with French spacing, its length spent.
    fn text(&mut self, text: &str, max_chars: usize) -> String {
        let text: String = shorten(text, max_chars)
            .chars()
            .filter(|character| matches!(character, '\n' | '\t') || !character.is_control())
            .collect();
        let text = french_spacing(&text);
        self.spend(text.chars().count());
        text
    }

    fn spend(&mut self, chars: usize) {
        // Even an empty text costs one, so that a flood of empty cells is bounded too.
        self.chars_left = self.chars_left.saturating_sub(chars.max(1));
    }

    fn exhausted(&self) -> bool {
        self.chars_left == 0
    }
}

/// The document within bounds.
pub(crate) fn prepare(document: &Document) -> Prepared {
    let mut budget = Budget {
        chars_left: MAX_DOCUMENT_CHARS,
    };
    let mut prepared = Prepared {
        title: budget.text(&document.title, MAX_TEXT_CHARS),
        organisation: budget.text(&document.organisation, MAX_CELL_CHARS),
        recipient: budget.text(&document.recipient, MAX_CELL_CHARS),
        period: budget.text(&document.period, MAX_CELL_CHARS),
        generated: budget.text(&document.generated, MAX_CELL_CHARS),
        blocks: Vec::with_capacity(document.blocks.len().min(MAX_BLOCKS)),
    };
    for (index, block) in document.blocks.iter().enumerate() {
        if index == MAX_BLOCKS || budget.exhausted() {
            let left_out = document.blocks.len() - index;
            prepared.blocks.push(PreparedBlock::Note {
                text: french_spacing(&format!(
                    "Document trop long pour être mis en page en entier : {} bloc{} de la fin \
                     (paragraphes, tableaux, graphiques…) ne {} pas affiché{}.",
                    format_number(left_out as f64, 0),
                    plural(left_out),
                    if left_out > 1 { "sont" } else { "est" },
                    plural(left_out),
                )),
            });
            break;
        }
        if let Some(block) = prepare_block(block, &mut budget) {
            prepared.blocks.push(block);
        }
    }
    prepared
}

fn plural(count: usize) -> &'static str {
    if count > 1 { "s" } else { "" }
}

fn prepare_block(block: &Block, budget: &mut Budget) -> Option<PreparedBlock> {
    Some(match block {
        Block::Heading { level, text } => PreparedBlock::Heading {
            level: (*level).clamp(1, 3),
            text: budget.text(text, MAX_TEXT_CHARS),
        },
        Block::Paragraph(text) => PreparedBlock::Paragraph {
            text: budget.text(text, MAX_TEXT_CHARS),
        },
        Block::Figures(figures) => PreparedBlock::Figures {
            figures: figures
                .iter()
                .take(MAX_LIST_ITEMS)
                .map(|figure| Figure {
                    label: budget.text(&figure.label, MAX_CELL_CHARS),
                    value: budget.text(&figure.value, MAX_CELL_CHARS),
                    note: figure
                        .note
                        .as_ref()
                        .map(|note| budget.text(note, MAX_CELL_CHARS)),
                    tone: figure.tone,
                })
                .collect(),
        },
        Block::Table(table) => return prepare_table(table, budget),
        Block::Chart { caption, chart } => {
            let caption = budget.text(caption, MAX_TEXT_CHARS);
            let svg = chart.svg(&caption);
            budget.spend(svg.len());
            PreparedBlock::Chart {
                caption,
                svg,
                note: chart.omission_note(),
            }
        }
        Block::List(items) => {
            let mut kept: Vec<String> = items
                .iter()
                .take(MAX_LIST_ITEMS)
                .map(|item| budget.text(item, MAX_CELL_CHARS))
                .collect();
            if items.len() > MAX_LIST_ITEMS {
                let left_out = items.len() - MAX_LIST_ITEMS;
                kept.push(format!(
                    "… et {} autre{plural}",
                    format_number(left_out as f64, 0),
                    plural = plural(left_out)
                ));
            }
            PreparedBlock::List { items: kept }
        }
        Block::Note(text) => PreparedBlock::Note {
            text: budget.text(text, MAX_TEXT_CHARS),
        },
        Block::PageBreak => PreparedBlock::PageBreak,
    })
}

/// A table with as many cells per row as columns, at most [`MAX_TABLE_ROWS`] rows. A table
/// without columns takes untitled ones from its widest row; with no cell at all, it is
/// nothing to show.
fn prepare_table(table: &Table, budget: &mut Budget) -> Option<PreparedBlock> {
    let mut columns: Vec<Column> = table
        .columns
        .iter()
        .take(MAX_TABLE_COLUMNS)
        .map(|column| Column {
            title: budget.text(&column.title, MAX_CELL_CHARS),
            align: column.align,
        })
        .collect();
    if columns.is_empty() {
        let widest = table
            .rows
            .iter()
            .map(|row| row.cells.len())
            .max()
            .unwrap_or(0);
        columns = (0..widest.min(MAX_TABLE_COLUMNS))
            .map(|_| Column {
                title: String::new(),
                align: Align::Left,
            })
            .collect();
    }
    if columns.is_empty() {
        return None;
    }
    let width = columns.len();
    let cells_of = |cells: &[String], budget: &mut Budget| -> Vec<String> {
        (0..width)
            .map(|index| {
                cells
                    .get(index)
                    .map(|cell| budget.text(cell, MAX_CELL_CHARS))
                    .unwrap_or_default()
            })
            .collect()
    };
    let mut rows = Vec::with_capacity(table.rows.len().min(MAX_TABLE_ROWS));
    for row in &table.rows {
        if rows.len() == MAX_TABLE_ROWS || budget.exhausted() {
            break;
        }
        rows.push(Row {
            cells: cells_of(&row.cells, budget),
            tone: row.tone,
        });
    }
    let left_out = table.rows.len() - rows.len();
    let note = (left_out > 0).then(|| {
        french_spacing(&format!(
            "Tableau limité à {} lignes : {} ligne{} de plus {} pas affichée{}.",
            format_number(rows.len() as f64, 0),
            format_number(left_out as f64, 0),
            plural(left_out),
            if left_out > 1 { "ne sont" } else { "n’est" },
            plural(left_out),
        ))
    });
    Some(PreparedBlock::Table {
        caption: table
            .caption
            .as_ref()
            .map(|caption| budget.text(caption, MAX_TEXT_CHARS)),
        total: table.total.as_ref().map(|total| cells_of(total, budget)),
        columns,
        rows,
        note,
    })
}

impl Tone {
    /// The tone's name in the template and the HTML classes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tone::Normal => "normal",
            Tone::Warning => "warning",
            Tone::Critical => "critical",
        }
    }
}

impl Align {
    /// The alignment's name in the template and the HTML classes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Align::Left => "left",
            Align::Right => "right",
            Align::Center => "center",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Column;

    fn document(blocks: Vec<Block>) -> Document {
        Document {
            title: "Rapport".into(),
            organisation: "Mileo Technology".into(),
            recipient: "Client".into(),
            period: "novembre 2026".into(),
            generated: "Généré le 1 décembre 2026 à 06:00".into(),
            created_ms: 0,
            blocks,
        }
    }

    #[test]
    fn shortened_text_ends_with_an_ellipsis() {
        assert_eq!(shorten("Caméra", 10), "Caméra");
        assert_eq!(shorten("Caméra du parking", 7), "Caméra…");
        assert_eq!(shorten("abc", 1), "…");
        assert_eq!(shorten("abc", 0), "");
    }

    #[test]
    fn a_long_table_is_cut_with_a_note() {
        let mut table = Table::new(vec![Column::left("Site"), Column::right("Valeur")]);
        for index in 0..MAX_TABLE_ROWS + 1_234 {
            table.push(vec![format!("Site {index}")]);
        }
        let prepared = prepare(&document(vec![Block::Table(table)]));
        let PreparedBlock::Table { rows, note, .. } = &prepared.blocks[0] else {
            panic!("a table")
        };
        assert_eq!(rows.len(), MAX_TABLE_ROWS);
        assert_eq!(rows[0].cells, vec!["Site 0".to_string(), String::new()]);
        let note = note
            .as_deref()
            .unwrap()
            .replace(['\u{202F}', '\u{A0}'], " ");
        assert_eq!(
            note,
            "Tableau limité à 5 000 lignes : 1 234 lignes de plus ne sont pas affichées."
        );
    }

    #[test]
    fn columns_rows_and_text_are_bounded() {
        let mut table = Table::new(
            (0..20)
                .map(|index| Column::left(format!("C{index}")))
                .collect(),
        );
        table.push((0..30).map(|_| "x".repeat(MAX_CELL_CHARS * 2)).collect());
        let blocks = vec![
            Block::Table(table),
            Block::Heading {
                level: 9,
                text: "Titre".into(),
            },
        ];
        let prepared = prepare(&document(blocks));
        let PreparedBlock::Table {
            columns,
            rows,
            note,
            ..
        } = &prepared.blocks[0]
        else {
            panic!("a table")
        };
        assert_eq!(columns.len(), MAX_TABLE_COLUMNS);
        assert_eq!(rows[0].cells.len(), MAX_TABLE_COLUMNS);
        assert_eq!(rows[0].cells[0].chars().count(), MAX_CELL_CHARS);
        assert!(note.is_none());
        assert!(matches!(
            prepared.blocks[1],
            PreparedBlock::Heading { level: 3, .. }
        ));
    }

    #[test]
    fn control_characters_are_dropped() {
        let prepared = prepare(&document(vec![Block::Paragraph(
            "a\u{0}\u{7}\u{1b}\u{9b}\r\nb\tc".into(),
        )]));
        let PreparedBlock::Paragraph { text } = &prepared.blocks[0] else {
            panic!("a paragraph")
        };
        assert_eq!(text, "a\nb\tc");
    }

    #[test]
    fn a_document_too_long_ends_with_a_note() {
        let paragraph = "mot ".repeat(MAX_TEXT_CHARS / 4);
        let blocks = vec![Block::Paragraph(paragraph); MAX_DOCUMENT_CHARS / MAX_TEXT_CHARS + 10];
        let prepared = prepare(&document(blocks));
        assert!(prepared.blocks.len() <= MAX_DOCUMENT_CHARS / MAX_TEXT_CHARS + 1);
        let Some(PreparedBlock::Note { text }) = prepared.blocks.last() else {
            panic!("a note")
        };
        assert!(text.starts_with("Document trop long"), "{text}");
        let blocks = vec![Block::PageBreak; MAX_BLOCKS + 5];
        let prepared = prepare(&document(blocks));
        assert_eq!(prepared.blocks.len(), MAX_BLOCKS + 1);
    }
}
