//! A real DHCP exchange in network namespaces this test makes: a router namespace with a
//! Linux bridge and Debian's dnsmasq serving it, a client namespace whose veth end asks
//! BusyBox udhcpc for a lease (sending a host name). Then, in the router namespace:
//! `Device.Hosts.Host` (board/linux.toml: the kernel's neighbour table, the host name from
//! dnsmasq's lease file) and `Device.DHCPv4.Server.Pool.{i}.Client` (board/openwrt.toml, with
//! UCI files that describe the same dnsmasq setup) show the client.
//!
//! Needs root, `dnsmasq` (dnsmasq-base) and `busybox` (.ci/run installs them); skipped with a
//! message otherwise.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::netns::Netns;
use cwmpd::config::Config;
use cwmpd::device::Device;

const DEADLINE: Duration = Duration::from_secs(20);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The temporary directory and the dnsmasq process, both gone on drop.
struct Run {
    dir: PathBuf,
    dnsmasq: Option<Child>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(mut c) = self.dnsmasq.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn open(dir: &Path, tag: &str, board: &str) -> Config {
    let d = dir.join(tag);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("board.toml"), board).unwrap();
    let text = format!(
        "[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{}/board.toml\"\nstate_dir = \"{}/state\"\n",
        root().display(),
        d.display(),
        d.display()
    );
    Config::parse(&text, "test", Path::new("/")).unwrap()
}

fn values(dev: &mut Device, path: &str) -> Vec<(String, String)> {
    dev.model
        .get_values(&[path])
        .unwrap()
        .into_iter()
        .map(|v| (v.name, v.value))
        .collect()
}

#[test]
fn a_lease_from_dnsmasq_shows_in_hosts_and_the_pool_clients() {
    if !have("dnsmasq") || !have("busybox") {
        eprintln!("skipped: needs dnsmasq (dnsmasq-base) and busybox");
        return;
    }
    let (Some(srv), Some(cli)) = (Netns::create("dhcp-srv"), Netns::create("dhcp-cli")) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("cwmpd-dhcp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut run = Run {
        dir: dir.clone(),
        dnsmasq: None,
    };

    // The router: br-lan with port lan1; the client's end c0 in the other namespace.
    srv.ip("link set lo up");
    srv.ip("link add br-lan type bridge");
    srv.ip("link add lan1 type veth peer name c0");
    srv.ip(&format!("link set c0 netns {}", cli.0));
    srv.ip("link set lan1 master br-lan");
    srv.ip("link set lan1 up");
    srv.ip("link set br-lan up");
    srv.ip("addr add 192.168.77.1/24 dev br-lan");
    cli.ip("link set lo up");
    cli.ip("link set c0 address 02:00:5e:10:20:30");
    cli.ip("link set c0 up");

    let leases = dir.join("dnsmasq.leases");
    let dnsmasq = Command::new("ip")
        .args([
            "netns",
            "exec",
            &srv.0,
            "dnsmasq",
            "--no-daemon",
            "--conf-file=/dev/null",
        ])
        .args([
            "--port=0",
            "--interface=br-lan",
            "--bind-interfaces",
            "--dhcp-authoritative",
        ])
        .arg("--dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,12h")
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("dnsmasq.log")).unwrap())
        .spawn()
        .unwrap();
    run.dnsmasq = Some(dnsmasq);

    // udhcpc configures the address it got (so the client can reach the router), sending
    // its host name; -q: exit once bound, -n: fail when no lease comes.
    let script = dir.join("udhcpc.script");
    std::fs::write(
        &script,
        "#!/bin/sh\n[ \"$1\" = bound ] && ip addr add \"$ip/$mask\" dev \"$interface\"\nexit 0\n",
    )
    .unwrap();
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    assert!(chmod.success());
    let out = Command::new("ip")
        .args([
            "netns", "exec", &cli.0, "busybox", "udhcpc", "-i", "c0", "-q", "-n", "-f",
        ])
        .args(["-t", "10", "-T", "1", "-x", "hostname:pc-kitchen", "-s"])
        .arg(&script)
        .output()
        .unwrap();
    let log = || std::fs::read_to_string(dir.join("dnsmasq.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "udhcpc: {}\n{}\ndnsmasq: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        log()
    );
    // The lease is on disk once dnsmasq has acknowledged it.
    let deadline = Instant::now() + DEADLINE;
    while !std::fs::read_to_string(&leases)
        .unwrap_or_default()
        .contains("02:00:5e:10:20:30")
    {
        assert!(Instant::now() < deadline, "no lease written; {}", log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let lease = std::fs::read_to_string(&leases).unwrap();
    let ip = lease.split_whitespace().nth(2).unwrap().to_string();
    // The client talks to the router: the router's neighbour table learns it.
    let ping = Command::new("ip")
        .args([
            "netns",
            "exec",
            &cli.0,
            "busybox",
            "ping",
            "-c",
            "1",
            "-W",
            "5",
            "192.168.77.1",
        ])
        .output()
        .unwrap();
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );

    // Linux board: Hosts from the neighbour table, the name from dnsmasq's lease file.
    let linux = open(
        &dir,
        "linux",
        &format!(
            "[board]\nname = \"t\"\ninclude = [\"{}/board/linux.toml\"]\n[handlers.leases]\ndnsmasq = \"{}\"\n",
            root().display(),
            leases.display()
        ),
    );
    // OpenWrt board: the UCI files describing this dnsmasq (pool `lan` on br-lan).
    let uci = dir.join("config");
    std::fs::create_dir_all(&uci).unwrap();
    std::fs::write(
        uci.join("network"),
        "config interface 'lan'\n\toption device 'br-lan'\n\toption proto 'static'\n\toption ipaddr '192.168.77.1'\n\toption netmask '255.255.255.0'\n",
    )
    .unwrap();
    std::fs::write(
        uci.join("dhcp"),
        "config dnsmasq\n\toption leasefile '/tmp/dhcp.leases'\n\nconfig dhcp 'lan'\n\toption interface 'lan'\n\toption start '100'\n\toption limit '51'\n\toption leasetime '12h'\n",
    )
    .unwrap();
    let openwrt = open(
        &dir,
        "openwrt",
        &format!(
            "[board]\nname = \"t\"\ninclude = [\"{}/board/openwrt.toml\"]\n[handlers.uci]\ndir = \"{}\"\n[handlers.leases]\ndnsmasq = \"{}\"\n",
            root().display(),
            uci.display(),
            leases.display()
        ),
    );
    let path = format!("/run/netns/{}", srv.0);
    let (hosts, clients) = std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap();
        nix::sched::setns(
            std::os::fd::AsFd::as_fd(&fd),
            nix::sched::CloneFlags::CLONE_NEWNET,
        )
        .unwrap();
        let mut dev = Device::open(&linux).unwrap();
        let hosts = values(&mut dev, "Device.Hosts.");
        let mut dev = Device::open(&openwrt).unwrap();
        let clients = values(&mut dev, "Device.DHCPv4.Server.Pool.1.");
        (hosts, clients)
    })
    .join()
    .unwrap();
    let get = |vs: &[(String, String)], suffix: &str| -> Vec<String> {
        vs.iter()
            .filter(|(n, _)| n.ends_with(suffix))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let host = hosts
        .iter()
        .find(|(n, v)| n.ends_with(".IPAddress") && *v == ip)
        .map(|(n, _)| n.trim_end_matches("IPAddress").to_string())
        .unwrap_or_else(|| panic!("no host {ip}: {hosts:?}"));
    let of = |name: &str| {
        hosts
            .iter()
            .find(|(n, _)| *n == format!("{host}{name}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(of("PhysAddress"), "02:00:5e:10:20:30");
    assert_eq!(of("HostName"), "pc-kitchen");
    assert_eq!(of("AddressSource"), "DHCP");
    let left: i64 = of("LeaseTimeRemaining").parse().unwrap();
    assert!(left > 12 * 3600 - 600 && left <= 12 * 3600, "{left}");
    assert_eq!(of("Active"), "true");
    assert_eq!(get(&clients, ".Client.1.Chaddr"), ["02:00:5e:10:20:30"]);
    assert_eq!(get(&clients, ".Client.1.Active"), ["true"]);
    assert_eq!(
        get(&clients, ".Client.1.IPv4Address.1.IPAddress"),
        [ip.as_str()]
    );
    assert_eq!(get(&clients, ".ClientNumberOfEntries"), ["1"]);
    // Option 12, the host name the client sent, as its bytes.
    let hex: String = "pc-kitchen".bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        clients
            .iter()
            .any(|(n, v)| n.contains(".Client.1.Option.") && n.ends_with(".Value") && *v == hex),
        "{clients:?}"
    );
    drop(run);
}
