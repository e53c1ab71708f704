//! Names first, references second (issue 25): the names of the sites, equipment, clients and
//! people a page shows, read in one query within the viewer's walls, and the links that
//! show an object by its name with its reference beside it.

use std::collections::BTreeMap;

use maud::{Markup, html};
use vigie_domain::Reference;
use vigie_domain::inventory::ObjectKind;
use vigie_domain::ticket::desk::Ticket;
use vigie_store::StoredAlarm;

use crate::AppState;
use crate::web::Viewer;
use crate::web::render::url_encode;

/// The names of what a page is about, by reference.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names {
    pub sites: BTreeMap<Reference, String>,
    pub equipment: BTreeMap<Reference, String>,
    pub people: BTreeMap<Reference, String>,
    pub clients: BTreeMap<Reference, String>,
}

/// The references whose names a page wants.
#[derive(Debug, Default)]
pub(crate) struct Wanted<'a> {
    pub sites: Vec<&'a Reference>,
    pub equipment: Vec<&'a Reference>,
    pub people: Vec<&'a Reference>,
    pub clients: Vec<&'a Reference>,
}

impl Names {
    /// Reads, in one query for all kinds, the names of everything `wanted` names. Client names are
    /// read for the staff only (a client knows its own name).
    pub(crate) async fn read(
        state: &AppState,
        viewer: &Viewer,
        wanted: &Wanted<'_>,
    ) -> Result<Names, vigie_store::StoreError> {
        let mut kinds: Vec<(ObjectKind, &[&Reference])> = vec![
            (ObjectKind::Site, &wanted.sites),
            (ObjectKind::Equipment, &wanted.equipment),
            (ObjectKind::Staff, &wanted.people),
        ];
        if viewer.is_staff() {
            kinds.push((ObjectKind::Client, &wanted.clients));
        }
        let mut read = state
            .store
            .names_of_kinds(&viewer.caller.actor, &kinds)
            .await?
            .into_iter();
        Ok(Names {
            sites: read.next().unwrap_or_default(),
            equipment: read.next().unwrap_or_default(),
            people: read.next().unwrap_or_default(),
            clients: read.next().unwrap_or_default(),
        })
    }

    /// The names of what these alarms name: sites, equipment, clients, who acted. The store
    /// reads an alarm's client, site and equipment names with it; only the people who acted
    /// (and any name it could not give) are read here, in one query or none.
    pub(crate) async fn of(
        state: &AppState,
        viewer: &Viewer,
        alarms: &[&StoredAlarm],
    ) -> Result<Names, vigie_store::StoreError> {
        let mut carried = Names::default();
        let mut wanted = Wanted::default();
        for stored in alarms {
            let (alarm, names) = (&stored.alarm, &stored.names);
            for (reference, name, map, missing) in [
                (
                    alarm.site.as_ref(),
                    &names.site,
                    &mut carried.sites,
                    &mut wanted.sites,
                ),
                (
                    alarm.equipment.as_ref(),
                    &names.equipment,
                    &mut carried.equipment,
                    &mut wanted.equipment,
                ),
                (
                    stored.client.as_ref().filter(|_| viewer.is_staff()),
                    &names.client,
                    &mut carried.clients,
                    &mut wanted.clients,
                ),
            ] {
                match (reference, name) {
                    (Some(reference), Some(name)) => {
                        map.insert(reference.clone(), name.clone());
                    }
                    (Some(reference), None) => missing.push(reference),
                    (None, _) => {}
                }
            }
            wanted.people.extend(
                [
                    alarm.acknowledged.as_ref().map(|s| &s.by),
                    alarm.taken_in_charge.as_ref().map(|s| &s.by),
                    alarm.resolved_by.as_ref(),
                    alarm.closure.as_ref().map(|c| &c.by),
                ]
                .into_iter()
                .flatten(),
            );
        }
        let mut names = Names::read(state, viewer, &wanted).await?;
        names.sites.extend(carried.sites);
        names.equipment.extend(carried.equipment);
        names.clients.extend(carried.clients);
        Ok(names)
    }

    /// The names of what these tickets name: client, site, equipment, assignee.
    pub(crate) async fn of_tickets(
        state: &AppState,
        viewer: &Viewer,
        tickets: &[&Ticket],
    ) -> Result<Names, vigie_store::StoreError> {
        let mut wanted = Wanted::default();
        for ticket in tickets {
            wanted.clients.push(&ticket.report.client);
            wanted.sites.extend(ticket.report.site.as_ref());
            wanted.equipment.extend(ticket.report.equipment.as_ref());
            wanted.people.extend(ticket.assignee.as_ref());
        }
        Names::read(state, viewer, &wanted).await
    }

    /// A person by name (the reference when the inventory no longer knows them).
    pub(crate) fn person(&self, reference: &Reference) -> String {
        self.people
            .get(reference)
            .cloned()
            .unwrap_or_else(|| reference.to_string())
    }

    /// A person by name, linked to their page for the staff (a client reads the name only).
    pub(crate) fn person_in(&self, viewer: &Viewer, reference: &Reference) -> Markup {
        person_link(viewer, reference, &self.person(reference))
    }
}

/// A staff member's name, linked to their page for the staff.
pub(crate) fn person_link(viewer: &Viewer, reference: &Reference, name: &str) -> Markup {
    html! {
        @if viewer.is_staff() {
            a.person href=(crate::web::people::person_path(reference)) { (name) }
        } @else {
            (name)
        }
    }
}

/// A link to an object's page, its name first and its reference second.
pub(crate) fn named_link(href: String, name: Option<&String>, reference: &Reference) -> Markup {
    html! {
        a href=(href) { (name.map(String::as_str).unwrap_or(reference.as_str())) }
        @if name.is_some() { " " span.muted.ref { (reference.as_str()) } }
    }
}

/// An object by its name, its reference second, where there is no page to link to.
pub(crate) fn named(name: Option<&String>, reference: &Reference) -> Markup {
    html! {
        (name.map(String::as_str).unwrap_or(reference.as_str()))
        @if name.is_some() { " " span.muted.ref { (reference.as_str()) } }
    }
}

/// A site by name, linked to its page in the viewer's part (console or portal).
pub(crate) fn site_in(viewer: &Viewer, names: &Names, site: Option<&Reference>) -> Markup {
    let root = if viewer.is_staff() {
        "/console"
    } else {
        "/portail"
    };
    match site {
        Some(site) => named_link(
            format!("{root}/sites/{}", url_encode(site.as_str())),
            names.sites.get(site),
            site,
        ),
        None => html! { "—" },
    }
}

pub(crate) fn site_link(names: &Names, site: Option<&Reference>) -> Markup {
    match site {
        Some(site) => named_link(
            format!("/console/sites/{}", url_encode(site.as_str())),
            names.sites.get(site),
            site,
        ),
        None => html! { "—" },
    }
}

/// An equipment by name: linked to its console page for the staff, named for a client (the
/// portal has no equipment page).
pub(crate) fn equipment_in(
    viewer: &Viewer,
    names: &Names,
    equipment: Option<&Reference>,
) -> Markup {
    match equipment {
        Some(equipment) if viewer.is_staff() => equipment_link(names, Some(equipment)),
        Some(equipment) => named(names.equipment.get(equipment), equipment),
        None => html! { "—" },
    }
}

pub(crate) fn equipment_link(names: &Names, equipment: Option<&Reference>) -> Markup {
    match equipment {
        Some(equipment) => named_link(
            format!("/console/equipements/{}", url_encode(equipment.as_str())),
            names.equipment.get(equipment),
            equipment,
        ),
        None => html! { "—" },
    }
}

/// A client by name, linked to its record for the staff.
pub(crate) fn client_link(names: &Names, client: &Reference) -> Markup {
    named_link(
        format!("/console/inventaire/client/{}", url_encode(client.as_str())),
        names.clients.get(client),
        client,
    )
}
