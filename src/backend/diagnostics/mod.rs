//! `diagnostics`: the parameters of the TR-181 IP diagnostics (`Device.IP.Diagnostics.IPPing.`,
//! `.TraceRoute.` and its `RouteHops.{i}.` table, `.DownloadDiagnostics.`,
//! `.UploadDiagnostics.`), held in memory. Writes are staged until
//! commit. TR-181 rules: only `Requested` (or `Canceled`) may be written to DiagnosticsState;
//! writing any other parameter of a test resets it to `None` and clears its results, except
//! when DiagnosticsState=Requested comes in the same SetParameterValues. The agent takes
//! requested tests with [`Diagnostics::requested`], runs them (`diag::run`) after the
//! session and hands back the outcome with [`Diagnostics::finish`]. The handler and the agent
//! share the tests through [`Diagnostics`], a handle the device hands to both (no downcast).
//!
//! Bindings: `{ handler = "diagnostics", test = "ipping", field = "Host", default = "" }`;
//! the hop table: `instances = { handler = "diagnostics", test = "traceroute", table =
//! "RouteHops" }` with `{ …, field = "RouteHops.Host", hop = "{hop}" }` below it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Instance};
use crate::codec::toml;
use crate::diag::{self, DiagError, Outcome, Protocol, Request, Target};

/// Tests this handler knows.
pub const TESTS: [&str; 4] = ["ipping", "traceroute", "download", "upload"];

/// Defaults for inputs the ACS has not set (TR-181 leaves them to the CPE).
const PING_REPETITIONS: u32 = 4;
const PING_TIMEOUT_MS: u64 = 1000;
const TRACE_TRIES: u32 = 3;
const TRACE_TIMEOUT_MS: u64 = 5000;
const TRACE_MAX_HOPS: u8 = 30;
const DATA_BLOCK_SIZE: u16 = 56;

#[derive(Debug, Clone, Default)]
struct Test {
    state: String,
    inputs: BTreeMap<String, String>,
    results: BTreeMap<String, String>,
    hops: Vec<BTreeMap<String, String>>,
    /// Requested and not yet handed to the agent.
    pending: bool,
    /// Bumped whenever a run's result must be dropped (inputs changed, canceled).
    generation: u64,
}

impl Test {
    fn reset(&mut self, state: &str) {
        self.state = state.to_string();
        self.results.clear();
        self.hops.clear();
        self.pending = false;
        self.generation += 1;
    }
}

/// The tests: their inputs, state and results. Clones share them: the device gives one to
/// the handler (the ACS's reads and writes) and one to the agent (which runs what was
/// requested and hands back outcomes), on the loop's one thread.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    tests: Rc<RefCell<BTreeMap<String, Box<Test>>>>,
}

/// The `diagnostics` handler: serves the parameters from the shared tests, staging writes
/// until commit.
#[derive(Debug, Default)]
pub struct Handler {
    tests: Diagnostics,
    staged: Vec<(String, String, String)>,
}

impl Handler {
    /// A handler serving these tests.
    pub fn new(tests: Diagnostics) -> Handler {
        Handler {
            tests,
            staged: Vec::new(),
        }
    }
}

fn test_name(args: &Args) -> Result<&str, BackendError> {
    let t = args.str("test")?;
    if TESTS.contains(&t) {
        Ok(t)
    } else {
        Err(BackendError::BadArgs(format!("unknown test {t:?}")))
    }
}

/// A test ready to run: its name, the generation its result must match, and the request (or
/// why its inputs cannot make one).
pub type Requested = (String, u64, Result<Request, DiagError>);

impl Diagnostics {
    /// Runs `f` on a test (created in state None on first use).
    fn with<R>(&self, name: &str, f: impl FnOnce(&mut Test) -> R) -> R {
        let mut tests = self.tests.borrow_mut();
        let t = tests.entry(name.to_string()).or_insert_with(|| {
            Box::new(Test {
                state: "None".into(),
                ..Default::default()
            })
        });
        f(t)
    }

    /// True when a requested test waits to be started.
    pub fn has_pending(&self) -> bool {
        self.tests.borrow().values().any(|t| t.pending)
    }

    /// Tests requested since the last call, with their inputs parsed. `interface` maps an
    /// Interface reference (`Device.IP.Interface.2`) to a Linux interface name.
    pub fn requested(&self, interface: impl Fn(&str) -> Option<String>) -> Vec<Requested> {
        let mut out = Vec::new();
        let mut tests = self.tests.borrow_mut();
        for (name, t) in tests.iter_mut().filter(|(_, t)| t.pending) {
            t.pending = false;
            out.push((
                name.clone(),
                t.generation,
                request(name, &t.inputs, &interface),
            ));
        }
        out
    }

    /// Stores a finished test's results and state. Returns false when the result is stale
    /// (the ACS changed or canceled the test meanwhile): it is dropped.
    pub fn finish(&self, name: &str, generation: u64, outcome: Result<Outcome, DiagError>) -> bool {
        self.with(name, |t| finish(t, name, generation, outcome))
    }

    /// The DiagnosticsState of a test (tests, logs).
    pub fn state(&self, name: &str) -> String {
        self.tests
            .borrow()
            .get(name)
            .map_or("None".to_string(), |t| t.state.clone())
    }
}

/// Stores a finished test's results and state (see [`Diagnostics::finish`]).
fn finish(t: &mut Test, name: &str, generation: u64, outcome: Result<Outcome, DiagError>) -> bool {
    if t.generation != generation || t.state != "Requested" {
        return false;
    }
    t.results.clear();
    t.hops.clear();
    let ip = |a: Option<std::net::IpAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let error = match outcome {
        Err(e) => Some(e),
        Ok(Outcome::Ping(Err(e))) => Some(e),
        Ok(Outcome::Ping(Ok(r))) => {
            let ms = |us: u32| (us.div_ceil(1000)).to_string();
            for (k, v) in [
                ("IPAddressUsed", ip(r.source)),
                ("SuccessCount", r.success.to_string()),
                ("FailureCount", r.failure.to_string()),
                ("AverageResponseTime", ms(r.avg_us)),
                ("MinimumResponseTime", ms(r.min_us)),
                ("MaximumResponseTime", ms(r.max_us)),
                ("AverageResponseTimeDetailed", r.avg_us.to_string()),
                ("MinimumResponseTimeDetailed", r.min_us.to_string()),
                ("MaximumResponseTimeDetailed", r.max_us.to_string()),
            ] {
                t.results.insert(k.into(), v);
            }
            None
        }
        Ok(Outcome::Download(Err(e)) | Outcome::Upload(Err(e))) => Some(e),
        Ok(Outcome::Download(Ok(r))) => {
            http_results(&mut t.results, &r, "Received");
            None
        }
        Ok(Outcome::Upload(Ok(r))) => {
            http_results(&mut t.results, &r, "Sent");
            None
        }
        Ok(Outcome::Trace(r, e)) => {
            t.results.insert("IPAddressUsed".into(), ip(r.source));
            t.results
                .insert("ResponseTime".into(), r.response_ms.to_string());
            for h in r.hops {
                let addr = ip(h.address);
                let rtts: Vec<String> = h.rtts_ms.iter().map(u32::to_string).collect();
                t.hops.push(BTreeMap::from([
                    ("Host".to_string(), addr.clone()),
                    ("HostAddress".to_string(), addr),
                    ("ErrorCode".to_string(), h.error_code.to_string()),
                    ("RTTimes".to_string(), rtts.join(",")),
                ]));
            }
            e
        }
    };
    t.state = match &error {
        None => "Complete".to_string(),
        Some(e) => {
            log::warn!("diagnostics: {name}: {e}");
            e.state().to_string()
        }
    };
    true
}

/// The results of a download (`TestBytesReceived…`) or upload (`TestBytesSent…`).
fn http_results(results: &mut BTreeMap<String, String>, r: &diag::http::HttpReport, test: &str) {
    let time = crate::codec::datetime::format_utc_micros;
    let full_us = r
        .eom
        .duration_since(r.bom)
        .unwrap_or_default()
        .as_micros()
        .min(u128::from(u32::MAX));
    let ip = r.source.map(|a| a.to_string()).unwrap_or_default();
    for (k, v) in [
        ("IPAddressUsed".to_string(), ip),
        ("TCPOpenRequestTime".into(), time(r.tcp_open_request)),
        ("TCPOpenResponseTime".into(), time(r.tcp_open_response)),
        ("ROMTime".into(), time(r.rom)),
        ("BOMTime".into(), time(r.bom)),
        ("EOMTime".into(), time(r.eom)),
        (format!("TestBytes{test}"), r.test_bytes.to_string()),
        ("TotalBytesReceived".into(), r.total_received.to_string()),
        ("TotalBytesSent".into(), r.total_sent.to_string()),
        // One connection, no time-based test: all of it is under full loading.
        (
            format!("TestBytes{test}UnderFullLoading"),
            r.test_bytes.to_string(),
        ),
        (
            "TotalBytesReceivedUnderFullLoading".into(),
            r.total_received.to_string(),
        ),
        (
            "TotalBytesSentUnderFullLoading".into(),
            r.total_sent.to_string(),
        ),
        ("PeriodOfFullLoading".into(), full_us.to_string()),
    ] {
        results.insert(k, v);
    }
}

fn num<T: std::str::FromStr>(
    inputs: &BTreeMap<String, String>,
    k: &str,
    default: T,
) -> Result<T, DiagError> {
    match inputs.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| DiagError::Internal(format!("{k} {v:?} is not a number"))),
    }
}

/// The Linux interface an Interface reference names (none when empty).
fn interface_name(
    inputs: &BTreeMap<String, String>,
    interface: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, DiagError> {
    match inputs
        .get("Interface")
        .map_or("", |s| s.trim().trim_end_matches('.'))
    {
        "" => Ok(None),
        path => interface(path)
            .map(Some)
            .ok_or_else(|| DiagError::Internal(format!("Interface {path} does not exist"))),
    }
}

/// A Download- or UploadDiagnostics request: one connection, no time-based test (what this
/// agent offers: DownloadDiagnosticMaxConnections 1).
fn http_request(
    name: &str,
    inputs: &BTreeMap<String, String>,
    interface: &impl Fn(&str) -> Option<String>,
) -> Result<Request, DiagError> {
    let get = |k: &str| inputs.get(k).cloned().unwrap_or_default();
    let protocol = Protocol::parse(&get("ProtocolVersion")).ok_or_else(|| {
        DiagError::Internal(format!("ProtocolVersion {:?}", get("ProtocolVersion")))
    })?;
    let dscp: u8 = num(inputs, "DSCP", 0)?;
    let priority: u8 = num(inputs, "EthernetPriority", 0)?;
    let connections: u32 = num(inputs, "NumberOfConnections", 1)?;
    let duration: u32 = num(inputs, "TimeBasedTestDuration", 0)?;
    if dscp > 63 || priority > 7 {
        return Err(DiagError::Internal(
            "DSCP or EthernetPriority out of range".into(),
        ));
    }
    if connections != 1 || duration != 0 {
        return Err(DiagError::Other(
            "only one connection and no time-based test are offered".into(),
        ));
    }
    let upload = name == "upload";
    let test = diag::http::HttpTest {
        url: get(if upload { "UploadURL" } else { "DownloadURL" }),
        protocol,
        interface: interface_name(inputs, interface)?,
        dscp,
        priority,
    };
    if upload {
        let length: u64 = num(inputs, "TestFileLength", 0)?;
        if length == 0 {
            return Err(DiagError::Other("TestFileLength is 0".into()));
        }
        Ok(Request::Upload(test, length))
    } else {
        Ok(Request::Download(test))
    }
}

/// Builds the request from a test's inputs.
fn request(
    name: &str,
    inputs: &BTreeMap<String, String>,
    interface: &impl Fn(&str) -> Option<String>,
) -> Result<Request, DiagError> {
    let get = |k: &str| inputs.get(k).cloned().unwrap_or_default();
    if name == "download" || name == "upload" {
        return http_request(name, inputs, interface);
    }
    let trace = name == "traceroute";
    let protocol = Protocol::parse(&get("ProtocolVersion")).ok_or_else(|| {
        DiagError::Internal(format!("ProtocolVersion {:?}", get("ProtocolVersion")))
    })?;
    let iface = interface_name(inputs, interface)?;
    let timeout = num(
        inputs,
        "Timeout",
        if trace {
            TRACE_TIMEOUT_MS
        } else {
            PING_TIMEOUT_MS
        },
    )?;
    let size: u16 = num(inputs, "DataBlockSize", DATA_BLOCK_SIZE)?;
    let dscp: u8 = num(inputs, "DSCP", 0)?;
    if timeout == 0 || size == 0 || dscp > 63 {
        return Err(DiagError::Internal(
            "Timeout, DataBlockSize or DSCP out of range".into(),
        ));
    }
    let target = Target {
        host: get("Host"),
        protocol,
        interface: iface,
        timeout: Duration::from_millis(timeout),
        size,
        dscp,
    };
    if trace {
        let tries: u32 = num(inputs, "NumberOfTries", TRACE_TRIES)?;
        let max_hops: u8 = num(inputs, "MaxHopCount", TRACE_MAX_HOPS)?;
        if !(1..=3).contains(&tries) || !(1..=64).contains(&max_hops) {
            return Err(DiagError::Internal(
                "NumberOfTries or MaxHopCount out of range".into(),
            ));
        }
        Ok(Request::TraceRoute {
            target,
            tries,
            max_hops,
        })
    } else {
        let repetitions: u32 = num(inputs, "NumberOfRepetitions", PING_REPETITIONS)?;
        if repetitions == 0 || repetitions > diag::ping::MAX_REPETITIONS {
            return Err(DiagError::Internal(
                "NumberOfRepetitions out of range".into(),
            ));
        }
        Ok(Request::IpPing {
            target,
            repetitions,
        })
    }
}

impl super::Handler for Handler {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        let allowed: &[&str] = match kind {
            BindingKind::Table => &["test", "table"],
            _ => &["test", "field", "default", "hop"],
        };
        ArgsError::only(args, allowed)?;
        let test = args.get("test").and_then(|v| v.as_str()).unwrap_or("");
        if !TESTS.contains(&test) {
            return Err(format!("`test` must be one of {}", TESTS.join(", ")).into());
        }
        match kind {
            BindingKind::Table => match args.get("table").and_then(|v| v.as_str()) {
                Some("RouteHops") if test == "traceroute" => Ok(()),
                _ => Err("the only table is `table = \"RouteHops\"` of traceroute".into()),
            },
            _ => {
                let field = args.get("field").and_then(|v| v.as_str()).unwrap_or("");
                if field.is_empty() {
                    return Err("`field` (a string) is required".into());
                }
                if field.starts_with("RouteHops.") != args.contains_key("hop") {
                    return Err("RouteHops fields need `hop = \"{hop}\"`, others none".into());
                }
                if kind == BindingKind::ReadWrite && field.starts_with("RouteHops.") {
                    return Err("RouteHops results cannot be written".into());
                }
                Ok(())
            }
        }
    }

    fn begin(&mut self) {
        self.staged.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let name = test_name(args)?.to_string();
        let field = args.str("field")?.to_string();
        let default = args.opt_str("default")?.unwrap_or("").to_string();
        let hop = match field.strip_prefix("RouteHops.") {
            Some(_) => Some(
                args.str("hop")?
                    .parse::<usize>()
                    .map_err(|_| BackendError::BadArgs("hop must be a number".into()))?,
            ),
            None => None,
        };
        self.tests.with(&name, |t| {
            if field == "DiagnosticsState" {
                return Ok(t.state.clone());
            }
            if let (Some(f), Some(hop)) = (field.strip_prefix("RouteHops."), hop) {
                return hop
                    .checked_sub(1)
                    .and_then(|i| t.hops.get(i))
                    .map(|h| h.get(f).cloned().unwrap_or(default))
                    .ok_or_else(|| BackendError::NotFound(format!("hop {hop}")));
            }
            Ok(t.inputs
                .get(&field)
                .or_else(|| t.results.get(&field))
                .cloned()
                .unwrap_or(default))
        })
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let name = test_name(args)?.to_string();
        let field = args.str("field")?.to_string();
        if field == "DiagnosticsState" && !["Requested", "Canceled"].contains(&value) {
            return Err(BackendError::InvalidValue(
                "DiagnosticsState can only be set to Requested or Canceled".into(),
            ));
        }
        self.staged.push((name, field, value.to_string()));
        Ok(())
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let name = test_name(args)?.to_string();
        let hops = self.tests.with(&name, |t| t.hops.len());
        Ok((1..=hops)
            .map(|i| Instance::new(i.to_string()).var("hop", i.to_string()))
            .collect())
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        let staged = std::mem::take(&mut self.staged);
        let requested: Vec<String> = staged
            .iter()
            .filter(|(_, f, v)| f == "DiagnosticsState" && v == "Requested")
            .map(|(t, _, _)| t.clone())
            .collect();
        for (name, field, value) in staged {
            let keep = requested.contains(&name);
            self.tests.with(&name, |t| {
                if field == "DiagnosticsState" {
                    if value == "Canceled" {
                        t.reset("None");
                    }
                    return;
                }
                t.inputs.insert(field, value);
                if !keep && t.state != "None" {
                    t.reset("None");
                }
            });
        }
        for name in requested {
            self.tests.with(&name, |t| {
                t.reset("Requested");
                t.pending = true;
            });
        }
        Ok(false)
    }

    fn abort(&mut self) {
        self.staged.clear();
    }
}

#[cfg(test)]
mod tests;
