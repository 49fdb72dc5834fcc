//! The TR-181 profiles each board meets, judged over the wire.
//!
//! The profile definitions come from the BBF's `tr-181-2-17-0-cwmp-full.xml` (`<profile>`
//! elements, resolved through `base` and `extends`); the test is skipped with a message when
//! the file is absent. The real `cwmpd run` answers one GetParameterNames of `Device.` with
//! NextLevel false to the scripted test ACS, and every requirement of the profiles in scope is
//! judged against that answer: an object or parameter present, a parameter writable where the
//! profile says readWrite, a table writable (AddObject/DeleteObject) where it says
//! createDelete. A parameter of a table counts as present when any instance lists it, so a
//! table the device has no rows in leaves its parameters unmet (the ACS cannot see them).
//!
//! Each board prints one line per profile (met/total and what is missing) and the test
//! asserts the floor reached, so a regression fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cwmpd_testacs::Acs;

use crate::support::copy_tree;
use crate::support::netns::Netns;

/// The 42 profiles of issue 14's scope (a home gateway's; the other 12 come later).
const SCOPE: [&str; 42] = [
    "Baseline:4",
    "InformParameters:1",
    "Time:2",
    "MemoryStatus:1",
    "ProcessStatus:1",
    "TempStatus:1",
    "VendorLogFiles:1",
    "DeviceImage:1",
    "User:1",
    "EthernetInterface:2",
    "EthernetLink:1",
    "EthernetRMONStats:1",
    "VLANTermination:1",
    "WiFiRadio:1",
    "WiFiSSID:2",
    "WiFiAccessPoint:2",
    "Bridge:1",
    "VLANBridge:1",
    "PPPInterface:2",
    "IPInterface:2",
    "IPv6Interface:1",
    "Routing:2",
    "IPv6Routing:1",
    "NeighborDiscovery:1",
    "RouterAdvertisement:1",
    "DHCPv4Client:1",
    "DHCPv4Server:1",
    "DHCPv4ServerClientInfo:1",
    "DHCPv6Client:1",
    "DHCPv6Server:1",
    "DNSRelay:1",
    "NAT:1",
    "SimpleFirewall:1",
    "Hosts:2",
    "QoS:1",
    "QoSStats:1",
    "IPPing:1",
    "TraceRoute:1",
    "Download:1",
    "Upload:1",
    "LEDBasic:1",
    "UPnPDev:1",
];

const T: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------ profile definitions

/// What a profile asks of one object or parameter (the XML's `requirement`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Object: must exist (a table: its table object, rows optional).
    Present,
    /// Table: the ACS can add and delete rows.
    CreateDelete,
    /// Object listed only to hold parameters: nothing asked of the object itself.
    NotSpecified,
    /// Parameter: must exist.
    ReadOnly,
    /// Parameter: must exist and be writable.
    ReadWrite,
}

impl Need {
    fn parse(s: &str) -> Need {
        match s {
            "createDelete" => Need::CreateDelete,
            "notSpecified" => Need::NotSpecified,
            "readWrite" | "writeOnceReadOnly" => Need::ReadWrite,
            "readOnly" => Need::ReadOnly,
            _ => Need::Present,
        }
    }
}

/// One requirement: an object path (`Device.IP.Interface.{i}.`) and, for a parameter, its name.
type Key = (String, Option<String>);

#[derive(Debug, Default)]
struct Profile {
    base: Option<String>,
    extends: Vec<String>,
    items: Vec<(Key, Need)>,
}

/// The profiles of the XML's `<model>`, by name.
fn read_profiles(path: &Path) -> BTreeMap<String, Profile> {
    use xml::reader::{EventReader, XmlEvent};
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Profile)> = None;
    let mut object: Option<String> = None;
    for ev in EventReader::new(file) {
        match ev.unwrap() {
            XmlEvent::StartElement {
                name, attributes, ..
            } => {
                let attr = |n: &str| {
                    attributes
                        .iter()
                        .find(|a| a.name.local_name == n)
                        .map(|a| a.value.clone())
                };
                match name.local_name.as_str() {
                    "profile" => {
                        let p = Profile {
                            base: attr("base"),
                            extends: attr("extends")
                                .map(|e| e.split_whitespace().map(String::from).collect())
                                .unwrap_or_default(),
                            items: Vec::new(),
                        };
                        current = attr("name").map(|n| (n, p));
                    }
                    "object" if current.is_some() => {
                        let (Some(r), Some((_, p))) = (attr("ref"), current.as_mut()) else {
                            continue;
                        };
                        let need = Need::parse(&attr("requirement").unwrap_or_default());
                        p.items.push(((r.clone(), None), need));
                        object = Some(r);
                    }
                    "parameter" => {
                        let (Some(o), Some(r), Some((_, p))) =
                            (object.as_ref(), attr("ref"), current.as_mut())
                        else {
                            continue;
                        };
                        let need = Need::parse(&attr("requirement").unwrap_or_default());
                        p.items.push(((o.clone(), Some(r)), need));
                    }
                    _ => {}
                }
            }
            XmlEvent::EndElement { name } => match name.local_name.as_str() {
                "profile" => {
                    if let Some((n, p)) = current.take() {
                        out.insert(n, p);
                    }
                }
                "object" => object = None,
                _ => {}
            },
            _ => {}
        }
    }
    out
}

/// A profile's requirements with its `base` and `extends` profiles folded in (a later
/// statement about the same item replaces an earlier one), in document order.
fn resolve(all: &BTreeMap<String, Profile>, name: &str, depth: usize) -> Vec<(Key, Need)> {
    assert!(depth < 16, "profile {name}: base/extends nest too deep");
    let p = all.get(name).unwrap_or_else(|| panic!("no profile {name}"));
    let mut out: Vec<(Key, Need)> = Vec::new();
    let mut add = |items: Vec<(Key, Need)>| {
        for (k, n) in items {
            match out.iter_mut().find(|(o, _)| *o == k) {
                Some(e) => e.1 = n,
                None => out.push((k, n)),
            }
        }
    };
    for parent in p.base.iter().chain(p.extends.iter()) {
        add(resolve(all, parent, depth + 1));
    }
    add(p.items.clone());
    out
}

// ------------------------------------------------------------------ judging

/// Facts from a GetParameterNames answer, keyed by schema path (instance numbers → `{i}`).
#[derive(Debug, Default)]
struct Seen {
    /// Schema path → some instance of it is writable.
    paths: BTreeMap<String, bool>,
}

impl Seen {
    fn new(gpn: &[(String, bool)]) -> Seen {
        let mut paths: BTreeMap<String, bool> = BTreeMap::new();
        for (name, writable) in gpn {
            // TR-181 names never start with a digit: a numeric segment is an instance number.
            let schema: Vec<&str> = name
                .split('.')
                .map(|s| {
                    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                        "{i}"
                    } else {
                        s
                    }
                })
                .collect();
            *paths.entry(schema.join(".")).or_default() |= writable;
        }
        Seen { paths }
    }

    /// Whether the device meets one requirement; `None` when nothing is asked.
    fn meets(&self, (object, param): &Key, need: Need) -> Option<bool> {
        let present = |p: &str| self.paths.get(p).copied();
        match param {
            Some(p) => {
                let w = present(&format!("{object}{p}"));
                Some(match need {
                    Need::ReadWrite => w == Some(true),
                    _ => w.is_some(),
                })
            }
            None => {
                // A table is judged by its table object (`….Interface.`), listed even empty.
                let obj = object.strip_suffix("{i}.").unwrap_or(object);
                match need {
                    Need::NotSpecified => None,
                    Need::CreateDelete => Some(present(obj) == Some(true)),
                    _ => Some(present(obj).is_some()),
                }
            }
        }
    }
}

/// A profile judged: requirements met, their total, and the unmet ones.
struct Verdict {
    name: &'static str,
    met: usize,
    total: usize,
    missing: Vec<String>,
}

fn judge(all: &BTreeMap<String, Profile>, gpn: &[(String, bool)]) -> Vec<Verdict> {
    let seen = Seen::new(gpn);
    SCOPE
        .iter()
        .map(|name| {
            let mut v = Verdict {
                name,
                met: 0,
                total: 0,
                missing: Vec::new(),
            };
            for (key, need) in resolve(all, name, 0) {
                let Some(ok) = seen.meets(&key, need) else {
                    continue;
                };
                v.total += 1;
                if ok {
                    v.met += 1;
                } else {
                    let what = match (&key.1, need) {
                        (Some(p), Need::ReadWrite) => format!("{}{p} (rw)", key.0),
                        (Some(p), _) => format!("{}{p}", key.0),
                        (None, Need::CreateDelete) => format!("{} (createDelete)", key.0),
                        (None, _) => key.0.clone(),
                    };
                    v.missing.push(what);
                }
            }
            v
        })
        .collect()
}

/// Prints the verdicts and returns (profiles fully met, requirements met, requirements).
fn report(board: &str, verdicts: &[Verdict]) -> (usize, usize, usize) {
    let full = verdicts.iter().filter(|v| v.met == v.total).count();
    let met: usize = verdicts.iter().map(|v| v.met).sum();
    let total: usize = verdicts.iter().map(|v| v.total).sum();
    println!(
        "== {board}: {full} of {} profiles fully met, {met} of {total} requirements ({} %)",
        verdicts.len(),
        met * 100 / total.max(1)
    );
    for v in verdicts {
        let mark = if v.met == v.total { "met " } else { "    " };
        let mut line = format!("{mark}{:<26} {:>3}/{:<3}", v.name, v.met, v.total);
        if !v.missing.is_empty() {
            let shown: Vec<&str> = v.missing.iter().take(6).map(String::as_str).collect();
            line.push_str(&format!(" missing: {}", shown.join(", ")));
            if v.missing.len() > shown.len() {
                line.push_str(&format!(" … (+{})", v.missing.len() - shown.len()));
            }
        }
        println!("{line}");
    }
    (full, met, total)
}

fn bbf_xml() -> Option<PathBuf> {
    [
        root().join("../shared/bbf/tr-181-2-17-0-cwmp-full.xml"),
        PathBuf::from("/work/shared/bbf/tr-181-2-17-0-cwmp-full.xml"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

// ------------------------------------------------------------------ the agent over the wire

/// A cwmpd run in a temporary directory, killed and removed on drop.
struct Run {
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cwmpd-profiles-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `cwmpd run` with `board` (written to `<dir>/board.toml`) against `acs`, in `netns`
/// when given; returns the names and writability of one GetParameterNames of `Device.`.
///
/// The ACS first has the device trace the route to 127.0.0.1 (TR-181 RouteHops rows exist
/// only after a TraceRoute), and asks for the names in the session the device opens to
/// report 8 DIAGNOSTICS COMPLETE.
fn gpn_over_the_wire(
    dir: PathBuf,
    acs: &Acs,
    board: &str,
    netns: Option<&str>,
) -> Vec<(String, bool)> {
    let d = dir.display();
    std::fs::write(dir.join("board.toml"), board).unwrap();
    let config = dir.join("cwmpd.toml");
    std::fs::write(
        &config,
        format!(
            "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\nperiodic_inform_enable = false\n\
             [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
             [paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
            acs.url(),
            root().display()
        ),
    )
    .unwrap();
    // An InformParameter row, as an ACS creates them (the table is the agent's own and empty
    // until then). First: the SetParameterValues must end the session (the
    // trace runs after it), so that the GetParameterNames below goes to the next one.
    acs.push(
        "<cwmp:AddObject><ObjectName>Device.ManagementServer.InformParameter.</ObjectName>\
         <ParameterKey>inform</ParameterKey></cwmp:AddObject>",
    );
    acs.push(
        "<cwmp:SetParameterValues><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[2]\">\
         <ParameterValueStruct><Name>Device.IP.Diagnostics.TraceRoute.Host</Name><Value xsi:type=\"xsd:string\">127.0.0.1</Value></ParameterValueStruct>\
         <ParameterValueStruct><Name>Device.IP.Diagnostics.TraceRoute.DiagnosticsState</Name><Value xsi:type=\"xsd:string\">Requested</Value></ParameterValueStruct>\
         </ParameterList><ParameterKey>trace</ParameterKey></cwmp:SetParameterValues>",
    );
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_cwmpd")]);
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_cwmpd")),
    };
    let child = cmd
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log.txt")).unwrap())
        .spawn()
        .unwrap();
    let run = Run {
        dir,
        child: Some(child),
    };
    let traced = acs.wait(T, |_, r, _| {
        r.iter()
            .any(|r| r.name == "SetParameterValuesResponse" || r.name == "Fault")
    });
    // Queued before the device can be back: it ends this session, runs the trace (one hop
    // on loopback) and only then opens the next one.
    acs.push("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>0</NextLevel></cwmp:GetParameterNames>");
    let answered = traced
        && acs.wait(T, |i, r, _| {
            i.iter()
                .any(|i| i.codes().iter().any(|c| c == "8 DIAGNOSTICS COMPLETE"))
                && r.iter()
                    .any(|r| r.name == "GetParameterNamesResponse" || r.name == "Fault")
        });
    let log = std::fs::read_to_string(run.dir.join("log.txt")).unwrap_or_default();
    let seen: Vec<String> = acs.replies().iter().map(|r| r.name.clone()).collect();
    let informs: Vec<Vec<String>> = acs.informs().iter().map(|i| i.codes()).collect();
    let reqs = acs.requests();
    let left = acs.wait(Duration::ZERO, |_, _, n| n == 0);
    assert!(
        answered,
        "no GetParameterNames answer (informs {informs:?}, replies {seen:?}, requests {reqs:?}, script empty {left}); log:\n{log}"
    );
    let reply = acs
        .replies()
        .into_iter()
        .find(|r| r.name == "GetParameterNamesResponse")
        .unwrap_or_else(|| panic!("GetParameterNames failed; log:\n{log}"));
    let list = reply.body.child("ParameterList").expect("ParameterList");
    list.children
        .iter()
        .map(|p| {
            let name = p.child("Name").map(|n| n.text.clone()).unwrap_or_default();
            let w = p.child("Writable").map(|w| w.text.trim().to_string());
            (name, matches!(w.as_deref(), Some("1" | "true")))
        })
        .collect()
}

/// A small router in `ns`: a LAN bridge with two veth ports, a WAN veth with IPv4 and IPv6
/// addresses and default routes, and neighbours on both sides.
fn linux_router(ns: &Netns) {
    for cmd in [
        "link set lo up",
        "link add wan0 type veth peer name wan0p",
        "link add lan1 type veth peer name lan1p",
        "link add lan2 type veth peer name lan2p",
        "link add br-lan type bridge",
        "link set lan1 master br-lan",
        "link set lan2 master br-lan",
        "link set wan0 up",
        "link set wan0p up",
        "link set lan1 up",
        "link set lan1p up",
        "link set lan2 up",
        "link set lan2p up",
        "link set br-lan up",
        "addr add 192.0.2.2/24 dev wan0",
        "addr add 2001:db8:1::2/64 dev wan0 nodad",
        "addr add 192.168.1.1/24 dev br-lan",
        "addr add fd00:1::1/64 dev br-lan nodad",
        "route add default via 192.0.2.1",
        "-6 route add default via 2001:db8:1::1",
        "neigh add 192.0.2.1 lladdr 02:00:00:00:00:01 dev wan0 nud permanent",
        "neigh add 192.168.1.100 lladdr 02:00:00:00:01:64 dev br-lan nud permanent",
        "neigh add fd00:1::100 lladdr 02:00:00:00:01:64 dev br-lan nud permanent",
    ] {
        ns.ip(cmd);
    }
}

/// The kernel side of the fixture router that this kernel can make: its switch ports (veth
/// stand-ins named lan1…lan4 and wan), the LAN and guest bridges, the LAN address. (No VLAN
/// or PPP devices here: wan.7, wan.8 and pppoe-wan exist only in the fixtures.)
fn openwrt_links(ns: &Netns) {
    ns.ip("link set lo up");
    ns.ip("link add br-lan type bridge");
    ns.ip("link add br-guest type bridge");
    for port in ["lan1", "lan2", "lan3", "lan4", "wan"] {
        ns.ip(&format!("link add {port} type veth peer name {port}p"));
        if port != "wan" {
            ns.ip(&format!("link set {port} master br-lan"));
        }
        ns.ip(&format!("link set {port} up"));
        ns.ip(&format!("link set {port}p up"));
    }
    ns.ip("link set br-lan up");
    ns.ip("link set br-guest up");
    ns.ip("addr add 192.168.1.1/24 dev br-lan");
    ns.ip("addr add 192.168.3.1/24 dev br-guest");
    ns.ip("neigh add 192.168.1.105 lladdr 3c:22:fb:10:20:30 dev br-lan nud permanent");
    ns.ip("neigh add 192.168.1.142 lladdr a4:83:e7:40:50:60 dev br-lan nud permanent");
    ns.ip("neigh add fd4c:9a2e:51b7:10::8a1 lladdr 3c:22:fb:10:20:30 dev br-lan nud permanent");
}

/// The OpenWrt board on the fixtures of a home router (`tests/fixtures/openwrt`, copied to
/// `dir`): UCI files, lease files, account files, sysfs sensors, and a stand-in `ubus`
/// printing netifd, iwinfo and hostapd answers. The agent finds its ACS where OpenWrt keeps
/// it, in /etc/config/cwmpd: pointed at `acs_url` here.
pub(crate) fn openwrt_board(dir: &Path, acs_url: &str) -> String {
    copy_tree(&root().join("tests/fixtures/openwrt"), dir);
    let uci = dir.join("etc/config/cwmpd");
    let text = std::fs::read_to_string(&uci).unwrap();
    let text = text.replace(
        "option url 'https://acs.isp.example/cwmp'",
        &format!("option url '{acs_url}'"),
    );
    assert!(text.contains(acs_url));
    std::fs::write(&uci, text).unwrap();
    let d = dir.display();
    format!(
        "[board]\nname = \"openwrt-fixtures\"\ninclude = [\"{}/board/openwrt.toml\"]\n\n\
         [handlers.uci]\ndir = \"{d}/etc/config\"\n\
         [handlers.ubus]\ncommand = [\"{d}/bin/ubus\"]\n\
         [handlers.leases]\ndnsmasq = \"{d}/tmp/dhcp.leases\"\nodhcpd = \"{d}/tmp/hosts/odhcpd\"\n\
         [handlers.users]\npasswd = \"{d}/etc/passwd\"\nshadow = \"{d}/etc/shadow\"\n\
         passwd_tool = [\"{d}/bin/passwd\", \"{d}/etc/shadow\", \"{{user}}\"]\n\
         [handlers.sensors]\nsys = \"{d}/sys\"\n\
         [handlers.leds]\nsys = \"{d}/sys\"\n\
         [handlers.ethtool]\ndir = \"{d}/ethtool\"\n\
         [handlers.json]\nroot = \"{d}\"\n",
        root().display()
    )
}

#[test]
fn profiles_met_by_each_board() {
    let Some(xml) = bbf_xml() else {
        eprintln!("skipped: tr-181-2-17-0-cwmp-full.xml not found (../shared/bbf/)");
        return;
    };
    let all = read_profiles(&xml);
    for name in SCOPE {
        assert!(
            !resolve(&all, name, 0).is_empty(),
            "{name} has no requirements"
        );
    }

    // Linux: this machine's kernel, in a network namespace laid out like a small router (so
    // the figures do not depend on the host's own interfaces). Without root (no namespaces)
    // nothing is judged.
    let linux = match Netns::create("profiles") {
        Some(ns) => {
            linux_router(&ns);
            let acs = ns.within(|| Acs::start(0, Some(("cpe", "pw"))).unwrap());
            let dir = run_dir("linux");
            let board = format!(
                // This machine has no LEDs and no temperature sensors: the board reads those
                // of the fixture router's sysfs tree (the same kernel interfaces).
                "[board]\nname = \"linux-here\"\ninclude = [\"{r}/board/linux.toml\"]\n\
                 [handlers.leds]\nsys = \"{r}/tests/fixtures/openwrt/sys\"\n\
                 [handlers.sensors]\nsys = \"{r}/tests/fixtures/openwrt/sys\"\n",
                r = root().display()
            );
            let gpn = gpn_over_the_wire(dir, &acs, &board, Some(&ns.0));
            Some(report(
                "board/linux.toml in a namespace",
                &judge(&all, &gpn),
            ))
        }
        None => None,
    };

    // OpenWrt: the fixtures of a home router (in a namespace of its own too, so the
    // host's interfaces stay out of the figures).
    let openwrt = Netns::create("profiles-owrt").map(|ns| {
        openwrt_links(&ns);
        // The user name is the one in the fixture's /etc/config/cwmpd; the password comes
        // from cwmpd.toml.
        let acs = ns.within(|| Acs::start(0, Some(("cpe-0011aabbcc", "pw"))).unwrap());
        let dir = run_dir("openwrt");
        let board = openwrt_board(&dir, &acs.url());
        let gpn = gpn_over_the_wire(dir, &acs, &board, Some(&ns.0));
        report("board/openwrt.toml on tests/fixtures", &judge(&all, &gpn))
    });

    // The floors reached (profiles fully met, requirements met): raise them with the boards.
    if let Some(linux) = linux {
        assert!(linux.0 >= 11 && linux.1 >= 328, "linux: {linux:?}");
    }
    if let Some(openwrt) = openwrt {
        assert!(openwrt.0 >= 18 && openwrt.1 >= 619, "openwrt: {openwrt:?}");
    }
}

#[test]
fn profiles_resolve_base_and_extends() {
    let Some(xml) = bbf_xml() else {
        eprintln!("skipped: tr-181-2-17-0-cwmp-full.xml not found (../shared/bbf/)");
        return;
    };
    let all = read_profiles(&xml);
    // EthernetInterface:2 is based on :1 and adds nothing the test can see missing; its
    // requirements include :1's (MACAddress) with the readWrite of MaxBitRate.
    let eth = resolve(&all, "EthernetInterface:2", 0);
    let need = |o: &str, p: &str| {
        eth.iter()
            .find(|((ob, pa), _)| ob == o && pa.as_deref() == Some(p))
            .map(|(_, n)| *n)
    };
    assert_eq!(
        need("Device.Ethernet.Interface.{i}.", "MACAddress"),
        Some(Need::ReadOnly)
    );
    assert_eq!(
        need("Device.Ethernet.Interface.{i}.", "MaxBitRate"),
        Some(Need::ReadWrite)
    );
    // Baseline:4 extends _Baseline:4 (InterfaceStack, DNS client) and adds ManagementServer.
    let base = resolve(&all, "Baseline:4", 0);
    assert!(base.iter().any(
        |((o, p), _)| o == "Device.InterfaceStack.{i}." && p.as_deref() == Some("HigherLayer")
    ));
    assert!(base
        .iter()
        .any(|((o, p), n)| o == "Device.ManagementServer."
            && p.as_deref() == Some("URL")
            && *n == Need::ReadWrite));

    // Judging: a table counts by its table object; writability by any instance.
    let gpn = [
        ("Device.".to_string(), false),
        ("Device.IP.".to_string(), false),
        ("Device.IP.Interface.".to_string(), true),
        ("Device.IP.Interface.1.".to_string(), true),
        ("Device.IP.Interface.1.Enable".to_string(), false),
        ("Device.IP.Interface.2.Enable".to_string(), true),
        ("Device.IP.Interface.2.Name".to_string(), false),
    ];
    let seen = Seen::new(&gpn);
    let key = |o: &str, p: Option<&str>| (o.to_string(), p.map(String::from));
    assert_eq!(
        seen.meets(&key("Device.IP.Interface.{i}.", None), Need::CreateDelete),
        Some(true)
    );
    assert_eq!(
        seen.meets(
            &key("Device.IP.Interface.{i}.", Some("Enable")),
            Need::ReadWrite
        ),
        Some(true)
    );
    assert_eq!(
        seen.meets(
            &key("Device.IP.Interface.{i}.", Some("Name")),
            Need::ReadWrite
        ),
        Some(false)
    );
    assert_eq!(
        seen.meets(
            &key("Device.IP.Interface.{i}.", Some("Name")),
            Need::ReadOnly
        ),
        Some(true)
    );
    assert_eq!(
        seen.meets(
            &key("Device.IP.Interface.{i}.", Some("Alias")),
            Need::ReadOnly
        ),
        Some(false)
    );
    assert_eq!(
        seen.meets(&key("Device.PPP.", None), Need::Present),
        Some(false)
    );
    assert_eq!(
        seen.meets(&key("Device.IP.", None), Need::NotSpecified),
        None
    );
}
