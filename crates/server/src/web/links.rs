//! The pages behind the signed links Vigie sends, opened without logging in: acknowledging an
//! alarm from its SMS or email (NOT-3), confirming a ticket's fix from the resolution notice or
//! the closure reminder (SAV-6), and the satisfaction survey (SAV-7). The token in the address
//! is the only credential: it names one page of an alarm (hence one alarm and one recipient) or
//! one ticket, and expires; a wrong one is "unknown", an old one "expired". Following a link
//! changes nothing, only its button or form does, so that a mail scanner opening links
//! acknowledges or confirms nothing. Written like every page, in the reader's language.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::access::Actor;
use vigie_domain::alarm::escalation;
use vigie_domain::alarm::lifecycle::AlarmId;
use vigie_domain::ticket::Status;
use vigie_domain::ticket::desk::{SurveyAnswers, Ticket};
use vigie_store::StoreError;

use crate::AppState;
use crate::api::notifications::{LinkedPage, acknowledge_for};
use crate::delivery::{
    read_confirmation_token, read_link_token, read_short_link_token, read_survey_token,
};
use crate::web::i18n::{Lang, t, tf};
use crate::web::tickets::survey_marks_fields;
use crate::web::{document, language_switch};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ack/{token}", get(ack_page).post(ack_confirm))
        // The short form an SMS carries (issue 26, item 6): same page, expiry from the page.
        .route("/a/{token}", get(short_ack_page).post(short_ack_confirm))
        .route("/survey/{token}", get(survey_page).post(survey_answer))
        .route("/confirm/{token}", get(confirm_page).post(confirm_fix))
}

/// A page behind a link: `here` is its address, for the language switch to come back to.
fn link_page(
    state: &AppState,
    lang: Lang,
    here: &str,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> Response {
    let body = html! {
        main.narrow {
            p.switch { (language_switch(lang, here)) }
            h1 { (title) }
            (body)
        }
    };
    let mut response =
        (status, document(lang, title, state.config.demo, None, body)).into_response();
    let headers = response.headers_mut();
    // The address is a key: never kept by a cache, never sent to another page, never indexed.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

fn unavailable(state: &AppState, lang: Lang, here: &str) -> Response {
    link_page(
        state,
        lang,
        here,
        StatusCode::SERVICE_UNAVAILABLE,
        t(lang, "Service indisponible"),
        html! { p { (t(lang, "Réessayez dans un instant.")) } },
    )
}

// ---------------------------------------------------------------------------------------------
// Acknowledging an alarm (NOT-3).

/// The page of an alarm a link names, if the token is genuine and not expired.
async fn linked_alarm(
    state: &AppState,
    lang: Lang,
    here: &str,
    token: &str,
    now: i64,
) -> Result<LinkedPage, Response> {
    let unknown = || {
        link_page(
            state,
            lang,
            here,
            StatusCode::NOT_FOUND,
            t(lang, "Lien inconnu"),
            html! { p { (t(lang, "Ce lien d'acquittement n'est pas valable. Connectez-vous à Vigie pour traiter l'alarme.")) } },
        )
    };
    let key = state.deliveries.key().await.map_err(|error| {
        tracing::error!(%error, "clé d'acquittement illisible");
        unavailable(state, lang, here)
    })?;
    // The long form carries its expiry; the short one's is the page's creation plus the
    // acknowledgement hours, known once the page is read.
    let (id, expires) = match read_link_token(&key, token) {
        Some((id, expires)) => (id, Some(expires)),
        None => match read_short_link_token(&key, token) {
            Some(id) => (id, None),
            None => return Err(unknown()),
        },
    };
    let expired = || {
        link_page(
            state,
            lang,
            here,
            StatusCode::GONE,
            t(lang, "Lien expiré"),
            html! { p { (t(lang, "Ce lien d'acquittement a expiré. Connectez-vous à Vigie pour traiter l'alarme.")) } },
        )
    };
    if expires.is_some_and(|expires| now >= expires) {
        return Err(expired());
    }
    let page = match state.store.notification(id).await {
        Ok(Some(page)) => page,
        Ok(None) => return Err(unknown()),
        Err(error) => {
            tracing::error!(%error, "lecture de la notification d'un lien");
            return Err(unavailable(state, lang, here));
        }
    };
    let hours = i64::from(state.config.notifications.acknowledgement_hours);
    if expires.is_none() && now >= page.created_ms.saturating_add(hours * 3_600_000) {
        return Err(expired());
    }
    LinkedPage::of(page).ok_or_else(unknown)
}

/// What the link acknowledges: the alarm as its notification told it (in French, as sent), and
/// to whom.
fn notice_summary(lang: Lang, page: &LinkedPage) -> Markup {
    let message = escalation::render(&page.notice, None);
    html! {
        ul {
            @for line in message.text.lines().filter(|line| !line.is_empty()) {
                li { (line) }
            }
            li { (tf(lang, "Destinataire : {name}", &[("name", &page.notice.page.name)])) }
        }
    }
}

async fn short_ack_page(state: State<AppState>, lang: Lang, token: Path<String>) -> Response {
    ack_page_at(state, lang, token, "/a").await
}

async fn ack_page(state: State<AppState>, lang: Lang, token: Path<String>) -> Response {
    ack_page_at(state, lang, token, "/ack").await
}

async fn ack_page_at(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    prefix: &str,
) -> Response {
    let now = state.clock.now_ms();
    let here = format!("{prefix}/{token}");
    let page = match linked_alarm(&state, lang, &here, &token, now).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    state.alarms.sync(&state).await;
    let id: AlarmId = page.notice.alarm.id;
    let acknowledged = state
        .store
        .alarm(&Actor::console("acquittement"), id, now)
        .await
        .ok()
        .and_then(|(alarm, _)| alarm.alarm.acknowledged);
    let body = html! {
        (notice_summary(lang, &page))
        @match acknowledged {
            Some(stamp) => {
                p { strong { (t(lang, "Déjà acquittée")) } " " (tf(lang, "par {name}", &[("name", &stamp.by.as_str())])) "." }
            }
            None => {
                form method="post" {
                    button type="submit" { (tf(lang, "Acquitter l'alarme n°{id}", &[("id", &id)])) }
                }
            }
        }
    };
    let title = tf(lang, "Alarme n°{id}", &[("id", &id)]);
    link_page(&state, lang, &here, StatusCode::OK, &title, body)
}

async fn short_ack_confirm(state: State<AppState>, lang: Lang, token: Path<String>) -> Response {
    ack_confirm_at(state, lang, token, "/a").await
}

async fn ack_confirm(state: State<AppState>, lang: Lang, token: Path<String>) -> Response {
    ack_confirm_at(state, lang, token, "/ack").await
}

async fn ack_confirm_at(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    prefix: &str,
) -> Response {
    let now = state.clock.now_ms();
    let here = format!("{prefix}/{token}");
    let page = match linked_alarm(&state, lang, &here, &token, now).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let id: AlarmId = page.notice.alarm.id;
    match acknowledge_for(&state, &page).await {
        Ok(()) => {
            tracing::info!(alarm = id, by = %page.notice.page.recipient, "alarme acquittée par lien");
            let title = tf(lang, "Alarme n°{id} acquittée", &[("id", &id)]);
            let body = html! {
                (notice_summary(lang, &page))
                p { (t(lang, "Merci. L'acquittement est enregistré à votre nom ; l'escalade vers l'échelon suivant est arrêtée.")) }
            };
            link_page(&state, lang, &here, StatusCode::OK, &title, body)
        }
        // The lifecycle's and the store's own words, which are French (the domain speaks French).
        Err((status, message)) => {
            let title = tf(lang, "Alarme n°{id}", &[("id", &id)]);
            link_page(
                &state,
                lang,
                &here,
                status,
                &title,
                html! { p { (message) } },
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Confirming a fix (SAV-6) and the satisfaction survey (SAV-7).

/// Reads a token of one kind of client link: the ticket it names and its expiry.
type ReadToken = fn(&[u8], &str) -> Option<(u64, i64)>;

fn unknown_ticket_link(state: &AppState, lang: Lang, here: &str) -> Response {
    link_page(
        state,
        lang,
        here,
        StatusCode::NOT_FOUND,
        t(lang, "Lien inconnu"),
        html! { p { (t(lang, "Ce lien n'est pas valable.")) } },
    )
}

/// The ticket a client link names through `read`, if the token is genuine and not expired.
async fn linked_ticket(
    state: &AppState,
    lang: Lang,
    here: &str,
    token: &str,
    read: ReadToken,
) -> Result<Ticket, Response> {
    let unknown = || unknown_ticket_link(state, lang, here);
    let key = state.deliveries.key().await.map_err(|error| {
        tracing::error!(%error, "clé de signature des liens");
        unavailable(state, lang, here)
    })?;
    let Some((number, expires)) = read(&key, token) else {
        return Err(unknown());
    };
    if state.clock.now_ms() >= expires {
        return Err(link_page(
            state,
            lang,
            here,
            StatusCode::GONE,
            t(lang, "Lien expiré"),
            html! { p { (t(lang, "Ce lien a expiré. Connectez-vous au portail, ou répondez à notre email.")) } },
        ));
    }
    match state.store.ticket_for_link(number).await {
        Ok(Some(ticket)) => Ok(ticket),
        Ok(None) => Err(unknown()),
        Err(error) => {
            tracing::error!(%error, "lecture du ticket d'une enquête");
            Err(unavailable(state, lang, here))
        }
    }
}

/// The ticket a link is about: its number and what the client reported.
fn about(lang: Lang, ticket: &Ticket) -> Markup {
    html! {
        p { (tf(lang, "Ticket n°{number} : {symptom}", &[("number", &ticket.number), ("symptom", &ticket.report.symptom)])) }
    }
}

/// The survey's form: the three questions (those of the portal's form), marks from 1 to 5,
/// and a comment.
fn survey_form(lang: Lang, ticket: &Ticket) -> Markup {
    html! {
        (about(lang, ticket))
        form.stack method="post" {
            (survey_marks_fields(lang, |_| None))
            label for="comment" { (t(lang, "Un commentaire (facultatif)")) }
            textarea #comment name="comment" rows="4" cols="40" maxlength=(SurveyAnswers::MAX_COMMENT) {}
            div.actions { button type="submit" { (t(lang, "Envoyer mon avis")) } }
        }
    }
}

async fn survey_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Response {
    let here = format!("/survey/{token}");
    let ticket = match linked_ticket(&state, lang, &here, &token, read_survey_token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    if ticket.survey.is_some() {
        let body = html! {
            (about(lang, &ticket))
            p { (t(lang, "Votre avis est déjà enregistré. Merci.")) }
        };
        return link_page(&state, lang, &here, StatusCode::OK, t(lang, "Merci"), body);
    }
    link_page(
        &state,
        lang,
        &here,
        StatusCode::OK,
        t(lang, "Votre avis nous intéresse"),
        survey_form(lang, &ticket),
    )
}

/// The form as posted: marks as text, so that a wrong one is a clear message, not a 400.
#[derive(Debug, Deserialize)]
struct Posted {
    responsiveness: Option<String>,
    quality: Option<String>,
    communication: Option<String>,
    comment: Option<String>,
}

/// A mark as posted; anything but a number is 0, which the desk refuses with its message.
fn mark(value: &Option<String>) -> u8 {
    value
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn survey_answer(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    posted: Result<Form<Posted>, FormRejection>,
) -> Response {
    let here = format!("/survey/{token}");
    let ticket = match linked_ticket(&state, lang, &here, &token, read_survey_token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    let Ok(Form(posted)) = posted else {
        let body = html! {
            (about(lang, &ticket))
            p { (t(lang, "La réponse n'a pas pu être lue : recommencez depuis le lien de l'email.")) }
        };
        return link_page(
            &state,
            lang,
            &here,
            StatusCode::UNPROCESSABLE_ENTITY,
            t(lang, "Réponse illisible"),
            body,
        );
    };
    let answers = SurveyAnswers {
        responsiveness: mark(&posted.responsiveness),
        quality: mark(&posted.quality),
        communication: mark(&posted.communication),
        comment: posted.comment,
    };
    // The store's refusals are in its own words, which are French (the domain speaks French).
    match state
        .store
        .answer_survey(ticket.number, answers, state.clock.now_ms())
        .await
    {
        Ok(_) => {
            let body = html! {
                (about(lang, &ticket))
                p { (t(lang, "Votre avis est enregistré. Merci de l'avoir donné.")) }
            };
            link_page(&state, lang, &here, StatusCode::OK, t(lang, "Merci"), body)
        }
        Err(StoreError::Invalid(message)) => {
            let body = html! {
                p { (message) }
                (survey_form(lang, &ticket))
            };
            link_page(
                &state,
                lang,
                &here,
                StatusCode::UNPROCESSABLE_ENTITY,
                t(lang, "Réponse incomplète"),
                body,
            )
        }
        Err(StoreError::Conflict(message)) => {
            let body = html! {
                (about(lang, &ticket))
                p { (message) }
            };
            link_page(
                &state,
                lang,
                &here,
                StatusCode::CONFLICT,
                t(lang, "Merci"),
                body,
            )
        }
        Err(StoreError::NotFound) => unknown_ticket_link(&state, lang, &here),
        Err(error) => {
            tracing::error!(%error, "réponse à une enquête non enregistrée");
            unavailable(&state, lang, &here)
        }
    }
}

async fn confirm_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Response {
    let here = format!("/confirm/{token}");
    let ticket = match linked_ticket(&state, lang, &here, &token, read_confirmation_token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    let body = html! {
        (about(lang, &ticket))
        @match ticket.status {
            Status::Resolved => {
                form method="post" {
                    button type="submit" { (t(lang, "Je confirme que le problème est réglé")) }
                }
                p { (t(lang, "Si le problème persiste, répondez à notre email ou appelez-nous : le ticket reste ouvert.")) }
            }
            Status::Closed => {
                p { (t(lang, "Ce ticket est clos. Merci.")) }
            }
            _ => {
                p { (t(lang, "Ce ticket est de nouveau en cours de traitement.")) }
            }
        }
    };
    link_page(
        &state,
        lang,
        &here,
        StatusCode::OK,
        t(lang, "Confirmer la résolution"),
        body,
    )
}

async fn confirm_fix(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Response {
    let here = format!("/confirm/{token}");
    let ticket = match linked_ticket(&state, lang, &here, &token, read_confirmation_token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    match state
        .store
        .confirm_by_link(
            &state.escalation().policy,
            ticket.number,
            state.clock.now_ms(),
        )
        .await
    {
        Ok(_) => {
            let body = html! {
                (about(lang, &ticket))
                p { (t(lang, "Votre confirmation est enregistrée : le ticket est clos.")) }
            };
            link_page(&state, lang, &here, StatusCode::OK, t(lang, "Merci"), body)
        }
        Err(StoreError::Conflict(message)) => {
            let body = html! {
                (about(lang, &ticket))
                p { (message) }
            };
            link_page(
                &state,
                lang,
                &here,
                StatusCode::CONFLICT,
                t(lang, "Confirmer la résolution"),
                body,
            )
        }
        Err(StoreError::NotFound) => unknown_ticket_link(&state, lang, &here),
        Err(error) => {
            tracing::error!(%error, "confirmation par lien non enregistrée");
            unavailable(&state, lang, &here)
        }
    }
}
