//! The data directory as the system sees it (issue 23): a disk that fills up under the
//! pushes, a second server started on the same file, who may read the files. On SQLite only:
//! on PostgreSQL the files are the database server's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use vigie_store::Backend;
use vigie_store::testing::{TestDatabase, backend_from_env};

use crate::{Sandbox, fleet_path, free_port, rand_suffix, stderr, stdout};

const EQUIPMENT: &str = "BNF-PAR-OPERA-NVR-01";
/// Samples per pushed batch: each batch adds this many rows, so that the disk fills quickly.
const SAMPLES_PER_BATCH: usize = 500;

/// A tmpfs of its own, mounted on a fresh directory and unmounted when dropped (root is
/// needed, as for the ping tests' network namespaces).
struct SmallDisk {
    mount_point: PathBuf,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let mount_point = std::env::temp_dir().join(format!(
            "vigie-disque-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&mount_point).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "vigie-essai"])
            .arg(&mount_point)
            .output()
            .unwrap();
        assert!(
            mounted.status.success(),
            "montage d'un tmpfs impossible (il faut être root) : {}",
            stderr(&mounted)
        );
        SmallDisk { mount_point }
    }

    /// Fills what is left of the disk with one file, written until the system says there is
    /// no space left; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.mount_point.join("remplissage");
        let mut file = std::fs::File::create(&path).unwrap();
        for size in [1 << 16, 512, 1] {
            let chunk = vec![0xa5_u8; size];
            loop {
                match file.write(&chunk) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::StorageFull => break,
                    Err(error) => panic!("remplissage du disque : {error}"),
                }
            }
        }
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.mount_point).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            // A server still running on it (a failed assertion): detach it all the same.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.mount_point)
                .status();
        }
        let _ = std::fs::remove_dir(&self.mount_point);
    }
}

/// A `vigie serve` process, killed (SIGKILL, as a power cut would) when dropped.
struct Server(Child);

impl Server {
    fn start(sandbox: &Sandbox, data_dir: &Path, port: u16, log: &Path) -> Server {
        let mut child = sandbox
            .command(&["serve"])
            .env("VIGIE_DATA_DIR", data_dir)
            .env("VIGIE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            )
            .spawn()
            .unwrap();
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.starts_with("Vigie écoute"),
            "le serveur n'a pas démarré : « {first} » ; journal : {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        // The rest of its output (the first administrator's password) is not needed.
        std::thread::spawn(move || lines.for_each(drop));
        Server(child)
    }

    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The HTTP side of one test: an agent's token and an integration's.
struct Client {
    http: reqwest::Client,
    base: String,
    agent: String,
    integration: String,
    /// Instant of the first batch's observation.
    start_ms: i64,
}

impl Client {
    /// Pushes batch `sequence` as the agent of [`EQUIPMENT`] does: one observation with
    /// [`SAMPLES_PER_BATCH`] measures, at `start_ms + sequence` seconds.
    async fn push(&self, sequence: i64) -> StatusCode {
        let answer = self.push_answer(sequence).await;
        let status = answer.status();
        if !status.is_success() && status != StatusCode::SERVICE_UNAVAILABLE {
            panic!("lot {sequence} : {status} {}", answer.text().await.unwrap());
        }
        status
    }

    async fn push_answer(&self, sequence: i64) -> reqwest::Response {
        let samples: Vec<_> = (0..SAMPLES_PER_BATCH)
            .map(|i| json!({"name": format!("essai_{i}"), "value": sequence as f64}))
            .collect();
        self.http
            .post(format!("{}/api/v1/observations", self.base))
            .bearer_auth(&self.agent)
            .json(&json!({
                "source": format!("agent:{EQUIPMENT}"),
                "sequence": sequence,
                "observations": [{
                    "equipment": EQUIPMENT,
                    "check": "agent",
                    "at": self.at(sequence),
                    "status": "up",
                    "samples": samples,
                }],
            }))
            .send()
            .await
            .unwrap()
    }

    fn at(&self, sequence: i64) -> i64 {
        self.start_ms + sequence * 1000
    }

    /// Opens a ticket; its number if answered 201.
    async fn open_ticket(&self, symptom: &str) -> (StatusCode, Option<u64>) {
        let answer = self
            .http
            .post(format!("{}/api/v1/tickets", self.base))
            .bearer_auth(&self.integration)
            .json(&json!({"client": "CLI-BNF", "equipment": EQUIPMENT, "symptom": symptom}))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        (status, body["ticket"]["number"].as_u64())
    }

    async fn ready(&self) -> StatusCode {
        self.http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn get(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let answer = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.integration)
            .send()
            .await
            .unwrap();
        (answer.status(), answer.json().await.unwrap_or_default())
    }
}

fn token(sandbox: &Sandbox, name: &str, scope: &str) -> String {
    let made = sandbox.run(&["user", "token", "robot", "--name", name, "--scope", scope]);
    assert!(made.status.success(), "{}", stderr(&made));
    stdout(&made).lines().last().unwrap().to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Issue 23, 1: on a disk that fills up, a write either fails (5xx) or is on disk: after
/// the failures, once space is back, every batch and ticket answered 2xx is still there
/// after a restart; `/readyz` says not ready while writes fail, ready again once they pass.
#[tokio::test]
async fn a_full_disk_fails_writes_aloud_and_loses_none_that_were_answered() {
    if backend_from_env() != Backend::Sqlite {
        eprintln!("essai propre à SQLite : sur PostgreSQL le disque est celui du serveur de base");
        return;
    }
    let disk = SmallDisk::mount("16m");
    let data_dir = disk.mount_point.join("donnees");
    std::fs::create_dir(&data_dir).unwrap();
    let sandbox = Sandbox {
        directory: data_dir.clone(),
        database: Some(TestDatabase::create(Backend::Sqlite).await),
    };
    let imported = sandbox.run(&["import", fleet_path().to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let agent = sandbox.agent_token();
    let integration = token(&sandbox, "integration", "integration");
    let port = free_port();
    let log = std::env::temp_dir().join(format!("vigie-disque-{}.log", rand_suffix()));
    let server = Server::start(&sandbox, &data_dir, port, &log);
    let client = Client {
        // No connection kept: the server is killed and started again on the same port.
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
        agent,
        integration,
        start_ms: now_ms() - 30 * 60 * 1000,
    };
    assert_eq!(client.ready().await, StatusCode::OK);

    let mut answered = Vec::new();
    let mut tickets = Vec::new();
    let mut sequence = 0;
    for _ in 0..3 {
        sequence += 1;
        assert_eq!(client.push(sequence).await, StatusCode::OK);
        answered.push(sequence);
    }

    // The disk fills up: pushes go on until several have failed.
    let filler = disk.fill();
    let mut failed = 0;
    let mut not_ready = 0;
    while failed < 3 {
        sequence += 1;
        assert!(
            sequence < 500,
            "le disque plein ne fait échouer aucun envoi"
        );
        let status = client.push(sequence).await;
        if status.is_success() {
            answered.push(sequence);
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "lot {sequence}");
            failed += 1;
            // A write just failed: the server must not call itself ready.
            if client.ready().await != StatusCode::OK {
                not_ready += 1;
            }
            let (status, number) = client
                .open_ticket(&format!(
                    "Ouvert pendant que le disque est plein ({sequence})"
                ))
                .await;
            if status.is_success() {
                tickets.push(number.unwrap());
            } else {
                assert!(status.is_server_error(), "ticket : {status}");
            }
        }
    }
    assert_eq!(
        not_ready, failed,
        "/readyz répond 200 alors que les écritures échouent"
    );
    // Still full: more writes are tried, and each one answered 2xx must be kept.
    for _ in 0..5 {
        sequence += 1;
        if client.push(sequence).await.is_success() {
            answered.push(sequence);
        }
    }

    // Space comes back: ready again, and every write goes through.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.ready().await != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "toujours pas prêt une minute après le retour de la place"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for _ in 0..5 {
        sequence += 1;
        assert_eq!(
            client.push(sequence).await,
            StatusCode::OK,
            "lot {sequence} après le retour de la place ; journal : {}",
            log.display()
        );
        answered.push(sequence);
    }
    let (status, number) = client.open_ticket("Ouvert une fois la place revenue").await;
    assert_eq!(status, StatusCode::CREATED);
    tickets.push(number.unwrap());

    eprintln!(
        "{sequence} lots envoyés, {} répondus 200, {failed} refusés ; {} tickets répondus 201",
        answered.len(),
        tickets.len()
    );
    // A power cut, then a new start: what was answered is on disk.
    server.kill();
    let server = Server::start(&sandbox, &data_dir, port, &log);
    let (status, series) = client
        .get(&format!(
            "/equipment/{EQUIPMENT}/samples?metric=essai_0&resolution=raw&from=0"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let kept: std::collections::BTreeSet<i64> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_i64().unwrap())
        .collect();
    let lost: Vec<i64> = answered
        .iter()
        .copied()
        .filter(|s| !kept.contains(&client.at(*s)))
        .collect();
    assert!(
        lost.is_empty(),
        "lots répondus 200 puis perdus : {lost:?} (sur {} répondus, {failed} refusés)",
        answered.len()
    );
    for number in &tickets {
        let (status, ticket) = client.get(&format!("/tickets/{number}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "ticket {number} répondu 201 puis perdu"
        );
        assert!(ticket["symptom"].as_str().is_some(), "{ticket}");
    }
    server.kill();
    let _ = std::fs::remove_file(&log);
    sandbox.finish().await;
    drop(disk);
}

/// The rights of a path, without the file type.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{} : {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Issue 23, 2 and 3: the data directory and the database's files are Vigie's user's only,
/// and a second server on the same SQLite file is refused at start with a French message
/// naming the first, which goes on serving.
#[tokio::test]
async fn a_data_directory_belongs_to_one_server_and_to_its_user() {
    if backend_from_env() != Backend::Sqlite {
        eprintln!(
            "essai propre à SQLite : sur PostgreSQL les fichiers sont ceux du serveur de base"
        );
        return;
    }
    let sandbox = Sandbox::new().await;
    // Created by Vigie, not beforehand by the test.
    let data_dir = sandbox.directory.join("donnees");
    let port = free_port();
    let log = std::env::temp_dir().join(format!("vigie-verrou-{}.log", rand_suffix()));
    let first = Server::start(&sandbox, &data_dir, port, &log);
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    assert_eq!(mode(&data_dir), 0o700, "répertoire de données");
    let database = data_dir.join("vigie.sqlite");
    for suffix in ["", "-wal", "-shm", "-serveur.lock"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    let second = sandbox
        .command(&["serve"])
        .env("VIGIE_DATA_DIR", &data_dir)
        .env("VIGIE_SERVER__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!second.status.success(), "{}", stdout(&second));
    let message = stderr(&second);
    assert!(
        message.contains(&format!(
            "la base {} est déjà ouverte par un autre serveur Vigie (processus {})",
            database.display(),
            first.0.id()
        )) && message.contains("un seul serveur à la fois sur une base SQLite"),
        "{message}"
    );
    assert!(
        !stdout(&second).contains("Vigie écoute"),
        "{}",
        stdout(&second)
    );
    // A command of the console still opens the database beside the server.
    let listed = sandbox
        .command(&["user", "list"])
        .env("VIGIE_DATA_DIR", &data_dir)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    let ready = http
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "le premier serveur sert toujours"
    );

    // Once the first has stopped (killed: the system drops its lock), a new one starts.
    first.kill();
    let again = Server::start(&sandbox, &data_dir, port, &log);
    again.kill();
    // Files made readable by all by an older version are taken back at the next start.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = Server::start(&sandbox, &data_dir, port, &log);
    assert_eq!(mode(&database), 0o600);
    again.kill();
    let _ = std::fs::remove_file(&log);
    sandbox.finish().await;
}

/// Issue 23, item 3: the equipment's credentials are in the database encrypted, with a key
/// kept outside it (a file of Vigie's user only): the database read without the key gives
/// none of them and says why, Vigie reads them back with it, and a process with another key
/// is refused with what to do.
#[tokio::test]
async fn equipment_credentials_are_encrypted_with_a_key_kept_outside_the_database() {
    use vigie_domain::access::Actor;
    use vigie_domain::inventory::{ObjectKind, Record};
    let sandbox = Sandbox::new().await;
    let imported = sandbox.run(&["import", fleet_path().to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let key_file = sandbox.directory.join("secrets.key");
    assert_eq!(mode(&key_file), 0o600, "{}", key_file.display());

    // What the database holds, read without the key.
    let database = sandbox.database.as_ref().unwrap();
    let url = match database.backend {
        Backend::Postgres => database.url.clone(),
        _ => format!(
            "sqlite://{}",
            sandbox.directory.join("vigie.sqlite").display()
        ),
    };
    let console = Actor::console("essai");
    let camera = vigie_domain::Reference::parse("BNF-PAR-OPERA-CAM-001").unwrap();
    let store = vigie_store::System::open(&url).await.unwrap();
    let refused = store
        .get(&console, ObjectKind::Equipment, &camera)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("pas de clé des secrets"),
        "{refused}"
    );
    store.close().await;
    if database.backend == Backend::Sqlite {
        // Nor do the files themselves, journal included.
        let mut bytes = std::fs::read(sandbox.directory.join("vigie.sqlite")).unwrap();
        bytes.extend(std::fs::read(sandbox.directory.join("vigie.sqlite-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("onvif-a-changer"),
            "mot de passe ONVIF en clair"
        );
        assert!(!text.contains("vigie-ro"), "communauté SNMP en clair");
    }
    // With the key, the credentials are there, for whoever may see them.
    let key = vigie_store::secrets::SecretsKey::load_or_create(&key_file).unwrap();
    let store = vigie_store::System::open(&url)
        .await
        .unwrap()
        .with_secrets_key(key);
    let Record::Equipment(equipment) = store
        .get(&console, ObjectKind::Equipment, &camera)
        .await
        .unwrap()
    else {
        panic!("un équipement")
    };
    store.close().await;
    let onvif = equipment.checks.onvif.expect("ONVIF");
    assert_eq!(onvif.password.as_deref(), Some("onvif-a-changer"));
    let exported = sandbox.run(&["export"]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(stdout(&exported).contains("community = \"vigie-ro\""));

    // Another key: refused, with what to do.
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    let refused = sandbox.run(&["export"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("n'est pas celle de la base"),
        "{}",
        stderr(&refused)
    );
    sandbox.finish().await;
}
