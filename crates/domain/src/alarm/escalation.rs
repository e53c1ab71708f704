//! Escalation (NOT-1…NOT-7, DEC-3): the timers an alarm's notification arms — one per step of
//! its severity's chain in the policy —, whether a step still fires when its timer falls due,
//! who it tells by which channel, and the key that makes each page unique. The shell keeps the
//! timers durable and delivers the pages; every decision is here.
//!
//! Steps are measured from the instant the alarm was *told* (its notification), not from its
//! raising: an alarm suppressed during a maintenance window and notified at the window's end
//! gives people the full delay to answer. For an alarm notified when raised the two are equal.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::Reference;
use crate::alarm::lifecycle::{Alarm, AlarmId};
use crate::inventory::Territory;
use crate::inventory::{
    ChannelChoice, Contact, ContactRole, ContractOption, Site, Staff, StaffRole,
};
use crate::markup::escape;
use crate::oncall::{Answer, Duty, Place, Rotation, fallback_order, route};
use crate::policy::{
    Channel, EscalationStep, Invitation, Policy, Recipient, Severity, StepMoment, Unless,
};
use crate::sms;

/// A durable timer: round `round` of step `step` of the `severity` chain of an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub alarm: AlarmId,
    pub severity: Severity,
    pub step: String,
    /// 0 for the step itself, then 1, 2… for its repeats.
    pub round: u32,
    pub due: i64,
}

impl Timer {
    /// Unique per alarm, chain, step and round: arming twice arms once.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}#{}",
            self.alarm,
            self.severity.key(),
            self.step,
            self.round
        )
    }

    /// The step's name as people read it in events: `critical/astreinte`, `…#2` for a repeat.
    pub fn step_label(&self) -> String {
        if self.round == 0 {
            format!("{}/{}", self.severity.key(), self.step)
        } else {
            format!("{}/{}#{}", self.severity.key(), self.step, self.round)
        }
    }
}

/// A step's label in its parts: `critical/astreinte#2` is the Critical chain's step
/// `astreinte`, second repeat. `None` for a text that is not a step's label.
pub fn step_parts(label: &str) -> Option<(Severity, &str, Option<u32>)> {
    let (chain, round) = match label.split_once('#') {
        Some((chain, round)) => (chain, Some(round.parse::<u32>().ok()?)),
        None => (label, None),
    };
    let (level, step) = chain.split_once('/')?;
    let level = [Severity::Critical, Severity::Major, Severity::Minor]
        .into_iter()
        .find(|s| s.key() == level)?;
    Some((level, step, round))
}

/// A step's label as people read it, in French: « Critique — astreinte, relance 2 » (no policy
/// keys in front of people, issue 25). A text that is not a step's label stays as it is.
pub fn step_words(label: &str) -> String {
    match step_parts(label) {
        Some((level, step, None)) => {
            format!("{} — {}", level.label(), step.replace(['_', '-'], " "))
        }
        Some((level, step, Some(round))) => format!(
            "{} — {}, relance {round}",
            level.label(),
            step.replace(['_', '-'], " ")
        ),
        None => label.to_owned(),
    }
}

/// Why an escalation could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EscalationError(pub String);

/// The timers an alarm told at `told` (at `severity`) arms: one per step of the chain, at
/// its delay after `told` or at the acknowledgement deadline.
pub fn arm(
    policy: &Policy,
    alarm: AlarmId,
    severity: Severity,
    told: i64,
) -> Result<Vec<Timer>, EscalationError> {
    arm_from(policy, alarm, severity, told, told)
}

/// The timers of the chain of `to` for an alarm first told at `first_told` that became `to`
/// at `at` (NOT-8). The acknowledgement deadline runs from `at`: the page sent at the upgrade
/// never asks for an acknowledgement already past. A step after a delay keeps its delay from
/// the first notification, but never before `at`: NOT-7's "not handled within 1 h of its
/// creation" still holds at 1 h when an alarm worsens after 20 minutes (DEC-3).
pub fn arm_worsened(
    policy: &Policy,
    alarm: AlarmId,
    to: Severity,
    at: i64,
    first_told: i64,
) -> Result<Vec<Timer>, EscalationError> {
    arm_from(policy, alarm, to, at, first_told.min(at))
}

fn arm_from(
    policy: &Policy,
    alarm: AlarmId,
    severity: Severity,
    told: i64,
    first_told: i64,
) -> Result<Vec<Timer>, EscalationError> {
    let (from, first) = (told, first_told);
    let mut timers = Vec::new();
    for step in policy.chain(severity) {
        let due = match (step.after, step.at) {
            (Some(after), _) => {
                let after_ms = i64::try_from(after.seconds())
                    .ok()
                    .and_then(|seconds| seconds.checked_mul(1000));
                after_ms
                    .and_then(|after_ms| first.checked_add(after_ms))
                    .ok_or_else(|| {
                        EscalationError(format!("étape « {} » hors limites", step.name))
                    })?
                    .max(from)
            }
            (None, Some(StepMoment::AcknowledgementDeadline)) => policy
                .acknowledgement_due(severity, from)
                .map_err(|e| EscalationError(format!("étape « {} » : {e}", step.name)))?,
            (None, None) => {
                return Err(EscalationError(format!(
                    "étape « {} » sans échéance",
                    step.name
                )));
            }
        };
        timers.push(Timer {
            alarm,
            severity,
            step: step.name.clone(),
            round: 0,
            due,
        });
    }
    Ok(timers)
}

/// When an alarm told must be acknowledged (NOT-3, NOT-5, NOT-6), at its present severity:
/// from its notification, or from its worsening after it (the instant the step that enforces
/// it, [`arm_worsened`], counts from). None before it is told.
pub fn acknowledge_by(policy: &Policy, alarm: &Alarm) -> Option<i64> {
    policy
        .acknowledgement_due(alarm.severity, alarm.told_at_severity()?)
        .ok()
}

/// The days searched for the next digest: beyond, the calendar is considered never open.
const DIGEST_SEARCH_DAYS: i64 = 31;

/// When the next daily digest after `after` goes (NOT-6): `alarm.minor_digest_at` on the
/// wall clock of `alarm.minor_digest_calendar`, on a day that calendar is open at that time
/// (business days by default: not on weekends or public holidays).
pub fn next_digest(policy: &Policy, after: i64) -> Option<i64> {
    let calendar = policy.calendar(&policy.alarm.minor_digest_calendar)?;
    let first = calendar.local_date(after);
    let at = policy.alarm.minor_digest_at;
    let time = jiff::civil::Time::new(
        i8::try_from(at.hour).ok()?,
        i8::try_from(at.minute).ok()?,
        0,
        0,
    )
    .ok()?;
    for offset in 0..=DIGEST_SEARCH_DAYS {
        let date = first.checked_add(jiff::Span::new().days(offset)).ok()?;
        let (instant, _) =
            crate::calendar::resolve_local(&calendar.time_zone, date.to_datetime(time));
        if instant > after && calendar.is_open(instant) {
            return Some(instant);
        }
    }
    None
}

/// Why a step due did not fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    Closed,
    /// The condition cleared: nobody is woken for a camera that came back.
    Resolved,
    Acknowledged,
    Handled,
    /// The alarm changed severity: the new chain runs instead.
    Superseded,
    /// The step is only for contracts with an option this one lacks (NOT-2).
    NotInContract,
    /// The policy no longer has this step.
    UnknownStep,
    /// The alarm is not stored (the timer outlived it).
    UnknownAlarm,
    /// A conference step, and the policy has no bridge (`[conference] bridges`).
    NoBridge,
}

impl Skip {
    pub fn key(self) -> &'static str {
        match self {
            Skip::Closed => "closed",
            Skip::Resolved => "resolved",
            Skip::Acknowledged => "acknowledged",
            Skip::Handled => "handled",
            Skip::Superseded => "superseded",
            Skip::NotInContract => "not_in_contract",
            Skip::UnknownStep => "unknown_step",
            Skip::UnknownAlarm => "unknown_alarm",
            Skip::NoBridge => "no_bridge",
        }
    }
}

/// What a timer falling due does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'p> {
    /// The step fires; `repeat` is the timer of its next round, if it has one.
    Fire {
        step: &'p EscalationStep,
        repeat: Option<Timer>,
    },
    Skip(Skip),
}

/// Whether `timer`'s step fires for `alarm` as it stands, under a contract with `options`.
pub fn decide<'p>(
    policy: &'p Policy,
    timer: &Timer,
    alarm: &Alarm,
    options: &BTreeSet<ContractOption>,
) -> Decision<'p> {
    // NOT-4 (issue 26, item 2): a conference started from the console fires as asked, once,
    // whatever the alarm's acknowledgement; only a closed alarm or no bridge stops it.
    if let Some(step) = &policy.conference.on_demand
        && step.name == timer.step
    {
        if alarm.closure.is_some() {
            return Decision::Skip(Skip::Closed);
        }
        if policy.conference.bridges.is_empty() {
            return Decision::Skip(Skip::NoBridge);
        }
        return Decision::Fire { step, repeat: None };
    }
    let Some(step) = policy
        .chain(timer.severity)
        .iter()
        .find(|s| s.name == timer.step)
    else {
        return Decision::Skip(Skip::UnknownStep);
    };
    if alarm.closure.is_some() {
        return Decision::Skip(Skip::Closed);
    }
    if alarm.resolved_at.is_some() {
        return Decision::Skip(Skip::Resolved);
    }
    if alarm.severity != timer.severity {
        return Decision::Skip(Skip::Superseded);
    }
    if let Some(option) = step.only_if_contract_has
        && !options.contains(&option)
    {
        return Decision::Skip(Skip::NotInContract);
    }
    if step.conference && policy.conference.bridges.is_empty() {
        return Decision::Skip(Skip::NoBridge);
    }
    let acknowledged = alarm.acknowledged.is_some() || alarm.taken_in_charge.is_some();
    let handled = alarm.taken_in_charge.is_some();
    match step.unless {
        Unless::Acknowledged if acknowledged => return Decision::Skip(Skip::Acknowledged),
        Unless::Handled if handled => return Decision::Skip(Skip::Handled),
        _ => {}
    }
    // A repeat is a reminder to answer: once acknowledged, it stops.
    if timer.round > 0 && acknowledged {
        return Decision::Skip(Skip::Acknowledged);
    }
    let repeat = match step.repeat_every {
        Some(every) if timer.round < step.repeat => {
            let every_ms = i64::try_from(every.seconds())
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000);
            Some(Timer {
                round: timer.round + 1,
                due: timer.due.saturating_add(every_ms),
                ..timer.clone()
            })
        }
        _ => None,
    };
    Decision::Fire { step, repeat }
}

/// `step` as it applies under a contract with `options`: its client's roles left out when it
/// tells them only under an option the contract lacks (`client_only_if_contract_has`).
pub fn for_contract(step: &EscalationStep, options: &BTreeSet<ContractOption>) -> EscalationStep {
    match step.client_only_if_contract_has {
        Some(option) if !options.contains(&option) => EscalationStep {
            notify: step
                .notify
                .iter()
                .copied()
                .filter(|role| !role.is_client_side())
                .collect(),
            ..step.clone()
        },
        _ => step.clone(),
    }
}

/// The room of an alarm's emergency conference: `vigie-alarme-12`.
pub fn conference_room(alarm: AlarmId) -> String {
    format!("vigie-alarme-{alarm}")
}

/// A person a page can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub reference: Reference,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The person's own channel order (issue 26, item 3); empty for a client's contact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelChoice>,
}

impl Person {
    pub fn from_staff(staff: &Staff) -> Person {
        Person {
            reference: staff.reference.clone(),
            name: staff.name.to_string(),
            email: staff.email.as_ref().map(ToString::to_string),
            phone: staff.phone.as_ref().map(ToString::to_string),
            channels: staff.channels.clone(),
        }
    }

    pub fn from_contact(contact: &Contact) -> Person {
        Person {
            reference: contact.reference.clone(),
            name: contact.name.to_string(),
            email: contact.email.as_ref().map(ToString::to_string),
            phone: contact.phone.as_ref().map(ToString::to_string),
            channels: Vec::new(),
        }
    }

    /// Where `channel` reaches this person: the phone for an SMS or a call, else the email.
    fn address(&self, channel: Channel) -> Option<String> {
        match channel {
            Channel::Sms | Channel::Voice => self.phone.clone(),
            _ => self.email.clone(),
        }
    }

    /// The channels a step pages this person by, each with its delay (ms) after the step:
    /// the step's own; but when the step sends SMS, a person with a channel order is reached
    /// at their phone by that order instead (SMS at once then a call 5 minutes later, or the
    /// reverse), and by email when the order says, at once if the step emails anyway (issue
    /// 26, item 3). A step that sends no SMS (a Minor alarm's email) is not made louder by
    /// anyone's order.
    fn channels_for(&self, step_channels: &[Channel]) -> Vec<(Channel, i64)> {
        let mut chosen: Vec<(Channel, i64)> = Vec::new();
        if step_channels.contains(&Channel::Sms) {
            for choice in &self.channels {
                let delay = if choice.channel == Channel::Email
                    && step_channels.contains(&Channel::Email)
                {
                    0
                } else {
                    i64::from(choice.after_minutes) * 60_000
                };
                chosen.push((choice.channel, delay));
            }
        }
        for channel in step_channels {
            if channel.reaches_a_person() && !chosen.iter().any(|(c, _)| c == channel) {
                if *channel == Channel::Sms
                    && chosen
                        .iter()
                        .any(|(c, _)| matches!(c, Channel::Sms | Channel::Voice))
                {
                    // The person's order said how their phone is used.
                    continue;
                }
                chosen.push((*channel, 0));
            }
        }
        chosen
    }
}

/// Who can be told about an alarm of a site: the site, its client's contacts, the
/// integrator's staff and the on-call rotations. An alarm about no site (nobody on call) has
/// no site and no contacts: only the integrator's own people can be told.
#[derive(Debug, Clone, Copy)]
pub struct Directory<'a> {
    pub site: Option<&'a Site>,
    /// The contacts of the site's client.
    pub contacts: &'a [Contact],
    pub staff: &'a [Staff],
    pub rotations: &'a [Rotation],
    /// The inventory's territories, through which a site finds its rotations (issue 26).
    pub territories: &'a [Territory],
}

/// How an on-call role was found for a step when it was not the first rotation's member:
/// the rotations passed (nobody on call) and who answered instead, in French (issue 26, item
/// 1). Kept on the alarm's `escalated` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routed {
    pub role: Recipient,
    pub note: String,
}

/// The people holding a role, and how they were found when through a fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub people: Vec<Person>,
    pub routed: Option<Routed>,
}

impl Directory<'_> {
    /// The people holding `role` at `at`, or why nobody does (French).
    pub fn resolve(&self, role: Recipient, at: i64) -> Result<Vec<Person>, String> {
        self.resolve_routed(role, at).map(|r| r.people)
    }

    /// The site as on-call routing sees it.
    fn place(&self) -> Option<Place<'_>> {
        self.site.map(|site| Place {
            site: &site.reference,
            client: &site.client,
        })
    }

    /// The member on call for `duty` here at `at`, through the site's territory and its
    /// fallbacks (issue 26, item 1).
    fn on_duty(&self, duty: Duty, at: i64) -> Option<(Person, Answer)> {
        let answer = route(self.rotations, self.territories, self.place(), duty, at)?;
        let person = self
            .staff
            .iter()
            .find(|s| s.reference == answer.on_call.member)
            .map(Person::from_staff)?;
        Some((person, answer))
    }

    /// As [`Directory::resolve`], with how an on-call role was routed when it was not the
    /// first rotation's: « astreinte ASTREINTE-LYON sans personne : ASTREINTE-LYON-SECOURS ».
    /// A technician's duty nobody holds goes to the on-call manager (primary, secondary, then
    /// the on-call manager).
    pub fn resolve_routed(&self, role: Recipient, at: i64) -> Result<Resolved, String> {
        let staff_with = |wanted: StaffRole| -> Vec<Person> {
            self.staff
                .iter()
                .filter(|s| s.roles.contains(&wanted))
                .map(Person::from_staff)
                .collect()
        };
        let routed = |note: String| Some(Routed { role, note });
        let passed_note = |answer: &Answer| {
            let passed: Vec<&str> = answer.passed.iter().map(|r| r.as_str()).collect();
            format!(
                "astreinte {} sans personne : relayée par l'astreinte {}",
                passed.join(", "),
                answer.rotation
            )
        };
        let managers = || -> (Vec<Person>, Option<Answer>) {
            match self.on_duty(Duty::Manager, at) {
                Some((person, answer)) => (vec![person], Some(answer)),
                // Without a managers' rotation, every on-call manager is told.
                None => (staff_with(StaffRole::OnCallManager), None),
            }
        };
        let contact = |reference: &Option<Reference>, wanted: ContactRole| -> Vec<Person> {
            let named: Vec<Person> = reference
                .iter()
                .filter_map(|r| self.contacts.iter().find(|c| &c.reference == r))
                .map(Person::from_contact)
                .collect();
            if !named.is_empty() {
                return named;
            }
            self.contacts
                .iter()
                .filter(|c| c.roles.contains(&wanted))
                .map(Person::from_contact)
                .collect()
        };
        let (people, routed) = match role {
            Recipient::OnCallTechnician => match self.on_duty(Duty::Technician, at) {
                Some((person, answer)) => {
                    let note = (!answer.passed.is_empty()).then(|| passed_note(&answer));
                    (vec![person], note.and_then(routed))
                }
                None => {
                    // The last fallback: the on-call manager answers for the technicians —
                    // when some rotation answers for this place and has nobody. With none at
                    // all, there is no on-call to fall back from: the technician is missing
                    // (and the coverage check has said so ahead).
                    let passed: Vec<String> = fallback_order(
                        self.rotations,
                        self.territories,
                        self.place(),
                        Duty::Technician,
                    )
                    .iter()
                    .map(|r| r.name.to_string())
                    .collect();
                    // An alarm about no site (a rotation with nobody) has no territory: with
                    // technicians' rotations only for territories, the manager takes it.
                    let only_territories = self.site.is_none()
                        && self.rotations.iter().any(|r| r.duty == Duty::Technician);
                    if !passed.is_empty() {
                        let (people, _) = managers();
                        let note = format!(
                            "astreinte {} sans personne : relayée au responsable d'astreinte",
                            passed.join(", ")
                        );
                        (people, routed(note))
                    } else if only_territories {
                        let (people, _) = managers();
                        let note = "pas d'astreinte de techniciens pour tout le parc : relayée au responsable d'astreinte".to_owned();
                        (people, routed(note))
                    } else {
                        (Vec::new(), None)
                    }
                }
            },
            Recipient::OnCallManager => {
                let (people, answer) = managers();
                let note = answer
                    .filter(|a| !a.passed.is_empty())
                    .map(|a| passed_note(&a));
                (people, note.and_then(routed))
            }
            Recipient::TechnicalManager => (staff_with(StaffRole::TechnicalManager), None),
            Recipient::OperationsManager => (staff_with(StaffRole::OperationsManager), None),
            Recipient::ReferentEngineer => (staff_with(StaffRole::ReferentEngineer), None),
            Recipient::Supervision => (staff_with(StaffRole::Supervision), None),
            Recipient::TechnicalTeam => (staff_with(StaffRole::Technician), None),
            Recipient::SecurityManager => (
                contact(
                    &self.site.and_then(|s| s.security_manager.clone()),
                    ContactRole::SecurityManager,
                ),
                None,
            ),
            Recipient::TechnicalContact => (
                contact(
                    &self.site.and_then(|s| s.technical_contact.clone()),
                    ContactRole::TechnicalContact,
                ),
                None,
            ),
            Recipient::Cio => (contact(&None, ContactRole::Cio), None),
            Recipient::Management => (contact(&None, ContactRole::Management), None),
        };
        if people.is_empty() {
            Err(match role {
                Recipient::OnCallTechnician | Recipient::OnCallManager => {
                    format!("personne d'astreinte ({})", recipient_label(role))
                }
                _ => format!("personne n'a le rôle « {} »", recipient_label(role)),
            })
        } else {
            Ok(Resolved { people, routed })
        }
    }
}

/// A role, in French.
pub fn recipient_label(role: Recipient) -> &'static str {
    match role {
        Recipient::OnCallTechnician => "technicien d'astreinte",
        Recipient::OnCallManager => "responsable d'astreinte",
        Recipient::TechnicalManager => "responsable technique",
        Recipient::OperationsManager => "responsable d'exploitation",
        Recipient::ReferentEngineer => "ingénieur référent",
        Recipient::Supervision => "équipe de supervision",
        Recipient::TechnicalTeam => "équipe technique",
        Recipient::SecurityManager => "responsable sécurité du site",
        Recipient::TechnicalContact => "contact technique du client",
        Recipient::Cio => "DSI du client",
        Recipient::Management => "direction du client",
    }
}

pub fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Email => "email",
        Channel::Webhook => "webhook",
        Channel::Console => "console",
        Channel::Voice => "voice",
    }
}

/// The supervision team's console, as a page's recipient (NOT-1).
pub const CONSOLE: &str = "supervision";

/// One notification to deliver: to one recipient, by one channel, for one round of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// (alarm, step, round, recipient, channel): the same page is never queued twice, and a
    /// receiver may use it to drop a duplicate.
    pub key: String,
    pub alarm: AlarmId,
    pub severity: Severity,
    /// As [`Timer::step_label`].
    pub step: String,
    /// A person's reference, [`CONSOLE`], or a webhook's name.
    pub recipient: String,
    pub name: String,
    pub channel: Channel,
    /// Phone number (E.164), email address, webhook name or [`CONSOLE`].
    pub address: String,
    /// For an SMS or a call, the person's email: where a Critical page goes if the phone
    /// fails for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate: Option<String>,
    /// A later entry of the person's channel order (issue 26, item 3): the page goes this
    /// long after its step fired, and only if the alarm is still unacknowledged then; 0 for
    /// a page that goes at once.
    #[serde(default, skip_serializing_if = "no_delay")]
    pub follow_up_ms: i64,
    /// The recipient is the integrator's staff, whose acknowledgement stops the chain (NOT-3,
    /// NOT-4). A client's person (security manager, technical contact, CIO) is told, never
    /// asked: its page carries no acknowledgement link or reply code, and one used anyway
    /// stops nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staff: bool,
}

fn no_delay(value: &i64) -> bool {
    *value == 0
}

impl Page {
    /// When the page goes, its step having fired (or its fallback been decided) at `at`: at
    /// once, or a later entry of the person's channel order its delay later.
    pub fn due(&self, at: i64) -> i64 {
        at.saturating_add(self.follow_up_ms.max(0))
    }
}

/// A role of a step that nobody could be told as, and why (French).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    pub role: Recipient,
    pub reason: String,
}

/// The pages of one fired step, and who could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub pages: Vec<Page>,
    pub missing: Vec<Missing>,
    /// On-call roles found through a fallback (issue 26, item 1).
    pub routed: Vec<Routed>,
}

/// The pages `step` sends for `timer` at `at`: each role resolved, each person once per
/// channel; one page to the supervision console in any case (NOT-1); one per webhook when
/// the step lists that channel.
pub fn plan(
    timer: &Timer,
    step: &EscalationStep,
    directory: &Directory<'_>,
    webhooks: &[String],
    at: i64,
) -> Plan {
    let label = timer.step_label();
    let mut plan = Plan::default();
    let mut seen: BTreeSet<(String, Channel)> = BTreeSet::new();
    let mut push = |plan: &mut Plan,
                    recipient: String,
                    name: String,
                    (channel, follow_up_ms): (Channel, i64),
                    address: String,
                    alternate: Option<String>,
                    staff: bool| {
        if seen.insert((recipient.clone(), channel)) {
            plan.pages.push(Page {
                key: format!(
                    "{}/{}/{}/{}",
                    timer.alarm,
                    label,
                    recipient,
                    channel_key(channel)
                ),
                alarm: timer.alarm,
                severity: timer.severity,
                step: label.clone(),
                recipient,
                name,
                channel,
                address,
                alternate,
                staff,
                follow_up_ms,
            });
        }
    };
    for role in &step.notify {
        if *role == Recipient::Supervision && !step.channels.iter().any(|c| c.reaches_a_person()) {
            // The team is told in its console below.
            continue;
        }
        if directory.site.is_none() && role.is_client_side() {
            // An alarm about no site concerns no client: nobody of a client is missing.
            continue;
        }
        match directory.resolve_routed(*role, at) {
            Ok(Resolved { people, routed }) => {
                plan.routed.extend(routed);
                for person in people {
                    for (channel, follow_up_ms) in person.channels_for(&step.channels) {
                        match person.address(channel) {
                            Some(address) => push(
                                &mut plan,
                                person.reference.to_string(),
                                person.name.clone(),
                                (channel, follow_up_ms),
                                address,
                                match channel {
                                    Channel::Sms | Channel::Voice => person.email.clone(),
                                    _ => None,
                                },
                                !role.is_client_side(),
                            ),
                            None => plan.missing.push(Missing {
                                role: *role,
                                reason: format!(
                                    "{} ({}) n'a pas {}",
                                    person.name,
                                    person.reference,
                                    match channel {
                                        Channel::Sms | Channel::Voice => "de numéro de téléphone",
                                        _ => "d'adresse email",
                                    }
                                ),
                            }),
                        }
                    }
                }
            }
            Err(reason) => plan.missing.push(Missing {
                role: *role,
                reason,
            }),
        }
    }
    if step.channels.contains(&Channel::Webhook) {
        for webhook in webhooks {
            push(
                &mut plan,
                webhook.clone(),
                webhook.clone(),
                (Channel::Webhook, 0),
                webhook.clone(),
                None,
                false,
            );
        }
    }
    push(
        &mut plan,
        CONSOLE.to_owned(),
        "équipe de supervision".to_owned(),
        (Channel::Console, 0),
        CONSOLE.to_owned(),
        None,
        false,
    );
    plan
}

/// Why a later entry of a person's channel order (issue 26, item 3) is no longer sent when
/// its turn comes, in French: the alarm was acknowledged, taken in charge, resolved or closed
/// meanwhile. None: it goes.
pub fn follow_up_needless(alarm: &Alarm) -> Option<String> {
    let what = if alarm.closure.is_some() {
        "close"
    } else if alarm.resolved_at.is_some() {
        "résolue"
    } else if alarm.taken_in_charge.is_some() {
        "prise en charge"
    } else if alarm.acknowledged.is_some() {
        "acquittée"
    } else {
        return None;
    };
    Some(format!("non envoyée : alarme {what} avant son tour"))
}

/// Where a Critical page goes when its channel fails for good: an SMS to a call on the same
/// phone when `voice` (a voice gateway is configured, issue 26, item 3), otherwise to the
/// person's email; a call to the email; an email or a webhook to the supervision console, so
/// that the team calls the person. The fallback's key names its channel: a fallback to a
/// channel the person was already paged by is the same page, not a second one. None for other
/// severities and for the console itself.
pub fn fallback(page: &Page, voice: bool) -> Option<Page> {
    if page.severity != Severity::Critical {
        return None;
    }
    let (channel, address, alternate) = match (page.channel, &page.alternate) {
        (Channel::Sms, _) if voice => {
            (Channel::Voice, page.address.clone(), page.alternate.clone())
        }
        (Channel::Sms | Channel::Voice, Some(email)) => (Channel::Email, email.clone(), None),
        (Channel::Console, _) => return None,
        _ => (Channel::Console, CONSOLE.to_owned(), None),
    };
    Some(Page {
        key: format!(
            "{}/{}/{}/{}",
            page.alarm,
            page.step,
            page.recipient,
            channel_key(channel)
        ),
        channel,
        address,
        alternate,
        follow_up_ms: 0,
        ..page.clone()
    })
}

/// Everything a page's message needs, kept with the page in the outbox so that it can be
/// written (and written again on a retry) without reading the inventory: names, not
/// references, and the alarm as it stood when the step fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub page: Page,
    pub alarm: Alarm,
    pub client_name: String,
    pub site_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment_name: Option<String>,
    /// The site's time zone: times in the message are the site's.
    pub time_zone: crate::TimeZoneName,
    /// When it must be acknowledged (NOT-3, NOT-5, NOT-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_by: Option<i64>,
    /// For a daily digest (NOT-6): the alarms it lists, this notice's alarm first, at most
    /// [`MAX_DIGEST_ENTRIES`]…
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<DigestEntry>,
    /// …and how many more it only counts (a flood of Minor alarms keeps the page bounded).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub digest_omitted: u32,
    /// NOT-4 (issue 26, item 2): an invitation to the alarm's emergency conference call, not
    /// a page to acknowledge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference: Option<Invitation>,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// One alarm of a daily digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestEntry {
    pub alarm: AlarmId,
    pub severity: Severity,
    pub condition: String,
    pub site_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment_name: Option<String>,
    pub raised_at: i64,
}

impl Notice {
    /// This notice's alarm as a digest line.
    pub fn digest_entry(&self) -> DigestEntry {
        DigestEntry {
            alarm: self.alarm.id,
            severity: self.alarm.severity,
            condition: self.alarm.condition.condition.label().to_owned(),
            site_name: self.site_name.clone(),
            equipment_name: self.equipment_name.clone(),
            raised_at: self.alarm.raised_at,
        }
    }
}

impl Notice {
    /// Adds an alarm to this digest: listed while there is room, counted beyond; an alarm
    /// already listed is not listed twice.
    pub fn add_to_digest(&mut self, entry: DigestEntry) {
        if self.digest.iter().any(|e| e.alarm == entry.alarm) {
            return;
        }
        if self.digest.len() < MAX_DIGEST_ENTRIES {
            self.digest.push(entry);
        } else {
            self.digest_omitted = self.digest_omitted.saturating_add(1);
        }
    }
}

/// The most alarms one digest lists; beyond, it says how many more there are.
pub const MAX_DIGEST_ENTRIES: usize = 500;

/// The page key of `recipient`'s digest going at `due` (its local date names it).
pub fn digest_page(page: &Page, due: i64, zone: &jiff::tz::TimeZone) -> Page {
    let date = crate::calendar::zoned(due, zone)
        .map(|z| z.date().to_string())
        .unwrap_or_else(|| due.to_string());
    let step = format!("digest/{date}");
    Page {
        key: format!("{step}/{}/{}", page.recipient, channel_key(page.channel)),
        step,
        ..page.clone()
    }
}

fn render_digest(notice: &Notice) -> Message {
    let zone = notice.time_zone.time_zone();
    let count = notice.digest.len() + notice.digest_omitted as usize;
    let subject = format!("[Vigie] Rapport quotidien : {count} alarme(s) mineure(s)");
    let mut lines = vec![
        format!("Bonjour {},", notice.page.name),
        String::new(),
        format!("Alarmes mineures notifiées depuis le dernier rapport ({count}) :"),
    ];
    for entry in notice.digest.iter().take(MAX_DIGEST_ENTRIES) {
        let place = match &entry.equipment_name {
            Some(equipment) => format!("{equipment} — {}", entry.site_name),
            None => entry.site_name.clone(),
        };
        lines.push(format!(
            "- n°{} {} : {}, {place}, levée le {}",
            entry.alarm,
            entry.severity.label(),
            entry.condition,
            local(entry.raised_at, &zone)
        ));
    }
    let listed = notice.digest.len().min(MAX_DIGEST_ENTRIES);
    if count > listed {
        lines.push(format!("… et {} autre(s).", count - listed));
    }
    lines.push(String::new());
    lines.push(
        "À traiter lors de la prochaine visite planifiée ou sous 5 jours ouvrés (NOT-6).".into(),
    );
    let text = lines.join("\n") + "\n";
    let mut html = String::from("<!DOCTYPE html><html lang=\"fr\"><body>");
    html.push_str(&format!("<h1>{}</h1><ul>", escape(&subject)));
    for line in lines.iter().filter(|l| l.starts_with("- ")) {
        html.push_str(&format!("<li>{}</li>", escape(&line[2..])));
    }
    html.push_str("</ul></body></html>");
    Message {
        sms: clip(&subject, 320),
        subject,
        text,
        html,
    }
}

/// How to acknowledge without logging in (NOT-3): a signed link and an SMS reply code.
#[derive(Debug, Clone)]
pub struct AckInvite {
    pub link: String,
    /// The same link, short, for an SMS: `<public_url>/a/<page>-<signature>`.
    pub short_link: String,
    pub code: String,
}

/// A page's message, in French, for each channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// In the GSM alphabet where it can be, at most [`sms::MAX_SEGMENTS`] segments.
    pub sms: String,
}

pub(crate) fn local(ms: i64, zone: &jiff::tz::TimeZone) -> String {
    local_as(ms, zone, "%d/%m/%Y %H:%M")
}

/// `ms` on `zone`'s clock in `format` (strftime), or the raw number out of range.
fn local_as(ms: i64, zone: &jiff::tz::TimeZone, format: &str) -> String {
    crate::calendar::zoned(ms, zone)
        .map(|z| z.strftime(format).to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// « Caméra hall — Agence Opéra »: where the alarm is, for a subject.
fn place(notice: &Notice) -> String {
    match &notice.equipment_name {
        Some(equipment) => format!("{equipment} — {}", notice.site_name),
        None => notice.site_name.clone(),
    }
}

/// The same in an SMS: each name may be shortened to keep one segment.
fn place_parts(notice: &Notice) -> Vec<sms::Part<'_>> {
    let mut parts = Vec::with_capacity(3);
    if let Some(equipment) = &notice.equipment_name {
        parts.push(sms::Part::name(equipment));
        parts.push(sms::Part::fixed(" - "));
    }
    parts.push(sms::Part::name(&notice.site_name));
    parts
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A notice's message; `invite` when the recipient may acknowledge without logging in.
/// The most cameras a page names one by one; beyond, it says how many more.
pub const MAX_CAMERAS_NAMED: usize = 20;

/// « CAM-1, CAM-2 (2) » — the offline cameras of a site's alarm (ALR-8), at most
/// [`MAX_CAMERAS_NAMED`] named; None for an alarm about one equipment.
pub fn cameras_named(cameras: &[crate::Reference]) -> Option<String> {
    if cameras.is_empty() {
        return None;
    }
    let named: Vec<&str> = cameras
        .iter()
        .take(MAX_CAMERAS_NAMED)
        .map(|c| c.as_str())
        .collect();
    let more = cameras.len().saturating_sub(MAX_CAMERAS_NAMED);
    Some(if more == 0 {
        format!("{} ({})", named.join(", "), cameras.len())
    } else {
        format!("{} et {more} autres ({})", named.join(", "), cameras.len())
    })
}

pub fn render(notice: &Notice, invite: Option<&AckInvite>) -> Message {
    if !notice.digest.is_empty() {
        return render_digest(notice);
    }
    if let Some(invitation) = &notice.conference {
        return render_invitation(notice, invitation);
    }
    let alarm = &notice.alarm;
    let page = &notice.page;
    let zone = notice.time_zone.time_zone();
    let what = alarm.condition.condition.label();
    let place = place(notice);
    // An alarm about no site is the integrator's own: its place is the rotation.
    let about = match (&alarm.site, &alarm.condition.part) {
        (None, Some(rotation)) => vec![
            format!("Astreinte : {rotation}"),
            "Personne n'est d'astreinte : une alarme critique ne serait transmise à aucun technicien. \
             Ajoutez un membre, un remplacement ou un échange à cette astreinte."
                .to_owned(),
        ],
        _ => vec![
            format!("Client : {}", notice.client_name),
            format!("Site : {}", notice.site_name),
        ],
    };
    let subject = format!(
        "[Vigie] Alarme {} n°{} : {what} — {place}",
        alarm.severity.label(),
        alarm.id
    );
    let mut lines = vec![format!(
        "Alarme {} n°{} : {what}",
        alarm.severity.label(),
        alarm.id
    )];
    lines.extend(about);
    if let Some(equipment) = &notice.equipment_name {
        lines.push(format!("Équipement : {equipment}"));
    }
    // ALR-8: a site's alarm names its offline cameras.
    let cameras = cameras_named(&alarm.cameras);
    if let Some(cameras) = &cameras {
        lines.push(format!("Caméras hors ligne : {cameras}"));
    }
    lines.push(format!("Levée le {}", local(alarm.raised_at, &zone)));
    if let Some(due) = notice.acknowledge_by {
        lines.push(format!("À acquitter avant le {}", local(due, &zone)));
    }
    lines.push(format!("Étape d'escalade : {}", page.step));
    if let Some(invite) = invite {
        lines.push(String::new());
        lines.push(format!("Acquitter sans se connecter : {}", invite.link));
        lines.push(format!("Ou répondre {} au SMS d'alerte.", invite.code));
    }
    let text = lines.join("\n") + "\n";
    let mut html = String::from("<!DOCTYPE html><html lang=\"fr\"><body>");
    html.push_str(&format!("<h1>{}</h1><ul>", escape(&lines[0])));
    for line in lines.iter().skip(1).filter(|l| !l.is_empty()) {
        if let Some(invite) = invite
            && line.contains(&invite.link)
        {
            html.push_str(&format!(
                "<li><a href=\"{}\">Acquitter l'alarme sans se connecter</a></li>",
                escape(&invite.link)
            ));
            continue;
        }
        html.push_str(&format!("<li>{}</li>", escape(line)));
    }
    html.push_str("</ul></body></html>");
    let sms = page_sms(notice, what, cameras.as_deref(), &zone, invite);
    Message {
        subject: clip(&subject, 200),
        text,
        html,
        sms,
    }
}

/// The longest message a call reads (characters): about 30 seconds of speech, so that the
/// keypad prompt comes before a sleeper hangs up.
pub const MAX_VOICE_CHARS: usize = 400;

/// The keypad digit that acknowledges, as the call says it (issue 26, item 3).
pub const VOICE_ACKNOWLEDGE_DIGIT: &str = "1";

/// What a call reads (issue 26, item 3): the alarm, where it is and by when it must be
/// acknowledged, in sentences a speech synthesiser says well (no symbols, « 10 h 35 »), and,
/// when `keypad` (the recipient is the integrator's staff), how to acknowledge by the
/// keypad. Names are shortened so that the whole stays within [`MAX_VOICE_CHARS`].
pub fn render_voice(notice: &Notice, keypad: bool) -> String {
    let alarm = &notice.alarm;
    let zone = notice.time_zone.time_zone();
    let what = alarm.condition.condition.label();
    let head = format!(
        "Bonjour, ici Vigie. Alarme {} numéro {} : {what}.",
        alarm.severity.label().to_lowercase(),
        alarm.id
    );
    let place = match (&alarm.site, &alarm.condition.part) {
        (None, Some(rotation)) => format!("Personne n'est d'astreinte sur {}.", clip(rotation, 60)),
        _ => {
            let mut place = String::new();
            if let Some(equipment) = &notice.equipment_name {
                place.push_str(&clip(equipment, 60));
                place.push_str(", ");
            }
            place.push_str(&format!(
                "site {}, client {}.",
                clip(&notice.site_name, 60),
                clip(&notice.client_name, 60)
            ));
            place
        }
    };
    let mut sentences = vec![head, place];
    if let Some(invitation) = &notice.conference {
        sentences.push(format!(
            "Conférence d'urgence : appelez le {}, code {}.",
            spoken_digits(&invitation.dial_in),
            spoken_digits(&invitation.pin)
        ));
    } else if let Some(due) = notice.acknowledge_by {
        let same_day = local_as(due, &zone, "%Y%m%d") == local_as(alarm.raised_at, &zone, "%Y%m%d");
        let when = if same_day {
            local_as(due, &zone, "%H h %M")
        } else {
            local_as(due, &zone, "le %d/%m à %H h %M")
        };
        sentences.push(format!("À acquitter avant {when}."));
    }
    if keypad {
        sentences.push(format!(
            "Pour acquitter cette alarme, tapez {VOICE_ACKNOWLEDGE_DIGIT}."
        ));
    }
    clip(&sentences.join(" "), MAX_VOICE_CHARS)
}

/// « 01 84 88 00 00 » read digit by digit, groups kept: a number is not read as « un
/// milliard… ».
fn spoken_digits(number: &str) -> String {
    let mut out = String::with_capacity(number.len() * 2);
    for c in number.chars() {
        if c.is_ascii_digit() {
            if out.ends_with(|p: char| p.is_ascii_digit()) {
                out.push(' ');
            }
            out.push(c);
        } else if c == '+' {
            out.push_str("plus ");
        } else if (c.is_whitespace() || c == '.' || c == '-')
            && !out.ends_with(", ")
            && !out.is_empty()
        {
            out.push_str(", ");
        }
    }
    out.trim_end_matches([',', ' ']).to_owned()
}

/// An invitation to an alarm's emergency conference call (NOT-4): the number, the PIN and
/// the one-tap link, in the email and in one SMS segment where it can be.
fn render_invitation(notice: &Notice, invitation: &Invitation) -> Message {
    let alarm = &notice.alarm;
    let zone = notice.time_zone.time_zone();
    let what = alarm.condition.condition.label();
    let place = place(notice);
    let subject = format!(
        "[Vigie] Conférence d'urgence — alarme {} n°{} : {what} — {place}",
        alarm.severity.label(),
        alarm.id
    );
    let mut lines = vec![
        format!(
            "Conférence téléphonique d'urgence sur l'alarme {} n°{} : {what}",
            alarm.severity.label(),
            alarm.id
        ),
        format!("Client : {}", notice.client_name),
        format!("Site : {}", notice.site_name),
    ];
    if let Some(equipment) = &notice.equipment_name {
        lines.push(format!("Équipement : {equipment}"));
    }
    lines.push(format!("Levée le {}", local(alarm.raised_at, &zone)));
    lines.push(format!("Appeler le {}", invitation.dial_in));
    lines.push(format!("Code de la conférence : {}", invitation.pin));
    if let Some(url) = &invitation.join_url {
        lines.push(format!("Rejoindre en visioconférence : {url}"));
    }
    let text = lines.join("\n") + "\n";
    let mut html = String::from("<!DOCTYPE html><html lang=\"fr\"><body>");
    html.push_str(&format!("<h1>{}</h1><ul>", escape(&lines[0])));
    for line in lines.iter().skip(1) {
        html.push_str(&format!("<li>{}</li>", escape(line)));
    }
    html.push_str("</ul>");
    if let Some(url) = &invitation.join_url {
        html.push_str(&format!(
            "<p><a href=\"{}\">Rejoindre la conférence</a></p>",
            escape(url)
        ));
    }
    html.push_str("</body></html>");
    // The alarm's number and problem, then where and how to join: one segment where it can.
    let head = format!("Vigie conférence urgente #{} : {what}. ", alarm.id);
    let join = format!(
        ". Appelez {} code {}{}",
        invitation.dial_in,
        invitation.pin,
        invitation
            .join_url
            .as_ref()
            .map(|url| format!(" ou {url}"))
            .unwrap_or_default()
    );
    let mut parts = vec![sms::Part::fixed(&head)];
    parts.extend(place_parts(notice));
    parts.push(sms::Part::fixed(&join));
    Message {
        subject: clip(&subject, 200),
        text,
        html,
        sms: sms::fit_one_segment(&parts, MIN_SMS_NAME).text,
    }
}

/// The shortest a site's or an equipment's name gets to keep a page in one SMS segment.
pub const MIN_SMS_NAME: usize = 10;

/// A page's SMS (issue 26, item 6): what happened, where, until when, and how to acknowledge,
/// in one GSM segment where it can be — names are shortened before a second segment is paid.
/// « Vigie Critique #12 : équipement injoignable. Caméra hall - Agence Opéra. Acquittez avant
/// 04/03 09:30 : répondez 123456 ou https://vigie.example.fr/a/… »
fn page_sms(
    notice: &Notice,
    what: &str,
    cameras: Option<&str>,
    zone: &jiff::tz::TimeZone,
    invite: Option<&AckInvite>,
) -> String {
    let alarm = &notice.alarm;
    let head = format!("Vigie {} #{} : {what}. ", alarm.severity.label(), alarm.id);
    let mut parts = vec![sms::Part::fixed(&head)];
    parts.extend(place_parts(notice));
    parts.push(sms::Part::fixed(". "));
    let cameras = cameras.map(|c| format!("Caméras : {c}"));
    if let Some(cameras) = &cameras {
        parts.push(sms::Part::name(cameras));
        parts.push(sms::Part::fixed(". "));
    }
    // The integrator's staff acknowledge; a client's page only says by when it will be.
    let due = notice.acknowledge_by.map(|due| local_short(due, zone));
    let ending = match (invite, &due) {
        (Some(invite), Some(due)) => format!(
            "Acquittez avant {due} : répondez {} ou {}",
            invite.code, invite.short_link
        ),
        (Some(invite), None) => format!(
            "Acquittez : répondez {} ou {}",
            invite.code, invite.short_link
        ),
        (None, Some(due)) => format!("Acquittement attendu avant {due}."),
        (None, None) => String::new(),
    };
    parts.push(sms::Part::fixed(&ending));
    sms::fit_one_segment(&parts, MIN_SMS_NAME).text
}

/// « 04/03 09:30 »: a deadline in an SMS, which is about the coming hours.
fn local_short(ms: i64, zone: &jiff::tz::TimeZone) -> String {
    local_as(ms, zone, "%d/%m %H:%M")
}
