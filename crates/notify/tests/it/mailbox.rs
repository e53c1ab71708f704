//! The support mailbox against a real Dovecot: messages fetched oldest first and filed into
//! the processed folder (MOVE, or COPY and EXPUNGE when the server lacks it), a large message
//! fetched as its header only, implicit TLS and STARTTLS, and each failure with its own error.

use std::time::{Duration, Instant};

use vigie_notify::{
    ConfigError, ImapConfig, ImapSecurity, Mailbox, MailboxError, MailboxSession, read_mail,
};

use crate::imap_peer::ImapServer;
use crate::peers::free_port;

const PROCESSED: &str = "Vigie/Traites";

/// Implicit TLS to the test server, accepting its self-signed certificate.
fn config(server: &ImapServer) -> ImapConfig {
    ImapConfig {
        host: "127.0.0.1".to_owned(),
        port: server.port,
        security: ImapSecurity::Tls,
        username: server.user.clone(),
        password: server.password.clone(),
        folder: "INBOX".to_owned(),
        processed_folder: PROCESSED.to_owned(),
        timeout_ms: 10_000,
        accept_invalid_certs: true,
        max_message_bytes: 1024 * 1024,
    }
}

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Client <client@example.fr>\r\n\
         To: support@example.fr\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{subject}@example.fr>\r\n\
         Date: Mon, 2 Jun 2025 09:30:00 +0200\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n"
    )
    .into_bytes()
}

async fn open(config: ImapConfig) -> MailboxSession {
    Mailbox::new(config)
        .expect("configuration valide")
        .open()
        .await
        .expect("session ouverte")
}

async fn open_error(config: ImapConfig) -> MailboxError {
    Mailbox::new(config)
        .expect("configuration valide")
        .open()
        .await
        .expect_err("session refusée")
}

fn subjects(mails: &[vigie_notify::FetchedMail]) -> Vec<String> {
    mails
        .iter()
        .map(|mail| read_mail(&mail.raw, mail.complete, mail.size).subject)
        .collect()
}

#[tokio::test]
async fn fetch_gives_the_oldest_first_and_file_moves_to_the_processed_folder() {
    let server = ImapServer::start(true);
    let appended: Vec<Vec<u8>> = ["Premier", "Deuxieme", "Troisieme"]
        .iter()
        .map(|subject| message(subject, &format!("Corps du message {subject}.")))
        .collect();
    for raw in &appended {
        server.append("INBOX", raw);
    }

    let mut session = open(config(&server)).await;
    let described = format!("{session:?}");
    assert!(described.contains("can_move: true"), "{described}");
    let mails = session.fetch(10).await.expect("messages lus");

    assert_eq!(subjects(&mails), ["Premier", "Deuxieme", "Troisieme"]);
    assert!(mails.windows(2).all(|pair| pair[0].uid < pair[1].uid));
    for (mail, raw) in mails.iter().zip(&appended) {
        assert!(mail.complete);
        assert_eq!(&mail.raw, raw);
        assert_eq!(mail.size, raw.len() as u64);
    }
    // Fetching marks nothing and removes nothing: the same messages come again, up to the limit.
    let first_two = session.fetch(2).await.expect("messages lus");
    assert_eq!(first_two, mails[..2]);
    assert!(session.fetch(0).await.expect("rien demandé").is_empty());

    session.file(mails[0].uid).await.expect("classé");
    // Filing again what is already filed is harmless.
    session.file(mails[0].uid).await.expect("déjà classé");
    session.close().await;

    let mut session = open(config(&server)).await;
    let rest = session.fetch(10).await.expect("messages lus");
    session.close().await;
    assert_eq!(subjects(&rest), ["Deuxieme", "Troisieme"]);
    assert_eq!(rest[0].uid, mails[1].uid);
    assert_eq!(server.count(PROCESSED), 1);
    assert_eq!(server.count("INBOX"), 2);
}

#[tokio::test]
async fn without_move_filing_copies_then_expunges() {
    for capabilities in ["IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"] {
        let server = ImapServer::start_with_capabilities(true, capabilities);
        for subject in ["Un", "Deux"] {
            server.append("INBOX", &message(subject, "Texte."));
        }

        let mut session = open(config(&server)).await;
        let described = format!("{session:?}");
        assert!(described.contains("can_move: false"), "{described}");
        let mails = session.fetch(10).await.expect("messages lus");
        session.file(mails[1].uid).await.expect("classé");
        let rest = session.fetch(10).await.expect("messages lus");
        session.close().await;

        assert_eq!(subjects(&rest), ["Un"], "{capabilities}");
        assert_eq!(server.count(PROCESSED), 1, "{capabilities}");
        assert_eq!(server.count("INBOX"), 1, "{capabilities}");
    }
}

#[tokio::test]
async fn message_above_the_bound_comes_header_only() {
    let server = ImapServer::start(true);
    let small = message("Petit", "Quelques mots.");
    let large = message("Gros", &"Une vidéo en pièce jointe.\r\n".repeat(400));
    server.append("INBOX", &small);
    server.append("INBOX", &large);

    let mut session = open(ImapConfig {
        max_message_bytes: 2_000,
        ..config(&server)
    })
    .await;
    let mails = session.fetch(10).await.expect("messages lus");
    session.close().await;

    assert_eq!(mails.len(), 2);
    assert!(mails[0].complete);
    assert_eq!(mails[0].raw, small);
    let header_only = &mails[1];
    assert!(!header_only.complete);
    assert_eq!(header_only.size, large.len() as u64);
    let header_end = large.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(header_only.raw, large[..header_end]);
    let read = read_mail(&header_only.raw, header_only.complete, header_only.size);
    assert!(read.readable);
    assert!(!read.complete);
    assert_eq!(read.size, large.len() as u64);
    assert_eq!(read.subject, "Gros");
    assert_eq!(read.from.as_deref(), Some("client@example.fr"));
    assert!(read.text.is_empty(), "{:?}", read.text);
}

#[tokio::test]
async fn implicit_tls_refuses_an_untrusted_certificate() {
    let server = ImapServer::start(true);

    let error = open_error(ImapConfig {
        accept_invalid_certs: false,
        ..config(&server)
    })
    .await;

    assert!(matches!(error, MailboxError::Tls(_)), "{error}");
    assert!(error.to_string().contains("certificate"), "{error}");
}

#[tokio::test]
async fn starttls_is_used_and_required() {
    let server = ImapServer::start(true);
    server.append("INBOX", &message("Chiffre", "Par STARTTLS."));
    let plain_server = ImapServer::start(false);

    let mut session = open(ImapConfig {
        port: server.plain_port,
        security: ImapSecurity::StartTls,
        ..config(&server)
    })
    .await;
    let mails = session.fetch(10).await.expect("messages lus");
    session.close().await;
    let refused = open_error(ImapConfig {
        port: plain_server.port,
        security: ImapSecurity::StartTls,
        ..config(&plain_server)
    })
    .await;

    assert_eq!(subjects(&mails), ["Chiffre"]);
    assert!(matches!(refused, MailboxError::Tls(_)), "{refused}");
    assert!(refused.to_string().contains("STARTTLS"), "{refused}");
}

#[tokio::test]
async fn plain_connection_logs_in_without_password() {
    // A plain connection carries no password: against a server that wants one, LOGIN is
    // refused, which shows the greeting was read and LOGIN sent in clear.
    let server = ImapServer::start(false);

    let error = open_error(ImapConfig {
        security: ImapSecurity::None,
        password: String::new(),
        ..config(&server)
    })
    .await;

    assert!(matches!(error, MailboxError::Authentication(_)), "{error}");
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error() {
    let server = ImapServer::start(true);

    let error = open_error(ImapConfig {
        password: "pas-le-bon".to_owned(),
        ..config(&server)
    })
    .await;

    assert!(matches!(error, MailboxError::Authentication(_)), "{error}");
    assert!(
        error.to_string().contains("authentification refusée"),
        "{error}"
    );
}

#[tokio::test]
async fn missing_folder_is_named() {
    let server = ImapServer::start(true);

    let error = open_error(ImapConfig {
        folder: "Nulle/Part".to_owned(),
        ..config(&server)
    })
    .await;

    match &error {
        MailboxError::FolderNotFound { folder, .. } => assert_eq!(folder, "Nulle/Part"),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn closed_port_is_a_quick_connection_error() {
    let port = free_port();
    let started = Instant::now();

    let error = Mailbox::new(ImapConfig {
        host: "127.0.0.1".to_owned(),
        port,
        security: ImapSecurity::Tls,
        username: "support".to_owned(),
        password: "secret".to_owned(),
        folder: "INBOX".to_owned(),
        processed_folder: PROCESSED.to_owned(),
        timeout_ms: 10_000,
        accept_invalid_certs: false,
        max_message_bytes: 1024,
    })
    .unwrap()
    .open()
    .await
    .unwrap_err();

    assert!(matches!(error, MailboxError::Connection(_)), "{error}");
    assert!(error.to_string().contains(&port.to_string()), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Accepts connections on 127.0.0.1 and hands each to `serve`.
async fn fake_server<F, Fut>(serve: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket));
        }
    });
    port
}

fn plain_config(port: u16, timeout_ms: u64) -> ImapConfig {
    ImapConfig {
        host: "127.0.0.1".to_owned(),
        port,
        security: ImapSecurity::None,
        username: "support".to_owned(),
        password: String::new(),
        folder: "INBOX".to_owned(),
        processed_folder: PROCESSED.to_owned(),
        timeout_ms,
        accept_invalid_certs: false,
        max_message_bytes: 1024,
    }
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts connections but never says hello.
    let port = fake_server(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let started = Instant::now();

    let error = open_error(plain_config(port, 300)).await;

    assert!(matches!(error, MailboxError::Timeout { .. }), "{error}");
    assert!(error.to_string().contains("300 ms"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn endless_answer_is_cut_at_its_budget() {
    // A greeting that never ends: the client stops reading at its bound instead of filling
    // its memory.
    let port = fake_server(|mut socket| async move {
        use tokio::io::AsyncWriteExt;
        let _ = socket.write_all(b"* OK ").await;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;

    let error = open_error(plain_config(port, 10_000)).await;

    assert!(matches!(error, MailboxError::Protocol(_)), "{error}");
    assert!(error.to_string().contains("plus longue"), "{error}");
}

#[tokio::test]
async fn bye_greeting_is_a_connection_error() {
    let port = fake_server(|mut socket| async move {
        use tokio::io::AsyncWriteExt;
        let _ = socket
            .write_all(b"* BYE Trop de connexions, revenez plus tard\r\n")
            .await;
    })
    .await;

    let error = open_error(plain_config(port, 10_000)).await;

    assert!(matches!(error, MailboxError::Connection(_)), "{error}");
    assert!(error.to_string().contains("Trop de connexions"), "{error}");
}

#[test]
fn bad_configurations_are_refused() {
    let base = plain_config(143, 10_000);
    let refused = |config: ImapConfig| Mailbox::new(config).unwrap_err();

    // A password in clear: only to a server on this machine.
    let clear_password = refused(ImapConfig {
        host: "imap.example.fr".to_owned(),
        password: "secret".to_owned(),
        ..base.clone()
    });
    assert!(
        matches!(&clear_password, ConfigError::InvalidImap(text) if text.contains("en clair")),
        "{clear_password}"
    );
    for host in ["127.0.0.1", "localhost", "::1"] {
        assert!(
            Mailbox::new(ImapConfig {
                host: host.to_owned(),
                password: "secret".to_owned(),
                ..base.clone()
            })
            .is_ok(),
            "{host}"
        );
    }
    let empty_password = refused(ImapConfig {
        security: ImapSecurity::Tls,
        ..base.clone()
    });
    assert!(empty_password.to_string().contains("mot de passe vide"));
    for config in [
        ImapConfig {
            host: " ".to_owned(),
            ..base.clone()
        },
        ImapConfig {
            port: 0,
            ..base.clone()
        },
        ImapConfig {
            username: String::new(),
            ..base.clone()
        },
        ImapConfig {
            folder: String::new(),
            ..base.clone()
        },
        ImapConfig {
            processed_folder: "Traités".to_owned(),
            ..base.clone()
        },
        ImapConfig {
            processed_folder: "inbox".to_owned(),
            ..base.clone()
        },
        ImapConfig {
            max_message_bytes: 0,
            ..base.clone()
        },
    ] {
        let error = refused(config.clone());
        assert!(
            matches!(error, ConfigError::InvalidImap(_)),
            "{config:?}: {error}"
        );
    }
    assert_eq!(
        refused(ImapConfig {
            timeout_ms: 0,
            ..base.clone()
        }),
        ConfigError::InvalidTimeout(0)
    );
    assert!(Mailbox::new(base).is_ok());
}

#[test]
fn the_password_is_never_shown() {
    let config = ImapConfig {
        security: ImapSecurity::Tls,
        password: "tres-secret".to_owned(),
        ..plain_config(993, 10_000)
    };
    let mailbox = Mailbox::new(config.clone()).unwrap();

    for debug in [format!("{config:?}"), format!("{mailbox:?}")] {
        assert!(!debug.contains("tres-secret"), "{debug}");
        assert!(debug.contains("<masqué>"), "{debug}");
    }
}

/// A message carrying a video clip of `megabytes` MB as a base64 attachment.
fn with_video(subject: &str, megabytes: usize) -> Vec<u8> {
    // Base64 of zeros: "AAAA", 76 characters a line.
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
        "From: Client <client@example.fr>\r\n\
         To: support@example.fr\r\n\
         Subject: {subject}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\
         \r\n\
         --b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         La vidéo du quai.\r\n\
         --b\r\n\
         Content-Type: video/mp4; name=\"quai.mp4\"\r\n\
         Content-Disposition: attachment; filename=\"quai.mp4\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {body}--b--\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn messages_with_20_mb_videos_come_whole_within_the_fetch_memory_bound() {
    let server = ImapServer::start(true);
    // Delivered by Dovecot's own delivery agent, as a mail server in front of it would.
    for subject in ["Video1", "Video2", "Video3"] {
        server.deliver("client@example.fr", &with_video(subject, 20));
    }
    let mut session = open(ImapConfig {
        max_message_bytes: 40 * 1024 * 1024,
        ..config(&server)
    })
    .await;
    // Three messages of about 27 MB: two fit in the 64 MiB bound, the third waits.
    let mails = session.fetch(50).await.expect("relevé");
    assert_eq!(subjects(&mails), ["Video1", "Video2"]);
    assert_eq!(session.left(), 1);
    assert!(mails.iter().all(|m| m.complete));
    let read = read_mail(&mails[0].raw, true, mails[0].size);
    assert_eq!(read.attachments.len(), 1);
    assert_eq!(read.attachments[0].name, "quai.mp4");
    let content = read.attachments[0].content.as_ref().expect("gardée");
    assert!(content.len() >= 20_000_000);
    for mail in &mails {
        session.file(mail.uid).await.expect("classé");
    }
    let rest = session.fetch(50).await.expect("relevé suivant");
    assert_eq!(subjects(&rest), ["Video3"]);
    assert_eq!(session.left(), 0);
    session.close().await;
}
