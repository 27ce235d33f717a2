//! Shared helpers for the integration tests: a sequential runner (GLib's default main
//! context and libvirt's event loop belong to one thread, so tests run one after the
//! other on the main thread) and main-loop waiting.

#![allow(dead_code)]

pub mod daemon;

use std::time::{Duration, Instant};

use glib::prelude::*;
use vireo::model::{ConnectionObject, ConnectionState};

/// Runs `tests` in order on this thread; exits non-zero if any failed. An argument
/// filters by substring, like the standard harness.
pub fn run(tests: &[(&str, fn())]) {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    // RUST_LOG=vireo=debug shows the core's logs.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    vireo::model::init();
    let ctx = glib::MainContext::default();
    let _owner = ctx.acquire().expect("the default main context is free");
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, f) in tests {
        if filter
            .as_ref()
            .is_some_and(|flt| !name.contains(flt.as_str()))
        {
            continue;
        }
        ran += 1;
        let t = Instant::now();
        let r = std::panic::catch_unwind(f);
        // Let closed connections finish their last jobs before the next test.
        pump(Duration::from_millis(20));
        match r {
            Ok(()) => println!("test {name} ... ok ({:.2} s)", t.elapsed().as_secs_f64()),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    println!("\n{} passed; {} failed", ran - failed.len(), failed.len());
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(1);
    }
}

/// True in CI (`CI=true`), where tests must not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Dispatches main-loop work for `d`.
pub fn pump(d: Duration) {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + d;
    while Instant::now() < end {
        while ctx.iteration(false) {}
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Iterates the main loop until `cond` holds; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + timeout;
    loop {
        while ctx.iteration(false) {}
        if cond() {
            return;
        }
        assert!(Instant::now() < end, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs a future on the main context to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    glib::MainContext::default().block_on(f)
}

/// Opens `uri` and waits until it is connected.
pub fn connect(uri: &str) -> ConnectionObject {
    let c = ConnectionObject::new(uri);
    c.open();
    wait_until("connected", Duration::from_secs(60), || {
        assert_ne!(
            c.state(),
            ConnectionState::Failed,
            "open failed: {:?}",
            c.error()
        );
        c.state() == ConnectionState::Connected
    });
    c
}

/// A fresh directory under the target dir for node files.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let d = base.join(format!("vireo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Counts `notify::<prop>` emissions on `obj`.
pub fn count_notifies(
    obj: &impl IsA<glib::Object>,
    prop: &str,
) -> std::rc::Rc<std::cell::Cell<u32>> {
    let n = std::rc::Rc::new(std::cell::Cell::new(0));
    let n2 = n.clone();
    obj.connect_notify_local(Some(prop), move |_, _| n2.set(n2.get() + 1));
    n
}
