//! Secrets encrypted at rest (issue 23, item 3): the equipment's credentials (SNMP community
//! and keys, web services' passwords) and the key that signs acknowledgement links are
//! written to the database encrypted (ChaCha20-Poly1305) with a key kept outside it, in a file
//! of its own (`[database] secrets_key_file`). A copy of the database alone gives none of
//! them. A value written before encryption is read as it is and encrypted at its next write
//! (or by [`Store::seal_stored_secrets`] at start).

use std::io::Write;
use std::path::Path;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use vigie_domain::inventory::{Equipment, Record};

use crate::Store;
use crate::System;
use crate::error::StoreError;

/// How an encrypted value starts: the format's version, then nonce and ciphertext in hex.
const SEALED: &str = "chiffre:v1:";
/// The row of `settings` that says which key the database's secrets are encrypted with.
const KEY_CHECK: &str = "secrets_key_check";
/// Equipment records re-read per page when sealing what was stored in clear.
const SEAL_PAGE: i64 = 500;
/// The row of `settings` written once every record stored in clear has been sealed: later
/// starts do not read the equipment again (every write since is sealed).
const ALL_SEALED: &str = "secrets_all_sealed";

/// The key of the secrets: 32 random bytes, kept in a file readable by Vigie's user only.
pub struct SecretsKey {
    key: LessSafeKey,
    /// What identifies the key without revealing it (SHA-256 of a label and the key).
    check: String,
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(…)")
    }
}

impl SecretsKey {
    fn from_bytes(bytes: &[u8; 32]) -> SecretsKey {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        digest.update(b"vigie-secrets-v1");
        digest.update(bytes);
        SecretsKey {
            key: LessSafeKey::new(
                UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 32-byte key"),
            ),
            check: hex::encode(digest.finalize()),
        }
    }

    /// Reads the key file at `path`, or creates it (mode 0600) with a new random key when
    /// there is none.
    pub fn load_or_create(path: &Path) -> Result<SecretsKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        format!(
                            "clé des secrets {} illisible : 64 chiffres hexadécimaux attendus",
                            path.display()
                        )
                    })?;
                Ok(SecretsKey::from_bytes(&bytes))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::getrandom(&mut bytes)
                    .map_err(|e| format!("clé des secrets : aléa indisponible ({e})"))?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(|e| {
                    format!("création de la clé des secrets {} : {e}", path.display())
                })?;
                writeln!(file, "{}", hex::encode(bytes))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| {
                        format!("écriture de la clé des secrets {} : {e}", path.display())
                    })?;
                Ok(SecretsKey::from_bytes(&bytes))
            }
            Err(error) => Err(format!(
                "lecture de la clé des secrets {} : {error}",
                path.display()
            )),
        }
    }

    /// `plain`, encrypted under a fresh random nonce.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).expect("the system's randomness");
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("sealing never fails on a short value");
        format!("{SEALED}{}{}", hex::encode(nonce), hex::encode(data))
    }

    /// The clear text of `stored`: decrypted when it was encrypted, as it is otherwise.
    pub fn open(&self, stored: &str) -> Result<String, StoreError> {
        let Some(sealed) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_owned());
        };
        let bytes = hex::decode(sealed).map_err(|_| wrong_key())?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong_key());
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong_key())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| wrong_key())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong_key())
    }
}

fn wrong_key() -> StoreError {
    StoreError::Unavailable(
        "un secret de la base ne se déchiffre pas avec la clé des secrets de ce processus".into(),
    )
}

/// Whether `value` was written encrypted.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED)
}

/// Every credential of an equipment record, for sealing or opening in place.
fn credentials(equipment: &mut Equipment) -> Vec<&mut String> {
    let checks = &mut equipment.checks;
    let mut fields: Vec<&mut String> = Vec::new();
    if let Some(snmp) = &mut checks.snmp {
        fields.extend(
            [
                &mut snmp.community,
                &mut snmp.auth_password,
                &mut snmp.privacy_password,
            ]
            .into_iter()
            .flatten(),
        );
    }
    for service in [&mut checks.http, &mut checks.onvif, &mut checks.rtsp]
        .into_iter()
        .flatten()
    {
        fields.extend(service.password.as_mut());
    }
    fields
}

impl Store {
    /// The store with its secrets encrypted under `key` from now on.
    pub fn with_secrets_key(mut self, key: SecretsKey) -> Store {
        self.secrets = Some(std::sync::Arc::new(key));
        self
    }
}

impl System {
    /// Checks that the database's secrets are encrypted with this process's key (the first
    /// process to have a key records which); a process with another key is refused with a
    /// message that says what to do, rather than failing at every read.
    pub async fn check_secrets_key(&self) -> Result<(), StoreError> {
        let Some(key) = &self.secrets else {
            return Ok(());
        };
        let recorded = self.setting_or_insert(KEY_CHECK, &key.check).await?;
        if recorded != key.check {
            return Err(StoreError::Invalid(
                "la clé des secrets de ce processus n'est pas celle de la base : copiez le fichier de clé ([database] secrets_key_file) du premier serveur, ou rendez celui d'origine".into(),
            ));
        }
        Ok(())
    }
}

impl Store {
    /// A record as it is written: an equipment's credentials encrypted, when there is a key
    /// (copied only then: imports write many records of other kinds).
    pub(crate) fn sealed_record<'a>(&self, record: &'a Record) -> std::borrow::Cow<'a, Record> {
        match (&self.secrets, record) {
            (Some(key), Record::Equipment(equipment)) => {
                let mut sealed = equipment.clone();
                for field in credentials(&mut sealed) {
                    if !is_sealed(field) {
                        *field = key.seal(field);
                    }
                }
                std::borrow::Cow::Owned(Record::Equipment(sealed))
            }
            (_, record) => std::borrow::Cow::Borrowed(record),
        }
    }

    /// A stored record with its credentials in clear. A value encrypted in a database read
    /// without a key is an error that says so.
    pub(crate) fn opened_record(&self, mut record: Record) -> Result<Record, StoreError> {
        if let Record::Equipment(equipment) = &mut record {
            self.open_equipment(equipment)?;
        }
        Ok(record)
    }

    /// [`Store::opened_record`] for an equipment read on its own.
    pub(crate) fn open_equipment(&self, equipment: &mut Equipment) -> Result<(), StoreError> {
        for field in credentials(equipment) {
            if is_sealed(field) {
                let Some(key) = &self.secrets else {
                    return Err(StoreError::Unavailable(
                        "les secrets de la base sont chiffrés et ce processus n'a pas de clé des secrets ([database] secrets_key_file)".into(),
                    ));
                };
                *field = key.open(field)?;
            }
        }
        Ok(())
    }
}

impl System {
    /// A shared secret setting (the key that signs links): encrypted in `settings` when there
    /// is a key; the first process to ask chooses `value` for all.
    pub async fn secret_setting_or_insert(
        &self,
        name: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        let written = match &self.secrets {
            Some(key) => key.seal(value),
            None => value.to_owned(),
        };
        let stored = self.setting_or_insert(name, &written).await?;
        match &self.secrets {
            Some(key) => {
                let clear = key.open(&stored)?;
                if !is_sealed(&stored) {
                    // Stored in clear before there was a key: encrypted now.
                    sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
                        .bind(key.seal(&clear))
                        .bind(name.to_owned())
                        .bind(stored)
                        .execute(&self.write)
                        .await?;
                }
                Ok(clear)
            }
            None if is_sealed(&stored) => Err(StoreError::Unavailable(
                "les secrets de la base sont chiffrés et ce processus n'a pas de clé des secrets ([database] secrets_key_file)".into(),
            )),
            None => Ok(stored),
        }
    }
}

impl System {
    /// Encrypts the credentials still stored in clear (written before there was a key), a
    /// page at a time, once per database; returns how many records were rewritten.
    pub async fn seal_stored_secrets(&self) -> Result<usize, StoreError> {
        let Some(key) = &self.secrets else {
            return Ok(0);
        };
        let done: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(ALL_SEALED)
            .fetch_optional(&self.read)
            .await?;
        if done.is_some() {
            return Ok(0);
        }
        let mut rewritten = 0;
        let mut after = String::new();
        loop {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT ref, record FROM equipment WHERE ref > $1 ORDER BY ref LIMIT $2",
            )
            .bind(after.clone())
            .bind(SEAL_PAGE)
            .fetch_all(&self.read)
            .await?;
            let Some((last, _)) = rows.last() else {
                self.setting_or_insert(ALL_SEALED, "1").await?;
                return Ok(rewritten);
            };
            after = last.clone();
            for (reference, json) in &rows {
                let mut equipment: Equipment =
                    serde_json::from_str(json).map_err(StoreError::other)?;
                let mut changed = false;
                for field in credentials(&mut equipment) {
                    if !is_sealed(field) {
                        *field = key.seal(field);
                        changed = true;
                    }
                }
                if changed {
                    let sealed = serde_json::to_string(&equipment).map_err(StoreError::other)?;
                    // Only if the record did not change meanwhile: a write of its own seals it.
                    sqlx::query("UPDATE equipment SET record = $1 WHERE ref = $2 AND record = $3")
                        .bind(sealed)
                        .bind(reference.clone())
                        .bind(json.clone())
                        .execute(&self.write)
                        .await?;
                    rewritten += 1;
                }
            }
        }
    }
}
