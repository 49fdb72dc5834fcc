//! Measures loading the generated schema: time and resident-size growth for the whole
//! TR-181 model and for the files the Linux board uses.
//!
//! `cargo run --release --example schema_load [DATAMODEL_DIR [all|linux|device]]`
//! (Linux only: reads `VmRSS` from /proc/self/status).

use std::path::PathBuf;
use std::time::Instant;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datamodel"));
    let linux = [
        "DNS",
        "DeviceInfo",
        "Ethernet",
        "Hosts",
        "IP",
        "InterfaceStack",
        "ManagementServer",
        "Routing",
        "Time",
    ];
    let which = std::env::args().nth(2).unwrap_or_else(|| "all".into());
    let before = rss_kib();
    let t = Instant::now();
    let roots: Option<&[&str]> = match which.as_str() {
        "linux" => Some(&linux),
        "device" => Some(&[]),
        _ => None,
    };
    let schema = cwmpd::model::load::load(&dir, roots)?;
    let took = t.elapsed();
    let after = rss_kib();
    let (objects, params) = schema.counts();
    println!(
        "{which}: {objects} objects, {params} parameters in {:.1} ms; RSS {before} KiB -> {after} KiB (+{} KiB)",
        took.as_secs_f64() * 1e3,
        after.saturating_sub(before)
    );
    Ok(())
}
