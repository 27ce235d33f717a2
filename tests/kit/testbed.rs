//! The test bed in Rust: the tiny guest, the private `qemu:///system` daemon, the
//! embedded QEMU driver's root, and runs as the unprivileged test user.
//!
//! Everything shells out to the scripts in `tests/guest` and `tests/testbed` (see
//! `tests/testbed/README.md`), so a developer can repeat any step by hand. The daemon
//! and the embedded root are one per process ([`daemon`], [`embed_root`]), started on
//! first use and stopped by the runner's cleanup hooks: when the suite ends, when a
//! test runs past its limit, on SIGINT/SIGTERM. A binary that needs them calls
//! [`require`] first in `main`, which skips it (fails it in CI) where they cannot run.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use super::runner::{on_cleanup, skip_or_fail};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cargo's target directory (integration tests know `CARGO_TARGET_TMPDIR` = target/tmp).
pub fn target_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().map(Path::to_path_buf).unwrap_or(tmp)
}

/// Where the test bed keeps its state between runs: `<target>/testbed`.
pub fn state_dir() -> PathBuf {
    let d = target_dir().join("testbed");
    let _ = std::fs::create_dir_all(&d);
    d
}

/// A fresh, empty directory `<target>/tmp/vireo-<pid>-<name>` (QEMU can reach it),
/// removed when the suite ends.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = target_dir()
        .join("tmp")
        .join(format!("vireo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    let remove = d.clone();
    on_cleanup(move || {
        let _ = std::fs::remove_dir_all(&remove);
    });
    d
}

/// What a binary needs from this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Root, QEMU, qemu-img, virsh, unshare: VMs on the embedded driver.
    Qemu,
    /// Also libvirtd and virtlogd, and no other daemon serving `qemu:///system`.
    Daemon,
    /// The guest of `tests/guest/build.sh`, built (or found fresh in its cache).
    Guest,
    /// Also sshd, ssh and the namespace tools: [`super::remote_host::RemoteHost`].
    RemoteHost,
}

/// Skips the binary (fails it in CI) unless this machine has all it `needs`.
pub fn require(needs: &[Need]) {
    if let Some(why) = missing(needs) {
        skip_or_fail(&why);
    }
}

/// Why this machine lacks something of `needs`, if it does.
pub fn missing(needs: &[Need]) -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (the test daemon, QEMU and the test user need root)".into());
    }
    let mut tools = vec![
        "/usr/bin/qemu-system-x86_64",
        "/usr/bin/qemu-img",
        "/usr/bin/virsh",
        "/usr/bin/unshare",
    ];
    let daemon = needs.contains(&Need::Daemon);
    // A remote host runs its own libvirtd and virtlogd.
    if daemon || needs.contains(&Need::RemoteHost) {
        tools.extend(["/usr/sbin/libvirtd", "/usr/sbin/virtlogd"]);
    }
    for t in tools {
        if !Path::new(t).exists() {
            return Some(format!(
                "{t} is missing (run tools/install-deps.sh test to install QEMU and libvirt)"
            ));
        }
    }
    if daemon {
        if let Some(why) = SystemDaemon::foreign_daemon() {
            return Some(why);
        }
    }
    if needs.contains(&Need::RemoteHost) {
        if let Some(why) = super::remote_host::missing() {
            return Some(why);
        }
    }
    if needs.contains(&Need::Guest) {
        if let Err(e) = Guest::get() {
            return Some(e);
        }
    }
    None
}

/// Runs a command, returning its output; panics if it cannot be started.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `virsh -q -c URI ARGS...`, in another process (as another client would).
pub fn virsh(uri: &str, args: &[&str]) -> String {
    run_ok(Command::new("virsh").args(["-q", "-c", uri]).args(args))
}

/// A directory served over HTTP on a free local port (python3's `http.server`), as
/// an install tree or an image server; stopped on drop.
pub struct HttpServer {
    child: std::process::Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl HttpServer {
    /// Serves `dir`, once the server accepts connections (it waits without the main
    /// loop, so any test thread can call it).
    pub fn start(dir: &Path) -> HttpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free local port")
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let server = HttpServer { child, port };
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(10),
                "the HTTP server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server
    }

    /// Its base URL, with a trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the guest boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// `<kernel>` + `<initrd>` + `<cmdline>`.
    Kernel,
    /// The isolinux ISO from a CD-ROM.
    Iso,
}

/// The guest built by `tests/guest/build.sh` (see its header for what it does).
#[derive(Debug)]
pub struct Guest {
    pub dir: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub disk: PathBuf,
    pub iso: PathBuf,
    /// Seconds the build (or cache check) took.
    pub build_secs: f64,
}

/// The line the guest prints on ttyS0 once booted.
pub const READY_LINE: &str = "VIREO-GUEST-READY";
/// The line the guest prints when the ACPI power button powers it off.
pub const POWEROFF_LINE: &str = "VIREO-GUEST-POWEROFF";
/// The serial shell's prompt.
pub const PROMPT: &str = "vireo-guest# ";
/// The guest's VGA text screen once ready: 720x400 pixels.
pub const VGA_SIZE: (u32, u32) = (720, 400);
/// Pixels of the ready guest's VGA picture (x, y, RGB) as QEMU renders them (VNC,
/// `virsh screenshot`): blue, red, green and grey bands, the shell rows black. See the
/// header of `tests/guest/build.sh` for the full layout; `tests/testbed/smoke.sh`
/// checks these with `virsh screenshot`.
pub const VGA_PIXELS: [(u32, u32, [u8; 3]); 6] = [
    (5, 5, [0, 0, 168]),
    (100, 40, [168, 0, 0]),
    (100, 100, [0, 168, 0]),
    (100, 170, [168, 168, 168]),
    (100, 250, [0, 0, 168]),
    (600, 380, [0, 0, 0]),
];

static GUEST: OnceLock<Result<Guest, String>> = OnceLock::new();

impl Guest {
    /// The guest directory: `$VIREO_GUEST_DIR` or `<target>/guest`.
    pub fn dir() -> PathBuf {
        std::env::var_os("VIREO_GUEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| target_dir().join("guest"))
    }

    fn in_dir(dir: PathBuf, build_secs: f64) -> Guest {
        Guest {
            kernel: dir.join("vmlinuz"),
            initrd: dir.join("initrd.gz"),
            disk: dir.join("disk.qcow2"),
            iso: dir.join("vireo-guest.iso"),
            dir,
            build_secs,
        }
    }

    /// Builds the guest once per process (a no-op when the cache is fresh).
    pub fn get() -> Result<&'static Guest, String> {
        GUEST
            .get_or_init(|| {
                let dir = Self::dir();
                let t = Instant::now();
                let out = run(Command::new(repo().join("tests/guest/build.sh")).arg(&dir));
                if !out.status.success() {
                    return Err(format!(
                        "tests/guest/build.sh failed:\n{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                print!("  {}", String::from_utf8_lossy(&out.stdout));
                Ok(Guest::in_dir(dir, t.elapsed().as_secs_f64()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The guest as already built in [`Self::dir`], without running the build (for a
    /// process that cannot write there, such as the unprivileged test user).
    pub fn prebuilt() -> Result<Guest, String> {
        let g = Guest::in_dir(Self::dir(), 0.0);
        for f in [&g.kernel, &g.initrd, &g.disk, &g.iso] {
            if !f.is_file() {
                return Err(format!(
                    "{} is missing: run tests/guest/build.sh",
                    f.display()
                ));
            }
        }
        Ok(g)
    }

    /// A qcow2 overlay on the data disk at `path` (each domain writes its own).
    pub fn overlay(&self, path: &Path) -> PathBuf {
        let _ = std::fs::remove_file(path);
        run_ok(
            Command::new("qemu-img")
                .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
                .arg(&self.disk)
                .arg(path),
        );
        path.to_owned()
    }

    /// The domain XML of a test guest (same as `tests/testbed/domain-xml.sh`): TCG,
    /// 192 MiB, serial pty + console, VNC on 127.0.0.1, VGA, virtio disk `vda` when
    /// `disk` is given, user-mode virtio NIC.
    pub fn domain_xml(&self, name: &str, boot: Boot, disk: Option<&Path>) -> String {
        let os = match boot {
            Boot::Kernel => format!(
                "<kernel>{}</kernel><initrd>{}</initrd>\
                 <cmdline>console=tty0 console=ttyS0</cmdline>",
                self.kernel.display(),
                self.initrd.display()
            ),
            Boot::Iso => "<boot dev='cdrom'/>".to_owned(),
        };
        let cdrom = match boot {
            Boot::Kernel => String::new(),
            Boot::Iso => format!(
                "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>\
                 <source file='{}'/><target dev='hdc' bus='ide'/><readonly/></disk>",
                self.iso.display()
            ),
        };
        let vda = disk.map_or(String::new(), |d| {
            format!(
                "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
                 <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
                d.display()
            )
        });
        format!(
            "<domain type='qemu'><name>{name}</name><memory unit='MiB'>192</memory>\
             <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>{os}</os>\
             <features><acpi/><apic/></features><clock offset='utc'/>\
             <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>\
             <on_crash>destroy</on_crash><devices>{vda}{cdrom}\
             <interface type='user'><model type='virtio'/></interface>\
             <serial type='pty'><target port='0'/></serial>\
             <console type='pty'><target type='serial' port='0'/></console>\
             <input type='keyboard' bus='ps2'/>\
             <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\
             <video><model type='vga'/></video><memballoon model='virtio'/>\
             </devices></domain>"
        )
    }

    /// [`Self::domain_xml`] (kernel boot, no disk) with SPICE graphics and the `video`
    /// card (`qxl`, virt-manager's for SPICE VMs, or `vga`) instead of VNC and VGA.
    pub fn spice_domain_xml(&self, name: &str, video: &str) -> String {
        let xml = self.domain_xml(name, Boot::Kernel, None);
        let vnc = "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>";
        let vga = "<video><model type='vga'/></video>";
        assert!(xml.contains(vnc) && xml.contains(vga), "domain_xml changed");
        xml.replace(
            vnc,
            "<graphics type='spice' autoport='yes' listen='127.0.0.1'/>",
        )
        .replace(vga, &format!("<video><model type='{video}'/></video>"))
    }
}

/// The prefix of every test domain's name; `libvirtd.sh stop` removes such domains.
pub const DOMAIN_PREFIX: &str = "vireo-test";

/// The private `virtlogd` + `libvirtd` serving `qemu:///system` (and, through
/// `test+unix:///default`, a test driver of its own per connection), from
/// `tests/testbed/libvirtd.sh`. One per process: see [`daemon`].
pub struct SystemDaemon {
    dir: PathBuf,
    /// Seconds the first start took until `virsh version` answered.
    pub start_secs: f64,
}

static DAEMON: OnceLock<SystemDaemon> = OnceLock::new();

/// The private daemon, started on first use (after cleaning up what a killed run left:
/// daemon, test domains, QEMUs). The runner's cleanup stops it with every `vireo-test*`
/// domain. Needs [`Need::Daemon`].
pub fn daemon() -> &'static SystemDaemon {
    DAEMON.get_or_init(|| {
        let dir = state_dir().join("daemon");
        libvirtd_sh("stop", &dir);
        let stop_dir = dir.clone();
        on_cleanup(move || {
            // A frozen daemon would hang the domains' clean-up.
            signal_pid_file(&stop_dir.join("libvirtd.pid"), libc::SIGCONT);
            let out = libvirtd_sh("stop", &stop_dir);
            if !out.status.success() {
                eprintln!(
                    "testbed: stopping the daemon failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        });
        let mut d = SystemDaemon {
            dir,
            start_secs: 0.0,
        };
        d.start_secs = d.restart();
        d
    })
}

fn libvirtd_sh(verb: &str, dir: &Path) -> Output {
    run(Command::new(repo().join("tests/testbed/libvirtd.sh"))
        .arg(verb)
        .arg(dir))
}

fn signal_pid_file(pid_file: &Path, sig: i32) -> bool {
    let pid = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .filter(|&p| p > 1);
    // SAFETY: plain kill(2) of the daemon the test bed started.
    pid.is_some_and(|pid| unsafe { libc::kill(pid, sig) } == 0)
}

impl SystemDaemon {
    /// The URI it serves.
    pub const URI: &'static str = "qemu:///system";
    /// A test driver inside the daemon, private to each connection (its state goes
    /// with the daemon).
    pub const TEST_URI: &'static str = "test+unix:///default";

    /// Why the test daemon cannot start here: some other daemon (not one of ours left
    /// by a killed run) already serves `qemu:///system`.
    pub fn foreign_daemon() -> Option<String> {
        let ours = libvirtd_sh("status", &state_dir().join("daemon"))
            .status
            .success();
        let answers =
            run(Command::new("timeout").args(["10", "virsh", "-q", "-c", Self::URI, "version"]))
                .status
                .success();
        (answers && !ours).then(|| {
            format!(
                "another libvirt daemon already serves {} on this machine; the tests will \
                 not run their own next to it",
                Self::URI
            )
        })
    }

    /// (Re)starts the daemon if it is not running; returns the seconds it took.
    pub fn restart(&self) -> f64 {
        let t = Instant::now();
        let out = libvirtd_sh("start", &self.dir);
        assert!(
            out.status.success(),
            "libvirtd.sh start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        print!("  {}", String::from_utf8_lossy(&out.stdout));
        t.elapsed().as_secs_f64()
    }

    /// SIGKILLs libvirtd (QEMUs and virtlogd live on), like a crash.
    pub fn kill(&self) {
        let out = libvirtd_sh("kill", &self.dir);
        assert!(out.status.success(), "libvirtd.sh kill failed");
    }

    /// Sends `sig` to libvirtd: SIGSTOP freezes it like a host that stops answering,
    /// SIGCONT thaws it, SIGTERM stops it as a package upgrade would.
    pub fn signal(&self, sig: i32) {
        assert!(
            signal_pid_file(&self.dir.join("libvirtd.pid"), sig),
            "no running libvirtd to signal"
        );
    }

    /// The pid of a running domain's QEMU (from libvirt's pid file).
    pub fn qemu_pid(name: &str) -> Option<i32> {
        std::fs::read_to_string(format!("/run/libvirt/qemu/{name}.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// A root for the embedded QEMU driver (`qemu:///embed?root=DIR`), no daemon. One per
/// process: see [`embed_root`].
///
/// `DIR/etc/qemu.conf` makes QEMU run as root without relabelling: as the default
/// `libvirt-qemu` user, libvirt found the root-only `/dev/kvm` unusable after probing
/// QEMU with it, and re-probed on every open (15-60 s). It also has QEMU write its
/// logs itself (`stdio_handler = "file"`): the default asks the system's virtlogd,
/// which a daemon-less test does not have. The capability cache is shared
/// between roots through `<target>/testbed/embed-caps`, so only the first root ever
/// probes (~8 s); later opens take ~0.05 s.
pub struct EmbedRoot {
    pub dir: PathBuf,
}

static EMBED_ROOT: OnceLock<EmbedRoot> = OnceLock::new();

/// This process's embedded root (libvirt allows one embedded QEMU driver per process),
/// made on first use under `<target>/tmp`. The runner's cleanup kills its QEMUs (an
/// embedded driver's QEMUs outlive it), keeps its capability cache for the next root
/// and removes it. Needs [`Need::Qemu`].
pub fn embed_root() -> &'static EmbedRoot {
    EMBED_ROOT.get_or_init(|| {
        let dir = temp_dir("embed-root");
        std::fs::create_dir_all(dir.join("etc")).expect("embed root");
        std::fs::write(
            dir.join("etc/qemu.conf"),
            "user = \"root\"\ngroup = \"root\"\ndynamic_ownership = 0\nstdio_handler = \"file\"\n",
        )
        .expect("embed qemu.conf");
        let caps = state_dir().join("embed-caps");
        if caps.join("qemu").is_dir() {
            std::fs::create_dir_all(dir.join("cache")).expect("embed cache dir");
            run(Command::new("cp")
                .arg("-a")
                .arg(caps.join("qemu"))
                .arg(dir.join("cache")));
        }
        let root = dir.clone();
        on_cleanup(move || {
            kill_pidfiles(&root.join("run/qemu"));
            let probed = root.join("cache/qemu");
            if !caps.join("qemu").is_dir() && probed.is_dir() {
                let _ = std::fs::create_dir_all(&caps);
                run(Command::new("cp").arg("-a").arg(&probed).arg(&caps));
            }
            let _ = std::fs::remove_dir_all(&root);
        });
        EmbedRoot { dir }
    })
}

impl EmbedRoot {
    /// The connection URI.
    pub fn uri(&self) -> String {
        format!("qemu:///embed?root={}", self.dir.display())
    }
}

/// SIGKILLs the QEMU of every `*.pid` file in `dir`.
pub fn kill_pidfiles(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "pid") {
            let pid = std::fs::read_to_string(&p)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok());
            if let Some(pid) = pid.filter(|&p| p > 1) {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if comm.starts_with("qemu") {
                    // SAFETY: plain kill(2) of a QEMU we started.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
    }
}

/// The unprivileged test user (created by `tests/testbed/as-user.sh`).
pub const TEST_USER: &str = "vireo-test";

/// Runs this test binary again as [`TEST_USER`] with `args` (for `qemu:///session`
/// checks through Vireo's own code), with `VIREO_GUEST_DIR` passed on. The session
/// daemon it autostarts and its QEMUs are stopped afterwards by the script.
///
/// When the user cannot reach the binary or the guest (a checkout under a private home
/// directory), both are copied to a world-readable temporary directory first.
pub fn run_self_as_test_user(args: &[&str]) -> Output {
    let script = repo().join("tests/testbed/as-user.sh");
    let mut exe = std::env::current_exe().expect("current exe");
    let mut guest_dir = Guest::dir();
    let reachable = run(Command::new(&script)
        .arg("test")
        .arg("-x")
        .arg(&exe)
        .arg("-a")
        .arg("-r")
        .arg(guest_dir.join("vmlinuz")))
    .status
    .success();
    let copy = std::env::temp_dir().join(format!("vireo-as-user-{}", std::process::id()));
    if !reachable {
        std::fs::create_dir_all(copy.join("guest")).expect("temp dir");
        for f in ["vmlinuz", "initrd.gz", "disk.qcow2", "vireo-guest.iso"] {
            std::fs::copy(guest_dir.join(f), copy.join("guest").join(f)).expect("copy guest");
        }
        std::fs::copy(&exe, copy.join("test-binary")).expect("copy test binary");
        run_ok(Command::new("chmod").args(["-R", "a+rX"]).arg(&copy));
        exe = copy.join("test-binary");
        guest_dir = copy.join("guest");
    }
    let out = run(Command::new(&script)
        .env("VIREO_GUEST_DIR", &guest_dir)
        .env(
            "VIREO_AS_USER_ENV",
            "VIREO_GUEST_DIR CI RUST_LOG RUST_BACKTRACE",
        )
        .arg(exe)
        .args(args));
    let _ = std::fs::remove_dir_all(&copy);
    out
}
