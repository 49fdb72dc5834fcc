//! TraceRoute: ICMP echo requests with TTL (hop limit) 1, 2, … MaxHopCount, NumberOfTries per
//! hop; routers answer Time Exceeded, the host answers the echo. Needs a raw socket (the
//! kernel does not pass Time Exceeded to unprivileged ICMP sockets).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::icmp::Answer;
use super::socket::{self, Prober};
use super::{probe_id, resolve, DiagError, Hop, Target, TraceReport};

fn ms_up(d: Duration) -> u32 {
    u32::try_from(d.as_micros().div_ceil(1000))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// What one probe got.
enum Got {
    Reached(IpAddr, Duration),
    Router(IpAddr, Duration),
    Refused(IpAddr, Duration, u8),
    Nothing,
}

fn probe(p: &Prober, to: IpAddr, seq: u16, t: &Target) -> Result<Got, DiagError> {
    let sent = Instant::now();
    p.send(to, seq, usize::from(t.size))?;
    let until = sent + t.timeout;
    loop {
        let Some((from, answer)) = p.recv(until)? else {
            return Ok(Got::Nothing);
        };
        if answer.seq() != seq {
            continue;
        }
        return Ok(match answer {
            Answer::EchoReply { .. } if from == to => Got::Reached(from, sent.elapsed()),
            Answer::EchoReply { .. } => continue,
            Answer::TimeExceeded { .. } => Got::Router(from, sent.elapsed()),
            Answer::Unreachable { code, .. } => Got::Refused(from, sent.elapsed(), code),
        });
    }
}

/// Runs the test: the hops found, and why it stopped early, if it did.
pub fn run(t: &Target, tries: u32, max_hops: u8) -> (TraceReport, Option<DiagError>) {
    let mut report = TraceReport::default();
    let setup = (|| {
        let to = resolve(&t.host, t.protocol)?;
        let iface = t.interface.as_deref();
        let source = socket::source_for(to, iface)?;
        let p = Prober::open(to.is_ipv6(), t.dscp, iface, probe_id())?;
        if !p.is_raw() {
            return Err(DiagError::Internal(
                "TraceRoute needs a raw ICMP socket (run as root)".into(),
            ));
        }
        Ok((to, source, p))
    })();
    let (to, source, p) = match setup {
        Ok(x) => x,
        Err(e) => return (report, Some(e)),
    };
    report.source = Some(source);
    let tries = tries.clamp(1, 3);
    for ttl in 1..=max_hops.max(1) {
        if let Err(e) = p.set_ttl(ttl) {
            return (report, Some(e));
        }
        let mut hop = Hop::default();
        let mut reached = Vec::new();
        let mut refused = false;
        for k in 0..tries {
            let seq = (u16::from(ttl) << 2) | k as u16;
            let got = match probe(&p, to, seq, t) {
                Ok(g) => g,
                Err(e) => return (report, Some(e)),
            };
            let rtt = match got {
                Got::Reached(from, d) => {
                    hop.address = Some(from);
                    reached.push(ms_up(d));
                    ms_up(d)
                }
                Got::Router(from, d) => {
                    hop.address = Some(from);
                    ms_up(d)
                }
                Got::Refused(from, d, code) => {
                    hop.address = Some(from);
                    hop.error_code = u32::from(code);
                    refused = true;
                    ms_up(d)
                }
                Got::Nothing => 0,
            };
            hop.rtts_ms.push(rtt);
        }
        report.hops.push(hop);
        if !reached.is_empty() {
            let sum: u64 = reached.iter().map(|&r| u64::from(r)).sum();
            report.response_ms = u32::try_from(sum / reached.len() as u64).unwrap_or(u32::MAX);
            return (report, None);
        }
        if refused {
            return (
                report,
                Some(DiagError::NoRoute(format!("{to} unreachable at hop {ttl}"))),
            );
        }
    }
    (report, Some(DiagError::MaxHopCountExceeded))
}
