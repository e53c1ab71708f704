//! On-call load and response figures (issue 26, item 7): pages per person and week, nights
//! woken on the Paris clock, MTTA and MTTR per rotation, territory and client.

use jiff::tz::TimeZone;
use vigie_domain::Reference;
use vigie_domain::inventory::Territory;
use vigie_domain::oncall::Rotation;
use vigie_domain::oncall_load::{AlarmTimes, PageSent, figures};
use vigie_domain::policy::Channel;

const MINUTE: i64 = 60_000;

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn r(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

fn page(recipient: &str, channel: Channel, at: &str) -> PageSent {
    PageSent {
        recipient: r(recipient),
        name: format!("Nom {recipient}"),
        channel,
        at: ms(at),
    }
}

fn rotation(name: &str, territory: Option<&str>, member: &str) -> Rotation {
    let mut text = format!(
        "name = \"{name}\"\nduty = \"technician\"\ntime_zone = \"Europe/Paris\"\nmembers = [\"{member}\"]\n\
         handoff = {{ every = \"week\", day = \"monday\", at = \"08:00\" }}\nstart = 2026-01-05\n"
    );
    if let Some(territory) = territory {
        text.push_str(&format!("territory = \"{territory}\"\n"));
    }
    toml::from_str(&text).unwrap()
}

#[test]
fn pages_weeks_nights_and_response_times_are_counted() {
    let paris = TimeZone::get("Europe/Paris").unwrap();
    let pages = [
        // Monday 23 November, day: one week, no night.
        page("TECH-A", Channel::Sms, "2026-11-23T11:00:00+01:00"),
        page("TECH-A", Channel::Email, "2026-11-23T11:00:00+01:00"),
        // Two SMS in the night of Tuesday to Wednesday (23:30 and 03:10): one night.
        page("TECH-A", Channel::Sms, "2026-11-24T23:30:00+01:00"),
        page("TECH-A", Channel::Sms, "2026-11-25T03:10:00+01:00"),
        // An email at night wakes nobody.
        page("TECH-B", Channel::Email, "2026-11-26T02:00:00+01:00"),
        // The next week, Monday 30 November 06:59: the night of Sunday to Monday.
        page("TECH-A", Channel::Sms, "2026-11-30T06:59:00+01:00"),
    ];
    let alarms = [
        AlarmTimes {
            alarm: 1,
            client: Some(r("CLI-BANQUE")),
            site: Some(r("LYON")),
            notified_at: ms("2026-11-23T11:00:00+01:00"),
            acknowledged_at: Some(ms("2026-11-23T11:10:00+01:00")),
            resolved_at: Some(ms("2026-11-23T12:00:00+01:00")),
        },
        AlarmTimes {
            alarm: 2,
            client: Some(r("CLI-BANQUE")),
            site: Some(r("PARIS")),
            notified_at: ms("2026-11-24T23:30:00+01:00"),
            acknowledged_at: Some(ms("2026-11-24T23:50:00+01:00")),
            resolved_at: None,
        },
        // About no site (a rotation with nobody): no client, no rotation.
        AlarmTimes {
            alarm: 3,
            client: None,
            site: None,
            notified_at: ms("2026-11-25T10:00:00+01:00"),
            acknowledged_at: None,
            resolved_at: None,
        },
    ];
    let territories = [Territory {
        reference: r("TER-LYON"),
        name: vigie_domain::Name::parse("Agence de Lyon").unwrap(),
        sites: vec![r("LYON")],
        clients: Vec::new(),
    }];
    let rotations = [
        rotation("ASTREINTE-NATIONALE", None, "TECH-A"),
        rotation("ASTREINTE-LYON", Some("TER-LYON"), "TECH-B"),
    ];
    let figures = figures(&pages, &alarms, &rotations, &territories, &paris);

    let a = &figures.people[0];
    assert_eq!(a.recipient, r("TECH-A"));
    assert_eq!(a.pages, 5);
    assert_eq!(
        a.weeks,
        [
            (ms("2026-11-23T00:00:00+01:00"), 4),
            (ms("2026-11-30T00:00:00+01:00"), 1)
        ]
    );
    assert_eq!(a.nights, 2);
    let b = &figures.people[1];
    assert_eq!((b.pages, b.nights), (1, 0));

    // Lyon's alarm went to Lyon's rotation, Paris's to the fleet's.
    let rotation_of = |name: &str| {
        figures
            .by_rotation
            .iter()
            .find(|row| row.group == r(name))
            .unwrap()
            .clone()
    };
    let lyon = rotation_of("ASTREINTE-LYON");
    assert_eq!(
        (lyon.alarms, lyon.mtta_ms, lyon.mttr_ms),
        (1, Some(10 * MINUTE), Some(60 * MINUTE))
    );
    let national = rotation_of("ASTREINTE-NATIONALE");
    assert_eq!(
        (national.alarms, national.mtta_ms, national.mttr_ms),
        (1, Some(20 * MINUTE), None)
    );
    assert_eq!(figures.by_territory.len(), 1);
    assert_eq!(figures.by_territory[0].alarms, 1);
    let bank = &figures.by_client[0];
    assert_eq!(bank.group, r("CLI-BANQUE"));
    assert_eq!(
        (bank.alarms, bank.acknowledged, bank.mtta_ms),
        (2, 2, Some(15 * MINUTE))
    );
    assert_eq!((bank.resolved, bank.mttr_ms), (1, Some(60 * MINUTE)));
}
