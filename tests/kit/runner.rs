//! The one runner of the `harness = false` test binaries.
//!
//! GLib's default main context, libvirt's event loop (installed on it) and GTK belong
//! to one thread, so the standard harness, which runs each test on a thread of its own,
//! cannot host these tests. [`Runner::run`] runs them on the main thread, in order, each
//! under a watchdog, and exits with the binary's status:
//!
//! - `Runner::new()` prepares libvirt's event loop and Vireo's logging; `.gui()` also
//!   GTK and libadwaita on the display (in-memory settings, translations, resources):
//!   without a display the binary is skipped (failed in CI);
//! - `.fresh_process()` runs each test in a new process of this binary, for what is
//!   process-wide (libvirt's test driver, the `GApplication`, one embedded QEMU driver
//!   per process). `main` runs again in each child up to `run`: keep it to checks;
//! - a test's body returns `()` (and asserts) or `Result<(), E: Display>`;
//! - [`Test::french`] runs a test in French (`fr_FR.UTF-8`: words, units, decimal
//!   comma); it needs `.fresh_process()`, as the locale is set when a process starts;
//! - GUI binaries draw with the renderer `vireo` would choose on the display (cairo under
//!   Xvfb, whose GL is llvmpipe: `vireo::startup::renderer`); [`Test::cairo`] sets
//!   `GSK_RENDERER=cairo` whatever the display (a machine without GL, or a desktop with a
//!   GPU); it needs `.fresh_process()` too;
//! - each test has a time limit (120 s unless [`Test::limit`] says more); past it, the
//!   cleanup hooks ([`on_cleanup`]) run and the process exits, so a hang never leaves
//!   daemons or QEMUs behind. SIGINT and SIGTERM do the same; the hooks also run when
//!   the suite ends;
//! - a free argument filters tests by substring, `--list` lists them, other `-` options
//!   (such as `--test-threads=2` from `cargo test -- ...`) are ignored.

use std::fmt::Display;
use std::process::Command;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// What a test body may return: nothing (it asserts), or a `Result`.
pub trait Outcome {
    /// `Err` with what went wrong.
    fn into_result(self) -> Result<(), String>;
}

impl Outcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> Outcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// One test: a name, a time limit, a language and a body.
pub struct Test {
    name: &'static str,
    limit: Duration,
    french: bool,
    cairo: bool,
    body: Box<dyn Fn() -> Result<(), String>>,
}

/// A test named `name` running `body`, with the default limit of 120 s.
pub fn test<R: Outcome + 'static>(name: &'static str, body: fn() -> R) -> Test {
    Test {
        name,
        limit: Duration::from_secs(120),
        french: false,
        cairo: false,
        body: Box::new(move || body().into_result()),
    }
}

impl Test {
    /// Sets the time limit, in seconds.
    pub fn limit(mut self, secs: u64) -> Test {
        self.limit = Duration::from_secs(secs);
        self
    }

    /// Runs the test in French, in a process of its own (see [`french_env`]).
    pub fn french(mut self) -> Test {
        self.french = true;
        self
    }

    /// Runs the test with GTK's cairo renderer whatever the display's GL, in a process of
    /// its own.
    pub fn cairo(mut self) -> Test {
        self.cairo = true;
        self
    }
}

/// The environment of a process that runs in French. The locale is compiled once into
/// `<target>/locales` with glibc's `localedef` (Debian's `locales` package), so the
/// machine needs no generated locale.
pub fn french_env() -> Result<Vec<(&'static str, String)>, String> {
    let dir = super::testbed::target_dir().join("locales");
    if !dir.join("fr_FR.UTF-8").exists() {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let status = Command::new("localedef")
            .args(["-i", "fr_FR", "-f", "UTF-8"])
            .arg(dir.join("fr_FR.UTF-8"))
            .status()
            .map_err(|e| format!("localedef (Debian: locales): {e}"))?;
        if !status.success() {
            return Err("localedef could not compile fr_FR.UTF-8".into());
        }
    }
    Ok(vec![
        ("LOCPATH", dir.display().to_string()),
        ("LC_ALL", "fr_FR.UTF-8".into()),
        ("LANGUAGE", "fr".into()),
    ])
}

type Hook = Box<dyn Fn() + Send>;
static CLEANUP: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Registers `f` to run when the suite ends, when a test runs past its limit, or on
/// SIGINT/SIGTERM: stopping what a fixture started (guards' `Drop`s do not run when
/// the process exits from the watchdog).
pub fn on_cleanup(f: impl Fn() + Send + 'static) {
    CLEANUP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Box::new(f));
}

/// Runs the cleanup hooks, last registered first, once.
pub fn cleanup() {
    // A test that panicked while holding the lock still leaves the hooks to run.
    let hooks = std::mem::take(&mut *CLEANUP.lock().unwrap_or_else(|p| p.into_inner()));
    for hook in hooks.iter().rev() {
        hook();
    }
}

/// The name of this test binary (cargo's target name).
pub fn binary_name() -> &'static str {
    env!("CARGO_CRATE_NAME")
}

/// True in CI (`CI=true`), where a test must never skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips the whole binary with one loud line, or fails it in CI: for a prerequisite
/// this machine lacks (no display, not root, no QEMU...).
pub fn skip_or_fail(reason: &str) -> ! {
    let binary = binary_name();
    if in_ci() {
        eprintln!("{binary}: FAILED: cannot run in CI: {reason}");
        std::process::exit(1);
    }
    eprintln!("!!!!! {binary}: SKIPPED (all tests): {reason} !!!!!");
    std::process::exit(0);
}

/// How a binary runs its tests (see the module's documentation).
#[derive(Default)]
pub struct Runner {
    gui: bool,
    fresh_process: bool,
}

/// The argument that makes a child process run one test.
const CASE_ARG: &str = "--kit-case";

impl Runner {
    /// Tests on libvirt and Vireo's model, no display.
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Also GTK and libadwaita on the display.
    pub fn gui(mut self) -> Runner {
        self.gui = true;
        self
    }

    /// Each test in a new process of this binary.
    pub fn fresh_process(mut self) -> Runner {
        self.fresh_process = true;
        self
    }

    /// Runs `tests` (those the command line selects) and exits: 0 when all passed.
    pub fn run(self, tests: Vec<Test>) -> ! {
        let args: Vec<String> = std::env::args().collect();
        if let Some(pos) = args.iter().position(|a| a == CASE_ARG) {
            let name = args.get(pos + 1).map(String::as_str).unwrap_or_default();
            let Some(test) = tests.iter().find(|t| t.name == name) else {
                eprintln!("{}: no test named {name}", binary_name());
                std::process::exit(2);
            };
            self.init();
            let ok = run_one(test);
            cleanup();
            std::process::exit(i32::from(!ok));
        }
        if args.iter().any(|a| a == "--list") {
            for t in &tests {
                println!("{}: test", t.name);
            }
            std::process::exit(0);
        }
        let filter = args.iter().skip(1).find(|a| !a.starts_with('-'));
        let chosen: Vec<&Test> = tests
            .iter()
            .filter(|t| !filter.is_some_and(|f| !t.name.contains(f.as_str())))
            .collect();
        if self.fresh_process {
            // Children skip on their own; a missing display must not read as a pass.
            if self.gui {
                display_or_skip();
            }
        } else {
            self.init();
        }
        let suite = Instant::now();
        let mut failed = Vec::new();
        for test in &chosen {
            let ok = if self.fresh_process {
                run_in_child(&args[0], test)
            } else if test.french || test.cairo {
                println!(
                    "test {} ... FAILED: French or cairo needs .fresh_process()",
                    test.name
                );
                false
            } else {
                run_one(test)
            };
            if !ok {
                failed.push(test.name);
            }
        }
        cleanup();
        println!(
            "\n{}: {} passed; {} failed; {:.1} s",
            binary_name(),
            chosen.len() - failed.len(),
            failed.len(),
            suite.elapsed().as_secs_f64()
        );
        if !failed.is_empty() {
            println!("failed: {failed:?}");
        }
        std::process::exit(i32::from(!failed.is_empty()));
    }

    /// Prepares this process for the tests.
    fn init(&self) {
        // libvirt's own log (warnings of the drivers) goes to a file, not the output.
        // (Not where this user cannot write, such as the unprivileged test user.)
        let log = super::testbed::state_dir().join(format!("{}-libvirt.log", binary_name()));
        let writable = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .is_ok();
        if writable && std::env::var_os("LIBVIRT_LOG_OUTPUTS").is_none() {
            std::env::set_var("LIBVIRT_LOG_OUTPUTS", format!("3:file:{}", log.display()));
        }
        if self.gui {
            // Settings must not touch the user's dconf.
            std::env::set_var("GSETTINGS_BACKEND", "memory");
            vireo::i18n::init();
            // Logging, resources, the application's name, the renderer's settings: as
            // `vireo`'s main sets them.
            vireo::startup::prepare_process(false);
            display_or_skip();
        } else {
            vireo::logging::init(false);
        }
        vireo::model::init();
        let ctx = glib::MainContext::default();
        // Held until the process exits: every test runs on this thread's loop.
        std::mem::forget(ctx.acquire().expect("the default main context is free"));
        // Ctrl-C or a CI runner's SIGTERM: stop what the fixtures started, then leave.
        // (Tests turn the main loop nearly all the time, so this runs promptly.)
        for sig in [libc::SIGINT, libc::SIGTERM] {
            glib::unix_signal_add_local(sig, move || {
                eprintln!("signal {sig}: cleaning up and exiting");
                cleanup();
                std::process::exit(128 + sig);
            });
        }
    }
}

/// Initialises libadwaita (and GTK) on the display, or skips the binary.
fn display_or_skip() {
    if let Err(e) = adw::init() {
        skip_or_fail(&format!(
            "no display ({e}); run under xvfb-run (tools/run-tests.sh does)"
        ));
    }
}

/// Runs `test` on this thread under its watchdog; true when it passed.
fn run_one(test: &Test) -> bool {
    println!("test {} (limit {} s) ...", test.name, test.limit.as_secs());
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (name, limit) = (test.name, test.limit);
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
            eprintln!(
                "test {name}: TIMED OUT after {} s; cleaning up and exiting",
                limit.as_secs()
            );
            cleanup();
            std::process::exit(101);
        }
    });
    let started = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (test.body)()));
    let _ = done_tx.send(());
    let _ = watchdog.join();
    // Let closed connections finish their last jobs before the next test.
    super::wait::pump(Duration::from_millis(50));
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(Ok(())) => {
            println!("test {} ... ok ({secs:.1} s)", test.name);
            true
        }
        Ok(Err(e)) => {
            println!("test {} ... FAILED ({secs:.1} s): {e}", test.name);
            false
        }
        // The panic hook already printed the message.
        Err(_) => {
            println!("test {} ... FAILED ({secs:.1} s)", test.name);
            false
        }
    }
}

/// Runs `test` in a new process of this binary; true when it passed. The child has
/// its own watchdog; this one only catches a child that hangs past it.
fn run_in_child(exe: &str, test: &Test) -> bool {
    let started = Instant::now();
    let mut command = Command::new(exe);
    command.args([CASE_ARG, test.name]);
    if test.cairo {
        command.env("GSK_RENDERER", "cairo");
    }
    if test.french {
        match french_env() {
            Ok(env) => {
                command.envs(env);
            }
            Err(e) => {
                println!("test {} ... FAILED: {e}", test.name);
                return false;
            }
        }
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            println!("test {} ... FAILED: cannot start {exe}: {e}", test.name);
            return false;
        }
    };
    let deadline = started + test.limit + Duration::from_secs(30);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    // The child printed its own result line, unless it died some other way.
    let secs = started.elapsed().as_secs_f64();
    match status.map(|s| (s.success(), s.code())) {
        Some((true, _)) => true,
        Some((false, Some(1))) => false,
        Some((false, _)) => {
            println!(
                "test {} ... FAILED: its process ended with {:?} ({secs:.1} s)",
                test.name, status
            );
            false
        }
        None => {
            println!(
                "test {} ... FAILED: its process hung and was killed ({secs:.1} s)",
                test.name
            );
            false
        }
    }
}
