//! The domain's integration tests: the inventory file at its boundary (text in, records or
//! located errors out), and the architecture invariant that the domain has no IO.

mod alarm;
mod alarm_book;
mod architecture;
mod calendar;
mod code_map;
mod escalation;
mod example_fleet;
mod exigences;
mod history;
mod inventory_file;
mod notices;
mod oncall;
mod oncall_load;
mod policy;
mod report;
mod sms;
mod supervision;
mod ticket;
mod wire;
