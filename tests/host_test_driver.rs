//! The host model (facts, load, pools, volumes, networks) on libvirt's test driver:
//! what a host page reads and does, each change followed from libvirt's events, and
//! libvirt's own text where the driver refuses.

mod kit;

use gio::prelude::*;

use kit::host::{dir_pool, nat_network};
use kit::model::connect;
use kit::{block_on, test, wait_until, Runner, EVENT};
use vireo::model::host::{
    DiskFormat, ForwardMode, HostError, HostObject, PoolStateKind, PoolType, TransferState,
    VolumeSpec,
};
use vireo::model::ConnectionObject;

fn loaded_host() -> (ConnectionObject, HostObject) {
    let c = connect("test:///default");
    let host = c.host();
    block_on(host.load()).expect("the host reads");
    assert!(host.loaded());
    (c, host)
}

fn facts_pools_and_networks() {
    let (_c, host) = loaded_host();
    assert_eq!(host.libvirt_version(), "9.0.0");
    assert_eq!(host.driver(), "TEST");
    assert_eq!(host.cpus(), 16);
    assert_eq!(host.memory_kib(), 3_145_728);
    assert_eq!(host.arch(), "i686");
    assert!(!host.hostname().is_empty());
    assert_eq!(host.pool_names(), vec!["default-pool"]);
    let pool = host.pool("default-pool").unwrap();
    assert_eq!(pool.state(), PoolStateKind::Running);
    assert_eq!(pool.pool_type(), Some(PoolType::Dir));
    assert_eq!(pool.capacity(), 100 << 30);
    assert_eq!(pool.target_path().as_deref(), Some("/default-pool"));
    assert_eq!(host.network_names(), vec!["default"]);
    let net = host.network("default").unwrap();
    assert!(net.active());
    assert_eq!(net.mode(), ForwardMode::Nat);
    assert_eq!(net.ipv4().unwrap().network, "192.168.122.0/24");
    // The test driver's one domain is plugged into "default".
    assert_eq!(net.used_by(), vec!["test"]);
    // The test driver has no storage pool capabilities: every type is offered.
    let types = block_on(host.pool_types()).unwrap();
    assert_eq!(types.len(), PoolType::CREATABLE.len());
}

fn load_is_sampled_only_while_watched() {
    let (_c, host) = loaded_host();
    assert!(!host.is_sampling());
    let watch = host.watch_load();
    assert!(host.is_sampling());
    // The test driver has no memory stats: the free memory gives what is in use.
    wait_until("two load samples", EVENT, || {
        host.memory_history().len() >= 2
    });
    assert!(host.memory_used_kib() > 0);
    assert_eq!(host.memory_total_kib(), 3_145_728);
    drop(watch);
    assert!(!host.is_sampling());
    let n = host.memory_history().len();
    kit::pump(std::time::Duration::from_millis(2500));
    assert_eq!(host.memory_history().len(), n, "no samples without a watch");
}

fn dir_pool_lifecycle() {
    let (_c, host) = loaded_host();
    let pool = block_on(host.create_pool(dir_pool("vireo-test-pool", "/vireo-test-pool")))
        .expect("created");
    assert_eq!(pool.state(), PoolStateKind::Running);
    assert!(pool.autostart());
    assert!(host.pool("vireo-test-pool").is_some());

    block_on(pool.stop()).expect("stopped");
    wait_until("the pool stopped", EVENT, || {
        pool.state() == PoolStateKind::Inactive
    });
    block_on(pool.set_autostart(false)).unwrap();
    wait_until("autostart off", EVENT, || !pool.autostart());
    block_on(pool.start()).expect("started");
    wait_until("the pool running", EVENT, || pool.active());

    // A taken name is refused by libvirt with its own words.
    let err =
        block_on(host.create_pool(dir_pool("vireo-test-pool", "/vireo-test-pool"))).unwrap_err();
    assert!(matches!(err, HostError::Virt(_)), "{err:?}");
    assert!(err.to_string().contains("vireo-test-pool"), "{err}");

    let deleted = block_on(pool.delete(false)).expect("deleted");
    assert!(deleted.volumes.is_empty());
    wait_until("the pool gone", EVENT, || {
        host.pool("vireo-test-pool").is_none()
    });
}

fn volumes_and_what_the_driver_refuses() {
    let (_c, host) = loaded_host();
    let pool = host.pool("default-pool").unwrap();
    block_on(pool.load_volumes()).unwrap();
    assert!(pool.volumes_loaded());
    assert_eq!(pool.volumes().n_items(), 0);
    let vol = block_on(pool.create_volume(VolumeSpec {
        name: "disk1.img".into(),
        format: DiskFormat::Raw,
        capacity: 8 << 20,
        backing: None,
    }))
    .expect("volume created");
    assert_eq!(vol.capacity(), 8 << 20);
    assert_eq!(vol.path(), "/default-pool/disk1.img");
    assert_eq!(pool.volume_names(), vec!["disk1.img"]);
    // Sparse: nothing allocated until the guest writes.
    assert_eq!(vol.allocation(), 0);

    // The test driver cannot resize, upload or download: libvirt's words say so.
    let err = block_on(vol.resize(16 << 20, false)).unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
    let dir = kit::testbed::temp_dir("host-td");
    let file = dir.join("in.bin");
    std::fs::write(&file, vec![7u8; 1000]).unwrap();
    let t = vol.upload(file).expect("transfer started");
    wait_until("the upload ends", EVENT, || !t.is_running());
    assert_eq!(t.state(), TransferState::Failed);
    assert!(t.error().unwrap_or_default().contains("not supported"));
    let out = dir.join("out.bin");
    let t = vol.download(out.clone()).expect("transfer started");
    wait_until("the download ends", EVENT, || !t.is_running());
    assert_eq!(t.state(), TransferState::Failed);
    assert!(
        !out.exists() && !dir.join("out.bin.part").exists(),
        "no file left"
    );

    block_on(vol.delete()).expect("deleted");
    wait_until("the volume gone", EVENT, || pool.volumes().n_items() == 0);
}

fn nat_network_lifecycle() {
    let (_c, host) = loaded_host();
    let net = block_on(host.create_network(nat_network("vireo-test-nat", "vrt201", 201)))
        .expect("created");
    assert!(net.active());
    assert_eq!(net.bridge().as_deref(), Some("vrt201"));
    assert_eq!(net.ipv4().unwrap().dhcp.unwrap().0, "10.214.201.128");
    block_on(net.stop()).expect("stopped");
    wait_until("the network stopped", EVENT, || !net.active());
    block_on(net.set_autostart(true)).unwrap();
    wait_until("autostart on", EVENT, || net.autostart());
    block_on(net.start()).expect("started");
    wait_until("the network running", EVENT, || net.active());
    block_on(net.delete()).expect("deleted");
    wait_until("the network gone", EVENT, || {
        host.network("vireo-test-nat").is_none()
    });
}

/// Another client of the same driver changes a pool and a network: the model follows
/// from libvirt's events alone.
fn changes_by_another_client_arrive_by_events() {
    let (_c, host) = loaded_host();
    let other = virt::connect::Connect::open(Some("test:///default")).unwrap();
    let pool = host.pool("default-pool").unwrap();
    let p = other.lookup_storage_pool_by_name("default-pool").unwrap();
    p.destroy().unwrap();
    wait_until("the pool stopped by the other client", EVENT, || {
        !pool.active()
    });
    p.create(0).unwrap();
    wait_until("the pool started again", EVENT, || pool.active());

    let net = host.network("default").unwrap();
    let n = other.lookup_network_by_name("default").unwrap();
    n.destroy().unwrap();
    wait_until("the network stopped by the other client", EVENT, || {
        !net.active()
    });
    let xml = "<network><name>vireo-test-other</name><bridge name='vrt202'/>\
               <ip address='10.214.202.1' prefix='24'/></network>";
    let defined = other.define_network_xml(xml).unwrap();
    wait_until("the network defined elsewhere appears", EVENT, || {
        host.network("vireo-test-other")
    });
    defined.undefine().unwrap();
    wait_until("and goes", EVENT, || {
        host.network("vireo-test-other").is_none()
    });
}

fn closing_empties_and_reconnecting_reads_again() {
    let (c, host) = loaded_host();
    assert_eq!(host.pools().n_items(), 1);
    c.close();
    assert!(!host.loaded());
    assert_eq!(host.pools().n_items(), 0);
    c.open();
    wait_until("read again after reconnecting", EVENT, || {
        host.loaded() && host.pools().n_items() == 1
    });
}

fn domain_leases_need_a_driver_with_leases() {
    let (c, _host) = loaded_host();
    let d = kit::model::domain(&c, "test").unwrap();
    // The domain's network exists but the test driver keeps no leases: nothing, and
    // no error (a network without leases hands out nothing).
    assert_eq!(block_on(c.domain_leases(&d)).unwrap(), vec![]);
}

fn main() {
    Runner::new().fresh_process().run(vec![
        test("facts_pools_and_networks", facts_pools_and_networks),
        test(
            "load_is_sampled_only_while_watched",
            load_is_sampled_only_while_watched,
        ),
        test("dir_pool_lifecycle", dir_pool_lifecycle),
        test(
            "volumes_and_what_the_driver_refuses",
            volumes_and_what_the_driver_refuses,
        ),
        test("nat_network_lifecycle", nat_network_lifecycle),
        test(
            "changes_by_another_client_arrive_by_events",
            changes_by_another_client_arrive_by_events,
        ),
        test(
            "closing_empties_and_reconnecting_reads_again",
            closing_empties_and_reconnecting_reads_again,
        ),
        test(
            "domain_leases_need_a_driver_with_leases",
            domain_leases_need_a_driver_with_leases,
        ),
    ]);
}
