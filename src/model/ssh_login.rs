//! ssh's questions (key passphrase, password, a host key not yet known) brought to the
//! person, for every ssh Vireo runs: libvirt's own `qemu+ssh://` transport and the
//! channels that carry remote consoles.
//!
//! ssh asks through the program `SSH_ASKPASS` names when it has no terminal. libvirt
//! starts its ssh with a cleaned environment that keeps `SSH_ASKPASS` and `DISPLAY`, so
//! [`install`] (before the first thread) starts one process-wide
//! [`AskpassServer`] and points `SSH_ASKPASS` at its helper; a console's channel gets a
//! server of its own (`askpass()`). Both answer through the same relay: the question
//! goes to the main loop as an [`SshQuestion`] on [`SshLogin`]'s `question-asked`
//! signal, and the helper waits (on the server's thread, never the main one) until the
//! person answers or the question is dropped, which refuses it.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};

use glib::prelude::*;
use glib::subclass::prelude::*;
use glib::subclass::Signal;

pub use crate::virt::ssh::AskpassQuestion as LoginQuestion;
use crate::virt::ssh::{Askpass, AskpassAnswer, AskpassServer};

/// A question on its way to the main loop, with the channel for the answer.
type Asked = (LoginQuestion, mpsc::Sender<AskpassAnswer>);

/// The relay's sending end, set by [`install`]; questions wait in it until a handler
/// of [`SshLogin::connect_question_asked`] takes them on the main loop (the app opens
/// its hosts before its window exists).
static RELAY: OnceLock<async_channel::Sender<Asked>> = OnceLock::new();
/// The process-wide server of libvirt's ssh.
static PROCESS_SERVER: Mutex<Option<AskpassServer>> = Mutex::new(None);

/// The `vireo-askpass` helper: `$VIREO_ASKPASS`, else next to this program (or one
/// level up, for cargo's test binaries in `target/*/deps`).
fn helper() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VIREO_ASKPASS").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [
        dir.join("vireo-askpass"),
        dir.parent()?.join("vireo-askpass"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Answers one question through the main loop; refuses it at once in a process that
/// cannot ask (no [`install`]: tests, tools) or when the answer can no longer come.
fn relay(question: &LoginQuestion) -> AskpassAnswer {
    let Some(tx) = RELAY.get() else {
        tracing::info!(?question, "ssh asked, but nobody can answer: refused");
        return AskpassAnswer::Cancel;
    };
    let (reply, answer) = mpsc::channel();
    if tx.send_blocking((question.clone(), reply)).is_err() {
        return AskpassAnswer::Cancel;
    }
    answer.recv().unwrap_or(AskpassAnswer::Cancel)
}

/// How a console's ssh asks its questions: through the helper to the person, or
/// `None` (batch mode) when the helper is not installed.
pub(crate) fn askpass() -> Option<Askpass> {
    Some(Askpass {
        helper: helper()?,
        handler: Arc::new(relay),
    })
}

/// Makes the relay (questions wait until [`SshLogin::connect_question_asked`] takes
/// them), starts the process-wide askpass server and sets `SSH_ASKPASS` for the ssh
/// that libvirt runs. Call once, on the main thread, first thing, before any other
/// thread (it changes the environment); without the helper, ssh asks nothing.
pub fn install() {
    SshLogin::shared();
    let Some(askpass) = askpass() else {
        tracing::debug!("vireo-askpass not found: ssh cannot ask for logins");
        return;
    };
    // ssh asks a refused password again at once (3 times): those are refused with it.
    match AskpassServer::start_shared(&askpass, std::time::Duration::from_secs(2)) {
        Ok(server) => {
            std::env::set_var("SSH_ASKPASS", server.program());
            *PROCESS_SERVER
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(server);
        }
        Err(e) => tracing::warn!(error = %e, "could not start the askpass server"),
    }
}

/// Stops the process-wide server and removes its directory (at the app's end).
pub fn uninstall() {
    PROCESS_SERVER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    // The consoles' shared logins (see `virt::ssh::mux`) end with the app.
    crate::virt::ssh::mux::close_masters();
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct SshQuestion {
        pub(super) question: RefCell<Option<LoginQuestion>>,
        pub(super) reply: RefCell<Option<mpsc::Sender<AskpassAnswer>>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SshQuestion {
        const NAME: &'static str = "VireoSshQuestion";
        type Type = super::SshQuestion;
    }

    impl ObjectImpl for SshQuestion {
        fn dispose(&self) {
            self.obj().refuse();
        }
    }

    #[derive(Default)]
    pub struct SshLogin {
        /// The relay's receiving end, until a handler takes the questions.
        pub(super) questions: RefCell<Option<async_channel::Receiver<Asked>>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SshLogin {
        const NAME: &'static str = "VireoSshLogin";
        type Type = super::SshLogin;
    }

    impl ObjectImpl for SshLogin {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![Signal::builder("question-asked")
                    .param_types([super::SshQuestion::static_type()])
                    .build()]
            })
        }
    }
}

glib::wrapper! {
    /// One question of ssh, waiting for the person's answer. Dropped unanswered, it is
    /// refused.
    pub struct SshQuestion(ObjectSubclass<imp::SshQuestion>);
}

impl SshQuestion {
    fn new(question: LoginQuestion, reply: mpsc::Sender<AskpassAnswer>) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().question.replace(Some(question));
        obj.imp().reply.replace(Some(reply));
        obj
    }

    /// What ssh asks.
    pub fn question(&self) -> LoginQuestion {
        self.imp()
            .question
            .borrow()
            .clone()
            .expect("made with its question")
    }

    /// Answers with text: a password, a passphrase, or what an other question asks.
    pub fn answer(&self, text: &str) {
        self.send(AskpassAnswer::Text(text.to_owned()));
    }

    /// Connects to the host whose unknown key was shown (ssh records it).
    pub fn accept_host_key(&self) {
        self.send(AskpassAnswer::AcceptHostKey);
    }

    /// Refuses: ssh gives up, and the login fails.
    pub fn refuse(&self) {
        self.send(AskpassAnswer::Cancel);
    }

    /// True until answered or refused.
    pub fn is_pending(&self) -> bool {
        self.imp().reply.borrow().is_some()
    }

    fn send(&self, answer: AskpassAnswer) {
        if let Some(tx) = self.imp().reply.take() {
            let _ = tx.send(answer);
        }
    }
}

glib::wrapper! {
    /// Where ssh's questions arrive on the main loop (one per process).
    pub struct SshLogin(ObjectSubclass<imp::SshLogin>);
}

impl SshLogin {
    /// The process's relay, made on first use; call on the main thread.
    pub fn shared() -> SshLogin {
        thread_local! {
            static SHARED: SshLogin = SshLogin::start();
        }
        SHARED.with(Clone::clone)
    }

    fn start() -> SshLogin {
        let obj: SshLogin = glib::Object::new();
        let (tx, rx) = async_channel::unbounded::<Asked>();
        if RELAY.set(tx).is_ok() {
            obj.imp().questions.replace(Some(rx));
        }
        obj
    }

    /// Connects to `question-asked`; the questions that waited for a handler come now.
    /// A handler that keeps no reference to the question refuses it.
    pub fn connect_question_asked<F: Fn(&Self, &SshQuestion) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        let id = self.connect_local("question-asked", false, move |args| {
            let obj = args[0].get::<Self>().ok()?;
            let question = args[1].get::<SshQuestion>().ok()?;
            f(&obj, &question);
            None
        });
        if let Some(rx) = self.imp().questions.take() {
            let weak = self.downgrade();
            glib::spawn_future_local(async move {
                while let Ok((question, reply)) = rx.recv().await {
                    // Without the relay the question is dropped, which refuses it.
                    let Some(obj) = weak.upgrade() else { break };
                    let request = SshQuestion::new(question, reply);
                    obj.emit_by_name::<()>("question-asked", &[&request]);
                }
            });
        }
        id
    }
}
