//! The `vigie` binary: thin glue over the library crates. Each subcommand reads the
//! configuration, opens the store, and calls one library function.

mod report;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use vigie_domain::Reference;
use vigie_domain::access::{Actor, TokenScope};
use vigie_domain::calendar::{self, Calendar, LocalResolution};
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::{self, InventoryFile};
use vigie_domain::policy::Policy;
use vigie_domain::values::DurationSpec;
use vigie_server::{AppState, Clock, Config, auth};
use vigie_store::{NewToken, NewUser, StoreError, System, UserKind};

/// Vigie : supervision des systèmes de vidéosurveillance, alarmes, astreinte et service client.
#[derive(Debug, Parser)]
#[command(name = "vigie", version)]
struct Cli {
    /// Fichier de configuration TOML (voir `vigie config default`).
    #[arg(long, global = true, env = "VIGIE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Démarre le serveur (API, interface). Au premier démarrage, crée la base et un premier
    /// administrateur dont le mot de passe à usage unique est affiché une seule fois.
    Serve,
    /// Importe un fichier d'inventaire (docs/inventory.md) : tout ou rien, idempotent.
    Import {
        /// Le fichier d'inventaire.
        file: PathBuf,
        /// Vérifie le fichier sans rien modifier.
        #[arg(long)]
        dry_run: bool,
    },
    /// Écrit tout l'inventaire au format de fichier, trié par référence.
    Export {
        /// Fichier de sortie (sortie standard par défaut).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Comptes utilisateurs et jetons d'API.
    #[command(subcommand)]
    User(UserCommand),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Délais de service (SLA).
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Calendriers d'heures ouvrées.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Qui est d'astreinte à un instant (maintenant par défaut), astreinte par astreinte
    /// (docs/oncall.md).
    Oncall {
        /// L'instant : 2026-11-29T03:00:00+01:00, ou une heure locale de Paris sans décalage.
        #[arg(long)]
        at: Option<String>,
    },
    /// Astreintes : rotations, remplacements, échanges (docs/oncall.md).
    #[command(subcommand)]
    Rotation(RotationCommand),
    /// Agent pour serveurs VMS et enregistreurs Linux : relève l'hôte à chaque intervalle et
    /// l'envoie au serveur, en gardant sur disque ce qui n'a pas pu partir (docs/supervision.md).
    Agent(AgentArgs),
    /// Sonde de site : exécute les contrôles des équipements d'un site depuis son réseau et
    /// envoie les observations au serveur, en gardant sur disque ce qui n'a pas pu partir.
    Probe(ProbeArgs),
    /// Rejoue un scénario (docs/simulate.md) sur une horloge virtuelle et écrit la chronologie
    /// obtenue en JSON Lines sur la sortie standard.
    Simulate {
        /// Le fichier de scénario (TOML).
        scenario: PathBuf,
    },
    /// Démonstration : la flotte d'exemple et des pannes simulées ; rien n'est envoyé.
    ///
    /// Démarre le serveur sur sa base embarquée avec la flotte d'exemple et un simulateur qui
    /// fait tomber et revenir des équipements : alarmes, notifications, tickets et tableaux de
    /// bord s'animent en moins d'une minute. Rien n'est envoyé : les notifications restent dans
    /// la boîte d'envoi (page « Boîte d'envoi » de la console). Affiche l'URL et deux comptes prêts à
    /// l'emploi (personnel et client). Ni le fichier de configuration ni les variables VIGIE_…
    /// ne sont lus.
    Demo(DemoArgs),
    /// Rapports mensuels (docs/reports.md) : produit un rapport pour un mois ou une période,
    /// l'écrit en PDF ou HTML, le classe et l'envoie à la demande.
    ///
    /// Exemples : `vigie report supervision --client CLI-BNF --mois 2026-11 --pdf rapport.pdf`,
    /// `vigie report revue --site BNF-PAR-OPERA --du 2026-11-01 --au 2026-11-15`,
    /// `vigie report mensuel --mois 2026-11`.
    Report(report::ReportArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Adresse d'écoute (le port 0 en choisit un libre, affiché au démarrage).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Répertoire des données de la démonstration (base SQLite, comptes), créé s'il manque ;
    /// un second démarrage sur le même répertoire reprend là où le premier s'est arrêté.
    #[arg(long, default_value = "vigie-demo")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
struct AgentArgs {
    /// Adresse du serveur Vigie (https://vigie.exemple.fr).
    #[arg(long, env = "VIGIE_AGENT_SERVER")]
    server: String,
    /// Jeton d'API de portée « agent » (vgt_…) ; de préférence par la variable d'environnement.
    #[arg(long, env = "VIGIE_AGENT_TOKEN", hide_env_values = true)]
    token: String,
    /// Référence de l'équipement sur lequel tourne l'agent.
    #[arg(long, env = "VIGIE_AGENT_EQUIPMENT")]
    equipment: String,
    /// Intervalle de relevé : 60s (défaut, SUP-2), 5m…
    #[arg(long, default_value = "60s")]
    interval: String,
    /// Nom de processus d'un service à surveiller (le service d'enregistrement) ; répétable.
    #[arg(long = "service")]
    services: Vec<String>,
    /// Répertoire du tampon sur disque.
    #[arg(long, default_value = "vigie-agent")]
    buffer: PathBuf,
    /// Nombre maximal de lots gardés en attente (une semaine à un lot par minute par défaut).
    #[arg(long, default_value_t = 7 * 24 * 60)]
    max_batches: usize,
    /// Taille maximale du tampon, en Mio.
    #[arg(long, default_value_t = 200)]
    max_megabytes: u64,
    /// Certificat (PEM) d'une autorité à croire en plus de celles du système.
    #[arg(long)]
    ca_certificate: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ProbeArgs {
    /// Adresse du serveur Vigie.
    #[arg(long, env = "VIGIE_PROBE_SERVER")]
    server: String,
    /// Jeton d'API de portée « probe » (vgt_…), lié au site de la sonde (vigie user token …
    /// --scope probe --site RÉF) ; de préférence par la variable d'environnement.
    #[arg(long, env = "VIGIE_PROBE_TOKEN", hide_env_values = true)]
    token: String,
    /// Nom de la sonde (unique), par exemple sonde-opera.
    #[arg(long)]
    name: String,
    /// Référence du site dont la sonde contrôle les équipements : celui de son jeton.
    #[arg(long)]
    site: String,
    /// Répertoire du tampon sur disque.
    #[arg(long, default_value = "vigie-probe")]
    buffer: PathBuf,
    /// Fréquence des envois au serveur (la sonde est déclarée perdue après une fois et demie).
    #[arg(long, default_value = "30s")]
    push_every: String,
    /// Fréquence de relecture des équipements du site.
    #[arg(long, default_value = "5m")]
    refresh_every: String,
    /// Certificat (PEM) d'une autorité à croire en plus de celles du système.
    #[arg(long)]
    ca_certificate: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum SlaCommand {
    /// Affiche l'échéance d'un délai : l'instant où DURATION de temps ouvert s'est écoulé
    /// depuis INSTANT dans le calendrier (un départ hors des heures ouvrées compte à partir
    /// de l'ouverture suivante).
    Deadline {
        /// Départ : 2026-05-13T17:00:00+02:00, 2026-05-13T15:00:00Z, ou une heure locale
        /// 2026-05-13T17:00 lue dans le fuseau du calendrier.
        #[arg(long = "from", value_name = "INSTANT")]
        from: String,
        /// Délai : 30m, 4h, 1h30m, 2d.
        #[arg(long, value_name = "DURATION")]
        duration: String,
        /// business (France métropolitaine), business-alsace-moselle ou always (24 h/24).
        #[arg(long, default_value = calendar::BUSINESS)]
        calendar: String,
    },
}

#[derive(Debug, Subcommand)]
enum RotationCommand {
    /// Crée ou remplace les astreintes d'un fichier TOML (des blocs [[rotation]]) : toutes
    /// vérifiées d'abord, puis enregistrées.
    Import {
        /// Le fichier des astreintes.
        file: PathBuf,
    },
    /// Écrit les astreintes enregistrées, au format du fichier d'import.
    Export,
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Liste les jours fériés et de fermeture d'une année, avec leur nom.
    Holidays {
        /// L'année (1583 à 9998).
        year: i16,
        /// business (France métropolitaine), business-alsace-moselle ou always.
        #[arg(long, default_value = calendar::BUSINESS)]
        calendar: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Crée un compte et affiche son mot de passe à usage unique.
    Add(AddUser),
    /// Donne un nouveau mot de passe à usage unique (ferme toutes les sessions du compte).
    Passwd {
        username: String,
        /// Lit le nouveau mot de passe (définitif) sur l'entrée standard au lieu d'en générer un.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Crée un jeton d'API pour un compte et affiche son secret (une seule fois).
    Token {
        username: String,
        /// Nom du jeton (à quoi il sert).
        #[arg(long)]
        name: String,
        /// Portée : agent, probe, integration ou read-only.
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// Site de la sonde, obligatoire pour la portée probe (refusé pour les autres) : le
        /// jeton ne lit que ce site et ses équipements, et ne rend compte que d'eux.
        #[arg(long)]
        site: Option<String>,
        /// Expire au bout de ce nombre de jours (jamais par défaut).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Liste les comptes.
    List,
}

#[derive(Debug, Args)]
struct AddUser {
    username: String,
    /// Nom affiché.
    #[arg(long)]
    name: String,
    /// staff (personnel de l'intégrateur) ou client.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Client du compte (obligatoire pour un compte client).
    #[arg(long)]
    client: Option<String>,
    /// Fiche personnel liée (ses rôles s'ajoutent).
    #[arg(long)]
    staff: Option<String>,
    /// Rôle (répétable) : technician, on-call-manager, technical-manager, operations-manager,
    /// referent-engineer, supervision, administrator.
    #[arg(long = "role", value_parser = staff_role)]
    roles: Vec<StaffRole>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Staff,
    Client,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScopeArg {
    Agent,
    Probe,
    Integration,
    ReadOnly,
}

/// A staff role as the command line spells it (`on-call-manager`) or as the inventory does
/// (`on_call_manager`): the domain's own names, not a copy of its list.
fn staff_role(text: &str) -> Result<StaffRole, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().replace('-', "_"))).map_err(|_| {
        format!(
            "rôle inconnu « {text} » : technician, on-call-manager, technical-manager, operations-manager, referent-engineer, supervision, administrator"
        )
    })
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Affiche la configuration par défaut, commentée.
    Default,
    /// Vérifie la configuration (fichier et environnement) et l'affiche, secrets masqués.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("erreur : {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A calendar of the default policy, by name.
fn named_calendar(name: &str) -> anyhow::Result<Calendar> {
    let policy = Policy::default_policy();
    policy.calendar(name).cloned().ok_or_else(|| {
        let known: Vec<&str> = policy.calendars.keys().map(String::as_str).collect();
        anyhow::anyhow!(
            "--calendar : calendrier inconnu « {name} » (connus : {})",
            known.join(", ")
        )
    })
}

fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    Config::load(path).map_err(anyhow::Error::msg)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{},tower_http=info", config.log.level))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        vigie_server::config::LogFormat::Json => builder.json().try_init(),
        vigie_server::config::LogFormat::Text => builder.try_init(),
    };
}

async fn open_store(config: &Config) -> anyhow::Result<System> {
    create_data_dir(config)?;
    with_secrets_key(config, System::open(&config.database_url()).await?).await
}

/// The store with the key of its secrets (`docs/securite.md`): read from its file, created on
/// first use; a key that is not the database's stops here with what to do.
async fn with_secrets_key(config: &Config, store: System) -> anyhow::Result<System> {
    let path = config.secrets_key_path();
    if let Some(directory) = path.parent()
        && !directory.as_os_str().is_empty()
        && !directory.exists()
    {
        vigie_store::create_private_directory(directory)
            .with_context(|| format!("création du répertoire {}", directory.display()))?;
    }
    let key =
        vigie_store::secrets::SecretsKey::load_or_create(&path).map_err(|e| anyhow::anyhow!(e))?;
    let store = store.with_secrets_key(key);
    store
        .check_secrets_key()
        .await
        .map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?;
    Ok(store)
}

/// The store of a server process (`serve`, `demo`): on SQLite, a second server on the same
/// file is refused (docs/securite.md).
async fn open_server_store(config: &Config) -> anyhow::Result<System> {
    create_data_dir(config)?;
    let store = with_secrets_key(
        config,
        System::open_as_server(&config.database_url()).await?,
    )
    .await?;
    // The credentials written before they were encrypted are encrypted now.
    let sealed = store.seal_stored_secrets().await?;
    if sealed > 0 {
        tracing::info!(sealed, "identifiants d'équipements chiffrés dans la base");
    }
    Ok(store)
}

/// The data directory of the embedded database, created for Vigie's user only.
fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    if config.database.url.0.is_empty() {
        vigie_store::create_private_directory(&config.data_dir).with_context(|| {
            format!(
                "création du répertoire de données {}",
                config.data_dir.display()
            )
        })?;
    }
    Ok(())
}

/// The person at the console, as the audit trail names them.
fn console_actor() -> Actor {
    Actor::console(
        &std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "inconnu".into()),
    )
}

fn now_ms() -> i64 {
    Clock::System.now_ms()
}

fn reference(text: Option<String>) -> anyhow::Result<Option<Reference>> {
    Ok(text.map(|t| Reference::parse(&t)).transpose()?)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(ConfigCommand::Default) => {
            print!("{}", vigie_server::config::DEFAULT_TOML);
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let config = load_config(cli.config.as_deref())?;
            config.policy().map_err(|e| anyhow::anyhow!(e))?;
            vigie_server::delivery::Channels::from_config(&config)
                .map_err(|e| anyhow::anyhow!(e))?;
            if config.mailbox.is_read() {
                vigie_server::mailbox::mailbox(&config.mailbox).map_err(|e| anyhow::anyhow!(e))?;
            }
            println!("configuration valide : {config:#?}");
            Ok(())
        }
        Command::Serve => serve(load_config(cli.config.as_deref())?).await,
        Command::Demo(args) => demo(args).await,
        Command::Report(args) => {
            let config = load_config(cli.config.as_deref())?;
            init_logging(&config);
            let store = open_store(&config).await?;
            report::run(config, store, args).await
        }
        Command::Sla(SlaCommand::Deadline {
            from,
            duration,
            calendar,
        }) => {
            let calendar = named_calendar(&calendar)?;
            let (start, resolution) = calendar::parse_instant(&from, &calendar.time_zone)
                .map_err(|e| anyhow::anyhow!("--from : {e}"))?;
            if resolution != LocalResolution::Unique {
                eprintln!(
                    "note : --from {from} : {resolution} ({})",
                    calendar.format(start)
                );
            }
            let duration =
                DurationSpec::parse(&duration).map_err(|e| anyhow::anyhow!("--duration : {e}"))?;
            let seconds = i64::try_from(duration.seconds())
                .map_err(|_| anyhow::anyhow!("--duration : durée trop longue"))?;
            let due = calendar
                .add(start, jiff::SignedDuration::from_secs(seconds))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", calendar.format(due));
            Ok(())
        }
        Command::Calendar(CalendarCommand::Holidays { year, calendar }) => {
            let calendar = named_calendar(&calendar)?;
            if !(1583..=9998).contains(&year) {
                bail!("YEAR : année {year} hors du calendrier grégorien géré (1583 à 9998)");
            }
            for (date, name) in calendar.closed_days(year) {
                println!("{date} {name}");
            }
            Ok(())
        }
        Command::Agent(args) => {
            init_logging(&Config::default());
            let interval = DurationSpec::parse(&args.interval)
                .map_err(|e| anyhow::anyhow!("--interval : {e}"))?;
            let config = vigie_agent::AgentConfig {
                server: args.server,
                token: args.token,
                equipment: Reference::parse(&args.equipment)
                    .map_err(|e| anyhow::anyhow!("--equipment : {e}"))?,
                interval: std::time::Duration::from_secs(interval.seconds()),
                services: args.services,
                buffer_directory: args.buffer,
                limits: vigie_agent::Limits {
                    max_batches: args.max_batches.max(1),
                    max_bytes: args.max_megabytes.max(1) * 1024 * 1024,
                },
                ca_certificate: args.ca_certificate,
                proc: PathBuf::from("/proc"),
                sys: PathBuf::from("/sys"),
            };
            vigie_agent::Agent::new(config)?.run().await?;
            Ok(())
        }
        Command::Probe(args) => {
            init_logging(&Config::default());
            let every = |text: &str, name: &str| -> anyhow::Result<std::time::Duration> {
                let spec =
                    DurationSpec::parse(text).map_err(|e| anyhow::anyhow!("--{name} : {e}"))?;
                Ok(std::time::Duration::from_secs(spec.seconds().max(1)))
            };
            let config = vigie_probe::site::ProbeConfig {
                server: args.server,
                token: args.token,
                name: args.name,
                site: Reference::parse(&args.site).map_err(|e| anyhow::anyhow!("--site : {e}"))?,
                buffer_directory: args.buffer,
                limits: vigie_agent::Limits::default(),
                ca_certificate: args.ca_certificate,
                push_every: every(&args.push_every, "push-every")?,
                refresh_every: every(&args.refresh_every, "refresh-every")?,
            };
            let pinger = match vigie_ping::Pinger::new() {
                Ok(pinger) => Some(std::sync::Arc::new(pinger)),
                Err(error) => {
                    eprintln!("attention : {error} ; les pings seront « inconnus »");
                    None
                }
            };
            vigie_probe::site::run(config, pinger)
                .await
                .map_err(anyhow::Error::msg)
        }
        Command::Simulate { scenario } => {
            let timeline = vigie_simulate::run_file(&scenario).await?;
            print!("{timeline}");
            Ok(())
        }
        Command::Import { file, dry_run } => {
            let config = load_config(cli.config.as_deref())?;
            init_logging(&config);
            import(&open_store(&config).await?, &file, dry_run).await
        }
        Command::Export { output } => {
            let config = load_config(cli.config.as_deref())?;
            init_logging(&config);
            let store = open_store(&config).await?;
            let text = file::write(&store.export(&console_actor()).await?);
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("écriture de {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::User(command) => {
            let config = load_config(cli.config.as_deref())?;
            init_logging(&config);
            user(&open_store(&config).await?, &config, command).await
        }
        Command::Oncall { at } => {
            let config = load_config(cli.config.as_deref())?;
            init_logging(&config);
            let store = open_store(&config).await?;
            let paris = calendar::Calendar::business().time_zone;
            let at = match at {
                Some(text) => {
                    calendar::parse_instant(&text, &paris)
                        .map_err(|e| anyhow::anyhow!("--at : {e}"))?
                        .0
                }
                None => now_ms(),
            };
            let actor = console_actor();
            let rotations = store.rotations(&actor).await?;
            if rotations.is_empty() {
                println!("aucune astreinte enregistrée (vigie rotation import)");
            }
            let staff = store.export(&actor).await?.staff;
            let name_of = |reference: &vigie_domain::Reference| {
                staff
                    .iter()
                    .find(|s| &s.reference == reference)
                    .map_or_else(
                        || reference.to_string(),
                        |s| format!("{} ({reference})", s.name),
                    )
            };
            for rotation in &rotations {
                let zone = rotation.time_zone.time_zone();
                let local = |ms: i64| {
                    jiff::Timestamp::from_millisecond(ms)
                        .map(|t| {
                            t.to_zoned(zone.clone())
                                .strftime("%Y-%m-%d %H:%M %Z")
                                .to_string()
                        })
                        .unwrap_or_default()
                };
                match rotation.on_call_at(at) {
                    Some(shift) => println!(
                        "{} ({}) : {} du {} au {}{}",
                        rotation.name,
                        rotation.duty.french(),
                        name_of(&shift.member),
                        local(shift.from_ms),
                        local(shift.to_ms),
                        if shift.by_override {
                            " (remplacement)"
                        } else {
                            ""
                        }
                    ),
                    None => println!(
                        "{} ({}) : PERSONNE D'ASTREINTE à cet instant",
                        rotation.name,
                        rotation.duty.french()
                    ),
                }
            }
            warn_coverage(&store.oncall_coverage(&actor, now_ms()).await?);
            Ok(())
        }
        Command::Rotation(command) => {
            let config = load_config(cli.config.as_deref())?;
            init_logging(&config);
            let store = open_store(&config).await?;
            let actor = console_actor();
            match command {
                RotationCommand::Import { file } => {
                    #[derive(serde::Deserialize)]
                    #[serde(deny_unknown_fields)]
                    struct RotationFile {
                        #[serde(default)]
                        rotation: Vec<vigie_domain::oncall::Rotation>,
                    }
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("lecture de {}", file.display()))?;
                    let parsed: RotationFile = toml::from_str(&text).map_err(|e| {
                        anyhow::anyhow!(
                            "{} : {}",
                            file.display(),
                            vigie_domain::text::french_serde_message(e.message())
                        )
                    })?;
                    for rotation in &parsed.rotation {
                        rotation
                            .check()
                            .map_err(|e| anyhow::anyhow!("{} : {e}", file.display()))?;
                    }
                    for rotation in &parsed.rotation {
                        store.put_rotation(&actor, rotation, now_ms()).await?;
                        println!("astreinte {} enregistrée", rotation.name);
                    }
                    warn_coverage(&store.oncall_coverage(&actor, now_ms()).await?);
                    Ok(())
                }
                RotationCommand::Export => {
                    #[derive(serde::Serialize)]
                    struct RotationFile {
                        rotation: Vec<vigie_domain::oncall::Rotation>,
                    }
                    let rotations = store.rotations(&actor).await?;
                    print!(
                        "{}",
                        toml::to_string(&RotationFile {
                            rotation: rotations
                        })
                        .context("écriture des astreintes")?
                    );
                    Ok(())
                }
            }
        }
    }
}

async fn import(store: &System, path: &std::path::Path, dry_run: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("lecture de {}", path.display()))?;
    let report_errors = |errors: Vec<file::FileError>| {
        for error in &errors {
            eprintln!("{}:{error}", path.display());
        }
        anyhow::anyhow!(
            "{} erreur(s) dans {} : rien n'a été importé",
            errors.len(),
            path.display()
        )
    };
    let parsed = InventoryFile::parse(&text).map_err(report_errors)?;
    parsed
        .check(&store.known_objects(&console_actor()).await?)
        .map_err(report_errors)?;
    if dry_run {
        println!(
            "{} : fichier valide ({} objets), rien n'a été modifié (--dry-run)",
            path.display(),
            parsed.inventory.len()
        );
        let gaps = store
            .oncall_coverage_with(&console_actor(), now_ms(), &parsed.inventory)
            .await?;
        warn_coverage(&gaps);
        return Ok(());
    }
    let report = store
        .import(&console_actor(), &parsed.inventory, now_ms())
        .await?;
    println!(
        "{} : {} créé(s), {} modifié(s), {} inchangé(s)",
        path.display(),
        report.created,
        report.updated,
        report.unchanged
    );
    warn_coverage(&store.oncall_coverage(&console_actor(), now_ms()).await?);
    Ok(())
}

/// Issue 26, item 1: the sites nobody will answer for in the coming 14 days, said before it
/// happens (on standard error: a warning, not a failure).
fn warn_coverage(gaps: &[vigie_domain::oncall::CoverageGap]) {
    let paris = calendar::Calendar::business().time_zone;
    for gap in gaps {
        eprintln!("avertissement : {}", gap.french(&paris));
    }
}

async fn user(store: &System, config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let actor = console_actor();
    match command {
        UserCommand::Add(add) => {
            let new = NewUser {
                username: add.username.trim().to_lowercase(),
                display_name: add.name,
                kind: match add.kind {
                    KindArg::Staff => UserKind::Staff,
                    KindArg::Client => UserKind::Client,
                },
                staff: reference(add.staff)?,
                client: reference(add.client)?,
                roles: add.roles.into_iter().collect::<BTreeSet<_>>(),
                password_hash: String::new(),
                must_change_password: true,
            };
            let (user, password) =
                auth::create_user_with_one_time_password(store, &actor, new, now_ms())
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))?;
            println!(
                "compte « {} » créé ; mot de passe à usage unique (affiché une seule fois, à changer à la première connexion) :\n{password}",
                user.username
            );
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            if password_stdin {
                let mut password = String::new();
                std::io::stdin().read_to_string(&mut password)?;
                let password = password.trim_end_matches(['\n', '\r']).to_string();
                auth::check_new_password(&password, config.auth.min_password_length, &username)
                    .map_err(|e| anyhow::anyhow!(e.message))?;
                let hash = auth::hash_password_blocking(password)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))?;
                store
                    .set_password(&actor, &username, &hash, false, now_ms())
                    .await
                    .map_err(not_found_user(&username))?;
                println!("mot de passe de « {username} » changé ; ses sessions sont fermées");
            } else {
                let password = auth::reset_to_one_time_password(store, &actor, &username, now_ms())
                    .await
                    .map_err(|e| anyhow::anyhow!("« {username} » : {}", e.message))?;
                println!(
                    "nouveau mot de passe à usage unique de « {username} » (ses sessions sont fermées) :\n{password}"
                );
            }
        }
        UserCommand::Token {
            username,
            name,
            scope,
            site,
            expires_in_days,
        } => {
            let scope = match scope {
                ScopeArg::Agent => TokenScope::Agent,
                ScopeArg::Probe => TokenScope::Probe,
                ScopeArg::Integration => TokenScope::Integration,
                ScopeArg::ReadOnly => TokenScope::ReadOnly,
            };
            let now = now_ms();
            let expires_ms = match expires_in_days {
                None => None,
                Some(days) if (1..=3650).contains(&days) => Some(now + days * 86_400_000),
                Some(_) => bail!("--expires-in-days doit être compris entre 1 et 3650"),
            };
            let new = NewToken {
                username: username.clone(),
                name,
                scope,
                site: reference(site)?,
                expires_ms,
            };
            let (token, secret) = auth::issue(store, &actor, &new, now)
                .await
                .map_err(not_found_user(&username))?;
            let site = token
                .site
                .as_ref()
                .map(|site| format!(", site « {site} »"))
                .unwrap_or_default();
            println!(
                "jeton « {} » ({}{site}) créé pour « {username} » ; secret (affiché une seule fois) :\n{secret}",
                token.name, token.scope
            );
        }
        UserCommand::List => {
            for user in store.list_users(&actor).await? {
                let scope = match (&user.client, user.kind) {
                    (Some(client), _) => format!("client {client}"),
                    (None, _) => "personnel".to_string(),
                };
                println!("{}\t{}\t{scope}", user.username, user.display_name);
            }
        }
    }
    Ok(())
}

fn not_found_user(username: &str) -> impl FnOnce(StoreError) -> anyhow::Error + '_ {
    move |error| match error {
        StoreError::NotFound => anyhow::anyhow!("compte « {username} » inconnu"),
        other => other.into(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    // A policy or a channel that does not read stops the start, rather than pages not sent.
    config.policy().map_err(|e| anyhow::anyhow!(e))?;
    vigie_server::delivery::Channels::from_config(&config).map_err(|e| anyhow::anyhow!(e))?;
    if config.mailbox.is_read() {
        vigie_server::mailbox::mailbox(&config.mailbox).map_err(|e| anyhow::anyhow!(e))?;
    }
    let store = open_server_store(&config).await?;
    let first_admin = if store.count_users().await? == 0 {
        let new = NewUser {
            username: "admin".into(),
            display_name: "Administrateur".into(),
            kind: UserKind::Staff,
            staff: None,
            client: None,
            roles: [StaffRole::Administrator].into(),
            password_hash: String::new(),
            must_change_password: true,
        };
        match auth::create_user_with_one_time_password(
            &store,
            &Actor::console("premier-demarrage"),
            new,
            now_ms(),
        )
        .await
        {
            Ok((_, password)) => Some(password),
            // Another server process on the same PostgreSQL database created it first.
            Err(error) if error.code == "conflict" => None,
            Err(error) => bail!("création du premier administrateur : {}", error.message),
        }
    } else {
        None
    };
    let listen = config.server.listen;
    let public_url = config.server.public_url.clone();
    let clock = virtual_clock()?.unwrap_or(Clock::System);
    let running = vigie_server::start(AppState::new(store, config, clock), listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    println!(
        "Vigie écoute sur http://{} (URL publique : {public_url})",
        running.address
    );
    if let Some(password) = first_admin {
        println!(
            "Premier administrateur créé : identifiant « admin », mot de passe à usage unique :\n{password}\n(affiché une seule fois ; il devra être changé à la première connexion)"
        );
    }
    running.handle.await.context("serveur")??;
    Ok(())
}

/// The virtual clock asked by `VIGIE_VIRTUAL_CLOCK` (its start: RFC 3339 or UTC epoch
/// milliseconds), for the replay of scenarios: no background loop runs, and only
/// `POST /api/v1/clock` moves time (`docs/simulate.md`). Never for a real service.
fn virtual_clock() -> anyhow::Result<Option<Clock>> {
    let Ok(text) = std::env::var("VIGIE_VIRTUAL_CLOCK") else {
        return Ok(None);
    };
    let start = match text.trim().parse::<i64>() {
        Ok(ms) => ms,
        Err(_) => text
            .trim()
            .parse::<jiff::Timestamp>()
            .map_err(|e| anyhow::anyhow!("VIGIE_VIRTUAL_CLOCK « {text} » : {e}"))?
            .as_millisecond(),
    };
    tracing::warn!(
        start,
        "horloge virtuelle : aucune tâche de fond ne tourne seule (rejeu de scénarios uniquement)"
    );
    Ok(Some(Clock::virtual_from(start)))
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let config = vigie_server::demo::config(args.listen, &args.data_dir)?;
    init_logging(&config);
    let store = open_server_store(&config).await?;
    let accounts = vigie_server::demo::prepare(&store, &config.data_dir, now_ms()).await?;
    let listen = config.server.listen;
    let state = AppState::new(store, config, Clock::System);
    vigie_server::demo::stage(&state, now_ms())
        .await
        .context("données de la démonstration")?;
    let running = vigie_server::start(state.clone(), listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    tokio::spawn(vigie_server::demo::stage_report(state.clone(), now_ms()));
    let simulator = tokio::spawn(vigie_server::demo::simulate(state));
    println!(
        "\n{}",
        vigie_server::demo::banner(running.address, &accounts, &args.data_dir)
    );
    let served = running.handle.await;
    simulator.abort();
    served.context("serveur")??;
    Ok(())
}
