//! The pages in English (issue 8, X-4: French by default, English available). The English
//! table cannot rot: every French text the pages translate has its English in
//! `locales/en.toml`, and the table holds nothing else. Over HTTP, with the language cookie
//! the pages come back in English, without it in French; the switch keeps the choice in the
//! cookie and goes back only to a page of this site.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::json;
use vigie_domain::inventory::StaffRole;
use vigie_domain::ticket::post_mortem::all_templates;
use vigie_store::UserKind;

use crate::TestApp;
use crate::pages::{
    MINUTE, NVR, PageReply, PageSession, csrf_of, disk, first_alarm_link, form_login,
};

// ---------------------------------------------------------------------------------------------
// The table against the code.

/// Just enough of Rust's tokens to find the calls of the translation functions and their
/// string literals (comments skipped, escapes decoded).
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    Word(String),
    Punct(char),
}

fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            let (text, end) = string_literal(&chars, i + 1);
            out.push(Token::Literal(text));
            i = end;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) {
            // A raw string: r"…" or r#"…"#.
            let mut hashes = 0;
            i += 1;
            while chars[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            let start = i;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while chars[i..].iter().take(closing.len()).ne(closing.iter()) {
                i += 1;
            }
            out.push(Token::Literal(chars[start..i].iter().collect()));
            i += closing.len();
        } else if c == '\'' {
            // A character ('x', '\n', '\u{…}') or a lifetime ('a).
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|c| *c == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => i = end + 1,
                None => {
                    out.push(Token::Punct('\''));
                    i += 1;
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// A string literal's text from just after its opening quote; returns it and where the
/// literal ends.
fn string_literal(chars: &[char], mut i: usize) -> (String, usize) {
    let mut text = String::new();
    while chars[i] != '"' {
        if chars[i] != '\\' {
            text.push(chars[i]);
            i += 1;
            continue;
        }
        let escaped = chars[i + 1];
        i += 2;
        match escaped {
            'n' => text.push('\n'),
            't' => text.push('\t'),
            'r' => text.push('\r'),
            '0' => text.push('\0'),
            '\\' | '"' | '\'' => text.push(escaped),
            'u' => {
                let close = i + chars[i..].iter().position(|c| *c == '}').unwrap();
                let hex: String = chars[i + 1..close].iter().collect();
                text.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                i = close + 1;
            }
            // A line continuation: the line break and the next line's indentation go.
            '\n' => {
                while chars[i].is_whitespace() {
                    i += 1;
                }
            }
            other => panic!("unexpected escape \\{other} in a string literal"),
        }
    }
    (text, i + 1)
}

/// The translation functions of `web/i18n.rs` and which of their arguments are French keys.
const TRANSLATING: [(&str, &[usize]); 3] = [("t", &[1]), ("tf", &[1]), ("tn", &[2, 3])];

/// Every French key the source passes to the translation functions, or the calls whose key
/// is not a literal (a key built at run time could not be checked here).
fn keys_of(source: &str) -> Result<BTreeSet<String>, Vec<String>> {
    let tokens = tokens(source);
    let mut keys = BTreeSet::new();
    let mut unchecked = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        let Token::Word(name) = token else { continue };
        let Some((_, positions)) = TRANSLATING.iter().find(|(f, _)| f == name) else {
            continue;
        };
        let before = at.checked_sub(1).map(|b| &tokens[b]);
        // A method of that name, or the function's own definition, is not a call of it.
        if tokens.get(at + 1) != Some(&Token::Punct('('))
            || before == Some(&Token::Punct('.'))
            || before == Some(&Token::Word("fn".into()))
        {
            continue;
        }
        let mut arguments: Vec<Vec<&Token>> = vec![Vec::new()];
        let mut depth = 0;
        for token in &tokens[at + 2..] {
            match token {
                Token::Punct('(' | '[' | '{') => depth += 1,
                Token::Punct(')' | ']' | '}') if depth == 0 => break,
                Token::Punct(')' | ']' | '}') => depth -= 1,
                Token::Punct(',') if depth == 0 => {
                    arguments.push(Vec::new());
                    continue;
                }
                _ => {}
            }
            arguments.last_mut().unwrap().push(token);
        }
        for position in *positions {
            match arguments.get(*position).map(Vec::as_slice) {
                Some([Token::Literal(key)]) => {
                    keys.insert(key.clone());
                }
                other => unchecked.push(format!("{name}(…) with the key {other:?}")),
            }
        }
    }
    if unchecked.is_empty() {
        Ok(keys)
    } else {
        Err(unchecked)
    }
}

/// The French keys of every page module (`i18n.rs`, the machinery itself, aside).
fn keys_of_the_pages() -> BTreeMap<String, BTreeSet<String>> {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web");
    let mut files: Vec<_> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| !path.ends_with("i18n.rs"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the page modules: {files:?}");
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unchecked = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match keys_of(&std::fs::read_to_string(&path).unwrap()) {
            Ok(found) => {
                for key in found {
                    keys.entry(key).or_default().insert(name.clone());
                }
            }
            Err(calls) => unchecked.extend(calls.into_iter().map(|c| format!("{name}: {c}"))),
        }
    }
    assert!(
        unchecked.is_empty(),
        "translation keys must be string literals, so that this test can check them:\n{}",
        unchecked.join("\n")
    );
    keys
}

fn english_table() -> BTreeMap<String, String> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/locales/en.toml")).unwrap();
    toml::from_str(&source).expect("locales/en.toml is a table of strings")
}

/// The `{name}`s of a text.
fn placeholders(text: &str) -> BTreeSet<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect()
}

/// The values an English text leaves out, on purpose: a grouped alarm's symptom is Vigie's
/// French about the alarm (« Alarme Mineure n°12 : disque presque plein »), not repeated in
/// English.
const LEFT_OUT_IN_ENGLISH: &[(&str, &str)] =
    &[("Alarme mineure n°{alarm} regroupée : {symptom}", "symptom")];

/// Whether `english` has the placeholders of `french`: the same, but those it leaves out.
fn same_placeholders(french: &str, english: &str) -> bool {
    let mut expected = placeholders(french);
    for (key, name) in LEFT_OUT_IN_ENGLISH {
        if *key == french {
            expected.remove(name);
        }
    }
    placeholders(english) == expected
}

/// Where the domain's phrases (the histories' events) are said, in the lists of keys.
const DOMAIN_PHRASES: &str = "vigie_domain::ticket::post_mortem::all_templates";

#[test]
fn every_french_text_of_the_pages_has_its_english_and_the_table_nothing_else() {
    let mut keys = keys_of_the_pages();
    for template in all_templates() {
        keys.entry(template.to_owned())
            .or_default()
            .insert(DOMAIN_PHRASES.to_owned());
    }
    let table = english_table();
    assert!(keys.len() > 150, "{} keys found", keys.len());
    let missing: Vec<String> = keys
        .iter()
        .filter(|(key, _)| !table.contains_key(*key))
        .map(|(key, files)| format!("{key:?} ({})", Vec::from_iter(files.clone()).join(", ")))
        .collect();
    let unused: Vec<&String> = table
        .keys()
        .filter(|key| !keys.contains_key(*key))
        .collect();
    let mismatched: Vec<String> = table
        .iter()
        .filter(|(french, english)| {
            english.trim().is_empty() || !same_placeholders(french, english)
        })
        .map(|(french, english)| format!("{french:?} = {english:?}"))
        .collect();
    assert!(
        missing.is_empty() && unused.is_empty() && mismatched.is_empty(),
        "locales/en.toml\n- without English: {missing:#?}\n- no longer used: {unused:#?}\n\
         - empty, or not the same placeholders: {mismatched:#?}"
    );
}

/// The histories say the domain's phrases (issue 24: their English is not written again
/// beside them): each template has its English, with the same placeholders, so that none
/// falls back to French.
#[test]
fn every_phrase_of_the_domain_has_its_english() {
    let table = english_table();
    let templates = all_templates();
    assert!(templates.len() > 40, "{templates:?}");
    let unique: BTreeSet<&str> = templates.iter().copied().collect();
    assert_eq!(unique.len(), templates.len(), "a template listed twice");
    let missing: Vec<&str> = templates
        .iter()
        .copied()
        .filter(|template| {
            table
                .get(*template)
                .is_none_or(|english| !same_placeholders(template, english))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "locales/en.toml: the domain's phrases without their English (or not the same \
         placeholders): {missing:#?}"
    );
}

#[test]
fn the_scan_finds_the_keys_and_refuses_what_it_cannot_check() {
    let source = r#"
        // t(lang, "dans un commentaire") is not a call.
        fn t(lang: Lang, french: &'static str) -> &'static str { french }
        let a = t(lang, "Mur d'alarmes");
        let b = i18n::tf(viewer.lang, "par {name}", &[("name", &who)]);
        let c = tn(lang, n, "{n} alarme", "{n} alarmes \
                 ouvertes");
        let d = text.t("pas une traduction");
        let e = '"'; let f: &'static str = "pas une clé";
        html! { p { (t(lang, "Échéance : « \u{e0} »")) } }
    "#;
    let keys = keys_of(source).unwrap();
    assert_eq!(
        keys,
        BTreeSet::from(
            [
                "Mur d'alarmes",
                "par {name}",
                "{n} alarme",
                "{n} alarmes ouvertes",
                "Échéance : « à »"
            ]
            .map(String::from)
        )
    );
    // A key made at run time cannot be checked against the table: refused.
    let refused = keys_of(r#"let a = t(lang, label); let b = tf(lang, &format!("x"), &[]);"#);
    assert_eq!(refused.unwrap_err().len(), 2);
}

#[test]
fn the_pages_script_has_no_words_of_its_own() {
    let script = include_str!("../../assets/vigie.js");
    for french in [
        "reste",
        "dépassé",
        "en direct",
        "hors ligne",
        "reconnexion",
        "' j '",
    ] {
        assert!(!script.contains(french), "{french} in vigie.js");
    }
}

// ---------------------------------------------------------------------------------------------
// The pages over HTTP.

/// The same session, reading English.
fn in_english<'a>(session: &PageSession<'a>) -> PageSession<'a> {
    PageSession {
        app: session.app,
        cookie: format!("{}; vigie_langue=en", session.cookie),
    }
}

/// French words of the pages' own text, none of which may remain on an English page.
const FRENCH: &[&str] = &[
    "Se déconnecter",
    "Équipement",
    "Mur d'alarmes",
    "Tableau de bord",
    "Signaler",
    "Boîte d'envoi",
    "Astreinte",
    "hors ligne",
    "en direct",
    "Aller au contenu",
    "Aucun",
    "Gravité",
    "Statut",
    "Depuis",
    "Problème",
    "Filtrer",
    "Disponibilité",
    "Priorité",
    "priorité",
    "reste ",
    "dépassé",
    "échéance",
    "Échéance",
    "Historique",
    "Acquitt",
    "Prendre en charge",
    "prise en charge",
    "Je ne sais pas",
    "suivant",
    "en cours",
    "il y a",
    "en service",
    "inconnu",
    "Modifier",
    "Critique",
    "critique",
    "Majeure",
    "levée",
    "Levée",
    "disque presque plein",
    "enregistreur",
    "Alarme",
    "Notifié",
    "Prévenus",
    "seulement",
    " j ",
];

/// An English page: its language, the English words given, and none of [`FRENCH`].
fn assert_english(path: &str, reply: &PageReply, english: &[&str]) {
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    assert!(
        reply.text.contains("<html lang=\"en\">"),
        "{path}: {}",
        reply.text
    );
    for word in english {
        assert!(
            reply.text.contains(word),
            "{path}: {word:?} expected in {}",
            reply.text
        );
    }
    // The messages sent to a client are French (documented in docs/web.md): their text, in
    // the ticket's page, is left out of the check.
    let mut shown = reply.text.clone();
    while let Some(start) = shown.find("<pre class=\"message\">") {
        let end = shown[start..]
            .find("</pre>")
            .map_or(shown.len(), |end| start + end + "</pre>".len());
        shown.replace_range(start..end, "");
    }
    let left: Vec<&&str> = FRENCH
        .iter()
        .filter(|word| shown.contains(**word))
        .collect();
    assert!(
        left.is_empty(),
        "{path}: French left {left:?} in {}",
        reply.text
    );
}

#[tokio::test]
async fn with_the_language_cookie_the_pages_come_back_in_english() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    // A Critical alarm on the wall, with its acknowledgement deadline running.
    let agent = app.agent("robot").await;
    let push = json!({"observations": [disk(NOW_MINUS_10, 97.0), disk(crate::NOW, 97.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let client = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;

    // Without the cookie: French, the product's language, whatever the browser prefers.
    let french = app
        .http
        .get(format!("{}/console", app.base))
        .header("cookie", &staff.cookie)
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(french.contains("<html lang=\"fr\">"), "{french}");
    for word in [
        "Mur d'alarmes",
        "Se déconnecter",
        "Critique",
        "disque presque plein",
    ] {
        assert!(french.contains(word), "{word} expected in {french}");
    }
    assert!(
        french.contains("href=\"/langue?choix=en&amp;suite=/console\""),
        "{french}"
    );
    // The words of the page's script, in French.
    assert!(french.contains("data-left=\"reste {d}\""), "{french}");

    let staff_en = in_english(&staff);
    let client_en = in_english(&client);

    // The client reports a problem by the guided form, in English.
    let path = "/portail/signaler?site=BNF-PAR-OPERA";
    let form = client_en.get(path).await;
    assert_english(
        path,
        &form,
        &[
            "Report a problem",
            "What is happening?",
            "suggested priority: P1 (critical)",
            "I don't know / several pieces of equipment",
            "Send the report",
        ],
    );
    let sent = client_en
        .post_form(
            "/portail/signaler",
            &[
                ("csrf", &csrf_of(&form.text)),
                ("site", "BNF-PAR-OPERA"),
                ("equipment", NVR),
                ("symptom", "The recorder no longer answers"),
                ("impact", "one_equipment"),
                ("criticality", ""),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    let ticket = client_en.get(sent.location.as_deref().unwrap()).await;
    assert_english(
        "the client's ticket",
        &ticket,
        &[
            "Your report is recorded",
            "Ticket opened, priority",
            "History",
        ],
    );

    let wall = staff_en.get("/console").await;
    assert_english(
        "/console",
        &wall,
        &[
            "Alarm wall",
            "Log out",
            "Unacknowledged",
            "Critical",
            "disk almost full",
            "1 alarm to handle on this page, the most urgent first",
            " left</span>",
            "data-left=\"{d} left\"",
            "data-days=\"{d} d {h} h\"",
            "data-on=\"live\"",
            "href=\"/langue?choix=fr&amp;suite=/console\"",
            ">Français<",
        ],
    );
    let id = first_alarm_link(&wall.text);
    let path = format!("/console/alarmes/{id}");
    let title = format!("Alarm #{id}");
    let alarm = staff_en.get(&path).await;
    assert_english(
        &path,
        &alarm,
        &[
            title.as_str(),
            "Severity",
            "Alarm raised (Critical): disk almost full",
            "Acknowledge",
            "Take in charge",
            " ago)",
        ],
    );
    let equipment = staff_en
        .get("/console/equipements?site=BNF-PAR-OPERA")
        .await;
    assert_english(
        "/console/equipements",
        &equipment,
        &["Equipment", "Type", "recorder", "Filter"],
    );
    let site = staff_en.get("/console/sites/BNF-PAR-OPERA").await;
    assert_english(
        "/console/sites/BNF-PAR-OPERA",
        &site,
        &[
            "Availability over 30 days",
            "Alarms of the last 30 days",
            "Edit the record",
            "ongoing, ",
        ],
    );
    let queue = staff_en.get("/console/tickets").await;
    assert_english(
        "/console/tickets",
        &queue,
        &[
            "Ticket queue",
            "Next deadline",
            "Assigned to",
            "The recorder no longer answers",
            " left</span>",
        ],
    );
    let dashboard = client_en.get("/portail").await;
    assert_english(
        "/portail",
        &dashboard,
        &[
            "Dashboard",
            "Availability over 30 days",
            "Out of service now",
            "%",
        ],
    );
    // Figures the English way: a decimal point, the sign against the number.
    let availability = dashboard.text.split("id=\"availability\">").nth(1).unwrap();
    let availability = &availability[..availability.find('<').unwrap()];
    assert!(
        availability.ends_with("%") && !availability.contains(',') && !availability.contains(' '),
        "{availability}"
    );

    // The other pages of the console and the portal.
    for (path, english) in [
        (
            format!("/console/equipements/{NVR}"),
            &[
                "Checks",
                "Measurements of the last 24 hours",
                "min 97.0, max 97.0",
            ][..],
        ),
        (
            "/console/envois".into(),
            &["Outbox", "alarm #", "Recipient"][..],
        ),
        (
            "/console/astreintes".into(),
            &["No on-call rotation defined"][..],
        ),
        (
            "/console/journal?objet=BNF-PAR-OPERA".into(),
            &["Audit trail", "creation"][..],
        ),
        ("/console/documents".into(), &["No document."][..]),
        (
            "/console/inventaire/site/BNF-PAR-OPERA".into(),
            &["Inventory: site BNF-PAR-OPERA", "Save"][..],
        ),
        ("/mot-de-passe".into(), &["Change password", "at least"][..]),
    ] {
        assert_english(&path, &staff_en.get(&path).await, english);
    }
    for (path, english) in [
        (
            "/portail/tickets",
            &["My tickets", "Show closed tickets too"][..],
        ),
        ("/portail/documents", &["No document."][..]),
    ] {
        assert_english(path, &client_en.get(path).await, english);
    }

    // Pages that could not be shown, in English too.
    let refused = client_en.get("/console").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(
        refused.text.contains("<html lang=\"en\">"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("This page does not exist"),
        "{}",
        refused.text
    );
    let invalid = staff_en.get("/console?client=%3Cscript%3E").await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert!(
        invalid.text.contains("invalid reference"),
        "{}",
        invalid.text
    );
    let forged = staff_en
        .post_form(
            &format!("/console/alarmes/{id}/acquitter"),
            &[("csrf", "faux")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        forged.text.contains("This form has expired"),
        "{}",
        forged.text
    );
    // …and in French without the cookie.
    let refused = client.get("/console").await;
    assert!(
        refused.text.contains("Cette page n'existe pas"),
        "{}",
        refused.text
    );
    app.finish().await;
}

const NOW_MINUS_10: i64 = crate::NOW - 10 * MINUTE;

/// The answer to `GET path` with `cookie`, redirects not followed.
async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(format!("{}{path}", app.base));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_switch_keeps_the_choice_and_goes_back_only_within_the_site() {
    let app = TestApp::spawn().await;
    let switched = get(
        &app,
        "/langue?choix=en&suite=/console/alarmes/4%3Ffait%3Dacquittee",
        None,
    )
    .await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        switched.headers()["location"],
        "/console/alarmes/4?fait=acquittee"
    );
    let cookie = switched.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    for part in [
        "vigie_langue=en",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=31536000",
    ] {
        assert!(cookie.contains(part), "{part} expected in {cookie}");
    }
    let back = get(&app, "/langue?choix=fr&suite=/console", None).await;
    assert!(
        back.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("vigie_langue=fr;")
    );
    // An unknown language is French, the default.
    let unknown = get(&app, "/langue?choix=de&suite=/", None).await;
    assert!(
        unknown.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("vigie_langue=fr;")
    );

    // Only a page of this site: anything else goes home.
    for suite in [
        "https://autre.example/",
        "//autre.example/",
        "/%5Cautre.example",
        "%2F%2Fautre.example",
        "/%09/autre.example",
        "/%0A/autre.example",
        "autre.example",
        "javascript:alert(1)",
        "",
    ] {
        let reply = get(&app, &format!("/langue?choix=en&suite={suite}"), None).await;
        assert_eq!(reply.status(), StatusCode::SEE_OTHER, "{suite}");
        assert_eq!(reply.headers()["location"], "/", "{suite}");
    }
    let reply = get(&app, "/langue?choix=en", None).await;
    assert_eq!(reply.headers()["location"], "/");

    // The login page: its own switch, and in English with the cookie.
    let login = get(&app, "/connexion?suite=/console", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(login.contains("<html lang=\"fr\">"), "{login}");
    assert!(
        login.contains("href=\"/langue?choix=en&amp;suite=/connexion%3Fsuite%3D/console\""),
        "{login}"
    );
    let login = get(&app, "/connexion?suite=/console", Some("vigie_langue=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(login.contains("<html lang=\"en\">"), "{login}");
    assert!(login.contains("Log in to Vigie"), "{login}");
    assert!(login.contains(">Français<"), "{login}");
    assert!(!login.contains("Mot de passe"), "{login}");
    let wrong = app
        .http
        .post(format!("{}/connexion", app.base))
        .header("cookie", "vigie_langue=en")
        .form(&[
            ("username", "personne"),
            ("password", "faux"),
            ("suite", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("incorrect username or password"), "{wrong}");
    app.finish().await;
}
