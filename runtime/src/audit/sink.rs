//! Where audit records end up: the [`AuditSink`] contract (all or an error), a rotated JSON
//! lines file ([`JsonLinesSink`]) and `tracing` ([`TracingSink`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::spill::{complete_len, ignore_not_found, private, sync_parent, with_suffix};
use super::TARGET;

/// Where audit records end up.
pub trait AuditSink<E>: Send + 'static {
    /// Writes `records` in order, all or an error (then the same records are offered again).
    ///
    /// The writer calls this on a blocking thread (`tokio::task::spawn_blocking`), so it may do
    /// blocking I/O. It must not write part of `records` and then fail, or the retry writes that
    /// part twice.
    fn write(&mut self, records: &[E]) -> io::Result<()>;
}

impl<E, S: AuditSink<E> + ?Sized> AuditSink<E> for Box<S> {
    fn write(&mut self, records: &[E]) -> io::Result<()> {
        (**self).write(records)
    }
}

/// When data is forced to disk.
///
/// The trade-off is durability against throughput: an fsync costs from tens of microseconds
/// (NVMe with a power-safe cache) to tens of milliseconds (spinning disk, network storage), and
/// the writer pays it once per batch, not per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// fsync after each write: nothing acknowledged is lost on power failure. The default.
    #[default]
    EveryBatch,
    /// fsync at the first write at least this long after the previous fsync (and on rotation
    /// and drop): a power failure loses at most the records written since the last fsync, and
    /// after a burst the tail stays in the OS cache until the next write or the kernel's own
    /// writeback (about 30 s on Linux).
    Interval(Duration),
    /// Never fsync: the OS decides. A process crash loses nothing written; a power failure
    /// or kernel crash can lose everything not yet written back.
    Never,
}

/// Append-only JSON lines file (one record per line), rotated by size: when the file would pass
/// `max_bytes`, it is renamed `<name>.1` (older ones shift to .2 … .keep, the oldest dropped)
/// and a new file started.
///
/// Rotation happens between batches, so a batch is never split across files: each file stays
/// within `max_bytes`, except one that holds a single batch larger than that. `keep: 0` keeps no
/// rotated file (the full file is deleted). A write that fails is rolled back (the file is cut
/// back to its previous length), so a retried batch does not leave a partial line behind, and a
/// partial last line left by a crash is cut off when the file is opened (it was never
/// acknowledged: the batch holding it is written again).
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    fsync: FsyncPolicy,
    file: Option<File>,
    /// Bytes of whole batches in the current file.
    len: u64,
    /// Bytes past `len` may be left over from a failed write.
    dirty: bool,
    last_sync: Instant,
    unsynced: bool,
    buf: Vec<u8>,
}

impl JsonLinesSink {
    /// Opens (or creates) `path` for appending. The directory must exist.
    pub fn open(
        path: impl Into<PathBuf>,
        max_bytes: u64,
        keep: usize,
        fsync: FsyncPolicy,
    ) -> io::Result<Self> {
        let mut sink = JsonLinesSink {
            path: path.into(),
            max_bytes,
            keep,
            fsync,
            file: None,
            len: 0,
            dirty: false,
            last_sync: Instant::now(),
            unsynced: false,
            buf: Vec::new(),
        };
        sink.ensure_open()?;
        Ok(sink)
    }

    /// The path of the current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn ensure_open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let created = !self.path.exists();
            let mut file = private(&mut OpenOptions::new())
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.path)?;
            let len = file.metadata()?.len();
            let complete = complete_len(&mut file, len)?;
            if complete < len {
                tracing::warn!(
                    target: TARGET,
                    path = %self.path.display(),
                    bytes = len - complete,
                    "cutting off a partial last line (an unacknowledged write)"
                );
                file.set_len(complete)?;
                file.sync_all()?;
            }
            if created && self.fsync != FsyncPolicy::Never {
                sync_parent(&self.path);
            }
            self.len = complete;
            self.dirty = false;
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn rotated(&self, n: usize) -> PathBuf {
        with_suffix(&self.path, &format!(".{n}"))
    }

    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            if self.fsync != FsyncPolicy::Never {
                if let Err(e) = file.sync_all() {
                    self.file = Some(file);
                    return Err(e);
                }
            }
        }
        if self.keep == 0 {
            ignore_not_found(fs::remove_file(&self.path))?;
        } else {
            ignore_not_found(fs::remove_file(self.rotated(self.keep)))?;
            for n in (1..self.keep).rev() {
                ignore_not_found(fs::rename(self.rotated(n), self.rotated(n + 1)))?;
            }
            ignore_not_found(fs::rename(&self.path, self.rotated(1)))?;
        }
        self.unsynced = false;
        self.ensure_open()?;
        if self.fsync != FsyncPolicy::Never {
            sync_parent(&self.path);
        }
        Ok(())
    }

    fn append_buf(&mut self) -> io::Result<()> {
        let (len, dirty, n) = (self.len, self.dirty, self.buf.len() as u64);
        let file = self.file.as_mut().expect("opened by the caller");
        file.seek(SeekFrom::Start(len))?;
        file.write_all(&self.buf)?;
        if dirty {
            file.set_len(len + n)?;
        }
        match self.fsync {
            FsyncPolicy::EveryBatch => file.sync_data()?,
            FsyncPolicy::Interval(every) => {
                if self.last_sync.elapsed() >= every {
                    file.sync_data()?;
                    self.last_sync = Instant::now();
                    self.unsynced = false;
                } else {
                    self.unsynced = true;
                }
            }
            FsyncPolicy::Never => {}
        }
        Ok(())
    }
}

impl<E: Serialize> AuditSink<E> for JsonLinesSink {
    fn write(&mut self, records: &[E]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for record in records {
            serde_json::to_writer(&mut self.buf, record)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.buf.push(b'\n');
        }
        let n = self.buf.len() as u64;
        // Reopens after a rotation that failed half-way.
        self.ensure_open()?;
        if self.len > 0 && self.len.saturating_add(n) > self.max_bytes {
            self.rotate()?;
        }
        match self.append_buf() {
            Ok(()) => {
                self.len += n;
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                self.dirty = true;
                if let Some(file) = self.file.as_mut() {
                    if file.set_len(self.len).is_ok() {
                        self.dirty = false;
                    }
                }
                Err(e)
            }
        }
    }
}

impl Drop for JsonLinesSink {
    fn drop(&mut self) {
        if self.unsynced {
            if let Some(file) = &self.file {
                let _ = file.sync_data();
            }
        }
    }
}

/// Emits each record as a tracing event (target "secure_endpoint::audit", level INFO, the
/// record as a JSON field `record`).
///
/// Durable only as far as the subscriber is: use it next to a file sink, or when the logs are
/// shipped reliably.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl<E: Serialize> AuditSink<E> for TracingSink {
    fn write(&mut self, records: &[E]) -> io::Result<()> {
        // Serialize all first: all or an error.
        let lines = records
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        for line in lines {
            tracing::info!(target: "secure_endpoint::audit", record = %line, "audit record");
        }
        Ok(())
    }
}
