//! IPPing: NumberOfRepetitions echo requests, one at a time, each waiting up to Timeout for
//! its reply; success and failure counts and round-trip minimum, average and maximum.

use std::time::Instant;

use super::icmp::Answer;
use super::socket::{self, Prober};
use super::{probe_id, resolve, DiagError, PingReport, Target};

/// Most repetitions run (a test is bounded in time and memory).
pub const MAX_REPETITIONS: u32 = 10_000;

/// Runs the test.
pub fn run(t: &Target, repetitions: u32) -> Result<PingReport, DiagError> {
    if repetitions == 0 {
        return Err(DiagError::Internal("NumberOfRepetitions is 0".into()));
    }
    let to = resolve(&t.host, t.protocol)?;
    let iface = t.interface.as_deref();
    let source = socket::source_for(to, iface)?;
    let p = Prober::open(to.is_ipv6(), t.dscp, iface, probe_id())?;
    let mut report = PingReport {
        source: Some(source),
        ..Default::default()
    };
    let mut rtts: Vec<u32> = Vec::new();
    for i in 0..repetitions.min(MAX_REPETITIONS) {
        let seq = i as u16;
        let sent = Instant::now();
        let until = sent + t.timeout;
        match p.send(to, seq, usize::from(t.size)) {
            Ok(()) => {}
            Err(DiagError::NoRoute(_)) => {
                report.failure += 1;
                continue;
            }
            Err(e) => return Err(e),
        }
        let answered = loop {
            match p.recv(until)? {
                None => break None,
                Some((from, Answer::EchoReply { seq: s, .. })) if s == seq && from == to => {
                    break Some(sent.elapsed())
                }
                Some((_, Answer::Unreachable { seq: s, .. })) if s == seq => break None,
                Some(_) => continue,
            }
        };
        match answered {
            Some(d) => {
                report.success += 1;
                rtts.push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
            }
            None => report.failure += 1,
        }
    }
    if !rtts.is_empty() {
        report.min_us = rtts.iter().copied().min().unwrap_or(0);
        report.max_us = rtts.iter().copied().max().unwrap_or(0);
        let sum: u64 = rtts.iter().map(|&r| u64::from(r)).sum();
        report.avg_us = u32::try_from(sum / rtts.len() as u64).unwrap_or(u32::MAX);
    }
    Ok(report)
}
