//! Who is told what about a ticket, and when (`vigie_domain::ticket::notices`): each rule
//! triggered by its event and not by others, the addressees by priority and by the channels a
//! contact's record allows, technical reviews and P3 left out where the requirements say so;
//! then NOT-6's grouping of a site's Minor alarms of one day, across time zones and DST.
//!
//! Instants are written in RFC 3339 with the Europe/Paris offset of the day (+01:00 in winter,
//! +02:00 from 29 March to 25 October 2026).

use proptest::prelude::*;
use serde_json::json;
use vigie_domain::inventory::{Client, Contact, Equipment, Priority, Site, SlaMeasure, Staff};
use vigie_domain::policy::{Channel, Policy};
use vigie_domain::ticket::desk::{
    self, DataImpact, EventKind, Kind, Note, Report, Resolution, Source, Terms, Ticket,
    TicketEvent, ToldBy,
};
use vigie_domain::ticket::message::{Addressee, Purpose};
use vigie_domain::ticket::notices::{
    self, Plan, TicketHistory, TicketPeople, acknowledgement_addressees, incident_addressees,
};
use vigie_domain::ticket::post_mortem::PostMortem;
use vigie_domain::ticket::{Action, Status};
use vigie_domain::{EmailAddress, Reference};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn r(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

fn now() -> i64 {
    at("2026-03-11T10:00:00+01:00") // a Wednesday, in hours
}

fn contact(reference: &str, roles: &[&str], email: bool, phone: bool) -> Contact {
    let mut record = json!({
        "ref": reference,
        "client": "ACME",
        "name": format!("Nom {reference}"),
        "roles": roles,
    });
    if email {
        record["email"] = json!(format!("{}@acme.example", reference.to_lowercase()));
    }
    if phone {
        // One number per contact: the information on lost data tells each number once.
        let digits: u32 = reference.bytes().map(u32::from).sum();
        record["phone"] = json!(format!("+3361234{:04}", digits % 10_000));
    }
    serde_json::from_value(record).unwrap()
}

fn staff(reference: &str, roles: &[&str], phone: bool) -> Staff {
    let mut record = json!({
        "ref": reference,
        "name": format!("Nom {reference}"),
        "roles": roles,
        "email": format!("{}@integrateur.example", reference.to_lowercase()),
    });
    if phone {
        record["phone"] = json!("+33698765432");
    }
    serde_json::from_value(record).unwrap()
}

fn site(technical: Option<&str>, security: Option<&str>) -> Site {
    let mut record = json!({
        "ref": "SITE-1",
        "client": "ACME",
        "contract": "CT-1",
        "name": "Entrepôt de Lyon",
        "time_zone": "Europe/Paris",
    });
    if let Some(technical) = technical {
        record["technical_contact"] = json!(technical);
    }
    if let Some(security) = security {
        record["security_manager"] = json!(security);
    }
    serde_json::from_value(record).unwrap()
}

/// ACME, its site with a technical contact and a security manager, two more technical
/// contacts, a manager, a CIO; the integrator's staff: two operations managers (one without
/// a phone), a technician.
fn people() -> TicketPeople {
    TicketPeople {
        client: Some(Client {
            reference: r("ACME"),
            name: vigie_domain::Name::parse("ACME Logistique").unwrap(),
        }),
        site: Some(site(Some("C-SITE-TECH"), Some("C-SECU"))),
        equipment: None,
        contacts: vec![
            contact("C-CIO", &["cio"], true, true),
            contact("C-DIR", &["management"], true, true),
            contact("C-SECU", &["security_manager"], true, true),
            contact("C-SITE-TECH", &["technical_contact"], true, true),
            contact("C-TECH-2", &["technical_contact"], true, false),
        ],
        staff: vec![
            staff("S-MGR-1", &["operations_manager"], true),
            staff("S-MGR-2", &["operations_manager"], false),
            staff("S-TECH", &["technician"], true),
        ],
    }
}

fn report(kind: Kind, source: Source) -> Report {
    Report {
        client: r("ACME"),
        site: Some(r("SITE-1")),
        equipment: None,
        kind,
        source,
        symptom: "Caméra du quai 3 hors ligne".into(),
        impact: None,
        stated_criticality: None,
        reporter: None,
        reply_to: None,
        alarm: None,
        topic: None,
    }
}

fn opened(priority: Priority, kind: Kind, source: Source) -> Ticket {
    let (ticket, _) = Ticket::open(
        7,
        report(kind, source),
        priority,
        &Policy::default_policy(),
        Terms {
            tier: Default::default(),
            round_the_clock: false,
        },
        now() - HOUR,
        None,
    )
    .unwrap();
    ticket
}

fn incident(priority: Priority) -> Ticket {
    opened(priority, Kind::Incident, Source::Portal)
}

fn event(ticket: &Ticket, by: Option<&str>, kind: EventKind) -> TicketEvent {
    ticket.event(now(), by.map(r), kind)
}

fn plan_of(ticket: &Ticket, events: &[TicketEvent]) -> Plan {
    notices::plan(ticket, events, &people(), &TicketHistory::default(), now())
}

/// (purpose, recipient, channel) of each planned message, in order.
fn sent(plan: &Plan) -> Vec<(Purpose, String, Channel)> {
    plan.messages
        .iter()
        .map(|p| {
            (
                p.notice.purpose,
                p.notice.recipient.clone(),
                p.notice.channel,
            )
        })
        .collect()
}

fn to(purpose: Purpose, list: &[(&str, Channel)]) -> Vec<(Purpose, String, Channel)> {
    list.iter()
        .map(|(recipient, channel)| (purpose, (*recipient).to_owned(), *channel))
        .collect()
}

fn who(addressees: &[Addressee]) -> Vec<(String, Channel)> {
    addressees
        .iter()
        .map(|a| (a.recipient.clone(), a.channel))
        .collect()
}

fn pairs(list: &[(&str, Channel)]) -> Vec<(String, Channel)> {
    list.iter().map(|(r, c)| ((*r).to_owned(), *c)).collect()
}

fn status(ticket: &Ticket, status: Status) -> TicketEvent {
    event(ticket, None, EventKind::Status { status })
}

fn take_charge(ticket: &Ticket, by: Option<&str>) -> TicketEvent {
    event(
        ticket,
        by,
        EventKind::Action {
            action: Action::TakeCharge,
        },
    )
}

use Channel::{Console, Email, Sms};

// INC-3 ------------------------------------------------------------------------------------

#[test]
fn inc_3_a_breach_goes_to_the_console_and_each_operations_manager_by_email_and_sms() {
    let ticket = incident(Priority::P2);
    let breached = event(
        &ticket,
        None,
        EventKind::SlaBreached {
            timer: SlaMeasure::TakeCharge,
            due: now(),
        },
    );
    let plan = plan_of(&ticket, &[breached]);
    assert_eq!(
        sent(&plan),
        to(
            Purpose::SlaBreach,
            &[
                ("supervision", Console),
                ("S-MGR-1", Email),
                ("S-MGR-1", Sms),
                ("S-MGR-2", Email), // no phone, no SMS
            ]
        )
    );
    assert!(plan.messages.iter().all(|p| p.due == now()));
    assert!(plan.report.is_none());
    let text = &plan.messages[1].notice.message.text;
    assert!(text.contains("ACME Logistique"), "{text}");
}

#[test]
fn inc_3_each_missed_deadline_is_its_own_alert_gdpr_and_post_mortem_included() {
    let ticket = incident(Priority::P1);
    let events = [
        event(
            &ticket,
            None,
            EventKind::SlaBreached {
                timer: SlaMeasure::ClientUpdate,
                due: now() - HOUR,
            },
        ),
        event(
            &ticket,
            None,
            EventKind::SlaBreached {
                timer: SlaMeasure::ClientUpdate,
                due: now(),
            },
        ),
        event(&ticket, None, EventKind::GdprOverdue { due: now() }),
        event(&ticket, None, EventKind::PostMortemOverdue { due: now() }),
    ];
    let plan = plan_of(&ticket, &events);
    assert_eq!(plan.messages.len(), 4 * 4);
    let keys: std::collections::BTreeSet<_> = plan.messages.iter().map(|p| &p.notice.key).collect();
    assert_eq!(keys.len(), 16, "one key per deadline and addressee");
    assert!(keys.contains(&"ticket/7/sla_breach/gdpr_information/S-MGR-1/email".to_owned()));
    assert!(keys.contains(&"ticket/7/sla_breach/post_mortem/supervision/console".to_owned()));
}

#[test]
fn inc_3_without_operations_managers_the_console_alone_is_told() {
    let ticket = incident(Priority::P2);
    let mut people = people();
    people.staff.retain(|s| s.reference.as_str() == "S-TECH");
    let breached = event(
        &ticket,
        None,
        EventKind::SlaBreached {
            timer: SlaMeasure::TakeCharge,
            due: now(),
        },
    );
    let plan = notices::plan(&ticket, &[breached], &people, &Default::default(), now());
    assert_eq!(
        sent(&plan),
        to(Purpose::SlaBreach, &[("supervision", Console)])
    );
}

// INC-3, INC-4: warnings ----------------------------------------------------------------------

#[test]
fn a_warning_goes_to_the_console_and_the_one_in_charge_by_email_only() {
    let mut ticket = incident(Priority::P1);
    let warning = EventKind::SlaWarning {
        timer: SlaMeasure::OnSite,
        due: now() + 30 * MINUTE,
    };
    let plan = plan_of(&ticket, &[event(&ticket, None, warning.clone())]);
    assert_eq!(
        sent(&plan),
        to(Purpose::SlaWarning, &[("supervision", Console)])
    );
    ticket.assignee = Some(r("S-TECH"));
    let plan = plan_of(&ticket, &[event(&ticket, None, warning.clone())]);
    assert_eq!(
        sent(&plan),
        to(
            Purpose::SlaWarning,
            &[("supervision", Console), ("S-TECH", Email)]
        )
    );
    // Someone no longer in the staff: the console alone.
    ticket.assignee = Some(r("S-GONE"));
    let plan = plan_of(&ticket, &[event(&ticket, None, warning)]);
    assert_eq!(plan.messages.len(), 1);
}

// INC-4: take charge, points ------------------------------------------------------------------

#[test]
fn inc_4_a_p1_taken_in_charge_tells_the_sites_technical_contact_and_management() {
    let ticket = incident(Priority::P1);
    let plan = plan_of(&ticket, &[take_charge(&ticket, Some("S-TECH"))]);
    assert_eq!(
        sent(&plan),
        to(
            Purpose::TakeChargeNotice,
            &[
                ("C-SITE-TECH", Email),
                ("C-SITE-TECH", Sms),
                ("C-DIR", Email),
                ("C-DIR", Sms),
            ]
        )
    );
    let text = &plan.messages[0].notice.message.text;
    assert!(
        text.contains("Nom S-TECH"),
        "the technician by name: {text}"
    );
}

#[test]
fn inc_4_a_p2_taken_in_charge_tells_the_technical_contact_only() {
    let ticket = incident(Priority::P2);
    let plan = plan_of(&ticket, &[take_charge(&ticket, Some("S-TECH"))]);
    assert_eq!(
        sent(&plan),
        to(
            Purpose::TakeChargeNotice,
            &[("C-SITE-TECH", Email), ("C-SITE-TECH", Sms)]
        )
    );
}

#[test]
fn inc_4_no_take_charge_notice_for_a_p3_a_review_or_a_step_by_no_one() {
    let p3 = incident(Priority::P3);
    assert!(
        plan_of(&p3, &[take_charge(&p3, Some("S-TECH"))])
            .messages
            .is_empty()
    );
    let review = opened(Priority::P1, Kind::Review, Source::Recurrence);
    assert!(
        plan_of(&review, &[take_charge(&review, Some("S-TECH"))])
            .messages
            .is_empty()
    );
    let p1 = incident(Priority::P1);
    assert!(plan_of(&p1, &[take_charge(&p1, None)]).messages.is_empty());
    let other = event(
        &p1,
        Some("S-TECH"),
        EventKind::Action {
            action: Action::WaitForClient,
        },
    );
    assert!(plan_of(&p1, &[other]).messages.is_empty());
}

#[test]
fn inc_4_the_take_charge_notice_is_once_per_ticket_and_names_someone_unknown_by_reference() {
    let ticket = incident(Priority::P2);
    let first = plan_of(&ticket, &[take_charge(&ticket, Some("S-X"))]);
    let mut later = take_charge(&ticket, Some("S-TECH"));
    later.at += HOUR;
    let second = plan_of(&ticket, &[later]);
    let keys = |plan: &Plan| {
        plan.messages
            .iter()
            .map(|p| p.notice.key.clone())
            .collect::<Vec<_>>()
    };
    // The same keys: the outbox queues the second one not at all.
    assert_eq!(keys(&first), keys(&second));
    assert!(first.messages[0].notice.message.text.contains("S-X"));
    // Two take-charge steps in one change: one notice per addressee.
    let both = plan_of(
        &ticket,
        &[
            take_charge(&ticket, Some("S-TECH")),
            take_charge(&ticket, Some("S-X")),
        ],
    );
    assert_eq!(both.messages.len(), 2);
}

#[test]
fn inc_4_without_a_technical_contact_on_the_site_the_clients_technical_contacts_by_their_channels()
{
    let ticket = incident(Priority::P2);
    let mut people = people();
    people.site = Some(site(None, Some("C-SECU")));
    assert_eq!(
        who(&incident_addressees(&ticket, &people)),
        pairs(&[
            ("C-SITE-TECH", Email),
            ("C-SITE-TECH", Sms),
            ("C-TECH-2", Email), // no phone, no SMS
        ])
    );
    // A site's technical contact gone from the client's contacts: the same fallback.
    people.site = Some(site(Some("C-GONE"), None));
    assert_eq!(who(&incident_addressees(&ticket, &people)).len(), 3);
    // A contact with neither email nor phone is reached by nothing.
    people.site = Some(site(Some("C-MUTE"), None));
    people
        .contacts
        .push(contact("C-MUTE", &["technical_contact"], false, false));
    assert!(incident_addressees(&ticket, &people).is_empty());
}

#[test]
fn inc_4_a_client_update_goes_to_the_incident_addressees_with_its_own_key() {
    let ticket = incident(Priority::P1);
    let planned = notices::client_update(&ticket, &people(), "Pièce commandée", now());
    assert_eq!(planned.len(), 4);
    assert!(planned.iter().all(|p| p.due == now()
        && p.notice.purpose == Purpose::ClientUpdate
        && p.notice.key.contains(&now().to_string())));
}

// INC-5, SAV-6: resolution -------------------------------------------------------------------

#[test]
fn inc_5_sav_6_the_resolution_notice_goes_to_the_sites_technical_contact_by_email() {
    let ticket = incident(Priority::P2);
    let plan = plan_of(&ticket, &[status(&ticket, Status::Resolved)]);
    assert_eq!(
        sent(&plan),
        to(Purpose::ResolutionNotice, &[("C-SITE-TECH", Email)])
    );
    assert!(
        plan.report.is_none(),
        "an incident without a visit has no report"
    );
}

#[test]
fn sav_6_no_resolution_notice_nor_survey_for_a_technical_review() {
    let review = opened(Priority::P3, Kind::Review, Source::Recurrence);
    let plan = plan_of(
        &review,
        &[
            status(&review, Status::Resolved),
            status(&review, Status::Closed),
        ],
    );
    assert!(plan.messages.is_empty());
}

#[test]
fn sav_2_the_clients_addressees_the_reply_address_first_then_the_site_then_the_client() {
    let mut ticket = incident(Priority::P2);
    let mut people = people();
    assert_eq!(
        who(&acknowledgement_addressees(&ticket, &people)),
        pairs(&[("C-SITE-TECH", Email)])
    );
    // The site's technical contact without an email: its security manager.
    people.contacts[3] = contact("C-SITE-TECH", &["technical_contact"], false, true);
    assert_eq!(
        who(&acknowledgement_addressees(&ticket, &people)),
        pairs(&[("C-SECU", Email)])
    );
    // Neither named: the client's technical contacts with an email.
    people.site = Some(site(None, None));
    assert_eq!(
        who(&acknowledgement_addressees(&ticket, &people)),
        pairs(&[("C-TECH-2", Email)])
    );
    // A contact of another client is never among the client's.
    let mut stranger = contact("C-AUTRE", &["technical_contact"], true, true);
    stranger.client = r("AUTRE");
    people.contacts.push(stranger);
    assert_eq!(acknowledgement_addressees(&ticket, &people).len(), 1);
    // The address the report gave, under the reporter's name.
    ticket.report.reply_to = Some(EmailAddress::parse("marc@acme.example").unwrap());
    ticket.report.reporter = Some("Marc".into());
    let chosen = acknowledgement_addressees(&ticket, &people);
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0].address, "marc@acme.example");
    assert_eq!(chosen[0].name, "Marc");
}

#[test]
fn sav_2_the_acknowledgement_is_due_when_told_and_none_for_an_alarms_ticket() {
    let ticket = incident(Priority::P3);
    let planned = notices::acknowledgement(&ticket, &people(), now() + 2 * HOUR);
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].due, now() + 2 * HOUR);
    assert_eq!(planned[0].notice.purpose, Purpose::Acknowledgement);
    let alarm = opened(Priority::P3, Kind::Maintenance, Source::Alarm);
    assert!(notices::acknowledgement(&alarm, &people(), now()).is_empty());
}

// SAV-6: reminder; SAV-7: survey --------------------------------------------------------------

#[test]
fn sav_6_the_closure_reminder_says_when_and_goes_once_per_change() {
    let ticket = incident(Priority::P2);
    let close_at = now() + 5 * 24 * HOUR;
    let reminder = |close_at| event(&ticket, None, EventKind::ClosureReminder { close_at });
    let plan = plan_of(&ticket, &[reminder(close_at), reminder(close_at + HOUR)]);
    assert_eq!(
        sent(&plan),
        to(Purpose::ClosureReminder, &[("C-SITE-TECH", Email)])
    );
    assert!(
        plan_of(&ticket, &[status(&ticket, Status::InProgress)])
            .messages
            .is_empty()
    );
}

#[test]
fn sav_7_a_closed_ticket_sends_its_survey_and_only_a_closed_one() {
    let ticket = incident(Priority::P3);
    let plan = plan_of(&ticket, &[status(&ticket, Status::Closed)]);
    assert_eq!(sent(&plan), to(Purpose::Survey, &[("C-SITE-TECH", Email)]));
    let answered = event(
        &ticket,
        None,
        EventKind::SurveyAnswered {
            answers: desk::SurveyAnswers {
                responsiveness: 5,
                quality: 5,
                communication: 5,
                comment: None,
            },
        },
    );
    assert!(plan_of(&ticket, &[answered]).messages.is_empty());
}

// INC-5: lost data ----------------------------------------------------------------------------

fn resolved(ticket: &Ticket, gdpr_due: Option<i64>) -> TicketEvent {
    event(
        ticket,
        Some("S-TECH"),
        EventKind::Resolved {
            resolution: Resolution {
                root_cause: "Disque".into(),
                actions: "Remplacé".into(),
                intervention_minutes: 30,
                data_impact: DataImpact {
                    footage_lost: gdpr_due.is_some(),
                    accesses_untracked: false,
                    description: "Caméras 1 à 4, 2 h".into(),
                },
                parts_replaced: Vec::new(),
                recommendations: String::new(),
            },
            gdpr_due,
        },
    )
}

#[test]
fn inc_5_lost_data_informs_the_notice_addressees_security_cio_and_management_once_each() {
    let ticket = incident(Priority::P2);
    let plan = plan_of(&ticket, &[resolved(&ticket, Some(now() + 24 * HOUR))]);
    assert_eq!(
        sent(&plan),
        to(
            Purpose::GdprInformation,
            &[
                ("C-SITE-TECH", Email),
                ("C-CIO", Email),
                ("C-CIO", Sms),
                ("C-DIR", Email),
                ("C-DIR", Sms),
                ("C-SECU", Email),
                ("C-SECU", Sms),
            ]
        )
    );
    // The same address twice (a CIO who is also the notice's addressee): told once.
    let mut people = people();
    people.contacts[0].email = people.contacts[3].email.clone();
    let plan = notices::plan(
        &ticket,
        &[resolved(&ticket, Some(now()))],
        &people,
        &Default::default(),
        now(),
    );
    assert_eq!(plan.messages.len(), 6);
}

#[test]
fn inc_5_nothing_lost_no_gdpr_information() {
    let ticket = incident(Priority::P2);
    assert!(
        plan_of(&ticket, &[resolved(&ticket, None)])
            .messages
            .is_empty()
    );
}

// INC-6: post-mortem --------------------------------------------------------------------------

#[test]
fn inc_6_a_shared_post_mortem_goes_to_the_incident_addressees_with_its_timeline() {
    let mut ticket = incident(Priority::P1);
    let shared = event(&ticket, Some("S-MGR-1"), EventKind::PostMortemPublished);
    assert!(
        plan_of(&ticket, std::slice::from_ref(&shared))
            .messages
            .is_empty(),
        "no post-mortem, nothing to share"
    );
    ticket.post_mortem = Some(PostMortem {
        due: now(),
        analysis: "Alimentation".into(),
        measures: Vec::new(),
        published_at: Some(now()),
        overdue: false,
    });
    let reads = notices::reads(&ticket, std::slice::from_ref(&shared));
    assert!(reads.people && reads.events && !reads.alarm_events);
    let history = TicketHistory {
        events: vec![take_charge(&ticket, Some("S-TECH"))],
        alarm_events: Vec::new(),
    };
    let plan = notices::plan(&ticket, &[shared], &people(), &history, now());
    assert_eq!(
        sent(&plan),
        to(
            Purpose::PostMortem,
            &[
                ("C-SITE-TECH", Email),
                ("C-SITE-TECH", Sms),
                ("C-DIR", Email),
                ("C-DIR", Sms),
            ]
        )
    );
}

// CM-8: the intervention report ----------------------------------------------------------------

#[test]
fn cm_8_a_maintenance_resolved_files_its_report_and_emails_it() {
    let mut ticket = opened(Priority::P2, Kind::Maintenance, Source::Alarm);
    ticket.resolved_at = Some(now());
    let mut people = people();
    people.equipment = Some(
        serde_json::from_value::<Equipment>(json!({
            "ref": "CAM-3", "site": "SITE-1", "name": "Caméra quai 3", "kind": "camera",
            "address": "10.0.0.3"
        }))
        .unwrap(),
    );
    ticket.report.equipment = Some(r("CAM-3"));
    let plan = notices::plan(
        &ticket,
        &[status(&ticket, Status::Resolved)],
        &people,
        &Default::default(),
        now(),
    );
    let report = plan.report.as_ref().expect("a report");
    assert!(report.text.contains("Caméra quai 3"), "{}", report.text);
    assert!(report.text.contains("ACME Logistique"));
    assert_eq!(
        sent(&plan),
        [
            to(Purpose::ResolutionNotice, &[("C-SITE-TECH", Email)]),
            to(Purpose::InterventionReport, &[("C-SITE-TECH", Email)]),
        ]
        .concat()
    );
    assert!(plan.messages[1].notice.key.contains(&now().to_string()));
}

#[test]
fn cm_8_a_request_has_a_report_only_once_a_visit_was_planned() {
    let ticket = opened(Priority::P3, Kind::Request, Source::Portal);
    let done = status(&ticket, Status::Resolved);
    assert!(
        plan_of(&ticket, std::slice::from_ref(&done))
            .report
            .is_none()
    );
    let visit = event(
        &ticket,
        Some("S-MGR-1"),
        EventKind::Noted {
            note: Note::Intervention {
                technician: r("S-TECH"),
                from: now() - 3 * HOUR,
                to: now() - 2 * HOUR,
                parts: Vec::new(),
            },
        },
    );
    let reads = notices::reads(&ticket, std::slice::from_ref(&done));
    assert!(reads.events, "the history is read to know of the visit");
    let history = TicketHistory {
        events: vec![visit],
        alarm_events: Vec::new(),
    };
    let plan = notices::plan(&ticket, &[done], &people(), &history, now());
    let report = plan.report.expect("a report");
    assert!(report.text.contains("Nom S-TECH"), "{}", report.text);
}

// What is read --------------------------------------------------------------------------------

#[test]
fn most_changes_read_nothing() {
    let ticket = incident(Priority::P1);
    let assigned = event(&ticket, None, EventKind::Assigned { to: r("S-TECH") });
    assert_eq!(
        notices::reads(&ticket, &[assigned]),
        notices::Reads::default()
    );
}

fn any_event() -> impl Strategy<Value = EventKind> {
    let measure = prop_oneof![
        Just(SlaMeasure::Acknowledgement),
        Just(SlaMeasure::TakeCharge),
        Just(SlaMeasure::OnSite),
        Just(SlaMeasure::ClientUpdate),
    ];
    let any_status = prop_oneof![
        Just(Status::New),
        Just(Status::InProgress),
        Just(Status::Resolved),
        Just(Status::Closed),
    ];
    prop_oneof![
        measure
            .clone()
            .prop_map(|timer| EventKind::SlaBreached { timer, due: 0 }),
        measure.prop_map(|timer| EventKind::SlaWarning { timer, due: 0 }),
        any_status.prop_map(|status| EventKind::Status { status }),
        Just(EventKind::Action {
            action: Action::TakeCharge
        }),
        Just(EventKind::ClosureReminder { close_at: 0 }),
        Just(EventKind::GdprOverdue { due: 0 }),
        Just(EventKind::PostMortemOverdue { due: 0 }),
        Just(EventKind::PostMortemPublished),
        Just(EventKind::AutoClosed),
        Just(EventKind::Assigned { to: r("S-TECH") }),
    ]
}

proptest! {
    /// Whatever the events, what `reads` leaves unread is never needed: a change that reads
    /// no people plans nothing, and every message is due at once and names its ticket.
    #[test]
    fn what_reads_leaves_out_is_never_needed(
        kinds in proptest::collection::vec((any_event(), any::<bool>()), 0..6),
        priority in prop_oneof![Just(Priority::P1), Just(Priority::P2), Just(Priority::P3)],
        with_post_mortem in any::<bool>(),
    ) {
        let mut ticket = incident(priority);
        if with_post_mortem {
            ticket.post_mortem = Some(PostMortem {
                due: now(), analysis: String::new(), measures: Vec::new(),
                published_at: None, overdue: false,
            });
        }
        let events: Vec<TicketEvent> = kinds
            .into_iter()
            .map(|(kind, by)| event(&ticket, by.then_some("S-TECH"), kind))
            .collect();
        let reads = notices::reads(&ticket, &events);
        let plan = plan_of(&ticket, &events);
        if !reads.people {
            prop_assert!(plan.messages.is_empty() && plan.report.is_none());
        }
        prop_assert!(reads.people || !reads.events);
        for planned in &plan.messages {
            prop_assert_eq!(planned.due, now());
            prop_assert!(planned.notice.key.starts_with("ticket/7/"));
        }
    }
}

// NOT-6: a site's Minor alarms of one day are one ticket ----------------------------------------

fn minor(number: u64, received: &str) -> Ticket {
    let (mut ticket, _) = Ticket::open(
        number,
        report(Kind::Maintenance, Source::Alarm),
        Priority::P3,
        &Policy::default_policy(),
        Terms {
            tier: Default::default(),
            round_the_clock: false,
        },
        at(received),
        None,
    )
    .unwrap();
    ticket.report.alarm = Some(number);
    ticket
}

fn joins(candidates: &[Ticket], when: &str) -> Option<u64> {
    desk::minor_ticket_to_join(
        candidates,
        &r("SITE-1"),
        &Policy::default_policy(),
        at(when),
    )
}

#[test]
fn not_6_the_day_is_the_digests_calendar_day_in_paris_not_the_utc_day() {
    let policy = Policy::default_policy();
    assert_eq!(
        desk::minor_day_start(&policy, at("2026-01-16T10:00:00+01:00")),
        at("2026-01-16T00:00:00+01:00")
    );
    // 23:30 UTC on the 15th is already the 16th in Paris.
    let early = minor(1, "2026-01-15T23:30:00Z");
    assert_eq!(
        joins(std::slice::from_ref(&early), "2026-01-16T18:00:00+01:00"),
        Some(1)
    );
    // 22:30 UTC on the 15th is still the 15th in Paris.
    let late = minor(2, "2026-01-15T22:30:00Z");
    assert_eq!(joins(&[late], "2026-01-16T00:30:00+01:00"), None);
}

#[test]
fn not_6_days_of_23_and_25_hours_across_the_changes_of_time() {
    let policy = Policy::default_policy();
    // Spring: 29 March 2026 has 23 hours.
    assert_eq!(
        desk::minor_day_start(&policy, at("2026-03-29T23:30:00+02:00")),
        at("2026-03-29T00:00:00+01:00")
    );
    let first = minor(1, "2026-03-29T00:10:00+01:00");
    assert_eq!(
        joins(std::slice::from_ref(&first), "2026-03-29T23:50:00+02:00"),
        Some(1)
    );
    assert_eq!(joins(&[first], "2026-03-30T00:00:00+02:00"), None);
    // Autumn: 25 October 2026 has 25 hours.
    assert_eq!(
        desk::minor_day_start(&policy, at("2026-10-25T23:59:00+01:00")),
        at("2026-10-25T00:00:00+02:00")
    );
    let first = minor(3, "2026-10-25T00:05:00+02:00");
    assert_eq!(
        joins(std::slice::from_ref(&first), "2026-10-25T23:59:00+01:00"),
        Some(3)
    );
    let before = minor(4, "2026-10-24T23:59:00+02:00");
    assert_eq!(joins(&[before], "2026-10-25T12:00:00+01:00"), None);
}

#[test]
fn not_6_a_closed_or_resolved_ticket_is_not_joined_nor_another_kind_site_or_priority() {
    let when = "2026-03-11T15:00:00+01:00";
    let open = minor(5, "2026-03-11T09:00:00+01:00");
    assert_eq!(joins(std::slice::from_ref(&open), when), Some(5));
    let mut closed = open.clone();
    closed.closed_at = Some(at("2026-03-11T12:00:00+01:00"));
    closed.status = Status::Closed;
    assert_eq!(joins(&[closed], when), None);
    let mut resolved = open.clone();
    resolved.status = Status::Resolved;
    assert_eq!(joins(&[resolved], when), None);
    let mut major = open.clone();
    major.priority = Priority::P2;
    assert_eq!(joins(&[major], when), None);
    let mut intervention = open.clone();
    intervention.report.kind = Kind::Intervention;
    assert_eq!(joins(&[intervention], when), None);
    let mut reported = open.clone();
    reported.report.source = Source::Portal;
    assert_eq!(joins(&[reported], when), None);
    let mut elsewhere = open.clone();
    elsewhere.report.site = Some(r("SITE-2"));
    assert_eq!(joins(&[elsewhere], when), None);
    // Several: the latest opened.
    let later = minor(9, "2026-03-11T10:00:00+01:00");
    assert_eq!(joins(&[open, later], when), Some(9));
    assert_eq!(joins(&[], when), None);
}

proptest! {
    /// Whatever the instant of 2026, a ticket received at the day's start is joined and one
    /// received just before is not; the day's start is a local midnight in Paris.
    #[test]
    fn not_6_the_day_starts_at_local_midnight(offset_minutes in 0i64..(365 * 24 * 60)) {
        let policy = Policy::default_policy();
        let when = at("2026-01-01T00:00:00+01:00") + offset_minutes * MINUTE;
        let start = desk::minor_day_start(&policy, when);
        prop_assert!(start <= when && when - start < 25 * HOUR);
        let local = jiff::Timestamp::from_millisecond(start).unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
        prop_assert_eq!((local.hour(), local.minute()), (0, 0));
        let mut at_start = minor(1, "2026-01-01T00:00:00+01:00");
        at_start.received_at = start;
        let mut before = minor(2, "2026-01-01T00:00:00+01:00");
        before.received_at = start - 1;
        let site = r("SITE-1");
        prop_assert_eq!(desk::minor_ticket_to_join(&[at_start, before.clone()], &site, &policy, when), Some(1));
        prop_assert_eq!(desk::minor_ticket_to_join(&[before], &site, &policy, when), None);
    }
}

// Issue 25, item 12: the client chooses how it is told -------------------------------------

#[test]
fn a_clients_choice_of_channels_carries_its_tickets_news_and_loses_no_message() {
    let mut ticket = incident(Priority::P2);
    let people = people();
    // By SMS only: the take-charge notice and the resolution notice, by SMS.
    let chosen = ticket
        .choose_told_by(ToldBy::Sms, &r("C-SITE-TECH"), now())
        .unwrap();
    assert_eq!(chosen.kind.key(), "told_by_chosen");
    assert_eq!(
        who(&incident_addressees(&ticket, &people)),
        pairs(&[("C-SITE-TECH", Sms)])
    );
    assert_eq!(
        who(&acknowledgement_addressees(&ticket, &people)),
        pairs(&[("C-SITE-TECH", Sms)])
    );
    // By email only: the incident's news no longer goes by SMS.
    ticket
        .choose_told_by(ToldBy::Email, &r("C-SITE-TECH"), now())
        .unwrap();
    assert_eq!(
        who(&incident_addressees(&ticket, &people)),
        pairs(&[("C-SITE-TECH", Email)])
    );
    // A contact with no phone, on a ticket told by SMS, still gets its email.
    let mut without_phone = people.clone();
    without_phone.site = Some(site(Some("C-TECH-2"), None));
    ticket
        .choose_told_by(ToldBy::Sms, &r("C-SITE-TECH"), now())
        .unwrap();
    assert_eq!(
        who(&acknowledgement_addressees(&ticket, &without_phone)),
        pairs(&[("C-TECH-2", Email)])
    );
    // Both: email and SMS for the acknowledgement family too.
    ticket
        .choose_told_by(ToldBy::EmailAndSms, &r("C-SITE-TECH"), now())
        .unwrap();
    assert_eq!(
        who(&acknowledgement_addressees(&ticket, &people)),
        pairs(&[("C-SITE-TECH", Email), ("C-SITE-TECH", Sms)])
    );
    // Not on a closed ticket.
    let mut closed = incident(Priority::P3);
    closed.status = Status::Closed;
    assert!(
        closed
            .choose_told_by(ToldBy::Sms, &r("C-SITE-TECH"), now())
            .is_err()
    );
}

// --- SMS of every ticket message (issue 26, item 6) ------------------------------------------

/// Each ticket message's SMS, with long real-world values and its link written in: in the GSM
/// alphabet, in at most two segments (the technician's own update text at most the bound).
#[test]
fn every_ticket_sms_fits_in_gsm_and_two_segments() {
    use vigie_domain::sms::{self, Encoding, MAX_SEGMENTS};
    use vigie_domain::ticket::message::{self, LINK, Missed};
    use vigie_domain::ticket::post_mortem::TimelineEntry;
    use vigie_domain::values::TimeZoneName;

    let mut ticket = incident(Priority::P1);
    ticket.number = 123_456;
    ticket.report.symptom =
        "Plus aucune image des caméras extérieures du quai de chargement depuis l'orage".into();
    let to = Addressee {
        recipient: "C-SECU".into(),
        name: "Marie-Hélène de La Tour d'Auvergne".into(),
        channel: Channel::Sms,
        address: "+33612345678".into(),
    };
    let zone = TimeZoneName::paris();
    let client = "Établissements Œnologiques du Grand Est réunis";
    let link = format!(
        "https://supervision.integrateur-securite.fr/confirm/123456-1773680400000-{}",
        "0123456789abcdef".repeat(2)
    );
    let post_mortem = vigie_domain::ticket::post_mortem::PostMortem {
        due: now(),
        analysis: "Surtension".into(),
        measures: Vec::new(),
        published_at: Some(now()),
        overdue: false,
    };
    let timeline: Vec<TimelineEntry> = Vec::new();
    let document = vigie_domain::ticket::report::Document {
        title: "Rapport d'intervention".into(),
        html: String::new(),
        text: String::new(),
        sections: Vec::new(),
    };
    let template = |purpose: Purpose| match purpose {
        Purpose::Acknowledgement => {
            message::acknowledgement(&ticket, &to, Some("Entrepôt de Lyon"), &zone)
        }
        Purpose::SlaBreach => message::breach(
            &ticket,
            Missed::Sla(SlaMeasure::TakeCharge),
            now(),
            &to,
            client,
            &zone,
        ),
        Purpose::ClosureReminder => message::closure_reminder(&ticket, &to, now(), &zone),
        Purpose::Survey => message::survey(&ticket, &to),
        Purpose::TakeChargeNotice => message::take_charge_notice(
            &ticket,
            &to,
            "Jean-Baptiste Lefèvre-Duplessis",
            Some(now()),
            &zone,
        ),
        Purpose::ClientUpdate => message::client_update(
            &ticket,
            &to,
            &"Le technicien est en route, arrivée prévue vers 15 h. ".repeat(20),
            3,
            Some(now()),
            &zone,
        ),
        Purpose::ResolutionNotice => message::resolution_notice(&ticket, &to, &zone),
        Purpose::GdprInformation => message::gdpr_information(&ticket, &to, &zone),
        Purpose::PostMortem => {
            message::post_mortem_notice(&ticket, &post_mortem, &timeline, &to, &zone)
        }
        Purpose::SlaWarning => {
            message::warning(&ticket, SlaMeasure::OnSite, now(), &to, client, &zone)
        }
        Purpose::InterventionReport => {
            message::intervention_report_notice(&ticket, &document, 2, &to)
        }
    };
    for purpose in [
        Purpose::Acknowledgement,
        Purpose::SlaBreach,
        Purpose::ClosureReminder,
        Purpose::Survey,
        Purpose::TakeChargeNotice,
        Purpose::ClientUpdate,
        Purpose::ResolutionNotice,
        Purpose::GdprInformation,
        Purpose::PostMortem,
        Purpose::SlaWarning,
        Purpose::InterventionReport,
    ] {
        let written = template(purpose).message.sms.replace(LINK, &link);
        let sms = sms::compose(&written);
        assert_eq!(sms.encoding, Encoding::Gsm7, "{purpose:?}: {}", sms.text);
        let bound = if purpose == Purpose::ClientUpdate {
            MAX_SEGMENTS
        } else {
            2
        };
        assert!(
            sms.segments <= bound,
            "{purpose:?}: {} segments: {}",
            sms.segments,
            sms.text
        );
        // Nothing that matters is lost: the ticket's number and, where there is one, the link.
        assert!(sms.text.contains("123456"), "{purpose:?}: {}", sms.text);
        if written.contains(&link) {
            assert!(sms.text.contains(&link), "{purpose:?}: {}", sms.text);
        }
    }
}
