//! The monthly reports (issue 9): the supervision report of each client (DSH-2), the alarm
//! review of each site for its security manager (CLO-3) and the satisfaction analysis for the
//! integrator (SAV-7). Each is built from the store's reads and the domain's analytics into a
//! `vigie_report::Document`, rendered as PDF and as HTML, filed in the client's (and site's)
//! file once per kind, place and period, and mailed with its PDF to the recipients its
//! contract or site names, through the outbox. The first day of each month, once it is
//! [`MONTHLY_HOUR`] in Paris, every report of the month before that is not filed yet is made
//! (`run`); `vigie report` makes any of them again for any period.

pub mod intervention;
pub mod review;
pub mod satisfaction;
pub mod supervision;

use std::time::Duration;
use vigie_store::System;

use jiff::tz::TimeZone;
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::report::period::{Month, Period};
use vigie_store::ListFilter;
use vigie_store::reports::{Filed, NewReport, ReportFile, ReportMail};

use crate::AppState;

/// The hour (Paris) from which the month before's reports are made on the first day.
pub const MONTHLY_HOUR: i8 = 6;
/// How often the scheduler looks whether reports are due.
const SCHEDULE_EVERY: Duration = Duration::from_secs(600);
/// The name reports are made under (the audit trail's actor).
pub const REPORTS_ACTOR: &str = "rapports";

/// The kinds of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DSH-2: a client's monthly supervision report.
    Supervision,
    /// CLO-3: a site's monthly alarm review, for its security manager.
    AlarmReview,
    /// SAV-7: the integrator's monthly satisfaction analysis.
    Satisfaction,
}

impl Kind {
    /// The documents' kind in the files.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Supervision => "rapport_supervision",
            Kind::AlarmReview => "revue_alarmes",
            Kind::Satisfaction => "analyse_satisfaction",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Supervision => "Rapport mensuel de supervision",
            Kind::AlarmReview => "Revue mensuelle des alarmes",
            Kind::Satisfaction => "Analyse de la satisfaction client",
        }
    }

    /// The start of the attachments' file names.
    fn file_stem(self) -> &'static str {
        match self {
            Kind::Supervision => "rapport-supervision",
            Kind::AlarmReview => "revue-alarmes",
            Kind::Satisfaction => "analyse-satisfaction",
        }
    }
}

/// The period a report covers: a calendar month, or any interval asked on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covered {
    Month(Month),
    Period(Period),
}

impl Covered {
    /// Its bounds (UTC epoch ms) on the clock of `zone`.
    pub fn bounds(self, zone: &TimeZone) -> (i64, i64) {
        match self {
            Covered::Month(month) => month.bounds(zone),
            Covered::Period(period) => (period.from(), period.to()),
        }
    }

    /// The period's key in the files: `2026-11`, or `2026-11-01/2026-11-15`.
    pub fn key(self) -> String {
        match self {
            Covered::Month(month) => month.to_string(),
            // The last day included, as `vigie report --au` names it.
            Covered::Period(period) => format!(
                "{}/{}",
                local_date(period.from(), &paris()),
                local_date(period.to() - 1, &paris())
            ),
        }
    }

    /// How people read it: « novembre 2026 », « du 1er au 15 novembre 2026 ».
    pub fn label(self) -> String {
        match self {
            Covered::Month(month) => month.label(),
            Covered::Period(period) => format!(
                "du {} au {}",
                vigie_domain::french::format_date(period.from(), &paris()),
                vigie_domain::french::format_date(period.to() - 1, &paris())
            ),
        }
    }

    /// The month before, for comparisons; for a period on demand, the month before its start.
    pub fn previous_month(self) -> Month {
        match self {
            Covered::Month(month) => month.previous(),
            Covered::Period(period) => Month::containing(period.from(), &paris())
                .map(Month::previous)
                .unwrap_or_else(|| Month::new(2000, 1).expect("a valid month")),
        }
    }

    /// The month the analytics that work by month are told (the month of a period's end).
    pub fn month(self) -> Month {
        match self {
            Covered::Month(month) => month,
            Covered::Period(period) => Month::containing(period.to() - 1, &paris())
                .unwrap_or_else(|| Month::new(2000, 1).expect("a valid month")),
        }
    }
}

/// The integrator's clock, on which client reports are cut (sites' own zones are used for
/// their maintenance windows and their reviews).
pub fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC)
}

fn local_date(ms: i64, zone: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// « Généré le 1er décembre 2026 à 06:00 ».
fn generated_label(now: i64) -> String {
    let time = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.to_zoned(paris()).strftime("%H:%M").to_string())
        .unwrap_or_default();
    format!(
        "Généré le {} à {time}",
        vigie_domain::french::format_date(now, &paris())
    )
}

/// A report made, before it is rendered and filed.
#[derive(Debug, Clone)]
pub struct Made {
    pub kind: Kind,
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub covered: Covered,
    pub document: vigie_report::Document,
    /// Who receives its PDF: (recipient reference, name, address).
    pub recipients: Vec<(String, String, String)>,
}

impl Made {
    /// `rapport-supervision-CLI-BNF-2026-11.pdf`.
    pub fn file_name(&self, extension: &str) -> String {
        let place = self
            .site
            .as_ref()
            .or(self.client.as_ref())
            .map(|r| format!("-{r}"))
            .unwrap_or_default();
        let period: String = self
            .covered
            .key()
            .chars()
            .map(|c| if c == '/' { '_' } else { c })
            .collect();
        format!("{}{place}-{period}.{extension}", self.kind.file_stem())
    }
}

/// A report rendered: its PDF and its HTML (the body, for the portal's page).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub html: String,
}

/// Renders a report (Typst's layout is long work: away from the async workers).
pub async fn render(made: &Made) -> anyhow::Result<Rendered> {
    let document = made.document.clone();
    tokio::task::spawn_blocking(move || {
        let pdf = vigie_report::pdf(&document)?;
        for warning in &pdf.warnings {
            tracing::warn!(%warning, "mise en page d'un rapport");
        }
        Ok(Rendered {
            pdf: pdf.bytes,
            html: vigie_report::html_fragment(&document),
        })
    })
    .await?
}

/// Files a rendered report (PDF and HTML) and queues its emails, with `send`; a report of the
/// same kind, place and period already filed is left as it was unless `replace`.
pub async fn file(
    state: &AppState,
    made: &Made,
    rendered: &Rendered,
    replace: bool,
    send: bool,
    now: i64,
) -> anyhow::Result<Filed> {
    let title = format!("{} — {}", made.kind.title(), made.covered.label());
    let file_name = made.file_name("pdf");
    let mails = if send {
        made.recipients
            .iter()
            .map(|(recipient, name, address)| {
                let (subject, text, html) = mail_text(made, name);
                ReportMail {
                    // A report made again and sent again is a new message; made again without
                    // sending, its first message stays the one sent.
                    key: format!(
                        "report/{}/{}/{}/{}/{recipient}/{}",
                        made.kind.key(),
                        made.client.as_ref().map_or("-", |c| c.as_str()),
                        made.site.as_ref().map_or("-", |s| s.as_str()),
                        made.covered.key(),
                        if replace { now.to_string() } else { "1".into() },
                    ),
                    recipient: recipient.clone(),
                    name: name.clone(),
                    address: address.clone(),
                    subject,
                    text,
                    html,
                    file_name: file_name.clone(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let report = NewReport {
        kind: made.kind.key().into(),
        client: made.client.clone(),
        site: made.site.clone(),
        period: made.covered.key(),
        files: vec![
            ReportFile {
                title: title.clone(),
                content_type: "application/pdf".into(),
                content: rendered.pdf.clone(),
            },
            ReportFile {
                title,
                content_type: "text/html".into(),
                content: rendered.html.clone().into_bytes(),
            },
        ],
        mails,
    };
    let filed = state
        .store
        .file_report(&Actor::console(REPORTS_ACTOR), &report, replace, now)
        .await?;
    if filed.queued > 0 {
        state.deliveries.wake();
    }
    Ok(filed)
}

/// The email that carries a report: subject, text and HTML.
fn mail_text(made: &Made, name: &str) -> (String, String, String) {
    let subject = format!(
        "{} — {} — {}",
        made.kind.title(),
        made.document.recipient,
        made.covered.label()
    );
    let text = format!(
        "Bonjour {name},\n\nVeuillez trouver ci-joint le document « {} » de {} ({}).\n\nIl est aussi disponible dans vos documents sur le portail.\n\nCordialement,\n{}\n",
        made.kind.title().to_lowercase(),
        made.covered.label(),
        made.document.recipient,
        made.document.organisation,
    );
    let html = maud::html! {
        (maud::DOCTYPE)
        html lang="fr" {
            body {
                p { "Bonjour " (name) "," }
                p {
                    "Veuillez trouver ci-joint le document « " (made.kind.title().to_lowercase())
                    " » de " (made.covered.label()) " (" (made.document.recipient) ")."
                }
                p { "Il est aussi disponible dans vos documents sur le portail." }
                p { "Cordialement," br; (made.document.organisation) }
            }
        }
    }
    .into_string();
    (subject, text, html)
}

/// The organisation that issues the reports (the configuration's name of the integrator).
fn organisation(state: &AppState) -> String {
    state.config.reports.organisation.clone()
}

/// A record read for a report, a missing one named: « client CLI-X introuvable ».
fn named(
    read: Result<Record, vigie_store::StoreError>,
    what: &str,
    reference: &Reference,
) -> anyhow::Result<Record> {
    match read {
        Ok(record) => Ok(record),
        Err(vigie_store::StoreError::NotFound) => anyhow::bail!("{what} {reference} introuvable"),
        Err(error) => Err(error.into()),
    }
}

/// The records of `kind` of `client` (all of them, by pages), read as the reports' actor.
async fn records_of(
    state: &AppState,
    kind: ObjectKind,
    client: Option<&Reference>,
) -> anyhow::Result<Vec<Record>> {
    let actor = Actor::console(REPORTS_ACTOR);
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .list(
                &actor,
                kind,
                &ListFilter {
                    client: client.cloned(),
                    after: after.clone(),
                    limit: Some(vigie_store::MAX_PAGE_SIZE),
                    ..ListFilter::default()
                },
            )
            .await?;
        let full = page.len() as i64 == vigie_store::MAX_PAGE_SIZE;
        after = page.last().map(|r| r.reference().clone());
        records.extend(page);
        if !full {
            return Ok(records);
        }
    }
}

/// Every report of `covered` that is due: a supervision report per client with a contract
/// under the supervision option (SUP-4), an alarm review per site of those clients with its
/// security manager, and the satisfaction analysis.
pub async fn due(
    state: &AppState,
) -> anyhow::Result<Vec<(Kind, Option<Reference>, Option<Reference>)>> {
    let mut due = Vec::new();
    let contracts = records_of(state, ObjectKind::Contract, None).await?;
    let supervised: std::collections::BTreeSet<Reference> = contracts
        .iter()
        .filter_map(|r| match r {
            Record::Contract(c) if c.has(vigie_domain::inventory::ContractOption::Supervision) => {
                Some(c.reference.clone())
            }
            _ => None,
        })
        .collect();
    let sites = records_of(state, ObjectKind::Site, None).await?;
    let mut clients = std::collections::BTreeSet::new();
    for record in &sites {
        if let Record::Site(site) = record
            && supervised.contains(&site.contract)
        {
            clients.insert(site.client.clone());
            due.push((
                Kind::AlarmReview,
                Some(site.client.clone()),
                Some(site.reference.clone()),
            ));
        }
    }
    for client in clients {
        due.push((Kind::Supervision, Some(client), None));
    }
    due.push((Kind::Satisfaction, None, None));
    due.sort_by_key(|(kind, client, site)| {
        (
            *kind != Kind::Supervision,
            *kind != Kind::AlarmReview,
            client.clone(),
            site.clone(),
        )
    });
    Ok(due)
}

/// Makes one report.
pub async fn make(
    state: &AppState,
    kind: Kind,
    client: Option<&Reference>,
    site: Option<&Reference>,
    covered: Covered,
    now: i64,
) -> anyhow::Result<Made> {
    match (kind, client, site) {
        (Kind::Supervision, Some(client), _) => {
            supervision::make(state, client, covered, now).await
        }
        (Kind::AlarmReview, _, Some(site)) => review::make(state, site, covered, now).await,
        (Kind::Satisfaction, _, _) => satisfaction::make(state, covered, now).await,
        (Kind::Supervision, None, _) => {
            anyhow::bail!("un rapport de supervision porte sur un client (--client)")
        }
        (Kind::AlarmReview, _, None) => {
            anyhow::bail!("une revue des alarmes porte sur un site (--site)")
        }
    }
}

/// What one round of the monthly reports did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub made: usize,
    pub already_filed: usize,
    pub failed: usize,
    pub queued: usize,
}

/// The most reports made at once: one per core (a report's reading waits on the database while
/// another's layout computes), within a bound so that a large fleet's histories are not all
/// held together.
fn reports_at_once() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// What became of one report of a round.
enum Outcome {
    AlreadyFiled,
    Made { queued: usize },
    Failed,
}

/// Makes, files and sends every report of `month` not filed yet, a few at once
/// ([`reports_at_once`]). A report that fails is logged and tried again at the next round; the
/// others go on.
pub async fn monthly(
    state: &AppState,
    system: &System,
    month: Month,
    now: i64,
) -> anyhow::Result<Round> {
    use futures_util::stream::StreamExt;

    let period = month.to_string();
    let outcomes: Vec<Outcome> = futures_util::stream::iter(due(state).await?)
        .map(|(kind, client, site)| {
            let period = &period;
            async move {
                match system
                    .report_filed(kind.key(), client.as_ref(), site.as_ref(), period)
                    .await
                {
                    Ok(true) => return Outcome::AlreadyFiled,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::error!(error = %error, kind = kind.key(), "rapport mensuel");
                        return Outcome::Failed;
                    }
                }
                let result = async {
                    let made = make(
                        state,
                        kind,
                        client.as_ref(),
                        site.as_ref(),
                        Covered::Month(month),
                        now,
                    )
                    .await?;
                    let rendered = render(&made).await?;
                    file(state, &made, &rendered, false, true, now).await
                }
                .await;
                match result {
                    Ok(filed) if filed.new => Outcome::Made {
                        queued: filed.queued,
                    },
                    Ok(_) => Outcome::AlreadyFiled,
                    Err(error) => {
                        tracing::error!(
                            error = format!("{error:#}"),
                            kind = kind.key(),
                            client = client.as_ref().map(|c| c.to_string()),
                            site = site.as_ref().map(|s| s.to_string()),
                            period,
                            "rapport mensuel"
                        );
                        Outcome::Failed
                    }
                }
            }
        })
        .buffer_unordered(reports_at_once())
        .collect()
        .await;
    let mut round = Round::default();
    for outcome in outcomes {
        match outcome {
            Outcome::AlreadyFiled => round.already_filed += 1,
            Outcome::Made { queued } => {
                round.made += 1;
                round.queued += queued;
            }
            Outcome::Failed => round.failed += 1,
        }
    }
    Ok(round)
}

/// The month whose reports are due at `now`: the month before, from the first day's
/// [`MONTHLY_HOUR`] in Paris on (and for the rest of the month, so that a server stopped on
/// the first catches up).
pub fn month_due(now: i64) -> Option<Month> {
    let zone = paris();
    let current = Month::containing(now, &zone)?;
    let (start, _) = current.bounds(&zone);
    (now >= start + i64::from(MONTHLY_HOUR) * 3_600_000).then(|| current.previous())
}

/// The scheduler every process runs: every ten minutes, the reports of the month due that are
/// not filed yet (several processes may make the same one; it is filed once).
pub async fn run(state: AppState, system: System) {
    loop {
        let now = state.clock.now_ms();
        if let Some(month) = month_due(now) {
            match monthly(&state, &system, month, now).await {
                Ok(round) if round.made > 0 || round.failed > 0 => tracing::info!(
                    month = month.to_string(),
                    made = round.made,
                    failed = round.failed,
                    queued = round.queued,
                    "rapports mensuels"
                ),
                Ok(_) => {}
                Err(error) => tracing::error!(error = format!("{error:#}"), "rapports mensuels"),
            }
        }
        tokio::time::sleep(SCHEDULE_EVERY).await;
    }
}
