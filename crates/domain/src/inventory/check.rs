//! Checks that need more than one record: references resolve, every object stays inside its
//! client's walls, nothing changes client, and parent and manager chains have no cycle.
//! Used by the file import and by every API write alike, so both refuse the same things.

use std::collections::{BTreeMap, BTreeSet};

use crate::inventory::{ChannelChoice, ContactRole, EquipmentKind, Inventory, ObjectKind, Staff};
use crate::policy::Channel;
use crate::text::quoted;
use crate::values::Reference;

/// What a contact's references need to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFacts {
    pub client: Reference,
    pub roles: BTreeSet<ContactRole>,
}

/// What the equipment checks need to know about an equipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquipmentFacts {
    pub client: Reference,
    pub parent: Option<Reference>,
}

/// The objects already stored, reduced to what references need. The store fills it with
/// everything (import) or with just the objects one write touches (API).
#[derive(Debug, Clone, Default)]
pub struct KnownObjects {
    pub clients: BTreeSet<Reference>,
    /// Contract → its client.
    pub contracts: BTreeMap<Reference, Reference>,
    pub contacts: BTreeMap<Reference, ContactFacts>,
    /// Site → its client.
    pub sites: BTreeMap<Reference, Reference>,
    pub equipment: BTreeMap<Reference, EquipmentFacts>,
    /// Staff member → their manager.
    pub staff: BTreeMap<Reference, Option<Reference>>,
}

/// One thing wrong with one record: which record (its kind and position in its list), which
/// field, and why, in French.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ObjectKind,
    pub index: usize,
    pub reference: Reference,
    pub field: Option<&'static str>,
    pub message: String,
}

/// How many links a parent or manager chain may have; longer means a cycle or a mistake.
pub const MAX_CHAIN_LENGTH: usize = 64;

/// Checks `inventory` against itself and what is already stored.
pub fn check(inventory: &Inventory, stored: &KnownObjects) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |kind, index, reference: &Reference, field, message: String| {
        problems.push(Problem {
            kind,
            index,
            reference: reference.clone(),
            field,
            message,
        })
    };

    // Duplicates inside the set itself.
    macro_rules! duplicates {
        ($list:expr, $kind:expr) => {{
            let mut seen = BTreeMap::new();
            for (index, record) in $list.iter().enumerate() {
                if let Some(first) = seen.insert(&record.reference, index) {
                    seen.insert(&record.reference, first);
                    problem($kind, index, &record.reference, Some("ref"), format!(
                        "référence en double : {} est déjà utilisée par un autre {} de ce fichier",
                        quoted(record.reference.as_str()),
                        $kind.french()
                    ));
                }
            }
        }};
    }
    duplicates!(inventory.clients, ObjectKind::Client);
    duplicates!(inventory.contacts, ObjectKind::Contact);
    duplicates!(inventory.contracts, ObjectKind::Contract);
    duplicates!(inventory.staff, ObjectKind::Staff);
    duplicates!(inventory.sites, ObjectKind::Site);
    duplicates!(inventory.equipment, ObjectKind::Equipment);
    duplicates!(inventory.territories, ObjectKind::Territory);

    // What will be true once the set is applied: stored objects, overridden by the set.
    let mut after = stored.clone();
    after
        .clients
        .extend(inventory.clients.iter().map(|c| c.reference.clone()));
    for c in &inventory.contracts {
        after
            .contracts
            .insert(c.reference.clone(), c.client.clone());
    }
    for c in &inventory.contacts {
        after.contacts.insert(
            c.reference.clone(),
            ContactFacts {
                client: c.client.clone(),
                roles: c.roles.clone(),
            },
        );
    }
    for s in &inventory.sites {
        after.sites.insert(s.reference.clone(), s.client.clone());
    }
    for s in &inventory.staff {
        after.staff.insert(s.reference.clone(), s.manager.clone());
    }
    for e in &inventory.equipment {
        // An equipment whose site is unknown gets no client; the site check reports it.
        if let Some(client) = after.sites.get(&e.site) {
            after.equipment.insert(
                e.reference.clone(),
                EquipmentFacts {
                    client: client.clone(),
                    parent: e.parent.clone(),
                },
            );
        }
    }

    let missing = |kind: ObjectKind, reference: &Reference| {
        format!("{} {} inconnu", kind.french(), quoted(reference.as_str()))
    };
    let moved = |kind: ObjectKind, from: &Reference| {
        format!(
            "un {} ne peut pas changer de client (il appartient à {})",
            kind.french(),
            quoted(from.as_str())
        )
    };

    for (i, c) in inventory.contacts.iter().enumerate() {
        if !after.clients.contains(&c.client) {
            problem(
                ObjectKind::Contact,
                i,
                &c.reference,
                Some("client"),
                missing(ObjectKind::Client, &c.client),
            );
        }
        if let Some(old) = stored
            .contacts
            .get(&c.reference)
            .filter(|old| old.client != c.client)
        {
            problem(
                ObjectKind::Contact,
                i,
                &c.reference,
                Some("client"),
                moved(ObjectKind::Contact, &old.client),
            );
        }
    }

    for (i, c) in inventory.contracts.iter().enumerate() {
        if !after.clients.contains(&c.client) {
            problem(
                ObjectKind::Contract,
                i,
                &c.reference,
                Some("client"),
                missing(ObjectKind::Client, &c.client),
            );
        }
        if let Some(old) = stored
            .contracts
            .get(&c.reference)
            .filter(|old| **old != c.client)
        {
            problem(
                ObjectKind::Contract,
                i,
                &c.reference,
                Some("client"),
                moved(ObjectKind::Contract, old),
            );
        }
    }

    // Policy overlays must leave a valid policy (checked over the default, DEC-1…DEC-5).
    let default_policy = crate::policy::Policy::default_policy();
    let overlays = inventory
        .contracts
        .iter()
        .enumerate()
        .map(|(i, c)| (ObjectKind::Contract, i, &c.reference, &c.policy))
        .chain(
            inventory
                .sites
                .iter()
                .enumerate()
                .map(|(i, s)| (ObjectKind::Site, i, &s.reference, &s.policy)),
        );
    for (kind, i, reference, overlay) in overlays {
        if let Some(overlay) = overlay
            && let Err(error) = default_policy.with_overlay(&overlay.0)
        {
            problem(kind, i, reference, Some("policy"), error.to_string());
        }
    }

    for (i, s) in inventory.staff.iter().enumerate() {
        if let Some(reason) = channel_order_fault(s) {
            problem(ObjectKind::Staff, i, &s.reference, Some("channels"), reason);
        }
        if let Some(manager) = &s.manager {
            if !after.staff.contains_key(manager) {
                problem(
                    ObjectKind::Staff,
                    i,
                    &s.reference,
                    Some("manager"),
                    missing(ObjectKind::Staff, manager),
                );
            } else if chain_returns_to(&s.reference, Some(manager), |r| {
                after.staff.get(r).cloned().flatten()
            }) {
                problem(
                    ObjectKind::Staff,
                    i,
                    &s.reference,
                    Some("manager"),
                    format!(
                        "la chaîne des responsables revient à {} (cycle)",
                        quoted(s.reference.as_str())
                    ),
                );
            }
        }
    }

    for (i, c) in inventory.contracts.iter().enumerate() {
        for contact in &c.report_contacts {
            match after.contacts.get(contact) {
                None => problem(
                    ObjectKind::Contract,
                    i,
                    &c.reference,
                    Some("report_contacts"),
                    missing(ObjectKind::Contact, contact),
                ),
                Some(facts) if facts.client != c.client => problem(
                    ObjectKind::Contract,
                    i,
                    &c.reference,
                    Some("report_contacts"),
                    format!(
                        "le contact {} appartient à un autre client que {}",
                        quoted(contact.as_str()),
                        quoted(c.client.as_str())
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    // Issue 26, item 1: a territory names sites and clients that exist, at least one, bounded.
    for (i, t) in inventory.territories.iter().enumerate() {
        if t.sites.is_empty() && t.clients.is_empty() {
            problem(
                ObjectKind::Territory,
                i,
                &t.reference,
                Some("sites"),
                "un territoire couvre au moins un site ou un client (sites = [...] ou clients = [...])"
                    .to_owned(),
            );
        }
        if t.sites.len() + t.clients.len() > crate::inventory::Territory::MAX_MEMBERS {
            problem(
                ObjectKind::Territory,
                i,
                &t.reference,
                Some("sites"),
                format!(
                    "un territoire nomme au plus {} sites et clients",
                    crate::inventory::Territory::MAX_MEMBERS
                ),
            );
            // Its names are not checked one by one: one problem says what is wrong.
            continue;
        }
        for site in t.sites.iter().filter(|s| !after.sites.contains_key(*s)) {
            problem(
                ObjectKind::Territory,
                i,
                &t.reference,
                Some("sites"),
                missing(ObjectKind::Site, site),
            );
        }
        for client in t.clients.iter().filter(|c| !after.clients.contains(*c)) {
            problem(
                ObjectKind::Territory,
                i,
                &t.reference,
                Some("clients"),
                missing(ObjectKind::Client, client),
            );
        }
    }

    for (i, s) in inventory.sites.iter().enumerate() {
        if !after.clients.contains(&s.client) {
            problem(
                ObjectKind::Site,
                i,
                &s.reference,
                Some("client"),
                missing(ObjectKind::Client, &s.client),
            );
        }
        if let Some(old) = stored
            .sites
            .get(&s.reference)
            .filter(|old| **old != s.client)
        {
            problem(
                ObjectKind::Site,
                i,
                &s.reference,
                Some("client"),
                moved(ObjectKind::Site, old),
            );
        }
        match after.contracts.get(&s.contract) {
            None => problem(
                ObjectKind::Site,
                i,
                &s.reference,
                Some("contract"),
                missing(ObjectKind::Contract, &s.contract),
            ),
            Some(owner) if *owner != s.client => problem(
                ObjectKind::Site,
                i,
                &s.reference,
                Some("contract"),
                format!(
                    "le contrat {} appartient à un autre client que {}",
                    quoted(s.contract.as_str()),
                    quoted(s.client.as_str())
                ),
            ),
            Some(_) => {}
        }
        let contacts = [
            (
                "security_manager",
                &s.security_manager,
                ContactRole::SecurityManager,
            ),
            (
                "technical_contact",
                &s.technical_contact,
                ContactRole::TechnicalContact,
            ),
        ];
        for (field, contact, role) in contacts {
            let Some(contact) = contact else { continue };
            match after.contacts.get(contact) {
                None => problem(
                    ObjectKind::Site,
                    i,
                    &s.reference,
                    Some(field),
                    missing(ObjectKind::Contact, contact),
                ),
                Some(facts) if facts.client != s.client => problem(
                    ObjectKind::Site,
                    i,
                    &s.reference,
                    Some(field),
                    format!(
                        "le contact {} appartient à un autre client que {}",
                        quoted(contact.as_str()),
                        quoted(s.client.as_str())
                    ),
                ),
                Some(facts) if !facts.roles.contains(&role) => problem(
                    ObjectKind::Site,
                    i,
                    &s.reference,
                    Some(field),
                    format!(
                        "le contact {} n'a pas le rôle « {} »",
                        quoted(contact.as_str()),
                        role.french()
                    ),
                ),
                Some(_) => {}
            }
        }
        for window in &s.maintenance_windows {
            if window.duration.seconds() == 0 || window.days.is_empty() {
                problem(
                    ObjectKind::Site,
                    i,
                    &s.reference,
                    Some("maintenance_windows"),
                    "une fenêtre de maintenance doit avoir au moins un jour et une durée non nulle"
                        .to_string(),
                );
            } else if window.duration.seconds() > 7 * 86_400 {
                problem(
                    ObjectKind::Site,
                    i,
                    &s.reference,
                    Some("maintenance_windows"),
                    "une fenêtre de maintenance hebdomadaire dure au plus 7 jours".to_string(),
                );
            }
        }
    }

    for (i, e) in inventory.equipment.iter().enumerate() {
        let client = after.sites.get(&e.site);
        match client {
            None => problem(
                ObjectKind::Equipment,
                i,
                &e.reference,
                Some("site"),
                missing(ObjectKind::Site, &e.site),
            ),
            Some(client) => {
                if let Some(old) = stored
                    .equipment
                    .get(&e.reference)
                    .filter(|old| old.client != *client)
                {
                    problem(
                        ObjectKind::Equipment,
                        i,
                        &e.reference,
                        Some("site"),
                        moved(ObjectKind::Equipment, &old.client),
                    );
                }
            }
        }
        if e.camera_role.is_some() && e.kind != EquipmentKind::Camera {
            problem(
                ObjectKind::Equipment,
                i,
                &e.reference,
                Some("camera_role"),
                "seule une caméra a un rôle prioritaire ou secondaire".to_string(),
            );
        }
        if let Some(parent) = &e.parent {
            match after.equipment.get(parent) {
                None => problem(
                    ObjectKind::Equipment,
                    i,
                    &e.reference,
                    Some("parent"),
                    missing(ObjectKind::Equipment, parent),
                ),
                Some(facts) if Some(&facts.client) != client && client.is_some() => problem(
                    ObjectKind::Equipment,
                    i,
                    &e.reference,
                    Some("parent"),
                    format!(
                        "l'équipement parent {} appartient à un autre client",
                        quoted(parent.as_str())
                    ),
                ),
                Some(_) => {
                    if chain_returns_to(&e.reference, Some(parent), |r| {
                        after.equipment.get(r).and_then(|f| f.parent.clone())
                    }) {
                        problem(
                            ObjectKind::Equipment,
                            i,
                            &e.reference,
                            Some("parent"),
                            format!(
                                "la chaîne des équipements parents revient à {} (cycle)",
                                quoted(e.reference.as_str())
                            ),
                        );
                    }
                }
            }
        }
    }

    problems.sort_by_key(|a| (a.kind, a.index));
    problems
}

/// Follows `next` from `start` and tells whether it comes back to `origin` (or goes on longer
/// than [`MAX_CHAIN_LENGTH`], which is treated the same).
fn chain_returns_to(
    origin: &Reference,
    start: Option<&Reference>,
    next: impl Fn(&Reference) -> Option<Reference>,
) -> bool {
    let mut current = start.cloned();
    for _ in 0..MAX_CHAIN_LENGTH {
        match current {
            None => return false,
            Some(ref r) if r == origin => return true,
            Some(r) => current = next(&r),
        }
    }
    true
}

/// What is wrong with a person's channel order (issue 26, item 3), in French: channels a
/// person is reached by, each once, in the order of their delays, each with its address.
fn channel_order_fault(staff: &Staff) -> Option<String> {
    let order = &staff.channels;
    if order.len() > ChannelChoice::MAX_ENTRIES {
        return Some(format!(
            "{} canaux : au plus {} (SMS, appel vocal, email)",
            order.len(),
            ChannelChoice::MAX_ENTRIES
        ));
    }
    let mut previous = 0;
    for (n, choice) in order.iter().enumerate() {
        if !matches!(
            choice.channel,
            Channel::Sms | Channel::Voice | Channel::Email
        ) {
            return Some(format!(
                "canal « {} » : une personne est jointe par SMS, appel vocal ou email",
                choice.channel.label()
            ));
        }
        if order[..n].iter().any(|c| c.channel == choice.channel) {
            return Some(format!(
                "canal « {} » cité deux fois",
                choice.channel.label()
            ));
        }
        if choice.after_minutes > ChannelChoice::MAX_AFTER_MINUTES {
            return Some(format!(
                "« {} » après {} min : au plus {} min",
                choice.channel.label(),
                choice.after_minutes,
                ChannelChoice::MAX_AFTER_MINUTES
            ));
        }
        if choice.after_minutes < previous {
            return Some(format!(
                "« {} » après {} min vient après un canal à {} min : les canaux se suivent dans l'ordre de leurs délais",
                choice.channel.label(),
                choice.after_minutes,
                previous
            ));
        }
        previous = choice.after_minutes;
        let has_address = match choice.channel {
            Channel::Email => staff.email.is_some(),
            _ => staff.phone.is_some(),
        };
        if !has_address {
            return Some(format!(
                "« {} » sans {}",
                choice.channel.label(),
                if choice.channel == Channel::Email {
                    "adresse email"
                } else {
                    "numéro de téléphone"
                }
            ));
        }
    }
    None
}
