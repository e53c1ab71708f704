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
    match paris_time(ms) {
        Some((at, _)) => format!(
            "{:02}/{:02}/{:04} {:02}:{:02}",
            at.day(),
            at.month(),
            at.year(),
            at.hour(),
            at.minute()
        ),
        None => "—".into(),
    }
}

/// `2026-11-29T17:44:00+01:00`, for `<time datetime>`.
pub fn machine_time(ms: i64) -> String {
    match paris_time(ms) {
        Some((at, offset)) => {
            let seconds = offset.seconds();
            let sign = if seconds < 0 { '-' } else { '+' };
            let seconds = seconds.unsigned_abs();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
                at.year(),
                at.month(),
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                seconds / 3600,
                seconds % 3600 / 60
            )
        }
        None => String::new(),
    }
}

/// The Paris wall-clock time of an instant, with its offset from UTC. Written by hand rather
/// than through `strftime`, which parses its pattern on every call: a wall of fifty alarms
/// writes a few hundred times.
fn paris_time(ms: i64) -> Option<(jiff::civil::DateTime, jiff::tz::Offset)> {
    let at = Timestamp::from_millisecond(ms).ok()?;
    let offset = paris().to_offset(at);
    Some((offset.to_datetime(at), offset))
}

/// What a form says of a required field left empty, naming it as the form labels it.
pub fn must_fill(lang: Lang, label: &str) -> String {
    tf(lang, "« {field} » est à remplir.", &[("field", &label)])
}

/// A date and time typed in the form's field labelled `field`, read on `zone`'s clock; when it
/// is not one, the fault is added to `wrong` in the field's words (a form says all its faults
/// at once).
pub fn form_instant(
    lang: Lang,
    text: &str,
    zone: &jiff::tz::TimeZone,
    field: &str,
    wrong: &mut Vec<String>,
) -> Option<i64> {
    match vigie_domain::calendar::parse_instant(text.trim(), zone) {
        Ok((ms, _)) => Some(ms),
        Err(_) => {
            wrong.push(tf(
                lang,
                "« {field} » : une date et une heure sont attendues.",
                &[("field", &field)],
            ));
            None
        }
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

/// The starts of the last `days` days on the Paris clock, today's included, then `now_ms`:
/// the bounds of a daily chart's periods. A day of a clock change lasts 23 or 25 hours.
pub fn day_bounds(now_ms: i64, days: usize) -> Vec<i64> {
    let Ok(now) = Timestamp::from_millisecond(now_ms) else {
        return Vec::new();
    };
    let Ok(today) = now.to_zoned(paris().clone()).start_of_day() else {
        return Vec::new();
    };
    let mut starts: Vec<i64> = (0..days)
        .rev()
        .filter_map(|back| {
            let back = i64::try_from(back).ok()?;
            today
                .checked_sub(jiff::Span::new().days(back))
                .ok()?
                .start_of_day()
                .ok()
        })
        .map(|start| start.timestamp().as_millisecond())
        .collect();
    starts.push(now_ms);
    starts.dedup();
    starts
}

/// An availability, `99,52 %` in French, `99.52%` in English, cut to two decimals
/// (`vigie_domain::french::availability_percent`).
pub fn rate_percent(lang: Lang, rate: f64) -> String {
    let figure = lang.decimal(vigie_domain::french::availability_percent(rate, 2), 2);
    match lang {
        Lang::Fr => format!("{figure} %"),
        Lang::En => format!("{figure}%"),
    }
}

/// `90 %` (`90%`): a whole percentage, for an axis.
fn axis_percent(lang: Lang, rate: f64) -> String {
    let figure = lang.decimal(rate * 100.0, 0);
    match lang {
        Lang::Fr => format!("{figure} %"),
        Lang::En => format!("{figure}%"),
    }
}

pub(crate) fn weekday_name(lang: Lang, weekday: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday;
    match weekday {
        Weekday::Monday => t(lang, "lundi"),
        Weekday::Tuesday => t(lang, "mardi"),
        Weekday::Wednesday => t(lang, "mercredi"),
        Weekday::Thursday => t(lang, "jeudi"),
        Weekday::Friday => t(lang, "vendredi"),
        Weekday::Saturday => t(lang, "samedi"),
        Weekday::Sunday => t(lang, "dimanche"),
    }
}

fn month_name(lang: Lang, month: i8) -> &'static str {
    match month {
        1 => t(lang, "janvier"),
        2 => t(lang, "février"),
        3 => t(lang, "mars"),
        4 => t(lang, "avril"),
        5 => t(lang, "mai"),
        6 => t(lang, "juin"),
        7 => t(lang, "juillet"),
        8 => t(lang, "août"),
        9 => t(lang, "septembre"),
        10 => t(lang, "octobre"),
        11 => t(lang, "novembre"),
        _ => t(lang, "décembre"),
    }
}

/// `lundi 23 novembre` (`Monday 23 November`): a day of the Paris clock, for people.
pub fn day_name(lang: Lang, ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(at) => {
            let date = at.to_zoned(paris().clone()).date();
            tf(
                lang,
                "{weekday} {day} {month}",
                &[
                    ("weekday", &weekday_name(lang, date.weekday())),
                    ("day", &date.day()),
                    ("month", &month_name(lang, date.month())),
                ],
            )
        }
        Err(_) => "—".into(),
    }
}

/// One day of a daily availability chart: when it starts, and its rate (None: nothing to
/// measure, no equipment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayRate {
    pub start_ms: i64,
    pub rate: Option<f64>,
}

/// A daily availability chart as SVG, drawn here and needing no script: one bar per day, its
/// height the day's availability, its colour how far below 100 % it fell, each day's date and
/// rate in its tooltip (`<title>`), the day of the month beneath, and a sentence that sums it
/// up for whoever does not see it (`aria-label`). The scale starts at 90 % when every day
/// stayed above it, so that small outages show; the axis says which.
pub fn daily_chart(lang: Lang, days: &[DayRate]) -> Markup {
    const BAR: f64 = 20.0;
    const GAP: f64 = 4.0;
    const LEFT: f64 = 48.0;
    const TOP: f64 = 8.0;
    const PLOT: f64 = 110.0;
    const BELOW: f64 = 22.0;
    let measured: Vec<(i64, f64)> = days
        .iter()
        .filter_map(|day| day.rate.map(|rate| (day.start_ms, rate)))
        .collect();
    let Some(&(lowest_day, lowest)) = measured
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    else {
        return html! { p.panel { (t(lang, "Aucun équipement à mesurer.")) } };
    };
    let floor = if lowest >= 0.9 { 0.9 } else { 0.0 };
    let full = measured.iter().filter(|(_, rate)| *rate >= 1.0).count();
    let summary = if full == measured.len() {
        tf(
            lang,
            "Disponibilité par jour sur {n} jours : 100 % chaque jour.",
            &[("n", &measured.len())],
        )
    } else {
        tf(
            lang,
            "Disponibilité par jour sur {n} jours : {full} jours à 100 %, la plus basse {rate} le {day}.",
            &[
                ("n", &measured.len()),
                ("full", &full),
                ("rate", &rate_percent(lang, lowest)),
                ("day", &day_name(lang, lowest_day)),
            ],
        )
    };
    let width = LEFT + days.len() as f64 * (BAR + GAP);
    let height = TOP + PLOT + BELOW;
    let y_of = |rate: f64| TOP + PLOT * (1.0 - ((rate - floor) / (1.0 - floor)).clamp(0.0, 1.0));
    html! {
        svg.chart viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(summary) {
            text.axis x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { (axis_percent(lang, 1.0)) }
            text.axis x=(LEFT - 6.0) y=(TOP + PLOT) text-anchor="end" { (axis_percent(lang, floor)) }
            line.baseline x1=(LEFT) y1=(TOP + PLOT) x2=(width) y2=(TOP + PLOT) {}
            @for (i, day) in days.iter().enumerate() {
                @let x = LEFT + i as f64 * (BAR + GAP) + GAP / 2.0;
                @let date = day_name(lang, day.start_ms);
                @match day.rate {
                    Some(rate) => {
                        @let y = y_of(rate);
                        @let tone = if rate >= 1.0 { "full" } else if rate >= 0.99 { "dip" } else { "low" };
                        rect class=(format!("bar {tone}")) x=(x) y=(format!("{y:.1}")) width=(BAR) height=(format!("{:.1}", (TOP + PLOT - y).max(1.0))) {
                            title { (tf(lang, "{day} : {rate}", &[("day", &date), ("rate", &rate_percent(lang, rate))])) }
                        }
                    }
                    None => {
                        rect.bar.none x=(x) y=(TOP + PLOT - 1.0) width=(BAR) height="1" {
                            title { (tf(lang, "{day} : {rate}", &[("day", &date), ("rate", &"—")])) }
                        }
                    }
                }
                text.axis x=(format!("{:.1}", x + BAR / 2.0)) y=(TOP + PLOT + 16.0) text-anchor="middle" { (day_number(day.start_ms)) }
            }
        }
    }
}

/// The day of the month of an instant, on the Paris clock.
fn day_number(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|at| at.to_zoned(paris().clone()).day().to_string())
        .unwrap_or_default()
}

/// A channel's name as stored (`sms`, `email`…), for people.
pub fn channel_label(lang: Lang, channel: &str) -> &str {
    serde_json::from_value::<vigie_domain::policy::Channel>(serde_json::Value::String(
        channel.to_string(),
    ))
    .map(|c| labels::channel(lang, c))
    .unwrap_or(channel)
}

/// A notification's status as stored (`pending`, `sent`, `failed`, `skipped`), for people.
pub fn notification_status(lang: Lang, status: &str) -> &str {
    match status {
        "pending" => t(lang, "en attente"),
        "sent" => t(lang, "envoyée"),
        "failed" => t(lang, "en échec"),
        "skipped" => t(lang, "sans objet"),
        other => other,
    }
}

/// Percent-encodes a query value or a path for a URL.
pub fn url_encode(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    /// RFC 3986's unreserved characters, and `/` so that a path stays readable.
    const KEPT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(text, KEPT).to_string()
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
    fn times_written_by_hand_match_the_calendars_own_formatting() {
        let zoned = |ms: i64, pattern: &str| {
            Timestamp::from_millisecond(ms)
                .unwrap()
                .to_zoned(paris().clone())
                .strftime(pattern)
                .to_string()
        };
        // Every 7 h 13 min 17 s over three years (both changes of clock each year), and the
        // minutes around the changes of 2026.
        let mut instants: Vec<i64> = (0..3 * 1_213)
            .map(|i| 1_735_689_600_000 + i * 26_000_000 + i * 17_000)
            .collect();
        for change in [1_774_746_000_000_i64, 1_792_890_000_000] {
            instants.extend((-90..90).map(|minute| change + minute * 60_000));
        }
        instants.extend([0, -1_000, 1_000_000_000_000]);
        for ms in instants {
            assert_eq!(when(ms), zoned(ms, "%d/%m/%Y %H:%M"), "{ms}");
            assert_eq!(machine_time(ms), zoned(ms, "%Y-%m-%dT%H:%M:%S%:z"), "{ms}");
        }
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
    fn days_start_at_midnight_in_paris_even_across_a_clock_change() {
        // 2026-03-30T10:00Z: the last three days are 28, 29 (23 hours long) and 30 March.
        let now = 1_774_864_800_000;
        let bounds = day_bounds(now, 3);
        assert_eq!(bounds.len(), 4);
        assert_eq!(when(bounds[0]), "28/03/2026 00:00");
        assert_eq!(when(bounds[1]), "29/03/2026 00:00");
        assert_eq!(when(bounds[2]), "30/03/2026 00:00");
        assert_eq!(bounds[2] - bounds[1], 23 * 3_600_000);
        assert_eq!(bounds[3], now);
        assert_eq!(day_name(Lang::Fr, bounds[1]), "dimanche 29 mars");
        assert_eq!(day_name(Lang::En, bounds[1]), "Sunday 29 March");
    }

    #[test]
    fn a_daily_chart_has_a_bar_and_a_tooltip_per_day_and_sums_itself_up() {
        let day = 86_400_000;
        let start = 1_795_388_400_000; // Monday 23 November 2026, midnight in Paris.
        let days: Vec<DayRate> = (0..30)
            .map(|i| DayRate {
                start_ms: start + i * day,
                rate: Some(if i == 12 { 0.975 } else { 1.0 }),
            })
            .collect();
        let svg = daily_chart(Lang::Fr, &days).into_string();
        assert_eq!(svg.matches("<rect").count(), 30);
        assert_eq!(svg.matches("<title>").count(), 30);
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert!(
            svg.contains("29 jours à 100 %, la plus basse 97,50 % le "),
            "{svg}"
        );
        assert!(svg.contains(" : 97,50 %</title>"), "{svg}");
        let english = daily_chart(Lang::En, &days).into_string();
        assert!(english.contains("lowest 97.50% on "), "{english}");
        let empty = daily_chart(
            Lang::Fr,
            &[DayRate {
                start_ms: start,
                rate: None,
            }],
        );
        assert!(empty.into_string().contains("Aucun équipement"));
    }

    #[test]
    fn urls_are_encoded() {
        assert_eq!(
            url_encode("/console?a=1&b=é"),
            "/console%3Fa%3D1%26b%3D%C3%A9"
        );
    }
}

/// A message of the domain or the store for a page: without the requirement references it
/// carries for the API's readers (« (INC-6) », « (CLO-1 : …) »): people read words, not
/// codes (issue 25).
pub fn plain(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(" (") {
        let after = &rest[open + 2..];
        let code_len = after
            .char_indices()
            .take_while(|(_, c)| c.is_ascii_uppercase())
            .count();
        let is_code = (1..=3).contains(&code_len)
            && after[code_len..].starts_with('-')
            && after[code_len + 1..].starts_with(|c: char| c.is_ascii_digit());
        match (is_code, after.find(')')) {
            (true, Some(close)) => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..open + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod plain_tests {
    use super::plain;

    #[test]
    fn requirement_references_leave_the_message() {
        assert_eq!(
            plain("un post-mortem se partage avec son analyse des causes (INC-6)"),
            "un post-mortem se partage avec son analyse des causes"
        );
        assert_eq!(
            plain("se résout avec la cause (INC-5 : /resolution), puis se clôt"),
            "se résout avec la cause, puis se clôt"
        );
        assert_eq!(
            plain("Caméra (hall) hors ligne"),
            "Caméra (hall) hors ligne"
        );
        assert_eq!(plain("priorité (P1) maintenue"), "priorité (P1) maintenue");
        assert_eq!(plain("fin ("), "fin (");
    }
}
