//! The one integration-test binary of vigie-notify: every channel against a real peer started
//! by the test on 127.0.0.1 (aiosmtpd, an axum HTTP receiver, Dovecot), plus the inbound SMS
//! and e-mail readers with property tests on arbitrary input.

mod imap_peer;
mod inbound;
mod mail;
mod mailbox;
mod peers;
mod receiver;
mod sms;
mod smtp;
mod webhook;
