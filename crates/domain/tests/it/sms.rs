//! SMS that fit (issue 26, item 6; NOT-1, NOT-3): the GSM 03.38 alphabet and its extension
//! table, French text kept in GSM by transliteration, UCS-2 only for a name with no Latin
//! form, segments counted as a network counts them and bounded.

use proptest::prelude::*;
use vigie_domain::sms::{self, Encoding, MAX_SEGMENTS, Part};

#[test]
fn french_accents_that_gsm_has_are_kept_the_others_lose_their_accent() {
    assert_eq!(
        sms::to_gsm("Caméra à l'entrée, où ? Élevée").as_deref(),
        Some("Caméra à l'entrée, où ? Élevée")
    );
    assert_eq!(
        sms::to_gsm("Fenêtre, maître, hôtel, flûte, Noël, naïf, reçu, cœur, Œuvre").as_deref(),
        Some("Fenetre, maitre, hotel, flute, Noel, naif, recu, coeur, OEuvre")
    );
    // Capitals GSM lacks (À, È, Ê…) lose their accent; Ç and É are kept.
    assert_eq!(
        sms::to_gsm("À l'ÉTAGE, ÇA ÈRE").as_deref(),
        Some("A l'ÉTAGE, ÇA ERE")
    );
}

#[test]
fn french_typography_becomes_its_plain_form() {
    assert_eq!(
        sms::to_gsm("« Caméra » l’accueil… 72\u{a0}°C — 3\u{202f}500 n° 4").as_deref(),
        Some("\"Caméra\" l'accueil... 72 C - 3 500 no 4")
    );
}

#[test]
fn a_name_with_no_latin_form_keeps_its_letters_in_ucs2() {
    assert_eq!(sms::to_gsm("Κάμερα 3"), None);
    let message = sms::compose("Vigie : caméra « Κάμερα 3 » hors ligne");
    assert_eq!(message.encoding, Encoding::Ucs2);
    // In UCS-2 nothing needs transliterating: the text is sent as written.
    assert_eq!(message.text, "Vigie : caméra « Κάμερα 3 » hors ligne");
    assert_eq!(sms::compose("Агентство").encoding, Encoding::Ucs2);
    assert_eq!(sms::compose("北京办事处").encoding, Encoding::Ucs2);
    // A French page stays in GSM.
    assert_eq!(
        sms::compose("Vigie Critique #4 : disque défaillant. NVR-1 - Siège").encoding,
        Encoding::Gsm7
    );
}

#[test]
fn segments_are_counted_as_the_network_counts_them() {
    let gsm = |n: usize| "a".repeat(n);
    assert_eq!(sms::segments(&gsm(160), Encoding::Gsm7), 1);
    assert_eq!(sms::segments(&gsm(161), Encoding::Gsm7), 2);
    assert_eq!(sms::segments(&gsm(306), Encoding::Gsm7), 2);
    assert_eq!(sms::segments(&gsm(307), Encoding::Gsm7), 3);
    // The extension table costs two septets: 80 euros signs fill one segment.
    assert_eq!(sms::length(&"€".repeat(80), Encoding::Gsm7), 160);
    assert_eq!(sms::segments(&"€".repeat(80), Encoding::Gsm7), 1);
    assert_eq!(sms::segments(&"€".repeat(81), Encoding::Gsm7), 2);
    // An escape and its character are not split across segments: 152 septets then a « € »
    // leaves the first segment one septet short.
    let split = format!("{}€{}", gsm(152), gsm(152));
    assert_eq!(sms::length(&split, Encoding::Gsm7), 306);
    assert_eq!(sms::segments(&split, Encoding::Gsm7), 3);
    // UCS-2: 70, then 67 a segment.
    let ucs = |n: usize| "Ж".repeat(n);
    assert_eq!(sms::segments(&ucs(70), Encoding::Ucs2), 1);
    assert_eq!(sms::segments(&ucs(71), Encoding::Ucs2), 2);
    assert_eq!(sms::segments(&ucs(134), Encoding::Ucs2), 2);
    assert_eq!(sms::segments(&ucs(135), Encoding::Ucs2), 3);
}

#[test]
fn a_text_too_long_is_cut_to_the_bound_and_says_so() {
    let long = "Caméra extérieure du quai de chargement ".repeat(40);
    let message = sms::compose(&long);
    assert_eq!(message.encoding, Encoding::Gsm7);
    assert_eq!(message.segments, MAX_SEGMENTS);
    assert!(message.text.ends_with("..."), "{}", message.text);
    assert!(sms::length(&message.text, Encoding::Gsm7) <= 153 * MAX_SEGMENTS);
}

#[test]
fn names_are_shortened_before_a_second_segment_is_paid() {
    let head = "Vigie Critique #12 : perte du signal vidéo. ";
    let tail =
        ". Avant 03/03 10:35. Répondez 123456 ou https://vigie.integrateur.fr/a/12345-AbCdEfGhIjK";
    let equipment = "Caméra dôme de la salle des coffres, niveau -2";
    let site = "Agence Opéra Paris 9e";
    let parts = [
        Part::fixed(head),
        Part::name(equipment),
        Part::fixed(" - "),
        Part::name(site),
        Part::fixed(tail),
    ];
    let whole = sms::compose(&[head, equipment, " - ", site, tail].concat());
    assert_eq!(whole.segments, 2, "the example must need shortening");
    let fitted = sms::fit_one_segment(&parts, 10);
    assert_eq!(fitted.segments, 1, "{}", fitted.text);
    assert!(fitted.text.starts_with(head), "{}", fitted.text);
    assert!(fitted.text.ends_with(tail), "{}", fitted.text);
    // The longest name lost the most; both are still recognisable.
    // (« ô » is not in GSM: « dome ».)
    assert!(fitted.text.contains("Caméra dome"), "{}", fitted.text);
    assert!(fitted.text.contains("Agence Opéra"), "{}", fitted.text);
    // Short enough already: nothing is touched.
    let short = sms::fit_one_segment(&[Part::fixed("Vigie : "), Part::name("NVR-1")], 10);
    assert_eq!(short.text, "Vigie : NVR-1");
}

proptest! {
    /// Whatever the text, an SMS stays within the bound, in the alphabet it says, and
    /// composing it again changes nothing.
    #[test]
    fn any_text_makes_a_bounded_sms(text in "\\PC{0,700}") {
        let message = sms::compose(&text);
        prop_assert!(message.segments >= 1 && message.segments <= MAX_SEGMENTS);
        prop_assert_eq!(message.segments, sms::segments(&message.text, message.encoding));
        if message.encoding == Encoding::Gsm7 {
            let again = sms::to_gsm(&message.text);
            prop_assert_eq!(again.as_deref(), Some(message.text.as_str()));
        }
        prop_assert_eq!(sms::compose(&message.text), message);
    }

    /// French text in any mix of accents and typography never needs UCS-2.
    #[test]
    fn french_text_stays_in_gsm(text in "[a-zA-Z0-9 àâäéèêëîïôöùûüçÀÂÉÈÊËÎÏÔÙÛÇœŒæÆ«»’…–—°.,;:!?'()-]{0,400}") {
        prop_assert_eq!(sms::compose(&text).encoding, Encoding::Gsm7);
    }
}
