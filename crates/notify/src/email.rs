//! E-mail over SMTP (plain, STARTTLS or implicit TLS, optional authentication), with the
//! idempotency key in `Message-ID` and `X-Vigie-Key` so that receivers can drop duplicates, and
//! `Auto-Submitted: auto-generated` so that auto-responders leave it unanswered.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{check_timeout, with_causes};
use crate::key::{self, check_key};
use crate::{ConfigError, DeliveryError, KEY_HEADER, MAX_ANSWER_CHARS};

/// One e-mail to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address: `astreinte@example.fr`.
    pub to: String,
    /// The recipient's name, shown by mail clients.
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    /// When present, the message is `multipart/alternative`: the text, then this HTML.
    pub html: Option<String>,
    /// Files joined to the message (a monthly report's PDF); with any, the message is
    /// `multipart/mixed`: the body, then each file.
    pub attachments: Vec<Attachment>,
}

/// A file joined to an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient sees: `rapport-supervision-2026-11.pdf`.
    pub file_name: String,
    /// `application/pdf`.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The largest attachment sent, in bytes: mail servers commonly refuse messages above 20 to
/// 25 MB, and base64 adds a third.
pub const MAX_SENT_ATTACHMENT_BYTES: usize = 15 * 1024 * 1024;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No encryption (a relay on the same machine or network); no password allowed.
    None,
    /// Plain connection upgraded by STARTTLS (port 587 usually); the upgrade is required, never
    /// skipped, so the password and messages never travel in clear.
    StartTls,
    /// TLS from the first byte (port 465 usually).
    Tls,
}

/// How to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender: `Vigie <vigie@example.fr>` or a bare address.
    pub from: String,
    /// Where replies go (`Reply-To`), when not to `from`: the support mailbox, so that a
    /// client's answer to a ticket's message reaches the service desk. Same forms as `from`.
    pub reply_to: Option<String>,
    /// Bound of one whole delivery, connection to last answer.
    pub timeout_ms: u64,
    /// Accepts any server certificate (self-signed, expired, other name). **For tests only**:
    /// with it, anyone on the path can read the messages and the password.
    pub accept_invalid_certs: bool,
}

/// The password never appears in debug output.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<masqué>"))
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .field("timeout_ms", &self.timeout_ms)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .finish()
    }
}

/// Sends e-mails through one SMTP server; each send opens its own connection, so a server
/// that restarted between two alarms costs nothing.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSender")
            .field("from", &self.from.to_string())
            .field("reply_to", &self.reply_to.as_ref().map(Mailbox::to_string))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    pub fn new(config: SmtpConfig) -> Result<SmtpSender, ConfigError> {
        let timeout = check_timeout(config.timeout_ms)?;
        let host = config.host.trim();
        if host.is_empty() {
            return Err(ConfigError::InvalidSmtp("hôte vide".to_owned()));
        }
        if config.port == 0 {
            return Err(ConfigError::InvalidSmtp("port 0".to_owned()));
        }
        let from =
            config
                .from
                .trim()
                .parse::<Mailbox>()
                .map_err(|error| ConfigError::InvalidSender {
                    value: config.from.clone(),
                    reason: error.to_string(),
                })?;
        let reply_to = match &config.reply_to {
            None => None,
            Some(value) => Some(value.trim().parse::<Mailbox>().map_err(|error| {
                ConfigError::InvalidReplyTo {
                    value: value.clone(),
                    reason: error.to_string(),
                }
            })?),
        };

        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port)
            .timeout(Some(timeout));
        builder = match config.security {
            SmtpSecurity::None => builder.tls(Tls::None),
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_parameters(
                host,
                config.accept_invalid_certs,
            )?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(
                host,
                config.accept_invalid_certs,
            )?)),
        };
        match (config.username, config.password) {
            (None, None) => {}
            (Some(username), Some(password)) => {
                if config.security == SmtpSecurity::None {
                    return Err(ConfigError::InvalidSmtp(
                        "un mot de passe ne circule pas en clair : choisissez STARTTLS ou TLS"
                            .to_owned(),
                    ));
                }
                builder = builder
                    .credentials(Credentials::new(username, password))
                    .authentication(vec![Mechanism::Plain, Mechanism::Login]);
            }
            (Some(_), None) => {
                return Err(ConfigError::InvalidSmtp(
                    "utilisateur sans mot de passe".to_owned(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::InvalidSmtp(
                    "mot de passe sans utilisateur".to_owned(),
                ));
            }
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            reply_to,
            timeout,
        })
    }

    /// Sends `email`, `message_id` being the idempotency key of the page. Returns the server's
    /// last answer (`250 2.0.0 Ok: queued as 4F2C1`), at most 200 characters.
    ///
    /// A 5xx answer (unknown recipient, authentication refused) is permanent; a 4xx answer, a
    /// refused or lost connection, a failed TLS handshake or the timeout are transient.
    pub async fn send(&self, email: &Email, message_id: &str) -> Result<String, DeliveryError> {
        check_key(message_id)?;
        let message = self.message(email, message_id)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_elapsed) => Err(DeliveryError::Transient(format!(
                "le serveur SMTP n'a pas terminé l'échange en {} ms",
                self.timeout.as_millis()
            ))),
            Ok(Ok(response)) => {
                let text = response.message().collect::<Vec<_>>().join(" ");
                let answer = format!("{} {text}", response.code());
                Ok(answer.trim().chars().take(MAX_ANSWER_CHARS).collect())
            }
            Ok(Err(error)) => Err(classify(&error)),
        }
    }

    fn message(&self, email: &Email, message_id: &str) -> Result<Message, DeliveryError> {
        let address: Address = email.to.trim().parse().map_err(|error| {
            DeliveryError::Permanent(format!(
                "adresse de destinataire invalide « {} » : {error}",
                email.to
            ))
        })?;
        let key_header = HeaderName::new_from_ascii_str(KEY_HEADER);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(email.to_name.clone(), address))
            .subject(email.subject.as_str())
            .message_id(Some(key::message_id(message_id)))
            .raw_header(HeaderValue::new(key_header, message_id.to_owned()))
            // RFC 3834: a machine wrote this. Auto-responders (absence notices, ticketing
            // systems, our own support mailbox) must not answer it, which stops mail loops.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(AUTO_SUBMITTED_HEADER),
                "auto-generated".to_owned(),
            ));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let built = if email.attachments.is_empty() {
            match &email.html {
                Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                    email.text.clone(),
                    html.clone(),
                )),
                None => builder.singlepart(SinglePart::plain(email.text.clone())),
            }
        } else {
            let body = match &email.html {
                Some(html) => MultiPart::alternative_plain_html(email.text.clone(), html.clone()),
                None => MultiPart::mixed().singlepart(SinglePart::plain(email.text.clone())),
            };
            let mut mixed = MultiPart::mixed().multipart(body);
            for attachment in &email.attachments {
                if attachment.content.len() > MAX_SENT_ATTACHMENT_BYTES {
                    return Err(DeliveryError::Permanent(format!(
                        "pièce jointe « {} » trop lourde ({} octets, au plus {MAX_SENT_ATTACHMENT_BYTES})",
                        attachment.file_name,
                        attachment.content.len()
                    )));
                }
                let content_type =
                    ContentType::parse(&attachment.content_type).map_err(|error| {
                        DeliveryError::Permanent(format!(
                            "type de pièce jointe invalide « {} » : {error}",
                            attachment.content_type
                        ))
                    })?;
                mixed = mixed.singlepart(
                    lettre::message::Attachment::new(attachment.file_name.clone())
                        .body(attachment.content.clone(), content_type),
                );
            }
            builder.multipart(mixed)
        };
        built.map_err(|error| {
            DeliveryError::Permanent(format!("message impossible à construire : {error}"))
        })
    }
}

/// RFC 3834's header, set on every message Vigie sends.
const AUTO_SUBMITTED_HEADER: &str = "Auto-Submitted";

fn tls_parameters(host: &str, accept_invalid_certs: bool) -> Result<TlsParameters, ConfigError> {
    TlsParameters::builder(host.to_owned())
        .dangerous_accept_invalid_certs(accept_invalid_certs)
        .build_rustls()
        .map_err(|error| ConfigError::Tls(with_causes(&error)))
}

/// Whether trying again can help, from lettre's error.
fn classify(error: &lettre::transport::smtp::Error) -> DeliveryError {
    let detail = with_causes(error);
    if error.is_permanent() {
        DeliveryError::Permanent(format!("refus définitif du serveur SMTP : {detail}"))
    } else if error.is_transient() {
        DeliveryError::Transient(format!("refus temporaire du serveur SMTP : {detail}"))
    } else if error.is_timeout() {
        DeliveryError::Transient(format!("délai dépassé avec le serveur SMTP : {detail}"))
    } else if error.is_tls() {
        DeliveryError::Transient(format!("échec TLS avec le serveur SMTP : {detail}"))
    } else if error.is_client() {
        // The server lacks something the message or configuration needs (STARTTLS, a common
        // authentication mechanism, SMTPUTF8): the next attempt would meet the same server.
        DeliveryError::Permanent(format!("échange SMTP impossible : {detail}"))
    } else {
        // Refused or lost connection, failed TLS handshake (lettre reports both as a
        // connection error), or an answer cut short.
        DeliveryError::Transient(format!(
            "connexion ou échange impossible avec le serveur SMTP : {detail}"
        ))
    }
}
