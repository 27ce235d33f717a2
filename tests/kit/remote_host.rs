//! The remote libvirt host of `tests/testbed/remote-host.sh` as a Rust fixture: a host
//! in its own namespaces on this machine with sshd, virtlogd and libvirtd, reached at
//! its own address over `qemu+ssh://`. Stopped (with everything in it) on drop, by the
//! runner's cleanup hooks (suite end, watchdog, signal), and by the next `up` after a
//! SIGKILL. Needs [`super::testbed::Need::RemoteHost`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use super::runner::on_cleanup;
use super::testbed::{self, repo, run, run_ok, state_dir, READY_LINE};
use super::wait::{wait_until, BOOT};

/// One remote host (`remote-host.sh up NAME`), with what its `host.env` says.
pub struct RemoteHost {
    /// Its name ("a", "b"...).
    pub name: String,
    /// Its address on the veth pair (10.213.S.2).
    pub addr: String,
    /// Its host name inside ("vireo-remote-NAME").
    pub hostname: String,
    /// `qemu+ssh://root@ADDR/system?command=<ssh wrapper>&keyfile=<key>`.
    pub uri: String,
    /// The ssh wrapper whose known_hosts has the host's key.
    pub ssh: PathBuf,
    /// The ssh wrapper whose known_hosts (emptied at `up`) does not.
    pub ssh_unknown: PathBuf,
    /// The ssh wrapper that knows the host's key and uses the agent of the
    /// environment (`SSH_AUTH_SOCK`); the others use none.
    pub ssh_agent: PathBuf,
    /// The known_hosts file of [`Self::ssh`].
    pub known_hosts: PathBuf,
    /// The known_hosts file of [`Self::ssh_unknown`].
    pub known_hosts_unknown: PathBuf,
    /// Client key authorized for root, no passphrase.
    pub key: PathBuf,
    /// Client key authorized for root, with passphrase [`Self::passphrase`].
    pub key_pass: PathBuf,
    /// Client key authorized nowhere.
    pub key_stranger: PathBuf,
    /// The passphrase of [`Self::key_pass`].
    pub passphrase: String,
    /// The user that logs in by password (group libvirt).
    pub password_user: String,
    /// Its password.
    pub password: String,
    /// The host key's fingerprint ("SHA256:...").
    pub host_key_fp: String,
    /// Seconds `up` took.
    pub up_secs: f64,
}

/// Where the hosts keep their state: `<target>/testbed/remote`.
pub fn state_root() -> PathBuf {
    state_dir().join("remote")
}

fn script() -> PathBuf {
    repo().join("tests/testbed/remote-host.sh")
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(script());
    cmd.env("VIREO_REMOTE_DIR", state_root()).args(args);
    cmd
}

/// Why remote hosts cannot run here, if they cannot (besides the daemon's tools).
pub fn missing() -> Option<String> {
    for t in [
        "/usr/sbin/sshd",
        "/usr/bin/ssh",
        "/usr/bin/ssh-keygen",
        "/usr/bin/nsenter",
        "/usr/bin/flock",
    ] {
        if !Path::new(t).exists() {
            return Some(format!(
                "{t} is missing (run tools/install-deps.sh test: openssh-server, openssh-client)"
            ));
        }
    }
    None
}

impl RemoteHost {
    /// Starts host `name` (cleaning up any leftover of it first).
    pub fn up(name: &str) -> RemoteHost {
        let stop_name = name.to_owned();
        on_cleanup(move || {
            let _ = command(&["down", &stop_name]).status();
        });
        let t = Instant::now();
        print!("  {}", run_ok(&mut command(&["up", name])));
        let up_secs = t.elapsed().as_secs_f64();
        let env = run_ok(&mut command(&["status", name]));
        let vars: HashMap<&str, String> = env
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k, v.trim_matches('\'').to_owned()))
            .collect();
        let var = |k: &str| {
            vars.get(k)
                .cloned()
                .unwrap_or_else(|| panic!("{k} missing from host.env:\n{env}"))
        };
        RemoteHost {
            name: name.to_owned(),
            addr: var("ADDR"),
            hostname: var("HOSTNAME"),
            uri: var("URI"),
            ssh: var("SSH").into(),
            ssh_unknown: var("SSH_UNKNOWN").into(),
            ssh_agent: var("SSH_AGENT").into(),
            known_hosts: var("KNOWN_HOSTS").into(),
            known_hosts_unknown: var("KNOWN_HOSTS_UNKNOWN").into(),
            key: var("KEY").into(),
            key_pass: var("KEY_PASS").into(),
            key_stranger: var("KEY_STRANGER").into(),
            passphrase: var("PASSPHRASE"),
            password_user: var("PASSWORD_USER"),
            password: var("PASSWORD"),
            host_key_fp: var("HOST_KEY_FP"),
            up_secs,
        }
    }

    /// A `qemu+ssh` URI for `user` with `params` ("keyfile=...&..."), no wrapper.
    pub fn uri_with(&self, user: &str, params: &str) -> String {
        format!("qemu+ssh://{user}@{}/system?{params}", self.addr)
    }

    /// The URI through the ssh wrapper `ssh` (known or unknown host key) with `key`.
    pub fn uri_for(&self, user: &str, ssh: &Path, key: &Path) -> String {
        self.uri_with(
            user,
            &format!("command={}&keyfile={}", ssh.display(), key.display()),
        )
    }

    /// Runs `args` inside the host.
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec", self.name.as_str()];
        all.extend_from_slice(args);
        run(&mut command(&all))
    }

    /// `virsh -q -c qemu:///system ARGS` inside the host (its own daemon, no ssh).
    pub fn virsh(&self, args: &[&str]) -> String {
        let mut all = vec![
            "exec",
            self.name.as_str(),
            "virsh",
            "-q",
            "-c",
            "qemu:///system",
        ];
        all.extend_from_slice(args);
        run_ok(&mut command(&all))
    }

    /// The guest named `name` with `xml` (its display on the host's loopback) defined
    /// and started over `qemu+ssh://` as a person's virsh would, its serial port logged
    /// to a file of this machine (returned); waits for its ready line. Left as it is
    /// when it already runs.
    pub fn start_guest(&self, name: &str, xml: String) -> PathBuf {
        let tmp = testbed::target_dir().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let log = tmp.join(format!("{name}.serial.log"));
        if testbed::virsh(&self.uri, &["list", "--name"])
            .lines()
            .any(|l| l.trim() == name)
        {
            return log;
        }
        let _ = std::fs::remove_file(&log);
        let xml = xml.replace(
            "<serial type='pty'>",
            &format!(
                "<serial type='pty'><log file='{}' append='off'/>",
                log.display()
            ),
        );
        assert!(
            xml.contains("listen='127.0.0.1'"),
            "the guest's display listens on the host's loopback"
        );
        let file = tmp.join(format!("{name}.xml"));
        std::fs::write(&file, xml).unwrap();
        testbed::virsh(&self.uri, &["define", file.to_str().unwrap()]);
        testbed::virsh(&self.uri, &["start", name]);
        let t = Instant::now();
        wait_until_ready(&log);
        println!(
            "  remote guest {name} ready after {:.1} s",
            t.elapsed().as_secs_f64()
        );
        log
    }

    /// Cuts (`false`) or restores (`true`) the host's network.
    pub fn set_network(&self, up: bool) {
        run_ok(&mut command(&[
            "net",
            &self.name,
            if up { "up" } else { "down" },
        ]));
    }

    /// Starts (`true`) or stops (`false`) the host's sshd.
    pub fn set_sshd(&self, running: bool) {
        run_ok(&mut command(&[
            "sshd",
            &self.name,
            if running { "start" } else { "stop" },
        ]));
    }
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        let out = run(&mut command(&["down", &self.name]));
        if !out.status.success() {
            eprintln!(
                "remote host {}: down failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Waits until the guest's serial log `log` has its ready line (a new boot truncates it).
pub fn wait_until_ready(log: &Path) {
    wait_until("the remote guest's ready line", BOOT, || {
        std::fs::read_to_string(log).is_ok_and(|s| s.lines().any(|l| l.trim() == READY_LINE))
    });
}
