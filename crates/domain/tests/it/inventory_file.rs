//! Inventory files in, records or errors with their line out.

use vigie_domain::inventory::check::KnownObjects;
use vigie_domain::inventory::file::{self, InventoryFile};
use vigie_domain::inventory::{CameraRole, EquipmentKind, OfflineTolerance};

const SMALL: &str = r#"version = 1

[[client]]
ref = "CLI-A"
name = "Banque Alpha"

[[contact]]
ref = "CT-A-RS"
client = "CLI-A"
name = "Claire Martin"
roles = ["security_manager"]
email = "claire.martin@alpha.example"
phone = "06 12 34 56 78"

[[contract]]
ref = "CTR-A"
client = "CLI-A"
tier = "premium"
options = ["supervision", "round_the_clock"]
sla = { p1 = { on_site = "2h" } }

[[staff]]
ref = "ST-CHEF"
name = "Paul Chef"
roles = ["technical_manager"]

[[staff]]
ref = "ST-TECH"
name = "Luc Tech"
roles = ["technician"]
manager = "ST-CHEF"

[[site]]
ref = "SITE-A1"
client = "CLI-A"
contract = "CTR-A"
name = "Agence Opéra"
offline_tolerance = "2.5%"
security_manager = "CT-A-RS"
maintenance_windows = [{ days = ["sunday"], start = "02:00", duration = "2h" }]

[[equipment]]
ref = "SW-1"
site = "SITE-A1"
name = "Switch"
kind = "switch"

[[equipment]]
ref = "CAM-1"
site = "SITE-A1"
name = "Caméra hall"
kind = "camera"
parent = "SW-1"
checks = { ping = {}, rtsp = { path = "/stream1", username = "admin", password = "secret" } }
"#;

fn errors_of(text: &str) -> Vec<String> {
    match InventoryFile::parse(text) {
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        Ok(parsed) => match parsed.check(&KnownObjects::default()) {
            Ok(()) => vec![],
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        },
    }
}

#[test]
fn a_valid_file_parses_with_defaults_applied() {
    let parsed = InventoryFile::parse(SMALL).unwrap();
    parsed.check(&KnownObjects::default()).unwrap();
    let inventory = &parsed.inventory;
    assert_eq!(inventory.len(), 8);
    assert_eq!(
        inventory.contacts[0].phone.as_ref().unwrap().as_str(),
        "+33612345678"
    );
    assert_eq!(inventory.sites[0].time_zone.as_str(), "Europe/Paris");
    assert_eq!(
        inventory.sites[0].offline_tolerance,
        OfflineTolerance::PercentHundredths(250)
    );
    let camera = &inventory.equipment[1];
    assert_eq!(camera.kind, EquipmentKind::Camera);
    // SAV-4: a camera whose role is not stated counts as priority (ALR-5).
    assert_eq!(camera.effective_camera_role(), Some(CameraRole::Priority));
    assert!(
        camera
            .for_client_view()
            .checks
            .rtsp
            .unwrap()
            .password
            .is_none()
    );
}

#[test]
fn writing_then_reading_gives_the_same_inventory() {
    let parsed = InventoryFile::parse(SMALL).unwrap();
    let written = file::write(&parsed.inventory);
    let again = InventoryFile::parse(&written).unwrap();
    let mut expected = parsed.inventory.clone();
    expected.sort();
    assert_eq!(again.inventory, expected);
    assert_eq!(file::write(&again.inventory), written, "export is stable");
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = SMALL.replace("kind = \"switch\"", "kind = \"switch\"\ncolour = \"blue\"");
    let errors = errors_of(&text);
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "ligne {line} : équipement « SW-1 » : champ inconnu « colour »"
        )),
        "{errors:?}"
    );
}

#[test]
fn an_invalid_phone_names_its_line() {
    let text = SMALL.replace("06 12 34 56 78", "06 12");
    let errors = errors_of(&text);
    let line = text.lines().position(|l| l.contains("\"06 12\"")).unwrap() + 1;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "ligne {line} : contact « CT-A-RS » : numéro de téléphone invalide"
        )),
        "{errors:?}"
    );
}

#[test]
fn a_bad_reference_names_its_line() {
    let text = SMALL.replace("parent = \"SW-1\"", "parent = \"SW-9\"");
    let errors = errors_of(&text);
    let line = text.lines().position(|l| l.contains("SW-9")).unwrap() + 1;
    assert_eq!(
        errors,
        vec![format!(
            "ligne {line} : équipement « CAM-1 » : équipement « SW-9 » inconnu"
        )]
    );
}

#[test]
fn a_duplicate_reference_names_the_second_line() {
    let text = SMALL
        .replace("ref = \"CAM-1\"", "ref = \"SW-1\"")
        .replace("parent = \"SW-1\"\n", "");
    let errors = errors_of(&text);
    let line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("ref = \"SW-1\""))
        .nth(1)
        .unwrap()
        .0
        + 1;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "ligne {line} : équipement « SW-1 » : référence en double"
        )),
        "{errors:?}"
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let text = SMALL
        .replace("parent = \"SW-1\"", "parent = \"SW-9\"")
        .replace("contract = \"CTR-A\"", "contract = \"CTR-Z\"")
        .replace("manager = \"ST-CHEF\"", "manager = \"ST-NOBODY\"");
    assert_eq!(errors_of(&text).len(), 3, "{:?}", errors_of(&text));
}

#[test]
fn objects_stay_inside_their_client() {
    let text = format!(
        "{SMALL}\n[[client]]\nref = \"CLI-B\"\nname = \"Beta\"\n\n[[site]]\nref = \"SITE-B1\"\nclient = \"CLI-B\"\ncontract = \"CTR-A\"\nname = \"Beta 1\"\nsecurity_manager = \"CT-A-RS\"\n"
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("le contrat « CTR-A » appartient à un autre client"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("le contact « CT-A-RS » appartient à un autre client"),
        "{errors:?}"
    );
}

/// DSH-2: the contacts a contract sends the monthly report to are its client's own.
#[test]
fn report_contacts_are_contacts_of_the_contracts_client() {
    let named = SMALL.replace(
        "sla = { p1 = { on_site = \"2h\" } }",
        "sla = { p1 = { on_site = \"2h\" } }\nreport_contacts = [\"CT-A-RS\"]",
    );
    assert!(errors_of(&named).is_empty(), "{:?}", errors_of(&named));
    let unknown = named.replace(
        "report_contacts = [\"CT-A-RS\"]",
        "report_contacts = [\"CT-NOBODY\"]",
    );
    let errors = errors_of(&unknown);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("contact « CT-NOBODY » inconnu"),
        "{errors:?}"
    );
    let other = format!(
        "{named}\n[[client]]\nref = \"CLI-B\"\nname = \"Beta\"\n\n[[contact]]\nref = \"CT-B\"\nclient = \"CLI-B\"\nname = \"Bob\"\n"
    )
    .replace("report_contacts = [\"CT-A-RS\"]", "report_contacts = [\"CT-B\"]");
    let errors = errors_of(&other);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("le contact « CT-B » appartient à un autre client"),
        "{errors:?}"
    );
}

#[test]
fn parent_cycles_are_refused() {
    let text = SMALL.replace("kind = \"switch\"", "kind = \"switch\"\nparent = \"CAM-1\"");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|e| e.contains("(cycle)")), "{errors:?}");
}

#[test]
fn a_syntax_error_names_its_line() {
    let text = SMALL.replace("name = \"Switch\"", "name = \"Switch");
    let errors = errors_of(&text);
    let line = text.lines().position(|l| l == "name = \"Switch").unwrap() + 1;
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(&format!("ligne {line} :")),
        "{errors:?}"
    );
}

#[test]
fn an_unknown_section_is_refused() {
    let errors = errors_of("[[camera]]\nref = \"X\"\n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("ligne 1 : champ inconnu « camera »"),
        "{errors:?}"
    );
}

mod robustness {
    //! Whatever the text, parsing and checking answer with records or errors, never a panic,
    //! and every error names a line inside the file.

    use proptest::prelude::*;

    use super::*;

    fn never_panics(text: &str) {
        let lines = text.lines().count().max(1);
        match InventoryFile::parse(text) {
            Ok(parsed) => {
                if let Err(errors) = parsed.check(&KnownObjects::default()) {
                    assert!(errors.iter().all(|e| e.line <= lines + 1), "{errors:?}");
                }
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                assert!(errors.iter().all(|e| e.line <= lines + 1), "{errors:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_text(text in ".{0,400}") {
            never_panics(&text);
        }

        #[test]
        fn a_valid_file_with_one_line_damaged(line in 0usize..60, replacement in "[a-z_\\[\\]=\" {}0-9%.:+-]{0,30}") {
            let mut lines: Vec<&str> = SMALL.lines().collect();
            let index = line % lines.len();
            lines[index] = &replacement;
            never_panics(&lines.join("\n"));
        }

        #[test]
        fn a_valid_file_cut_anywhere(cut in 0usize..2000) {
            let end = cut.min(SMALL.len());
            if SMALL.is_char_boundary(end) {
                never_panics(&SMALL[..end]);
            }
        }
    }
}

/// Issue 26, item 1: a territory is read from the file, names sites and clients that exist,
/// and at least one of them.
#[test]
fn a_territory_names_known_sites_and_clients() {
    let text = format!(
        "{SMALL}\n[[territory]]\nref = \"TER-PARIS\"\nname = \"Agence de Paris\"\nsites = [\"SITE-A1\"]\nclients = [\"CLI-A\"]\n"
    );
    let parsed = InventoryFile::parse(&text).unwrap();
    assert!(parsed.check(&KnownObjects::default()).is_ok());
    let territory = &parsed.inventory.territories[0];
    assert_eq!(territory.name.as_str(), "Agence de Paris");
    // Written back and read again, it is the same.
    let written = file::write(&parsed.inventory);
    assert_eq!(
        InventoryFile::parse(&written)
            .unwrap()
            .inventory
            .territories,
        parsed.inventory.territories
    );
    assert!(written.contains("[[territory]]"), "{written}");

    let unknown = text.replace("sites = [\"SITE-A1\"]", "sites = [\"SITE-Z9\"]");
    let line = unknown.lines().position(|l| l.contains("SITE-Z9")).unwrap() + 1;
    assert_eq!(
        errors_of(&unknown),
        vec![format!(
            "ligne {line} : territoire « TER-PARIS » : site « SITE-Z9 » inconnu"
        )]
    );
    let empty = text
        .replace("sites = [\"SITE-A1\"]\n", "")
        .replace("clients = [\"CLI-A\"]\n", "");
    let errors = errors_of(&empty);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("un territoire couvre au moins un site ou un client"),
        "{errors:?}"
    );
}

/// Issue 26, item 3: a person's channel order is checked on import: channels a person is
/// reached by, each once, delays in order and bounded, each with its address.
#[test]
fn a_channel_order_is_checked_on_import() {
    let with = |order: &str, phone: bool| {
        let mut staff = format!("manager = \"ST-CHEF\"\nchannels = {order}");
        if phone {
            staff.push_str("\nphone = \"+33612345678\"");
        }
        errors_of(&SMALL.replace("manager = \"ST-CHEF\"", &staff))
    };
    let fine = r#"[{ channel = "sms" }, { channel = "voice", after_minutes = 5 }]"#;
    assert_eq!(with(fine, true), Vec::<String>::new());
    let cases = [
        (fine, false, "sans numéro de téléphone"),
        (
            r#"[{ channel = "voice", after_minutes = 5 }, { channel = "sms" }]"#,
            true,
            "dans l'ordre de leurs délais",
        ),
        (
            r#"[{ channel = "sms" }, { channel = "sms", after_minutes = 5 }]"#,
            true,
            "cité deux fois",
        ),
        (
            r#"[{ channel = "voice", after_minutes = 600 }]"#,
            true,
            "au plus 120 min",
        ),
        (
            r#"[{ channel = "webhook" }]"#,
            true,
            "SMS, appel vocal ou email",
        ),
    ];
    for (order, phone, expected) in cases {
        let errors = with(order, phone);
        assert_eq!(errors.len(), 1, "{order}: {errors:?}");
        assert!(
            errors[0].contains("ST-TECH") && errors[0].contains(expected),
            "{order}: {errors:?}"
        );
    }
}
