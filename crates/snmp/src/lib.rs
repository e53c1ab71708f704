//! Vigie's own SNMP implementation: BER codec (`ber`), v1/v2c/v3 messages (`message`), the
//! User-based Security Model (`usm`), an async UDP client (`client`) and the parsing side of
//! a notification receiver (`trap`). No dependency on the rest of Vigie.

pub mod ber;
pub mod client;
pub mod error;
pub mod message;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trap;
pub mod usm;

pub use ber::{Oid, Pdu, PduBody, PduKind, TrapV1Pdu, Value, VarBind};
pub use client::{Client, Security};
pub use error::Error;
pub use message::Version;
pub use trap::{
    Notification, TrapItem, TrapListener, TrapSecurity, inform_response, parse_notification,
    report_for,
};
pub use usm::{AuthProtocol, PrivProtocol, SecurityLevel, UsmUser};
