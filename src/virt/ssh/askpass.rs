//! ssh's questions (key passphrase, password, unknown host key) brought to Vireo.
//!
//! ssh asks through the program named by `SSH_ASKPASS` when it has no terminal (or
//! always, with `SSH_ASKPASS_REQUIRE=force`): it runs it with the question as its only
//! argument (and `SSH_ASKPASS_PROMPT=confirm` for yes/no questions) and reads the answer
//! from its stdout; a non-zero exit means "no answer". Vireo's program is the small
//! `vireo-askpass` binary (`src/bin/vireo-askpass.rs`): it forwards the question over a
//! unix socket to an [`AskpassServer`] in Vireo and prints the answer it gets back.
//!
//! Each server lives in a private directory (mode 0700, under `$XDG_RUNTIME_DIR`), with
//! the socket `askpass.sock` and a link `askpass` to the helper. `SSH_ASKPASS` names
//! that link, so the helper finds its socket next to its own `argv[0]` even when ssh
//! runs with a cleaned environment: libvirt's ssh transport passes `SSH_ASKPASS` and
//! `DISPLAY` to ssh but not `SSH_ASKPASS_REQUIRE` nor `VIREO_ASKPASS_SOCKET` (the helper
//! prefers the latter when it is set). Only the same user can reach the socket.
//!
//! The server answers on its own thread through an [`AskpassHandler`] that may block
//! while a person reads a dialog (the model sends the question to the main loop and
//! waits for the reply, as with libvirt's auth callback in `virt::auth`).

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One question of ssh, sorted by what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskpassQuestion {
    /// The passphrase of a private key file.
    KeyPassphrase {
        /// The key file as ssh names it.
        key: String,
    },
    /// The password of a user on a host.
    Password {
        /// The login name.
        user: String,
        /// The host.
        host: String,
    },
    /// A host whose key is not in known_hosts: connect (ssh then records the key) or
    /// not.
    UnknownHostKey {
        /// The host as ssh names it.
        host: String,
        /// The key type, e.g. "ED25519".
        key_type: String,
        /// The key's fingerprint, e.g. "SHA256:...".
        fingerprint: String,
    },
    /// Any other question (keyboard-interactive prompts, one-time codes, security-key
    /// confirmations), shown as ssh wrote it.
    Other {
        /// ssh's text.
        prompt: String,
        /// ssh only wants a yes or no (`SSH_ASKPASS_PROMPT=confirm`).
        confirm: bool,
    },
}

impl AskpassQuestion {
    /// Sorts ssh's question text; `hint` is `SSH_ASKPASS_PROMPT` ("confirm", "none" or
    /// empty).
    pub fn parse(prompt: &str, hint: &str) -> Self {
        let between = |text: &str, start: &str, end: &str| -> Option<String> {
            let (_, rest) = text.split_once(start)?;
            Some(rest.split_once(end)?.0.to_owned())
        };
        if prompt.contains("authenticity of host") {
            let host = between(prompt, "host '", "'");
            let key = prompt
                .lines()
                .find_map(|l| l.split_once(" key fingerprint is "));
            if let (Some(host), Some((key_type, fp))) = (host, key) {
                // "10.0.0.2 (10.0.0.2)" or "[h]:2222 ([10.0.0.2]:2222)": the name asked for.
                let host = host.split(" (").next().unwrap_or(&host).to_owned();
                return Self::UnknownHostKey {
                    host,
                    key_type: key_type.trim().to_owned(),
                    fingerprint: fp.trim().trim_end_matches('.').to_owned(),
                };
            }
        }
        if let Some(key) = between(prompt, "Enter passphrase for key '", "'") {
            return Self::KeyPassphrase { key };
        }
        if let Some(login) = prompt.trim_end().strip_suffix("'s password:") {
            if let Some((user, host)) = login.rsplit_once('@') {
                return Self::Password {
                    user: user.to_owned(),
                    host: host.to_owned(),
                };
            }
        }
        Self::Other {
            prompt: prompt.to_owned(),
            confirm: hint == "confirm",
        }
    }
}

/// What the person answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskpassAnswer {
    /// Text typed: password, passphrase, code, or "yes"/"no".
    Text(String),
    /// Connect to the host whose unknown key was shown. ssh gets the fingerprint that
    /// was shown as the answer, so it accepts that key and no other.
    AcceptHostKey,
    /// No answer (Cancel, or the dialog closed). The tunnel that asked gives up with
    /// [`super::SshError::Cancelled`].
    Cancel,
}

/// Answers ssh's questions; may block while a person answers.
pub type AskpassHandler = dyn Fn(&AskpassQuestion) -> AskpassAnswer + Send + Sync;

/// What a tunnel needs to ask: the helper program and who answers.
#[derive(Clone)]
pub struct Askpass {
    /// The `vireo-askpass` binary (installed next to `vireo`, or cargo's build of it).
    pub helper: PathBuf,
    /// Who answers.
    pub handler: Arc<AskpassHandler>,
}

impl std::fmt::Debug for Askpass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Askpass")
            .field("helper", &self.helper)
            .finish_non_exhaustive()
    }
}

/// A directory only this user can enter, removed with everything in it on drop.
#[derive(Debug)]
pub(crate) struct PrivateDir(PathBuf);

impl PrivateDir {
    /// A new directory in `$XDG_RUNTIME_DIR` (or the temporary directory).
    pub fn new(purpose: &str) -> io::Result<Self> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!(
            "vireo-{purpose}-{}-{}-{stamp:08x}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(PrivateDir(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Default)]
struct State {
    stop: AtomicBool,
    cancelled: AtomicBool,
    pending: AtomicUsize,
    asked: AtomicUsize,
    /// `None`: a cancel refuses every later question. `Some(d)`: only those of the
    /// next `d` (ssh's own retries of the question just refused), for a server that
    /// lives longer than one ssh.
    latch: Option<Duration>,
    cancelled_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl State {
    /// True while a cancel refuses questions without asking.
    fn refusing(&self) -> bool {
        if !self.cancelled.load(Ordering::SeqCst) {
            return false;
        }
        let Some(latch) = self.latch else {
            return true;
        };
        let at = *self
            .cancelled_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        at.is_some_and(|at| at.elapsed() < latch)
    }

    fn cancel(&self) {
        *self
            .cancelled_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::time::Instant::now());
        self.cancelled.store(true, Ordering::SeqCst);
    }
}

/// Receives the helper's questions on a private socket and answers them through a
/// handler, on its own thread; stopped, and its directory removed, on drop.
pub struct AskpassServer {
    dir: PrivateDir,
    program: PathBuf,
    socket: PathBuf,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl AskpassServer {
    /// Starts a server answering with `askpass.handler`, for one ssh: once a question
    /// is cancelled, every later one is refused without asking.
    pub fn start(askpass: &Askpass) -> io::Result<Self> {
        Self::start_with(askpass, None)
    }

    /// Starts a server for many ssh runs (a process-wide `SSH_ASKPASS`): a cancelled
    /// question refuses only those that follow within `latch` (ssh asks a refused
    /// password again at once), so a later login can ask again.
    pub fn start_shared(askpass: &Askpass, latch: Duration) -> io::Result<Self> {
        Self::start_with(askpass, Some(latch))
    }

    fn start_with(askpass: &Askpass, latch: Option<Duration>) -> io::Result<Self> {
        let dir = PrivateDir::new("askpass")?;
        let program = dir.path().join("askpass");
        let socket = dir.path().join(wire::SOCKET_NAME);
        symlink(&askpass.helper, &program)?;
        let listener = UnixListener::bind(&socket)?;
        let state = Arc::new(State {
            latch,
            ..State::default()
        });
        let handler = askpass.handler.clone();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("vireo-askpass".into())
            .spawn(move || serve(&listener, &thread_state, &*handler))?;
        Ok(AskpassServer {
            dir,
            program,
            socket,
            state,
            thread: Some(thread),
        })
    }

    /// The value for `SSH_ASKPASS`: a link to the helper beside the socket.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The server's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The environment of an ssh that must ask through this server.
    pub fn env(&self) -> [(&'static str, OsString); 3] {
        [
            ("SSH_ASKPASS", self.program.clone().into_os_string()),
            ("SSH_ASKPASS_REQUIRE", "force".into()),
            (wire::SOCKET_ENV, self.socket.clone().into_os_string()),
        ]
    }

    /// True once a question was answered with [`AskpassAnswer::Cancel`]; later
    /// questions are then refused without asking.
    pub fn cancelled(&self) -> bool {
        self.state.cancelled.load(Ordering::SeqCst)
    }

    /// True while a question waits for its answer.
    pub fn pending(&self) -> bool {
        self.state.pending.load(Ordering::SeqCst) > 0
    }

    /// How many questions arrived.
    pub fn asked(&self) -> usize {
        self.state.asked.load(Ordering::SeqCst)
    }
}

impl Drop for AskpassServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread; it sees the flag and returns.
        let _ = UnixStream::connect(&self.socket);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        tracing::trace!(dir = %self.dir.path().display(), "askpass server stopped");
    }
}

fn serve(listener: &UnixListener, state: &State, handler: &AskpassHandler) {
    for conn in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut conn) = conn else { continue };
        // A helper that connects and says nothing must not stall the next question.
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let (hint, prompt) = match wire::read_request(&mut conn) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable askpass request");
                continue;
            }
        };
        state.asked.fetch_add(1, Ordering::SeqCst);
        let question = AskpassQuestion::parse(&prompt, &hint);
        let answer = if state.refusing() {
            AskpassAnswer::Cancel
        } else {
            state.pending.fetch_add(1, Ordering::SeqCst);
            let answer =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&question)))
                    .unwrap_or(AskpassAnswer::Cancel);
            state.pending.fetch_sub(1, Ordering::SeqCst);
            answer
        };
        let reply = match (&answer, &question) {
            (AskpassAnswer::Text(text), _) => Some(text.clone()),
            (AskpassAnswer::AcceptHostKey, AskpassQuestion::UnknownHostKey { fingerprint, .. }) => {
                Some(fingerprint.clone())
            }
            (AskpassAnswer::AcceptHostKey, _) => Some("yes".to_owned()),
            (AskpassAnswer::Cancel, _) => {
                state.cancel();
                None
            }
        };
        if let Err(e) = wire::write_answer(&mut conn, reply.as_deref()) {
            tracing::warn!(error = %e, "could not answer the askpass helper");
        }
    }
}

/// The helper's protocol: one question per connection. The helper sends
/// `VIREO-ASKPASS 1\n`, the hint line, then the prompt until it shuts down its side;
/// the server answers `OK\n` and the answer, or `CANCEL\n`.
pub mod wire {
    use super::*;

    /// The socket's file name, next to the `askpass` link.
    pub const SOCKET_NAME: &str = "askpass.sock";
    /// The environment variable that names the socket (preferred when set).
    pub const SOCKET_ENV: &str = "VIREO_ASKPASS_SOCKET";
    const MAGIC: &str = "VIREO-ASKPASS 1\n";
    /// Questions and answers are short; anything longer is refused.
    const LIMIT: u64 = 64 * 1024;

    /// The helper's side: sends the question, returns the answer (`None`: cancelled).
    pub fn ask(socket: &Path, hint: &str, prompt: &str) -> io::Result<Option<String>> {
        let mut conn = UnixStream::connect(socket)?;
        conn.write_all(format!("{MAGIC}{}\n{prompt}", hint.replace('\n', " ")).as_bytes())?;
        conn.shutdown(std::net::Shutdown::Write)?;
        let mut reply = String::new();
        conn.take(LIMIT).read_to_string(&mut reply)?;
        if let Some(answer) = reply.strip_prefix("OK\n") {
            Ok(Some(answer.to_owned()))
        } else if reply == "CANCEL\n" {
            Ok(None)
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected answer from Vireo",
            ))
        }
    }

    /// The server's side: (hint, prompt).
    pub(crate) fn read_request(conn: &mut UnixStream) -> io::Result<(String, String)> {
        let mut text = String::new();
        conn.take(LIMIT).read_to_string(&mut text)?;
        let rest = text
            .strip_prefix(MAGIC)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an askpass request"))?;
        let (hint, prompt) = rest.split_once('\n').unwrap_or((rest, ""));
        Ok((hint.to_owned(), prompt.to_owned()))
    }

    pub(crate) fn write_answer(conn: &mut UnixStream, answer: Option<&str>) -> io::Result<()> {
        match answer {
            Some(a) => conn.write_all(format!("OK\n{a}").as_bytes()),
            None => conn.write_all(b"CANCEL\n"),
        }
    }

    /// Where the helper finds its server: `$VIREO_ASKPASS_SOCKET`, else the socket
    /// next to the path it was started by (`argv[0]`, the server's `askpass` link).
    pub fn socket_for(env_socket: Option<OsString>, argv0: Option<OsString>) -> Option<PathBuf> {
        env_socket
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| Some(Path::new(&argv0?).parent()?.join(SOCKET_NAME)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_ssh_questions() {
        let q = AskpassQuestion::parse(
            "The authenticity of host '10.213.1.2 (10.213.1.2)' can't be established.\n\
             ED25519 key fingerprint is SHA256:2bhWNT+KdhfZV88g1jmw2enQMM7kP6N60kJHgD60Xdw.\n\
             This key is not known by any other names.\n\
             Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
            "",
        );
        assert_eq!(
            q,
            AskpassQuestion::UnknownHostKey {
                host: "10.213.1.2".into(),
                key_type: "ED25519".into(),
                fingerprint: "SHA256:2bhWNT+KdhfZV88g1jmw2enQMM7kP6N60kJHgD60Xdw".into(),
            }
        );
        assert_eq!(
            AskpassQuestion::parse("Enter passphrase for key '/home/me/.ssh/id_ed25519': ", ""),
            AskpassQuestion::KeyPassphrase {
                key: "/home/me/.ssh/id_ed25519".into()
            }
        );
        assert_eq!(
            AskpassQuestion::parse("vireo-remote@10.213.1.2's password: ", ""),
            AskpassQuestion::Password {
                user: "vireo-remote".into(),
                host: "10.213.1.2".into()
            }
        );
        assert_eq!(
            AskpassQuestion::parse(
                "Confirm user presence for key ED25519-SK SHA256:x",
                "confirm"
            ),
            AskpassQuestion::Other {
                prompt: "Confirm user presence for key ED25519-SK SHA256:x".into(),
                confirm: true
            }
        );
    }

    #[test]
    fn the_helper_finds_its_socket() {
        assert_eq!(
            wire::socket_for(Some("/s/x.sock".into()), Some("/d/askpass".into())),
            Some(PathBuf::from("/s/x.sock"))
        );
        assert_eq!(
            wire::socket_for(Some("".into()), Some("/d/askpass".into())),
            Some(PathBuf::from("/d/askpass.sock"))
        );
        assert_eq!(wire::socket_for(None, None), None);
    }

    #[test]
    fn questions_and_answers_cross_the_socket() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let server = AskpassServer::start(&Askpass {
            helper: PathBuf::from("/nonexistent/vireo-askpass"),
            handler: Arc::new(move |q: &AskpassQuestion| {
                record.lock().unwrap().push(q.clone());
                match q {
                    AskpassQuestion::Password { .. } => AskpassAnswer::Text("s3cret\n2".into()),
                    AskpassQuestion::UnknownHostKey { .. } => AskpassAnswer::AcceptHostKey,
                    _ => AskpassAnswer::Cancel,
                }
            }),
        })
        .unwrap();
        let dir = server.socket().parent().unwrap().to_owned();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&dir).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(
            std::fs::read_link(server.program()).unwrap(),
            PathBuf::from("/nonexistent/vireo-askpass")
        );
        let socket = server.socket().to_owned();
        assert_eq!(
            wire::ask(&socket, "", "me@h's password: ")
                .unwrap()
                .as_deref(),
            Some("s3cret\n2")
        );
        let host_key = "The authenticity of host 'h (1.2.3.4)' can't be established.\n\
                        ED25519 key fingerprint is SHA256:abc.\nAre you sure (yes/no/[fingerprint])? ";
        assert_eq!(
            wire::ask(&socket, "", host_key).unwrap().as_deref(),
            Some("SHA256:abc")
        );
        assert!(!server.cancelled());
        assert_eq!(wire::ask(&socket, "confirm", "Allow?").unwrap(), None);
        assert!(server.cancelled());
        // Once cancelled, nothing more reaches the handler.
        assert_eq!(wire::ask(&socket, "", "me@h's password: ").unwrap(), None);
        assert_eq!(server.asked(), 4);
        assert_eq!(seen.lock().unwrap().len(), 3);
        drop(server);
        assert!(!dir.exists());
    }

    #[test]
    fn a_shared_server_refuses_only_the_retries_of_a_cancel() {
        let asked = Arc::new(AtomicUsize::new(0));
        let count = asked.clone();
        let server = AskpassServer::start_shared(
            &Askpass {
                helper: PathBuf::from("/nonexistent/vireo-askpass"),
                handler: Arc::new(move |_: &AskpassQuestion| {
                    if count.fetch_add(1, Ordering::SeqCst) == 0 {
                        AskpassAnswer::Cancel
                    } else {
                        AskpassAnswer::Text("again".into())
                    }
                }),
            },
            Duration::from_millis(200),
        )
        .unwrap();
        let socket = server.socket().to_owned();
        assert_eq!(wire::ask(&socket, "", "me@h's password: ").unwrap(), None);
        // ssh's retry right after: refused without asking the person again.
        assert_eq!(wire::ask(&socket, "", "me@h's password: ").unwrap(), None);
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // A later login asks again.
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(
            wire::ask(&socket, "", "me@h's password: ")
                .unwrap()
                .as_deref(),
            Some("again")
        );
    }
}
