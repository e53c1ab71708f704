//! The example fleet shipped in `examples/fleet.toml` parses and checks cleanly.

use vigie_domain::inventory::check::KnownObjects;
use vigie_domain::inventory::file::InventoryFile;

#[test]
fn the_example_fleet_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/fleet.toml");
    let text = std::fs::read_to_string(path).expect("examples/fleet.toml exists");
    let parsed = InventoryFile::parse(&text).unwrap_or_else(|e| panic!("{e:#?}"));
    parsed
        .check(&KnownObjects::default())
        .unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(parsed.inventory.clients.len() >= 3);
    assert!(parsed.inventory.sites.len() >= 12);
    assert!(parsed.inventory.equipment.len() >= 200);
}
