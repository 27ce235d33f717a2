//! Stats from a real QEMU guest through libvirt's embedded QEMU driver
//! (`qemu:///embed?root=DIR`, no daemon): the bulk stats call, the decoding of real
//! typed parameters and the CPU figures' definitions. The guest is a bare SeaBIOS
//! machine with a blank disk (TCG), enough to have counters. Skipped, loudly, without
//! QEMU.

mod kit;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use glib::prelude::*;
use kit::model::connect;
use kit::testbed::{embed_root, temp_dir, Need};
use kit::{block_on, test, wait_until, Runner};
use vireo::model::{DomainAction, DomainState};

fn real_guest_stats() {
    let dir = temp_dir("stats-disk");
    let disk = dir.join("disk.raw");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    // The process's embedded root (its QEMU capabilities come from the test bed's
    // cache: probing them takes tens of seconds on a busy machine).
    let uri = embed_root().uri();
    let t = std::time::Instant::now();
    let c = connect(&uri);
    println!(
        "  embedded driver open in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    c.set_stats_interval(250);
    // Leftovers of an interrupted run.
    let _ = block_on(c.with_connect(|conn| {
        if let Ok(d) = conn.lookup_domain_by_name("statvm") {
            let _ = d.destroy();
            let _ = d.undefine();
        }
    }));
    wait_until("clean", Duration::from_secs(10), || c.domains().is_empty());
    let xml = format!(
        "<domain type='qemu'><name>statvm</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><devices>\
         <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{}'/>\
         <target dev='vda' bus='virtio'/></disk><memballoon model='virtio'/></devices></domain>",
        disk.display()
    );
    block_on(c.with_connect(move |conn| conn.define_domain_xml(&xml).map(|_| ())))
        .unwrap()
        .unwrap();
    println!("  defined after {:.1} s", t.elapsed().as_secs_f64());
    wait_until("defined", Duration::from_secs(10), || {
        c.domains().len() == 1
    });
    let d = c.domains().snapshot().remove(0);
    assert_eq!(d.state(), DomainState::Shutoff);
    let ticks = Rc::new(Cell::new(0u32));
    let t2 = ticks.clone();
    d.connect_local("stats-updated", false, move |_| {
        t2.set(t2.get() + 1);
        None
    });

    block_on(c.run_action(&d, DomainAction::Start)).unwrap();
    println!("  started after {:.1} s", t.elapsed().as_secs_f64());
    wait_until("running", Duration::from_secs(30), || {
        d.state() == DomainState::Running
    });
    println!("  running after {:.1} s", t.elapsed().as_secs_f64());
    wait_until("4 stats ticks", Duration::from_secs(30), || {
        d.cpu_history().len() >= 4
    });
    assert!(ticks.get() >= 4);
    println!(
        "  cpu {:.2} % (host {:.2} %), memory {} KiB, disk r {:.0} B/s w {:.0} B/s",
        d.cpu_percent(),
        d.cpu_host_percent(),
        d.memory_used_kib(),
        d.disk_read_bps(),
        d.disk_write_bps()
    );
    println!("  cpu history {:?}", d.cpu_history());
    // No guest balloon driver: memory in use is what the balloon gives the guest.
    assert_eq!(d.memory_used_kib(), 65536);
    assert!(d
        .history(vireo::model::StatKind::Memory)
        .iter()
        .all(|m| *m == 65536.0));
    // TCG always burns some CPU; a first sample has no rate, later ones do.
    assert!(
        d.cpu_history().iter().skip(1).any(|v| *v > 0.0),
        "{:?}",
        d.cpu_history()
    );
    assert!((0.0..=100.0).contains(&d.cpu_percent()));
    // Guest-normalised vs host-relative: same busy time over 1 vCPU vs the host's CPUs.
    let host_cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let expected_host = d.cpu_percent() / host_cpus;
    assert!(
        (d.cpu_host_percent() - expected_host).abs() < 1e-6,
        "host {} vs {}",
        d.cpu_host_percent(),
        expected_host
    );

    println!("  ticks seen after {:.1} s", t.elapsed().as_secs_f64());
    block_on(c.run_action(&d, DomainAction::ForceOff)).unwrap();
    println!("  forced off after {:.1} s", t.elapsed().as_secs_f64());
    wait_until("off", Duration::from_secs(10), || {
        d.state() == DomainState::Shutoff
    });
    assert_eq!(d.cpu_percent(), 0.0);
    assert!(d.cpu_history().is_empty());
    block_on(c.run_action(
        &d,
        DomainAction::Delete {
            remove_storage: vec![],
        },
    ))
    .unwrap();
    wait_until("deleted", Duration::from_secs(10), || {
        c.domains().is_empty()
    });
    println!("  deleted after {:.1} s", t.elapsed().as_secs_f64());
    c.close();
}

fn main() {
    kit::testbed::require(&[Need::Qemu]);
    Runner::new().run(vec![test("real_guest_stats", real_guest_stats)]);
}
