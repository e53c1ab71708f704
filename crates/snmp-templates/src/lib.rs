//! Vigie's per-model SNMP templates: which OIDs to read on an equipment and which traps it
//! sends, as TOML data files (`templates/*.toml`, format in `docs/snmp-templates.md`), with
//! the functions that poll an equipment with its template (`poll`) and map a received trap to
//! a check change (`map_trap`). Serves SUP-1 and ALR-2…ALR-5 (disk, temperature, recording
//! service, disk failure, power supply).

pub mod poll;
pub mod template;
pub mod trap;

pub use poll::{MAX_OIDS_PER_GET, MAX_ROWS_USED_PER_TABLE, PollResult, poll};
pub use template::{
    MAX_OIDS_PER_TEMPLATE, MAX_TEMPLATE_FILE_BYTES, MAX_TEMPLATES, MAX_TRAPS_PER_TEMPLATE,
    Template, TemplateError, Templates,
};
pub use trap::{TrapMapping, map_trap};
