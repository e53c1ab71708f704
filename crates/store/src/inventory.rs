//! Inventory objects in the store: list, get, put, delete, import and export, each filtered by
//! the actor's visibility and checked against its permissions, each change audited in the same
//! transaction.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission, Visibility};
use vigie_domain::audit::AuditAction;
use vigie_domain::inventory::check::{
    self, ContactFacts, EquipmentFacts, KnownObjects, MAX_CHAIN_LENGTH,
};
use vigie_domain::inventory::{Contact, Inventory, ObjectKind, Record};

use crate::audit::{AuditRecord, append};
use crate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Store, StoreError};

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Updated,
    /// The stored object was already exactly this: nothing written, nothing audited.
    Unchanged,
}

/// What an import did, counted per outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Filters and keyset pagination of a list. Results are ordered by reference; `after` is the
/// last reference of the previous page.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub after: Option<Reference>,
    pub limit: Option<i64>,
}

/// Each kind's table is named by its plural.
pub(crate) fn table(kind: ObjectKind) -> &'static str {
    kind.plural()
}

/// The column that says which client owns a row of this kind, if any.
fn client_column(kind: ObjectKind) -> Option<&'static str> {
    match kind {
        ObjectKind::Client => Some("ref"),
        ObjectKind::Staff | ObjectKind::Territory => None,
        _ => Some("client_ref"),
    }
}

fn reference(value: String) -> Result<Reference, StoreError> {
    Reference::parse(&value)
        .map_err(|e| StoreError::other(anyhow::anyhow!("référence stockée invalide : {e}")))
}

pub(crate) fn parse_record(kind: ObjectKind, json: &str) -> Result<Record, StoreError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(StoreError::other)?;
    Record::from_json(kind, value).map_err(StoreError::other)
}

/// A positional argument of a query built at run time.
#[derive(Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(i64),
    /// An integer column that may be NULL.
    OptionalInt(Option<i64>),
}

/// A query with its arguments bound in order.
pub(crate) fn build<'q>(
    sql: &'q str,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::OptionalInt(v) => query.bind(v),
        };
    }
    query
}

/// What a page of a list reads beside each reference.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PageColumn {
    Record,
    Name,
}

/// `SELECT ref, <second> FROM <kind> WHERE <walls and filter> ORDER BY ref LIMIT <page>`,
/// with its arguments: one page of a list, as `list` (`record`), `name_list` (`name`) and the
/// pages' reads take it.
pub(crate) fn page_of(
    kind: ObjectKind,
    second: PageColumn,
    visibility: &Visibility,
    filter: &ListFilter,
) -> Result<(String, Vec<Arg>), StoreError> {
    let mut args = Vec::new();
    let mut conditions = Vec::new();
    if let Some(clause) = visibility_clause(kind, visibility, &mut args)? {
        conditions.push(clause);
    }
    if let Some(client) = &filter.client {
        let column = client_column(kind).ok_or_else(|| {
            StoreError::Invalid("le filtre client ne s'applique pas à ce type d'objet".into())
        })?;
        args.push(Arg::Text(Some(client.to_string())));
        conditions.push(format!("{column} = ${}", args.len()));
    }
    if let Some(site) = &filter.site {
        if kind != ObjectKind::Equipment {
            return Err(StoreError::Invalid(
                "le filtre site ne s'applique qu'aux équipements".into(),
            ));
        }
        args.push(Arg::Text(Some(site.to_string())));
        conditions.push(format!("site_ref = ${}", args.len()));
    }
    if let Some(after) = &filter.after {
        args.push(Arg::Text(Some(after.to_string())));
        conditions.push(format!("ref > ${}", args.len()));
    }
    let limit = filter
        .limit
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    args.push(Arg::Int(limit));
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    Ok((
        format!(
            "SELECT ref, {} FROM {} {where_clause} ORDER BY ref LIMIT ${}",
            match second {
                PageColumn::Record => "record",
                PageColumn::Name => "name",
            },
            table(kind),
            args.len()
        ),
        args,
    ))
}

/// The column that says which site a row of this kind is, or is on, if any.
fn site_column(kind: ObjectKind) -> Option<&'static str> {
    match kind {
        ObjectKind::Site => Some("ref"),
        ObjectKind::Equipment => Some("site_ref"),
        _ => None,
    }
}

/// The WHERE clause that restricts `kind` to what `visibility` sees, or `Forbidden` for kinds it
/// never sees (the integrator's staff for a client user; all but its site and equipment for a
/// site probe's token).
pub(crate) fn visibility_clause(
    kind: ObjectKind,
    visibility: &Visibility,
    args: &mut Vec<Arg>,
) -> Result<Option<String>, StoreError> {
    if !visibility.sees_kind(kind) {
        return Err(StoreError::Forbidden(match visibility {
            Visibility::OneSite { .. } => {
                "un jeton de sonde ne lit que son site et les équipements de ce site".into()
            }
            _ => "réservé au personnel de l'intégrateur".into(),
        }));
    }
    let mut conditions = Vec::new();
    let mut restrict = |column: Option<&str>, value: &Reference| match column {
        Some(column) => {
            args.push(Arg::Text(Some(value.to_string())));
            conditions.push(format!("{column} = ${}", args.len()));
            Ok(())
        }
        // Unreachable while `sees_kind` agrees with the columns; refuse rather than show all.
        None => Err(StoreError::Forbidden(
            "réservé au personnel de l'intégrateur".into(),
        )),
    };
    match visibility {
        Visibility::Everything => {}
        Visibility::OneClient(client) => restrict(client_column(kind), client)?,
        Visibility::OneSite { client, site } => {
            restrict(client_column(kind), client)?;
            restrict(site_column(kind), site)?;
        }
    }
    Ok((!conditions.is_empty()).then(|| conditions.join(" AND ")))
}

pub(crate) fn require(actor: &Actor, permission: Permission) -> Result<(), StoreError> {
    if actor.may(permission) {
        Ok(())
    } else if actor.token.as_ref().is_some_and(|t| t.lacks_its_site()) {
        Err(StoreError::Forbidden(
            "ce jeton de sonde n'est lié à aucun site (émis avant que les jetons de sonde le soient) : émettez-en un nouveau avec le site de la sonde, puis révoquez celui-ci".into(),
        ))
    } else {
        let what = match permission {
            Permission::ReadInventory => "lire l'inventaire",
            Permission::WriteInventory => "modifier l'inventaire",
            Permission::ManageUsers => "gérer les utilisateurs",
            Permission::ReadAudit => "lire le journal d'audit",
            Permission::SendObservations => "envoyer des observations",
            Permission::ReadAlarms => "lire les alarmes",
            Permission::HandleAlarms => "agir sur les alarmes",
            Permission::ReadTickets => "lire les tickets",
            Permission::OpenTickets => "ouvrir un ticket",
            Permission::HandleTickets => "traiter les tickets",
            Permission::EditPolicy => "modifier la politique",
        };
        Err(StoreError::Forbidden(format!(
            "vos droits ne permettent pas de {what}"
        )))
    }
}

impl Store {
    /// One page of objects of `kind` that the actor can see.
    pub async fn list(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        filter: &ListFilter,
    ) -> Result<Vec<Record>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let visibility = actor.visibility();
        let (page, args) = page_of(kind, PageColumn::Record, &visibility, filter)?;
        let inner = format!("SELECT record AS c0, ref AS c1 FROM ({page}) AS listed");
        let rows: Vec<(String, String)> =
            crate::page::fetch(&self.read, self.backend, &inner, 2, "c1", args).await?;
        rows.into_iter()
            .map(|(record, _)| {
                Ok(self
                    .opened_record(parse_record(kind, &record)?)?
                    .for_visibility(&visibility))
            })
            .collect()
    }

    /// The references and names of one page of `kind`, as [`Store::list`] pages it, without
    /// reading their records: what a page's list of choices shows.
    pub async fn name_list(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        filter: &ListFilter,
    ) -> Result<Vec<(Reference, String)>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let (page, args) = page_of(kind, PageColumn::Name, &actor.visibility(), filter)?;
        let inner = format!("SELECT ref AS c0, name AS c1 FROM ({page}) AS listed");
        let rows: Vec<(String, String)> =
            crate::page::fetch(&self.read, self.backend, &inner, 2, "c0", args).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(reference, name)| Some((Reference::parse(&reference).ok()?, name)))
            .collect())
    }

    /// One object, or `NotFound` if it does not exist or the actor cannot see it.
    pub async fn get(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        reference: &Reference,
    ) -> Result<Record, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let visibility = actor.visibility();
        let mut args = vec![Arg::Text(Some(reference.to_string()))];
        let mut sql = format!("SELECT record FROM {} WHERE ref = $1", table(kind));
        if let Some(clause) = visibility_clause(kind, &visibility, &mut args)? {
            sql.push_str(&format!(" AND {clause}"));
        }
        let row = build(&sql, args)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        let record = parse_record(kind, &row.try_get::<String, _>(0)?)?;
        Ok(self.opened_record(record)?.for_visibility(&visibility))
    }

    /// Creates or replaces one object after checking its references.
    pub async fn put(
        &self,
        actor: &Actor,
        record: Record,
        now_ms: i64,
    ) -> Result<WriteOutcome, StoreError> {
        require(actor, Permission::WriteInventory)?;
        let mut transaction = self.write.begin().await?;
        let known = known_for(&mut transaction, &record).await?;
        let mut inventory = Inventory::default();
        inventory.push(record.clone());
        let problems = check::check(&inventory, &known);
        if !problems.is_empty() {
            return Err(StoreError::Rejected(problems));
        }
        let outcome = put_in(self, &mut transaction, actor, &record, now_ms).await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    /// Deletes one object; refused while other objects still refer to it.
    pub async fn delete(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        reference: &Reference,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        require(actor, Permission::WriteInventory)?;
        let mut transaction = self.write.begin().await?;
        let before = stored_record(&mut transaction, kind, reference)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_roles(actor, Some(&before), None)?;
        still_routed(&mut transaction, kind, reference).await?;
        let client = client_of(&mut transaction, &before).await?;
        sqlx::query(&format!("DELETE FROM {} WHERE ref = $1", table(kind)))
            .bind(reference.to_string())
            .execute(&mut *transaction)
            .await?;
        append(
            &mut transaction,
            &AuditRecord {
                at_ms: now_ms,
                actor: actor.audit_name(),
                action: AuditAction::Delete,
                object_kind: kind.key(),
                object_ref: reference.to_string(),
                client,
                before: Some(before.to_audit_json()),
                after: None,
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Every stored object reduced to what reference checks need (for checking a file before
    /// importing it): only for who may write the inventory, since it names every client's
    /// objects.
    pub async fn known_objects(&self, actor: &Actor) -> Result<KnownObjects, StoreError> {
        require(actor, Permission::WriteInventory)?;
        let mut connection = self.read.acquire().await?;
        known_all(&mut connection).await
    }

    /// Applies a whole inventory in one transaction: every object created, updated or left as
    /// it is; if anything is wrong, nothing is written.
    pub async fn import(
        &self,
        actor: &Actor,
        inventory: &Inventory,
        now_ms: i64,
    ) -> Result<ImportReport, StoreError> {
        require(actor, Permission::WriteInventory)?;
        let mut transaction = self.write.begin().await?;
        let known = known_all(&mut transaction).await?;
        let problems = check::check(inventory, &known);
        if !problems.is_empty() {
            return Err(StoreError::Rejected(problems));
        }
        let mut report = ImportReport::default();
        for record in inventory.records() {
            match put_in(self, &mut transaction, actor, &record, now_ms).await? {
                WriteOutcome::Created => report.created += 1,
                WriteOutcome::Updated => report.updated += 1,
                WriteOutcome::Unchanged => report.unchanged += 1,
            }
        }
        transaction.commit().await?;
        Ok(report)
    }

    /// Everything the actor can see, as one inventory (for `vigie export`).
    pub async fn export(&self, actor: &Actor) -> Result<Inventory, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let mut inventory = Inventory::default();
        let visibility = actor.visibility();
        for kind in ObjectKind::ALL {
            if !visibility.sees_kind(kind) {
                continue;
            }
            let mut filter = ListFilter {
                limit: Some(MAX_PAGE_SIZE),
                ..ListFilter::default()
            };
            loop {
                let page = self.list(actor, kind, &filter).await?;
                let full = page.len() as i64 == MAX_PAGE_SIZE;
                filter.after = page.last().map(|r| r.reference().clone());
                page.into_iter().for_each(|r| inventory.push(r));
                if !full {
                    break;
                }
            }
        }
        Ok(inventory)
    }

    /// How many objects of each kind are stored (for `/metrics`): totals only, no client's
    /// data, so the metrics token is enough to ask.
    pub async fn count_objects(&self) -> Result<BTreeMap<ObjectKind, i64>, StoreError> {
        let mut counts = BTreeMap::new();
        for kind in ObjectKind::ALL {
            let (count,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", table(kind)))
                .fetch_one(&self.read)
                .await?;
            counts.insert(kind, count);
        }
        Ok(counts)
    }
}

/// Issue 23, item 4: nobody grants themselves a role. The roles a staff record gains or loses
/// (`before` → `after`, either absent) must each be one the actor may change
/// (`Actor::may_change_role`): an inventory editor cannot make anyone, itself included, an
/// administrator, nor give a role it lacks, nor take one from a record (deleting it, for
/// instance) that it could not have given. The audit entry of the write records the change.
fn check_roles(
    actor: &Actor,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<(), StoreError> {
    let roles = |record: Option<&Record>| match record {
        Some(Record::Staff(staff)) => staff.roles.clone(),
        _ => Default::default(),
    };
    let (old, new) = (roles(before), roles(after));
    let changed: Vec<_> = old.symmetric_difference(&new).copied().collect();
    if let Some(role) = changed.iter().find(|role| !actor.may_change_role(**role)) {
        let reference = after.or(before).map(|r| r.reference().to_string());
        return Err(StoreError::Forbidden(format!(
            "vous ne pouvez pas donner ni retirer le rôle « {} » (fiche du personnel {}) : un rôle de la fiche s'ajoute à ceux du compte ; seul un administrateur le peut",
            role.french(),
            reference.unwrap_or_default()
        )));
    }
    Ok(())
}

async fn stored_record(
    connection: &mut AnyConnection,
    kind: ObjectKind,
    reference: &Reference,
) -> Result<Option<Record>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT record FROM {} WHERE ref = $1",
        table(kind)
    ))
    .bind(reference.to_string())
    .fetch_optional(&mut *connection)
    .await?;
    row.map(|(json,)| parse_record(kind, &json)).transpose()
}

/// The client a record belongs to (an equipment's through its site).
async fn client_of(
    connection: &mut AnyConnection,
    record: &Record,
) -> Result<Option<String>, StoreError> {
    if let Some(client) = record.direct_client() {
        return Ok(Some(client.to_string()));
    }
    match record {
        Record::Equipment(e) => site_client(connection, &e.site)
            .await
            .map(|c| c.map(|c| c.to_string())),
        _ => Ok(None),
    }
}

/// Writes one record (already checked) and its audit entry.
async fn put_in(
    store: &Store,
    connection: &mut AnyConnection,
    actor: &Actor,
    record: &Record,
    now_ms: i64,
) -> Result<WriteOutcome, StoreError> {
    let kind = record.kind();
    let before = stored_record(connection, kind, record.reference())
        .await?
        .map(|before| store.opened_record(before))
        .transpose()?;
    if before.as_ref() == Some(record) {
        return Ok(WriteOutcome::Unchanged);
    }
    check_roles(actor, before.as_ref(), Some(record))?;
    let client = client_of(connection, record).await?;
    let text = |r: &Reference| Arg::Text(Some(r.to_string()));
    let optional = |r: &Option<Reference>| Arg::Text(r.as_ref().map(|r| r.to_string()));
    // (column, value) beyond ref, name, record and the timestamps.
    let (name, extra): (String, Vec<(&str, Arg)>) = match record {
        Record::Client(c) => (c.name.to_string(), vec![]),
        Record::Contact(c) => (c.name.to_string(), vec![("client_ref", text(&c.client))]),
        Record::Contract(c) => (
            c.reference.to_string(),
            vec![("client_ref", text(&c.client))],
        ),
        Record::Staff(s) => (
            s.name.to_string(),
            vec![("manager_ref", optional(&s.manager))],
        ),
        Record::Territory(t) => (t.name.to_string(), vec![]),
        Record::Site(s) => (
            s.name.to_string(),
            vec![
                ("client_ref", text(&s.client)),
                ("contract_ref", text(&s.contract)),
                ("security_manager_ref", optional(&s.security_manager)),
                ("technical_contact_ref", optional(&s.technical_contact)),
            ],
        ),
        Record::Equipment(e) => (
            e.name.to_string(),
            vec![
                ("client_ref", Arg::Text(client.clone())),
                ("site_ref", text(&e.site)),
                ("parent_ref", optional(&e.parent)),
                (
                    "address",
                    Arg::Text(e.address.as_ref().map(|a| a.to_string())),
                ),
                (
                    "kind",
                    Arg::Text(Some(
                        serde_json::to_value(e.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                    )),
                ),
            ],
        ),
    };
    // Issue 23, item 3: the credentials go to the database encrypted.
    let json = store.sealed_record(record).to_json().to_string();
    let columns: Vec<&str> = extra.iter().map(|(c, _)| *c).collect();
    let mut args: Vec<Arg> = vec![
        Arg::Text(Some(record.reference().to_string())),
        Arg::Text(Some(name)),
        Arg::Text(Some(json)),
        Arg::Int(now_ms),
    ];
    args.extend(extra.into_iter().map(|(_, a)| a));
    let outcome = if before.is_none() {
        let placeholders: Vec<String> = (5..=args.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} (ref, name, record, created_ms, updated_ms{}) VALUES ($1, $2, $3, $4, $4{})",
            table(kind),
            columns.iter().map(|c| format!(", {c}")).collect::<String>(),
            placeholders
                .iter()
                .map(|p| format!(", {p}"))
                .collect::<String>(),
        );
        build(&sql, args).execute(&mut *connection).await?;
        WriteOutcome::Created
    } else {
        let sets: String = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!(", {c} = ${}", i + 5))
            .collect();
        let sql = format!(
            "UPDATE {} SET name = $2, record = $3, updated_ms = $4{sets} WHERE ref = $1",
            table(kind)
        );
        build(&sql, args).execute(&mut *connection).await?;
        WriteOutcome::Updated
    };
    append(
        connection,
        &AuditRecord {
            at_ms: now_ms,
            actor: actor.audit_name(),
            action: if outcome == WriteOutcome::Created {
                AuditAction::Create
            } else {
                AuditAction::Update
            },
            object_kind: kind.key(),
            object_ref: record.reference().to_string(),
            client,
            before: before.as_ref().map(Record::to_audit_json),
            after: Some(record.to_audit_json()),
        },
    )
    .await?;
    Ok(outcome)
}

async fn optional_text(
    connection: &mut AnyConnection,
    sql: &str,
    reference: &Reference,
) -> Result<Option<Option<String>>, StoreError> {
    let row: Option<AnyRow> = sqlx::query(sql)
        .bind(reference.to_string())
        .fetch_optional(&mut *connection)
        .await?;
    row.map(|row| {
        row.try_get::<Option<String>, _>(0)
            .map_err(StoreError::from)
    })
    .transpose()
}

async fn site_client(
    connection: &mut AnyConnection,
    site: &Reference,
) -> Result<Option<Reference>, StoreError> {
    optional_text(
        connection,
        "SELECT client_ref FROM sites WHERE ref = $1",
        site,
    )
    .await?
    .flatten()
    .map(reference)
    .transpose()
}

/// Refuses to delete what on-call routing still names (issue 26, item 1): a territory a
/// rotation answers for, a site or client a territory covers. Without it, the rotation would
/// silently stop answering, or the territory keep a reference nothing resolves. The database
/// cannot say it (the references are inside the records' JSON), so it is read here.
async fn still_routed(
    connection: &mut AnyConnection,
    kind: ObjectKind,
    reference: &Reference,
) -> Result<(), StoreError> {
    match kind {
        ObjectKind::Territory => {
            let rotations = crate::notifications::read_rotations(connection).await?;
            match rotations
                .iter()
                .find(|r| r.territory.as_ref() == Some(reference))
            {
                Some(rotation) => Err(StoreError::Conflict(format!(
                    "le territoire « {reference} » est celui de l'astreinte « {} » : changez d'abord son territoire",
                    rotation.name
                ))),
                None => Ok(()),
            }
        }
        ObjectKind::Site | ObjectKind::Client => {
            for territory in crate::notifications::read_territories(connection).await? {
                let named = match kind {
                    ObjectKind::Site => territory.sites.contains(reference),
                    _ => territory.clients.contains(reference),
                };
                if named {
                    return Err(StoreError::Conflict(format!(
                        "le territoire « {} » couvre {} « {reference} » : retirez-le d'abord du territoire",
                        territory.reference,
                        if kind == ObjectKind::Site {
                            "le site"
                        } else {
                            "le client"
                        }
                    )));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The stored objects one record's checks need: itself as stored, what it refers to, and the
/// parent or manager chain above it.
async fn known_for(
    connection: &mut AnyConnection,
    record: &Record,
) -> Result<KnownObjects, StoreError> {
    let mut known = KnownObjects::default();
    match record {
        Record::Client(_) => {}
        Record::Contact(c) => {
            add_client(connection, &mut known, &c.client).await?;
            add_contact(connection, &mut known, &c.reference).await?;
        }
        Record::Contract(c) => {
            add_client(connection, &mut known, &c.client).await?;
            add_contract(connection, &mut known, &c.reference).await?;
        }
        Record::Staff(s) => {
            add_staff_chain(connection, &mut known, Some(&s.reference)).await?;
            add_staff_chain(connection, &mut known, s.manager.as_ref()).await?;
        }
        Record::Site(s) => {
            add_client(connection, &mut known, &s.client).await?;
            add_contract(connection, &mut known, &s.contract).await?;
            for contact in [&s.security_manager, &s.technical_contact]
                .into_iter()
                .flatten()
            {
                add_contact(connection, &mut known, contact).await?;
            }
            if let Some(client) = site_client(connection, &s.reference).await? {
                known.sites.insert(s.reference.clone(), client);
            }
        }
        Record::Equipment(e) => {
            if let Some(client) = site_client(connection, &e.site).await? {
                known.sites.insert(e.site.clone(), client);
            }
            add_equipment_chain(connection, &mut known, Some(&e.reference)).await?;
            add_equipment_chain(connection, &mut known, e.parent.as_ref()).await?;
        }
        Record::Territory(t) => {
            // One lookup each, and none for a territory beyond its bound: the check refuses
            // it by its size, and a hostile body must not cost a query per name first.
            if t.sites.len() + t.clients.len() > vigie_domain::inventory::Territory::MAX_MEMBERS {
                return Ok(known);
            }
            for client in &t.clients {
                add_client(connection, &mut known, client).await?;
            }
            for site in &t.sites {
                if let Some(client) = site_client(connection, site).await? {
                    known.sites.insert(site.clone(), client);
                }
            }
        }
    }
    Ok(known)
}

async fn add_client(
    connection: &mut AnyConnection,
    known: &mut KnownObjects,
    client: &Reference,
) -> Result<(), StoreError> {
    if optional_text(connection, "SELECT ref FROM clients WHERE ref = $1", client)
        .await?
        .is_some()
    {
        known.clients.insert(client.clone());
    }
    Ok(())
}

async fn add_contact(
    connection: &mut AnyConnection,
    known: &mut KnownObjects,
    contact: &Reference,
) -> Result<(), StoreError> {
    if let Some(Some(json)) = optional_text(
        connection,
        "SELECT record FROM contacts WHERE ref = $1",
        contact,
    )
    .await?
        && let Record::Contact(c) = parse_record(ObjectKind::Contact, &json)?
    {
        known
            .contacts
            .insert(c.reference.clone(), contact_facts(&c));
    }
    Ok(())
}

fn contact_facts(contact: &Contact) -> ContactFacts {
    ContactFacts {
        client: contact.client.clone(),
        roles: contact.roles.clone(),
    }
}

async fn add_contract(
    connection: &mut AnyConnection,
    known: &mut KnownObjects,
    contract: &Reference,
) -> Result<(), StoreError> {
    if let Some(Some(client)) = optional_text(
        connection,
        "SELECT client_ref FROM contracts WHERE ref = $1",
        contract,
    )
    .await?
    {
        known.contracts.insert(contract.clone(), reference(client)?);
    }
    Ok(())
}

async fn add_staff_chain(
    connection: &mut AnyConnection,
    known: &mut KnownObjects,
    start: Option<&Reference>,
) -> Result<(), StoreError> {
    let mut current = start.cloned();
    for _ in 0..MAX_CHAIN_LENGTH {
        let Some(staff) = current.take() else { break };
        if known.staff.contains_key(&staff) {
            break;
        }
        match optional_text(
            connection,
            "SELECT manager_ref FROM staff WHERE ref = $1",
            &staff,
        )
        .await?
        {
            None => break,
            Some(manager) => {
                let manager = manager.map(reference).transpose()?;
                known.staff.insert(staff, manager.clone());
                current = manager;
            }
        }
    }
    Ok(())
}

async fn add_equipment_chain(
    connection: &mut AnyConnection,
    known: &mut KnownObjects,
    start: Option<&Reference>,
) -> Result<(), StoreError> {
    let mut current = start.cloned();
    for _ in 0..MAX_CHAIN_LENGTH {
        let Some(equipment) = current.take() else {
            break;
        };
        if known.equipment.contains_key(&equipment) {
            break;
        }
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT client_ref, parent_ref FROM equipment WHERE ref = $1")
                .bind(equipment.to_string())
                .fetch_optional(&mut *connection)
                .await?;
        let Some((client, parent)) = row else { break };
        let parent = parent.map(reference).transpose()?;
        known.equipment.insert(
            equipment,
            EquipmentFacts {
                client: reference(client)?,
                parent: parent.clone(),
            },
        );
        current = parent;
    }
    Ok(())
}

/// Every stored object's reference facts.
async fn known_all(connection: &mut AnyConnection) -> Result<KnownObjects, StoreError> {
    let mut known = KnownObjects::default();
    for (r,) in sqlx::query_as::<_, (String,)>("SELECT ref FROM clients")
        .fetch_all(&mut *connection)
        .await?
    {
        known.clients.insert(reference(r)?);
    }
    for (r, client) in
        sqlx::query_as::<_, (String, String)>("SELECT ref, client_ref FROM contracts")
            .fetch_all(&mut *connection)
            .await?
    {
        known.contracts.insert(reference(r)?, reference(client)?);
    }
    for (json,) in sqlx::query_as::<_, (String,)>("SELECT record FROM contacts")
        .fetch_all(&mut *connection)
        .await?
    {
        if let Record::Contact(c) = parse_record(ObjectKind::Contact, &json)? {
            known
                .contacts
                .insert(c.reference.clone(), contact_facts(&c));
        }
    }
    for (r, client) in sqlx::query_as::<_, (String, String)>("SELECT ref, client_ref FROM sites")
        .fetch_all(&mut *connection)
        .await?
    {
        known.sites.insert(reference(r)?, reference(client)?);
    }
    for (r, client, parent) in sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT ref, client_ref, parent_ref FROM equipment",
    )
    .fetch_all(&mut *connection)
    .await?
    {
        known.equipment.insert(
            reference(r)?,
            EquipmentFacts {
                client: reference(client)?,
                parent: parent.map(reference).transpose()?,
            },
        );
    }
    for (r, manager) in
        sqlx::query_as::<_, (String, Option<String>)>("SELECT ref, manager_ref FROM staff")
            .fetch_all(&mut *connection)
            .await?
    {
        known
            .staff
            .insert(reference(r)?, manager.map(reference).transpose()?);
    }
    Ok(known)
}
