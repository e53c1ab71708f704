//! The HTML renderer: the same document as one self-contained page (inline stylesheet, no
//! script, no external resource) or as a fragment for the client portal's own pages. Every text
//! is escaped; the charts are the same SVG as in the PDF.

use crate::document::{Document, Figure, Row, Tone};
use crate::markup::escape;
use crate::prepare::{Prepared, PreparedBlock, prepare};

/// The stylesheet of the report's HTML, every rule scoped to `.vigie-report` so that it can
/// sit in another page: [`html_page`] inlines it; a page showing [`html_fragment`] serves it.
pub const HTML_STYLESHEET: &str = include_str!("../templates/report.css");

/// The document as a complete HTML page in French, printable on A4.
pub fn html_page(document: &Document) -> String {
    let prepared = prepare(document);
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<title>{} · {} · {}</title>\n",
        escape(&prepared.title),
        escape(&prepared.recipient),
        escape(&prepared.period)
    ));
    out.push_str("<style>\n");
    out.push_str(HTML_STYLESHEET);
    out.push_str("</style>\n</head>\n<body>\n");
    write_article(&mut out, &prepared);
    out.push_str("</body>\n</html>\n");
    out
}

/// The document as one `<article class="vigie-report" lang="fr">` element, to be placed in a
/// page that serves [`HTML_STYLESHEET`].
pub fn html_fragment(document: &Document) -> String {
    let prepared = prepare(document);
    let mut out = String::with_capacity(64 * 1024);
    write_article(&mut out, &prepared);
    out
}

fn write_article(out: &mut String, prepared: &Prepared) {
    out.push_str("<article class=\"vigie-report\" lang=\"fr\">\n<header class=\"vr-title\">\n");
    out.push_str(&format!(
        "<p class=\"vr-organisation\">{}</p>\n",
        escape(&prepared.organisation)
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&prepared.title)));
    out.push_str(&format!(
        "<dl class=\"vr-meta\"><dt>Client\u{a0}:</dt><dd>{}</dd><dt>Période\u{a0}:</dt><dd>{}</dd></dl>\n",
        escape(&prepared.recipient),
        escape(&prepared.period)
    ));
    out.push_str(&format!(
        "<p class=\"vr-generated\">{}</p>\n</header>\n",
        escape(&prepared.generated)
    ));
    for block in &prepared.blocks {
        write_block(out, block);
    }
    out.push_str(&format!(
        "<footer class=\"vr-footer\">{} · {} · {}</footer>\n</article>\n",
        escape(&prepared.organisation),
        escape(&prepared.recipient),
        escape(&prepared.period)
    ));
}

fn write_block(out: &mut String, block: &PreparedBlock) {
    match block {
        PreparedBlock::Heading { level, text } => {
            // The title is the page's <h1>: a level-1 heading is an <h2>.
            let level = level + 1;
            out.push_str(&format!("<h{level}>{}</h{level}>\n", escape(text)));
        }
        PreparedBlock::Paragraph { text } => out.push_str(&format!("<p>{}</p>\n", escape(text))),
        PreparedBlock::Figures { figures } => {
            out.push_str("<div class=\"vr-figures\">\n");
            for figure in figures {
                write_figure(out, figure);
            }
            out.push_str("</div>\n");
        }
        PreparedBlock::Table {
            caption,
            columns,
            rows,
            total,
            note,
        } => {
            out.push_str("<figure class=\"vr-table\">\n");
            if let Some(caption) = caption {
                out.push_str(&format!("<figcaption>{}</figcaption>\n", escape(caption)));
            }
            out.push_str("<div class=\"vr-scroll\"><table>\n<thead><tr>");
            for column in columns {
                out.push_str(&format!(
                    "<th scope=\"col\" class=\"vr-{}\">{}</th>",
                    column.align.name(),
                    escape(&column.title)
                ));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            let aligns: Vec<&str> = columns.iter().map(|column| column.align.name()).collect();
            for row in rows {
                write_row(out, row, &aligns);
            }
            out.push_str("</tbody>\n");
            if let Some(total) = total {
                out.push_str("<tfoot>");
                write_row(
                    out,
                    &Row {
                        cells: total.clone(),
                        tone: Tone::Normal,
                    },
                    &aligns,
                );
                out.push_str("</tfoot>\n");
            }
            out.push_str("</table></div>\n");
            write_aside(out, note.as_deref());
            out.push_str("</figure>\n");
        }
        PreparedBlock::Chart { caption, svg, note } => {
            out.push_str(&format!(
                "<figure class=\"vr-chart\">\n<figcaption>{}</figcaption>\n",
                escape(caption)
            ));
            // The SVG is this crate's own text, every label in it already escaped.
            out.push_str(svg);
            out.push('\n');
            write_aside(out, note.as_deref());
            out.push_str("</figure>\n");
        }
        PreparedBlock::List { items } => {
            out.push_str("<ul class=\"vr-list\">\n");
            for item in items {
                out.push_str(&format!("<li>{}</li>\n", escape(item)));
            }
            out.push_str("</ul>\n");
        }
        PreparedBlock::Note { text } => {
            out.push_str(&format!(
                "<aside class=\"vr-note\"><p>{}</p></aside>\n",
                escape(text)
            ));
        }
        PreparedBlock::PageBreak => out.push_str("<div class=\"vr-page-break\"></div>\n"),
    }
}

fn write_figure(out: &mut String, figure: &Figure) {
    out.push_str(&format!(
        "<div class=\"vr-figure vr-{}\"><p class=\"vr-value\">{}</p><p class=\"vr-label\">{}</p>",
        figure.tone.name(),
        escape(&figure.value),
        escape(&figure.label)
    ));
    if let Some(note) = &figure.note {
        out.push_str(&format!("<p class=\"vr-figure-note\">{}</p>", escape(note)));
    }
    out.push_str("</div>\n");
}

fn write_row(out: &mut String, row: &Row, aligns: &[&str]) {
    match row.tone {
        Tone::Normal => out.push_str("<tr>"),
        tone => out.push_str(&format!("<tr class=\"vr-{}\">", tone.name())),
    }
    for (cell, align) in row.cells.iter().zip(aligns) {
        out.push_str(&format!("<td class=\"vr-{align}\">{}</td>", escape(cell)));
    }
    out.push_str("</tr>\n");
}

fn write_aside(out: &mut String, note: Option<&str>) {
    if let Some(note) = note {
        out.push_str(&format!("<p class=\"vr-aside\">{}</p>\n", escape(note)));
    }
}
