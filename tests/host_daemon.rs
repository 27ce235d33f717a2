//! The host model on the private daemon's `qemu:///system` (real storage driver, real
//! network driver with dnsmasq): a dir pool and its volumes (create, resize, upload and
//! download compared byte for byte, cancel, delete), `virsh` in another process changing
//! a pool and a network under the model, and a NAT network that gives the test guest an
//! address, seen in the network's leases and in the domain's.
//!
//! Networks get a bridge name and subnet of this run's own (the daemon shares the
//! machine's network namespace) and are removed at clean-up whatever happens.

mod kit;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kit::console::SerialConsole;
use kit::host::{dir_pool, guest_on_network, remove_at_cleanup, unique_nat_network, wait_guest_ip};
use kit::model::{connect, define, start};
use kit::testbed::{self, daemon, virsh, Boot, Guest, Need, SystemDaemon};
use kit::{block_on, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::host::{DiskFormat, HostObject, PoolObject, TransferState, VolumeSpec};
use vireo::model::ConnectionObject;

const URI: &str = SystemDaemon::URI;

fn work_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| testbed::temp_dir("host")).clone()
}

fn open() -> (ConnectionObject, HostObject) {
    daemon();
    let c = connect(URI);
    let host = c.host();
    block_on(host.load()).expect("the host reads");
    (c, host)
}

/// A fresh dir pool `name` in the work directory, removed at clean-up.
fn make_pool(host: &HostObject, name: &str) -> PoolObject {
    remove_at_cleanup(URI, &[], &[name]);
    let target = work_dir().join(name);
    let pool = block_on(host.create_pool(dir_pool(name, target.to_str().unwrap())))
        .unwrap_or_else(|e| panic!("creating pool {name}: {e}"));
    assert!(target.is_dir(), "the pool's directory was built");
    block_on(pool.load_volumes()).unwrap();
    pool
}

fn random_file(path: &Path, len: usize) -> Vec<u8> {
    // A cheap pseudo-random pattern (xorshift): every byte position differs.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(path, &data).unwrap();
    data
}

fn pool_and_volume_round_trip() {
    let (c, host) = open();
    let pool = make_pool(&host, "vireo-test-pool-a");
    assert!(pool.active() && pool.autostart());
    assert!(pool.capacity() > 0, "a real file system's size");

    let vol = block_on(pool.create_volume(VolumeSpec {
        name: "data.img".into(),
        format: DiskFormat::Raw,
        capacity: 4 << 20,
        backing: None,
    }))
    .expect("raw volume");
    block_on(vol.resize(8 << 20, false)).expect("grown");
    wait_until("the new size", EVENT, || vol.capacity() == 8 << 20);

    let src = work_dir().join("upload.bin");
    let data = random_file(&src, 6 << 20);
    let up = vol.upload(src).unwrap();
    wait_until("the upload ends", EVENT, || !up.is_running());
    assert_eq!(up.state(), TransferState::Finished, "{:?}", up.error());
    assert_eq!(up.done(), 6 << 20);
    assert_eq!(up.fraction(), 1.0);

    let dst = work_dir().join("download.bin");
    let down = vol.download(dst.clone()).unwrap();
    wait_until("the download ends", EVENT, || !down.is_running());
    assert_eq!(down.state(), TransferState::Finished, "{:?}", down.error());
    let got = std::fs::read(&dst).unwrap();
    assert_eq!(got.len(), 8 << 20, "the whole volume");
    assert!(
        got[..data.len()] == data[..],
        "uploaded bytes come back unchanged"
    );
    assert!(
        got[data.len()..].iter().all(|b| *b == 0),
        "the rest stays zero"
    );

    // A qcow2 overlay on it, used by a (defined, never started) domain.
    let (path, format, capacity) = vol.as_backing().expect("a raw volume can back an overlay");
    let overlay = block_on(pool.create_volume(VolumeSpec {
        name: "overlay.qcow2".into(),
        format: DiskFormat::Qcow2,
        capacity,
        backing: Some((path, format, capacity)),
    }))
    .expect("qcow2 overlay");
    assert_eq!(overlay.format().as_deref(), Some("qcow2"));
    assert_eq!(overlay.backing_path().as_deref(), Some(vol.path().as_str()));
    let guest = Guest::get().unwrap();
    let xml = guest
        .domain_xml(
            "vireo-test-user",
            Boot::Kernel,
            Some(Path::new(&overlay.path())),
        )
        .replace(
            "<source file=",
            "<driver name='qemu' type='qcow2'/><source file=",
        );
    let _d = define(&c, xml);
    wait_until("the overlay and its backing volume used", EVENT, || {
        overlay.used_by() == vec!["vireo-test-user"] && vol.used_by() == vec!["vireo-test-user"]
    });

    block_on(overlay.delete()).expect("overlay deleted");
    wait_until("the overlay gone", EVENT, || {
        pool.volume("overlay.qcow2").is_none()
    });
    let deleted = block_on(pool.delete(true)).expect("pool and volumes deleted");
    assert_eq!(deleted.volumes, vec!["data.img"]);
    assert!(!work_dir().join("vireo-test-pool-a/data.img").exists());
    wait_until("the pool gone", EVENT, || {
        host.pool("vireo-test-pool-a").is_none()
    });
}

fn transfers_cancel() {
    let (_c, host) = open();
    let pool = make_pool(&host, "vireo-test-pool-b");
    let vol = block_on(pool.create_volume(VolumeSpec {
        name: "big.img".into(),
        format: DiskFormat::Raw,
        capacity: 256 << 20,
        backing: None,
    }))
    .unwrap();
    let src = work_dir().join("big.bin");
    std::fs::write(&src, vec![0x5au8; 256 << 20]).unwrap();
    let up = vol.upload(src).unwrap();
    wait_until("the upload under way", EVENT, || {
        up.done() > 0 || !up.is_running()
    });
    up.cancel();
    wait_until("the upload stops", EVENT, || !up.is_running());
    assert_eq!(up.state(), TransferState::Cancelled);
    assert!(up.done() < 256 << 20);

    // A download cancelled leaves the file that was there untouched.
    let dst = work_dir().join("keep.bin");
    std::fs::write(&dst, b"mine").unwrap();
    let down = vol.download(dst.clone()).unwrap();
    wait_until("the download under way", EVENT, || {
        down.done() > 0 || !down.is_running()
    });
    down.cancel();
    wait_until("the download stops", EVENT, || !down.is_running());
    assert_eq!(down.state(), TransferState::Cancelled);
    assert_eq!(std::fs::read(&dst).unwrap(), b"mine");
    assert!(!work_dir().join("keep.bin.part").exists());
    block_on(pool.delete(true)).unwrap();
}

fn virsh_changes_arrive_by_events() {
    let (_c, host) = open();
    let pool = make_pool(&host, "vireo-test-pool-c");
    virsh(URI, &["pool-destroy", "vireo-test-pool-c"]);
    wait_until("the pool stopped by virsh", EVENT, || !pool.active());
    virsh(URI, &["pool-start", "vireo-test-pool-c"]);
    wait_until("the pool started by virsh", EVENT, || pool.active());
    block_on(pool.load_volumes()).unwrap();
    // A file dropped into the pool's directory shows once virsh refreshes the pool.
    std::fs::write(work_dir().join("vireo-test-pool-c/dropped.iso"), b"iso").unwrap();
    virsh(URI, &["pool-refresh", "vireo-test-pool-c"]);
    wait_until("the refreshed pool's new volume", EVENT, || {
        pool.volume("dropped.iso")
    });

    let spec = unique_nat_network("vireo-test-net-c");
    remove_at_cleanup(URI, &["vireo-test-net-c"], &[]);
    let net = block_on(host.create_network(spec)).expect("network created");
    assert!(net.active());
    virsh(URI, &["net-destroy", "vireo-test-net-c"]);
    wait_until("the network stopped by virsh", EVENT, || !net.active());
    virsh(URI, &["net-start", "vireo-test-net-c"]);
    wait_until("the network started by virsh", EVENT, || net.active());
    virsh(URI, &["net-destroy", "vireo-test-net-c"]);
    virsh(URI, &["net-undefine", "vireo-test-net-c"]);
    wait_until("the network removed by virsh", EVENT, || {
        host.network("vireo-test-net-c").is_none()
    });
    block_on(pool.delete(true)).unwrap();
}

fn nat_network_gives_the_guest_an_address() {
    let guest = Guest::get().unwrap();
    let (c, host) = open();
    let spec = unique_nat_network("vireo-test-nat");
    let subnet = spec.ipv4.as_ref().unwrap().network.clone();
    remove_at_cleanup(URI, &["vireo-test-nat"], &[]);
    let net = block_on(host.create_network(spec)).expect("NAT network started");

    let mac = "52:54:00:21:40:01";
    let d = define(
        &c,
        guest_on_network(guest, "vireo-test-dhcp", "vireo-test-nat", mac),
    );
    wait_until("the network's user", EVENT, || {
        net.used_by() == vec!["vireo-test-dhcp"]
    });
    start(&c, &d);
    let console = SerialConsole::of(&c, &d);
    console.wait_lines(testbed::READY_LINE, 1, BOOT);
    let ip = wait_guest_ip(&console);
    let prefix = subnet.trim_end_matches("0/24");
    assert!(ip.starts_with(prefix), "{ip} is not in {subnet}");

    let leases = wait_until("the lease in the network's list", EVENT, || {
        let l = block_on(net.leases()).ok()?;
        l.iter().any(|l| l.mac == mac).then_some(l)
    });
    let lease = leases.iter().find(|l| l.mac == mac).unwrap();
    assert_eq!(lease.address, format!("{ip}/24"));
    assert_eq!(lease.hostname.as_deref(), Some("vireo-guest"));
    assert_eq!(
        lease.domain,
        Some((d.uuid().to_string(), "vireo-test-dhcp".to_owned()))
    );
    let mine = block_on(c.domain_leases(&d)).expect("the domain's leases");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].address, format!("{ip}/24"));

    kit::model::remove(&c, &d);
    block_on(net.delete()).expect("network removed");
    wait_until("the network gone", EVENT, || {
        host.network("vireo-test-nat").is_none()
    });
}

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    Runner::new().run(vec![
        test("pool_and_volume_round_trip", pool_and_volume_round_trip),
        test("transfers_cancel", transfers_cancel),
        test(
            "virsh_changes_arrive_by_events",
            virsh_changes_arrive_by_events,
        ),
        test(
            "nat_network_gives_the_guest_an_address",
            nat_network_gives_the_guest_an_address,
        )
        .limit(300),
    ]);
}
