//! The monthly analysis of the satisfaction surveys, for the integrator (SAV-7): per question
//! (réactivité, qualité de la solution, communication) the mean mark, the number of answers
//! and how the marks 1 to 5 spread; the means per client and per technician; the comments;
//! the trend month by month; and one French sentence per question against the month before.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::period::Month;
use crate::french::{format_number, points_after};
use crate::ticket::desk::SurveyAnswers;

/// The most months before the analysed one its trend shows.
pub const MAX_TREND_MONTHS: usize = 12;

/// The most comments listed, the earliest first.
pub const MAX_COMMENTS: usize = 500;

/// One answered survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyFacts {
    pub ticket: u64,
    pub client: String,
    pub client_name: String,
    /// The display name of the technician who handled the ticket, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician: Option<String>,
    pub answered_at: i64,
    pub answers: SurveyAnswers,
}

/// The surveys answered in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthSurveys {
    pub month: Month,
    pub surveys: Vec<SurveyFacts>,
}

/// The survey's three questions (SAV-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    Responsiveness,
    Quality,
    Communication,
}

impl Question {
    pub const ALL: [Question; 3] = [
        Question::Responsiveness,
        Question::Quality,
        Question::Communication,
    ];

    /// In French, as a heading: « Réactivité ».
    pub fn label(self) -> &'static str {
        match self {
            Question::Responsiveness => "Réactivité",
            Question::Quality => "Qualité de la solution",
            Question::Communication => "Communication",
        }
    }

    fn mark(self, answers: &SurveyAnswers) -> u8 {
        match self {
            Question::Responsiveness => answers.responsiveness,
            Question::Quality => answers.quality,
            Question::Communication => answers.communication,
        }
    }
}

/// The figures of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionFigures {
    pub question: Question,
    pub count: u32,
    /// None without answers.
    pub mean: Option<f64>,
    /// How many answers gave 1, 2, 3, 4 and 5.
    pub distribution: [u32; 5],
}

/// Means of one group of surveys (a client, a technician, a month); None without answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Means {
    pub count: u32,
    pub responsiveness: Option<f64>,
    pub quality: Option<f64>,
    pub communication: Option<f64>,
    /// The mean of all three questions' marks.
    pub overall: Option<f64>,
}

impl Means {
    fn of<'a>(surveys: impl Iterator<Item = &'a SurveyAnswers>) -> Means {
        let mut sums = [0u64; 3];
        let mut count = 0u64;
        for answers in surveys {
            count += 1;
            for (sum, question) in sums.iter_mut().zip(Question::ALL) {
                *sum += u64::from(question.mark(answers));
            }
        }
        let mean = |sum: u64, of: u64| (of > 0).then(|| sum as f64 / of as f64);
        Means {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            responsiveness: mean(sums[0], count),
            quality: mean(sums[1], count),
            communication: mean(sums[2], count),
            overall: mean(sums.iter().sum(), count * 3),
        }
    }

    pub fn of_question(&self, question: Question) -> Option<f64> {
        match question {
            Question::Responsiveness => self.responsiveness,
            Question::Quality => self.quality,
            Question::Communication => self.communication,
        }
    }
}

/// A client's or a technician's means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMeans {
    /// The client's reference, or the technician's display name.
    pub key: String,
    pub name: String,
    pub means: Means,
}

/// A survey's comment, with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub ticket: u64,
    pub client: String,
    pub client_name: String,
    pub answered_at: i64,
    pub text: String,
}

/// One month of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthMeans {
    pub month: Month,
    pub means: Means,
}

/// The satisfaction analysis of a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionAnalysis {
    pub month: Month,
    /// Surveys counted (those with marks out of 1 to 5 are not).
    pub surveys: u32,
    /// Surveys left out for marks out of 1 to 5.
    pub invalid: u32,
    pub questions: Vec<QuestionFigures>,
    pub overall: Option<f64>,
    /// By client name.
    pub clients: Vec<GroupMeans>,
    /// By technician name; surveys of tickets nobody was assigned are in no line.
    pub technicians: Vec<GroupMeans>,
    /// The earliest first, [`MAX_COMMENTS`] at most.
    pub comments: Vec<Comment>,
    pub comments_left_out: u32,
    /// The months before (those given, [`MAX_TREND_MONTHS`] at most) then this one, in order.
    pub trend: Vec<MonthMeans>,
    /// One French sentence per question, against the month before.
    pub summary: Vec<String>,
}

fn valid(answers: &SurveyAnswers) -> bool {
    Question::ALL
        .iter()
        .all(|q| (1..=5).contains(&q.mark(answers)))
}

/// The analysis of `current` (its month's surveys), with the months before from `previous`
/// (any order; months not before `current`'s and repeated months are ignored; the latest
/// [`MAX_TREND_MONTHS`] are kept).
pub fn satisfaction_analysis(
    current: &MonthSurveys,
    previous: &[MonthSurveys],
) -> SatisfactionAnalysis {
    let surveys: Vec<&SurveyFacts> = current
        .surveys
        .iter()
        .filter(|s| valid(&s.answers))
        .collect();
    let invalid = u32::try_from(current.surveys.len() - surveys.len()).unwrap_or(u32::MAX);

    let questions = Question::ALL
        .iter()
        .map(|&question| {
            let mut distribution = [0u32; 5];
            for survey in &surveys {
                distribution[usize::from(question.mark(&survey.answers) - 1)] += 1;
            }
            let means = Means::of(surveys.iter().map(|s| &s.answers));
            QuestionFigures {
                question,
                count: means.count,
                mean: means.of_question(question),
                distribution,
            }
        })
        .collect();
    let this_month = Means::of(surveys.iter().map(|s| &s.answers));

    let group = |key: &dyn Fn(&SurveyFacts) -> Option<(String, String)>| {
        let mut groups: BTreeMap<String, (String, Vec<&SurveyAnswers>)> = BTreeMap::new();
        for survey in &surveys {
            if let Some((key, name)) = key(survey) {
                groups
                    .entry(key)
                    .or_insert_with(|| (name, Vec::new()))
                    .1
                    .push(&survey.answers);
            }
        }
        let mut lines: Vec<GroupMeans> = groups
            .into_iter()
            .map(|(key, (name, answers))| GroupMeans {
                key,
                name,
                means: Means::of(answers.into_iter()),
            })
            .collect();
        lines.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
        lines
    };
    let clients = group(&|s| Some((s.client.clone(), s.client_name.clone())));
    let technicians = group(&|s| {
        s.technician
            .as_ref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| (t.clone(), t.clone()))
    });

    let mut comments: Vec<Comment> = surveys
        .iter()
        .filter_map(|s| {
            let text = s.answers.comment.as_deref()?.trim();
            (!text.is_empty()).then(|| Comment {
                ticket: s.ticket,
                client: s.client.clone(),
                client_name: s.client_name.clone(),
                answered_at: s.answered_at,
                text: text.to_owned(),
            })
        })
        .collect();
    comments.sort_by_key(|c| (c.answered_at, c.ticket));
    let comments_left_out =
        u32::try_from(comments.len().saturating_sub(MAX_COMMENTS)).unwrap_or(u32::MAX);
    comments.truncate(MAX_COMMENTS);

    let mut before: BTreeMap<Month, Means> = BTreeMap::new();
    for month in previous {
        if month.month < current.month && !before.contains_key(&month.month) {
            before.insert(
                month.month,
                Means::of(
                    month
                        .surveys
                        .iter()
                        .map(|s| &s.answers)
                        .filter(|a| valid(a)),
                ),
            );
        }
    }
    while before.len() > MAX_TREND_MONTHS {
        before.pop_first();
    }
    let last_month = current.month.previous();
    let summary = Question::ALL
        .iter()
        .map(|&question| {
            summary_sentence(
                question,
                current.month,
                this_month.of_question(question),
                last_month,
                before
                    .get(&last_month)
                    .and_then(|m| m.of_question(question)),
            )
        })
        .collect();
    let mut trend: Vec<MonthMeans> = before
        .into_iter()
        .map(|(month, means)| MonthMeans { month, means })
        .collect();
    trend.push(MonthMeans {
        month: current.month,
        means: this_month.clone(),
    });

    SatisfactionAnalysis {
        month: current.month,
        surveys: this_month.count,
        invalid,
        questions,
        overall: this_month.overall,
        clients,
        technicians,
        comments,
        comments_left_out,
        trend,
        summary,
    }
}

/// « Réactivité : 4,2 / 5, en hausse de 0,3 point sur octobre 2026. » The difference is that of
/// the means as written (one decimal), so that the sentence agrees with the figures shown.
fn summary_sentence(
    question: Question,
    month: Month,
    mean: Option<f64>,
    previous_month: Month,
    previous: Option<f64>,
) -> String {
    let label = question.label();
    let Some(mean) = mean else {
        return format!("{label} : aucune réponse en {}.", month.label());
    };
    let shown = |value: f64| (value * 10.0).round() / 10.0;
    let head = format!("{label} : {} / 5", format_number(mean, 1));
    let Some(previous) = previous else {
        return format!(
            "{head} (aucune réponse en {} pour comparer).",
            previous_month.label()
        );
    };
    let difference = shown(mean) - shown(previous);
    let tenths = (difference * 10.0).round();
    let previous_label = previous_month.label();
    if tenths == 0.0 {
        return format!("{head}, stable par rapport à {previous_label}.");
    }
    let direction = if tenths > 0.0 { "hausse" } else { "baisse" };
    let amount = tenths.abs() / 10.0;
    format!(
        "{head}, en {direction} de {} {} sur {previous_label}.",
        format_number(amount, 1),
        points_after(amount),
    )
}
