//! Received notifications mapped to check changes through the templates' `[[trap]]` rules.

use vigie_domain::supervision::{CheckName, CheckStatus};
use vigie_snmp::Value;
use vigie_snmp::trap::Notification;

use crate::poll::text_of;
use crate::template::{Template, Templates, TrapRule, VarbindMatch};

/// A trap the template knows: which check it moves, to which status, with which detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapMapping {
    pub check: CheckName,
    pub status: CheckStatus,
    pub detail: String,
}

/// Maps a received notification's trap OID (and, when the rule says so, a varbind value) to a
/// check change. With a template name, only that template's rules apply (an unknown name maps
/// nothing); without one (an equipment of unknown model), every template's rules in name
/// order. In a template, the first matching rule in file order wins. None for an unknown
/// trap: the caller keeps it, visible.
pub fn map_trap(
    templates: &Templates,
    template_name: Option<&str>,
    notification: &Notification,
) -> Option<TrapMapping> {
    let candidates: Vec<&Template> = match template_name {
        Some(name) => templates.get(name).into_iter().collect(),
        None => templates.iter().collect(),
    };
    candidates
        .into_iter()
        .flat_map(|template| &template.traps)
        .find(|rule| matches(rule, notification))
        .map(|rule| TrapMapping {
            check: rule.check.clone(),
            status: rule.status,
            detail: rule.detail.clone(),
        })
}

fn matches(rule: &TrapRule, notification: &Notification) -> bool {
    if rule.oid != notification.trap_oid {
        return false;
    }
    let Some((varbind_oid, expected)) = &rule.varbind else {
        return true;
    };
    notification
        .varbinds
        .iter()
        .filter(|varbind| varbind.oid.starts_with(varbind_oid))
        .any(|varbind| match expected {
            VarbindMatch::Equals(text) => text_of(&varbind.value).as_deref() == Some(text.trim()),
            VarbindMatch::Under(prefix) => {
                matches!(&varbind.value, Value::ObjectIdentifier(oid) if oid.starts_with(prefix))
            }
        })
}
