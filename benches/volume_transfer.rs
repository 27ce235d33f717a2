//! Volume transfer benchmark: a 1 GiB volume uploaded from a file and downloaded to a
//! file through libvirt's stream, by Vireo (its model's `Transfer`: a thread of its
//! own, 256 KiB chunks, progress on the main loop) and by `virsh vol-upload` /
//! `vol-download` in the same sitting, on the private daemon's `qemu:///system`.
//!
//! Prints, per run and as medians: MB/s, the client's CPU seconds (Vireo's process or
//! virsh's) and libvirtd's CPU seconds. Runs alternate Vireo and virsh so that the
//! machine's noise falls on both. The uploaded bytes are checked against the download.
//! One upload before the runs, not counted, allocates the new volume's blocks.
//!
//! Run: `tools/bench-volume-transfer.sh [ROUNDS]` (= `cargo bench --bench
//! volume_transfer`). Figures, not pass/fail. Needs root and libvirtd.

#[path = "../tests/kit/mod.rs"]
mod kit;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kit::host::{dir_pool, remove_at_cleanup};
use kit::model::connect;
use kit::testbed::{self, daemon, SystemDaemon};
use kit::{block_on, wait_until};
use vireo::model::host::{DiskFormat, TransferState, VolumeObject, VolumeSpec};

const SIZE: u64 = 1 << 30;
const POOL: &str = "vireo-test-bench-pool";
const VOLUME: &str = "bench.img";

/// Whose CPU time a run counts.
#[derive(Debug, Clone, Copy)]
enum Client {
    /// This process (Vireo's model and its transfer thread).
    Itself,
    /// This process's waited-for children (virsh).
    Children,
}

/// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux), read
/// once: a `getconf` run later would count as a waited-for child in virsh's figures.
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// User + system CPU seconds of a process from /proc/PID/stat, its own (fields 14 and
/// 15) or its waited-for children's (16 and 17).
fn cpu_seconds(pid: &str, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after it start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let first = if children { 13 } else { 11 };
    (fields.get(first).copied().unwrap_or(0.0) + fields.get(first + 1).copied().unwrap_or(0.0))
        / clock_ticks()
}

fn client_cpu_seconds(client: Client) -> f64 {
    cpu_seconds("self", matches!(client, Client::Children))
}

/// libvirtd's CPU seconds so far (from the daemon's pid file and /proc).
fn daemon_cpu_seconds() -> f64 {
    let pid = std::fs::read_to_string(testbed::state_dir().join("daemon/libvirtd.pid.daemon"))
        .unwrap_or_default();
    cpu_seconds(pid.trim(), false)
}

/// One measured transfer.
#[derive(Debug, Clone, Copy)]
struct Run {
    secs: f64,
    client_cpu: f64,
    daemon_cpu: f64,
}

impl Run {
    fn mb_per_s(&self) -> f64 {
        SIZE as f64 / 1e6 / self.secs
    }
}

fn measure(client: Client, f: impl FnOnce()) -> Run {
    let (c0, d0, t0) = (
        client_cpu_seconds(client),
        daemon_cpu_seconds(),
        Instant::now(),
    );
    f();
    Run {
        secs: t0.elapsed().as_secs_f64(),
        client_cpu: client_cpu_seconds(client) - c0,
        daemon_cpu: daemon_cpu_seconds() - d0,
    }
}

fn vireo_transfer(volume: &VolumeObject, upload: bool, file: &Path) -> Run {
    measure(Client::Itself, || {
        let t = if upload {
            volume.upload(file.to_owned())
        } else {
            volume.download(file.to_owned())
        }
        .expect("transfer started");
        wait_until(
            "the transfer ends",
            std::time::Duration::from_secs(600),
            || !t.is_running(),
        );
        assert_eq!(t.state(), TransferState::Finished, "{:?}", t.error());
        assert_eq!(t.done(), SIZE);
    })
}

fn virsh_transfer(upload: bool, file: &Path) -> Run {
    measure(Client::Children, || {
        let verb = if upload { "vol-upload" } else { "vol-download" };
        let status = Command::new("virsh")
            .args(["-q", "-c", SystemDaemon::URI, verb, VOLUME])
            .arg(file)
            .args(["--pool", POOL])
            .status()
            .expect("virsh");
        assert!(status.success(), "virsh {verb} failed");
    })
}

fn random_file(path: &Path) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..(SIZE >> 20) {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        out.write_all(&buf).unwrap();
    }
    out.flush().unwrap();
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        let m = fb.read(&mut bb).unwrap();
        if n != m || ba[..n] != bb[..m] {
            return false;
        }
        if n == 0 {
            return true;
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn row(what: &str, runs: &[Run]) {
    println!(
        "{what:<24} {:>8.0} MB/s   client CPU {:>5.2} s   libvirtd CPU {:>5.2} s   ({} runs: {})",
        median(runs.iter().map(Run::mb_per_s).collect()),
        median(runs.iter().map(|r| r.client_cpu).collect()),
        median(runs.iter().map(|r| r.daemon_cpu).collect()),
        runs.len(),
        runs.iter()
            .map(|r| format!("{:.0}", r.mb_per_s()))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("volume_transfer bench: run it with `tools/bench-volume-transfer.sh`");
        return;
    }
    if let Some(why) = testbed::missing(&[testbed::Need::Daemon]) {
        eprintln!("volume transfer bench: cannot run: {why}");
        std::process::exit(1);
    }
    let rounds: usize = args
        .iter()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(3);
    clock_ticks();
    vireo::model::init();
    let ctx = glib::MainContext::default();
    let _owner = ctx.acquire().expect("main context");
    daemon();
    remove_at_cleanup(SystemDaemon::URI, &[], &[POOL]);
    let dir: PathBuf = testbed::temp_dir("bench-transfer");
    let c = connect(SystemDaemon::URI);
    let host = c.host();
    block_on(host.load()).expect("host");
    let pool = block_on(host.create_pool(dir_pool(POOL, dir.join("pool").to_str().unwrap())))
        .expect("pool");
    block_on(pool.load_volumes()).unwrap();
    let volume = block_on(pool.create_volume(VolumeSpec {
        name: VOLUME.into(),
        format: DiskFormat::Raw,
        capacity: SIZE,
        backing: None,
    }))
    .expect("volume");
    let src = dir.join("source.bin");
    let t = Instant::now();
    random_file(&src);
    println!(
        "1 GiB source file written in {:.1} s; {rounds} rounds",
        t.elapsed().as_secs_f64()
    );
    let down = dir.join("download.bin");
    // One upload not counted: the new volume is a sparse file, and whoever wrote it
    // first paid for allocating its blocks (round 1's first upload ran 5 to 8 times
    // slower than the others).
    virsh_transfer(true, &src);

    let (mut vu, mut vd, mut su, mut sd) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        // Alternate who goes first.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for vireo in order {
            let _ = std::fs::remove_file(&down);
            if vireo {
                vu.push(vireo_transfer(&volume, true, &src));
                vd.push(vireo_transfer(&volume, false, &down));
            } else {
                su.push(virsh_transfer(true, &src));
                sd.push(virsh_transfer(false, &down));
            }
            assert!(
                same_bytes(&src, &down),
                "the download differs from the upload"
            );
        }
        println!(
            "round {}: upload Vireo {:.0} / virsh {:.0} MB/s, download Vireo {:.0} / virsh {:.0} MB/s",
            round + 1,
            vu[round].mb_per_s(),
            su[round].mb_per_s(),
            vd[round].mb_per_s(),
            sd[round].mb_per_s()
        );
    }
    println!();
    println!("1 GiB raw volume over qemu:///system (private libvirtd), medians:");
    row("upload, Vireo", &vu);
    row("upload, virsh", &su);
    row("download, Vireo", &vd);
    row("download, virsh", &sd);
    let _ = block_on(pool.delete(true));
    drop(c);
    kit::runner::cleanup();
}
