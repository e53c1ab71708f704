//! The checks scheduler against real peers on 127.0.0.1: which tasks an equipment gets, a port
//! that answers is up, a closed one is down only after the retry, pings go through the shared
//! socket, and every task fires at its interval with its stable jitter.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use vigie_domain::inventory::Equipment;
use vigie_domain::inventory::Record;
use vigie_domain::supervision::CheckStatus;
use vigie_probe::site::equipment_page;
use vigie_probe::{Kind, Scheduler, Task, jitter, tasks_for};

fn equipment(json: serde_json::Value) -> Equipment {
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_inventory_says_which_checks_run() {
    let camera = equipment(serde_json::json!({
        "ref": "CAM-1", "site": "S", "name": "Caméra", "kind": "camera", "address": "10.0.0.7",
        "checks": {"interval": "30s", "ping": {}, "rtsp": {"path": "/live", "username": "u", "password": "p"}, "onvif": {}, "http": {"port": 443}}
    }));
    let tasks = tasks_for(&camera);
    let kinds: Vec<&Kind> = tasks.iter().map(|t| &t.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &Kind::Ping("10.0.0.7".parse().unwrap()),
            &Kind::Http {
                url: "https://10.0.0.7:443/".into()
            },
            &Kind::Rtsp {
                url: "rtsp://10.0.0.7:554/live".into(),
                credentials: Some(("u".into(), "p".into()))
            },
            &Kind::Onvif {
                url: "http://10.0.0.7:80/onvif/device_service".into(),
                credentials: None
            },
        ]
    );
    assert!(tasks.iter().all(|t| t.interval == Duration::from_secs(30)));
    // Stable jitter inside the interval.
    assert_eq!(jitter(&tasks[0]), jitter(&tasks[0].clone()));
    assert!(tasks.iter().all(|t| jitter(t) < t.interval));
    // SUP-2: without an interval of its own, every 60 s.
    let switch = equipment(
        serde_json::json!({"ref": "SW-1", "site": "S", "name": "Switch", "kind": "switch", "address": "10.0.0.1", "checks": {"tcp": {"port": 22}}}),
    );
    assert_eq!(tasks_for(&switch)[0].interval, Duration::from_secs(60));
    assert_eq!(
        tasks_for(&switch)[0].kind,
        Kind::Tcp {
            address: "10.0.0.1:22".into()
        }
    );
    // No address, nothing to poll.
    let blind = equipment(
        serde_json::json!({"ref": "X", "site": "S", "name": "X", "kind": "other", "checks": {"ping": {}}}),
    );
    assert!(tasks_for(&blind).is_empty());
}

/// Issue 24, item 7: a page of `GET /api/v1/equipment` as probes in the field read it. The
/// probe understands every field of it, and the server, which serves `Record::to_json`, writes
/// each equipment back as the same JSON: a change of the domain's inventory shapes fails here
/// before it reaches a probe.
#[test]
fn the_equipment_page_probes_read_is_pinned() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/it/data/equipment_page_v1.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let page: serde_json::Value = serde_json::from_str(&text).unwrap();
    let equipment = equipment_page(&page).unwrap();
    assert_eq!(equipment.len(), 3);
    for (read, golden) in equipment.iter().zip(page["items"].as_array().unwrap()) {
        assert_eq!(
            &Record::Equipment(read.clone()).to_json(),
            golden,
            "the server no longer serves {} as probes read it",
            read.reference
        );
    }
    let tasks: Vec<String> = equipment
        .iter()
        .flat_map(tasks_for)
        .map(|t| match &t.kind {
            Kind::Snmp {
                address, template, ..
            } => {
                format!(
                    "{} {} {}s snmp {address} {template}",
                    t.equipment,
                    t.check,
                    t.interval.as_secs()
                )
            }
            kind => format!(
                "{} {} {}s {kind:?}",
                t.equipment,
                t.check,
                t.interval.as_secs()
            ),
        })
        .collect();
    assert_eq!(
        tasks,
        [
            "AG-CAM-HALL ping 30s Ping(10.20.1.11)",
            "AG-CAM-HALL http 30s Http { url: \"https://10.20.1.11:443/\" }",
            "AG-CAM-HALL rtsp 30s Rtsp { url: \"rtsp://10.20.1.11:554/axis-media/media.amp\", credentials: Some((\"supervision\", \"rtsp-secret\")) }",
            "AG-CAM-HALL onvif 30s Onvif { url: \"http://10.20.1.11:80/onvif/device_service\", credentials: Some((\"supervision\", \"onvif-secret\")) }",
            "AG-NVR-01 ping 60s Ping(10.20.1.5)",
            "AG-NVR-01 snmp 60s snmp 10.20.1.5:161 linux-net-snmp",
            "AG-SW-01 tcp 60s Tcp { address: \"[fd00::1]:22\" }",
            "AG-SW-01 snmp 60s snmp [fd00::1]:1161 generic-camera",
        ]
    );
    // A body that is not a page is refused with a reason, not read as no equipment.
    assert!(equipment_page(&serde_json::json!({"error": "x"})).is_err());
    assert!(equipment_page(&serde_json::json!({"items": [{"ref": "X"}]})).is_err());
}

fn tcp_task(reference: &str, address: String) -> Task {
    Task {
        equipment: vigie_domain::Reference::parse(reference).unwrap(),
        check: vigie_domain::supervision::CheckName::parse("tcp").unwrap(),
        kind: Kind::Tcp { address },
        interval: Duration::from_secs(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_ports_are_up_closed_ones_down_after_the_retry() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let _ = listener.accept().await;
        }
    });
    // A port bound but not listening: connections are refused, and no one else can take it.
    let closed_socket = tokio::net::TcpSocket::new_v4().unwrap();
    closed_socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed = closed_socket.local_addr().unwrap();
    let tasks = vec![
        tcp_task("OPEN", open.to_string()),
        tcp_task("CLOSED", closed.to_string()),
    ];
    let (sink, mut observations) = mpsc::channel(100);
    let scheduler =
        Scheduler::new(tasks, None).with_timing(Duration::from_secs(2), Duration::from_millis(200));
    // Two intervals and a bit: each task fires twice or three times.
    let until = tokio::time::Instant::now() + Duration::from_millis(2_500);
    let run = tokio::spawn(scheduler.run(sink, Some(until)));
    run.await.unwrap();
    let mut seen = Vec::new();
    while let Ok(Some(observation)) =
        tokio::time::timeout(Duration::from_secs(3), observations.recv()).await
    {
        seen.push(observation);
    }
    let of = |name: &str| {
        seen.iter()
            .filter(|o| o.equipment.as_str() == name)
            .collect::<Vec<_>>()
    };
    assert!(of("OPEN").len() >= 2, "{seen:?}");
    assert!(
        of("OPEN").iter().all(
            |o| o.status == Some(CheckStatus::Up) && o.samples[0].name.as_str() == "connect_ms"
        )
    );
    assert!(of("CLOSED").len() >= 2, "{seen:?}");
    for observation in of("CLOSED") {
        assert_eq!(observation.status, Some(CheckStatus::Down));
        assert!(
            observation
                .detail
                .as_deref()
                .unwrap()
                .to_lowercase()
                .contains("refus"),
            "{observation:?}"
        );
    }
    drop(closed_socket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_go_through_the_shared_socket() {
    let pinger = Arc::new(vigie_ping::Pinger::new().expect("ICMP brut : lancer les tests en root"));
    let task = Task {
        equipment: vigie_domain::Reference::parse("LOOP").unwrap(),
        check: vigie_domain::supervision::CheckName::parse("ping").unwrap(),
        kind: Kind::Ping("127.0.0.1".parse().unwrap()),
        interval: Duration::from_secs(60),
    };
    let observations =
        vigie_probe::ping_sweep(&pinger, std::slice::from_ref(&task), Duration::from_secs(1));
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].status, Some(CheckStatus::Up));
    assert!(observations[0].samples[0].value > 0.0);
    // Without the right to raw ICMP, pings say "unknown", never "down".
    let (sink, mut receiver) = mpsc::channel(10);
    let fast = Task {
        interval: Duration::from_secs(1),
        ..task
    };
    Scheduler::new(vec![fast], None)
        .run(
            sink,
            Some(tokio::time::Instant::now() + Duration::from_millis(1_100)),
        )
        .await;
    let unknown = receiver.recv().await.unwrap();
    assert_eq!(unknown.status, Some(CheckStatus::Unknown));
}
