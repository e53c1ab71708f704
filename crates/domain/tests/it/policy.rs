//! The default policy holds every number of the procedures, each loaded where the engine
//! reads it; broken or inconsistent policies are refused with a message naming the value.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use vigie_domain::inventory::{ContractOption, ContractTier, Priority, SlaMeasure};
use vigie_domain::policy::{Channel, Policy, Recipient, Severity, StepMoment, TicketKind, Unless};
use vigie_domain::values::DurationSpec;

fn d(text: &str) -> DurationSpec {
    DurationSpec::parse(text).unwrap()
}

/// An instant written RFC 3339, as the domain takes it: UTC epoch milliseconds.
fn at(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

#[test]
fn every_number_of_the_procedures_is_loaded() {
    let policy = Policy::default_policy();
    let t = &policy.thresholds;
    assert_eq!(t.camera_offline_after, d("5m")); // ALR-1
    assert_eq!((t.disk_major_percent, t.disk_critical_percent), (85, 95)); // ALR-2
    assert_eq!(
        (t.temperature_major_celsius, t.temperature_critical_celsius),
        (70, 80)
    ); // ALR-3, DEC-1
    assert_eq!(t.certificate_expiry_within, d("30d")); // ALR-7
    assert_eq!(
        (
            t.critical_site_offline_cameras,
            t.max_offline_camera_percent
        ),
        (0, 5)
    ); // ALR-8

    let s = &policy.severity;
    assert_eq!(s.priority_camera_signal_lost, Severity::Critical); // ALR-5
    assert_eq!(s.disk_failure, Severity::Critical); // ALR-5
    assert_eq!(s.vms_server_unreachable, Severity::Critical); // ALR-5
    assert_eq!(s.unredundant_power_failure, Severity::Critical); // ALR-5
    assert_eq!(s.secondary_camera_signal_lost, Severity::Major); // ALR-6
    assert_eq!(s.video_stream_latency, Severity::Major); // ALR-6
    assert_eq!(s.server_temperature, Severity::Major); // ALR-6
    assert_eq!(s.disk_usage, Severity::Major); // ALR-6, DEC-2
    assert_eq!(s.recording_stopped, Severity::Critical); // ALR-4
    assert_eq!(s.equipment_network_loss, Severity::Major); // ALR-4
    assert_eq!(
        (
            s.clock_out_of_sync,
            s.obsolete_firmware,
            s.certificate_expiring
        ),
        (Severity::Minor, Severity::Minor, Severity::Minor)
    ); // ALR-7

    // NOT-3: Critical acknowledged within 30 min in business hours, 1 h outside.
    let a = &policy.acknowledgement;
    assert_eq!(
        (
            a.critical.calendar.as_str(),
            a.critical.when_open,
            a.critical.when_closed
        ),
        ("business", d("30m"), d("1h"))
    );
    assert_eq!(
        policy
            .critical_acknowledgement_due(at("2026-05-12T10:00:00+02:00"))
            .unwrap(),
        at("2026-05-12T10:30:00+02:00")
    );
    assert_eq!(
        policy
            .critical_acknowledgement_due(at("2026-05-12T03:00:00+02:00"))
            .unwrap(),
        at("2026-05-12T04:00:00+02:00")
    );
    // NOT-5: Major within 4 business hours.
    assert_eq!(
        (a.major.within, a.major.calendar.as_str()),
        (Some(d("4h")), "business")
    );
    assert_eq!(
        policy
            .due(&a.major, at("2026-05-12T17:00:00+02:00"))
            .unwrap(),
        at("2026-05-13T11:00:00+02:00")
    );
    // NOT-6: Minor handled within 5 business days.
    assert_eq!(
        (a.minor.within_days, a.minor.calendar.as_str()),
        (Some(5), "business")
    );

    assert_eq!(policy.alarm.major_to_critical_after, d("8h")); // NOT-8
    assert_eq!(policy.alarm.minor_digest_at.to_string(), "08:00"); // NOT-6

    // DEC-3: the Critical chain.
    let critical = &policy.escalation.critical;
    assert_eq!(critical[0].after, Some(d("0m")));
    assert_eq!(
        critical[0].notify,
        [Recipient::OnCallTechnician, Recipient::SecurityManager]
    ); // NOT-3
    assert_eq!(critical[0].channels, [Channel::Sms, Channel::Email]); // NOT-3
    assert_eq!(
        critical[1].only_if_contract_has,
        Some(ContractOption::DirectNotifications)
    ); // NOT-2
    assert_eq!(
        (critical[2].at, critical[2].unless),
        (
            Some(StepMoment::AcknowledgementDeadline),
            Unless::Acknowledged
        )
    ); // NOT-4
    assert_eq!(
        critical[2].notify,
        [Recipient::TechnicalManager, Recipient::Cio]
    ); // NOT-4
    // NOT-4 (issue 26, item 2): the emergency conference call at the same deadline, the
    // client's people invited when the contract says so; skipped without a bridge.
    assert!(critical[3].conference);
    assert_eq!(
        (critical[3].at, critical[3].unless),
        (
            Some(StepMoment::AcknowledgementDeadline),
            Unless::Acknowledged
        )
    );
    assert_eq!(
        critical[3].client_only_if_contract_has,
        Some(ContractOption::DirectNotifications)
    );
    assert!(policy.conference.bridges.is_empty());
    assert!(policy.conference.on_demand.as_ref().unwrap().conference);
    let critical: Vec<_> = critical.iter().filter(|s| !s.conference).collect();
    assert_eq!(
        (
            critical[3].after,
            critical[3].unless,
            critical[3].notify.as_slice()
        ),
        (
            Some(d("1h")),
            Unless::Handled,
            [Recipient::OnCallManager].as_slice()
        )
    ); // NOT-7
    assert_eq!(critical[3].opens_ticket, Some(TicketKind::Intervention)); // NOT-7
    assert_eq!(critical[4].notify, [Recipient::TechnicalManager]); // NOT-7 "then"
    let major = &policy.escalation.major;
    assert_eq!(
        (
            major[0].notify.as_slice(),
            major[0].channels.as_slice(),
            major[0].opens_ticket
        ),
        (
            [Recipient::SecurityManager].as_slice(),
            [Channel::Email].as_slice(),
            Some(TicketKind::Maintenance)
        )
    ); // NOT-5
    assert_eq!(major[2].after, Some(d("1h"))); // NOT-7
    assert_eq!(policy.escalation.minor[0].notify, [Recipient::Supervision]); // NOT-1

    // SLA table (CM-3, INC-2, INC-4, SAV-2, DEC-4).
    let sla = |p, m, tier, round| {
        policy
            .sla_deadline(p, m, tier, round)
            .map(|d| (d.within, d.within_days, d.calendar))
    };
    let business = |w: &str| Some((Some(d(w)), None, "business".to_string()));
    for priority in [Priority::P1, Priority::P2, Priority::P3] {
        assert_eq!(
            sla(
                priority,
                SlaMeasure::Acknowledgement,
                ContractTier::Standard,
                false
            ),
            business("30m")
        ); // SAV-2
    }
    assert_eq!(
        sla(
            Priority::P1,
            SlaMeasure::TakeCharge,
            ContractTier::Standard,
            false
        ),
        business("1h")
    ); // INC-2, CM-3
    assert_eq!(
        sla(
            Priority::P1,
            SlaMeasure::TakeCharge,
            ContractTier::Premium,
            false
        ),
        business("1h")
    ); // INC-2: every level
    assert_eq!(
        sla(
            Priority::P1,
            SlaMeasure::OnSite,
            ContractTier::Standard,
            false
        ),
        business("4h")
    ); // INC-2, CM-3
    assert_eq!(
        sla(
            Priority::P1,
            SlaMeasure::OnSite,
            ContractTier::Premium,
            false
        ),
        business("2h")
    ); // INC-2
    assert_eq!(
        sla(
            Priority::P1,
            SlaMeasure::OnSite,
            ContractTier::Premium,
            true
        ),
        Some((Some(d("2h")), None, "always".to_string()))
    ); // CM-3, DEC-5: 24/7
    assert_eq!(
        sla(
            Priority::P1,
            SlaMeasure::ClientUpdate,
            ContractTier::Standard,
            false
        ),
        Some((Some(d("1h")), None, "always".to_string()))
    ); // INC-4
    assert_eq!(
        sla(
            Priority::P2,
            SlaMeasure::TakeCharge,
            ContractTier::Standard,
            true
        ),
        business("4h")
    ); // INC-2: 24/7 is for P1 only
    assert_eq!(
        sla(
            Priority::P2,
            SlaMeasure::OnSite,
            ContractTier::Standard,
            false
        ),
        business("24h")
    ); // CM-3
    assert_eq!(
        sla(
            Priority::P2,
            SlaMeasure::ClientUpdate,
            ContractTier::Standard,
            false
        ),
        business("2h")
    ); // INC-4
    assert_eq!(
        sla(
            Priority::P3,
            SlaMeasure::TakeCharge,
            ContractTier::Standard,
            false
        ),
        business("8h")
    ); // DEC-4
    assert_eq!(
        sla(
            Priority::P3,
            SlaMeasure::OnSite,
            ContractTier::Standard,
            false
        ),
        business("72h")
    ); // CM-3
    assert_eq!(
        sla(
            Priority::P3,
            SlaMeasure::InterventionPlanning,
            ContractTier::Standard,
            false
        ),
        Some((None, Some(5), "business".to_string()))
    ); // INC-2
    assert_eq!(
        sla(
            Priority::P3,
            SlaMeasure::ClientUpdate,
            ContractTier::Standard,
            false
        ),
        None
    ); // INC-4: P1 and P2 only

    let ticket = &policy.ticket;
    assert_eq!(
        ticket.paused_while_waiting_for_client,
        BTreeSet::from([SlaMeasure::OnSite, SlaMeasure::InterventionPlanning])
    );
    assert_eq!(
        (
            ticket.auto_close_after_reminder.within,
            ticket.auto_close_after_reminder.calendar.as_str()
        ),
        (Some(d("5d")), "always")
    ); // SAV-6
    let follow_ups: Vec<_> = ticket
        .follow_ups
        .iter()
        .map(|f| f.within.unwrap())
        .collect();
    assert_eq!(follow_ups, [d("24h"), d("72h"), d("7d")]); // CM-7
    assert_eq!(ticket.survey_within.within, Some(d("48h"))); // SAV-7
    assert_eq!(
        (
            ticket.post_mortem_within.within_days,
            ticket.post_mortem_within.calendar.as_str()
        ),
        (Some(5), "business")
    ); // INC-6
    assert_eq!(ticket.recurrence_window, d("90d")); // INC-7

    // DEC-5: the three calendars.
    assert_eq!(
        policy
            .calendars
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["always", "business", "business-alsace-moselle"]
    );
    assert_eq!(
        policy.calendar("business").unwrap().rule,
        vigie_domain::calendar::Calendar::business().rule
    );
    assert_eq!(
        policy.calendar("business-alsace-moselle").unwrap().rule,
        vigie_domain::calendar::Calendar::business_alsace_moselle().rule
    );
    // DSH-2, CLO-3: what the monthly reports call a weak signal, and their bounds.
    let r = &policy.reports;
    assert_eq!(
        (r.forecast_horizon_days, r.min_days_of_data, r.min_trend_fit),
        (90, 14, 0.5)
    );
    assert_eq!(r.disk_fall_restarts_trend_percent, 5.0);
    assert_eq!(
        (r.temperature_rise_per_30_days, r.temperature_margin_celsius),
        (3.0, 5.0)
    );
    assert_eq!((r.flapping_min_outages, r.flapping_growth_factor), (4, 1.5));
    assert_eq!(
        (
            r.repeated_alarms_min,
            r.preventive_maintenance_min_alarms,
            r.early_replacement_min_repeats
        ),
        (3, 5, 3)
    );
    assert_eq!(
        (r.top_equipment, r.max_signals, r.max_recommendations),
        (10, 50, 50)
    );
    assert_eq!(policy.temperature_thresholds(None), (70, 80));
    // INC-6: five business days from a Thursday-evening resolution before Ascension 2026.
    assert_eq!(
        policy
            .due(&ticket.post_mortem_within, at("2026-05-13T20:00:00+02:00"))
            .unwrap(),
        at("2026-05-21T18:00:00+02:00")
    );
}

#[test]
fn overlays_replace_any_value() {
    let policy = Policy::default_policy();
    // DEC-1: 75 °C for a site or a model.
    let overlay: toml::Table = toml::from_str("[thresholds]\ntemperature_major_celsius = 75\n[sla.p2]\ntake_charge = { within = \"2h\", calendar = \"business\" }").unwrap();
    let site = policy.with_overlay(&overlay).unwrap();
    assert_eq!(site.thresholds.temperature_major_celsius, 75);
    assert_eq!(site.thresholds.temperature_critical_celsius, 80);
    assert_eq!(
        site.sla_deadline(
            Priority::P2,
            SlaMeasure::TakeCharge,
            ContractTier::Standard,
            false
        )
        .unwrap()
        .within,
        Some(d("2h"))
    );
    assert_eq!(
        site.sla_deadline(
            Priority::P2,
            SlaMeasure::OnSite,
            ContractTier::Standard,
            false
        )
        .unwrap()
        .within,
        Some(d("24h"))
    );
    // The reports' section too, an integer where a decimal is expected included.
    let overlay: toml::Table =
        toml::from_str("[reports]\nflapping_growth_factor = 2\nmax_signals = 20\n").unwrap();
    let site = policy.with_overlay(&overlay).unwrap();
    assert_eq!(
        (
            site.reports.flapping_growth_factor,
            site.reports.max_signals
        ),
        (2.0, 20)
    );
    assert_eq!(site.reports.repeated_alarms_min, 3);
    // An overlay that breaks consistency is refused like a broken policy.
    let broken: toml::Table =
        toml::from_str("[thresholds]\ntemperature_major_celsius = 85\n").unwrap();
    assert!(
        policy
            .with_overlay(&broken)
            .unwrap_err()
            .to_string()
            .contains("temperature_major_celsius")
    );
}

fn refused(text: &str) -> String {
    Policy::parse(text).unwrap_err().to_string()
}

#[test]
fn broken_policies_are_refused_with_a_clear_message() {
    let default = vigie_domain::policy::DEFAULT_POLICY;
    // A negative duration does not parse.
    let message = refused(&default.replace(
        "major_to_critical_after = \"8h\"",
        "major_to_critical_after = \"-8h\"",
    ));
    assert!(
        message.contains("durée invalide") && message.contains("-8h"),
        "{message}"
    );
    // An unknown calendar.
    let message = refused(&default.replace(
        "take_charge = { within = \"4h\", calendar = \"business\" }",
        "take_charge = { within = \"4h\", calendar = \"lune\" }",
    ));
    assert!(
        message.contains("sla.p2.take_charge : calendrier « lune » inconnu"),
        "{message}"
    );
    // An unknown key, anywhere.
    let message = refused(&default.replace(
        "[thresholds]\n",
        "[thresholds]\ncamera_offline_afte = \"5m\"\n",
    ));
    assert!(
        message.contains("champ inconnu « camera_offline_afte »"),
        "{message}"
    );
    // An unknown measure inside an SLA level.
    let message = refused(&default.replace(
        "[sla.p3]\n",
        "[sla.p3]\ntake_charg = { within = \"8h\", calendar = \"business\" }\n",
    ));
    assert!(message.contains("take_charg"), "{message}");
    // Inconsistent thresholds.
    let message =
        refused(&default.replace("disk_critical_percent = 95", "disk_critical_percent = 80"));
    assert!(message.contains("disk_major_percent"), "{message}");
    // The reports' thresholds are checked too.
    let message = refused(&default.replace("min_trend_fit = 0.5", "min_trend_fit = 1.5"));
    assert!(
        message.contains("reports.min_trend_fit : un R² entre 0 et 1"),
        "{message}"
    );
    let message = refused(&default.replace("max_signals = 50", "max_signals = 0"));
    assert!(message.contains("reports.max_signals"), "{message}");
    // A syntax error names its line.
    let message = refused("version = 1\n[thresholds\n");
    assert!(message.contains("ligne 2"), "{message}");
    // A deadline with both forms.
    let message = refused(&default.replace(
        "survey_within = { within = \"48h\", calendar = \"always\" }",
        "survey_within = { within = \"48h\", within_days = 2, calendar = \"always\" }",
    ));
    assert!(message.contains("ticket.survey_within"), "{message}");
}

#[test]
fn escalation_to_a_role_nobody_holds_is_refused() {
    let policy = Policy::default_policy();
    let mut held: BTreeSet<Recipient> = [
        Recipient::OnCallTechnician,
        Recipient::OnCallManager,
        Recipient::TechnicalManager,
        Recipient::Supervision,
        Recipient::TechnicalTeam,
        Recipient::SecurityManager,
        Recipient::TechnicalContact,
        Recipient::Cio,
    ]
    .into();
    policy.check_recipients(&held).unwrap();
    held.remove(&Recipient::Cio);
    let message = policy.check_recipients(&held).unwrap_err().to_string();
    assert!(
        message.contains("personne n'a le rôle « cio »"),
        "{message}"
    );
    let _ = SignedDuration::ZERO;
}

#[test]
fn a_site_gets_its_contract_values_then_its_own() {
    use vigie_domain::inventory::file::InventoryFile;
    let text = r#"
[[client]]
ref = "C"
name = "Client"

[[contract]]
ref = "CTR"
client = "C"
tier = "premium"
sla = { p1 = { on_site = "3h" }, p2 = { take_charge = "2h" } }
policy = { alarm = { major_to_critical_after = "6h" } }

[[site]]
ref = "S"
client = "C"
contract = "CTR"
name = "Site"
policy = { thresholds = { temperature_major_celsius = 75 } }
"#;
    let inventory = InventoryFile::parse(text).unwrap().inventory;
    let policy = Policy::default_policy()
        .for_site(&inventory.contracts[0], &inventory.sites[0])
        .unwrap();
    // CM-4: the contract's values prevail, Premium default included.
    assert_eq!(
        policy
            .sla_deadline(
                Priority::P1,
                SlaMeasure::OnSite,
                ContractTier::Premium,
                false
            )
            .unwrap()
            .within,
        Some(d("3h"))
    );
    assert_eq!(
        policy
            .sla_deadline(
                Priority::P2,
                SlaMeasure::TakeCharge,
                ContractTier::Premium,
                false
            )
            .unwrap()
            .within,
        Some(d("2h"))
    );
    assert_eq!(
        policy
            .sla_deadline(
                Priority::P2,
                SlaMeasure::TakeCharge,
                ContractTier::Premium,
                false
            )
            .unwrap()
            .calendar,
        "business"
    );
    assert_eq!(policy.alarm.major_to_critical_after, d("6h"));
    // DEC-1: 75 °C on this site; the rest is the default.
    assert_eq!(policy.thresholds.temperature_major_celsius, 75);
    assert_eq!(policy.thresholds.disk_critical_percent, 95);
}

#[test]
fn an_inventory_overlay_that_breaks_the_policy_is_refused_at_its_line() {
    use vigie_domain::inventory::check::KnownObjects;
    use vigie_domain::inventory::file::InventoryFile;
    let text = "[[client]]\nref = \"C\"\nname = \"Client\"\n\n[[contract]]\nref = \"CTR\"\nclient = \"C\"\npolicy = { thresholds = { disk_major_percent = 99 } }\n";
    let errors = InventoryFile::parse(text)
        .unwrap()
        .check(&KnownObjects::default())
        .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 8);
    assert!(
        errors[0].message.contains("disk_major_percent"),
        "{errors:?}"
    );
}
