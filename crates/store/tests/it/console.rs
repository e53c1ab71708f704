//! The console's and portal's reads (issue 8; DSH-1, X-2): the wall's order and paging, the
//! availability over a period from state changes — and period by period for a chart, from one
//! reading —, site summaries, each within the actor's walls.

use vigie_domain::access::Actor;
use vigie_domain::alarm::lifecycle::Alarm;
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::inventory::{EquipmentKind, ObjectKind};
use vigie_domain::policy::Severity;
use vigie_domain::supervision::{CheckName, CheckStatus, Observation};
use vigie_store::StoreError;
use vigie_store::System;
use vigie_store::console::{Place, WallFilter, WallView};

use crate::{admin, client_user, conformance, example_fleet, parse, reference};

conformance!(
    the_wall_lists_what_needs_a_person_apart_from_what_waits_for_its_report,
    pages_read_names_within_the_actors_walls,
    the_search_finds_by_name_or_reference_within_the_actors_walls,
    availability_counts_each_equipments_downtime_once_within_the_period,
    equipment_down_are_counted_per_site_and_follow_an_equipment_that_moves,
    availability_by_period_reads_once_what_each_period_would_read_alone,
);

const H: i64 = 3_600_000;

async fn raise(store: &System, id: u64, equipment: &str, severity: Severity, at: i64) {
    let (alarm, event) = Alarm::raised(
        id,
        Some(reference("BNF-PAR-OPERA")),
        Some(reference(equipment)),
        ConditionKey::whole(Condition::Unreachable),
        severity,
        false,
        at,
    );
    store
        .save_alarms(&[(Some(reference("CLI-BNF")), alarm)], &[event], None, at)
        .await
        .unwrap();
}

/// Issue 25, item 1: the alarms to handle (unacknowledged first, then the gravest, then the
/// longest waiting) apart from the resolved ones waiting for their report; both paged.
async fn the_wall_lists_what_needs_a_person_apart_from_what_waits_for_its_report(
    store: System,
    _: String,
) {
    store
        .import(&Actor::console("test"), &parse(&example_fleet()), 0)
        .await
        .unwrap();
    raise(&store, 1, "BNF-PAR-OPERA-NVR-01", Severity::Major, 10).await;
    raise(&store, 2, "BNF-PAR-OPERA-UPS-01", Severity::Critical, 20).await;
    raise(&store, 3, "BNF-PAR-OPERA-SW-CORE", Severity::Minor, 30).await;
    raise(&store, 4, "BNF-PAR-OPERA-NVR-01", Severity::Critical, 40).await;
    raise(&store, 5, "BNF-PAR-OPERA-UPS-01", Severity::Critical, 50).await;
    // 2 acknowledged (it drops below every unacknowledged one), 5 resolved (to close).
    let (mut two, _) = store.alarm(&admin(), 2, 60).await.unwrap();
    two.alarm.acknowledged = Some(vigie_domain::alarm::lifecycle::Stamp {
        at: 60,
        by: reference("ST-TECH-A"),
    });
    let (mut five, _) = store.alarm(&admin(), 5, 60).await.unwrap();
    five.alarm.resolved_at = Some(70);
    store
        .save_alarms(
            &[
                (Some(reference("CLI-BNF")), two.alarm),
                (Some(reference("CLI-BNF")), five.alarm),
            ],
            &[],
            None,
            70,
        )
        .await
        .unwrap();
    let to_handle = WallFilter::default();
    let (page, next) = store
        .wall_alarms(&admin(), &to_handle, 2, 80)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|a| a.alarm.id).collect::<Vec<_>>(),
        vec![4, 1]
    );
    let (rest, last) = store
        .wall_alarms(
            &admin(),
            &WallFilter {
                after: next,
                ..to_handle.clone()
            },
            2,
            80,
        )
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|a| a.alarm.id).collect::<Vec<_>>(),
        vec![3, 2]
    );
    let (end, none) = store
        .wall_alarms(
            &admin(),
            &WallFilter {
                after: last,
                ..to_handle.clone()
            },
            2,
            80,
        )
        .await
        .unwrap();
    assert!(end.is_empty() && none.is_none(), "{end:?}");
    let to_close = WallFilter {
        view: WallView::ToClose,
        ..WallFilter::default()
    };
    let (resolved, _) = store
        .wall_alarms(&admin(), &to_close, 10, 80)
        .await
        .unwrap();
    assert_eq!(
        resolved.iter().map(|a| a.alarm.id).collect::<Vec<_>>(),
        vec![5]
    );
    let counts = store.open_alarm_counts(&admin(), 80).await.unwrap();
    assert_eq!(counts.of_severity("critical"), 3);
    assert_eq!(counts.to_handle_of_severity("critical"), 2);
    assert_eq!(counts.to_handle(), 4);
    assert_eq!(counts.of_status("raised"), 3);
    // another client's user sees none of them.
    let (none, _) = store
        .wall_alarms(&client_user("CLI-MARCHE"), &to_handle, 10, 80)
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Issue 25, item 4: names first; a client user reads the names of its own objects only.
async fn pages_read_names_within_the_actors_walls(store: System, _: String) {
    store
        .import(&Actor::console("test"), &parse(&example_fleet()), 0)
        .await
        .unwrap();
    let opera = reference("BNF-PAR-OPERA");
    let unknown = reference("NOWHERE");
    let names = store
        .names(&admin(), ObjectKind::Site, &[&opera, &unknown])
        .await
        .unwrap();
    assert_eq!(names.len(), 1);
    assert!(!names[&opera].is_empty());
    let foreign = store
        .names(&client_user("CLI-MARCHE"), ObjectKind::Site, &[&opera])
        .await
        .unwrap();
    assert!(foreign.is_empty(), "{foreign:?}");
    let own = store
        .names(&client_user("CLI-BNF"), ObjectKind::Site, &[&opera])
        .await
        .unwrap();
    assert_eq!(own, names);
}

/// Issue 25, item 6: one search over names and references, literal, bounded, walled.
async fn the_search_finds_by_name_or_reference_within_the_actors_walls(store: System, _: String) {
    store
        .import(&Actor::console("test"), &parse(&example_fleet()), 0)
        .await
        .unwrap();
    let found = store.search(&admin(), "Paris Opéra", 10).await.unwrap();
    assert!(
        found
            .iter()
            .any(|f| f.kind == ObjectKind::Site && f.reference.as_str() == "BNF-PAR-OPERA"),
        "{found:?}"
    );
    // By reference, in any case.
    let found = store
        .search(&admin(), "bnf-par-opera-nvr", 10)
        .await
        .unwrap();
    assert_eq!(
        found
            .iter()
            .map(|f| f.reference.as_str())
            .collect::<Vec<_>>(),
        ["BNF-PAR-OPERA-NVR-01"]
    );
    // A person by name.
    let found = store.search(&admin(), "kevin lambert", 10).await.unwrap();
    assert!(
        found.iter().any(|f| f.kind == ObjectKind::Staff),
        "{found:?}"
    );
    // Bounded per kind; wildcards are letters like the others.
    let cameras = store.search(&admin(), "CAM", 3).await.unwrap();
    assert!(
        cameras
            .iter()
            .filter(|f| f.kind == ObjectKind::Equipment)
            .count()
            <= 3,
        "{cameras:?}"
    );
    assert!(store.search(&admin(), "%", 10).await.unwrap().is_empty());
    assert!(store.search(&admin(), "   ", 10).await.unwrap().is_empty());
    // another client's user finds none of this client's objects.
    let foreign = store
        .search(&client_user("CLI-MARCHE"), "Paris Opéra", 10)
        .await
        .unwrap();
    assert!(foreign.is_empty(), "{foreign:?}");
}

fn ping(equipment: &str, at: i64, up: bool) -> Observation {
    Observation {
        equipment: reference(equipment),
        check: CheckName::parse("ping").unwrap(),
        at,
        status: Some(if up {
            CheckStatus::Up
        } else {
            CheckStatus::Down
        }),
        detail: None,
        samples: Vec::new(),
        facts: Default::default(),
    }
}

async fn availability_counts_each_equipments_downtime_once_within_the_period(
    store: System,
    _: String,
) {
    store
        .import(&Actor::console("test"), &parse(&example_fleet()), 0)
        .await
        .unwrap();
    let console = Actor::console("test");
    // Down from before the period (−2 h) until 3 h into it; another down from 8 h on.
    for observations in [
        vec![ping("BNF-PAR-OPERA-NVR-01", -5 * H, true)],
        vec![ping("BNF-PAR-OPERA-NVR-01", -2 * H, false)],
        vec![ping("BNF-PAR-OPERA-NVR-01", 3 * H, true)],
        vec![ping("BNF-PAR-OPERA-UPS-01", -H, true)],
        vec![ping("BNF-PAR-OPERA-UPS-01", 8 * H, false)],
    ] {
        store
            .record_observations(&console, None, &observations, 9 * H)
            .await
            .unwrap();
    }
    let site = store
        .availability(
            &admin(),
            &Place::Site(reference("BNF-PAR-OPERA")),
            0,
            10 * H,
        )
        .await
        .unwrap();
    assert_eq!(site.down_ms, 3 * H + 2 * H);
    let equipment = site.equipment as f64;
    let expected = 1.0 - 5.0 / (equipment * 10.0);
    assert!((site.rate.unwrap() - expected).abs() < 1e-12, "{site:?}");
    // The client's rate counts the same downtime over all its equipment.
    let client = store
        .availability(&admin(), &Place::Client(reference("CLI-BNF")), 0, 10 * H)
        .await
        .unwrap();
    assert_eq!(client.down_ms, 5 * H);
    assert!(client.equipment > site.equipment);
    // another client's place is not found.
    let hidden = store
        .availability(
            &client_user("CLI-MARCHE"),
            &Place::Site(reference("BNF-PAR-OPERA")),
            0,
            10 * H,
        )
        .await;
    assert!(matches!(hidden, Err(StoreError::NotFound)), "{hidden:?}");
    let summaries = store
        .site_summaries(&client_user("CLI-BNF"), None, None, 100)
        .await
        .unwrap();
    assert!(summaries.iter().all(|s| s.client.as_str() == "CLI-BNF"));
    let opera = summaries
        .iter()
        .find(|s| s.reference.as_str() == "BNF-PAR-OPERA")
        .unwrap();
    assert_eq!(opera.down, 1, "{opera:?}");
}

/// The dashboard's and the site list's "hors service" (DSH-1): each equipment with a check down
/// counted once, on the site it is on now, and the client's whole count whatever page of its
/// sites is shown.
async fn equipment_down_are_counted_per_site_and_follow_an_equipment_that_moves(
    store: System,
    _: String,
) {
    store
        .import(&Actor::console("test"), &parse(&example_fleet()), 0)
        .await
        .unwrap();
    let console = Actor::console("test");
    let mut snmp_down = ping("BNF-PAR-OPERA-UPS-01", 2 * H, false);
    snmp_down.check = CheckName::parse("snmp").unwrap();
    for observations in [
        vec![
            ping("BNF-PAR-OPERA-NVR-01", H, true),
            ping("BNF-PAR-OPERA-UPS-01", H, true),
        ],
        vec![
            ping("BNF-PAR-OPERA-NVR-01", 2 * H, false),
            ping("BNF-PAR-OPERA-UPS-01", 2 * H, false),
            snmp_down,
        ],
    ] {
        store
            .record_observations(&console, None, &observations, 3 * H)
            .await
            .unwrap();
    }
    let down_per_site = |summaries: Vec<vigie_store::console::SiteSummary>| {
        summaries
            .into_iter()
            .map(|s| (s.reference.to_string(), s.down))
            .filter(|(_, down)| *down > 0)
            .collect::<Vec<_>>()
    };
    let client = reference("CLI-BNF");
    let summaries = store
        .site_summaries(&admin(), Some(&client), None, 100)
        .await
        .unwrap();
    assert_eq!(
        down_per_site(summaries),
        vec![("BNF-PAR-OPERA".to_string(), 2)]
    );
    let overview = store.client_overview(&admin(), &client).await.unwrap();
    assert_eq!(overview.down, 2);
    assert!(overview.dashboard);
    // The headline's counts (issue 25): of each kind with some down, how many are down and
    // how many the client has, as its equipment listed say.
    assert_eq!(
        overview.down_by_kind,
        vec![
            (
                EquipmentKind::Nvr,
                1,
                of_kind(&store, &client, EquipmentKind::Nvr).await
            ),
            (
                EquipmentKind::PowerSupply,
                1,
                of_kind(&store, &client, EquipmentKind::PowerSupply).await
            ),
        ]
    );

    // The UPS moves to the head office: its checks down go with it.
    let vigie_domain::inventory::Record::Equipment(mut ups) = store
        .get(
            &admin(),
            vigie_domain::inventory::ObjectKind::Equipment,
            &reference("BNF-PAR-OPERA-UPS-01"),
        )
        .await
        .unwrap()
    else {
        panic!("an equipment");
    };
    ups.site = reference("BNF-PAR-SIEGE");
    ups.parent = None;
    store
        .put(
            &console,
            vigie_domain::inventory::Record::Equipment(ups),
            4 * H,
        )
        .await
        .unwrap();
    let summaries = store
        .site_summaries(&admin(), Some(&client), None, 100)
        .await
        .unwrap();
    assert_eq!(
        down_per_site(summaries.clone()),
        vec![
            ("BNF-PAR-OPERA".to_string(), 1),
            ("BNF-PAR-SIEGE".to_string(), 1)
        ]
    );
    // Each site's count of equipment follows the move, as the inventory file says.
    let fleet = parse(&example_fleet());
    for summary in &summaries {
        let mut expected = fleet
            .equipment
            .iter()
            .filter(|e| e.site == summary.reference)
            .count() as i64;
        match summary.reference.as_str() {
            "BNF-PAR-OPERA" => expected -= 1,
            "BNF-PAR-SIEGE" => expected += 1,
            _ => {}
        }
        assert_eq!(summary.equipment, expected, "{}", summary.reference);
    }
    // The same answer on a page of one site at a time: the client's count is whole.
    let first = store
        .site_summaries(&admin(), Some(&client), None, 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        store.client_overview(&admin(), &client).await.unwrap().down,
        2
    );
    // another client's user is told it does not exist.
    let other = store
        .client_overview(&client_user("CLI-MARCHE"), &client)
        .await;
    assert!(matches!(other, Err(StoreError::NotFound)), "{other:?}");
    // The page of a site's equipment with their states: the UPS is now at the head office.
    let page = store
        .equipment_page(
            &admin(),
            &vigie_store::ListFilter {
                site: Some(reference("BNF-PAR-SIEGE")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ups = page
        .iter()
        .find(|(record, _)| record.reference().as_str() == "BNF-PAR-OPERA-UPS-01")
        .expect("the UPS listed at its new site");
    let mut checks: Vec<(String, &str)> = ups
        .1
        .iter()
        .map(|s| (s.check.clone(), s.state.status.key()))
        .collect();
    checks.sort();
    assert_eq!(
        checks,
        vec![("ping".to_string(), "down"), ("snmp".to_string(), "down")]
    );
    // Equipment never observed are listed too, with no state.
    assert!(page.iter().any(|(_, states)| states.is_empty()));
    // …and a deletion, while another power supply of the client is down: the client counts
    // one power supply fewer.
    store
        .record_observations(
            &console,
            None,
            &[ping("BNF-LYO-BELLECOUR-UPS-01", 5 * H, false)],
            5 * H,
        )
        .await
        .unwrap();
    let supplies = of_kind(&store, &client, EquipmentKind::PowerSupply).await;
    store
        .delete(
            &console,
            vigie_domain::inventory::ObjectKind::Equipment,
            &reference("BNF-PAR-OPERA-UPS-01"),
            5 * H,
        )
        .await
        .unwrap();
    let siege = store
        .site_summaries(&admin(), Some(&client), None, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.reference.as_str() == "BNF-PAR-SIEGE")
        .unwrap();
    let listed = fleet
        .equipment
        .iter()
        .filter(|e| e.site.as_str() == "BNF-PAR-SIEGE")
        .count() as i64;
    assert_eq!(siege.equipment, listed);
    let overview = store.client_overview(&admin(), &client).await.unwrap();
    assert!(
        overview
            .down_by_kind
            .contains(&(EquipmentKind::PowerSupply, 1, supplies - 1)),
        "{:?}",
        overview.down_by_kind
    );
    assert_eq!(
        of_kind(&store, &client, EquipmentKind::PowerSupply).await,
        supplies - 1
    );
}

/// How many equipment of `kind` the client has, as the inventory lists them.
async fn of_kind(store: &System, client: &vigie_domain::Reference, kind: EquipmentKind) -> i64 {
    store
        .list(
            &admin(),
            ObjectKind::Equipment,
            &vigie_store::ListFilter {
                client: Some(client.clone()),
                limit: Some(vigie_store::MAX_PAGE_SIZE),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter(|record| {
            matches!(record, vigie_domain::inventory::Record::Equipment(e) if e.kind == kind)
        })
        .count() as i64
}

/// The daily chart's read (DSH-1): each period's availability is the one `availability` gives
/// for that period alone, for a site, an equipment and a client, from one reading of the
/// changes. With `VIGIE_MEASURE=1`, a site of 100 equipment with 30 days of changes, and the
/// time of both ways printed (docs/web.md).
async fn availability_by_period_reads_once_what_each_period_would_read_alone(
    store: System,
    _: String,
) {
    use vigie_domain::inventory::{ObjectKind, Record};
    store
        .import(&Actor::console("test"), &parse(&example_fleet()), 0)
        .await
        .unwrap();
    let console = Actor::console("test");
    let measure = std::env::var_os("VIGIE_MEASURE").is_some();
    let (equipment_count, days): (usize, i64) = if measure { (100, 30) } else { (8, 30) };
    // A site of its own, its equipment copies of one camera.
    let Record::Site(mut site) = store
        .get(&admin(), ObjectKind::Site, &reference("BNF-PAR-OPERA"))
        .await
        .unwrap()
    else {
        panic!("a site");
    };
    site.reference = reference("BNF-MESURE");
    site.security_manager = None;
    site.technical_contact = None;
    store.put(&console, Record::Site(site), 0).await.unwrap();
    let Record::Equipment(camera) = store
        .get(
            &admin(),
            ObjectKind::Equipment,
            &reference("BNF-PAR-OPERA-NVR-01"),
        )
        .await
        .unwrap()
    else {
        panic!("an equipment");
    };
    let names: Vec<String> = (0..equipment_count)
        .map(|i| format!("BNF-MESURE-CAM-{i:03}"))
        .collect();
    for name in &names {
        let mut copy = camera.clone();
        copy.reference = reference(name);
        copy.site = reference("BNF-MESURE");
        copy.parent = None;
        store
            .put(&console, Record::Equipment(copy), 0)
            .await
            .unwrap();
    }
    // Each equipment down twice a day, at hours of its own; some down across midnight.
    let day = 24 * H;
    let start = 0;
    let end = days * day;
    for d in 0..days {
        for (hour, up) in [(1, false), (3, true), (13, false), (25, true)] {
            let observations: Vec<Observation> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let minutes = (i as i64 * 7 + d * 11) % 50;
                    ping(name, d * day + hour * H + minutes * 60_000, up)
                })
                .collect();
            store
                .record_observations(&console, None, &observations, end + 2 * day)
                .await
                .unwrap();
        }
    }
    let bounds: Vec<i64> = (0..=days).map(|d| start + d * day).collect();
    for place in [
        Place::Site(reference("BNF-MESURE")),
        Place::Equipment(reference("BNF-MESURE-CAM-001")),
        Place::Client(reference("CLI-BNF")),
    ] {
        let began = std::time::Instant::now();
        let once = store
            .availability_by_period(&admin(), &place, &bounds)
            .await
            .unwrap();
        let read_once = began.elapsed();
        let began = std::time::Instant::now();
        let mut alone = Vec::new();
        for period in bounds.windows(2) {
            alone.push(
                store
                    .availability(&admin(), &place, period[0], period[1])
                    .await
                    .unwrap(),
            );
        }
        let read_each = began.elapsed();
        assert_eq!(once, alone, "{place:?}");
        // 13:00 to 01:00 the next day: a day shares its outages with the next.
        assert!(once.iter().all(|a| a.rate.unwrap() < 1.0), "{once:?}");
        if measure {
            eprintln!(
                "{place:?}: {} jours en une lecture : {read_once:?} ; jour par jour : {read_each:?}",
                bounds.len() - 1
            );
        }
    }
    // The whole is the sum of its days.
    let whole = store
        .availability(&admin(), &Place::Site(reference("BNF-MESURE")), start, end)
        .await
        .unwrap();
    let days_down: i64 = store
        .availability_by_period(&admin(), &Place::Site(reference("BNF-MESURE")), &bounds)
        .await
        .unwrap()
        .iter()
        .map(|a| a.down_ms)
        .sum();
    assert_eq!(whole.down_ms, days_down);
    // another client's equipment is not found; bounds out of order or too many refused.
    let hidden = store
        .availability_by_period(
            &client_user("CLI-MARCHE"),
            &Place::Equipment(reference("BNF-MESURE-CAM-001")),
            &bounds,
        )
        .await;
    assert!(matches!(hidden, Err(StoreError::NotFound)), "{hidden:?}");
    let mine = store
        .availability_by_period(
            &client_user("CLI-BNF"),
            &Place::Equipment(reference("BNF-MESURE-CAM-001")),
            &bounds,
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), bounds.len() - 1);
    for wrong in [vec![0], vec![10, 0], (0..100).collect::<Vec<i64>>()] {
        let refused = store
            .availability_by_period(&admin(), &Place::Site(reference("BNF-MESURE")), &wrong)
            .await;
        assert!(matches!(refused, Err(StoreError::Invalid(_))), "{wrong:?}");
    }
}
