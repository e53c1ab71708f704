//! SMS text that fits (issue 26, item 6): the GSM 03.38 alphabet, its segments, and the
//! transliteration that keeps a French page in 7-bit GSM so that it costs one segment.
//!
//! A phone network carries an SMS either in the GSM 7-bit alphabet (160 characters in one
//! segment, 153 in each of a concatenated message's) or in UCS-2 (70, then 67). One character
//! outside the GSM alphabet turns the whole message into UCS-2 and more than halves its room:
//! a « ê » or a « ’ » is enough. So every text is written in GSM when it can be: the accents
//! GSM has (é è ù à ì ò É Ç ä ö ü ñ…) are kept, the others lose their accent (ê → e, ç → c,
//! œ → oe), French typography becomes its plain form (« » → ", ’ → ', … → ..., no-break
//! spaces → spaces). UCS-2 is used only when a text holds something with no Latin form — a
//! name in Greek, Cyrillic, Arabic or Chinese — where transliterating would lose the name.

use unicode_normalization::UnicodeNormalization;

/// The most segments one SMS may use. A page longer than that is cut (and says so): a
/// phone shows a long concatenated message badly, and each segment is paid for.
pub const MAX_SEGMENTS: usize = 3;

/// How an SMS's text travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM 03.38 default alphabet, 7 bits a character (two for `€ [ ] { } ^ ~ | \`).
    Gsm7,
    /// UCS-2 (in practice UTF-16), 16 bits a code unit.
    Ucs2,
}

impl Encoding {
    /// The word a gateway's request template gets for `{encoding}`.
    pub fn key(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm",
            Encoding::Ucs2 => "ucs2",
        }
    }

    /// Room of a message sent in one segment, and of each segment of a longer one, in
    /// septets (GSM) or UTF-16 code units (UCS-2): the concatenation header takes the rest.
    fn room(self) -> (usize, usize) {
        match self {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        }
    }
}

/// An SMS ready to send: its text in the alphabet it travels in, and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub text: String,
    pub encoding: Encoding,
    /// At least 1, at most [`MAX_SEGMENTS`].
    pub segments: usize,
}

/// The GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1), one septet each.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: two septets each (an escape, then the character).
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in GSM 7-bit, or None when it is not in the alphabet.
fn septets_of(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The plain form of a character GSM lacks, when it has one that a French reader reads the
/// same: typography and ligatures here, accents by decomposition in [`to_gsm`].
fn plain(c: char) -> Option<&'static str> {
    Some(match c {
        '«' | '»' | '“' | '”' | '„' | '‟' => "\"",
        '‘' | '’' | '‚' | '‛' | '′' | '`' | '´' => "'",
        '…' => "...",
        '–' | '—' | '−' | '‐' | '‑' | '‒' => "-",
        '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}' | '\u{2002}' | '\u{2003}' | '\t' => " ",
        'œ' => "oe",
        'Œ' => "OE",
        'ç' => "c",
        'ĳ' => "ij",
        'Ĳ' => "IJ",
        'ł' => "l",
        'Ł' => "L",
        'đ' => "d",
        'Đ' => "D",
        'ı' => "i",
        '×' => "x",
        '•' | '·' => "-",
        '°' => "o",
        _ => return None,
    })
}

/// `text` in the GSM 7-bit alphabet, or None when something in it has no Latin form.
pub fn to_gsm(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if septets_of(c).is_some() {
            out.push(c);
            continue;
        }
        // « 72 °C » reads « 72 C », a number « n° 4 » reads « no 4 ».
        if c == '°' && matches!(chars.peek(), Some('C' | 'F')) {
            continue;
        }
        // French guillemets hold their words with spaces: « Hall » reads "Hall".
        if c == '«' {
            out.push('"');
            while chars.peek().is_some_and(|n| n.is_whitespace()) {
                chars.next();
            }
            continue;
        }
        if c == '»' {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('"');
            continue;
        }
        if let Some(plain) = plain(c) {
            out.push_str(plain);
            continue;
        }
        // An accented letter GSM lacks (ê, â, î, ô, û, ë, ï, ÿ, á, ã, ş…): its base letter.
        let mut base = c.nfd().filter(|d| !is_combining_mark(*d));
        match (base.next(), base.next()) {
            (Some(letter), None) if letter != c && septets_of(letter) == Some(1) => {
                out.push(letter)
            }
            _ => {
                // Invisible marks and controls are dropped rather than costing UCS-2.
                if c.is_control() || is_combining_mark(c) || c == '\u{200b}' || c == '\u{feff}' {
                    continue;
                }
                return None;
            }
        }
    }
    Some(out)
}

/// Combining diacritical marks (U+0300–U+036F and the supplements): what NFD splits an
/// accent into.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}' | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
}

/// What `text` costs in `encoding`: septets (GSM) or UTF-16 code units (UCS-2). `text` must
/// be in the alphabet for GSM ([`to_gsm`]); a character outside it counts as one septet.
pub fn length(text: &str, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => text.chars().map(|c| septets_of(c).unwrap_or(1)).sum(),
        Encoding::Ucs2 => text.encode_utf16().count(),
    }
}

fn unit_length(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => septets_of(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// How many segments `text` takes in `encoding`. A character is never split across two
/// segments (an escape and its letter, a surrogate pair), so a segment may end short.
pub fn segments(text: &str, encoding: Encoding) -> usize {
    let (single, each) = encoding.room();
    if length(text, encoding) <= single {
        return 1;
    }
    let mut count = 1;
    let mut used = 0;
    for c in text.chars() {
        let n = unit_length(c, encoding);
        if used + n > each {
            count += 1;
            used = 0;
        }
        used += n;
    }
    count
}

/// The longest prefix of `text` that fits in `max` segments of `encoding`, with « ... » at
/// the cut. The segments of a prefix grow with its length, so the longest one is found by
/// halving (a technician's update may be 4 000 characters).
fn cut(text: &str, encoding: Encoding, max: usize) -> String {
    if segments(text, encoding) <= max {
        return text.to_owned();
    }
    let mark = "...";
    let chars: Vec<char> = text.chars().collect();
    let with_mark = |keep: usize| {
        chars[..keep]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_owned()
            + mark
    };
    // `low` characters always fit (none do), `high` never do (the whole text does not).
    let (mut low, mut high) = (0, chars.len());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if segments(&with_mark(middle), encoding) <= max {
            low = middle;
        } else {
            high = middle;
        }
    }
    with_mark(low)
}

/// `text` as an SMS: in GSM 7-bit when it can be, cut to [`MAX_SEGMENTS`] otherwise.
pub fn compose(text: &str) -> Sms {
    let (whole, encoding) = match to_gsm(text) {
        Some(gsm) => (gsm.trim().to_owned(), Encoding::Gsm7),
        None => (
            text.nfc().collect::<String>().trim().to_owned(),
            Encoding::Ucs2,
        ),
    };
    let kept = cut(&whole, encoding, MAX_SEGMENTS);
    // The cut may have taken away the only character GSM lacked: then GSM it is.
    let (text, encoding) = match encoding {
        Encoding::Ucs2 if kept != whole => match to_gsm(&kept) {
            Some(gsm) => (cut(&gsm, Encoding::Gsm7, MAX_SEGMENTS), Encoding::Gsm7),
            None => (kept, Encoding::Ucs2),
        },
        _ => (kept, encoding),
    };
    let segments = segments(&text, encoding);
    Sms {
        text,
        encoding,
        segments,
    }
}

/// Joins `parts` into one SMS that fits one segment where it can: when the whole is too
/// long, the parts marked as names (of sites, equipment, cameras) lose their last word,
/// longest name first (a single word is cut to `min_name` characters), before a second
/// segment is accepted.
/// The other parts (what happened, the deadline, the reply code, the link) are never cut
/// here; the full names are in the email.
pub fn fit_one_segment(parts: &[Part<'_>], min_name: usize) -> Sms {
    let mut texts: Vec<String> = parts.iter().map(|p| p.text.to_owned()).collect();
    loop {
        let sms = compose(&texts.concat());
        if sms.segments == 1 {
            return sms;
        }
        let longest = parts
            .iter()
            .enumerate()
            .filter(|(i, p)| p.shrinkable && can_shorten(&texts[*i], min_name))
            .max_by_key(|(i, _)| texts[*i].chars().count())
            .map(|(i, _)| i);
        let Some(i) = longest else {
            return sms;
        };
        texts[i] = shorter(&texts[i], min_name);
    }
}

/// A name of several words can lose its last; a single word only down to `min` characters.
fn can_shorten(name: &str, min: usize) -> bool {
    name.trim().contains([' ', ',']) || name.trim().chars().count() > min
}

/// `name` without its last word, or, for one long word, cut to `min` characters.
fn shorter(name: &str, min: usize) -> String {
    let trimmed = name.trim();
    if let Some(cut) = trimmed.rfind([' ', ',']) {
        return trimmed[..cut].trim_end_matches([' ', ',']).to_owned();
    }
    trimmed.chars().take(min).collect()
}

/// A piece of an SMS for [`fit_one_segment`].
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub text: &'a str,
    /// A name that may be shortened to make room.
    pub shrinkable: bool,
}

impl<'a> Part<'a> {
    pub fn fixed(text: &'a str) -> Part<'a> {
        Part {
            text,
            shrinkable: false,
        }
    }
    pub fn name(text: &'a str) -> Part<'a> {
        Part {
            text,
            shrinkable: true,
        }
    }
}
