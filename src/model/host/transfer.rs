//! `Transfer`: one upload of a file into a volume or download of a volume into a file,
//! running on a thread of its own, its progress and end reported on the main loop.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glib::prelude::*;
use glib::subclass::prelude::*;

use super::{HostError, PoolObject, VolumeObject};
use crate::model::ConnectionObject;
use crate::virt::handles::release_connect;
use crate::virt::host::transfer::{self, TransferError};
use crate::virt::VirtError;

/// Which way the bytes go.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoTransferDirection")]
pub enum TransferDirection {
    /// A local file into the volume.
    #[default]
    Upload,
    /// The volume into a local file.
    Download,
}

/// Where a transfer stands.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoTransferState")]
pub enum TransferState {
    /// Copying.
    #[default]
    Running,
    /// All copied.
    Finished,
    /// Stopped by an error (see `error`).
    Failed,
    /// Stopped by the person.
    Cancelled,
}

/// How often progress reaches the main loop at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

enum Message {
    Progress(u64, u64),
    Done(Result<u64, TransferError>, Duration),
}

mod imp {
    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::Transfer)]
    pub struct Transfer {
        #[property(get, builder(TransferDirection::default()))]
        pub(super) direction: Cell<TransferDirection>,
        #[property(get, builder(TransferState::default()))]
        pub(super) state: Cell<TransferState>,
        /// Bytes copied so far.
        #[property(get)]
        pub(super) done: Cell<u64>,
        /// Bytes in all (0 until known).
        #[property(get)]
        pub(super) total: Cell<u64>,
        /// The volume's name.
        #[property(get)]
        pub(super) volume_name: RefCell<String>,
        /// The local file.
        #[property(get)]
        pub(super) file: RefCell<String>,
        /// Why it failed.
        #[property(get)]
        pub(super) error: RefCell<Option<String>>,
        /// Throughput over the whole transfer once finished, bytes per second.
        #[property(get)]
        pub(super) bytes_per_second: Cell<f64>,
        pub(super) cancel: Arc<AtomicBool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Transfer {
        const NAME: &'static str = "VireoTransfer";
        type Type = super::Transfer;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Transfer {}
}

glib::wrapper! {
    /// One volume upload or download.
    pub struct Transfer(ObjectSubclass<imp::Transfer>);
}

impl Transfer {
    pub(super) fn start(
        connection: &ConnectionObject,
        pool: &PoolObject,
        volume: &VolumeObject,
        direction: TransferDirection,
        file: PathBuf,
    ) -> Result<Transfer, HostError> {
        // The transfer's own reference on the connection: the stream's calls run on
        // this thread while the worker goes on serving the page.
        let conn = connection
            .raw()
            .ok_or(HostError::Virt(VirtError::NotConnected))?;
        let obj: Transfer = glib::Object::new();
        let imp = obj.imp();
        imp.direction.set(direction);
        imp.volume_name.replace(volume.name());
        imp.file.replace(file.to_string_lossy().into_owned());
        let (tx, rx) = async_channel::unbounded::<Message>();
        let cancel = imp.cancel.clone();
        let (pool_name, vol_name) = (pool.name(), volume.name());
        let spawned = std::thread::Builder::new()
            .name(format!("transfer {vol_name}"))
            .spawn(move || {
                let started = Instant::now();
                let mut last = Instant::now() - PROGRESS_EVERY;
                let mut progress = |done: u64, total: u64| {
                    if last.elapsed() >= PROGRESS_EVERY || done == total {
                        last = Instant::now();
                        let _ = tx.try_send(Message::Progress(done, total));
                    }
                };
                let r = match direction {
                    TransferDirection::Upload => transfer::upload(
                        &conn,
                        &pool_name,
                        &vol_name,
                        &file,
                        &cancel,
                        &mut progress,
                    ),
                    TransferDirection::Download => transfer::download(
                        &conn,
                        &pool_name,
                        &vol_name,
                        &file,
                        &cancel,
                        &mut progress,
                    ),
                };
                release_connect(conn);
                let _ = tx.try_send(Message::Done(r, started.elapsed()));
            });
        if let Err(e) = spawned {
            return Err(HostError::File(e.to_string()));
        }
        let weak = obj.downgrade();
        let pool = pool.downgrade();
        glib::spawn_future_local(async move {
            while let Ok(msg) = rx.recv().await {
                let Some(obj) = weak.upgrade() else {
                    return;
                };
                match msg {
                    Message::Progress(done, total) => obj.set_progress(done, total),
                    Message::Done(r, took) => {
                        obj.finish(r, took);
                        // An upload may change the volume's size and format.
                        if let (Some(pool), TransferDirection::Upload) = (pool.upgrade(), direction)
                        {
                            let _ = pool.reread_volume(&obj.volume_name()).await;
                        }
                        return;
                    }
                }
            }
        });
        Ok(obj)
    }

    fn set_progress(&self, done: u64, total: u64) {
        let imp = self.imp();
        let _guard = self.freeze_notify();
        if imp.total.replace(total) != total {
            self.notify_total();
        }
        if imp.done.replace(done) != done {
            self.notify_done();
        }
    }

    fn finish(&self, r: Result<u64, TransferError>, took: Duration) {
        let imp = self.imp();
        let state = match r {
            Ok(bytes) => {
                self.set_progress(bytes, imp.total.get().max(bytes));
                imp.bytes_per_second
                    .set(bytes as f64 / took.as_secs_f64().max(1e-6));
                self.notify_bytes_per_second();
                TransferState::Finished
            }
            Err(TransferError::Cancelled) => TransferState::Cancelled,
            Err(e) => {
                imp.error.replace(Some(HostError::from(e).to_string()));
                self.notify_error();
                TransferState::Failed
            }
        };
        imp.state.set(state);
        self.notify_state();
    }

    /// Share done, 0 to 1 (0 while the total is unknown).
    pub fn fraction(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            (self.done() as f64 / total as f64).clamp(0.0, 1.0)
        }
    }

    /// Stops the transfer at the next chunk. A cancelled upload leaves the volume
    /// holding part of the file; a cancelled download leaves no file behind.
    pub fn cancel(&self) {
        self.imp().cancel.store(true, Ordering::Relaxed);
    }

    /// True while copying.
    pub fn is_running(&self) -> bool {
        self.state() == TransferState::Running
    }

    /// Waits (on the main loop) until the transfer ends; its last state.
    pub async fn ended(&self) -> TransferState {
        if !self.is_running() {
            return self.state();
        }
        let (tx, rx) = async_channel::bounded::<()>(1);
        let id = self.connect_state_notify(move |t| {
            if !t.is_running() {
                let _ = tx.try_send(());
            }
        });
        let _ = rx.recv().await;
        self.disconnect(id);
        self.state()
    }
}
