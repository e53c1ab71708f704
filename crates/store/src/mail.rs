//! The support mailbox's messages (SAV-1, SAV-6): each recorded once, by the hash of its bytes,
//! in the same transaction as what it does at the desk — a ticket opened with its
//! acknowledgement, a reply threaded into its ticket, or the message set aside with why — so
//! that a message filed away in the mailbox is never lost and one read twice acts once.

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vigie_domain::EmailAddress;
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::inventory::Contact;
use vigie_domain::policy::Policy;
use vigie_domain::ticket::desk::{
    EventKind, Kind, MAX_REPORTER, MailNote, Report, Source, TicketNumber,
};
use vigie_domain::ticket::mail::{self, Disposition, Known, MailFacts, Reply, SetAside};

use crate::System;
use crate::inventory::{Arg, build, require};
use crate::tickets::{
    TicketChange, desk_error, load, messages_for, number_arg, open_in, policy_of, retrying,
    write_ticket,
};
use crate::{Store, StoreError};

/// A contact or a mail record as stored (their JSON is no part of `crate::stored`).
fn stored<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::other(anyhow::anyhow!("enregistrement stocké illisible : {e}")))
}

/// The longest text of a message the desk keeps.
pub const MAX_MAIL_TEXT: usize = 20_000;
/// Tickets one sender may open by mail within [`FLOOD_WINDOW_MS`] when the configuration
/// does not say.
pub const DEFAULT_FLOOD_LIMIT: u32 = 5;
const FLOOD_WINDOW_MS: i64 = 3_600_000;
/// Contacts compared with a sender's address: more is a directory to clean, not a sender.
const MAX_CONTACT_MATCHES: i64 = 50;
/// The most messages or attachments one list returns.
pub const MAX_MAIL_PAGE: i64 = 200;

/// One message as the mailbox gave it, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMail {
    /// The hex SHA-256 of its bytes.
    pub key: String,
    pub from: Option<EmailAddress>,
    pub from_name: Option<String>,
    pub subject: String,
    /// The headers that tell an automatic message or a loop, lowercased names.
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub readable: bool,
    /// False when only its header was read (larger than the bound).
    pub complete: bool,
    pub size: u64,
    pub attachments: Vec<IncomingAttachment>,
    /// Attachments beyond the bound of their number, not kept.
    pub attachments_dropped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingAttachment {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// None when larger than the bound: listed, not kept.
    pub content: Option<Vec<u8>>,
}

/// The mailbox's settings the desk needs.
#[derive(Debug, Clone)]
pub struct MailIntake {
    /// The addresses Vigie sends from and reads: a message from them is a loop.
    pub own_addresses: Vec<EmailAddress>,
    /// Tickets one sender may open by mail within an hour.
    pub flood_limit: u32,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "disposition", rename_all = "snake_case")]
pub enum MailOutcome {
    Opened {
        ticket: TicketNumber,
    },
    Threaded {
        ticket: TicketNumber,
        reply: Reply,
    },
    SetAside {
        #[serde(flatten)]
        reason: SetAside,
        label: String,
    },
}

impl MailOutcome {
    fn key(&self) -> &'static str {
        match self {
            MailOutcome::Opened { .. } => "opened",
            MailOutcome::Threaded { .. } => "threaded",
            MailOutcome::SetAside { .. } => "set_aside",
        }
    }
}

/// A message recorded, now or before.
#[derive(Debug, Clone)]
pub struct RecordedMail {
    pub id: i64,
    /// False: the message was already recorded (read twice); nothing was done again.
    pub new: bool,
    pub outcome: MailOutcome,
    /// The ticket it opened or changed, when recorded now.
    pub change: Option<TicketChange>,
}

/// An attachment as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub mail: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// False when it was over the size bound: listed, its content left in the mailbox.
    pub kept: bool,
}

/// A received message as the supervision team's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MailSummary {
    pub id: i64,
    pub received_at: i64,
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject: String,
    #[serde(flatten)]
    pub outcome: MailOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub text: String,
    pub complete: bool,
    pub size: u64,
    pub attachments: Vec<AttachmentInfo>,
    /// A message set aside that a person discarded: who, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discarded: Option<Discarded>,
}

/// Who discarded a message set aside, and when (issue 25, item 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discarded {
    pub at: i64,
    pub by: String,
}

/// What the `record` column keeps of a message besides its columns.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct MailRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_name: Option<String>,
    headers: Vec<(String, String)>,
    text: String,
    complete: bool,
    size: u64,
    #[serde(default)]
    attachments_dropped: usize,
    outcome: MailOutcome,
}

/// Which received messages a list asks for.
#[derive(Debug, Clone, Default)]
pub struct MailFilter {
    /// `opened`, `threaded` or `set_aside`.
    pub disposition: Option<String>,
    /// Newest first: the page before this message.
    pub before: Option<i64>,
    pub limit: Option<i64>,
    /// Only the messages still waiting for a person: set aside and not discarded.
    pub waiting: bool,
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    text.chars().take(max - 1).collect::<String>() + "…"
}

/// The clients whose contacts have `address`.
async fn clients_of(
    connection: &mut AnyConnection,
    address: &EmailAddress,
) -> Result<Vec<Reference>, StoreError> {
    // The address is in the contact's JSON record; LIKE narrows, the parsed record decides
    // (a `_` in the address matches any character).
    let pattern = format!("%\"email\":\"{}\"%", address.as_str());
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT record FROM contacts WHERE record LIKE $1 ORDER BY ref LIMIT $2")
            .bind(pattern)
            .bind(MAX_CONTACT_MATCHES)
            .fetch_all(&mut *connection)
            .await?;
    let mut clients = Vec::new();
    for (json,) in rows {
        let contact: Contact = stored(&json)?;
        if contact.email.as_ref() == Some(address) && !clients.contains(&contact.client) {
            clients.push(contact.client);
        }
    }
    Ok(clients)
}

/// `Nom <adresse>` or the address, within a reporter's bound.
fn sender_of(mail: &IncomingMail) -> String {
    let address = mail.from.as_ref().map(|a| a.as_str()).unwrap_or("?");
    let sender = match mail.from_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => format!("{name} <{address}>"),
        _ => address.to_owned(),
    };
    clip(&sender, MAX_REPORTER)
}

async fn record_in(
    connection: &mut AnyConnection,
    policy: &Policy,
    intake: &MailIntake,
    mail: &IncomingMail,
    now: i64,
) -> Result<RecordedMail, StoreError> {
    let existing: Option<(i64, String)> =
        sqlx::query_as("SELECT id, record FROM mails WHERE mail_key = $1")
            .bind(&mail.key)
            .fetch_optional(&mut *connection)
            .await?;
    if let Some((id, json)) = existing {
        let record: MailRecord = stored(&json)?;
        return Ok(RecordedMail {
            id,
            new: false,
            outcome: record.outcome,
            change: None,
        });
    }
    let text = if mail.complete {
        clip(&mail.text, MAX_MAIL_TEXT)
    } else {
        format!(
            "[Message de {} Mo, au-delà de la limite de lecture : seul son en-tête a été lu. \
             Il est conservé dans la boîte de support.]",
            mail.size.div_ceil(1024 * 1024)
        )
    };
    let clients = match &mail.from {
        Some(from) => clients_of(connection, from).await?,
        None => Vec::new(),
    };
    let named = match mail::ticket_number_in(&mail.subject) {
        Some(number) => load(connection, number).await?,
        None => None,
    };
    let (opened_recently,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM mails WHERE from_address = $1 AND disposition = 'opened' AND received_ms > $2",
    )
    .bind(mail.from.as_ref().map(|a| a.as_str().to_owned()))
    .bind(now - FLOOD_WINDOW_MS)
    .fetch_one(&mut *connection)
    .await?;
    let facts = MailFacts {
        from: mail.from.clone(),
        subject: mail.subject.clone(),
        headers: mail.headers.clone(),
        text: text.clone(),
        readable: mail.readable,
    };
    let known = Known {
        clients: &clients,
        ticket: named.as_ref(),
        opened_recently: u32::try_from(opened_recently).unwrap_or(u32::MAX),
        own_addresses: &intake.own_addresses,
    };
    let disposition = mail::sort(&facts, &known, intake.flood_limit);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO mails (mail_key, received_ms, from_address, subject, disposition, record) \
         VALUES ($1, $2, $3, $4, 'set_aside', '{}') RETURNING id",
    )
    .bind(&mail.key)
    .bind(now)
    .bind(mail.from.as_ref().map(|a| a.as_str().to_owned()))
    .bind(clip(&mail.subject, 300))
    .fetch_one(&mut *connection)
    .await?;
    let attachments: Vec<String> = mail.attachments.iter().map(|a| a.name.clone()).collect();
    let note = |text: String| MailNote {
        mail: id,
        from: sender_of(mail),
        subject: mail.subject.clone(),
        text,
        attachments: attachments.clone(),
    };
    let (outcome, change, client) = match disposition {
        Disposition::Thread { ticket: number, .. } if named.is_none() => {
            return Err(StoreError::Other(anyhow::anyhow!(
                "ticket n°{number} introuvable pour le message {id}"
            )));
        }
        Disposition::Thread {
            ticket: number,
            reply,
        } => {
            let mut ticket = named.clone().ok_or(StoreError::NotFound)?;
            let (site_policy, _) = policy_of(connection, policy, &ticket).await?;
            let mut events = ticket
                .mail_received(&site_policy, note(text.clone()), reply, now)
                .map_err(desk_error)?;
            let done = match events.first().map(|e| &e.kind) {
                Some(EventKind::MailReceived { reply, .. }) => *reply,
                _ => Reply::Recorded,
            };
            let told = messages_for(connection, &ticket, &events, now).await?;
            events.extend(told);
            write_ticket(connection, &ticket, &events).await?;
            let client = ticket.report.client.to_string();
            (
                MailOutcome::Threaded {
                    ticket: number,
                    reply: done,
                },
                Some(TicketChange::of(ticket, events)),
                Some(client),
            )
        }
        Disposition::Open { client, follows } => {
            let report = Report {
                client: client.clone(),
                site: None,
                equipment: None,
                kind: Kind::Request,
                source: Source::Email,
                symptom: mail::symptom_of(&mail.subject, &text, follows),
                impact: None,
                stated_criticality: mail::stated_in(&mail.subject),
                reporter: Some(sender_of(mail)),
                reply_to: mail.from.clone(),
                alarm: None,
                topic: None,
            };
            // Vigie itself opens it, as the console would: the sender is known, not logged in.
            let actor = Actor::console("messagerie");
            let mut change = open_in(connection, &actor, policy, &report, None, None, now).await?;
            // The symptom holds the text: the timeline names the message and its attachments.
            let event = change.ticket.event(
                now,
                None,
                EventKind::MailReceived {
                    mail: id,
                    from: sender_of(mail),
                    subject: clip(&mail.subject, MAX_REPORTER),
                    text: String::new(),
                    attachments: attachments.clone(),
                    reply: Reply::Recorded,
                },
            );
            write_ticket(connection, &change.ticket, std::slice::from_ref(&event)).await?;
            change.events.push(event);
            (
                MailOutcome::Opened {
                    ticket: change.ticket.number,
                },
                Some(change),
                Some(client.to_string()),
            )
        }
        Disposition::SetAside(reason) => {
            let label = reason.label();
            (MailOutcome::SetAside { reason, label }, None, None)
        }
    };
    let ticket_number = match &outcome {
        MailOutcome::Opened { ticket } | MailOutcome::Threaded { ticket, .. } => Some(*ticket),
        MailOutcome::SetAside { .. } => None,
    };
    let record = MailRecord {
        from_name: mail.from_name.clone(),
        headers: mail.headers.clone(),
        text,
        complete: mail.complete,
        size: mail.size,
        attachments_dropped: mail.attachments_dropped,
        outcome: outcome.clone(),
    };
    build(
        "UPDATE mails SET disposition = $1, ticket_number = $2, client_ref = $3, record = $4 WHERE id = $5",
        vec![
            Arg::Text(Some(outcome.key().to_owned())),
            Arg::OptionalInt(ticket_number.map(|n| i64::try_from(n).unwrap_or(i64::MAX))),
            Arg::Text(client),
            Arg::Text(Some(
                serde_json::to_string(&record).map_err(StoreError::other)?,
            )),
            Arg::Int(id),
        ],
    )
    .execute(&mut *connection)
    .await?;
    for attachment in &mail.attachments {
        use sha2::Digest;
        let hash = attachment
            .content
            .as_ref()
            .map(|bytes| hex::encode(sha2::Sha256::digest(bytes)));
        sqlx::query(
            "INSERT INTO mail_attachments (mail_id, ticket_number, name, content_type, size, sha256, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(ticket_number.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
        .bind(clip(&attachment.name, 200))
        .bind(clip(&attachment.content_type, 200))
        .bind(i64::try_from(attachment.size).unwrap_or(i64::MAX))
        .bind(hash)
        .bind(attachment.content.clone())
        .execute(&mut *connection)
        .await?;
    }
    Ok(RecordedMail {
        id,
        new: true,
        outcome,
        change,
    })
}

/// A message still set aside, read under its row's lock, for a person's step on it.
struct SetAsideMail {
    record: MailRecord,
    from: Option<EmailAddress>,
    /// `Nom <adresse>`, within a reporter's bound.
    sender: String,
    subject: String,
}

async fn set_aside_mail(
    connection: &mut AnyConnection,
    id: i64,
) -> Result<SetAsideMail, StoreError> {
    // The row locked first (PostgreSQL): two people acting on the same message act once; the
    // second finds it done.
    build(
        "UPDATE mails SET disposition = disposition WHERE id = $1 AND disposition = 'set_aside'",
        vec![Arg::Int(id)],
    )
    .execute(&mut *connection)
    .await?;
    // Its disposition, sender, subject, record, and when it was discarded.
    type Row = (String, Option<String>, String, String, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT disposition, from_address, subject, record, discarded_ms FROM mails WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    let Some((disposition, from, subject, json, discarded)) = row else {
        return Err(StoreError::NotFound);
    };
    // Not a retry's conflict: said plainly, and not retried.
    if disposition != "set_aside" {
        return Err(StoreError::Invalid(format!(
            "le message {id} a déjà ouvert un ticket ou rejoint le sien"
        )));
    }
    if discarded.is_some() {
        return Err(StoreError::Invalid(format!("le message {id} a été écarté")));
    }
    let record: MailRecord = stored(&json)?;
    let from = from.and_then(|a| EmailAddress::parse(&a).ok());
    let sender = {
        let address = from.as_ref().map(|a| a.as_str()).unwrap_or("?");
        match record.from_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => clip(&format!("{name} <{address}>"), MAX_REPORTER),
            _ => clip(address, MAX_REPORTER),
        }
    };
    Ok(SetAsideMail {
        record,
        from,
        sender,
        subject,
    })
}

async fn attach_mail_in(
    connection: &mut AnyConnection,
    policy: &Policy,
    id: i64,
    number: TicketNumber,
    now: i64,
) -> Result<TicketChange, StoreError> {
    let SetAsideMail {
        mut record,
        sender,
        subject,
        ..
    } = set_aside_mail(connection, id).await?;
    let mut ticket = load(connection, number)
        .await?
        .ok_or(StoreError::NotFound)?;
    let (site_policy, _) = policy_of(connection, policy, &ticket).await?;
    let attachments: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM mail_attachments WHERE mail_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *connection)
            .await?;
    // As the client's reply it is: it answers a ticket that waited for the client.
    let reply = if ticket.status == vigie_domain::ticket::Status::WaitingForClient {
        Reply::Answers
    } else {
        Reply::Recorded
    };
    let note = MailNote {
        mail: id,
        from: sender,
        subject: clip(&subject, MAX_REPORTER),
        text: record.text.clone(),
        attachments: attachments.into_iter().map(|(name,)| name).collect(),
    };
    let mut events = ticket
        .mail_received(&site_policy, note, reply, now)
        .map_err(desk_error)?;
    let done = match events.first().map(|e| &e.kind) {
        Some(EventKind::MailReceived { reply, .. }) => *reply,
        _ => Reply::Recorded,
    };
    let told = messages_for(connection, &ticket, &events, now).await?;
    events.extend(told);
    write_ticket(connection, &ticket, &events).await?;
    record.outcome = MailOutcome::Threaded {
        ticket: number,
        reply: done,
    };
    build(
        "UPDATE mails SET disposition = 'threaded', ticket_number = $1, client_ref = $2, record = $3 WHERE id = $4",
        vec![
            number_arg(number),
            Arg::Text(Some(ticket.report.client.to_string())),
            Arg::Text(Some(
                serde_json::to_string(&record).map_err(StoreError::other)?,
            )),
            Arg::Int(id),
        ],
    )
    .execute(&mut *connection)
    .await?;
    build(
        "UPDATE mail_attachments SET ticket_number = $1 WHERE mail_id = $2",
        vec![number_arg(number), Arg::Int(id)],
    )
    .execute(&mut *connection)
    .await?;
    Ok(TicketChange::of(ticket, events))
}

#[allow(clippy::too_many_arguments)]
async fn open_from_mail_in(
    connection: &mut AnyConnection,
    actor: &Actor,
    policy: &Policy,
    id: i64,
    client: &Reference,
    site: Option<&Reference>,
    by: &Reference,
    now: i64,
) -> Result<crate::TicketChange, StoreError> {
    let SetAsideMail {
        mut record,
        from,
        sender,
        subject,
    } = set_aside_mail(connection, id).await?;
    let report = Report {
        client: client.clone(),
        site: site.cloned(),
        equipment: None,
        kind: Kind::Request,
        source: Source::Email,
        symptom: mail::symptom_of(&subject, &record.text, None),
        impact: None,
        stated_criticality: mail::stated_in(&subject),
        reporter: Some(sender.clone()),
        reply_to: from,
        alarm: None,
        topic: None,
    };
    let mut change = open_in(
        connection,
        actor,
        policy,
        &report,
        None,
        Some(by.clone()),
        now,
    )
    .await?;
    let number = change.ticket.number;
    let attachments: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM mail_attachments WHERE mail_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *connection)
            .await?;
    let event = change.ticket.event(
        now,
        Some(by.clone()),
        EventKind::MailReceived {
            mail: id,
            from: sender,
            subject: clip(&subject, MAX_REPORTER),
            text: String::new(),
            attachments: attachments.into_iter().map(|(name,)| name).collect(),
            reply: Reply::Recorded,
        },
    );
    write_ticket(connection, &change.ticket, std::slice::from_ref(&event)).await?;
    change.events.push(event);
    record.outcome = MailOutcome::Opened { ticket: number };
    let ticket_number = i64::try_from(number).unwrap_or(i64::MAX);
    build(
        "UPDATE mails SET disposition = 'opened', ticket_number = $1, client_ref = $2, record = $3 WHERE id = $4",
        vec![
            Arg::Int(ticket_number),
            Arg::Text(Some(client.to_string())),
            Arg::Text(Some(
                serde_json::to_string(&record).map_err(StoreError::other)?,
            )),
            Arg::Int(id),
        ],
    )
    .execute(&mut *connection)
    .await?;
    build(
        "UPDATE mail_attachments SET ticket_number = $1 WHERE mail_id = $2",
        vec![Arg::Int(ticket_number), Arg::Int(id)],
    )
    .execute(&mut *connection)
    .await?;
    Ok(change)
}

fn attachment_of(row: &sqlx::any::AnyRow) -> Result<AttachmentInfo, StoreError> {
    Ok(AttachmentInfo {
        id: row.try_get(0)?,
        mail: row.try_get(1)?,
        name: row.try_get(2)?,
        content_type: row.try_get(3)?,
        size: row.try_get(4)?,
        kept: row.try_get::<i64, _>(5)? != 0,
    })
}

const ATTACHMENT_COLUMNS: &str =
    "id, mail_id, name, content_type, size, CASE WHEN content IS NULL THEN 0 ELSE 1 END";

/// The mailbox is the staff's desk: a client (even one allowed to handle its tickets) finds
/// no message there, as if there were none.
fn require_desk(actor: &Actor) -> Result<(), StoreError> {
    require(actor, Permission::HandleTickets)?;
    if actor.is_staff() {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

impl System {
    /// Records a message of the support mailbox and does what it asks at the desk (SAV-1):
    /// opens a ticket (with its acknowledgement, SAV-2), threads a reply into its ticket
    /// (CM-4, SAV-6, CM-7), or sets it aside — all in one transaction with the message and its
    /// attachments. A message already recorded (the same bytes) does nothing again.
    pub async fn record_mail(
        &self,
        policy: &Policy,
        intake: &MailIntake,
        mail: &IncomingMail,
        now: i64,
    ) -> Result<RecordedMail, StoreError> {
        // Another process took the ticket number, or recorded the same message at the same
        // instant: started again, the message is then found recorded.
        retrying!(self, |connection| record_in(
            connection, policy, intake, mail, now
        ))
    }
}

impl Store {
    /// The messages the mailbox brought, newest first: the supervision team's list, in
    /// particular of those set aside (staff only: a message set aside belongs to no client).
    pub async fn mails(
        &self,
        actor: &Actor,
        filter: &MailFilter,
    ) -> Result<Vec<MailSummary>, StoreError> {
        require_desk(actor)?;
        let mut args = Vec::new();
        let mut condition = String::from(" WHERE 1 = 1");
        if let Some(disposition) = &filter.disposition {
            if !matches!(disposition.as_str(), "opened" | "threaded" | "set_aside") {
                return Err(StoreError::Invalid(format!(
                    "disposition « {disposition} » inconnue : opened, threaded ou set_aside"
                )));
            }
            args.push(Arg::Text(Some(disposition.clone())));
            condition.push_str(&format!(" AND disposition = ${}", args.len()));
        }
        if filter.waiting {
            condition.push_str(" AND disposition = 'set_aside' AND discarded_ms IS NULL");
        }
        if let Some(before) = filter.before {
            args.push(Arg::Int(before));
            condition.push_str(&format!(" AND id < ${}", args.len()));
        }
        args.push(Arg::Int(
            filter
                .limit
                .unwrap_or(crate::DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_MAIL_PAGE),
        ));
        let sql = format!(
            "SELECT id, received_ms, from_address, subject, client_ref, record, discarded_ms, discarded_by FROM mails{condition} ORDER BY id DESC LIMIT ${}",
            args.len()
        );
        let rows = build(&sql, args).fetch_all(&self.read).await?;
        // The attachments of the whole page in one read, not one per message.
        let ids: Vec<i64> = rows
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let mut attachments_of: std::collections::HashMap<i64, Vec<AttachmentInfo>> =
            std::collections::HashMap::new();
        if !ids.is_empty() {
            let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
            let read = build(
                &format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM mail_attachments WHERE mail_id IN ({}) ORDER BY mail_id, id",
                    placeholders.join(", ")
                ),
                ids.iter().map(|id| Arg::Int(*id)).collect(),
            )
            .fetch_all(&self.read)
            .await?;
            for row in &read {
                let attachment = attachment_of(row)?;
                let listed = attachments_of.entry(attachment.mail).or_default();
                if (listed.len() as i64) < MAX_MAIL_PAGE {
                    listed.push(attachment);
                }
            }
        }
        let mut mails = Vec::new();
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let record: MailRecord = stored(&row.try_get::<String, _>(5)?)?;
            let attachments = attachments_of.remove(&id).unwrap_or_default();
            mails.push(MailSummary {
                id,
                received_at: row.try_get(1)?,
                from: row.try_get(2)?,
                from_name: record.from_name,
                subject: row.try_get(3)?,
                outcome: record.outcome,
                client: row.try_get(4)?,
                text: record.text,
                complete: record.complete,
                size: record.size,
                attachments,
                discarded: match (
                    row.try_get::<Option<i64>, _>(6)?,
                    row.try_get::<Option<String>, _>(7)?,
                ) {
                    (Some(at), Some(by)) => Some(Discarded { at, by }),
                    _ => None,
                },
            });
        }
        Ok(mails)
    }

    /// A message set aside (an unknown sender, a contact of several clients, a flood…) becomes
    /// a ticket for `client` (and `site`) at a staff member's word: opened as the message
    /// would have opened it, with its acknowledgement and its attachments, and the message
    /// recorded as having opened it. A message already opened or threaded is a conflict.
    #[allow(clippy::too_many_arguments)]
    pub async fn open_from_mail(
        &self,
        actor: &Actor,
        policy: &Policy,
        id: i64,
        client: &Reference,
        site: Option<&Reference>,
        by: &Reference,
        now: i64,
    ) -> Result<crate::TicketChange, StoreError> {
        require_desk(actor)?;
        retrying!(self, |connection| open_from_mail_in(
            connection, actor, policy, id, client, site, by, now
        ))
    }

    /// A message set aside joins ticket `number` at a staff member's word (a reply whose
    /// subject lost the ticket's number, a contact writing from another address): its text
    /// and attachments go into the ticket's history as a reply's would (a ticket waiting for
    /// the client resumes, CM-4), and the message is recorded as threaded into it.
    pub async fn attach_mail(
        &self,
        actor: &Actor,
        policy: &Policy,
        id: i64,
        number: TicketNumber,
        now: i64,
    ) -> Result<TicketChange, StoreError> {
        require_desk(actor)?;
        retrying!(self, |connection| attach_mail_in(
            connection, policy, id, number, now
        ))
    }

    /// A message set aside that a person read and judged of no use (an advertisement, an
    /// automatic reply) is discarded: kept, with who and when, but no longer waiting. Only a
    /// message still set aside can be; another is said plainly.
    pub async fn discard_mail(
        &self,
        actor: &Actor,
        id: i64,
        by: &Reference,
        now: i64,
    ) -> Result<(), StoreError> {
        require_desk(actor)?;
        let done = build(
            "UPDATE mails SET discarded_ms = $1, discarded_by = $2 \
             WHERE id = $3 AND disposition = 'set_aside' AND discarded_ms IS NULL",
            vec![Arg::Int(now), Arg::Text(Some(by.to_string())), Arg::Int(id)],
        )
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM mails WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        match exists {
            None => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Invalid(format!(
                "le message {id} n'attend plus personne : déjà écarté, ou déjà devenu un ticket"
            ))),
        }
    }

    /// The attachments of ticket `number` (its messages'), for whoever sees the ticket.
    pub async fn ticket_attachments(
        &self,
        actor: &Actor,
        number: TicketNumber,
    ) -> Result<Vec<AttachmentInfo>, StoreError> {
        self.ticket(actor, number).await?;
        build(
            &format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM mail_attachments WHERE ticket_number = $1 ORDER BY id LIMIT $2"
            ),
            vec![number_arg(number), Arg::Int(MAX_MAIL_PAGE)],
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(attachment_of)
        .collect()
    }

    /// One attachment of ticket `number` with its bytes, for whoever sees the ticket; an
    /// attachment of another ticket, or one not kept, is not found.
    pub async fn ticket_attachment(
        &self,
        actor: &Actor,
        number: TicketNumber,
        id: i64,
    ) -> Result<(AttachmentInfo, Vec<u8>), StoreError> {
        self.ticket(actor, number).await?;
        let row = build(
            &format!(
                "SELECT {ATTACHMENT_COLUMNS}, content FROM mail_attachments WHERE id = $1 AND ticket_number = $2 AND content IS NOT NULL"
            ),
            vec![Arg::Int(id), number_arg(number)],
        )
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let info = attachment_of(&row)?;
        let content: Vec<u8> = row.try_get(6)?;
        Ok((info, content))
    }
}
