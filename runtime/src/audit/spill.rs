//! The spill file: JSON lines a full queue (or `capacity: 0`) writes to, fsync'd, with its
//! read position in `<spill_path>.pos`, replayed in order; and the file helpers (`0600`,
//! directory fsync) the sinks share.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::TARGET;

/// The spill file: JSON lines from `cursor` to `end` not yet written by the sink.
pub(super) struct Spill {
    pub(super) path: PathBuf,
    pub(super) file: File,
    /// `<path>.pos`: the cursor, 20 decimal digits and a newline, fsync'd.
    pub(super) cursor_file: File,
    /// Bytes of whole lines in the file.
    pub(super) end: u64,
    /// Bytes already written through the sink.
    pub(super) cursor: u64,
    /// Lines between `cursor` and `end`.
    pub(super) pending: u64,
    /// Bytes past `end` may be left over from a failed append.
    pub(super) dirty: bool,
}

impl Spill {
    /// Opens (or creates) the spill file, cuts off a partial last line (quarantined; counted in
    /// the second value) and reads the cursor, falling back to 0 (write again rather than lose)
    /// when it is not at a line boundary within the file.
    pub(super) fn open(path: &Path) -> io::Result<(Spill, u64)> {
        let created = !path.exists();
        let mut file = private(&mut OpenOptions::new())
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if created {
            sync_parent(path);
        }
        let len = file.metadata()?.len();
        let end = complete_len(&mut file, len)?;
        let mut torn = 0;
        if end < len {
            let mut tail = vec![0; (len - end) as usize];
            file.seek(SeekFrom::Start(end))?;
            file.read_exact(&mut tail)?;
            tracing::warn!(
                target: TARGET,
                path = %path.display(),
                bytes = tail.len(),
                "the audit spill file ends with a partial line (a record whose spill never completed); moving it to the .corrupt file"
            );
            quarantine(path, &tail);
            file.set_len(end)?;
            file.sync_all()?;
            torn = 1;
        }
        let mut cursor_file = private(&mut OpenOptions::new())
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(with_suffix(path, ".pos"))?;
        let mut text = String::new();
        let _ = cursor_file.read_to_string(&mut text);
        let mut cursor = text.trim().parse::<u64>().unwrap_or(0);
        if cursor > end || (cursor > 0 && byte_at(&mut file, cursor - 1)? != b'\n') {
            tracing::warn!(
                target: TARGET,
                path = %path.display(),
                cursor,
                "the audit spill cursor is not at a line boundary; replaying the whole file"
            );
            cursor = 0;
        }
        let pending = count_lines(&mut file, cursor, end)?;
        let mut spill = Spill {
            path: path.to_owned(),
            file,
            cursor_file,
            end,
            cursor,
            pending,
            dirty: false,
        };
        if pending == 0 && end > 0 {
            spill.truncate()?;
        } else {
            spill.write_cursor(cursor)?;
        }
        Ok((spill, torn))
    }

    /// Appends whole lines at `end`, fsync'd; on error cuts the file back.
    pub(super) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let n = bytes.len() as u64;
        let result = (|| {
            self.file.seek(SeekFrom::Start(self.end))?;
            self.file.write_all(bytes)?;
            if self.dirty {
                self.file.set_len(self.end + n)?;
            }
            self.file.sync_data()
        })();
        match result {
            Ok(()) => {
                self.end += n;
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                self.dirty = self.file.set_len(self.end).is_err();
                Err(e)
            }
        }
    }

    /// Replaces the file with `front` followed by the lines not yet written (for `abort`,
    /// whose queued records are older than the spilled ones). Crash-safe: a new file renamed
    /// over the old one, the cursor reset first (a crash in between writes the old file's
    /// drained lines again rather than losing any).
    pub(super) fn rewrite_with_front(&mut self, front: &[u8]) -> io::Result<()> {
        let tmp = with_suffix(&self.path, ".tmp");
        let mut out = private(&mut OpenOptions::new())
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        out.write_all(front)?;
        let mut src = File::open(&self.path)?;
        src.seek(SeekFrom::Start(self.cursor))?;
        let copied = io::copy(&mut src.take(self.end - self.cursor), &mut out)?;
        out.sync_all()?;
        drop(out);
        self.write_cursor(0)?;
        fs::rename(&tmp, &self.path)?;
        sync_parent(&self.path);
        self.file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        self.cursor = 0;
        self.end = front.len() as u64 + copied;
        self.dirty = false;
        Ok(())
    }

    /// The sink wrote `lines` lines, up to `to`: moves the cursor, and truncates the file when
    /// everything is written.
    pub(super) fn advance(&mut self, to: u64, lines: u64) {
        self.cursor = to;
        self.pending = self.pending.saturating_sub(lines);
        if self.cursor >= self.end {
            match self.truncate() {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "cannot truncate the audit spill file")
                }
            }
        }
        if let Err(error) = self.write_cursor(to) {
            tracing::warn!(
                target: TARGET,
                %error,
                "cannot save the audit spill cursor; after a crash, some spilled records would be written again"
            );
        }
    }

    /// Empties the file, then resets the cursor (a crash in between leaves a cursor past the
    /// end, which `open` resets).
    pub(super) fn truncate(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.end = 0;
        self.cursor = 0;
        self.dirty = false;
        self.write_cursor(0)
    }

    pub(super) fn write_cursor(&mut self, cursor: u64) -> io::Result<()> {
        self.cursor_file.seek(SeekFrom::Start(0))?;
        self.cursor_file
            .write_all(format!("{cursor:020}\n").as_bytes())?;
        self.cursor_file.sync_data()
    }
}

/// Appends `line` to `<spill>.corrupt`, fsync'd; logs it when even that fails.
pub(super) fn quarantine(spill: &Path, line: &[u8]) {
    let path = with_suffix(spill, ".corrupt");
    let result = (|| {
        let mut file = private(&mut OpenOptions::new())
            .create(true)
            .append(true)
            .open(&path)?;
        file.write_all(line)?;
        if line.last() != Some(&b'\n') {
            file.write_all(b"\n")?;
        }
        file.sync_data()
    })();
    if let Err(error) = result {
        tracing::error!(
            target: TARGET,
            %error,
            line = %String::from_utf8_lossy(line),
            "cannot write the audit .corrupt file"
        );
    }
}

/// The length of the file up to and including its last newline.
pub(super) fn complete_len(file: &mut File, len: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; 8192];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

pub(super) fn byte_at(file: &mut File, offset: u64) -> io::Result<u8> {
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut byte)?;
    Ok(byte[0])
}

pub(super) fn count_lines(file: &mut File, from: u64, to: u64) -> io::Result<u64> {
    file.seek(SeekFrom::Start(from))?;
    let mut reader = file.take(to.saturating_sub(from));
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// Files created with these options are readable and writable by the owner only (`0600` on
/// Unix; the mode applies when the file is created).
pub(super) fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// fsyncs the directory holding `path`, so a created or renamed entry survives power loss
/// (best effort: not every platform can open a directory).
pub(super) fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

pub(super) fn ignore_not_found(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
