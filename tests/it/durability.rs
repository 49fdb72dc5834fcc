//! Acknowledged means durable (issue 12 §1): the real agent is killed with SIGKILL at a
//! random instant after the ACS has received its answer to an RPC that changes something,
//! then started again (the same boot: a power cut of the daemon, not of the device); what the
//! answer acknowledged must be there exactly once — a Set value and its ParameterKey, an
//! attribute, an added or deleted instance (numbers never reused), a ScheduleInform's
//! M ScheduleInform, a Download's or ScheduleDownload's TransferComplete, a cancelled
//! transfer gone for good, a Reboot (the board's command run once, M Reboot once), a
//! FactoryReset (run once).
//!
//! The instants come from a seeded generator (`CWMPD_KILL_SEED` replays another run); each
//! kind of RPC is killed [`KILLS`] times. The delay before a kill is the experiment's random
//! variable, not a wait for something to happen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::soap::{gpv, spa, spv};
use crate::support::wait::{poll, T};
use crate::support::{acs, root};
use cwmpd_testacs::files::{FileServer, Serve};
use cwmpd_testacs::{Acs, Reply};

/// Kills per kind of RPC.
const KILLS: usize = 6;
/// Kills land within this many milliseconds after the ACS got the answer.
const WINDOW_MS: u64 = 40;
/// What a file transfer's apply command installs.
const CONFIG: &str = "3 Vendor Configuration File";
/// The table the ACS can add rows to on every board.
const TABLE: &str = "Device.ManagementServer.InformParameter.";
/// A stored value the ACS can set.
const CODE: &str = "Device.DeviceInfo.ProvisioningCode";
/// A parameter whose notification the ACS may turn on (ProvisioningCode's is forced).
const NOTIFIED: &str = "Device.ManagementServer.PeriodicInformInterval";

/// xorshift64*: the test's own seeded source of kill instants.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn seed(salt: u64) -> u64 {
    std::env::var("CWMPD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_1203)
        ^ salt
}

/// The agent's config and board. The boot id counts boots and factory resets ("3 1"): the
/// reboot and factory-reset commands stand for the device going down, and write the next
/// one at once (a rename), so a power cut finds the device either booted or not. A vendor
/// configuration file is installed by copying.
fn config(dir: &Path, acs: &Acs) -> String {
    let root = root().display();
    let d = dir.display();
    std::fs::write(dir.join("boot_id"), "0 0\n").unwrap();
    let next = |boot: &str, reset: &str| {
        format!(
            "[\"sh\", \"-c\", \"read b r < {d}/boot_id && echo $((b{boot})) $((r{reset})) > {d}/boot_id.new && mv {d}/boot_id.new {d}/boot_id\"]"
        )
    };
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"test\"\ninclude = [\"{root}/board/linux.toml\"]\nboot_id = \"boot_id\"\n\
             reboot = {}\nfactory_reset = {}\n\n\
             [transfer]\ndir = \"{d}/xfer\"\nmax_size = 100000\n\
             [transfer.download.\"{CONFIG}\"]\napply = [\"sh\", \"-c\", \"cp \\\"$1\\\" {d}/applied\", \"sh\", \"{{file}}\"]\n\n\
             [[object]]\npath = \"Device.ManagementServer.\"\n[object.params]\n\
             CWMPRetryMinimumWaitInterval = {{ handler = \"stored\", default = \"1\", write = true }}\n\
             CWMPRetryIntervalMultiplier = {{ handler = \"stored\", default = \"1000\", write = true }}\n",
            next("+1", ""),
            next("+1", "+1"),
        ),
    )
    .unwrap();
    format!(
        "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\ntimeout = 5\n\
         [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
         [notify]\ninterval = 0\nnetlink = false\n\
         [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
        acs.url()
    )
}

/// One agent killed again and again, and what the test knows it acknowledged.
struct Rig {
    acs: Acs,
    files: FileServer,
    agent: Agent,
    rng: Rng,
    kills: usize,
    /// Instance numbers AddObject has handed out since the last factory reset.
    issued: BTreeSet<u32>,
    /// Rows that exist (added, not deleted).
    rows: BTreeSet<u32>,
    /// What the last acknowledged Set left: ProvisioningCode, ParameterKey.
    value: Option<(String, String)>,
    /// The last acknowledged notification level of ProvisioningCode.
    level: Option<u8>,
    /// The logs of the processes killed so far (each start writes a new log).
    history: String,
}

impl Rig {
    fn new(tag: &str, salt: u64) -> Rig {
        let acs = acs();
        let files = FileServer::start(None).unwrap();
        files.serve("/cfg.bin", Serve::Bytes(b"vendor config\n".to_vec()));
        let agent = Agent::start_with(tag, |d| config(d, &acs), Some("debug"));
        let rig = Rig {
            acs,
            files,
            agent,
            rng: Rng(seed(salt)),
            kills: 0,
            issued: BTreeSet::new(),
            rows: BTreeSet::new(),
            value: None,
            level: None,
            history: String::new(),
        };
        // The first session (BOOTSTRAP) is over before the kills begin.
        assert!(rig.acs.wait_ended(1, T), "{}", rig.agent.log());
        rig
    }

    /// Keeps the agent running: one that exited (it ran a reboot) is started again.
    fn alive(&mut self) {
        if self.agent.exited() {
            self.history.push_str(&self.agent.log());
            self.history.push_str("---- exited, started again\n");
            self.agent.spawn();
        }
    }

    /// Waits for `cond`, restarting the agent whenever it has gone down by itself.
    fn wait(&mut self, what: &str, mut cond: impl FnMut(&Acs) -> bool) {
        let ok = poll(T * 2, || {
            self.alive();
            cond(&self.acs).then_some(())
        });
        assert!(
            ok.is_some(),
            "{what} (seed {:#x}, kill {}):\n{}{}",
            seed(0),
            self.kills,
            self.history,
            self.agent.log()
        );
    }

    /// Runs `requests` in a session (a Connection Request starts it) and returns their
    /// replies, in order.
    fn session(&mut self, requests: &[String]) -> Vec<Reply> {
        self.alive();
        let before = self.acs.replies().len();
        for r in requests {
            self.acs.push(r);
        }
        let url = format!("http://{}/cr", self.agent.listening());
        let n = requests.len();
        let _ = Acs::connection_request(&url, "acs", "crpw");
        self.wait("the replies", |acs| acs.replies().len() >= before + n);
        self.acs.replies()[before..before + n].to_vec()
    }

    /// Pushes `setup` then `rpc`, starts a session, and kills the agent at a random instant
    /// after the ACS received the answer to `rpc`; then starts it again. Returns the answer.
    fn kill_after(&mut self, setup: &[String], rpc: String) -> Reply {
        self.alive();
        let before = self.acs.replies().len();
        for r in setup.iter().chain([&rpc]) {
            self.acs.push(r);
        }
        let n = setup.len() + 1;
        let url = format!("http://{}/cr", self.agent.listening());
        let _ = Acs::connection_request(&url, "acs", "crpw");
        // The answer to `rpc` itself (a TransferComplete of an earlier transfer could come
        // in between; the test syncs after each transfer so none does).
        let name = rpc
            .trim_start_matches("<cwmp:")
            .split(['>', '/', ' '])
            .next()
            .unwrap_or_default()
            .to_string()
            + "Response";
        self.wait("the answer before the kill", |acs| {
            acs.replies().len() >= before + n
        });
        let got = self.acs.replies()[before + n - 1].name.clone();
        assert_eq!(got, name, "the answer to the RPC is the last reply");
        std::thread::sleep(Duration::from_millis(self.rng.next() % WINDOW_MS));
        self.agent.power_cut();
        self.kills += 1;
        self.history.push_str(&self.agent.log());
        self.history
            .push_str(&format!("---- kill {}\n", self.kills));
        self.agent.spawn();
        let reply = self.acs.replies()[before + n - 1].clone();
        assert!(
            !reply.name.contains("Fault"),
            "{}: {}",
            reply.name,
            reply.raw
        );
        reply
    }

    /// A whole session after whatever the agent is doing: what came before is over.
    fn sync(&mut self) {
        self.session(&["<cwmp:GetRPCMethods/>".to_string()]);
    }

    /// The values of `names` now.
    fn values(&mut self, names: &[&str]) -> BTreeMap<String, String> {
        let r = self.session(&[gpv(names)]).remove(0);
        r.values().into_iter().collect()
    }

    /// Instance numbers of the table now.
    fn table_rows(&mut self) -> BTreeSet<u32> {
        let r = self
            .session(&[format!(
                "<cwmp:GetParameterNames><ParameterPath>{TABLE}</ParameterPath><NextLevel>true</NextLevel></cwmp:GetParameterNames>"
            )])
            .remove(0);
        r.raw
            .split("<Name>")
            .skip(1)
            .filter_map(|s| s.split("</Name>").next())
            .filter_map(|n| n.strip_prefix(TABLE)?.strip_suffix('.')?.parse().ok())
            .collect()
    }

    /// (boots, factory resets) the device has had.
    fn boots(&self) -> (u32, u32) {
        let text = std::fs::read_to_string(self.agent.file("boot_id")).unwrap();
        let mut n = text.split_whitespace().map(|w| w.parse().unwrap());
        (n.next().unwrap(), n.next().unwrap())
    }

    /// Times an event with this CommandKey reached the ACS in an Inform.
    fn informed(&self, code: &str, key: &str) -> usize {
        self.acs
            .informs()
            .iter()
            .flat_map(|i| i.events.clone())
            .filter(|(c, k)| c == code && k == key)
            .count()
    }

    /// TransferCompletes with this CommandKey: their fault codes and strings.
    fn completes(&self, key: &str) -> Vec<(u32, String)> {
        self.acs
            .replies()
            .iter()
            .filter(|r| r.name == "TransferComplete")
            .filter(|r| r.body.child("CommandKey").is_some_and(|k| k.text == key))
            .map(|r| {
                let fault = r.body.child("FaultStruct");
                let text = |n: &str| {
                    fault
                        .and_then(|f| f.child(n))
                        .map(|c| c.text.trim().to_string())
                        .unwrap_or_default()
                };
                (
                    text("FaultCode").parse().unwrap_or(u32::MAX),
                    text("FaultString"),
                )
            })
            .collect()
    }

    /// The transfer `key` was reported exactly once: done, or cut short by the kill while it
    /// ran (a crash in the middle of a transfer is reported failed, never half-applied).
    fn reported_once(&self, key: &str, method: &str) {
        let tc = self.completes(key);
        assert_eq!(
            tc.len(),
            1,
            "{key}: {tc:?}\n{}{}",
            self.history,
            self.agent.log()
        );
        let (code, text) = &tc[0];
        assert!(
            *code == 0 || (*code == 9010 && text.contains("interrupted")),
            "{key}: {tc:?}"
        );
        assert_eq!(self.informed(method, key), 1, "{key}");
    }

    fn add_row(&self, key: &str) -> String {
        format!("<cwmp:AddObject><ObjectName>{TABLE}</ObjectName><ParameterKey>{key}</ParameterKey></cwmp:AddObject>")
    }

    fn download(&self, key: &str, delay: u32) -> String {
        format!(
            "<cwmp:Download><CommandKey>{key}</CommandKey><FileType>{CONFIG}</FileType><URL>{}</URL>\
             <Username></Username><Password></Password><FileSize>0</FileSize><TargetFileName>cfg</TargetFileName>\
             <DelaySeconds>{delay}</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>",
            self.files.url("/cfg.bin")
        )
    }

    fn after_add(&mut self, reply: &Reply) {
        let n: u32 = reply
            .body
            .child("InstanceNumber")
            .and_then(|c| c.text.trim().parse().ok())
            .expect("an InstanceNumber");
        assert!(
            self.issued.insert(n),
            "instance {n} handed out twice (seed {:#x}, kill {})",
            seed(0),
            self.kills
        );
        self.rows.insert(n);
    }

    fn check_rows(&mut self) {
        let rows = self.table_rows();
        assert_eq!(rows, self.rows, "rows after kill {}", self.kills);
    }
}

/// SetParameterValues (with its ParameterKey), SetParameterAttributes, AddObject and
/// DeleteObject, killed after their answers: each is there after the restart.
#[test]
fn model_changes_survive_a_kill_after_their_answer() {
    let mut rig = Rig::new("kill-model", 1);
    for i in 0..KILLS {
        // SetParameterValues of a stored value, and the ParameterKey.
        let (code, key) = (format!("code-{i}"), format!("spv-{i}"));
        rig.kill_after(&[], spv(&[(CODE, "string", &code)], &key));
        rig.value = Some((code, key));
        let v = rig.values(&[CODE, "Device.ManagementServer.ParameterKey"]);
        let (code, key) = rig.value.clone().unwrap();
        assert_eq!(v.get(CODE), Some(&code), "kill {}", rig.kills);
        assert_eq!(
            v.get("Device.ManagementServer.ParameterKey"),
            Some(&key),
            "kill {}",
            rig.kills
        );

        // SetParameterAttributes.
        let level = [2u8, 1, 0][i % 3];
        rig.kill_after(&[], spa(&[NOTIFIED], level));
        rig.level = Some(level);
        let r = rig
            .session(&[format!(
                "<cwmp:GetParameterAttributes><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>{NOTIFIED}</string></ParameterNames></cwmp:GetParameterAttributes>"
            )])
            .remove(0);
        assert!(
            r.raw
                .contains(&format!("<Notification>{level}</Notification>")),
            "notification {level} after kill {}: {}",
            rig.kills,
            r.raw
        );

        // AddObject: the row exists, and its number is never handed out again.
        let add = rig.add_row(&format!("add-{i}"));
        let reply = rig.kill_after(&[], add);
        rig.after_add(&reply);
        rig.check_rows();

        // DeleteObject of a row added in the same session.
        let add = rig.add_row(&format!("add-{i}b"));
        let before = rig.acs.replies().len();
        let first = rig.rows.iter().next().copied().unwrap();
        let delete = format!(
            "<cwmp:DeleteObject><ObjectName>{TABLE}{first}.</ObjectName><ParameterKey>del-{i}</ParameterKey></cwmp:DeleteObject>"
        );
        rig.kill_after(&[add], delete);
        let added = rig.acs.replies()[before].clone();
        rig.after_add(&added);
        rig.rows.remove(&first);
        rig.check_rows();
    }
    assert_eq!(rig.kills, 4 * KILLS);
}

/// ScheduleInform, Download, ScheduleDownload and CancelTransfer, killed after their
/// answers: each promised Inform or TransferComplete comes exactly once, and a cancelled
/// transfer never runs.
#[test]
fn promises_survive_a_kill_after_their_answer() {
    let mut rig = Rig::new("kill-promise", 2);
    for i in 0..KILLS {
        let key = format!("si-{i}");
        rig.kill_after(
            &[],
            format!("<cwmp:ScheduleInform><DelaySeconds>1</DelaySeconds><CommandKey>{key}</CommandKey></cwmp:ScheduleInform>"),
        );
        let k = key.clone();
        rig.wait("the scheduled Inform", move |acs| {
            acs.informs()
                .iter()
                .any(|i| i.events.contains(&("M ScheduleInform".into(), k.clone())))
        });
        rig.sync();

        let key = format!("dl-{i}");
        // A second away: the kill lands in the session that acknowledged it, not in the
        // one that reports it.
        let dl = rig.download(&key, 1);
        rig.kill_after(&[], dl);
        let k = key.clone();
        rig.wait("the Download's TransferComplete", move |acs| {
            acs.replies().iter().any(|r| {
                r.name == "TransferComplete"
                    && r.body.child("CommandKey").is_some_and(|c| c.text == k)
            })
        });
        rig.sync();

        let key = format!("sd-{i}");
        let url = rig.files.url("/cfg.bin");
        rig.kill_after(
            &[],
            format!(
                "<cwmp:ScheduleDownload><CommandKey>{key}</CommandKey><FileType>{CONFIG}</FileType><URL>{url}</URL><Username></Username>\
                 <Password></Password><FileSize>0</FileSize><TargetFileName></TargetFileName>\
                 <TimeWindowList soap-enc:arrayType=\"cwmp:TimeWindowStruct[1]\"><TimeWindowStruct><WindowStart>1</WindowStart>\
                 <WindowEnd>600</WindowEnd><WindowMode>1 At Any Time</WindowMode><UserMessage></UserMessage><MaxRetries>0</MaxRetries>\
                 </TimeWindowStruct></TimeWindowList></cwmp:ScheduleDownload>"
            ),
        );
        let k = key.clone();
        rig.wait("the ScheduleDownload's TransferComplete", move |acs| {
            acs.replies().iter().any(|r| {
                r.name == "TransferComplete"
                    && r.body.child("CommandKey").is_some_and(|c| c.text == k)
            })
        });
        rig.sync();

        // A Download an hour away, cancelled in the same session.
        let key = format!("ct-{i}");
        let dl = rig.download(&key, 3600);
        rig.kill_after(
            &[dl],
            format!("<cwmp:CancelTransfer><CommandKey>{key}</CommandKey></cwmp:CancelTransfer>"),
        );
        let queued = rig.session(&["<cwmp:GetAllQueuedTransfers/>".to_string()]);
        assert!(
            !queued[0].raw.contains(&key),
            "cancelled {key} still queued after kill {}: {}",
            rig.kills,
            queued[0].raw
        );
    }
    // Exactly once, each of them, after the last session is over.
    let ended = rig.acs.ended();
    rig.session(&["<cwmp:GetRPCMethods/>".to_string()]);
    assert!(rig.acs.wait_ended(ended + 1, T));
    for i in 0..KILLS {
        assert_eq!(
            rig.informed("M ScheduleInform", &format!("si-{i}")),
            1,
            "si-{i}"
        );
        rig.reported_once(&format!("dl-{i}"), "M Download");
        rig.reported_once(&format!("sd-{i}"), "M ScheduleDownload");
        assert_eq!(rig.completes(&format!("ct-{i}")), [], "ct-{i}");
    }
    assert_eq!(rig.kills, 4 * KILLS);
}

/// Reboot and FactoryReset, killed after their answers: the board's command runs exactly
/// once for each, and M Reboot comes once, after the boot.
#[test]
fn reboots_and_resets_survive_a_kill_after_their_answer() {
    let mut rig = Rig::new("kill-reboot", 3);
    for i in 0..KILLS {
        let key = format!("rb-{i}");
        let (boots, resets) = rig.boots();
        rig.kill_after(
            &[],
            format!("<cwmp:Reboot><CommandKey>{key}</CommandKey></cwmp:Reboot>"),
        );
        let k = key.clone();
        rig.wait("M Reboot after the boot", move |acs| {
            acs.informs()
                .iter()
                .any(|i| i.events.contains(&("M Reboot".into(), k.clone())))
        });
        assert_eq!(rig.boots(), (boots + 1, resets), "{key}: rebooted once");

        let (boots, resets) = rig.boots();
        let bootstraps = rig.informed("0 BOOTSTRAP", "");
        rig.kill_after(&[], "<cwmp:FactoryReset/>".to_string());
        rig.wait("the BOOTSTRAP after the reset", |acs| {
            acs.informs()
                .iter()
                .flat_map(|i| i.events.clone())
                .filter(|(c, _)| c == "0 BOOTSTRAP")
                .count()
                > bootstraps
        });
        assert_eq!(rig.boots(), (boots + 1, resets + 1), "reset {i}: once");
    }
    let ended = rig.acs.ended();
    rig.session(&["<cwmp:GetRPCMethods/>".to_string()]);
    assert!(rig.acs.wait_ended(ended + 1, T));
    for i in 0..KILLS {
        assert_eq!(rig.informed("M Reboot", &format!("rb-{i}")), 1, "rb-{i}");
    }
    assert_eq!(rig.boots(), (2 * KILLS as u32, KILLS as u32));
    assert_eq!(rig.kills, 2 * KILLS);
}
