//! Netlink handler tests inside a network namespace the test creates (veth pair, bridge,
//! addresses, a route, a neighbour), removed again by a guard even when an assertion fails.
//! They need root (CI runs as root); elsewhere they are skipped with a note.

use std::process::Command;

use super::tables::parse_mac;
use super::*;
use crate::backend::{Args, BackendError, BindingKind, Handler};
use crate::codec::toml;

struct Netns(String);

impl Netns {
    fn create(tag: &str) -> Option<Netns> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: network namespace tests need root");
            return None;
        }
        // qemu-user does not translate every rtnetlink message between a guest of the other
        // byte order and the host kernel; scripts/cross-build sets this when it runs tests so.
        if std::env::var_os("CWMPD_QEMU_USER").is_some() {
            eprintln!(
                "skipped: rtnetlink under qemu-user emulation (covered by the system-mode image)"
            );
            return None;
        }
        let name = format!("cwmpd-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "ip netns add {name} failed (is iproute2 installed?)");
        Some(Netns(name))
    }

    fn ip(&self, args: &str) {
        let mut full = vec!["-n", &self.0];
        full.extend(args.split_whitespace());
        let out = Command::new("ip").args(&full).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn show(&self, args: &str) -> String {
        let mut full = vec!["-n", &self.0];
        full.extend(args.split_whitespace());
        String::from_utf8_lossy(
            &Command::new("ip")
                .args(&full)
                .output()
                .expect("run ip")
                .stdout,
        )
        .into_owned()
    }

    /// Runs `f` on a thread that has entered the namespace.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let fd = std::fs::File::open(&path).expect("open netns");
            nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn args(t: &str) -> Args {
    Args {
        table: toml::from_str(t).unwrap(),
        path: String::new(),
    }
}

fn setup(ns: &Netns) {
    ns.ip("link add va type veth peer name vb");
    ns.ip("link set va address 02:00:00:00:00:0a mtu 1400 up");
    ns.ip("link set lo up");
    ns.ip("link add br0 type bridge");
    ns.ip("link set vb master br0 up");
    ns.ip("link set br0 up");
    ns.ip("addr add 10.99.0.1/24 dev va");
    ns.ip("-6 addr add fd99::1/64 dev va nodad");
    ns.ip("route add 10.98.0.0/16 via 10.99.0.2 dev va metric 7");
    ns.ip("neigh add 10.99.0.5 lladdr 02:00:00:00:00:05 dev va nud reachable");
}

#[test]
fn dumps_links_addresses_routes_and_neighbours_in_a_namespace() {
    let Some(ns) = Netns::create("nl") else {
        return;
    };
    setup(&ns);
    ns.run(|| {
        let mut nl = Netlink::default();
        let links = nl
            .instances(&args("kind = \"links\"\ntype = \"ether\""))
            .unwrap();
        let names: Vec<&str> = links.iter().map(|i| i.key.as_str()).collect();
        assert!(
            names.contains(&"va") && names.contains(&"vb") && names.contains(&"br0"),
            "{names:?}"
        );
        assert!(!names.contains(&"lo"));
        let get = |nl: &mut Netlink, f: &str| {
            nl.get(&args(&format!(
                "kind = \"link\"\nifname = \"va\"\nfield = \"{f}\""
            )))
            .unwrap()
        };
        assert_eq!(get(&mut nl, "mac"), "02:00:00:00:00:0a");
        assert_eq!(get(&mut nl, "mtu"), "1400");
        assert_eq!(get(&mut nl, "kind"), "veth");
        assert_eq!(get(&mut nl, "up"), "true");
        assert_eq!(get(&mut nl, "status"), "Up", "peer is up, so carrier is up");
        assert_eq!(
            nl.get(&args(
                "kind = \"link\"\nifname = \"vb\"\nfield = \"master\""
            ))
            .unwrap(),
            "br0"
        );
        let stack = nl.instances(&args("kind = \"stack\"")).unwrap();
        let keys: Vec<&str> = stack.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["br0/vb"],
            "veth peers are not stacked; the bridge port is"
        );
        assert_eq!(
            nl.get(&args(
                "kind = \"link\"\nifname = \"lo\"\nfield = \"tr181_type\""
            ))
            .unwrap(),
            "Loopback"
        );

        let v4 = nl
            .instances(&args(
                "kind = \"addresses\"\nfamily = \"inet\"\nifname = \"va\"",
            ))
            .unwrap();
        assert_eq!(v4.len(), 1);
        assert_eq!(v4[0].key, "10.99.0.1/24");
        assert_eq!(v4[0].vars["netmask"], "255.255.255.0");
        assert_eq!(v4[0].vars["origin"], "Static");
        let v6 = nl
            .instances(&args(
                "kind = \"addresses\"\nfamily = \"inet6\"\nifname = \"va\"",
            ))
            .unwrap();
        let global = v6.iter().find(|i| i.key == "fd99::1/64").expect("fd99::1");
        assert_eq!(global.vars["origin"], "Static");
        assert_eq!(
            global.vars["address_status"], "Preferred",
            "nodad: not tentative"
        );

        let routes = nl
            .instances(&args("kind = \"routes\"\nfamily = \"inet\""))
            .unwrap();
        let r = routes
            .iter()
            .find(|i| i.vars["dest"] == "10.98.0.0")
            .expect("static route");
        assert_eq!(
            (
                r.vars["gateway"].as_str(),
                r.vars["ifname"].as_str(),
                r.vars["metric"].as_str()
            ),
            ("10.99.0.2", "va", "7")
        );
        assert_eq!(r.vars["netmask"], "255.255.0.0");
        assert_eq!(r.vars["static"], "true");
        assert!(
            routes
                .iter()
                .any(|i| i.vars["dest"] == "10.99.0.0" && i.vars["gateway"].is_empty()),
            "connected route"
        );

        let hosts = nl.instances(&args("kind = \"neighbours\"")).unwrap();
        let h = hosts
            .iter()
            .find(|i| i.key == "va/10.99.0.5")
            .expect("neighbour");
        assert_eq!(
            (h.vars["mac"].as_str(), h.vars["active"].as_str()),
            ("02:00:00:00:00:05", "true")
        );
    });
}

#[test]
fn mac_addresses_parse_in_either_case_and_nothing_else_does() {
    assert_eq!(
        parse_mac("3C:22:fb:10:20:30"),
        Some(vec![0x3c, 0x22, 0xfb, 0x10, 0x20, 0x30])
    );
    for bad in [
        "",
        "3c:22:fb:10:20",
        "3c:22:fb:10:20:30:40",
        "3c:22:fb:10:20:3",
        "3c:22:fb:10:20:zz",
        "3c-22-fb-10-20-30",
    ] {
        assert_eq!(parse_mac(bad), None, "{bad}");
    }
}

#[test]
fn hosts_carry_their_bridge_port_and_their_addresses_by_mac() {
    let Some(ns) = Netns::create("nlh") else {
        return;
    };
    setup(&ns);
    ns.ip("-6 addr add fd98::1/64 dev br0 nodad");
    ns.ip("addr add 10.97.0.1/24 dev br0");
    ns.ip("neigh add 10.97.0.9 lladdr 02:00:00:00:00:09 dev br0 nud permanent");
    ns.ip("neigh add 10.97.0.19 lladdr 02:00:00:00:00:09 dev br0 nud permanent");
    ns.ip("neigh add fd98::9 lladdr 02:00:00:00:00:09 dev br0 nud permanent");
    let out = Command::new("bridge")
        .args([
            "-n",
            &ns.0,
            "fdb",
            "replace",
            "02:00:00:00:00:09",
            "dev",
            "vb",
        ])
        .args(["master", "static"])
        .output()
        .expect("run bridge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vb = ns.show("-br link show vb");
    let own = vb.split_whitespace().nth(2).unwrap_or_default().to_string();
    ns.run(move || {
        let mut nl = Netlink::default();
        let hosts = nl.instances(&args("kind = \"neighbours\"")).unwrap();
        let port = |key: &str| {
            hosts
                .iter()
                .find(|i| i.key == key)
                .map(|i| i.vars["port"].clone())
        };
        assert_eq!(
            port("br0/10.97.0.9").as_deref(),
            Some("vb"),
            "learned on vb"
        );
        assert_eq!(port("br0/fd98::9").as_deref(), Some("vb"));
        assert_eq!(port("va/10.99.0.5").as_deref(), Some(""), "no bridge port");
        // The bridge's own address (a local entry) is no host's port.
        assert_eq!(own.len(), 17, "vb's address");
        assert!(nl
            .fdb()
            .unwrap()
            .iter()
            .all(|f| msg::mac_string(&f.lladdr) != own));

        let v4 = nl
            .instances(&args(
                "kind = \"neighbours\"\nfamily = \"inet\"\nmac = \"02:00:00:00:00:09\"",
            ))
            .unwrap();
        let mut got: Vec<&str> = v4.iter().map(|i| i.vars["address"].as_str()).collect();
        got.sort_unstable();
        assert_eq!(got, ["10.97.0.19", "10.97.0.9"]);
        let v6 = nl
            .instances(&args(
                "kind = \"neighbours\"\nfamily = \"inet6\"\nmac = \"02:00:00:00:00:09\"",
            ))
            .unwrap();
        assert_eq!(v6.len(), 1);
        assert_eq!(v6[0].vars["address"], "fd98::9");
        // A MAC address that is none matches no host.
        let none = nl
            .instances(&args("kind = \"neighbours\"\nmac = \"02:00:00:00:09\""))
            .unwrap();
        assert!(none.is_empty());
    });
}

#[test]
fn writes_link_state_mtu_and_addresses_in_a_namespace() {
    let Some(ns) = Netns::create("nlw") else {
        return;
    };
    setup(&ns);
    ns.run(|| {
        let mut nl = Netlink::default();
        nl.set(
            &args("kind = \"link\"\nifname = \"vb\"\nfield = \"mtu\""),
            "1300",
        )
        .unwrap();
        nl.set(
            &args("kind = \"link\"\nifname = \"va\"\nfield = \"up\""),
            "false",
        )
        .unwrap();
        nl.change_address("va", "10.99.1.1".parse().unwrap(), 24, true)
            .unwrap();
        nl.commit().unwrap();
        nl.begin();
        assert_eq!(
            nl.get(&args("kind = \"link\"\nifname = \"vb\"\nfield = \"mtu\""))
                .unwrap(),
            "1300"
        );
        assert_eq!(
            nl.get(&args(
                "kind = \"link\"\nifname = \"va\"\nfield = \"status\""
            ))
            .unwrap(),
            "Down"
        );
        // A write the kernel refuses fails the commit, and nothing of it stays.
        nl.set(
            &args("kind = \"link\"\nifname = \"va\"\nfield = \"up\""),
            "true",
        )
        .unwrap();
        nl.set(
            &args("kind = \"link\"\nifname = \"vb\"\nfield = \"mtu\""),
            "10",
        )
        .unwrap();
        let e = nl.commit().unwrap_err();
        assert!(
            matches!(e, BackendError::InvalidValue(_) | BackendError::Io(_)),
            "{e}"
        );
        nl.begin();
        assert_eq!(
            nl.get(&args(
                "kind = \"link\"\nifname = \"va\"\nfield = \"status\""
            ))
            .unwrap(),
            "Down",
            "the first write was undone"
        );
        // A committed change rolls back.
        nl.set(
            &args("kind = \"link\"\nifname = \"vb\"\nfield = \"mtu\""),
            "1400",
        )
        .unwrap();
        nl.commit().unwrap();
        nl.rollback().unwrap();
        nl.begin();
        assert_eq!(
            nl.get(&args("kind = \"link\"\nifname = \"vb\"\nfield = \"mtu\""))
                .unwrap(),
            "1300",
            "rolled back"
        );
        assert!(matches!(
            nl.set(
                &args("kind = \"link\"\nifname = \"nope\"\nfield = \"up\""),
                "true"
            ),
            Err(BackendError::NotFound(_))
        ));
    });
    assert!(ns.show("link show vb").contains("mtu 1300"));
    assert!(ns.show("link show va").contains("state DOWN"));
    assert!(ns.show("addr show va").contains("10.99.1.1/24"));
    ns.run(|| {
        let mut nl = Netlink::default();
        nl.change_address("va", "10.99.1.1".parse().unwrap(), 24, false)
            .unwrap();
    });
    assert!(!ns.show("addr show va").contains("10.99.1.1/24"));
}

#[test]
fn arguments_are_checked() {
    let nl = Netlink::default();
    let t = |x: &str| toml::from_str(x).unwrap();
    assert!(nl
        .check(BindingKind::Table, &t("kind = \"links\"\ntype = \"ether\""))
        .is_ok());
    assert!(nl
        .check(BindingKind::Table, &t("kind = \"bridges\""))
        .is_err());
    assert!(nl
        .check(
            BindingKind::Table,
            &t("kind = \"addresses\"\nfamily = \"ipx\"")
        )
        .is_err());
    assert!(nl
        .check(
            BindingKind::Read,
            &t("kind = \"link\"\nifname = \"x\"\nfield = \"mtu\"")
        )
        .is_ok());
    assert!(nl
        .check(
            BindingKind::Read,
            &t("kind = \"link\"\nifname = \"x\"\nfield = \"colour\"")
        )
        .is_err());
    assert!(nl
        .check(
            BindingKind::ReadWrite,
            &t("kind = \"link\"\nifname = \"x\"\nfield = \"mac\"")
        )
        .is_err());
    assert!(nl
        .check(BindingKind::Read, &t("kind = \"link\"\nfield = \"mtu\""))
        .is_err());
}
