//! The delivery channels of Vigie's notifications: e-mail over SMTP, SMS and calls through
//! HTTP gateways, signed webhooks, and the reading of SMS replies (acknowledgement by reply) and of
//! the support mailbox over IMAP (the service desk's tickets by e-mail).
//!
//! This crate only delivers: it knows nothing of alarms, people or the database. Each channel
//! is built once from its configuration (checked then, [`ConfigError`]) and sends one message
//! per call, with the page's idempotency key, returning what the peer answered or a
//! [`DeliveryError`] that says whether a retry can succeed. Every network exchange is bounded
//! in time ([`MAX_TIMEOUT_MS`]) and every read in size. The only clock-dependent rule, the SMS
//! sending limit, takes the time as an argument (`now_ms`).
//!
//! The channels and their error classification are described in `docs/notifications.md`.

mod email;
mod error;
mod http;
mod inbound;
mod key;
mod mail;
mod mailbox;
mod phone;
mod rate_limit;
mod sms;
mod template;
mod webhook;

pub use email::{
    Attachment, Email, MAX_SENT_ATTACHMENT_BYTES, SmtpConfig, SmtpSecurity, SmtpSender,
};
pub use error::{ConfigError, DeliveryError};
pub use http::{MAX_ANSWER_CHARS, MAX_RESPONSE_BYTES};
pub use inbound::{
    InboundError, InboundSms, InboundSmsConfig, MAX_INBOUND_BYTES, parse_inbound, read_keypad,
    reply_code,
};
pub use key::MAX_KEY_CHARS;
pub use mail::{InboundMail, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MailAttachment, read_mail};
pub use mailbox::{FetchedMail, ImapConfig, ImapSecurity, Mailbox, MailboxError, MailboxSession};
pub use phone::normalise_sender;
pub use rate_limit::{MAX_TRACKED_NUMBERS, RateLimit};
pub use sms::{SmsGateway, SmsGatewayConfig, VoiceGateway, VoiceGatewayConfig};
pub use webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook, WebhookConfig, sign, verify};

/// Longest timeout a channel accepts: a notification worker must not wait longer than this on
/// one peer.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// Header carrying the idempotency key, in e-mails and webhooks alike.
pub const KEY_HEADER: &str = "X-Vigie-Key";
