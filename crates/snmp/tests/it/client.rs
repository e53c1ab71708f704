//! The client against a real net-snmp agent: v1, v2c and v3 with every auth/priv pair,
//! walks, and the errors a person will meet (wrong password, wrong community).

use std::collections::BTreeSet;
use std::time::Duration;

use vigie_snmp::{AuthProtocol, Client, Error, Oid, PrivProtocol, Security, UsmUser, Value};

use crate::agent::{AUTH_PASSWORD, Agent, COMMUNITY, PRIV_PASSWORD, start_agent};

const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
const SYS_UP_TIME: &str = "1.3.6.1.2.1.1.3.0";
const HR_STORAGE_ENTRY: &str = "1.3.6.1.2.1.25.2.3.1";

fn oid(text: &str) -> Oid {
    Oid::parse(text).unwrap()
}

async fn client(agent: &Agent, security: Security) -> Client {
    Client::new(agent.address, security)
        .await
        .unwrap()
        .with_timeout(Duration::from_secs(2))
        .unwrap()
        .with_retries(2)
        .unwrap()
}

fn assert_system_values(varbinds: &[vigie_snmp::VarBind]) {
    assert_eq!(varbinds.len(), 2, "{varbinds:?}");
    assert_eq!(varbinds[0].oid, oid(SYS_UP_TIME));
    assert!(
        matches!(varbinds[0].value, Value::TimeTicks(_)),
        "{varbinds:?}"
    );
    assert_eq!(varbinds[1].oid, oid(SYS_DESCR));
    match &varbinds[1].value {
        Value::OctetString(text) => {
            assert!(String::from_utf8_lossy(text).contains("Linux"), "{text:?}")
        }
        other => panic!("sysDescr inattendu : {other:?}"),
    }
}

#[tokio::test]
async fn v2c_get_reads_sys_up_time_and_sys_descr() {
    let agent = start_agent().await;
    let mut client = client(&agent, Security::v2c(COMMUNITY)).await;
    let varbinds = client
        .get(&[oid(SYS_UP_TIME), oid(SYS_DESCR)])
        .await
        .unwrap();
    assert_system_values(&varbinds);
    // An absent instance comes back as the v2 exception, not as an error.
    let missing = client.get(&[oid("1.3.6.1.2.1.1.99.0")]).await.unwrap();
    assert!(missing[0].value.is_exception(), "{missing:?}");
}

#[tokio::test]
async fn v1_get_and_walk_use_getnext() {
    let agent = start_agent().await;
    let mut client = client(&agent, Security::v1(COMMUNITY)).await;
    let varbinds = client
        .get(&[oid(SYS_UP_TIME), oid(SYS_DESCR)])
        .await
        .unwrap();
    assert_system_values(&varbinds);
    let system = client.walk(&oid("1.3.6.1.2.1.1")).await.unwrap();
    assert!(
        system.iter().any(|vb| vb.oid == oid(SYS_DESCR)),
        "{system:?}"
    );
    assert!(
        system
            .iter()
            .all(|vb| vb.oid.starts_with(&oid("1.3.6.1.2.1.1")))
    );
    // v1 reports an absent instance with noSuchName and its index.
    let error = client.get(&[oid("1.3.6.1.2.1.1.99.0")]).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::ErrorStatus {
                status: 2,
                index: 1
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("noSuchName"), "{error}");
}

#[tokio::test]
async fn v2c_walk_of_hr_storage_table_returns_sizes_and_usage() {
    let agent = start_agent().await;
    let mut client = client(&agent, Security::v2c(COMMUNITY)).await;
    let root = oid(HR_STORAGE_ENTRY);
    let rows = client.walk(&root).await.unwrap();
    assert!(rows.iter().all(|vb| vb.oid.starts_with(&root)));
    assert!(
        rows.windows(2).all(|pair| pair[0].oid < pair[1].oid),
        "walk out of order"
    );
    let column = |number: u32| -> BTreeSet<u32> {
        rows.iter()
            .filter(|vb| vb.oid.starts_with(&root.child(&[number]).unwrap()))
            .map(|vb| {
                assert!(matches!(vb.value, Value::Integer(_)), "{vb:?}");
                *vb.oid.arcs().last().unwrap()
            })
            .collect()
    };
    let sizes = column(5); // hrStorageSize
    let used = column(6); // hrStorageUsed
    assert!(!sizes.is_empty(), "no hrStorageSize in {rows:?}");
    assert_eq!(sizes, used, "every storage row has its size and usage");
    // The walk ends at the subtree's end: a bulk from the table root agrees.
    let bulk = client
        .get_bulk(0, 5, std::slice::from_ref(&root))
        .await
        .unwrap();
    assert_eq!(bulk.len(), 5);
    assert_eq!(bulk[0], rows[0]);
}

#[tokio::test]
async fn v3_auth_priv_get_with_each_protocol_pair() {
    let agent = start_agent().await;
    let pairs = [
        ("usha", AuthProtocol::Sha1, PrivProtocol::Aes128),
        ("usha256", AuthProtocol::Sha256, PrivProtocol::Aes128),
        ("umd5", AuthProtocol::Md5, PrivProtocol::Des),
    ];
    for (name, auth, privacy) in pairs {
        let user = UsmUser::new(name)
            .with_auth(auth, AUTH_PASSWORD)
            .with_privacy(privacy, PRIV_PASSWORD);
        let mut client = client(&agent, Security::v3(user)).await;
        let varbinds = client
            .get(&[oid(SYS_UP_TIME), oid(SYS_DESCR)])
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_system_values(&varbinds);
        assert!(client.engine_id().is_some_and(|id| id.len() >= 5));
        // A second request reuses the discovered engine and keys.
        let rows = client.walk(&oid("1.3.6.1.2.1.1")).await.unwrap();
        assert!(
            rows.iter().any(|vb| vb.oid == oid(SYS_DESCR)),
            "{name}: {rows:?}"
        );
    }
}

#[tokio::test]
async fn v3_auth_no_priv_get() {
    let agent = start_agent().await;
    let user = UsmUser::new("uauth").with_auth(AuthProtocol::Sha1, AUTH_PASSWORD);
    let mut client = client(&agent, Security::v3(user)).await;
    let varbinds = client
        .get(&[oid(SYS_UP_TIME), oid(SYS_DESCR)])
        .await
        .unwrap();
    assert_system_values(&varbinds);
}

#[tokio::test]
async fn v3_wrong_passwords_and_unknown_user_give_their_errors() {
    let agent = start_agent().await;
    let wrong_auth = UsmUser::new("usha")
        .with_auth(AuthProtocol::Sha1, "not-the-password")
        .with_privacy(PrivProtocol::Aes128, PRIV_PASSWORD);
    let error = client(&agent, Security::v3(wrong_auth))
        .await
        .get(&[oid(SYS_UP_TIME)])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::AuthenticationFailure), "{error:?}");
    assert!(error.to_string().contains("authentification"), "{error}");

    let wrong_privacy = UsmUser::new("usha")
        .with_auth(AuthProtocol::Sha1, AUTH_PASSWORD)
        .with_privacy(PrivProtocol::Aes128, "not-the-password");
    // net-snmp's agent drops what it cannot decrypt instead of sending the RFC 3414
    // decryptionErrors Report ("error parsing ScopedPDU" in its log): a bounded timeout.
    let error = client(&agent, Security::v3(wrong_privacy))
        .await
        .with_timeout(Duration::from_millis(300))
        .unwrap()
        .with_retries(0)
        .unwrap()
        .get(&[oid(SYS_UP_TIME)])
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Timeout { attempts: 1, .. }),
        "{error:?}"
    );

    let unknown = UsmUser::new("nobody")
        .with_auth(AuthProtocol::Sha1, AUTH_PASSWORD)
        .with_privacy(PrivProtocol::Aes128, PRIV_PASSWORD);
    let error = client(&agent, Security::v3(unknown))
        .await
        .get(&[oid(SYS_UP_TIME)])
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::UnknownUser(ref name) if name == "nobody"),
        "{error:?}"
    );
}

#[tokio::test]
async fn wrong_community_times_out_after_the_bounded_attempts() {
    let agent = start_agent().await;
    let mut client = Client::new(agent.address, Security::v2c("not-the-community"))
        .await
        .unwrap()
        .with_timeout(Duration::from_millis(300))
        .unwrap()
        .with_retries(1)
        .unwrap();
    let error = client.get(&[oid(SYS_UP_TIME)]).await.unwrap_err();
    match &error {
        Error::Timeout {
            target, attempts, ..
        } => {
            assert_eq!(*target, agent.address);
            assert_eq!(*attempts, 2);
        }
        other => panic!("délai attendu, obtenu {other:?}"),
    }
    assert!(error.to_string().contains("pas de réponse"), "{error}");
}

#[tokio::test]
async fn client_configuration_is_bounded() {
    let address = "127.0.0.1:9".parse().unwrap();
    let client = Client::new(address, Security::v2c("x")).await.unwrap();
    assert!(matches!(
        client.with_retries(1000),
        Err(Error::Configuration(_))
    ));
    let short_password = UsmUser::new("u").with_auth(AuthProtocol::Sha1, "short");
    assert!(matches!(
        Client::new(address, Security::v3(short_password)).await,
        Err(Error::Configuration(_))
    ));
    let privacy_without_auth = UsmUser::new("u").with_privacy(PrivProtocol::Aes128, PRIV_PASSWORD);
    assert!(matches!(
        Client::new(address, Security::v3(privacy_without_auth)).await,
        Err(Error::Configuration(_))
    ));
}
