//! E-mail against a real aiosmtpd: what arrives (read by Python's own MIME parser), STARTTLS,
//! implicit TLS and authentication, and how each refusal or failure is classified.

use std::time::Duration;

use vigie_notify::{ConfigError, DeliveryError, Email, SmtpConfig, SmtpSecurity, SmtpSender};

use crate::peers::{
    DEFERRED_ADDRESS, Mode, REJECTED_ADDRESS, SMTP_PASSWORD, SMTP_USER, SmtpServer, free_port,
};

const KEY: &str = "alarm-42.critical-astreinte.ST-TECH.email";

fn config(port: u16, security: SmtpSecurity) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port,
        security,
        username: None,
        password: None,
        from: "Vigie <vigie@example.fr>".to_owned(),
        reply_to: None,
        timeout_ms: 10_000,
        accept_invalid_certs: true,
    }
}

fn authenticated(port: u16, security: SmtpSecurity, password: &str) -> SmtpConfig {
    SmtpConfig {
        username: Some(SMTP_USER.to_owned()),
        password: Some(password.to_owned()),
        ..config(port, security)
    }
}

fn email(to: &str) -> Email {
    Email {
        to: to.to_owned(),
        to_name: Some("Hélène Dupré".to_owned()),
        subject: "[Critique] Caméra « Hall d'entrée » injoignable — à prendre en charge".to_owned(),
        text: "L'équipement CAM-12 ne répond plus depuis 5 minutes.\nCode d'acquittement : 482913"
            .to_owned(),
        html: Some("<p>L'équipement <b>CAM-12</b> ne répond plus.</p>".to_owned()),
        attachments: Vec::new(),
    }
}

#[tokio::test]
async fn plain_delivery_arrives_with_subject_both_parts_and_key() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(config(server.port, SmtpSecurity::None)).unwrap();

    let answer = sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .expect("remis");

    assert!(answer.starts_with("250"), "{answer}");
    let received = server.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message["mail_from"], "vigie@example.fr");
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["astreinte@example.fr"])
    );
    assert_eq!(
        message["subject"],
        "[Critique] Caméra « Hall d'entrée » injoignable — à prendre en charge"
    );
    assert_eq!(message["to"], "Hélène Dupré <astreinte@example.fr>");
    assert_eq!(message["key"], KEY);
    assert_eq!(message["message_id"], format!("<{KEY}@vigie>"));
    assert_eq!(message["content_type"], "multipart/alternative");
    let parts = message["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(
        parts[0]["content"]
            .as_str()
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        "L'équipement CAM-12 ne répond plus depuis 5 minutes.\nCode d'acquittement : 482913"
    );
    assert_eq!(parts[1]["content_type"], "text/html");
    assert!(
        parts[1]["content"]
            .as_str()
            .unwrap()
            .contains("<b>CAM-12</b>")
    );
    assert_eq!(message["tls"], false);
    let data = message["data"].as_str().unwrap();
    assert!(
        data.contains("Auto-Submitted: auto-generated\r\n"),
        "{data}"
    );
    assert!(!data.contains("Reply-To"), "{data}");
}

#[tokio::test]
async fn reply_to_sends_replies_to_the_support_mailbox() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(SmtpConfig {
        reply_to: Some(" Service client Vigie <support@example.fr> ".to_owned()),
        ..config(server.port, SmtpSecurity::None)
    })
    .unwrap();

    sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .expect("remis");

    let data = server.received()[0]["data"].as_str().unwrap().to_owned();
    assert!(
        data.contains("Reply-To: \"Service client Vigie\" <support@example.fr>\r\n"),
        "{data}"
    );
    assert!(
        data.contains("Auto-Submitted: auto-generated\r\n"),
        "{data}"
    );
}

#[tokio::test]
async fn text_only_email_is_a_single_plain_part() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(config(server.port, SmtpSecurity::None)).unwrap();
    let email = Email {
        to_name: None,
        html: None,
        ..email("astreinte@example.fr")
    };

    sender.send(&email, KEY).await.expect("remis");

    let message = &server.received()[0];
    assert_eq!(message["content_type"], "text/plain");
    assert_eq!(message["to"], "astreinte@example.fr");
}

#[tokio::test]
async fn starttls_with_authentication_delivers() {
    let server = SmtpServer::start(Mode::StartTls, true);
    let sender = SmtpSender::new(authenticated(
        server.port,
        SmtpSecurity::StartTls,
        SMTP_PASSWORD,
    ))
    .unwrap();

    sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .expect("remis");

    let message = &server.received()[0];
    assert_eq!(message["tls"], true);
    assert_eq!(message["authenticated"], true);
}

#[tokio::test]
async fn implicit_tls_with_authentication_delivers() {
    let server = SmtpServer::start(Mode::ImplicitTls, true);
    let sender =
        SmtpSender::new(authenticated(server.port, SmtpSecurity::Tls, SMTP_PASSWORD)).unwrap();

    sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .expect("remis");

    assert_eq!(server.received()[0]["authenticated"], true);
}

#[tokio::test]
async fn wrong_password_is_permanent() {
    let server = SmtpServer::start(Mode::StartTls, true);
    let sender = SmtpSender::new(authenticated(
        server.port,
        SmtpSecurity::StartTls,
        "pas-le-bon",
    ))
    .unwrap();

    let error = sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .unwrap_err();

    assert!(error.is_permanent(), "{error}");
    assert!(error.to_string().contains("535"), "{error}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn unknown_recipient_550_is_permanent() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(config(server.port, SmtpSecurity::None)).unwrap();

    let error = sender
        .send(&email(REJECTED_ADDRESS), KEY)
        .await
        .unwrap_err();

    assert!(error.is_permanent(), "{error}");
    assert!(error.to_string().contains("550"), "{error}");
}

#[tokio::test]
async fn deferred_recipient_451_is_transient() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(config(server.port, SmtpSecurity::None)).unwrap();

    let error = sender
        .send(&email(DEFERRED_ADDRESS), KEY)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
    assert!(error.to_string().contains("451"), "{error}");
}

#[tokio::test]
async fn nothing_listening_is_transient() {
    let sender = SmtpSender::new(config(free_port(), SmtpSecurity::None)).unwrap();

    let error = sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
}

#[tokio::test]
async fn untrusted_certificate_is_a_transient_tls_failure() {
    let server = SmtpServer::start(Mode::StartTls, false);
    let sender = SmtpSender::new(SmtpConfig {
        accept_invalid_certs: false,
        ..config(server.port, SmtpSecurity::StartTls)
    })
    .unwrap();

    let error = sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn silent_server_times_out_as_transient() {
    // Accepts connections but never says hello.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let sender = SmtpSender::new(SmtpConfig {
        timeout_ms: 300,
        ..config(port, SmtpSecurity::None)
    })
    .unwrap();

    let started = std::time::Instant::now();
    let error = sender
        .send(&email("astreinte@example.fr"), KEY)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn invalid_recipient_or_key_is_permanent_without_connecting() {
    let sender = SmtpSender::new(config(free_port(), SmtpSecurity::None)).unwrap();

    let bad_address = sender
        .send(&email("pas une adresse"), KEY)
        .await
        .unwrap_err();
    let bad_key = sender
        .send(&email("astreinte@example.fr"), "clé avec espace")
        .await
        .unwrap_err();

    assert!(bad_address.is_permanent(), "{bad_address}");
    assert!(bad_address.to_string().contains("pas une adresse"));
    assert!(bad_key.is_permanent(), "{bad_key}");
}

#[test]
fn bad_configurations_are_refused_with_the_value() {
    let refused = |config: SmtpConfig| SmtpSender::new(config).unwrap_err();

    let sender = refused(SmtpConfig {
        from: "Vigie <pas-une-adresse>".to_owned(),
        ..config(25, SmtpSecurity::None)
    });
    assert!(
        matches!(sender, ConfigError::InvalidSender { .. }),
        "{sender}"
    );
    assert!(sender.to_string().contains("pas-une-adresse"));

    let clear_password = refused(authenticated(25, SmtpSecurity::None, "secret"));
    assert!(clear_password.to_string().contains("en clair"));

    let timeout = refused(SmtpConfig {
        timeout_ms: 0,
        ..config(25, SmtpSecurity::None)
    });
    assert_eq!(timeout, ConfigError::InvalidTimeout(0));

    let reply_to = refused(SmtpConfig {
        reply_to: Some("support@".to_owned()),
        ..config(25, SmtpSecurity::None)
    });
    assert!(
        matches!(reply_to, ConfigError::InvalidReplyTo { .. }),
        "{reply_to}"
    );
    assert!(reply_to.to_string().contains("support@"));

    let bare_address = SmtpSender::new(SmtpConfig {
        from: "vigie@example.fr".to_owned(),
        ..config(25, SmtpSecurity::StartTls)
    });
    assert!(bare_address.is_ok());
}

/// Issue 9: a monthly report goes as a PDF joined to its message, byte for byte, after the
/// text and HTML body.
#[tokio::test]
async fn an_attachment_arrives_whole_after_the_body() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(config(server.port, SmtpSecurity::None)).unwrap();
    let pdf: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(50_000))
        .collect();
    let email = Email {
        attachments: vec![vigie_notify::Attachment {
            file_name: "rapport-supervision-2026-11.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            content: pdf.clone(),
        }],
        ..email("dsi@client.example")
    };

    sender.send(&email, KEY).await.expect("remis");

    let message = &server.received()[0];
    assert_eq!(message["content_type"], "multipart/mixed");
    let parts = message["parts"].as_array().unwrap();
    let types: Vec<&str> = parts
        .iter()
        .map(|p| p["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text/plain", "text/html", "application/pdf"]);
    assert_eq!(parts[2]["filename"], "rapport-supervision-2026-11.pdf");
    let received = base64_decode(parts[2]["content"].as_str().unwrap());
    assert_eq!(received, pdf);
}

/// A file too heavy for mail servers is refused before anything is sent, for good.
#[tokio::test]
async fn an_attachment_above_the_bound_is_refused_for_good() {
    let server = SmtpServer::start(Mode::Plain, false);
    let sender = SmtpSender::new(config(server.port, SmtpSecurity::None)).unwrap();
    let email = Email {
        attachments: vec![vigie_notify::Attachment {
            file_name: "enorme.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            content: vec![0; vigie_notify::MAX_SENT_ATTACHMENT_BYTES + 1],
        }],
        ..email("dsi@client.example")
    };
    let error = sender.send(&email, KEY).await.unwrap_err();
    assert!(
        matches!(error, vigie_notify::DeliveryError::Permanent(_)),
        "{error:?}"
    );
    assert!(server.received().is_empty());
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    bytes
}
