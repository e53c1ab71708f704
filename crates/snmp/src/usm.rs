//! The User-based Security Model (RFC 3414): users, password-to-key and key localisation,
//! HMAC authentication (RFC 3414 HMAC-MD5-96 and HMAC-SHA-96, RFC 7860 HMAC-SHA-2),
//! privacy with DES-CBC (RFC 3414 8) and AES-128-CFB (RFC 3826), and the wrapping and
//! unwrapping of v3 messages.

use std::fmt;

use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{AsyncStreamCipher, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Digest;

use crate::ber::Oid;
use crate::error::Error;
use crate::message::{
    FLAG_AUTH, FLAG_PRIV, MAX_USER_NAME_LENGTH, ScopedPdu, ScopedPduData, UsmParameters, V3Message,
};

/// net-snmp and RFC 3414 require passwords of at least 8 characters.
pub const MIN_PASSWORD_LENGTH: usize = 8;
/// Longest password accepted (it is hashed over one megabyte anyway).
pub const MAX_PASSWORD_LENGTH: usize = 1024;
/// RFC 3414 A.2: the password is repeated over one megabyte before hashing.
const PASSWORD_EXPANSION_BYTES: usize = 1_048_576;
/// RFC 3414 2.2.3: a message is outside the time window beyond 150 seconds of difference.
pub const TIME_WINDOW_SECONDS: u32 = 150;
/// snmpEngineBoots latches at 2^31-1 (RFC 3414 2.2.2).
pub const MAX_ENGINE_BOOTS: u32 = i32::MAX as u32;

/// usmStats counters that agents send back in Reports (RFC 3414 5).
pub mod report_oid {
    pub const UNSUPPORTED_SECURITY_LEVELS: &str = "1.3.6.1.6.3.15.1.1.1.0";
    pub const NOT_IN_TIME_WINDOWS: &str = "1.3.6.1.6.3.15.1.1.2.0";
    pub const UNKNOWN_USER_NAMES: &str = "1.3.6.1.6.3.15.1.1.3.0";
    pub const UNKNOWN_ENGINE_IDS: &str = "1.3.6.1.6.3.15.1.1.4.0";
    pub const WRONG_DIGESTS: &str = "1.3.6.1.6.3.15.1.1.5.0";
    pub const DECRYPTION_ERRORS: &str = "1.3.6.1.6.3.15.1.1.6.0";
}

/// Authentication protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthProtocol {
    /// usmHMACMD5AuthProtocol (HMAC-MD5-96).
    Md5,
    /// usmHMACSHAAuthProtocol (HMAC-SHA-96).
    Sha1,
    /// usmHMAC128SHA224AuthProtocol.
    Sha224,
    /// usmHMAC192SHA256AuthProtocol.
    Sha256,
    /// usmHMAC256SHA384AuthProtocol.
    Sha384,
    /// usmHMAC384SHA512AuthProtocol.
    Sha512,
}

macro_rules! with_digest {
    ($protocol:expr, $digest:ident => $body:expr) => {
        match $protocol {
            AuthProtocol::Md5 => {
                type $digest = md5::Md5;
                $body
            }
            AuthProtocol::Sha1 => {
                type $digest = sha1::Sha1;
                $body
            }
            AuthProtocol::Sha224 => {
                type $digest = sha2::Sha224;
                $body
            }
            AuthProtocol::Sha256 => {
                type $digest = sha2::Sha256;
                $body
            }
            AuthProtocol::Sha384 => {
                type $digest = sha2::Sha384;
                $body
            }
            AuthProtocol::Sha512 => {
                type $digest = sha2::Sha512;
                $body
            }
        }
    };
}

impl AuthProtocol {
    /// Length of msgAuthenticationParameters, the truncated HMAC.
    pub fn mac_length(self) -> usize {
        match self {
            AuthProtocol::Md5 | AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    /// The protocol of a configuration name, as net-snmp spells them: MD5, SHA (or SHA1),
    /// SHA-224, SHA-256, SHA-384, SHA-512; case and dashes do not matter.
    pub fn from_name(name: &str) -> Option<AuthProtocol> {
        match name.to_ascii_uppercase().replace('-', "").as_str() {
            "MD5" => Some(AuthProtocol::Md5),
            "SHA" | "SHA1" => Some(AuthProtocol::Sha1),
            "SHA224" => Some(AuthProtocol::Sha224),
            "SHA256" => Some(AuthProtocol::Sha256),
            "SHA384" => Some(AuthProtocol::Sha384),
            "SHA512" => Some(AuthProtocol::Sha512),
            _ => None,
        }
    }

    /// RFC 3414 A.2: Ku, the hash of the password repeated over one megabyte.
    pub fn password_to_key(self, password: &[u8]) -> Vec<u8> {
        if password.is_empty() {
            // Undefined by the RFC; never reached through UsmUser, which requires 8 octets.
            return with_digest!(self, D => D::digest(b"").to_vec());
        }
        with_digest!(self, D => {
            let mut hasher = D::new();
            let mut chunk = [0u8; 64];
            let mut index = 0;
            let mut fed = 0;
            while fed < PASSWORD_EXPANSION_BYTES {
                for byte in chunk.iter_mut() {
                    *byte = password[index % password.len()];
                    index += 1;
                }
                hasher.update(chunk);
                fed += chunk.len();
            }
            hasher.finalize().to_vec()
        })
    }

    /// RFC 3414 A.2: Kul = H(Ku || engineID || Ku).
    pub fn localize_key(self, key: &[u8], engine_id: &[u8]) -> Vec<u8> {
        with_digest!(self, D => {
            let mut hasher = D::new();
            hasher.update(key);
            hasher.update(engine_id);
            hasher.update(key);
            hasher.finalize().to_vec()
        })
    }

    /// The truncated HMAC of `message` under `key`.
    fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let full = with_digest!(self, D => {
            let mut mac = <Hmac<D> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        });
        full[..self.mac_length()].to_vec()
    }

    /// Checks a truncated HMAC in constant time.
    fn verify(self, key: &[u8], message: &[u8], tag: &[u8]) -> bool {
        with_digest!(self, D => {
            let mut mac = <Hmac<D> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(message);
            tag.len() == self.mac_length() && mac.verify_truncated_left(tag).is_ok()
        })
    }
}

/// Privacy protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivProtocol {
    /// usmDESPrivProtocol (CBC-DES, RFC 3414 8).
    Des,
    /// usmAesCfb128Protocol (RFC 3826).
    Aes128,
}

impl PrivProtocol {
    /// The protocol of a configuration name: AES (or AES128, AES-128) or DES; case and dashes
    /// do not matter.
    pub fn from_name(name: &str) -> Option<PrivProtocol> {
        match name.to_ascii_uppercase().replace('-', "").as_str() {
            "AES" | "AES128" => Some(PrivProtocol::Aes128),
            "DES" => Some(PrivProtocol::Des),
            _ => None,
        }
    }
}

/// Security level of a message or user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecurityLevel {
    NoAuthNoPriv,
    AuthNoPriv,
    AuthPriv,
}

impl SecurityLevel {
    /// The level that msgFlags announce.
    pub fn from_flags(flags: u8) -> SecurityLevel {
        match (flags & FLAG_AUTH != 0, flags & FLAG_PRIV != 0) {
            (true, true) => SecurityLevel::AuthPriv,
            (true, false) => SecurityLevel::AuthNoPriv,
            _ => SecurityLevel::NoAuthNoPriv,
        }
    }

    pub(crate) fn flags(self) -> u8 {
        match self {
            SecurityLevel::NoAuthNoPriv => 0,
            SecurityLevel::AuthNoPriv => FLAG_AUTH,
            SecurityLevel::AuthPriv => FLAG_AUTH | FLAG_PRIV,
        }
    }
}

/// A USM user as configured: name, and the protocols with their passwords.
#[derive(Clone)]
pub struct UsmUser {
    name: String,
    auth: Option<(AuthProtocol, String)>,
    privacy: Option<(PrivProtocol, String)>,
}

impl fmt::Debug for UsmUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsmUser")
            .field("name", &self.name)
            .field("auth", &self.auth.as_ref().map(|(protocol, _)| protocol))
            .field(
                "privacy",
                &self.privacy.as_ref().map(|(protocol, _)| protocol),
            )
            .finish_non_exhaustive()
    }
}

impl UsmUser {
    /// A user without authentication or privacy (noAuthNoPriv).
    pub fn new(name: impl Into<String>) -> UsmUser {
        UsmUser {
            name: name.into(),
            auth: None,
            privacy: None,
        }
    }

    /// Adds authentication (authNoPriv).
    pub fn with_auth(mut self, protocol: AuthProtocol, password: impl Into<String>) -> UsmUser {
        self.auth = Some((protocol, password.into()));
        self
    }

    /// Adds privacy (authPriv, when authentication is also set).
    pub fn with_privacy(mut self, protocol: PrivProtocol, password: impl Into<String>) -> UsmUser {
        self.privacy = Some((protocol, password.into()));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn level(&self) -> SecurityLevel {
        match (&self.auth, &self.privacy) {
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            _ => SecurityLevel::NoAuthNoPriv,
        }
    }

    /// Checks the configuration (name length, password lengths, privacy needs authentication).
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() || self.name.len() > MAX_USER_NAME_LENGTH {
            return Err(Error::Configuration(format!(
                "nom d'utilisateur SNMPv3 de 1 à {MAX_USER_NAME_LENGTH} octets attendu"
            )));
        }
        if self.privacy.is_some() && self.auth.is_none() {
            return Err(Error::Configuration(
                "la confidentialité SNMPv3 exige l'authentification".to_string(),
            ));
        }
        let passwords = self
            .auth
            .iter()
            .map(|(_, p)| p)
            .chain(self.privacy.iter().map(|(_, p)| p));
        for password in passwords {
            if password.len() < MIN_PASSWORD_LENGTH || password.len() > MAX_PASSWORD_LENGTH {
                return Err(Error::Configuration(format!(
                    "mot de passe SNMPv3 de {MIN_PASSWORD_LENGTH} à {MAX_PASSWORD_LENGTH} octets attendu"
                )));
            }
        }
        Ok(())
    }

    /// The user's passwords turned into keys (Ku), before localisation. The costly step.
    pub fn master_keys(&self) -> Result<MasterKeys, Error> {
        self.validate()?;
        let auth = self
            .auth
            .as_ref()
            .map(|(protocol, password)| (*protocol, protocol.password_to_key(password.as_bytes())));
        // RFC 3826 3.1.2.1 and RFC 3414: the privacy key comes from the authentication hash.
        let privacy = match (&self.privacy, &self.auth) {
            (Some((protocol, password)), Some((auth_protocol, _))) => Some((
                *protocol,
                auth_protocol.password_to_key(password.as_bytes()),
            )),
            _ => None,
        };
        Ok(MasterKeys {
            user_name: self.name.clone(),
            auth,
            privacy,
        })
    }
}

/// A user's keys before localisation.
#[derive(Clone)]
pub struct MasterKeys {
    user_name: String,
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeys")
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

impl MasterKeys {
    /// The keys localised to an authoritative engine.
    pub fn localize(&self, engine_id: &[u8]) -> LocalizedKeys {
        let auth = self
            .auth
            .as_ref()
            .map(|(protocol, key)| (*protocol, protocol.localize_key(key, engine_id)));
        let privacy = match (&self.privacy, &self.auth) {
            (Some((protocol, key)), Some((auth_protocol, _))) => {
                Some((*protocol, auth_protocol.localize_key(key, engine_id)))
            }
            _ => None,
        };
        LocalizedKeys {
            user_name: self.user_name.clone(),
            engine_id: engine_id.to_vec(),
            auth,
            privacy,
        }
    }
}

/// A user's keys localised to one engine: what signs and encrypts messages.
#[derive(Clone)]
pub struct LocalizedKeys {
    user_name: String,
    engine_id: Vec<u8>,
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl fmt::Debug for LocalizedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalizedKeys")
            .field("user_name", &self.user_name)
            .field("engine_id", &self.engine_id)
            .finish_non_exhaustive()
    }
}

impl LocalizedKeys {
    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    pub fn engine_id(&self) -> &[u8] {
        &self.engine_id
    }

    pub fn level(&self) -> SecurityLevel {
        match (&self.auth, &self.privacy) {
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            _ => SecurityLevel::NoAuthNoPriv,
        }
    }
}

/// What an outgoing v3 message carries besides its scopedPDU.
#[derive(Clone, Debug)]
pub struct OutgoingV3 {
    pub msg_id: i32,
    pub max_size: i32,
    pub reportable: bool,
    pub level: SecurityLevel,
    pub engine_id: Vec<u8>,
    pub engine_boots: u32,
    pub engine_time: u32,
    /// Salt for privacy: its low 32 bits (DES) or all 64 bits (AES) must not repeat.
    pub salt: u64,
}

/// Builds, encrypts and signs a v3 message. `keys` may be `None` only at noAuthNoPriv
/// (then the user name is `user_name`, empty for discovery).
pub fn wrap(
    outgoing: &OutgoingV3,
    user_name: &[u8],
    keys: Option<&LocalizedKeys>,
    scoped: &ScopedPdu,
) -> Result<Vec<u8>, Error> {
    let level = outgoing.level;
    let auth = match level {
        SecurityLevel::NoAuthNoPriv => None,
        _ => Some(
            keys.and_then(|k| k.auth.as_ref())
                .ok_or(Error::UnsupportedSecurityLevel)?,
        ),
    };
    let mut priv_parameters = Vec::new();
    let data = if level == SecurityLevel::AuthPriv {
        let (protocol, key) = keys
            .and_then(|k| k.privacy.as_ref())
            .ok_or(Error::UnsupportedSecurityLevel)?;
        let plaintext = scoped.encode();
        let (ciphertext, parameters) = encrypt(
            *protocol,
            key,
            outgoing.engine_boots,
            outgoing.engine_time,
            outgoing.salt,
            plaintext,
        )?;
        priv_parameters = parameters;
        ScopedPduData::Encrypted(ciphertext)
    } else {
        ScopedPduData::Plaintext(scoped.clone())
    };
    let mut flags = level.flags();
    if outgoing.reportable {
        flags |= crate::message::FLAG_REPORTABLE;
    }
    let message = V3Message {
        msg_id: outgoing.msg_id,
        max_size: outgoing.max_size,
        flags,
        usm: UsmParameters {
            engine_id: outgoing.engine_id.clone(),
            engine_boots: outgoing.engine_boots,
            engine_time: outgoing.engine_time,
            user_name: user_name.to_vec(),
            auth_parameters: auth
                .map(|(protocol, _)| vec![0; protocol.mac_length()])
                .unwrap_or_default(),
            priv_parameters,
        },
        data,
    };
    let (mut bytes, auth_offset) = message.encode();
    if let Some((protocol, key)) = auth {
        // RFC 3414 6.3.1: the digest covers the whole message with zeros in its own place.
        let mac = protocol.mac(key, &bytes);
        bytes[auth_offset..auth_offset + mac.len()].copy_from_slice(&mac);
    }
    if bytes.len() > crate::ber::MAX_MESSAGE_SIZE {
        return Err(Error::Configuration("requête SNMP trop grande".to_string()));
    }
    Ok(bytes)
}

/// Checks the digest of an incoming v3 message and decrypts it, with the keys of its user.
/// Does not check the time window: that depends on who is authoritative (the caller does,
/// or calls [`authenticate`] and [`decrypt_scoped`] apart to check it in between).
pub fn unwrap(
    raw: &[u8],
    auth_offset: usize,
    message: &V3Message,
    keys: Option<&LocalizedKeys>,
) -> Result<ScopedPdu, Error> {
    authenticate(raw, auth_offset, message, keys)?;
    decrypt_scoped(message, keys)
}

/// RFC 3414 3.2.6: checks the digest when msgFlags announce authentication.
pub fn authenticate(
    raw: &[u8],
    auth_offset: usize,
    message: &V3Message,
    keys: Option<&LocalizedKeys>,
) -> Result<(), Error> {
    let level = SecurityLevel::from_flags(message.flags);
    if level == SecurityLevel::NoAuthNoPriv {
        return Ok(());
    }
    let (protocol, key) = keys
        .and_then(|k| k.auth.as_ref())
        .ok_or(Error::UnsupportedSecurityLevel)?;
    let tag = &message.usm.auth_parameters;
    if tag.len() != protocol.mac_length() || auth_offset + tag.len() > raw.len() {
        return Err(Error::AuthenticationFailure);
    }
    let mut zeroed = raw.to_vec();
    zeroed[auth_offset..auth_offset + tag.len()].fill(0);
    if !protocol.verify(key, &zeroed, tag) {
        return Err(Error::AuthenticationFailure);
    }
    Ok(())
}

/// RFC 3414 3.2.8: the scopedPDU, decrypted when msgFlags announce privacy.
pub fn decrypt_scoped(
    message: &V3Message,
    keys: Option<&LocalizedKeys>,
) -> Result<ScopedPdu, Error> {
    match &message.data {
        ScopedPduData::Plaintext(scoped) => Ok(scoped.clone()),
        ScopedPduData::Encrypted(ciphertext) => {
            let (protocol, key) = keys
                .and_then(|k| k.privacy.as_ref())
                .ok_or(Error::UnsupportedSecurityLevel)?;
            let plaintext = decrypt(
                *protocol,
                key,
                message.usm.engine_boots,
                message.usm.engine_time,
                &message.usm.priv_parameters,
                ciphertext,
            )?;
            let scoped =
                ScopedPdu::decode(&plaintext, true).map_err(|_| Error::DecryptionFailure)?;
            crate::message::check_pdu_for_version(crate::message::Version::V3, &scoped.pdu)?;
            Ok(scoped)
        }
    }
}

const DES_BLOCK: usize = 8;

fn encrypt(
    protocol: PrivProtocol,
    key: &[u8],
    boots: u32,
    time: u32,
    salt: u64,
    mut plaintext: Vec<u8>,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    match protocol {
        PrivProtocol::Des => {
            // RFC 3414 8.1.1.1: salt = engineBoots || local counter; IV = pre-IV XOR salt.
            let mut salt_bytes = [0u8; 8];
            salt_bytes[..4].copy_from_slice(&boots.to_be_bytes());
            salt_bytes[4..].copy_from_slice(&(salt as u32).to_be_bytes());
            let (des_key, iv) = des_key_and_iv(key, &salt_bytes)?;
            let padded_length = plaintext.len().div_ceil(DES_BLOCK) * DES_BLOCK;
            plaintext.resize(padded_length, 0);
            let length = plaintext.len();
            cbc::Encryptor::<des::Des>::new_from_slices(des_key, &iv)
                .map_err(|_| Error::Configuration("clé DES invalide".to_string()))?
                .encrypt_padded_mut::<NoPadding>(&mut plaintext, length)
                .map_err(|_| Error::Configuration("chiffrement DES impossible".to_string()))?;
            Ok((plaintext, salt_bytes.to_vec()))
        }
        PrivProtocol::Aes128 => {
            let salt_bytes = salt.to_be_bytes();
            let iv = aes_iv(boots, time, &salt_bytes);
            let aes_key = key
                .get(..16)
                .ok_or_else(|| Error::Configuration("clé AES trop courte".to_string()))?;
            cfb_mode::Encryptor::<aes::Aes128>::new_from_slices(aes_key, &iv)
                .map_err(|_| Error::Configuration("clé AES invalide".to_string()))?
                .encrypt(&mut plaintext);
            Ok((plaintext, salt_bytes.to_vec()))
        }
    }
}

fn decrypt(
    protocol: PrivProtocol,
    key: &[u8],
    boots: u32,
    time: u32,
    priv_parameters: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, Error> {
    let salt: [u8; 8] = priv_parameters
        .try_into()
        .map_err(|_| Error::DecryptionFailure)?;
    let mut buffer = ciphertext.to_vec();
    match protocol {
        PrivProtocol::Des => {
            if buffer.is_empty() || !buffer.len().is_multiple_of(DES_BLOCK) {
                return Err(Error::DecryptionFailure);
            }
            let (des_key, iv) = des_key_and_iv(key, &salt)?;
            cbc::Decryptor::<des::Des>::new_from_slices(des_key, &iv)
                .map_err(|_| Error::DecryptionFailure)?
                .decrypt_padded_mut::<NoPadding>(&mut buffer)
                .map_err(|_| Error::DecryptionFailure)?;
        }
        PrivProtocol::Aes128 => {
            let iv = aes_iv(boots, time, &salt);
            let aes_key = key.get(..16).ok_or(Error::DecryptionFailure)?;
            cfb_mode::Decryptor::<aes::Aes128>::new_from_slices(aes_key, &iv)
                .map_err(|_| Error::DecryptionFailure)?
                .decrypt(&mut buffer);
        }
    }
    Ok(buffer)
}

/// RFC 3414 8.1.1.1: DES key is the first 8 octets of the localised key, the pre-IV the next 8.
fn des_key_and_iv<'k>(key: &'k [u8], salt: &[u8; 8]) -> Result<(&'k [u8], [u8; 8]), Error> {
    if key.len() < 16 {
        return Err(Error::Configuration("clé DES trop courte".to_string()));
    }
    let mut iv = [0u8; 8];
    for (i, byte) in iv.iter_mut().enumerate() {
        *byte = key[8 + i] ^ salt[i];
    }
    Ok((&key[..8], iv))
}

/// RFC 3826 3.1.2.1: IV = engineBoots || engineTime || salt.
fn aes_iv(boots: u32, time: u32, salt: &[u8; 8]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&boots.to_be_bytes());
    iv[4..8].copy_from_slice(&time.to_be_bytes());
    iv[8..].copy_from_slice(salt);
    iv
}

/// Maps a Report's first variable to the error it stands for.
pub fn report_error(oid: &Oid, user_name: &str) -> Error {
    let text = oid.to_string();
    match text.as_str() {
        report_oid::WRONG_DIGESTS => Error::AuthenticationFailure,
        report_oid::UNKNOWN_USER_NAMES => Error::UnknownUser(user_name.to_string()),
        report_oid::DECRYPTION_ERRORS => Error::DecryptionFailure,
        report_oid::NOT_IN_TIME_WINDOWS => Error::NotInTimeWindow,
        report_oid::UNKNOWN_ENGINE_IDS => Error::UnknownEngineId,
        report_oid::UNSUPPORTED_SECURITY_LEVELS => Error::UnsupportedSecurityLevel,
        _ => Error::Report(oid.clone()),
    }
}

/// A random value for msgIDs, request-ids and salts.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // getrandom only fails when the OS has no entropy source at all; a clock-derived value
    // still keeps salts from repeating across runs in that unlikely case.
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        return nanos;
    }
    u64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 3414 A.3.1 and A.3.2 test vectors.
    #[test]
    fn rfc3414_key_localisation_vectors() {
        let engine_id = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let md5 = AuthProtocol::Md5.password_to_key(b"maplesyrup");
        assert_eq!(hex(&md5), "9faf3283884e92834ebc9847d8edd963");
        assert_eq!(
            hex(&AuthProtocol::Md5.localize_key(&md5, &engine_id)),
            "526f5eed9fcce26f8964c2930787d82b"
        );
        let sha = AuthProtocol::Sha1.password_to_key(b"maplesyrup");
        assert_eq!(hex(&sha), "9fb5cc0381497b3793528939ff788d5d79145211");
        assert_eq!(
            hex(&AuthProtocol::Sha1.localize_key(&sha, &engine_id)),
            "6695febc9288e36282235fc7151f128497b38f3f"
        );
    }

    #[test]
    fn protocol_names_are_read_as_net_snmp_writes_them() {
        for (name, protocol) in [
            ("MD5", AuthProtocol::Md5),
            ("sha", AuthProtocol::Sha1),
            ("SHA-1", AuthProtocol::Sha1),
            ("SHA-224", AuthProtocol::Sha224),
            ("sha256", AuthProtocol::Sha256),
            ("SHA-384", AuthProtocol::Sha384),
            ("SHA-512", AuthProtocol::Sha512),
        ] {
            assert_eq!(AuthProtocol::from_name(name), Some(protocol), "{name}");
        }
        assert_eq!(AuthProtocol::from_name("SHA-1024"), None);
        assert_eq!(AuthProtocol::from_name(""), None);
        for (name, protocol) in [
            ("AES", PrivProtocol::Aes128),
            ("aes-128", PrivProtocol::Aes128),
            ("DES", PrivProtocol::Des),
        ] {
            assert_eq!(PrivProtocol::from_name(name), Some(protocol), "{name}");
        }
        assert_eq!(PrivProtocol::from_name("AES-256"), None);
    }

    #[test]
    fn privacy_round_trips() {
        let key: Vec<u8> = (0u8..32).collect();
        for protocol in [PrivProtocol::Des, PrivProtocol::Aes128] {
            let plaintext = b"scoped pdu bytes of odd length".to_vec();
            let (ciphertext, parameters) = encrypt(
                protocol,
                &key,
                3,
                77,
                0x0102_0304_0506_0708,
                plaintext.clone(),
            )
            .unwrap();
            let decrypted = decrypt(protocol, &key, 3, 77, &parameters, &ciphertext).unwrap();
            assert_eq!(&decrypted[..plaintext.len()], &plaintext[..]);
        }
    }
}
