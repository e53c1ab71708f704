//! The HTML renderer: one self-contained page in French, everything escaped, and the fragment
//! the portal places in its own pages.

use vigie_report::{
    Block, Column, HTML_STYLESHEET, MAX_TABLE_ROWS, Table, french_spacing, html_fragment, html_page,
};

use crate::sample::{HOSTILE, SITES, sample, site_name};

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn the_page_is_self_contained_french_and_escaped() {
    let page = html_page(&sample());
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"),
        "{}",
        &page[..80]
    );
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.contains(HTML_STYLESHEET), "the stylesheet is inline");
    let lower = page.to_lowercase();
    for forbidden in [
        "<script", "<link", " src=", " href=", "url(", "@import", "<iframe",
    ] {
        assert!(
            !lower.contains(forbidden),
            "the page has no « {forbidden} »"
        );
    }
    // The only address is the SVG namespace, which is a name, not a resource.
    assert_eq!(
        lower.matches("http").count(),
        lower.matches("http://www.w3.org/2000/svg").count()
    );
    for hostile in HOSTILE {
        assert!(page.contains(&escaped(hostile)), "« {hostile} » escaped");
    }
    assert!(page.contains(
        "<title>Rapport de supervision · Syndic Hôtel-de-Ville &amp; Cie · novembre 2026</title>"
    ));
    for index in 0..SITES {
        assert!(page.contains(&french_spacing(&site_name(index))));
    }
    // Every chart is inline SVG.
    assert_eq!(page.matches("<svg ").count(), 4);
    assert!(
        page.contains("Contrat\u{a0}: 99\u{202f}%"),
        "French spacing in the charts' labels"
    );
}

#[test]
fn the_fragment_is_the_pages_article_and_well_formed() {
    let document = sample();
    let fragment = html_fragment(&document);
    assert!(fragment.starts_with("<article class=\"vigie-report\" lang=\"fr\">"));
    assert!(html_page(&document).contains(&fragment));
    // The fragment has no void element: it reads as XML, so its tags are balanced.
    let tree = roxmltree::Document::parse(&fragment).expect("a well-formed fragment");
    let rows = tree
        .descendants()
        .filter(|node| node.has_tag_name("tr"))
        .count();
    assert_eq!(rows, 1 + SITES + 1 + 1, "header, sites, hostile row, total");
    for node in tree.descendants() {
        for attribute in node.attributes() {
            assert!(
                !attribute.name().starts_with("on"),
                "no event handler: {}",
                attribute.name()
            );
        }
    }
    let texts: String = tree.descendants().filter_map(|node| node.text()).collect();
    for hostile in HOSTILE {
        assert!(
            texts.contains(hostile),
            "« {hostile} » reads back as written"
        );
    }
    let stylesheet_rules = HTML_STYLESHEET
        .lines()
        .filter(|line| line.trim_end().ends_with('{'))
        .count();
    let scoped = HTML_STYLESHEET
        .lines()
        .filter(|line| {
            line.trim_end().ends_with('{') && (line.contains(".vigie-report") || line.contains('@'))
        })
        .count();
    assert_eq!(
        scoped, stylesheet_rules,
        "every rule is scoped to .vigie-report"
    );
}

#[test]
fn a_table_beyond_its_bound_is_cut_with_a_note() {
    let mut table = Table::new(vec![Column::left("Instant"), Column::right("Valeur")]);
    for index in 0..MAX_TABLE_ROWS + 2 {
        table.push(vec![format!("Ligne {index}"), index.to_string()]);
    }
    let mut document = sample();
    document.blocks = vec![Block::Table(table)];
    let fragment = html_fragment(&document);
    assert_eq!(fragment.matches("<tr").count(), MAX_TABLE_ROWS + 1);
    assert!(fragment.contains(&format!("Ligne {}<", MAX_TABLE_ROWS - 1)));
    assert!(!fragment.contains(&format!("Ligne {}<", MAX_TABLE_ROWS)));
    assert!(fragment.contains(
        "Tableau limité à 5\u{202f}000 lignes\u{a0}: 2 lignes de plus ne sont pas affichées."
    ));
}
