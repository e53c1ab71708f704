//! The support mailbox's reader (SAV-1): every `poll_seconds` it reads the oldest messages of
//! the folder (a bounded batch), records each at the desk, and only then files it away; a
//! message whose recording failed stays in the folder for the next round, and one recorded
//! but not filed (the process stopped in between) is recognised by its bytes and filed then.

use std::time::Duration;
use vigie_store::System;

use vigie_domain::EmailAddress;
use vigie_notify::{ImapConfig, ImapSecurity, InboundMail, Mailbox, MailboxError};
use vigie_store::mail::{IncomingAttachment, IncomingMail, MailIntake, MailOutcome};

use crate::AppState;
use crate::config::MailboxConfig;

/// Messages read per round; a full batch starts the next round at once.
pub const BATCH: usize = 50;
/// Longest wait after the mailbox failed (it doubles from `poll_seconds`).
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// The IMAP client the configuration describes.
pub fn mailbox(config: &MailboxConfig) -> Result<Mailbox, String> {
    // `none` with a password is refused by the client unless the server is on this machine.
    let security = match config.security.as_str() {
        "none" => ImapSecurity::None,
        "starttls" => ImapSecurity::StartTls,
        _ => ImapSecurity::Tls,
    };
    Mailbox::new(ImapConfig {
        host: config.host.clone(),
        port: config.port,
        security,
        username: config.username.clone(),
        password: config.password.0.clone(),
        folder: config.folder.clone(),
        processed_folder: config.processed_folder.clone(),
        timeout_ms: u64::from(config.timeout_seconds) * 1000,
        accept_invalid_certs: false,
        max_message_bytes: config.max_message_bytes,
    })
    .map_err(|e| format!("[mailbox] : {e}"))
}

/// What the desk needs of the configuration.
pub fn intake(state: &AppState) -> MailIntake {
    let own = [
        state.config.mailbox.address.as_str(),
        sender_address(&state.config.smtp.from),
    ];
    MailIntake {
        own_addresses: own
            .iter()
            .filter_map(|a| EmailAddress::parse(a).ok())
            .collect(),
        flood_limit: state.config.mailbox.max_tickets_per_sender_hour,
    }
}

/// The address of `Nom <adresse>`, or the text itself.
fn sender_address(from: &str) -> &str {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(start), Some(end)) if start < end => &from[start + 1..end],
        _ => from.trim(),
    }
}

/// The message as the desk reads it.
pub fn incoming(mail: InboundMail) -> IncomingMail {
    IncomingMail {
        key: mail.key,
        from: mail
            .from
            .as_deref()
            .and_then(|a| EmailAddress::parse(a).ok()),
        from_name: mail.from_name,
        subject: mail.subject,
        headers: mail.headers,
        text: mail.text,
        readable: mail.readable,
        complete: mail.complete,
        size: mail.size,
        attachments: mail
            .attachments
            .into_iter()
            .map(|a| IncomingAttachment {
                name: a.name,
                content_type: a.content_type,
                size: a.size,
                content: a.content,
            })
            .collect(),
        attachments_dropped: mail.attachments_dropped,
    }
}

/// One round: the oldest messages read, recorded, filed. Returns how many the folder still
/// holds beyond this round's bounds.
pub async fn round(
    state: &AppState,
    system: &System,
    mailbox: &Mailbox,
) -> Result<usize, MailboxError> {
    let mut session = mailbox.open().await?;
    let fetched = match session.fetch(BATCH).await {
        Ok(fetched) => fetched,
        Err(error) => {
            session.close().await;
            return Err(error);
        }
    };
    let intake = intake(state);
    let mut woken = false;
    for message in &fetched {
        let mail = incoming(vigie_notify::read_mail(
            &message.raw,
            message.complete,
            message.size,
        ));
        let recorded = match system
            .record_mail(
                &state.escalation().policy,
                &intake,
                &mail,
                state.clock.now_ms(),
            )
            .await
        {
            Ok(recorded) => recorded,
            Err(error) => {
                // Left in the folder: the next round tries again.
                tracing::warn!(uid = message.uid, %error, "message de la boîte de support non enregistré");
                continue;
            }
        };
        if recorded.new {
            state.metrics.mail(match &recorded.outcome {
                MailOutcome::Opened { .. } => "opened",
                MailOutcome::Threaded { .. } => "threaded",
                MailOutcome::SetAside { .. } => "set_aside",
            });
        }
        match &recorded.outcome {
            MailOutcome::Opened { ticket } => {
                tracing::info!(mail = recorded.id, ticket, "ticket ouvert par email")
            }
            MailOutcome::Threaded { ticket, reply } => {
                tracing::info!(mail = recorded.id, ticket, ?reply, "email ajouté au ticket")
            }
            MailOutcome::SetAside { label, .. } => {
                tracing::info!(mail = recorded.id, %label, "email mis de côté")
            }
        }
        if recorded.change.is_some() && !woken {
            // The acknowledgement (SAV-2) or the messages the reply implies go out now.
            state.deliveries.wake();
            woken = true;
        }
        if let Err(error) = session.file(message.uid).await {
            // Recorded: filed at the next round, recognised by its bytes.
            tracing::warn!(uid = message.uid, %error, "message enregistré mais non rangé");
            session.close().await;
            return Err(error);
        }
    }
    let left = session.left();
    session.close().await;
    Ok(left)
}

/// The reader's loop, when the configuration names a mailbox.
pub async fn run(state: AppState, system: System, mailbox: Mailbox) {
    let every = Duration::from_secs(u64::from(state.config.mailbox.poll_seconds));
    let mut wait = every;
    let alarm_after = Duration::from_secs(u64::from(state.config.mailbox.alarm_after_minutes) * 60);
    // Since when the mailbox cannot be read: past `alarm_after_minutes`, each failure is an
    // error (the clients' emails open no ticket) and the mailbox an alarm until it reads again;
    // `vigie_mailbox_unreadable` says it at once.
    let mut failing_since: Option<tokio::time::Instant> = None;
    let mut alarmed = false;
    loop {
        let result = round(&state, &system, &mailbox).await;
        state
            .metrics
            .mailbox_round(result.is_ok(), state.clock.now_ms());
        match result {
            Ok(left) => {
                if failing_since.take().is_some() {
                    tracing::info!("boîte de support de nouveau lue");
                }
                if std::mem::take(&mut alarmed) {
                    state.alarms.mailbox(&state, true).await;
                }
                wait = every;
                if left > 0 {
                    continue;
                }
            }
            Err(error) => {
                let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= alarm_after {
                    tracing::error!(%error, minutes = since.elapsed().as_secs() / 60, "boîte de support illisible : les emails des clients n'ouvrent plus de tickets");
                    if !alarmed {
                        alarmed = true;
                        state.alarms.mailbox(&state, false).await;
                    }
                } else {
                    tracing::warn!(%error, "lecture de la boîte de support");
                }
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        }
        tokio::time::sleep(wait).await;
    }
}
