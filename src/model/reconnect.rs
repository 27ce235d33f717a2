//! When to try again after a connection was lost: as soon as the host answers, without
//! hammering one that stays away.
//!
//! A local daemon is reached through a unix socket, which it creates anew when it
//! starts (a killed one leaves a dead file behind, which the next one replaces).
//! Watching the socket's directory (inotify, through `GFileMonitor`) tells when to try:
//! an attempt made once the socket exists waits inside libvirt until the daemon answers,
//! so the list is back right after. The file exists a moment before the daemon listens
//! on it (bind, then listen), and an attempt in between is refused: for a few seconds
//! after the socket appeared, a refused attempt is repeated every 0.1 s. The timer
//! behind the watch only covers what a watch cannot see, at 1, 2, 4... up to 30 s.
//!
//! A remote host gives no such sign, and each attempt costs it a login (SSH) or a TLS
//! handshake: attempts come every half second for the first 5 s (a daemon restart
//! takes about that), then every 1, 2, 4, 8 s, and then every 15 s while it stays away.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gio::prelude::*;

use crate::virt::uri::UriInfo;

/// How attempts are spaced for a URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// A local socket is watched; the timer is a slow fallback.
    Watched,
    /// Nothing to watch (a host over the network).
    Remote,
}

/// Remote attempts at this interval for the first [`REMOTE_FAST_ATTEMPTS`].
const REMOTE_FAST: Duration = Duration::from_millis(500);
const REMOTE_FAST_ATTEMPTS: u32 = 10;
/// The longest wait between two remote attempts.
const REMOTE_CAP: Duration = Duration::from_secs(15);
/// The longest wait between two attempts on a watched socket.
const WATCHED_CAP: Duration = Duration::from_secs(30);
/// Attempts refused this soon after the socket appeared are repeated ...
const SOCKET_SETTLE: Duration = Duration::from_secs(5);
/// ... this often.
pub const SOCKET_RETRY: Duration = Duration::from_millis(100);

impl Schedule {
    /// The schedule for `uri`.
    pub fn for_uri(uri: &str) -> Self {
        if socket_of(uri).is_some() {
            Schedule::Watched
        } else {
            Schedule::Remote
        }
    }

    /// The delay before attempt number `attempt` (0-based).
    pub fn delay(self, attempt: u32) -> Duration {
        let doubling = |n: u32| Duration::from_secs(1u64.checked_shl(n).unwrap_or(u64::MAX));
        match self {
            Schedule::Watched => doubling(attempt).min(WATCHED_CAP),
            Schedule::Remote if attempt < REMOTE_FAST_ATTEMPTS => REMOTE_FAST,
            Schedule::Remote => doubling(attempt - REMOTE_FAST_ATTEMPTS).min(REMOTE_CAP),
        }
    }
}

/// Where the daemon behind a URI listens: a directory and the socket names in it that
/// libvirt's client may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketPlace {
    pub dir: PathBuf,
    pub names: Vec<String>,
}

impl SocketPlace {
    fn is_ours(&self, file: &Path) -> bool {
        file.parent() == Some(self.dir.as_path())
            && file
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| self.names.iter().any(|m| m == n))
    }
}

/// The local unix socket a URI reaches its daemon through, if it does: the
/// `socket=` parameter, else libvirt's places for system and session daemons (the
/// monolithic `libvirt-sock`, the per-driver `virtqemud-sock`, `virtproxyd-sock`).
/// `None` for hosts over the network and for drivers inside the process
/// (`test:///…`, `qemu:///embed`).
pub fn socket_of(uri: &str) -> Option<SocketPlace> {
    let u = UriInfo::parse(uri);
    let local_daemon = match u.transport.as_str() {
        "unix" => true,
        "" => u.host.is_empty() && !u.is_test() && !u.is_embed(),
        _ => false,
    };
    if !local_daemon {
        return None;
    }
    if let Some(path) = u
        .query
        .split('&')
        .find_map(|kv| kv.strip_prefix("socket="))
        .map(percent_decode)
    {
        let path = PathBuf::from(path);
        return Some(SocketPlace {
            dir: path.parent()?.to_owned(),
            names: vec![path.file_name()?.to_str()?.to_owned()],
        });
    }
    let dir = if u.is_session() {
        glib::user_runtime_dir().join("libvirt")
    } else {
        PathBuf::from("/run/libvirt")
    };
    Some(SocketPlace {
        dir,
        names: vec![
            "libvirt-sock".to_owned(),
            format!("virt{}d-sock", u.driver),
            "virtproxyd-sock".to_owned(),
        ],
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A watch on a daemon's socket directory; calls back when one of its sockets is
/// created or replaced. Dropping it stops watching.
pub struct SocketWatch {
    monitor: gio::FileMonitor,
    appeared: Rc<Cell<Option<Instant>>>,
}

impl SocketWatch {
    /// Watches `place`; `None` when the directory cannot be watched (the timer then
    /// does the work alone).
    pub fn new(place: SocketPlace, on_socket: impl Fn() + 'static) -> Option<SocketWatch> {
        let monitor = gio::File::for_path(&place.dir)
            .monitor_directory(gio::FileMonitorFlags::WATCH_MOVES, gio::Cancellable::NONE)
            .map_err(|e| tracing::debug!(dir = %place.dir.display(), error = %e, "cannot watch"))
            .ok()?;
        let appeared = Rc::new(Cell::new(None));
        let seen = appeared.clone();
        monitor.connect_changed(move |_, file, other, event| {
            use gio::FileMonitorEvent as E;
            let appeared = match event {
                E::Created | E::AttributeChanged | E::ChangesDoneHint => file.path(),
                E::MovedIn | E::Renamed => other.and_then(|o| o.path()).or_else(|| file.path()),
                _ => None,
            };
            if appeared.is_some_and(|p| place.is_ours(&p)) {
                seen.set(Some(Instant::now()));
                on_socket();
            }
        });
        Some(SocketWatch { monitor, appeared })
    }

    /// True for a few seconds after a socket appeared: a refused attempt then means
    /// the daemon is not listening yet, and is worth repeating soon.
    pub fn just_appeared(&self) -> bool {
        self.appeared
            .get()
            .is_some_and(|t| t.elapsed() < SOCKET_SETTLE)
    }
}

impl Drop for SocketWatch {
    fn drop(&mut self) {
        self.monitor.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_of_local_daemons() {
        let system = socket_of("qemu:///system").unwrap();
        assert_eq!(system.dir, PathBuf::from("/run/libvirt"));
        assert!(system.names.contains(&"libvirt-sock".to_owned()));
        assert!(system.names.contains(&"virtqemud-sock".to_owned()));
        assert_eq!(
            socket_of("test+unix:///default").unwrap().dir,
            PathBuf::from("/run/libvirt")
        );
        assert_eq!(
            socket_of("qemu:///session").unwrap().dir,
            glib::user_runtime_dir().join("libvirt")
        );
        let own = socket_of("qemu:///system?socket=/tmp/my%20dir/libvirt-sock").unwrap();
        assert_eq!(own.dir, PathBuf::from("/tmp/my dir"));
        assert_eq!(own.names, vec!["libvirt-sock".to_owned()]);
        assert!(own.is_ours(Path::new("/tmp/my dir/libvirt-sock")));
        assert!(!own.is_ours(Path::new("/tmp/my dir/virtlogd-sock")));
    }

    #[test]
    fn nothing_to_watch_for_network_or_in_process_drivers() {
        for uri in [
            "qemu+ssh://root@host/system",
            "qemu+tcp://host/system",
            "qemu://host/system",
            "test:///default",
            "test:///tmp/node.xml",
            "qemu:///embed?root=/tmp/x",
        ] {
            assert_eq!(socket_of(uri), None, "{uri}");
        }
        assert_eq!(Schedule::for_uri("qemu+ssh://h/system"), Schedule::Remote);
        assert_eq!(Schedule::for_uri("qemu:///system"), Schedule::Watched);
    }

    #[test]
    fn schedules() {
        let secs =
            |s: Schedule| -> Vec<f64> { (0..18).map(|a| s.delay(a).as_secs_f64()).collect() };
        assert_eq!(
            secs(Schedule::Watched)[..8],
            [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
        );
        let remote = secs(Schedule::Remote);
        assert!(remote[..10].iter().all(|&s| s == 0.5));
        assert_eq!(remote[10..], [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0]);
        assert_eq!(Schedule::Remote.delay(u32::MAX), REMOTE_CAP);
        assert_eq!(Schedule::Watched.delay(u32::MAX), WATCHED_CAP);
    }
}
