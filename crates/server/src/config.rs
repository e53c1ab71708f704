//! The server's configuration: one typed TOML file, overridden by environment variables,
//! unknown keys refused, secrets never printed. `vigie config default` prints [`DEFAULT_TOML`].

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The documented default configuration, exactly what `vigie config default` prints.
pub const DEFAULT_TOML: &str = r#"# Configuration de Vigie.
# Chaque valeur peut être remplacée par une variable d'environnement :
#   data_dir             -> VIGIE_DATA_DIR
#   policy               -> VIGIE_POLICY
#   [section] cle        -> VIGIE_SECTION__CLE   (deux soulignés, par exemple VIGIE_DATABASE__URL)
# Une clé inconnue, dans ce fichier ou dans l'environnement, est refusée.

# Répertoire des données (base SQLite, fichiers) ; créé au premier démarrage.
data_dir = "vigie-data"

# Politique : un fichier TOML qui remplace des valeurs de la politique par défaut (seuils,
# délais d'acquittement, chaînes d'escalade, calendriers ; docs/policy.md) ; vide : la
# politique par défaut. Lu au démarrage.
policy = ""

[server]
# Adresse d'écoute. 127.0.0.1 par défaut : exposez Vigie derrière un proxy TLS.
listen = "127.0.0.1:8080"
# URL publique, telle que les utilisateurs la voient. En https, les cookies de session
# portent l'attribut Secure et le préfixe __Host- (__Host-vigie_session).
public_url = "http://127.0.0.1:8080"
# Proxys de confiance (adresses ou réseaux, « 127.0.0.1 », « 10.0.0.0/8 ») : d'une connexion
# venue de l'un d'eux, l'adresse du client est lue dans X-Forwarded-For (la dernière qui
# n'est pas un proxy de confiance) ; de toute autre, c'est l'adresse de la connexion, et
# l'en-tête est ignoré. Vide : l'en-tête n'est jamais lu. Derrière le proxy TLS recommandé
# sur la même machine : ["127.0.0.1", "::1"].
trusted_proxies = []
# Taille maximale d'une requête (octets) ; l'import d'inventaire a sa propre limite.
max_request_bytes = 1048576
# Taille maximale d'un fichier d'inventaire envoyé à l'API (octets).
max_import_bytes = 67108864
# Jeton que Prometheus présente pour lire /metrics (en-tête « Authorization: Bearer <jeton> »).
# Vide : /metrics ne répond qu'aux connexions de la machine elle-même (boucle locale).
metrics_token = ""
# Mises à jour en direct des pages ouvertes (flux /flux, une connexion par onglet) : au plus
# live_streams en tout, dont live_streams_staff gardés pour le personnel de l'intégrateur
# (les clients n'y touchent pas : le mur d'alarmes reste à jour) ; au plus
# live_streams_per_client pour tous les comptes d'un client, live_streams_per_session par
# session. Au-delà, la page s'affiche sans mise à jour en direct (HTTP 429).
live_streams = 10000
live_streams_staff = 1000
live_streams_per_client = 500
live_streams_per_session = 8

[database]
# Vide : base SQLite embarquée <data_dir>/vigie.sqlite.
# postgres://utilisateur:motdepasse@hote:5432/base pour plusieurs processus serveur.
url = ""
# Fichier de la clé qui chiffre les secrets rangés dans la base (identifiants des équipements,
# clé de signature des liens) ; créé au premier démarrage, lisible par Vigie seul. Vide :
# <data_dir>/secrets.key. Plusieurs processus sur une même base partagent le même fichier ;
# sans lui, ces secrets sont perdus (à sauvegarder à part de la base).
secrets_key_file = ""

[auth]
# Durée de vie d'une session (heures).
session_hours = 12
# Échecs de connexion tolérés par identifiant sur la fenêtre ; au-delà, chaque essai attend
# après le dernier échec 1 s, puis 2 s, 4 s… au plus max_login_delay_seconds (HTTP 429).
# Un navigateur où le compte s'est déjà connecté a son propre compte d'échecs.
max_failures_per_user = 5
# Attente la plus longue imposée à un compte après des échecs (secondes).
max_login_delay_seconds = 300
# Échecs tolérés par adresse IP sur la fenêtre (plus large : un proxy partage une adresse).
max_failures_per_address = 50
# Fenêtre de comptage des échecs par adresse (minutes) ; ceux d'un compte sont gardés 24 h,
# et oubliés à sa connexion réussie.
failure_window_minutes = 15
# Longueur minimale d'un mot de passe.
min_password_length = 12

[supervision]
# Conservation des mesures brutes (jours), puis seulement leurs agrégats horaires.
raw_retention_days = 8
# Conservation des agrégats horaires (jours) : plus d'un an, pour les rapports annuels.
hourly_retention_days = 400
# Fréquence (secondes) du guet : battements de cœur manquants, agents muets, sondes perdues.
watchdog_seconds = 10
# Le serveur contrôle lui-même (ping, TCP, HTTP(S), RTSP, ONVIF) les équipements des sites
# sans sonde. Le ping demande les droits root ou CAP_NET_RAW.
poll = true
# Réception des traps SNMP (v1, v2c, v3) : adresse d'écoute, vide pour ne pas écouter
# (par exemple "0.0.0.0:162", ou un port au-delà de 1024 sans droits particuliers).
trap_listen = ""
# Communautés acceptées pour les traps v1 et v2c ; liste vide : v1 et v2c refusés (v3 seul).
trap_communities = ["public"]
# Utilisateurs SNMPv3 acceptés pour les traps, authentifiés et chiffrés (authPriv) seulement.
# Un bloc par utilisateur et par moteur émetteur :
#   [[supervision.trap_users]]
#   user = "vigie-traps"                 # nom d'utilisateur SNMPv3 (32 octets au plus)
#   engine_id = "0x80001f8804766967696531"
#                                        # snmpEngineID de l'émetteur, en hexadécimal (5 à 32
#                                        # octets) : engineID de son snmpd.conf, snmptrap -e
#   auth_protocol = "SHA-256"            # MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512 (SHA
#                                        # par défaut)
#   auth_password = "…"                  # 8 octets au moins
#   privacy_protocol = "AES"             # AES (AES-128) ou DES (AES par défaut)
#   privacy_password = "…"               # 8 octets au moins
# Par l'environnement, la liste entière en TOML :
#   VIGIE_SUPERVISION__TRAP_USERS='[{ user = "vigie-traps", engine_id = "…", … }]'
trap_users = []

[notifications]
# Durée de validité d'un lien ou d'un code d'acquittement envoyé par SMS ou email (heures).
acknowledgement_hours = 24
# Essais d'une notification avant de la déclarer en échec ; le délai entre deux essais double
# à chaque fois, de retry_first_seconds à retry_max_seconds.
max_attempts = 8
retry_first_seconds = 30
retry_max_seconds = 900
# Envois simultanés au plus, tous canaux confondus.
max_in_flight = 64
# Vérifie chaque minute (et à chaque modification d'astreinte) qu'il y a quelqu'un d'astreinte ;
# une astreinte sans personne lève une alarme majeure « astreinte sans personne d'astreinte ».
# Avec plusieurs processus sur une même base, à true sur un seul : celui qui reçoit les
# observations.
watch_rotations = true
# Webhooks signés (HMAC-SHA256) appelés par les étapes d'escalade qui ont le canal « webhook » :
#   [[notifications.webhooks]]
#   name = "ged"                         # nom, tel qu'il apparaît dans l'historique
#   url = "https://exemple.fr/vigie"
#   secret = "…"                         # clé de signature partagée avec le destinataire
webhooks = []

[smtp]
# Serveur d'envoi des emails ; vide : aucun email n'est envoyé (les pages restent en échec
# visible « canal non configuré »).
host = ""
port = 587
# none, starttls ou tls (TLS implicite, port 465).
security = "starttls"
username = ""
password = ""
from = "Vigie <vigie@localhost>"
timeout_seconds = 30

[mailbox]
# Boîte de support lue par IMAP (SAV-1) : le message d'un contact d'un client ouvre un ticket
# (avec son accusé de réception), une réponse dont l'objet porte « Ticket n°42 » s'ajoute au
# ticket 42 ; réponses automatiques, boucles, expéditeurs inconnus et rafales sont mis de côté
# (GET /api/v1/mail). Vide : aucune boîte n'est lue.
host = ""
port = 993
# none, starttls ou tls (TLS implicite, port 993). none seulement vers un serveur de cette
# machine (127.0.0.1, ::1, localhost) : le mot de passe ne circule jamais en clair sur le réseau.
security = "tls"
username = ""
password = ""
# Dossier lu, et dossier où chaque message est rangé une fois enregistré (créé s'il manque ;
# noms en ASCII). Un message n'est rangé qu'après son enregistrement : jamais perdu.
folder = "INBOX"
processed_folder = "Vigie/Traites"
# Adresse de la boîte : les emails de Vigie y renvoient les réponses (Reply-To), et un message
# qui en vient est une boucle. Avec elle, les avis de résolution proposent de confirmer en
# répondant « CONFIRMÉ » (SAV-6).
address = ""
# Fréquence de lecture (secondes).
poll_seconds = 30
# Taille maximale d'un message lu en entier (octets) ; au-delà, seul son en-tête est lu et le
# ticket le signale (le message reste dans la boîte). Une pièce jointe est gardée jusqu'à
# 25 Mo (une vidéo courte) ; 40 Mo de message la laissent passer une fois encodée en base64.
max_message_bytes = 41943040
# Tickets qu'un même expéditeur peut ouvrir par email en une heure ; au-delà, ses messages sont
# mis de côté.
max_tickets_per_sender_hour = 5
timeout_seconds = 30
# Une boîte illisible depuis ce nombre de minutes (serveur injoignable, mot de passe refusé)
# lève une alarme majeure « boîte de support illisible », résolue quand elle se lit de nouveau.
# Avec plusieurs processus sur une même base, une seule section [mailbox] remplie.
alarm_after_minutes = 15

[sms]
# Passerelle SMS HTTP ; vide : aucun SMS n'est envoyé. Modèle de requête : docs/notifications.md
# ({to}, {to_national}, {text}, {key} dans l'URL, les en-têtes et le corps).
url = ""
method = "POST"
content_type = "application/json"
body = ""
# En-têtes, « Nom: valeur », par exemple ["Authorization: Bearer …"].
headers = []
# Au plus max_per_recipient SMS par numéro sur per_minutes minutes.
max_per_recipient = 10
per_minutes = 60
timeout_seconds = 15
# Réponses par SMS (acquittement par code) : la passerelle appelle
# <public_url>/api/v1/sms/inbound?secret=<inbound_secret> ; vide : réponses refusées.
inbound_secret = ""
inbound_from_field = "from"
inbound_text_field = "text"

[voice]
# Passerelle d'appels vocaux HTTP ; vide : aucun appel n'est passé. Même modèle de requête que
# les SMS (docs/notifications.md, « Appels vocaux ») : {to}, {to_national}, {to_digits}, {text}
# (le message lu), {key} et {callback}, l'adresse où la passerelle renvoie les touches tapées
# (« tapez 1 pour acquitter »).
url = ""
method = "POST"
content_type = "application/json"
body = ""
headers = []
# Au plus max_per_recipient appels par numéro sur per_minutes minutes.
max_per_recipient = 6
per_minutes = 60
timeout_seconds = 15
# Le champ du corps renvoyé à {callback} qui porte les touches tapées.
keypad_field = "digits"

[reports]
# Rapports mensuels (docs/reports.md) : le 1er de chaque mois à 6 h (Paris), le rapport de
# supervision de chaque client, la revue des alarmes de chaque site et l'analyse de la
# satisfaction du mois précédent sont produits, classés et envoyés. false : seulement à la
# demande (vigie report).
monthly = true
# Le nom de l'intégrateur, en tête de chaque rapport.
organisation = "Mileo Technology"

[log]
# error, warn, info, debug ou trace.
level = "info"
# text ou json.
format = "text"
"#;

/// A value that must never appear in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            write!(f, "\"{}\"", vigie_store::redact_url(&self.0))
        }
    }
}

/// A password: `Debug` shows only whether it is set, and a value of the wrong type is
/// refused without being repeated in the error.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("\"***\"")
        }
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Password, D::Error> {
        String::deserialize(deserializer)
            .map(Password)
            .map_err(|_| serde::de::Error::custom("un mot de passe doit être un texte"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub policy: String,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub supervision: SupervisionConfig,
    pub notifications: NotificationsConfig,
    pub smtp: SmtpConfig,
    pub mailbox: MailboxConfig,
    pub sms: SmsConfig,
    pub voice: VoiceConfig,
    pub reports: ReportsConfig,
    pub log: LogConfig,
    /// `vigie demo`: pages and ticket messages go to the outbox, recorded sent and never sent
    /// (`delivery.rs`). Only the demo command sets it: neither the file nor the environment
    /// can (a `demo` key is refused as unknown), so that no production server stops paging
    /// because of a stray setting.
    #[serde(skip)]
    pub demo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    pub acknowledgement_hours: u32,
    pub max_attempts: u32,
    pub retry_first_seconds: u32,
    pub retry_max_seconds: u32,
    pub max_in_flight: usize,
    pub watch_rotations: bool,
    pub webhooks: Vec<WebhookConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub secret: Password,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: String,
    pub password: Password,
    pub from: String,
    pub timeout_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: String,
    pub password: Password,
    pub folder: String,
    pub processed_folder: String,
    pub address: String,
    pub poll_seconds: u32,
    pub max_message_bytes: u64,
    pub max_tickets_per_sender_hour: u32,
    pub timeout_seconds: u32,
    pub alarm_after_minutes: u32,
}

impl MailboxConfig {
    /// Whether the support mailbox is read.
    pub fn is_read(&self) -> bool {
        !self.host.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub url: String,
    pub method: String,
    pub content_type: String,
    pub body: String,
    /// « Nom: valeur », often the provider's credentials: never shown.
    pub headers: Vec<Password>,
    pub max_per_recipient: u32,
    pub per_minutes: u32,
    pub timeout_seconds: u32,
    pub inbound_secret: Password,
    pub inbound_from_field: String,
    pub inbound_text_field: String,
}

/// The voice gateway (issue 26, item 3): a request template as the SMS gateway's, and the
/// field of the keypad callback that holds the keys pressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceConfig {
    pub url: String,
    pub method: String,
    pub content_type: String,
    pub body: String,
    /// « Nom: valeur », often the provider's credentials: never shown.
    pub headers: Vec<Password>,
    pub max_per_recipient: u32,
    pub per_minutes: u32,
    pub timeout_seconds: u32,
    pub keypad_field: String,
}

impl VoiceConfig {
    /// Whether calls are placed.
    pub fn is_configured(&self) -> bool {
        !self.url.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_url: String,
    pub max_request_bytes: usize,
    pub max_import_bytes: usize,
    /// The token `/metrics` asks for; empty: `/metrics` answers loopback peers only.
    #[serde(default)]
    pub metrics_token: Password,
    /// Reverse proxies whose `X-Forwarded-For` is believed (issue 23, item 10).
    #[serde(default)]
    pub trusted_proxies: Vec<IpNetwork>,
    /// Live streams open at most, of which `live_streams_staff` only for the integrator's
    /// staff; per client and per session (issue 23, item 7). Their defaults are those of
    /// `DEFAULT_TOML`, under every file read.
    pub live_streams: usize,
    pub live_streams_staff: usize,
    pub live_streams_per_client: usize,
    pub live_streams_per_session: usize,
}

/// An address or a network (`10.0.0.0/8`, `fd00::/8`), as written in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpNetwork {
    pub address: std::net::IpAddr,
    pub prefix: u8,
}

impl IpNetwork {
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        // An IPv4 peer may come as an IPv4-mapped IPv6 address on a dual-stack socket.
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl TryFrom<String> for IpNetwork {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let refused = || {
            format!(
                "proxy de confiance « {text} » : une adresse IP ou un réseau (10.0.0.0/8) attendu"
            )
        };
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: std::net::IpAddr = address.parse().map_err(|_| refused())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(refused)?,
        };
        Ok(IpNetwork { address, prefix })
    }
}

impl From<IpNetwork> for String {
    fn from(network: IpNetwork) -> String {
        format!("{}/{}", network.address, network.prefix)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Secret,
    /// The file of the key that encrypts the secrets stored in the database (issue 23, item
    /// 3); empty: `<data_dir>/secrets.key`.
    pub secrets_key_file: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_hours: u32,
    pub max_failures_per_user: u32,
    pub max_login_delay_seconds: u32,
    pub max_failures_per_address: u32,
    pub failure_window_minutes: u32,
    pub min_password_length: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionConfig {
    pub raw_retention_days: u32,
    pub hourly_retention_days: u32,
    pub watchdog_seconds: u32,
    pub poll: bool,
    pub trap_listen: String,
    pub trap_communities: Vec<String>,
    pub trap_users: Vec<TrapUserConfig>,
}

/// A USM user whose v3 traps are accepted, as sent by one engine: in v3 the sender of a trap
/// is the authoritative engine, so the receiver's keys are localised to the sender's
/// snmpEngineID. Same keys as an equipment's `snmp` check in the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrapUserConfig {
    pub user: String,
    /// The sender's snmpEngineID in hexadecimal (`0x` prefix, spaces and colons allowed).
    pub engine_id: String,
    /// SHA when absent, as in the inventory.
    pub auth_protocol: Option<String>,
    pub auth_password: Password,
    /// AES when absent, as in the inventory.
    pub privacy_protocol: Option<String>,
    pub privacy_password: Password,
}

impl TrapUserConfig {
    /// The USM user (always authPriv) and the sender's engine ID this entry describes, or why
    /// not, naming the key. Cheap: the keys are derived later, by the trap receiver.
    pub fn usm_user(&self) -> Result<(vigie_snmp::UsmUser, Vec<u8>), String> {
        use vigie_snmp::message::{MAX_ENGINE_ID_LENGTH, MAX_USER_NAME_LENGTH};
        use vigie_snmp::usm::{MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH};
        if self.user.is_empty() {
            return Err("user manquant (le nom d'utilisateur SNMPv3)".into());
        }
        if self.user.len() > MAX_USER_NAME_LENGTH {
            return Err(format!(
                "user « {} » : {MAX_USER_NAME_LENGTH} octets au plus",
                self.user
            ));
        }
        if self.engine_id.is_empty() {
            return Err(
                "engine_id manquant (le snmpEngineID de l'émetteur, en hexadécimal)".into(),
            );
        }
        let digits: String = self
            .engine_id
            .trim_start_matches("0x")
            .trim_start_matches("0X")
            .chars()
            .filter(|c| !matches!(c, ' ' | ':'))
            .collect();
        let engine_id = hex::decode(&digits)
            .ok()
            .filter(|bytes| (5..=MAX_ENGINE_ID_LENGTH).contains(&bytes.len()))
            .ok_or_else(|| {
                format!(
                    "engine_id « {} » : identifiant de moteur en hexadécimal de 5 à {MAX_ENGINE_ID_LENGTH} octets attendu (par exemple 0x80001f8804766967696531)",
                    self.engine_id
                )
            })?;
        let auth_name = self.auth_protocol.as_deref().unwrap_or("SHA");
        let auth = vigie_snmp::AuthProtocol::from_name(auth_name).ok_or_else(|| {
            format!(
                "auth_protocol « {auth_name} » inconnu (MD5, SHA, SHA-224, SHA-256, SHA-384 ou SHA-512)"
            )
        })?;
        let privacy_name = self.privacy_protocol.as_deref().unwrap_or("AES");
        let privacy = vigie_snmp::PrivProtocol::from_name(privacy_name)
            .ok_or_else(|| format!("privacy_protocol « {privacy_name} » inconnu (AES ou DES)"))?;
        for (key, password) in [
            ("auth_password", &self.auth_password),
            ("privacy_password", &self.privacy_password),
        ] {
            if password.0.is_empty() {
                return Err(format!(
                    "{key} manquant : seuls les traps SNMPv3 authentifiés et chiffrés (authPriv) sont acceptés"
                ));
            }
            if !(MIN_PASSWORD_LENGTH..=MAX_PASSWORD_LENGTH).contains(&password.0.len()) {
                return Err(format!(
                    "{key} : de {MIN_PASSWORD_LENGTH} à {MAX_PASSWORD_LENGTH} octets attendus"
                ));
            }
        }
        let user = vigie_snmp::UsmUser::new(self.user.clone())
            .with_auth(auth, self.auth_password.0.clone())
            .with_privacy(privacy, self.privacy_password.0.clone());
        user.validate().map_err(|e| e.to_string())?;
        Ok((user, engine_id))
    }
}

/// The monthly reports (issue 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// The reports of the month before are made on the first of each month.
    pub monthly: bool,
    /// The integrator's name, at the head of every report.
    pub organisation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml(DEFAULT_TOML, std::iter::empty())
            .expect("the default configuration is valid")
    }
}

impl Config {
    /// Reads `text` (the file), then applies `VIGIE_…` overrides from `environment`.
    pub fn from_toml(
        text: &str,
        environment: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, String> {
        let mut table: toml::Table = toml::from_str(DEFAULT_TOML).map_err(|e| e.to_string())?;
        let file: toml::Table = toml::from_str(text)
            .map_err(|e| format!("fichier de configuration illisible : {e}"))?;
        merge(&mut table, file);
        for (name, value) in environment {
            let Some(path) = env_path(&name) else {
                continue;
            };
            let section = match path.as_slice() {
                [_] => &mut table,
                [section, _] => table
                    .get_mut(section)
                    .and_then(|s| s.as_table_mut())
                    .ok_or_else(|| {
                        format!("variable d'environnement {name} : section « {section} » inconnue")
                    })?,
                _ => return Err(format!("variable d'environnement {name} mal formée")),
            };
            let key = path.last().expect("one or two parts").clone();
            // Where the default is text, the value stays text (a password made of digits);
            // elsewhere it is read as a TOML value (numbers), and as text if it is not one.
            let value = match section.get(&key) {
                Some(toml::Value::String(_)) => toml::Value::String(value),
                // A list is given whole, in TOML. The value is not repeated in the error: it
                // may hold passwords (trap_users).
                Some(toml::Value::Array(_)) => toml::from_str::<toml::Table>(&format!("v = {value}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .filter(|v| v.is_array())
                    .ok_or_else(|| {
                        format!(
                            "variable d'environnement {name} : tableau TOML attendu, par exemple [\"public\"] ou [{{ user = \"…\", engine_id = \"…\", … }}]"
                        )
                    })?,
                _ => toml::from_str::<toml::Table>(&format!("v = {value}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .filter(|v| !v.is_table())
                    .unwrap_or(toml::Value::String(value)),
            };
            section.insert(key, value);
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    format!(
                        "configuration invalide : {}",
                        vigie_domain::text::french_serde_message(e.message())
                    )
                })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the configuration file at `path` (if given) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("lecture de {} impossible : {e}", path.display()))?,
            None => String::new(),
        };
        Config::from_toml(&text, std::env::vars())
    }

    fn validate(&self) -> Result<(), String> {
        let organisation = self.reports.organisation.trim();
        if organisation.is_empty() || organisation.chars().count() > 200 {
            return Err(
                "[reports] organisation : le nom de l'intégrateur, de 1 à 200 caractères".into(),
            );
        }
        let server = &self.server;
        if server.live_streams == 0
            || server.live_streams > 1_000_000
            || server.live_streams_staff >= server.live_streams
            || server.live_streams_per_client == 0
            || server.live_streams_per_client > server.live_streams - server.live_streams_staff
            || server.live_streams_per_session == 0
        {
            return Err(
                "[server] live_streams : de 1 à 1 000 000 ; live_streams_staff en dessous ; live_streams_per_client de 1 à live_streams - live_streams_staff ; live_streams_per_session au moins 1".into(),
            );
        }
        let s = &self.supervision;
        if !s.trap_listen.is_empty() && s.trap_listen.parse::<SocketAddr>().is_err() {
            return Err(format!(
                "[supervision] trap_listen : « {} » n'est pas une adresse IP:port",
                s.trap_listen
            ));
        }
        if s.trap_users.len() > vigie_snmp::trap::MAX_TRAP_USERS {
            return Err(format!(
                "[supervision] trap_users : {} utilisateurs SNMPv3 au plus",
                vigie_snmp::trap::MAX_TRAP_USERS
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (index, user) in s.trap_users.iter().enumerate() {
            let (usm, engine_id) = user.usm_user().map_err(|reason| {
                format!("[supervision] trap_users n° {} : {reason}", index + 1)
            })?;
            if !seen.insert((usm.name().to_string(), engine_id)) {
                return Err(format!(
                    "[supervision] trap_users n° {} : l'utilisateur « {} » est déjà déclaré pour le moteur {}",
                    index + 1,
                    user.user,
                    user.engine_id
                ));
            }
        }
        if s.raw_retention_days < 2
            || s.hourly_retention_days < s.raw_retention_days
            || !(1..=3600).contains(&s.watchdog_seconds)
        {
            return Err("[supervision] : raw_retention_days ≥ 2, hourly_retention_days ≥ raw_retention_days, watchdog_seconds de 1 à 3600".into());
        }
        let n = &self.notifications;
        if !(1..=720).contains(&n.acknowledgement_hours)
            || !(1..=100).contains(&n.max_attempts)
            || n.retry_first_seconds == 0
            || n.retry_max_seconds < n.retry_first_seconds
            || !(1..=1024).contains(&n.max_in_flight)
        {
            return Err("[notifications] : acknowledgement_hours de 1 à 720, max_attempts de 1 à 100, retry_first_seconds > 0 et ≤ retry_max_seconds, max_in_flight de 1 à 1024".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for webhook in &n.webhooks {
            if webhook.name.is_empty()
                || !webhook
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                || !names.insert(webhook.name.as_str())
            {
                return Err(format!(
                    "[notifications] webhooks : nom « {} » vide, en double ou mal formé (lettres, chiffres, - et _)",
                    webhook.name
                ));
            }
            if !(webhook.url.starts_with("http://") || webhook.url.starts_with("https://"))
                || webhook.secret.0.is_empty()
            {
                return Err(format!(
                    "[notifications] webhook « {} » : url http(s) et secret obligatoires",
                    webhook.name
                ));
            }
        }
        if !["none", "starttls", "tls"].contains(&self.smtp.security.as_str()) {
            return Err(format!(
                "[smtp] security « {} » inconnu (none, starttls ou tls)",
                self.smtp.security
            ));
        }
        let m = &self.mailbox;
        if m.is_read() {
            if !["none", "starttls", "tls"].contains(&m.security.as_str()) {
                return Err(format!(
                    "[mailbox] security « {} » inconnu (none, starttls ou tls)",
                    m.security
                ));
            }
            if m.username.is_empty() || m.password.0.is_empty() {
                return Err("[mailbox] username et password sont obligatoires".into());
            }
            if !(5..=3600).contains(&m.poll_seconds)
                || !(1..=600).contains(&m.timeout_seconds)
                || m.max_message_bytes < 64 * 1024
                || m.max_tickets_per_sender_hour == 0
                || m.alarm_after_minutes > 24 * 60
            {
                return Err("[mailbox] : poll_seconds de 5 à 3600, timeout_seconds de 1 à 600, max_message_bytes ≥ 65536, max_tickets_per_sender_hour > 0, alarm_after_minutes de 0 à 1440".into());
            }
            if vigie_domain::EmailAddress::parse(&m.address).is_err() {
                return Err(format!(
                    "[mailbox] address « {} » : l'adresse email de la boîte est obligatoire",
                    m.address
                ));
            }
        }
        if self.sms.max_per_recipient == 0 || self.sms.per_minutes == 0 {
            return Err(
                "[sms] max_per_recipient et per_minutes doivent être strictement positifs".into(),
            );
        }
        if self.voice.max_per_recipient == 0
            || self.voice.per_minutes == 0
            || self.voice.keypad_field.trim().is_empty()
        {
            return Err(
                "[voice] max_per_recipient et per_minutes doivent être strictement positifs, keypad_field non vide".into(),
            );
        }
        if !(self.server.public_url.starts_with("http://")
            || self.server.public_url.starts_with("https://"))
        {
            return Err("server.public_url doit commencer par http:// ou https://".into());
        }
        if self.auth.session_hours == 0
            || self.auth.failure_window_minutes == 0
            || self.auth.max_failures_per_user == 0
            || self.auth.max_login_delay_seconds == 0
        {
            return Err("les durées et seuils de [auth] doivent être strictement positifs".into());
        }
        if self.auth.min_password_length < 8 {
            return Err("auth.min_password_length doit valoir au moins 8".into());
        }
        if self.server.max_request_bytes < 1024
            || self.server.max_import_bytes < self.server.max_request_bytes
        {
            return Err("server.max_request_bytes doit valoir au moins 1024 et max_import_bytes au moins autant".into());
        }
        if !["error", "warn", "info", "debug", "trace"].contains(&self.log.level.as_str()) {
            return Err(format!(
                "log.level « {} » inconnu (error, warn, info, debug ou trace)",
                self.log.level
            ));
        }
        vigie_store::Backend::of_url(&self.database_url()).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The policy in force: the default, laid over by the `policy` file if there is one.
    pub fn policy(&self) -> Result<vigie_domain::policy::Policy, String> {
        let default = vigie_domain::policy::Policy::default_policy();
        if self.policy.is_empty() {
            return Ok(default);
        }
        let path = Path::new(&self.policy);
        let size = std::fs::metadata(path)
            .map_err(|e| format!("politique {} illisible : {e}", path.display()))?
            .len();
        if size > 1024 * 1024 {
            return Err(format!("politique {} : 1 Mo au plus", path.display()));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("politique {} illisible : {e}", path.display()))?;
        let overlay: toml::Table = toml::from_str(&text).map_err(|e| {
            format!(
                "politique {} : {}",
                path.display(),
                vigie_domain::text::french_serde_message(e.message())
            )
        })?;
        default
            .with_overlay(&overlay)
            .map_err(|e| format!("politique {} : {e}", path.display()))
    }

    /// The database URL: the configured one, or the embedded SQLite file under `data_dir`.
    pub fn database_url(&self) -> String {
        if self.database.url.0.is_empty() {
            format!("sqlite://{}", self.data_dir.join("vigie.sqlite").display())
        } else {
            self.database.url.0.clone()
        }
    }

    /// The file of the secrets' key.
    pub fn secrets_key_path(&self) -> PathBuf {
        if self.database.secrets_key_file.is_empty() {
            self.data_dir.join("secrets.key")
        } else {
            PathBuf::from(&self.database.secrets_key_file)
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }

    /// The session cookie's name: with the `__Host-` prefix under https, so that a browser
    /// takes it only if it is `Secure`, for this host alone (no `Domain`) and `Path=/`, and no
    /// neighbouring subdomain can plant one; the plain name over http (local use).
    pub fn session_cookie_name(&self) -> &'static str {
        crate::auth::session_cookie_name(self.secure_cookies())
    }

    /// The client's address: the TCP peer's, unless the peer is a trusted proxy; then the last
    /// address of `X-Forwarded-For` that is not a trusted proxy (what the nearest proxy saw;
    /// those before it are the client's to write). A header from anyone else is ignored.
    pub fn client_address(
        &self,
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<std::net::IpAddr> {
        let peer = peer?;
        let trusted =
            |a: std::net::IpAddr| self.server.trusted_proxies.iter().any(|n| n.contains(a));
        if !trusted(peer) {
            return Some(peer);
        }
        let forwarded: Vec<Option<std::net::IpAddr>> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.to_str().unwrap_or("?").split(','))
            .map(|a| a.trim().parse().ok())
            .collect();
        // From the nearest: past trusted proxies, the first address is the client's; an
        // unreadable one breaks the chain, and the peer itself is kept.
        for address in forwarded.into_iter().rev() {
            match address {
                Some(a) if trusted(a) => continue,
                Some(a) => return Some(a),
                None => break,
            }
        }
        Some(peer)
    }
}

/// `VIGIE_DATA_DIR` → `["data_dir"]`, `VIGIE_DATABASE__URL` → `["database", "url"]`; other
/// variables (`VIGIE_CONFIG`, `VIGIE_TEST_…`) are not configuration keys.
fn env_path(name: &str) -> Option<Vec<String>> {
    let rest = name.strip_prefix("VIGIE_")?;
    if rest == "DATA_DIR" {
        return Some(vec!["data_dir".into()]);
    }
    if rest == "POLICY" {
        return Some(vec!["policy".into()]);
    }
    let (section, key) = rest.split_once("__")?;
    Some(vec![section.to_lowercase(), key.to_lowercase()])
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_section)), toml::Value::Table(section)) => {
                merge(base_section, section)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn the_default_is_the_documented_file() {
        let config = Config::default();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url(), "sqlite://vigie-data/vigie.sqlite");
        assert_eq!(config.auth.max_failures_per_user, 5);
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = Config::from_toml(
            "[server]\nlisten = \"127.0.0.1:9000\"\n",
            env(&[
                ("VIGIE_DATABASE__URL", "postgres://vigie:1234@db:5432/vigie"),
                ("VIGIE_AUTH__SESSION_HOURS", "8"),
                ("VIGIE_DATA_DIR", "/var/lib/vigie"),
                ("VIGIE_CONFIG", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen.port(), 9000);
        assert_eq!(config.auth.session_hours, 8);
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/vigie"));
        assert_eq!(config.database_url(), "postgres://vigie:1234@db:5432/vigie");
        // The password never shows in Debug output (logs).
        assert!(!format!("{config:?}").contains("1234"), "{config:?}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = Config::from_toml("[server]\nlisten_port = 80\n", env(&[])).unwrap_err();
        assert!(error.contains("champ inconnu « listen_port »"), "{error}");
        let error = Config::from_toml("", env(&[("VIGIE_SERVER__COLOUR", "blue")])).unwrap_err();
        assert!(error.contains("colour"), "{error}");
        let error = Config::from_toml("", env(&[("VIGIE_NOPE__X", "1")])).unwrap_err();
        assert!(error.contains("nope"), "{error}");
    }

    const TRAP_USER: &str = r#"
[[supervision.trap_users]]
user = "vigie-traps"
engine_id = "0x80001f8804766967696531"
auth_protocol = "SHA-256"
auth_password = "mot-de-passe-auth"
privacy_protocol = "AES"
privacy_password = "mot-de-passe-priv"
"#;

    #[test]
    fn snmpv3_trap_users_are_read_and_their_passwords_never_shown() {
        let file = format!(
            "{TRAP_USER}\n[[supervision.trap_users]]\nuser = \"nvr\"\nengine_id = \"80 00 1F 88 04 6E 76 72\"\nauth_password = \"12345678\"\nprivacy_password = \"87654321\"\n"
        );
        let config = Config::from_toml(&file, env(&[])).unwrap();
        let users = &config.supervision.trap_users;
        assert_eq!(users.len(), 2);
        let (first, engine_id) = users[0].usm_user().unwrap();
        assert_eq!(first.name(), "vigie-traps");
        assert_eq!(first.level(), vigie_snmp::SecurityLevel::AuthPriv);
        assert_eq!(engine_id, b"\x80\x00\x1f\x88\x04vigie1");
        // Protocols default to SHA and AES, as in the inventory; net-snmp's spaced hex is read.
        let (second, engine_id) = users[1].usm_user().unwrap();
        assert_eq!(second.level(), vigie_snmp::SecurityLevel::AuthPriv);
        assert_eq!(engine_id, b"\x80\x00\x1f\x88\x04nvr");
        let shown = format!("{config:?}");
        for password in [
            "mot-de-passe-auth",
            "mot-de-passe-priv",
            "12345678",
            "87654321",
        ] {
            assert!(!shown.contains(password), "{shown}");
        }
        assert!(shown.contains("vigie-traps"), "{shown}");
        // The default has none.
        assert!(Config::default().supervision.trap_users.is_empty());
    }

    #[test]
    fn snmpv3_trap_users_are_given_whole_by_the_environment() {
        let config = Config::from_toml(
            "",
            env(&[(
                "VIGIE_SUPERVISION__TRAP_USERS",
                r#"[{ user = "env", engine_id = "0x8000000001020304", auth_password = "authauth", privacy_password = "privpriv" }]"#,
            )]),
        )
        .unwrap();
        assert_eq!(config.supervision.trap_users[0].user, "env");
        // A value that is not a TOML list is refused without being repeated: it may hold
        // passwords.
        let error = Config::from_toml(
            "",
            env(&[(
                "VIGIE_SUPERVISION__TRAP_USERS",
                r#"{ user = "env", auth_password = "secret-secret" "#,
            )]),
        )
        .unwrap_err();
        assert!(error.contains("VIGIE_SUPERVISION__TRAP_USERS"), "{error}");
        assert!(error.contains("tableau TOML attendu"), "{error}");
        assert!(!error.contains("secret-secret"), "{error}");
        let error = Config::from_toml(
            "",
            env(&[("VIGIE_SUPERVISION__TRAP_COMMUNITIES", "public")]),
        )
        .unwrap_err();
        assert!(error.contains("tableau TOML attendu"), "{error}");
        let config =
            Config::from_toml("", env(&[("VIGIE_SUPERVISION__TRAP_COMMUNITIES", "[]")])).unwrap();
        assert!(config.supervision.trap_communities.is_empty());
    }

    #[test]
    fn bad_snmpv3_trap_users_are_refused_naming_the_key() {
        let with = |from: &str, to: &str| {
            assert!(TRAP_USER.contains(from), "{from}");
            Config::from_toml(&TRAP_USER.replacen(from, to, 1), env(&[])).unwrap_err()
        };
        for (from, to, expected) in [
            (
                "user = \"vigie-traps\"\n",
                "",
                "[supervision] trap_users n° 1 : user manquant",
            ),
            (
                "vigie-traps",
                "un-nom-d-utilisateur-bien-trop-long",
                "user « un-nom-d-utilisateur-bien-trop-long » : 32 octets au plus",
            ),
            (
                "engine_id = \"0x80001f8804766967696531\"\n",
                "",
                "engine_id manquant",
            ),
            (
                "0x80001f8804766967696531",
                "0x80zz",
                "engine_id « 0x80zz » : identifiant de moteur en hexadécimal de 5 à 32 octets",
            ),
            (
                "0x80001f8804766967696531",
                "0x80001f88",
                "engine_id « 0x80001f88 »",
            ),
            (
                "SHA-256",
                "SHA-1024",
                "auth_protocol « SHA-1024 » inconnu (MD5, SHA, SHA-224, SHA-256, SHA-384 ou SHA-512)",
            ),
            (
                "\"AES\"",
                "\"AES-256\"",
                "privacy_protocol « AES-256 » inconnu (AES ou DES)",
            ),
            (
                "privacy_password = \"mot-de-passe-priv\"\n",
                "",
                "privacy_password manquant : seuls les traps SNMPv3 authentifiés et chiffrés (authPriv) sont acceptés",
            ),
            (
                "auth_password = \"mot-de-passe-auth\"\n",
                "",
                "auth_password manquant",
            ),
            (
                "\"mot-de-passe-auth\"",
                "\"court\"",
                "auth_password : de 8 à 1024 octets attendus",
            ),
            (
                "auth_password = \"mot-de-passe-auth\"",
                "auth_password = 12345678",
                "un mot de passe doit être un texte",
            ),
            (
                "privacy_protocol",
                "security_level = \"authNoPriv\"\nprivacy_protocol",
                "champ inconnu « security_level »",
            ),
        ] {
            let error = with(from, to);
            assert!(error.contains(expected), "{from} → {to}: {error}");
            for password in [
                "mot-de-passe-auth",
                "mot-de-passe-priv",
                "12345678",
                "court",
            ] {
                assert!(!error.contains(password), "{error}");
            }
        }
        // One user per engine: the same pair twice is a mistake.
        let error = Config::from_toml(&format!("{TRAP_USER}{TRAP_USER}"), env(&[])).unwrap_err();
        assert!(
            error.contains("trap_users n° 2 : l'utilisateur « vigie-traps » est déjà déclaré pour le moteur 0x80001f8804766967696531"),
            "{error}"
        );
        // The same user name from another engine is another entry.
        let other = TRAP_USER.replace("6531", "6532");
        assert!(Config::from_toml(&format!("{TRAP_USER}{other}"), env(&[])).is_ok());
    }

    #[test]
    fn the_demo_is_set_by_the_demo_command_only() {
        assert!(!Config::default().demo);
        let error = Config::from_toml("demo = true\n", env(&[])).unwrap_err();
        assert!(error.contains("champ inconnu « demo »"), "{error}");
        // Not a configuration key in the environment either: ignored, like VIGIE_CONFIG.
        assert!(
            !Config::from_toml("", env(&[("VIGIE_DEMO", "true")]))
                .unwrap()
                .demo
        );
    }

    #[test]
    fn bad_values_are_refused_with_a_message() {
        assert!(
            Config::from_toml("[database]\nurl = \"mysql://x\"\n", env(&[]))
                .unwrap_err()
                .contains("sqlite:")
        );
        assert!(Config::from_toml("[log]\nlevel = \"loud\"\n", env(&[])).is_err());
        assert!(Config::from_toml("[server]\nlisten = \"nowhere\"\n", env(&[])).is_err());
    }
}
