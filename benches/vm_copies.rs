//! Prints the figures of issue 17 (never passes or fails on time), each through
//! Vireo's model on the private test daemon's `qemu:///system` with real QEMU (TCG):
//!
//! - snapshot create and revert times of the running test-bed guest (192 MiB) with
//!   its memory (internal qcow2 snapshots), over several rounds;
//! - clone time per GiB: a shut-off VM whose disk holds 1 GiB of random data, as raw
//!   and as qcow2, copied by the host (`virStorageVolCreateXMLFrom`);
//! - live migration time and downtime of the running guest to a remote test host
//!   (`tests/testbed/remote-host.sh`), when that script is here.
//!
//! Run (as root; the test bed starts its own daemon, so inside an isolate on a shared
//! machine): `cargo bench --bench vm_copies` (`-- --quick` for fewer rounds). The
//! figures come from libvirt and QEMU, not from Vireo's code, so a debug build gives
//! the same ones: `cargo bench --profile dev --bench vm_copies`.

#[path = "../tests/kit/mod.rs"]
mod kit;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kit::console::SerialConsole;
use kit::model::{connect, define, domain, remove, start};
use kit::testbed::{
    self, daemon, repo, run_ok, state_dir, Boot, Guest, Need, SystemDaemon, READY_LINE,
};
use kit::{block_on, wait_until, BOOT, EVENT};
use vireo::model::clones::CloneRequest;
use vireo::model::migration::MigrateRequest;
use vireo::model::snapshots::{plan_create, plan_revert, CreateRequest, RevertStart};
use vireo::model::{ConnectionObject, DomainObject};

fn stats(name: &str, unit: &str, v: &mut [f64]) {
    let rounds: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    println!(
        "{name}: median {median:.2} {unit}, min {:.2}, max {:.2} (rounds: {})",
        v[0],
        v[v.len() - 1],
        rounds.join(" ")
    );
}

fn work() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| testbed::temp_dir("vm-copies"))
}

fn snapshots(c: &ConnectionObject, dir: &Path, rounds: usize) {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&dir.join("vireo-test-bench-snap.qcow2"));
    let d = define(
        c,
        guest.domain_xml("vireo-test-bench-snap", Boot::Kernel, Some(&disk)),
    );
    start(c, &d);
    SerialConsole::of(c, &d).wait_lines(READY_LINE, 1, BOOT);
    let (mut create, mut revert) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let f = block_on(c.snapshot_facts(&d)).unwrap();
        let req = CreateRequest {
            name: format!("bench{i}"),
            description: String::new(),
            with_memory: true,
        };
        let plan = plan_create(&f.xml, &f.name, true, &req, &f.snapshots, f.support).unwrap();
        let t = Instant::now();
        let info = block_on(c.create_snapshot(&d, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
        create.push(t.elapsed().as_secs_f64());
        let f = block_on(c.snapshot_facts(&d)).unwrap();
        let plan = plan_revert(&info, true, false, RevertStart::AsTaken, f.support);
        let t = Instant::now();
        block_on(c.revert_snapshot(&d, &info.name, plan))
            .unwrap_or_else(|e| panic!("{}", e.text()));
        revert.push(t.elapsed().as_secs_f64());
    }
    stats(
        "snapshot with memory, create (incl. thumbnail)",
        "s",
        &mut create,
    );
    stats("snapshot with memory, revert", "s", &mut revert);
    remove(c, &d);
}

/// A shut-off VM whose disk is 1 GiB of random data in `format`.
fn gib_domain(c: &ConnectionObject, dir: &Path, format: &str) -> DomainObject {
    let guest = Guest::get().unwrap();
    let raw = dir.join("gib.raw");
    if !raw.exists() {
        run_ok(
            Command::new("dd")
                .args(["if=/dev/urandom", "bs=1M", "count=1024", "status=none"])
                .arg(format!("of={}", raw.display())),
        );
    }
    let name = format!("vireo-test-gib-{format}");
    let disk = dir.join(format!("{name}.{format}"));
    run_ok(
        Command::new("qemu-img")
            .args(["convert", "-f", "raw", "-O", format])
            .arg(&raw)
            .arg(&disk),
    );
    let xml = guest
        .domain_xml(&name, Boot::Kernel, Some(&disk))
        .replace("type='qcow2'", &format!("type='{format}'"));
    define(c, xml)
}

fn clones(c: &ConnectionObject, dir: &Path, rounds: usize) {
    for format in ["raw", "qcow2"] {
        let d = gib_domain(c, dir, format);
        let mut secs = Vec::new();
        for _ in 0..rounds {
            let plan = block_on(c.prepare_clone(&d)).unwrap();
            let name = plan.name.clone();
            // Cold page cache for the source, as after a VM ran a while ago.
            let _ = std::fs::write("/proc/sys/vm/drop_caches", "1");
            let t = Instant::now();
            let uuid = block_on(c.clone_domain(
                &d,
                plan,
                CloneRequest {
                    name,
                    disks: vec![],
                },
            ))
            .unwrap_or_else(|e| panic!("{}", e.text()));
            secs.push(t.elapsed().as_secs_f64());
            let clone = wait_until("the clone", EVENT, || c.domains().by_uuid(&uuid));
            let disk = block_on(c.deletable_storage(&clone)).unwrap();
            let _ = block_on(c.run_action(
                &clone,
                vireo::model::DomainAction::Delete {
                    remove_storage: disk.iter().map(|s| s.path.clone()).collect(),
                },
            ));
            wait_until("the clone gone", EVENT, || {
                c.domains().by_uuid(&uuid).is_none()
            });
        }
        stats(
            &format!("clone of a 1 GiB {format} disk (s per GiB)"),
            "s",
            &mut secs,
        );
        remove(c, &d);
    }
}

fn migrations(local: &ConnectionObject, rounds: usize) {
    let script = repo().join("tests/testbed/remote-host.sh");
    if !script.exists() {
        println!("live migration: skipped (no tests/testbed/remote-host.sh here)");
        return;
    }
    let root = state_dir().join("remote");
    let sh = |args: &[&str]| {
        run_ok(
            Command::new(&script)
                .env("VIREO_REMOTE_DIR", &root)
                .args(args),
        )
    };
    let down = root.clone();
    kit::runner::on_cleanup(move || {
        let _ = Command::new(repo().join("tests/testbed/remote-host.sh"))
            .env("VIREO_REMOTE_DIR", &down)
            .args(["down", "bench"])
            .output();
    });
    sh(&["up", "bench"]);
    let env = std::fs::read_to_string(root.join("bench/host.env")).unwrap();
    let uri = env
        .lines()
        .find_map(|l| l.strip_prefix("URI="))
        .unwrap()
        .trim_matches('\'')
        .to_owned();
    let remote = connect(&uri);
    let guest = Guest::get().unwrap();
    let (mut total, mut downtime, mut libvirt_total) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let name = format!("vireo-test-bench-mig{i}");
        // Disk-less: the figure is the guest's memory moving.
        let d = define(local, guest.domain_xml(&name, Boot::Kernel, None));
        start(local, &d);
        SerialConsole::of(local, &d).wait_lines(READY_LINE, 1, BOOT);
        let plan = block_on(local.prepare_migration(&d, &remote))
            .unwrap_or_else(|e| panic!("{}", e.text()));
        let t = Instant::now();
        let out = block_on(local.migrate(&d, &remote, plan, MigrateRequest::default()))
            .unwrap_or_else(|e| panic!("{}", e.text()));
        total.push(t.elapsed().as_secs_f64());
        downtime.push(out.downtime_ms.unwrap_or(0) as f64);
        libvirt_total.push(out.elapsed_ms.unwrap_or(0) as f64 / 1000.0);
        let there = wait_until("there", EVENT, || domain(&remote, &name));
        remove(&remote, &there);
    }
    stats(
        "live migration of the 192 MiB guest, as Vireo waits",
        "s",
        &mut total,
    );
    stats(
        "live migration, as libvirt measures it",
        "s",
        &mut libvirt_total,
    );
    stats("live migration downtime", "ms", &mut downtime);
    remote.close();
    sh(&["down", "bench"]);
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("vm_copies bench: run it with cargo bench (see its header)");
        return;
    }
    if let Some(why) = testbed::missing(&[Need::Daemon, Need::Guest]) {
        eprintln!("vm_copies bench: cannot run: {why}");
        std::process::exit(1);
    }
    let log = testbed::state_dir().join("bench-vm-copies-libvirt.log");
    std::env::set_var("LIBVIRT_LOG_OUTPUTS", format!("3:file:{}", log.display()));
    std::env::set_var("XDG_CACHE_HOME", work().join("cache"));
    vireo::model::init();
    let ctx = glib::MainContext::default();
    let _owner = ctx.acquire().expect("main context");
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 2 } else { 5 };
    daemon();
    let dir = work().to_owned();
    let c = connect(SystemDaemon::URI);
    snapshots(&c, &dir, rounds);
    clones(&c, &dir, if quick { 1 } else { 3 });
    migrations(&c, if quick { 1 } else { 3 });
    c.close();
    kit::runner::cleanup();
}
