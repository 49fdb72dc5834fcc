//! The queue's rules without any I/O: start order, windows, retries, restart, cancel,
//! results and the state file; and the autonomous spool. (The messages that report them, and
//! their fault codes, are tested in `rpc/`.)

use super::*;
use error::{QueueError, TransferError};

fn job(key: &str, due: i64) -> Job {
    Job {
        id: 0,
        direction: Direction::Download,
        scheduled: false,
        command_key: key.into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: "http://h/fw".into(),
        username: String::new(),
        password: String::new(),
        file_size: 0,
        target_file_name: String::new(),
        due,
        windows: Vec::new(),
        retries_left: 0,
        phase: Phase::Waiting,
        started: None,
        file: None,
        software_before: None,
    }
}

fn scheduled(key: &str, windows: &[(i64, i64)], retries: i32) -> Job {
    Job {
        scheduled: true,
        due: windows[0].0,
        windows: windows
            .iter()
            .map(|&(start, end)| Window {
                start,
                end,
                mode: "1 At Any Time".into(),
            })
            .collect(),
        retries_left: retries,
        ..job(key, 0)
    }
}

#[test]
fn one_job_at_a_time_in_due_order() {
    let mut t = Transfers::default();
    let a = t.add(job("a", 200)).unwrap();
    let b = t.add(job("b", 100)).unwrap();
    assert_eq!(t.next_to_start(50), None);
    assert_eq!(t.next_deadline(50), Some(100));
    assert_eq!(t.next_to_start(150), Some(b));
    t.start(b, 150);
    assert_eq!(t.next_to_start(300), None, "b is running");
    assert!(t.finish(b, Ok(()), 160));
    assert_eq!(t.next_to_start(300), Some(a));
    let d = &t.done[0];
    assert_eq!((&d.result, d.start, d.complete), (&Ok(()), 150, 160));
    assert_eq!(d.method_event(), Some(crate::event::code::M_DOWNLOAD));
}

#[test]
fn windows_open_close_and_retry() {
    let mut t = Transfers::default();
    let id = t
        .add(scheduled("s", &[(100, 200), (1000, 1100)], 1))
        .unwrap();
    assert_eq!(t.next_to_start(99), None);
    assert_eq!(t.next_to_start(100), Some(id));
    t.start(id, 100);
    // A failure with a retry left and the window open: back to waiting.
    assert!(!t.finish(id, Err(TransferError::Incomplete("cut".into())), 110));
    assert_eq!(t.jobs[0].phase, Phase::Waiting);
    assert_eq!(t.jobs[0].due, 110 + RETRY_SECONDS);
    // The first window closes unused: the second one opens later.
    assert_eq!(t.next_to_start(250), None);
    assert_eq!(t.next_deadline(250), Some(1000));
    assert_eq!(t.expire(250), 0);
    // Both windows past: reported as 9020.
    assert_eq!(t.expire(1100), 1);
    assert_eq!(t.done[0].result, Err(TransferError::WindowsMissed));
    assert_eq!(
        t.done[0].method_event(),
        Some(crate::event::code::M_SCHEDULE_DOWNLOAD)
    );
    // No retries left: a failure is final.
    let id = t.add(scheduled("z", &[(0, 10_000)], 0)).unwrap();
    t.start(id, 1);
    assert!(t.finish(id, Err(TransferError::Access("HTTP 404".into())), 2));
    assert!(matches!(t.done[1].result, Err(TransferError::Access(_))));
}

#[test]
fn a_restart_fails_running_jobs_and_settles_applying_ones() {
    let mut t = Transfers::default();
    let run = t.add(job("run", 0)).unwrap();
    let fw = t.add(job("fw", 0)).unwrap();
    let cfg = t
        .add(Job {
            file_type: "3 Vendor Configuration File".into(),
            ..job("cfg", 0)
        })
        .unwrap();
    let wait = t.add(job("wait", 500)).unwrap();
    t.start(run, 1);
    for id in [fw, cfg] {
        t.start(id, 1);
        let j = t.job_mut(id).unwrap();
        j.phase = Phase::Applying;
        j.file = Some(format!("/tmp/x{id}").into());
    }
    let files = t.restarted(9, true, None, |ty| ty == "1 Firmware Upgrade Image");
    assert_eq!(
        files.len(),
        2,
        "the files of applying jobs are the caller's to remove"
    );
    let results: Vec<(&str, &Result<(), TransferError>)> = t
        .done
        .iter()
        .map(|d| (d.command_key.as_str(), &d.result))
        .collect();
    let cut = Err(TransferError::Interrupted);
    assert_eq!(results, [("run", &cut), ("fw", &Ok(())), ("cfg", &cut)]);
    assert_eq!(t.jobs.len(), 1);
    assert_eq!(t.jobs[0].id, wait);
    // An upload cut off is an upload failure.
    let up = t
        .add(Job {
            direction: Direction::Upload,
            ..job("up", 0)
        })
        .unwrap();
    t.start(up, 10);
    t.restarted(11, true, None, |_| true);
    assert_eq!(t.done[3].result, Err(TransferError::Interrupted));
    assert_eq!(t.done[3].direction, Direction::Upload);
    assert_eq!(t.done[3].method_event(), Some(crate::event::code::M_UPLOAD));
}

#[test]
fn limits_cancel_listing_and_messages() {
    let mut t = Transfers::default();
    for i in 0..MAX_JOBS {
        t.add(job(&format!("k{i}"), 0)).unwrap();
    }
    assert_eq!(t.add(job("x", 0)), Err(QueueError::Full(MAX_JOBS)));
    assert_eq!(t.cancel("nope"), Err(QueueError::UnknownKey("nope".into())));
    t.start(1, 0);
    assert_eq!(t.cancel("k0"), Err(QueueError::UnderWay("k0".into())));
    t.cancel("k1").unwrap();
    assert_eq!(t.jobs.len(), MAX_JOBS - 1);
    for i in 0..MAX_DONE + 3 {
        t.push_done(Done {
            direction: Direction::Download,
            scheduled: false,
            command_key: format!("d{i}"),
            file_type: String::new(),
            file_size: 0,
            target_file_name: String::new(),
            result: Ok(()),
            start: 0,
            complete: 1_764_050_400,
            autonomous: None,
        });
    }
    assert_eq!(t.done.len(), MAX_DONE, "the oldest results go first");
    assert_eq!(t.done[0].command_key, "d3");
    // The queue is plain data: it round-trips through the state file's TOML, every field.
    let mut sj = scheduled("s", &[(10, 20), (30, 40)], 2);
    sj.direction = Direction::Upload;
    sj.username = "u \"q\"".into();
    sj.password = "p\\w".into();
    sj.file_size = u64::MAX;
    sj.target_file_name = "t".into();
    sj.phase = Phase::Applying;
    sj.started = Some(-5);
    sj.file = Some(PathBuf::from("/tmp/x y"));
    t.jobs[1] = sj;
    t.done[1].autonomous = Some(Autonomous {
        announce_url: "a".into(),
        transfer_url: "b".into(),
        is_download: true,
        file_type: "1 Firmware Upgrade Image".into(),
        file_size: 9,
        target_file_name: "n".into(),
    });
    t.done[1].result = Err(TransferError::Reported {
        code: 9010,
        message: "x\ny".into(),
    });
    t.done[2].result = Err(TransferError::Incomplete("cut \"short\"".into()));
    t.done[3].result = Err(TransferError::WindowsMissed);
    let text = crate::codec::toml::to_string(&t.to_table());
    let table = crate::codec::toml::parse(&text).unwrap();
    let back = Transfers::from_fields(&mut crate::codec::toml::Fields::new(table)).unwrap();
    assert_eq!(back, t);
}

#[test]
fn the_autonomous_spool_takes_good_reports_and_drops_bad_ones() {
    let dir = std::env::temp_dir().join(format!("cwmpd-atc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.toml"),
        "is_download = false\nfile_type = \"2 Vendor Log File\"\nfault_code = 9011\nfault_string = \"disk\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.toml"),
        "is_download = true\nfile_type = \"x\"\nfault_code = 42\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.toml"),
        "is_download = true\nfile_type = \"x\"\nstart_time = \"soon\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("d.tmp"), "is_download = true\nfile_type = \"x\"\n").unwrap();
    std::fs::write(dir.join("e.toml"), vec![b'#'; 20_000]).unwrap();
    let got = autonomous::scan(&dir, 77);
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        (&d.direction, &d.result, d.complete),
        (
            &Direction::Upload,
            &Err(TransferError::Reported {
                code: 9011,
                message: "disk".into()
            }),
            77
        )
    );
    assert_eq!(
        d.method_event(),
        None,
        "no M event for autonomous transfers"
    );
    assert!(d.autonomous.as_ref().is_some_and(|a| !a.is_download));
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        ["d.tmp"],
        "reports are consumed, bad ones too; temp names are left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn results_saved_by_earlier_versions_load() {
    // Before results kept their error, the state file held the fault code and string.
    let text = "direction = \"download\"\nscheduled = false\ncommand_key = \"k\"\n\
                fault_code = 9016\nfault_string = \"HTTP 404\"\nstart = 1\ncomplete = 2\n";
    let table = crate::codec::toml::parse(text).unwrap();
    let d = Done::from_fields(&mut crate::codec::toml::Fields::new(table)).unwrap();
    assert_eq!(
        d.result,
        Err(TransferError::Reported {
            code: 9016,
            message: "HTTP 404".into()
        })
    );
    let ok = "direction = \"upload\"\nscheduled = false\ncommand_key = \"k\"\n\
              fault_code = 0\nstart = 1\ncomplete = 2\n";
    let table = crate::codec::toml::parse(ok).unwrap();
    let d = Done::from_fields(&mut crate::codec::toml::Fields::new(table)).unwrap();
    assert_eq!(d.result, Ok(()));
}
