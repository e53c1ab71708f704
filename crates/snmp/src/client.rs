//! The async SNMP manager: GET, GETNEXT, GETBULK and walks over UDP, with v1/v2c
//! communities or v3 USM (engine discovery, time synchronisation, authPriv).
//!
//! One request at a time per `Client` (methods take `&mut self`): responses are matched by
//! request-id (and msgID in v3), and anything else that arrives (stray, late, forged or
//! malformed datagrams) is ignored until the attempt times out.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::ber::{MAX_MESSAGE_SIZE, MAX_VARBINDS, Oid, Pdu, PduBody, PduKind, VarBind};
use crate::error::Error;
use crate::message::{
    CommunityMessage, Message, ScopedPdu, UsmParameters, Version, decode_message,
};
use crate::usm::{
    self, LocalizedKeys, MAX_ENGINE_BOOTS, MasterKeys, OutgoingV3, SecurityLevel,
    TIME_WINDOW_SECONDS, UsmUser,
};

/// Time to wait for a response to one attempt, unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest timeout accepted for one attempt.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// Retransmissions after the first attempt, unless configured.
pub const DEFAULT_RETRIES: u32 = 1;
/// Most retransmissions accepted.
pub const MAX_RETRIES: u32 = 5;
/// Most rows a walk collects before giving up (a looping agent must not exhaust memory).
pub const MAX_WALK_ROWS: usize = 100_000;
/// max-repetitions of the GETBULK requests of a walk.
pub const WALK_MAX_REPETITIONS: i32 = 25;
/// Times a v3 request is resent after the agent's clock or engine ID was relearnt.
const MAX_RESYNCHRONISATIONS: u32 = 1;
/// Receive buffer: one more than the largest message, so that an oversized one is noticed.
const RECEIVE_BUFFER_SIZE: usize = MAX_MESSAGE_SIZE + 1;

/// How the client proves who it is.
#[derive(Clone)]
pub enum Security {
    V1 { community: String },
    V2c { community: String },
    V3(UsmUser),
}

impl Security {
    pub fn v1(community: impl Into<String>) -> Security {
        Security::V1 {
            community: community.into(),
        }
    }

    pub fn v2c(community: impl Into<String>) -> Security {
        Security::V2c {
            community: community.into(),
        }
    }

    pub fn v3(user: UsmUser) -> Security {
        Security::V3(user)
    }
}

impl fmt::Debug for Security {
    // Communities are passwords in all but name: keep them out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Security::V1 { .. } => f.write_str("Security::V1 { community: <masquée> }"),
            Security::V2c { .. } => f.write_str("Security::V2c { community: <masquée> }"),
            Security::V3(user) => f.debug_tuple("Security::V3").field(user).finish(),
        }
    }
}

/// What the client knows of the authoritative engine (the agent) in v3.
struct EngineState {
    keys: LocalizedKeys,
    boots: u32,
    time: u32,
    synchronised_at: Instant,
    latest_received_time: u32,
}

impl EngineState {
    /// Our estimate of the agent's snmpEngineTime now (RFC 3414 2.3).
    fn current_time(&self) -> u32 {
        let elapsed = self.synchronised_at.elapsed().as_secs();
        (u64::from(self.time) + elapsed).min(u64::from(MAX_ENGINE_BOOTS)) as u32
    }

    fn resynchronise(&mut self, boots: u32, time: u32) {
        self.boots = boots;
        self.time = time;
        self.latest_received_time = time;
        self.synchronised_at = Instant::now();
    }
}

/// An SNMP manager talking to one agent.
pub struct Client {
    socket: UdpSocket,
    target: SocketAddr,
    security: Security,
    timeout: Duration,
    retries: u32,
    next_id: i32,
    salt: u64,
    master_keys: Option<MasterKeys>,
    engine: Option<EngineState>,
    buffer: Vec<u8>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.target)
            .field("security", &self.security)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Binds a local UDP socket for `target`. For v3, the user's passwords are turned into
    /// keys here (a megabyte of hashing each), once.
    pub async fn new(target: SocketAddr, security: Security) -> Result<Client, Error> {
        let master_keys = match &security {
            Security::V3(user) => Some(user.master_keys()?),
            Security::V1 { community } | Security::V2c { community } => {
                if community.len() > crate::message::MAX_COMMUNITY_LENGTH {
                    return Err(Error::Configuration(
                        "communauté SNMP trop longue".to_string(),
                    ));
                }
                None
            }
        };
        let local: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0".parse().expect("valid address")
        } else {
            "[::]:0".parse().expect("valid address")
        };
        let socket = UdpSocket::bind(local).await?;
        // Connecting makes the kernel drop datagrams from any other address.
        socket.connect(target).await?;
        let first_id = (usm::random_u64() % (i32::MAX as u64 / 2)) as i32 + 1;
        Ok(Client {
            socket,
            target,
            security,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            next_id: first_id,
            salt: usm::random_u64(),
            master_keys,
            engine: None,
            buffer: vec![0; RECEIVE_BUFFER_SIZE],
        })
    }

    /// Sets the time to wait for each attempt (at most [`MAX_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Client, Error> {
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            return Err(Error::Configuration(format!(
                "délai SNMP entre 1 ms et {} s attendu",
                MAX_TIMEOUT.as_secs()
            )));
        }
        self.timeout = timeout;
        Ok(self)
    }

    /// Sets the number of retransmissions after the first attempt (at most [`MAX_RETRIES`]).
    pub fn with_retries(mut self, retries: u32) -> Result<Client, Error> {
        if retries > MAX_RETRIES {
            return Err(Error::Configuration(format!(
                "au plus {MAX_RETRIES} réémissions SNMP"
            )));
        }
        self.retries = retries;
        Ok(self)
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The agent's snmpEngineID, once discovered (v3 only).
    pub fn engine_id(&self) -> Option<&[u8]> {
        self.engine.as_ref().map(|engine| engine.keys.engine_id())
    }

    /// GET of the given instances.
    pub async fn get(&mut self, oids: &[Oid]) -> Result<Vec<VarBind>, Error> {
        self.request(PduKind::GetRequest, 0, 0, oids).await
    }

    /// GETNEXT: the instance following each given OID.
    pub async fn get_next(&mut self, oids: &[Oid]) -> Result<Vec<VarBind>, Error> {
        self.request(PduKind::GetNextRequest, 0, 0, oids).await
    }

    /// GETBULK (v2c and v3 only).
    pub async fn get_bulk(
        &mut self,
        non_repeaters: i32,
        max_repetitions: i32,
        oids: &[Oid],
    ) -> Result<Vec<VarBind>, Error> {
        if matches!(self.security, Security::V1 { .. }) {
            return Err(Error::Unsupported(
                "GETBULK n'existe pas en SNMPv1".to_string(),
            ));
        }
        let max_rows = MAX_VARBINDS as i32;
        if !(0..=max_rows).contains(&non_repeaters) || !(0..=max_rows).contains(&max_repetitions) {
            return Err(Error::Configuration(format!(
                "non-repeaters et max-repetitions entre 0 et {max_rows} attendus"
            )));
        }
        self.request(
            PduKind::GetBulkRequest,
            non_repeaters,
            max_repetitions,
            oids,
        )
        .await
    }

    /// Every instance under `root`, in order: GETBULK in v2c/v3, GETNEXT in v1. Stops at the
    /// end of the subtree or endOfMibView; fails on an OID that does not increase (a looping
    /// agent) or past [`MAX_WALK_ROWS`]. When `root` is itself an instance with nothing under
    /// it, returns that instance (as net-snmp's snmpwalk does).
    pub async fn walk(&mut self, root: &Oid) -> Result<Vec<VarBind>, Error> {
        let mut rows: Vec<VarBind> = Vec::new();
        let mut cursor = root.clone();
        'walk: loop {
            let batch = if matches!(self.security, Security::V1 { .. }) {
                match self.get_next(std::slice::from_ref(&cursor)).await {
                    // v1 signals the end of the MIB view with noSuchName.
                    Err(Error::ErrorStatus { status: 2, .. }) => break 'walk,
                    other => other?,
                }
            } else {
                self.get_bulk(0, WALK_MAX_REPETITIONS, std::slice::from_ref(&cursor))
                    .await?
            };
            if batch.is_empty() {
                break;
            }
            for varbind in batch {
                if varbind.value.is_exception() || !varbind.oid.starts_with(root) {
                    break 'walk;
                }
                if varbind.oid <= cursor {
                    return Err(Error::NonIncreasingOid {
                        previous: cursor,
                        next: varbind.oid,
                    });
                }
                if rows.len() >= MAX_WALK_ROWS {
                    return Err(Error::TooManyRows {
                        max_rows: MAX_WALK_ROWS,
                    });
                }
                cursor = varbind.oid.clone();
                rows.push(varbind);
            }
        }
        if rows.is_empty() {
            match self.get(std::slice::from_ref(root)).await {
                Ok(found) => rows.extend(found.into_iter().filter(|vb| !vb.value.is_exception())),
                Err(Error::ErrorStatus { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(rows)
    }

    fn next_id(&mut self) -> i32 {
        let id = self.next_id;
        // Stay positive: msgID must be 0..2^31-1 and some agents mishandle negative ids.
        self.next_id = if id == i32::MAX { 1 } else { id + 1 };
        id
    }

    async fn request(
        &mut self,
        kind: PduKind,
        error_status: i32,
        error_index: i32,
        oids: &[Oid],
    ) -> Result<Vec<VarBind>, Error> {
        if oids.len() > MAX_VARBINDS {
            return Err(Error::Configuration(format!(
                "au plus {MAX_VARBINDS} OID par requête SNMP"
            )));
        }
        let varbinds: Vec<VarBind> = oids.iter().cloned().map(VarBind::null).collect();
        let request_id = self.next_id();
        let pdu = Pdu {
            kind,
            request_id,
            error_status,
            error_index,
            varbinds,
        };
        let response = match &self.security {
            Security::V1 { community } => {
                self.community_request(Version::V1, community.clone(), pdu)
                    .await?
            }
            Security::V2c { community } => {
                self.community_request(Version::V2c, community.clone(), pdu)
                    .await?
            }
            Security::V3(_) => self.v3_request(pdu).await?,
        };
        if response.error_status != 0 {
            return Err(Error::ErrorStatus {
                status: response.error_status,
                index: response.error_index,
            });
        }
        Ok(response.varbinds)
    }

    async fn community_request(
        &mut self,
        version: Version,
        community: String,
        pdu: Pdu,
    ) -> Result<Pdu, Error> {
        let request_id = pdu.request_id;
        let packet = CommunityMessage {
            version,
            community: community.clone().into_bytes(),
            pdu: PduBody::Pdu(pdu),
        }
        .encode();
        check_request_size(&packet)?;
        let accept = |bytes: &[u8]| -> Option<Result<Pdu, Error>> {
            let Ok(decoded) = decode_message(bytes) else {
                return None;
            };
            match decoded.message {
                Message::Community(CommunityMessage {
                    version: answered_version,
                    community: answered_community,
                    pdu: PduBody::Pdu(response),
                }) if answered_version == version
                    && answered_community == community.as_bytes()
                    && response.kind == PduKind::Response
                    && response.request_id == request_id =>
                {
                    Some(Ok(response))
                }
                _ => None,
            }
        };
        exchange(
            &self.socket,
            &mut self.buffer,
            self.target,
            self.timeout,
            self.retries,
            &packet,
            accept,
        )
        .await
    }

    async fn v3_request(&mut self, pdu: Pdu) -> Result<Pdu, Error> {
        if self.engine.is_none() {
            self.discover().await?;
        }
        let mut resynchronisations = 0;
        loop {
            let outcome = self.v3_exchange(pdu.clone()).await;
            match outcome {
                Err(Error::NotInTimeWindow) | Err(Error::UnknownEngineId)
                    if resynchronisations < MAX_RESYNCHRONISATIONS =>
                {
                    resynchronisations += 1;
                    if matches!(outcome, Err(Error::UnknownEngineId)) {
                        self.discover().await?;
                    }
                    // NotInTimeWindow: v3_exchange already took the agent's clock from the
                    // authenticated Report.
                }
                other => return other,
            }
        }
    }

    /// RFC 3414 4: an unauthenticated, empty GET makes the agent reveal its snmpEngineID,
    /// boots and time in a Report.
    async fn discover(&mut self) -> Result<(), Error> {
        let msg_id = self.next_id();
        let request_id = self.next_id();
        let outgoing = OutgoingV3 {
            msg_id,
            max_size: MAX_MESSAGE_SIZE as i32,
            reportable: true,
            level: SecurityLevel::NoAuthNoPriv,
            engine_id: Vec::new(),
            engine_boots: 0,
            engine_time: 0,
            salt: 0,
        };
        let probe = ScopedPdu {
            context_engine_id: Vec::new(),
            context_name: Vec::new(),
            pdu: PduBody::Pdu(Pdu {
                kind: PduKind::GetRequest,
                request_id,
                error_status: 0,
                error_index: 0,
                varbinds: Vec::new(),
            }),
        };
        let packet = usm::wrap(&outgoing, b"", None, &probe)?;
        let accept = |bytes: &[u8]| -> Option<Result<UsmParameters, Error>> {
            match decode_message(bytes).ok()?.message {
                Message::V3(message)
                    if message.msg_id == msg_id && !message.usm.engine_id.is_empty() =>
                {
                    Some(Ok(message.usm))
                }
                _ => None,
            }
        };
        let parameters = exchange(
            &self.socket,
            &mut self.buffer,
            self.target,
            self.timeout,
            self.retries,
            &packet,
            accept,
        )
        .await?;
        let master_keys = self
            .master_keys
            .as_ref()
            .ok_or_else(|| Error::Configuration("clés SNMPv3 absentes".to_string()))?;
        self.engine = Some(EngineState {
            keys: master_keys.localize(&parameters.engine_id),
            boots: parameters.engine_boots,
            time: parameters.engine_time,
            synchronised_at: Instant::now(),
            latest_received_time: parameters.engine_time,
        });
        Ok(())
    }

    async fn v3_exchange(&mut self, pdu: Pdu) -> Result<Pdu, Error> {
        let Security::V3(user) = &self.security else {
            return Err(Error::Configuration("client SNMPv3 attendu".to_string()));
        };
        let level = user.level();
        let user_name = user.name().to_string();
        let msg_id = self.next_id();
        self.salt = self.salt.wrapping_add(1);
        let engine = self.engine.as_ref().ok_or(Error::UnknownEngineId)?;
        let request_id = pdu.request_id;
        let outgoing = OutgoingV3 {
            msg_id,
            max_size: MAX_MESSAGE_SIZE as i32,
            reportable: true,
            level,
            engine_id: engine.keys.engine_id().to_vec(),
            engine_boots: engine.boots,
            engine_time: engine.current_time(),
            salt: self.salt,
        };
        let scoped = ScopedPdu {
            context_engine_id: engine.keys.engine_id().to_vec(),
            context_name: Vec::new(),
            pdu: PduBody::Pdu(pdu),
        };
        let packet = usm::wrap(&outgoing, user_name.as_bytes(), Some(&engine.keys), &scoped)?;
        let keys = &engine.keys;
        let accept = |bytes: &[u8]| -> Option<Result<(Pdu, UsmParameters, SecurityLevel), Error>> {
            let decoded = decode_message(bytes).ok()?;
            let Message::V3(message) = decoded.message else {
                return None;
            };
            if message.msg_id != msg_id {
                return None;
            }
            let answered_level = SecurityLevel::from_flags(message.flags);
            let keys = if answered_level == SecurityLevel::NoAuthNoPriv {
                None
            } else {
                if message.usm.engine_id != keys.engine_id()
                    || message.usm.user_name != user_name.as_bytes()
                {
                    return None;
                }
                Some(keys)
            };
            // A datagram that fails its digest or decryption is forged or corrupt: ignored.
            let scoped = usm::unwrap(bytes, decoded.auth_offset?, &message, keys).ok()?;
            let PduBody::Pdu(answer) = scoped.pdu else {
                return None;
            };
            match answer.kind {
                PduKind::Response if answered_level == level && answer.request_id == request_id => {
                    Some(Ok((answer, message.usm, answered_level)))
                }
                PduKind::Report => Some(Ok((answer, message.usm, answered_level))),
                _ => None,
            }
        };
        let (answer, parameters, answered_level) = exchange(
            &self.socket,
            &mut self.buffer,
            self.target,
            self.timeout,
            self.retries,
            &packet,
            accept,
        )
        .await?;
        let engine = self.engine.as_mut().ok_or(Error::UnknownEngineId)?;
        let authenticated = answered_level >= SecurityLevel::AuthNoPriv;
        if answer.kind == PduKind::Report {
            let oid = answer
                .varbinds
                .first()
                .map(|varbind| varbind.oid.clone())
                .ok_or_else(|| Error::malformed("Report SNMPv3 sans variable"))?;
            let error = usm::report_error(&oid, &user_name);
            if matches!(error, Error::NotInTimeWindow) && authenticated {
                // RFC 3414 3.2.7 a: an authenticated notInTimeWindow Report carries the
                // agent's clock; take it so that the retry is in the window.
                engine.resynchronise(parameters.engine_boots, parameters.engine_time);
            }
            return Err(error);
        }
        if authenticated {
            check_time_window(engine, &parameters)?;
        }
        Ok(answer)
    }
}

/// RFC 3414 3.2.7 b, on the non-authoritative side: learn newer clocks, refuse old ones.
fn check_time_window(engine: &mut EngineState, parameters: &UsmParameters) -> Result<(), Error> {
    let boots = parameters.engine_boots;
    let time = parameters.engine_time;
    if boots > engine.boots || (boots == engine.boots && time > engine.latest_received_time) {
        engine.resynchronise(boots, time);
    }
    let outside = engine.boots == MAX_ENGINE_BOOTS
        || boots < engine.boots
        || (boots == engine.boots
            && engine.current_time() > time.saturating_add(TIME_WINDOW_SECONDS));
    if outside {
        return Err(Error::NotInTimeWindow);
    }
    Ok(())
}

fn check_request_size(packet: &[u8]) -> Result<(), Error> {
    if packet.len() > MAX_MESSAGE_SIZE {
        return Err(Error::Configuration("requête SNMP trop grande".to_string()));
    }
    Ok(())
}

/// Sends `packet` up to `1 + retries` times, each time waiting `timeout` for a datagram that
/// `accept` recognises; everything else is ignored.
async fn exchange<T>(
    socket: &UdpSocket,
    buffer: &mut [u8],
    target: SocketAddr,
    timeout: Duration,
    retries: u32,
    packet: &[u8],
    mut accept: impl FnMut(&[u8]) -> Option<Result<T, Error>>,
) -> Result<T, Error> {
    for _attempt in 0..=retries {
        socket.send(packet).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = match tokio::time::timeout_at(deadline, socket.recv(buffer)).await {
                Err(_elapsed) => break,
                Ok(received) => received,
            };
            match received {
                Ok(length) if length <= MAX_MESSAGE_SIZE => {
                    if let Some(outcome) = accept(&buffer[..length]) {
                        return outcome;
                    }
                }
                // Oversized datagrams are malformed: ignored like any other.
                Ok(_) => {}
                // An ICMP port unreachable from an earlier datagram: the agent may come back
                // within the attempts, so keep waiting rather than fail at once.
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Err(Error::Timeout {
        target,
        attempts: retries + 1,
        timeout,
    })
}
