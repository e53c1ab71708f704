//! One-off maintenance windows and silences (ALR-9, issue 25 item 7): opened and ended by the
//! supervision team from the console, each with its audit entry in the same transaction; read
//! by the alarm worker (those not ended), by the pages (current and recent) and by the monthly
//! reports (the maintenance of a period is taken out of availability).

use sqlx::Row;
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::alarm::window::{OneOffKind, OneOffWindow};
use vigie_domain::audit::AuditAction;
use vigie_domain::values::Text;

use crate::audit::AuditRecord;
use crate::inventory::{Arg, build, require};
use crate::supervision::visibility_condition;
use crate::{Store, StoreError, System};

/// The most windows not ended the alarm worker holds: far above what a team opens (a few per
/// day); beyond, the ones ending last are left out, with an error in the log.
pub const MAX_LIVE_WINDOWS: i64 = 10_000;
/// The most windows one page lists.
pub const MAX_WINDOW_PAGE: i64 = 200;

const COLUMNS: &str = "id, kind, site_ref, equipment_ref, starts_ms, ends_ms, reason, created_by, created_ms, ended_ms, ended_by, client_ref";

/// A window to open.
#[derive(Debug, Clone)]
pub struct NewWindow {
    pub kind: OneOffKind,
    pub site: Reference,
    pub equipment: Option<Reference>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: Text,
}

/// Which windows a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Not ended and not past at `now` (running or to come), the soonest to start first.
    Current,
    /// Ended or past at `now`, the last to end first.
    Past,
}

/// What a list of windows asks for.
#[derive(Debug, Clone)]
pub struct WindowFilter {
    pub state: WindowState,
    pub now: i64,
    pub site: Option<Reference>,
    pub equipment: Option<Reference>,
    pub limit: Option<i64>,
}

fn window_of(row: &sqlx::any::AnyRow) -> Result<OneOffWindow, StoreError> {
    let kind: String = row.try_get(1)?;
    let text = |index: usize| -> Result<String, StoreError> { Ok(row.try_get(index)?) };
    let reference = |value: String| Reference::parse(&value).map_err(StoreError::other);
    Ok(OneOffWindow {
        id: row.try_get(0)?,
        kind: OneOffKind::parse(&kind)
            .ok_or_else(|| StoreError::Invalid(format!("fenêtre de type inconnu : {kind}")))?,
        client: reference(text(11)?)?,
        site: reference(text(2)?)?,
        equipment: row
            .try_get::<Option<String>, _>(3)?
            .map(reference)
            .transpose()?,
        starts_at: row.try_get(4)?,
        ends_at: row.try_get(5)?,
        reason: Text::parse(&text(6)?).map_err(StoreError::other)?,
        created_by: reference(text(7)?)?,
        created_at: row.try_get(8)?,
        ended_at: row.try_get(9)?,
        ended_by: row
            .try_get::<Option<String>, _>(10)?
            .map(reference)
            .transpose()?,
    })
}

/// Staff who handle alarms open and end windows; clients never do.
fn require_supervision(actor: &Actor) -> Result<(), StoreError> {
    require(actor, Permission::HandleAlarms)?;
    if actor.is_staff() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "seule l'équipe de supervision ouvre et termine les fenêtres de maintenance".into(),
        ))
    }
}

impl Store {
    /// Opens a one-off window on a site, or on one equipment of it, and writes its audit
    /// entry. The equipment must belong to the site; the period must end after it starts and
    /// after `now`, within [`vigie_domain::alarm::window::MAX_ONE_OFF_DAYS`].
    pub async fn open_window(
        &self,
        actor: &Actor,
        window: &NewWindow,
        by: &Reference,
        now: i64,
    ) -> Result<OneOffWindow, StoreError> {
        require_supervision(actor)?;
        OneOffWindow::check_period(window.starts_at, window.ends_at, now)
            .map_err(StoreError::Invalid)?;
        let client: Option<(String,)> =
            sqlx::query_as("SELECT client_ref FROM sites WHERE ref = $1")
                .bind(window.site.to_string())
                .fetch_optional(&self.write)
                .await?;
        let Some((client,)) = client else {
            return Err(StoreError::Invalid(format!(
                "site inconnu : {}",
                window.site
            )));
        };
        if let Some(equipment) = &window.equipment {
            let site: Option<(String,)> =
                sqlx::query_as("SELECT site_ref FROM equipment WHERE ref = $1")
                    .bind(equipment.to_string())
                    .fetch_optional(&self.write)
                    .await?;
            match site {
                None => {
                    return Err(StoreError::Invalid(format!(
                        "équipement inconnu : {equipment}"
                    )));
                }
                Some((site,)) if site != window.site.as_str() => {
                    return Err(StoreError::Invalid(format!(
                        "l'équipement {equipment} n'est pas sur le site {}",
                        window.site
                    )));
                }
                Some(_) => {}
            }
        }
        let mut transaction = self.write.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO one_off_windows (kind, client_ref, site_ref, equipment_ref, starts_ms, ends_ms, reason, created_by, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(window.kind.key())
        .bind(client.clone())
        .bind(window.site.to_string())
        .bind(window.equipment.as_ref().map(ToString::to_string))
        .bind(window.starts_at)
        .bind(window.ends_at)
        .bind(window.reason.to_string())
        .bind(by.to_string())
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        let opened = OneOffWindow {
            id,
            kind: window.kind,
            client: Reference::parse(&client).map_err(StoreError::other)?,
            site: window.site.clone(),
            equipment: window.equipment.clone(),
            starts_at: window.starts_at,
            ends_at: window.ends_at,
            reason: window.reason.clone(),
            created_by: by.clone(),
            created_at: now,
            ended_at: None,
            ended_by: None,
        };
        crate::audit::append(
            &mut transaction,
            &AuditRecord {
                at_ms: now,
                actor: actor.audit_name(),
                action: AuditAction::Create,
                object_kind: "window",
                object_ref: id.to_string(),
                client: Some(client),
                before: None,
                after: serde_json::to_value(&opened).ok(),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(opened)
    }

    /// Ends a window now (one to come is then never opened), with its audit entry. A window
    /// already ended or past cannot be ended again.
    pub async fn end_window(
        &self,
        actor: &Actor,
        id: i64,
        by: &Reference,
        now: i64,
    ) -> Result<OneOffWindow, StoreError> {
        require_supervision(actor)?;
        let mut transaction = self.write.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM one_off_windows WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before = window_of(&row)?;
        if before.end() <= now {
            return Err(StoreError::Invalid(format!(
                "la fenêtre {id} est déjà terminée"
            )));
        }
        build(
            "UPDATE one_off_windows SET ended_ms = $1, ended_by = $2 WHERE id = $3 AND ended_ms IS NULL",
            vec![Arg::Int(now), Arg::Text(Some(by.to_string())), Arg::Int(id)],
        )
        .execute(&mut *transaction)
        .await?;
        let after = OneOffWindow {
            ended_at: Some(now),
            ended_by: Some(by.clone()),
            ..before.clone()
        };
        crate::audit::append(
            &mut transaction,
            &AuditRecord {
                at_ms: now,
                actor: actor.audit_name(),
                action: AuditAction::Update,
                object_kind: "window",
                object_ref: id.to_string(),
                client: Some(before.client.to_string()),
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// One window, for whoever sees its site.
    pub async fn window(&self, actor: &Actor, id: i64) -> Result<OneOffWindow, StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let mut args = vec![Arg::Int(id)];
        let sql = format!(
            "SELECT {COLUMNS} FROM one_off_windows WHERE id = $1{}",
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args)
        );
        let row = build(&sql, args)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        window_of(&row)
    }

    /// A page of the windows `actor` sees: current ones (running or to come) soonest first,
    /// or past ones (ended or over) the last to end first.
    pub async fn windows(
        &self,
        actor: &Actor,
        filter: &WindowFilter,
    ) -> Result<Vec<OneOffWindow>, StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let mut args = vec![Arg::Int(filter.now)];
        let (state, order) = match filter.state {
            WindowState::Current => ("ended_ms IS NULL AND ends_ms > $1", "starts_ms, id"),
            WindowState::Past => (
                "(ended_ms IS NOT NULL OR ends_ms <= $1)",
                "COALESCE(ended_ms, ends_ms) DESC, id DESC",
            ),
        };
        let mut condition = format!(
            " WHERE {state}{}",
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args)
        );
        for (column, value) in [
            ("site_ref", filter.site.as_ref()),
            ("equipment_ref", filter.equipment.as_ref()),
        ] {
            if let Some(value) = value {
                args.push(Arg::Text(Some(value.to_string())));
                condition.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        args.push(Arg::Int(
            filter
                .limit
                .unwrap_or(crate::DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_WINDOW_PAGE),
        ));
        let sql = format!(
            "SELECT {COLUMNS} FROM one_off_windows{condition} ORDER BY {order} LIMIT ${}",
            args.len()
        );
        build(&sql, args)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(window_of)
            .collect()
    }

    /// The planned maintenance windows (not silences) of `client` that overlap `[from, to)`,
    /// for its availability (ALR-9), at most [`MAX_LIVE_WINDOWS`].
    pub async fn maintenance_of_period(
        &self,
        actor: &Actor,
        client: &Reference,
        from: i64,
        to: i64,
    ) -> Result<Vec<OneOffWindow>, StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let mut args = vec![
            Arg::Text(Some(client.to_string())),
            Arg::Text(Some(OneOffKind::Maintenance.key().into())),
            Arg::Int(from),
            Arg::Int(to),
            Arg::Int(MAX_LIVE_WINDOWS),
        ];
        let sql = format!(
            "SELECT {COLUMNS} FROM one_off_windows WHERE client_ref = $1 AND kind = $2 \
             AND starts_ms < $4 AND COALESCE(ended_ms, ends_ms) > $3 AND COALESCE(ended_ms, ends_ms) > starts_ms{} \
             ORDER BY starts_ms LIMIT $5",
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args)
        );
        build(&sql, args)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(window_of)
            .collect()
    }
}

impl System {
    /// The windows not ended and not past at `now`, for the alarm worker: every site's, the
    /// first to end first, at most [`MAX_LIVE_WINDOWS`].
    pub async fn live_windows(&self, now: i64) -> Result<Vec<OneOffWindow>, StoreError> {
        let rows = build(
            &format!(
                "SELECT {COLUMNS} FROM one_off_windows WHERE ended_ms IS NULL AND ends_ms > $1 ORDER BY ends_ms, id LIMIT $2"
            ),
            vec![Arg::Int(now), Arg::Int(MAX_LIVE_WINDOWS + 1)],
        )
        .fetch_all(&self.write)
        .await?;
        if rows.len() as i64 > MAX_LIVE_WINDOWS {
            tracing::error!(
                bound = MAX_LIVE_WINDOWS,
                "trop de fenêtres de maintenance ouvertes : les dernières à finir sont ignorées"
            );
        }
        rows.iter()
            .take(usize::try_from(MAX_LIVE_WINDOWS).unwrap_or(usize::MAX))
            .map(window_of)
            .collect()
    }
}
