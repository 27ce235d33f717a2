//! `OperationObject`: one long operation on a VM (snapshot, clone, migration) as the
//! list row and the VM's tab show it: a title, what it is doing now, a fraction when
//! one is known, and Cancel while it can be cancelled.
//!
//! The job itself runs on a thread of its own with its own references on the
//! connections it needs ([`run_job`]); its progress reports cross to the main loop
//! over a channel and become property changes here.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

use gettextrs::gettext;
use glib::prelude::*;
use glib::subclass::prelude::*;
use glib::subclass::Signal;
use virt::connect::Connect;

use super::stage_text::stage_text;
use super::{ConnectionObject, DomainObject};
use crate::virt::handles::{clone_connect, release_connect};
use crate::virt::job::{CancelToken, JobError, JobResult, Progress, Reporter};
use crate::virt::VirtError;

/// How an operation ended badly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// The job failed or was cancelled (libvirt's text inside).
    #[error(transparent)]
    Job(#[from] JobError),
    /// Another operation is running on this VM.
    #[error("another operation is running on this VM")]
    Busy,
}

impl From<VirtError> for OperationError {
    fn from(e: VirtError) -> Self {
        OperationError::Job(JobError::Virt(e))
    }
}

impl OperationError {
    /// True when the person cancelled it (and everything made was removed).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, OperationError::Job(JobError::Cancelled))
    }

    /// The text shown: libvirt's own message when libvirt failed.
    pub fn text(&self) -> String {
        match self {
            OperationError::Job(JobError::Virt(e)) => super::connection_object::error_text(e),
            OperationError::Job(JobError::Cancelled) => gettext("Cancelled"),
            OperationError::Job(JobError::LeftBehind { error, left }) => {
                // Translators: {error} is what failed, {left} a list of files or VMs.
                gettext("{error}. These could not be removed and are left: {left}")
                    .replace("{error}", &OperationError::Job((**error).clone()).text())
                    .replace("{left}", &left.join(", "))
            }
            OperationError::Busy => gettext("Another operation is running on this virtual machine"),
        }
    }
}

mod imp {
    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::OperationObject)]
    pub struct OperationObject {
        /// What runs, e.g. "Cloning web".
        #[property(get)]
        pub(super) title: RefCell<String>,
        /// What it does now, e.g. "Copying disk vda: 1.2 GB of 4.0 GB".
        #[property(get)]
        pub(super) text: RefCell<String>,
        /// 0..=1, or -1 while unknown.
        #[property(get, default = -1.0, minimum = -1.0, maximum = 1.0)]
        pub(super) fraction: Cell<f64>,
        /// Cancel can be pressed now.
        #[property(get)]
        pub(super) cancellable: Cell<bool>,
        /// Not finished yet.
        #[property(get)]
        pub(super) running: Cell<bool>,
        pub(super) token: RefCell<Option<CancelToken>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OperationObject {
        const NAME: &'static str = "VireoOperationObject";
        type Type = super::OperationObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for OperationObject {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                // The operation ended (true: it succeeded).
                vec![Signal::builder("finished")
                    .param_types([bool::static_type()])
                    .build()]
            })
        }
    }
}

glib::wrapper! {
    /// One long operation on a VM.
    pub struct OperationObject(ObjectSubclass<imp::OperationObject>);
}

impl OperationObject {
    fn new(title: &str, token: Option<CancelToken>) -> Self {
        let op: Self = glib::Object::new();
        let imp = op.imp();
        imp.title.replace(title.to_owned());
        imp.running.set(true);
        imp.cancellable.set(token.is_some());
        imp.fraction.set(-1.0);
        imp.token.replace(token);
        op
    }

    /// Asks the job to stop; it removes what it made and ends as cancelled.
    pub fn cancel(&self) {
        if let Some(t) = self.imp().token.borrow().as_ref() {
            t.cancel();
        }
        self.set_cancellable(false);
        self.set_text(&gettext("Cancelling…"));
    }

    /// Connects to `finished` (true: the operation succeeded).
    pub fn connect_finished<F: Fn(&Self, bool) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_local("finished", false, move |args| {
            let op = args[0].get::<Self>().ok()?;
            let ok = args[1].get::<bool>().ok()?;
            f(&op, ok);
            None
        })
    }

    fn set_text(&self, t: &str) {
        if *self.imp().text.borrow() != t {
            self.imp().text.replace(t.to_owned());
            self.notify_text();
        }
    }

    fn set_cancellable(&self, v: bool) {
        if self.imp().cancellable.replace(v) != v {
            self.notify_cancellable();
        }
    }

    fn apply(&self, p: &Progress) {
        let cancelling = self
            .imp()
            .token
            .borrow()
            .as_ref()
            .is_some_and(CancelToken::is_cancelled);
        if !cancelling
            || matches!(
                p.stage,
                crate::virt::job::Stage::WaitingToCancel { .. }
                    | crate::virt::job::Stage::CleaningUp
            )
        {
            self.set_text(&stage_text(&p.stage));
        }
        let f = p.fraction.unwrap_or(-1.0);
        if self.imp().fraction.replace(f) != f {
            self.notify_fraction();
        }
    }

    fn finish(&self, ok: bool) {
        let imp = self.imp();
        imp.running.set(false);
        self.set_cancellable(false);
        if ok {
            imp.fraction.set(1.0);
            self.notify_fraction();
        }
        self.notify_running();
        self.emit_by_name::<()>("finished", &[&ok]);
    }
}

/// What a job closure receives: a reference on each connection it asked for (in
/// order), the reporter and the cancel token.
pub type JobFn<T> =
    Box<dyn FnOnce(&[Connect], &Reporter, &CancelToken) -> JobResult<T> + Send + 'static>;

enum Message<T> {
    Progress(Progress),
    Done(JobResult<T>),
}

/// Runs `job` on a thread of its own with references on `connections`, shown as an
/// operation titled `title` on `domain` (its `operation` property) until it ends.
/// `cancellable` offers Cancel. Refused while another operation runs on `domain`.
pub async fn run_job<T: Send + 'static>(
    domain: &DomainObject,
    connections: &[ConnectionObject],
    title: &str,
    cancellable: bool,
    job: JobFn<T>,
) -> Result<T, OperationError> {
    if domain.operation().is_some_and(|o| o.running()) {
        return Err(OperationError::Busy);
    }
    let token = CancelToken::new();
    let op = OperationObject::new(title, cancellable.then(|| token.clone()));
    domain.set_operation(Some(&op));
    let result = run_on_thread(connections, Some(&op), token, job).await;
    op.finish(result.is_ok());
    if let Err(e) = &result {
        if !e.is_cancelled() {
            tracing::warn!(title, error = %e, "operation failed");
        }
    }
    // The row and the tab drop the finished operation; another may start.
    if domain.operation().as_ref() == Some(&op) {
        domain.set_operation(None);
    }
    result
}

/// Runs a short job that needs several connections at once (say, a migration's plan)
/// on a thread of its own, without showing it as an operation.
pub async fn run_quick<T: Send + 'static>(
    connections: &[ConnectionObject],
    job: JobFn<T>,
) -> Result<T, OperationError> {
    run_on_thread(connections, None, CancelToken::new(), job).await
}

async fn run_on_thread<T: Send + 'static>(
    connections: &[ConnectionObject],
    op: Option<&OperationObject>,
    token: CancelToken,
    job: JobFn<T>,
) -> Result<T, OperationError> {
    let mut conns = Vec::with_capacity(connections.len());
    for c in connections {
        let r = c
            .worker()
            .run(|st| {
                st.session()
                    .and_then(|s| clone_connect(s.conn()).ok_or(VirtError::NotConnected))
            })
            .await;
        match r {
            Ok(Ok(conn)) => conns.push(conn),
            Ok(Err(e)) | Err(e) => {
                conns.into_iter().for_each(release_connect);
                return Err(e.into());
            }
        }
    }
    let (tx, rx) = async_channel::unbounded::<Message<T>>();
    let progress_tx = tx.clone();
    let reporter: Arc<Reporter> = Arc::new(move |p: Progress| {
        let _ = progress_tx.send_blocking(Message::Progress(p));
    });
    let spawned = std::thread::Builder::new()
        .name("vireo job".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                job(&conns, reporter.as_ref(), &token)
            }))
            .unwrap_or_else(|_| {
                Err(JobError::Virt(VirtError::InvalidArgument(
                    "the job panicked".into(),
                )))
            });
            conns.into_iter().for_each(release_connect);
            let _ = tx.send_blocking(Message::Done(r));
        });
    if let Err(e) = spawned {
        return Err(VirtError::InvalidArgument(format!("no thread for the job: {e}")).into());
    }
    while let Ok(m) = rx.recv().await {
        match m {
            Message::Progress(p) => {
                if let Some(op) = op {
                    op.apply(&p)
                }
            }
            Message::Done(r) => return r.map_err(OperationError::from),
        }
    }
    Err(VirtError::WorkerGone.into())
}
