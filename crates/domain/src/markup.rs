//! The one escape of a person's text into markup: the domain's HTML emails and intervention
//! report, and the reports' HTML and SVG — `vigie-report`, which depends on no other Vigie
//! crate, compiles this very file (`#[path]` in its `lib.rs`). The server's pages are written
//! with maud, which escapes on its own.

/// The text with `& < > " '` replaced by entities, and with the characters XML cannot carry
/// (controls other than tab and line breaks, U+FFFE, U+FFFF) dropped: one of them would make
/// an SVG unreadable for the PDF renderer and the browser alike, and says nothing in an email.
pub fn escape(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities_and_controls_go() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>\u{0}\u{1B}é\tà\n"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;é\tà\n"
        );
    }
}
