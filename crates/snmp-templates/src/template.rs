//! Template files: the TOML format (`docs/snmp-templates.md`) read into typed, checked values,
//! and the set of templates by name. Every error names the file and the line, in French.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use vigie_domain::supervision::{CheckName, CheckStatus, MAX_TEXT_CHARS, MetricName};
use vigie_snmp::Oid;

/// Most templates one set holds (one per equipment model: a few dozen in practice).
pub const MAX_TEMPLATES: usize = 256;
/// Largest template file read, in bytes.
pub const MAX_TEMPLATE_FILE_BYTES: usize = 64 * 1024;
/// Most values one template reads from a device (metrics, statuses and facts together), so
/// that one poll stays a handful of requests.
pub const MAX_OIDS_PER_TEMPLATE: usize = 64;
/// Most facts one template reads (an observation carries at most 64 facts in all).
pub const MAX_FACTS_PER_TEMPLATE: usize = 16;
/// Most trap rules one template holds.
pub const MAX_TRAPS_PER_TEMPLATE: usize = 128;
/// Longest net-snmp `extend` name accepted, in characters.
pub const MAX_EXTEND_NAME_CHARS: usize = 32;
/// Longest template name, in characters.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 64;

/// NET-SNMP-EXTEND-MIB nsExtendOutput1Line, indexed by the extend name as a string index.
const NS_EXTEND_OUTPUT_1_LINE: [u32; 13] = [1, 3, 6, 1, 4, 1, 8072, 1, 3, 2, 3, 1, 1];

/// A template file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("modèle SNMP « {file} », ligne {line} : {message}")]
pub struct TemplateError {
    pub file: String,
    /// 1-based; 1 when the error concerns the whole file.
    pub line: usize,
    pub message: String,
}

/// Where a value is read on the device.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// One instance, read by GET (`oid`, or `extend` turned into its nsExtendOutput1Line instance).
    Scalar(Oid),
    /// Every row of a table column, read by WALK; each row is named by the value of the
    /// `label` column at the same index.
    Column { column: Oid, label: Oid },
    /// 100 × (total − available) / total, both read by GET (memory used, from UCD memTotalReal
    /// and memAvailReal). Metrics only.
    UsedPercent { total: Oid, available: Oid },
}

/// A measured value: `[[metric]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The sample's name; with a column source, each row's is `name:<label>`.
    pub name: MetricName,
    pub source: Source,
    /// Multiplies the value read (0.001 for milli-degrees).
    pub scale: f64,
}

/// A check whose status comes from a value: `[[status]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRule {
    pub check: CheckName,
    /// A scalar or a column (never a computed ratio).
    pub source: Source,
    /// The integer values that mean Down; any other readable value means Up.
    pub down_when: Vec<i64>,
    /// Why, in words, when Down.
    pub detail: String,
}

/// A text read from the device and kept as a fact (model, firmware): `[[fact]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FactRule {
    pub name: String,
    pub oid: Oid,
}

/// A condition on one varbind of a trap.
#[derive(Debug, Clone, PartialEq)]
pub enum VarbindMatch {
    /// The varbind's value, as text, equals this.
    Equals(String),
    /// The varbind's value is an OID at or under this one.
    Under(Oid),
}

/// A trap the template knows: `[[trap]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrapRule {
    /// snmpTrapOID.0 of the notification (v1 traps in their RFC 3584 form).
    pub oid: Oid,
    /// When set, a varbind at or under this OID must match.
    pub varbind: Option<(Oid, VarbindMatch)>,
    pub check: CheckName,
    pub status: CheckStatus,
    pub detail: String,
}

/// One equipment model's template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub description: String,
    pub metrics: Vec<Metric>,
    pub statuses: Vec<StatusRule>,
    pub facts: Vec<FactRule>,
    /// In file order: the first matching rule wins.
    pub traps: Vec<TrapRule>,
}

/// Templates by name.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_name: BTreeMap<String, Template>,
}

/// The files of `templates/`, compiled in.
const BUILTIN_FILES: [(&str, &str); 2] = [
    (
        "linux-net-snmp.toml",
        include_str!("../templates/linux-net-snmp.toml"),
    ),
    (
        "generic-camera.toml",
        include_str!("../templates/generic-camera.toml"),
    ),
];

impl Templates {
    /// The templates shipped in the crate (`templates/*.toml`), always valid: a test parses
    /// each of them, so a broken file never reaches a build that passed its tests.
    pub fn builtin() -> Templates {
        let mut templates = Templates::default();
        for (file_name, text) in BUILTIN_FILES {
            match Templates::parse(file_name, text) {
                Ok(template) => templates = templates.with(template),
                // Unreachable once the tests pass; skipping keeps the others usable.
                Err(_) => continue,
            }
        }
        templates
    }

    /// The shipped files, by file name, for documentation and tests.
    pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
        &BUILTIN_FILES
    }

    /// Parses one template file's text; errors name the file and the line, in French.
    pub fn parse(file_name: &str, text: &str) -> Result<Template, TemplateError> {
        Parser { file_name, text }.template()
    }

    /// Adds the template, or replaces the one of the same name. Past [`MAX_TEMPLATES`] a new
    /// name is not added (the set is unchanged): use [`Templates::try_with`] to be told.
    pub fn with(self, template: Template) -> Templates {
        match self.check_room(&template.name) {
            Ok(()) => self.inserted(template),
            Err(_) => self,
        }
    }

    /// As [`Templates::with`], but refuses a new name past [`MAX_TEMPLATES`].
    pub fn try_with(self, template: Template) -> Result<Templates, TemplateError> {
        self.check_room(&template.name)?;
        Ok(self.inserted(template))
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.by_name.get(name)
    }

    /// Names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Templates in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Template> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    fn check_room(&self, name: &str) -> Result<(), TemplateError> {
        if self.by_name.len() >= MAX_TEMPLATES && !self.by_name.contains_key(name) {
            return Err(TemplateError {
                file: name.to_owned(),
                line: 1,
                message: format!("au plus {MAX_TEMPLATES} modèles SNMP"),
            });
        }
        Ok(())
    }

    fn inserted(mut self, template: Template) -> Templates {
        self.by_name.insert(template.name.clone(), template);
        self
    }
}

// ---------------------------------------------------------------------------------------
// The file as written, before checks
// ---------------------------------------------------------------------------------------

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: Text,
    description: Text,
    #[serde(default)]
    metric: Vec<RawMetric>,
    #[serde(default)]
    status: Vec<RawStatus>,
    #[serde(default)]
    fact: Vec<RawFact>,
    #[serde(default)]
    trap: Vec<RawTrap>,
}

/// The value sources a `[[metric]]` or `[[status]]` may name; exactly one must be set.
/// Not read by serde itself: `flatten` would lose the spans and the unknown-key refusal.
#[derive(Default)]
struct RawSource {
    oid: Option<Text>,
    column: Option<Text>,
    label: Option<Text>,
    extend: Option<Text>,
    total_oid: Option<Text>,
    available_oid: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: Text,
    scale: Option<Spanned<f64>>,
    oid: Option<Text>,
    column: Option<Text>,
    label: Option<Text>,
    extend: Option<Text>,
    total_oid: Option<Text>,
    available_oid: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    check: Text,
    down_when: Spanned<Vec<i64>>,
    detail: Text,
    oid: Option<Text>,
    column: Option<Text>,
    label: Option<Text>,
    extend: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    name: Text,
    oid: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrap {
    oid: Text,
    check: Text,
    status: Text,
    detail: Text,
    varbind: Option<Text>,
    value_equals: Option<Text>,
    value_under: Option<Text>,
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

struct Parser<'a> {
    file_name: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> TemplateError {
        let line = span.map_or(1, |span| {
            let end = span.start.min(self.text.len());
            // Bytes, not a str slice: a span is not promised to fall on a char boundary.
            self.text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        });
        TemplateError {
            file: self.file_name.to_owned(),
            line,
            message: message.into(),
        }
    }

    fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> TemplateError {
        self.error(Some(value.span()), message)
    }

    fn template(&self) -> Result<Template, TemplateError> {
        if self.text.len() > MAX_TEMPLATE_FILE_BYTES {
            return Err(self.error(
                None,
                format!("fichier trop grand (au plus {MAX_TEMPLATE_FILE_BYTES} octets)"),
            ));
        }
        let raw: RawTemplate = toml::from_str(self.text)
            .map_err(|error| self.error(error.span(), in_french(error.message())))?;
        let name = self.template_name(&raw.name)?;
        let description = self.text_field(&raw.description, "la description")?;
        let metrics = raw
            .metric
            .iter()
            .map(|metric| self.metric(metric))
            .collect::<Result<Vec<_>, _>>()?;
        let statuses = raw
            .status
            .iter()
            .map(|status| self.status(status))
            .collect::<Result<Vec<_>, _>>()?;
        if raw.fact.len() > MAX_FACTS_PER_TEMPLATE {
            return Err(self.at(
                &raw.fact[MAX_FACTS_PER_TEMPLATE].name,
                format!("au plus {MAX_FACTS_PER_TEMPLATE} faits par modèle"),
            ));
        }
        let facts = raw
            .fact
            .iter()
            .map(|fact| self.fact(fact))
            .collect::<Result<Vec<_>, _>>()?;
        if raw.trap.len() > MAX_TRAPS_PER_TEMPLATE {
            return Err(self.at(
                &raw.trap[MAX_TRAPS_PER_TEMPLATE].oid,
                format!("au plus {MAX_TRAPS_PER_TEMPLATE} déroutements (trap) par modèle"),
            ));
        }
        let traps = raw
            .trap
            .iter()
            .map(|trap| self.trap(trap))
            .collect::<Result<Vec<_>, _>>()?;
        let oid_count = metrics
            .iter()
            .map(|m| source_oid_count(&m.source))
            .sum::<usize>()
            + statuses
                .iter()
                .map(|s| source_oid_count(&s.source))
                .sum::<usize>()
            + facts.len();
        if oid_count > MAX_OIDS_PER_TEMPLATE {
            return Err(self.error(
                None,
                format!(
                    "{oid_count} OID lus par le modèle : au plus {MAX_OIDS_PER_TEMPLATE} \
                     (mesures, états et faits ensemble)"
                ),
            ));
        }
        Ok(Template {
            name,
            description,
            metrics,
            statuses,
            facts,
            traps,
        })
    }

    fn template_name(&self, name: &Text) -> Result<String, TemplateError> {
        let value = name.get_ref();
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if value.is_empty()
            || value.chars().count() > MAX_TEMPLATE_NAME_CHARS
            || !value.starts_with(|c: char| c.is_ascii_lowercase())
            || !value.chars().all(ok)
        {
            return Err(self.at(
                name,
                format!(
                    "nom de modèle « {value} » invalide : de 1 à {MAX_TEMPLATE_NAME_CHARS} \
                     minuscules sans accent, chiffres, « - » ou « _ », en commençant par une lettre"
                ),
            ));
        }
        Ok(value.clone())
    }

    fn text_field(&self, value: &Text, what: &str) -> Result<String, TemplateError> {
        let text = value.get_ref().trim();
        if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
            return Err(self.at(
                value,
                format!("{what} doit faire de 1 à {MAX_TEXT_CHARS} caractères"),
            ));
        }
        Ok(text.to_owned())
    }

    fn oid(&self, value: &Text) -> Result<Oid, TemplateError> {
        Oid::parse(value.get_ref().trim()).map_err(|_| {
            self.at(
                value,
                format!(
                    "OID « {} » invalide : des nombres séparés par des points, \
                     par exemple 1.3.6.1.2.1.1.3.0",
                    value.get_ref()
                ),
            )
        })
    }

    fn check_name(&self, value: &Text) -> Result<CheckName, TemplateError> {
        CheckName::parse(value.get_ref()).map_err(|error| self.at(value, error.0))
    }

    fn metric(&self, raw: &RawMetric) -> Result<Metric, TemplateError> {
        let name = MetricName::parse(raw.name.get_ref()).map_err(|e| self.at(&raw.name, e.0))?;
        let fields = RawSource {
            oid: raw.oid.clone(),
            column: raw.column.clone(),
            label: raw.label.clone(),
            extend: raw.extend.clone(),
            total_oid: raw.total_oid.clone(),
            available_oid: raw.available_oid.clone(),
        };
        let source = self.source(&fields, &raw.name, true)?;
        let scale = match &raw.scale {
            None => 1.0,
            Some(scale) if scale.get_ref().is_finite() && *scale.get_ref() != 0.0 => {
                *scale.get_ref()
            }
            Some(scale) => {
                return Err(self.at(scale, "l'échelle (scale) doit être un nombre fini non nul"));
            }
        };
        Ok(Metric {
            name,
            source,
            scale,
        })
    }

    fn status(&self, raw: &RawStatus) -> Result<StatusRule, TemplateError> {
        let check = self.check_name(&raw.check)?;
        let fields = RawSource {
            oid: raw.oid.clone(),
            column: raw.column.clone(),
            label: raw.label.clone(),
            extend: raw.extend.clone(),
            ..RawSource::default()
        };
        let source = self.source(&fields, &raw.check, false)?;
        if raw.down_when.get_ref().is_empty() {
            return Err(self.at(
                &raw.down_when,
                "down_when doit donner au moins une valeur (les valeurs qui signifient « en panne »)",
            ));
        }
        Ok(StatusRule {
            check,
            source,
            down_when: raw.down_when.get_ref().clone(),
            detail: self.text_field(&raw.detail, "le détail (detail)")?,
        })
    }

    /// Exactly one source: `oid`, `column` with `label`, `extend`, or (metrics only)
    /// `total_oid` with `available_oid`. `owner` places errors about the entry as a whole.
    fn source(
        &self,
        raw: &RawSource,
        owner: &Text,
        ratio_allowed: bool,
    ) -> Result<Source, TemplateError> {
        let chosen = [
            raw.oid.is_some(),
            raw.column.is_some(),
            raw.extend.is_some(),
            raw.total_oid.is_some() || raw.available_oid.is_some(),
        ]
        .into_iter()
        .filter(|&set| set)
        .count();
        let expected = if ratio_allowed {
            "indiquez exactement une source : oid, column (avec label), extend, \
             ou total_oid avec available_oid"
        } else {
            "indiquez exactement une source : oid, column (avec label) ou extend"
        };
        if chosen != 1 {
            return Err(self.at(owner, expected));
        }
        if let (Some(label), None) = (&raw.label, &raw.column) {
            return Err(self.at(label, "label ne sert qu'avec column"));
        }
        if let Some(oid) = &raw.oid {
            return Ok(Source::Scalar(self.oid(oid)?));
        }
        if let Some(column) = &raw.column {
            let Some(label) = &raw.label else {
                return Err(self.at(
                    column,
                    "column demande label : la colonne qui nomme chaque ligne",
                ));
            };
            return Ok(Source::Column {
                column: self.oid(column)?,
                label: self.oid(label)?,
            });
        }
        if let Some(extend) = &raw.extend {
            return Ok(Source::Scalar(self.extend_oid(extend)?));
        }
        if !ratio_allowed {
            let misplaced = raw.total_oid.as_ref().or(raw.available_oid.as_ref());
            return Err(self.at(misplaced.unwrap_or(owner), expected));
        }
        match (&raw.total_oid, &raw.available_oid) {
            (Some(total), Some(available)) => Ok(Source::UsedPercent {
                total: self.oid(total)?,
                available: self.oid(available)?,
            }),
            (Some(one), None) | (None, Some(one)) => Err(self.at(
                one,
                "total_oid et available_oid vont ensemble (pourcentage utilisé)",
            )),
            (None, None) => Err(self.at(owner, expected)),
        }
    }

    /// nsExtendOutput1Line."name": the name as a string index (its length, then its bytes).
    fn extend_oid(&self, extend: &Text) -> Result<Oid, TemplateError> {
        let name = extend.get_ref();
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.chars().count() > MAX_EXTEND_NAME_CHARS || !name.chars().all(ok)
        {
            return Err(self.at(
                extend,
                format!(
                    "nom d'extend « {name} » invalide : de 1 à {MAX_EXTEND_NAME_CHARS} lettres \
                     ASCII, chiffres, « - », « _ » ou « . » (le nom de la ligne extend de snmpd.conf)"
                ),
            ));
        }
        let mut arcs = NS_EXTEND_OUTPUT_1_LINE.to_vec();
        arcs.push(name.len() as u32);
        arcs.extend(name.bytes().map(u32::from));
        Oid::from_arcs(arcs).map_err(|_| self.at(extend, "nom d'extend trop long"))
    }

    fn fact(&self, raw: &RawFact) -> Result<FactRule, TemplateError> {
        let name = raw.name.get_ref();
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
            return Err(self.at(
                &raw.name,
                format!(
                    "nom de fait « {name} » invalide : de 1 à 64 minuscules, chiffres ou « _ »"
                ),
            ));
        }
        Ok(FactRule {
            name: name.clone(),
            oid: self.oid(&raw.oid)?,
        })
    }

    fn trap(&self, raw: &RawTrap) -> Result<TrapRule, TemplateError> {
        let oid = self.oid(&raw.oid)?;
        let check = self.check_name(&raw.check)?;
        let status = CheckStatus::parse(raw.status.get_ref()).ok_or_else(|| {
            self.at(
                &raw.status,
                format!(
                    "état « {} » inconnu : up, down ou unknown",
                    raw.status.get_ref()
                ),
            )
        })?;
        let detail = self.text_field(&raw.detail, "le détail (detail)")?;
        let varbind = match (&raw.varbind, &raw.value_equals, &raw.value_under) {
            (None, None, None) => None,
            (Some(varbind), Some(equals), None) => Some((
                self.oid(varbind)?,
                VarbindMatch::Equals(equals.get_ref().clone()),
            )),
            (Some(varbind), None, Some(under)) => {
                Some((self.oid(varbind)?, VarbindMatch::Under(self.oid(under)?)))
            }
            (Some(varbind), _, _) => {
                return Err(self.at(
                    varbind,
                    "varbind demande exactement une condition : value_equals ou value_under",
                ));
            }
            (None, Some(value), _) | (None, None, Some(value)) => {
                return Err(self.at(
                    value,
                    "value_equals et value_under demandent varbind (l'OID de la variable lue)",
                ));
            }
        };
        Ok(TrapRule {
            oid,
            varbind,
            check,
            status,
            detail,
        })
    }
}

/// The TOML reader speaks English: its common messages are said again in French, the rare
/// syntax ones keep their English detail after a French lead.
fn in_french(message: &str) -> String {
    let message = message.trim().replace('\n', " ; ");
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, allowed) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let allowed = allowed.strip_prefix("one of ").unwrap_or(allowed);
        return format!("clé inconnue {field} (clés permises : {allowed})");
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("clé obligatoire {field} absente");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
        return format!("type de valeur invalide : {found}, attendu : {expected}");
    }
    format!("syntaxe TOML invalide : {message}")
}

fn source_oid_count(source: &Source) -> usize {
    match source {
        Source::Scalar(_) => 1,
        Source::Column { .. } | Source::UsedPercent { .. } => 2,
    }
}
