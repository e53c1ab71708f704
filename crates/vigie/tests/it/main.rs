//! The `vigie` binary as a person uses it: first start, import, export, users, configuration.
//! Each test runs the built binary with its own data directory (SQLite) or, with
//! `VIGIE_TEST_DATABASE=postgres`, its own PostgreSQL database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vigie_store::testing::{TestDatabase, backend_from_env};

mod demo;
mod escalation;
mod metrics;
mod polling;
mod replay;
mod storage;

const BINARY: &str = env!("CARGO_BIN_EXE_vigie");

fn fleet_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/fleet.toml"
    ))
}

/// A data directory and database for one test.
struct Sandbox {
    directory: PathBuf,
    database: Option<TestDatabase>,
}

impl Sandbox {
    async fn new() -> Sandbox {
        let database = TestDatabase::create(backend_from_env()).await;
        let directory = std::env::temp_dir().join(format!(
            "vigie-cli-{}-{}",
            std::process::id(),
            database.url.len() + rand_suffix()
        ));
        std::fs::create_dir_all(&directory).unwrap();
        Sandbox {
            directory,
            database: Some(database),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .env("VIGIE_DATA_DIR", &self.directory)
            // The example fleet's addresses are not on this machine: no polling them.
            .env("VIGIE_SUPERVISION__POLL", "false")
            // Monthly reports are made by the tests that ask for them.
            .env("VIGIE_REPORTS__MONTHLY", "false")
            .env_remove("VIGIE_CONFIG")
            .current_dir(&self.directory);
        let database = self.database.as_ref().unwrap();
        if database.backend == vigie_store::Backend::Postgres {
            command.env("VIGIE_DATABASE__URL", &database.url);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Creates the staff account `robot` (supervision) and returns an agent token of it.
    fn agent_token(&self) -> String {
        let added = self.run(&[
            "user",
            "add",
            "robot",
            "--name",
            "Robot",
            "--kind",
            "staff",
            "--role",
            "supervision",
        ]);
        assert!(added.status.success(), "{}", stderr(&added));
        let token = self.run(&[
            "user", "token", "robot", "--name", "agent", "--scope", "agent",
        ]);
        stdout(&token).lines().last().unwrap().to_string()
    }

    async fn finish(mut self) {
        if let Some(database) = self.database.take() {
            database.drop_database().await;
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn rand_suffix() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst) * 1000
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_micros() as usize
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn import_is_idempotent_and_a_broken_file_changes_nothing() {
    let sandbox = Sandbox::new().await;
    let fleet = fleet_path();
    let first = sandbox.run(&["import", fleet.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("0 modifié(s), 0 inchangé(s)"),
        "{}",
        stdout(&first)
    );

    let again = sandbox.run(&["import", fleet.to_str().unwrap()]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains(" 0 créé(s), 0 modifié(s)"),
        "re-import is a no-op: {}",
        stdout(&again)
    );

    let exported = sandbox.run(&["export"]);
    assert!(exported.status.success());
    let before = stdout(&exported);

    // Four kinds of mistake in one file: each named with its line, nothing imported.
    let text = std::fs::read_to_string(&fleet).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let camera = lines.iter().position(|l| l == "kind = \"camera\"").unwrap();
    lines.insert(camera + 1, "zoom = 3".into());
    let parent = lines
        .iter()
        .position(|l| l.starts_with("parent = "))
        .unwrap();
    lines[parent] = "parent = \"EQUIPEMENT-FANTOME\"".into();
    let phone = lines
        .iter()
        .position(|l| l.starts_with("phone = "))
        .unwrap();
    lines[phone] = "phone = \"06 12\"".into();
    // The second client takes the first one's reference.
    let client_headers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == "[[client]]")
        .map(|(i, _)| i)
        .collect();
    let ref_after = |start: usize| {
        (start + 1..lines.len())
            .find(|i| lines[*i].starts_with("ref = "))
            .unwrap()
    };
    let second_ref = ref_after(client_headers[1]);
    lines[second_ref] = lines[ref_after(client_headers[0])].clone();
    let broken_path = sandbox.directory.join("casse.toml");
    std::fs::write(&broken_path, lines.join("\n")).unwrap();

    let refused = sandbox.run(&["import", broken_path.to_str().unwrap()]);
    assert!(!refused.status.success());
    let errors = stderr(&refused);
    // `zoom` is a field error: the file is refused before references are even checked.
    assert!(
        errors.contains(&format!("casse.toml:ligne {} : ", camera + 2))
            && errors.contains("champ inconnu « zoom »"),
        "{errors}"
    );
    assert!(
        errors.contains(&format!("casse.toml:ligne {} : ", phone + 1))
            && errors.contains("numéro de téléphone invalide"),
        "{errors}"
    );
    assert!(errors.contains("rien n'a été importé"), "{errors}");

    // Without the field errors, the reference errors are all named with their lines.
    lines.remove(camera + 1);
    let phone = lines.iter().position(|l| l == "phone = \"06 12\"").unwrap();
    lines[phone] = "phone = \"+33600000000\"".into();
    std::fs::write(&broken_path, lines.join("\n")).unwrap();
    let refused = sandbox.run(&["import", broken_path.to_str().unwrap()]);
    assert!(!refused.status.success());
    let errors = stderr(&refused);
    assert!(
        errors.contains(&format!("casse.toml:ligne {} : ", parent + 1))
            && errors.contains("EQUIPEMENT-FANTOME"),
        "{errors}"
    );
    assert!(
        errors.contains(&format!("casse.toml:ligne {} : ", second_ref + 1))
            && errors.contains("référence en double"),
        "{errors}"
    );

    let after = sandbox.run(&["export"]);
    assert_eq!(stdout(&after), before, "a refused import changed something");

    // An export imports back as a no-op.
    let exported_path = sandbox.directory.join("export.toml");
    std::fs::write(&exported_path, &before).unwrap();
    let round_trip = sandbox.run(&["import", exported_path.to_str().unwrap()]);
    assert!(
        stdout(&round_trip).contains(" 0 créé(s), 0 modifié(s)"),
        "{}",
        stdout(&round_trip)
    );
    sandbox.finish().await;
}

#[tokio::test]
async fn users_and_tokens_from_the_command_line() {
    let sandbox = Sandbox::new().await;
    sandbox.run(&["import", fleet_path().to_str().unwrap()]);
    let added = sandbox.run(&[
        "user",
        "add",
        "j.martin",
        "--name",
        "Julie Martin",
        "--kind",
        "staff",
        "--role",
        "supervision",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let password = stdout(&added).lines().last().unwrap().to_string();
    assert_eq!(password.len(), 20);

    // Roles are the domain's, spelt with hyphens or as the inventory does; another is named.
    let manager = sandbox.run(&[
        "user",
        "add",
        "p.durand",
        "--name",
        "Paul Durand",
        "--kind",
        "staff",
        "--role",
        "on-call-manager",
        "--role",
        "technical_manager",
    ]);
    assert!(manager.status.success(), "{}", stderr(&manager));
    let unknown = sandbox.run(&[
        "user", "add", "x", "--name", "X", "--kind", "staff", "--role", "chef",
    ]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("rôle inconnu « chef »"),
        "{}",
        stderr(&unknown)
    );

    let client = sandbox.run(&["user", "add", "rs", "--name", "RS", "--kind", "client"]);
    assert!(!client.status.success());
    assert!(
        stderr(&client).contains("exactement un client"),
        "{}",
        stderr(&client)
    );

    let token = sandbox.run(&[
        "user",
        "token",
        "j.martin",
        "--name",
        "agent NVR",
        "--scope",
        "agent",
    ]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert!(stdout(&token).lines().last().unwrap().starts_with("vgt_"));
    // A probe token is bound to its site: without one, a clear refusal.
    let unbound = sandbox.run(&[
        "user", "token", "j.martin", "--name", "sonde", "--scope", "probe",
    ]);
    assert!(!unbound.status.success());
    assert!(
        stderr(&unbound).contains("indiquez le site de la sonde"),
        "{}",
        stderr(&unbound)
    );
    let probe = sandbox.run(&[
        "user",
        "token",
        "j.martin",
        "--name",
        "sonde opéra",
        "--scope",
        "probe",
        "--site",
        "BNF-PAR-OPERA",
    ]);
    assert!(probe.status.success(), "{}", stderr(&probe));
    assert!(
        stdout(&probe).contains("site « BNF-PAR-OPERA »"),
        "{}",
        stdout(&probe)
    );
    let unknown = sandbox.run(&[
        "user",
        "token",
        "personne",
        "--name",
        "x",
        "--scope",
        "read-only",
    ]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("« personne » inconnu"),
        "{}",
        stderr(&unknown)
    );

    let mut passwd = sandbox
        .command(&["user", "passwd", "j.martin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    passwd
        .stdin
        .take()
        .unwrap()
        .write_all(b"un mot de passe solide\n")
        .unwrap();
    assert!(passwd.wait_with_output().unwrap().status.success());

    let listed = sandbox.run(&["user", "list"]);
    assert!(stdout(&listed).contains("j.martin\tJulie Martin\tpersonnel"));
    sandbox.finish().await;
}

#[tokio::test]
async fn the_first_start_prints_the_url_and_a_one_time_administrator_password() {
    let sandbox = Sandbox::new().await;
    let mut server = sandbox
        .command(&["serve"])
        .env("VIGIE_SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let url_line = lines.next().unwrap().unwrap();
    assert!(
        url_line.starts_with("Vigie écoute sur http://127.0.0.1:"),
        "{url_line}"
    );
    let url = url_line.split_whitespace().nth(3).unwrap().to_string();
    assert!(
        lines
            .next()
            .unwrap()
            .unwrap()
            .contains("identifiant « admin »")
    );
    let password = lines.next().unwrap().unwrap();

    let http = reqwest::Client::new();
    let login = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let body: serde_json::Value = login.json().await.unwrap();
    assert_eq!(body["must_change_password"], true);
    server.kill().unwrap();
    server.wait().unwrap();

    // A second start creates no second administrator and prints no password.
    let mut again = sandbox
        .command(&["serve"])
        .env("VIGIE_SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(again.stdout.take().unwrap()).lines();
    assert!(
        lines
            .next()
            .unwrap()
            .unwrap()
            .starts_with("Vigie écoute sur")
    );
    again.kill().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.is_empty(), "{rest:?}");
    again.wait().unwrap();
    if backend_from_env() == vigie_store::Backend::Sqlite {
        assert!(
            sandbox.directory.join("vigie.sqlite").exists(),
            "the embedded database lives in the data directory"
        );
    }
    sandbox.finish().await;
}

#[test]
fn configuration_is_documented_and_checked() {
    let default = Command::new(BINARY)
        .args(["config", "default"])
        .output()
        .unwrap();
    assert!(default.status.success());
    let text = stdout(&default);
    assert_eq!(text, vigie_server::config::DEFAULT_TOML);
    let directory = std::env::temp_dir().join(format!("vigie-config-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("vigie.toml");
    std::fs::write(&path, "[server]\nport = 80\n").unwrap();
    let refused = Command::new(BINARY)
        .args(["--config", path.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("champ inconnu « port »"),
        "{}",
        stderr(&refused)
    );
    std::fs::write(
        &path,
        "[database]\nurl = \"postgres://vigie:tres-secret@db/vigie\"\n",
    )
    .unwrap();
    let checked = Command::new(BINARY)
        .args(["--config", path.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(checked.status.success());
    assert!(
        !stdout(&checked).contains("tres-secret"),
        "secrets are redacted: {}",
        stdout(&checked)
    );
    let help = Command::new(BINARY).arg("--help").output().unwrap();
    for command in ["serve", "import", "export", "user", "config"] {
        assert!(stdout(&help).contains(command));
    }
    let _ = std::fs::remove_dir_all(&directory);
}

fn vigie(args: &[&str]) -> Output {
    Command::new(BINARY).args(args).output().unwrap()
}

#[test]
fn sla_deadlines_are_printed_with_the_calendar_offset() {
    for (from, duration, calendar, expected) in [
        // DEC-5: Ascension (Thursday 14 May 2026) is closed.
        (
            "2026-05-13T17:00:00+02:00",
            "4h",
            "business",
            "2026-05-15T11:00:00+02:00",
        ),
        // A start on Saturday counts from Monday's opening.
        (
            "2026-05-16T10:00:00+02:00",
            "30m",
            "business",
            "2026-05-18T08:30:00+02:00",
        ),
        (
            "2026-04-02T17:00:00+02:00",
            "2h",
            "business-alsace-moselle",
            "2026-04-07T09:00:00+02:00",
        ),
        (
            "2026-03-27T20:00:00+01:00",
            "1h30m",
            "always",
            "2026-03-27T21:30:00+01:00",
        ),
        // From UTC, across the autumn change: the second 02:30 of the night, in winter time.
        (
            "2026-10-25T00:30:00Z",
            "1h",
            "always",
            "2026-10-25T02:30:00+01:00",
        ),
    ] {
        let output = vigie(&[
            "sla",
            "deadline",
            "--from",
            from,
            "--duration",
            duration,
            "--calendar",
            calendar,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            stdout(&output),
            format!("{expected}\n"),
            "{from} + {duration} ({calendar})"
        );
    }
    // The business calendar is the default.
    assert_eq!(
        stdout(&vigie(&[
            "sla",
            "deadline",
            "--from",
            "2026-05-13T17:00:00+02:00",
            "--duration",
            "4h"
        ])),
        "2026-05-15T11:00:00+02:00\n"
    );
    // A local time in the autumn fold is resolved explicitly, and said so.
    let fold = vigie(&[
        "sla",
        "deadline",
        "--from",
        "2026-10-25T02:30",
        "--duration",
        "1h",
        "--calendar",
        "always",
    ]);
    assert_eq!(stdout(&fold), "2026-10-25T02:30:00+01:00\n");
    assert!(stderr(&fold).contains("ambiguë"), "{}", stderr(&fold));
}

#[test]
fn bad_sla_arguments_are_named() {
    for (args, named) in [
        (vec!["--from", "hier", "--duration", "4h"], "--from"),
        (
            vec!["--from", "2026-05-13T17:00:00+02:00", "--duration", "4"],
            "--duration",
        ),
        (
            vec!["--from", "2026-05-13T17:00:00+02:00", "--duration", "-4h"],
            "--duration",
        ),
        (
            vec![
                "--from",
                "2026-05-13T17:00:00+02:00",
                "--duration",
                "4h",
                "--calendar",
                "lune",
            ],
            "--calendar",
        ),
    ] {
        let mut all = vec!["sla", "deadline"];
        all.extend(args);
        let output = vigie(&all);
        assert!(!output.status.success(), "{all:?}");
        assert!(
            stderr(&output).contains(named),
            "{all:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty());
    }
}

#[test]
fn holidays_of_a_year_with_their_french_names() {
    let output = vigie(&["calendar", "holidays", "2026"]);
    assert!(output.status.success());
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 11);
    assert_eq!(lines[0], "2026-01-01 Jour de l'an");
    assert!(lines.contains(&"2026-05-14 Ascension".to_string()));
    let alsace = stdout(&vigie(&[
        "calendar",
        "holidays",
        "2026",
        "--calendar",
        "business-alsace-moselle",
    ]));
    assert!(
        alsace.contains("2026-04-03 Vendredi saint\n")
            && alsace.contains("2026-12-26 Saint-Étienne\n")
    );
    assert!(
        stdout(&vigie(&[
            "calendar",
            "holidays",
            "2026",
            "--calendar",
            "always"
        ]))
        .is_empty()
    );
    assert!(!vigie(&["calendar", "holidays", "1200"]).status.success());
    assert!(
        !vigie(&["calendar", "holidays", "deux-mille"])
            .status
            .success()
    );
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// Issue 3: `vigie simulate` prints the checked-in timeline, byte for byte.
#[test]
fn simulate_prints_the_expected_timeline() {
    let scenario = scenarios().join("DEC-5_p1-across-the-autumn-fold.toml");
    let output = vigie(&["simulate", scenario.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = std::fs::read_to_string(scenario.with_extension("expected.jsonl")).unwrap();
    assert_eq!(stdout(&output), expected);
}

/// A scenario with an inline inventory runs; a broken scenario names its line and exits
/// non-zero; a scenario naming an unknown site names the input.
#[test]
fn simulate_reads_inline_inventories_and_names_bad_input() {
    let directory = std::env::temp_dir().join(format!("vigie-simulate-cli-{}", rand_suffix()));
    std::fs::create_dir_all(&directory).unwrap();
    let inventory = std::fs::read_to_string(scenarios().join("inventory.toml")).unwrap();
    // The shared inventory, nested under [inventory]: every table header gains the prefix.
    let inline: String = inventory
        .lines()
        .map(|line| {
            if let Some(rest) = line.strip_prefix("[[") {
                format!("[[inventory.{rest}")
            } else if let Some(rest) = line.strip_prefix('[') {
                format!("[inventory.{rest}")
            } else if line.starts_with("version") {
                format!("[inventory]\n{line}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let head = "start = \"2026-05-13T16:00:00+02:00\"\nend = \"2026-05-13T18:00:00+02:00\"\n";
    let report = "[[input]]\nat = \"2026-05-13T17:00:00+02:00\"\ntype = \"client_report\"\nticket = \"R\"\nchannel = \"email\"\nsite = \"BANQUE-OPERA\"\ntext = \"Caméra noire\"\ncriticality = \"standard\"\n";
    let good = directory.join("inline.toml");
    std::fs::write(&good, format!("{head}{report}\n{inline}\n")).unwrap();
    let output = vigie(&["simulate", good.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let timeline = stdout(&output);
    assert!(timeline.starts_with("{\"at\":\"2026-05-13T17:00:00+02:00\",\"type\":\"ticket.opened\",\"ticket\":\"R\",\"priority\":\"p2\""), "{timeline}");
    // SAV-2: the acknowledgement goes at once to the site's security manager and acknowledges it.
    assert!(timeline.contains("\"type\":\"ticket.sla_met\",\"ticket\":\"R\",\"timer\":\"acknowledgement\",\"due\":\"2026-05-13T17:30:00+02:00\""), "{timeline}");

    let unknown_site = directory.join("unknown-site.toml");
    std::fs::write(
        &unknown_site,
        format!(
            "{head}{}\n{inline}\n",
            report.replace("BANQUE-OPERA", "NULLE-PART")
        ),
    )
    .unwrap();
    let output = vigie(&["simulate", unknown_site.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("entrée n°1") && stderr(&output).contains("NULLE-PART"),
        "{}",
        stderr(&output)
    );

    let broken = directory.join("broken.toml");
    std::fs::write(
        &broken,
        format!(
            "{head}{}\n{inline}\n",
            report.replace("type = \"client_report\"", "type = \"rumeur\"")
        ),
    )
    .unwrap();
    let output = vigie(&["simulate", broken.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("ligne 3"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());

    // Issue 22's inputs: an update without its text (INC-4), a probe's interval out of the
    // server's bounds, a closure without the client's word nor a reason (SAV-6): each named,
    // nothing written.
    let bad_inputs = [
        (
            "[[input]]\nat = \"2026-05-13T17:10:00+02:00\"\ntype = \"action\"\nticket = \"R\"\naction = \"update_client\"\nby = \"ST-TECH\"\n",
            "« text »",
        ),
        (
            "[[input]]\nat = \"2026-05-13T17:10:00+02:00\"\ntype = \"probe\"\nsite = \"BANQUE-OPERA\"\nprobe = \"p\"\ninterval_seconds = 5\n",
            "interval_seconds",
        ),
        (
            "[[input]]\nat = \"2026-05-13T17:10:00+02:00\"\ntype = \"action\"\nticket = \"R\"\naction = \"close\"\nby = \"ST-CHEF\"\n",
            "SAV-6",
        ),
    ];
    for (index, (input, named)) in bad_inputs.iter().enumerate() {
        let file = directory.join(format!("bad-{index}.toml"));
        std::fs::write(&file, format!("{head}{report}\n{input}\n{inline}\n")).unwrap();
        let output = vigie(&["simulate", file.to_str().unwrap()]);
        assert!(!output.status.success(), "{input}");
        assert!(stderr(&output).contains(named), "{}", stderr(&output));
        assert!(stdout(&output).is_empty());
    }
    std::fs::remove_dir_all(&directory).unwrap();
}

/// Waits until `condition` holds, checking every 100 ms, at most `seconds`.
fn wait_until(seconds: u64, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "attente trop longue : {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn buffered_batches(directory: &Path) -> usize {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".batch"))
                .count()
        })
        .unwrap_or(0)
}

/// Issue 4: the agent buffers on disk while the server is down, survives being killed, and
/// once the server is back every batch arrives, in order, exactly once.
#[tokio::test]
async fn the_agent_stores_and_forwards_across_a_real_outage() {
    let sandbox = Sandbox::new().await;
    assert!(
        sandbox
            .run(&["import", fleet_path().to_str().unwrap()])
            .status
            .success()
    );
    let token = sandbox.agent_token();
    let reader = sandbox.run(&[
        "user",
        "token",
        "robot",
        "--name",
        "lecture",
        "--scope",
        "read-only",
    ]);
    let reader = stdout(&reader).lines().last().unwrap().to_string();
    let port = free_port();
    let serve = || {
        let mut server = sandbox
            .command(&["serve"])
            .env("VIGIE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
        assert!(lines.next().unwrap().unwrap().starts_with("Vigie écoute"));
        server
    };
    let buffer = sandbox.directory.join("agent-buffer");
    let start_agent = || {
        Command::new(BINARY)
            .args([
                "agent",
                "--server",
                &format!("http://127.0.0.1:{port}"),
                "--equipment",
                "BNF-PAR-OPERA-NVR-01",
                "--interval",
                "1s",
                "--buffer",
                buffer.to_str().unwrap(),
            ])
            .env("VIGIE_AGENT_TOKEN", &token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let sequences_made = || -> i64 {
        let state: serde_json::Value = std::fs::read(buffer.join("state.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        state["next_sequence"].as_i64().unwrap_or(1) - 1
    };

    let mut server = serve();
    let mut agent = start_agent();
    wait_until(30, "deux lots envoyés", || {
        sequences_made() >= 2 && buffered_batches(&buffer) == 0
    });
    // The server goes down: batches pile up on disk.
    server.kill().unwrap();
    server.wait().unwrap();
    wait_until(30, "deux lots en attente", || {
        buffered_batches(&buffer) >= 2
    });
    // The agent is killed too, and restarted while the server is still down.
    agent.kill().unwrap();
    agent.wait().unwrap();
    let waiting_before_restart = buffered_batches(&buffer);
    let mut agent = start_agent();
    wait_until(30, "l'agent relancé garde ses lots", || {
        buffered_batches(&buffer) > waiting_before_restart
    });
    // The server comes back: the backlog goes, in order, once.
    let mut server = serve();
    wait_until(60, "tampon vidé", || buffered_batches(&buffer) == 0);
    agent.kill().unwrap();
    agent.wait().unwrap();
    let made = sequences_made();
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(buffer.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["dropped"], 0);

    let api = Api {
        base: format!("http://127.0.0.1:{port}/api/v1"),
        token: reader,
    };
    let series = api.get("/equipment/BNF-PAR-OPERA-NVR-01/samples?metric=memory_used_percent&resolution=raw&from=0").await;
    let instants: Vec<i64> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_i64().unwrap())
        .collect();
    // Every batch made arrived, each once (one memory sample per batch).
    assert_eq!(instants.len() as i64, made, "{series}");
    assert!(instants.windows(2).all(|w| w[0] < w[1]));
    let state = api.get("/equipment/BNF-PAR-OPERA-NVR-01/state").await;
    assert_eq!(state["items"][0]["check"], "agent");
    server.kill().unwrap();
    server.wait().unwrap();
    sandbox.finish().await;
}

/// The API read with one token, for the tests that start `vigie serve` themselves.
struct Api {
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> serde_json::Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Reads `path` every 100 ms until `found` picks something out of it, at most `seconds`.
    async fn eventually<T>(
        &self,
        seconds: u64,
        what: &str,
        path: &str,
        found: impl Fn(&serde_json::Value) -> Option<T>,
    ) -> T {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let body = self.get(path).await;
            if let Some(value) = found(&body) {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "attente trop longue : {what} ; dernière réponse : {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// The status of one equipment's check in a `/state` answer.
fn status_of(state: &serde_json::Value, equipment: &str) -> Option<String> {
    state["items"]
        .as_array()?
        .iter()
        .find(|i| i["equipment"] == equipment)
        .and_then(|i| i["status"].as_str().map(str::to_owned))
}

/// Sends a v2c trap (community public) to the server's trap port with net-snmp's `snmptrap`.
fn send_trap(port: u16, oid_and_varbinds: &[&str]) {
    let target = format!("127.0.0.1:{port}");
    let mut args = vec!["-v", "2c", "-c", "public", target.as_str(), ""];
    args.extend_from_slice(oid_and_varbinds);
    let sent = Command::new("snmptrap")
        .args(&args)
        .output()
        .expect("snmptrap (paquet Debian snmp)");
    assert!(sent.status.success(), "{}", stderr(&sent));
}

/// Issue 4: a site probe reads its site's equipment, checks them from inside the site and
/// pushes what it saw; when it goes silent its link is lost and its equipment become unknown,
/// not down. SNMP traps sent to the server are kept, unknown ones included.
#[tokio::test]
async fn a_site_probe_reports_and_its_lost_link_makes_equipment_unknown() {
    let sandbox = Sandbox::new().await;
    // The open port on 127.0.0.2, so that 127.0.0.1 (where traps come from) names one equipment.
    let open = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed_port = free_port();
    let inventory = format!(
        r#"version = 1
[[client]]
ref = "CLI-T"
name = "Client test"
[[contract]]
ref = "CTR-T"
client = "CLI-T"
options = ["supervision"]
[[site]]
ref = "SITE-T"
client = "CLI-T"
contract = "CTR-T"
name = "Site sous sonde"
[[equipment]]
ref = "EQ-OPEN"
site = "SITE-T"
name = "Serveur VMS"
kind = "vms_server"
address = "127.0.0.2"
checks = {{ interval = "2s", tcp = {{ port = {open_port} }} }}
[[equipment]]
ref = "EQ-CLOSED"
site = "SITE-T"
name = "Enregistreur"
kind = "nvr"
address = "127.0.0.1"
checks = {{ interval = "2s", tcp = {{ port = {closed_port} }} }}
"#
    );
    let inventory_path = sandbox.directory.join("sonde.toml");
    std::fs::write(&inventory_path, inventory).unwrap();
    let imported = sandbox.run(&["import", inventory_path.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        sandbox
            .run(&[
                "user",
                "add",
                "robot",
                "--name",
                "Robot",
                "--kind",
                "staff",
                "--role",
                "supervision"
            ])
            .status
            .success()
    );
    let token = |extra: &[&str]| {
        let mut args = vec!["user", "token", "robot", "--name", extra[1]];
        args.extend_from_slice(extra);
        let issued = sandbox.run(&args);
        assert!(issued.status.success(), "{}", stderr(&issued));
        stdout(&issued).lines().last().unwrap().to_string()
    };
    // The probe's token is bound to its site: it reads and reports on that site only.
    let probe_token = token(&["--scope", "probe", "--site", "SITE-T"]);
    let reader = token(&["--scope", "read-only"]);
    let port = free_port();
    let trap_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = sandbox
        .command(&["serve"])
        .env("VIGIE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("VIGIE_SUPERVISION__WATCHDOG_SECONDS", "1")
        .env(
            "VIGIE_SUPERVISION__TRAP_LISTEN",
            format!("127.0.0.1:{trap_port}"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().starts_with("Vigie écoute"));
    let mut probe = Command::new(BINARY)
        .args([
            "probe",
            "--server",
            &format!("http://127.0.0.1:{port}"),
            "--name",
            "sonde-test",
            "--site",
            "SITE-T",
            "--push-every",
            "1s",
            "--buffer",
            sandbox.directory.join("probe-buffer").to_str().unwrap(),
        ])
        .env("VIGIE_PROBE_TOKEN", &probe_token)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let api = Api {
        base: format!("http://127.0.0.1:{port}/api/v1"),
        token: reader,
    };
    let site_is = |open: &'static str, closed: &'static str| {
        move |state: &serde_json::Value| {
            (status_of(state, "EQ-OPEN").as_deref() == Some(open)
                && status_of(state, "EQ-CLOSED").as_deref() == Some(closed))
            .then_some(())
        }
    };
    api.eventually(
        60,
        "la sonde rend compte",
        "/sites/SITE-T/state",
        site_is("up", "down"),
    )
    .await;
    assert_eq!(api.get("/probes").await["items"][0]["link"], "up");

    // The probe goes silent: its link is lost, its equipment unknown, not down.
    probe.kill().unwrap();
    probe.wait().unwrap();
    api.eventually(
        30,
        "sonde perdue constatée",
        "/sites/SITE-T/state",
        site_is("unknown", "unknown"),
    )
    .await;
    assert_eq!(api.get("/probes").await["items"][0]["link"], "lost");

    // A trap nobody knows is kept and visible, with the equipment its source names.
    send_trap(
        trap_port,
        &[
            "1.3.6.1.4.1.99999.0.42",
            "1.3.6.1.4.1.99999.1",
            "s",
            "inconnu",
        ],
    );
    let trap = api
        .eventually(10, "trap enregistré", "/traps?unknown=true", |traps| {
            traps["items"].as_array()?.first().cloned()
        })
        .await;
    assert_eq!(trap["trap_oid"], "1.3.6.1.4.1.99999.0.42");
    assert_eq!(trap["equipment"], "EQ-CLOSED", "{trap}");
    // A trap the equipment's template knows (disk failure on a Linux recorder) moves its check.
    send_trap(trap_port, &["1.3.6.1.4.1.8072.9999.1.0.1"]);
    let disk = api
        .eventually(
            10,
            "trap connu suivi d'effet",
            "/equipment/EQ-CLOSED/state",
            |state| {
                state["items"]
                    .as_array()?
                    .iter()
                    .find(|i| i["check"] == "snmp.disk_health")
                    .cloned()
            },
        )
        .await;
    assert_eq!(disk["status"], "down");
    assert!(
        disk["detail"].as_str().unwrap().contains("disque"),
        "{disk}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    drop(open);
    sandbox.finish().await;
}

/// Issue 9: `vigie report` makes a report for any month or period on demand, writes its PDF
/// and HTML where asked, files it when asked (then a second time replaces it), and names
/// what is wrong in its arguments.
#[tokio::test]
async fn a_report_is_made_on_demand_for_any_period() {
    let sandbox = Sandbox::new().await;
    let fleet = fleet_path();
    let imported = sandbox.run(&["import", fleet.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let pdf = sandbox.directory.join("rapport.pdf");
    let html = sandbox.directory.join("rapport.html");
    let made = sandbox.run(&[
        "report",
        "supervision",
        "--client",
        "CLI-VILLE",
        "--mois",
        "2026-10",
        "--pdf",
        pdf.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Ville de Montpellier"), "{page}");
    assert!(page.contains("octobre 2026"), "{page}");
    assert!(page.contains("lang=\"fr\""), "{page}");

    // A period on demand, filed in the site's file: twice is one report, replaced.
    for _ in 0..2 {
        let filed = sandbox.run(&[
            "report",
            "revue",
            "--site",
            "VILLE-MTP-CSU",
            "--du",
            "2026-11-01",
            "--au",
            "2026-11-15",
            "--classer",
        ]);
        assert!(filed.status.success(), "{}", stderr(&filed));
        assert!(stdout(&filed).contains("classé"), "{}", stdout(&filed));
    }
    let database = sandbox.database.as_ref().unwrap();
    // The command's database: the data directory's file on SQLite, the test's on PostgreSQL.
    let store = if database.backend == vigie_store::Backend::Postgres {
        database.open().await
    } else {
        vigie_store::System::open(&format!(
            "sqlite:{}",
            sandbox.directory.join("vigie.sqlite").display()
        ))
        .await
        .unwrap()
    };
    let documents = store
        .documents(
            &vigie_domain::access::Actor::console("test"),
            &vigie_store::documents::DocumentFilter::default(),
        )
        .await
        .unwrap();
    assert_eq!(documents.len(), 2, "{documents:?}");
    assert!(
        documents
            .iter()
            .all(|d| d.period.as_deref() == Some("2026-11-01/2026-11-15")),
        "{documents:?}"
    );
    store.close().await;

    // What is wrong is named.
    for (args, expected) in [
        (
            vec!["report", "supervision", "--mois", "2026-10"],
            "--client",
        ),
        (
            vec![
                "report",
                "revue",
                "--site",
                "VILLE-MTP-CSU",
                "--mois",
                "2026-13",
            ],
            "--mois",
        ),
        (
            vec![
                "report",
                "supervision",
                "--client",
                "CLI-NULLE",
                "--mois",
                "2026-10",
            ],
            "CLI-NULLE",
        ),
    ] {
        let refused = sandbox.run(&args);
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            stderr(&refused).contains(expected),
            "{args:?} : {}",
            stderr(&refused)
        );
    }
    sandbox.finish().await;
}
