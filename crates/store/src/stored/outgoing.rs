//! The outbox record (`notifications.record`), format 1: an alarm's page, a message about a
//! ticket, a report's email or a notice about an account. The four are stored without a tag,
//! each told from the others by its fields (a page has `page` and `alarm`, a ticket's message
//! `ticket` and `purpose`, a report's email `report_document`, an account's notice `account`),
//! and read in that order: the rows written before ticket messages existed read as pages.

use serde::{Deserialize, Serialize};
use vigie_domain::TimeZoneName;
use vigie_domain::alarm::escalation::{DigestEntry, Message, Notice, Page};
use vigie_domain::ticket::message::{Purpose, TicketNotice};
use vigie_domain::values::InvalidValue;

use crate::StoreError;
use crate::notifications::Outgoing;
use crate::people::AccountNotice;
use crate::reports::{ReportMail, ReportNotice};

use super::alarm::{AlarmV1, SeverityV1};
use super::alarm_event::ChannelV1;
use super::ticket::PriorityV1;

/// What the errors call this record.
const WHAT: &str = "notification stockée";

/// The record of `outgoing`.
pub fn encode(outgoing: &Outgoing) -> Result<String, StoreError> {
    super::write(&OutgoingV1::from(outgoing))
}

/// The record of an alarm's page: the same as `encode(&Outgoing::Page(…))`, without a copy of
/// the notice.
pub fn encode_page(notice: &Notice) -> Result<String, StoreError> {
    super::write(&OutgoingV1::Page(Box::new(NoticeV1::from(notice))))
}

/// The message of a stored record.
pub fn decode(record: &str) -> Result<Outgoing, StoreError> {
    let stored: OutgoingV1 = super::read(record, WHAT)?;
    Outgoing::try_from(stored).map_err(|e| super::unreadable(WHAT, e))
}

/// A message of the outbox (format 1), without a tag: the first variant whose fields the
/// record has is the one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OutgoingV1 {
    Page(Box<NoticeV1>),
    Ticket(Box<TicketNoticeV1>),
    Report(Box<ReportNoticeV1>),
    Account(Box<AccountNoticeV1>),
}

/// An alarm's page with what its message needs (format 1): the alarm as it stood when the
/// step fired, and names rather than references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeV1 {
    pub page: PageV1,
    pub alarm: AlarmV1,
    pub client_name: String,
    pub site_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment_name: Option<String>,
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_by: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<DigestEntryV1>,
    #[serde(default, skip_serializing_if = "super::is_zero")]
    pub digest_omitted: u32,
    /// Added in format 1 by the conference call (issue 26): absent from older rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference: Option<super::alarm_event::InvitationV1>,
}

/// One page: to one recipient, by one channel, for one round of one step (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageV1 {
    pub key: String,
    pub alarm: u64,
    pub severity: SeverityV1,
    pub step: String,
    pub recipient: String,
    pub name: String,
    pub channel: ChannelV1,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staff: bool,
    /// Added in format 1 by the person's channel order (issue 26): absent from older rows.
    #[serde(default, skip_serializing_if = "super::is_zero_ms")]
    pub follow_up_ms: i64,
}

/// One alarm of a daily digest (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestEntryV1 {
    pub alarm: u64,
    pub severity: SeverityV1,
    pub condition: String,
    pub site_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment_name: Option<String>,
    pub raised_at: i64,
}

/// A message about a ticket to one recipient by one channel (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketNoticeV1 {
    pub key: String,
    pub ticket: u64,
    pub priority: PriorityV1,
    pub purpose: PurposeV1,
    pub recipient: String,
    pub name: String,
    pub channel: ChannelV1,
    pub address: String,
    pub message: MessageV1,
}

stored_enum! {
    /// Why a message about a ticket is sent (format 1).
    PurposeV1 for Purpose {
        Acknowledgement,
        SlaBreach,
        ClosureReminder,
        Survey,
        TakeChargeNotice,
        ClientUpdate,
        ResolutionNotice,
        GdprInformation,
        PostMortem,
        SlaWarning,
        InterventionReport,
    }
}

/// A message's text for each channel (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageV1 {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: String,
}

/// A report's email and the document it attaches (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportNoticeV1 {
    #[serde(flatten)]
    pub mail: ReportMailV1,
    pub report_document: i64,
}

/// The email that sends a report (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMailV1 {
    pub key: String,
    pub recipient: String,
    pub name: String,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub file_name: String,
}

/// An email to a user about their own account (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountNoticeV1 {
    pub key: String,
    pub account: String,
    pub name: String,
    pub address: String,
    pub subject: String,
    pub text: String,
}

impl From<&Outgoing> for OutgoingV1 {
    fn from(outgoing: &Outgoing) -> OutgoingV1 {
        match outgoing {
            Outgoing::Page(notice) => OutgoingV1::Page(Box::new(NoticeV1::from(&**notice))),
            Outgoing::Ticket(message) => {
                OutgoingV1::Ticket(Box::new(TicketNoticeV1::from(&**message)))
            }
            Outgoing::Report(report) => {
                OutgoingV1::Report(Box::new(ReportNoticeV1::from(&**report)))
            }
            Outgoing::Account(notice) => {
                OutgoingV1::Account(Box::new(AccountNoticeV1::from(&**notice)))
            }
        }
    }
}

impl TryFrom<OutgoingV1> for Outgoing {
    type Error = InvalidValue;

    fn try_from(stored: OutgoingV1) -> Result<Outgoing, InvalidValue> {
        Ok(match stored {
            OutgoingV1::Page(notice) => Outgoing::Page(Box::new((*notice).try_into()?)),
            OutgoingV1::Ticket(message) => Outgoing::Ticket(Box::new((*message).into())),
            OutgoingV1::Report(report) => Outgoing::Report(Box::new((*report).into())),
            OutgoingV1::Account(notice) => Outgoing::Account(Box::new((*notice).into())),
        })
    }
}

impl From<&Notice> for NoticeV1 {
    fn from(notice: &Notice) -> NoticeV1 {
        NoticeV1 {
            page: PageV1::from(&notice.page),
            alarm: AlarmV1::from(&notice.alarm),
            client_name: notice.client_name.clone(),
            site_name: notice.site_name.clone(),
            equipment_name: notice.equipment_name.clone(),
            time_zone: notice.time_zone.to_string(),
            acknowledge_by: notice.acknowledge_by,
            digest: notice.digest.iter().map(DigestEntryV1::from).collect(),
            digest_omitted: notice.digest_omitted,
            conference: notice
                .conference
                .as_ref()
                .map(super::alarm_event::InvitationV1::from),
        }
    }
}

impl TryFrom<NoticeV1> for Notice {
    type Error = InvalidValue;

    fn try_from(stored: NoticeV1) -> Result<Notice, InvalidValue> {
        Ok(Notice {
            page: stored.page.into(),
            alarm: stored
                .alarm
                .try_into()
                .map_err(|e: InvalidValue| InvalidValue(format!("alarm.{}", e.0)))?,
            client_name: stored.client_name,
            site_name: stored.site_name,
            equipment_name: stored.equipment_name,
            time_zone: TimeZoneName::parse(&stored.time_zone)
                .map_err(|e| InvalidValue(format!("time_zone : {}", e.0)))?,
            acknowledge_by: stored.acknowledge_by,
            digest: stored.digest.into_iter().map(DigestEntry::from).collect(),
            digest_omitted: stored.digest_omitted,
            conference: stored.conference.map(Into::into),
        })
    }
}

impl From<&Page> for PageV1 {
    fn from(page: &Page) -> PageV1 {
        PageV1 {
            key: page.key.clone(),
            alarm: page.alarm,
            severity: page.severity.into(),
            step: page.step.clone(),
            recipient: page.recipient.clone(),
            name: page.name.clone(),
            channel: page.channel.into(),
            address: page.address.clone(),
            alternate: page.alternate.clone(),
            staff: page.staff,
            follow_up_ms: page.follow_up_ms,
        }
    }
}

impl From<PageV1> for Page {
    fn from(stored: PageV1) -> Page {
        Page {
            key: stored.key,
            alarm: stored.alarm,
            severity: stored.severity.into(),
            step: stored.step,
            recipient: stored.recipient,
            name: stored.name,
            channel: stored.channel.into(),
            address: stored.address,
            alternate: stored.alternate,
            staff: stored.staff,
            follow_up_ms: stored.follow_up_ms,
        }
    }
}

impl From<&DigestEntry> for DigestEntryV1 {
    fn from(entry: &DigestEntry) -> DigestEntryV1 {
        DigestEntryV1 {
            alarm: entry.alarm,
            severity: entry.severity.into(),
            condition: entry.condition.clone(),
            site_name: entry.site_name.clone(),
            equipment_name: entry.equipment_name.clone(),
            raised_at: entry.raised_at,
        }
    }
}

impl From<DigestEntryV1> for DigestEntry {
    fn from(stored: DigestEntryV1) -> DigestEntry {
        DigestEntry {
            alarm: stored.alarm,
            severity: stored.severity.into(),
            condition: stored.condition,
            site_name: stored.site_name,
            equipment_name: stored.equipment_name,
            raised_at: stored.raised_at,
        }
    }
}

impl From<&TicketNotice> for TicketNoticeV1 {
    fn from(message: &TicketNotice) -> TicketNoticeV1 {
        TicketNoticeV1 {
            key: message.key.clone(),
            ticket: message.ticket,
            priority: message.priority.into(),
            purpose: message.purpose.into(),
            recipient: message.recipient.clone(),
            name: message.name.clone(),
            channel: message.channel.into(),
            address: message.address.clone(),
            message: MessageV1::from(&message.message),
        }
    }
}

impl From<TicketNoticeV1> for TicketNotice {
    fn from(stored: TicketNoticeV1) -> TicketNotice {
        TicketNotice {
            key: stored.key,
            ticket: stored.ticket,
            priority: stored.priority.into(),
            purpose: stored.purpose.into(),
            recipient: stored.recipient,
            name: stored.name,
            channel: stored.channel.into(),
            address: stored.address,
            message: stored.message.into(),
        }
    }
}

impl From<&Message> for MessageV1 {
    fn from(message: &Message) -> MessageV1 {
        MessageV1 {
            subject: message.subject.clone(),
            text: message.text.clone(),
            html: message.html.clone(),
            sms: message.sms.clone(),
        }
    }
}

impl From<MessageV1> for Message {
    fn from(stored: MessageV1) -> Message {
        Message {
            subject: stored.subject,
            text: stored.text,
            html: stored.html,
            sms: stored.sms,
        }
    }
}

impl From<&ReportNotice> for ReportNoticeV1 {
    fn from(report: &ReportNotice) -> ReportNoticeV1 {
        let mail = &report.mail;
        ReportNoticeV1 {
            mail: ReportMailV1 {
                key: mail.key.clone(),
                recipient: mail.recipient.clone(),
                name: mail.name.clone(),
                address: mail.address.clone(),
                subject: mail.subject.clone(),
                text: mail.text.clone(),
                html: mail.html.clone(),
                file_name: mail.file_name.clone(),
            },
            report_document: report.report_document,
        }
    }
}

impl From<ReportNoticeV1> for ReportNotice {
    fn from(stored: ReportNoticeV1) -> ReportNotice {
        let mail = stored.mail;
        ReportNotice {
            mail: ReportMail {
                key: mail.key,
                recipient: mail.recipient,
                name: mail.name,
                address: mail.address,
                subject: mail.subject,
                text: mail.text,
                html: mail.html,
                file_name: mail.file_name,
            },
            report_document: stored.report_document,
        }
    }
}

impl From<&AccountNotice> for AccountNoticeV1 {
    fn from(notice: &AccountNotice) -> AccountNoticeV1 {
        AccountNoticeV1 {
            key: notice.key.clone(),
            account: notice.account.clone(),
            name: notice.name.clone(),
            address: notice.address.clone(),
            subject: notice.subject.clone(),
            text: notice.text.clone(),
        }
    }
}

impl From<AccountNoticeV1> for AccountNotice {
    fn from(stored: AccountNoticeV1) -> AccountNotice {
        AccountNotice {
            key: stored.key,
            account: stored.account,
            name: stored.name,
            address: stored.address,
            subject: stored.subject,
            text: stored.text,
        }
    }
}
