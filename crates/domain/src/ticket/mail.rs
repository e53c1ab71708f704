//! Mail to the support mailbox (SAV-1, SAV-6, CM-4): what the desk makes of one message —
//! threaded into the ticket whose number its subject carries, a new ticket, a confirmation of a
//! fix, or set aside (an automatic message, a loop, an unknown sender, a flood) — decided
//! without IO from the message and what the store knows of its sender.

use serde::{Deserialize, Serialize};

use super::Status;
use super::desk::{MAX_TEXT, Ticket, TicketNumber};
use crate::EmailAddress;
use crate::Reference;

/// What the desk reads of one message (the transport has decoded it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFacts {
    /// The sender's address, when the message has a valid one.
    pub from: Option<EmailAddress>,
    pub subject: String,
    /// The headers that tell an automatic message: lowercased names.
    pub headers: Vec<(String, String)>,
    pub text: String,
    /// The message could be parsed at all.
    pub readable: bool,
}

/// What the store knows around one message.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// The clients whose contacts have the sender's address.
    pub clients: &'a [Reference],
    /// The ticket whose number the subject carries, when it exists.
    pub ticket: Option<&'a Ticket>,
    /// Tickets this address opened by mail within the flood window.
    pub opened_recently: u32,
    /// The addresses Vigie sends from and reads: mail from them is a loop.
    pub own_addresses: &'a [EmailAddress],
}

/// Why a message opens nothing and threads into nothing. It is kept, listed for the
/// supervision team, and filed in the mailbox like every other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SetAside {
    /// An auto-reply, a bounce, a mailing list: answering it could start a loop.
    Automatic { detail: String },
    /// Vigie's own message came back.
    Loop,
    /// No sender address, or the message could not be read.
    Unreadable,
    /// The sender is no client's contact (and replies to no ticket of its own).
    UnknownSender,
    /// The sender is a contact of several clients: which one is meant is a person's call.
    AmbiguousSender,
    /// The sender opened too many tickets by mail lately.
    Flood { limit: u32 },
}

impl SetAside {
    /// In French, for the list of messages set aside.
    pub fn label(&self) -> String {
        match self {
            SetAside::Automatic { detail } => format!("message automatique ({detail})"),
            SetAside::Loop => "message émis par Vigie revenu dans la boîte".into(),
            SetAside::Unreadable => "message illisible ou sans expéditeur".into(),
            SetAside::UnknownSender => "expéditeur inconnu : contact d'aucun client".into(),
            SetAside::AmbiguousSender => "expéditeur contact de plusieurs clients".into(),
            SetAside::Flood { limit } => {
                format!("plus de {limit} tickets ouverts par mail en une heure par cet expéditeur")
            }
        }
    }
}

/// What a message threaded into its ticket does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Recorded only (an automatic message, or news while the ticket is being handled).
    Recorded,
    /// The ticket waited for the client: its paused timers resume (CM-4).
    Answers,
    /// SAV-6: the client confirms the fix: the ticket closes.
    Confirms,
    /// The client writes about a ticket resolved but not confirmed: the problem is not over,
    /// the ticket is open again (CM-7).
    Reopens,
}

/// What the desk does with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Thread {
        ticket: TicketNumber,
        reply: Reply,
    },
    /// A new ticket for `client`; `follows` the closed ticket the subject named.
    Open {
        client: Reference,
        follows: Option<TicketNumber>,
    },
    SetAside(SetAside),
}

/// The ticket number a subject carries: `Ticket n°42`, `ticket nº 42`, `Ticket no 42`,
/// `Ticket #42` (any case, after any `RE:`/`TR:`), as Vigie's own subjects write it.
pub fn ticket_number_in(subject: &str) -> Option<TicketNumber> {
    let lower = subject.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("ticket") {
        let after = rest[at + "ticket".len()..].trim_start();
        let after = ["n°", "nº", "no.", "no", "#", "n"]
            .iter()
            .find_map(|mark| after.strip_prefix(mark))
            .map(str::trim_start);
        if let Some(after) = after {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            let ends = after[digits.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if !digits.is_empty() && digits.len() <= 12 && ends {
                return digits.parse().ok();
            }
        }
        rest = &rest[at + "ticket".len()..];
    }
    None
}

/// Why a message is automatic (RFC 3834 `Auto-Submitted`, the headers of common
/// auto-responders and mailing lists, a delivery report, an out-of-office subject), or None
/// for a person's message.
pub fn automatic(headers: &[(String, String)], subject: &str) -> Option<String> {
    for (name, value) in headers {
        let value = value.trim().to_lowercase();
        let automatic = match name.as_str() {
            "auto-submitted" => value != "no",
            "precedence" => matches!(value.as_str(), "bulk" | "junk" | "list" | "auto_reply"),
            "x-autoreply" | "x-autorespond" => true,
            "x-auto-response-suppress" => value.contains("all") || value.contains("oof"),
            "list-id" | "list-unsubscribe" => true,
            "content-type" => value.starts_with("multipart/report"),
            "return-path" => value == "<>",
            _ => false,
        };
        if automatic {
            return Some(format!("{name}: {}", clip(&value, 80)));
        }
    }
    let subject = fold(subject);
    const SUBJECTS: [&str; 8] = [
        "reponse automatique",
        "absence du bureau",
        "message d'absence",
        "out of office",
        "automatic reply",
        "auto:",
        "undeliverable",
        "delivery status notification",
    ];
    SUBJECTS
        .iter()
        .find(|s| subject.contains(*s))
        .map(|s| format!("objet « {s} »"))
}

/// SAV-6 by mail: the reply's first line of text (quoted lines and blank lines skipped) starts
/// with `CONFIRMÉ` or `JE CONFIRME` — what the resolution notice asks —, in any case, accented
/// or not, and says nothing that could take it back (`pas`, `non`, `mais`, `toujours`,
/// `encore`…): « Confirmé, merci ! » confirms, « Confirmé ? Pas du tout » does not. Any other
/// text is not a confirmation: a thank-you or a "still broken" are read by a person.
pub fn is_confirmation(text: &str) -> bool {
    let Some(first) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>'))
    else {
        return false;
    };
    let words: String = fold(first)
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = words.split_whitespace().collect();
    const DOUBTS: [&str; 12] = [
        "pas", "non", "ne", "n", "mais", "toujours", "encore", "plus", "rien", "aucun", "aucune",
        "panne",
    ];
    let starts = matches!(
        words.as_slice(),
        ["confirme" | "confirmer", ..] | ["je", "confirme", ..]
    );
    starts && !words.iter().any(|w| DOUBTS.contains(w))
}

/// Lowercase without accents, for comparing French words.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            '\u{2019}' => '\'',
            other => other,
        })
        .collect()
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// What the desk does with `mail`, given what the store knows of its sender (SAV-1):
/// - a loop or an unreadable message is set aside;
/// - a reply naming a ticket of the sender's client (or sent from the address that ticket
///   answers) threads into it, even when automatic — recorded only then; a reply to a closed
///   ticket opens a new one that follows it;
/// - otherwise an automatic message is set aside, so that no acknowledgement answers an
///   auto-responder;
/// - a known contact of exactly one client opens a ticket for it, unless it opened
///   `flood_limit` tickets by mail within the hour.
pub fn sort(mail: &MailFacts, known: &Known, flood_limit: u32) -> Disposition {
    let Some(from) = mail.from.as_ref().filter(|_| mail.readable) else {
        return Disposition::SetAside(SetAside::Unreadable);
    };
    if known.own_addresses.contains(from)
        || mail.headers.iter().any(|(name, _)| name == "x-vigie-key")
    {
        return Disposition::SetAside(SetAside::Loop);
    }
    let automatic = automatic(&mail.headers, &mail.subject);
    let mut follows = None;
    if let Some(ticket) = known.ticket {
        let theirs = known.clients.contains(&ticket.report.client)
            || ticket.report.reply_to.as_ref() == Some(from);
        if theirs {
            if ticket.status != Status::Closed {
                let reply = match (&automatic, ticket.status) {
                    (Some(_), _) => Reply::Recorded,
                    (None, Status::Resolved) if is_confirmation(&mail.text) => Reply::Confirms,
                    (None, Status::Resolved) => Reply::Reopens,
                    (None, Status::WaitingForClient) => Reply::Answers,
                    (None, _) => Reply::Recorded,
                };
                return Disposition::Thread {
                    ticket: ticket.number,
                    reply,
                };
            }
            follows = Some(ticket.number);
        }
    }
    if let Some(detail) = automatic {
        return Disposition::SetAside(SetAside::Automatic { detail });
    }
    let client = match (known.clients, follows.and(known.ticket)) {
        // The closed ticket's client, for a reporter outside Vigie who answers it.
        (_, Some(ticket)) if known.clients.len() != 1 => ticket.report.client.clone(),
        ([client], _) => client.clone(),
        ([], _) => return Disposition::SetAside(SetAside::UnknownSender),
        _ => return Disposition::SetAside(SetAside::AmbiguousSender),
    };
    if known.opened_recently >= flood_limit {
        return Disposition::SetAside(SetAside::Flood { limit: flood_limit });
    }
    Disposition::Open { client, follows }
}

/// The symptom of a ticket opened by mail: its subject, then its text, within the bound of a
/// report's text.
pub fn symptom_of(subject: &str, text: &str, follows: Option<TicketNumber>) -> String {
    let subject = subject.trim();
    let subject = if subject.is_empty() {
        "(sans objet)"
    } else {
        subject
    };
    let mut symptom = match follows {
        Some(number) => format!("Suite du ticket n°{number} : {subject}"),
        None => subject.to_owned(),
    };
    let text = text.trim();
    if !text.is_empty() {
        symptom.push_str("\n\n");
        symptom.push_str(text);
    }
    if symptom.chars().count() > MAX_TEXT {
        symptom = symptom.chars().take(MAX_TEXT - 1).collect::<String>() + "…";
    }
    symptom
}

/// The criticality a subject states with a tag, `[Critique]`, `[Standard]` or
/// `[Informatif]` (SAV-3); without one the ticket is qualified as in doubt (SAV-4).
pub fn stated_in(subject: &str) -> Option<super::StatedCriticality> {
    let subject = fold(subject);
    if subject.contains("[critique]") || subject.contains("[urgent]") {
        Some(super::StatedCriticality::Critical)
    } else if subject.contains("[standard]") {
        Some(super::StatedCriticality::Standard)
    } else if subject.contains("[informatif]") || subject.contains("[information]") {
        Some(super::StatedCriticality::Informative)
    } else {
        None
    }
}
