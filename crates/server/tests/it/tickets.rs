//! The service desk over HTTP (DEC-4, CM-2, CM-4, INC-3, SAV-1, SAV-3, SAV-4, SAV-6, X-1, X-2):
//! a client opens a ticket through the portal and it is qualified and timed at once; doubt
//! gives P1; a deadline that passes is breached by the SLA worker at its instant; staff take
//! charge, re-qualify with a reason, resolve; the client confirms; a client sees and touches
//! nothing of another client's.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_store::UserKind;

use crate::{NOW, TestApp};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

async fn with_inventory() -> TestApp {
    let app = TestApp::spawn().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    let inventory = InventoryFile::parse(&text).unwrap().inventory;
    app.store
        .import(&Actor::console("test"), &inventory, NOW)
        .await
        .unwrap();
    app
}

/// The inventory of the notification scenarios, with an SMTP server (aiosmtpd) receiving
/// what the desk sends.
async fn with_smtp() -> (crate::notifications::Smtp, TestApp) {
    use crate::notifications::{Smtp, configure, free_port};
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let app = TestApp::spawn_with(|config| configure(config, smtp_port, None)).await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    app.store
        .import(
            &Actor::console("test"),
            &InventoryFile::parse(&text).unwrap().inventory,
            NOW,
        )
        .await
        .unwrap();
    (smtp, app)
}

fn events_of<'a>(body: &'a Value, event: &str) -> Vec<&'a Value> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == event)
        .collect()
}

fn due_of(body: &Value, timer: &str) -> i64 {
    events_of(body, "sla_due")
        .iter()
        .find(|e| e["timer"] == timer)
        .unwrap_or_else(|| panic!("pas d'échéance {timer} : {body}"))["due"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_portal_report_is_qualified_timed_handled_and_confirmed_by_its_client() {
    let app = with_inventory().await;
    let client = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;

    // SAV-1, CM-2: the guided form opens a ticket at once, qualified from the stated
    // criticality and the impact (SAV-3: Standard, one equipment → P2).
    let opened = client
        .post(
            "/api/v1/tickets",
            &json!({
                "site": "ENTREPOT", "equipment": "ENT-CAM-QUAI",
                "symptom": "La caméra du quai ne s'affiche plus dans le VMS",
                "impact": "one_equipment", "stated_criticality": "standard"
            }),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let ticket = &opened.body["ticket"];
    let number = ticket["number"].as_u64().unwrap();
    assert_eq!(ticket["client"], "CLI-LOGI");
    assert_eq!(ticket["source"], "portal");
    assert_eq!(ticket["priority"], "p2");
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["received_at"], NOW);
    // NOW is Monday 23 November 2026, 11:00 in Paris: 30 business minutes to acknowledge
    // (SAV-2), 4 business hours to take charge (INC-2, CM-3), measured from receipt (CM-4).
    assert_eq!(due_of(&opened.body, "acknowledgement"), NOW + 30 * MINUTE);
    assert_eq!(due_of(&opened.body, "take_charge"), NOW + 4 * HOUR);
    assert_eq!(events_of(&opened.body, "opened")[0]["by"], "logistique");

    // SAV-4: neither criticality nor impact stated: the doubt gives P1.
    let doubt = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "ENTREPOT", "symptom": "Quelque chose ne va pas"}),
        )
        .await;
    assert_eq!(doubt.status, StatusCode::CREATED, "{}", doubt.text);
    assert_eq!(doubt.body["ticket"]["priority"], "p1");

    // another client's site is "not found"; a client may not take charge.
    let elsewhere = client
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-BANQUE", "site": "AGENCE", "symptom": "x"}),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{}",
        elsewhere.text
    );
    let refused = client
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    // Staff open one for the bank, by phone.
    let call = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-BANQUE", "site": "AGENCE", "source": "phone",
                    "symptom": "Appel : l'enregistreur ne répond plus", "impact": "partial_loss",
                    "reporter": "Hélène Marchand, 06 11 11 11 11"}),
        )
        .await;
    assert_eq!(call.status, StatusCode::CREATED, "{}", call.text);
    let bank_ticket = call.body["ticket"]["number"].as_u64().unwrap();
    assert_eq!(
        client
            .get(&format!("/api/v1/tickets/{bank_ticket}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let mine = client.get("/api/v1/tickets").await;
    let numbers: Vec<u64> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert!(!numbers.contains(&bank_ticket), "{}", mine.text);
    assert_eq!(numbers.len(), 2, "{}", mine.text);
    // The queue is ordered by urgency: all three must be acknowledged by 10:30, so the P1
    // comes first, then the P2s, older first; paged with `after`.
    let queue = staff.get("/api/v1/tickets?open=true&limit=2").await;
    let order: Vec<u64> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    let doubt_number = doubt.body["ticket"]["number"].as_u64().unwrap();
    assert_eq!(order, vec![doubt_number, number], "{}", queue.text);
    let next = staff
        .get(&format!(
            "/api/v1/tickets?open=true&limit=2&after={}",
            queue.body["next_after"]
        ))
        .await;
    assert_eq!(
        next.body["items"][0]["number"], bank_ticket,
        "{}",
        next.text
    );
    assert_eq!(
        next.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        next.text
    );

    // INC-3: 31 minutes later nobody acknowledged: the SLA worker breaches it at its deadline.
    app.clock.advance_ms(31 * MINUTE);
    let mut breached = Value::Null;
    for _ in 0..100 {
        let reply = staff.get(&format!("/api/v1/tickets/{number}")).await;
        if !events_of(&reply.body, "sla_breached").is_empty() {
            breached = reply.body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let breach = events_of(&breached, "sla_breached");
    assert_eq!(breach.len(), 1, "{breached}");
    assert_eq!(breach[0]["timer"], "acknowledgement");
    assert_eq!(breach[0]["at"], NOW + 30 * MINUTE);

    // Take charge within the 4 hours: met, assigned to the one who took it.
    let taken = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    assert_eq!(taken.body["ticket"]["status"], "in_progress");
    assert_eq!(taken.body["ticket"]["assignee"], "tech");
    assert!(
        taken.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "sla_met" && e["timer"] == "take_charge"),
        "{}",
        taken.text
    );

    // INC-4: the client's technical contact hears at once, by email and SMS, that its P2 is
    // taken in charge; the points that follow are sent the same way and restart the cadence.
    let queued: Vec<&str> = taken.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "message_queued")
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        queued,
        [
            format!("ticket/{number}/take_charge_notice/LOGI-RS/email"),
            format!("ticket/{number}/take_charge_notice/LOGI-RS/sms")
        ],
        "{}",
        taken.text
    );
    let point = staff
        .post(
            &format!("/api/v1/tickets/{number}/updates"),
            &json!({"text": "Caméra remplacée, réglages en cours."}),
        )
        .await;
    assert_eq!(point.status, StatusCode::OK, "{}", point.text);
    let events = point.body["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "sla_met" && e["timer"] == "client_update"),
        "{}",
        point.text
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "message_queued")
            .count(),
        2,
        "{}",
        point.text
    );
    let empty = staff
        .post(
            &format!("/api/v1/tickets/{number}/updates"),
            &json!({"text": " "}),
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.text
    );

    // SAV-3: re-evaluated after a first diagnosis, with its reason; without one it is refused.
    let no_reason = staff
        .post(
            &format!("/api/v1/tickets/{number}/requalify"),
            &json!({"priority": "p1", "reason": " "}),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let requalified = staff
        .post(
            &format!("/api/v1/tickets/{number}/requalify"),
            &json!({"priority": "p1", "reason": "le quai n'est plus filmé du tout"}),
        )
        .await;
    assert_eq!(requalified.status, StatusCode::OK, "{}", requalified.text);
    assert_eq!(requalified.body["ticket"]["priority"], "p1");
    let event = &requalified.body["events"][0];
    assert_eq!(event["event"], "requalified");
    assert_eq!(event["from"], "p2");
    assert_eq!(event["reason"], "le quai n'est plus filmé du tout");

    // SAV-6: the client confirms only a resolved ticket.
    let early = client
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "client_confirms"}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "resolve"}),
        )
        .await;
    assert_eq!(
        resolved.body["ticket"]["status"], "resolved",
        "{}",
        resolved.text
    );
    let confirmed = client
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "client_confirms"}),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(confirmed.body["ticket"]["status"], "closed");
    assert_eq!(confirmed.body["ticket"]["closed_at"], NOW + 31 * MINUTE);
    // Closed: nothing more, and out of the open queue.
    let after = staff
        .post(
            &format!("/api/v1/tickets/{number}/updates"),
            &json!({"text": "Un dernier mot"}),
        )
        .await;
    assert_eq!(after.status, StatusCode::CONFLICT, "{}", after.text);
    let open = staff.get("/api/v1/tickets?open=true").await;
    assert!(
        open.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["number"] != number),
        "{}",
        open.text
    );
    app.finish().await;
}

#[tokio::test]
async fn a_malformed_or_hostile_ticket_request_is_refused_clearly_and_stores_nothing() {
    let app = with_inventory().await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    for (body, status) in [
        (
            json!({"client": "CLI-LOGI", "symptom": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"client": "CLI-LOGI", "symptom": "x".repeat(4001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"symptom": "sans client"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"client": "CLI-INCONNU", "symptom": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"client": "CLI-LOGI", "site": "AGENCE", "symptom": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"client": "CLI-LOGI", "site": "ENTREPOT", "equipment": "AG-NVR", "symptom": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"client": "CLI-LOGI", "symptom": "x", "priority": "p1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let reply = staff.post("/api/v1/tickets", &body).await;
        assert_eq!(reply.status, status, "{body} → {}", reply.text);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            reply.text
        );
    }
    let list = staff.get("/api/v1/tickets").await;
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
    assert_eq!(
        staff.get("/api/v1/tickets/abc").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        staff.get("/api/v1/tickets/99").await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

#[tokio::test]
async fn the_client_gets_its_acknowledgement_and_the_operations_manager_every_breach() {
    use crate::notifications::text_part;
    let (smtp, app) = with_smtp().await;
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let manager = admin
        .put(
            "/api/v1/staff/ST-EXPLOIT",
            &json!({"ref": "ST-EXPLOIT", "name": "Louise Garnier", "roles": ["operations_manager"],
                    "email": "louise.garnier@integrateur.fr"}),
        )
        .await;
    assert!(manager.status.is_success(), "{}", manager.text);
    // The client's front desk, a contact of its own: a client's report may name it as the
    // address to answer (issue 23, item 8: only a contact's address is taken).
    let desk = admin
        .put(
            "/api/v1/contacts/LOGI-ACCUEIL",
            &json!({"ref": "LOGI-ACCUEIL", "client": "CLI-LOGI", "name": "Accueil",
                    "roles": [], "email": "accueil@logistique-exemple.fr"}),
        )
        .await;
    assert!(desk.status.is_success(), "{}", desk.text);
    let client = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;

    // SAV-2: Monday 11:00, business hours: the acknowledgement goes at once to the site's
    // security manager (no address given, no technical contact), with the number and the
    // take-charge deadline; once sent, the ticket is acknowledged by Vigie.
    let opened = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "ENTREPOT", "symptom": "Plus d'image sur le mur d'écrans",
                    "stated_criticality": "standard"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    let mails = wait_for(|| {
        let mails = smtp.received();
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0]["rcpt_tos"][0],
        "sophie.bernard@logistique-exemple.fr"
    );
    let subject = mails[0]["subject"].as_str().unwrap();
    assert!(subject.contains(&format!("ticket n°{number}")), "{subject}");
    let body = text_part(&mails[0]);
    assert!(body.contains("Priorité : P2 (standard)"), "{body}");
    assert!(
        body.contains("Prise en charge au plus tard le 23/11/2026 15:00"),
        "{body}"
    );
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let acknowledged = wait_for_body(&staff, &format!("/api/v1/tickets/{number}"), |t| {
        t["status"] == "acknowledged"
    })
    .await;
    let met = events_of(&acknowledged, "sla_met");
    assert_eq!(met[0]["timer"], "acknowledgement", "{acknowledged}");
    assert_eq!(met[0]["by"], Value::Null);

    // INC-3: 15:00 passes without anyone taking charge: the operations manager is told.
    app.clock.advance_ms(4 * HOUR + MINUTE);
    let mails = wait_for(|| {
        let mails = smtp.received();
        (mails.len() >= 2).then_some(mails)
    })
    .await;
    assert_eq!(mails[1]["rcpt_tos"][0], "louise.garnier@integrateur.fr");
    let subject = mails[1]["subject"].as_str().unwrap();
    assert!(
        subject.contains(&format!(
            "Délai dépassé : prise en charge du ticket n°{number}"
        )),
        "{subject}"
    );
    assert!(
        text_part(&mails[1]).contains("Échéance : 23/11/2026 15:00"),
        "{}",
        text_part(&mails[1])
    );

    // SAV-6, SAV-7: resolved, confirmed by the client: the survey goes at once, by a signed
    // link that needs no login.
    for action in ["take_charge", "resolve"] {
        let step = staff
            .post(
                &format!("/api/v1/tickets/{number}/actions"),
                &json!({"action": action}),
            )
            .await;
        assert_eq!(step.status, StatusCode::OK, "{}", step.text);
    }
    // INC-5, SAV-6: the resolution notice asks the client to confirm by a signed link; only
    // the button confirms (a scanner following the link changes nothing).
    let resolution_mail = wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("résolu : merci de confirmer"))
        })
    })
    .await;
    assert_eq!(
        resolution_mail["rcpt_tos"][0],
        "sophie.bernard@logistique-exemple.fr"
    );
    let body = text_part(&resolution_mail);
    let start = body.find("http://").expect("un lien de confirmation");
    let confirm = body[start..].split_whitespace().next().unwrap().to_owned();
    assert!(confirm.contains("/confirm/"), "{confirm}");
    let confirm = format!(
        "{}/confirm/{}",
        app.base,
        confirm.rsplit('/').next().unwrap()
    );
    let http = reqwest::Client::new();
    let page = http.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Je confirme"));
    let still = staff.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(still.body["status"], "resolved", "{}", still.text);
    let confirmed = http.post(&confirm).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let closed = staff.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(closed.body["status"], "closed", "{}", closed.text);
    assert_eq!(
        http.post(&confirm).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let survey_mail = wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("Votre avis"))
        })
    })
    .await;
    assert_eq!(
        survey_mail["rcpt_tos"][0],
        "sophie.bernard@logistique-exemple.fr"
    );
    let body = text_part(&survey_mail);
    let start = body.find("http://").expect("un lien d'enquête");
    let link = body[start..].split_whitespace().next().unwrap().to_owned();
    assert!(link.contains("/survey/"), "{link}");
    // The server's public address in the email; the test reaches it where it listens.
    let link = format!("{}/survey/{}", app.base, link.rsplit('/').next().unwrap());
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Réactivité de notre équipe"), "{html}");
    assert!(html.contains(&format!("Ticket n°{number}")), "{html}");
    // A forged link is unknown; a mark out of range is refused with the form again.
    let forged = link.replace("/survey/", "/survey/9");
    assert_eq!(
        http.get(&forged).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let wrong = http
        .post(&link)
        .form(&[
            ("responsiveness", "7"),
            ("quality", "4"),
            ("communication", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answered = http
        .post(&link)
        .form(&[
            ("responsiveness", "4"),
            ("quality", "5"),
            ("communication", "3"),
            (
                "comment",
                "Intervention rapide, mais prévenez-nous avant de venir.",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    let again = http
        .post(&link)
        .form(&[
            ("responsiveness", "1"),
            ("quality", "1"),
            ("communication", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let ticket = staff.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(
        ticket.body["survey"],
        json!({"responsiveness": 4, "quality": 5, "communication": 3,
               "comment": "Intervention rapide, mais prévenez-nous avant de venir."}),
        "{}",
        ticket.text
    );

    // SAV-2: a question on Saturday morning is acknowledged at Monday's opening (08:00).
    app.clock.advance_ms(5 * 24 * HOUR - 4 * HOUR - MINUTE);
    // The week-old session has expired: the client logs in again.
    let client = app
        .login("logistique", crate::PASSWORD)
        .await
        .expect("login");
    let question = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "ENTREPOT", "symptom": "Comment exporter une séquence ?",
                    "impact": "question", "reply_to": "accueil@logistique-exemple.fr"}),
        )
        .await;
    assert_eq!(question.status, StatusCode::CREATED, "{}", question.text);
    assert_eq!(question.body["ticket"]["priority"], "p3");
    let queued = events_of(&question.body, "message_queued");
    assert_eq!(queued.len(), 1, "{}", question.text);
    assert_eq!(queued[0]["recipient"], "accueil@logistique-exemple.fr");
    let monday_opening = "2026-11-30T07:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    assert_eq!(queued[0]["due"], monday_opening);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        smtp.received()
            .iter()
            .all(|m| m["rcpt_tos"][0] != "accueil@logistique-exemple.fr"),
        "envoyé avant l'ouverture"
    );
    drop(smtp);
    app.finish().await;
}

pub(crate) async fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(value) = probe() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("attendu en 30 s");
}

async fn wait_for_body(
    session: &crate::Session<'_>,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let reply = session.get(path).await;
        if done(&reply.body) {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("attendu en 30 s : {path}");
}

#[tokio::test]
async fn calls_diagnosis_intervention_and_escalation_are_recorded_on_the_ticket() {
    let app = with_inventory().await;
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let referent = admin
        .put(
            "/api/v1/staff/ST-REFERENT",
            &json!({"ref": "ST-REFERENT", "name": "Karim Haddad", "roles": ["referent_engineer"],
                    "email": "karim.haddad@integrateur.fr"}),
        )
        .await;
    assert!(referent.status.is_success(), "{}", referent.text);
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let opened = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-LOGI", "site": "ENTREPOT", "source": "phone",
                    "symptom": "Le VMS est lent", "impact": "no_security_impact"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    let notes = format!("/api/v1/tickets/{number}/notes");
    // A call, then the remote diagnosis (CM-5).
    for note in [
        json!({"note": "call", "direction": "incoming", "with": "Sophie Bernard",
               "summary": "Le mur d'images se fige plusieurs fois par heure", "minutes": 6}),
        json!({"note": "diagnosis", "checks": ["VPN joignable", "journaux du VMS", "redémarrage du service"],
               "result": "disque système du serveur VMS en fin de vie", "on_site_needed": true,
               "parts": ["SSD 480 Go"]}),
    ] {
        let reply = staff.post(&notes, &note).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["events"][0]["event"], "noted");
    }
    // CM-6: the visit, scheduled: planning met (P3), given to the technician.
    let from = NOW + 48 * HOUR;
    let planned = staff
        .post(
            &notes,
            &json!({"note": "intervention", "technician": "ST-TECH-A", "from": from,
                    "to": from + 2 * HOUR, "parts": ["SSD 480 Go"]}),
        )
        .await;
    assert_eq!(planned.status, StatusCode::OK, "{}", planned.text);
    assert_eq!(planned.body["ticket"]["assignee"], "ST-TECH-A");
    assert!(
        planned.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "sla_met" && e["timer"] == "intervention_planning"),
        "{}",
        planned.text
    );
    // Refused: a window that ends before it starts, an escalation to someone who is not the
    // referent engineer, an unknown field, a client.
    for (note, status) in [
        (
            json!({"note": "intervention", "technician": "ST-TECH-A", "from": from, "to": from}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"note": "escalation", "to": "ST-TECH-B", "reason": "plusieurs équipements"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"note": "call", "direction": "incoming", "with": "x", "summary": "y", "urgent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let reply = staff.post(&notes, &note).await;
        assert_eq!(reply.status, status, "{note} → {}", reply.text);
    }
    let client = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    // Issue 25: a client writes its own (incoming) message on its ticket, never one that
    // would pass for the integrator's.
    let own = client
        .post(
            &notes,
            &json!({"note": "message", "direction": "incoming", "with": "x", "text": "y"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let refused = client
        .post(
            &notes,
            &json!({"note": "message", "direction": "outgoing", "with": "x", "text": "y"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let call = client
        .post(
            &notes,
            &json!({"note": "call", "direction": "incoming", "with": "x", "summary": "y"}),
        )
        .await;
    assert_eq!(call.status, StatusCode::FORBIDDEN, "{}", call.text);
    // CM-6: a complex failure goes to the referent engineer.
    let escalated = staff
        .post(
            &notes,
            &json!({"note": "escalation", "to": "ST-REFERENT",
                    "reason": "le serveur de secours présente le même défaut"}),
        )
        .await;
    assert_eq!(escalated.status, StatusCode::OK, "{}", escalated.text);
    assert_eq!(escalated.body["ticket"]["assignee"], "ST-REFERENT");
    let detail = staff.get(&format!("/api/v1/tickets/{number}")).await;
    let noted: Vec<&str> = events_of(&detail.body, "noted")
        .iter()
        .map(|e| e["note"].as_str().unwrap())
        .collect();
    // The client's own message is on the ticket among the desk's notes.
    assert_eq!(
        noted,
        ["call", "diagnosis", "intervention", "message", "escalation"]
    );
    app.finish().await;
}

#[tokio::test]
async fn inc_5_an_incident_resolved_with_data_lost_informs_the_client_by_its_deadline() {
    use crate::notifications::text_part;
    let (smtp, app) = with_smtp().await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let opened = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-BANQUE", "site": "AGENCE", "source": "phone", "kind": "incident",
                    "symptom": "L'enregistreur de l'agence ne grave plus", "impact": "partial_loss",
                    "reply_to": "paul.girard@banque-exemple.fr"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    let taken = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    // An incident is not resolved without saying what happened to the security data.
    let bare = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "resolve"}),
        )
        .await;
    assert_eq!(
        bare.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bare.text
    );
    let missing = staff
        .post(
            &format!("/api/v1/tickets/{number}/resolution"),
            &json!({"root_cause": "Disque plein", "actions": "Disque remplacé",
                    "intervention_minutes": 45,
                    "data_impact": {"footage_lost": true}}),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.text
    );
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/resolution"),
            &json!({"root_cause": "Disque de l'enregistreur plein", "actions": "Disque remplacé",
                    "intervention_minutes": 45,
                    "data_impact": {"footage_lost": true,
                                    "description": "Caméras du hall, du 22/11 22:00 au 23/11 08:00"}}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert_eq!(resolved.body["ticket"]["status"], "resolved");
    let due = resolved.body["ticket"]["gdpr"]["due"].as_i64().unwrap();
    assert_eq!(due, NOW + 24 * HOUR);
    // The resolution notice states the impact; the GDPR information goes apart to the
    // security manager and the CIO as well.
    let notice = wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("résolu : merci de confirmer"))
        })
    })
    .await;
    let body = text_part(&notice);
    assert!(
        body.contains("Cause : Disque de l'enregistreur plein"),
        "{body}"
    );
    assert!(
        body.contains("enregistrements vidéo perdus — Caméras du hall"),
        "{body}"
    );
    // No mailbox read: no offer to confirm by replying.
    assert!(
        !body.contains("CONFIRMÉ") && !body.contains("{reponse}"),
        "{body}"
    );
    let informed: Vec<String> = wait_for(|| {
        let to: Vec<String> = smtp
            .received()
            .into_iter()
            .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("(RGPD)")))
            .map(|m| m["rcpt_tos"][0].as_str().unwrap().to_owned())
            .collect();
        (to.len() >= 3).then_some(to)
    })
    .await;
    for address in [
        "paul.girard@banque-exemple.fr",
        "helene.marchand@banque-exemple.fr",
        "dsi@banque-exemple.fr",
    ] {
        assert!(informed.iter().any(|a| a == address), "{informed:?}");
    }
    // Sent: the duty is met, recorded on the ticket; its deadline passes without alert.
    let done = wait_for_body(&staff, &format!("/api/v1/tickets/{number}"), |t| {
        t["gdpr"]["informed_at"].is_i64()
    })
    .await;
    assert_eq!(events_of(&done, "gdpr_informed").len(), 1, "{done}");
    app.clock.advance_ms(25 * HOUR);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The session has expired meanwhile (12 hours): log in again.
    let staff = app.login("tech", crate::PASSWORD).await.unwrap();
    let later = staff.get(&format!("/api/v1/tickets/{number}")).await;
    assert!(
        events_of(&later.body, "gdpr_overdue").is_empty(),
        "{}",
        later.text
    );
    app.finish().await;
}

#[tokio::test]
async fn inc_6_a_p1s_post_mortem_is_written_shared_with_its_client_and_anonymisable() {
    use crate::notifications::text_part;
    let (smtp, app) = with_smtp().await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let client = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    let opened = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-BANQUE", "site": "AGENCE", "source": "phone", "kind": "incident",
                    "symptom": "Hyperviseur de sécurité de l'agence arrêté",
                    "stated_criticality": "critical",
                    "reporter": "Hélène Marchand, helene.marchand@banque-exemple.fr"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    assert_eq!(opened.body["ticket"]["priority"], "p1");
    let path = format!("/api/v1/tickets/{number}/post-mortem");
    // No post-mortem before the resolution.
    assert_eq!(staff.get(&path).await.status, StatusCode::NOT_FOUND);
    staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/resolution"),
            &json!({"root_cause": "Alimentation de l'hyperviseur défaillante",
                    "actions": "Alimentation remplacée", "intervention_minutes": 120,
                    "data_impact": {}}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    // Resolved Monday 23 November at 11:00: due at the close of the fifth business day after,
    // Monday 30 November at 18:00 in Paris.
    let draft = staff.get(&path).await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text);
    assert_eq!(draft.body["due"], 1_796_058_000_000_i64, "{}", draft.text);
    let whats: Vec<&str> = draft.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert!(whats.contains(&"Étape : prise en charge"), "{whats:?}");
    // The client sees it only once shared.
    assert_eq!(client.get(&path).await.status, StatusCode::NOT_FOUND);
    let incomplete = staff.post(&format!("{path}/publish"), &json!({})).await;
    assert_eq!(
        incomplete.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        incomplete.text
    );
    let written = staff
        .put(
            &path,
            &json!({"analysis": "L'alimentation de l'hyperviseur de Banque Exemple (agence) n'était pas supervisée ; Hélène Marchand l'a signalé.",
                    "measures": [
                        {"kind": "corrective", "action": "Remplacer l'alimentation", "owner": "Julien Moreau", "due": NOW + 3_600_000},
                        {"kind": "preventive", "action": "Superviser les alimentations", "owner": "Équipe supervision", "due": NOW + 7 * 86_400_000}]}),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    let shared = staff.post(&format!("{path}/publish"), &json!({})).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text);
    // Shared by email with the client's incident contacts, with the timeline and the plan.
    let mail = wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("Post-mortem de l'incident"))
        })
    })
    .await;
    assert_eq!(mail["rcpt_tos"][0], "paul.girard@banque-exemple.fr");
    let body = text_part(&mail);
    assert!(body.contains("Chronologie :"), "{body}");
    assert!(
        body.contains("Superviser les alimentations — responsable : Équipe supervision"),
        "{body}"
    );
    let seen = client.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    // For internal lessons: the client's names, people and addresses hidden.
    let anonymous = staff.get(&format!("{path}?anonymised=true")).await;
    let analysis = anonymous.body["analysis"].as_str().unwrap();
    assert!(!analysis.contains("Banque Exemple"), "{analysis}");
    assert!(!analysis.contains("Hélène"), "{analysis}");
    assert!(analysis.contains("le client"), "{analysis}");
    assert!(
        !anonymous.text.contains("helene.marchand@"),
        "{}",
        anonymous.text
    );
    // Shared once: no rewriting after.
    let late = staff
        .put(&path, &json!({"analysis": "x", "measures": []}))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    app.finish().await;
}

#[tokio::test]
async fn cm_8_a_corrective_intervention_produces_its_report_filed_and_sent_to_the_client() {
    let (smtp, app) = with_smtp().await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let opened = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-LOGI", "site": "ENTREPOT", "equipment": "ENT-CAM-QUAI",
                    "source": "phone", "kind": "maintenance", "impact": "one_equipment",
                    "symptom": "Image <script>alert(1)</script> figée sur la caméra du quai"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    let notes = [
        json!({"note": "diagnosis", "checks": ["Ping de la caméra", "Journal du NVR"],
               "result": "Caméra joignable, capteur défaillant", "on_site_needed": true,
               "parts": ["Caméra dôme 4 MP"]}),
        json!({"note": "intervention", "technician": "ST-TECH-A",
               "from": NOW + 2 * HOUR, "to": NOW + 3 * HOUR, "parts": ["Caméra dôme 4 MP"]}),
    ];
    for note in notes {
        let noted = staff
            .post(&format!("/api/v1/tickets/{number}/notes"), &note)
            .await;
        assert_eq!(noted.status, StatusCode::OK, "{}", noted.text);
    }
    staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/resolution"),
            &json!({"root_cause": "Capteur d'image défaillant", "actions": "Caméra remplacée et réglée",
                    "intervention_minutes": 50, "data_impact": {},
                    "parts_replaced": ["Caméra dôme 4 MP, n° de série X42"],
                    "recommendations": "Protéger la caméra du quai des projections d'eau"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    // Filed in the site's file…
    let listed = staff
        .get(&format!("/api/v1/documents?ticket={number}"))
        .await;
    let pages: Vec<&Value> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["content_type"] != "application/pdf")
        .collect();
    assert_eq!(pages.len(), 1, "{}", listed.text);
    let document = pages[0];
    assert_eq!(document["kind"], "intervention_report");
    assert_eq!(document["site"], "ENTREPOT");
    let path = format!("/api/v1/documents/{}", document["id"]);
    let page = staff.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "Rapport d&#39;intervention — ticket n°",
        "Vérifié : Ping de la caméra",
        "Sur site : Kevin Lambert",
        "Caméra dôme 4 MP, n° de série X42",
        "Protéger la caméra du quai des projections d&#39;eau",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ] {
        assert!(page.text.contains(expected), "{expected} : {}", page.text);
    }
    assert!(!page.text.contains("<script>"), "{}", page.text);
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    // …readable by its client, not by another…
    let own = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    assert_eq!(own.get(&path).await.status, StatusCode::OK);
    let other = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
    let none = other.get("/api/v1/documents").await;
    assert_eq!(none.body["items"], json!([]), "{}", none.text);
    // …and sent to the client by email.
    let mail = wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("Rapport d'intervention"))
        })
    })
    .await;
    assert_eq!(mail["rcpt_tos"][0], "sophie.bernard@logistique-exemple.fr");
    // Issue 9: the same report as a PDF, made once the ticket is resolved, beside the page.
    let mut pdf = None;
    for _ in 0..300 {
        let listed = staff
            .get(&format!("/api/v1/documents?ticket={number}"))
            .await;
        pdf = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["content_type"] == "application/pdf")
            .map(|d| d["id"].clone());
        if pdf.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pdf = pdf.expect("le PDF du rapport d'intervention en 30 s");
    let bytes = staff.get_bytes(&format!("/api/v1/documents/{pdf}")).await;
    let text = crate::reports::pdf_text(&bytes);
    for expected in [
        "Rapport d'intervention — ticket n°",
        "Vérifié : Ping de la caméra",
        "Sur site : Kevin Lambert",
        "Caméra dôme 4 MP, n° de série X42",
        "<script>alert(1)</script>",
    ] {
        assert!(
            crate::reports::says(&text, expected),
            "{expected} :\n{text}"
        );
    }
    assert_eq!(
        other.get(&format!("/api/v1/documents/{pdf}")).await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

/// INC-4 and SAV-6 (issue 22, joints 5 and 7): an update is a message that reaches the client,
/// never a bare step; a ticket is not closed behind the client's back. A bare `update_client`
/// is refused; `/updates` emails the text to the client and records it on the ticket, where
/// the client reads it. Closing without the client's word is refused from `new` and once
/// resolved; with a reason it is done, recorded and shown in the portal.
#[tokio::test]
async fn inc_4_sav_6_updates_reach_the_client_and_no_ticket_is_closed_behind_its_back() {
    use crate::notifications::text_part;
    let (smtp, app) = with_smtp().await;
    let client = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    let portal = crate::pages::form_login(
        &app,
        "logistique-pages",
        UserKind::Client,
        None,
        Some("CLI-LOGI"),
        &[],
    )
    .await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let opened = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "ENTREPOT", "equipment": "ENT-CAM-QUAI",
                    "symptom": "La caméra du quai ne s'affiche plus",
                    "impact": "one_equipment", "stated_criticality": "standard"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    // SAV-6: a new ticket is not closed without a reason.
    let refused = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "close"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let refused = staff
        .post(&format!("/api/v1/tickets/{number}/close"), &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("SAV-6"), "{}", refused.text);
    let taken = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    // INC-4: the bare step is refused; the update with its text reaches the client.
    let bare = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "update_client"}),
        )
        .await;
    assert_eq!(
        bare.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bare.text
    );
    let text = "Injecteur PoE en cause : remplacement prévu cet après-midi";
    let update = staff
        .post(
            &format!("/api/v1/tickets/{number}/updates"),
            &json!({"text": text}),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK, "{}", update.text);
    let update_mail = wait_for(|| {
        smtp.received()
            .into_iter()
            .find(|m| text_part(m).contains("Injecteur PoE en cause"))
    })
    .await;
    assert_eq!(
        update_mail["rcpt_tos"][0],
        "sophie.bernard@logistique-exemple.fr"
    );
    let page = portal.get(&format!("/portail/tickets/{number}")).await;
    assert!(
        page.text.contains("Injecteur PoE en cause"),
        "{}",
        page.text
    );
    // Resolved, the client silent: closing without a reason is still refused.
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/resolution"),
            &json!({"root_cause": "Injecteur PoE défaillant", "actions": "Injecteur remplacé",
                    "intervention_minutes": 30, "data_impact": {}}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    let refused = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "close"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let reason = "Confirmé par téléphone par Mme Bernard le 23/11 à 16 h";
    let closed = staff
        .post(
            &format!("/api/v1/tickets/{number}/close"),
            &json!({"reason": reason}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.body["ticket"]["status"], "closed");
    assert_eq!(
        events_of(&closed.body, "closed_without_confirmation")[0]["reason"],
        reason
    );
    // The client sees why its ticket was closed.
    let page = portal.get(&format!("/portail/tickets/{number}")).await;
    assert!(page.text.contains(reason), "{}", page.text);
}

/// Issue 23, item 6: no existence oracle, no foreign ticket. A client naming another client's
/// camera (with or without a site) or site gets exactly the answer an unknown one gets, and no
/// ticket is opened.
#[tokio::test]
async fn a_client_cannot_open_a_ticket_on_another_clients_equipment_nor_learn_it_exists() {
    let app = with_inventory().await;
    let client = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let open = |body: serde_json::Value| {
        let client = &client;
        async move { client.post("/api/v1/tickets", &body).await }
    };
    // The bank's vault camera, and a camera that exists nowhere.
    let foreign = open(json!({"equipment": "AG-CAM-COFFRE", "symptom": "x"})).await;
    let missing = open(json!({"equipment": "NULLE-PART", "symptom": "x"})).await;
    assert_eq!(
        foreign.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        foreign.text
    );
    assert_eq!(foreign.status, missing.status);
    assert_eq!(
        foreign.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("AG-CAM-COFFRE", "?"),
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("NULLE-PART", "?"),
    );
    // With one of its own sites named, the same.
    let foreign =
        open(json!({"site": "ENTREPOT", "equipment": "AG-CAM-COFFRE", "symptom": "x"})).await;
    let missing =
        open(json!({"site": "ENTREPOT", "equipment": "NULLE-PART", "symptom": "x"})).await;
    assert_eq!(foreign.status, missing.status, "{}", foreign.text);
    assert_eq!(
        foreign.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("AG-CAM-COFFRE", "?"),
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("NULLE-PART", "?"),
    );
    // Staff naming a client and another client's site: refused as an unknown site.
    let crossed = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-LOGI", "site": "AGENCE", "source": "phone", "symptom": "x"}),
        )
        .await;
    let nowhere = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-LOGI", "site": "NULLE-PART", "source": "phone", "symptom": "x"}),
        )
        .await;
    assert_eq!(
        crossed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        crossed.text
    );
    assert_eq!(
        crossed.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("AGENCE", "?"),
        nowhere.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("NULLE-PART", "?"),
    );
    // Nothing was opened.
    let all = staff.get("/api/v1/tickets").await;
    assert_eq!(all.body["items"], json!([]), "{}", all.text);
}

/// Issue 23, item 8: a client cannot make Vigie email an arbitrary address. A reply address
/// that is not one of the client's contacts is refused and nothing is sent; one of its
/// contacts' is taken; staff may give any (a call taken for someone).
#[tokio::test]
async fn a_client_cannot_make_vigie_email_a_stranger() {
    let (smtp, app) = with_smtp().await;
    let client = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    let refused = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "ENTREPOT", "symptom": "x", "stated_criticality": "standard",
                    "reply_to": "victime@exemple.org"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let own = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "ENTREPOT", "symptom": "Plus d'image", "stated_criticality": "standard",
                    "reply_to": "Sophie.Bernard@logistique-exemple.fr"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    let mails = wait_for(|| {
        let mails = smtp.received();
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = smtp.received();
    assert!(
        all.iter()
            .all(|m| m["rcpt_tos"][0] != "victime@exemple.org"),
        "{all:?}"
    );
    assert_eq!(mails.len(), 1, "{mails:?}");
}
