//! The model against libvirt's test driver: fill, every action and its event, list
//! consistency on define/undefine/rename, libvirt's error text, close and reopen.

mod kit;

use std::time::Duration;

use gio::prelude::*;

use kit::model::{act, connect};
use kit::testbed::temp_dir;
use kit::{block_on, test, wait_until, Runner};
use vireo::model::{ConnectionObject, ConnectionState, DomainAction, DomainObject, DomainState};
use vireo::virt::test_node::{domain_name, domain_uuid, write_node, NodeSpec};

const T: Duration = Duration::from_secs(10);

fn node(name: &str, spec: NodeSpec) -> String {
    write_node(&temp_dir(name), "node.xml", &spec).expect("node file")
}

fn dom(c: &ConnectionObject, i: usize) -> DomainObject {
    c.domains().by_uuid(&domain_uuid(i)).expect("domain listed")
}

fn wait_state(d: &DomainObject, s: DomainState) {
    wait_until(
        &format!("{} {:?} (is {:?})", d.name(), s, d.state()),
        T,
        || d.state() == s,
    );
}

fn fill_default() {
    let c = connect("test:///default");
    assert!(c.is_demo());
    assert_eq!(c.display_name(), "Test Host");
    let list = c.domains();
    assert_eq!(list.len(), 1);
    let d = list.snapshot().remove(0);
    assert_eq!(d.name(), "test");
    assert_eq!(d.state(), DomainState::Running);
    assert_eq!(d.vcpus(), 2);
    assert_eq!(d.max_memory_kib(), 8_388_608);
    assert_eq!(d.current_memory_kib(), 2_097_152);
    assert!(d.persistent());
    assert_eq!(d.connection().as_ref(), Some(&c));
    c.close();
    assert_eq!(c.state(), ConnectionState::Disconnected);
    assert_eq!(list.len(), 0);
}

fn every_action_produces_its_event() {
    let c = connect(&node(
        "actions",
        NodeSpec {
            domains: 4,
            ..Default::default()
        },
    ));
    let d0 = dom(&c, 0); // running
    let d1 = dom(&c, 1); // shut off
    assert_eq!(d0.state(), DomainState::Running);
    assert_eq!(d1.state(), DomainState::Shutoff);

    act(&c, &d0, DomainAction::Pause);
    wait_state(&d0, DomainState::Paused);
    assert_eq!(d0.state_description(), "Paused by the user");
    act(&c, &d0, DomainAction::Resume);
    wait_state(&d0, DomainState::Running);

    act(&c, &d0, DomainAction::Shutdown);
    wait_state(&d0, DomainState::Shutoff);
    assert_eq!(d0.state_description(), "");

    act(&c, &d0, DomainAction::Start);
    wait_state(&d0, DomainState::Running);
    assert_eq!(d0.state_description(), "");

    act(&c, &d0, DomainAction::Reboot);
    act(&c, &d0, DomainAction::Reset);
    pump_a_bit();
    assert_eq!(d0.state(), DomainState::Running);

    act(&c, &d0, DomainAction::ForceOff);
    wait_state(&d0, DomainState::Shutoff);
    assert_eq!(d0.state_description(), "Forced off");

    act(&c, &d1, DomainAction::Start);
    wait_state(&d1, DomainState::Running);
    act(&c, &d1, DomainAction::ManagedSave);
    wait_state(&d1, DomainState::Shutoff);
    wait_until("managed save flag", T, || d1.has_managed_save());
    assert_eq!(d1.state_description(), "Saved");
    // Start restores the managed save image.
    act(&c, &d1, DomainAction::Start);
    wait_state(&d1, DomainState::Running);
    wait_until("managed save consumed", T, || !d1.has_managed_save());

    assert!(!d1.autostart());
    act(&c, &d1, DomainAction::SetAutostart(true));
    wait_until("autostart on", T, || d1.autostart());
    act(&c, &d1, DomainAction::SetAutostart(false));
    wait_until("autostart off", T, || !d1.autostart());
    c.close();
}

/// Changes made on the connection without going through the model reach it only by
/// libvirt's events.
fn changes_behind_the_models_back_arrive_by_events() {
    let c = connect(&node(
        "events",
        NodeSpec {
            domains: 3,
            ..Default::default()
        },
    ));
    let d0 = dom(&c, 0);
    let d1 = dom(&c, 1);
    assert!(d0.last_event_instant().is_none());
    let raw = |name: &'static str,
               f: fn(&virt::domain::Domain) -> Result<(), virt::error::Error>| {
        block_on(c.with_connect(move |conn| {
            let d = conn.lookup_domain_by_name(name)?;
            f(&d)
        }))
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    };
    raw("vm0000", |d| d.suspend().map(|_| ()));
    wait_state(&d0, DomainState::Paused);
    assert!(d0.last_event_instant().is_some());
    raw("vm0000", |d| d.resume().map(|_| ()));
    wait_state(&d0, DomainState::Running);
    raw("vm0000", |d| d.destroy().map(|_| ()));
    wait_state(&d0, DomainState::Shutoff);
    raw("vm0001", |d| d.create().map(|_| ()));
    wait_state(&d1, DomainState::Running);
    raw("vm0001", |d| d.managed_save(0).map(|_| ()));
    wait_until("managed save seen", T, || {
        d1.state() == DomainState::Shutoff && d1.has_managed_save()
    });
    raw("vm0002", |d| d.set_autostart(true).map(|_| ()));
    // Autostart raises no event in libvirt: the model only learns it on a re-read.
    c.refresh_all();
    wait_until("autostart read", T, || dom(&c, 2).autostart());
    c.close();
}

fn pump_a_bit() {
    kit::pump(Duration::from_millis(50));
}

fn failing_call_gives_libvirts_message() {
    let c = connect(&node(
        "errors",
        NodeSpec {
            domains: 2,
            ..Default::default()
        },
    ));
    let running = dom(&c, 0);
    let err = block_on(c.run_action(&running, DomainAction::Start)).unwrap_err();
    assert!(err.contains("already running"), "unexpected message: {err}");
    let off = dom(&c, 1);
    let err = block_on(c.run_action(&off, DomainAction::Pause)).unwrap_err();
    assert!(err.contains("not running"), "unexpected message: {err}");
    // The model did not move.
    pump_a_bit();
    assert_eq!(running.state(), DomainState::Running);
    assert_eq!(off.state(), DomainState::Shutoff);
    c.close();
}

fn define_undefine_rename_keep_list_consistent() {
    let c = connect(&node(
        "define",
        NodeSpec {
            domains: 3,
            ..Default::default()
        },
    ));
    let list = c.domains();
    let added = std::rc::Rc::new(std::cell::Cell::new((0u32, 0u32)));
    let a2 = added.clone();
    list.connect_items_changed(move |_, _, removed, added| {
        let (r, a) = a2.get();
        a2.set((r + removed, a + added));
    });

    let xml =
        "<domain type='test'><name>fresh</name><uuid>11111111-2222-3333-4444-555555555555</uuid>\
               <memory>1048576</memory><vcpu>3</vcpu><os><type>hvm</type></os></domain>";
    block_on(c.with_connect(move |conn| conn.define_domain_xml(xml).map(|_| ())))
        .unwrap()
        .unwrap();
    let uuid = "11111111-2222-3333-4444-555555555555";
    wait_until("defined domain listed", T, || list.by_uuid(uuid).is_some());
    let d = list.by_uuid(uuid).unwrap();
    assert_eq!(
        (d.name().as_str(), d.vcpus(), d.state()),
        ("fresh", 3, DomainState::Shutoff)
    );
    assert_eq!(list.len(), 4);
    assert_eq!(added.get(), (0, 1), "one single insert");

    // Rename keeps the object (same UUID) and the list length.
    act(&c, &d, DomainAction::Rename("renamed".into()));
    wait_until("renamed", T, || d.name() == "renamed");
    assert_eq!(list.len(), 4);
    assert!(list.by_uuid(uuid).is_some_and(|o| o == d));

    // A second definition of the same UUID updates in place.
    let xml2 = xml
        .replace("<vcpu>3</vcpu>", "<vcpu>4</vcpu>")
        .replace("fresh", "renamed");
    block_on(c.with_connect(move |conn| conn.define_domain_xml(&xml2).map(|_| ())))
        .unwrap()
        .unwrap();
    wait_until("redefined", T, || d.vcpus() == 4);
    assert_eq!(list.len(), 4);

    act(
        &c,
        &d,
        DomainAction::Delete {
            remove_storage: vec![],
        },
    );
    wait_until("undefined domain removed", T, || {
        list.by_uuid(uuid).is_none()
    });
    assert_eq!(list.len(), 3);
    // Positions and the UUID index agree.
    for (i, o) in list.snapshot().iter().enumerate() {
        assert_eq!(list.position(&o.uuid()), Some(i as u32));
    }
    assert_eq!(added.get(), (1, 1));
    c.close();
}

fn delete_running_domain_and_its_volume() {
    let c = connect(&node(
        "delete",
        NodeSpec {
            domains: 2,
            volumes: true,
            ..Default::default()
        },
    ));
    let d0 = dom(&c, 0);
    let storage = block_on(c.deletable_storage(&d0)).unwrap();
    assert_eq!(storage.len(), 1, "{storage:?}");
    let s = &storage[0];
    let path = format!("/var/lib/libvirt/images/{}.qcow2", domain_name(0));
    assert_eq!(s.path, path);
    assert_eq!(s.target, "vda");
    assert_eq!(s.pool.as_deref(), Some("default"));
    assert_eq!(s.volume.as_deref(), Some("vm0000.qcow2"));
    assert_eq!(s.capacity, Some(1 << 30));

    act(
        &c,
        &d0,
        DomainAction::Delete {
            remove_storage: vec![path.clone()],
        },
    );
    wait_until("deleted", T, || {
        c.domains().by_uuid(&domain_uuid(0)).is_none()
    });
    let p2 = path.clone();
    let still =
        block_on(c.with_connect(move |conn| conn.lookup_storage_vol_by_path(&p2).is_ok())).unwrap();
    assert!(!still, "volume {path} should be gone");
    // The other domain's volume is untouched.
    let other = format!("/var/lib/libvirt/images/{}.qcow2", domain_name(1));
    let kept =
        block_on(c.with_connect(move |conn| conn.lookup_storage_vol_by_path(&other).is_ok()))
            .unwrap();
    assert!(kept);
    c.close();
}

fn close_and_reopen_has_no_duplicates() {
    let uri = node(
        "reopen",
        NodeSpec {
            domains: 50,
            ..Default::default()
        },
    );
    let c = connect(&uri);
    assert_eq!(c.domains().len(), 50);
    let first = dom(&c, 7);
    c.close();
    assert_eq!(c.domains().len(), 0);
    c.open();
    wait_until("reconnected", T, || c.state() == ConnectionState::Connected);
    assert_eq!(c.domains().len(), 50);
    // A reopen builds fresh objects; the old one is no longer listed.
    assert!(dom(&c, 7) != first);
    // A full re-read changes nothing.
    c.refresh_all();
    kit::pump(Duration::from_millis(200));
    assert_eq!(c.domains().len(), 50);
    c.close();
}

fn open_failure_is_reported() {
    let c = ConnectionObject::new("test:///nonexistent/dir/node.xml");
    c.open();
    assert_eq!(c.state(), ConnectionState::Connecting);
    wait_until("failed", T, || c.state() == ConnectionState::Failed);
    let e = c.error().unwrap();
    assert!(!e.is_empty());
    println!("  libvirt said: {e}");
}

fn big_fill_and_lazy_metadata() {
    let uri = node(
        "big",
        NodeSpec {
            domains: 5000,
            ..Default::default()
        },
    );
    let t = std::time::Instant::now();
    let c = connect(&uri);
    println!(
        "  5000 domains connected in {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let list = c.domains();
    assert_eq!(list.len(), 5000);
    let running = list
        .snapshot()
        .iter()
        .filter(|d| d.state() == DomainState::Running)
        .count();
    assert_eq!(running, 2500);
    let last = dom(&c, 4999);
    assert_eq!(last.name(), "vm4999");
    assert_eq!(last.vcpus(), 4);
    assert_eq!(last.max_memory_kib(), 4 * 1_048_576);
    wait_until("descriptions loaded", Duration::from_secs(30), || {
        last.description() == "Generated test guest 4999 (shut off)"
    });
    c.close();
}

/// The test driver reports only state in bulk stats; the tick still runs end to end:
/// running and paused domains get a sample each tick, shut-off ones none.
fn stats_tick_reaches_active_domains_only() {
    let c = connect(&node(
        "stats",
        NodeSpec {
            domains: 6,
            ..Default::default()
        },
    ));
    let ticks = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let t2 = ticks.clone();
    c.connect_local("stats-tick", false, move |_| {
        t2.set(t2.get() + 1);
        None
    });
    c.set_stats_fields(true, true, false, false);
    c.set_stats_interval(30);
    assert_eq!(c.stats_effective_interval(), 30);
    let (run, off) = (dom(&c, 0), dom(&c, 1));
    act(&c, &dom(&c, 2), DomainAction::Pause);
    wait_until("3 ticks", T, || ticks.get() >= 3);
    assert!(run.cpu_history().len() >= 2);
    assert!(
        dom(&c, 2).cpu_history().len() >= 2,
        "paused domains are active"
    );
    assert!(off.cpu_history().is_empty());
    act(&c, &run, DomainAction::ForceOff);
    wait_state(&run, DomainState::Shutoff);
    assert!(
        run.cpu_history().is_empty(),
        "a stopped domain's history is cleared"
    );
    // Restricted to some rows: only those (when active) are sampled; the others keep
    // their history as it was.
    let d4 = dom(&c, 4);
    let kept = d4.cpu_history().len();
    assert!(kept >= 2);
    c.set_stats_domains(Some(vec![domain_uuid(2), domain_uuid(1)]));
    let (n2, n) = (dom(&c, 2).cpu_history().len(), ticks.get());
    wait_until("3 restricted ticks", T, || ticks.get() >= n + 3);
    assert_eq!(d4.cpu_history().len(), kept, "not sampled, not cleared");
    assert!(dom(&c, 2).cpu_history().len() > n2);
    assert!(dom(&c, 1).cpu_history().is_empty(), "shut off");
    c.set_stats_domains(None);
    wait_until("d4 sampled again", T, || d4.cpu_history().len() > kept);
    c.set_stats_interval(0);
    assert_eq!(c.stats_effective_interval(), 0);
    let n = ticks.get();
    kit::pump(Duration::from_millis(150));
    assert!(ticks.get() <= n + 1, "no ticks after stopping");
    c.close();
}

/// Several connections at once: each keeps its own list and gets its own events;
/// two connections on the shared `test:///default` both see a change made by one.
fn several_connections_at_once() {
    let a = connect(&node(
        "multi-a",
        NodeSpec {
            domains: 5,
            ..Default::default()
        },
    ));
    let b = connect(&node(
        "multi-b",
        NodeSpec {
            domains: 8,
            ..Default::default()
        },
    ));
    let d1 = connect("test:///default");
    let d2 = connect("test:///default");
    assert_eq!((a.domains().len(), b.domains().len()), (5, 8));
    // Same UUIDs in a and b (same generator) but separate drivers and objects.
    let (a0, b0) = (dom(&a, 0), dom(&b, 0));
    assert!(a0 != b0);
    act(&a, &a0, DomainAction::Pause);
    wait_state(&a0, DomainState::Paused);
    kit::pump(Duration::from_millis(50));
    assert_eq!(
        b0.state(),
        DomainState::Running,
        "b's driver did not change"
    );

    let t1 = d1.domains().snapshot().remove(0);
    let t2 = d2.domains().snapshot().remove(0);
    act(&d1, &t1, DomainAction::Pause);
    wait_state(&t1, DomainState::Paused);
    wait_state(&t2, DomainState::Paused);
    act(&d2, &t2, DomainAction::Resume);
    wait_state(&t1, DomainState::Running);
    for c in [a, b, d1, d2] {
        c.close();
    }
}

/// Network and storage pool lifecycle events reach the connection's signals.
fn network_and_pool_events_are_signalled() {
    let c = connect(&node(
        "netpool",
        NodeSpec {
            domains: 1,
            ..Default::default()
        },
    ));
    let nets = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let pools = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let (n2, p2) = (nets.clone(), pools.clone());
    c.connect_local("network-changed", false, move |args| {
        n2.borrow_mut().push(args[1].get::<String>().unwrap());
        None
    });
    c.connect_local("storage-pool-changed", false, move |args| {
        p2.borrow_mut().push(args[1].get::<String>().unwrap());
        None
    });
    block_on(c.with_connect(|conn| {
        let net = conn.lookup_network_by_name("default")?;
        net.destroy()?;
        net.create()?;
        let pool = conn.lookup_storage_pool_by_name("default")?;
        pool.destroy()?;
        pool.create(0)
    }))
    .unwrap()
    .unwrap();
    wait_until("network events", T, || nets.borrow().len() >= 2);
    wait_until("pool events", T, || pools.borrow().len() >= 2);
    assert!(nets.borrow().iter().all(|n| n == "default"));
    assert!(pools.borrow().iter().all(|n| n == "default"));
    c.close();
}

fn main() {
    Runner::new().run(vec![
        test("fill_default", fill_default),
        test(
            "every_action_produces_its_event",
            every_action_produces_its_event,
        ),
        test(
            "changes_behind_the_models_back_arrive_by_events",
            changes_behind_the_models_back_arrive_by_events,
        ),
        test(
            "failing_call_gives_libvirts_message",
            failing_call_gives_libvirts_message,
        ),
        test(
            "define_undefine_rename_keep_list_consistent",
            define_undefine_rename_keep_list_consistent,
        ),
        test(
            "delete_running_domain_and_its_volume",
            delete_running_domain_and_its_volume,
        ),
        test(
            "close_and_reopen_has_no_duplicates",
            close_and_reopen_has_no_duplicates,
        ),
        test("open_failure_is_reported", open_failure_is_reported),
        test("several_connections_at_once", several_connections_at_once),
        test(
            "network_and_pool_events_are_signalled",
            network_and_pool_events_are_signalled,
        ),
        test(
            "stats_tick_reaches_active_domains_only",
            stats_tick_reaches_active_domains_only,
        ),
        test("big_fill_and_lazy_metadata", big_fill_and_lazy_metadata),
    ]);
}
