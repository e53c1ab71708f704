//! SNMP messages: the community-based v1/v2c wrapper (RFC 1157, RFC 1901) and the v3
//! wrapper with its USM security parameters (RFC 3412, RFC 3414), encoded and decoded.
//! Security processing itself (digests, encryption) lives in `usm.rs`.

use crate::ber::{self, MAX_MESSAGE_SIZE, PduBody, Reader, push_tlv, tag};
use crate::error::Error;

/// Longest snmpEngineID (RFC 3411: 5 to 32 octets; empty during discovery).
pub const MAX_ENGINE_ID_LENGTH: usize = 32;
/// Longest USM user name (RFC 3414: SnmpAdminString (SIZE(1..32))).
pub const MAX_USER_NAME_LENGTH: usize = 32;
/// Longest community string accepted.
pub const MAX_COMMUNITY_LENGTH: usize = 255;
/// Largest msgAuthenticationParameters: HMAC-SHA-512-384 gives 48 octets.
const MAX_AUTH_PARAMETERS_LENGTH: usize = 48;
/// Largest msgPrivacyParameters: DES and AES both use 8 octets; allow some slack.
const MAX_PRIV_PARAMETERS_LENGTH: usize = 32;
/// The USM's securityModel number (RFC 3411).
pub const SECURITY_MODEL_USM: i32 = 3;

/// msgFlags bits (RFC 3412 6.4).
pub const FLAG_AUTH: u8 = 0x01;
pub const FLAG_PRIV: u8 = 0x02;
pub const FLAG_REPORTABLE: u8 = 0x04;

/// The protocol version of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2c,
    V3,
}

impl Version {
    fn wire(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
            Version::V3 => 3,
        }
    }
}

/// A v1 or v2c message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommunityMessage {
    /// `Version::V1` or `Version::V2c`.
    pub version: Version,
    pub community: Vec<u8>,
    pub pdu: PduBody,
}

impl CommunityMessage {
    pub fn encode(&self) -> Vec<u8> {
        let mut content = Vec::new();
        push_tlv(
            &mut content,
            tag::INTEGER,
            &ber::integer_content(self.version.wire()),
        );
        push_tlv(&mut content, tag::OCTET_STRING, &self.community);
        self.pdu.encode(&mut content);
        let mut out = Vec::new();
        push_tlv(&mut out, tag::SEQUENCE, &content);
        out
    }
}

/// The USM security parameters of a v3 message (RFC 3414 2.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsmParameters {
    pub engine_id: Vec<u8>,
    pub engine_boots: u32,
    pub engine_time: u32,
    pub user_name: Vec<u8>,
    pub auth_parameters: Vec<u8>,
    pub priv_parameters: Vec<u8>,
}

/// A scopedPDU: context and PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedPdu {
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
    pub pdu: PduBody,
}

impl ScopedPdu {
    pub fn encode(&self) -> Vec<u8> {
        let mut content = Vec::new();
        push_tlv(&mut content, tag::OCTET_STRING, &self.context_engine_id);
        push_tlv(&mut content, tag::OCTET_STRING, &self.context_name);
        self.pdu.encode(&mut content);
        let mut out = Vec::new();
        push_tlv(&mut out, tag::SEQUENCE, &content);
        out
    }

    /// Decodes a scopedPDU. After decryption, block-cipher padding may follow it, so
    /// `allow_trailing` lets bytes after the SEQUENCE be ignored.
    pub fn decode(bytes: &[u8], allow_trailing: bool) -> Result<ScopedPdu, Error> {
        let mut reader = Reader::new(bytes);
        let sequence = reader.expect(tag::SEQUENCE, "scopedPDU")?;
        if !allow_trailing {
            reader.finish("le scopedPDU")?;
        }
        Self::decode_inner(&reader.enter(&sequence))
    }

    fn decode_inner(reader: &Reader<'_>) -> Result<ScopedPdu, Error> {
        let mut inner = reader.clone();
        let context_engine_id = inner.read_octets("contextEngineID")?.to_vec();
        let context_name = inner.read_octets("contextName")?.to_vec();
        if context_engine_id.len() > MAX_ENGINE_ID_LENGTH
            || context_name.len() > MAX_ENGINE_ID_LENGTH
        {
            return Err(Error::malformed("contexte SNMPv3 trop long"));
        }
        let pdu_tlv = inner.read_tlv()?;
        let pdu = PduBody::decode(&pdu_tlv, &inner)?;
        inner.finish("le scopedPDU")?;
        Ok(ScopedPdu {
            context_engine_id,
            context_name,
            pdu,
        })
    }
}

/// msgData: plaintext scopedPDU, or its encryption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopedPduData {
    Plaintext(ScopedPdu),
    Encrypted(Vec<u8>),
}

/// A v3 message with the USM as security model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Message {
    pub msg_id: i32,
    pub max_size: i32,
    pub flags: u8,
    pub usm: UsmParameters,
    pub data: ScopedPduData,
}

impl V3Message {
    /// Encodes the message; also returns where msgAuthenticationParameters' value starts, so
    /// that the digest can be written in place.
    pub fn encode(&self) -> (Vec<u8>, usize) {
        let mut global = Vec::new();
        push_tlv(
            &mut global,
            tag::INTEGER,
            &ber::integer_content(i64::from(self.msg_id)),
        );
        push_tlv(
            &mut global,
            tag::INTEGER,
            &ber::integer_content(i64::from(self.max_size)),
        );
        push_tlv(&mut global, tag::OCTET_STRING, &[self.flags]);
        push_tlv(
            &mut global,
            tag::INTEGER,
            &ber::integer_content(i64::from(SECURITY_MODEL_USM)),
        );

        let usm = &self.usm;
        let mut usm_content = Vec::new();
        push_tlv(&mut usm_content, tag::OCTET_STRING, &usm.engine_id);
        push_tlv(
            &mut usm_content,
            tag::INTEGER,
            &ber::integer_content(i64::from(usm.engine_boots)),
        );
        push_tlv(
            &mut usm_content,
            tag::INTEGER,
            &ber::integer_content(i64::from(usm.engine_time)),
        );
        push_tlv(&mut usm_content, tag::OCTET_STRING, &usm.user_name);
        let auth_in_usm = usm_content.len() + ber::header_length(usm.auth_parameters.len());
        push_tlv(&mut usm_content, tag::OCTET_STRING, &usm.auth_parameters);
        push_tlv(&mut usm_content, tag::OCTET_STRING, &usm.priv_parameters);
        let mut usm_sequence = Vec::new();
        push_tlv(&mut usm_sequence, tag::SEQUENCE, &usm_content);
        let auth_in_sequence = ber::header_length(usm_content.len()) + auth_in_usm;

        let mut content = Vec::new();
        push_tlv(
            &mut content,
            tag::INTEGER,
            &ber::integer_content(Version::V3.wire()),
        );
        push_tlv(&mut content, tag::SEQUENCE, &global);
        let auth_in_content =
            content.len() + ber::header_length(usm_sequence.len()) + auth_in_sequence;
        push_tlv(&mut content, tag::OCTET_STRING, &usm_sequence);
        match &self.data {
            ScopedPduData::Plaintext(scoped) => content.extend_from_slice(&scoped.encode()),
            ScopedPduData::Encrypted(bytes) => push_tlv(&mut content, tag::OCTET_STRING, bytes),
        }
        let mut out = Vec::new();
        push_tlv(&mut out, tag::SEQUENCE, &content);
        let auth_offset = ber::header_length(content.len()) + auth_in_content;
        (out, auth_offset)
    }
}

/// A decoded message of any version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Community(CommunityMessage),
    V3(V3Message),
}

/// A decoded message with what the USM needs to check it.
#[derive(Clone, Debug)]
pub struct DecodedMessage {
    pub message: Message,
    /// Offset of msgAuthenticationParameters' value in the raw bytes (v3 only).
    pub auth_offset: Option<usize>,
}

/// Decodes a whole datagram. Strict: the outer SEQUENCE must fill it exactly.
pub fn decode_message(bytes: &[u8]) -> Result<DecodedMessage, Error> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(Error::malformed(format!(
            "message de {} octets, au-delà de {MAX_MESSAGE_SIZE}",
            bytes.len()
        )));
    }
    let mut outer = Reader::new(bytes);
    let sequence = outer.expect(tag::SEQUENCE, "message")?;
    outer.finish("le message")?;
    let mut reader = outer.enter(&sequence);
    let version = match reader.read_integer("version")? {
        0 => Version::V1,
        1 => Version::V2c,
        3 => Version::V3,
        other => return Err(Error::malformed(format!("version SNMP inconnue {other}"))),
    };
    if version != Version::V3 {
        let community = reader.read_octets("community")?.to_vec();
        if community.len() > MAX_COMMUNITY_LENGTH {
            return Err(Error::malformed("communauté trop longue"));
        }
        let pdu_tlv = reader.read_tlv()?;
        let pdu = PduBody::decode(&pdu_tlv, &reader)?;
        reader.finish("la PDU")?;
        check_pdu_for_version(version, &pdu)?;
        return Ok(DecodedMessage {
            message: Message::Community(CommunityMessage {
                version,
                community,
                pdu,
            }),
            auth_offset: None,
        });
    }

    let global_tlv = reader.expect(tag::SEQUENCE, "msgGlobalData")?;
    let mut global = reader.enter(&global_tlv);
    let msg_id = non_negative_i32(global.read_integer("msgID")?, "msgID")?;
    let max_size = non_negative_i32(global.read_integer("msgMaxSize")?, "msgMaxSize")?;
    if max_size < 484 {
        return Err(Error::malformed("msgMaxSize inférieur à 484"));
    }
    let flags = match global.read_octets("msgFlags")? {
        [flags] => *flags,
        _ => return Err(Error::malformed("msgFlags ne fait pas un octet")),
    };
    if flags & FLAG_PRIV != 0 && flags & FLAG_AUTH == 0 {
        return Err(Error::malformed(
            "msgFlags : confidentialité sans authentification",
        ));
    }
    let security_model = global.read_integer("msgSecurityModel")?;
    global.finish("msgGlobalData")?;
    if security_model != i64::from(SECURITY_MODEL_USM) {
        return Err(Error::Unsupported(format!(
            "modèle de sécurité SNMPv3 {security_model}"
        )));
    }

    let parameters_tlv = reader.expect(tag::OCTET_STRING, "msgSecurityParameters")?;
    let mut parameters = reader.enter(&parameters_tlv);
    let usm_tlv = parameters.expect(tag::SEQUENCE, "UsmSecurityParameters")?;
    parameters.finish("UsmSecurityParameters")?;
    let mut usm_reader = parameters.enter(&usm_tlv);
    let engine_id = usm_reader.read_octets("msgAuthoritativeEngineID")?.to_vec();
    let engine_boots = non_negative_i32(
        usm_reader.read_integer("msgAuthoritativeEngineBoots")?,
        "boots",
    )?;
    let engine_time = non_negative_i32(
        usm_reader.read_integer("msgAuthoritativeEngineTime")?,
        "time",
    )?;
    let user_name = usm_reader.read_octets("msgUserName")?.to_vec();
    let auth_tlv = usm_reader.expect(tag::OCTET_STRING, "msgAuthenticationParameters")?;
    let priv_parameters = usm_reader.read_octets("msgPrivacyParameters")?.to_vec();
    usm_reader.finish("UsmSecurityParameters")?;
    if engine_id.len() > MAX_ENGINE_ID_LENGTH {
        return Err(Error::malformed("msgAuthoritativeEngineID trop long"));
    }
    if user_name.len() > MAX_USER_NAME_LENGTH {
        return Err(Error::malformed("msgUserName trop long"));
    }
    if auth_tlv.value.len() > MAX_AUTH_PARAMETERS_LENGTH
        || priv_parameters.len() > MAX_PRIV_PARAMETERS_LENGTH
    {
        return Err(Error::malformed("paramètres de sécurité USM trop longs"));
    }

    let data_tlv = reader.read_tlv()?;
    reader.finish("msgData")?;
    let data = match data_tlv.tag {
        tag::SEQUENCE if flags & FLAG_PRIV == 0 => {
            ScopedPduData::Plaintext(ScopedPdu::decode_inner(&reader.enter(&data_tlv))?)
        }
        tag::OCTET_STRING if flags & FLAG_PRIV != 0 => {
            ScopedPduData::Encrypted(data_tlv.value.to_vec())
        }
        _ => {
            return Err(Error::malformed(
                "msgData ne correspond pas au niveau de sécurité",
            ));
        }
    };
    if let ScopedPduData::Plaintext(scoped) = &data {
        check_pdu_for_version(Version::V3, &scoped.pdu)?;
    }
    Ok(DecodedMessage {
        message: Message::V3(V3Message {
            msg_id,
            max_size,
            flags,
            usm: UsmParameters {
                engine_id,
                engine_boots: engine_boots as u32,
                engine_time: engine_time as u32,
                user_name,
                auth_parameters: auth_tlv.value.to_vec(),
                priv_parameters,
            },
            data,
        }),
        auth_offset: Some(auth_tlv.value_start),
    })
}

/// v1 has no GetBulk, Inform, v2 trap or Report; v2c and v3 have no v1 Trap-PDU (RFC 3416).
pub(crate) fn check_pdu_for_version(version: Version, pdu: &PduBody) -> Result<(), Error> {
    use crate::ber::PduKind;
    let allowed = match (version, pdu) {
        (Version::V1, PduBody::TrapV1(_)) => true,
        (Version::V1, PduBody::Pdu(p)) => matches!(
            p.kind,
            PduKind::GetRequest | PduKind::GetNextRequest | PduKind::Response | PduKind::SetRequest
        ),
        (_, PduBody::TrapV1(_)) => false,
        (_, PduBody::Pdu(_)) => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::malformed(
            "type de PDU interdit dans cette version de SNMP",
        ))
    }
}

fn non_negative_i32(value: i64, what: &str) -> Result<i32, Error> {
    i32::try_from(value)
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| Error::malformed(format!("{what} hors de 0..2^31-1")))
}
