//! `vigie report`: makes a monthly report again, for any month or period (issue 9), writes
//! its PDF and HTML where asked, and with `--file` files it in the client's file (and with
//! `--send` queues its emails, which the server's delivery loop sends); `vigie report mensuel`
//! does for one month what the server does on the first of each month.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use vigie_domain::Reference;
use vigie_domain::report::period::{Month, Period};
use vigie_server::reports::{self, Covered, Kind};
use vigie_server::{AppState, Clock, Config};
use vigie_store::System;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Le rapport de supervision d'un client (DSH-2) : --client.
    Supervision,
    /// La revue des alarmes d'un site pour son responsable sécurité (CLO-3) : --site.
    Revue,
    /// L'analyse de la satisfaction, pour l'intégrateur (SAV-7).
    Satisfaction,
    /// Tous les rapports du mois qui ne sont pas encore classés, comme le serveur le 1er du
    /// mois : classés et envoyés.
    Mensuel,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Le rapport.
    #[arg(value_enum)]
    which: Which,
    /// Le client (rapport de supervision).
    #[arg(long)]
    client: Option<String>,
    /// Le site (revue des alarmes).
    #[arg(long)]
    site: Option<String>,
    /// Le mois : 2026-11 (par défaut, le mois précédent).
    #[arg(long, conflicts_with_all = ["du", "au"])]
    mois: Option<String>,
    /// Une période à la demande : premier jour (2026-11-01, heure de Paris)…
    #[arg(long, requires = "au")]
    du: Option<String>,
    /// …et dernier jour compris (2026-11-15).
    #[arg(long, requires = "du")]
    au: Option<String>,
    /// Écrit le PDF dans ce fichier.
    #[arg(long)]
    pdf: Option<PathBuf>,
    /// Écrit la page HTML (autonome) dans ce fichier.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Classe le rapport dans le dossier du client (en remplaçant celui de la même période).
    #[arg(long)]
    classer: bool,
    /// Avec --classer : envoie aussi le PDF à ses destinataires (par le serveur).
    #[arg(long, requires = "classer")]
    envoyer: bool,
}

fn reference(text: &Option<String>, what: &str) -> anyhow::Result<Option<Reference>> {
    text.as_deref()
        .map(|t| Reference::parse(t).map_err(|e| anyhow::anyhow!("--{what} : {e}")))
        .transpose()
}

/// The local midnight starting `date` (YYYY-MM-DD) in Paris.
fn local_midnight(date: &str, what: &str) -> anyhow::Result<jiff::Zoned> {
    let date: jiff::civil::Date = date
        .parse()
        .map_err(|e| anyhow::anyhow!("--{what} : date AAAA-MM-JJ attendue ({e})"))?;
    date.to_zoned(reports::paris())
        .map_err(|e| anyhow::anyhow!("--{what} : {e}"))
}

fn covered(args: &ReportArgs, now: i64) -> anyhow::Result<Covered> {
    if let (Some(from), Some(to)) = (&args.du, &args.au) {
        let start = local_midnight(from, "du")?;
        let end = local_midnight(to, "au")?
            .tomorrow()
            .map_err(|e| anyhow::anyhow!("--au : {e}"))?;
        let period = Period::new(
            start.timestamp().as_millisecond(),
            end.timestamp().as_millisecond(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(Covered::Period(period));
    }
    let month = match &args.mois {
        Some(text) => Month::parse(text).map_err(|e| anyhow::anyhow!("--mois : {e}"))?,
        None => Month::containing(now, &reports::paris())
            .context("mois courant")?
            .previous(),
    };
    Ok(Covered::Month(month))
}

pub async fn run(config: Config, store: System, args: ReportArgs) -> anyhow::Result<()> {
    let now = Clock::System.now_ms();
    let covered = covered(&args, now)?;
    let state = AppState::new(store.clone(), config, Clock::System);
    let kind = match args.which {
        Which::Supervision => Kind::Supervision,
        Which::Revue => Kind::AlarmReview,
        Which::Satisfaction => Kind::Satisfaction,
        Which::Mensuel => {
            let Covered::Month(month) = covered else {
                anyhow::bail!("les rapports mensuels portent sur un mois (--mois)");
            };
            let round = reports::monthly(&state, &store, month, now).await?;
            println!(
                "{} : {} rapport(s) produit(s) et classé(s), {} déjà classé(s), {} en échec, {} envoi(s) en file",
                month.label(),
                round.made,
                round.already_filed,
                round.failed,
                round.queued
            );
            if round.failed > 0 {
                anyhow::bail!("{} rapport(s) en échec (voir le journal)", round.failed);
            }
            return Ok(());
        }
    };
    let client = reference(&args.client, "client")?;
    let site = reference(&args.site, "site")?;
    let made = reports::make(&state, kind, client.as_ref(), site.as_ref(), covered, now).await?;
    let rendered = reports::render(&made).await?;
    let mut wrote = false;
    if let Some(path) = &args.pdf {
        std::fs::write(path, &rendered.pdf)
            .with_context(|| format!("écriture de {}", path.display()))?;
        println!("PDF : {}", path.display());
        wrote = true;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, vigie_report::html_page(&made.document))
            .with_context(|| format!("écriture de {}", path.display()))?;
        println!("HTML : {}", path.display());
        wrote = true;
    }
    if args.classer {
        let filed = reports::file(&state, &made, &rendered, true, args.envoyer, now).await?;
        println!(
            "classé (documents n° {}) ; {} envoi(s) en file",
            filed
                .documents
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            filed.queued
        );
        wrote = true;
    }
    if !wrote {
        let path = PathBuf::from(made.file_name("pdf"));
        std::fs::write(&path, &rendered.pdf)
            .with_context(|| format!("écriture de {}", path.display()))?;
        println!("PDF : {}", path.display());
    }
    Ok(())
}
