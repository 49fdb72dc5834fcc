//! Carrying out one job: a download is streamed into the transfer directory (checked against
//! free space and the announced FileSize before and while it arrives) and then handed to the
//! board's apply command; an upload is sent from a file or from a command's output staged in
//! the transfer directory. Blocking: the agent calls these from its worker thread. A partial
//! file never outlives a failure.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::error::TransferError;
use super::Job;
use crate::backend::command::wait_bounded;
use crate::board::transfer::{DownloadType, UploadSource, DEFAULT_APPLY_TIMEOUT};
use crate::http::{self, AuthFailure, Error, FetchError, Response};

/// Longest an upload's source command may run.
pub const SOURCE_TIMEOUT: Duration = Duration::from_secs(120);
/// How often a running command is looked at.
const POLL: Duration = Duration::from_millis(20);
/// Largest upload taken from a command when the board sets no `max_size`.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 64 << 20;

/// What every transfer needs from the agent's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The transfer directory.
    pub dir: PathBuf,
    /// The board's size limit.
    pub max_size: Option<u64>,
    /// CA bundle etc. for https URLs (the ACS's).
    pub tls: http::tls::TlsSettings,
    /// Longest wait for the server's answer, and for any progress of the body.
    pub timeout: Duration,
    /// Longest whole transfer (the agent gives [`TRANSFER_TIMEOUT`]).
    pub total_timeout: Duration,
    /// Answer a file server's Basic challenge over plain http (`[acs] allow_basic_over_http`).
    pub allow_basic_over_http: bool,
}

/// Longest whole transfer the agent allows: a firmware image of 64 MiB at 150 kbit/s fits.
/// A server that keeps a transfer crawling (one byte just before each read would time out)
/// is cut off here.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(3600);

/// The file a download is written to while it arrives.
pub fn part_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("download-{id}.part"))
}

/// The complete downloaded file, waiting for its apply.
pub fn file_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("download-{id}"))
}

fn staging_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("upload-{id}"))
}

/// Removes files in the transfer directory no job needs (partial downloads, staged uploads
/// left by a crash). Returns how many went.
pub fn clean(dir: &Path, keep: &[PathBuf]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("download-") || name.starts_with("upload-");
        if ours && !keep.contains(&p) && std::fs::remove_file(&p).is_ok() {
            log::info!("transfer: removed leftover {}", p.display());
            n += 1;
        }
    }
    n
}

/// Bytes free for an unprivileged writer in `dir`.
pub fn free_space(dir: &Path) -> Result<u64, TransferError> {
    let s = nix::sys::statvfs::statvfs(dir).map_err(|e| {
        let e = std::io::Error::from(e);
        TransferError::Local(format!("statvfs {}: {e}", dir.display()))
    })?;
    #[allow(clippy::useless_conversion)] // the field types differ between targets
    Ok(u64::from(s.blocks_available()).saturating_mul(u64::from(s.fragment_size())))
}

fn client(job: &Job, s: &Settings) -> Result<http::Client, TransferError> {
    http::Client::new(http::Settings {
        url: job.url.clone(),
        username: job.username.clone(),
        password: job.password.clone(),
        tls: s.tls.clone(),
        timeout: s.timeout,
        session_timeout: s.total_timeout.max(s.timeout),
        allow_basic_over_http: s.allow_basic_over_http,
    })
    .map_err(|e| match e {
        Error::Url(u) => TransferError::Protocol(u.to_string()),
        e => TransferError::Unreachable(e.to_string()),
    })
}

/// Maps a client error to what the TransferComplete reports.
fn client_error(e: Error) -> TransferError {
    let m = e.to_string();
    match e {
        Error::Url(_) => TransferError::Protocol(m),
        Error::Resolve(_) | Error::Connect(..) | Error::Tls(_) => TransferError::Unreachable(m),
        Error::Auth(
            AuthFailure::Refused(_)
            | AuthFailure::NoScheme
            | AuthFailure::TooMany { .. }
            | AuthFailure::OtherOrigin(_)
            | AuthFailure::BasicOverHttp,
        ) => TransferError::Auth(m),
        Error::Redirects { .. } | Error::NoLocation | Error::InsecureRedirect(_) => {
            TransferError::Access(m)
        }
        Error::Io(_)
        | Error::Timeout(_)
        | Error::Wire(_)
        | Error::BodyTooLarge { .. }
        | Error::FileShrank { .. } => TransferError::Incomplete(m),
    }
}

fn status_error(resp: &Response) -> TransferError {
    TransferError::Access(format!("HTTP {}", resp.status))
}

/// Writes the body to the part file, refusing what cannot fit or was not announced.
struct FileSink<'a> {
    file: File,
    dir: &'a Path,
    written: u64,
    /// FileSize from the request (0: unknown).
    announced: u64,
    max_size: Option<u64>,
}

impl http::Sink for FileSink<'_> {
    type Error = TransferError;

    fn head(&mut self, resp: &Response) -> Result<(), TransferError> {
        let length: Option<u64> = resp.header("content-length").and_then(|v| v.parse().ok());
        if let Some(len) = length {
            if self.announced > 0 && len != self.announced {
                return Err(TransferError::Corrupted(format!(
                    "the server sends {len} bytes, FileSize says {}",
                    self.announced
                )));
            }
            room(self.dir, len, self.max_size)?;
        }
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        let total = self.written + data.len() as u64;
        if self.announced > 0 && total > self.announced {
            return Err(TransferError::Corrupted(format!(
                "more than the {} bytes FileSize says",
                self.announced
            )));
        }
        if let Some(m) = self.max_size.filter(|m| total > *m) {
            return Err(TransferError::NoSpace(format!(
                "more than the board's max_size of {m} bytes"
            )));
        }
        if let Err(e) = self.file.write_all(data) {
            return Err(if e.raw_os_error() == Some(nix::libc::ENOSPC) {
                TransferError::NoSpace(format!("{}: {e}", self.dir.display()))
            } else {
                TransferError::Local(format!("writing {}: {e}", self.dir.display()))
            });
        }
        self.written = total;
        Ok(())
    }
}

/// Checks that `need` bytes fit in `dir` and under the board's limit.
fn room(dir: &Path, need: u64, max_size: Option<u64>) -> Result<(), TransferError> {
    if let Some(m) = max_size {
        if need > m {
            return Err(TransferError::NoSpace(format!(
                "{need} bytes is over the board's max_size of {m}"
            )));
        }
    }
    let free = free_space(dir)?;
    if need > free {
        return Err(TransferError::NoSpace(format!(
            "{need} bytes needed, {free} free in {}",
            dir.display()
        )));
    }
    Ok(())
}

/// Fetches a Download into the transfer directory; returns the complete file.
pub fn download(job: &Job, s: &Settings) -> Result<PathBuf, TransferError> {
    std::fs::create_dir_all(&s.dir)
        .map_err(|e| TransferError::Local(format!("{}: {e}", s.dir.display())))?;
    if job.file_size > 0 {
        room(&s.dir, job.file_size, s.max_size)?;
    }
    let c = client(job, s)?;
    let part = part_path(&s.dir, job.id);
    let file = File::create(&part)
        .map_err(|e| TransferError::Local(format!("{}: {e}", part.display())))?;
    let mut sink = FileSink {
        file,
        dir: &s.dir,
        written: 0,
        announced: job.file_size,
        max_size: s.max_size,
    };
    let result = c.session().get_to(&mut sink);
    let outcome = match result {
        Ok(r) if (200..300).contains(&r.status) => {
            if job.file_size > 0 && sink.written != job.file_size {
                Err(TransferError::Corrupted(format!(
                    "{} bytes arrived, FileSize says {}",
                    sink.written, job.file_size
                )))
            } else {
                sink.file
                    .sync_all()
                    .map_err(|e| TransferError::Local(format!("{}: {e}", part.display())))
            }
        }
        Ok(r) => Err(status_error(&r)),
        Err(FetchError::Sink(e)) => Err(e),
        Err(FetchError::Http(e)) => Err(client_error(e)),
    };
    drop(sink);
    if let Err(e) = outcome {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    let done = file_path(&s.dir, job.id);
    std::fs::rename(&part, &done).map_err(|e| {
        let _ = std::fs::remove_file(&part);
        TransferError::Local(format!("{}: {e}", done.display()))
    })?;
    log::info!(
        "transfer {}: {} bytes in {}",
        job.id,
        std::fs::metadata(&done).map(|m| m.len()).unwrap_or(0),
        done.display()
    );
    Ok(done)
}

/// Longest part of an apply command's standard error kept for the FaultString.
const APPLY_STDERR: u64 = 200;

/// Runs the board's apply command on a downloaded file, then removes the file. Exit status 0
/// is success; the board's `auth_failure_status` is 9019; any other failure is 9018.
pub fn apply(job: &Job, file: &Path, how: &DownloadType) -> Result<(), TransferError> {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let argv: Vec<String> = how
        .apply
        .iter()
        .map(|a| {
            a.replace("{file}", &file.to_string_lossy())
                .replace("{target}", &job.target_file_name)
                .replace("{type}", &job.file_type)
                .replace("{size}", &size.to_string())
                .replace("{key}", &job.command_key)
        })
        .collect();
    log::info!("transfer {}: apply: {}", job.id, argv.join(" "));
    let timeout = Duration::from_secs(how.timeout.unwrap_or(DEFAULT_APPLY_TIMEOUT));
    let result = run_apply(&argv, timeout).map_err(|(status, msg)| {
        if status.is_some() && status == how.auth_failure_status {
            TransferError::FileAuth(msg)
        } else {
            TransferError::Corrupted(format!("apply refused the file: {msg}"))
        }
    });
    let _ = std::fs::remove_file(file);
    result
}

/// Runs an apply command with a timeout; on failure, its exit status (if it exited) and what
/// it said.
fn run_apply(argv: &[String], timeout: Duration) -> Result<(), (Option<i32>, String)> {
    use std::io::Read;
    let (prog, rest) = argv
        .split_first()
        .ok_or_else(|| (None, "empty apply command".to_string()))?;
    let mut child = Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| (None, format!("{prog}: {e}")))?;
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut e) = stderr {
            let mut buf = Vec::new();
            let _ = (&mut e).take(APPLY_STDERR).read_to_end(&mut buf);
            // Drain the rest so the command never blocks on a full pipe.
            let _ = std::io::copy(&mut e, &mut std::io::sink());
            text = String::from_utf8_lossy(&buf).trim().to_string();
        }
        text
    });
    let status = match wait_bounded(&mut child, timeout, POLL, || false) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err((
                None,
                format!("{prog}: timed out after {} s", timeout.as_secs()),
            ))
        }
        Err(e) => return Err((None, format!("{prog}: {e}"))),
    };
    let said = reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err((status.code(), format!("{prog}: {status}: {said}")))
    }
}

/// Runs a source command with its standard output in `out`, bounded in time and size.
fn capture(argv: &[String], out: &Path, limit: u64) -> Result<(), TransferError> {
    let (prog, rest) = argv
        .split_first()
        .ok_or_else(|| TransferError::Local("empty source command".into()))?;
    let file =
        File::create(out).map_err(|e| TransferError::Local(format!("{}: {e}", out.display())))?;
    let mut child = Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| TransferError::Local(format!("{prog}: {e}")))?;
    let grown = || std::fs::metadata(out).map(|m| m.len()).unwrap_or(0) > limit;
    let status = match wait_bounded(&mut child, SOURCE_TIMEOUT, POLL, grown) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(TransferError::Local(format!(
                "{prog}: stopped (over {} s or {limit} bytes)",
                SOURCE_TIMEOUT.as_secs()
            )))
        }
        Err(e) => return Err(TransferError::Local(format!("{prog}: {e}"))),
    };
    if !status.success() {
        return Err(TransferError::Local(format!("{prog}: {status}")));
    }
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(TransferError::Local(format!(
            "{prog}: output over {limit} bytes"
        )));
    }
    Ok(())
}

/// Sends an Upload from its board-named source.
pub fn upload(job: &Job, source: &UploadSource, s: &Settings) -> Result<(), TransferError> {
    let c = client(job, s)?;
    let (path, staged) = match (&source.file, &source.command) {
        (Some(f), _) => (f.clone(), false),
        (None, Some(argv)) => {
            std::fs::create_dir_all(&s.dir)
                .map_err(|e| TransferError::Local(format!("{}: {e}", s.dir.display())))?;
            let out = staging_path(&s.dir, job.id);
            let limit = s.max_size.unwrap_or(DEFAULT_UPLOAD_LIMIT);
            if let Err(e) = capture(argv, &out, limit) {
                let _ = std::fs::remove_file(&out);
                return Err(e);
            }
            (out, true)
        }
        (None, None) => {
            return Err(TransferError::Local(format!(
                "the board names no source for {:?}",
                job.file_type
            )))
        }
    };
    let result = File::open(&path)
        .map_err(|e| TransferError::Local(format!("{}: {e}", path.display())))
        .and_then(|mut f| c.session().put_file(&mut f).map_err(client_error))
        .and_then(|r| {
            if (200..300).contains(&r.status) {
                Ok(())
            } else {
                Err(status_error(&r))
            }
        });
    if staged {
        let _ = std::fs::remove_file(&path);
    }
    result
}
