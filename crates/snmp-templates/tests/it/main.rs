//! Integration tests of vigie-snmp-templates: templates parsed (and refused with their line),
//! polls against a real private net-snmp `snmpd`, traps sent by net-snmp's `snmptrap`.

mod peers;
mod poll;
mod templates;
mod traps;
