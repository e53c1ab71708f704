//! Who is told what about a ticket, and when (INC-3, INC-4, INC-5, INC-6, SAV-2, SAV-6, SAV-7,
//! CM-8): from a ticket's new events and the people around it, the messages they imply, each
//! built by `message` for one addressee, with the instant it is due. Pure: the store reads
//! [`TicketPeople`] (and [`TicketHistory`] when [`reads`] says so) once per ticket, calls
//! [`plan`], and queues the result in the outbox in the same transaction.

use crate::TimeZoneName;
use crate::alarm::escalation::CONSOLE;
use crate::alarm::lifecycle::AlarmEvent;
use crate::inventory::{
    Client, Contact, ContactRole, Equipment, Priority, Site, SlaMeasure, Staff, StaffRole,
};
use crate::policy::Channel;
use crate::{EmailAddress, PhoneNumber, Reference};

use super::Action;
use super::Status;
use super::desk::{EventKind, Kind, Ticket, TicketEvent, ToldBy};
use super::message::{self, Addressee, Missed, TicketNotice};
use super::post_mortem;
use super::report::{self, Document};

/// The people a ticket's messages reach or name, and where it happened, as the store found
/// them when the ticket changed. A record that is gone is `None`: its reference stands in for
/// its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketPeople {
    /// The ticket's client.
    pub client: Option<Client>,
    /// The ticket's site, when it names one.
    pub site: Option<Site>,
    /// The ticket's equipment, when it names one.
    pub equipment: Option<Equipment>,
    /// The client's contacts, and the contacts the site names, in reference order.
    pub contacts: Vec<Contact>,
    /// The integrator's staff, in reference order.
    pub staff: Vec<Staff>,
}

impl TicketPeople {
    /// The client's name, or its reference when its record is gone.
    pub fn client_name(&self, ticket: &Ticket) -> String {
        self.client
            .as_ref()
            .map_or_else(|| ticket.report.client.to_string(), |c| c.name.to_string())
    }

    /// The site's name, when the ticket names a known site.
    pub fn site_name(&self) -> Option<String> {
        self.site.as_ref().map(|s| s.name.to_string())
    }

    /// The time zone messages are worded in: the site's, Europe/Paris without one.
    pub fn zone(&self) -> TimeZoneName {
        self.site
            .as_ref()
            .map_or_else(TimeZoneName::default, |s| s.time_zone.clone())
    }

    /// The equipment's name, or its reference when its record is gone.
    fn equipment_name(&self, ticket: &Ticket) -> Option<String> {
        let reference = ticket.report.equipment.as_ref()?;
        Some(
            self.equipment
                .as_ref()
                .map_or_else(|| reference.to_string(), |e| e.name.to_string()),
        )
    }

    fn staff_member(&self, reference: &Reference) -> Option<&Staff> {
        self.staff.iter().find(|s| &s.reference == reference)
    }

    fn contact(&self, reference: &Reference) -> Option<&Contact> {
        self.contacts.iter().find(|c| &c.reference == reference)
    }

    /// The contacts of the ticket's client (not a site's contact of another client).
    fn client_contacts<'a>(&'a self, ticket: &'a Ticket) -> impl Iterator<Item = &'a Contact> {
        self.contacts
            .iter()
            .filter(move |c| c.client == ticket.report.client)
    }
}

/// What a ticket's history holds for the rules that need more than its new events: the
/// intervention report (CM-8) and the post-mortem's timeline (INC-6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketHistory {
    /// The ticket's events already stored, oldest first (the new ones not among them).
    pub events: Vec<TicketEvent>,
    /// The events of the alarm that opened the ticket, oldest first.
    pub alarm_events: Vec<AlarmEvent>,
}

/// What the store must read before [`plan`], known from the new events alone: most changes
/// of a ticket tell no one, and read nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    /// [`TicketPeople`]: some message may go.
    pub people: bool,
    /// [`TicketHistory::events`]: a resolution (CM-8) or a shared post-mortem (INC-6).
    pub events: bool,
    /// [`TicketHistory::alarm_events`]: a shared post-mortem of an alarm's ticket (INC-6).
    pub alarm_events: bool,
}

/// One message planned: to whom (inside the notice), what, and from when it may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub notice: TicketNotice,
    /// Epoch milliseconds.
    pub due: i64,
}

/// What a ticket's new events imply: the messages, and the intervention report to file in
/// the site's file (the client's without a site) before its message goes (CM-8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub messages: Vec<Planned>,
    pub report: Option<Document>,
}

/// What the store reads before planning the messages of `events`.
pub fn reads(ticket: &Ticket, events: &[TicketEvent]) -> Reads {
    let published = published(events) && ticket.post_mortem.is_some();
    let people = events.iter().any(|e| match &e.kind {
        EventKind::SlaBreached { .. }
        | EventKind::GdprOverdue { .. }
        | EventKind::PostMortemOverdue { .. }
        | EventKind::SlaWarning { .. }
        | EventKind::ClosureReminder { .. }
        | EventKind::Resolved {
            gdpr_due: Some(_), ..
        } => true,
        EventKind::Action {
            action: Action::TakeCharge,
        } => e.by.is_some(),
        EventKind::Status { status } => matches!(status, Status::Resolved | Status::Closed),
        _ => false,
    }) || published;
    Reads {
        people,
        events: reached(events, Status::Resolved) || published,
        alarm_events: published && ticket.report.alarm.is_some(),
    }
}

/// The messages a ticket's new `events` imply, in this order: breaches to the operations
/// managers (INC-3), the take-charge notice (INC-4), the resolution notice (INC-5, SAV-6), the
/// closure reminder (SAV-6), the survey (SAV-7), the information on lost data (INC-5), the
/// post-mortem (INC-6), the deadline warnings (INC-3, INC-4), the intervention report (CM-8).
/// Each rule looks for its own event, so every change of a ticket goes through this one place
/// and none is forgotten. All are due at `now`. A message planned twice (the same key) is
/// queued once by the outbox.
pub fn plan(
    ticket: &Ticket,
    events: &[TicketEvent],
    people: &TicketPeople,
    history: &TicketHistory,
    now: i64,
) -> Plan {
    let mut notices = breaches(ticket, events, people);
    notices.extend(take_charge(ticket, events, people));
    notices.extend(resolution(ticket, events, people));
    notices.extend(closure_reminder(ticket, events, people));
    notices.extend(survey(ticket, events, people));
    notices.extend(gdpr_information(ticket, events, people));
    notices.extend(post_mortem_shared(ticket, events, people, history));
    notices.extend(warnings(ticket, events, people));
    let report =
        intervention_report(ticket, events, people, history, now).map(|(document, sent)| {
            notices.extend(sent);
            document
        });
    Plan {
        messages: notices
            .into_iter()
            .map(|notice| Planned { notice, due: now })
            .collect(),
        report,
    }
}

/// SAV-2: the acknowledgement of a client's report, with its number, to
/// [`acknowledgement_addressees`], due at `due` (`message::acknowledgement_due`: at once in
/// hours or for a P1, else at the next opening). A ticket Vigie opened itself (an alarm's, a
/// review) has none.
pub fn acknowledgement(ticket: &Ticket, people: &TicketPeople, due: i64) -> Vec<Planned> {
    if matches!(
        ticket.report.source,
        super::desk::Source::Alarm | super::desk::Source::Recurrence
    ) {
        return Vec::new();
    }
    let site_name = people.site_name();
    let zone = people.zone();
    acknowledgement_addressees(ticket, people)
        .iter()
        .map(|to| Planned {
            notice: message::acknowledgement(ticket, to, site_name.as_deref(), &zone),
            due,
        })
        .collect()
}

/// INC-4: a point on the incident written by the one in charge goes at `now` to
/// [`incident_addressees`], with the next point's deadline; `now` tells the points apart.
pub fn client_update(ticket: &Ticket, people: &TicketPeople, text: &str, now: i64) -> Vec<Planned> {
    let zone = people.zone();
    let next = next_client_update(ticket);
    incident_addressees(ticket, people)
        .iter()
        .map(|to| Planned {
            notice: message::client_update(ticket, to, text, now, next, &zone),
            due: now,
        })
        .collect()
}

/// A person by the channels asked for that their record allows (no address, no message).
pub fn addressees(
    reference: &Reference,
    name: &str,
    email: Option<&EmailAddress>,
    phone: Option<&PhoneNumber>,
    channels: &[Channel],
) -> Vec<Addressee> {
    channels
        .iter()
        .filter_map(|channel| {
            let address = match channel {
                Channel::Email => email.map(ToString::to_string),
                Channel::Sms => phone.map(ToString::to_string),
                // A ticket's messages are written, never read aloud by a call.
                Channel::Webhook | Channel::Console | Channel::Voice => None,
            }?;
            Some(Addressee {
                recipient: reference.to_string(),
                name: name.to_owned(),
                channel: *channel,
                address,
            })
        })
        .collect()
}

/// A client's contact by the channels asked for that their record allows.
pub fn contact_addressees(contact: &Contact, channels: &[Channel]) -> Vec<Addressee> {
    addressees(
        &contact.reference,
        contact.name.as_ref(),
        contact.email.as_ref(),
        contact.phone.as_ref(),
        channels,
    )
}

fn staff_addressees(staff: &Staff, channels: &[Channel]) -> Vec<Addressee> {
    addressees(
        &staff.reference,
        staff.name.as_ref(),
        staff.email.as_ref(),
        staff.phone.as_ref(),
        channels,
    )
}

/// The supervision console, told of every breach and warning (INC-3).
fn console() -> Addressee {
    Addressee {
        recipient: CONSOLE.to_owned(),
        name: "équipe de supervision".into(),
        channel: Channel::Console,
        address: CONSOLE.to_owned(),
    }
}

/// Who receives what the client's report gets (SAV-2: the acknowledgement; SAV-6: the
/// resolution notice and the reminder; SAV-7: the survey), by email unless the client chose
/// otherwise for this ticket ([`by_choice`]): the address the report gave (`reply_to`), else
/// the site's technical contact, else its security manager, else the client's technical
/// contacts. A contact without an address for the channels is skipped.
pub fn acknowledgement_addressees(ticket: &Ticket, people: &TicketPeople) -> Vec<Addressee> {
    report_addressees(ticket, people, ticket.told_by)
}

/// [`acknowledgement_addressees`] with `choice` for the client's choice: `None` for what only
/// email carries (CM-8: the intervention report is a document).
fn report_addressees(
    ticket: &Ticket,
    people: &TicketPeople,
    choice: Option<ToldBy>,
) -> Vec<Addressee> {
    let report = &ticket.report;
    if let Some(address) = &report.reply_to {
        // An address alone: email is the one channel known.
        return vec![Addressee {
            recipient: address.to_string(),
            name: report
                .reporter
                .clone()
                .unwrap_or_else(|| address.to_string()),
            channel: Channel::Email,
            address: address.to_string(),
        }];
    }
    if let Some(site) = &people.site {
        for named in [&site.technical_contact, &site.security_manager]
            .into_iter()
            .flatten()
        {
            if let Some(contact) = people.contact(named) {
                let found = by_choice(choice, contact, &[Channel::Email]);
                if !found.is_empty() {
                    return found;
                }
            }
        }
    }
    people
        .client_contacts(ticket)
        .filter(|c| c.roles.contains(&ContactRole::TechnicalContact))
        .flat_map(|c| by_choice(choice, c, &[Channel::Email]))
        .collect()
}

/// A client's contact by the channels the client chose for the ticket (issue 25, item 12),
/// else by `default`. A contact with no address for the chosen channels is reached by
/// `default`: a choice never loses a message.
fn by_choice(choice: Option<ToldBy>, contact: &Contact, default: &[Channel]) -> Vec<Addressee> {
    if let Some(choice) = choice {
        let chosen = contact_addressees(contact, choice.channels());
        if !chosen.is_empty() {
            return chosen;
        }
    }
    contact_addressees(contact, default)
}

/// Who is told of an incident's handling (INC-4: take charge, points; INC-6: the
/// post-mortem): the site's technical contact (else the client's technical contacts) by email
/// and SMS, and for a P1 the client's management too.
pub fn incident_addressees(ticket: &Ticket, people: &TicketPeople) -> Vec<Addressee> {
    let named = people
        .site
        .as_ref()
        .and_then(|s| s.technical_contact.as_ref());
    let mut chosen: Vec<&Contact> = match named {
        Some(reference) => people
            .client_contacts(ticket)
            .filter(|c| &c.reference == reference)
            .collect(),
        None => Vec::new(),
    };
    if chosen.is_empty() {
        chosen = people
            .client_contacts(ticket)
            .filter(|c| c.roles.contains(&ContactRole::TechnicalContact))
            .collect();
    }
    if ticket.priority == Priority::P1 {
        for contact in people
            .client_contacts(ticket)
            .filter(|c| c.roles.contains(&ContactRole::Management))
        {
            if !chosen.iter().any(|c| c.reference == contact.reference) {
                chosen.push(contact);
            }
        }
    }
    chosen
        .into_iter()
        .flat_map(|c| by_choice(ticket.told_by, c, &[Channel::Email, Channel::Sms]))
        .collect()
}

/// INC-5: who is informed of lost data: the addressees of the resolution notice, then the
/// client's security managers, CIO and management by email and SMS, each address and channel
/// once.
pub fn gdpr_addressees(ticket: &Ticket, people: &TicketPeople) -> Vec<Addressee> {
    // A legal duty (the client is the data's controller): the client's choice of channels
    // does not narrow it.
    let mut chosen = report_addressees(ticket, people, None);
    for contact in people.client_contacts(ticket).filter(|c| {
        c.roles.contains(&ContactRole::SecurityManager)
            || c.roles.contains(&ContactRole::Cio)
            || c.roles.contains(&ContactRole::Management)
    }) {
        for to in contact_addressees(contact, &[Channel::Email, Channel::Sms]) {
            if !chosen
                .iter()
                .any(|a| a.address == to.address && a.channel == to.channel)
            {
                chosen.push(to);
            }
        }
    }
    chosen
}

/// INC-3: who is told of a missed deadline: the supervision console, then each operations
/// manager of the staff by email and SMS, as their record allows.
pub fn breach_addressees(people: &TicketPeople) -> Vec<Addressee> {
    let mut chosen = vec![console()];
    for staff in people
        .staff
        .iter()
        .filter(|s| s.roles.contains(&StaffRole::OperationsManager))
    {
        chosen.extend(staff_addressees(staff, &[Channel::Email, Channel::Sms]));
    }
    chosen
}

/// INC-3, INC-4: who is warned of a near deadline: the supervision console, and the one in
/// charge by email when someone has the ticket.
pub fn warning_addressees(ticket: &Ticket, people: &TicketPeople) -> Vec<Addressee> {
    let mut chosen = vec![console()];
    if let Some(staff) = ticket
        .assignee
        .as_ref()
        .and_then(|a| people.staff_member(a))
    {
        chosen.extend(staff_addressees(staff, &[Channel::Email]));
    }
    chosen
}

/// Whether `events` bring the ticket to `status`.
fn reached(events: &[TicketEvent], status: Status) -> bool {
    events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Status { status: s } if s == status))
}

fn published(events: &[TicketEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e.kind, EventKind::PostMortemPublished))
}

fn next_client_update(ticket: &Ticket) -> Option<i64> {
    ticket.sla.dues().get(&SlaMeasure::ClientUpdate).copied()
}

/// INC-3 (and INC-5's, INC-6's own deadlines): every missed deadline among `events` — an SLA
/// timer, the information on lost data, the post-mortem — goes to [`breach_addressees`].
fn breaches(ticket: &Ticket, events: &[TicketEvent], people: &TicketPeople) -> Vec<TicketNotice> {
    let missed: Vec<(Missed, i64)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SlaBreached { timer, due } => Some((Missed::Sla(timer), due)),
            EventKind::GdprOverdue { due } => Some((Missed::GdprInformation, due)),
            EventKind::PostMortemOverdue { due } => Some((Missed::PostMortem, due)),
            _ => None,
        })
        .collect();
    if missed.is_empty() {
        return Vec::new();
    }
    let to = breach_addressees(people);
    let client_name = people.client_name(ticket);
    let zone = people.zone();
    missed
        .into_iter()
        .flat_map(|(what, due)| {
            to.iter()
                .map(|to| message::breach(ticket, what, due, to, &client_name, &zone))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// INC-4: an incident (P1, P2; not a technical review) taken in charge by someone among
/// `events` is told to [`incident_addressees`] at once, naming the technician, with the next
/// point's deadline. Once per ticket: the notice's key names the ticket, not the instant.
fn take_charge(
    ticket: &Ticket,
    events: &[TicketEvent],
    people: &TicketPeople,
) -> Vec<TicketNotice> {
    let Some(by) = events.iter().find_map(|e| match (&e.kind, &e.by) {
        (
            EventKind::Action {
                action: Action::TakeCharge,
            },
            Some(by),
        ) => Some(by),
        _ => None,
    }) else {
        return Vec::new();
    };
    if !matches!(ticket.priority, Priority::P1 | Priority::P2) || ticket.report.kind == Kind::Review
    {
        return Vec::new();
    }
    let technician = people
        .staff_member(by)
        .map_or_else(|| by.to_string(), |s| s.name.to_string());
    let zone = people.zone();
    let next = next_client_update(ticket);
    incident_addressees(ticket, people)
        .iter()
        .map(|to| message::take_charge_notice(ticket, to, &technician, next, &zone))
        .collect()
}

/// INC-5, SAV-6: a ticket resolved among `events` (not a technical review) sends its
/// resolution notice, with the link to confirm the fix, to [`acknowledgement_addressees`].
fn resolution(ticket: &Ticket, events: &[TicketEvent], people: &TicketPeople) -> Vec<TicketNotice> {
    if !reached(events, Status::Resolved) || ticket.report.kind == Kind::Review {
        return Vec::new();
    }
    let zone = people.zone();
    acknowledgement_addressees(ticket, people)
        .iter()
        .map(|to| message::resolution_notice(ticket, to, &zone))
        .collect()
}

/// SAV-6: the closure reminder among `events` (the first) goes to
/// [`acknowledgement_addressees`], saying when the ticket closes without an answer.
fn closure_reminder(
    ticket: &Ticket,
    events: &[TicketEvent],
    people: &TicketPeople,
) -> Vec<TicketNotice> {
    let Some(close_at) = events.iter().find_map(|e| match e.kind {
        EventKind::ClosureReminder { close_at } => Some(close_at),
        _ => None,
    }) else {
        return Vec::new();
    };
    let zone = people.zone();
    acknowledgement_addressees(ticket, people)
        .iter()
        .map(|to| message::closure_reminder(ticket, to, close_at, &zone))
        .collect()
}

/// SAV-7: a ticket closed among `events` (confirmed, closed by the integrator or by Vigie;
/// not a technical review) sends its satisfaction survey to [`acknowledgement_addressees`]
/// at once, within the 48 hours.
fn survey(ticket: &Ticket, events: &[TicketEvent], people: &TicketPeople) -> Vec<TicketNotice> {
    if !reached(events, Status::Closed) || ticket.report.kind == Kind::Review {
        return Vec::new();
    }
    acknowledgement_addressees(ticket, people)
        .iter()
        .map(|to| message::survey(ticket, to))
        .collect()
}

/// INC-5: a resolution among `events` that lost data (its `gdpr_due`) informs
/// [`gdpr_addressees`] at once, apart from the resolution notice.
fn gdpr_information(
    ticket: &Ticket,
    events: &[TicketEvent],
    people: &TicketPeople,
) -> Vec<TicketNotice> {
    let lost = events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Resolved {
                gdpr_due: Some(_),
                ..
            }
        )
    });
    if !lost {
        return Vec::new();
    }
    let zone = people.zone();
    gdpr_addressees(ticket, people)
        .iter()
        .map(|to| message::gdpr_information(ticket, to, &zone))
        .collect()
}

/// INC-6: a post-mortem shared among `events` goes to [`incident_addressees`] with the
/// incident's timeline (the ticket's events, stored and new, and its alarm's).
fn post_mortem_shared(
    ticket: &Ticket,
    events: &[TicketEvent],
    people: &TicketPeople,
    history: &TicketHistory,
) -> Vec<TicketNotice> {
    let Some(shared) = ticket.post_mortem.as_ref().filter(|_| published(events)) else {
        return Vec::new();
    };
    let all = with_history(history, events);
    let timeline = post_mortem::timeline(&all, &history.alarm_events);
    let zone = people.zone();
    incident_addressees(ticket, people)
        .iter()
        .map(|to| message::post_mortem_notice(ticket, shared, &timeline, to, &zone))
        .collect()
}

/// INC-3, INC-4: each deadline warning among `events` goes to [`warning_addressees`].
fn warnings(ticket: &Ticket, events: &[TicketEvent], people: &TicketPeople) -> Vec<TicketNotice> {
    let near: Vec<(SlaMeasure, i64)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SlaWarning { timer, due } => Some((timer, due)),
            _ => None,
        })
        .collect();
    if near.is_empty() {
        return Vec::new();
    }
    let to = warning_addressees(ticket, people);
    let client_name = people.client_name(ticket);
    let zone = people.zone();
    near.into_iter()
        .flat_map(|(timer, due)| {
            to.iter()
                .map(|to| message::warning(ticket, timer, due, to, &client_name, &zone))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// CM-8: a corrective intervention (`report::is_corrective`) resolved among `events` produces
/// its report, filed whatever happens, and sent by email to [`acknowledgement_addressees`]
/// (by email only: the report is the message's body). A relapse resolved again is a new
/// report: its key carries the resolution's instant.
fn intervention_report(
    ticket: &Ticket,
    events: &[TicketEvent],
    people: &TicketPeople,
    history: &TicketHistory,
    now: i64,
) -> Option<(Document, Vec<TicketNotice>)> {
    if !reached(events, Status::Resolved) {
        return None;
    }
    let all = with_history(history, events);
    if !report::is_corrective(ticket, &all) {
        return None;
    }
    let client_name = people.client_name(ticket);
    let site_name = people.site_name();
    let equipment_name = people.equipment_name(ticket);
    let zone = people.zone();
    let staff: Vec<(String, String)> = people
        .staff
        .iter()
        .map(|s| (s.reference.to_string(), s.name.to_string()))
        .collect();
    let document = report::intervention_report(
        ticket,
        &all,
        report::Names {
            client: &client_name,
            site: site_name.as_deref(),
            equipment: equipment_name.as_deref(),
            zone: &zone,
            staff: &staff,
        },
    );
    let version = ticket.resolved_at.unwrap_or(now);
    let sent = report_addressees(ticket, people, None)
        .iter()
        .filter(|to| to.channel == Channel::Email)
        .map(|to| message::intervention_report_notice(ticket, &document, version, to))
        .collect();
    Some((document, sent))
}

/// Every event of the ticket: those stored, then the new ones.
fn with_history(history: &TicketHistory, events: &[TicketEvent]) -> Vec<TicketEvent> {
    history
        .events
        .iter()
        .chain(events.iter())
        .cloned()
        .collect()
}
