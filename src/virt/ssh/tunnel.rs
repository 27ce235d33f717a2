//! One SSH channel to a display on a libvirt host: the `ssh` process, the socket it
//! carries, and what it said.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::askpass::{Askpass, AskpassServer, PrivateDir};
use super::classify::Diagnostics;
use super::target::SshTarget;
use super::SshError;

/// What to reach on the remote host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP port, as seen from the remote host ("127.0.0.1", 5900).
    Tcp {
        /// Address or name, resolved on the remote host.
        host: String,
        /// Port.
        port: u16,
    },
    /// A unix socket on the remote host.
    Unix(PathBuf),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Self::Tcp { host, port } => write!(f, "{host}:{port}"),
            Self::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How a tunnel is opened.
#[derive(Debug, Clone)]
pub struct TunnelOptions {
    /// Ask questions through this helper and handler; `None`: batch mode (keys from
    /// files without passphrase or the agent only; unknown host keys fail).
    pub askpass: Option<Askpass>,
    /// How long [`SshTunnel::open`] may take, not counting time a question waits for
    /// its answer.
    pub timeout: Duration,
    /// ssh's `ConnectTimeout` (TCP connect and banner).
    pub connect_timeout: Duration,
    /// ssh's `ServerAliveInterval`: a silent host is probed this often...
    pub alive_interval: Duration,
    /// ...and given up after this many unanswered probes (`ServerAliveCountMax`).
    pub alive_count: u32,
    /// Share one login per host through the master sockets in this directory
    /// ([`super::mux`]); `None`: the channel logs in by itself. (A unix-socket
    /// endpoint always does: OpenSSH's multiplexing client leaves its forward in the
    /// master.)
    pub share: Option<PathBuf>,
}

impl Default for TunnelOptions {
    /// Batch mode, 30 s to open, 10 s to connect, a lost host noticed within ~15 s.
    fn default() -> Self {
        TunnelOptions {
            askpass: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            alive_interval: Duration::from_secs(5),
            alive_count: 2,
            share: None,
        }
    }
}

/// An open channel: [`Self::socket`] reaches the remote endpoint through
/// [`Self::process`]. Hand the socket to the display (gvnc's `open_fd`) and keep the
/// process as long as the display is open; dropping it ends the channel.
#[derive(Debug)]
pub struct SshTunnel {
    /// Connected socket; reads and writes reach the endpoint.
    pub socket: OwnedFd,
    /// The `ssh` process carrying it.
    pub process: SshProcess,
}

/// The `ssh` of a tunnel: stopped (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct SshProcess {
    child: Child,
    diagnostics: Arc<Mutex<Diagnostics>>,
    reader: Option<JoinHandle<()>>,
    host: String,
    endpoint: String,
    /// Holds the local socket of a stream-local forward.
    _dir: Option<PrivateDir>,
}

enum Event {
    /// ssh says the forwarded channel is open.
    Ready,
    /// ssh closed its stderr: it exited.
    Closed,
}

impl SshTunnel {
    /// Starts `ssh` to `target` and waits until the channel to `endpoint` is open (the
    /// host confirmed it), or until ssh fails: then the error says why, with ssh's
    /// words. Blocks: call it on a worker thread.
    pub fn open(
        target: &SshTarget,
        endpoint: &Endpoint,
        options: &TunnelOptions,
    ) -> Result<SshTunnel, SshError> {
        let askpass = match &options.askpass {
            Some(a) => Some(AskpassServer::start(a).map_err(|e| SshError::Local(e.to_string()))?),
            None => None,
        };
        let share = match endpoint {
            Endpoint::Tcp { .. } => options.share.as_deref(),
            Endpoint::Unix(_) => None,
        };
        let mut cmd = Command::new(&target.program);
        cmd.args(common_args(options, askpass.is_none(), share))
            .args(target.login_args())
            .stderr(Stdio::piped())
            // Never let ssh take a terminal, and keep Ctrl+C of a terminal that
            // started Vireo away from it.
            .process_group(0);
        if let Some(server) = &askpass {
            cmd.envs(server.env());
        }
        match endpoint {
            Endpoint::Tcp { .. } => {
                // ssh's stdin and stdout are one end of a socket pair; we keep the other.
                let (ours, theirs) = UnixStream::pair().map_err(local)?;
                let theirs_out = theirs.try_clone().map_err(local)?;
                cmd.arg("-W")
                    .arg(endpoint.to_string())
                    .arg("--")
                    .arg(&target.host)
                    .stdin(Stdio::from(OwnedFd::from(theirs)))
                    .stdout(Stdio::from(OwnedFd::from(theirs_out)));
                let (mut process, events) = SshProcess::spawn(cmd, target, endpoint, None)?;
                process.wait_ready(&events, options, askpass.as_ref(), || Ok(()))?;
                Ok(SshTunnel {
                    socket: OwnedFd::from(ours),
                    process,
                })
            }
            Endpoint::Unix(remote) => {
                let dir = PrivateDir::new("ssh").map_err(local)?;
                let local_socket = dir.path().join("display.sock");
                let mut spec = OsString::from(local_socket.as_os_str());
                spec.push(":");
                spec.push(remote.as_os_str());
                cmd.args(["-N", "-o", "StreamLocalBindMask=0177", "-L"])
                    .arg(spec)
                    .arg("--")
                    .arg(&target.host)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null());
                let (mut process, events) = SshProcess::spawn(cmd, target, endpoint, Some(dir))?;
                // ssh listens once logged in: connect then (the channel opens now), and
                // unlink the socket so that nobody else can use the forward.
                let mut stream = None;
                process.wait_ready(&events, options, askpass.as_ref(), || {
                    if stream.is_none() && local_socket.exists() {
                        stream = Some(UnixStream::connect(&local_socket).map_err(local)?);
                        let _ = std::fs::remove_file(&local_socket);
                    }
                    Ok(())
                })?;
                let stream = stream.ok_or_else(|| SshError::Local("no stream".into()))?;
                Ok(SshTunnel {
                    socket: OwnedFd::from(stream),
                    process,
                })
            }
        }
    }
}

fn local(e: std::io::Error) -> SshError {
    SshError::Local(e.to_string())
}

/// Options of every tunnel's ssh, before the target's own; `share`: the directory of
/// the shared connections' sockets.
fn common_args(options: &TunnelOptions, batch: bool, share: Option<&Path>) -> Vec<OsString> {
    let opt = |s: String| -> [OsString; 2] { ["-o".into(), s.into()] };
    let mut args: Vec<OsString> = vec!["-x".into(), "-a".into(), "-T".into()];
    for o in [
        // Debug level 2 says when the host confirmed the channel (nothing below it
        // does) and which host key it showed; its lines are read and dropped.
        opt("LogLevel=DEBUG2".into()),
        opt(format!("BatchMode={}", if batch { "yes" } else { "no" })),
        opt(format!(
            "ConnectTimeout={}",
            options.connect_timeout.as_secs().max(1)
        )),
        opt(format!(
            "ServerAliveInterval={}",
            options.alive_interval.as_secs().max(1)
        )),
        opt(format!(
            "ServerAliveCountMax={}",
            options.alive_count.max(1)
        )),
        opt("ExitOnForwardFailure=yes".into()),
        opt("PermitLocalCommand=no".into()),
    ] {
        args.extend(o);
    }
    match share {
        Some(dir) => args.extend(super::mux::share_args(dir)),
        // Use a connection the person's ssh already multiplexes, never become a master
        // (it would outlive the tunnel).
        None => args.extend(opt("ControlMaster=no".into())),
    }
    args
}

impl SshProcess {
    fn spawn(
        mut cmd: Command,
        target: &SshTarget,
        endpoint: &Endpoint,
        dir: Option<PrivateDir>,
    ) -> Result<(SshProcess, mpsc::Receiver<Event>), SshError> {
        tracing::debug!(?cmd, "starting an SSH channel");
        let mut child = cmd.spawn().map_err(|e| SshError::Spawn {
            program: target.program.display().to_string(),
            message: e.to_string(),
        })?;
        let diagnostics = Arc::new(Mutex::new(Diagnostics::default()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take();
        let reader = stderr.and_then(|stderr| {
            let diagnostics = diagnostics.clone();
            std::thread::Builder::new()
                .name("vireo-ssh-stderr".into())
                .spawn(move || read_stderr(stderr, &diagnostics, &tx))
                .ok()
        });
        Ok((
            SshProcess {
                child,
                diagnostics,
                reader,
                host: target.host.clone(),
                endpoint: endpoint.to_string(),
                _dir: dir,
            },
            rx,
        ))
    }

    /// Waits until ssh says the host confirmed the channel, ssh fails, a question is
    /// cancelled, or the time is up; `step` runs between checks (connecting to a local
    /// forward once it listens).
    fn wait_ready(
        &mut self,
        events: &mpsc::Receiver<Event>,
        options: &TunnelOptions,
        askpass: Option<&AskpassServer>,
        mut step: impl FnMut() -> Result<(), SshError>,
    ) -> Result<(), SshError> {
        let mut deadline = Instant::now() + options.timeout;
        // A cancelled question ends ssh with its own words ("Host key verification
        // failed", "Permission denied"), but what happened is the person's "no".
        let cancelled = |host: &str| {
            askpass
                .is_some_and(AskpassServer::cancelled)
                .then(|| SshError::Cancelled {
                    host: host.to_owned(),
                })
        };
        loop {
            step()?;
            match events.recv_timeout(Duration::from_millis(10)) {
                Ok(Event::Ready) => return Ok(()),
                Ok(Event::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let failure = self.failure(Duration::from_secs(5));
                    return Err(cancelled(&self.host).or(failure).unwrap_or_else(|| {
                        SshError::Lost {
                            host: self.host.clone(),
                            stderr: self.stderr(),
                        }
                    }));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(error) = cancelled(&self.host) {
                return Err(error);
            }
            if askpass.is_some_and(AskpassServer::pending) {
                // A person is reading a question: the clock starts again after.
                deadline = Instant::now() + options.timeout;
            }
            if let Some(error) = self.failure(Duration::ZERO) {
                return Err(cancelled(&self.host).unwrap_or(error));
            }
            if Instant::now() >= deadline {
                return Err(SshError::TimedOut {
                    host: self.host.clone(),
                    seconds: options.timeout.as_secs(),
                });
            }
        }
    }

    /// ssh's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// ssh's exit status, once it exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Why the channel ended or failed, waiting up to `wait` for ssh to exit or to
    /// report a refused channel: `None` while all is well, or when ssh ended cleanly
    /// (the remote side closed the channel).
    ///
    /// A stream-local forward (unix-socket endpoint) keeps ssh running when the host
    /// refuses the channel: the socket then reads end-of-file, and this names why.
    pub fn failure(&mut self, wait: Duration) -> Option<SshError> {
        let end = Instant::now() + wait;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if self.lock().channel_failed() => break None,
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) | Err(_) => return None,
            }
        };
        if let Some(status) = status {
            if status.success() && !self.lock().channel_failed() {
                return None;
            }
            // Everything ssh said is read before it is judged.
            if let Some(reader) = self.reader.take() {
                let _ = reader.join();
            }
        }
        let code = status.and_then(|s| s.code());
        Some(self.lock().classify(&self.host, &self.endpoint, code))
    }

    /// What ssh said so far (no debug lines).
    pub fn stderr(&self) -> String {
        self.lock().text()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Diagnostics> {
        self.diagnostics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for SshProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

fn read_stderr(stderr: ChildStderr, diagnostics: &Mutex<Diagnostics>, tx: &mpsc::Sender<Event>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let ready = diagnostics
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(&text);
                if ready {
                    let _ = tx.send(Event::Ready);
                }
            }
        }
    }
    let _ = tx.send(Event::Closed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_as_ssh_writes_them() {
        let tcp = |h: &str| Endpoint::Tcp {
            host: h.into(),
            port: 5900,
        };
        assert_eq!(tcp("127.0.0.1").to_string(), "127.0.0.1:5900");
        assert_eq!(tcp("::1").to_string(), "[::1]:5900");
        assert_eq!(
            Endpoint::Unix("/run/x.sock".into()).to_string(),
            "/run/x.sock"
        );
    }

    #[test]
    fn batch_mode_unless_asking() {
        let options = TunnelOptions::default();
        let text = |batch| {
            common_args(&options, batch, None)
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert!(text(true).contains("BatchMode=yes"));
        assert!(text(false).contains("BatchMode=no"));
        assert!(text(true).contains("ServerAliveInterval=5 -o ServerAliveCountMax=2"));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let mut target = SshTarget::from_uri("qemu+ssh://h/system").unwrap();
        target.program = "/nonexistent/ssh".into();
        let e = SshTunnel::open(
            &target,
            &Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 5900,
            },
            &TunnelOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, SshError::Spawn { program, .. } if program == "/nonexistent/ssh"),
            "{e:?}"
        );
    }
}
