//! Template files: the shipped ones are valid, bad ones are refused naming their line, and no
//! text makes the parser panic.

use proptest::prelude::*;
use vigie_snmp_templates::{MAX_TEMPLATES, TemplateError, Templates};

fn error(text: &str) -> TemplateError {
    Templates::parse("modele.toml", text).expect_err("le modèle devait être refusé")
}

/// Asserts the error names the file and the line, and says `words`.
fn check(text: &str, line: usize, words: &str) {
    let error = error(text);
    let message = error.to_string();
    assert_eq!(error.line, line, "{message}");
    assert!(message.contains("modele.toml"), "{message}");
    assert!(message.contains(&format!("ligne {line}")), "{message}");
    assert!(
        message.contains(words),
        "« {words} » attendu dans : {message}"
    );
}

#[test]
fn builtin_templates_are_all_valid() {
    for (file_name, text) in Templates::builtin_files() {
        let template = Templates::parse(file_name, text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(format!("{}.toml", template.name), *file_name);
    }
    let templates = Templates::builtin();
    assert_eq!(
        templates.names().collect::<Vec<_>>(),
        ["generic-camera", "linux-net-snmp"]
    );
    let linux = templates.get("linux-net-snmp").unwrap();
    assert!(!linux.description.is_empty());
    assert!(linux.traps.len() >= 6);
}

const HEADER: &str = "name = \"essai\"\ndescription = \"Modèle d'essai\"\n";

#[test]
fn bad_oid_names_its_line() {
    let text = format!("{HEADER}[[metric]]\nname = \"t\"\noid = \"1.3.six\"\n");
    check(&text, 5, "OID « 1.3.six » invalide");
}

#[test]
fn unknown_key_names_its_line() {
    let text =
        format!("{HEADER}[[metric]]\nname = \"t\"\noid = \"1.3.6.1.2.1.1.3.0\"\nechelle = 2\n");
    check(&text, 6, "clé inconnue `echelle`");
    check("description = \"x\"\n", 1, "clé obligatoire `name` absente");
    check(
        &format!("{HEADER}[[metric]]\nname = \"t\"\noid = \"1.3.6.1\"\nscale = \"x\"\n"),
        6,
        "type de valeur invalide",
    );
}

#[test]
fn toml_syntax_error_names_its_line() {
    check(
        &format!("{HEADER}\n[[metric]\n"),
        4,
        "syntaxe TOML invalide",
    );
}

#[test]
fn missing_source_names_the_entry() {
    let text = format!("{HEADER}[[status]]\ncheck = \"snmp.x\"\ndown_when = [1]\ndetail = \"d\"\n");
    check(&text, 4, "exactement une source");
    let two = format!("{HEADER}[[metric]]\nname = \"m\"\noid = \"1.3.6.1\"\nextend = \"fan\"\n");
    check(&two, 4, "exactement une source");
}

#[test]
fn bad_names_and_values_name_their_line() {
    check(
        "name = \"Bad Name\"\ndescription = \"x\"\n",
        1,
        "nom de modèle",
    );
    check(
        &format!("{HEADER}[[metric]]\nname = \"Temperature\"\noid = \"1.3.6.1\"\n"),
        4,
        "minuscules",
    );
    check(
        &format!("{HEADER}[[metric]]\nname = \"t\"\ncolumn = \"1.3.6.1\"\n"),
        5,
        "column demande label",
    );
    check(
        &format!("{HEADER}[[metric]]\nname = \"t\"\nextend = \"bad name\"\n"),
        5,
        "nom d'extend",
    );
    check(
        &format!("{HEADER}[[metric]]\nname = \"m\"\ntotal_oid = \"1.3.6.1\"\n"),
        5,
        "vont ensemble",
    );
    check(
        &format!(
            "{HEADER}[[trap]]\noid = \"1.3.6.1\"\ncheck = \"snmp.x\"\nstatus = \"broken\"\ndetail = \"d\"\n"
        ),
        6,
        "état « broken » inconnu",
    );
    check(
        &format!(
            "{HEADER}[[trap]]\noid = \"1.3.6.1\"\ncheck = \"snmp.x\"\nstatus = \"up\"\ndetail = \"d\"\nvarbind = \"1.3.6.1.2\"\n"
        ),
        8,
        "exactement une condition",
    );
    check(
        &format!(
            "{HEADER}[[status]]\ncheck = \"snmp.x\"\noid = \"1.3.6.1\"\ndown_when = []\ndetail = \"d\"\n"
        ),
        6,
        "down_when",
    );
}

#[test]
fn too_many_oids_is_refused() {
    let mut text = HEADER.to_owned();
    for i in 0..65 {
        text.push_str(&format!(
            "[[metric]]\nname = \"m{i}\"\noid = \"1.3.6.1.{i}\"\n"
        ));
    }
    check(&text, 1, "au plus 64");
}

#[test]
fn with_replaces_by_name_and_keeps_its_bound() {
    let first = Templates::parse("a.toml", "name = \"a\"\ndescription = \"un\"\n").unwrap();
    let again = Templates::parse("a.toml", "name = \"a\"\ndescription = \"deux\"\n").unwrap();
    let templates = Templates::default().with(first).with(again);
    assert_eq!(templates.len(), 1);
    assert_eq!(templates.get("a").unwrap().description, "deux");

    let mut full = Templates::default();
    for i in 0..MAX_TEMPLATES {
        let text = format!("name = \"m{i}\"\ndescription = \"x\"\n");
        full = full
            .try_with(Templates::parse("m.toml", &text).unwrap())
            .unwrap();
    }
    let extra = Templates::parse("x.toml", "name = \"extra\"\ndescription = \"x\"\n").unwrap();
    assert!(full.clone().try_with(extra.clone()).is_err());
    assert_eq!(full.with(extra).len(), MAX_TEMPLATES);
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(text in "\\PC*") {
        let _ = Templates::parse("fuzz.toml", &text);
    }

    #[test]
    fn parse_never_panics_on_damaged_builtin_files(
        which in 0usize..2,
        cut in 0usize..4096,
        insert in "[\\[\\]=\"a-z0-9.\n ]{0,12}",
    ) {
        let (_, text) = Templates::builtin_files()[which];
        let mut damaged: String = text.chars().take(cut).collect();
        damaged.push_str(&insert);
        damaged.extend(text.chars().skip(cut + 3));
        if let Err(error) = Templates::parse("abime.toml", &damaged) {
            prop_assert!(error.line >= 1 && error.line <= damaged.lines().count().max(1) + 1);
        }
    }
}
