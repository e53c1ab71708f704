//! Reading received e-mails (`read_mail`): charsets and transfer encodings decoded, HTML-only
//! bodies as text, attachments kept within their bounds and with safe names, the headers that
//! tell an auto-reply, and any bytes at all read without a panic (property tests).

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use vigie_notify::{InboundMail, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, read_mail};

/// Joins header and body lines with CRLF, as a message travels.
fn crlf(lines: &[&str]) -> Vec<u8> {
    let mut raw = lines.join("\r\n");
    raw.push_str("\r\n");
    raw.into_bytes()
}

/// A multipart/mixed message: a text part, then each attachment as (headers, encoded body).
fn with_attachments(attachments: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut raw = crlf(&[
        "From: Client <client@example.fr>",
        "To: support@example.fr",
        "Subject: Pièces jointes",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"SEPARATEUR\"",
        "",
        "--SEPARATEUR",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Voir les pièces jointes.",
    ]);
    for (headers, body) in attachments {
        raw.extend_from_slice(b"--SEPARATEUR\r\n");
        raw.extend_from_slice(headers.as_bytes());
        raw.extend_from_slice(b"\r\n\r\n");
        raw.extend_from_slice(body);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--SEPARATEUR--\r\n");
    raw
}

fn pdf_part(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    (
        format!(
            "Content-Type: application/pdf; name=\"{name}\"\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64"
        ),
        base64(content),
    )
}

/// Standard base64 in 76-character lines (the test's own, to build messages).
fn base64(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = Vec::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 38 + 4);
    for (index, chunk) in bytes.chunks(3).enumerate() {
        if index > 0 && index % 19 == 0 {
            encoded.extend_from_slice(b"\r\n");
        }
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        encoded.push(ALPHABET[(n >> 18) as usize & 63]);
        encoded.push(ALPHABET[(n >> 12) as usize & 63]);
        encoded.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        encoded.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63]
        } else {
            b'='
        });
    }
    encoded
}

/// What every read message must respect, whatever its bytes.
fn assert_bounded(mail: &InboundMail, raw: &[u8]) {
    assert_eq!(mail.key, hex::encode(Sha256::digest(raw)));
    assert!(mail.subject.chars().count() <= 300);
    assert!(
        !mail.subject.chars().any(char::is_control),
        "{:?}",
        mail.subject
    );
    assert!(mail.text.chars().count() <= 20_000);
    assert!(
        !mail
            .text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{:?}",
        mail.text
    );
    if let Some(from) = &mail.from {
        assert!(from.contains('@'), "{from}");
        assert_eq!(from, &from.to_lowercase());
    }
    assert!(mail.headers.len() <= 32);
    for (name, value) in &mail.headers {
        assert_eq!(name, &name.to_ascii_lowercase());
        assert!(value.chars().count() <= 300);
    }
    assert!(mail.attachments.len() <= MAX_ATTACHMENTS);
    for attachment in &mail.attachments {
        let name = &attachment.name;
        assert!(!name.is_empty() && name.chars().count() <= 200, "{name:?}");
        assert!(
            !name.contains(['/', '\\']) && !name.starts_with('.'),
            "{name:?}"
        );
        assert!(!name.chars().any(char::is_control), "{name:?}");
        assert!(attachment.content_type.contains('/'));
        match &attachment.content {
            Some(content) => assert_eq!(content.len() as u64, attachment.size),
            None => assert!(attachment.size > MAX_ATTACHMENT_BYTES),
        }
    }
    if !mail.readable {
        assert!(mail.from.is_none() && mail.subject.is_empty() && mail.attachments.is_empty());
    }
}

#[test]
fn latin1_message_is_decoded() {
    let mut raw = crlf(&[
        "From: =?ISO-8859-1?Q?H=E9l=E8ne_Dupr=E9?= <Helene.Dupre@Example.FR>",
        "To: support@example.fr",
        "Subject: =?ISO-8859-1?Q?Cam=E9ra_du_hall_en_panne?=",
        "Message-ID: <panne-42@example.fr>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-8859-1",
        "Content-Transfer-Encoding: 8bit",
        "",
    ]);
    raw.extend_from_slice(b"La cam\xe9ra du hall ne r\xe9pond plus depuis ce matin.\r\n");
    raw.extend_from_slice(b"Merci d'intervenir \xe0 la r\xe9ception.\r\n");

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert!(mail.readable);
    assert!(mail.complete);
    assert_eq!(mail.size, raw.len() as u64);
    assert_eq!(mail.from.as_deref(), Some("helene.dupre@example.fr"));
    assert_eq!(mail.from_name.as_deref(), Some("Hélène Dupré"));
    assert_eq!(mail.subject, "Caméra du hall en panne");
    assert_eq!(mail.message_id.as_deref(), Some("panne-42@example.fr"));
    assert_eq!(
        mail.text.trim_end(),
        "La caméra du hall ne répond plus depuis ce matin.\n\
         Merci d'intervenir à la réception."
    );
    assert_eq!(
        mail.header("content-type"),
        Some("text/plain; charset=ISO-8859-1")
    );
    assert!(mail.attachments.is_empty());
    assert_bounded(&mail, &raw);
}

#[test]
fn quoted_printable_utf8_message_is_decoded() {
    let raw = crlf(&[
        "From: support-client@example.fr",
        "To: support@example.fr",
        "Subject: =?UTF-8?B?w4lxdWlwZW1lbnQgZMOpY29ubmVjdMOp?=",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "L'=C3=A9quipement CAM-12 est d=C3=A9connect=C3=A9 depuis une tr=C3=A8s =",
        "longue dur=C3=A9e =E2=80=94 =C2=AB urgent =C2=BB.",
    ]);

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert!(mail.readable);
    assert_eq!(mail.from.as_deref(), Some("support-client@example.fr"));
    assert_eq!(mail.from_name, None);
    assert_eq!(mail.subject, "Équipement déconnecté");
    assert_eq!(
        mail.text.trim_end(),
        "L'équipement CAM-12 est déconnecté depuis une très longue durée — « urgent »."
    );
    assert_bounded(&mail, &raw);
}

#[test]
fn html_only_body_gives_text() {
    let raw = crlf(&[
        "From: Client <client@example.fr>",
        "Subject: HTML",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<html><head><style>p { color: red; }</style></head><body>",
        "<p>Bonjour,</p><p>La <b>caméra</b> du parking ne répond plus.</p>",
        "</body></html>",
    ]);

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert!(mail.readable);
    assert!(mail.text.contains("Bonjour"), "{:?}", mail.text);
    assert!(
        mail.text.contains("caméra du parking ne répond plus"),
        "{:?}",
        mail.text
    );
    assert!(!mail.text.contains('<'), "{:?}", mail.text);
    assert_bounded(&mail, &raw);
}

#[test]
fn missing_or_odd_from_gives_no_address() {
    let without = crlf(&["Subject: Sans expéditeur", "", "Texte."]);
    let name_only = crlf(&["From: Jean Dupont", "Subject: Nom seul", "", "Texte."]);

    let without = read_mail(&without, true, 0);
    let name_only = read_mail(&name_only, true, 0);

    assert!(without.readable);
    assert_eq!(without.from, None);
    assert_eq!(without.from_name, None);
    assert_eq!(without.subject, "Sans expéditeur");
    assert_eq!(without.text.trim_end(), "Texte.");
    assert!(name_only.readable);
    assert_eq!(name_only.from, None);
}

#[test]
fn attachment_is_kept_with_its_name_type_and_bytes() {
    let content = b"%PDF-1.4\n\x00\x01\x02\xff rapport d'intervention".to_vec();
    let raw = with_attachments(&[pdf_part("rapport-intervention.pdf", &content)]);

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert!(mail.readable);
    assert_eq!(mail.text.trim_end(), "Voir les pièces jointes.");
    assert_eq!(mail.attachments.len(), 1);
    let attachment = &mail.attachments[0];
    assert_eq!(attachment.name, "rapport-intervention.pdf");
    assert_eq!(attachment.content_type, "application/pdf");
    assert_eq!(attachment.size, content.len() as u64);
    assert_eq!(attachment.content.as_deref(), Some(content.as_slice()));
    assert_eq!(mail.attachments_dropped, 0);
    assert_bounded(&mail, &raw);
}

#[test]
fn attachment_above_the_bound_is_kept_without_content() {
    let at_bound = vec![b'a'; MAX_ATTACHMENT_BYTES as usize];
    let above = vec![b'b'; MAX_ATTACHMENT_BYTES as usize + 1];
    let raw = with_attachments(&[
        pdf_part("au-plus.pdf", &at_bound),
        pdf_part("trop-gros.pdf", &above),
    ]);

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert_eq!(mail.attachments.len(), 2);
    assert_eq!(mail.attachments[0].size, MAX_ATTACHMENT_BYTES);
    assert_eq!(
        mail.attachments[0].content.as_ref().map(Vec::len),
        Some(MAX_ATTACHMENT_BYTES as usize)
    );
    let large = &mail.attachments[1];
    assert_eq!(large.name, "trop-gros.pdf");
    assert_eq!(large.content_type, "application/pdf");
    assert_eq!(large.size, MAX_ATTACHMENT_BYTES + 1);
    assert_eq!(large.content, None);
    // The debug output sums the content up instead of dumping it.
    assert!(format!("{mail:?}").len() < 4096);
}

#[test]
fn attachment_names_are_sanitised() {
    let raw = with_attachments(&[
        pdf_part("../../etc/passwd", b"un"),
        // A quoted string escapes its backslashes: the name is `C:\Users\client\facture.pdf`.
        pdf_part("C:\\\\Users\\\\client\\\\facture.pdf", b"deux"),
        (
            "Content-Type: application/x-inconnu\r\n\
             Content-Disposition: attachment"
                .to_owned(),
            b"trois".to_vec(),
        ),
        pdf_part("..", b"quatre"),
        pdf_part(".profile", b"cinq"),
        (
            "Content-Type: pas un type\r\nContent-Disposition: attachment; \
             filename*=UTF-8''rapport%E2%80%AEfdp.exe"
                .to_owned(),
            b"six".to_vec(),
        ),
    ]);

    let mail = read_mail(&raw, true, raw.len() as u64);

    let names: Vec<&str> = mail.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "passwd",
            "facture.pdf",
            "piece-jointe-3",
            "piece-jointe-4",
            "profile",
            "rapportfdp.exe",
        ]
    );
    assert_eq!(mail.attachments[2].content_type, "application/x-inconnu");
    assert_eq!(mail.attachments[5].content_type, "application/octet-stream");
    assert_bounded(&mail, &raw);
}

#[test]
fn attachments_beyond_the_bound_are_counted() {
    let parts: Vec<_> = (0..MAX_ATTACHMENTS + 5)
        .map(|index| pdf_part(&format!("piece-{index}.pdf"), b"x"))
        .collect();
    let raw = with_attachments(&parts);

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert_eq!(mail.attachments.len(), MAX_ATTACHMENTS);
    assert_eq!(mail.attachments_dropped, 5);
    assert_eq!(mail.attachments[0].name, "piece-0.pdf");
    assert_bounded(&mail, &raw);
}

#[test]
fn auto_reply_headers_are_kept_raw() {
    let raw = crlf(&[
        "Return-Path: <>",
        "Received: from mx.example.fr by mx.vigie.fr",
        "From: Absent <absent@example.fr>",
        "To: support@example.fr",
        "Subject: =?UTF-8?Q?R=C3=A9ponse_automatique?= : absent",
        "Auto-Submitted: auto-replied",
        "X-Autoreply: yes",
        "Precedence: auto_reply",
        "X-Auto-Response-Suppress: All",
        "List-Id: Support",
        "  <support.example.fr>",
        "X-Vigie-Key: 42/critical/astreinte/ST-TECH/email",
        "",
        "Je suis absent jusqu'au 3 juin.",
    ]);

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert_eq!(mail.subject, "Réponse automatique : absent");
    assert_eq!(
        mail.headers,
        [
            ("return-path", "<>"),
            ("auto-submitted", "auto-replied"),
            ("x-autoreply", "yes"),
            ("precedence", "auto_reply"),
            ("x-auto-response-suppress", "All"),
            ("list-id", "Support  <support.example.fr>"),
            ("x-vigie-key", "42/critical/astreinte/ST-TECH/email"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );
    assert_eq!(mail.header("auto-submitted"), Some("auto-replied"));
    assert_eq!(mail.header("received"), None);
    assert_bounded(&mail, &raw);
}

#[test]
fn long_subject_and_text_are_cut() {
    let subject = format!("Subject: {}", "é".repeat(1000));
    let body = "ligne de texte\r\n".repeat(5000);
    let mut raw = crlf(&["From: client@example.fr", &subject, ""]);
    raw.extend_from_slice(body.as_bytes());

    let mail = read_mail(&raw, true, raw.len() as u64);

    assert_eq!(mail.subject.chars().count(), 300);
    assert_eq!(mail.text.chars().count(), 20_000);
    assert!(!mail.text.contains('\r'));
    assert_bounded(&mail, &raw);
}

#[test]
fn header_only_message_is_read_without_body() {
    let raw = crlf(&[
        "From: Client <client@example.fr>",
        "Subject: Vidéo de l'incident",
        "Content-Type: multipart/mixed; boundary=\"X\"",
        "",
    ]);

    let mail = read_mail(&raw, false, 80_000_000);

    assert!(mail.readable);
    assert!(!mail.complete);
    assert_eq!(mail.size, 80_000_000);
    assert_eq!(mail.subject, "Vidéo de l'incident");
    assert_eq!(mail.from.as_deref(), Some("client@example.fr"));
    assert!(mail.text.is_empty());
    assert!(mail.attachments.is_empty());
}

#[test]
fn garbage_is_unreadable_without_panic() {
    for raw in [
        &b""[..],
        &b"\x00\x01\x02\xff\xfe\xfd\x00"[..],
        &[0xff; 300][..],
        &b"\r\n\r\n\r\n"[..],
        &b"hello world"[..],
        &b"\x00\x01: binaire\r\n\r\ncorps"[..],
    ] {
        let mail = read_mail(raw, true, raw.len() as u64);
        assert!(!mail.readable, "{raw:?} → {mail:?}");
        assert_bounded(&mail, raw);
    }
}

#[test]
fn truncated_mime_is_read_as_far_as_it_goes() {
    let raw = with_attachments(&[pdf_part("rapport.pdf", &[7; 5000])]);
    for cut in [raw.len() / 3, raw.len() / 2, raw.len() - 40] {
        let mail = read_mail(&raw[..cut], true, raw.len() as u64);
        assert!(mail.readable);
        assert_eq!(mail.subject, "Pièces jointes");
        assert_bounded(&mail, &raw[..cut]);
    }
}

#[test]
fn same_bytes_give_the_same_key() {
    let raw = crlf(&["From: client@example.fr", "Subject: Clé", "", "Texte."]);
    let mut other = raw.clone();
    other.push(b' ');

    let first = read_mail(&raw, true, 1);
    let again = read_mail(&raw.clone(), true, 1);

    assert_eq!(first, again);
    assert_eq!(first.key.len(), 64);
    assert!(first.key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(read_mail(&other, true, 1).key, first.key);
    assert_eq!(
        read_mail(b"", true, 0).key,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

fn valid_message() -> Vec<u8> {
    let mut raw = with_attachments(&[pdf_part("rapport.pdf", b"%PDF-1.4 contenu")]);
    let mut head = crlf(&[
        "Auto-Submitted: auto-replied",
        "Subject: =?ISO-8859-1?Q?R=E9ponse?=",
    ]);
    head.append(&mut raw);
    head
}

proptest! {
    #[test]
    fn read_mail_never_panics_on_arbitrary_bytes(
        raw in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mail = read_mail(&raw, true, raw.len() as u64);
        assert_bounded(&mail, &raw);
    }

    #[test]
    fn read_mail_never_panics_on_mutated_messages(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
        insertions in proptest::collection::vec(
            (any::<prop::sample::Index>(), proptest::collection::vec(any::<u8>(), 0..16)),
            0..4,
        ),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut raw = valid_message();
        for (index, byte) in mutations {
            let at = index.index(raw.len());
            raw[at] = byte;
        }
        for (index, bytes) in insertions {
            let at = index.index(raw.len());
            raw.splice(at..at, bytes);
        }
        if truncate {
            raw.truncate(cut.index(raw.len()));
        }
        let mail = read_mail(&raw, true, raw.len() as u64);
        assert_bounded(&mail, &raw);
    }
}
