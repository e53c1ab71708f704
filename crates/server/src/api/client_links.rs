//! The pages behind the signed links sent to clients, without logging in. The confirmation
//! (SAV-6): the link of the resolution notice or of the closure reminder shows the ticket and a
//! button that confirms the fix and closes it. The satisfaction survey (SAV-7): the ticket's
//! number and subject and three questions (responsiveness, quality of the solution,
//! communication, from 1 to 5) and a comment, recorded once. A link is valid 30 days; a wrong
//! one is "unknown", an old one "expired"; following a link changes nothing, only the button or
//! the form does (a mail scanner opening links confirms nothing).

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vigie_domain::ticket::Status;
use vigie_domain::ticket::desk::{SurveyAnswers, Ticket};
use vigie_store::StoreError;

use crate::AppState;
use crate::api::notifications::{escape_html, page_html};
use crate::delivery::{read_confirmation_token, read_survey_token};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/survey/{token}", get(survey_page).post(survey_answer))
        .route("/confirm/{token}", get(confirm_page).post(confirm_fix))
}

/// The questions, in the order of the form.
const QUESTIONS: [(&str, &str); 3] = [
    ("responsiveness", "Réactivité de notre équipe"),
    ("quality", "Qualité de la solution apportée"),
    ("communication", "Communication pendant le traitement"),
];

fn unknown() -> Response {
    page_html(
        StatusCode::NOT_FOUND,
        "Lien inconnu",
        "<p>Ce lien n'est pas valable.</p>",
    )
}

fn unavailable() -> Response {
    page_html(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service indisponible",
        "<p>Réessayez dans un instant.</p>",
    )
}

/// The ticket a survey link names, if the token is genuine and not expired.
async fn surveyed(state: &AppState, token: &str) -> Result<Ticket, Response> {
    linked(state, token, read_survey_token).await
}

/// Reads a token of one kind of link: the ticket it names and its expiry.
type ReadToken = fn(&[u8], &str) -> Option<(u64, i64)>;

/// The ticket a link names through `read`, if the token is genuine and not expired.
async fn linked(state: &AppState, token: &str, read: ReadToken) -> Result<Ticket, Response> {
    let key = state.deliveries.key(state).await.map_err(|error| {
        tracing::error!(%error, "clé de signature des liens");
        unavailable()
    })?;
    let Some((number, expires)) = read(&key, token) else {
        return Err(unknown());
    };
    if state.clock.now_ms() >= expires {
        return Err(page_html(
            StatusCode::GONE,
            "Lien expiré",
            "<p>Ce lien a expiré. Connectez-vous au portail, ou répondez à notre email.</p>",
        ));
    }
    match state.store.ticket_for_link(number).await {
        Ok(Some(ticket)) => Ok(ticket),
        Ok(None) => Err(unknown()),
        Err(error) => {
            tracing::error!(%error, "lecture du ticket d'une enquête");
            Err(unavailable())
        }
    }
}

fn about(ticket: &Ticket) -> String {
    format!(
        "<p>Ticket n°{} : {}</p>",
        ticket.number,
        escape_html(&ticket.report.symptom)
    )
}

fn form(ticket: &Ticket) -> String {
    let mut html = about(ticket);
    html.push_str("<form method=\"post\">");
    for (name, label) in QUESTIONS {
        html.push_str(&format!(
            "<fieldset><legend>{label} (1 : très insatisfait, 5 : très satisfait)</legend>"
        ));
        for mark in 1..=5 {
            html.push_str(&format!(
                "<label><input type=\"radio\" name=\"{name}\" value=\"{mark}\" required> {mark}</label> "
            ));
        }
        html.push_str("</fieldset>");
    }
    html.push_str(&format!(
        "<p><label for=\"comment\">Un commentaire (facultatif)</label><br><textarea id=\"comment\" name=\"comment\" rows=\"4\" cols=\"40\" maxlength=\"{}\"></textarea></p>\
         <button type=\"submit\">Envoyer mon avis</button></form>",
        SurveyAnswers::MAX_COMMENT
    ));
    html
}

async fn survey_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let ticket = match surveyed(&state, &token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    if ticket.survey.is_some() {
        return page_html(
            StatusCode::OK,
            "Merci",
            &format!(
                "{}<p>Votre avis est déjà enregistré. Merci.</p>",
                about(&ticket)
            ),
        );
    }
    page_html(StatusCode::OK, "Votre avis nous intéresse", &form(&ticket))
}

/// The form as posted: marks as text, so that a wrong one is a clear message, not a 400.
#[derive(Debug, Deserialize)]
struct Posted {
    responsiveness: Option<String>,
    quality: Option<String>,
    communication: Option<String>,
    comment: Option<String>,
}

fn mark(value: &Option<String>) -> u8 {
    value
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn survey_answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    posted: Result<Form<Posted>, FormRejection>,
) -> Response {
    let ticket = match surveyed(&state, &token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    let Ok(Form(posted)) = posted else {
        return page_html(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Réponse illisible",
            &format!(
                "{}<p>La réponse n'a pas pu être lue : recommencez depuis le lien de l'email.</p>",
                about(&ticket)
            ),
        );
    };
    let answers = SurveyAnswers {
        responsiveness: mark(&posted.responsiveness),
        quality: mark(&posted.quality),
        communication: mark(&posted.communication),
        comment: posted.comment,
    };
    match state
        .store
        .answer_survey(ticket.number, answers, state.clock.now_ms())
        .await
    {
        Ok(_) => page_html(
            StatusCode::OK,
            "Merci",
            &format!(
                "{}<p>Votre avis est enregistré. Merci de l'avoir donné.</p>",
                about(&ticket)
            ),
        ),
        Err(StoreError::Invalid(message)) => page_html(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Réponse incomplète",
            &format!("<p>{}</p>{}", escape_html(&message), form(&ticket)),
        ),
        Err(StoreError::Conflict(message)) => page_html(
            StatusCode::CONFLICT,
            "Merci",
            &format!("{}<p>{}</p>", about(&ticket), escape_html(&message)),
        ),
        Err(StoreError::NotFound) => unknown(),
        Err(error) => {
            tracing::error!(%error, "réponse à une enquête non enregistrée");
            unavailable()
        }
    }
}

async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let ticket = match linked(&state, &token, read_confirmation_token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    let body = match ticket.status {
        Status::Resolved => format!(
            "{}<form method=\"post\"><button type=\"submit\">Je confirme que le problème est réglé</button></form>\
             <p>Si le problème persiste, répondez à notre email ou appelez-nous : le ticket reste ouvert.</p>",
            about(&ticket)
        ),
        Status::Closed => format!("{}<p>Ce ticket est clos. Merci.</p>", about(&ticket)),
        _ => format!(
            "{}<p>Ce ticket est de nouveau en cours de traitement.</p>",
            about(&ticket)
        ),
    };
    page_html(StatusCode::OK, "Confirmer la résolution", &body)
}

async fn confirm_fix(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let ticket = match linked(&state, &token, read_confirmation_token).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    match state
        .store
        .confirm_by_link(
            &state.escalation.policy,
            ticket.number,
            state.clock.now_ms(),
        )
        .await
    {
        Ok(_) => page_html(
            StatusCode::OK,
            "Merci",
            &format!(
                "{}<p>Votre confirmation est enregistrée : le ticket est clos.</p>",
                about(&ticket)
            ),
        ),
        Err(StoreError::Conflict(message)) => page_html(
            StatusCode::CONFLICT,
            "Confirmer la résolution",
            &format!("{}<p>{}</p>", about(&ticket), escape_html(&message)),
        ),
        Err(StoreError::NotFound) => unknown(),
        Err(error) => {
            tracing::error!(%error, "confirmation par lien non enregistrée");
            unavailable()
        }
    }
}
