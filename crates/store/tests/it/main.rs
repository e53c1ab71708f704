//! The storage conformance suite: every test runs on SQLite and on PostgreSQL, each in its own
//! throw-away database (`<test>::sqlite`, `<test>::postgres`).

mod access;
mod backends;
mod console;
mod formats;
mod inventory;
mod mail;
mod notifications;
mod people;
mod policies;
mod supervision;
mod territories;
mod tickets;
mod windows;

use std::future::Future;

use vigie_domain::Reference;
use vigie_domain::access::{Actor, Principal, SiteBinding, TokenScope, TokenUse};
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::inventory::{Inventory, StaffRole};
use vigie_store::System;
use vigie_store::testing::{TestDatabase, backends_under_test};
use vigie_store::{Backend, Store};

/// Runs one conformance test on one backend, in a fresh database.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(System, String) -> Fut,
    Fut: Future<Output = ()>,
{
    if !backends_under_test().contains(&backend) {
        eprintln!("{backend:?} skipped (VIGIE_TEST_POSTGRES=skip)");
        return;
    }
    let database = TestDatabase::create(backend).await;
    let store = database.open().await;
    test(store.clone(), database.url.clone()).await;
    store.close().await;
    database.drop_database().await;
}

/// Declares a conformance test on both backends: `conformance!(name)` runs `async fn name(store, url)`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run(vigie_store::Backend::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run(vigie_store::Backend::Postgres, super::$name).await
            }
        }
    )*};
}

pub fn admin() -> Actor {
    Actor::console("test")
}

pub fn staff(roles: &[StaffRole]) -> Actor {
    Actor {
        principal: Principal::Staff {
            username: "staff".into(),
            staff: None,
            roles: roles.iter().copied().collect(),
        },
        token: None,
    }
}

pub fn client_user(client: &str) -> Actor {
    Actor {
        principal: Principal::ClientUser {
            username: format!("user-{client}").to_lowercase(),
            client: reference(client),
        },
        token: None,
    }
}

/// A site probe's token, held by an administrator, bound to `site` of `client`.
pub fn probe_token(client: &str, site: &str) -> Actor {
    let mut actor = staff(&[StaffRole::Administrator]);
    actor.token = Some(TokenUse {
        id: format!("probe-{site}").to_lowercase(),
        scope: TokenScope::Probe,
        site: Some(SiteBinding {
            client: reference(client),
            site: reference(site),
        }),
    });
    actor
}

pub fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

pub fn parse(text: &str) -> Inventory {
    InventoryFile::parse(text)
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .inventory
}

pub fn example_fleet() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/fleet.toml"
    ))
    .expect("examples/fleet.toml")
}

/// Two clients, each with a contract, a security manager, a site, a switch and a camera.
pub const TWO_CLIENTS: &str = r#"
[[client]]
ref = "CLI-A"
name = "Banque Alpha"

[[client]]
ref = "CLI-B"
name = "Hôpital Bêta"

[[contact]]
ref = "A-RS"
client = "CLI-A"
name = "Claire Martin"
roles = ["security_manager"]
phone = "+33600000001"

[[contact]]
ref = "B-RS"
client = "CLI-B"
name = "Jean Petit"
roles = ["security_manager", "technical_contact"]
email = "jean.petit@beta.example"

[[contract]]
ref = "CTR-A"
client = "CLI-A"
tier = "premium"
options = ["supervision", "dashboard"]

[[contract]]
ref = "CTR-B"
client = "CLI-B"

[[staff]]
ref = "ST-BOSS"
name = "Paul Chef"
roles = ["technical_manager"]

[[staff]]
ref = "ST-TECH"
name = "Luc Tech"
roles = ["technician"]
manager = "ST-BOSS"

[[site]]
ref = "A-PARIS"
client = "CLI-A"
contract = "CTR-A"
name = "Agence Paris"
security_manager = "A-RS"

[[site]]
ref = "B-LYON"
client = "CLI-B"
contract = "CTR-B"
name = "Hôpital Lyon"
security_manager = "B-RS"
technical_contact = "B-RS"

[[equipment]]
ref = "A-CAM-1"
site = "A-PARIS"
name = "Caméra hall"
kind = "camera"
parent = "A-SW-1"
checks = { ping = {}, onvif = { username = "admin", password = "s3cret" } }

[[equipment]]
ref = "A-SW-1"
site = "A-PARIS"
name = "Switch cœur"
kind = "switch"

[[equipment]]
ref = "B-SW-1"
site = "B-LYON"
name = "Switch"
kind = "switch"

[[equipment]]
ref = "B-CAM-1"
site = "B-LYON"
name = "Caméra urgences"
kind = "camera"
camera_role = "secondary"
parent = "B-SW-1"
"#;

pub async fn seed(store: &Store) {
    store
        .import(&admin(), &parse(TWO_CLIENTS), 1_000)
        .await
        .unwrap();
}

/// A second site of the first client, with a camera whose ONVIF password is its own.
pub const SECOND_SITE_OF_A: &str = r#"
[[site]]
ref = "A-LYON"
client = "CLI-A"
contract = "CTR-A"
name = "Agence Lyon"

[[equipment]]
ref = "A-LYON-CAM-1"
site = "A-LYON"
name = "Caméra Lyon"
kind = "camera"
checks = { ping = {}, onvif = { username = "admin", password = "lyon-secret" } }
"#;

/// [`TWO_CLIENTS`] and [`SECOND_SITE_OF_A`].
pub async fn seed_three_sites(store: &Store) {
    seed(store).await;
    store
        .import(&admin(), &parse(SECOND_SITE_OF_A), 1_000)
        .await
        .unwrap();
}

/// Epoch milliseconds of 2026-11-23T10:00:00Z, a fixed "now" for tests.
pub const NOW: i64 = 1_795_428_000_000;
