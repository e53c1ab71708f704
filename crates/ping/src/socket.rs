//! Opening the one raw ICMPv4 socket a `Pinger` shares between all its targets.
//!
//! Raw sockets see every ICMP datagram the host receives, so the socket gets large buffers (a
//! sweep of 100,000 targets brings 100,000 replies within a second or two) and a kernel filter
//! that keeps only echo replies carrying our identifier.

use std::io;
use std::time::Duration;

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, SockFilter, Socket, Type};

use crate::PingError;

/// Receive buffer asked for: room for about 10,000 small replies (about 768 bytes of kernel
/// memory each) queued while the receiver loop is descheduled.
pub const RECEIVE_BUFFER_BYTES: usize = 8 * 1024 * 1024;
/// Send buffer asked for: the sender loop blocks rather than drops when it is full.
pub const SEND_BUFFER_BYTES: usize = 4 * 1024 * 1024;
/// How long a read waits before the receiver loop looks at its deadline again.
pub const RECEIVE_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Opens the raw socket. Needs root or CAP_NET_RAW; the error says so.
pub fn open_raw_icmp_socket(identifier: u16) -> Result<Socket, PingError> {
    let socket =
        Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).map_err(
            |error| match error.kind() {
                io::ErrorKind::PermissionDenied => PingError::PermissionDenied(error),
                _ => PingError::Socket(error),
            },
        )?;
    set_buffer_sizes(&socket).map_err(PingError::Socket)?;
    socket
        .set_read_timeout(Some(RECEIVE_POLL_INTERVAL))
        .map_err(PingError::Socket)?;
    // The filter only saves work: the parser and the in-flight table check every reply anyway,
    // so a kernel that refuses it (some sandboxes do) still gives correct results.
    let _ = socket.attach_filter(&echo_reply_filter(identifier));
    Ok(socket)
}

/// Asks for large buffers. The *_FORCE options go past net.core.{r,w}mem_max but need
/// CAP_NET_ADMIN; without it the plain options give what the system limit allows.
fn set_buffer_sizes(socket: &Socket) -> io::Result<()> {
    if setsockopt(socket, sockopt::RcvBufForce, &RECEIVE_BUFFER_BYTES).is_err() {
        socket.set_recv_buffer_size(RECEIVE_BUFFER_BYTES)?;
    }
    if setsockopt(socket, sockopt::SndBufForce, &SEND_BUFFER_BYTES).is_err() {
        socket.set_send_buffer_size(SEND_BUFFER_BYTES)?;
    }
    Ok(())
}

/// Classic BPF program, run by the kernel on each datagram (starting at its IPv4 header):
/// accept ICMP echo replies whose identifier is ours, drop everything else. Without it, a
/// local-route sweep would also read back each of its own requests, and a busy host would wake
/// the receiver loop for every other program's ICMP traffic.
fn echo_reply_filter(identifier: u16) -> [SockFilter; 7] {
    // Opcodes from linux/filter.h.
    const LDX_B_MSH: u16 = 0x01 | 0x10 | 0xa0; // X = 4 * (packet[k] & 0x0f): the IP header length
    const LD_B_IND: u16 = 0x10 | 0x40; // A = packet[X + k] (byte)
    const LD_H_IND: u16 = 0x08 | 0x40; // A = packet[X + k] (16 bits, network order)
    const JEQ_K: u16 = 0x05 | 0x10; // if A == k skip jt else skip jf
    const RET_K: u16 = 0x06; // keep k bytes (0 = drop)
    const KEEP_WHOLE_DATAGRAM: u32 = 0xffff;
    [
        SockFilter::new(LDX_B_MSH, 0, 0, 0),
        SockFilter::new(LD_B_IND, 0, 0, 0),
        SockFilter::new(JEQ_K, 0, 3, u32::from(crate::packet::ECHO_REPLY)),
        SockFilter::new(LD_H_IND, 0, 0, 4),
        SockFilter::new(JEQ_K, 0, 1, u32::from(identifier)),
        SockFilter::new(RET_K, 0, 0, KEEP_WHOLE_DATAGRAM),
        SockFilter::new(RET_K, 0, 0, 0),
    ]
}
