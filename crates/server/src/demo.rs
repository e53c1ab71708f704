//! `vigie demo`: the server on its embedded store with the example fleet, two accounts with
//! known passwords, and a simulator that makes equipment fail and recover, so that a newcomer
//! sees alarms, pages (kept in the outbox, never sent: [`Config::demo`]), tickets and
//! dashboards come alive within a minute. Every observation of the simulator goes through
//! [`crate::alarms::record`], as the server's own polling does: the demo runs the real engine.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::Reading;
use vigie_domain::alarm::rules::{self, Condition};
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::inventory::{ContractOption, Inventory, SiteCriticality, StaffRole};
use vigie_domain::policy::{Policy, Severity};
use vigie_domain::supervision::{CheckName, CheckStatus, Observation, checks};
use vigie_store::{NewUser, Store, UserKind};

use crate::{AppState, Config, auth};

/// The example fleet, compiled in: the demo needs no file beside the binary.
pub const FLEET: &str = include_str!("../../../examples/fleet.toml");

/// The example fleet's inventory, or what is wrong with it (the tests make sure nothing is).
fn example_fleet() -> anyhow::Result<Inventory> {
    InventoryFile::parse(FLEET)
        .map(|parsed| parsed.inventory)
        .map_err(|errors| {
            anyhow::anyhow!(
                "flotte d'exemple illisible : {}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ; ")
            )
        })
}

/// The policy overlay the demo lays over the default (written into the data directory, read
/// like any `policy` file). The default holds a condition 5 minutes before raising its alarm
/// (ALR-1) and 2 minutes before clearing it: a newcomer would wait minutes for anything to
/// happen. Only the holds change; thresholds, severities and escalation chains are the
/// default's.
pub const POLICY_OVERLAY: &str =
    "# Surcouche de politique de la démonstration (vigie demo), réécrite à chaque démarrage :
# les alarmes se lèvent 20 secondes après la panne, au lieu de 5 minutes (ALR-1), et se
# résolvent 30 secondes après le retour, au lieu de 2 minutes. Le reste est la politique par
# défaut.
[alarm]
raise_after = \"20s\"
clear_after = \"30s\"
";

/// The overlay's file name in the data directory.
pub const POLICY_FILE: &str = "demo-policy.toml";
/// The accounts' passwords, in the data directory (mode 0600), so that a second start on the
/// same data prints the same passwords without storing them in the database in clear.
pub const ACCOUNTS_FILE: &str = "demo-accounts.txt";
/// The staff account: a supervision operator of the fleet's staff.
pub const SUPERVISOR: &str = "supervision";
/// The client account: a user of a client whose contract has the dashboard (DSH-1).
pub const CLIENT: &str = "client";
/// Who the demo's own writes are, in the audit trail and on the observations.
const ACTOR: &str = "demonstration";

/// An account the demo made, and its password (printed at start).
#[derive(Clone)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    /// What the account is, in French, for the start message.
    pub description: String,
}

impl fmt::Debug for DemoAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoAccount")
            .field("username", &self.username)
            .field("password", &"***")
            .field("description", &self.description)
            .finish()
    }
}

/// The two accounts of the demo.
#[derive(Debug, Clone)]
pub struct DemoAccounts {
    pub supervisor: DemoAccount,
    pub client: DemoAccount,
}

/// What the demo prints once it listens, framed so that it stands out after the start-up
/// log: where to open it, what it is, and the accounts to log in with.
pub fn banner(address: std::net::SocketAddr, accounts: &DemoAccounts, data_dir: &Path) -> String {
    let mut lines = vec![
        format!("Vigie (démonstration) : http://{address}"),
        String::new(),
    ];
    for account in [&accounts.supervisor, &accounts.client] {
        lines.push(format!("{} :", account.description));
        lines.push(format!("  identifiant   {}", account.username));
        lines.push(format!("  mot de passe  {}", account.password));
    }
    lines.push(String::new());
    lines.push("Flotte d'exemple fictive, pannes simulées. Aucune notification n'est".into());
    lines.push("envoyée : chacune reste dans la boîte d'envoi (/console/envois).".into());
    lines.push(format!(
        "Données : {} (comptes : {})",
        data_dir.display(),
        ACCOUNTS_FILE
    ));
    if !address.ip().is_loopback() {
        lines.push(format!(
            "Attention : joignable depuis d'autres machines ({address}), avec ces comptes."
        ));
    }
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut framed = format!("┌{}┐\n", "─".repeat(width + 2));
    for line in &lines {
        let pad = width - line.chars().count();
        framed.push_str(&format!("│ {line}{} │\n", " ".repeat(pad)));
    }
    framed.push_str(&format!("└{}┘", "─".repeat(width + 2)));
    framed
}

/// The demo's configuration: the defaults (no file, no environment: a developer's
/// `VIGIE_SMTP__…` must not reach the demo), `demo` on, the embedded SQLite store in
/// `data_dir`, no polling (the example fleet's addresses are fictitious), no trap listener,
/// and the demo's policy overlay, written into `data_dir`.
pub fn config(listen: SocketAddr, data_dir: &Path) -> anyhow::Result<Config> {
    vigie_store::create_private_directory(data_dir)
        .with_context(|| format!("création du répertoire {}", data_dir.display()))?;
    let policy = data_dir.join(POLICY_FILE);
    std::fs::write(&policy, POLICY_OVERLAY)
        .with_context(|| format!("écriture de {}", policy.display()))?;
    let mut config = Config {
        demo: true,
        data_dir: data_dir.to_path_buf(),
        policy: policy.display().to_string(),
        ..Config::default()
    };
    config.database.url.0.clear();
    config.server.listen = listen;
    config.server.public_url = format!("http://{listen}");
    config.supervision.poll = false;
    config.supervision.trap_listen.clear();
    config.mailbox.host.clear();
    // The demo's fleet has no past month to report on; `vigie report` makes one on demand.
    config.reports.monthly = false;
    config.policy().map_err(anyhow::Error::msg)?;
    Ok(config)
}

/// Imports the example fleet (the same path as `vigie import`: parsed, checked, applied in one
/// transaction; a second start finds it unchanged, and puts back an example object edited
/// meanwhile: the demo restarts from the example) and makes sure the two demo accounts exist
/// with the passwords of `<data_dir>/demo-accounts.txt` (drawn at the first start), usable at
/// once: a demo does not ask for a new password at the first login.
pub async fn prepare(store: &Store, data_dir: &Path, now_ms: i64) -> anyhow::Result<DemoAccounts> {
    let actor = Actor::console(ACTOR);
    let inventory = example_fleet()?;
    let report = store
        .import(&actor, &inventory, now_ms)
        .await
        .context("import de la flotte d'exemple")?;
    tracing::info!(
        created = report.created,
        updated = report.updated,
        unchanged = report.unchanged,
        "flotte d'exemple importée"
    );
    let (staff, staff_name) = supervisor_of(&inventory)?;
    let (client, client_name, dashboard) = client_of(&inventory)?;
    if !dashboard {
        tracing::warn!(%client, "aucun contrat de la flotte d'exemple n'a l'option tableau de bord (DSH-1)");
    }
    let path = data_dir.join(ACCOUNTS_FILE);
    let known = read_accounts(&path)?;
    let supervisor = ensure_account(
        store,
        &actor,
        NewUser {
            username: SUPERVISOR.into(),
            display_name: staff_name.clone(),
            kind: UserKind::Staff,
            staff: Some(staff.clone()),
            client: None,
            roles: [StaffRole::Supervision].into(),
            password_hash: String::new(),
            must_change_password: false,
        },
        known.get(SUPERVISOR).map(String::as_str),
        now_ms,
    )
    .await?;
    let client_password = ensure_account(
        store,
        &actor,
        NewUser {
            username: CLIENT.into(),
            display_name: format!("Utilisateur {client_name}"),
            kind: UserKind::Client,
            staff: None,
            client: Some(client.clone()),
            roles: BTreeSet::new(),
            password_hash: String::new(),
            must_change_password: false,
        },
        known.get(CLIENT).map(String::as_str),
        now_ms,
    )
    .await?;
    write_accounts(
        &path,
        &[(SUPERVISOR, &supervisor), (CLIENT, &client_password)],
    )?;
    Ok(DemoAccounts {
        supervisor: DemoAccount {
            username: SUPERVISOR.into(),
            password: supervisor,
            description: format!("personnel, équipe de supervision : {staff_name} ({staff})"),
        },
        client: DemoAccount {
            username: CLIENT.into(),
            password: client_password,
            description: format!(
                "utilisateur client de {client_name} ({client}){}",
                if dashboard {
                    ", avec le tableau de bord"
                } else {
                    ""
                }
            ),
        },
    })
}

/// What the demo's resolved P1 incident says: found again at a second start, so that it is
/// staged once.
const STAGED_INCIDENT: &str =
    "Démonstration : l'hyperviseur vidéo du siège s'est arrêté, plus aucune image";
/// How long ago the staged incident was reported.
const STAGED_AGO_MS: i64 = 3 * 24 * 3_600_000;

/// Fills the menus a newcomer opens first (issue 25, item 14), before the server listens: the
/// technicians' on-call rotation, and a P1 incident three days old, taken in charge, resolved
/// and its post-mortem (INC-6) written and shared with the client. What already exists is
/// left as it is. The month's supervision report is made once the server listens
/// ([`stage_report`]): rendering it takes a few seconds.
pub async fn stage(state: &AppState, now_ms: i64) -> anyhow::Result<()> {
    let actor = Actor::console(ACTOR);
    let inventory = example_fleet()?;
    let (supervisor, _) = supervisor_of(&inventory)?;
    if state.store.rotations(&actor).await?.is_empty() {
        let mut technicians: Vec<&Reference> = inventory
            .staff
            .iter()
            .filter(|s| s.roles.contains(&StaffRole::Technician))
            .map(|s| &s.reference)
            .collect();
        technicians.sort();
        if !technicians.is_empty() {
            let rotation: vigie_domain::oncall::Rotation =
                serde_json::from_value(serde_json::json!({
                    "name": "ASTREINTE-TECHNICIENS",
                    "duty": "technician",
                    "time_zone": "Europe/Paris",
                    "members": technicians,
                    "handoff": {"every": "week", "day": "monday", "at": "08:00"},
                    "start": "2026-01-05"
                }))
                .context("roulement de la démonstration")?;
            state.store.put_rotation(&actor, &rotation, now_ms).await?;
        }
    }
    let (client, _, _) = client_of(&inventory)?;
    let known = state
        .store
        .tickets(
            &actor,
            &vigie_store::TicketFilter {
                client: Some(client.clone()),
                limit: Some(vigie_store::MAX_TICKET_PAGE),
                ..vigie_store::TicketFilter::default()
            },
        )
        .await?;
    if known.iter().any(|t| t.report.symptom == STAGED_INCIDENT) {
        return Ok(());
    }
    let site = inventory
        .sites
        .iter()
        .filter(|s| s.client == client)
        .map(|s| s.reference.clone())
        .min();
    let policy = &state.escalation().policy;
    let reported = now_ms - STAGED_AGO_MS;
    let report: vigie_domain::ticket::desk::Report = serde_json::from_value(serde_json::json!({
        "client": client, "site": site, "kind": "incident", "source": "phone",
        "symptom": STAGED_INCIDENT, "stated_criticality": "critical",
        "reporter": "Responsable sécurité du client, par téléphone"
    }))?;
    let opened = state
        .store
        .open_ticket(
            &actor,
            policy,
            report,
            None,
            Some(supervisor.clone()),
            reported,
        )
        .await
        .context("incident de la démonstration")?;
    let number = opened.ticket.number;
    let minute = 60_000;
    let steps: Vec<(i64, vigie_store::TicketStep)> = vec![
        (
            reported + 10 * minute,
            vigie_store::TicketStep::Act(vigie_domain::ticket::Action::TakeCharge),
        ),
        (
            reported + 150 * minute,
            vigie_store::TicketStep::Resolve(serde_json::from_value(serde_json::json!({
                "root_cause": "Alimentation de l'hyperviseur défaillante après une coupure électrique",
                "actions": "Alimentation remplacée, hyperviseur redémarré, enregistrements vérifiés",
                "intervention_minutes": 120,
                "data_impact": {"footage_lost": true, "description": "2 h 20 d'images des caméras du siège non enregistrées"},
                "parts_replaced": ["Alimentation redondante 800 W"],
                "recommendations": "Superviser les alimentations des serveurs de sécurité"
            }))?),
        ),
        (
            reported + 26 * 60 * minute,
            vigie_store::TicketStep::WritePostMortem(serde_json::from_value(serde_json::json!({
                "analysis": "Une coupure électrique a endommagé l'alimentation de l'hyperviseur ; la seconde alimentation n'était pas branchée, et rien ne supervisait l'état des alimentations.",
                "measures": [
                    {"kind": "corrective", "action": "Brancher la seconde alimentation sur l'onduleur", "owner": "Équipe technique", "due": now_ms + 7 * 24 * 60 * minute},
                    {"kind": "preventive", "action": "Superviser les alimentations des serveurs de sécurité", "owner": "Équipe de supervision", "due": now_ms + 30 * 24 * 60 * minute}
                ]
            }))?),
        ),
        (
            reported + 27 * 60 * minute,
            vigie_store::TicketStep::PublishPostMortem,
        ),
    ];
    for (at, step) in steps {
        state
            .store
            .ticket_step(&actor, policy, number, step, &supervisor, at)
            .await
            .context("incident de la démonstration")?;
    }
    Ok(())
}

/// Makes and files the demo client's supervision report of the month so far, once (a second
/// start finds it filed), so that the portal's and the console's documents are not empty. Not
/// mailed: the demo sends nothing.
pub async fn stage_report(state: AppState, now_ms: i64) {
    let made = async {
        let (client, _, _) = client_of(&example_fleet()?)?;
        let month =
            vigie_domain::report::period::Month::containing(now_ms, &crate::reports::paris())
                .context("mois de la démonstration")?;
        let made = crate::reports::make(
            &state,
            crate::reports::Kind::Supervision,
            Some(&client),
            None,
            crate::reports::Covered::Month(month),
            now_ms,
        )
        .await?;
        let rendered = crate::reports::render(&made).await?;
        crate::reports::file(&state, &made, &rendered, false, false, now_ms).await
    }
    .await;
    if let Err(error) = made {
        tracing::warn!(error = format!("{error:#}"), "rapport de la démonstration");
    }
}

/// The staff record the supervisor account stands for: the first supervision operator of the
/// fleet (any staff can handle alarms and tickets; this one also edits the inventory).
fn supervisor_of(inventory: &Inventory) -> anyhow::Result<(Reference, String)> {
    let mut staff: Vec<_> = inventory.staff.iter().collect();
    staff.sort_by(|a, b| a.reference.cmp(&b.reference));
    let chosen = staff
        .iter()
        .find(|s| s.roles.contains(&StaffRole::Supervision))
        .or(staff.first())
        .context("la flotte d'exemple n'a aucun membre du personnel")?;
    Ok((chosen.reference.clone(), chosen.name.to_string()))
}

/// The client the client account belongs to: the first whose contract has the dashboard
/// (DSH-1), else the first client; and whether it has the dashboard.
fn client_of(inventory: &Inventory) -> anyhow::Result<(Reference, String, bool)> {
    let with_dashboard: BTreeSet<&Reference> = inventory
        .contracts
        .iter()
        .filter(|c| c.options.contains(&ContractOption::Dashboard))
        .map(|c| &c.client)
        .collect();
    let chosen = inventory
        .clients
        .iter()
        .find(|c| with_dashboard.contains(&c.reference))
        .or(inventory.clients.first())
        .context("la flotte d'exemple n'a aucun client")?;
    Ok((
        chosen.reference.clone(),
        chosen.name.to_string(),
        with_dashboard.contains(&chosen.reference),
    ))
}

/// The longest accounts file read: two short lines and a comment.
const MAX_ACCOUNTS_FILE_BYTES: u64 = 4096;

/// The passwords of the accounts file, by username (none if there is no file yet).
fn read_accounts(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let size = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(error).with_context(|| format!("lecture de {}", path.display())),
    };
    if size > MAX_ACCOUNTS_FILE_BYTES {
        bail!(
            "{} : {MAX_ACCOUNTS_FILE_BYTES} octets au plus (supprimez-le : de nouveaux mots de passe seront tirés)",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("lecture de {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(' '))
        .map(|(user, password)| (user.to_owned(), password.trim().to_owned()))
        .filter(|(_, password)| !password.is_empty())
        .collect())
}

/// Writes the accounts file, readable by its owner only: it holds passwords in clear. Written
/// beside and renamed, so that a crash leaves the old file or the new one.
fn write_accounts(path: &Path, accounts: &[(&str, &String)]) -> anyhow::Result<()> {
    let mut text = String::from(
        "# Comptes de la démonstration Vigie (vigie demo) : identifiant, puis mot de passe.\n\
         # Supprimez ce fichier pour en tirer de nouveaux au prochain démarrage.\n",
    );
    for (user, password) in accounts {
        text.push_str(&format!("{user} {password}\n"));
    }
    let fresh = path.with_extension("txt.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = |fresh: &PathBuf| -> std::io::Result<()> {
        let mut file = options.open(fresh)?;
        #[cfg(unix)]
        {
            // The mode above applies only to a file created now, not to a leftover.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    };
    write(&fresh)
        .and_then(|()| std::fs::rename(&fresh, path))
        .with_context(|| format!("écriture de {}", path.display()))
}

/// Makes sure account `new` exists and opens with `known` (the file's password) without a
/// change of password; returns its password. A missing account is created; one whose password
/// is not the file's (or that must change it) is given a fresh one.
async fn ensure_account(
    store: &Store,
    actor: &Actor,
    mut new: NewUser,
    known: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<String> {
    let username = new.username.clone();
    let existing = store
        .user_for_login(&username)
        .await
        .with_context(|| format!("lecture du compte « {username} »"))?;
    if let (Some((user, hash)), Some(password)) = (&existing, known)
        && !user.must_change_password
        && auth::verify_password_blocking(password.to_owned(), hash.clone())
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?
    {
        return Ok(password.to_owned());
    }
    let password = match (&existing, known) {
        (None, Some(password)) => password.to_owned(),
        _ => auth::generate_password(),
    };
    let hash = auth::hash_password_blocking(password.clone())
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    match existing {
        Some(_) => store
            .set_password(actor, &username, &hash, false, now_ms)
            .await
            .with_context(|| format!("mot de passe du compte « {username} »"))?,
        None => {
            new.password_hash = hash;
            store
                .create_user(actor, new, now_ms)
                .await
                .with_context(|| format!("création du compte « {username} »"))?;
        }
    }
    Ok(password)
}

/// At most this many equipment down at once: enough to fill the screens, few enough that
/// the fleet stays mostly up and each alarm can be followed.
const MAX_DOWN: usize = 8;
/// A new fault every 5 to 10 seconds (while fewer than [`MAX_DOWN`] are down).
const FAULT_EVERY_MS: (i64, i64) = (5_000, 10_000);
/// The first fault, soon after the start, so that the first alarm is raised within the
/// policy overlay's 20 s hold of the start plus a few seconds.
const FIRST_FAULT_MS: (i64, i64) = (2_000, 5_000);
/// A fault lasts 30 to 120 seconds: longer than the overlay's hold, so each raises its alarm.
const FAULT_LASTS_MS: (i64, i64) = (30_000, 120_000);
/// How often the simulator looks at its schedule.
const TICK: Duration = Duration::from_secs(1);
/// The most equipment simulated: the example fleet has a few hundred.
const MAX_FLEET: usize = 10_000;
/// Observations per call to the recorder (the store takes up to 10,000 per push).
const RECORD_CHUNK: usize = 1_000;

/// An equipment the simulator can fail: its reachability check, the one whose loss raises
/// "unreachable" (an equipment down is one alarm), and how grave that loss is.
#[derive(Debug, Clone)]
struct Simulated {
    equipment: Reference,
    check: CheckName,
    severity: Option<Severity>,
    /// On a site where an alarm is notified at once: critical (no offline camera tolerated,
    /// ALR-8) and without maintenance windows (ALR-9).
    notified_at_once: bool,
}

/// The fleet as the simulator sees it, and how often healthy equipment is seen up again.
#[derive(Debug, Default)]
struct Fleet {
    equipment: Vec<Simulated>,
    refresh_ms: i64,
}

impl Fleet {
    async fn read(state: &AppState) -> Result<Fleet, vigie_store::StoreError> {
        let inventory = state.store.export(&Actor::console(ACTOR)).await?;
        let policy: &Policy = &state.escalation().policy;
        let at_once: BTreeSet<&Reference> = inventory
            .sites
            .iter()
            .filter(|s| {
                s.criticality == SiteCriticality::Critical && s.maintenance_windows.is_empty()
            })
            .map(|s| &s.reference)
            .collect();
        // Heartbeats and agents are expected again within 1.5 intervals (the watchdog declares
        // the silent ones down): healthy equipment is seen up three times per shortest interval.
        let mut shortest_ms: i64 = 60_000;
        let mut equipment = Vec::new();
        for item in inventory.equipment.iter().take(MAX_FLEET) {
            let Some(check) = rules::reachability_check(item) else {
                continue;
            };
            let Ok(check) = CheckName::parse(check) else {
                continue;
            };
            let interval = match check.as_str() {
                checks::HEARTBEAT => item.checks.heartbeat.as_ref().map(|h| h.interval),
                checks::AGENT => item.checks.interval,
                _ => None,
            };
            if let Some(interval) = interval {
                let ms = i64::try_from(interval.seconds())
                    .unwrap_or(i64::MAX / 1000)
                    .saturating_mul(1000);
                shortest_ms = shortest_ms.min(ms);
            }
            let down = Observation {
                equipment: item.reference.clone(),
                check: check.clone(),
                at: 0,
                status: Some(CheckStatus::Down),
                detail: None,
                samples: Vec::new(),
                facts: BTreeMap::new(),
            };
            let severity = rules::readings(policy, item, &down, &|_| false)
                .into_iter()
                .find_map(|(key, reading)| match reading {
                    Reading::Present(severity) if key.condition == Condition::Unreachable => {
                        Some(severity)
                    }
                    _ => None,
                });
            equipment.push(Simulated {
                equipment: item.reference.clone(),
                check,
                severity,
                notified_at_once: at_once.contains(&item.site),
            });
        }
        Ok(Fleet {
            equipment,
            refresh_ms: (shortest_ms / 3).clamp(5_000, 30_000),
        })
    }
}

/// A small deterministic generator (xorshift64): the demo needs variety, not secrecy, and no
/// crate for it.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn seeded(seed: i64) -> XorShift {
        // Never zero: xorshift stays at zero forever.
        XorShift((seed.unsigned_abs() ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform enough in `[low, high]`.
    fn between(&mut self, (low, high): (i64, i64)) -> i64 {
        let span = u64::try_from(high.saturating_sub(low)).unwrap_or(0) + 1;
        low.saturating_add(i64::try_from(self.next() % span).unwrap_or(0))
    }

    /// One of `items`, if any.
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        let count = u64::try_from(items.len()).ok().filter(|n| *n > 0)?;
        let index = usize::try_from(self.next() % count).ok()?;
        items.get(index).copied()
    }
}

/// What the simulator has done so far.
#[derive(Debug, Default)]
struct Faults {
    /// Index in the fleet → when it comes back (UTC ms).
    down: BTreeMap<usize, i64>,
    /// Faults made since the start.
    made: u64,
}

impl Faults {
    /// The next equipment to fail. The first fault is Critical and the second Major, each on a
    /// site where it is notified at once, so that a page and a ticket (the Major chain opens a
    /// maintenance ticket, NOT-5) come within the first minute; then any equipment.
    fn choose(&self, fleet: &Fleet, random: &mut XorShift) -> Option<usize> {
        let healthy = |wanted: &dyn Fn(&Simulated) -> bool| -> Vec<usize> {
            fleet
                .equipment
                .iter()
                .enumerate()
                .filter(|(index, item)| !self.down.contains_key(index) && wanted(item))
                .map(|(index, _)| index)
                .collect()
        };
        let first = |severity: Severity| {
            move |item: &Simulated| item.notified_at_once && item.severity == Some(severity)
        };
        let preferred = match self.made {
            0 => healthy(&first(Severity::Critical)),
            1 => healthy(&first(Severity::Major)),
            _ => Vec::new(),
        };
        random
            .pick(&preferred)
            .or_else(|| random.pick(&healthy(&|_| true)))
    }
}

fn observation(item: &Simulated, status: CheckStatus, at: i64) -> Observation {
    Observation {
        equipment: item.equipment.clone(),
        check: item.check.clone(),
        at,
        status: Some(status),
        detail: (status == CheckStatus::Down).then(|| "panne simulée (démonstration)".to_owned()),
        samples: Vec::new(),
        facts: BTreeMap::new(),
    }
}

/// Records through the server's one entry point, in bounded batches.
async fn record(state: &AppState, actor: &Actor, observations: Vec<Observation>, now_ms: i64) {
    let mut rest = observations;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(RECORD_CHUNK));
        if let Err(error) = crate::alarms::record(state, actor, None, rest, now_ms).await {
            tracing::warn!(%error, "démonstration : observations non enregistrées");
        }
        rest = tail;
    }
}

/// The demo's simulator, until its task is dropped: every equipment seen up at once (the
/// dashboards show states from the first second) and again regularly (heartbeats and agents
/// are expected), a new fault every 5 to 10 seconds on a random equipment — its reachability
/// check down — while fewer than [`MAX_DOWN`] are down, each back up after 30 to 120 seconds.
pub async fn simulate(state: AppState) {
    let actor = Actor::console(ACTOR);
    let fleet = loop {
        match Fleet::read(&state).await {
            Ok(fleet) => break fleet,
            Err(error) => {
                tracing::warn!(%error, "démonstration : lecture de la flotte ; nouvel essai dans 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    };
    if fleet.equipment.is_empty() {
        tracing::warn!("démonstration : aucun équipement à simuler");
        return;
    }
    let start = state.clock.now_ms();
    let mut random = XorShift::seeded(start);
    let mut faults = Faults::default();
    let mut next_fault = start.saturating_add(random.between(FIRST_FAULT_MS));
    let mut next_refresh = start;
    tracing::info!(
        equipment = fleet.equipment.len(),
        refresh_ms = fleet.refresh_ms,
        "démonstration : simulateur de pannes démarré"
    );
    loop {
        let now = state.clock.now_ms();
        let mut observations = Vec::new();
        if now >= next_refresh {
            next_refresh = now.saturating_add(fleet.refresh_ms);
            observations.extend(
                fleet
                    .equipment
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| !faults.down.contains_key(index))
                    .map(|(_, item)| observation(item, CheckStatus::Up, now)),
            );
        }
        let back: Vec<usize> = faults
            .down
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(index, _)| *index)
            .collect();
        for index in back {
            faults.down.remove(&index);
            if let Some(item) = fleet.equipment.get(index) {
                tracing::info!(equipment = %item.equipment, "démonstration : retour de l'équipement");
                observations.push(observation(item, CheckStatus::Up, now));
            }
        }
        if now >= next_fault {
            next_fault = now.saturating_add(random.between(FAULT_EVERY_MS));
            if faults.down.len() < MAX_DOWN
                && let Some(index) = faults.choose(&fleet, &mut random)
                && let Some(item) = fleet.equipment.get(index)
            {
                let until = now.saturating_add(random.between(FAULT_LASTS_MS));
                faults.down.insert(index, until);
                faults.made += 1;
                tracing::info!(equipment = %item.equipment, severity = ?item.severity, back_in_s = (until - now) / 1000, "démonstration : panne simulée");
                // A refresh of this same tick said "up": the fault comes after it.
                observations.retain(|o| o.equipment != item.equipment);
                observations.push(observation(item, CheckStatus::Down, now));
            }
        }
        if !observations.is_empty() {
            record(&state, &actor, observations, now).await;
        }
        tokio::time::sleep(TICK).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_fleet_has_the_demo_accounts_people() {
        let inventory = InventoryFile::parse(FLEET).unwrap().inventory;
        let (staff, _) = supervisor_of(&inventory).unwrap();
        assert_eq!(staff.as_str(), "ST-SUPERVISION-1");
        // DSH-1: the client account sees a dashboard.
        let (client, _, dashboard) = client_of(&inventory).unwrap();
        assert_eq!((client.as_str(), dashboard), ("CLI-BNF", true));
    }

    #[test]
    fn the_overlay_shortens_the_holds_only() {
        let overlay: toml::Table = toml::from_str(POLICY_OVERLAY).unwrap();
        let policy = Policy::default_policy().with_overlay(&overlay).unwrap();
        let timing = policy.alarm_timing();
        assert_eq!(
            (timing.raise_after_ms, timing.clear_after_ms),
            (20_000, 30_000)
        );
        assert_eq!(overlay.keys().collect::<Vec<_>>(), ["alarm"]);
        // A fault lasts longer than the hold: each raises its alarm.
        assert!(FAULT_LASTS_MS.0 > timing.raise_after_ms);
    }

    #[test]
    fn the_generator_stays_in_its_bounds() {
        let mut random = XorShift::seeded(0);
        for _ in 0..1000 {
            let value = random.between(FAULT_LASTS_MS);
            assert!((FAULT_LASTS_MS.0..=FAULT_LASTS_MS.1).contains(&value));
        }
        assert_eq!(random.pick::<u8>(&[]), None);
        assert_eq!(random.pick(&[7]), Some(7));
    }
}
