//! How the pages write things for people, in the viewer's language: instants on the
//! integrator's clock (Paris; numeric, the same in both languages), durations, severities and
//! statuses, and the pieces of markup the pages share (severity badges, countdowns that the
//! page's script keeps running, pagers).

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use vigie_domain::alarm::lifecycle::Status;
use vigie_domain::policy::Severity;

use crate::web::i18n::{Lang, t, tf};
use crate::web::labels;

/// The clock the console and the portal show instants on (the integrator's; sites' own time
/// zones are in their messages).
fn paris() -> &'static TimeZone {
    static PARIS: OnceLock<TimeZone> = OnceLock::new();
    PARIS.get_or_init(|| TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC))
}

/// `29/11/2026 17:44`, on the Paris clock.
pub fn when(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(at) => at
            .to_zoned(paris().clone())
            .strftime("%d/%m/%Y %H:%M")
            .to_string(),
        Err(_) => "—".into(),
    }
}

/// `2026-11-29T17:44:00+01:00`, for `<time datetime>`.
pub fn machine_time(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(at) => at
            .to_zoned(paris().clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// `3 j 4 h` (`3 d 4 h`), `2 h 05 min`, `12 min`, `40 s`: the two largest units. The page's
/// script writes the same from the same words (`document`'s `data-` attributes).
pub fn duration(lang: Lang, ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    if days > 0 {
        tf(lang, "{d} j {h} h", &[("d", &days), ("h", &hours)])
    } else if hours > 0 {
        let minutes = format!("{minutes:02}");
        tf(lang, "{h} h {m} min", &[("h", &hours), ("m", &minutes)])
    } else if minutes > 0 {
        tf(lang, "{m} min", &[("m", &minutes)])
    } else {
        tf(lang, "{s} s", &[("s", &seconds)])
    }
}

/// An instant, readable, with its machine form.
pub fn time(ms: i64) -> Markup {
    html! { time datetime=(machine_time(ms)) { (when(ms)) } }
}

/// How long ago, kept running by the page's script.
pub fn age(lang: Lang, since_ms: i64, now_ms: i64) -> Markup {
    html! {
        span.age data-since=(since_ms) title=(when(since_ms)) { (duration(lang, now_ms - since_ms)) }
    }
}

/// A deadline counting down (`reste 12 min`) or passed (`dépassé de 3 min`), kept running by
/// the page's script.
pub fn countdown(lang: Lang, deadline_ms: i64, now_ms: i64) -> Markup {
    let left = deadline_ms - now_ms;
    let text = if left >= 0 {
        tf(lang, "reste {d}", &[("d", &duration(lang, left))])
    } else {
        tf(lang, "dépassé de {d}", &[("d", &duration(lang, -left))])
    };
    html! {
        span.countdown.late[left < 0] data-deadline=(deadline_ms) title=(tf(lang, "échéance {when}", &[("when", &when(deadline_ms))])) {
            (text)
        }
    }
}

pub fn severity(lang: Lang, severity: Severity) -> Markup {
    html! { span class=(format!("badge sev-{}", severity.key())) { (labels::severity(lang, severity)) } }
}

pub fn status(lang: Lang, status: Status) -> Markup {
    html! { span class=(format!("status st-{}", status.key())) { (labels::alarm_status(lang, status)) } }
}

/// A series drawn as a small SVG line over `[from, to)`, scaled to its own minimum and
/// maximum, with them written beside it; nothing to draw is said in words.
pub fn sparkline(lang: Lang, points: &[(i64, f64)], from: i64, to: i64, label: &str) -> Markup {
    const WIDTH: f64 = 240.0;
    const HEIGHT: f64 = 40.0;
    if points.is_empty() || to <= from {
        return html! { span.muted { (t(lang, "pas de mesure")) } };
    }
    let (low, high) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let span = if high > low { high - low } else { 1.0 };
    let coordinates: Vec<String> = points
        .iter()
        .map(|(at, value)| {
            let x = (at - from) as f64 / (to - from) as f64 * WIDTH;
            let y = HEIGHT - 2.0 - (value - low) / span * (HEIGHT - 4.0);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let (low, high) = (lang.decimal(low, 1), lang.decimal(high, 1));
    let described = tf(
        lang,
        "{label} : de {low} à {high} sur 24 h",
        &[("label", &label), ("low", &low), ("high", &high)],
    );
    html! {
        svg.sparkline width=(WIDTH) height=(HEIGHT) viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(described) {
            polyline fill="none" stroke="#0b4f8a" stroke-width="1.5" points=(coordinates.join(" ")) {}
        }
        " " span.muted { (tf(lang, "min {low}, max {high}", &[("low", &low), ("high", &high)])) }
    }
}

/// A channel's name as stored (`sms`, `email`…), for people.
pub fn channel_label(lang: Lang, channel: &str) -> &str {
    serde_json::from_value::<vigie_domain::policy::Channel>(serde_json::Value::String(
        channel.to_string(),
    ))
    .map(|c| labels::channel(lang, c))
    .unwrap_or(channel)
}

/// A notification's status as stored (`pending`, `sent`, `failed`), for people.
pub fn notification_status(lang: Lang, status: &str) -> &str {
    match status {
        "pending" => t(lang, "en attente"),
        "sent" => t(lang, "envoyée"),
        "failed" => t(lang, "en échec"),
        other => other,
    }
}

/// Percent-encodes a query value or a path for a URL.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_on_the_paris_clock_across_dst() {
        // 2026-03-29T00:30Z is 01:30 in winter time; 2026-03-29T01:30Z is 03:30 in summer.
        assert_eq!(when(1_774_744_200_000), "29/03/2026 01:30");
        assert_eq!(when(1_774_747_800_000), "29/03/2026 03:30");
    }

    #[test]
    fn durations_keep_two_units() {
        assert_eq!(duration(Lang::Fr, 40_000), "40 s");
        assert_eq!(duration(Lang::Fr, 12 * 60_000 + 5_000), "12 min");
        assert_eq!(duration(Lang::Fr, 2 * 3_600_000 + 5 * 60_000), "2 h 05 min");
        assert_eq!(
            duration(Lang::Fr, 3 * 86_400_000 + 4 * 3_600_000),
            "3 j 4 h"
        );
        assert_eq!(
            duration(Lang::En, 3 * 86_400_000 + 4 * 3_600_000),
            "3 d 4 h"
        );
        assert_eq!(duration(Lang::En, 2 * 3_600_000 + 5 * 60_000), "2 h 05 min");
        assert_eq!(duration(Lang::Fr, -5), "0 s");
    }

    #[test]
    fn countdowns_say_what_is_left_or_how_late() {
        let text = |lang, left| countdown(lang, left, 0).into_string();
        assert!(text(Lang::Fr, 12 * 60_000).contains("reste 12 min"));
        assert!(text(Lang::Fr, -3 * 60_000).contains("dépassé de 3 min"));
        assert!(text(Lang::En, 12 * 60_000).contains("12 min left"));
        assert!(text(Lang::En, -3 * 60_000).contains("3 min overdue"));
    }

    #[test]
    fn urls_are_encoded() {
        assert_eq!(
            url_encode("/console?a=1&b=é"),
            "/console%3Fa%3D1%26b%3D%C3%A9"
        );
    }
}
