//! Vigie's pure domain: the integrator's inventory, its people, who may see and change what,
//! and the inventory file. Nothing here touches IO, the clock, randomness or async: callers pass
//! `now` and data in, and get data and decisions back (see ARCHITECTURE.md).

pub mod access;
pub mod alarm;
pub mod audit;
pub mod availability;
pub mod calendar;
pub mod french;
pub mod inventory;
pub mod markup;
pub mod oncall;
pub mod oncall_load;
pub mod policy;
pub mod report;
pub mod sms;
pub mod supervision;
pub mod text;
pub mod ticket;
pub mod values;
pub mod wire;

pub use values::{EmailAddress, Name, PhoneNumber, Reference, TimeZoneName};
