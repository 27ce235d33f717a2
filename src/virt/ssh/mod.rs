//! SSH channels to a libvirt host, for what libvirt's own connection does not carry:
//! a VM's graphical console (VNC now, SPICE later) whose server listens on the remote
//! host's loopback or on a unix socket there.
//!
//! GTK-free and GLib-free: [`SshTunnel::open`] blocks (run it on a worker thread) and
//! hands back a connected socket as an [`std::os::fd::OwnedFd`], ready for gvnc's
//! `open_fd`, plus the `ssh` process that carries it. It starts OpenSSH's `ssh` with
//! the connection's user, port, key and host-key settings read from its
//! `qemu+ssh://` URI ([`SshTarget`]), never on a terminal: either in batch mode or with
//! every question (passphrase, password, unknown host key) sent to Vireo through an
//! askpass helper ([`askpass`]).
//!
//! Why OpenSSH and not libssh: it honours the person's `~/.ssh/config`, agent, known
//! hosts and jump hosts exactly as libvirt's default `ssh` transport does, so the
//! console reaches every host the connection reaches.
//!
//! - TCP display: `ssh -W host:port` (stdio forwarding, `direct-tcpip`): nothing is
//!   needed on the remote side, and ssh's stdin/stdout is one end of a socket pair.
//! - Unix-socket display: OpenSSH 9.2 has no stdio forwarding to a socket path (`-W
//!   /path` silently runs a remote shell instead), so the tunnel uses stream-local
//!   forwarding, `ssh -N -L LOCAL.sock:REMOTE.sock` (`direct-streamlocal`, again
//!   nothing on the remote side, unlike `socat` or `nc -U`): ssh listens on a socket in
//!   a private 0700 directory, the tunnel connects once and unlinks it, so no other
//!   process can use the forward.
//!
//! `open` returns once the host confirmed the channel, so "the display does not
//! listen" is an error of `open` like a refused login. ssh reports that confirmation
//! only at `LogLevel=DEBUG2` ("channel N: open confirm"), so the tunnel's ssh runs at
//! that level and a thread reads its stderr: debug lines are dropped (a few per MiB of
//! console traffic), ssh's own words are kept for [`SshError`].
//!
//! A lost host is noticed by ssh itself (`ServerAliveInterval` x `ServerAliveCountMax`,
//! 5 s x 2 by default: 10-15 s): the socket then reads end-of-file and
//! [`SshProcess::failure`] says [`SshError::Lost`].

pub mod askpass;
mod classify;
pub mod mux;
mod target;
mod tunnel;

pub use askpass::{Askpass, AskpassAnswer, AskpassHandler, AskpassQuestion, AskpassServer};
pub use target::{HostKeyCheck, SshTarget};
pub use tunnel::{Endpoint, SshProcess, SshTunnel, TunnelOptions};

/// Why an SSH channel could not be opened, or why it ended. Every variant that comes
/// from ssh carries ssh's own words (`stderr`, its diagnostics without debug lines),
/// to be shown as they are, like libvirt's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    /// The URI does not name a host reached over SSH.
    #[error("{0} is not a connection over SSH")]
    NotSsh(String),
    /// The `ssh` program could not be started.
    #[error("could not start {program}: {message}")]
    Spawn {
        /// The program (the URI's `command=`, or `ssh`).
        program: String,
        /// The system's error.
        message: String,
    },
    /// A local resource (private directory, askpass socket) could not be set up.
    #[error("could not prepare the SSH channel: {0}")]
    Local(String),
    /// The host's key is not in known_hosts and was not accepted.
    #[error("the identity of {host} is not known")]
    HostKeyUnknown {
        /// The host as ssh names it.
        host: String,
        /// The key type and fingerprint the host showed, e.g. ("ED25519",
        /// "SHA256:..."), when ssh said them.
        key: Option<(String, String)>,
        /// ssh's words.
        stderr: String,
    },
    /// The host showed a key other than the one known_hosts has for it.
    #[error("the identity of {host} has changed")]
    HostKeyChanged {
        /// The host as ssh names it.
        host: String,
        /// The key type and fingerprint the host showed now.
        key: Option<(String, String)>,
        /// Where the old key is: "FILE:LINE".
        known_entry: Option<String>,
        /// ssh's words.
        stderr: String,
    },
    /// The host refused every way of logging in that was tried.
    #[error("{host} refused the login ({methods})")]
    AuthRefused {
        /// The host.
        host: String,
        /// The methods the server offers, e.g. "publickey,password".
        methods: String,
        /// ssh's words.
        stderr: String,
    },
    /// Nothing listens on the host's SSH port.
    #[error("{host} refused the connection")]
    ConnectionRefused {
        /// The host.
        host: String,
        /// ssh's words.
        stderr: String,
    },
    /// The host cannot be reached (no route, timed out, unknown name).
    #[error("{host} cannot be reached: {reason}")]
    Unreachable {
        /// The host.
        host: String,
        /// The system's reason, e.g. "Connection timed out".
        reason: String,
        /// ssh's words.
        stderr: String,
    },
    /// Logged in, but the host could not connect to the display.
    #[error("the host could not open {endpoint}: {reason}")]
    ForwardFailed {
        /// What was asked for ("127.0.0.1:5900", "/path/vnc.sock").
        endpoint: String,
        /// The host's reason, e.g. "connect failed: Connection refused".
        reason: String,
        /// ssh's words.
        stderr: String,
    },
    /// The host stopped answering or closed the connection after it was set up.
    #[error("the connection to {host} was lost")]
    Lost {
        /// The host.
        host: String,
        /// ssh's words.
        stderr: String,
    },
    /// A question asked through askpass was cancelled.
    #[error("the login to {host} was cancelled")]
    Cancelled {
        /// The host.
        host: String,
    },
    /// ssh neither connected nor failed within the time allowed.
    #[error("{host} did not answer within {seconds} s")]
    TimedOut {
        /// The host.
        host: String,
        /// The limit.
        seconds: u64,
    },
    /// Any other failure of ssh.
    #[error("ssh failed: {stderr}")]
    Failed {
        /// ssh's exit code, if it exited.
        code: Option<i32>,
        /// ssh's words.
        stderr: String,
    },
}

impl SshError {
    /// ssh's own words about the failure (empty when ssh said nothing).
    pub fn ssh_message(&self) -> &str {
        match self {
            Self::HostKeyUnknown { stderr, .. }
            | Self::HostKeyChanged { stderr, .. }
            | Self::AuthRefused { stderr, .. }
            | Self::ConnectionRefused { stderr, .. }
            | Self::Unreachable { stderr, .. }
            | Self::ForwardFailed { stderr, .. }
            | Self::Lost { stderr, .. }
            | Self::Failed { stderr, .. } => stderr,
            Self::NotSsh(_)
            | Self::Spawn { .. }
            | Self::Local(_)
            | Self::Cancelled { .. }
            | Self::TimedOut { .. } => "",
        }
    }
}
