//! One SSH login per host for all of Vireo's channels: OpenSSH's connection sharing
//! (`ControlMaster=auto`, `ControlPersist`). The first channel to a host logs in (and
//! asks for a passphrase or password, once) and leaves a master connection in the
//! background; every further channel to that host (a SPICE display's four, another
//! VM's console) opens through the master without logging in again. The masters'
//! sockets live in a directory of this process only this user can enter; a master
//! ends by itself [`PERSIST`] after its last channel, and [`close_masters`] ends them
//! all when Vireo quits.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::askpass::PrivateDir;

/// How long a master stays after its last channel closed: long enough for a display
/// that reconnects (a guest's reboot) or the next tab, short enough that nothing of
/// Vireo's stays logged in for long.
pub const PERSIST: Duration = Duration::from_secs(30);

static DIR: Mutex<Option<PrivateDir>> = Mutex::new(None);

/// The directory of this process's master sockets, made on first use (`None` when it
/// cannot be made: then every channel logs in by itself).
pub fn control_dir() -> Option<PathBuf> {
    let mut dir = DIR.lock().unwrap_or_else(PoisonError::into_inner);
    if dir.is_none() {
        match PrivateDir::new("ssh-mux") {
            Ok(d) => *dir = Some(d),
            Err(e) => {
                tracing::warn!(%e, "no directory for shared SSH connections");
                return None;
            }
        }
    }
    dir.as_ref().map(|d| d.path().to_owned())
}

/// The ssh options that share one connection per host through `dir`.
pub(crate) fn share_args(dir: &std::path::Path) -> Vec<OsString> {
    // %C: a hash of this host, the remote host, port and user (short enough for a
    // socket path whatever the host's name).
    let mut path = OsString::from("ControlPath=");
    path.push(dir.join("%C"));
    let mut args = Vec::new();
    for option in [
        OsString::from("ControlMaster=auto"),
        path,
        OsString::from(format!("ControlPersist={}", PERSIST.as_secs())),
    ] {
        args.push(OsString::from("-o"));
        args.push(option);
    }
    args
}

/// Ends every master this process started and removes their directory (at exit).
pub fn close_masters() {
    let Some(dir) = DIR.lock().unwrap_or_else(PoisonError::into_inner).take() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir.path()) else {
        return;
    };
    for socket in entries.flatten() {
        // Any OpenSSH can tell a master to go; the host name is not used.
        let _ = Command::new("ssh")
            .arg("-S")
            .arg(socket.path())
            .args(["-O", "exit", "vireo-master"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_name_the_private_directory() {
        let args: Vec<String> = share_args(std::path::Path::new("/run/user/1/vireo-ssh-mux-1"))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-o",
                "ControlMaster=auto",
                "-o",
                "ControlPath=/run/user/1/vireo-ssh-mux-1/%C",
                "-o",
                "ControlPersist=30"
            ]
        );
    }
}
