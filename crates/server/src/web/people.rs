//! A person's page in the console (issue 25, item 4): who a name on the wall, a ticket or a
//! rotation is — their roles and how to reach them, their coming on-call shifts with the
//! calendar feed for their phone, and the open tickets confided to them.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use vigie_domain::Reference;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::oncall::OnCall;
use vigie_store::TicketFilter;

use crate::AppState;
use crate::web::i18n::{Lang, t, tf};
use crate::web::render::{time, url_encode};
use crate::web::{Nav, PageError, PageResult, Viewer, labels, page};

/// How far ahead a person's shifts are listed.
const SHIFTS_DAYS: i64 = 28;
/// Most shifts listed per rotation.
const SHIFTS_PER_ROTATION: usize = 10;
/// Most open tickets listed.
const TICKETS: i64 = 50;
const DAY_MS: i64 = 86_400_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/personnes/{reference}", get(person))
}

/// The address of a staff member's page.
pub(crate) fn person_path(reference: &Reference) -> String {
    format!("/console/personnes/{}", url_encode(reference.as_str()))
}

async fn person(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(reference): Path<String>,
) -> PageResult {
    viewer.require_staff()?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    let actor = &viewer.caller.actor;
    let Record::Staff(staff) = state
        .store
        .get(actor, ObjectKind::Staff, &reference)
        .await?
    else {
        return Err(PageError::not_found());
    };
    let now = viewer.caller.now_ms;
    let lang = viewer.lang;
    let manager = match &staff.manager {
        Some(manager) => state
            .store
            .names(actor, ObjectKind::Staff, &[manager])
            .await?
            .remove(manager)
            .map(|name| (manager.clone(), name)),
        None => None,
    };
    // Their shifts in each rotation they belong to, the one running first.
    let rotations = state.store.rotations(actor).await?;
    let shifts: Vec<(&str, Vec<OnCall>)> = rotations
        .iter()
        .filter(|rotation| rotation.members.contains(&reference))
        .map(|rotation| {
            let theirs = rotation
                .shifts(now, now + SHIFTS_DAYS * DAY_MS, SHIFTS_PER_ROTATION * 4)
                .into_iter()
                .filter(|shift| shift.member == reference)
                .take(SHIFTS_PER_ROTATION)
                .collect();
            (rotation.name.as_str(), theirs)
        })
        .collect();
    let feed = crate::web::oncall::feed_address(&state, "personnel", &reference).await?;
    let tickets = state
        .store
        .tickets(
            actor,
            &TicketFilter {
                assignee: Some(reference.clone()),
                open: Some(true),
                limit: Some(TICKETS),
                ..TicketFilter::default()
            },
        )
        .await?;
    let body = html! {
        main {
            h1 { (staff.name.as_str()) " " span.muted.ref { (reference.as_str()) } }
            div.panel { dl.facts {
                dt { (t(lang, "Rôles")) }
                dd #roles { (staff.roles.iter().map(|r| labels::staff_role(lang, *r)).collect::<Vec<_>>().join(", ")) }
                dt { (t(lang, "Courriel")) }
                dd { @match &staff.email { Some(email) => a href=(format!("mailto:{}", email.as_str())) { (email.as_str()) }, None => "—" } }
                dt { (t(lang, "Téléphone")) }
                dd { @match &staff.phone { Some(phone) => a href=(format!("tel:{}", phone.as_str())) { (phone.as_str()) }, None => "—" } }
                @if !staff.channels.is_empty() {
                    dt { (t(lang, "Joint par")) }
                    dd #channels { (channel_order(lang, &staff.channels)) }
                }
                @if let Some((manager, name)) = &manager {
                    dt { (t(lang, "Responsable")) }
                    dd { a href=(person_path(manager)) { (name) } }
                }
            } }
            h2 { (t(lang, "Astreintes")) }
            @if shifts.is_empty() {
                p.panel { (t(lang, "Dans aucune astreinte.")) }
            } @else {
                @for (rotation, theirs) in &shifts {
                    h3 { a href=(format!("/console/astreintes/{}", url_encode(rotation))) { (rotation) } }
                    @if theirs.is_empty() {
                        p.muted { (tf(lang, "Pas de garde dans les {days} jours à venir.", &[("days", &SHIFTS_DAYS)])) }
                    } @else {
                        ul.shifts {
                            @for shift in theirs {
                                li {
                                    (time(shift.from_ms)) " → " (time(shift.to_ms))
                                    @if shift.from_ms <= now { " " strong { (t(lang, "(en cours)")) } }
                                    @if shift.by_override { " " span.muted { (t(lang, "(remplacement)")) } }
                                }
                            }
                        }
                    }
                }
                p { a #person-feed href=(feed) { (t(lang, "Agenda de ses astreintes (iCal), pour son téléphone")) } }
                form.inline #revoke-person-feed method="post" action="/console/astreintes/agenda/revoquer" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="feed" value="personnel";
                    input type="hidden" name="id" value=(reference.as_str());
                    button.secondary type="submit" { (t(lang, "Changer l'adresse de cet agenda (l'ancienne cesse de marcher)")) }
                }
            }
            h2 { (t(lang, "Tickets confiés en cours")) }
            @if tickets.is_empty() {
                p.panel { (t(lang, "Aucun ticket en cours.")) }
            } @else {
                ul #person-tickets {
                    @for ticket in &tickets {
                        li {
                            a href=(format!("/console/tickets/{}", ticket.number)) { (tf(lang, "Ticket n°{number}", &[("number", &ticket.number)])) }
                            " — " (labels::priority(lang, ticket.priority)) ", " (labels::ticket_status(lang, ticket.status))
                        }
                    }
                }
            }
        }
    };
    Ok(page(&state, &viewer, staff.name.as_str(), Nav::OnCall, body).into_response())
}

/// A person's channel order (issue 26, item 3), as read: « SMS, puis appel vocal après 5 min ».
fn channel_order(lang: Lang, order: &[vigie_domain::inventory::ChannelChoice]) -> String {
    order
        .iter()
        .map(|choice| {
            let channel = labels::channel(lang, choice.channel);
            if choice.after_minutes == 0 {
                channel.to_owned()
            } else {
                tf(
                    lang,
                    "{channel} après {minutes} min",
                    &[
                        ("channel", &channel),
                        ("minutes", &choice.after_minutes.to_string()),
                    ],
                )
            }
        })
        .collect::<Vec<_>>()
        .join(t(lang, ", puis "))
}
