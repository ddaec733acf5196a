//! The background writer: takes batches from the queue, then from the spill file, hands them
//! to the sink on a blocking thread, and offers a failed batch again after a backoff.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::queue::{Batch, Job, Shared, Source};
use super::sink::AuditSink;
use super::{MAX_BACKOFF, TARGET};

/// The background writer.
pub(super) async fn run<E, S>(shared: Arc<Shared<E>>, mut sink: S)
where
    E: DeserializeOwned + Clone + Send + Sync + 'static,
    S: AuditSink<E>,
{
    let cap = MAX_BACKOFF.max(shared.backoff);
    loop {
        let job = {
            let st = shared.lock();
            if st.aborted {
                return;
            }
            if !st.queue.is_empty() {
                let n = st.queue.len().min(shared.batch);
                Job::Queue(st.queue.iter().take(n).cloned().collect())
            } else if st.spill.pending > 0 {
                Job::Spill {
                    cursor: st.spill.cursor,
                    end: st.spill.end,
                }
            } else if st.closed {
                return;
            } else {
                Job::Idle
            }
        };
        let mut batch = match job {
            Job::Idle => {
                shared.wake.notified().await;
                continue;
            }
            Job::Queue(records) => Batch {
                records,
                source: Source::Queue,
            },
            Job::Spill { cursor, end } => {
                let path = shared.spill_path.clone();
                let max = shared.batch;
                let read =
                    tokio::task::spawn_blocking(move || read_spill::<E>(&path, cursor, end, max))
                        .await;
                match read {
                    Ok(Ok(batch)) => batch,
                    Ok(Err(error)) => {
                        tracing::warn!(target: TARGET, %error, "cannot read the audit spill file; retrying");
                        shared.lock().counters.retried += 1;
                        tokio::time::sleep(shared.backoff).await;
                        continue;
                    }
                    Err(_) => return,
                }
            }
        };
        let mut delay = shared.backoff;
        loop {
            let committer = Arc::clone(&shared);
            let attempt = tokio::task::spawn_blocking(move || {
                // `abort` may have run since this task last looked: then write nothing.
                if committer.lock().aborted {
                    return (
                        sink,
                        batch,
                        Err(io::Error::other("the audit writer was aborted")),
                    );
                }
                let result = if batch.records.is_empty() {
                    Ok(())
                } else {
                    catch_unwind(AssertUnwindSafe(|| sink.write(&batch.records)))
                        .unwrap_or_else(|_| Err(io::Error::other("the audit sink panicked")))
                };
                if result.is_ok() {
                    committer.commit(&batch);
                }
                (sink, batch, result)
            })
            .await;
            let Ok((returned_sink, returned_batch, result)) = attempt else {
                return;
            };
            sink = returned_sink;
            batch = returned_batch;
            match result {
                Ok(()) => break,
                Err(error) => {
                    {
                        let mut st = shared.lock();
                        if st.aborted {
                            return;
                        }
                        st.counters.retried += 1;
                    }
                    tracing::warn!(
                        target: TARGET,
                        %error,
                        records = batch.records.len(),
                        retry_in = ?delay,
                        "audit sink write failed; the same batch will be retried"
                    );
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2).min(cap);
                }
            }
        }
    }
}

/// Reads up to `max` lines of the spill file from `cursor` (never past `end`).
pub(super) fn read_spill<E: DeserializeOwned>(
    path: &Path,
    cursor: u64,
    end: u64,
    max: usize,
) -> io::Result<Batch<E>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(cursor))?;
    let mut reader = BufReader::new(file.take(end.saturating_sub(cursor)));
    let mut records = Vec::new();
    let mut bad = Vec::new();
    let mut next_cursor = cursor;
    let mut lines = 0u64;
    let mut line = Vec::new();
    while records.len() + bad.len() < max {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        next_cursor += n as u64;
        lines += 1;
        match serde_json::from_slice::<E>(&line[..n - 1]) {
            Ok(record) => records.push(record),
            Err(error) => {
                tracing::error!(
                    target: TARGET,
                    %error,
                    offset = next_cursor - n as u64,
                    "an audit spill line does not parse; moving it to the .corrupt file"
                );
                bad.push(line.clone());
            }
        }
    }
    if lines == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the audit spill file is shorter than recorded",
        ));
    }
    Ok(Batch {
        records,
        source: Source::Spill {
            next_cursor,
            lines,
            bad,
        },
    })
}
