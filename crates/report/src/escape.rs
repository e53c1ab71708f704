//! Escaping of text put into HTML and SVG: the only way a person's text enters markup.

/// The text with `& < > " '` replaced by entities, and with the characters XML cannot carry
/// (controls other than tab and line breaks, U+FFFE, U+FFFF) dropped: one of them would make
/// the SVG unreadable for the PDF renderer and the browser alike.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(character),
            '\u{0}'..='\u{1F}' | '\u{7F}' | '\u{FFFE}' | '\u{FFFF}' => {}
            _ => out.push(character),
        }
    }
    out
}

/// At most `max_chars` characters of the text, the last one an ellipsis when some were cut.
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities_and_controls_go() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>\u{0}\u{1B}é"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;é"
        );
    }

    #[test]
    fn shortened_text_ends_with_an_ellipsis() {
        assert_eq!(shorten("Caméra", 10), "Caméra");
        assert_eq!(shorten("Caméra du parking", 7), "Caméra…");
        assert_eq!(shorten("abc", 1), "…");
        assert_eq!(shorten("abc", 0), "");
    }
}
