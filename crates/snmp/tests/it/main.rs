//! Integration tests of vigie-snmp against real net-snmp peers (`snmpd`, `snmptrap`,
//! `snmpinform`), plus property tests of the codec.

mod agent;
mod client;
mod codec;
mod misbehaving;
mod traps;
