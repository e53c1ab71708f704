//! The integrator's monthly satisfaction analysis (SAV-7): the surveys answered in the month,
//! scored per question, per client and per technician, their comments, and the trend against
//! the months before. It stays with the integrator: no client's file, no client's walls let it
//! through.

use std::collections::HashMap;

use vigie_domain::access::Actor;
use vigie_domain::french::{format_date, format_number};
use vigie_domain::inventory::{ObjectKind, Record, StaffRole};
use vigie_domain::report::period::Month;
use vigie_domain::report::satisfaction::{
    GroupMeans, MonthSurveys, Question, SurveyFacts, satisfaction_analysis,
};
use vigie_report::{Block, Chart, Colour, Column, Document, Figure, LineChart, Table};

use super::{Covered, Kind, Made, REPORTS_ACTOR, generated_label, organisation, paris, records_of};
use crate::AppState;

/// Months of trend before the month analysed.
const TREND_MONTHS: usize = 12;

fn mark(mean: Option<f64>) -> String {
    mean.map(|m| format!("{} / 5", format_number(m, 1)))
        .unwrap_or_else(|| "—".into())
}

fn question_label(question: Question) -> &'static str {
    match question {
        Question::Responsiveness => "Réactivité",
        Question::Quality => "Qualité de la solution",
        Question::Communication => "Communication",
    }
}

fn group_table(first: &str, groups: &[GroupMeans]) -> Table {
    let mut table = Table::new(vec![
        Column::left(first),
        Column::right("Réponses"),
        Column::right("Réactivité"),
        Column::right("Qualité"),
        Column::right("Communication"),
        Column::right("Moyenne"),
    ]);
    for group in groups {
        table.push(vec![
            group.name.clone(),
            format_number(f64::from(group.means.count), 0),
            mark(group.means.responsiveness),
            mark(group.means.quality),
            mark(group.means.communication),
            mark(group.means.overall),
        ]);
    }
    table
}

pub async fn make(state: &AppState, covered: Covered, now: i64) -> anyhow::Result<Made> {
    let actor = Actor::console(REPORTS_ACTOR);
    let zone = paris();
    let staff: Vec<vigie_domain::inventory::Staff> = records_of(state, ObjectKind::Staff, None)
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::Staff(s) => Some(s),
            _ => None,
        })
        .collect();
    let names: HashMap<String, String> = staff
        .iter()
        .map(|s| (s.reference.to_string(), s.name.as_str().to_string()))
        .collect();
    let surveys_of = |from: i64, to: i64| {
        let names = &names;
        let actor = &actor;
        async move {
            let surveys = state.store.surveys_answered(actor, from, to).await?;
            Ok::<_, anyhow::Error>(
                surveys
                    .into_iter()
                    .map(|s| SurveyFacts {
                        ticket: s.ticket,
                        client: s.client,
                        client_name: s.client_name,
                        technician: s.technician.map(|t| names.get(&t).cloned().unwrap_or(t)),
                        answered_at: s.answered_at,
                        answers: s.answers,
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let (from, to) = covered.bounds(&zone);
    let month = covered.month();
    let current = MonthSurveys {
        month,
        surveys: surveys_of(from, to).await?,
    };
    let mut previous = Vec::new();
    let mut earlier: Month = covered.previous_month();
    for _ in 0..TREND_MONTHS {
        let (from, to) = earlier.bounds(&zone);
        previous.push(MonthSurveys {
            month: earlier,
            surveys: surveys_of(from, to).await?,
        });
        earlier = earlier.previous();
    }
    let analysis = satisfaction_analysis(&current, &previous);

    let mut blocks = Vec::new();
    blocks.push(Block::Heading {
        level: 1,
        text: "Synthèse".into(),
    });
    let mut figures = vec![
        Figure::new(
            "Enquêtes reçues",
            format_number(f64::from(analysis.surveys), 0),
        ),
        Figure::new("Note moyenne", mark(analysis.overall)),
    ];
    for figures_of in &analysis.questions {
        figures.push(Figure::new(
            question_label(figures_of.question),
            mark(figures_of.mean),
        ));
    }
    blocks.push(Block::Figures(figures));
    if analysis.surveys == 0 {
        blocks.push(Block::Paragraph(format!(
            "Aucune enquête de satisfaction n'a été remplie sur {}.",
            covered.label()
        )));
    }
    if !analysis.summary.is_empty() {
        blocks.push(Block::List(analysis.summary.clone()));
    }
    if analysis.invalid > 0 {
        blocks.push(Block::Note(format!(
            "{} enquête(s) aux notes hors de 1 à 5 ne sont pas comptées.",
            analysis.invalid
        )));
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Notes par question".into(),
    });
    let mut table = Table::new(vec![
        Column::left("Question"),
        Column::right("Réponses"),
        Column::right("Moyenne"),
        Column::right("1"),
        Column::right("2"),
        Column::right("3"),
        Column::right("4"),
        Column::right("5"),
    ]);
    for figures_of in &analysis.questions {
        let mut cells = vec![
            question_label(figures_of.question).to_string(),
            format_number(f64::from(figures_of.count), 0),
            mark(figures_of.mean),
        ];
        cells.extend(
            figures_of
                .distribution
                .iter()
                .map(|n| format_number(f64::from(*n), 0)),
        );
        table.push(cells);
    }
    blocks.push(Block::Table(table));

    blocks.push(Block::Heading {
        level: 1,
        text: "Évolution".into(),
    });
    let series = Question::ALL
        .iter()
        .zip([Colour::Blue, Colour::Teal, Colour::Violet])
        .map(|(question, colour)| vigie_report::Series {
            name: question_label(*question).into(),
            colour,
            values: analysis
                .trend
                .iter()
                .map(|m| m.means.of_question(*question))
                .collect(),
            dashed: false,
        })
        .collect();
    blocks.push(Block::Chart {
        caption: "Note moyenne par question, mois par mois".into(),
        chart: Chart::Lines(LineChart {
            x_labels: analysis
                .trend
                .iter()
                .map(|m| format!("{:02}/{}", m.month.month(), m.month.year()))
                .collect(),
            series,
            unit: "/ 5".into(),
            decimals: 1,
            threshold: None,
            minimum: Some(1.0),
            maximum: Some(5.0),
        }),
    });

    blocks.push(Block::Heading {
        level: 1,
        text: "Par client".into(),
    });
    blocks.push(Block::Table(group_table("Client", &analysis.clients)));
    blocks.push(Block::Heading {
        level: 1,
        text: "Par technicien".into(),
    });
    blocks.push(Block::Table(group_table(
        "Technicien",
        &analysis.technicians,
    )));

    blocks.push(Block::Heading {
        level: 1,
        text: "Commentaires".into(),
    });
    if analysis.comments.is_empty() {
        blocks.push(Block::Paragraph("Aucun commentaire ce mois-ci.".into()));
    } else {
        let mut table = Table::new(vec![
            Column::left("Date"),
            Column::left("Client"),
            Column::left("Ticket"),
            Column::left("Commentaire"),
        ]);
        for comment in &analysis.comments {
            table.push(vec![
                format_date(comment.answered_at, &zone),
                comment.client_name.clone(),
                format!("n° {}", comment.ticket),
                comment.text.clone(),
            ]);
        }
        blocks.push(Block::Table(table));
    }

    // SAV-7: the analysis is the integrator's: its operations managers receive it.
    let recipients = staff
        .iter()
        .filter(|s| s.roles.contains(&StaffRole::OperationsManager))
        .filter_map(|s| {
            Some((
                s.reference.to_string(),
                s.name.as_str().to_string(),
                s.email.as_ref()?.as_str().to_string(),
            ))
        })
        .collect();
    Ok(Made {
        kind: Kind::Satisfaction,
        client: None,
        site: None,
        covered,
        document: Document {
            title: Kind::Satisfaction.title().into(),
            organisation: organisation(state),
            recipient: "Usage interne".into(),
            period: covered.label(),
            generated: generated_label(now),
            created_ms: now,
            blocks,
        },
        recipients,
    })
}
