//! ICMPv4 and ICMPv6 echo messages, and the answers a probe can get back: an echo reply, or
//! a Time Exceeded / Destination Unreachable that quotes our probe. Pure byte work: nothing
//! here does I/O, and parsing never panics, whatever it is given.

/// ICMPv4 types.
pub mod v4 {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const UNREACHABLE: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
}

/// ICMPv6 types.
pub mod v6 {
    /// Destination unreachable.
    pub const UNREACHABLE: u8 = 1;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
}

/// Bytes of the ICMP echo header.
pub const HEADER: usize = 8;

/// What came back for a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The target answered.
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// A router dropped the probe when its TTL / hop limit ran out.
    TimeExceeded {
        /// Identifier of the quoted probe.
        id: u16,
        /// Sequence number of the quoted probe.
        seq: u16,
    },
    /// A router or the target refused it.
    Unreachable {
        /// Identifier of the quoted probe.
        id: u16,
        /// Sequence number of the quoted probe.
        seq: u16,
        /// The ICMP code.
        code: u8,
    },
}

impl Answer {
    /// The sequence number it answers.
    pub fn seq(&self) -> u16 {
        match *self {
            Answer::EchoReply { seq, .. }
            | Answer::TimeExceeded { seq, .. }
            | Answer::Unreachable { seq, .. } => seq,
        }
    }

    /// The identifier it answers.
    pub fn id(&self) -> u16 {
        match *self {
            Answer::EchoReply { id, .. }
            | Answer::TimeExceeded { id, .. }
            | Answer::Unreachable { id, .. } => id,
        }
    }
}

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request with `size` payload bytes. The ICMPv4 checksum is filled in; for ICMPv6
/// the kernel computes it (it needs the addresses).
pub fn echo_request(ipv6: bool, id: u16, seq: u16, size: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(HEADER + size);
    p.push(if ipv6 {
        v6::ECHO_REQUEST
    } else {
        v4::ECHO_REQUEST
    });
    p.push(0);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend((0..size).map(|i| (i % 256) as u8));
    if !ipv6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Skips an IPv4 header (raw IPv4 sockets deliver it); `None` if it is not one.
pub fn strip_ipv4_header(packet: &[u8]) -> Option<&[u8]> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    packet.get(ihl..)
}

/// The probe an ICMP error quotes: the original IP header then our first 8 bytes.
fn quoted(ipv6: bool, inner: &[u8]) -> Option<(u16, u16)> {
    let icmp = if ipv6 {
        // Fixed 40-byte header; next header must be ICMPv6 (58).
        if inner.first()? >> 4 != 6 || *inner.get(6)? != 58 {
            return None;
        }
        inner.get(40..)?
    } else {
        if *inner.get(9)? != 1 {
            return None;
        }
        strip_ipv4_header(inner)?
    };
    let want = if ipv6 {
        v6::ECHO_REQUEST
    } else {
        v4::ECHO_REQUEST
    };
    if *icmp.first()? != want {
        return None;
    }
    Some((be16(icmp, 4)?, be16(icmp, 6)?))
}

/// Parses an ICMP message (without any IP header). Anything that is not an answer to an echo
/// request is `None`.
pub fn parse(ipv6: bool, msg: &[u8]) -> Option<Answer> {
    let ty = *msg.first()?;
    let code = *msg.get(1)?;
    let (reply, exceeded, unreachable) = if ipv6 {
        (v6::ECHO_REPLY, v6::TIME_EXCEEDED, v6::UNREACHABLE)
    } else {
        (v4::ECHO_REPLY, v4::TIME_EXCEEDED, v4::UNREACHABLE)
    };
    if ty == reply {
        return Some(Answer::EchoReply {
            id: be16(msg, 4)?,
            seq: be16(msg, 6)?,
        });
    }
    if ty == exceeded || ty == unreachable {
        let (id, seq) = quoted(ipv6, msg.get(8..)?)?;
        return Some(if ty == exceeded {
            Answer::TimeExceeded { id, seq }
        } else {
            Answer::Unreachable { id, seq, code }
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_header(proto: u8, payload: usize) -> Vec<u8> {
        let mut h = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        h[2..4].copy_from_slice(&((20 + payload) as u16).to_be_bytes());
        h
    }

    #[test]
    fn echo_requests_carry_id_seq_payload_and_a_valid_checksum() {
        let p = echo_request(false, 0xbeef, 0x0102, 5);
        assert_eq!(&p[..2], &[8, 0]);
        assert_eq!(&p[4..8], &[0xbe, 0xef, 0x01, 0x02], "network byte order");
        assert_eq!(&p[8..], &[0, 1, 2, 3, 4]);
        assert_eq!(checksum(&p), 0, "a correct checksum sums to zero");
        let q = echo_request(true, 7, 9, 0);
        assert_eq!(q, [128, 0, 0, 0, 0, 7, 0, 9]);
        // Odd lengths pad with a zero byte.
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn replies_and_quoted_errors_parse_for_both_families() {
        let mut reply = echo_request(false, 0x1234, 77, 3);
        reply[0] = v4::ECHO_REPLY;
        assert_eq!(
            parse(false, &reply),
            Some(Answer::EchoReply {
                id: 0x1234,
                seq: 77
            })
        );
        // A Time Exceeded quoting the IPv4 header and our first 8 bytes.
        let probe = echo_request(false, 0x1234, 78, 32);
        let mut te = vec![v4::TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
        te.extend(ipv4_header(1, probe.len()));
        te.extend_from_slice(&probe[..8]);
        assert_eq!(
            parse(false, &te),
            Some(Answer::TimeExceeded {
                id: 0x1234,
                seq: 78
            })
        );
        te[0] = v4::UNREACHABLE;
        te[1] = 1;
        assert_eq!(
            parse(false, &te),
            Some(Answer::Unreachable {
                id: 0x1234,
                seq: 78,
                code: 1
            })
        );
        // Raw IPv4 sockets deliver the outer header too.
        let mut outer = ipv4_header(1, reply.len());
        outer.extend(&reply);
        assert_eq!(strip_ipv4_header(&outer), Some(&reply[..]));
        // ICMPv6: a reply, and a Time Exceeded quoting the fixed header.
        let mut r6 = echo_request(true, 5, 6, 0);
        r6[0] = v6::ECHO_REPLY;
        assert_eq!(parse(true, &r6), Some(Answer::EchoReply { id: 5, seq: 6 }));
        let mut te6 = vec![v6::TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
        let mut h6 = vec![0x60, 0, 0, 0, 0, 8, 58, 1];
        h6.extend([0u8; 32]);
        te6.extend(h6);
        te6.extend(echo_request(true, 5, 7, 0));
        assert_eq!(
            parse(true, &te6),
            Some(Answer::TimeExceeded { id: 5, seq: 7 })
        );
    }

    #[test]
    fn foreign_truncated_and_garbage_input_is_none() {
        assert_eq!(parse(false, &[]), None);
        assert_eq!(parse(false, &[0]), None);
        assert_eq!(parse(false, &[0, 0, 0, 0, 0]), None, "reply cut short");
        assert_eq!(
            parse(false, &[8, 0, 0, 0, 0, 1, 0, 1]),
            None,
            "a request is no answer"
        );
        assert_eq!(
            parse(false, &[5, 0, 0, 0, 0, 0, 0, 0]),
            None,
            "redirect ignored"
        );
        // An error quoting a UDP packet (someone else's traceroute) is not ours.
        let mut te = vec![v4::TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
        te.extend(ipv4_header(17, 8));
        te.extend([0u8; 8]);
        assert_eq!(parse(false, &te), None);
        // Every prefix of a valid error, and every byte flipped: never a panic.
        let probe = echo_request(false, 1, 2, 0);
        let mut good = vec![v4::TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
        good.extend(ipv4_header(1, 8));
        good.extend(&probe);
        for n in 0..good.len() {
            let _ = parse(false, &good[..n]);
            let _ = parse(true, &good[..n]);
        }
        for i in 0..good.len() {
            let mut g = good.clone();
            g[i] ^= 0xff;
            let _ = parse(false, &g);
            let _ = strip_ipv4_header(&g);
        }
        assert_eq!(strip_ipv4_header(&[0x41, 0, 0]), None, "IHL below 5");
        assert_eq!(strip_ipv4_header(&[0x60]), None);
    }
}
