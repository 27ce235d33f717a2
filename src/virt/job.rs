//! Long jobs (snapshots, clones, migrations): how they report progress and hear that
//! a person pressed Cancel.
//!
//! A job runs on a thread of its own with its own reference on the connection, so the
//! connection's worker stays free for the list, events and stats, and another call
//! (say a progress poll or `virDomainAbortJob`) can run on the same connection while
//! the long call blocks. Progress is a typed [`Stage`] (the model words it, in the
//! person's language) plus a fraction when one is known.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use super::error::VirtError;

/// A flag the main thread sets and the job thread reads.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop (it stops at the next point where it safely can).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`Self::cancel`] ran.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a job is doing now.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Saving a screenshot for the snapshot's thumbnail.
    Screenshot,
    /// libvirt is taking the snapshot.
    TakingSnapshot { name: String },
    /// libvirt is reverting to the snapshot.
    Reverting { name: String },
    /// libvirt is deleting a snapshot (merging external data away can take a while).
    DeletingSnapshot { name: String },
    /// The host copies a disk into a new volume.
    CopyingDisk {
        target: String,
        done: u64,
        total: u64,
    },
    /// A disk is copied from one host to the other through this computer.
    TransferringDisk {
        target: String,
        done: u64,
        total: u64,
    },
    /// A thin overlay on the original disk is being made.
    MakingOverlay { target: String },
    /// The UEFI variables are being copied.
    CopyingNvram,
    /// Cancel was pressed while libvirt copies into the new volume `volume`: libvirt
    /// 9.0 cannot stop that copy, so the job waits for it to end, then removes it.
    WaitingToCancel { volume: String },
    /// The new definition is being defined.
    Defining,
    /// A live migration moves memory (and disks) while the VM runs.
    Migrating {
        /// Bytes of memory and disk moved, and the total to move (it grows while the
        /// guest dirties memory).
        done: u64,
        total: u64,
        /// Memory pass (1 first, higher while the guest dirties memory).
        iteration: u64,
    },
    /// Removing what a failed or cancelled job made.
    CleaningUp,
}

/// One progress report.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// 0..=1 when known.
    pub fraction: Option<f64>,
    pub stage: Stage,
}

impl Progress {
    /// A report without a known fraction.
    pub fn stage(stage: Stage) -> Self {
        Progress {
            fraction: None,
            stage,
        }
    }

    /// A report of `done` out of `total` (kept below 1 until the job says it is done).
    pub fn counted(stage: Stage, done: u64, total: u64) -> Self {
        let fraction = if total == 0 {
            None
        } else {
            Some((done as f64 / total as f64).clamp(0.0, 0.99))
        };
        Progress { fraction, stage }
    }
}

/// Where a job sends its reports (a channel to the main loop, in the model).
pub type Reporter = dyn Fn(Progress) + Send + Sync;

/// How a long job ended badly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// A libvirt call failed (its text).
    #[error(transparent)]
    Virt(#[from] VirtError),
    /// Cancelled, and everything made so far was removed.
    #[error("cancelled")]
    Cancelled,
    /// The job failed, and removing what it had made failed too: those things are
    /// left (the first error, then what stays).
    #[error("{error}; left behind: {}", left.join(", "))]
    LeftBehind {
        error: Box<JobError>,
        left: Vec<String>,
    },
}

impl JobError {
    /// This error, noting what the cleanup after it could not remove (if anything).
    pub fn leaving(self, left: Vec<String>) -> JobError {
        if left.is_empty() {
            self
        } else {
            JobError::LeftBehind {
                error: Box::new(self),
                left,
            }
        }
    }
}

/// Result of a long job.
pub type JobResult<T> = std::result::Result<T, JobError>;

/// Runs the blocking `call` on a thread of its own while `poll` runs on this one every
/// `every` (progress reads, Cancel checks) until the call returns; its return ends the
/// wait at once. Returns the call's result.
pub fn while_running<T: Send>(
    call: impl FnOnce() -> T + Send,
    every: Duration,
    mut poll: impl FnMut(),
) -> T {
    thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let worker = s.spawn(move || {
            let r = call();
            let _ = done_tx.send(());
            r
        });
        loop {
            poll();
            match done_rx.recv_timeout(every) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                _ => break,
            }
        }
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
