//! The PDF renderer, read back with poppler: text, header and footer, page size, fonts,
//! hostile text shown as written, the same bytes for the same document.

use std::path::PathBuf;

use vigie_report::{
    Block, Column, Document, Figure, MAX_LIST_ITEMS, MAX_TABLE_ROWS, ReportError, Table, html_page,
    pdf,
};

use crate::poppler::{PdfFile, draw_pages, plain};
use crate::sample::{CREATED_MS, HOSTILE, SITES, sample, site_name};

/// Where the sample is left for a person to look at: `target/report-artifacts/`.
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let folder = target.join("report-artifacts");
    std::fs::create_dir_all(&folder).expect("the artifacts folder");
    folder
}

fn render(document: &Document) -> Vec<u8> {
    let rendered = pdf(document).expect("the document renders");
    assert!(
        rendered.warnings.is_empty(),
        "Typst warned: {:?}",
        rendered.warnings
    );
    rendered.bytes
}

#[test]
fn the_sample_report_reads_back_as_written() {
    let document = sample();
    let bytes = render(&document);
    let folder = artifacts();
    std::fs::write(folder.join("rapport-exemple.pdf"), &bytes).unwrap();
    std::fs::write(folder.join("rapport-exemple.html"), html_page(&document)).unwrap();
    draw_pages(
        &folder.join("rapport-exemple.pdf"),
        &folder.join("rapport-exemple"),
    );

    let file = PdfFile::new("sample", &bytes);
    let pages = file.pages();
    assert!(pages >= 3, "the sample's table spans pages: {pages} pages");
    let first = file.page_text(1);
    for expected in [
        "MILEO TECHNOLOGY",
        "Rapport de supervision",
        "Client :",
        "Syndic Hôtel-de-Ville & Cie",
        "Période : novembre 2026",
        "Généré le 1 décembre 2026 à 06:00",
        "Synthèse du mois",
    ] {
        assert!(
            first.contains(expected),
            "page 1 has « {expected} »:\n{first}"
        );
    }
    for page in 1..=pages {
        let text = file.page_text(page);
        assert!(
            text.contains(&format!("Page {page} sur {pages}")),
            "page {page}'s footer:\n{text}"
        );
        if page > 1 {
            // The running header, from the second page on.
            assert!(
                text.contains("Mileo Technology"),
                "page {page}'s header:\n{text}"
            );
            assert!(
                text.contains("Syndic Hôtel-de-Ville & Cie · novembre 2026"),
                "page {page}'s header:\n{text}"
            );
        }
    }

    let text = file.text();
    for expected in [
        // Key figures, formatted the French way.
        "99,62 %",
        "1 482",
        "contrat : 99 %",
        "dont 17 critiques",
        // The table, its total and a cell of it.
        "Ensemble des sites",
        "1 134",
        "97,85 %",
        "sous le seuil",
        // Text inside the charts' SVG, drawn with the embedded fonts.
        "Contrat : 99 %",
        "Seuil d’alerte : 95 %",
        "Occupation mesurée",
        "Prévision",
        "Critique",
        "S45",
        "mercredi",
        // French spacing added to the running text.
        "« coupures courtes »",
        "Qu’en retenir ?",
    ] {
        assert!(
            text.contains(expected),
            "the PDF has « {expected} »:\n{text}"
        );
    }
    for index in 0..SITES {
        assert!(
            text.contains(&site_name(index)),
            "the table has « {} »",
            site_name(index)
        );
    }
    // The table's header row is repeated on each page it spans.
    let with_header = (1..=pages)
        .filter(|page| file.page_text(*page).contains("Équipements"))
        .count();
    assert!(
        with_header >= 2,
        "the header row repeats: on {with_header} pages"
    );
    for hostile in HOSTILE {
        assert!(
            text.contains(hostile),
            "the PDF shows « {hostile} » as written:\n{text}"
        );
    }

    let fonts = file.fonts();
    assert!(
        fonts.contains("LibertinusSerif"),
        "Libertinus Serif is used:\n{fonts}"
    );
    for line in fonts.lines().skip(2) {
        let columns: Vec<&str> = line.split_whitespace().collect();
        // name, type, encoding, emb, sub, uni, object, ID: emb is the fifth from the end.
        let embedded = columns[columns.len() - 5];
        assert_eq!(embedded, "yes", "every font is embedded:\n{fonts}");
    }
}

#[test]
fn the_pages_are_a4_and_dated_by_the_document() {
    let file = PdfFile::new("a4", &render(&sample()));
    let info = file.info();
    let size = info
        .lines()
        .find_map(|line| line.strip_prefix("Page size:"))
        .expect("a page size");
    let numbers: Vec<f64> = size
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    assert!(
        (numbers[0] - 595.28).abs() < 0.01 && (numbers[1] - 841.89).abs() < 0.01,
        "A4: {size}"
    );
    let isodates = std::process::Command::new("pdfinfo")
        .args(["-isodates", file.path.to_str().unwrap()])
        .output()
        .expect("pdfinfo");
    let isodates = String::from_utf8_lossy(&isodates.stdout);
    assert!(
        isodates.contains("2026-12-01T05:00:00"),
        "dated by created_ms ({CREATED_MS}):\n{isodates}"
    );
    assert!(
        info.contains("Title:           Rapport de supervision"),
        "{info}"
    );
    assert!(info.contains("Author:          Mileo Technology"), "{info}");
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let document = sample();
    let first = render(&document);
    let second = render(&document);
    assert!(first == second, "two renderings differ");
    let mut later = document.clone();
    later.created_ms += 60_000;
    assert!(render(&later) != first, "the creation date is in the PDF");
}

#[test]
fn an_empty_document_is_one_page_with_its_title() {
    let mut document = sample();
    document.blocks.clear();
    let file = PdfFile::new("empty", &render(&document));
    assert_eq!(file.pages(), 1);
    let text = file.text();
    assert!(
        text.contains("Rapport de supervision") && text.contains("Page 1 sur 1"),
        "{text}"
    );
}

#[test]
fn a_table_beyond_its_bound_is_cut_with_a_note() {
    let mut table = Table::new(vec![Column::left("Instant"), Column::right("Valeur")]);
    for index in 0..MAX_TABLE_ROWS + 7 {
        table.push(vec![format!("Ligne {index}"), index.to_string()]);
    }
    let mut document = sample();
    document.blocks = vec![Block::Table(table)];
    let file = PdfFile::new("bound", &render(&document));
    let text = file.text();
    assert!(
        text.contains(&format!("Ligne {}", MAX_TABLE_ROWS - 1)),
        "the last row kept"
    );
    assert!(
        !text.contains(&format!("Ligne {}", MAX_TABLE_ROWS)),
        "the first row left out"
    );
    assert!(
        plain(&text)
            .contains("Tableau limité à 5 000 lignes : 7 lignes de plus ne sont pas affichées."),
        "the note says what was left out"
    );
}

#[test]
fn errors_are_worded_in_french() {
    let error = ReportError::Layout(vec!["erreur de Typst : unknown variable".into()]);
    assert_eq!(
        error.to_string(),
        "la mise en page du rapport a échoué : erreur de Typst : unknown variable"
    );
}

#[test]
fn an_awkward_document_still_renders() {
    let long_word = "x".repeat(300);
    let mut wide = Table::new(
        (0..15)
            .map(|index| Column::left(format!("Colonne {index}")))
            .collect(),
    );
    wide.push((0..15).map(|index| format!("{long_word}{index}")).collect());
    wide.push(vec!["ligne\nsur deux lignes".into()]);
    let mut document = sample();
    document.blocks = vec![
        Block::Heading {
            level: 0,
            text: "Niveau zéro".into(),
        },
        Block::Heading {
            level: 9,
            text: "Niveau neuf".into(),
        },
        Block::Paragraph(format!(
            "Contrôles\u{0}\u{7}\u{1b}\r\nretour, {long_word} émoji 📹 fin"
        )),
        Block::Table(wide),
        Block::Table(Table::new(Vec::new())),
        Block::Figures(Vec::new()),
        Block::Figures(
            (0..10)
                .map(|index| Figure::new(format!("Indicateur {index}"), index.to_string()))
                .collect(),
        ),
        Block::List(
            (0..MAX_LIST_ITEMS + 3)
                .map(|index| format!("Élément {index}"))
                .collect(),
        ),
        Block::List(Vec::new()),
        Block::Note(String::new()),
        Block::PageBreak,
        Block::PageBreak,
    ];
    let bytes = render(&document);
    std::fs::write(artifacts().join("awkward.pdf"), &bytes).unwrap();
    let file = PdfFile::new("awkward", &bytes);
    let text = file.text();
    for expected in [
        "Niveau zéro",
        "Niveau neuf",
        "Contrôles",
        "retour,",
        "lonne\n11",
        "Indicateur 9",
        "… et 3 autres",
    ] {
        assert!(text.contains(expected), "« {expected} »:\n{text}");
    }
    assert!(
        !text.contains("Contrôles\u{0}") && !text.contains("lonne\n12"),
        "no control character, at most {} columns",
        vigie_report::MAX_TABLE_COLUMNS
    );
}
