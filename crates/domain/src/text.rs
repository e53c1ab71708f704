//! Small helpers for the product's French wording, shared by every error message.

/// Quotes a value the French way: « value ».
pub fn quoted(value: &str) -> String {
    format!("« {value} »")
}

/// Turns serde's English messages (unknown field, missing field, invalid type) into French,
/// so that a person editing a file or calling the API reads one language.
pub fn french_serde_message(message: &str) -> String {
    let message = message.trim();
    // Only the first line carries the cause; toml appends a snippet of the source after it.
    let first = message.lines().next().unwrap_or(message).trim();
    if let Some(rest) = first.strip_prefix("unknown field `") {
        let (field, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let expected = tail
            .trim_start_matches(',')
            .trim()
            .strip_prefix("expected one of ")
            .map(|list| format!(" (champs admis : {})", list.replace('`', "")))
            .unwrap_or_default();
        return format!("champ inconnu {}{expected}", quoted(field));
    }
    if let Some(rest) = first.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("champ obligatoire manquant : {}", quoted(field));
    }
    if let Some(rest) = first.strip_prefix("unknown variant `") {
        let (value, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let expected = tail
            .trim_start_matches(',')
            .trim()
            .strip_prefix("expected one of ")
            .or_else(|| {
                tail.trim_start_matches(',')
                    .trim()
                    .strip_prefix("expected ")
            })
            .map(|list| format!(" (valeurs admises : {})", list.replace('`', "")))
            .unwrap_or_default();
        return format!("valeur inconnue {}{expected}", quoted(value));
    }
    if let Some(rest) = first.strip_prefix("invalid type: ") {
        return format!("type invalide : {rest}");
    }
    if let Some(rest) = first.strip_prefix("duplicate field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("champ en double : {}", quoted(field));
    }
    first.to_string()
}

/// `text` within `max` characters, the last an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    text.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
}

/// `template` with each `{name}` replaced by `value(name)`, in one pass: a value is never read
/// as a template itself. A placeholder without a value is left as written. The one filling of
/// the product's sentences: the domain's phrases, the pages' translated texts.
pub fn fill(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        match value(&after[..close]) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_the_common_serde_messages() {
        assert_eq!(
            french_serde_message("unknown field `colour`, expected one of `ref`, `name`"),
            "champ inconnu « colour » (champs admis : ref, name)"
        );
        assert_eq!(
            french_serde_message("missing field `site`"),
            "champ obligatoire manquant : « site »"
        );
        assert_eq!(
            french_serde_message("unknown variant `tv`, expected one of `camera`, `nvr`"),
            "valeur inconnue « tv » (valeurs admises : camera, nvr)"
        );
    }
}
