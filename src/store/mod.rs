//! The only writer of persistent state. Every file is written atomically — a temp file in the
//! same directory, fsync, rename over the old file, fsync of the directory — so a power cut
//! leaves either the old or the new content, never a mix. Documents are TOML with a
//! `version` key; a missing, corrupt, truncated or wrong-version file is reported to the
//! caller (which logs it and starts fresh), never a panic.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::codec::toml::{self, Table, Value};

/// Largest state file read back.
pub const MAX_STATE_BYTES: u64 = 4 << 20;

/// Why a stored document could not be used.
#[derive(Debug)]
pub enum StoreError {
    /// Reading or writing failed.
    Io(PathBuf, io::Error),
    /// The file is not valid TOML of the expected shape (corrupt or truncated).
    Corrupt(PathBuf, String),
    /// The file was written by an incompatible version.
    Version(PathBuf, i64, u32),
    /// The file is larger than [`MAX_STATE_BYTES`].
    TooLarge(PathBuf, u64),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(p, e) => write!(f, "store: {}: {e}", p.display()),
            StoreError::Corrupt(p, m) => write!(f, "store: {}: corrupt: {m}", p.display()),
            StoreError::Version(p, got, want) => {
                write!(f, "store: {}: version {got}, expected {want}", p.display())
            }
            StoreError::TooLarge(p, n) => write!(
                f,
                "store: {}: {n} bytes, at most {MAX_STATE_BYTES}",
                p.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// Writes `bytes` to `path` atomically, creating the directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(path, bytes)?.install()
}

/// New content written and synced beside the file it will replace, not yet in its place:
/// the first half of an atomic write, for a transaction that must prepare several files
/// before it replaces any ([`Staged::install`]; dropped, the temp file is removed).
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    installed: bool,
}

/// The temp file next to `path` (`.<name>.tmp`).
pub fn temp_name(path: &Path) -> io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    Ok(dir.join(format!(".{}.tmp", name.to_string_lossy())))
}

/// Writes `bytes` to the temp file beside `path` and syncs it.
pub fn stage(path: &Path, bytes: &[u8]) -> io::Result<Staged> {
    let tmp = temp_name(path)?;
    if let Some(dir) = tmp.parent() {
        fs::create_dir_all(dir)?;
    }
    let staged = Staged {
        tmp: tmp.clone(),
        path: path.to_path_buf(),
        installed: false,
    };
    // A file keeps its permissions; a new one is private (state holds passwords).
    let mode = fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(staged)
}

impl Staged {
    /// Renames the new content over the file, then syncs the directory (the rename is
    /// durable only once the directory entry is).
    pub fn install(mut self) -> io::Result<()> {
        fs::rename(&self.tmp, &self.path)?;
        self.installed = true;
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()
    }

    /// The file this will replace.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.installed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Reads a versioned document (its table, without the `version` key); `Ok(None)` when the
/// file does not exist.
pub fn read_versioned(path: &Path, version: u32) -> Result<Option<Table>, StoreError> {
    let p = || path.to_path_buf();
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Io(p(), e)),
    };
    if meta.len() > MAX_STATE_BYTES {
        return Err(StoreError::TooLarge(p(), meta.len()));
    }
    let bytes = fs::read(path).map_err(|e| StoreError::Io(p(), e))?;
    let text =
        String::from_utf8(bytes).map_err(|_| StoreError::Corrupt(p(), "not UTF-8".into()))?;
    let mut table = toml::parse(&text).map_err(|e| StoreError::Corrupt(p(), e.to_string()))?;
    match table.remove("version") {
        Some(Value::Integer(v)) if v == i128::from(version) => Ok(Some(table)),
        Some(Value::Integer(v)) => Err(StoreError::Version(
            p(),
            i64::try_from(v).unwrap_or(i64::MAX),
            version,
        )),
        _ => Err(StoreError::Corrupt(p(), "no version".into())),
    }
}

/// Reads a versioned document with `read` (a document it refuses is corrupt); `Ok(None)` when
/// the file does not exist.
pub fn read_with<T>(
    path: &Path,
    version: u32,
    read: fn(Table) -> crate::codec::toml::FieldResult<T>,
) -> Result<Option<T>, StoreError> {
    read_versioned(path, version)?
        .map(read)
        .transpose()
        .map_err(|e| StoreError::Corrupt(path.to_path_buf(), e.to_string()))
}

/// Writes a versioned document atomically; returns the bytes written.
pub fn write_versioned(path: &Path, version: u32, mut table: Table) -> Result<u64, StoreError> {
    table.insert("version".into(), version.into());
    let text = toml::to_string(&table);
    write_atomic(path, text.as_bytes()).map_err(|e| StoreError::Io(path.to_path_buf(), e))?;
    Ok(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small document: a name and a table of numbers.
    fn doc(name: &str, map: &[(&str, u32)]) -> Table {
        let mut t = Table::new();
        t.insert("name".into(), name.into());
        let m = map.iter().map(|(k, v)| (k.to_string(), (*v).into()));
        t.insert("map".into(), Value::Table(m.collect()));
        t
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cwmpd-store-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn new_files_are_private_and_old_ones_keep_their_mode() {
        let d = dir("mode");
        let f = d.join("state.toml");
        write_atomic(&f, b"a").unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let g = d.join("network");
        fs::write(&g, b"x").unwrap();
        fs::set_permissions(&g, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&g, b"y").unwrap();
        assert_eq!(
            fs::metadata(&g).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(fs::read(&g).unwrap(), b"y");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn round_trip_and_missing_file() {
        let d = dir("rt");
        let f = d.join("sub/state.toml");
        assert!(read_versioned(&f, 1).unwrap().is_none());
        let doc = doc("x", &[("Device.IP.Interface.", 3)]);
        write_versioned(&f, 1, doc.clone()).unwrap();
        assert_eq!(read_versioned(&f, 1).unwrap(), Some(doc));
        assert!(
            !d.join("sub/.state.toml.tmp").exists(),
            "temp file removed by rename"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn truncated_corrupt_and_wrong_version_files_are_reported() {
        let d = dir("bad");
        let f = d.join("state.toml");
        write_versioned(&f, 1, doc(&"a".repeat(100), &[])).unwrap();
        let full = fs::read(&f).unwrap();
        fs::write(&f, &full[..full.len() / 2]).unwrap();
        assert!(matches!(
            read_versioned(&f, 1),
            Err(StoreError::Corrupt(..))
        ));
        fs::write(&f, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            read_versioned(&f, 1),
            Err(StoreError::Corrupt(..))
        ));
        fs::write(&f, "name = \"x\"\n").unwrap();
        assert!(matches!(
            read_versioned(&f, 1),
            Err(StoreError::Corrupt(..))
        ));
        fs::write(&f, "version = \"1\"\n").unwrap();
        assert!(matches!(
            read_versioned(&f, 1),
            Err(StoreError::Corrupt(..))
        ));
        write_versioned(&f, 2, Table::new()).unwrap();
        assert!(matches!(
            read_versioned(&f, 1),
            Err(StoreError::Version(_, 2, 1))
        ));
        fs::write(&f, vec![b'#'; MAX_STATE_BYTES as usize + 1]).unwrap();
        assert!(matches!(
            read_versioned(&f, 1),
            Err(StoreError::TooLarge(..))
        ));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_stale_temp_file_does_not_disturb_reads_or_writes() {
        let d = dir("stale");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(".state.toml.tmp"), "garbage from a power cut").unwrap();
        let f = d.join("state.toml");
        write_versioned(&f, 1, doc("ok", &[])).unwrap();
        let back = read_versioned(&f, 1).unwrap().unwrap();
        assert_eq!(back["name"].as_str(), Some("ok"));
        fs::remove_dir_all(&d).unwrap();
    }
}
