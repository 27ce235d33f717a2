//! Shared helpers of the end-to-end tests: a sequential runner with a per-test
//! watchdog, the skip-or-fail rule, and waiting on the GLib main loop.
//!
//! Tests run one after the other on the main thread: GLib's default main context and
//! libvirt's event loop (installed on it) belong to one thread. A test that runs past
//! its time limit aborts the whole binary, after the abort hooks stopped everything
//! the fixtures started (daemon, QEMUs), so a hang can never leave VMs behind; SIGINT
//! and SIGTERM do the same. (Only SIGKILL cannot: the next run cleans up first.)

#![allow(dead_code)]

pub mod console;
pub mod remote_host;
pub mod rfb;
pub mod screen;
pub mod testbed;

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Hook = Box<dyn Fn() + Send>;
static ABORT_HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Registers `f` to run if the watchdog aborts the process (guards' `Drop`s cannot
/// run then).
pub fn on_abort(f: impl Fn() + Send + 'static) {
    if let Ok(mut hooks) = ABORT_HOOKS.lock() {
        hooks.push(Box::new(f));
    }
}

fn run_abort_hooks() {
    // A poisoned lock still holds the hooks; a test panicking must not keep VMs alive.
    let hooks = match ABORT_HOOKS.lock() {
        Ok(h) => h,
        Err(p) => p.into_inner(),
    };
    for h in hooks.iter() {
        h();
    }
}

/// Skips the whole binary with one loud line, unless in CI (`CI=true`), where a
/// missing prerequisite is a failure.
pub fn skip_or_fail(binary: &str, reason: &str) -> ! {
    if testbed::in_ci() {
        eprintln!("{binary}: FAILED: cannot run in CI: {reason}");
        std::process::exit(1);
    }
    eprintln!("!!!!! {binary}: SKIPPED (all tests): {reason} !!!!!");
    std::process::exit(0);
}

/// One test: name, time limit, body.
pub type Test = (&'static str, Duration, fn());

/// Runs `tests` in order on this thread and returns the names of those that failed.
/// An argument that does not start with `-` filters by substring.
pub fn run(tests: &[Test]) -> Vec<&'static str> {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let ctx = glib::MainContext::default();
    let _owner = ctx.acquire().expect("the default main context is free");
    // Ctrl-C or a CI runner's SIGTERM: stop what the fixtures started, then leave.
    // (Tests iterate the main loop nearly all the time, so this runs promptly.)
    for sig in [libc::SIGINT, libc::SIGTERM] {
        glib::unix_signal_add_local(sig, move || {
            eprintln!("signal {sig}: cleaning up and exiting");
            run_abort_hooks();
            std::process::exit(128 + sig);
        });
    }
    let mut failed = Vec::new();
    let mut ran = 0;
    let suite = Instant::now();
    for (name, limit, f) in tests {
        if filter
            .as_ref()
            .is_some_and(|flt| !name.contains(flt.as_str()))
        {
            continue;
        }
        ran += 1;
        println!("test {name} (limit {} s) ...", limit.as_secs());
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let (test_name, limit) = (*name, *limit);
        let watchdog = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
                eprintln!(
                    "test {test_name}: TIMED OUT after {} s; cleaning up and aborting",
                    limit.as_secs()
                );
                run_abort_hooks();
                std::process::exit(101);
            }
        });
        let t = Instant::now();
        let r = std::panic::catch_unwind(f);
        let _ = done_tx.send(());
        let _ = watchdog.join();
        // Let closed connections finish their last jobs before the next test.
        pump(Duration::from_millis(50));
        match r {
            Ok(()) => println!("test {name} ... ok ({:.1} s)", t.elapsed().as_secs_f64()),
            Err(_) => {
                println!(
                    "test {name} ... FAILED ({:.1} s)",
                    t.elapsed().as_secs_f64()
                );
                failed.push(*name);
            }
        }
    }
    println!(
        "\n{} passed; {} failed; {:.1} s",
        ran - failed.len(),
        failed.len(),
        suite.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        println!("failed: {failed:?}");
    }
    failed
}

/// Dispatches main-loop work for `d`.
pub fn pump(d: Duration) {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + d;
    while Instant::now() < end {
        while ctx.iteration(false) {}
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Iterates the main loop until `cond` holds; panics with `what` after `timeout`.
/// Returns how long it took.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let ctx = glib::MainContext::default();
    let start = Instant::now();
    loop {
        while ctx.iteration(false) {}
        if cond() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {} s waiting for: {what}",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs a future on the main context to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    glib::MainContext::default().block_on(f)
}
