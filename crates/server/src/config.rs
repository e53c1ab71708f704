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
#   [section] cle        -> VIGIE_SECTION__CLE   (deux soulignés, par exemple VIGIE_DATABASE__URL)
# Une clé inconnue, dans ce fichier ou dans l'environnement, est refusée.

# Répertoire des données (base SQLite, fichiers) ; créé au premier démarrage.
data_dir = "vigie-data"

[server]
# Adresse d'écoute. 127.0.0.1 par défaut : exposez Vigie derrière un proxy TLS.
listen = "127.0.0.1:8080"
# URL publique, telle que les utilisateurs la voient. En https, les cookies de session
# portent l'attribut Secure.
public_url = "http://127.0.0.1:8080"
# Taille maximale d'une requête (octets) ; l'import d'inventaire a sa propre limite.
max_request_bytes = 1048576
# Taille maximale d'un fichier d'inventaire envoyé à l'API (octets).
max_import_bytes = 67108864

[database]
# Vide : base SQLite embarquée <data_dir>/vigie.sqlite.
# postgres://utilisateur:motdepasse@hote:5432/base pour plusieurs processus serveur.
url = ""

[auth]
# Durée de vie d'une session (heures).
session_hours = 12
# Échecs de connexion tolérés par identifiant sur la fenêtre, puis refus (HTTP 429).
max_failures_per_user = 5
# Échecs tolérés par adresse IP sur la fenêtre (plus large : un proxy partage une adresse).
max_failures_per_address = 50
# Fenêtre de comptage des échecs (minutes).
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
# Réception des traps SNMP (v1, v2c) : adresse d'écoute, vide pour ne pas écouter
# (par exemple "0.0.0.0:162", ou un port au-delà de 1024 sans droits particuliers).
trap_listen = ""
# Communautés acceptées pour les traps.
trap_communities = ["public"]

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub supervision: SupervisionConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_url: String,
    pub max_request_bytes: usize,
    pub max_import_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_hours: u32,
    pub max_failures_per_user: u32,
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
        let s = &self.supervision;
        if !s.trap_listen.is_empty() && s.trap_listen.parse::<SocketAddr>().is_err() {
            return Err(format!(
                "[supervision] trap_listen : « {} » n'est pas une adresse IP:port",
                s.trap_listen
            ));
        }
        if s.raw_retention_days < 2
            || s.hourly_retention_days < s.raw_retention_days
            || !(1..=3600).contains(&s.watchdog_seconds)
        {
            return Err("[supervision] : raw_retention_days ≥ 2, hourly_retention_days ≥ raw_retention_days, watchdog_seconds de 1 à 3600".into());
        }
        if !(self.server.public_url.starts_with("http://")
            || self.server.public_url.starts_with("https://"))
        {
            return Err("server.public_url doit commencer par http:// ou https://".into());
        }
        if self.auth.session_hours == 0
            || self.auth.failure_window_minutes == 0
            || self.auth.max_failures_per_user == 0
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

    /// The database URL: the configured one, or the embedded SQLite file under `data_dir`.
    pub fn database_url(&self) -> String {
        if self.database.url.0.is_empty() {
            format!("sqlite://{}", self.data_dir.join("vigie.sqlite").display())
        } else {
            self.database.url.0.clone()
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }
}

/// `VIGIE_DATA_DIR` → `["data_dir"]`, `VIGIE_DATABASE__URL` → `["database", "url"]`; other
/// variables (`VIGIE_CONFIG`, `VIGIE_TEST_…`) are not configuration keys.
fn env_path(name: &str) -> Option<Vec<String>> {
    let rest = name.strip_prefix("VIGIE_")?;
    if rest == "DATA_DIR" {
        return Some(vec!["data_dir".into()]);
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
