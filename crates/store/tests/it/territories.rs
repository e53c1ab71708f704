//! Territories and on-call coverage (issue 26, item 1): a territory is an inventory record
//! only the integrator sees; a rotation names one that exists; what routing still names is
//! not deleted; the coming 14 days' gaps are found site by site, with or without the file
//! about to be imported.

use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::oncall::Rotation;
use vigie_store::{StoreError, System};

use crate::{TWO_CLIENTS, admin, client_user, conformance, parse, reference};

conformance!(territories_route_rotations_and_coverage_is_found_ahead);

const DAY: i64 = 86_400_000;
/// Monday 23 November 2026, 11:00 in Paris.
const NOW: i64 = 1_795_428_000_000;

fn rotation(name: &str, territory: Option<&str>, start: &str) -> Rotation {
    let mut text = format!(
        "name = \"{name}\"\nduty = \"technician\"\ntime_zone = \"Europe/Paris\"\n\
         members = [\"ST-TECH\"]\nhandoff = {{ every = \"week\", day = \"monday\", at = \"08:00\" }}\n\
         start = {start}\n"
    );
    if let Some(territory) = territory {
        text.push_str(&format!("territory = \"{territory}\"\n"));
    }
    toml::from_str(&text).unwrap()
}

async fn territories_route_rotations_and_coverage_is_found_ahead(store: System, _url: String) {
    store
        .import(&admin(), &parse(TWO_CLIENTS), NOW)
        .await
        .unwrap();
    // No rotation at all: both sites are uncovered for the whole horizon.
    let gaps = store.oncall_coverage(&admin(), NOW).await.unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        gaps[0].sites,
        vec![reference("A-PARIS"), reference("B-LYON")]
    );
    assert_eq!((gaps[0].from_ms, gaps[0].to_ms), (NOW, NOW + 14 * DAY));

    // A rotation naming a territory that does not exist is refused.
    let lyon = rotation("ASTREINTE-LYON", Some("TER-LYON"), "2026-11-30");
    let refused = store.put_rotation(&admin(), &lyon, NOW).await.unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid(m) if m.contains("territoire « TER-LYON » inconnu")),
        "{refused:?}"
    );
    let territory = parse(
        "[[territory]]\nref = \"TER-LYON\"\nname = \"Agence de Lyon\"\nsites = [\"B-LYON\"]\n",
    );
    store.import(&admin(), &territory, NOW).await.unwrap();
    store.put_rotation(&admin(), &lyon, NOW).await.unwrap();
    // Lyon is covered from Monday 30 November 08:00; Paris not at all.
    let gaps = store.oncall_coverage(&admin(), NOW).await.unwrap();
    let lyon_gap = gaps
        .iter()
        .find(|g| g.sites.contains(&reference("B-LYON")))
        .expect("Lyon uncovered until its first hand-off");
    assert_eq!(lyon_gap.to_ms, 1_796_022_000_000, "{gaps:?}");
    assert!(gaps.iter().any(|g| g.sites == vec![reference("A-PARIS")]));

    // The file about to be imported is taken into account (`vigie import --dry-run`): once
    // the territory also covers Paris's client, both sites share Lyon's rotation and its gap.
    let extended = parse(
        "[[territory]]\nref = \"TER-LYON\"\nname = \"Agence de Lyon\"\nsites = [\"B-LYON\"]\nclients = [\"CLI-A\"]\n",
    );
    let planned = store
        .oncall_coverage_with(&admin(), NOW, &extended)
        .await
        .unwrap();
    assert!(
        planned.iter().all(|g| g.sites.len() == 2),
        "both sites now share Lyon's rotation: {planned:?}"
    );

    // A client user never sees territories; the staff do.
    assert!(matches!(
        store
            .get(
                &client_user("CLI-A"),
                ObjectKind::Territory,
                &reference("TER-LYON")
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store
            .get(&admin(), ObjectKind::Territory, &reference("TER-LYON"))
            .await,
        Ok(Record::Territory(_))
    ));

    // What routing names is not deleted.
    let site = store
        .delete(&admin(), ObjectKind::Site, &reference("B-LYON"), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&site, StoreError::Conflict(m) if m.contains("TER-LYON")),
        "{site:?}"
    );
    let named = store
        .delete(&admin(), ObjectKind::Territory, &reference("TER-LYON"), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&named, StoreError::Conflict(m) if m.contains("ASTREINTE-LYON")),
        "{named:?}"
    );
    store
        .delete_rotation(&admin(), &reference("ASTREINTE-LYON"), NOW)
        .await
        .unwrap();
    store
        .delete(&admin(), ObjectKind::Territory, &reference("TER-LYON"), NOW)
        .await
        .unwrap();
}

conformance!(an_oversized_territory_is_refused_by_its_size);

/// A territory naming more than its bound is refused for its size, before any name is looked
/// up one by one (issue 26, item 1: every list has a bound).
async fn an_oversized_territory_is_refused_by_its_size(store: System, _url: String) {
    use vigie_domain::inventory::Territory;
    store
        .import(&admin(), &parse(TWO_CLIENTS), NOW)
        .await
        .unwrap();
    let territory = Territory {
        reference: reference("TER-TROP"),
        name: vigie_domain::Name::parse("Trop grand").unwrap(),
        sites: (0..=Territory::MAX_MEMBERS)
            .map(|n| reference(&format!("S-{n}")))
            .collect(),
        clients: Vec::new(),
    };
    let refused = store
        .put(&admin(), Record::Territory(territory), NOW)
        .await
        .unwrap_err();
    match refused {
        StoreError::Rejected(problems) => {
            assert_eq!(problems.len(), 1, "one problem, not one per name");
            assert!(
                problems[0].message.contains("au plus 20000 sites"),
                "{}",
                problems[0].message
            );
        }
        other => panic!("{other:?}"),
    }
}
