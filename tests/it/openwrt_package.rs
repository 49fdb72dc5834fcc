//! The OpenWrt package (`packaging/openwrt/cwmpd/`) is consistent with the binary.
//!
//! The Makefile's `Package/cwmpd/install` recipe is carried out (by a small interpreter of its
//! `$(INSTALL_*)` lines; any other line fails the test) into a temporary root, with the
//! cargo-built binary standing in for `$(PKG_INSTALL_DIR)/bin/cwmpd` and this tree for
//! `$(PKG_BUILD_DIR)` (the Makefile's `Build/Prepare` copies it there). Then:
//! - the init script is sourced by `sh` with procd's functions recorded, so the shell itself
//!   expands its variables; every path it hands procd (binary, config, watched files) is one
//!   the recipe installed;
//! - the installed config parses with `cwmpd::config`, and its board, data model and state
//!   paths are installed;
//! - the installed binary accepts the init script's arguments: it is run with the same options
//!   against the staged tree (absolute paths given the temporary root as prefix). The verb is
//!   `check` instead of `run`, which would start talking to the placeholder ACS; both go
//!   through the same option parser and open the same config, board and data model.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cwmpd::config::{Config, LogTarget};

use crate::support::{root, TempDir};

fn package_dir() -> PathBuf {
    root().join("packaging/openwrt/cwmpd")
}

/// The parts of an OpenWrt package Makefile the test reads: `NAME:=value` / `NAME ?= value`
/// assignments and `define NAME … endef` blocks.
struct Makefile {
    vars: BTreeMap<String, String>,
    blocks: BTreeMap<String, Vec<String>>,
    text: String,
}

fn makefile() -> Makefile {
    let text = std::fs::read_to_string(package_dir().join("Makefile")).unwrap();
    let mut vars = BTreeMap::new();
    let mut blocks = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if let Some((name, body)) = current.as_mut() {
            if line.trim() == "endef" {
                blocks.insert(name.clone(), std::mem::take(body));
                current = None;
            } else {
                body.push(line.to_string());
            }
            continue;
        }
        if let Some(name) = line.strip_prefix("define ") {
            current = Some((name.trim().to_string(), Vec::new()));
        } else if !line.starts_with(['#', '\t', ' ']) {
            for op in [":=", "?="] {
                if let Some((k, v)) = line.split_once(op) {
                    vars.insert(k.trim().to_string(), v.trim().to_string());
                    break;
                }
            }
        }
    }
    assert!(current.is_none(), "unterminated define");
    Makefile { vars, blocks, text }
}

/// Paths matching `pattern`, whose last component may hold `*` (as the shell expands it).
fn glob(pattern: &Path) -> Vec<PathBuf> {
    let name = pattern.file_name().unwrap().to_str().unwrap();
    let Some((pre, post)) = name.split_once('*') else {
        return vec![pattern.to_path_buf()];
    };
    let parent = pattern.parent().unwrap();
    assert!(
        !parent.to_str().unwrap().contains('*'),
        "only the last component may hold *"
    );
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap_or_else(|e| panic!("{}: {e}", parent.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.len() >= pre.len() + post.len() && n.starts_with(pre) && n.ends_with(post)
        })
        .collect();
    out.sort();
    out
}

/// A staged install: the temporary root and every path installed (absolute, as on the router).
struct Staged {
    _dir: TempDir,
    root: PathBuf,
    installed: BTreeSet<PathBuf>,
}

impl Staged {
    /// Where an absolute router path lives in the staged root.
    fn at(&self, router_path: &str) -> PathBuf {
        let rel = router_path
            .strip_prefix('/')
            .unwrap_or_else(|| panic!("{router_path} is not absolute"));
        self.root.join(rel)
    }

    fn assert_installed(&self, router_path: &str) {
        assert!(
            self.installed.contains(Path::new(router_path)),
            "{router_path} is not installed by the Makefile; installed: {:#?}",
            self.installed
        );
        assert!(self.at(router_path).exists(), "{router_path}");
    }
}

/// Carries out `Package/cwmpd/install` into a temporary root.
fn stage(mk: &Makefile, tag: &str) -> Staged {
    let d = TempDir::new(&format!("pkg-{tag}"));
    let root_dir = d.join("root");
    // What `cargo install --root $(PKG_INSTALL_DIR)` leaves (rust-package.mk).
    let pkg_install = d.join("pkg-install");
    std::fs::create_dir_all(pkg_install.join("bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_cwmpd"), pkg_install.join("bin/cwmpd")).unwrap();
    let recipe = mk
        .blocks
        .get("Package/cwmpd/install")
        .expect("define Package/cwmpd/install");
    let mut installed = BTreeSet::new();
    let router = |p: &Path| -> PathBuf { Path::new("/").join(p.strip_prefix(&root_dir).unwrap()) };
    for line in recipe {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let expanded = line
            .replace("$(1)", root_dir.to_str().unwrap())
            .replace("$(PKG_BUILD_DIR)", root().to_str().unwrap())
            .replace("$(PKG_INSTALL_DIR)", pkg_install.to_str().unwrap());
        let mut words = expanded.split_whitespace();
        let cmd = words.next().unwrap();
        let args: Vec<PathBuf> = words
            .map(|w| match w.strip_prefix("./") {
                Some(rel) => package_dir().join(rel),
                None => PathBuf::from(w),
            })
            .collect();
        assert!(
            !args.iter().any(|a| a.to_str().unwrap().contains("$(")),
            "unknown variable in {line:?}"
        );
        let mode = match cmd {
            "$(INSTALL_DIR)" => {
                for a in &args {
                    std::fs::create_dir_all(a).unwrap();
                    installed.insert(router(a));
                }
                continue;
            }
            "$(INSTALL_BIN)" => 0o755,
            "$(INSTALL_DATA)" => 0o644,
            "$(INSTALL_CONF)" => 0o600,
            other => panic!("install recipe: unknown command {other:?} in {line:?}"),
        };
        let (dest, sources) = args.split_last().expect("source and destination");
        let sources: Vec<PathBuf> = sources.iter().flat_map(|s| glob(s)).collect();
        assert!(!sources.is_empty(), "{line:?} installs nothing");
        let into_dir = dest.is_dir();
        assert!(
            into_dir || sources.len() == 1,
            "{line:?}: several files onto one"
        );
        for s in sources {
            let target = if into_dir {
                dest.join(s.file_name().unwrap())
            } else {
                dest.clone()
            };
            std::fs::copy(&s, &target).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).unwrap();
            installed.insert(router(&target));
        }
    }
    Staged {
        _dir: d,
        root: root_dir,
        installed,
    }
}

/// What the init script hands procd, recorded by `sh` sourcing it with procd's functions
/// replaced: the top-level settings and every `procd_set_param` (name → arguments).
struct Init {
    settings: BTreeMap<String, String>,
    params: BTreeMap<String, Vec<String>>,
    instances: usize,
    has_reload_service: bool,
    /// Packages named by `procd_add_reload_trigger` in `service_triggers`.
    reload_triggers: Vec<String>,
}

const PROCD_STUBS: &str = r#"
procd_open_instance() { echo open; }
procd_close_instance() { echo close; }
procd_set_param() { printf 'param'; for a in "$@"; do printf '\037%s' "$a"; done; printf '\n'; }
procd_add_reload_trigger() { for a in "$@"; do echo "trigger $a"; done; }
. "$1"
echo "setting START=$START"
echo "setting STOP=$STOP"
echo "setting USE_PROCD=$USE_PROCD"
start_service
if type reload_service >/dev/null 2>&1; then echo reload_service; fi
if type service_triggers >/dev/null 2>&1; then service_triggers; fi
"#;

fn init_script() -> PathBuf {
    package_dir().join("files/cwmpd.init")
}

fn source_init() -> Init {
    let out = Command::new("sh")
        .args(["-c", PROCD_STUBS, "sh"])
        .arg(init_script())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut init = Init {
        settings: BTreeMap::new(),
        params: BTreeMap::new(),
        instances: 0,
        has_reload_service: false,
        reload_triggers: Vec::new(),
    };
    let mut open = false;
    for line in text.lines() {
        if let Some(kv) = line.strip_prefix("setting ") {
            let (k, v) = kv.split_once('=').unwrap();
            init.settings.insert(k.into(), v.into());
        } else if line == "open" {
            assert!(!open, "nested instance");
            open = true;
        } else if line == "close" {
            assert!(open);
            open = false;
            init.instances += 1;
        } else if let Some(rest) = line.strip_prefix("param\x1f") {
            assert!(open, "procd_set_param outside an instance: {line}");
            let mut fields = rest.split('\x1f').map(String::from);
            let name = fields.next().unwrap();
            let prev = init.params.insert(name.clone(), fields.collect());
            assert!(prev.is_none(), "{name} set twice");
        } else if line == "reload_service" {
            init.has_reload_service = true;
        } else if let Some(pkg) = line.strip_prefix("trigger ") {
            init.reload_triggers.push(pkg.to_string());
        } else {
            panic!("unexpected output from the init script: {line:?}");
        }
    }
    assert!(!open, "instance left open");
    init
}

#[test]
fn the_shipped_uci_config_holds_every_section_the_board_binds() {
    use cwmpd::backend::uci::doc::Doc;
    let text = std::fs::read_to_string(package_dir().join("files/cwmpd.uci")).unwrap();
    let doc = Doc::parse(&text).unwrap();
    let board = std::fs::read_to_string(root().join("board/openwrt.toml")).unwrap();
    let mut bound = 0;
    for line in board.lines().filter(|l| l.contains("package = \"cwmpd\"")) {
        let section = line
            .split("section = \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let option = line
            .split("option = \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let s = doc
            .resolve(section)
            .unwrap_or_else(|| panic!("board binds cwmpd.{section}, not in the shipped file"));
        bound += 1;
        // Options the shipped file leaves out fall back to cwmpd.toml; the rest are there.
        if !["periodic_inform_time"].contains(&option) {
            assert!(
                doc.option(&s.id, option).is_some(),
                "cwmpd.{section}.{option}"
            );
        }
    }
    assert!(bound >= 5, "{bound} bindings of package cwmpd");
}

#[test]
fn init_script_is_valid_shell() {
    let out = Command::new("sh")
        .arg("-n")
        .arg(init_script())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(init_script()).unwrap();
    assert!(text.starts_with("#!/bin/sh /etc/rc.common\n"));
}

#[test]
fn makefile_is_a_rust_feed_package_for_this_tree() {
    let mk = makefile();
    assert_eq!(mk.vars["PKG_NAME"], "cwmpd");
    assert_eq!(mk.vars["PKG_VERSION"], env!("CARGO_PKG_VERSION"));
    assert!(mk.vars["PKG_RELEASE"].parse::<u32>().unwrap() >= 1);
    assert_eq!(mk.vars["PKG_LICENSE"], "Apache-2.0");
    assert!(root().join(&mk.vars["PKG_LICENSE_FILES"]).is_file());
    assert!(mk.vars["PKG_BUILD_DEPENDS"]
        .split_whitespace()
        .any(|d| d == "rust/host"));
    assert!(mk
        .text
        .lines()
        .any(|l| l == "include $(TOPDIR)/feeds/packages/lang/rust/rust-package.mk"));
    assert!(mk.blocks["Build/Compile"]
        .iter()
        .any(|l| l.contains("$(call Build/Compile/Cargo")));
    // The features variable is passed on to rust-package.mk.
    assert!(mk.vars.contains_key("CWMPD_FEATURES"));
    assert_eq!(mk.vars["RUST_PKG_FEATURES"], "$(CWMPD_FEATURES)");
    // The default source is the checkout the package directory sits in.
    let src = &mk.vars["CWMPD_SOURCE_DIR"];
    let rel = src
        .strip_prefix("$(abspath $(CURDIR)/")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("CWMPD_SOURCE_DIR {src}"));
    assert_eq!(
        package_dir().join(rel).canonicalize().unwrap(),
        root().canonicalize().unwrap()
    );
    assert!(mk.blocks["Build/Prepare"]
        .iter()
        .any(|l| l.contains("$(CWMPD_SOURCE_DIR)")));
    assert!(mk.text.contains("$(eval $(call BuildPackage,cwmpd))"));
}

// The installed binary checks the OpenWrt board, which binds the uci handler and includes
// the Linux board.
#[cfg(all(feature = "uci", feature = "netlink", feature = "diagnostics"))]
#[test]
fn init_script_paths_are_installed_and_the_binary_accepts_its_arguments() {
    let mk = makefile();
    let staged = stage(&mk, "init");
    let init = source_init();

    assert_eq!(init.settings["USE_PROCD"], "1");
    let start: u32 = init.settings["START"].parse().unwrap();
    let stop: u32 = init.settings["STOP"].parse().unwrap();
    assert!((1..=99).contains(&start) && (1..=99).contains(&stop));
    assert_eq!(init.instances, 1);
    // Parameters procd.sh knows (`_procd_set_param`); any other is silently dropped there.
    const PROCD_PARAMS: &[&str] = &[
        "env",
        "data",
        "limits",
        "command",
        "netdev",
        "file",
        "respawn",
        "watch",
        "watchdog",
        "error",
        "nice",
        "term_timeout",
        "reload_signal",
        "pidfile",
        "user",
        "group",
        "seccomp",
        "capabilities",
        "facility",
        "extroot",
        "overlaydir",
        "tmpoverlaysize",
        "stdout",
        "stderr",
        "no_new_privs",
    ];
    for name in init.params.keys() {
        assert!(PROCD_PARAMS.contains(&name.as_str()), "procd has no {name}");
    }
    assert!(init.has_reload_service);
    assert_eq!(init.params["respawn"].len(), 3, "{:?}", init.params);
    assert_eq!(init.params["stderr"], ["1"]);
    assert_eq!(init.params["stdout"], ["1"]);

    // The command: an installed executable, `run`, and options naming installed files.
    let command = &init.params["command"];
    let (prog, args) = command.split_first().unwrap();
    staged.assert_installed(prog);
    let mode = std::fs::metadata(staged.at(prog))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "{prog} is not executable");
    assert_eq!(args.first().map(String::as_str), Some("run"), "{command:?}");
    let config_at = args.iter().position(|a| a == "--config").unwrap();
    let config = &args[config_at + 1];
    staged.assert_installed(config);
    for a in args.iter().filter(|a| a.starts_with('/')) {
        staged.assert_installed(a);
    }

    // Watched files: the config, and every pattern matches installed files.
    let files = &init.params["file"];
    assert!(files.contains(config), "{files:?}");
    // The ACS settings are UCI: `uci commit cwmpd` reloads, and reload sees the file change.
    assert_eq!(init.reload_triggers, ["cwmpd"]);
    assert!(files.iter().any(|f| f == "/etc/config/cwmpd"), "{files:?}");
    staged.assert_installed("/etc/config/cwmpd");
    for f in files {
        if f.contains('*') {
            let matched = glob(&staged.at(f));
            assert!(!matched.is_empty(), "{f} matches nothing installed");
            for m in matched {
                let router = Path::new("/").join(m.strip_prefix(&staged.root).unwrap());
                staged.assert_installed(router.to_str().unwrap());
            }
        } else {
            staged.assert_installed(f);
        }
    }

    // The installed config, with the staged root as prefix of its absolute paths.
    let cfg_file = staged.at(config);
    let cfg = Config::load(Some(&cfg_file)).unwrap();
    let mut doc: toml::Table = std::fs::read_to_string(&cfg_file).unwrap().parse().unwrap();
    let paths = doc.get_mut("paths").unwrap().as_table_mut().unwrap();
    for (key, value) in [
        ("board", &cfg.paths.board),
        ("datamodel", &cfg.paths.datamodel),
        ("state_dir", &cfg.paths.state_dir),
    ] {
        let v = value.to_str().unwrap();
        staged.assert_installed(v);
        paths.insert(key.into(), staged.at(v).to_str().unwrap().into());
    }
    std::fs::write(&cfg_file, doc.to_string()).unwrap();

    // The installed binary with the init script's options, `run` replaced by `check`.
    let staged_args: Vec<String> = std::iter::once("check".to_string())
        .chain(args[1..].iter().map(|a| {
            if a.starts_with('/') {
                staged.at(a).to_str().unwrap().to_string()
            } else {
                a.clone()
            }
        }))
        .collect();
    let out = Command::new(staged.at(prog))
        .args(&staged_args)
        .env_remove("CWMPD_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{staged_args:?}\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("board: openwrt"), "{stdout}");
    let supported = stdout
        .lines()
        .find_map(|l| l.strip_prefix("board: openwrt ("))
        .and_then(|l| l.split(" parameters supported").next())
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    assert!(supported > 100, "{stdout}");
    // The state directory the installed config names exists (the package makes it) and
    // `check` left it alone: only the running agent writes state.
    let state = staged.at(cfg.paths.state_dir.to_str().unwrap());
    assert!(state.is_dir());
    assert!(!state.join("state.toml").exists());
}

#[test]
fn installed_config_is_the_openwrt_default() {
    let mk = makefile();
    let staged = stage(&mk, "config");
    staged.assert_installed("/etc/cwmpd/cwmpd.toml");
    let cfg = Config::load(Some(&staged.at("/etc/cwmpd/cwmpd.toml"))).unwrap();
    assert_eq!(cfg.paths.board, Path::new("/etc/cwmpd/board/openwrt.toml"));
    assert_eq!(cfg.paths.datamodel, Path::new("/usr/share/cwmpd/datamodel"));
    assert_eq!(cfg.paths.state_dir, Path::new("/etc/cwmpd/state"));
    assert_eq!(cfg.log.target, LogTarget::Syslog);
    assert_eq!(cfg.log.syslog_socket, Path::new("/dev/log"));
    // The config holds passwords: installed readable by root only.
    let mode = std::fs::metadata(staged.at("/etc/cwmpd/cwmpd.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Every board the repository has is installed, so includes resolve on the router.
    for part in ["", "linux/", "openwrt/"] {
        for b in glob(&root().join(format!("board/{part}*.toml"))) {
            let name = b.file_name().unwrap().to_str().unwrap();
            staged.assert_installed(&format!("/etc/cwmpd/board/{part}{name}"));
        }
    }
    // Conffiles are installed paths.
    for c in &mk.blocks["Package/cwmpd/conffiles"] {
        let c = c.trim().trim_end_matches('/');
        if !c.is_empty() {
            staged.assert_installed(c);
        }
    }
}
