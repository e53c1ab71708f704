//! The one integration-test binary of vigie-notify: every channel against a real peer started
//! by the test on 127.0.0.1 (aiosmtpd, an axum HTTP receiver), plus the inbound SMS parser
//! with property tests on arbitrary input.

mod inbound;
mod peers;
mod receiver;
mod sms;
mod smtp;
mod webhook;
