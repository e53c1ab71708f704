//! Who is acting and what they may do. Every store query is filtered by the actor's
//! [`Visibility`] (X-2: a client user sees only its own client); every change is allowed or
//! refused by [`Actor::may`]. Tokens never grant more than the user who holds them.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::inventory::StaffRole;
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

/// A token used for this request, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub id: String,
    pub scope: TokenScope,
}

/// Who is acting: a principal, possibly through one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub token: Option<TokenUse>,
}

/// Which clients' objects an actor can see. Store queries take it as a filter, so that a client
/// user's request for another client's object finds nothing (404), as if it did not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    Everything,
    OneClient(Reference),
}

impl Visibility {
    pub fn sees(&self, client: &Reference) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::OneClient(own) => own == client,
        }
    }

    pub fn client(&self) -> Option<&Reference> {
        match self {
            Visibility::Everything => None,
            Visibility::OneClient(own) => Some(own),
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
}

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

    pub fn visibility(&self) -> Visibility {
        match &self.principal {
            Principal::ClientUser { client, .. } => Visibility::OneClient(client.clone()),
            Principal::Staff { .. } | Principal::Console { .. } => Visibility::Everything,
        }
    }

    /// Whether the principal itself may do it, before any token restriction.
    fn principal_may(&self, permission: Permission) -> bool {
        match &self.principal {
            Principal::Console { .. } => true,
            Principal::ClientUser { .. } => matches!(permission, Permission::ReadInventory),
            Principal::Staff { roles, .. } => match permission {
                Permission::ReadInventory | Permission::ReadAudit => true,
                Permission::WriteInventory => roles.iter().any(|r| INVENTORY_EDITORS.contains(r)),
                Permission::ManageUsers => roles.contains(&StaffRole::Administrator),
                // Observations come from machines: only through an agent or probe token.
                Permission::SendObservations => false,
            },
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
            // A site probe reads the equipment it must check (addresses and credentials).
            TokenScope::Probe => matches!(
                permission,
                Permission::SendObservations | Permission::ReadInventory
            ),
            TokenScope::Integration => matches!(
                permission,
                Permission::ReadInventory | Permission::WriteInventory | Permission::ReadAudit
            ),
            TokenScope::ReadOnly => matches!(
                permission,
                Permission::ReadInventory | Permission::ReadAudit
            ),
        };
        // Observations are pushed on behalf of the integrator: any staff member's agent or
        // probe token may push; the principal check would refuse it since people do not push.
        let principal_allows = permission == Permission::SendObservations && self.is_staff()
            || self.principal_may(permission);
        scope_allows && principal_allows
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
        });
        assert!(technician.may(Permission::ReadInventory));
        assert!(!technician.may(Permission::WriteInventory));

        let mut admin = staff(&[StaffRole::Administrator]);
        admin.token = Some(TokenUse {
            id: "t".into(),
            scope: TokenScope::ReadOnly,
        });
        assert!(admin.may(Permission::ReadInventory));
        assert!(!admin.may(Permission::WriteInventory));
        assert!(!admin.may(Permission::ManageUsers));

        admin.token = Some(TokenUse {
            id: "t".into(),
            scope: TokenScope::Agent,
        });
        assert!(!admin.may(Permission::ReadInventory));
        assert!(admin.may(Permission::SendObservations));
        assert!(!staff(&[StaffRole::Administrator]).may(Permission::SendObservations));
    }
}
