//! The charts' SVG: well-formed, inside its own view box, bounded, labels escaped, numbers
//! written the French way.

use vigie_report::{
    Bar, BarChart, Chart, Colour, Layer, LineChart, MAX_BARS, MAX_CATEGORIES, MAX_POINTS,
    MAX_SERIES, Orientation, Series, StackedBars, Threshold, Tone, format_number, format_quantity,
};

const HOSTILE_LABEL: &str = "<script>&\"'#import ]";

fn bars(orientation: Orientation, count: usize) -> Chart {
    Chart::Bars(BarChart {
        orientation,
        bars: (0..count)
            .map(|index| Bar {
                label: if index == 0 {
                    HOSTILE_LABEL.into()
                } else {
                    format!("Site n° {index}")
                },
                value: match index {
                    1 => f64::NAN,
                    2 => -3.5,
                    _ => 95.0 + (index % 5) as f64,
                },
                tone: [Tone::Normal, Tone::Warning, Tone::Critical][index % 3],
            })
            .collect(),
        unit: "%".into(),
        decimals: 1,
        threshold: Some(Threshold {
            value: 99.0,
            label: "Contrat : 99 %".into(),
        }),
        minimum: None,
        maximum: None,
    })
}

fn lines(series: usize, points: usize) -> Chart {
    Chart::Lines(LineChart {
        x_labels: (0..points)
            .map(|index| format!("{:02}/11", index % 30 + 1))
            .collect(),
        series: (0..series)
            .map(|index| Series {
                name: if index == 0 {
                    HOSTILE_LABEL.into()
                } else {
                    format!("Série {index}")
                },
                colour: Colour::Teal,
                values: (0..points)
                    .map(|point| match point % 11 {
                        3 => None,
                        5 => Some(f64::INFINITY),
                        _ => Some(0.25 * (point % 7) as f64 + index as f64 * 0.1),
                    })
                    .collect(),
                dashed: index % 2 == 1,
            })
            .collect(),
        unit: "Go".into(),
        decimals: 2,
        threshold: Some(Threshold {
            value: 1.2,
            label: "Seuil".into(),
        }),
        minimum: None,
        maximum: None,
    })
}

fn stacked(layers: usize, categories: usize) -> Chart {
    Chart::Stacked(StackedBars {
        categories: (0..categories)
            .map(|index| format!("Semaine {index}"))
            .collect(),
        layers: (0..layers)
            .map(|index| Layer {
                name: if index == 0 {
                    HOSTILE_LABEL.into()
                } else {
                    format!("Gravité {index}")
                },
                colour: Colour::Red,
                values: (0..categories)
                    .map(|category| ((category * 7 + index * 3) % 40) as f64 - 2.0)
                    .collect(),
            })
            .collect(),
        unit: String::new(),
        decimals: 0,
    })
}

/// Parses the SVG and checks every coordinate falls inside its view box; returns the tree's
/// texts and the count of each element kind of interest.
fn check_svg(svg: &str) -> (Vec<String>, usize, usize) {
    assert!(
        !svg.contains("NaN") && !svg.contains("inf"),
        "no value that is not a number:\n{svg}"
    );
    assert!(!svg.contains("<script"), "labels escaped");
    let tree = roxmltree::Document::parse(svg)
        .unwrap_or_else(|error| panic!("well-formed SVG ({error}):\n{svg}"));
    let root = tree.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let view_box: Vec<f64> = root
        .attribute("viewBox")
        .unwrap()
        .split_whitespace()
        .map(|number| number.parse().unwrap())
        .collect();
    let (width, height) = (view_box[2], view_box[3]);
    let inside = |value: f64, limit: f64, what: &str| {
        assert!(
            (-0.05..=limit + 0.05).contains(&value),
            "{what} = {value} outside 0..{limit}:\n{svg}"
        );
    };
    for node in tree.descendants().filter(|node| node.is_element()) {
        for (name, limit) in [
            ("x", width),
            ("x1", width),
            ("x2", width),
            ("cx", width),
            ("y", height),
            ("y1", height),
            ("y2", height),
            ("cy", height),
        ] {
            if let Some(value) = node.attribute(name) {
                inside(value.parse().unwrap(), limit, name);
            }
        }
        if node.has_tag_name("rect") {
            let x: f64 = node.attribute("x").unwrap().parse().unwrap();
            let y: f64 = node.attribute("y").unwrap().parse().unwrap();
            inside(
                x + node.attribute("width").unwrap().parse::<f64>().unwrap(),
                width,
                "rect's right",
            );
            inside(
                y + node.attribute("height").unwrap().parse::<f64>().unwrap(),
                height,
                "rect's bottom",
            );
        }
        if let Some(points) = node.attribute("points") {
            for point in points.split_whitespace() {
                let (x, y) = point.split_once(',').unwrap();
                inside(x.parse().unwrap(), width, "point x");
                inside(y.parse().unwrap(), height, "point y");
            }
        }
    }
    let texts = tree
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .map(|node| node.text().unwrap_or("").to_string())
        .collect();
    let rects = tree
        .descendants()
        .filter(|node| node.has_tag_name("rect"))
        .count();
    let polylines = tree
        .descendants()
        .filter(|node| node.has_tag_name("polyline"))
        .count();
    (texts, rects, polylines)
}

#[test]
fn every_chart_is_well_formed_inside_its_view_box() {
    let charts = [
        bars(Orientation::Horizontal, 12),
        bars(Orientation::Vertical, 7),
        bars(Orientation::Vertical, 40),
        lines(2, 30),
        lines(1, 1),
        stacked(3, 4),
        stacked(3, 30),
    ];
    for chart in &charts {
        let svg = chart.svg("Légende « graphique » <b>");
        let (texts, _, _) = check_svg(&svg);
        assert!(
            svg.contains("aria-label=\"Légende « graphique » &lt;b&gt;\""),
            "{svg}"
        );
        assert!(
            texts.iter().any(|text| text.contains("<script>&\"'#")),
            "the hostile label reads back: {texts:?}"
        );
        assert_eq!(chart.omission_note(), None);
    }
}

#[test]
fn empty_charts_are_well_formed() {
    for chart in [
        bars(Orientation::Horizontal, 0),
        bars(Orientation::Vertical, 0),
        lines(0, 0),
        lines(3, 0),
        stacked(0, 0),
        stacked(2, 0),
    ] {
        check_svg(&chart.svg(""));
    }
}

#[test]
fn bars_are_bounded_and_what_is_left_out_is_said() {
    for orientation in [Orientation::Horizontal, Orientation::Vertical] {
        let chart = bars(orientation, MAX_BARS + 940);
        let (_, rects, _) = check_svg(&chart.svg("Beaucoup de sites"));
        assert!(rects <= MAX_BARS, "{rects} bars drawn");
        let note = chart.omission_note().expect("a note");
        assert_eq!(
            note,
            "Graphique limité à 60 barres\u{a0}: les 940 suivantes ne sont pas affichées."
        );
    }
}

#[test]
fn lines_are_bounded_in_series_and_points() {
    let chart = lines(MAX_SERIES + 4, MAX_POINTS + 1_000);
    let svg = chart.svg("Beaucoup de points");
    let (texts, _, polylines) = check_svg(&svg);
    assert!(
        polylines <= MAX_SERIES * MAX_POINTS / 2,
        "{polylines} lines drawn"
    );
    assert!(
        !texts.iter().any(|text| text == "Série 8"),
        "the ninth series is not drawn"
    );
    let tree = roxmltree::Document::parse(&svg).unwrap();
    let points: usize = tree
        .descendants()
        .filter_map(|node| node.attribute("points"))
        .map(|points| points.split_whitespace().count())
        .max()
        .unwrap_or(0);
    assert!(points <= MAX_POINTS, "{points} points in one line");
    let note = chart.omission_note().expect("a note");
    assert!(
        note.contains("limité à 8 séries\u{a0}: les 4 suivantes"),
        "{note}"
    );
    assert!(
        note.contains("limité à 400 points\u{a0}: les 1\u{202f}000 suivants ne sont pas affichés."),
        "{note}"
    );
}

#[test]
fn stacked_bars_are_bounded() {
    let chart = stacked(MAX_SERIES + 2, MAX_CATEGORIES + 5);
    let (texts, rects, _) = check_svg(&chart.svg("Alarmes"));
    assert!(
        rects <= MAX_SERIES * MAX_CATEGORIES + MAX_SERIES,
        "{rects} rectangles"
    );
    assert!(!texts.iter().any(|text| text == "Gravité 9"));
    let note = chart.omission_note().expect("a note");
    assert!(
        note.contains("8 séries") && note.contains("60 barres"),
        "{note}"
    );
}

#[test]
fn chart_numbers_are_written_the_french_way() {
    let svg = lines(2, 30).svg("");
    let (texts, _, _) = check_svg(&svg);
    // Graduations of 0,5 Go: a decimal comma, never a point.
    assert!(texts.iter().any(|text| text == "0,5"), "{texts:?}");
    assert!(
        !texts
            .iter()
            .any(|text| text.chars().any(|c| c.is_ascii_digit()) && text.contains('.')),
        "{texts:?}"
    );
    let (texts, _, _) = check_svg(&bars(Orientation::Horizontal, 5).svg(""));
    assert!(texts.contains(&"98,0\u{202f}%".to_string()), "{texts:?}");
    assert!(
        texts.contains(&"\u{2212}3,5\u{202f}%".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"–".to_string()),
        "a value that is not a number is a dash: {texts:?}"
    );
}

#[test]
fn numbers_are_formatted_for_french_readers() {
    assert_eq!(
        format_number(1_234_567.891, 2),
        "1\u{202f}234\u{202f}567,89"
    );
    assert_eq!(format_number(-0.4, 0), "0");
    assert_eq!(format_quantity(99.5, 1, "%"), "99,5\u{202f}%");
    assert_eq!(format_quantity(f64::NAN, 1, "%"), "–");
}
