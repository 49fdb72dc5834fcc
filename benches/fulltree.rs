//! Full-tree GetParameterValues on `board/linux.toml` (issue: data-model engine budget):
//! parameters, median time, time per 1,000 parameters, and RSS after loading.
//!
//! Run: `cargo bench --bench fulltree` (release profile). Not a timed test: figures go to
//! BENCHMARKS.md.

use std::time::{Duration, Instant};

use cwmpd::config::Config;
use cwmpd::device::Device;

mod common;
use common::proc_status;

fn rss_kib() -> u64 {
    proc_status("self", "VmRSS:")
}

fn rss_split() -> String {
    format!(
        "{} KiB (heap/anon {} KiB, code/file {} KiB)",
        rss_kib(),
        proc_status("self", "RssAnon:"),
        proc_status("self", "RssFile:")
    )
}

fn main() {
    let rss_start = rss_split();
    let state = std::env::temp_dir().join(format!("cwmpd-bench-{}", std::process::id()));
    let text = format!(
        "[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{}/board/linux.toml\"\nstate_dir = \"{}\"\n",
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_MANIFEST_DIR"),
        state.display()
    );
    let cfg = Config::parse(&text, "bench", std::path::Path::new(".")).expect("config");
    let t = Instant::now();
    let mut dev = Device::open(&cfg).expect("open");
    let load = t.elapsed();
    let rss_loaded = rss_split();
    let mut times: Vec<Duration> = Vec::new();
    let mut n = 0;
    for _ in 0..51 {
        let t = Instant::now();
        let v = dev.model.get_values(&["Device."]).expect("get");
        times.push(t.elapsed());
        n = v.len();
    }
    let rss_after = rss_split();

    // Value-change check: every parameter passive (forceEnabled ones stay active).
    let names: Vec<String> = dev
        .model
        .get_names("Device.", false)
        .expect("names")
        .into_iter()
        .filter(|n| !n.name.ends_with('.'))
        .map(|n| n.name)
        .collect();
    for n in &names {
        let _ = dev.model.set_attributes(&[cwmpd::model::AttributeChange {
            name: n.clone(),
            notification: Some(1),
            access_list: None,
        }]);
    }
    let mut check: Vec<Duration> = Vec::new();
    let mut watched = 0;
    for _ in 0..21 {
        let t = Instant::now();
        watched = dev.model.notified().expect("notified").len();
        check.push(t.elapsed());
    }
    check.sort();
    let check_median = check[check.len() / 2];
    times.sort();
    let median = times[times.len() / 2];
    let per_1000 = median.as_secs_f64() * 1000.0 / n as f64 * 1000.0;
    println!("parameters:           {n}");
    println!(
        "load (board+schema):  {:.2} ms",
        load.as_secs_f64() * 1000.0
    );
    println!(
        "full-tree get median: {:.2} ms (min {:.2}, max {:.2}) over {} runs",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0,
        times.len()
    );
    println!("per 1,000 parameters: {per_1000:.2} ms");
    println!(
        "value-change check:   {watched} watched parameters, median {:.2} ms, {:.2} ms per 1,000",
        check_median.as_secs_f64() * 1000.0,
        check_median.as_secs_f64() * 1000.0 / watched as f64 * 1000.0
    );
    println!("RSS at start:          {rss_start}");
    println!("RSS after loading:     {rss_loaded}");
    println!("RSS after 51 full gets: {rss_after}");
    let _ = std::fs::remove_dir_all(&state);
}
