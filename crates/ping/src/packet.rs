//! ICMPv4 echo messages: the request we send, the reply we read back from a raw socket.
//!
//! Pure functions over bytes, no IO. On a raw IPv4 socket the kernel hands us the whole IP
//! datagram, so the parser first walks the IPv4 header (its length is in IHL, options included).
//! Anything that is not a well-formed, checksum-correct echo reply gives `None`: the receive loop
//! ignores it, it never panics on what the network sends.

use std::net::Ipv4Addr;

/// Length of the ICMP echo header: type, code, checksum, identifier, sequence.
pub const ICMP_HEADER_LEN: usize = 8;
/// ICMP type of an echo request.
pub const ECHO_REQUEST: u8 = 8;
/// ICMP type of an echo reply.
pub const ECHO_REPLY: u8 = 0;
/// Smallest legal IPv4 header (IHL = 5 words).
pub const IPV4_HEADER_MIN_LEN: usize = 20;
/// IP protocol number of ICMP.
const PROTOCOL_ICMP: u8 = 1;

/// Internet checksum (RFC 1071): one's complement of the one's complement sum of 16-bit words.
///
/// A message whose checksum field is correct sums to zero, which is how replies are checked.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(u16::from_be_bytes([*last, 0]));
    }
    // Fold the carries back in; two folds are enough for any input below 128 KiB, the loop
    // makes it right for every length.
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes an echo request into `message` (cleared first, so one buffer serves every probe
/// without allocating once it has grown to the payload size).
pub fn write_echo_request(message: &mut Vec<u8>, identifier: u16, sequence: u16, payload: &[u8]) {
    message.clear();
    message.extend_from_slice(&[ECHO_REQUEST, 0, 0, 0]);
    message.extend_from_slice(&identifier.to_be_bytes());
    message.extend_from_slice(&sequence.to_be_bytes());
    message.extend_from_slice(payload);
    let sum = checksum(message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// An echo reply as read from a raw socket, borrowed from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply<'a> {
    /// Who answered: the source address of the IP header.
    pub source: Ipv4Addr,
    pub identifier: u16,
    pub sequence: u16,
    /// The echoed data, which carries our probe stamp when the reply is ours.
    pub payload: &'a [u8],
}

/// Reads an IPv4 datagram holding an ICMP echo reply; `None` for anything else.
///
/// Refused: short or truncated datagrams, a version other than 4, an IHL below 5, fragments,
/// another protocol, another ICMP type or code, a wrong ICMP checksum.
pub fn parse_echo_reply(datagram: &[u8]) -> Option<EchoReply<'_>> {
    if datagram.len() < IPV4_HEADER_MIN_LEN {
        return None;
    }
    let version = datagram[0] >> 4;
    let header_len = usize::from(datagram[0] & 0x0f) * 4;
    if version != 4 || header_len < IPV4_HEADER_MIN_LEN {
        return None;
    }
    // Linux gives raw sockets the total length as it was on the wire. Trust it only to trim
    // padding; a datagram shorter than it claims was truncated and is refused.
    let total_len = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    if total_len > datagram.len() || total_len < header_len + ICMP_HEADER_LEN {
        return None;
    }
    let flags_and_offset = u16::from_be_bytes([datagram[6], datagram[7]]);
    let more_fragments = flags_and_offset & 0x2000 != 0;
    let fragment_offset = flags_and_offset & 0x1fff;
    if more_fragments || fragment_offset != 0 {
        return None;
    }
    if datagram[9] != PROTOCOL_ICMP {
        return None;
    }
    let source = Ipv4Addr::new(datagram[12], datagram[13], datagram[14], datagram[15]);
    let message = &datagram[header_len..total_len];
    if message[0] != ECHO_REPLY || message[1] != 0 || checksum(message) != 0 {
        return None;
    }
    Some(EchoReply {
        source,
        identifier: u16::from_be_bytes([message[4], message[5]]),
        sequence: u16::from_be_bytes([message[6], message[7]]),
        payload: &message[ICMP_HEADER_LEN..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Wraps an ICMP message in an IPv4 header the way the kernel hands it to a raw socket;
    /// `options` words make the IHL larger than 5.
    fn ipv4_datagram(source: Ipv4Addr, options: &[u8], message: &[u8]) -> Vec<u8> {
        assert_eq!(options.len() % 4, 0);
        let header_len = IPV4_HEADER_MIN_LEN + options.len();
        let total_len = (header_len + message.len()) as u16;
        let mut datagram = vec![0x40 | (header_len / 4) as u8, 0];
        datagram.extend_from_slice(&total_len.to_be_bytes());
        datagram.extend_from_slice(&[0, 0, 0x40, 0, 64, PROTOCOL_ICMP, 0, 0]);
        datagram.extend_from_slice(&source.octets());
        datagram.extend_from_slice(&[10, 0, 0, 1]);
        datagram.extend_from_slice(options);
        let header_sum = checksum(&datagram);
        datagram[10..12].copy_from_slice(&header_sum.to_be_bytes());
        datagram.extend_from_slice(message);
        datagram
    }

    /// Turns our request into the reply a host would send: type 0, checksum recomputed.
    fn as_reply(request: &[u8]) -> Vec<u8> {
        let mut reply = request.to_vec();
        reply[0] = ECHO_REPLY;
        reply[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum(&reply);
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
        reply
    }

    #[test]
    fn checksum_matches_rfc_1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2, complement 220d.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        assert_eq!(checksum(&[]), 0xffff);
        // An odd length is padded with a zero byte.
        assert_eq!(checksum(&[0x01]), !0x0100);
    }

    #[test]
    fn request_carries_identifier_sequence_and_a_valid_checksum() {
        let mut message = Vec::new();
        write_echo_request(&mut message, 0xbeef, 0x0102, b"abc");
        assert_eq!(&message[..2], &[ECHO_REQUEST, 0]);
        assert_eq!(&message[4..8], &[0xbe, 0xef, 0x01, 0x02]);
        assert_eq!(&message[8..], b"abc");
        assert_eq!(checksum(&message), 0);
    }

    #[test]
    fn reply_is_read_after_an_ip_header_with_options() {
        let mut request = Vec::new();
        write_echo_request(&mut request, 7, 9, b"payload");
        let source = Ipv4Addr::new(10, 77, 1, 2);
        for options in [&[][..], &[1, 1, 1, 0][..], &[1; 40][..]] {
            let datagram = ipv4_datagram(source, options, &as_reply(&request));
            let reply = parse_echo_reply(&datagram).expect("réponse attendue");
            assert_eq!(reply.source, source);
            assert_eq!((reply.identifier, reply.sequence), (7, 9));
            assert_eq!(reply.payload, b"payload");
        }
    }

    #[test]
    fn padding_after_the_total_length_is_trimmed() {
        let mut request = Vec::new();
        write_echo_request(&mut request, 1, 2, b"xy");
        let mut datagram = ipv4_datagram(Ipv4Addr::LOCALHOST, &[], &as_reply(&request));
        datagram.extend_from_slice(&[0; 6]);
        assert_eq!(
            parse_echo_reply(&datagram).map(|r| r.payload),
            Some(&b"xy"[..])
        );
    }

    #[test]
    fn malformed_or_foreign_datagrams_are_refused() {
        let mut request = Vec::new();
        write_echo_request(&mut request, 1, 2, b"data");
        let reply = as_reply(&request);
        let good = ipv4_datagram(Ipv4Addr::LOCALHOST, &[], &reply);
        assert!(parse_echo_reply(&good).is_some());

        // Our own request looped back (local routes deliver it to raw sockets too).
        assert!(parse_echo_reply(&ipv4_datagram(Ipv4Addr::LOCALHOST, &[], &request)).is_none());
        // Truncated anywhere.
        for len in 0..good.len() {
            assert!(parse_echo_reply(&good[..len]).is_none(), "tronqué à {len}");
        }
        // Bad ICMP checksum.
        let mut corrupted = good.clone();
        *corrupted.last_mut().unwrap() ^= 0xff;
        assert!(parse_echo_reply(&corrupted).is_none());
        // IHL below 5, IPv6 version, another protocol, a fragment, a nonzero code.
        let mut variants = Vec::new();
        for (index, value) in [(0, 0x44), (0, 0x65), (9, 17), (6, 0x20), (21, 1)] {
            let mut variant = good.clone();
            variant[index] = value;
            variants.push(variant);
        }
        for variant in variants {
            assert!(parse_echo_reply(&variant).is_none(), "{variant:?}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_echo_reply(&bytes);
        }

        #[test]
        fn parser_never_panics_on_mutated_replies(
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            index in any::<usize>(),
            value in any::<u8>(),
            cut in any::<usize>(),
        ) {
            let mut request = Vec::new();
            write_echo_request(&mut request, 3, 4, &payload);
            let mut datagram = ipv4_datagram(Ipv4Addr::LOCALHOST, &[], &as_reply(&request));
            let index = index % datagram.len();
            datagram[index] = value;
            datagram.truncate(cut % (datagram.len() + 1));
            let _ = parse_echo_reply(&datagram);
        }

        #[test]
        fn every_request_round_trips_through_the_parser(
            identifier in any::<u16>(),
            sequence in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut request = Vec::new();
            write_echo_request(&mut request, identifier, sequence, &payload);
            prop_assert_eq!(checksum(&request), 0);
            let datagram = ipv4_datagram(Ipv4Addr::new(172, 16, 0, 9), &[], &as_reply(&request));
            let reply = parse_echo_reply(&datagram).expect("réponse attendue");
            prop_assert_eq!(reply.identifier, identifier);
            prop_assert_eq!(reply.sequence, sequence);
            prop_assert_eq!(reply.payload, &payload[..]);
        }
    }
}
