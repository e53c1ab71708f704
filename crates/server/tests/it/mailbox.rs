//! The support mailbox over a real IMAP server (Dovecot) and a real SMTP server (aiosmtpd)
//! (SAV-1, SAV-2, SAV-6, X-2): a client's contact writes, a ticket opens with its attachment
//! and the acknowledgement answers the sender; an auto-reply and a stranger are set aside,
//! kept; every message read is filed away; the client confirms the fix by replying.

#[path = "../../../notify/tests/it/imap_peer.rs"]
mod imap_peer;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_store::UserKind;

use crate::TestApp;
use crate::notifications::{Smtp, configure, free_port, text_part};
use imap_peer::ImapServer;

const SOPHIE: &str = "Sophie Bernard <sophie.bernard@logistique-exemple.fr>";

/// A message as a mail client writes it, with CRLF line ends.
fn message(from: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Support <support@integrateur.fr>\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:55:00 +0100\r\nMessage-ID: <{}@client.example>\r\n\
         MIME-Version: 1.0\r\n{extra_headers}Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        subject.len() * 7 + body.len()
    )
    .into_bytes()
}

fn with_attachment() -> Vec<u8> {
    concat!(
        "From: Sophie Bernard <sophie.bernard@logistique-exemple.fr>\r\n",
        "To: support@integrateur.fr\r\n",
        "Subject: =?UTF-8?Q?[Standard]_Cam=C3=A9ra_du_quai_noire?=\r\n",
        "Message-ID: <quai@logistique-exemple.fr>\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=\"limite\"\r\n",
        "\r\n",
        "--limite\r\n",
        "Content-Type: text/plain; charset=iso-8859-1\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "\r\n",
        "La cam=E9ra du quai 3 est noire depuis 8 h.\r\n",
        "--limite\r\n",
        "Content-Type: application/pdf; name=\"releve.pdf\"\r\n",
        "Content-Disposition: attachment; filename=\"releve.pdf\"\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        "JVBERi0xLjQK\r\n",
        "--limite--\r\n",
    )
    .as_bytes()
    .to_vec()
}

/// A reply from Sophie carrying a video clip of `megabytes` MB as a base64 attachment.
fn with_video(subject: &str, megabytes: usize) -> Vec<u8> {
    let encoded_len = (megabytes * 1_000_000).div_ceil(3) * 4;
    let line = "A".repeat(76);
    let mut body = String::with_capacity(encoded_len + encoded_len / 38);
    let mut written = 0;
    while written < encoded_len {
        let take = (encoded_len - written).min(76);
        body.push_str(&line[..take]);
        body.push_str("\r\n");
        written += take;
    }
    format!(
        "From: {SOPHIE}\r\nTo: support@integrateur.fr\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLa vidéo du quai.\r\n\
         --b\r\nContent-Type: video/mp4; name=\"quai.mp4\"\r\n\
         Content-Disposition: attachment; filename=\"quai.mp4\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{body}--b--\r\n"
    )
    .into_bytes()
}

async fn wait_until(mut done: impl AsyncFnMut() -> bool, what: &str) {
    for _ in 0..400 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("attendu en 40 s : {what}");
}

#[tokio::test]
async fn a_clients_mail_opens_a_ticket_and_its_reply_confirms_the_fix() {
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let imap = ImapServer::start(false);
    let app = TestApp::spawn_with(|config| {
        configure(config, smtp_port, None);
        config.mailbox.host = "127.0.0.1".into();
        config.mailbox.port = imap.port;
        config.mailbox.security = "none".into();
        config.mailbox.username = imap.user.clone();
        config.mailbox.password = vigie_server::config::Password(imap.password.clone());
        config.mailbox.address = "support@integrateur.fr".into();
        config.mailbox.poll_seconds = 5;
    })
    .await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    app.store
        .import(
            &Actor::console("test"),
            &InventoryFile::parse(&text).unwrap().inventory,
            crate::NOW,
        )
        .await
        .unwrap();
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;

    imap.append("INBOX", &with_attachment());
    imap.append(
        "INBOX",
        &message(
            SOPHIE,
            "Réponse automatique : absente",
            "Auto-Submitted: auto-replied\r\n",
            "Je suis absente jusqu'au 30 novembre.",
        ),
    );
    imap.append(
        "INBOX",
        &message(
            "Inconnu <quelquun@ailleurs.example>",
            "Offre de caméras",
            "",
            "Bonjour, nos caméras…",
        ),
    );
    wait_until(
        async || {
            let list = staff.get("/api/v1/mail").await;
            list.body["items"].as_array().is_some_and(|i| i.len() == 3)
        },
        "trois messages lus",
    )
    .await;
    let list = staff.get("/api/v1/mail").await;
    let items = list.body["items"].as_array().unwrap();
    // Newest first: the stranger, the auto-reply, then the contact's report.
    assert_eq!(items[0]["disposition"], "set_aside", "{}", list.text);
    assert_eq!(items[0]["reason"], "unknown_sender");
    assert_eq!(items[1]["reason"], "automatic");
    assert_eq!(items[2]["disposition"], "opened");
    let number = items[2]["ticket"].as_u64().unwrap();
    // A message set aside is not lost: staff make a ticket of it for the client they name,
    // once; a client cannot.
    let stranger = items[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/mail/{stranger}/ticket");
    let made = staff.post(&path, &json!({"client": "CLI-LOGI"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["ticket"]["reply_to"], "quelquun@ailleurs.example");
    assert_eq!(made.body["ticket"]["source"], "email");
    let again = staff.post(&path, &json!({"client": "CLI-LOGI"})).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    // The operators see the mailbox read: what became of the messages, and no failure.
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vigie_mail_received_total{disposition=\"set_aside\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("vigie_mailbox_unreadable 0"), "{metrics}");
    // Every message read is filed away, none left, none lost.
    assert_eq!(imap.count("INBOX"), 0, "{}", imap.log());
    assert_eq!(imap.count("Vigie/Traites"), 3);

    let ticket = staff.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(ticket.body["client"], "CLI-LOGI", "{}", ticket.text);
    assert_eq!(ticket.body["source"], "email");
    assert_eq!(ticket.body["priority"], "p2");
    let symptom = ticket.body["symptom"].as_str().unwrap();
    assert!(
        symptom.starts_with("[Standard] Caméra du quai noire"),
        "{symptom}"
    );
    assert!(
        symptom.contains("La caméra du quai 3 est noire"),
        "{symptom}"
    );
    // SAV-2: the acknowledgement answers the sender, its replies go to the mailbox, and it
    // says it is automatic (no auto-responder answers it).
    let acknowledgement = crate::tickets::wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains(&format!("ticket n°{number}")))
        })
    })
    .await;
    assert_eq!(
        acknowledgement["rcpt_tos"][0],
        "sophie.bernard@logistique-exemple.fr"
    );
    let raw = acknowledgement["data"].as_str().unwrap();
    assert!(raw.contains("Reply-To: support@integrateur.fr"), "{raw}");
    assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");

    // The message named no site: the technician attaches the ticket to the site and camera
    // (CM-2); a site of another client is refused.
    let elsewhere = staff
        .post(
            &format!("/api/v1/tickets/{number}/location"),
            &json!({"site": "AGENCE"}),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        elsewhere.text
    );
    let located = staff
        .post(
            &format!("/api/v1/tickets/{number}/location"),
            &json!({"site": "ENTREPOT", "equipment": "ENT-CAM-QUAI"}),
        )
        .await;
    assert_eq!(located.status, StatusCode::OK, "{}", located.text);
    assert_eq!(located.body["ticket"]["site"], "ENTREPOT");
    let on_site = staff.get("/api/v1/tickets?site=ENTREPOT").await;
    assert!(
        on_site.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == number),
        "{}",
        on_site.text
    );
    // The attachment: listed, downloaded as a file; another client does not reach it.
    let attachments = staff
        .get(&format!("/api/v1/tickets/{number}/attachments"))
        .await;
    assert_eq!(
        attachments.body[0]["name"], "releve.pdf",
        "{}",
        attachments.text
    );
    assert_eq!(attachments.body[0]["kept"], true);
    let id = attachments.body[0]["id"].as_i64().unwrap();
    let download = staff
        .get(&format!("/api/v1/tickets/{number}/attachments/{id}"))
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.text, "%PDF-1.4\n");
    assert_eq!(
        download.headers["content-type"], "application/octet-stream",
        "{:?}",
        download.headers
    );
    assert!(
        download.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    let bank = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    assert_eq!(
        bank.get(&format!("/api/v1/tickets/{number}/attachments/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let own = app
        .login_as("logistique", UserKind::Client, Some("CLI-LOGI"), &[])
        .await;
    assert_eq!(
        own.get(&format!("/api/v1/tickets/{number}/attachments/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    // The received mail is the supervision team's list, not a client's.
    assert_eq!(own.get("/api/v1/mail").await.status, StatusCode::FORBIDDEN);
    assert_ne!(
        own.post(&path, &json!({"client": "CLI-LOGI"})).await.status,
        StatusCode::CREATED
    );

    // A video in a reply, delivered by Dovecot's own delivery agent, joins the ticket
    // whole; Vigie's own message coming back is a loop, set aside.
    imap.deliver(
        "sophie.bernard@logistique-exemple.fr",
        // 5 MB here: the 20 MB case (fetch, bound, decoding) is vigie-notify's test; this one
        // runs among the server's tests in parallel, and a 27 MB message slowed them all.
        &with_video(&format!("RE: Ticket n°{number}"), 5),
    );
    imap.deliver(
        "support@integrateur.fr",
        &message(
            "Support <support@integrateur.fr>",
            &format!("Ticket n°{number} pris en charge"),
            "",
            "…",
        ),
    );
    wait_until(
        async || {
            let list = staff.get("/api/v1/mail").await;
            list.body["items"].as_array().is_some_and(|i| i.len() == 5)
        },
        "cinq messages lus",
    )
    .await;
    let list = staff.get("/api/v1/mail?limit=2").await;
    assert_eq!(list.body["items"][0]["reason"], "loop", "{}", list.text);
    assert_eq!(list.body["items"][1]["disposition"], "threaded");
    assert_eq!(list.body["next_before"], list.body["items"][1]["id"]);
    let attachments = staff
        .get(&format!("/api/v1/tickets/{number}/attachments"))
        .await;
    assert_eq!(
        attachments.body[1]["name"], "quai.mp4",
        "{}",
        attachments.text
    );
    assert_eq!(attachments.body[1]["kept"], true);
    assert!(attachments.body[1]["size"].as_i64().unwrap() >= 5_000_000);

    // SAV-6: resolved; the notice offers to confirm by replying; the reply closes it.
    for action in ["take_charge", "resolve"] {
        let step = staff
            .post(
                &format!("/api/v1/tickets/{number}/actions"),
                &json!({"action": action}),
            )
            .await;
        assert_eq!(step.status, StatusCode::OK, "{}", step.text);
    }
    let notice = crate::tickets::wait_for(|| {
        smtp.received().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("résolu : merci de confirmer"))
        })
    })
    .await;
    let body = text_part(&notice);
    assert!(body.contains("« CONFIRMÉ »"), "{body}");
    let subject = notice["subject"].as_str().unwrap();
    imap.append(
        "INBOX",
        &message(
            SOPHIE,
            &format!("RE: {subject}"),
            "",
            "Confirmé, merci !\r\n\r\n> Votre demande est résolue",
        ),
    );
    wait_until(
        async || {
            let ticket = staff.get(&format!("/api/v1/tickets/{number}")).await;
            ticket.body["status"] == "closed"
        },
        "le ticket clos par la réponse",
    )
    .await;
    let ticket = staff.get(&format!("/api/v1/tickets/{number}")).await;
    let mails: Vec<&Value> = ticket.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "mail_received")
        .collect();
    assert_eq!(mails.len(), 3, "{}", ticket.text);
    assert_eq!(mails[2]["reply"], "confirms");
    assert_eq!(imap.count("INBOX"), 0);
    app.finish().await;
}

#[tokio::test]
async fn a_mailbox_that_cannot_be_read_is_seen_in_the_metrics_and_is_an_alarm() {
    // A port held for the whole test, that never answers: no other test's peer can take it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let app = TestApp::spawn_with(|config| {
        config.mailbox.alarm_after_minutes = 0;
        config.mailbox.timeout_seconds = 1;
        config.mailbox.host = "127.0.0.1".into();
        config.mailbox.port = port;
        config.mailbox.security = "none".into();
        config.mailbox.username = "support".into();
        config.mailbox.password = vigie_server::config::Password("secret".into());
        config.mailbox.address = "support@integrateur.fr".into();
    })
    .await;
    let url = format!("{}/metrics", app.base);
    wait_until(
        async || {
            let metrics = app
                .http
                .get(&url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            metrics.contains("vigie_mailbox_unreadable 1")
                && !metrics.contains("vigie_mailbox_failures_total 0")
        },
        "la boîte illisible dans les métriques",
    )
    .await;
    // The supervision team sees it as a Major alarm about no site.
    let staff = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    wait_until(
        async || {
            let alarms = staff.get("/api/v1/alarms").await;
            alarms.body["items"].as_array().is_some_and(|items| {
                items.iter().any(|a| {
                    a["condition"]["condition"] == "mailbox_unreadable" && a["severity"] == "major"
                })
            })
        },
        "l'alarme de la boîte illisible",
    )
    .await;
    drop(silent);
    app.finish().await;
}
