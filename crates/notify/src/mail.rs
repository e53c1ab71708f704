//! Reading one received e-mail, whatever its bytes: sender, subject, text, the headers that say
//! whether a machine sent it, and the attachments, each bounded. The bytes come from anyone on
//! the Internet; a message that cannot be read still gets its key and `readable: false`.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders};
use sha2::{Digest, Sha256};

/// Attachments kept per message; further ones are counted in
/// [`InboundMail::attachments_dropped`].
pub const MAX_ATTACHMENTS: usize = 20;

/// Largest attachment whose content is kept; a larger one is kept as its name, type and size.
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// Longest subject, header value and sender name kept, in characters.
const MAX_LINE_CHARS: usize = 300;

/// Longest text kept, in characters: a ticket's description, not an archive.
const MAX_TEXT_CHARS: usize = 20_000;

/// Longest attachment name kept, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Most header lines kept: a message repeating one of them thousands of times stays small.
const MAX_KEPT_HEADERS: usize = 32;

/// The headers kept in [`InboundMail::headers`]: those that tell an auto-reply, a mailing list
/// or a loop from a person (RFC 3834, RFC 2369, RFC 2919, Microsoft's), Vigie's own key, and
/// the top-level content type.
const KEPT_HEADERS: [&str; 11] = [
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "x-loop",
    "x-vigie-key",
    "return-path",
    "content-type",
];

/// One received e-mail, as read by [`read_mail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Hex SHA-256 of the raw bytes: the service desk's idempotency key (the same message
    /// fetched twice has the same key).
    pub key: String,
    /// False when the bytes are not an e-mail at all (not one header line could be read); every
    /// other field is then empty.
    pub readable: bool,
    /// False when only the header was fetched (the message was too large).
    pub complete: bool,
    /// The message's size according to the server, in bytes.
    pub size: u64,
    /// The From address, trimmed and lowercased; `None` if missing or without `@`.
    pub from: Option<String>,
    /// The From display name (`Hélène Dupré`), decoded.
    pub from_name: Option<String>,
    /// Decoded, control characters removed, at most 300 characters; empty if none.
    pub subject: String,
    pub message_id: Option<String>,
    /// Lowercased name and raw (undecoded, unfolded) value of the headers that matter to
    /// decide what to do with the message (auto-reply, list, loop…), each value at most 300
    /// characters, in the message's order, at most 32.
    pub headers: Vec<(String, String)>,
    /// The body as text (an HTML-only body rendered as text), control characters other than
    /// line feed and tab removed, at most 20 000 characters; empty when not `complete`.
    pub text: String,
    /// At most [`MAX_ATTACHMENTS`]; none when not `complete`.
    pub attachments: Vec<MailAttachment>,
    /// Attachments beyond [`MAX_ATTACHMENTS`], not kept.
    pub attachments_dropped: usize,
}

impl InboundMail {
    /// The value of header `name` (lowercase) if kept, the first one when repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(kept, _)| kept == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One attachment of a received e-mail.
#[derive(Clone, PartialEq, Eq)]
pub struct MailAttachment {
    /// A file name only: no path separator, no control character, not starting with a dot,
    /// at most 200 characters; `piece-jointe-N` (N from 1) when the message gives none.
    pub name: String,
    /// `type/subtype`, lowercase (`application/pdf`); `application/octet-stream` when unknown.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// The decoded bytes; `None` when `size` is above [`MAX_ATTACHMENT_BYTES`].
    pub content: Option<Vec<u8>>,
}

/// The content is summed up, not dumped.
impl fmt::Debug for MailAttachment {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MailAttachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .field(
                "content",
                &self
                    .content
                    .as_ref()
                    .map(|content| format!("<{} octets>", content.len())),
            )
            .finish()
    }
}

/// Never fails and never panics, whatever the bytes (bad charsets, no From, garbage,
/// truncated MIME).
///
/// `complete` and `size` are the fetch's ([`crate::FetchedMail`]), copied as they are.
pub fn read_mail(raw: &[u8], complete: bool, size: u64) -> InboundMail {
    let key = hex::encode(Sha256::digest(raw));
    let unreadable = InboundMail {
        key,
        readable: false,
        complete,
        size,
        from: None,
        from_name: None,
        subject: String::new(),
        message_id: None,
        headers: Vec::new(),
        text: String::new(),
        attachments: Vec::new(),
        attachments_dropped: 0,
    };
    // mail-parser promises never to panic. The bytes come from anyone, so a broken promise
    // must cost one unreadable message, not the desk's whole mail intake.
    let read = catch_unwind(AssertUnwindSafe(|| {
        MessageParser::default()
            .parse(raw)
            .filter(has_header)
            .map(|message| read_parsed(&message, raw, unreadable.clone()))
    }));
    match read {
        Ok(Some(mail)) => mail,
        Ok(None) | Err(_) => unreadable,
    }
}

/// mail-parser reads any first line as a header, garbage included (`hello world` becomes a
/// field named so, without value): a message has at least one real field name, printable
/// ASCII without colon (RFC 5322 §3.6.8).
fn has_header(message: &Message<'_>) -> bool {
    message.parts.first().is_some_and(|root| {
        root.headers.iter().any(|header| {
            let name = header.name.as_str();
            !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| (33..=126).contains(&byte) && byte != b':')
        })
    })
}

fn read_parsed(message: &Message<'_>, raw: &[u8], empty: InboundMail) -> InboundMail {
    let sender = message.from().and_then(|from| from.first());
    let from = sender
        .and_then(|sender| sender.address.as_deref())
        .and_then(clean_address);
    let from_name = sender
        .and_then(|sender| sender.name.as_deref())
        .map(|name| clean_line(name, MAX_LINE_CHARS))
        .filter(|name| !name.is_empty());
    let subject = message
        .subject()
        .map(|subject| clean_line(subject, MAX_LINE_CHARS))
        .unwrap_or_default();
    let message_id = message
        .message_id()
        .map(|id| clean_line(id, MAX_LINE_CHARS))
        .filter(|id| !id.is_empty());
    let mut text = String::new();
    let mut attachments = Vec::new();
    let mut attachments_dropped = 0;
    // A header alone has no body: whatever mail-parser makes of the nothing after it (an
    // empty multipart becomes an empty attachment) means nothing.
    if empty.complete {
        text = message
            .body_text(0)
            .map(|text| clean_text(&text, MAX_TEXT_CHARS))
            .unwrap_or_default();
        for (index, part) in message.attachments().enumerate() {
            if index < MAX_ATTACHMENTS {
                attachments.push(attachment(part, index + 1));
            } else {
                attachments_dropped += 1;
            }
        }
    }

    InboundMail {
        readable: true,
        from,
        from_name,
        subject,
        message_id,
        headers: kept_headers(message, raw),
        text,
        attachments,
        attachments_dropped,
        ..empty
    }
}

/// The top-level headers of [`KEPT_HEADERS`], with their raw value (before any decoding: a
/// filter on `Auto-Submitted: auto-replied` must see what the sender wrote).
fn kept_headers(message: &Message<'_>, raw: &[u8]) -> Vec<(String, String)> {
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    root.headers
        .iter()
        .filter_map(|header| {
            let name = header.name.as_str().to_ascii_lowercase();
            if !KEPT_HEADERS.contains(&name.as_str()) {
                return None;
            }
            let value = raw
                .get(header.offset_start as usize..header.offset_end as usize)
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            Some((name, clean_line(&value, MAX_LINE_CHARS)))
        })
        .take(MAX_KEPT_HEADERS)
        .collect()
}

fn attachment(part: &MessagePart<'_>, number: usize) -> MailAttachment {
    let size = part.len() as u64;
    MailAttachment {
        name: part
            .attachment_name()
            .map(file_name)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("piece-jointe-{number}")),
        content_type: content_type(part),
        size,
        content: (size <= MAX_ATTACHMENT_BYTES).then(|| part.contents().to_vec()),
    }
}

/// `type/subtype` if both are MIME tokens, else `application/octet-stream`.
fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type()
        .and_then(|content_type| {
            let main = content_type.c_type.trim().to_ascii_lowercase();
            let sub = content_type
                .c_subtype
                .as_deref()?
                .trim()
                .to_ascii_lowercase();
            (is_token(&main) && is_token(&sub)).then(|| format!("{main}/{sub}"))
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&byte))
}

/// A name the caller can use as a file name: the last path component (`../../x.pdf`,
/// `C:\x.pdf` → `x.pdf`), without control or bidirectional characters, without leading dots
/// (neither `..` nor a hidden file), at most [`MAX_NAME_CHARS`] characters keeping a short
/// extension. Empty when nothing is left.
fn file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|&c| !unwanted(c)).collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    if clean.chars().count() <= MAX_NAME_CHARS {
        return clean.to_owned();
    }
    match clean.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.chars().count() <= 16 => {
            let stem: String = stem
                .chars()
                .take(MAX_NAME_CHARS - extension.chars().count() - 1)
                .collect();
            format!("{}.{extension}", stem.trim_end())
        }
        _ => clean.chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// The From address if it looks like one: `local@domain`, trimmed, lowercased, no blank.
fn clean_address(address: &str) -> Option<String> {
    let address = address.trim().to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let plausible = !local.is_empty()
        && !domain.is_empty()
        && address.len() <= 320
        && !address.chars().any(|c| c.is_whitespace() || unwanted(c));
    plausible.then_some(address)
}

/// One line: control characters removed (a tab, or a fold, becomes a space), trimmed, at most
/// `max` characters.
fn clean_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if unwanted(c) => None,
            c => Some(c),
        })
        .take(max.saturating_mul(2))
        .collect();
    line.trim().chars().take(max).collect()
}

/// A text: control characters other than line feed and tab removed, at most `max` characters.
fn clean_text(text: &str, max: usize) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !unwanted(c))
        .take(max)
        .collect()
}

/// Control characters, and the bidirectional ones that make `exe.pdf` read `fdp.exe`.
fn unwanted(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths_and_dots() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("C:\\Windows\\rapport.pdf"), "rapport.pdf");
        assert_eq!(file_name(".."), "");
        assert_eq!(file_name("dossier/"), "");
        assert_eq!(file_name(".bashrc"), "bashrc");
        assert_eq!(file_name("fac\u{202e}fdp.exe"), "facfdp.exe");
        assert_eq!(file_name("a\u{0}b\r\n.txt"), "ab.txt");
        let long = format!("{}.pdf", "é".repeat(300));
        let kept = file_name(&long);
        assert_eq!(kept.chars().count(), MAX_NAME_CHARS);
        assert!(kept.ends_with(".pdf"));
    }

    #[test]
    fn addresses_must_have_both_sides() {
        assert_eq!(
            clean_address(" Helene.Dupre@Example.FR "),
            Some("helene.dupre@example.fr".to_owned())
        );
        assert_eq!(clean_address("pas-une-adresse"), None);
        assert_eq!(clean_address("@example.fr"), None);
        assert_eq!(clean_address("a b@example.fr"), None);
    }

    #[test]
    fn lines_and_texts_are_cleaned_and_bounded() {
        assert_eq!(clean_line(" a\tb\r\n c\u{7} ", 300), "a b c");
        assert_eq!(clean_line(&"x".repeat(1000), 300).len(), 300);
        assert_eq!(clean_text("a\r\nb\tc\u{1b}[31m", 100), "a\nb\tc[31m");
    }
}
