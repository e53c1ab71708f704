//! A realistic monthly supervision report: French text with accents, key figures, a table over
//! several pages, each kind of chart, and hostile strings wherever a person's text goes.

use vigie_report::{
    Bar, BarChart, Block, Chart, Colour, Column, Document, Figure, Layer, LineChart, Orientation,
    Series, StackedBars, Table, Threshold, Tone, format_number, format_quantity,
};

/// Strings that would be markup somewhere (Typst, HTML, SVG): each must come out as written.
pub const HOSTILE: &[&str] = &[
    "#import \"@preview/evil:0.1.0\": *",
    "#eval(\"1 + 1\") ] [ $x^2$",
    "@rapport <etiquette> = Titre",
    "<script>alert('x')</script>",
    "*gras* _penché_ `code` // fin",
    "a & b \"c\" 'd' \\ fin",
];

/// The number of sites in the availability table: enough for several pages.
pub const SITES: usize = 90;

/// The generation instant of the sample: 1 December 2026, 06:00 in Paris.
pub const CREATED_MS: i64 = 1_796_101_200_000;

pub fn site_name(index: usize) -> String {
    const TOWNS: &[&str] = &[
        "Strasbourg",
        "Sélestat",
        "Colmar",
        "Haguenau",
        "Mulhouse",
        "Saverne",
    ];
    format!("Résidence {} n° {}", TOWNS[index % TOWNS.len()], index + 1)
}

/// The availability of a site of the sample, in percent.
pub fn availability(index: usize) -> f64 {
    match index {
        3 => 97.85,
        11 => 98.9,
        _ => 99.2 + ((index * 37) % 80) as f64 / 100.0,
    }
}

pub fn sample() -> Document {
    let mut blocks = vec![
        Block::Heading {
            level: 1,
            text: "Synthèse du mois".into(),
        },
        Block::Paragraph(
            "Ce rapport présente l’état de la supervision de vos sites vidéo-surveillés pour \
             le mois écoulé : disponibilité des équipements, alarmes reçues et traitées, \
             interventions réalisées. La disponibilité contractuelle est de 99 % par site ; \
             deux sites sont passés sous ce seuil, détaillés plus bas. Qu’en retenir ? La \
             qualité de service est stable, et les « coupures courtes » ont diminué de moitié."
                .into(),
        ),
        Block::Figures(vec![
            Figure::new("Disponibilité moyenne", format_quantity(99.62, 2, "%"))
                .with_note("contrat : 99 %"),
            Figure::new("Alarmes reçues", format_number(1482.0, 0)).with_note("dont 17 critiques"),
            Figure::new("Tickets ouverts", "12"),
            Figure::new("Sites sous le seuil", "2")
                .with_note("Sélestat n° 4, Haguenau n° 12")
                .with_tone(Tone::Critical),
        ]),
        Block::Heading {
            level: 2,
            text: "Disponibilité par site".into(),
        },
    ];
    blocks.push(Block::Chart {
        caption: "Disponibilité des douze premiers sites (%)".into(),
        chart: Chart::Bars(BarChart {
            orientation: Orientation::Horizontal,
            bars: (0..12)
                .map(|index| Bar {
                    label: site_name(index),
                    value: availability(index),
                    tone: tone_of(availability(index)),
                })
                .collect(),
            unit: "%".into(),
            decimals: 2,
            threshold: Some(Threshold {
                value: 99.0,
                label: "Contrat : 99 %".into(),
            }),
            minimum: Some(97.0),
            maximum: Some(100.0),
        }),
    });
    let mut table = Table::new(vec![
        Column::left("Site"),
        Column::right("Équipements"),
        Column::right("Disponibilité"),
        Column::right("Indisponibilité"),
        Column::center("État"),
    ])
    .with_caption("Disponibilité de chaque site sur le mois");
    for index in 0..SITES {
        let value = availability(index);
        let state = match tone_of(value) {
            Tone::Critical => "sous le seuil",
            Tone::Warning => "à surveiller",
            Tone::Normal => "conforme",
        };
        table.push_toned(
            vec![
                site_name(index),
                format_number((index % 17 + 4) as f64, 0),
                format_quantity(value, 2, "%"),
                format!(
                    "{} min",
                    format_number((100.0 - value) / 100.0 * 43_200.0, 0)
                ),
                state.into(),
            ],
            tone_of(value),
        );
    }
    table.push(vec![
        HOSTILE[0].into(),
        "1".into(),
        "—".into(),
        "—".into(),
        HOSTILE[2].into(),
    ]);
    table.total = Some(vec![
        "Ensemble des sites".into(),
        format_number(1_134.0, 0),
        format_quantity(99.62, 2, "%"),
        String::new(),
        String::new(),
    ]);
    blocks.push(Block::Table(table));
    blocks.push(Block::Heading {
        level: 2,
        text: "Alarmes".into(),
    });
    blocks.push(Block::Paragraph(
        "Les alarmes sont comptées par semaine et par gravité. Les alarmes critiques \
         concernent surtout des pertes d’alimentation signalées par les onduleurs."
            .into(),
    ));
    blocks.push(Block::Chart {
        caption: "Alarmes par semaine et par gravité".into(),
        chart: Chart::Stacked(StackedBars {
            categories: vec!["S45".into(), "S46".into(), "S47".into(), "S48".into()],
            layers: vec![
                Layer {
                    name: "Critique".into(),
                    colour: Colour::Red,
                    values: vec![5.0, 3.0, 6.0, 3.0],
                },
                Layer {
                    name: "Majeur".into(),
                    colour: Colour::Orange,
                    values: vec![48.0, 61.0, 39.0, 52.0],
                },
                Layer {
                    name: "Mineur".into(),
                    colour: Colour::Yellow,
                    values: vec![310.0, 287.0, 342.0, 326.0],
                },
            ],
            unit: String::new(),
            decimals: 0,
        }),
    });
    blocks.push(Block::Chart {
        caption: "Alarmes par jour de la semaine".into(),
        chart: Chart::Bars(BarChart {
            orientation: Orientation::Vertical,
            bars: [
                "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
            ]
            .iter()
            .zip([231.0, 248.0, 219.0, 262.0, 240.0, 151.0, 131.0])
            .map(|(day, value)| Bar {
                label: (*day).into(),
                value,
                tone: Tone::Normal,
            })
            .collect(),
            unit: String::new(),
            decimals: 0,
            threshold: None,
            minimum: None,
            maximum: None,
        }),
    });
    blocks.push(Block::Heading {
        level: 2,
        text: "Stockage des enregistreurs".into(),
    });
    let days: Vec<String> = (1..=30).map(|day| format!("{day:02}/11")).collect();
    let used: Vec<Option<f64>> = (0..30)
        .map(|day| (day < 21).then_some(78.0 + day as f64 * 0.62 + (day % 3) as f64 * 0.4))
        .collect();
    let forecast: Vec<Option<f64>> = (0..30)
        .map(|day| (day >= 20).then(|| 78.0 + 20.0 * 0.62 + 0.8 + (day - 20) as f64 * 0.71))
        .collect();
    blocks.push(Block::Chart {
        caption: "Occupation du disque de l’enregistreur de Colmar n° 3 (%)".into(),
        chart: Chart::Lines(LineChart {
            x_labels: days,
            series: vec![
                Series {
                    name: "Occupation mesurée".into(),
                    colour: Colour::Blue,
                    values: used,
                    dashed: false,
                },
                Series {
                    name: "Prévision".into(),
                    colour: Colour::Violet,
                    values: forecast,
                    dashed: true,
                },
            ],
            unit: "%".into(),
            decimals: 0,
            threshold: Some(Threshold {
                value: 95.0,
                label: "Seuil d’alerte : 95 %".into(),
            }),
            minimum: Some(70.0),
            maximum: Some(100.0),
        }),
    });
    blocks.push(Block::Note(
        "Au rythme actuel, le disque de l’enregistreur de Colmar n° 3 atteindra le seuil \
         d’alerte vers le 28 novembre ; une extension de stockage est proposée."
            .into(),
    ));
    blocks.push(Block::Heading {
        level: 2,
        text: "Recommandations".into(),
    });
    blocks.push(Block::List(vec![
        "Remplacer l’onduleur du site de Sélestat n° 4 (batterie en fin de vie).".into(),
        "Étendre le stockage de l’enregistreur de Colmar n° 3.".into(),
        "Vérifier l’alignement de la caméra « Parking nord » à Haguenau n° 12.".into(),
    ]));
    blocks.push(Block::PageBreak);
    blocks.push(Block::Heading {
        level: 1,
        text: "Annexe : textes saisis tels quels".into(),
    });
    blocks.push(Block::Paragraph(
        "Les textes suivants sont repris mot pour mot des saisies : aucun ne doit être \
         interprété."
            .into(),
    ));
    blocks.push(Block::List(
        HOSTILE.iter().map(|text| (*text).to_string()).collect(),
    ));
    blocks.push(Block::Heading {
        level: 3,
        text: HOSTILE[3].into(),
    });
    blocks.push(Block::Note(HOSTILE[1].into()));
    blocks.push(Block::Figures(vec![Figure::new(HOSTILE[4], HOSTILE[5])]));
    Document {
        title: "Rapport de supervision".into(),
        organisation: "Mileo Technology".into(),
        recipient: "Syndic Hôtel-de-Ville & Cie".into(),
        period: "novembre 2026".into(),
        generated: "Généré le 1 décembre 2026 à 06:00".into(),
        created_ms: CREATED_MS,
        blocks,
    }
}

fn tone_of(availability: f64) -> Tone {
    if availability < 99.0 {
        Tone::Critical
    } else if availability < 99.3 {
        Tone::Warning
    } else {
        Tone::Normal
    }
}
