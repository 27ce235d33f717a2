//! Soak and scale runs of the real `vireo` binary (issue 19). They print figures and
//! never pass or fail on time; a run fails only when the app crashes or its list
//! disagrees with libvirt.
//!
//! | run | what |
//! |---|---|
//! | `hosts` | 20 test-driver hosts of 500 VMs (half running) and two private daemons with a booted guest each, opened at once from the saved connections: time until all are listed, idle CPU at the default stats interval, peak and steady memory (RSS, PSS), the stats cost per tick; virt-manager beside it when installed (`tools/install-deps.sh bench`) |
//! | `storm` | a private daemon where VMs without disks are defined, started, destroyed and undefined at 100 events a second while the window shows them: the list against `virsh list --all` after each minute, main-loop stalls, memory each minute |
//! | `churn` | the private daemon killed and restarted again and again under an open window with a guest's console tab open: crashes, ghost or missing rows after each reconnection, reconnection time after the daemon answers, memory after each 10 |
//!
//! The app is measured from outside (`/proc`, its log's `ready` lines) and from inside
//! through its diagnostics probe (`VIREO_PROBE`, `src/ui/probe.rs`): the rows its list
//! view shows, main-loop stalls, stats cost.
//!
//! Run as root under Xvfb with a session bus, in a private mount and PID namespace on
//! a shared machine (`tools/soak/soak.sh` says how); `cargo bench --bench soak [-- RUN]`
//! runs the full lengths (10 minutes of storm, 100 restarts: about half an hour in
//! all), `-- --ci` the short ones (1 minute, 10 restarts; `tools/run-tests.sh`).
//! `SOAK_MINUTES`, `SOAK_RESTARTS`, `SOAK_IDLE_SECS` override the lengths.

#[path = "../../tests/kit/mod.rs"]
mod kit;

mod churn;
mod hosts;
mod measure;
mod storm;

use kit::testbed::Need;
use kit::{test, Runner};

/// True for the short runs of CI (`--ci`).
pub fn ci() -> bool {
    std::env::args().any(|a| a == "--ci")
}

/// A length from the environment, else the CI or the full one.
pub fn length(var: &str, ci_value: u64, full: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if ci() { ci_value } else { full })
}

fn main() {
    // `cargo test --all-targets` runs bench targets without `--bench`: nothing then.
    if !ci() && !std::env::args().any(|a| a == "--bench") {
        println!("soak: run it with `cargo bench --bench soak` (or `-- --ci` for the short runs)");
        return;
    }
    println!(
        "# vireo soak ({} build, {} runs)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        if ci() { "short" } else { "full" }
    );
    kit::testbed::require(&[Need::Daemon, Need::Guest]);
    kit::binary::require();
    // The storm and churn apps draw with cairo, as virt-manager (GTK 3) does, unless
    // GSK_RENDERER says otherwise: under Xvfb GTK's GL renderer is Mesa's software
    // llvmpipe, which spends ~60 ms a frame while a console tab animates and would
    // measure llvmpipe rather than Vireo (the hosts run measures both).
    if std::env::var_os("GSK_RENDERER").is_none() {
        std::env::set_var("GSK_RENDERER", "cairo");
    }
    println!(
        "renderer: {}",
        std::env::var("GSK_RENDERER").unwrap_or_default()
    );
    Runner::new().run(vec![
        test("churn", churn::run).limit(1800),
        test("storm", storm::run).limit(1800),
        test("hosts", hosts::run).limit(1800),
    ]);
}
