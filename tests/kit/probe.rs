//! The real `vireo` read through its diagnostics probe (`VIREO_PROBE`,
//! `src/ui/probe.rs`): on SIGUSR1 the app writes what its window shows (hosts, their
//! states and errors, the rows of each) to a JSON file. For tests and benchmarks that
//! follow hosts coming and going without reading the accessible tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::binary::App;
use super::testbed;
use super::wait::wait_until;

/// Launches `vireo ARGS` ([`App::launch`]) with its probe writing to a file of its own
/// (returned). No heartbeat: it would cost CPU.
pub fn launch(args: &[&str]) -> (App, PathBuf) {
    let report = testbed::temp_dir("probe").join("probe.json");
    let _ = std::fs::remove_file(&report);
    // The app inherits the test's environment.
    std::env::set_var("VIREO_PROBE", &report);
    std::env::set_var("VIREO_PROBE_BEAT_MS", "0");
    (App::launch(args), report)
}

/// A fresh report of the app's probe.
pub fn probe(app: &App, report: &Path) -> Value {
    let before = std::fs::read_to_string(report)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["report"].as_u64());
    let status = Command::new("kill")
        .args(["-USR1", &app.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    wait_until("the probe's report", Duration::from_secs(10), || {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(report).ok()?).ok()?;
        (v["report"].as_u64() != before).then_some(v)
    })
}

/// What each row of the first host says of its VM's state (its words, as the window
/// shows them).
pub fn shown_states(v: &Value) -> Vec<String> {
    first_host_rows(v, "shown")
}

/// The state of each row of the first host in virsh's words ("running", "shut off").
pub fn states(v: &Value) -> Vec<String> {
    first_host_rows(v, "state")
}

fn first_host_rows(v: &Value, field: &str) -> Vec<String> {
    v["hosts"][0]["rows"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|r| r[field].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// (state, error, row names) of the first host.
pub fn host_row(v: &Value) -> (String, String, Vec<String>) {
    let host = &v["hosts"][0];
    (
        host["state"].as_str().unwrap_or_default().to_owned(),
        host["error"].as_str().unwrap_or_default().to_owned(),
        first_host_rows(v, "name"),
    )
}
