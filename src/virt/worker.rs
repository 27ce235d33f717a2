//! One thread per connection that runs blocking libvirt calls in order.
//!
//! Every call on a remote connection can block for a network round trip, so none runs
//! on the GTK main thread. Jobs are closures over a [`WorkerState`] owned by the
//! thread; each reply travels back over a one-shot `async-channel` that the main loop
//! awaits. Running jobs in order keeps cause before effect (an action, then the
//! refresh it triggers) without locks.

use std::future::Future;
use std::sync::mpsc;
use std::thread;

use super::connection::Session;
use super::error::VirtError;
use super::stats::StatsTracker;

/// What the worker thread owns between jobs.
#[derive(Default)]
pub struct WorkerState {
    /// The open connection, if any.
    pub session: Option<Session>,
    /// Previous counter samples, for rates.
    pub stats: StatsTracker,
}

impl WorkerState {
    /// The open session or `NotConnected`.
    pub fn session(&self) -> Result<&Session, VirtError> {
        self.session.as_ref().ok_or(VirtError::NotConnected)
    }

    /// Closes the session (if any) and forgets the stats history.
    pub fn close(&mut self) {
        if let Some(s) = self.session.take() {
            s.close();
        }
        self.stats = StatsTracker::default();
    }
}

type Job = Box<dyn FnOnce(&mut WorkerState) + Send>;

/// A handle on a connection's worker thread. Dropping it ends the thread after the
/// jobs already queued (which closes the connection).
pub struct Worker {
    tx: mpsc::Sender<Job>,
}

impl Worker {
    /// Starts the thread.
    pub fn spawn(name: &str) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = thread::Builder::new()
            .name(format!("virt {name}"))
            .spawn(move || {
                let mut state = WorkerState::default();
                while let Ok(job) = rx.recv() {
                    // A panicking job (say a `with_connect` closure) must not take the
                    // connection down with it: its caller sees WorkerGone, later jobs run.
                    let r =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut state)));
                    if r.is_err() {
                        tracing::error!("a libvirt job panicked");
                    }
                }
                state.close();
            });
        if let Err(e) = spawned {
            // Without a thread every job answers WorkerGone; the UI shows that.
            tracing::error!(error = %e, "could not start a libvirt worker thread");
        }
        Worker { tx }
    }

    /// Queues `f` and returns a future of its result.
    pub fn run<R, F>(&self, f: F) -> impl Future<Output = Result<R, VirtError>> + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut WorkerState) -> R + Send + 'static,
    {
        let (tx, rx) = async_channel::bounded(1);
        let queued = self
            .tx
            .send(Box::new(move |state: &mut WorkerState| {
                let _ = tx.send_blocking(f(state));
            }))
            .is_ok();
        async move {
            if !queued {
                return Err(VirtError::WorkerGone);
            }
            rx.recv().await.map_err(|_| VirtError::WorkerGone)
        }
    }

    /// Queues `f` without waiting for it.
    pub fn post<F>(&self, f: F)
    where
        F: FnOnce(&mut WorkerState) + Send + 'static,
    {
        let _ = self.tx.send(Box::new(f));
    }

    /// Runs `f` and blocks the calling thread until it is done (tests and benches only:
    /// never call this on the GTK main thread).
    pub fn run_blocking<R, F>(&self, f: F) -> Result<R, VirtError>
    where
        R: Send + 'static,
        F: FnOnce(&mut WorkerState) -> R + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Box::new(move |state: &mut WorkerState| {
                let _ = tx.send(f(state));
            }))
            .map_err(|_| VirtError::WorkerGone)?;
        rx.recv().map_err(|_| VirtError::WorkerGone)
    }
}
