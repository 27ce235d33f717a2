//! A private `libvirtd` for tests: started in its own mount namespace (fresh tmpfs on
//! /run, /var/lib/libvirt and /var/cache/libvirt) with its sockets in a temp dir, so it
//! never meets the machine's own daemon. Needs root, `unshare` and `libvirtd`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running private daemon.
pub struct Daemon {
    dir: PathBuf,
    child: Option<Child>,
}

/// Why the daemon tests cannot run here, if they cannot.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (a private libvirtd needs a mount namespace)".into());
    }
    for tool in ["/usr/sbin/libvirtd", "/usr/bin/unshare"] {
        if !Path::new(tool).exists() {
            return Some(format!("{tool} is not installed"));
        }
    }
    // Containers without CAP_SYS_ADMIN cannot make a mount namespace.
    let ok = Command::new("/usr/bin/unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Some("cannot create a mount namespace (unshare -m)".into());
    }
    None
}

impl Daemon {
    /// Starts a daemon with its sockets in `dir` and waits for its socket.
    pub fn start(dir: &Path) -> Daemon {
        std::fs::create_dir_all(dir.join("sock")).unwrap();
        let conf = dir.join("libvirtd.conf");
        std::fs::write(
            &conf,
            format!(
                "unix_sock_dir = \"{}\"\nunix_sock_rw_perms = \"0770\"\nauth_unix_rw = \"none\"\n\
                 auth_unix_ro = \"none\"\nlisten_tls = 0\nlisten_tcp = 0\n",
                dir.join("sock").display()
            ),
        )
        .unwrap();
        let _ = std::fs::remove_file(dir.join("sock/libvirt-sock"));
        let script = format!(
            "mount -t tmpfs none /run && mkdir -p /run/libvirt && \
             mount -t tmpfs none /var/lib/libvirt && mount -t tmpfs none /var/cache/libvirt && \
             exec /usr/sbin/libvirtd -f {} -p {}",
            conf.display(),
            dir.join("pid").display()
        );
        let log = std::fs::File::create(dir.join("libvirtd.log")).unwrap();
        let child = Command::new("/usr/bin/unshare")
            .args(["-m", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start libvirtd");
        let d = Daemon {
            dir: dir.to_owned(),
            child: Some(child),
        };
        d.wait_socket();
        d
    }

    fn wait_socket(&self) {
        let end = Instant::now() + Duration::from_secs(60);
        let sock = self.dir.join("sock/libvirt-sock");
        while !sock.exists() {
            assert!(
                Instant::now() < end,
                "libvirtd did not create {}",
                sock.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `test+unix` URI of the daemon's (per-connection) test driver.
    pub fn test_uri(dir: &Path) -> String {
        format!(
            "test+unix:///default?socket={}",
            dir.join("sock/libvirt-sock").display()
        )
    }

    /// Sends `sig` to the daemon (SIGSTOP freezes it like a hung host, SIGCONT thaws it).
    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: plain kill(2) on our own child.
            unsafe {
                libc::kill(c.id() as i32, sig);
            }
        }
    }

    /// Kills the daemon hard (SIGKILL), like a crash.
    pub fn kill(&mut self) {
        self.signal(libc::SIGCONT);
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
