//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Written here by
//! hand, next to the routes; the server's tests check that every documented operation is
//! routed, that every route is documented, and that each record schema names exactly the
//! fields the API reads and writes.

use axum::Json;
use serde_json::{Value, json};
use vigie_domain::inventory::ObjectKind;

use crate::api::collection;

fn reference() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "description": "Référence stable"})
}

fn text() -> Value {
    json!({"type": "string"})
}

fn list_of(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn enumeration(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

fn duration() -> Value {
    json!({"type": "string", "description": "Durée : 90s, 30min, 4h, 1h30, 2d", "example": "30min"})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

fn service_check() -> Value {
    object(
        &[],
        json!({"port": {"type": "integer"}, "path": text(), "username": text(), "password": text()}),
    )
}

/// The schema of each inventory record, by kind.
pub fn record_schema(kind: ObjectKind) -> Value {
    match kind {
        ObjectKind::Client => object(
            &["ref", "name"],
            json!({"ref": reference(), "name": text()}),
        ),
        ObjectKind::Contact => object(
            &["ref", "client", "name"],
            json!({
                "ref": reference(), "client": reference(), "name": text(),
                "roles": list_of(enumeration(&["technical_contact", "security_manager", "cio", "management"])),
                "email": {"type": "string", "format": "email"},
                "phone": {"type": "string", "description": "E.164, par exemple +33612345678"},
            }),
        ),
        ObjectKind::Contract => object(
            &["ref", "client"],
            json!({
                "ref": reference(), "client": reference(),
                "tier": enumeration(&["standard", "premium"]),
                "options": list_of(enumeration(&["supervision", "round_the_clock", "dashboard", "direct_notifications"])),
                "sla": {"type": "object", "description": "Valeurs contractuelles qui priment (CM-4) : priorité (p1, p2, p3) → mesure (acknowledgement, take_charge, on_site, intervention_planning, client_update) → durée",
                        "additionalProperties": {"type": "object", "additionalProperties": duration()}},
                "report_contacts": list_of(reference()),
                "policy": {"type": "object", "description": "Valeurs de la politique remplacées pour ce contrat (docs/policy.md)"},
            }),
        ),
        ObjectKind::Staff => object(
            &["ref", "name", "roles"],
            json!({
                "ref": reference(), "name": text(),
                "roles": list_of(enumeration(&["technician", "on_call_manager", "technical_manager", "operations_manager", "referent_engineer", "supervision", "administrator"])),
                "email": {"type": "string", "format": "email"},
                "phone": {"type": "string"},
                "manager": reference(),
                "channels": list_of(object(&["channel"], json!({
                    "channel": enumeration(&["sms", "voice", "email"]),
                    "after_minutes": {"type": "integer", "minimum": 0, "maximum": 120},
                }))),
            }),
        ),
        ObjectKind::Territory => object(
            &["ref", "name"],
            json!({
                "ref": reference(), "name": text(),
                "sites": list_of(reference()),
                "clients": list_of(reference()),
            }),
        ),
        ObjectKind::Site => object(
            &["ref", "client", "contract", "name"],
            json!({
                "ref": reference(), "client": reference(), "contract": reference(), "name": text(), "address": text(),
                "time_zone": {"type": "string", "default": "Europe/Paris"},
                "criticality": enumeration(&["critical", "standard"]),
                "offline_tolerance": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+([.,][0-9]{1,2})?%$"}]},
                "security_manager": reference(),
                "technical_contact": reference(),
                "maintenance_windows": list_of(object(&["days", "start", "duration"], json!({
                    "label": text(),
                    "days": list_of(enumeration(&["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])),
                    "start": {"type": "string", "pattern": "^[0-9]{1,2}:[0-9]{2}$"},
                    "duration": duration(),
                    "time_zone": text(),
                }))),
                "policy": {"type": "object", "description": "Valeurs de la politique remplacées pour ce site (docs/policy.md)"},
            }),
        ),
        ObjectKind::Equipment => object(
            &["ref", "site", "name", "kind"],
            json!({
                "ref": reference(), "site": reference(), "name": text(),
                "kind": enumeration(&["camera", "nvr", "vms_server", "switch", "power_supply", "access_control", "other"]),
                "camera_role": enumeration(&["priority", "secondary"]),
                "address": text(), "parent": reference(), "model": text(), "firmware": text(),
                "checks": object(&[], json!({
                    "interval": duration(),
                    "ping": object(&[], json!({})),
                    "tcp": object(&["port"], json!({"port": {"type": "integer"}})),
                    "http": service_check(),
                    "snmp": object(&["version"], json!({
                        "version": enumeration(&["2c", "3"]), "port": {"type": "integer"}, "community": text(), "user": text(),
                        "auth_protocol": text(), "auth_password": text(), "privacy_protocol": text(), "privacy_password": text(), "template": text(),
                    })),
                    "onvif": service_check(),
                    "rtsp": service_check(),
                    "heartbeat": object(&["interval"], json!({"interval": duration()})),
                    "agent": object(&[], json!({})),
                })),
            }),
        ),
    }
}

fn schema_name(kind: ObjectKind) -> String {
    let key = kind.key();
    let mut name = key[..1].to_uppercase();
    name.push_str(&key[1..]);
    name
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn responses(success: &str, body: Option<Value>) -> Value {
    let mut ok = json!({"description": "Succès"});
    if let Some(body) = body {
        ok["content"] = json!({"application/json": {"schema": body}});
    }
    let error = json!({"description": "Erreur", "content": {"application/json": {"schema": schema_ref("Error")}}});
    json!({success: ok, "400": error, "401": error, "403": error, "404": error, "409": error, "422": error, "default": error})
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

/// The whole document.
pub fn build() -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    schemas.insert("Error".into(), json!({
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "description": "Code stable, pour les programmes"},
            "message": {"type": "string", "description": "Message en français, pour les personnes"},
            "details": list_of(json!({"type": "object", "properties": {"line": {"type": "integer"}, "object": text(), "field": text(), "message": text()}})),
        }}}
    }));
    let user = json!({"type": "object", "properties": {
        "username": text(), "display_name": text(), "kind": enumeration(&["staff", "client"]), "staff": reference(), "client": reference(),
        "roles": list_of(text()), "must_change_password": {"type": "boolean"}, "created_ms": {"type": "integer"}, "password_changed_ms": {"type": "integer"}}});
    schemas.insert("User".into(), user);
    schemas.insert("Token".into(), json!({"type": "object", "properties": {
        "id": text(), "username": text(), "name": text(), "scope": enumeration(&["agent", "probe", "integration", "read_only"]),
        "site": reference(),
        "created_ms": {"type": "integer"}, "expires_ms": {"type": "integer"}, "revoked_ms": {"type": "integer"}, "last_used_ms": {"type": "integer"}}}));
    schemas.insert("AuditEntry".into(), json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "at_ms": {"type": "integer", "description": "Instant UTC en millisecondes depuis l'époque Unix"},
        "actor": text(), "action": enumeration(&["create", "update", "delete"]), "object_kind": text(), "object_ref": text(),
        "client": text(), "before": {"type": "object"}, "after": {"type": "object"}}}));

    for kind in ObjectKind::ALL {
        let name = schema_name(kind);
        schemas.insert(name.clone(), record_schema(kind));
        let base = format!("/api/v1/{}", collection(kind));
        let page = json!({"type": "object", "properties": {"items": list_of(schema_ref(&name)), "next_after": reference()}});
        let mut list_parameters = vec![
            query(
                "after",
                "Dernière référence de la page précédente",
                reference(),
            ),
            query(
                "limit",
                "Taille de page (1 à 1000, 100 par défaut)",
                json!({"type": "integer"}),
            ),
        ];
        if kind != ObjectKind::Staff {
            list_parameters.push(query("client", "Seulement ce client", reference()));
        }
        if kind == ObjectKind::Equipment {
            list_parameters.push(query("site", "Seulement ce site", reference()));
        }
        paths.insert(base.clone(), json!({
            "get": {"summary": format!("Lister ({})", kind.french()), "operationId": format!("list_{}", collection(kind)), "parameters": list_parameters, "responses": responses("200", Some(page))},
            "post": {"summary": format!("Créer ({})", kind.french()), "operationId": format!("create_{}", kind.key()), "requestBody": json_body(schema_ref(&name)), "responses": responses("201", Some(schema_ref(&name)))},
        }));
        paths.insert(format!("{base}/{{reference}}"), json!({
            "parameters": [path_param("reference")],
            "get": {"summary": format!("Lire ({})", kind.french()), "operationId": format!("get_{}", kind.key()), "responses": responses("200", Some(schema_ref(&name)))},
            "put": {"summary": format!("Créer ou remplacer ({})", kind.french()), "operationId": format!("put_{}", kind.key()), "requestBody": json_body(schema_ref(&name)), "responses": responses("200", Some(schema_ref(&name)))},
            "delete": {"summary": format!("Supprimer ({})", kind.french()), "operationId": format!("delete_{}", kind.key()), "responses": responses("204", None)},
        }));
    }

    let me = json!({"type": "object", "properties": {"user": schema_ref("User"), "roles": list_of(text()), "must_change_password": {"type": "boolean"}}});
    paths.insert("/api/v1/auth/login".into(), json!({"post": {"summary": "Se connecter (ouvre une session, cookie vigie_session)", "operationId": "login", "security": [],
        "requestBody": json_body(object(&["username", "password"], json!({"username": text(), "password": text()}))), "responses": responses("200", Some(me.clone()))}}));
    paths.insert("/api/v1/auth/logout".into(), json!({"post": {"summary": "Se déconnecter", "operationId": "logout", "responses": responses("204", None)}}));
    paths.insert("/api/v1/auth/me".into(), json!({"get": {"summary": "Utilisateur courant", "operationId": "me", "responses": responses("200", Some(me.clone()))}}));
    paths.insert("/api/v1/auth/password".into(), json!({"post": {"summary": "Changer son mot de passe (ferme toutes ses sessions, en ouvre une nouvelle)", "operationId": "change_password",
        "requestBody": json_body(object(&["current_password", "new_password"], json!({"current_password": text(), "new_password": text()}))), "responses": responses("200", Some(me))}}));
    paths.insert("/api/v1/users".into(), json!({
        "get": {"summary": "Lister les comptes (administrateurs)", "operationId": "list_users", "responses": responses("200", Some(list_of(schema_ref("User"))))},
        "post": {"summary": "Créer un compte ; renvoie un mot de passe à usage unique", "operationId": "create_user",
            "requestBody": json_body(object(&["username", "display_name", "kind"], json!({"username": text(), "display_name": text(), "kind": enumeration(&["staff", "client"]), "client": reference(), "staff": reference(), "roles": list_of(text())}))),
            "responses": responses("201", Some(json!({"type": "object", "properties": {"user": schema_ref("User"), "one_time_password": text()}})))},
    }));
    paths.insert("/api/v1/users/{username}/password".into(), json!({"parameters": [path_param("username")], "post": {"summary": "Réinitialiser un mot de passe (administrateurs)", "operationId": "reset_password",
        "responses": responses("200", Some(json!({"type": "object", "properties": {"one_time_password": text()}})))}}));
    paths.insert("/api/v1/tokens".into(), json!({
        "get": {"summary": "Lister ses jetons (ou ceux d'un utilisateur, administrateurs)", "operationId": "list_tokens", "parameters": [query("username", "Titulaire", text())], "responses": responses("200", Some(list_of(schema_ref("Token"))))},
        "post": {"summary": "Créer un jeton ; son secret n'est montré qu'une fois ; un jeton de sonde est lié à un site (site, obligatoire pour la portée probe)", "operationId": "create_token",
            "requestBody": json_body(object(&["name", "scope"], json!({"name": text(), "scope": enumeration(&["agent", "probe", "integration", "read_only"]), "expires_in_days": {"type": "integer"}, "username": text(),
                "site": reference()}))),
            "responses": responses("201", Some(json!({"type": "object", "properties": {"token": schema_ref("Token"), "secret": text()}})))},
    }));
    paths.insert("/api/v1/tokens/{id}".into(), json!({"parameters": [path_param("id")], "delete": {"summary": "Révoquer un jeton", "operationId": "revoke_token", "responses": responses("204", None)}}));
    paths.insert("/api/v1/audit".into(), json!({"get": {"summary": "Journal d'audit (personnel), du plus récent au plus ancien", "operationId": "audit_trail",
        "parameters": [query("object_kind", "Type d'objet", text()), query("object_ref", "Référence", text()), query("client", "Client", text()), query("actor", "Auteur", text()),
            query("before_id", "Plus petit id de la page précédente", json!({"type": "integer"})), query("limit", "Taille de page", json!({"type": "integer"}))],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(schema_ref("AuditEntry")), "next_before_id": {"type": "integer"}}})))}}));
    paths.insert("/api/v1/inventory/export".into(), json!({"get": {"summary": "Exporter l'inventaire visible (format de docs/inventory.md)", "operationId": "export_inventory",
        "responses": {"200": {"description": "Fichier d'inventaire", "content": {"application/toml": {"schema": {"type": "string"}}}}}}}));
    paths.insert("/api/v1/inventory/import".into(), json!({"post": {"summary": "Importer un fichier d'inventaire (tout ou rien ; chaque erreur avec sa ligne)", "operationId": "import_inventory",
        "requestBody": {"required": true, "content": {"application/toml": {"schema": {"type": "string"}}}},
        "responses": responses("200", Some(json!({"type": "object", "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"}}})))}}));
    // Supervision (SUP-1…SUP-3).
    let integer = || json!({"type": "integer"});
    let state_item = json!({"type": "object", "properties": {"equipment": text(), "check": text(), "status": enumeration(&["up", "down", "unknown"]), "since": integer(), "last": integer(), "detail": text(), "expect_by": integer()}});
    let change_item = json!({"type": "object", "properties": {"id": integer(), "client": text(), "site": text(), "equipment": text(), "check": text(), "at": integer(), "from": enumeration(&["up", "down", "unknown"]), "to": enumeration(&["up", "down", "unknown"]), "detail": text()}});
    let observation = json!({"type": "object", "required": ["equipment", "check", "at"], "additionalProperties": false, "properties": {
        "equipment": reference(), "check": {"type": "string", "description": "ping, tcp, http, tls, snmp, onvif, rtsp, heartbeat, agent, ou un nom de modèle (snmp.disk_health, service:recorder)"},
        "at": {"type": "integer", "description": "Instant de l'observation, millisecondes UTC"}, "status": enumeration(&["up", "down", "unknown"]), "detail": text(),
        "samples": list_of(json!({"type": "object", "required": ["name", "value"], "properties": {"name": text(), "value": {"type": "number"}}})),
        "facts": {"type": "object", "additionalProperties": {"type": "string"}}}});
    let push_report = json!({"type": "object", "properties": {"duplicate": {"type": "boolean"}, "accepted": integer(), "stale": integer(), "samples": integer(), "changes": integer(), "unknown_equipment": list_of(text())}});
    let history_params = || {
        vec![
            query(
                "from",
                "Début (ms UTC ; défaut : 30 jours avant to)",
                integer(),
            ),
            query("to", "Fin exclue (ms UTC ; défaut : maintenant)", integer()),
            query("after", "Dernier id de la page précédente", integer()),
            query("limit", "Taille de page (≤ 10 000)", integer()),
        ]
    };
    let clock_round = json!({"type": "object", "properties": {"now": integer(), "next": {"type": ["integer", "null"]}}});
    paths.insert("/api/v1/clock".into(), json!({
        "get": {"summary": "Horloge virtuelle (rejeu de scénarios, VIGIE_VIRTUAL_CLOCK) : l'instant et la prochaine échéance ; 404 sur un serveur à l'horloge réelle", "operationId": "virtual_clock", "responses": responses("200", Some(clock_round.clone()))},
        "post": {"summary": "Avance l'horloge virtuelle et fait un tour du travail de fond (guet, astreintes, alarmes, escalades, envois, délais des tickets) ; administrateurs, serveur démarré avec VIGIE_VIRTUAL_CLOCK seulement", "operationId": "move_virtual_clock",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["to"], "additionalProperties": false, "properties": {"to": integer(), "run": {"type": "boolean"}, "watchdog": {"type": "boolean"}, "rotations": {"type": "boolean"}, "mailbox": {"type": "boolean"}}}}}},
            "responses": responses("200", Some(clock_round))}
    }));
    paths.insert("/api/v1/time".into(), json!({"get": {"summary": "Heure du serveur (ms UTC), pour mesurer la dérive d'horloge des agents", "operationId": "server_time", "security": [], "responses": responses("200", Some(json!({"type": "object", "properties": {"now": integer()}})))}}));
    paths.insert("/api/v1/observations".into(), json!({"post": {"summary": "Envoyer des observations (jeton agent ou sonde) ; un lot (source, sequence) renvoyé est pris une fois", "operationId": "push_observations",
        "requestBody": json_body(json!({"type": "object", "required": ["observations"], "properties": {"version": integer(), "source": text(), "sequence": integer(),
            "probe": {"type": "object", "required": ["name", "site", "interval_seconds"], "properties": {"name": text(), "site": reference(), "interval_seconds": integer()}},
            "observations": list_of(observation)}})),
        "responses": responses("200", Some(push_report.clone()))}}));
    paths.insert("/api/v1/equipment/{reference}/heartbeat".into(), json!({
        "get": {"summary": "Battement de cœur d'un équipement (jeton en Bearer, ou en mot de passe HTTP Basic)", "operationId": "heartbeat_get", "parameters": [path_param("reference")], "responses": responses("200", Some(push_report.clone()))},
        "post": {"summary": "Battement de cœur d'un équipement", "operationId": "heartbeat", "parameters": [path_param("reference")], "responses": responses("200", Some(push_report))}}));
    paths.insert("/api/v1/equipment/{reference}/state".into(), json!({"get": {"summary": "État courant de chaque contrôle d'un équipement", "operationId": "equipment_state", "parameters": [path_param("reference")],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(state_item.clone())}})))}}));
    paths.insert("/api/v1/sites/{reference}/state".into(), json!({"get": {"summary": "État courant des contrôles de tous les équipements d'un site", "operationId": "site_state", "parameters": [path_param("reference")],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(state_item)}})))}}));
    let mut equipment_history = vec![path_param("reference")];
    equipment_history.extend(history_params());
    let mut site_history = vec![path_param("reference")];
    site_history.extend(history_params());
    let history_body = json!({"type": "object", "properties": {"items": list_of(change_item), "next_after": integer()}});
    paths.insert("/api/v1/equipment/{reference}/history".into(), json!({"get": {"summary": "Changements d'état d'un équipement (30 derniers jours par défaut)", "operationId": "equipment_history", "parameters": equipment_history, "responses": responses("200", Some(history_body.clone()))}}));
    paths.insert("/api/v1/sites/{reference}/history".into(), json!({"get": {"summary": "Changements d'état des équipements d'un site", "operationId": "site_history", "parameters": site_history, "responses": responses("200", Some(history_body))}}));
    paths.insert("/api/v1/equipment/{reference}/samples".into(), json!({"get": {"summary": "Série d'une mesure : brute jusqu'à 2 jours, horaire au-delà", "operationId": "samples",
        "parameters": [path_param("reference"), query("metric", "Nom de la mesure (cpu_percent, disk_used_percent:/srv…)", text()), query("from", "Début (ms UTC)", integer()), query("to", "Fin exclue (ms UTC)", integer()), query("resolution", "raw ou hourly", enumeration(&["raw", "hourly"]))],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"metric": text(), "resolution": enumeration(&["raw", "hourly"]), "points": list_of(json!({"type": "object", "properties": {"at": integer(), "value": {"type": "number"}, "min": {"type": "number"}, "max": {"type": "number"}}}))}})))}}));
    paths.insert("/api/v1/probes".into(), json!({"get": {"summary": "Sondes de site et état de leur lien", "operationId": "probes",
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(json!({"type": "object", "properties": {"name": text(), "site": text(), "last": integer(), "expect_by": integer(), "link": enumeration(&["up", "lost", "new"])}}))}})))}}));
    paths.insert("/api/v1/traps".into(), json!({"get": {"summary": "Traps SNMP reçus (personnel), y compris inconnus ou illisibles", "operationId": "traps",
        "parameters": [query("unknown", "Seulement ceux qu'aucun modèle ne connaît", json!({"type": "boolean"})), query("limit", "Nombre", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(json!({"type": "object"}))}})))}}));
    let alarm_item = json!({"type": "object", "description": "Une alarme (docs/alarms.md) : instants en ms UTC", "properties": {
        "id": integer(), "client": text(), "site": text(), "equipment": text(),
        "condition": json!({"type": "object", "properties": {"condition": text(), "part": text()}}),
        "severity": enumeration(&["critical", "major", "minor"]), "flapping": {"type": "boolean"},
        "status": enumeration(&["raised", "acknowledged", "taken_in_charge", "resolved", "closed"]),
        "raised_at": integer(), "notified_at": integer(), "resolved_at": integer(), "resolved_by": text(), "duration_ms": integer(),
        "suppression": json!({"type": "object", "description": "reason : parent, maintenance ou tolerance"}),
        "cameras": list_of(text()), "acknowledged": json!({"type": "object"}), "taken_in_charge": json!({"type": "object"}), "closure": json!({"type": "object"})}});
    let alarm_with_events = json!({"allOf": [alarm_item.clone(), {"type": "object", "properties": {"events": list_of(json!({"type": "object", "properties": {"alarm": integer(), "at": integer(), "by": text(), "event": text()}}))}}]});
    paths.insert("/api/v1/alarms".into(), json!({"get": {"summary": "Alarmes visibles, la plus récente d'abord, avec leur durée ; présentes pendant [from, to)", "operationId": "list_alarms",
        "parameters": [query("client", "Seulement ce client", reference()), query("site", "Seulement ce site", reference()), query("equipment", "Seulement cet équipement", reference()),
            query("from", "Début de la période (ms UTC)", integer()), query("to", "Fin exclue de la période (ms UTC)", integer()), query("open", "true : non closes ; false : closes", json!({"type": "boolean"})),
            query("before", "Numéro : alarmes plus anciennes que celle-ci (page suivante)", integer()), query("limit", "Nombre (1 000 au plus)", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(alarm_item), "next_before": integer()}})))}}));
    paths.insert("/api/v1/alarms/{id}".into(), json!({"parameters": [path_param("id")], "get": {"summary": "Une alarme et chaque étape de sa vie (qui, quand)", "operationId": "get_alarm", "responses": responses("200", Some(alarm_with_events.clone()))}}));
    paths.insert("/api/v1/alarms/{id}/acknowledge".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Acquitter (personnel lié à une fiche)", "operationId": "acknowledge_alarm", "responses": responses("200", Some(alarm_with_events.clone()))}}));
    paths.insert("/api/v1/alarms/{id}/take-charge".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Prendre en charge (acquitte aussi)", "operationId": "take_charge_alarm", "responses": responses("200", Some(alarm_with_events.clone()))}}));
    paths.insert("/api/v1/alarms/{id}/close".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Clore une alarme résolue (CLO-1) : le technicien qui l'a résolue ou son responsable (CLO-2)", "operationId": "close_alarm",
        "requestBody": json_body(object(&["actions", "intervention_minutes", "root_cause"], json!({"actions": text(), "intervention_minutes": integer(), "root_cause": text(), "parts_replaced": {"type": "array", "items": text(), "description": "CM-8 : pièces remplacées"}, "recommendations": text()}))),
        "responses": responses("200", Some(alarm_with_events))}}));
    let rotation = json!({"type": "object", "description": "Une astreinte (docs/oncall.md)", "properties": {
        "name": text(), "duty": enumeration(&["technician", "manager"]), "time_zone": text(), "members": list_of(text()),
        "handoff": json!({"type": "object", "description": "{every = \"week\", day, at} ou {every_days, at}"}), "start": text(),
        "overrides": list_of(json!({"type": "object", "properties": {"from": text(), "to": text(), "member": text(), "reason": text()}}))}});
    paths.insert("/api/v1/rotations".into(), json!({"get": {"summary": "Astreintes (personnel)", "operationId": "rotations", "responses": responses("200", Some(list_of(rotation.clone())))}}));
    paths.insert("/api/v1/rotations/{name}".into(), json!({"parameters": [path_param("name")],
        "get": {"summary": "Une astreinte", "operationId": "rotation", "responses": responses("200", Some(rotation.clone()))},
        "put": {"summary": "Crée ou remplace une astreinte (rotations, remplacements, échanges), vérifiée et tracée", "operationId": "put_rotation", "requestBody": json_body(rotation.clone()), "responses": responses("200", Some(rotation.clone()))},
        "delete": {"summary": "Supprime une astreinte", "operationId": "delete_rotation", "responses": {"204": {"description": "Supprimée"}}}}));
    paths.insert("/api/v1/rotations/{name}/swap".into(), json!({"parameters": [path_param("name")], "post": {"summary": "Échange de gardes : les membres des deux gardes qui contiennent first et second échangent (deux remplacements ajoutés)", "operationId": "swap_rotation",
        "requestBody": json_body(object(&["first", "second"], json!({"first": text(), "second": text()}))), "responses": responses("200", Some(rotation.clone()))}}));
    paths.insert("/api/v1/oncall".into(), json!({"get": {"summary": "Qui est d'astreinte à un instant (maintenant par défaut)", "operationId": "oncall",
        "parameters": [query("at", "Instant : ms UTC ou RFC 3339", text()), query("site", "Un site : qui en répond, par son territoire et ses secours", text())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"at": integer(), "uncovered": list_of(text()),
            "rotations": list_of(json!({"type": "object", "properties": {"rotation": text(), "duty": text(), "member": text(), "from": integer(), "to": integer(), "by_override": {"type": "boolean"}}})),
            "site": {"type": "object", "properties": {"site": text(), "rotation": text(), "member": text(), "passed": list_of(text())}}}})))}}));
    paths.insert("/api/v1/oncall/figures".into(), json!({"get": {"summary": "Charge et réactivité des astreintes sur une période (30 jours par défaut, 400 au plus) : pages par personne et par semaine, nuits réveillées, délais moyens d'acquittement et de résolution par astreinte, territoire et client", "operationId": "oncall_figures",
        "parameters": [query("from", "Début : ms UTC ou RFC 3339", text()), query("to", "Fin (exclue) : ms UTC ou RFC 3339", text())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"people": list_of(json!({"type": "object"})), "by_rotation": list_of(json!({"type": "object"})), "by_territory": list_of(json!({"type": "object"})), "by_client": list_of(json!({"type": "object"}))}})))}}));
    paths.insert("/api/v1/oncall/coverage".into(), json!({"get": {"summary": "Les sites sans personne d'astreinte dans les 14 jours qui viennent, par territoire et secours", "operationId": "oncall_coverage",
        "responses": responses("200", Some(json!({"type": "object", "properties": {"from": integer(), "to": integer(),
            "gaps": list_of(json!({"type": "object", "properties": {"duty": text(), "from_ms": integer(), "to_ms": integer(), "site_count": integer(), "sites": list_of(text())}}))}})))}}));
    paths.insert("/api/v1/console".into(), json!({"get": {"summary": "Fil de la console de supervision : chaque étape d'escalade et chaque échec d'envoi (NOT-1)", "operationId": "console",
        "parameters": [query("before", "Numéro : entrées plus anciennes (page suivante)", integer()), query("limit", "Nombre (1 000 au plus)", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(json!({"type": "object"})), "next_before": integer()}})))}}));
    let notification = json!({"type": "object", "description": "Une page (alarm) ou un message de ticket (ticket) et ce qu'il est devenu", "properties": {
        "id": integer(), "key": text(), "alarm": integer(), "ticket": integer(), "severity": text(), "step": text(),
        "recipient": text(), "name": text(), "channel": enumeration(&["sms", "email", "webhook", "console", "voice"]), "address": text(),
        "status": enumeration(&["pending", "sent", "failed", "skipped"]), "attempts": integer(), "created_ms": integer(), "sent_ms": integer(),
        "last_error": text(), "answer": text()}});
    paths.insert("/api/v1/notifications".into(), json!({"get": {"summary": "Boîte d'envoi : chaque page et chaque message de ticket, tous canaux, la plus récente d'abord, et son état (personnel ; sous vigie demo, rien ne part : tout y reste)", "operationId": "list_notifications",
        "parameters": [query("before", "Numéro : entrées plus anciennes (page suivante)", integer()), query("limit", "Nombre (1 000 au plus)", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(notification), "next_before": integer()}})))}}));
    paths.insert("/api/v1/sms/inbound".into(), json!({"post": {"summary": "Webhook entrant de la passerelle SMS : une réponse portant le code d'une page acquitte son alarme", "operationId": "sms_inbound", "security": [],
        "parameters": [query("secret", "Secret partagé avec la passerelle ([sms] inbound_secret)", text())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"acknowledged": integer(), "message": text()}})))}}));
    let policy_version = json!({"type": "object", "description": "Une version de la politique (issue 26) : le TOML ajouté à la politique par défaut", "properties": {
        "version": integer(), "text": text(), "by": text(), "at_ms": integer(), "note": text(), "restored_from": integer()}});
    paths.insert("/api/v1/policy".into(), json!({
        "get": {"summary": "La politique en vigueur : sa version (0 : le fichier de la configuration), et pour une version enregistrée son texte, qui, quand et pourquoi (personnel)", "operationId": "policy_in_force",
            "responses": responses("200", Some(json!({"type": "object", "properties": {"version": integer(), "source": enumeration(&["console", "configuration"]), "saved": policy_version.clone()}})))},
        "put": {"summary": "Vérifie le texte, l'enregistre comme nouvelle version et l'applique aussitôt, sans redémarrage (administrateur, responsable technique ou d'exploitation ; 422 avec la raison si le texte n'est pas une politique)", "operationId": "save_policy",
            "requestBody": json_body(object(&["text"], json!({"text": text(), "note": text()}))),
            "responses": responses("200", Some(json!({"type": "object", "properties": {"version": integer()}})))}}));
    paths.insert("/api/v1/policy/versions".into(), json!({"get": {"summary": "Les versions de la politique, la plus récente d'abord (personnel)", "operationId": "policy_versions",
        "parameters": [query("before", "Numéro de version : les plus anciennes (page suivante)", integer()), query("limit", "Nombre (200 au plus)", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(policy_version.clone()), "next_before": integer()}})))}}));
    paths.insert("/api/v1/policy/versions/{version}".into(), json!({"get": {"summary": "Une version de la politique et son texte (personnel)", "operationId": "policy_version",
        "parameters": [path_param("version")],
        "responses": responses("200", Some(policy_version.clone()))}}));
    paths.insert("/api/v1/policy/versions/{version}/restore".into(), json!({"post": {"summary": "Restaure une version : son texte devient la nouvelle version, en vigueur aussitôt", "operationId": "restore_policy",
        "parameters": [path_param("version")],
        "requestBody": {"required": false, "content": {"application/json": {"schema": object(&[], json!({"note": text()}))}}},
        "responses": responses("200", Some(json!({"type": "object", "properties": {"version": integer()}})))}}));
    paths.insert("/api/v1/voice/keypad/{token}".into(), json!({"post": {"summary": "Rappel de la passerelle vocale : les touches tapées pendant l'appel d'une page ; « 1 » acquitte son alarme au nom de la personne appelée", "operationId": "voice_keypad", "security": [],
        "parameters": [path_param("token")],
        "requestBody": json_body(object(&["digits"], json!({"digits": text()}))),
        "responses": responses("200", Some(json!({"type": "object", "properties": {"acknowledged": integer(), "message": text()}})))}}));
    let ticket = json!({"type": "object", "description": "Un ticket (docs/tickets.md)", "properties": {
        "number": integer(), "client": text(), "site": text(), "equipment": text(),
        "kind": enumeration(&["request", "incident", "maintenance", "intervention"]),
        "source": enumeration(&["portal", "email", "phone", "alarm", "api"]), "symptom": text(),
        "impact": enumeration(&["security_compromised", "partial_loss", "one_equipment", "no_security_impact", "question", "unknown"]),
        "stated_criticality": enumeration(&["critical", "standard", "informative"]), "reporter": text(), "alarm": integer(),
        "priority": enumeration(&["p1", "p2", "p3"]),
        "status": enumeration(&["new", "acknowledged", "in_progress", "waiting_for_client", "on_site", "resolved", "closed"]),
        "received_at": integer(), "assignee": text(), "resolved_at": integer(), "closed_at": integer(),
        "sla": json!({"type": "object", "description": "Délais en cours (timers : running, paused, overdue)"})}});
    let ticket_event = json!({"type": "object", "properties": {"ticket": integer(), "at": integer(), "by": text(),
        "event": enumeration(&["opened", "requalified", "assigned", "action", "status", "sla_due", "sla_met", "sla_breached", "sla_paused", "message_queued", "message_failed", "alarm_closed"])}});
    let change = json!({"type": "object", "properties": {"ticket": ticket.clone(), "events": list_of(ticket_event.clone())}});
    paths.insert("/api/v1/tickets".into(), json!({
        "get": {"summary": "File des tickets visibles, le plus urgent d'abord (échéance la plus proche, puis priorité, puis ancienneté)", "operationId": "list_tickets",
            "parameters": [query("client", "Seulement ce client", reference()), query("site", "Seulement ce site", reference()),
                query("status", "Seulement ce statut", text()), query("priority", "p1, p2 ou p3", text()), query("assignee", "Seulement ceux de ce technicien", reference()), query("due_before", "Seulement ceux dont la prochaine échéance tombe au plus tard à cet instant (ms depuis l'époque)", integer()),
                query("open", "true : non clos ; false : clos", json!({"type": "boolean"})), query("after", "Numéro : page suivante", integer()), query("limit", "Nombre (500 au plus)", integer())],
            "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(ticket.clone()), "next_after": integer()}})))},
        "post": {"summary": "Ouvre un ticket aussitôt, qualifié et minuté (CM-2, SAV-1) : un client par le portail, le personnel pour un appel, un email ou l'API", "operationId": "open_ticket",
            "requestBody": json_body(object(&["symptom"], json!({"client": reference(), "site": reference(), "equipment": reference(),
                "kind": enumeration(&["request", "incident", "maintenance", "intervention"]), "source": enumeration(&["portal", "email", "phone", "api"]),
                "symptom": text(), "impact": text(), "stated_criticality": enumeration(&["critical", "standard", "informative"]), "reporter": text(), "reply_to": text()}))),
            "responses": responses("201", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}".into(), json!({"parameters": [path_param("number")], "get": {"summary": "Un ticket et chaque étape de sa vie (qui, quand)", "operationId": "get_ticket",
        "responses": responses("200", Some(json!({"allOf": [ticket, {"type": "object", "properties": {"events": list_of(ticket_event)}}]})))}}));
    paths.insert("/api/v1/tickets/{number}/actions".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Une étape : acknowledge, take_charge, plan_intervention, arrive_on_site, wait_for_client, client_replied, resolve, client_confirms, close (un client : client_confirms et client_replied seulement). Le point au client passe par /updates avec son texte (INC-4) ; close sans motif n'est accepté que 5 jours après une relance sans réponse (SAV-6 : sinon /close avec le motif)", "operationId": "ticket_action",
        "requestBody": json_body(object(&["action"], json!({"action": text()}))), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/requalify".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Réévalue la priorité avec son motif (SAV-3) ; les délais deviennent ceux de la nouvelle priorité, depuis la réception (CM-4)", "operationId": "requalify_ticket",
        "requestBody": json_body(object(&["priority", "reason"], json!({"priority": enumeration(&["p1", "p2", "p3"]), "reason": text()}))), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/updates".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Point d'avancement au client (INC-4) : email et SMS au contact technique, et à la direction pour un P1 ; relance la cadence", "operationId": "update_ticket_client",
        "requestBody": json_body(object(&["text"], json!({"text": text()}))), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/close".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Clôture sans confirmation du client (SAV-6) : avec le motif (par exemple « confirmé par téléphone par M. Martin le 12/03 »), inscrit au ticket et montré au client ; sans motif, seulement 5 jours après une relance restée sans réponse (409 avant)", "operationId": "close_ticket",
        "requestBody": json_body(object(&[], json!({"reason": text()}))), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/notes".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Note du personnel : message, appel, diagnostic à distance (CM-5), intervention planifiée avec technicien, créneau et pièces (CM-6, vaut planification), escalade à l'ingénieur référent (CM-6)", "operationId": "note_ticket",
        "requestBody": json_body(json!({"type": "object", "required": ["note"], "description": "note : message {direction, with, text} | call {direction, with, summary, minutes?} | diagnosis {checks, result, on_site_needed, parts?} | intervention {technician, from, to, parts?} | escalation {to, reason}", "properties": {"note": enumeration(&["message", "call", "diagnosis", "intervention", "escalation"])}})),
        "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/resolution".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Résout un incident avec sa cause, ses actions, sa durée d'intervention et l'impact sur les données de sécurité (INC-5) ; une perte de données informe le client au titre du RGPD, avec son délai", "operationId": "resolve_ticket",
        "requestBody": json_body(object(&["root_cause", "actions", "intervention_minutes", "data_impact"], json!({"root_cause": text(), "actions": text(), "intervention_minutes": integer(),
            "data_impact": object(&[], json!({"footage_lost": {"type": "boolean"}, "accesses_untracked": {"type": "boolean"}, "description": text()}))}))),
        "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/told-by".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Comment le client est prévenu de ce ticket désormais : par email, par SMS ou les deux (le client lui-même, ou le personnel pour lui) ; un contact sans adresse pour ce canal reste prévenu par les autres ; l'information RGPD (INC-5) et le rapport d'intervention gardent leurs canaux", "operationId": "choose_told_by",
        "requestBody": json_body(object(&["told_by"], json!({"told_by": enumeration(&["email", "sms", "email_and_sms"])}))), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/location".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Rattache le ticket au site (et à l'équipement) qu'il concerne, une fois connus (un email qui ne le disait pas, CM-2) ; les délais ne bougent pas", "operationId": "locate_ticket",
        "requestBody": json_body(object(&["site"], json!({"site": reference(), "equipment": reference()}))), "responses": responses("200", Some(change.clone()))}}));
    let measure = object(
        &["kind", "action", "owner", "due"],
        json!({"kind": enumeration(&["corrective", "preventive"]), "action": text(), "owner": text(), "due": integer()}),
    );
    let post_mortem_text = object(
        &["analysis", "measures"],
        json!({"analysis": text(), "measures": list_of(measure.clone())}),
    );
    paths.insert("/api/v1/tickets/{number}/post-mortem".into(), json!({"parameters": [path_param("number")],
        "get": {"summary": "Post-mortem d'un P1 (INC-6) avec la chronologie de l'incident (ticket et alarme) : brouillon pour le personnel, le client une fois partagé ; anonymised=true masque les noms du client", "operationId": "get_post_mortem",
            "parameters": [query("anonymised", "true : noms du client, de ses sites et contacts, adresses et numéros masqués", json!({"type": "boolean"}))],
            "responses": responses("200", Some(json!({"type": "object", "properties": {"ticket": integer(), "due": integer(), "analysis": text(), "measures": list_of(measure), "published_at": integer(), "overdue": {"type": "boolean"}, "anonymised": {"type": "boolean"},
                "timeline": list_of(object(&["at", "source", "what"], json!({"at": integer(), "source": text(), "by": text(), "what": text()})))}})))},
        "put": {"summary": "Écrit l'analyse des causes et les mesures correctives et préventives (responsable, échéance) du post-mortem, tant qu'il n'est pas partagé", "operationId": "write_post_mortem",
            "requestBody": json_body(post_mortem_text), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/tickets/{number}/post-mortem/publish".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Partage le post-mortem avec le client (email), une fois complet : analyse, une mesure corrective et une préventive au moins", "operationId": "publish_post_mortem",
        "responses": responses("200", Some(change.clone()))}}));
    let attachment = object(
        &["id", "mail", "name", "content_type", "size", "kept"],
        json!({"id": integer(), "mail": integer(), "name": text(), "content_type": text(), "size": integer(), "kept": {"type": "boolean"}}),
    );
    paths.insert("/api/v1/tickets/{number}/attachments".into(), json!({"parameters": [path_param("number")], "get": {"summary": "Pièces jointes des emails du ticket (kept faux : trop grosse, listée sans contenu)", "operationId": "list_ticket_attachments",
        "responses": responses("200", Some(list_of(attachment.clone())))}}));
    paths.insert("/api/v1/tickets/{number}/attachments/{id}".into(), json!({"parameters": [path_param("number"), path_param("id")], "get": {"summary": "Une pièce jointe, en téléchargement (application/octet-stream)", "operationId": "download_ticket_attachment",
        "responses": {"200": {"description": "Les octets de la pièce jointe"}, "404": {"description": "Introuvable, ou non conservée"}}}}));
    let document = object(
        &[
            "id",
            "client",
            "kind",
            "title",
            "content_type",
            "created_at",
        ],
        json!({"id": integer(), "client": reference(), "site": reference(), "ticket": integer(), "kind": text(), "title": text(), "content_type": text(), "created_at": integer()}),
    );
    paths.insert("/api/v1/documents".into(), json!({"get": {"summary": "Documents des dossiers des clients et des sites visibles (rapports d'intervention, CM-8), du plus récent au plus ancien", "operationId": "list_documents",
        "parameters": [query("client", "Seulement ce client", reference()), query("site", "Seulement ce site", reference()), query("ticket", "Seulement ceux de ce ticket", integer()), query("before", "Identifiant : page suivante (plus anciens)", integer()), query("limit", "Nombre (500 au plus)", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(document), "next_before": integer()}})))}}));
    paths.insert("/api/v1/documents/{id}".into(), json!({"parameters": [path_param("id")], "get": {"summary": "Un document (HTML pour un rapport d'intervention), pour qui voit son client et son site", "operationId": "get_document",
        "responses": {"200": {"description": "Le document"}, "404": {"description": "Introuvable"}}}}));
    paths.insert("/api/v1/mail/{id}/ticket".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Ouvre un ticket pour le client nommé à partir d'un message mis de côté (expéditeur inconnu, contact de plusieurs clients…), avec son accusé de réception et ses pièces jointes (personnel)", "operationId": "open_ticket_from_mail",
        "requestBody": json_body(object(&["client"], json!({"client": reference(), "site": reference()}))), "responses": responses("201", Some(change.clone()))}}));
    paths.insert("/api/v1/mail/{id}/attach".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Ajoute un message mis de côté au ticket nommé, comme une réponse du client (un ticket en attente du client reprend), avec ses pièces jointes (personnel)", "operationId": "attach_mail",
        "requestBody": json_body(object(&["ticket"], json!({"ticket": integer()}))), "responses": responses("200", Some(change.clone()))}}));
    paths.insert("/api/v1/mail/{id}/discard".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Écarte un message mis de côté (publicité, réponse automatique) : gardé avec qui l'a écarté et quand, il n'attend plus personne (personnel)", "operationId": "discard_mail",
        "responses": {"204": {"description": "Écarté"}, "404": {"description": "Introuvable"}, "422": {"description": "Déjà écarté, ou déjà devenu un ticket"}}}}));
    paths.insert("/api/v1/mail".into(), json!({"get": {"summary": "Messages de la boîte de support, du plus récent au plus ancien, et ce que chacun est devenu : ticket ouvert, ajouté à un ticket, ou mis de côté avec sa raison, écarté s'il l'a été (personnel)", "operationId": "list_mail",
        "parameters": [query("disposition", "opened, threaded ou set_aside", text()), query("waiting", "true : seulement les messages qui attendent quelqu'un (mis de côté, non écartés)", json!({"type": "boolean"})), query("before", "Identifiant : page suivante (plus anciens)", integer()), query("limit", "Nombre (200 au plus)", integer())],
        "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(json!({"type": "object", "description": "Un message : id, received_at, from, from_name, subject, disposition, ticket, reply, reason, label, client, text, complete, size, attachments, discarded (at, by)"})), "next_before": integer()}})))}}));
    paths.insert("/api/v1/tickets/{number}/assign".into(), json!({"parameters": [path_param("number")], "post": {"summary": "Confie le ticket à un membre du personnel", "operationId": "assign_ticket",
        "requestBody": json_body(object(&["to"], json!({"to": reference()}))), "responses": responses("200", Some(change))}}));
    let window = json!({"type": "object", "description": "Une fenêtre ponctuelle : id, kind (maintenance : retirée de la disponibilité ; silence : notifications seulement), client, site, equipment, starts_at, ends_at, reason, created_by, created_at, ended_at, ended_by (instants en ms UTC)",
        "required": ["id", "kind", "client", "site", "starts_at", "ends_at", "reason", "created_by", "created_at"],
        "properties": {"id": integer(), "kind": {"type": "string", "enum": ["maintenance", "silence"]}, "client": reference(), "site": reference(), "equipment": reference(), "starts_at": integer(), "ends_at": integer(), "reason": text(), "created_by": reference(), "created_at": integer(), "ended_at": integer(), "ended_by": reference()}});
    paths.insert("/api/v1/windows".into(), json!({
        "get": {"summary": "Fenêtres de maintenance et silences ponctuels (ALR-9) des sites que l'appelant voit : en cours ou à venir, ou passés", "operationId": "list_windows",
            "parameters": [query("state", "current (en cours ou à venir, par défaut) ou past (terminées)", text()), query("site", "Site", reference()), query("equipment", "Équipement", reference()), query("limit", "Nombre (200 au plus)", integer())],
            "responses": responses("200", Some(json!({"type": "object", "properties": {"items": list_of(window.clone())}})))},
        "post": {"summary": "Ouvre une fenêtre ponctuelle sur un site ou un de ses équipements, avec une fin et un motif (équipe de supervision) ; les alarmes qu'elle couvre ne sont pas notifiées jusqu'à sa fin", "operationId": "open_window",
            "requestBody": json_body(object(&["kind", "site", "ends_at", "reason"], json!({"kind": {"type": "string", "enum": ["maintenance", "silence"]}, "site": reference(), "equipment": reference(), "starts_at": integer(), "ends_at": integer(), "reason": text()}))),
            "responses": responses("201", Some(window.clone()))}}));
    paths.insert("/api/v1/windows/{id}".into(), json!({"parameters": [path_param("id")], "get": {"summary": "Une fenêtre ponctuelle", "operationId": "get_window", "responses": responses("200", Some(window.clone()))}}));
    paths.insert("/api/v1/windows/{id}/end".into(), json!({"parameters": [path_param("id")], "post": {"summary": "Termine une fenêtre maintenant (équipe de supervision) : les alarmes qu'elle retenait sont notifiées", "operationId": "end_window", "responses": responses("200", Some(window))}}));
    paths.insert("/api/v1/openapi.json".into(), json!({"get": {"summary": "Ce document", "operationId": "openapi", "security": [], "responses": {"200": {"description": "Document OpenAPI"}}}}));

    json!({
        "openapi": "3.1.0",
        "info": {"title": "API Vigie", "version": env!("CARGO_PKG_VERSION"), "description": "Supervision, alarmes et service client. Erreurs : {\"error\": {\"code\", \"message\", \"details\"}}."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "__Host-vigie_session quand l'URL publique est en https"},
                "token": {"type": "http", "scheme": "bearer", "description": "Jeton vgt_…"},
            },
        },
        "security": [{"session": []}, {"token": []}],
    })
}

pub async fn document() -> Json<Value> {
    Json(build())
}
