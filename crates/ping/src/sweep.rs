//! One sweep: a sender loop on its own thread, the receiver loop on the caller's, and the
//! bounded in-flight table between them.
//!
//! Probe number `n` (0-based, one counter per sweep) goes to target `n % targets` in round
//! `n / targets`, with ICMP sequence `n as u16` and the stamp (token, `n`) at the start of its
//! payload: the sequence alone wraps after 65,536 probes, the stamp does not. The table holds
//! the send `Instant` of each probe still awaited, in slot `n % capacity`; the sender waits
//! rather than overwrite a slot whose probe can still be answered.

use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{SockAddr, Socket};

use crate::packet::{ICMP_HEADER_LEN, parse_echo_reply, write_echo_request};
use crate::{PingError, PingResult, SweepOptions};

/// Most targets in one sweep: the design load is 100,000, this leaves room for ten times that.
pub const MAX_TARGETS_PER_SWEEP: usize = 1 << 20;
/// Most probes per target in one sweep.
pub const MAX_COUNT_PER_TARGET: u32 = 100;
/// Longest timeout per probe.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest gap asked between two sends (1 packet per second): beyond it a sweep of the design
/// load would never end, and products of it could overflow.
pub const MAX_INTERVAL: Duration = Duration::from_secs(1);
/// Longest gap asked between two probes to the same target.
pub const MAX_ROUND_INTERVAL: Duration = Duration::from_secs(600);
/// Probes awaiting a reply at once; above the 100,000 targets of a full sweep at one probe
/// each, so such a sweep never waits for a free slot.
pub const IN_FLIGHT_CAPACITY: usize = 1 << 17;
/// Bytes of the stamp at the start of each payload: token (8) and probe number (4).
const STAMP_LEN: usize = 12;
/// Smallest payload: the stamp.
pub const MIN_PAYLOAD_SIZE: usize = STAMP_LEN;
/// Largest payload: a 1,500-byte MTU minus the IPv4 and ICMP headers, so probes are never
/// fragmented.
pub const MAX_PAYLOAD_SIZE: usize = 1500 - 20 - ICMP_HEADER_LEN;
/// Receive buffer for one datagram: the largest IPv4 header (60) plus the largest reply we
/// asked for. A longer datagram is cut, fails its checksum and is ignored.
const DATAGRAM_BUFFER_LEN: usize = 60 + ICMP_HEADER_LEN + MAX_PAYLOAD_SIZE;
/// After falling behind its schedule (a sleep lasting longer than asked), the sender catches up
/// at most this many sends back to back, so the rate limit also bounds bursts.
const SEND_BURST_MAX: u32 = 64;
/// Times a send refused for lack of kernel buffers (ENOBUFS) is tried again before the probe is
/// counted as lost.
const SEND_RETRIES_MAX: u32 = 5;
/// Pause before trying such a send again: long enough for the device queue to drain.
const SEND_RETRY_DELAY: Duration = Duration::from_millis(1);

/// A probe sent and not yet answered.
#[derive(Clone, Copy)]
struct Probe {
    number: u32,
    sent_at: Instant,
}

/// What the sender and the receiver share, behind one mutex.
struct InFlight {
    /// Slot `number % slots.len()` holds probe `number` while it is awaited.
    slots: Vec<Option<Probe>>,
    /// Set by the sender when it has sent its last probe: the receiver stops one timeout later.
    sending_finished_at: Option<Instant>,
    /// Set by the receiver when it fails: the sender stops.
    abandoned: bool,
}

/// Replies of one target, kept by the receiver loop.
#[derive(Clone, Copy, Default)]
struct Received {
    count: u32,
    rtt_min: Option<Duration>,
    rtt_max: Option<Duration>,
    rtt_sum: Duration,
}

/// Everything both loops read: the sweep's fixed parameters.
struct Plan<'a> {
    socket: &'a Socket,
    identifier: u16,
    token: u64,
    targets: &'a [Ipv4Addr],
    options: &'a SweepOptions,
    total_probes: u32,
}

impl Plan<'_> {
    fn target_index(&self, number: u32) -> usize {
        number as usize % self.targets.len()
    }
}

pub(crate) fn run(
    socket: &Socket,
    identifier: u16,
    token: u64,
    targets: &[Ipv4Addr],
    options: &SweepOptions,
) -> Result<Vec<PingResult>, PingError> {
    check(targets, options)?;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    // Fits: at most 2^20 targets times 100 probes.
    let total_probes = targets.len() as u32 * options.count;
    let plan = Plan {
        socket,
        identifier,
        token,
        targets,
        options,
        total_probes,
    };
    let in_flight = Mutex::new(InFlight {
        slots: vec![None; IN_FLIGHT_CAPACITY.min(total_probes as usize)],
        sending_finished_at: None,
        abandoned: false,
    });
    let (sent, received) = thread::scope(|scope| {
        let sender = scope.spawn(|| send_loop(&plan, &in_flight));
        let received = receive_loop(&plan, &in_flight);
        if received.is_err() {
            lock(&in_flight).abandoned = true;
        }
        let sent = sender
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (sent, received)
    });
    let received = received?;
    Ok(targets
        .iter()
        .zip(sent)
        .zip(received)
        .map(|((&target, sent), received)| PingResult {
            target,
            sent,
            received: received.count,
            rtt_min: received.rtt_min,
            rtt_avg: (received.count > 0).then(|| received.rtt_sum / received.count),
            rtt_max: received.rtt_max,
        })
        .collect())
}

fn check(targets: &[Ipv4Addr], options: &SweepOptions) -> Result<(), PingError> {
    if targets.len() > MAX_TARGETS_PER_SWEEP {
        return Err(PingError::TooManyTargets {
            targets: targets.len(),
            max: MAX_TARGETS_PER_SWEEP,
        });
    }
    if options.count == 0 || options.count > MAX_COUNT_PER_TARGET {
        return Err(PingError::CountOutOfRange {
            count: options.count,
            max: MAX_COUNT_PER_TARGET,
        });
    }
    if !(MIN_PAYLOAD_SIZE..=MAX_PAYLOAD_SIZE).contains(&options.payload_size) {
        return Err(PingError::PayloadSizeOutOfRange {
            size: options.payload_size,
            min: MIN_PAYLOAD_SIZE,
            max: MAX_PAYLOAD_SIZE,
        });
    }
    if options.timeout.is_zero() || options.timeout > MAX_TIMEOUT {
        return Err(PingError::TimeoutOutOfRange {
            timeout: options.timeout,
            max: MAX_TIMEOUT,
        });
    }
    if options.interval > MAX_INTERVAL {
        return Err(PingError::IntervalOutOfRange {
            interval: options.interval,
            max: MAX_INTERVAL,
        });
    }
    if options.round_interval > MAX_ROUND_INTERVAL {
        return Err(PingError::IntervalOutOfRange {
            interval: options.round_interval,
            max: MAX_ROUND_INTERVAL,
        });
    }
    Ok(())
}

/// A panic in one loop must not hide the other's results: the table stays usable.
fn lock(in_flight: &Mutex<InFlight>) -> MutexGuard<'_, InFlight> {
    in_flight.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends every probe at the pace the options allow; returns the probes sent per target.
fn send_loop(plan: &Plan<'_>, in_flight: &Mutex<InFlight>) -> Vec<u32> {
    let options = plan.options;
    let mut sent = vec![0_u32; plan.targets.len()];
    // One payload and one message buffer for the whole sweep: only the stamp changes.
    let mut payload: Vec<u8> = (0..options.payload_size).map(|i| i as u8).collect();
    payload[..8].copy_from_slice(&plan.token.to_be_bytes());
    let mut message = Vec::with_capacity(ICMP_HEADER_LEN + options.payload_size);
    let burst_allowance = options.interval * SEND_BURST_MAX;
    let start = Instant::now();
    let mut next_send = start;
    for number in 0..plan.total_probes {
        let target_index = plan.target_index(number);
        if target_index == 0 {
            let round = number / plan.targets.len() as u32;
            next_send = next_send.max(start + options.round_interval * round);
        }
        // Pace by a schedule rather than by sleeping `interval` after each send: sleeps last
        // longer than asked (timer slack), and the schedule makes the next sends catch up.
        let now = Instant::now();
        if now < next_send {
            thread::sleep(next_send - now);
        } else if let Some(earliest) = now.checked_sub(burst_allowance) {
            next_send = next_send.max(earliest);
        }
        next_send += options.interval;

        payload[8..STAMP_LEN].copy_from_slice(&number.to_be_bytes());
        write_echo_request(&mut message, plan.identifier, number as u16, &payload);
        let address = SockAddr::from(SocketAddrV4::new(plan.targets[target_index], 0));
        if !claim_slot(plan, in_flight, number) {
            break;
        }
        if send_with_retries(plan.socket, &message, &address).is_err() {
            // No route, refused by a firewall rule…: this probe is lost, the sweep goes on.
            free_slot(in_flight, number);
        }
        sent[target_index] += 1;
    }
    lock(in_flight).sending_finished_at = Some(Instant::now());
    sent
}

/// Records the probe as sent now, waiting first if its slot still holds a probe that can be
/// answered. False when the receiver has given up.
fn claim_slot(plan: &Plan<'_>, in_flight: &Mutex<InFlight>, number: u32) -> bool {
    loop {
        let wait = {
            let mut state = lock(in_flight);
            if state.abandoned {
                return false;
            }
            let capacity = state.slots.len();
            let slot = &mut state.slots[number as usize % capacity];
            let now = Instant::now();
            match *slot {
                Some(previous) if now < previous.sent_at + plan.options.timeout => {
                    previous.sent_at + plan.options.timeout - now
                }
                _ => {
                    // Read the clock under the lock, right before the send: the receiver
                    // cannot see the reply before the slot is filled.
                    *slot = Some(Probe {
                        number,
                        sent_at: Instant::now(),
                    });
                    return true;
                }
            }
        };
        thread::sleep(wait);
    }
}

fn free_slot(in_flight: &Mutex<InFlight>, number: u32) {
    let mut state = lock(in_flight);
    let capacity = state.slots.len();
    let slot = &mut state.slots[number as usize % capacity];
    if slot.is_some_and(|probe| probe.number == number) {
        *slot = None;
    }
}

fn send_with_retries(socket: &Socket, message: &[u8], address: &SockAddr) -> io::Result<()> {
    let mut retries = 0;
    loop {
        match socket.send_to(message, address) {
            Ok(_) => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error)
                if error.raw_os_error() == Some(nix::libc::ENOBUFS)
                    && retries < SEND_RETRIES_MAX =>
            {
                retries += 1;
                thread::sleep(SEND_RETRY_DELAY);
            }
            Err(error) => return Err(error),
        }
    }
}

/// Reads replies until every probe is answered or the last one has timed out.
fn receive_loop(plan: &Plan<'_>, in_flight: &Mutex<InFlight>) -> Result<Vec<Received>, PingError> {
    let mut received = vec![Received::default(); plan.targets.len()];
    // Probes whose fate is known: answered in time or late. When all are, the sweep ends early.
    let mut settled: u32 = 0;
    let mut buffer = [0_u8; DATAGRAM_BUFFER_LEN];
    let mut reader = plan.socket;
    loop {
        let read = reader.read(&mut buffer);
        // First thing after the read: this instant is the end of the round trip.
        let received_at = Instant::now();
        let number = match read {
            Ok(len) => our_probe_number(plan, &buffer[..len]),
            Err(error) => match error.kind() {
                // The poll interval passed, or a signal: look at the deadline.
                io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted => None,
                _ => return Err(PingError::Receive(error)),
            },
        };
        let mut state = lock(in_flight);
        if let Some(number) = number {
            let capacity = state.slots.len();
            let slot = &mut state.slots[number as usize % capacity];
            // Absent: a duplicate, or a reply so late that its slot was reused.
            if let Some(probe) = slot.take_if(|probe| probe.number == number) {
                let rtt = received_at.saturating_duration_since(probe.sent_at);
                if rtt <= plan.options.timeout {
                    record(&mut received[plan.target_index(number)], rtt);
                }
                settled += 1;
            }
        }
        if settled == plan.total_probes {
            break;
        }
        if state
            .sending_finished_at
            .is_some_and(|finished| received_at >= finished + plan.options.timeout)
        {
            break;
        }
    }
    Ok(received)
}

/// The probe number a datagram answers, if it is an echo reply to this sweep from the right
/// target; `None` for anything else.
fn our_probe_number(plan: &Plan<'_>, datagram: &[u8]) -> Option<u32> {
    let reply = parse_echo_reply(datagram)?;
    if reply.identifier != plan.identifier {
        return None;
    }
    let stamp = reply.payload.get(..STAMP_LEN)?;
    let token = u64::from_be_bytes(stamp[..8].try_into().ok()?);
    let number = u32::from_be_bytes(stamp[8..].try_into().ok()?);
    let ours = token == plan.token
        && number < plan.total_probes
        && number as u16 == reply.sequence
        && plan.targets[plan.target_index(number)] == reply.source;
    ours.then_some(number)
}

fn record(received: &mut Received, rtt: Duration) {
    received.count += 1;
    received.rtt_sum += rtt;
    received.rtt_min = Some(received.rtt_min.map_or(rtt, |min| min.min(rtt)));
    received.rtt_max = Some(received.rtt_max.map_or(rtt, |max| max.max(rtt)));
}
