//! The bounded in-memory queue requests record into, shared with the writer: where a record
//! goes (queue, spill file, or refused), the wait of `Overflow::Block`, and the commit of a
//! batch the sink accepted.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{watch, Notify};
use tokio::task::AbortHandle;

use super::aggregate::{self, Aggregation};
use super::spill::{quarantine, Spill};
use super::{AuditCounters, AuditRejected, FieldLimits, Overflow, TARGET};

/// Owned by every `Auditor` clone; dropped with the last one.
pub(super) struct Handle<E> {
    pub(super) shared: Arc<Shared<E>>,
    pub(super) task: AbortHandle,
}

impl<E> Drop for Handle<E> {
    fn drop(&mut self) {
        aggregate::close_all(&self.shared);
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        self.shared.coalesce_wake.notify_one();
    }
}

pub(super) struct Shared<E> {
    pub(super) state: Mutex<State<E>>,
    /// Signalled when the writer frees room in the queue (for `Overflow::Block`).
    pub(super) space: Condvar,
    /// Wakes the writer.
    pub(super) wake: Notify,
    pub(super) progress: watch::Sender<Progress>,
    pub(super) capacity: usize,
    pub(super) overflow: Overflow,
    pub(super) batch: usize,
    pub(super) backoff: Duration,
    pub(super) spill_path: PathBuf,
    /// Open aggregation windows (security events only; created on first use).
    pub(super) coalescer: OnceLock<aggregate::Coalescer<E>>,
    /// Wakes the aggregation timer.
    pub(super) coalesce_wake: Notify,
    pub(super) aggregation: Aggregation,
    pub(super) limits: FieldLimits,
    pub(super) runtime: tokio::runtime::Handle,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Progress {
    /// `written + quarantined`.
    pub(super) done: u64,
    /// The writer was aborted: nothing more will be done.
    pub(super) stopped: bool,
}

pub(super) struct State<E> {
    /// Records older than everything in the spill file.
    pub(super) queue: VecDeque<E>,
    pub(super) spill: Spill,
    pub(super) counters: AuditCounters,
    pub(super) aborted: bool,
    /// Every handle is gone: the writer stops once nothing is pending.
    pub(super) closed: bool,
    pub(super) block_waiters: usize,
}

pub(super) enum Place {
    Queue,
    Spill,
    Reject,
}

impl<E> Shared<E> {
    pub(super) fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn publish(&self, st: &State<E>, stopped: bool) {
        let done = st.counters.written + st.counters.quarantined;
        self.progress.send_modify(|p| {
            p.done = done;
            p.stopped |= stopped;
        });
    }

    /// `Overflow::Block`: waits until the queue has room, the deadline passes or spilling has
    /// started (then later records must spill too).
    pub(super) fn wait_for_room<'a>(
        &'a self,
        mut st: MutexGuard<'a, State<E>>,
        wait: Duration,
    ) -> (MutexGuard<'a, State<E>>, Place) {
        let deadline = Instant::now() + wait;
        st.block_waiters += 1;
        let place = loop {
            if st.aborted || st.spill.pending > 0 {
                break Place::Spill;
            }
            if st.queue.len() < self.capacity {
                break Place::Queue;
            }
            let now = Instant::now();
            if now >= deadline {
                break Place::Spill;
            }
            st = self
                .space
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        st.block_waiters -= 1;
        (st, place)
    }

    /// After the sink accepted `batch`: removes it from the queue or moves the spill cursor.
    pub(super) fn commit(&self, batch: &Batch<E>) {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.aborted {
            return;
        }
        match &batch.source {
            Source::Queue => {
                st.queue.drain(..batch.records.len());
            }
            Source::Spill {
                next_cursor,
                lines,
                bad,
            } => {
                for line in bad {
                    quarantine(&st.spill.path, line);
                }
                st.counters.quarantined += bad.len() as u64;
                st.spill.advance(*next_cursor, *lines);
            }
        }
        st.counters.written += batch.records.len() as u64;
        self.publish(st, false);
        if st.block_waiters > 0 {
            self.space.notify_all();
        }
    }
}

impl<E: Serialize> Shared<E> {
    /// [`Auditor::record`]. `never_refuse`: [`Overflow::Reject`] spills instead (for an
    /// aggregate, which stands for requests already answered).
    pub(super) fn record(&self, record: E, never_refuse: bool) -> Result<(), AuditRejected> {
        let mut st = self.lock();
        let place = if st.aborted || st.spill.pending > 0 || self.capacity == 0 {
            Place::Spill
        } else if st.queue.len() < self.capacity {
            Place::Queue
        } else {
            match self.overflow {
                Overflow::Spill => Place::Spill,
                Overflow::Reject if never_refuse => Place::Spill,
                Overflow::Reject => Place::Reject,
                Overflow::Block(wait) => {
                    let (guard, place) = self.wait_for_room(st, wait);
                    st = guard;
                    place
                }
            }
        };
        let result = match place {
            Place::Queue => {
                st.queue.push_back(record);
                st.counters.queued += 1;
                Ok(())
            }
            Place::Spill => self.spill_locked(&mut st, &record),
            Place::Reject => {
                st.counters.rejected += 1;
                Err(AuditRejected)
            }
        };
        drop(st);
        if result.is_ok() {
            self.wake.notify_one();
        }
        result
    }

    /// Appends `record` to the spill file (the lock held, so the order is the lock's order).
    pub(super) fn spill_locked(&self, st: &mut State<E>, record: &E) -> Result<(), AuditRejected> {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(error) => {
                tracing::error!(target: TARGET, %error, "an audit record cannot be serialized; refused");
                st.counters.rejected += 1;
                return Err(AuditRejected);
            }
        };
        line.push(b'\n');
        match st.spill.append(&line) {
            Ok(()) => {
                st.spill.pending += 1;
                st.counters.queued += 1;
                st.counters.spilled += 1;
                Ok(())
            }
            Err(error) => {
                tracing::error!(
                    target: TARGET,
                    %error,
                    path = %st.spill.path.display(),
                    "cannot write the audit spill file; record refused"
                );
                st.counters.rejected += 1;
                Err(AuditRejected)
            }
        }
    }
}

/// A batch handed to the sink, and where its records come from.
pub(super) struct Batch<E> {
    pub(super) records: Vec<E>,
    pub(super) source: Source,
}

pub(super) enum Source {
    /// The first `records.len()` records of the queue.
    Queue,
    /// Spill file lines from the cursor to `next_cursor`.
    Spill {
        next_cursor: u64,
        lines: u64,
        /// Lines that do not parse (quarantined on commit).
        bad: Vec<Vec<u8>>,
    },
}

pub(super) enum Job<E> {
    Idle,
    Queue(Vec<E>),
    Spill { cursor: u64, end: u64 },
}
