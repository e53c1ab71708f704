//! The support mailbox at the desk (SAV-1, SAV-6): a contact's message opens a ticket with its
//! acknowledgement and its attachments; a reply threads into it; the same message read twice,
//! even by two processes at once, acts once; what cannot be handled is set aside, kept.

use vigie_domain::EmailAddress;
use vigie_domain::policy::Policy;
use vigie_domain::ticket::Status;
use vigie_domain::ticket::mail::{Reply, SetAside};
use vigie_store::System;
use vigie_store::mail::{IncomingAttachment, IncomingMail, MailFilter, MailIntake, MailOutcome};

use crate::{admin, client_user, conformance, parse};

conformance!(
    a_contacts_mail_opens_a_ticket_and_its_reply_threads_into_it,
    the_same_mail_read_twice_by_two_stores_acts_once,
    a_message_set_aside_is_attached_to_a_ticket_or_discarded_once,
);

/// Monday 23 November 2026, 11:00 in Paris.
const NOW: i64 = 1_795_428_000_000;

const INVENTORY: &str = r#"
[[client]]
ref = "CLI-A"
name = "Banque Alpha"

[[client]]
ref = "CLI-B"
name = "Logistique Beta"

[[contact]]
ref = "A-RS"
client = "CLI-A"
name = "Hélène Marchand"
roles = ["security_manager"]
email = "rs@alpha.fr"

[[contact]]
ref = "B-RS"
client = "CLI-B"
name = "Paul Roche"
roles = ["security_manager"]
email = "paul_roche@beta.fr"

[[contract]]
ref = "CTR-A"
client = "CLI-A"

[[contract]]
ref = "CTR-B"
client = "CLI-B"
"#;

fn intake() -> MailIntake {
    MailIntake {
        own_addresses: vec![EmailAddress::parse("support@integrateur.fr").unwrap()],
        flood_limit: 2,
    }
}

fn mail(key: &str, from: &str, subject: &str, text: &str) -> IncomingMail {
    IncomingMail {
        key: key.into(),
        from: EmailAddress::parse(from).ok(),
        from_name: Some("Hélène Marchand".into()),
        subject: subject.into(),
        headers: Vec::new(),
        text: text.into(),
        readable: true,
        complete: true,
        size: 2048,
        attachments: Vec::new(),
        attachments_dropped: 0,
    }
}

async fn a_contacts_mail_opens_a_ticket_and_its_reply_threads_into_it(store: System, _url: String) {
    store
        .import(&admin(), &parse(INVENTORY), NOW)
        .await
        .unwrap();
    let policy = Policy::default_policy();
    let mut first = mail(
        "k1",
        "RS@Alpha.fr",
        "[Standard] Caméra du hall noire",
        "Depuis ce matin",
    );
    first.attachments = vec![
        IncomingAttachment {
            name: "capture.png".into(),
            content_type: "image/png".into(),
            size: 4,
            content: Some(vec![0x89, b'P', b'N', b'G']),
        },
        IncomingAttachment {
            name: "video.mp4".into(),
            content_type: "video/mp4".into(),
            size: 50 << 20,
            content: None,
        },
    ];
    let recorded = store
        .record_mail(&policy, &intake(), &first, NOW)
        .await
        .unwrap();
    let MailOutcome::Opened { ticket: number } = recorded.outcome else {
        panic!("{:?}", recorded.outcome)
    };
    let change = recorded.change.unwrap();
    assert_eq!(change.ticket.report.client.as_str(), "CLI-A");
    // The supervision team's list gives the message its own attachments, in order.
    let listed_mails = store.mails(&admin(), &MailFilter::default()).await.unwrap();
    let names: Vec<&str> = listed_mails
        .iter()
        .find(|m| m.id == recorded.id)
        .unwrap()
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["capture.png", "video.mp4"]);
    assert_eq!(
        change.ticket.priority,
        vigie_domain::inventory::Priority::P2
    );
    assert!(change.ticket.report.symptom.contains("Depuis ce matin"));
    assert_eq!(
        change.ticket.report.reply_to.as_ref().map(|a| a.as_str()),
        Some("rs@alpha.fr")
    );
    // SAV-2: its acknowledgement queued to the sender with the ticket.
    let counts = store.notification_counts().await.unwrap();
    assert_eq!(counts.get("pending"), Some(&1), "{counts:?}");
    // The attachments: the kept one downloads, the one over the bound is listed only; the
    // client sees its own ticket's, another client nothing.
    let listed = store
        .ticket_attachments(&client_user("CLI-A"), number)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].kept && !listed[1].kept);
    let (info, bytes) = store
        .ticket_attachment(&client_user("CLI-A"), number, listed[0].id)
        .await
        .unwrap();
    assert_eq!(
        (info.name.as_str(), bytes.as_slice()),
        ("capture.png", &b"\x89PNG"[..])
    );
    assert!(
        store
            .ticket_attachment(&client_user("CLI-A"), number, listed[1].id)
            .await
            .is_err()
    );
    assert!(
        store
            .ticket_attachments(&client_user("CLI-B"), number)
            .await
            .is_err()
    );

    // The technician asks a question; the client's reply resumes the timers (CM-4).
    let tech = vigie_domain::Reference::parse("ST-1").unwrap();
    for action in [
        vigie_domain::ticket::Action::TakeCharge,
        vigie_domain::ticket::Action::WaitForClient,
    ] {
        store
            .ticket_step(
                &admin(),
                &policy,
                number,
                vigie_store::TicketStep::Act(action),
                &tech,
                NOW + 1000,
            )
            .await
            .unwrap();
    }
    let reply = mail(
        "k2",
        "rs@alpha.fr",
        &format!("RE: [Vigie] Ticket n°{number} pris en charge"),
        "Oui, elle est branchée.\n> question",
    );
    let recorded = store
        .record_mail(&policy, &intake(), &reply, NOW + 2000)
        .await
        .unwrap();
    assert_eq!(
        recorded.outcome,
        MailOutcome::Threaded {
            ticket: number,
            reply: Reply::Answers
        }
    );
    let (ticket, events) = store.ticket(&admin(), number).await.unwrap();
    assert_eq!(ticket.status, Status::InProgress);
    assert!(events.iter().any(|e| e.kind.key() == "mail_received"));

    // Resolved, then confirmed by a reply (SAV-6): closed.
    store
        .ticket_step(
            &admin(),
            &policy,
            number,
            vigie_store::TicketStep::Act(vigie_domain::ticket::Action::Resolve),
            &tech,
            NOW + 3000,
        )
        .await
        .unwrap();
    let confirmation = mail(
        "k3",
        "rs@alpha.fr",
        &format!("Re: Ticket n°{number} résolu"),
        "Confirmé",
    );
    let recorded = store
        .record_mail(&policy, &intake(), &confirmation, NOW + 4000)
        .await
        .unwrap();
    assert_eq!(
        recorded.outcome,
        MailOutcome::Threaded {
            ticket: number,
            reply: Reply::Confirms
        }
    );
    assert_eq!(recorded.change.unwrap().ticket.status, Status::Closed);

    // Another client's contact naming that ticket does not reach it ("_" in its address is
    // no wildcard).
    let intruder = mail(
        "k4",
        "paul_roche@beta.fr",
        &format!("Ticket n°{number}"),
        "…",
    );
    let recorded = store
        .record_mail(&policy, &intake(), &intruder, NOW + 5000)
        .await
        .unwrap();
    let MailOutcome::Opened { ticket: other } = recorded.outcome else {
        panic!("{:?}", recorded.outcome)
    };
    assert_ne!(other, number);
    assert_eq!(
        recorded.change.unwrap().ticket.report.client.as_str(),
        "CLI-B"
    );
    let lookalike = mail("k5", "paulxroche@beta.fr", "Bonjour", "…");
    let recorded = store
        .record_mail(&policy, &intake(), &lookalike, NOW + 5000)
        .await
        .unwrap();
    assert!(matches!(
        recorded.outcome,
        MailOutcome::SetAside {
            reason: SetAside::UnknownSender,
            ..
        }
    ));

    // A flood: the sender's third ticket within the hour is set aside (limit 2 here).
    for (index, expected) in [(6, true), (7, false)] {
        let flood = mail(&format!("k{index}"), "paul_roche@beta.fr", "Encore", "…");
        let recorded = store
            .record_mail(&policy, &intake(), &flood, NOW + 6000)
            .await
            .unwrap();
        assert_eq!(
            matches!(recorded.outcome, MailOutcome::Opened { .. }),
            expected,
            "{:?}",
            recorded.outcome
        );
    }
    // What was set aside is listed for the supervision team, and for it only.
    let set_aside = store
        .mails(
            &admin(),
            &MailFilter {
                disposition: Some("set_aside".into()),
                ..MailFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(set_aside.len(), 2);
    assert!(
        store
            .mails(&client_user("CLI-A"), &MailFilter::default())
            .await
            .is_err()
    );
}

async fn the_same_mail_read_twice_by_two_stores_acts_once(store: System, url: String) {
    store
        .import(&admin(), &parse(INVENTORY), NOW)
        .await
        .unwrap();
    let other = if url.starts_with("sqlite") {
        store.clone()
    } else {
        System::open(&url).await.unwrap()
    };
    let policy = Policy::default_policy();
    let message = mail("same", "rs@alpha.fr", "Enregistreur muet", "Plus d'images");
    let mut tasks = Vec::new();
    for index in 0..4 {
        let store = if index % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        let (policy, message) = (policy.clone(), message.clone());
        tasks.push(tokio::spawn(async move {
            store.record_mail(&policy, &intake(), &message, NOW).await
        }));
    }
    let mut new = 0;
    let mut outcomes = Vec::new();
    for task in tasks {
        let recorded = task.await.unwrap().expect("recorded");
        new += usize::from(recorded.new);
        outcomes.push(recorded.outcome);
    }
    assert_eq!(new, 1, "{outcomes:?}");
    assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "{outcomes:?}");
    let opened = store
        .tickets(&admin(), &vigie_store::TicketFilter::default())
        .await
        .unwrap();
    assert_eq!(opened.len(), 1);
    let counts = store.notification_counts().await.unwrap();
    assert_eq!(counts.get("pending"), Some(&1), "{counts:?}");
    other.close().await;
}

/// The mailbox's triage (issue 25, item 8): a message set aside joins the ticket a person
/// names, as a reply would (the ticket waiting for the client resumes), or is discarded; each
/// once, by the staff only, and the list of what still waits shows neither.
async fn a_message_set_aside_is_attached_to_a_ticket_or_discarded_once(
    store: System,
    _url: String,
) {
    store
        .import(&admin(), &parse(INVENTORY), NOW)
        .await
        .unwrap();
    let policy = Policy::default_policy();
    let opened = store
        .record_mail(
            &policy,
            &intake(),
            &mail("k1", "rs@alpha.fr", "Caméra noire", "Depuis ce matin"),
            NOW,
        )
        .await
        .unwrap();
    let MailOutcome::Opened { ticket: number } = opened.outcome else {
        panic!("{:?}", opened.outcome)
    };
    let staff = vigie_domain::Reference::parse("ST-TECH-01").unwrap();
    let mut set_aside = Vec::new();
    for (key, text) in [
        ("k2", "Elle remarche après redémarrage"),
        ("k3", "Nos caméras en promotion"),
    ] {
        let mut message = mail(key, "autre@ailleurs.example", "Re: caméra", text);
        if key == "k2" {
            message.attachments = vec![IncomingAttachment {
                name: "photo.jpg".into(),
                content_type: "image/jpeg".into(),
                size: 3,
                content: Some(vec![0xff, 0xd8, 0xff]),
            }];
        }
        let recorded = store
            .record_mail(&policy, &intake(), &message, NOW + 1000)
            .await
            .unwrap();
        assert!(
            matches!(recorded.outcome, MailOutcome::SetAside { .. }),
            "{:?}",
            recorded.outcome
        );
        set_aside.push(recorded.id);
    }
    let waiting = MailFilter {
        waiting: true,
        ..MailFilter::default()
    };
    // Each message listed with its own attachments only.
    let listed = store.mails(&admin(), &waiting).await.unwrap();
    let attached: Vec<(i64, Vec<&str>)> = listed
        .iter()
        .map(|m| {
            (
                m.id,
                m.attachments.iter().map(|a| a.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        attached,
        [(set_aside[1], vec![]), (set_aside[0], vec!["photo.jpg"])]
    );

    // The ticket waits for the client (CM-4)…
    for action in [
        vigie_domain::ticket::Action::TakeCharge,
        vigie_domain::ticket::Action::WaitForClient,
    ] {
        store
            .ticket_step(
                &admin(),
                &policy,
                number,
                vigie_store::TicketStep::Act(action),
                &staff,
                NOW + 1500,
            )
            .await
            .unwrap();
    }
    // …attached, the message is its reply: in the ticket's history with its text, the
    // ticket resumed, the message recorded as threaded into it.
    let change = store
        .attach_mail(&admin(), &policy, set_aside[0], number, NOW + 2000)
        .await
        .unwrap();
    assert_eq!(change.ticket.number, number);
    assert_eq!(change.ticket.status, Status::InProgress);
    assert!(
        change.events.iter().any(|e| matches!(&e.kind,
            vigie_domain::ticket::desk::EventKind::MailReceived { text, .. } if text.contains("remarche"))),
        "{:?}",
        change.events
    );
    let again = store
        .attach_mail(&admin(), &policy, set_aside[0], number, NOW + 3000)
        .await;
    assert!(
        matches!(again, Err(vigie_store::StoreError::Invalid(_))),
        "{again:?}"
    );

    // Discarded: kept with who and when, no longer waiting, and then neither attached nor
    // discarded again.
    let client = store
        .discard_mail(&client_user("CLI-A"), set_aside[1], &staff, NOW)
        .await;
    assert!(
        matches!(
            client,
            Err(vigie_store::StoreError::NotFound | vigie_store::StoreError::Forbidden(_))
        ),
        "{client:?}"
    );
    store
        .discard_mail(&admin(), set_aside[1], &staff, NOW + 4000)
        .await
        .unwrap();
    let all = store.mails(&admin(), &MailFilter::default()).await.unwrap();
    let discarded = all.iter().find(|m| m.id == set_aside[1]).unwrap();
    assert_eq!(
        discarded.discarded,
        Some(vigie_store::mail::Discarded {
            at: NOW + 4000,
            by: "ST-TECH-01".into()
        })
    );
    let threaded = all.iter().find(|m| m.id == set_aside[0]).unwrap();
    assert!(
        matches!(threaded.outcome, MailOutcome::Threaded { ticket, .. } if ticket == number),
        "{:?}",
        threaded.outcome
    );
    assert!(store.mails(&admin(), &waiting).await.unwrap().is_empty());
    for refused in [
        store
            .discard_mail(&admin(), set_aside[1], &staff, NOW + 5000)
            .await,
        store
            .attach_mail(&admin(), &policy, set_aside[1], number, NOW + 5000)
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(vigie_store::StoreError::Invalid(_))),
            "{refused:?}"
        );
    }
    let unknown = store.discard_mail(&admin(), 999_999, &staff, NOW).await;
    assert!(
        matches!(unknown, Err(vigie_store::StoreError::NotFound)),
        "{unknown:?}"
    );
}
