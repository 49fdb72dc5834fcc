//! Figures under attack for BENCHMARKS.md (issue 13): the release `cwmpd run` against the
//! test ACS on loopback, its Connection Request port attacked in turn by a client that
//! pipelines requests and never reads, slow clients, 3,000 idle connections, a 256 MiB
//! header line and descriptor exhaustion (RLIMIT_NOFILE 64, through `prlimit`); and an
//! ~800 KB SOAP body of empty elements. For each: the agent's threads, RSS, peak RSS,
//! descriptors, and how long an honest Digest Connection Request takes to be answered
//! meanwhile (challenge + answer, on fresh connections); and how long SIGTERM takes.
//!
//! Run: `cargo bench --bench attack` (needs `prlimit`, util-linux). `CWMPD_BIN=path` measures
//! another build of cwmpd instead (an older one, for the figures before).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cwmpd_testacs::Acs;

mod common;
use common::{proc_status, write_config};

struct Running {
    child: Child,
    acs: Acs,
    url: String,
    addr: SocketAddr,
    dir: std::path::PathBuf,
}

impl Running {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn figures(&self) -> String {
        let pid = self.pid();
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0);
        format!(
            "threads {:>2}, RSS {:>6} KiB, peak {:>6} KiB, fds {:>3}",
            proc_status(&pid, "Threads:"),
            proc_status(&pid, "VmRSS:"),
            proc_status(&pid, "VmHWM:"),
            fds
        )
    }

    /// Three honest Connection Requests, 1.1 s apart (inside the rate limit): their times.
    fn cr_latency(&self) -> String {
        let mut v = Vec::new();
        for i in 0..3 {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(1100));
            }
            let t = Instant::now();
            let s = Acs::connection_request(&self.url, "acs", "pw").unwrap_or(0);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            v.push(if s == 200 {
                format!("{ms:.1} ms")
            } else {
                format!("{s} after {ms:.0} ms")
            });
        }
        v.join(", ")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(tag: &str, nofile: Option<u32>) -> Running {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("cwmpd-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let acs = Acs::start(0, None).unwrap();
    let board = std::path::Path::new(root).join("board/linux.toml");
    let cfg = write_config(&dir, &acs.url(), &board, "warn");
    let bin = std::env::var("CWMPD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_cwmpd").into());
    let mut cmd = match nofile {
        Some(n) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg("--").arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    let child = cmd
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(acs.wait_informs(1, Duration::from_secs(20)));
    acs.wait_ended(1, Duration::from_secs(20));
    let url = acs.cr_url().unwrap();
    // http://127.0.0.1:PORT/cr
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Running {
        child,
        acs,
        url,
        addr,
        dir,
    }
}

/// A background attack that runs until its flag is lowered.
struct Attack {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Attack {
    fn spawn(n: usize, addr: SocketAddr, f: fn(SocketAddr, &AtomicBool)) -> Attack {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || f(addr, &stop))
            })
            .collect();
        // Let it take hold.
        std::thread::sleep(Duration::from_millis(500));
        Attack { stop, threads }
    }

    fn end(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Pipelines GETs and never reads; reconnects when the agent closes.
fn pipeline(addr: SocketAddr, stop: &AtomicBool) {
    let one = b"GET /cr HTTP/1.1\r\nHost: cpe\r\n\r\n";
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut s) = TcpStream::connect(addr) else {
            return;
        };
        let _ = s.set_write_timeout(Some(Duration::from_millis(100)));
        while !stop.load(Ordering::SeqCst) {
            match s.write(one) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
    }
}

/// One byte of a request every 100 ms; reconnects when the agent closes.
fn slowloris(addr: SocketAddr, stop: &AtomicBool) {
    let head = b"GET /cr HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut s) = TcpStream::connect(addr) else {
            return;
        };
        for b in head.iter().cycle() {
            if stop.load(Ordering::SeqCst) || s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn main() {
    println!("## idle");
    let r = start("attack", None);
    println!("  {}", r.figures());
    println!("  honest CR: {}", r.cr_latency());

    println!("## a client pipelining GETs that never reads");
    let a = Attack::spawn(1, r.addr, pipeline);
    println!("  {}", r.figures());
    println!("  honest CR: {}", r.cr_latency());
    a.end();

    println!("## 64 slow clients (one byte every 100 ms each)");
    let a = Attack::spawn(64, r.addr, slowloris);
    println!("  {}", r.figures());
    println!("  honest CR: {}", r.cr_latency());
    a.end();

    println!("## 3,000 idle connections");
    let t = Instant::now();
    let idle: Vec<TcpStream> = (0..3000)
        .filter_map(|_| TcpStream::connect_timeout(&r.addr, Duration::from_secs(1)).ok())
        .collect();
    println!(
        "  {} connected in {:.1} s; {}",
        idle.len(),
        t.elapsed().as_secs_f64(),
        r.figures()
    );
    println!("  honest CR: {}", r.cr_latency());
    drop(idle);

    println!("## one 256 MiB header line");
    let peak = proc_status(&r.pid(), "VmHWM:");
    let mut s = TcpStream::connect(r.addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let _ = s.write_all(b"GET /cr HTTP/1.1\r\nX-Long: ");
    let chunk = vec![b'a'; 1 << 16];
    let (mut sent, t) = (0usize, Instant::now());
    while sent < 256 << 20 && s.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let mut answer = String::new();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.read_to_string(&mut answer);
    println!(
        "  the agent closed after {} KiB were sent ({:.0} ms), answer {:?}; peak RSS +{} KiB; {}",
        sent / 1024,
        t.elapsed().as_secs_f64() * 1000.0,
        answer.lines().next().unwrap_or(""),
        proc_status(&r.pid(), "VmHWM:").saturating_sub(peak),
        r.figures()
    );
    println!("  honest CR: {}", r.cr_latency());

    println!("## an ~800 KB SOAP body of empty elements (GetRPCMethods with 199,900 <x/>)");
    let peak = proc_status(&r.pid(), "VmHWM:");
    let replies = r.acs.replies().len();
    r.acs.push(&format!(
        "<cwmp:GetRPCMethods>{}</cwmp:GetRPCMethods>",
        "<x/>".repeat(199_900)
    ));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(Acs::connection_request(&r.url, "acs", "pw").unwrap(), 200);
    assert!(r
        .acs
        .wait(Duration::from_secs(30), |_, rep, _| rep.len() > replies));
    println!(
        "  {}; peak RSS +{} KiB; {}",
        r.acs.replies()[replies].name,
        proc_status(&r.pid(), "VmHWM:").saturating_sub(peak),
        r.figures()
    );

    println!("## SIGTERM while a client pipelines and never reads");
    let a = Attack::spawn(1, r.addr, pipeline);
    let mut r = r;
    let t = Instant::now();
    let _ = Command::new("kill").args(["-TERM", &r.pid()]).status();
    let mut status = None;
    while status.is_none() && t.elapsed() < Duration::from_secs(10) {
        status = r.child.try_wait().unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    match status {
        Some(s) => println!(
            "  exited ({s}) {:.0} ms after SIGTERM",
            t.elapsed().as_secs_f64() * 1000.0
        ),
        None => println!("  still running 10 s after SIGTERM"),
    }
    a.end();
    drop(r);

    println!("## out of descriptors: RLIMIT_NOFILE 32, 500 idle connections held");
    let r = start("attackfd", Some(32));
    println!("  before: {}", r.figures());
    let idle: Vec<TcpStream> = (0..500)
        .filter_map(|_| TcpStream::connect_timeout(&r.addr, Duration::from_secs(1)).ok())
        .collect();
    println!("  {} connected; {}", idle.len(), r.figures());
    println!("  honest CR: {}", r.cr_latency());
    drop(idle);
    std::thread::sleep(Duration::from_millis(200));
    println!("  after they closed: {}", r.figures());
    println!("  honest CR: {}", r.cr_latency());
}
