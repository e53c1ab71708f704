//! The documents of the clients' and sites' files (CM-8: intervention reports): written with
//! what produced them, read by whoever sees their client and site.

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::ticket::desk::TicketNumber;
use vigie_domain::ticket::photo::{MAX_PHOTO_BYTES, MAX_PHOTOS_PER_TICKET, photo_name, photo_type};

use crate::System;
use crate::inventory::{Arg, build, require};
use crate::supervision::visibility_condition;
use crate::{Store, StoreError};

/// The kind of a client's photo on its ticket.
pub const PHOTO_KIND: &str = "photo";

/// The most documents one page lists.
pub const MAX_DOCUMENT_PAGE: i64 = 500;

/// A document as lists show it (without its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketNumber>,
    pub kind: String,
    pub title: String,
    pub content_type: String,
    pub created_at: i64,
    /// A monthly report's period (`2026-11`), None for other documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// A new document.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub client: &'a Reference,
    pub site: Option<&'a Reference>,
    pub ticket: Option<TicketNumber>,
    pub kind: &'a str,
    pub title: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
}

/// Files `document` in the caller's transaction; returns its id.
pub(crate) async fn file_document(
    connection: &mut AnyConnection,
    document: &NewDocument<'_>,
    now: i64,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO documents (client_ref, site_ref, ticket_number, kind, title, content_type, content, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(document.client.to_string())
    .bind(document.site.map(ToString::to_string))
    .bind(document.ticket.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
    .bind(document.kind)
    .bind(document.title)
    .bind(document.content_type)
    .bind(document.content.to_vec())
    .bind(now)
    .fetch_one(&mut *connection)
    .await?;
    Ok(id)
}

const COLUMNS: &str =
    "id, client_ref, site_ref, ticket_number, kind, title, content_type, created_ms, period";

fn info_of(row: &sqlx::any::AnyRow) -> Result<DocumentInfo, StoreError> {
    Ok(DocumentInfo {
        id: row.try_get(0)?,
        client: row.try_get(1)?,
        site: row.try_get(2)?,
        ticket: row
            .try_get::<Option<i64>, _>(3)?
            .and_then(|n| u64::try_from(n).ok()),
        kind: row.try_get(4)?,
        title: row.try_get(5)?,
        content_type: row.try_get(6)?,
        created_at: row.try_get(7)?,
        period: row.try_get(8)?,
    })
}

/// Which documents a list asks for; every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub ticket: Option<TicketNumber>,
    /// Newest first: the page before this document.
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

impl Store {
    /// The documents `actor` sees, newest first.
    pub async fn documents(
        &self,
        actor: &Actor,
        filter: &DocumentFilter,
    ) -> Result<Vec<DocumentInfo>, StoreError> {
        require(actor, Permission::ReadTickets)?;
        let mut args = Vec::new();
        let mut condition = format!(
            " WHERE 1 = 1{}",
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args)
        );
        for (column, value) in [
            (
                "client_ref",
                filter.client.as_ref().map(ToString::to_string),
            ),
            ("site_ref", filter.site.as_ref().map(ToString::to_string)),
        ] {
            if let Some(value) = value {
                args.push(Arg::Text(Some(value)));
                condition.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        if let Some(ticket) = filter.ticket {
            args.push(Arg::Int(i64::try_from(ticket).unwrap_or(i64::MAX)));
            condition.push_str(&format!(" AND ticket_number = ${}", args.len()));
        }
        if let Some(before) = filter.before {
            args.push(Arg::Int(before));
            condition.push_str(&format!(" AND id < ${}", args.len()));
        }
        args.push(Arg::Int(
            filter
                .limit
                .unwrap_or(crate::DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_DOCUMENT_PAGE),
        ));
        let sql = format!(
            "SELECT {COLUMNS} FROM documents{condition} ORDER BY id DESC LIMIT ${}",
            args.len()
        );
        build(&sql, args)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(info_of)
            .collect()
    }

    /// One document with its content, for whoever sees its client and site; else not found.
    pub async fn document(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(DocumentInfo, Vec<u8>), StoreError> {
        require(actor, Permission::ReadTickets)?;
        let mut args = vec![Arg::Int(id)];
        let condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        let row = build(
            &format!("SELECT {COLUMNS}, content FROM documents WHERE id = $1{condition}"),
            args,
        )
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let content: Vec<u8> = row.try_get(9)?;
        Ok((info_of(&row)?, content))
    }
}

impl Store {
    /// A photo added to ticket `number` (issue 25, item 12) by whoever may report a problem
    /// and sees the ticket (its client from the portal, the staff): kept as a document of the
    /// ticket, its type read from its bytes (JPEG, PNG or WebP only), at most
    /// [`MAX_PHOTOS_PER_TICKET`] per ticket and [`MAX_PHOTO_BYTES`] each; not on a closed ticket.
    pub async fn add_ticket_photo(
        &self,
        actor: &Actor,
        number: TicketNumber,
        name: &str,
        content: &[u8],
        now: i64,
    ) -> Result<DocumentInfo, StoreError> {
        require(actor, Permission::OpenTickets)?;
        let (ticket, _) = self.ticket(actor, number).await?;
        if ticket.status == vigie_domain::ticket::Status::Closed {
            return Err(StoreError::Invalid(format!(
                "le ticket n°{number} est clos : signalez un nouveau problème"
            )));
        }
        if content.len() > MAX_PHOTO_BYTES {
            return Err(StoreError::Invalid(format!(
                "photo trop grande : {} Mio au plus",
                MAX_PHOTO_BYTES / (1024 * 1024)
            )));
        }
        let Some(content_type) = photo_type(content) else {
            return Err(StoreError::Invalid(
                "seules les photos JPEG, PNG ou WebP sont acceptées".into(),
            ));
        };
        let number_value = i64::try_from(number).unwrap_or(i64::MAX);
        let mut transaction = self.write.begin().await?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM documents WHERE ticket_number = $1 AND kind = $2")
                .bind(number_value)
                .bind(PHOTO_KIND)
                .fetch_one(&mut *transaction)
                .await?;
        if count >= MAX_PHOTOS_PER_TICKET {
            return Err(StoreError::Invalid(format!(
                "ce ticket a déjà {MAX_PHOTOS_PER_TICKET} photos : décrivez la suite par un message"
            )));
        }
        let title = format!("Photo — {}", photo_name(name));
        let document = NewDocument {
            client: &ticket.report.client,
            site: ticket.report.site.as_ref(),
            ticket: Some(number),
            kind: PHOTO_KIND,
            title: &title,
            content_type,
            content,
        };
        let id = file_document(&mut transaction, &document, now).await?;
        transaction.commit().await?;
        Ok(DocumentInfo {
            id,
            client: ticket.report.client.to_string(),
            site: ticket.report.site.as_ref().map(ToString::to_string),
            ticket: Some(number),
            kind: PHOTO_KIND.into(),
            title,
            content_type: content_type.into(),
            created_at: now,
            period: None,
        })
    }
}

impl System {
    /// Intervention reports (CM-8) filed without their PDF yet: (ticket, HTML document), the
    /// oldest first, `limit` at most.
    pub async fn intervention_reports_without_pdf(
        &self,
        limit: i64,
    ) -> Result<Vec<(TicketNumber, i64)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT d.ticket_number, d.id FROM documents d \
             WHERE d.kind = 'intervention_report' AND d.ticket_number IS NOT NULL \
             AND d.content_type <> 'application/pdf' \
             AND NOT EXISTS (SELECT 1 FROM documents p WHERE p.ticket_number = d.ticket_number \
             AND p.kind = d.kind AND p.content_type = 'application/pdf') \
             ORDER BY d.id LIMIT $1",
        )
        .bind(limit.clamp(1, MAX_DOCUMENT_PAGE))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(number, id)| Some((u64::try_from(number).ok()?, id)))
            .collect())
    }
}

impl Store {
    /// Files `document` on its own (a ticket's PDF made after its resolution); None when the
    /// same ticket already has a PDF of that kind (another process made it first).
    pub async fn add_document(
        &self,
        actor: &Actor,
        document: &NewDocument<'_>,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        require(actor, Permission::HandleTickets)?;
        let mut connection = self.write.acquire().await?;
        match file_document(&mut connection, document, now).await {
            Ok(id) => Ok(Some(id)),
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }
}
