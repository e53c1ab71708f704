//! The rule a new password must pass (issue 23, item 11): long enough, not trivial (one
//! character, a sequence, a short pattern repeated, the login name inside) and not one of the
//! common or breached passwords bundled in `common_passwords.txt`.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The bundled list, one lowercase password a line; `#` lines are comments.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Keyboard rows (AZERTY and QWERTY) and the digits: a password that only walks along one of
/// them, forwards or backwards, is a sequence.
const ROWS: &[&str] = &[
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "yxcvbnm",
    // Row after row, as a finger runs down the keyboard.
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertyuiopasdfghjklzxcvbnm",
    "1234567890",
    "abcdefghijklmnopqrstuvwxyz",
];

fn common() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Why a password is refused, in French, or `None` if it passes the rule (length aside).
pub fn weakness(password: &str, username: &str) -> Option<String> {
    let lower = password.to_lowercase();
    let plain: String = lower
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.'))
        .collect();
    let chars: Vec<char> = plain.chars().collect();
    if chars.is_empty() {
        return Some(
            "le mot de passe ne peut pas être fait que d'espaces ou de séparateurs".into(),
        );
    }
    if chars.iter().all(|c| *c == chars[0]) {
        return Some("le mot de passe répète un seul caractère".into());
    }
    if is_repetition(&chars) {
        return Some("le mot de passe répète un même motif".into());
    }
    if is_sequence(&plain) {
        return Some(
            "le mot de passe est une suite (1234…, abcd…, une rangée du clavier comme azerty…)"
                .into(),
        );
    }
    let name = username.trim().to_lowercase();
    let name_parts = std::iter::once(name.as_str()).chain(name.split(['.', '_', '-', '@']));
    for part in name_parts {
        if part.chars().count() >= 3 && plain.contains(&part.replace(['.', '_', '-'], "")) {
            return Some("le mot de passe ne doit pas contenir l'identifiant".into());
        }
    }
    let list = common();
    let core = core_of(&plain);
    if list.contains(plain.as_str())
        || list.contains(core.as_str())
        || list.contains(unleet(&core).as_str())
        || list.contains(unleet(&plain).as_str())
    {
        return Some(
            "ce mot de passe est trop courant (il figure parmi les mots de passe les plus employés ou divulgués) : choisissez-en un autre, par exemple plusieurs mots sans rapport entre eux"
                .into(),
        );
    }
    None
}

/// The password without the digits and symbols around it (`Soleil2024!` → `soleil`).
fn core_of(plain: &str) -> String {
    plain.trim_matches(|c: char| !c.is_alphabetic()).to_string()
}

/// Digits and symbols read as the letters they stand for (`p@ssw0rd` → `password`).
fn unleet(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// Whether `chars` is one shorter pattern said again and again (`abcabcabcabc`, `soleilsoleil`).
fn is_repetition(chars: &[char]) -> bool {
    (1..=chars.len() / 2).any(|unit| {
        chars.len().is_multiple_of(unit) && chars.chunks(unit).all(|chunk| chunk == &chars[..unit])
    })
}

/// Whether `plain` only walks along one row (or the alphabet, or the digits), either way,
/// wrapping around (`7890123456`).
fn is_sequence(plain: &str) -> bool {
    ROWS.iter().any(|row| {
        let forward: String = row.repeat(1 + plain.len() / row.len() + 1);
        let backward: String = forward.chars().rev().collect();
        forward.contains(plain) || backward.contains(plain)
    })
}

#[cfg(test)]
mod tests {
    use super::weakness;

    #[test]
    fn trivial_and_common_passwords_are_refused() {
        for (password, why) in [
            ("aaaaaaaaaaaa", "seul caractère"),
            ("123456789012", "suite"),
            ("azertyuiopqs", "suite"),
            ("mlkjhgfdsqml", "suite"),
            ("abcabcabcabc", "motif"),
            ("soleilsoleil", "motif"),
            ("MotDePasse2024!", "courant"),
            ("mot-de-passe-123", "courant"),
            ("P@ssw0rd1234", "courant"),
            ("Azerty123456", "courant"),
            ("!!Marseille13013", "courant"),
            ("jean.dupont2024", "identifiant"),
        ] {
            let refused = weakness(password, "jean.dupont").unwrap_or_default();
            assert!(refused.contains(why), "{password}: {refused}");
        }
    }

    #[test]
    fn ordinary_strong_passwords_pass() {
        for password in [
            "un-mot-de-passe-solide",
            "mot-de-passe-de-test",
            "cheval agrafe batterie correcte",
            "Tk7#qL9!vX2m",
        ] {
            assert_eq!(weakness(password, "jean.dupont"), None, "{password}");
        }
    }
}
