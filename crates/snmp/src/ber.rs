//! BER encoding and decoding of the subset of ASN.1 that SNMP uses (RFC 3416, RFC 2578):
//! universal types, SMI application types, v2 exceptions and the PDUs.
//!
//! Decoding is strict (definite lengths only, every length checked against what encloses
//! it, no trailing bytes) and bounded: the grammar is fixed (message, PDU, varbind list,
//! varbind, value), so nesting depth is bounded by construction and no recursive descent
//! over attacker-chosen structure exists; sizes are bounded by the constants below.

use std::fmt;
use std::net::Ipv4Addr;

use crate::error::Error;

/// Largest SNMP message accepted or produced: the largest UDP payload over IPv4.
pub const MAX_MESSAGE_SIZE: usize = 65_507;
/// Largest number of variable bindings in one PDU.
pub const MAX_VARBINDS: usize = 1000;
/// Largest number of arcs (sub-identifiers) in an OBJECT IDENTIFIER (RFC 2578 says 128).
pub const MAX_OID_ARCS: usize = 128;
/// Largest number of octets in a long-form length: 65,507 fits in two, be lenient to four.
const MAX_LENGTH_OCTETS: usize = 4;

pub(crate) mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OBJECT_IDENTIFIER: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const IP_ADDRESS: u8 = 0x40;
    pub const COUNTER32: u8 = 0x41;
    pub const GAUGE32: u8 = 0x42;
    pub const TIME_TICKS: u8 = 0x43;
    pub const OPAQUE: u8 = 0x44;
    pub const COUNTER64: u8 = 0x46;
    pub const NO_SUCH_OBJECT: u8 = 0x80;
    pub const NO_SUCH_INSTANCE: u8 = 0x81;
    pub const END_OF_MIB_VIEW: u8 = 0x82;
    pub const GET_REQUEST: u8 = 0xA0;
    pub const GET_NEXT_REQUEST: u8 = 0xA1;
    pub const RESPONSE: u8 = 0xA2;
    pub const SET_REQUEST: u8 = 0xA3;
    pub const TRAP_V1: u8 = 0xA4;
    pub const GET_BULK_REQUEST: u8 = 0xA5;
    pub const INFORM_REQUEST: u8 = 0xA6;
    pub const SNMPV2_TRAP: u8 = 0xA7;
    pub const REPORT: u8 = 0xA8;
}

// ---------------------------------------------------------------------------------------
// OBJECT IDENTIFIER
// ---------------------------------------------------------------------------------------

/// An OBJECT IDENTIFIER: at least two arcs, at most [`MAX_OID_ARCS`], first arc 0, 1 or 2,
/// second arc below 40 when the first is 0 or 1 (so that it has a BER encoding).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(Vec<u32>);

impl Oid {
    /// Parses dotted notation, "1.3.6.1.2.1.1.3.0" (a leading dot is accepted).
    pub fn parse(text: &str) -> Result<Oid, Error> {
        let trimmed = text.strip_prefix('.').unwrap_or(text);
        let mut arcs = Vec::new();
        for part in trimmed.split('.') {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Configuration(format!("OID invalide : « {text} »")));
            }
            let arc: u32 = part.parse().map_err(|_| {
                Error::Configuration(format!("OID invalide (arc trop grand) : « {text} »"))
            })?;
            arcs.push(arc);
            if arcs.len() > MAX_OID_ARCS {
                return Err(Error::Configuration(format!(
                    "OID invalide (plus de {MAX_OID_ARCS} arcs) : « {text} »"
                )));
            }
        }
        Oid::from_arcs(arcs).map_err(|_| Error::Configuration(format!("OID invalide : « {text} »")))
    }

    /// Builds an OID from its arcs, checking the rules above.
    pub fn from_arcs(arcs: impl Into<Vec<u32>>) -> Result<Oid, Error> {
        let arcs = arcs.into();
        if arcs.len() < 2 || arcs.len() > MAX_OID_ARCS {
            return Err(Error::malformed("OID de longueur invalide"));
        }
        if arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
            return Err(Error::malformed("OID aux deux premiers arcs invalides"));
        }
        if arcs[0] == 2 && u64::from(arcs[1]) + 80 > u64::from(u32::MAX) {
            return Err(Error::malformed("OID au second arc trop grand"));
        }
        Ok(Oid(arcs))
    }

    /// The arcs.
    pub fn arcs(&self) -> &[u32] {
        &self.0
    }

    /// True when `prefix` is this OID or one of its ancestors.
    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// This OID with more arcs appended (e.g. an instance index).
    pub fn child(&self, arcs: &[u32]) -> Result<Oid, Error> {
        let mut all = self.0.clone();
        all.extend_from_slice(arcs);
        Oid::from_arcs(all)
    }

    fn encode_content(&self, out: &mut Vec<u8>) {
        // First sub-identifier packs the first two arcs (X.690 8.19.4); from_arcs keeps it in u32.
        push_base128(out, self.0[0] * 40 + self.0[1]);
        for &arc in &self.0[2..] {
            push_base128(out, arc);
        }
    }

    fn decode_content(content: &[u8]) -> Result<Oid, Error> {
        if content.is_empty() {
            return Err(Error::malformed("OID vide"));
        }
        let mut arcs = Vec::new();
        let mut current: u64 = 0;
        let mut in_subidentifier = false;
        for &byte in content {
            if !in_subidentifier && byte == 0x80 {
                return Err(Error::malformed("OID à l'encodage non minimal"));
            }
            current = (current << 7) | u64::from(byte & 0x7f);
            if current > u64::from(u32::MAX) {
                return Err(Error::malformed("arc d'OID supérieur à 2^32-1"));
            }
            if byte & 0x80 != 0 {
                in_subidentifier = true;
                continue;
            }
            in_subidentifier = false;
            if arcs.is_empty() {
                let (first, second) = match current {
                    0..40 => (0, current),
                    40..80 => (1, current - 40),
                    _ => (2, current - 80),
                };
                arcs.push(first as u32);
                arcs.push(second as u32);
            } else {
                arcs.push(current as u32);
            }
            if arcs.len() > MAX_OID_ARCS {
                return Err(Error::malformed(format!(
                    "OID de plus de {MAX_OID_ARCS} arcs"
                )));
            }
            current = 0;
        }
        if in_subidentifier {
            return Err(Error::malformed("OID tronqué"));
        }
        Oid::from_arcs(arcs)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arc) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

impl std::str::FromStr for Oid {
    type Err = Error;
    fn from_str(text: &str) -> Result<Oid, Error> {
        Oid::parse(text)
    }
}

fn push_base128(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut count = 0;
    let mut rest = value;
    loop {
        groups[count] = (rest & 0x7f) as u8;
        count += 1;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    for i in (0..count).rev() {
        let continuation = if i > 0 { 0x80 } else { 0 };
        out.push(groups[i] | continuation);
    }
}

// ---------------------------------------------------------------------------------------
// Values and variable bindings
// ---------------------------------------------------------------------------------------

/// The value of a variable binding (RFC 2578 SMIv2 types and RFC 3416 exceptions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// INTEGER / Integer32 (kept wide: some agents send out-of-range integers).
    Integer(i64),
    OctetString(Vec<u8>),
    Null,
    ObjectIdentifier(Oid),
    IpAddress(Ipv4Addr),
    Counter32(u32),
    Gauge32(u32),
    /// Hundredths of a second.
    TimeTicks(u32),
    /// Opaque: the raw inner BER, not interpreted.
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    /// True for the v2 exceptions (noSuchObject, noSuchInstance, endOfMibView).
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
        )
    }

    /// The value as an unsigned number when it is one (counters, gauges, ticks, integers >= 0).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Integer(v) => u64::try_from(v).ok(),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => Some(u64::from(v)),
            Value::Counter64(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Integer(v) => push_tlv(out, tag::INTEGER, &integer_content(*v)),
            Value::OctetString(bytes) => push_tlv(out, tag::OCTET_STRING, bytes),
            Value::Null => push_tlv(out, tag::NULL, &[]),
            Value::ObjectIdentifier(oid) => {
                let mut content = Vec::new();
                oid.encode_content(&mut content);
                push_tlv(out, tag::OBJECT_IDENTIFIER, &content);
            }
            Value::IpAddress(address) => push_tlv(out, tag::IP_ADDRESS, &address.octets()),
            Value::Counter32(v) => push_tlv(out, tag::COUNTER32, &unsigned_content(u64::from(*v))),
            Value::Gauge32(v) => push_tlv(out, tag::GAUGE32, &unsigned_content(u64::from(*v))),
            Value::TimeTicks(v) => push_tlv(out, tag::TIME_TICKS, &unsigned_content(u64::from(*v))),
            Value::Opaque(bytes) => push_tlv(out, tag::OPAQUE, bytes),
            Value::Counter64(v) => push_tlv(out, tag::COUNTER64, &unsigned_content(*v)),
            Value::NoSuchObject => push_tlv(out, tag::NO_SUCH_OBJECT, &[]),
            Value::NoSuchInstance => push_tlv(out, tag::NO_SUCH_INSTANCE, &[]),
            Value::EndOfMibView => push_tlv(out, tag::END_OF_MIB_VIEW, &[]),
        }
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Value, Error> {
        let content = tlv.value;
        let empty = |value: Value| {
            if content.is_empty() {
                Ok(value)
            } else {
                Err(Error::malformed(
                    "valeur NULL ou exception de longueur non nulle",
                ))
            }
        };
        match tlv.tag {
            tag::INTEGER => Ok(Value::Integer(decode_integer(content)?)),
            tag::OCTET_STRING => Ok(Value::OctetString(content.to_vec())),
            tag::NULL => empty(Value::Null),
            tag::OBJECT_IDENTIFIER => Ok(Value::ObjectIdentifier(Oid::decode_content(content)?)),
            tag::IP_ADDRESS => {
                let octets: [u8; 4] = content
                    .try_into()
                    .map_err(|_| Error::malformed("IpAddress qui ne fait pas 4 octets"))?;
                Ok(Value::IpAddress(Ipv4Addr::from(octets)))
            }
            tag::COUNTER32 => Ok(Value::Counter32(decode_unsigned32(content)?)),
            tag::GAUGE32 => Ok(Value::Gauge32(decode_unsigned32(content)?)),
            tag::TIME_TICKS => Ok(Value::TimeTicks(decode_unsigned32(content)?)),
            tag::OPAQUE => Ok(Value::Opaque(content.to_vec())),
            tag::COUNTER64 => Ok(Value::Counter64(decode_unsigned(content)?)),
            tag::NO_SUCH_OBJECT => empty(Value::NoSuchObject),
            tag::NO_SUCH_INSTANCE => empty(Value::NoSuchInstance),
            tag::END_OF_MIB_VIEW => empty(Value::EndOfMibView),
            other => Err(Error::malformed(format!(
                "type de valeur inconnu 0x{other:02x}"
            ))),
        }
    }
}

/// One variable binding: a name and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Oid,
    pub value: Value,
}

impl VarBind {
    pub fn new(oid: Oid, value: Value) -> VarBind {
        VarBind { oid, value }
    }

    /// A binding with a NULL value, as requests carry.
    pub fn null(oid: Oid) -> VarBind {
        VarBind {
            oid,
            value: Value::Null,
        }
    }
}

// ---------------------------------------------------------------------------------------
// PDUs
// ---------------------------------------------------------------------------------------

/// The PDU types that share the common layout (request-id, error-status, error-index, list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PduKind {
    GetRequest,
    GetNextRequest,
    Response,
    SetRequest,
    /// In a GetBulkRequest, error-status carries non-repeaters and error-index max-repetitions.
    GetBulkRequest,
    InformRequest,
    SnmpV2Trap,
    Report,
}

impl PduKind {
    fn tag(self) -> u8 {
        match self {
            PduKind::GetRequest => tag::GET_REQUEST,
            PduKind::GetNextRequest => tag::GET_NEXT_REQUEST,
            PduKind::Response => tag::RESPONSE,
            PduKind::SetRequest => tag::SET_REQUEST,
            PduKind::GetBulkRequest => tag::GET_BULK_REQUEST,
            PduKind::InformRequest => tag::INFORM_REQUEST,
            PduKind::SnmpV2Trap => tag::SNMPV2_TRAP,
            PduKind::Report => tag::REPORT,
        }
    }

    fn from_tag(value: u8) -> Option<PduKind> {
        Some(match value {
            tag::GET_REQUEST => PduKind::GetRequest,
            tag::GET_NEXT_REQUEST => PduKind::GetNextRequest,
            tag::RESPONSE => PduKind::Response,
            tag::SET_REQUEST => PduKind::SetRequest,
            tag::GET_BULK_REQUEST => PduKind::GetBulkRequest,
            tag::INFORM_REQUEST => PduKind::InformRequest,
            tag::SNMPV2_TRAP => PduKind::SnmpV2Trap,
            tag::REPORT => PduKind::Report,
            _ => return None,
        })
    }
}

/// A PDU of the common layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub kind: PduKind,
    pub request_id: i32,
    /// error-status, or non-repeaters in a GetBulkRequest.
    pub error_status: i32,
    /// error-index, or max-repetitions in a GetBulkRequest.
    pub error_index: i32,
    pub varbinds: Vec<VarBind>,
}

/// The SNMPv1 Trap-PDU (RFC 1157), whose layout differs from every other PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapV1Pdu {
    pub enterprise: Oid,
    pub agent_address: Ipv4Addr,
    pub generic_trap: i32,
    pub specific_trap: i32,
    /// sysUpTime of the agent, hundredths of a second.
    pub time_stamp: u32,
    pub varbinds: Vec<VarBind>,
}

/// Any PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PduBody {
    Pdu(Pdu),
    TrapV1(TrapV1Pdu),
}

impl PduBody {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut content = Vec::new();
        match self {
            PduBody::Pdu(pdu) => {
                push_tlv(
                    &mut content,
                    tag::INTEGER,
                    &integer_content(i64::from(pdu.request_id)),
                );
                push_tlv(
                    &mut content,
                    tag::INTEGER,
                    &integer_content(i64::from(pdu.error_status)),
                );
                push_tlv(
                    &mut content,
                    tag::INTEGER,
                    &integer_content(i64::from(pdu.error_index)),
                );
                encode_varbinds(&mut content, &pdu.varbinds);
                push_tlv(out, pdu.kind.tag(), &content);
            }
            PduBody::TrapV1(trap) => {
                Value::ObjectIdentifier(trap.enterprise.clone()).encode(&mut content);
                Value::IpAddress(trap.agent_address).encode(&mut content);
                push_tlv(
                    &mut content,
                    tag::INTEGER,
                    &integer_content(i64::from(trap.generic_trap)),
                );
                push_tlv(
                    &mut content,
                    tag::INTEGER,
                    &integer_content(i64::from(trap.specific_trap)),
                );
                Value::TimeTicks(trap.time_stamp).encode(&mut content);
                encode_varbinds(&mut content, &trap.varbinds);
                push_tlv(out, tag::TRAP_V1, &content);
            }
        }
    }

    pub(crate) fn decode(tlv: &Tlv<'_>, reader: &Reader<'_>) -> Result<PduBody, Error> {
        let mut inner = reader.enter(tlv);
        if tlv.tag == tag::TRAP_V1 {
            let enterprise =
                match Value::decode(&inner.expect(tag::OBJECT_IDENTIFIER, "enterprise")?)? {
                    Value::ObjectIdentifier(oid) => oid,
                    _ => return Err(Error::malformed("enterprise n'est pas un OID")),
                };
            let agent_address = match Value::decode(&inner.expect(tag::IP_ADDRESS, "agent-addr")?)?
            {
                Value::IpAddress(address) => address,
                _ => return Err(Error::malformed("agent-addr n'est pas une adresse IP")),
            };
            let generic_trap = inner.read_i32("generic-trap")?;
            let specific_trap = inner.read_i32("specific-trap")?;
            let time_stamp = decode_unsigned32(inner.expect(tag::TIME_TICKS, "time-stamp")?.value)?;
            let varbinds = decode_varbinds(&mut inner)?;
            inner.finish("Trap-PDU")?;
            return Ok(PduBody::TrapV1(TrapV1Pdu {
                enterprise,
                agent_address,
                generic_trap,
                specific_trap,
                time_stamp,
                varbinds,
            }));
        }
        let kind = PduKind::from_tag(tlv.tag)
            .ok_or_else(|| Error::malformed(format!("type de PDU inconnu 0x{:02x}", tlv.tag)))?;
        let request_id = inner.read_i32("request-id")?;
        let error_status = inner.read_i32("error-status")?;
        let error_index = inner.read_i32("error-index")?;
        let varbinds = decode_varbinds(&mut inner)?;
        inner.finish("PDU")?;
        Ok(PduBody::Pdu(Pdu {
            kind,
            request_id,
            error_status,
            error_index,
            varbinds,
        }))
    }
}

fn encode_varbinds(out: &mut Vec<u8>, varbinds: &[VarBind]) {
    let mut list = Vec::new();
    for varbind in varbinds {
        let mut pair = Vec::new();
        Value::ObjectIdentifier(varbind.oid.clone()).encode(&mut pair);
        varbind.value.encode(&mut pair);
        push_tlv(&mut list, tag::SEQUENCE, &pair);
    }
    push_tlv(out, tag::SEQUENCE, &list);
}

fn decode_varbinds(reader: &mut Reader<'_>) -> Result<Vec<VarBind>, Error> {
    let list_tlv = reader.expect(tag::SEQUENCE, "variable-bindings")?;
    let mut list = reader.enter(&list_tlv);
    let mut varbinds = Vec::new();
    while !list.is_empty() {
        if varbinds.len() >= MAX_VARBINDS {
            return Err(Error::malformed(format!(
                "plus de {MAX_VARBINDS} variables dans une PDU"
            )));
        }
        let pair_tlv = list.expect(tag::SEQUENCE, "VarBind")?;
        let mut pair = list.enter(&pair_tlv);
        let oid = Oid::decode_content(
            pair.expect(tag::OBJECT_IDENTIFIER, "nom de variable")?
                .value,
        )?;
        let value = Value::decode(&pair.read_tlv()?)?;
        pair.finish("VarBind")?;
        varbinds.push(VarBind { oid, value });
    }
    Ok(varbinds)
}

// ---------------------------------------------------------------------------------------
// Primitive encoding
// ---------------------------------------------------------------------------------------

/// Appends tag, definite length and content.
pub(crate) fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_length(out, content.len());
    out.extend_from_slice(content);
}

/// Number of octets that tag and length take in front of `content_length` octets.
pub(crate) fn header_length(content_length: usize) -> usize {
    let mut length = Vec::new();
    push_length(&mut length, content_length);
    1 + length.len()
}

fn push_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = (length as u64).to_be_bytes();
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    out.push(0x80 | (bytes.len() - first) as u8);
    out.extend_from_slice(&bytes[first..]);
}

/// Minimal two's complement content of an INTEGER.
pub(crate) fn integer_content(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    // Drop a leading byte while the next one still carries the sign.
    while start < 7 {
        let redundant = (bytes[start] == 0x00 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

/// Minimal content of an unsigned application type (a leading zero when the top bit is set).
pub(crate) fn unsigned_content(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    let mut content = Vec::with_capacity(9);
    if bytes[first] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[first..]);
    content
}

pub(crate) fn decode_integer(content: &[u8]) -> Result<i64, Error> {
    if content.is_empty() || content.len() > 8 {
        return Err(Error::malformed(format!(
            "INTEGER de {} octets",
            content.len()
        )));
    }
    let mut value: i64 = if content[0] & 0x80 != 0 { -1 } else { 0 };
    for &byte in content {
        value = (value << 8) | i64::from(byte);
    }
    Ok(value)
}

fn decode_unsigned(content: &[u8]) -> Result<u64, Error> {
    if content.is_empty() {
        return Err(Error::malformed("entier non signé vide"));
    }
    // Leniency: agents that forget the leading zero send 0xFFFFFFFF as four octets; read the
    // octets as unsigned rather than reject them.
    let mut significant = content;
    while significant.len() > 1 && significant[0] == 0 {
        significant = &significant[1..];
    }
    if significant.len() > 8 {
        return Err(Error::malformed("entier non signé de plus de 64 bits"));
    }
    Ok(significant
        .iter()
        .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte)))
}

fn decode_unsigned32(content: &[u8]) -> Result<u32, Error> {
    u32::try_from(decode_unsigned(content)?)
        .map_err(|_| Error::malformed("entier non signé de plus de 32 bits"))
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

/// One decoded tag-length-value, with the position of its value in the whole message (the
/// USM needs it to check the digest in place).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub value_start: usize,
}

/// A cursor over a window of a message.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    position: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader {
            data,
            position: 0,
            end: data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.position >= self.end
    }

    pub fn read_tlv(&mut self) -> Result<Tlv<'a>, Error> {
        let window = &self.data[self.position..self.end];
        let (&tag, rest) = window
            .split_first()
            .ok_or_else(|| Error::malformed("message tronqué"))?;
        if tag & 0x1f == 0x1f {
            return Err(Error::malformed(
                "étiquette BER multi-octets non prise en charge",
            ));
        }
        let (&first, rest) = rest
            .split_first()
            .ok_or_else(|| Error::malformed("longueur BER absente"))?;
        let (length, length_octets) = if first < 0x80 {
            (usize::from(first), 0)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 {
                return Err(Error::malformed("longueur BER indéfinie refusée"));
            }
            if count > MAX_LENGTH_OCTETS || count > rest.len() {
                return Err(Error::malformed("longueur BER invalide"));
            }
            let length = rest[..count]
                .iter()
                .fold(0usize, |acc, &byte| (acc << 8) | usize::from(byte));
            (length, count)
        };
        let value_start = self.position + 2 + length_octets;
        if length > MAX_MESSAGE_SIZE || length > self.end - value_start {
            return Err(Error::malformed("longueur BER au-delà des données"));
        }
        self.position = value_start + length;
        Ok(Tlv {
            tag,
            value: &self.data[value_start..value_start + length],
            value_start,
        })
    }

    /// Reads one TLV that must have the given tag; `what` names it in the error.
    pub fn expect(&mut self, expected: u8, what: &str) -> Result<Tlv<'a>, Error> {
        let tlv = self.read_tlv()?;
        if tlv.tag != expected {
            return Err(Error::malformed(format!(
                "{what} : étiquette 0x{:02x} au lieu de 0x{expected:02x}",
                tlv.tag
            )));
        }
        Ok(tlv)
    }

    /// A reader over the value of `tlv`, keeping absolute positions.
    pub fn enter(&self, tlv: &Tlv<'a>) -> Reader<'a> {
        Reader {
            data: self.data,
            position: tlv.value_start,
            end: tlv.value_start + tlv.value.len(),
        }
    }

    /// Fails when bytes are left over in this window.
    pub fn finish(&self, what: &str) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::malformed(format!("octets en trop après {what}")))
        }
    }

    pub fn read_integer(&mut self, what: &str) -> Result<i64, Error> {
        decode_integer(self.expect(tag::INTEGER, what)?.value)
    }

    pub fn read_i32(&mut self, what: &str) -> Result<i32, Error> {
        let value = self.read_integer(what)?;
        i32::try_from(value)
            .map_err(|_| Error::malformed(format!("{what} hors de l'intervalle 32 bits")))
    }

    pub fn read_octets(&mut self, what: &str) -> Result<&'a [u8], Error> {
        Ok(self.expect(tag::OCTET_STRING, what)?.value)
    }
}

/// Encodes one PDU alone (used by tests and by the message layer).
pub fn encode_pdu(pdu: &PduBody) -> Vec<u8> {
    let mut out = Vec::new();
    pdu.encode(&mut out);
    out
}

/// Decodes one PDU that must fill `bytes` exactly.
pub fn decode_pdu(bytes: &[u8]) -> Result<PduBody, Error> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(Error::malformed(
            "PDU plus grande que la taille maximale d'un message",
        ));
    }
    let mut reader = Reader::new(bytes);
    let tlv = reader.read_tlv()?;
    let pdu = PduBody::decode(&tlv, &reader)?;
    reader.finish("la PDU")?;
    Ok(pdu)
}

/// Encodes one value alone.
pub fn encode_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

/// Decodes one value that must fill `bytes` exactly.
pub fn decode_value(bytes: &[u8]) -> Result<Value, Error> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(Error::malformed(
            "valeur plus grande que la taille maximale d'un message",
        ));
    }
    let mut reader = Reader::new(bytes);
    let value = Value::decode(&reader.read_tlv()?)?;
    reader.finish("la valeur")?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        assert_eq!(integer_content(0), [0]);
        assert_eq!(integer_content(127), [0x7f]);
        assert_eq!(integer_content(128), [0, 0x80]);
        assert_eq!(integer_content(-128), [0x80]);
        assert_eq!(integer_content(-129), [0xff, 0x7f]);
        assert_eq!(unsigned_content(0xffff_ffff), [0, 0xff, 0xff, 0xff, 0xff]);
        let oid = Oid::parse("1.3.6.1.2.1.1.3.0").unwrap();
        assert_eq!(
            encode_value(&Value::ObjectIdentifier(oid.clone())),
            [0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 3, 0]
        );
        assert_eq!(
            Oid::decode_content(&[0x2b, 6, 1, 2, 1, 1, 3, 0]).unwrap(),
            oid
        );
        let mut long = Vec::new();
        push_length(&mut long, 300);
        assert_eq!(long, [0x82, 0x01, 0x2c]);
    }

    #[test]
    fn unsigned_is_lenient_about_a_missing_leading_zero() {
        assert_eq!(
            decode_value(&[0x41, 4, 0xff, 0xff, 0xff, 0xff]).unwrap(),
            Value::Counter32(u32::MAX)
        );
        assert!(decode_value(&[0x41, 5, 1, 0, 0, 0, 0]).is_err());
    }
}
