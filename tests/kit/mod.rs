//! Vireo's test kit: the one support module of the integration tests and benchmarks
//! (`mod kit;` at the top of a test binary; a bench takes it with
//! `#[path = "../tests/kit/mod.rs"] mod kit;`).
//!
//! | part | what it is for |
//! |---|---|
//! | [`runner`] | the runner of `harness = false` binaries: [`Runner`], [`test`] (`.limit`, `.french`, `.cairo`), watchdog, skip-or-fail, cleanup hooks |
//! | [`wait`] | the one main-loop pump and the one [`wait_until`]; [`block_on`], [`settle`]; the [`EVENT`] and [`BOOT`] limits |
//! | [`testbed`] | the guest, the private `qemu:///system` daemon, the embedded root, the unprivileged user, [`testbed::require`] |
//! | [`host`] | a host's pools and networks as tests make them: specs, this run's own bridge and subnet, clean-up |
//! | [`model`] | Vireo's model on a host: connect, define, start, remove a domain |
//! | [`console`] | a guest's serial console read by the test itself (ready line, a shell command's answer with `ask`, asked again until right with `ask_until`) |
//! | [`screen`] | screenshots (`target/screenshots/`), a widget to PNG, a domain's display through libvirt, the X screen, pixels, the guest's VGA bands |
//! | [`app`] | the application inside the test process (tier 3): [`app::TestApp`] from a command line or a first start, its actions, widgets found by type |
//! | [`binary`] | the real `vireo` binary from outside (tier 5): [`binary::App`] through AT-SPI, xdotool and screenshots |
//! | [`x11`] | real key presses, typing and pointer moves with `xdotool`, also into the in-process app's window |
//! | [`serial`] | the serial console widget's bed and flood check |
//! | [`vnc`] | x11vnc serving a known picture, pictures compared pixel by pixel |
//! | [`remote_host`] | a remote libvirt host on this machine (`tests/testbed/remote-host.sh`), reached over `qemu+ssh` |
//! | [`rfb`] | a minimal VNC client: handshake and one raw frame through any socket |
//! | [`wizard`] | the New Virtual Machine wizard found among the toplevels and driven by its titles and labels |
//! | [`details`] | a VM's Details page: sidebar entries, rows by title, entry rows applied, combo rows chosen from, the Add Hardware dialog, the lines a change made |
//! | [`vm_copies`] | snapshots and clones through the UI: the Snapshots page, Take Snapshot, a row's menu items and their questions |
//!
//! A test binary is a `[[test]]` with `harness = false` in Cargo.toml and a `main`:
//!
//! ```ignore
//! mod kit;
//! use kit::{test, wait_until, Runner, EVENT};
//!
//! fn main() {
//!     kit::testbed::require(&[kit::testbed::Need::Daemon]); // skip (fail in CI) if missing
//!     Runner::new()              // .gui() for GTK, .fresh_process() for one process a test
//!         .run(vec![
//!             test("lists_the_domains", lists_the_domains),
//!             test("boots_a_guest", boots_a_guest).limit(240),
//!         ]);
//! }
//!
//! fn lists_the_domains() {
//!     kit::testbed::daemon(); // started once per process, stopped by the runner
//!     let c = kit::model::connect(kit::testbed::SystemDaemon::TEST_URI);
//!     wait_until("the test domain", EVENT, || c.domains().len() == 1);
//! }
//! ```
//!
//! The rules the kit keeps: everything it does panics with what went wrong (a test
//! body may also return `Result<(), E>`); nothing it starts outlives the process (guards
//! and cleanup hooks, also on timeout and SIGINT/SIGTERM); a missing prerequisite skips
//! the whole binary with one loud line, and fails it with `CI=true`; screenshots go to
//! `target/screenshots/`. `tests/testbed/README.md` tells the test bed's story.

// Each binary uses a part of the kit.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod binary;
pub mod console;
pub mod details;
pub mod host;
pub mod model;
pub mod probe;
pub mod remote_host;
pub mod rfb;
pub mod runner;
pub mod screen;
pub mod serial;
pub mod testbed;
pub mod vm_copies;
pub mod vnc;
pub mod wait;
pub mod wizard;
pub mod x11;

pub use runner::{skip_or_fail, test, Runner};
pub use wait::{block_on, pump, settle, wait_until, BOOT, EVENT};
