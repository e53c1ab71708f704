//! Who is acting and what they may do. Every store query is filtered by the actor's
//! [`Visibility`] (X-2: a client user sees only its own client; a site probe's token only its
//! own site); every change is allowed or refused by [`Actor::may`]. Tokens never grant more
//! than the user who holds them.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::inventory::{ObjectKind, StaffRole};
use crate::values::Reference;

/// What a machine token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// An agent on a VMS server or NVR pushing its metrics.
    Agent,
    /// A site probe pushing what it collected.
    Probe,
    /// Another system reading and changing the inventory through the API.
    Integration,
    /// Reading only.
    ReadOnly,
}

impl TokenScope {
    pub const ALL: [TokenScope; 4] = [
        TokenScope::Agent,
        TokenScope::Probe,
        TokenScope::Integration,
        TokenScope::ReadOnly,
    ];

    pub fn key(self) -> &'static str {
        match self {
            TokenScope::Agent => "agent",
            TokenScope::Probe => "probe",
            TokenScope::Integration => "integration",
            TokenScope::ReadOnly => "read_only",
        }
    }

    pub fn parse(value: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|s| s.key() == value)
    }

    /// Whether a token of this scope is bound to exactly one site. A site probe runs inside one
    /// client site's network: a probe box stolen there must open nothing of any other site.
    pub fn is_site_bound(self) -> bool {
        self == TokenScope::Probe
    }

    /// Checks the site given for a new token of this scope: exactly one for a probe token,
    /// none for the others.
    pub fn check_site(self, site: Option<&Reference>) -> Result<(), TokenSiteError> {
        match (self.is_site_bound(), site) {
            (true, Some(_)) | (false, None) => Ok(()),
            (true, None) => Err(TokenSiteError::Missing),
            (false, Some(_)) => Err(TokenSiteError::Unexpected(self)),
        }
    }
}

/// Why the site given for a new token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenSiteError {
    #[error(
        "un jeton de portée « probe » est lié à un site : indiquez le site de la sonde (champ site, option --site)"
    )]
    Missing,
    #[error("seul un jeton de portée « probe » est lié à un site : un jeton « {0} » n'en a pas")]
    Unexpected(TokenScope),
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The person (or the local console) on whose behalf something is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A member of the integrator's staff with a user account.
    Staff {
        username: String,
        staff: Option<Reference>,
        roles: BTreeSet<StaffRole>,
    },
    /// A user of one client.
    ClientUser { username: String, client: Reference },
    /// Someone at the server's own console running `vigie import`, `vigie user …`: they
    /// already hold the data files, so they may do everything.
    Console { os_user: String },
}

/// The one site a site-bound token (a probe's) is bound to, with the client that site belonged
/// to when the token was issued: a site deleted then created again under the same reference for
/// another client is not seen through an old token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteBinding {
    pub site: Reference,
    pub client: Reference,
}

/// A token used for this request, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub id: String,
    pub scope: TokenScope,
    /// The site of a probe token; none for the other scopes.
    pub site: Option<SiteBinding>,
}

impl TokenUse {
    /// A probe token bound to no site (issued before tokens were bound to sites): it may do
    /// nothing, rather than see every client's inventory. Issue a new one with its site.
    pub fn lacks_its_site(&self) -> bool {
        self.scope.is_site_bound() && self.site.is_none()
    }
}

/// Who is acting: a principal, possibly through one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub token: Option<TokenUse>,
}

/// Which objects an actor can see. Store queries take it as a filter, so that a request for an
/// object outside it finds nothing (404), as if it did not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// The integrator's staff and the console.
    Everything,
    /// A client user: its client's objects, but neither the integrator's staff nor the
    /// equipment's credentials.
    OneClient(Reference),
    /// A site probe's token: its one site and that site's equipment, with the credentials it
    /// needs to check them; no client, contact, contract or staff record, nothing of another
    /// site, even of the same client.
    OneSite { client: Reference, site: Reference },
}

impl Visibility {
    /// Whether some objects of this client are visible.
    pub fn sees(&self, client: &Reference) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::OneClient(own) | Visibility::OneSite { client: own, .. } => own == client,
        }
    }

    /// Whether this site of this client, and the equipment on it, are visible.
    pub fn sees_site(&self, client: &Reference, site: &Reference) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::OneClient(own) => own == client,
            Visibility::OneSite {
                client: own_client,
                site: own_site,
            } => own_client == client && own_site == site,
        }
    }

    /// Whether any object of this kind can be visible at all: a kind that cannot is refused
    /// outright (403), whatever the reference, which says nothing about what exists.
    pub fn sees_kind(&self, kind: ObjectKind) -> bool {
        match self {
            Visibility::Everything => true,
            // The integrator's staff and the way it divides its work are its own.
            Visibility::OneClient(_) => kind.belongs_to_a_client(),
            Visibility::OneSite { .. } => matches!(kind, ObjectKind::Site | ObjectKind::Equipment),
        }
    }

    /// Whether equipment credentials (SNMP, ONVIF, RTSP) are shown: to the staff, and to a site
    /// probe that must log in to check its equipment; never to a client user.
    pub fn shows_credentials(&self) -> bool {
        !matches!(self, Visibility::OneClient(_))
    }

    /// The one client this visibility is restricted to, if any.
    pub fn client(&self) -> Option<&Reference> {
        match self {
            Visibility::Everything => None,
            Visibility::OneClient(own) | Visibility::OneSite { client: own, .. } => Some(own),
        }
    }

    /// The one site this visibility is restricted to, if any.
    pub fn site(&self) -> Option<&Reference> {
        match self {
            Visibility::OneSite { site, .. } => Some(site),
            Visibility::Everything | Visibility::OneClient(_) => None,
        }
    }
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadInventory,
    WriteInventory,
    ManageUsers,
    ReadAudit,
    SendObservations,
    /// See alarms and their history (within the actor's visibility).
    ReadAlarms,
    /// Acknowledge, take in charge and close alarms: people of the integrator's staff.
    HandleAlarms,
    /// See tickets and their history (within the actor's visibility).
    ReadTickets,
    /// Open a ticket (SAV-1: a client through the portal, staff for a call or an email).
    OpenTickets,
    /// Act on tickets (take charge, plan, resolve, re-qualify): the integrator's staff.
    HandleTickets,
    /// Change the policy in force — thresholds, deadlines, escalation chains — from the
    /// console (issue 26, item 4): administrators and the technical and operations managers.
    EditPolicy,
}

/// Staff roles allowed to change the policy.
const POLICY_EDITORS: [StaffRole; 3] = [
    StaffRole::Administrator,
    StaffRole::TechnicalManager,
    StaffRole::OperationsManager,
];

/// Staff roles allowed to change the inventory.
const INVENTORY_EDITORS: [StaffRole; 4] = [
    StaffRole::Administrator,
    StaffRole::Supervision,
    StaffRole::TechnicalManager,
    StaffRole::OperationsManager,
];

impl Actor {
    pub fn console(os_user: &str) -> Actor {
        Actor {
            principal: Principal::Console {
                os_user: os_user.to_string(),
            },
            token: None,
        }
    }

    pub fn username(&self) -> Option<&str> {
        match &self.principal {
            Principal::Staff { username, .. } | Principal::ClientUser { username, .. } => {
                Some(username)
            }
            Principal::Console { .. } => None,
        }
    }

    pub fn is_staff(&self) -> bool {
        !matches!(self.principal, Principal::ClientUser { .. })
    }

    /// The staff record this actor's account is linked to, if any: who an action on an alarm
    /// or a ticket says did it.
    pub fn staff(&self) -> Option<&Reference> {
        match &self.principal {
            Principal::Staff {
                staff: Some(staff), ..
            } => Some(staff),
            _ => None,
        }
    }

    /// What this actor sees: its principal's walls, narrowed to one site by a site-bound token.
    pub fn visibility(&self) -> Visibility {
        let principal = match &self.principal {
            Principal::ClientUser { client, .. } => Visibility::OneClient(client.clone()),
            Principal::Staff { .. } | Principal::Console { .. } => Visibility::Everything,
        };
        match self.token.as_ref().and_then(|t| t.site.as_ref()) {
            None => principal,
            // Never wider than the principal: a client user's token bound to another client's
            // site would see nothing (such a token is refused at issue anyway).
            Some(binding) => Visibility::OneSite {
                client: principal.client().unwrap_or(&binding.client).clone(),
                site: binding.site.clone(),
            },
        }
    }

    /// Whether the principal itself may do it, before any token restriction.
    fn principal_may(&self, permission: Permission) -> bool {
        match &self.principal {
            Principal::Console { .. } => true,
            Principal::ClientUser { .. } => matches!(
                permission,
                Permission::ReadInventory
                    | Permission::ReadAlarms
                    | Permission::ReadTickets
                    | Permission::OpenTickets
            ),
            Principal::Staff { roles, .. } => match permission {
                Permission::ReadInventory | Permission::ReadAudit | Permission::ReadAlarms => true,
                Permission::HandleAlarms => true,
                Permission::ReadTickets | Permission::OpenTickets | Permission::HandleTickets => {
                    true
                }
                Permission::WriteInventory => roles.iter().any(|r| INVENTORY_EDITORS.contains(r)),
                Permission::EditPolicy => roles.iter().any(|r| POLICY_EDITORS.contains(r)),
                Permission::ManageUsers => roles.contains(&StaffRole::Administrator),
                // Observations come from machines: only through an agent or probe token.
                Permission::SendObservations => false,
            },
        }
    }

    /// Whether the actor may give or take `role` on a staff record of the inventory (issue 23,
    /// item 4). A staff record's roles add to its account's, so a role that lets one change the
    /// inventory or the accounts is power: an administrator (or the console) gives any role;
    /// another inventory editor gives the roles of the field (technician, on-call manager,
    /// referent engineer) and the editing roles it holds itself, never `administrator`; nobody
    /// else any.
    pub fn may_change_role(&self, role: StaffRole) -> bool {
        match &self.principal {
            Principal::Console { .. } => true,
            Principal::ClientUser { .. } => false,
            Principal::Staff { roles, .. } => {
                roles.contains(&StaffRole::Administrator)
                    || (role != StaffRole::Administrator
                        && (!INVENTORY_EDITORS.contains(&role) || roles.contains(&role)))
            }
        }
    }

    /// Whether this actor may do it: the principal must be allowed, and a token's scope must
    /// cover it too.
    pub fn may(&self, permission: Permission) -> bool {
        let Some(token) = &self.token else {
            return self.principal_may(permission);
        };
        let scope_allows = match token.scope {
            TokenScope::Agent => permission == Permission::SendObservations,
            // A site probe reads the equipment of its site (addresses and credentials) and
            // reports on them; it is the integrator's, bound to its site, or it does nothing.
            TokenScope::Probe => {
                !token.lacks_its_site()
                    && self.is_staff()
                    && matches!(
                        permission,
                        Permission::SendObservations | Permission::ReadInventory
                    )
            }
            TokenScope::Integration => matches!(
                permission,
                Permission::ReadInventory
                    | Permission::WriteInventory
                    | Permission::ReadAudit
                    | Permission::ReadAlarms
                    | Permission::ReadTickets
                    | Permission::OpenTickets
            ),
            TokenScope::ReadOnly => matches!(
                permission,
                Permission::ReadInventory
                    | Permission::ReadAudit
                    | Permission::ReadAlarms
                    | Permission::ReadTickets
            ),
        };
        // Observations are pushed on behalf of the integrator: any staff member's agent or
        // probe token may push; the principal check would refuse it since people do not push.
        let principal_allows = permission == Permission::SendObservations && self.is_staff()
            || self.principal_may(permission);
        scope_allows && principal_allows
    }

    /// Whether this actor may list and revoke `username`'s tokens: an administrator anyone's, a
    /// person their own. A site-bound token none: it sees nothing beyond its site, and the
    /// holder's other tokens may be bound to other clients' sites.
    pub fn may_manage_tokens_of(&self, username: &str) -> bool {
        if self.visibility().site().is_some() {
            return false;
        }
        self.username() == Some(username) || self.may(Permission::ManageUsers)
    }

    /// How the audit trail names this actor: `user:jdupont`, `token:3f2a…:user:jdupont`,
    /// `console:root`.
    pub fn audit_name(&self) -> String {
        let who = match &self.principal {
            Principal::Staff { username, .. } | Principal::ClientUser { username, .. } => {
                format!("user:{username}")
            }
            Principal::Console { os_user } => format!("console:{os_user}"),
        };
        match &self.token {
            Some(token) => format!("token:{}:{who}", token.id),
            None => who,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(roles: &[StaffRole]) -> Actor {
        Actor {
            principal: Principal::Staff {
                username: "x".into(),
                staff: None,
                roles: roles.iter().copied().collect(),
            },
            token: None,
        }
    }

    #[test]
    fn a_client_user_reads_only_its_own_inventory() {
        let actor = Actor {
            principal: Principal::ClientUser {
                username: "c".into(),
                client: Reference::parse("CLI-A").unwrap(),
            },
            token: None,
        };
        assert!(actor.may(Permission::ReadInventory));
        assert!(!actor.may(Permission::WriteInventory));
        assert!(!actor.may(Permission::ReadAudit));
        assert!(!actor.may(Permission::ManageUsers));
        assert!(actor.visibility().sees(&Reference::parse("CLI-A").unwrap()));
        assert!(!actor.visibility().sees(&Reference::parse("CLI-B").unwrap()));
    }

    #[test]
    fn tokens_never_grant_more_than_their_holder() {
        let mut technician = staff(&[StaffRole::Technician]);
        technician.token = Some(TokenUse {
            id: "t".into(),
            scope: TokenScope::Integration,
            site: None,
        });
        assert!(technician.may(Permission::ReadInventory));
        assert!(!technician.may(Permission::WriteInventory));

        let mut admin = staff(&[StaffRole::Administrator]);
        admin.token = Some(TokenUse {
            id: "t".into(),
            scope: TokenScope::ReadOnly,
            site: None,
        });
        assert!(admin.may(Permission::ReadInventory));
        assert!(!admin.may(Permission::WriteInventory));
        assert!(!admin.may(Permission::ManageUsers));

        admin.token = Some(TokenUse {
            id: "t".into(),
            scope: TokenScope::Agent,
            site: None,
        });
        assert!(!admin.may(Permission::ReadInventory));
        assert!(admin.may(Permission::SendObservations));
        assert!(!staff(&[StaffRole::Administrator]).may(Permission::SendObservations));
    }

    fn reference(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    fn probe_token(site: Option<(&str, &str)>) -> TokenUse {
        TokenUse {
            id: "p".into(),
            scope: TokenScope::Probe,
            site: site.map(|(client, site)| SiteBinding {
                client: reference(client),
                site: reference(site),
            }),
        }
    }

    #[test]
    fn a_probe_token_sees_only_its_own_site() {
        let mut probe = staff(&[StaffRole::Administrator]);
        probe.token = Some(probe_token(Some(("CLI-A", "A-PARIS"))));
        let visibility = probe.visibility();
        assert_eq!(
            visibility,
            Visibility::OneSite {
                client: reference("CLI-A"),
                site: reference("A-PARIS")
            }
        );
        assert!(visibility.sees_site(&reference("CLI-A"), &reference("A-PARIS")));
        // Another site of the same client, another client's site, the same reference under
        // another client (a site deleted and created again): nothing.
        assert!(!visibility.sees_site(&reference("CLI-A"), &reference("A-LYON")));
        assert!(!visibility.sees_site(&reference("CLI-B"), &reference("B-LYON")));
        assert!(!visibility.sees_site(&reference("CLI-B"), &reference("A-PARIS")));
        assert!(visibility.sees(&reference("CLI-A")));
        assert!(!visibility.sees(&reference("CLI-B")));
        assert_eq!(visibility.site(), Some(&reference("A-PARIS")));
        // Its site and the equipment there, with the credentials it needs to check them;
        // neither the client's records (contacts are personal data) nor the staff.
        for kind in ObjectKind::ALL {
            assert_eq!(
                visibility.sees_kind(kind),
                matches!(kind, ObjectKind::Site | ObjectKind::Equipment),
                "{kind:?}"
            );
        }
        assert!(visibility.shows_credentials());
        // It reads and reports, nothing more, whatever its holder may do.
        assert!(probe.may(Permission::ReadInventory));
        assert!(probe.may(Permission::SendObservations));
        for permission in [
            Permission::WriteInventory,
            Permission::ReadAudit,
            Permission::ManageUsers,
        ] {
            assert!(!probe.may(permission), "{permission:?}");
        }
        // Not even its holder's other tokens, which may be bound to other clients' sites.
        assert!(!probe.may_manage_tokens_of("x"));
        assert!(staff(&[StaffRole::Technician]).may_manage_tokens_of("x"));
        assert!(!staff(&[StaffRole::Technician]).may_manage_tokens_of("y"));
        assert!(staff(&[StaffRole::Administrator]).may_manage_tokens_of("y"));
    }

    #[test]
    fn a_probe_token_is_bound_to_exactly_one_site() {
        let site = reference("A-PARIS");
        assert_eq!(TokenScope::Probe.check_site(Some(&site)), Ok(()));
        assert_eq!(
            TokenScope::Probe.check_site(None),
            Err(TokenSiteError::Missing)
        );
        assert!(
            TokenSiteError::Missing.to_string().contains("--site"),
            "the message says how to give it"
        );
        for scope in [
            TokenScope::Agent,
            TokenScope::Integration,
            TokenScope::ReadOnly,
        ] {
            assert_eq!(scope.check_site(None), Ok(()));
            assert_eq!(
                scope.check_site(Some(&site)),
                Err(TokenSiteError::Unexpected(scope))
            );
        }
        // A probe token issued before tokens were bound to sites may do nothing at all.
        let mut unbound = staff(&[StaffRole::Administrator]);
        unbound.token = Some(probe_token(None));
        assert!(unbound.token.as_ref().unwrap().lacks_its_site());
        assert!(!unbound.may(Permission::ReadInventory));
        assert!(!unbound.may(Permission::SendObservations));
    }

    #[test]
    fn a_probe_token_is_the_integrators_only() {
        // A client user's probe token does nothing (pushing is the integrator's), and even
        // bound to another client's site it would see nothing of it.
        let actor = Actor {
            principal: Principal::ClientUser {
                username: "c".into(),
                client: reference("CLI-A"),
            },
            token: Some(probe_token(Some(("CLI-B", "B-LYON")))),
        };
        assert!(!actor.may(Permission::ReadInventory));
        assert!(!actor.may(Permission::SendObservations));
        let visibility = actor.visibility();
        assert!(!visibility.sees(&reference("CLI-B")));
        assert!(!visibility.sees_site(&reference("CLI-B"), &reference("B-LYON")));
    }

    #[test]
    fn a_client_user_never_sees_credentials_nor_staff() {
        let visibility = Visibility::OneClient(reference("CLI-A"));
        assert!(!visibility.shows_credentials());
        assert!(!visibility.sees_kind(ObjectKind::Staff));
        assert!(visibility.sees_kind(ObjectKind::Contact));
        assert!(visibility.sees_site(&reference("CLI-A"), &reference("A-LYON")));
        assert!(!visibility.sees_site(&reference("CLI-B"), &reference("B-LYON")));
        assert!(Visibility::Everything.shows_credentials());
        assert!(Visibility::Everything.sees_site(&reference("CLI-B"), &reference("B-LYON")));
    }
}
