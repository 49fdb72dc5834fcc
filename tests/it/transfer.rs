//! File transfers end to end: the real `cwmpd run`, the scripted ACS and a file server, all on
//! 127.0.0.1. Download (applied, and every failure with its fault), reboot and kill -9 in the
//! middle, Upload byte for byte, ScheduleDownload / CancelTransfer / queue listings, and
//! AutonomousTransferComplete.

use std::time::Duration;

use cwmpd_testacs::files::{pattern, Auth, FileServer, Serve};
use cwmpd_testacs::{Acs, Reply};
use nix::sys::signal::Signal;

use crate::support::agent::{agent_dir, Agent, NO_REBOOT};
use crate::support::wait::{until, T};
use crate::support::{acs, temp_path, ClosedPort, TempDir};

const FW: &str = "1 Firmware Upgrade Image";

fn download(key: &str, ty: &str, url: &str, size: u64, auth: (&str, &str), delay: u32) -> String {
    format!(
        "<cwmp:Download><CommandKey>{key}</CommandKey><FileType>{ty}</FileType><URL>{url}</URL>\
         <Username>{}</Username><Password>{}</Password><FileSize>{size}</FileSize><TargetFileName>fw.bin</TargetFileName>\
         <DelaySeconds>{delay}</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>",
        auth.0, auth.1
    )
}

fn upload(key: &str, ty: &str, url: &str, auth: (&str, &str), delay: u32) -> String {
    format!(
        "<cwmp:Upload><CommandKey>{key}</CommandKey><FileType>{ty}</FileType><URL>{url}</URL>\
         <Username>{}</Username><Password>{}</Password><DelaySeconds>{delay}</DelaySeconds></cwmp:Upload>",
        auth.0, auth.1
    )
}

fn schedule(key: &str, url: &str, windows: &[(u32, u32, &str)]) -> String {
    let w: String = windows
        .iter()
        .map(|(s, e, m)| {
            format!(
                "<TimeWindowStruct><WindowStart>{s}</WindowStart><WindowEnd>{e}</WindowEnd><WindowMode>{m}</WindowMode>\
                 <UserMessage></UserMessage><MaxRetries>0</MaxRetries></TimeWindowStruct>"
            )
        })
        .collect();
    format!(
        "<cwmp:ScheduleDownload><CommandKey>{key}</CommandKey><FileType>{FW}</FileType><URL>{url}</URL><Username></Username>\
         <Password></Password><FileSize>0</FileSize><TargetFileName></TargetFileName>\
         <TimeWindowList soap-enc:arrayType=\"cwmp:TimeWindowStruct[{}]\">{w}</TimeWindowList></cwmp:ScheduleDownload>",
        windows.len()
    )
}

/// A transfer section whose apply records its arguments and the file it got.
fn board(tag: &str, reboot: bool, extra: &str) -> String {
    let d = agent_dir(tag);
    let d = d.display();
    let apply = if reboot {
        // Stands in for sysupgrade: installs (the new SoftwareVersion too), then takes the
        // device (the agent) down.
        format!("[\"sh\", \"-c\", \"cp \\\"$1\\\" {d}/applied && echo 2.0 > {d}/version && kill -9 $PPID\", \"sh\", \"{{file}}\"]")
    } else {
        format!(
            "[\"sh\", \"-c\", \"cp \\\"$1\\\" {d}/applied && echo \\\"$2|$3|$4|$5\\\" > {d}/args\", \"sh\", \"{{file}}\", \"{{target}}\", \"{{type}}\", \"{{size}}\", \"{{key}}\"]"
        )
    };
    firmware_board(tag, &apply, reboot, extra)
}

/// A transfer section for firmware applied by `apply`, and a SoftwareVersion read from the
/// file `version` in the agent's directory (1.0 until an apply writes another).
fn firmware_board(tag: &str, apply: &str, reboot: bool, extra: &str) -> String {
    let d = agent_dir(tag);
    let d = d.display();
    format!(
        "\n[[object]]\npath = \"Device.DeviceInfo.\"\n[object.params]\n\
         SoftwareVersion = {{ handler = \"file\", file = \"{d}/version\", default = \"1.0\" }}\n\
         \n[transfer]\ndir = \"{d}/xfer\"\nmax_size = 1000000\n[transfer.download.\"{FW}\"]\napply = {apply}\nreboot = {reboot}\n{extra}"
    )
}

/// (CommandKey, FaultCode, FaultString) of each TransferComplete the ACS received.
fn completes(acs: &Acs) -> Vec<(String, u32, String)> {
    acs.replies()
        .iter()
        .filter(|r| r.name == "TransferComplete")
        .map(|r| {
            let t =
                |e: Option<&cwmpd_testacs::Element>| e.map(|e| e.text.clone()).unwrap_or_default();
            let fs = r.body.child("FaultStruct");
            (
                t(r.body.child("CommandKey")),
                t(fs.and_then(|f| f.child("FaultCode")))
                    .trim()
                    .parse()
                    .unwrap_or(u32::MAX),
                t(fs.and_then(|f| f.child("FaultString"))),
            )
        })
        .collect()
}

fn wait_completes(acs: &Acs, n: usize, a: &Agent) -> Vec<(String, u32, String)> {
    assert!(
        acs.wait(Duration::from_secs(30), |_, r, _| r
            .iter()
            .filter(|r| r.name == "TransferComplete")
            .count()
            >= n),
        "{n} TransferCompletes: {:?}\n{}",
        completes(acs),
        a.log()
    );
    // The POST after the last TransferComplete shows the agent has taken its response.
    let seen = acs
        .replies()
        .iter()
        .rev()
        .find(|r| r.name == "TransferComplete")
        .map_or(0, |r| r.request);
    assert!(
        acs.wait_requests(seen + 1, T),
        "no POST after the TransferComplete"
    );
    completes(acs)
}

fn replies_named(acs: &Acs, name: &str) -> Vec<Reply> {
    acs.replies()
        .into_iter()
        .filter(|r| r.name == name)
        .collect()
}

fn leftovers(tag: &str) -> Vec<String> {
    std::fs::read_dir(agent_dir(tag).join("xfer"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_firmware_download_is_applied_and_reported_once() {
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    let fw = pattern(100_000);
    files.serve("/fw.bin", Serve::Bytes(fw.clone()));
    acs.push(&download(
        "fw-1",
        FW,
        &files.url("/fw.bin"),
        100_000,
        ("", ""),
        0,
    ));
    let a = Agent::start("dl-ok", &acs, "", &board("dl-ok", false, ""));
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc, [("fw-1".to_string(), 0, String::new())], "{}", a.log());
    let resp = &replies_named(&acs, "DownloadResponse")[0];
    assert_eq!(resp.body.child("Status").unwrap().text, "1");
    assert_eq!(std::fs::read(a.file("applied")).unwrap(), fw);
    assert_eq!(
        std::fs::read_to_string(a.file("args")).unwrap().trim(),
        format!("fw.bin|{FW}|100000|fw-1")
    );
    // The session that carried the TransferComplete announced it.
    let inform = acs.informs().into_iter().last().unwrap();
    assert!(inform.codes().contains(&"7 TRANSFER COMPLETE".to_string()));
    assert!(inform
        .events
        .contains(&("M Download".to_string(), "fw-1".to_string())));
    assert_eq!(
        leftovers("dl-ok"),
        Vec::<String>::new(),
        "no file left behind"
    );
    // Exactly once: later sessions do not repeat it.
    acs.push("<cwmp:GetRPCMethods/>");
    let cr = acs.cr_url().unwrap();
    let n = acs.informs().len();
    let ended = acs.ended();
    assert_eq!(Acs::connection_request(&cr, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait_informs(n + 1, T));
    // That whole session (over when the ACS ends it) repeated nothing.
    assert!(acs.wait_ended(ended + 1, T), "{}", a.log());
    assert_eq!(completes(&acs).len(), 1);
}

#[test]
fn every_download_failure_has_its_fault_and_leaves_nothing() {
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    let secure = FileServer::start(Some(Auth::Digest("fw".into(), "s3cret".into()))).unwrap();
    let body = pattern(4000);
    files.serve("/ok.bin", Serve::Bytes(body.clone()));
    files.serve(
        "/cut.bin",
        Serve::Cut {
            body: body.clone(),
            sent: 1500,
        },
    );
    files.serve("/big.bin", Serve::Pattern(2_000_000));
    secure.serve("/fw.bin", Serve::Bytes(body.clone()));
    let tag = "dl-faults";
    // Immediate faults: protocol, FileType, URL with credentials.
    acs.push(&download("ftp", FW, "ftp://127.0.0.1/x", 0, ("", ""), 0));
    acs.push(&download(
        "type",
        "2 Web Content",
        &files.url("/ok.bin"),
        0,
        ("", ""),
        0,
    ));
    acs.push(&download(
        "cred",
        FW,
        "http://u:p@127.0.0.1:1/x",
        0,
        ("", ""),
        0,
    ));
    // Failures reported by TransferComplete.
    acs.push(&download(
        "size",
        FW,
        &files.url("/ok.bin"),
        3999,
        ("", ""),
        0,
    ));
    acs.push(&download(
        "404",
        FW,
        &files.url("/missing.bin"),
        0,
        ("", ""),
        0,
    ));
    acs.push(&download("cut", FW, &files.url("/cut.bin"), 0, ("", ""), 0));
    acs.push(&download(
        "space",
        FW,
        &files.url("/ok.bin"),
        5_000_000,
        ("", ""),
        0,
    ));
    acs.push(&download(
        "stream",
        FW,
        &files.url("/big.bin"),
        0,
        ("", ""),
        0,
    ));
    acs.push(&download(
        "refused",
        FW,
        &files.url("/nothing"),
        0,
        ("", ""),
        0,
    ));
    acs.push(&download(
        "badauth",
        FW,
        &secure.url("/fw.bin"),
        0,
        ("fw", "wrong"),
        0,
    ));
    acs.push(&download(
        "auth",
        FW,
        &secure.url("/fw.bin"),
        4000,
        ("fw", "s3cret"),
        0,
    ));
    let closed = ClosedPort::new();
    acs.push(&download(
        "unreachable",
        FW,
        &format!("http://127.0.0.1:{}/fw.bin", closed.port),
        0,
        ("", ""),
        0,
    ));
    // Apply commands that refuse the file: a bad signature (9019) and a bad image (9018).
    acs.push(&download(
        "sig",
        "X 00D09E signed",
        &files.url("/ok.bin"),
        0,
        ("", ""),
        0,
    ));
    acs.push(&download(
        "bad",
        "X 00D09E image",
        &files.url("/ok.bin"),
        0,
        ("", ""),
        0,
    ));
    let extra = "[transfer.download.\"X 00D09E signed\"]\napply = [\"sh\", \"-c\", \"exit 19\"]\nauth_failure_status = 19\n\
                 [transfer.download.\"X 00D09E image\"]\napply = [\"sh\", \"-c\", \"echo not for this board >&2; exit 1\"]\n";
    let a = Agent::start(tag, &acs, "", &board(tag, false, extra));
    let tc = wait_completes(&acs, 11, &a);
    let faults: Vec<u32> = replies_named(&acs, "Fault")
        .iter()
        .filter_map(|r| r.fault_code())
        .collect();
    assert_eq!(faults, [9013, 9003, 9003], "{}", a.log());
    let code = |k: &str| {
        tc.iter()
            .find(|(key, _, _)| key == k)
            .map(|(_, c, s)| (*c, s.clone()))
            .unwrap_or_else(|| panic!("no TransferComplete for {k}: {tc:?}"))
    };
    assert_eq!(code("size").0, 9018, "{:?}", code("size"));
    assert_eq!(code("404").0, 9016, "{:?}", code("404"));
    assert_eq!(code("cut").0, 9017, "{:?}", code("cut"));
    assert_eq!(code("space").0, 9010, "{:?}", code("space"));
    assert!(code("space").1.contains("max_size"), "{:?}", code("space"));
    assert_eq!(code("stream").0, 9010, "{:?}", code("stream"));
    assert_eq!(code("refused").0, 9016, "{:?}", code("refused"));
    assert_eq!(code("badauth").0, 9012, "{:?}", code("badauth"));
    assert_eq!(code("auth").0, 0, "{:?}", code("auth"));
    assert_eq!(code("unreachable").0, 9015, "{:?}", code("unreachable"));
    assert_eq!(code("sig").0, 9019, "{:?}", code("sig"));
    assert_eq!(code("bad").0, 9018, "{:?}", code("bad"));
    assert!(
        code("bad").1.contains("not for this board"),
        "{:?}",
        code("bad")
    );
    assert_eq!(std::fs::read(a.file("applied")).unwrap(), body);
    assert_eq!(
        leftovers(tag),
        Vec::<String>::new(),
        "partial files removed"
    );
    assert!(secure
        .requests()
        .iter()
        .all(|(m, p)| m == "GET" && p == "/fw.bin"));
}

#[test]
fn a_full_disk_is_a_download_failure() {
    // A 64 KiB tmpfs (root only): the download dies on ENOSPC, not on an announced size.
    if !nix::unistd::geteuid().is_root() || std::env::var_os("CWMPD_QEMU_USER").is_some() {
        eprintln!("skipped: needs root for a tmpfs");
        return;
    }
    let tag = "dl-full";
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    files.serve("/fw.bin", Serve::Pattern(200_000));
    acs.push(&download("full", FW, &files.url("/fw.bin"), 0, ("", ""), 0));
    let xfer = temp_path("transfer-tmpfs");
    let from = format!(
        "dir = \"{}/xfer\"\nmax_size = 1000000\n",
        agent_dir(tag).display()
    );
    let b = board(tag, false, "");
    assert!(b.contains(&from));
    let b = b.replace(&from, &format!("dir = \"{}\"\n", xfer.display()));
    std::fs::create_dir_all(&xfer).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "cwmpd-test"])
        .arg(&xfer)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Umount(std::path::PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let _guard = Umount(xfer.clone());
    let a = Agent::start(tag, &acs, "", &b);
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc[0].1, 9010, "{tc:?}\n{}", a.log());
    assert!(tc[0].2.contains("space"), "{tc:?}");
    assert_eq!(
        std::fs::read_dir(&xfer).unwrap().count(),
        0,
        "partial file removed"
    );
}

#[test]
fn an_apply_that_reboots_reports_success_after_the_boot_exactly_once() {
    let tag = "dl-reboot";
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    files.serve("/fw.bin", Serve::Bytes(pattern(50_000)));
    acs.push(&download(
        "up-1",
        FW,
        &files.url("/fw.bin"),
        50_000,
        ("", ""),
        0,
    ));
    let mut a = Agent::start(tag, &acs, "", &board(tag, true, ""));
    // The apply kills the agent as sysupgrade would.
    let status = a.wait_exit().expect("the apply took the agent down");
    assert!(!status.success());
    assert_eq!(std::fs::read(a.file("applied")).unwrap(), pattern(50_000));
    assert!(completes(&acs).is_empty());
    // The device boots into what was installed.
    a.new_boot();
    a.spawn();
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc, [("up-1".to_string(), 0, String::new())]);
    let inform = acs.informs().into_iter().last().unwrap();
    for c in ["1 BOOT", "7 TRANSFER COMPLETE", "M Download"] {
        assert!(
            inform.codes().contains(&c.to_string()),
            "{:?}\n{}",
            acs.informs(),
            a.log()
        );
    }
    // Another power cut does not report it again (in the whole session after it).
    a.signal(Signal::SIGKILL);
    let n = acs.informs().len();
    let ended = acs.ended();
    a.new_boot();
    a.spawn();
    assert!(acs.wait_informs(n + 1, T), "{}", a.log());
    assert!(acs.wait_ended(ended + 1, T), "{}", a.log());
    assert_eq!(completes(&acs).len(), 1, "{}", a.log());
    assert_eq!(leftovers(tag), Vec::<String>::new());
}

/// An apply that returns where the board says it needs a reboot: the agent reboots (the test
/// board's reboot command makes a new boot) and reports after the boot (TR-069 A.3.3.2:
/// the result of what the boot made of it).
fn apply_then_reboot(tag: &str, writes_version: bool, reboot_works: bool) -> (Acs, Agent) {
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    files.serve("/fw.bin", Serve::Bytes(pattern(10_000)));
    acs.push(&download(
        "fw-r",
        FW,
        &files.url("/fw.bin"),
        10_000,
        ("", ""),
        0,
    ));
    let d = agent_dir(tag);
    let d = d.display();
    let version = if writes_version {
        format!(" && echo 2.0 > {d}/version")
    } else {
        String::new()
    };
    let apply =
        format!("[\"sh\", \"-c\", \"cp \\\"$1\\\" {d}/applied{version}\", \"sh\", \"{{file}}\"]");
    let board = firmware_board(tag, &apply, true, "");
    let a = Agent::start(tag, &acs, "", &board);
    if !reboot_works {
        std::fs::write(a.file(NO_REBOOT), "").unwrap();
    }
    (acs, a)
}

#[test]
fn firmware_that_needs_a_reboot_is_reported_after_the_boot() {
    let (acs, mut a) = apply_then_reboot("fw-boot", true, true);
    let status = a.wait_exit().expect("the agent went down for the reboot");
    assert!(status.success(), "{}", a.log());
    assert!(a.file("rebooted").exists(), "the board's reboot ran");
    assert!(
        completes(&acs).is_empty(),
        "nothing reported before the boot"
    );
    // The boot the reboot command made: the result comes with 1 BOOT, 7 and M Download.
    a.spawn();
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc, [("fw-r".to_string(), 0, String::new())]);
    let inform = acs.informs().into_iter().last().unwrap();
    // (And 4 VALUE CHANGE: SoftwareVersion is notified, and it changed.)
    assert_eq!(
        inform.codes(),
        [
            "1 BOOT",
            "M Download",
            "7 TRANSFER COMPLETE",
            "4 VALUE CHANGE"
        ],
        "{}",
        a.log()
    );
    assert_eq!(inform.events[1].1, "fw-r");
}

#[test]
fn firmware_that_boots_back_into_the_old_software_is_a_failure() {
    let (acs, mut a) = apply_then_reboot("fw-old", false, true);
    a.wait_exit().expect("the agent went down for the reboot");
    a.spawn();
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc[0].1, 9018, "{tc:?}");
    assert!(tc[0].2.contains("back into SoftwareVersion 1.0"), "{tc:?}");
}

#[test]
fn a_reboot_that_fails_is_reported_and_the_agent_keeps_running() {
    let (acs, a) = apply_then_reboot("fw-noboot", true, false);
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc[0].1, 9010, "{tc:?}");
    assert!(tc[0].2.contains("reboot"), "{tc:?}");
    assert!(a.log().contains("reboot after apply"), "{}", a.log());
    let inform = acs.informs().into_iter().last().unwrap();
    assert!(
        !inform.codes().contains(&"1 BOOT".to_string()),
        "no boot happened"
    );
}

#[test]
fn kill_9_mid_download_reports_one_failure_and_no_partial_file() {
    let tag = "dl-kill";
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    files.serve(
        "/slow.bin",
        Serve::Slow {
            body: pattern(200 * 1024),
            pause: Duration::from_millis(50),
        },
    );
    acs.push(&download(
        "slow",
        FW,
        &files.url("/slow.bin"),
        0,
        ("", ""),
        0,
    ));
    let mut a = Agent::start(tag, &acs, "", &board(tag, false, ""));
    // Killed once the first bytes are on disk (the whole file takes 10 s to come).
    let xfer = agent_dir(tag).join("xfer");
    let receiving = || {
        std::fs::read_dir(&xfer)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().ends_with(".part")
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
    };
    assert!(until(T, receiving), "download never started\n{}", a.log());
    // Killed in the same boot (the daemon, not the device): the transfer it cut short is
    // reported failed.
    a.signal(Signal::SIGKILL);
    a.spawn();
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc[0].0, "slow");
    assert_eq!(tc[0].1, 9010, "{tc:?}");
    assert!(tc[0].2.contains("interrupted"), "{tc:?}");
    assert!(!a.file("applied").exists(), "never half-applied");
    assert_eq!(leftovers(tag), Vec::<String>::new());
    // A power cut: the device boots; the result is not reported again.
    a.signal(Signal::SIGKILL);
    let n = acs.informs().len();
    let ended = acs.ended();
    a.new_boot();
    a.spawn();
    assert!(acs.wait_informs(n + 1, T), "{}", a.log());
    assert!(acs.wait_ended(ended + 1, T), "{}", a.log());
    assert_eq!(
        completes(&acs).len(),
        1,
        "{:?}\n{}",
        completes(&acs),
        a.log()
    );
}

#[test]
fn uploads_arrive_byte_for_byte() {
    let tag = "ul";
    let acs = acs();
    let files = FileServer::start(Some(Auth::Digest("up".into(), "pw2".into()))).unwrap();
    let basic = FileServer::start(Some(Auth::Basic("up".into(), "pw3".into()))).unwrap();
    let src_dir = TempDir::new("transfer-ul");
    let src = src_dir.join("config.bin");
    let config: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    std::fs::write(&src, &config).unwrap();
    let extra = format!(
        "[transfer.upload.\"1 Vendor Configuration File\"]\nfile = \"{}\"\n\
         [transfer.upload.\"2 Vendor Log File\"]\ncommand = [\"sh\", \"-c\", \"for i in 1 2 3; do echo log line $i; done\"]\n\
         [transfer.upload.\"X 00D09E broken\"]\ncommand = [\"false\"]\n",
        src.display()
    );
    acs.push(&upload(
        "cfg",
        "1 Vendor Configuration File",
        &files.url("/up/cfg"),
        ("up", "pw2"),
        0,
    ));
    acs.push(&upload(
        "log",
        "2 Vendor Log File",
        &basic.url("/up/log"),
        ("up", "pw3"),
        0,
    ));
    acs.push(&upload(
        "bad",
        "X 00D09E broken",
        &files.url("/up/x"),
        ("up", "pw2"),
        0,
    ));
    acs.push(&upload(
        "nope",
        "4 Vendor Log File 9",
        &files.url("/up/y"),
        ("", ""),
        0,
    ));
    // The Basic file server is plain http: allowed explicitly.
    let a = Agent::start(
        tag,
        &acs,
        "allow_basic_over_http = true",
        &board(tag, false, &extra),
    );
    let tc = wait_completes(&acs, 3, &a);
    let code = |k: &str| tc.iter().find(|t| t.0 == k).map(|t| t.1);
    assert_eq!(code("cfg"), Some(0), "{tc:?}\n{}", a.log());
    assert_eq!(code("log"), Some(0), "{tc:?}");
    assert_eq!(code("bad"), Some(9011), "{tc:?}");
    let faults: Vec<u32> = replies_named(&acs, "Fault")
        .iter()
        .filter_map(|r| r.fault_code())
        .collect();
    assert_eq!(faults, [9003], "unsupported Upload FileType");
    let got = files.uploads();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "/up/cfg");
    assert_eq!(got[0].1, config);
    assert_eq!(
        basic.uploads(),
        [(
            "/up/log".to_string(),
            b"log line 1\nlog line 2\nlog line 3\n".to_vec()
        )]
    );
    let informs = acs.informs();
    assert!(informs.iter().any(|i| i
        .events
        .contains(&("M Upload".to_string(), "cfg".to_string()))));
    assert_eq!(
        leftovers(tag),
        Vec::<String>::new(),
        "staged output removed"
    );
}

fn listing(r: &Reply) -> Vec<(String, String, String)> {
    r.body
        .child("TransferList")
        .map(|l| {
            l.children
                .iter()
                .map(|t| {
                    let g = |n: &str| t.child(n).map(|e| e.text.clone()).unwrap_or_default();
                    (g("CommandKey"), g("State"), g("IsDownload"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn schedule_cancel_and_queue_listings_survive_a_restart() {
    let tag = "queue";
    let acs = acs();
    let files = FileServer::start(None).unwrap();
    files.serve("/fw.bin", Serve::Bytes(pattern(1000)));
    let extra = "[transfer.upload.\"2 Vendor Log File\"]\ncommand = [\"true\"]\n";
    let url = files.url("/fw.bin");
    acs.push(&download("later", FW, &url, 0, ("", ""), 3600));
    acs.push(&schedule("sched", &url, &[(3600, 7200, "1 At Any Time")]));
    acs.push(&upload("up", "2 Vendor Log File", &url, ("", ""), 3600));
    acs.push("<cwmp:GetAllQueuedTransfers/>");
    acs.push("<cwmp:GetQueuedTransfers/>");
    acs.push("<cwmp:CancelTransfer><CommandKey>later</CommandKey></cwmp:CancelTransfer>");
    acs.push("<cwmp:CancelTransfer><CommandKey>nope</CommandKey></cwmp:CancelTransfer>");
    acs.push(&schedule(
        "mode4",
        &url,
        &[(0, 60, "4 Confirmation Needed")],
    ));
    acs.push(&schedule(
        "overlap",
        &url,
        &[(0, 60, "1 At Any Time"), (30, 90, "1 At Any Time")],
    ));
    acs.push(&schedule("now", &url, &[(0, 600, "2 Immediately")]));
    let mut a = Agent::start(tag, &acs, "", &board(tag, false, extra));
    let tc = wait_completes(&acs, 1, &a);
    assert_eq!(tc, [("now".to_string(), 0, String::new())], "{}", a.log());
    assert!(acs.informs().iter().any(|i| i
        .events
        .contains(&("M ScheduleDownload".to_string(), "now".to_string()))));
    let all = listing(&replies_named(&acs, "GetAllQueuedTransfersResponse")[0]);
    let s = |k: &str, st: &str, d: &str| (k.to_string(), st.to_string(), d.to_string());
    assert_eq!(
        all,
        [
            s("later", "1", "1"),
            s("sched", "1", "1"),
            s("up", "1", "0")
        ]
    );
    let downloads = listing(&replies_named(&acs, "GetQueuedTransfersResponse")[0]);
    assert_eq!(downloads, [s("later", "1", ""), s("sched", "1", "")]);
    assert!(replies_named(&acs, "CancelTransferResponse").len() == 1);
    let faults: Vec<u32> = replies_named(&acs, "Fault")
        .iter()
        .filter_map(|r| r.fault_code())
        .collect();
    assert_eq!(faults, [9003, 9003, 9003], "unknown key, mode 4, overlap");
    // The queue is on disk: after a reboot the listing is the same minus the cancelled.
    a.signal(Signal::SIGTERM);
    acs.push("<cwmp:GetAllQueuedTransfers/>");
    a.new_boot();
    a.spawn();
    assert!(acs.wait(T, |_, r, _| r
        .iter()
        .filter(|r| r.name == "GetAllQueuedTransfersResponse")
        .count()
        == 2));
    let after = listing(&replies_named(&acs, "GetAllQueuedTransfersResponse")[1]);
    assert_eq!(after, [s("sched", "1", "1"), s("up", "1", "0")]);
}

#[test]
fn an_autonomous_transfer_is_reported_once() {
    let tag = "atc";
    let acs = acs();
    let dir = agent_dir(tag).join("state").join("autonomous");
    let mut a = Agent::start(tag, &acs, "", "");
    assert!(acs.wait_informs(1, T));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("fw.toml"),
        "is_download = true\nfile_type = \"1 Firmware Upgrade Image\"\ntransfer_url = \"http://local/fw\"\n\
         file_size = 1234\nfault_code = 0\nstart_time = \"2026-11-25T06:00:00Z\"\ncomplete_time = \"2026-11-25T06:01:00Z\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.toml"), "is_download = \"yes\"\n").unwrap();
    // Picked up at the next start (or value check).
    a.signal(Signal::SIGTERM);
    a.spawn();
    assert!(
        acs.wait(T, |_, r, _| r
            .iter()
            .any(|r| r.name == "AutonomousTransferComplete")),
        "{}",
        a.log()
    );
    let r = replies_named(&acs, "AutonomousTransferComplete");
    let g = |n: &str| {
        r[0].body
            .child(n)
            .map(|e| e.text.clone())
            .unwrap_or_default()
    };
    assert_eq!(g("TransferURL"), "http://local/fw");
    assert_eq!(g("IsDownload"), "1");
    assert_eq!(g("FileSize"), "1234");
    assert_eq!(g("StartTime"), "2026-11-25T06:00:00Z");
    let inform = acs.informs().into_iter().last().unwrap();
    assert!(inform
        .codes()
        .contains(&"10 AUTONOMOUS TRANSFER COMPLETE".to_string()));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "spool emptied");
    assert!(a.log().contains("bad.toml"), "a bad report is logged");
}
