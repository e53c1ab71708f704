//! Delivery of pages (NOT-1…NOT-7, X-1): the loop that fires escalation timers when they fall
//! due and delivers the outbox — email over SMTP, SMS through the HTTP gateway, signed
//! webhooks, the supervision console. Any number of server processes run it on one database:
//! a timer fires in the one transaction that claims it, and a page is delivered by the one
//! worker holding its lease. A page whose channel fails is retried with a doubling delay, at
//! most `max_attempts` times; a permanent failure (or the last retry) is recorded as a
//! visible `notification_failed` event on the alarm, and a Critical page falls back to
//! another channel (SMS → call when a voice gateway is configured → email → console).
//!
//! The one window left: a provider accepts a page and the process dies before recording it.
//! The lease runs out and another worker sends the page again, with the same idempotency key
//! (`X-Vigie-Key`, `Message-ID`) so that a receiver can drop it; the resend is logged.
//!
//! Under `vigie demo` ([`Config::demo`]) no channel is used: pages and ticket messages are
//! recorded sent to the demo's outbox ([`DEMO_OUTBOX`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{Notify, OnceCell, Semaphore, mpsc};
use vigie_domain::alarm::escalation::{self, AckInvite, CONSOLE, Notice};
use vigie_domain::policy::{Channel, Policy};
use vigie_domain::ticket::message::{LINK, TicketNotice, link_page, with_reply_line};
use vigie_notify::{DeliveryError, Email, SmsGateway, SmtpSender, VoiceGateway, Webhook};
use vigie_store::{
    ClaimedNotification, DeliveryOutcome, Escalation, MAX_BATCH, Outgoing, StoreError, System,
};

use crate::AppState;
use crate::config::Config;

/// How long a claimed page is reserved for its worker: longer than any channel's timeout, so
/// that a page is claimed again only when its worker is gone.
pub const LEASE_MS: i64 = 120_000;
/// The longest the loop sleeps without being woken.
const IDLE: Duration = Duration::from_secs(1);

/// The handle that wakes the delivery loop (after the alarm worker queued pages).
#[derive(Debug, Clone)]
pub struct Deliveries {
    /// The delivery's handle on the whole store (it claims pages, records outcomes).
    system: System,
    wake: Arc<Notify>,
    /// The key that signs acknowledgement links and SMS codes, shared by every process
    /// through the database; read on first use.
    key: Arc<OnceCell<Vec<u8>>>,
}

impl Deliveries {
    pub(crate) fn new(system: System) -> Deliveries {
        Deliveries {
            system,
            wake: Arc::default(),
            key: Arc::default(),
        }
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The signing key, created by the first process that needs it.
    pub async fn key(&self) -> Result<Vec<u8>, StoreError> {
        self.key
            .get_or_try_init(|| async {
                let mut fresh = [0u8; 32];
                getrandom::getrandom(&mut fresh)
                    .map_err(|e| StoreError::other(anyhow::anyhow!("aléa indisponible : {e}")))?;
                let stored = self
                    .system
                    .secret_setting_or_insert("acknowledgement_key", &hex::encode(fresh))
                    .await?;
                hex::decode(stored).map_err(|e| {
                    StoreError::other(anyhow::anyhow!(
                        "clé d'acquittement stockée illisible : {e}"
                    ))
                })
            })
            .await
            .cloned()
    }
}

/// What the store needs to plan escalations, from the configuration: the policy (the alarm
/// worker's too) and the configured webhooks' names. `vigie serve` refuses to start with a
/// policy file that does not read; here such a file leaves the default policy, logged.
pub fn escalation(config: &Config) -> Escalation {
    let policy = config.policy().unwrap_or_else(|error| {
        tracing::error!(%error, "politique refusée : politique par défaut");
        Policy::default_policy()
    });
    Escalation {
        policy: Arc::new(policy),
        webhooks: config
            .notifications
            .webhooks
            .iter()
            .map(|w| w.name.clone())
            .collect(),
    }
}

/// The configured channels. A channel left empty in the configuration is absent: its pages
/// fail with « canal non configuré » (visible), they are not silently dropped.
pub struct Channels {
    smtp: Option<SmtpSender>,
    sms: Option<SmsGateway>,
    voice: Option<VoiceGateway>,
    webhooks: BTreeMap<String, Webhook>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("smtp", &self.smtp.is_some())
            .field("sms", &self.sms.is_some())
            .field("voice", &self.voice.is_some())
            .field("webhooks", &self.webhooks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Channels {
    pub fn from_config(config: &Config) -> Result<Channels, String> {
        let smtp = if config.smtp.host.is_empty() {
            None
        } else {
            let c = &config.smtp;
            Some(
                SmtpSender::new(vigie_notify::SmtpConfig {
                    host: c.host.clone(),
                    port: c.port,
                    security: match c.security.as_str() {
                        "none" => vigie_notify::SmtpSecurity::None,
                        "tls" => vigie_notify::SmtpSecurity::Tls,
                        _ => vigie_notify::SmtpSecurity::StartTls,
                    },
                    username: (!c.username.is_empty()).then(|| c.username.clone()),
                    password: (!c.password.0.is_empty()).then(|| c.password.0.clone()),
                    from: c.from.clone(),
                    // Replies go to the support mailbox, when Vigie reads one (SAV-1, SAV-6).
                    reply_to: config
                        .mailbox
                        .is_read()
                        .then(|| config.mailbox.address.clone()),
                    timeout_ms: u64::from(c.timeout_seconds) * 1000,
                    accept_invalid_certs: false,
                })
                .map_err(|e| format!("[smtp] : {e}"))?,
            )
        };
        let sms = if config.sms.url.is_empty() {
            None
        } else {
            let c = &config.sms;
            Some(
                SmsGateway::new(gateway_config(
                    "[sms]",
                    GatewaySection {
                        url: &c.url,
                        method: &c.method,
                        content_type: &c.content_type,
                        body: &c.body,
                        headers: &c.headers,
                        max_per_recipient: c.max_per_recipient,
                        per_minutes: c.per_minutes,
                        timeout_seconds: c.timeout_seconds,
                    },
                )?)
                .map_err(|e| format!("[sms] : {e}"))?,
            )
        };
        let voice = if config.voice.is_configured() {
            let c = &config.voice;
            Some(
                VoiceGateway::new(gateway_config(
                    "[voice]",
                    GatewaySection {
                        url: &c.url,
                        method: &c.method,
                        content_type: &c.content_type,
                        body: &c.body,
                        headers: &c.headers,
                        max_per_recipient: c.max_per_recipient,
                        per_minutes: c.per_minutes,
                        timeout_seconds: c.timeout_seconds,
                    },
                )?)
                .map_err(|e| format!("[voice] : {e}"))?,
            )
        } else {
            None
        };
        let mut webhooks = BTreeMap::new();
        for webhook in &config.notifications.webhooks {
            webhooks.insert(
                webhook.name.clone(),
                Webhook::new(vigie_notify::WebhookConfig {
                    url: webhook.url.clone(),
                    secret: webhook.secret.0.as_bytes().to_vec(),
                    timeout_ms: 15_000,
                })
                .map_err(|e| format!("webhook « {} » : {e}", webhook.name))?,
            );
        }
        Ok(Channels {
            smtp,
            sms,
            voice,
            webhooks,
        })
    }

    /// Whether calls can be placed: a Critical SMS that fails for good then falls back to a
    /// call (issue 26, item 3).
    pub fn has_voice(&self) -> bool {
        self.voice.is_some()
    }
}

/// The settings an SMS or voice gateway's section share.
struct GatewaySection<'a> {
    url: &'a str,
    method: &'a str,
    content_type: &'a str,
    body: &'a str,
    headers: &'a [crate::config::Password],
    max_per_recipient: u32,
    per_minutes: u32,
    timeout_seconds: u32,
}

/// A gateway's request template from its configuration section (`[sms]`, `[voice]`).
fn gateway_config(
    section: &str,
    c: GatewaySection<'_>,
) -> Result<vigie_notify::SmsGatewayConfig, String> {
    let mut headers = Vec::new();
    for header in c.headers {
        let (name, value) = header
            .0
            .split_once(':')
            .ok_or_else(|| format!("{section} headers : chaque en-tête s'écrit « Nom: valeur »"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(vigie_notify::SmsGatewayConfig {
        url: c.url.to_owned(),
        method: c.method.to_owned(),
        headers,
        body: (!c.body.is_empty()).then(|| c.body.to_owned()),
        content_type: (!c.content_type.is_empty()).then(|| c.content_type.to_owned()),
        timeout_ms: u64::from(c.timeout_seconds) * 1000,
        rate_limit: vigie_notify::RateLimit {
            max: c.max_per_recipient,
            per_ms: i64::from(c.per_minutes) * 60_000,
        },
    })
}

fn mac(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Whether `given` is the first `length` bytes of `message`'s signature by `key`, compared in
/// constant time: the one check behind every signed link, short link and calendar key.
fn signature_holds(key: &[u8], message: &str, given: &[u8], length: usize) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(message.as_bytes());
    given.len() == length && mac.verify_truncated_left(given).is_ok()
}

/// A signed token for a link of `purpose` naming `id`, valid until `expires`:
/// `<id>-<expires>-<HMAC, 16 bytes in hex>`.
fn signed_token(key: &[u8], purpose: &str, id: &str, expires: i64) -> String {
    let signature = mac(key, &format!("{purpose}:{id}:{expires}"));
    format!("{id}-{expires}-{}", hex::encode(&signature[..16]))
}

/// What a token of `purpose` names and its expiry, if its signature holds (expiry is checked
/// by the caller).
fn read_signed_token(key: &[u8], purpose: &str, token: &str) -> Option<(String, i64)> {
    let mut parts = token.splitn(3, '-');
    let id = parts.next()?.to_owned();
    let expires: i64 = parts.next()?.parse().ok()?;
    let given = hex::decode(parts.next()?).ok()?;
    signature_holds(key, &format!("{purpose}:{id}:{expires}"), &given, 16).then_some((id, expires))
}

/// The key of a calendar feed's address (`feed` is `astreinte` or `personnel`, `id` the
/// rotation's or the member's reference): an on-call calendar a phone subscribes to once, so
/// without expiry; the server's signing key, under a label of its own, signs nothing else.
/// `generation` is the address's: revoking it (issue 26, item 8) moves to the next, and the
/// old key no longer holds; generation 0 signs as addresses were signed before revocation.
pub fn calendar_key(key: &[u8], feed: &str, id: &str, generation: u32) -> String {
    hex::encode(&mac(key, &calendar_message(feed, id, generation))[..16])
}

fn calendar_message(feed: &str, id: &str, generation: u32) -> String {
    if generation == 0 {
        format!("vigie agenda\0{feed}\0{id}")
    } else {
        format!("vigie agenda\0{feed}\0{id}\0{generation}")
    }
}

/// Whether `given` is the key of that calendar feed at its generation (compared in constant
/// time).
pub fn calendar_key_holds(key: &[u8], feed: &str, id: &str, generation: u32, given: &str) -> bool {
    hex::decode(given).is_ok_and(|given| {
        signature_holds(key, &calendar_message(feed, id, generation), &given, 16)
    })
}

/// The signed token of an acknowledgement link for page `id`, valid until `expires`.
pub fn link_token(key: &[u8], id: i64, expires: i64) -> String {
    signed_token(key, "lien", &id.to_string(), expires)
}

/// The page a link token names, if its signature holds (expiry is checked by the caller).
pub fn read_link_token(key: &[u8], token: &str) -> Option<(i64, i64)> {
    let (id, expires) = read_signed_token(key, "lien", token)?;
    Some((id.parse().ok()?, expires))
}

/// A token naming page `id` for `purpose`: `<page>-<the first `bytes` of its HMAC, in
/// base64url>`. Its expiry is not written in it but read from the page's creation
/// (`[notifications] acknowledgement_hours` later), which keeps it short.
fn page_token(key: &[u8], purpose: &str, id: i64, bytes: usize) -> String {
    use base64::Engine;
    let signature = mac(key, &format!("{purpose}:{id}"));
    format!(
        "{id}-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&signature[..bytes])
    )
}

/// The page a token of `purpose` names, if its signature of `bytes` holds.
fn read_page_token(key: &[u8], purpose: &str, token: &str, bytes: usize) -> Option<i64> {
    use base64::Engine;
    let (id, signature) = token.split_once('-')?;
    let id: i64 = id.parse().ok()?;
    let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .ok()?;
    signature_holds(key, &format!("{purpose}:{id}"), &given, bytes).then_some(id)
}

/// The short acknowledgement link an SMS carries (issue 26, item 6): 64 bits of signature,
/// beyond guessing through one web page, keep a page in one SMS segment.
pub fn short_link_token(key: &[u8], id: i64) -> String {
    page_token(key, "lien court", id, 8)
}

/// The page a short link token names, if its signature holds.
pub fn read_short_link_token(key: &[u8], token: &str) -> Option<i64> {
    read_page_token(key, "lien court", token, 8)
}

/// The token of a call's keypad callback (issue 26, item 3), bound to that page, hence to its
/// alarm and the person called, as an SMS's reply code is; 128 bits, since nothing limits its
/// length.
pub fn keypad_token(key: &[u8], id: i64) -> String {
    page_token(key, "touches", id, 16)
}

/// The page a keypad token names, if its signature holds.
pub fn read_keypad_token(key: &[u8], token: &str) -> Option<i64> {
    read_page_token(key, "touches", token, 16)
}

/// How long a link sent to a client stays valid (SAV-6 confirmation, SAV-7 survey).
pub const CLIENT_LINK_DAYS: i64 = 30;

/// The signed token of the link that confirms the fix of ticket `number` (SAV-6).
pub fn confirmation_token(key: &[u8], number: u64, expires: i64) -> String {
    signed_token(key, "confirmation", &number.to_string(), expires)
}

/// The ticket a confirmation token names and its expiry, if its signature holds.
pub fn read_confirmation_token(key: &[u8], token: &str) -> Option<(u64, i64)> {
    let (number, expires) = read_signed_token(key, "confirmation", token)?;
    Some((number.parse().ok()?, expires))
}

/// The signed token of the survey link of ticket `number`, valid until `expires`.
pub fn survey_token(key: &[u8], number: u64, expires: i64) -> String {
    signed_token(key, "enquete", &number.to_string(), expires)
}

/// The ticket a survey token names and its expiry, if its signature holds.
pub fn read_survey_token(key: &[u8], token: &str) -> Option<(u64, i64)> {
    let (number, expires) = read_signed_token(key, "enquete", token)?;
    Some((number.parse().ok()?, expires))
}

/// The 6-digit code an SMS reply gives to acknowledge page `id`: bound to that page, hence
/// to its alarm and recipient; an old SMS's code names the old page.
pub fn reply_code(key: &[u8], id: i64) -> String {
    let digest = mac(key, &format!("code:{id}"));
    let number = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("{:06}", number % 1_000_000)
}

/// The invitation to acknowledge without logging in, for a person's SMS or email.
fn invite(state: &AppState, key: &[u8], claimed: &ClaimedNotification) -> Option<AckInvite> {
    let page = &claimed.notice()?.page;
    // NOT-4: only the integrator's staff stop an escalation; a client's page invites nothing.
    if !matches!(page.channel, Channel::Sms | Channel::Email)
        || page.recipient == CONSOLE
        || !page.staff
    {
        return None;
    }
    let expires = claimed
        .created_ms
        .saturating_add(i64::from(state.config.notifications.acknowledgement_hours) * 3_600_000);
    let public_url = state.config.server.public_url.trim_end_matches('/');
    Some(AckInvite {
        link: format!("{public_url}/ack/{}", link_token(key, claimed.id, expires)),
        short_link: format!("{public_url}/a/{}", short_link_token(key, claimed.id)),
        code: reply_code(key, claimed.id),
    })
}

/// The JSON a webhook receives.
fn webhook_body(notice: &Notice) -> serde_json::Value {
    serde_json::json!({
        "type": "alarm.page",
        "key": notice.page.key,
        "step": notice.page.step,
        "severity": notice.alarm.severity.key(),
        "client": notice.client_name,
        "site": notice.site_name,
        "equipment": notice.equipment_name,
        "acknowledge_by": notice.acknowledge_by,
        "alarm": notice.alarm,
    })
}

/// What the demo's outbox answers for a page it keeps (`vigie demo`): recorded as the
/// provider's answer, so that the outbox says why nothing left.
pub const DEMO_OUTBOX: &str = "boîte d'envoi de démonstration";

async fn send(
    state: &AppState,
    channels: &Channels,
    key: &[u8],
    claimed: &ClaimedNotification,
    now: i64,
) -> Result<String, DeliveryError> {
    // The demo's fleet and people are fictitious: every page and ticket message is recorded
    // sent and stays readable in the outbox (`notifications`), and nothing leaves the machine,
    // whatever the channels' configuration.
    if state.config.demo && claimed.channel() != Channel::Console {
        return Ok(DEMO_OUTBOX.into());
    }
    let not_configured = |what: &str| {
        DeliveryError::Permanent(format!(
            "canal non configuré : {what} (configuration du serveur)"
        ))
    };
    let notice = match &claimed.outgoing {
        Outgoing::Page(notice) => notice,
        Outgoing::Report(report) => {
            return send_report(state, channels, report, not_configured).await;
        }
        Outgoing::Account(notice) => {
            let smtp = channels
                .smtp
                .as_ref()
                .ok_or_else(|| not_configured("[smtp]"))?;
            return smtp
                .send(
                    &Email {
                        to: notice.address.clone(),
                        to_name: Some(notice.name.clone()),
                        subject: notice.subject.clone(),
                        text: notice.text.clone(),
                        html: None,
                        attachments: Vec::new(),
                    },
                    &notice.key,
                )
                .await;
        }
        Outgoing::Ticket(message) => {
            let mut message = message.as_ref().clone();
            // SAV-6: confirming by a reply is offered only when the replies are read.
            let read = state.config.mailbox.is_read();
            message.message.text = with_reply_line(&message.message.text, read);
            message.message.html = with_reply_line(&message.message.html, read);
            if let Some(page) = link_page(message.purpose) {
                // SAV-6, SAV-7: the signed link, written now with the server's address and key.
                let expires = claimed
                    .created_ms
                    .saturating_add(CLIENT_LINK_DAYS * 86_400_000);
                let token = match page {
                    "survey" => survey_token(key, message.ticket, expires),
                    _ => confirmation_token(key, message.ticket, expires),
                };
                let link = format!(
                    "{}/{page}/{token}",
                    state.config.server.public_url.trim_end_matches('/'),
                );
                let body = &mut message.message;
                body.text = body.text.replace(LINK, &link);
                body.sms = body.sms.replace(LINK, &link);
                body.html = body
                    .html
                    .replace(LINK, &format!("<a href=\"{link}\">{link}</a>"));
            }
            return send_ticket_message(channels, &message, now, not_configured).await;
        }
    };
    let page = &notice.page;
    match page.channel {
        Channel::Console => Ok("console".into()),
        Channel::Email => {
            let smtp = channels
                .smtp
                .as_ref()
                .ok_or_else(|| not_configured("[smtp]"))?;
            let message = escalation::render(notice, invite(state, key, claimed).as_ref());
            smtp.send(
                &Email {
                    to: page.address.clone(),
                    to_name: Some(page.name.clone()),
                    subject: message.subject,
                    text: message.text,
                    html: Some(message.html),
                    attachments: Vec::new(),
                },
                &page.key,
            )
            .await
        }
        Channel::Sms => {
            let sms = channels
                .sms
                .as_ref()
                .ok_or_else(|| not_configured("[sms]"))?;
            let message = escalation::render(notice, invite(state, key, claimed).as_ref());
            let text = vigie_domain::sms::compose(&message.sms);
            sms.send(
                &page.address,
                &text.text,
                text.encoding.key(),
                &page.key,
                now,
            )
            .await
        }
        Channel::Voice => {
            let voice = channels
                .voice
                .as_ref()
                .ok_or_else(|| not_configured("[voice]"))?;
            // NOT-4: only the integrator's staff are asked to acknowledge, by the keypad.
            let keypad = page.staff && page.recipient != CONSOLE;
            let text = escalation::render_voice(notice, keypad);
            let callback = format!(
                "{}/api/v1/voice/keypad/{}",
                state.config.server.public_url.trim_end_matches('/'),
                keypad_token(key, claimed.id)
            );
            voice
                .call(&page.address, &text, &callback, &page.key, now)
                .await
        }
        Channel::Webhook => {
            let webhook = channels
                .webhooks
                .get(&page.address)
                .ok_or_else(|| not_configured(&format!("webhook « {} »", page.address)))?;
            webhook.send(&webhook_body(notice), &page.key, now).await
        }
    }
}

/// A monthly report (issue 9): the message written when it was filed, its PDF read from the
/// files and joined. A report deleted since cannot be sent: a permanent failure.
async fn send_report(
    state: &AppState,
    channels: &Channels,
    report: &vigie_store::reports::ReportNotice,
    not_configured: impl Fn(&str) -> DeliveryError,
) -> Result<String, DeliveryError> {
    let smtp = channels
        .smtp
        .as_ref()
        .ok_or_else(|| not_configured("[smtp]"))?;
    let (info, content) = match state
        .store
        .document(
            &vigie_domain::access::Actor::console("envoi"),
            report.report_document,
        )
        .await
    {
        Ok(document) => document,
        Err(vigie_store::StoreError::NotFound) => {
            return Err(DeliveryError::Permanent(format!(
                "rapport n° {} introuvable dans les dossiers",
                report.report_document
            )));
        }
        Err(error) => return Err(DeliveryError::Transient(error.to_string())),
    };
    let mail = &report.mail;
    smtp.send(
        &Email {
            to: mail.address.clone(),
            to_name: Some(mail.name.clone()),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: Some(mail.html.clone()),
            attachments: vec![vigie_notify::Attachment {
                file_name: mail.file_name.clone(),
                content_type: info.content_type,
                content,
            }],
        },
        &mail.key,
    )
    .await
}

/// A message about a ticket (SAV-2, INC-3): written when it was queued, sent as is.
async fn send_ticket_message(
    channels: &Channels,
    message: &TicketNotice,
    now: i64,
    not_configured: impl Fn(&str) -> DeliveryError,
) -> Result<String, DeliveryError> {
    match message.channel {
        Channel::Console => Ok("console".into()),
        Channel::Email => {
            let smtp = channels
                .smtp
                .as_ref()
                .ok_or_else(|| not_configured("[smtp]"))?;
            smtp.send(
                &Email {
                    to: message.address.clone(),
                    to_name: Some(message.name.clone()),
                    subject: message.message.subject.clone(),
                    text: message.message.text.clone(),
                    html: Some(message.message.html.clone()),
                    attachments: Vec::new(),
                },
                &message.key,
            )
            .await
        }
        Channel::Sms => {
            let sms = channels
                .sms
                .as_ref()
                .ok_or_else(|| not_configured("[sms]"))?;
            let text = vigie_domain::sms::compose(&message.message.sms);
            sms.send(
                &message.address,
                &text.text,
                text.encoding.key(),
                &message.key,
                now,
            )
            .await
        }
        // A ticket's messages are written: never queued for a call.
        Channel::Voice => Err(DeliveryError::Permanent(
            "un message de ticket ne part pas par appel vocal".to_owned(),
        )),
        Channel::Webhook => {
            let webhook = channels
                .webhooks
                .get(&message.address)
                .ok_or_else(|| not_configured(&format!("webhook « {} »", message.address)))?;
            let body = serde_json::json!({
                "type": "ticket.message",
                "key": message.key,
                "ticket": message.ticket,
                "purpose": message.purpose,
                "priority": message.priority,
                "subject": message.message.subject,
                "text": message.message.text,
            });
            webhook.send(&body, &message.key, now).await
        }
    }
}

/// When a page that failed `attempts` times is tried again.
fn retry_delay_ms(config: &Config, attempts: i64) -> i64 {
    let first = i64::from(config.notifications.retry_first_seconds) * 1000;
    let max = i64::from(config.notifications.retry_max_seconds) * 1000;
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    first.saturating_mul(1i64 << doublings).min(max)
}

/// Delivers one claimed page and says what became of it.
pub(crate) async fn deliver(
    state: &AppState,
    channels: &Channels,
    key: &[u8],
    claimed: ClaimedNotification,
) -> DeliveryOutcome {
    let (key_text, channel, recipient, address) = (
        claimed.key().to_owned(),
        claimed.channel(),
        claimed.recipient().to_owned(),
        claimed.address().to_owned(),
    );
    if claimed.attempts > 1 && claimed.last_error.is_none() {
        tracing::warn!(key = %key_text, "page reprise après l'arrêt du processus qui l'envoyait : elle a pu partir déjà ; renvoyée avec la même clé d'idempotence");
    }
    let outcome = send(state, channels, key, &claimed, state.clock.now_ms()).await;
    let now = state.clock.now_ms();
    match outcome {
        Ok(answer) => {
            tracing::debug!(key = %key_text, channel = escalation::channel_key(channel), %recipient, "notification envoyée");
            state.metrics.notification("sent");
            DeliveryOutcome::Sent {
                id: claimed.id,
                at: now,
                answer,
                ticket_message: claimed.ticket_message(),
            }
        }
        Err(error) => {
            let last = claimed.attempts >= i64::from(state.config.notifications.max_attempts);
            if error.is_permanent() || last {
                // Critical pages only have a fallback channel; a ticket message has none.
                let fallback = claimed.notice().and_then(|notice| {
                    escalation::fallback(&notice.page, channels.has_voice()).map(|fallback| {
                        Box::new(Notice {
                            page: fallback,
                            ..notice.clone()
                        })
                    })
                });
                tracing::error!(key = %key_text, %error, attempts = claimed.attempts, fallback = fallback.as_ref().map(|f| escalation::channel_key(f.page.channel)).unwrap_or("aucun"), "notification en échec");
                state.metrics.notification("failed");
                DeliveryOutcome::Failed {
                    at: now,
                    error: error.to_string(),
                    fallback,
                    page: Box::new(claimed),
                }
            } else {
                let mut retry_at =
                    now.saturating_add(retry_delay_ms(&state.config, claimed.attempts));
                let limited_until = match channel {
                    Channel::Sms => channels
                        .sms
                        .as_ref()
                        .and_then(|sms| sms.rate_limited_until(&address, now)),
                    Channel::Voice => channels
                        .voice
                        .as_ref()
                        .and_then(|voice| voice.rate_limited_until(&address, now)),
                    _ => None,
                };
                if let Some(until) = limited_until {
                    retry_at = retry_at.max(until);
                }
                tracing::warn!(key = %key_text, %error, attempts = claimed.attempts, retry_at, "notification à renvoyer");
                state.metrics.notification("retried");
                DeliveryOutcome::Retry {
                    id: claimed.id,
                    at: retry_at,
                    error: error.to_string(),
                }
            }
        }
    }
}

/// How often the loop looks for escalation timers due (a step fires at most this late, plus
/// the time of its transaction).
const TIMER_CHECK: Duration = Duration::from_millis(250);

/// Outcomes waiting for the recorder; a delivery waits when it is full.
const OUTCOME_QUEUE: usize = 4096;

/// Records outcomes in batches (one transaction for all that arrived meanwhile), so that a
/// burst of pages costs a few commits, not one per page.
async fn record_outcomes(
    state: AppState,
    owner: Arc<str>,
    mut outcomes: mpsc::Receiver<DeliveryOutcome>,
) {
    while let Some(first) = outcomes.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH as usize {
            match outcomes.try_recv() {
                Ok(outcome) => batch.push(outcome),
                Err(_) => break,
            }
        }
        let mut wake = false;
        for attempt in 1..=3 {
            match state
                .deliveries
                .system
                .record_outcomes(&owner, &state.escalation().policy, &batch)
                .await
            {
                Ok(recorded) => {
                    for (outcome, done) in batch.iter().zip(recorded) {
                        if !done {
                            let id = match outcome {
                                DeliveryOutcome::Sent { id, .. }
                                | DeliveryOutcome::Retry { id, .. } => *id,
                                DeliveryOutcome::Failed { page, .. } => page.id,
                            };
                            tracing::warn!(
                                notification = id,
                                "bail perdu avant l'enregistrement de l'envoi : un autre processus a repris la page"
                            );
                        }
                        wake |= matches!(
                            outcome,
                            DeliveryOutcome::Failed {
                                fallback: Some(_),
                                ..
                            }
                        );
                    }
                    break;
                }
                Err(error) if attempt < 3 => {
                    tracing::warn!(%error, attempt, "enregistrement des envois ; nouvel essai");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(error) => {
                    tracing::error!(%error, pages = batch.len(), "résultats d'envoi non enregistrés ; les pages seront reprises à la fin de leur bail")
                }
            }
        }
        if wake {
            state.deliveries.wake();
        }
    }
}

/// The delivery side of one process: its channels, its slots, its name on leases.
pub struct Worker {
    state: AppState,
    /// When timers were last looked at: at most every [`TIMER_CHECK`], not at every page.
    timers_checked: std::sync::Mutex<Option<tokio::time::Instant>>,
    channels: Arc<Channels>,
    slots: Arc<Semaphore>,
    owner: Arc<str>,
    outcomes: mpsc::Sender<DeliveryOutcome>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .finish()
    }
}

impl Worker {
    /// A worker and its outcome recorder (spawned).
    pub fn start(state: AppState, channels: Channels) -> Worker {
        let owner: Arc<str> = owner_name().into();
        let (outcomes, receiver) = mpsc::channel(OUTCOME_QUEUE);
        tokio::spawn(record_outcomes(state.clone(), owner.clone(), receiver));
        Worker {
            timers_checked: std::sync::Mutex::new(None),
            slots: Arc::new(Semaphore::new(state.config.notifications.max_in_flight)),
            channels: Arc::new(channels),
            owner,
            outcomes,
            state,
        }
    }

    /// One pass: fires the timers due, then claims and starts the delivery of the pages due,
    /// at most as many as free delivery slots. Returns how many pages it started.
    pub async fn step(&self) -> Result<usize, StoreError> {
        let state = &self.state;
        let now = state.clock.now_ms();
        let check_timers = {
            let mut checked = self.timers_checked.lock().expect("timers lock");
            let due = checked.is_none_or(|at| at.elapsed() >= TIMER_CHECK);
            if due {
                *checked = Some(tokio::time::Instant::now());
            }
            due
        };
        // Timers due, a batch at a time until none is left.
        let mut more = check_timers;
        while more {
            let fired = state
                .deliveries
                .system
                .fire_due_timers(&state.escalation(), now, MAX_BATCH)
                .await?;
            for timer in &fired {
                tracing::info!(alarm = timer.timer.alarm, step = %timer.timer.step_label(), outcome = ?timer.outcome, "étape d'escalade");
            }
            more = (fired.len() as i64) >= MAX_BATCH;
        }
        let slots = state.config.notifications.max_in_flight;
        let free = self.slots.available_permits().min(MAX_BATCH as usize);
        // Claim in batches: while pages are in flight, wait for a quarter of the slots to be
        // free rather than claiming one page per finished delivery.
        if free == 0 || (free < (slots / 4).max(1) && free < slots) {
            return Ok(0);
        }
        let claimed = state
            .deliveries
            .system
            .claim_notifications(&self.owner, now, LEASE_MS, free as i64)
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let key = state.deliveries.key().await?;
        let started = claimed.len();
        for page in claimed {
            let Ok(permit) = self.slots.clone().acquire_owned().await else {
                break;
            };
            let (state, channels, key, outcomes) = (
                state.clone(),
                self.channels.clone(),
                key.clone(),
                self.outcomes.clone(),
            );
            tokio::spawn(async move {
                let outcome = deliver(&state, &channels, &key, page).await;
                drop(permit);
                if outcomes.send(outcome).await.is_err() {
                    tracing::error!("enregistreur des envois arrêté");
                }
                // A slot is free: pages waiting for one go now, not at the next tick.
                state.deliveries.wake();
            });
        }
        Ok(started)
    }
}

/// A name for this process's leases: host, process and a random part.
pub fn owner_name() -> String {
    let mut random = [0u8; 4];
    let _ = getrandom::getrandom(&mut random);
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "vigie".into());
    format!("{host}-{}-{}", std::process::id(), hex::encode(random))
}

/// How often rotations are checked for a gap with nobody on call.
const ROTATION_CHECK: Duration = Duration::from_secs(60);

/// Rotations with nobody on call now: logged as errors, counted in `/metrics`
/// (`vigie_oncall_uncovered_rotations`) and, where `[notifications] watch_rotations` is on,
/// each an alarm until it is covered again (the issue: "a rotation with nobody on call is
/// itself an alarm"), since an alarm during the gap would reach no one on call. Run every
/// [`ROTATION_CHECK`] and after every change of a rotation.
pub async fn check_rotations(state: &AppState) -> Result<Vec<vigie_domain::Reference>, StoreError> {
    let rotations = state
        .store
        .rotations(&vigie_domain::access::Actor::console("astreintes"))
        .await?;
    let uncovered = vigie_domain::oncall::uncovered(&rotations, state.clock.now_ms());
    for rotation in &uncovered {
        tracing::error!(%rotation, "personne d'astreinte : une alarme maintenant n'atteindrait aucun technicien d'astreinte");
    }
    state
        .metrics
        .set_uncovered_rotations(uncovered.len() as u64);
    if state.config.notifications.watch_rotations {
        state.alarms.uncovered(state, uncovered.clone()).await;
    }
    Ok(uncovered)
}

/// The delivery loop: a step, then sleep until woken or for at most a second.
pub async fn run(state: AppState, channels: Channels) {
    let worker = Worker::start(state.clone(), channels);
    tracing::info!(owner = %worker.owner, channels = ?worker.channels, "distribution des notifications démarrée");
    let mut checked: Option<tokio::time::Instant> = None;
    loop {
        if checked.is_none_or(|at| at.elapsed() >= ROTATION_CHECK) {
            checked = Some(tokio::time::Instant::now());
            if let Err(error) = check_rotations(&state).await {
                tracing::warn!(%error, "vérification des astreintes");
            }
        }
        match worker.step().await {
            Ok(started) if started > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "distribution des notifications ; nouvel essai"),
        }
        let _ = tokio::time::timeout(IDLE, state.deliveries.wake.notified()).await;
    }
}
