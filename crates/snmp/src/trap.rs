//! The receiving side of notifications: parsing v1 traps (converted to the v2 form per
//! RFC 3584 3.1), v2c traps and informs, v3 traps and informs with USM, acknowledging
//! informs, and a `TrapListener` that turns a UDP socket into a bounded stream of
//! notifications or errors.
//!
//! In v3 the sender of a trap is the authoritative engine (the receiver knows its users
//! under the sender's engine ID), while for an inform the receiver is: it then needs its own
//! engine ID and boots (`TrapSecurity::with_local_engine`), answers discovery probes and
//! out-of-window informs with Reports (RFC 3414 3.2, 4), and checks the time window.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::ber::{MAX_MESSAGE_SIZE, Oid, Pdu, PduBody, PduKind, TrapV1Pdu, Value, VarBind};
use crate::error::Error;
use crate::message::{
    CommunityMessage, FLAG_REPORTABLE, Message, ScopedPdu, V3Message, Version, decode_message,
};
use crate::usm::{
    self, LocalizedKeys, MAX_ENGINE_BOOTS, OutgoingV3, SecurityLevel, TIME_WINDOW_SECONDS, UsmUser,
    report_oid,
};

/// Notifications (or errors) waiting for the caller; past this the listener stops reading
/// and the kernel's socket buffer absorbs the rest.
pub const TRAP_CHANNEL_CAPACITY: usize = 1024;
/// Most v3 users a receiver knows.
pub const MAX_TRAP_USERS: usize = 1000;
/// Pause after a socket error, so that a persistent one cannot spin the task.
const SOCKET_ERROR_PAUSE: Duration = Duration::from_millis(100);

const SYS_UP_TIME_0: &str = "1.3.6.1.2.1.1.3.0";
const SNMP_TRAP_OID_0: &str = "1.3.6.1.6.3.1.1.4.1.0";
const SNMP_TRAPS: &str = "1.3.6.1.6.3.1.1.5";
const SNMP_TRAP_ADDRESS_0: &str = "1.3.6.1.6.3.18.1.3.0";
const SNMP_TRAP_COMMUNITY_0: &str = "1.3.6.1.6.3.18.1.4.0";
const SNMP_TRAP_ENTERPRISE_0: &str = "1.3.6.1.6.3.1.1.4.3.0";

fn well_known(text: &str) -> Oid {
    Oid::parse(text).expect("well-known OIDs are valid")
}

/// Who may send notifications: communities for v1/v2c, USM users for v3.
#[derive(Clone, Default)]
pub struct TrapSecurity {
    communities: Vec<Vec<u8>>,
    /// Only `communities` are accepted (none listed: v1/v2c refused), rather than any.
    communities_listed: bool,
    users: Vec<LocalizedKeys>,
    local_engine: Option<LocalEngine>,
}

/// This receiver's own SNMP engine, authoritative for the v3 informs it acknowledges.
#[derive(Clone, Debug)]
struct LocalEngine {
    engine_id: Vec<u8>,
    boots: u32,
    started_at: Instant,
}

impl LocalEngine {
    /// snmpEngineTime: seconds since this engine (re)started, latched at 2^31-1.
    fn time(&self) -> u32 {
        self.started_at
            .elapsed()
            .as_secs()
            .min(u64::from(MAX_ENGINE_BOOTS)) as u32
    }
}

impl fmt::Debug for TrapSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapSecurity")
            .field("communities", &self.communities.len())
            .field("communities_listed", &self.communities_listed)
            .field("users", &self.users)
            .field("local_engine", &self.local_engine)
            .finish()
    }
}

impl TrapSecurity {
    /// Accepts any community and no v3 user.
    pub fn new() -> TrapSecurity {
        TrapSecurity::default()
    }

    /// Restricts v1/v2c to the listed communities (once one is added, others are refused).
    pub fn with_community(mut self, community: impl Into<String>) -> TrapSecurity {
        self.communities.push(community.into().into_bytes());
        self.communities_listed = true;
        self
    }

    /// Accepts only the communities added with [`TrapSecurity::with_community`], even when
    /// there are none: then every v1/v2c notification is refused (a v3-only receiver).
    pub fn only_listed_communities(mut self) -> TrapSecurity {
        self.communities_listed = true;
        self
    }

    /// Knows a v3 user of the sending engine `engine_id` (as net-snmp's
    /// `createUser -e ENGINEID`). Localises the keys now: a megabyte of hashing per password.
    pub fn with_user(mut self, user: &UsmUser, engine_id: &[u8]) -> Result<TrapSecurity, Error> {
        if self.users.len() >= MAX_TRAP_USERS {
            return Err(Error::Configuration(format!(
                "au plus {MAX_TRAP_USERS} utilisateurs SNMPv3"
            )));
        }
        if engine_id.len() < 5 || engine_id.len() > crate::message::MAX_ENGINE_ID_LENGTH {
            return Err(Error::Configuration(
                "identifiant de moteur SNMPv3 de 5 à 32 octets attendu".to_string(),
            ));
        }
        self.users.push(user.master_keys()?.localize(engine_id));
        Ok(self)
    }

    /// Gives this receiver an snmpEngineID, so that it can acknowledge v3 informs. `boots`
    /// (snmpEngineBoots) must grow at every restart, or senders will see old times; keeping
    /// it is the caller's business. Users for informs are added with this same engine ID.
    pub fn with_local_engine(
        mut self,
        engine_id: &[u8],
        boots: u32,
    ) -> Result<TrapSecurity, Error> {
        if engine_id.len() < 5 || engine_id.len() > crate::message::MAX_ENGINE_ID_LENGTH {
            return Err(Error::Configuration(
                "identifiant de moteur SNMPv3 de 5 à 32 octets attendu".to_string(),
            ));
        }
        if boots == 0 || boots >= MAX_ENGINE_BOOTS {
            return Err(Error::Configuration(format!(
                "snmpEngineBoots entre 1 et {} attendu",
                MAX_ENGINE_BOOTS - 1
            )));
        }
        self.local_engine = Some(LocalEngine {
            engine_id: engine_id.to_vec(),
            boots,
            started_at: Instant::now(),
        });
        Ok(self)
    }

    /// The local snmpEngineID, when configured.
    pub fn local_engine_id(&self) -> Option<&[u8]> {
        self.local_engine
            .as_ref()
            .map(|engine| engine.engine_id.as_slice())
    }

    fn keys_for(&self, engine_id: &[u8], user_name: &[u8]) -> Result<&LocalizedKeys, Error> {
        let keys = self
            .users
            .iter()
            .find(|keys| keys.user_name().as_bytes() == user_name && keys.engine_id() == engine_id);
        keys.ok_or_else(|| {
            let name_known = self
                .users
                .iter()
                .any(|keys| keys.user_name().as_bytes() == user_name);
            if name_known {
                Error::UnknownSenderEngine {
                    user: String::from_utf8_lossy(user_name).into_owned(),
                    engine_id: format!("0x{}", hex_string(engine_id)),
                }
            } else {
                Error::UnknownUser(String::from_utf8_lossy(user_name).into_owned())
            }
        })
    }

    /// The local engine when `message` is addressed to it (we are authoritative).
    fn authoritative_for(&self, message: &V3Message) -> Option<&LocalEngine> {
        self.local_engine
            .as_ref()
            .filter(|engine| engine.engine_id == message.usm.engine_id)
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A notification in the SNMPv2 form, whatever version carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub version: Version,
    /// The community (v1, v2c) or USM user name (v3), lossily decoded as UTF-8.
    pub community_or_user: String,
    /// v1: agent-addr of the Trap-PDU. Others: none (the listener gives the UDP source).
    pub agent_address: Option<Ipv4Addr>,
    /// v3: the sender's snmpEngineID.
    pub engine_id: Option<Vec<u8>>,
    /// v3: the security level the message was sent with.
    pub security_level: Option<SecurityLevel>,
    /// snmpTrapOID.0 (derived per RFC 3584 for v1).
    pub trap_oid: Oid,
    /// sysUpTime.0 of the sender, hundredths of a second.
    pub uptime: u32,
    /// The bindings after sysUpTime.0 and snmpTrapOID.0 (for v1, the trap's bindings then
    /// snmpTrapAddress.0, snmpTrapCommunity.0 and snmpTrapEnterprise.0, per RFC 3584).
    pub varbinds: Vec<VarBind>,
    /// The request-id of an InformRequest, which must be acknowledged.
    pub inform_request_id: Option<i32>,
    raw_community: Vec<u8>,
    v3_origin: Option<V3Origin>,
}

/// What the acknowledgement of a v3 inform must echo.
#[derive(Clone, Debug, PartialEq, Eq)]
struct V3Origin {
    msg_id: i32,
    context_engine_id: Vec<u8>,
    context_name: Vec<u8>,
}

/// Parses one datagram as a notification, checking its community or USM security.
pub fn parse_notification(bytes: &[u8], security: &TrapSecurity) -> Result<Notification, Error> {
    let decoded = decode_message(bytes)?;
    match decoded.message {
        Message::Community(message) => {
            if security.communities_listed && !security.communities.contains(&message.community) {
                return Err(Error::UnknownCommunity(
                    String::from_utf8_lossy(&message.community).into_owned(),
                ));
            }
            let name = String::from_utf8_lossy(&message.community).into_owned();
            match message.pdu {
                PduBody::TrapV1(trap) => from_v1(trap, name, message.community),
                PduBody::Pdu(pdu) => {
                    from_v2(message.version, pdu, name, message.community, None, None)
                }
            }
        }
        Message::V3(message) => {
            let keys = security.keys_for(&message.usm.engine_id, &message.usm.user_name)?;
            let level = SecurityLevel::from_flags(message.flags);
            // A user configured with keys must use them: a lower level would let anyone forge.
            if level < keys.level() {
                return Err(Error::UnsupportedSecurityLevel);
            }
            let auth_offset = decoded.auth_offset.ok_or_else(|| {
                Error::malformed("position des paramètres d'authentification inconnue")
            })?;
            usm::authenticate(bytes, auth_offset, &message, Some(keys))?;
            if let Some(engine) = security.authoritative_for(&message) {
                check_authoritative_time_window(engine, &message, level)?;
            }
            let scoped = usm::decrypt_scoped(&message, Some(keys))?;
            let PduBody::Pdu(pdu) = scoped.pdu else {
                return Err(Error::malformed("Trap-PDU SNMPv1 dans un message SNMPv3"));
            };
            let mut notification = from_v2(
                Version::V3,
                pdu,
                String::from_utf8_lossy(&message.usm.user_name).into_owned(),
                message.usm.user_name.clone(),
                Some(message.usm.engine_id.clone()),
                Some(level),
            )?;
            notification.v3_origin = Some(V3Origin {
                msg_id: message.msg_id,
                context_engine_id: scoped.context_engine_id,
                context_name: scoped.context_name,
            });
            Ok(notification)
        }
    }
}

/// RFC 3414 3.2.7 a: on the authoritative side, an authenticated message must carry our
/// boots and a time within 150 seconds of ours.
fn check_authoritative_time_window(
    engine: &LocalEngine,
    message: &V3Message,
    level: SecurityLevel,
) -> Result<(), Error> {
    if level == SecurityLevel::NoAuthNoPriv {
        return Ok(());
    }
    let now = engine.time();
    let outside = engine.boots == MAX_ENGINE_BOOTS
        || message.usm.engine_boots != engine.boots
        || now.abs_diff(message.usm.engine_time) > TIME_WINDOW_SECONDS;
    if outside {
        return Err(Error::NotInTimeWindow);
    }
    Ok(())
}

/// RFC 3584 3.1: the v2 form of a v1 trap.
fn from_v1(trap: TrapV1Pdu, name: String, community: Vec<u8>) -> Result<Notification, Error> {
    let trap_oid = match trap.generic_trap {
        0..=5 => well_known(SNMP_TRAPS).child(&[trap.generic_trap as u32 + 1])?,
        6 => {
            let specific = u32::try_from(trap.specific_trap)
                .map_err(|_| Error::malformed("specific-trap négatif"))?;
            trap.enterprise.child(&[0, specific])?
        }
        other => return Err(Error::malformed(format!("generic-trap inconnu {other}"))),
    };
    let mut varbinds = trap.varbinds;
    varbinds.push(VarBind::new(
        well_known(SNMP_TRAP_ADDRESS_0),
        Value::IpAddress(trap.agent_address),
    ));
    varbinds.push(VarBind::new(
        well_known(SNMP_TRAP_COMMUNITY_0),
        Value::OctetString(community.clone()),
    ));
    varbinds.push(VarBind::new(
        well_known(SNMP_TRAP_ENTERPRISE_0),
        Value::ObjectIdentifier(trap.enterprise),
    ));
    Ok(Notification {
        version: Version::V1,
        community_or_user: name,
        agent_address: Some(trap.agent_address),
        engine_id: None,
        security_level: None,
        trap_oid,
        uptime: trap.time_stamp,
        varbinds,
        inform_request_id: None,
        raw_community: community,
        v3_origin: None,
    })
}

/// RFC 3416 4.2.6/4.2.7: the first two bindings are sysUpTime.0 and snmpTrapOID.0.
fn from_v2(
    version: Version,
    pdu: Pdu,
    name: String,
    raw_name: Vec<u8>,
    engine_id: Option<Vec<u8>>,
    security_level: Option<SecurityLevel>,
) -> Result<Notification, Error> {
    let inform_request_id = match pdu.kind {
        PduKind::SnmpV2Trap => None,
        PduKind::InformRequest => Some(pdu.request_id),
        other => {
            return Err(Error::malformed(format!(
                "PDU {other:?} reçue : pas une notification"
            )));
        }
    };
    let mut bindings = pdu.varbinds.into_iter();
    let uptime = match bindings.next() {
        Some(VarBind {
            oid,
            value: Value::TimeTicks(ticks),
        }) if oid == well_known(SYS_UP_TIME_0) => ticks,
        _ => {
            return Err(Error::malformed(
                "notification sans sysUpTime.0 en première variable",
            ));
        }
    };
    let trap_oid = match bindings.next() {
        Some(VarBind {
            oid,
            value: Value::ObjectIdentifier(trap_oid),
        }) if oid == well_known(SNMP_TRAP_OID_0) => trap_oid,
        _ => {
            return Err(Error::malformed(
                "notification sans snmpTrapOID.0 en deuxième variable",
            ));
        }
    };
    Ok(Notification {
        version,
        community_or_user: name,
        agent_address: None,
        engine_id,
        security_level,
        trap_oid,
        uptime,
        varbinds: bindings.collect(),
        inform_request_id,
        raw_community: raw_name,
        v3_origin: None,
    })
}

/// The Response that acknowledges an InformRequest (RFC 3416 4.2.7): same request-id, same
/// bindings. In v3 it is signed and encrypted as the inform was, from the local engine, which
/// must be configured (`TrapSecurity::with_local_engine`) and be the inform's addressee.
pub fn inform_response(
    notification: &Notification,
    security: &TrapSecurity,
) -> Result<Vec<u8>, Error> {
    let request_id = notification.inform_request_id.ok_or_else(|| {
        Error::Configuration("cette notification n'est pas un InformRequest".to_string())
    })?;
    let mut varbinds = vec![
        VarBind::new(
            well_known(SYS_UP_TIME_0),
            Value::TimeTicks(notification.uptime),
        ),
        VarBind::new(
            well_known(SNMP_TRAP_OID_0),
            Value::ObjectIdentifier(notification.trap_oid.clone()),
        ),
    ];
    varbinds.extend(notification.varbinds.iter().cloned());
    let pdu = PduBody::Pdu(Pdu {
        kind: PduKind::Response,
        request_id,
        error_status: 0,
        error_index: 0,
        varbinds,
    });
    match (notification.version, &notification.v3_origin) {
        (Version::V2c, _) => Ok(CommunityMessage {
            version: Version::V2c,
            community: notification.raw_community.clone(),
            pdu,
        }
        .encode()),
        (Version::V3, Some(origin)) => {
            let engine = security
                .local_engine
                .as_ref()
                .filter(|engine| {
                    notification.engine_id.as_deref() == Some(engine.engine_id.as_slice())
                })
                .ok_or(Error::UnknownEngineId)?;
            let keys = security.keys_for(&engine.engine_id, &notification.raw_community)?;
            let outgoing = OutgoingV3 {
                msg_id: origin.msg_id,
                max_size: MAX_MESSAGE_SIZE as i32,
                reportable: false,
                level: notification
                    .security_level
                    .unwrap_or(SecurityLevel::NoAuthNoPriv),
                engine_id: engine.engine_id.clone(),
                engine_boots: engine.boots,
                engine_time: engine.time(),
                salt: usm::random_u64(),
            };
            let scoped = ScopedPdu {
                context_engine_id: origin.context_engine_id.clone(),
                context_name: origin.context_name.clone(),
                pdu,
            };
            usm::wrap(&outgoing, &notification.raw_community, Some(keys), &scoped)
        }
        _ => Err(Error::Unsupported(
            "acquittement d'un InformRequest de cette version".to_string(),
        )),
    }
}

/// The Report an authoritative receiver owes for `bytes` instead of a notification
/// (RFC 3414 3.2.3 and 4: a discovery probe, or 3.2.7 a: an inform outside the time window),
/// given the refusal `parse_notification` returned. `None` when no Report is due.
pub fn report_for(bytes: &[u8], refusal: &Error, security: &TrapSecurity) -> Option<Vec<u8>> {
    let engine = security.local_engine.as_ref()?;
    let decoded = decode_message(bytes).ok()?;
    let Message::V3(message) = decoded.message else {
        return None;
    };
    if message.flags & FLAG_REPORTABLE == 0 {
        return None;
    }
    let request_id = match &message.data {
        crate::message::ScopedPduData::Plaintext(ScopedPdu {
            pdu: PduBody::Pdu(pdu),
            ..
        }) => pdu.request_id,
        _ => 0,
    };
    let known_engine = message.usm.engine_id == engine.engine_id
        || security
            .users
            .iter()
            .any(|keys| keys.engine_id() == message.usm.engine_id);
    let (counter, level, keys) = if !known_engine {
        (
            report_oid::UNKNOWN_ENGINE_IDS,
            SecurityLevel::NoAuthNoPriv,
            None,
        )
    } else if matches!(refusal, Error::NotInTimeWindow) {
        // Signed, so that the sender may trust the clock it carries.
        let keys = security
            .keys_for(&engine.engine_id, &message.usm.user_name)
            .ok()?;
        (
            report_oid::NOT_IN_TIME_WINDOWS,
            SecurityLevel::AuthNoPriv,
            Some(keys),
        )
    } else {
        return None;
    };
    let outgoing = OutgoingV3 {
        msg_id: message.msg_id,
        max_size: MAX_MESSAGE_SIZE as i32,
        reportable: false,
        level,
        engine_id: engine.engine_id.clone(),
        engine_boots: engine.boots,
        engine_time: engine.time(),
        salt: 0,
    };
    let scoped = ScopedPdu {
        context_engine_id: engine.engine_id.clone(),
        context_name: Vec::new(),
        pdu: PduBody::Pdu(Pdu {
            kind: PduKind::Report,
            request_id,
            error_status: 0,
            error_index: 0,
            varbinds: vec![VarBind::new(well_known(counter), Value::Counter32(1))],
        }),
    };
    usm::wrap(&outgoing, &message.usm.user_name, keys, &scoped).ok()
}

/// One received datagram: where it came from, and the notification or why it was refused.
pub type TrapItem = (SocketAddr, Result<Notification, Error>);

/// A UDP notification receiver: every datagram comes out, parsed or as an error with its
/// source; informs are acknowledged before being handed over. In v3, discovery probes and
/// out-of-window informs addressed to the local engine are answered with a Report and not
/// handed over (the sender then retries).
pub struct TrapListener {
    local_address: SocketAddr,
    receiver: mpsc::Receiver<TrapItem>,
    task: JoinHandle<()>,
}

impl fmt::Debug for TrapListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapListener")
            .field("local_address", &self.local_address)
            .finish_non_exhaustive()
    }
}

impl TrapListener {
    /// Binds `address` (port 0 picks a free port) and starts receiving.
    pub async fn bind(address: SocketAddr, security: TrapSecurity) -> Result<TrapListener, Error> {
        let socket = UdpSocket::bind(address).await?;
        let local_address = socket.local_addr()?;
        let (sender, receiver) = mpsc::channel(TRAP_CHANNEL_CAPACITY);
        let task = tokio::spawn(receive_loop(socket, local_address, security, sender));
        Ok(TrapListener {
            local_address,
            receiver,
            task,
        })
    }

    pub fn local_address(&self) -> SocketAddr {
        self.local_address
    }

    /// The next datagram's outcome; `None` once the receiving task has stopped.
    pub async fn next(&mut self) -> Option<TrapItem> {
        self.receiver.recv().await
    }
}

impl Drop for TrapListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive_loop(
    socket: UdpSocket,
    local_address: SocketAddr,
    security: TrapSecurity,
    sender: mpsc::Sender<TrapItem>,
) {
    let mut buffer = vec![0u8; MAX_MESSAGE_SIZE + 1];
    loop {
        let item = match socket.recv_from(&mut buffer).await {
            Ok((length, source)) if length > MAX_MESSAGE_SIZE => (
                source,
                Err(Error::malformed(format!(
                    "datagramme de plus de {MAX_MESSAGE_SIZE} octets"
                ))),
            ),
            Ok((length, source)) => {
                let datagram = &buffer[..length];
                let outcome = match parse_notification(datagram, &security) {
                    Ok(notification) if notification.inform_request_id.is_some() => {
                        acknowledge(&socket, source, notification, &security).await
                    }
                    Err(refusal) => match report_for(datagram, &refusal, &security) {
                        // A discovery probe or an out-of-window inform is a protocol step,
                        // answered here: the sender retries with what the Report taught it.
                        Some(report) => match socket.send_to(&report, source).await {
                            Ok(_) => continue,
                            Err(error) => Err(Error::Io(error)),
                        },
                        None => Err(refusal),
                    },
                    other => other,
                };
                (source, outcome)
            }
            Err(error) => {
                tokio::time::sleep(SOCKET_ERROR_PAUSE).await;
                (local_address, Err(Error::Io(error)))
            }
        };
        if sender.send(item).await.is_err() {
            return;
        }
    }
}

/// Sends the Response to an inform; when that is impossible the caller gets the error
/// (the sender will retransmit), not a notification that looks acknowledged.
async fn acknowledge(
    socket: &UdpSocket,
    source: SocketAddr,
    notification: Notification,
    security: &TrapSecurity,
) -> Result<Notification, Error> {
    let response = inform_response(&notification, security)?;
    socket.send_to(&response, source).await?;
    Ok(notification)
}
