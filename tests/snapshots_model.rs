//! Snapshots through Vireo's model on libvirt's test driver (quick, no QEMU): the
//! operation a VM shows while one runs and the refusal of a second one, the tree,
//! the thumbnail of a snapshot with memory, a description edit that keeps the
//! current snapshot current, revert, and delete with children.

mod kit;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use glib::prelude::*;
use kit::model::connect;
use kit::{block_on, test, Runner};
use vireo::model::snapshots::{
    plan_create, plan_delete, plan_revert, snapshot_thumbnail, AfterRevert, CreateRequest,
    Location, RevertStart,
};
use vireo::model::{ConnectionObject, DomainObject, OperationError};

fn main() {
    // Thumbnails go to a cache of the test's own (before GLib reads the variable).
    std::env::set_var("XDG_CACHE_HOME", kit::testbed::temp_dir("cache"));
    Runner::new().fresh_process().run(vec![
        test(
            "operation_shown_and_second_refused",
            operation_shown_and_second_refused,
        ),
        test(
            "tree_description_revert_delete",
            tree_description_revert_delete,
        ),
    ]);
}

fn the_vm() -> (ConnectionObject, DomainObject) {
    let c = connect("test:///default");
    let d = c.domains().snapshot().remove(0);
    (c, d)
}

fn plan(c: &ConnectionObject, d: &DomainObject, name: &str) -> vireo::model::snapshots::CreatePlan {
    let f = block_on(c.snapshot_facts(d)).expect("facts");
    let req = CreateRequest {
        name: name.into(),
        description: String::new(),
        with_memory: true,
    };
    plan_create(&f.xml, &f.name, f.active, &req, &f.snapshots, f.support).expect("plan")
}

fn operation_shown_and_second_refused() {
    let (c, d) = the_vm();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let second = Rc::new(RefCell::new(None));
    let p2 = RefCell::new(Some(plan(&c, &d, "two")));
    let (s, c2, out) = (seen.clone(), c.clone(), second.clone());
    d.connect_notify_local(Some("operation"), move |d, _| {
        s.borrow_mut().push(
            d.operation()
                .map(|o| (o.title(), o.running(), o.cancellable())),
        );
        // A second snapshot asked for while the first one runs.
        if let Some(p2) = p2.borrow_mut().take() {
            let (c2, d2, out) = (c2.clone(), d.clone(), out.clone());
            glib::MainContext::default().spawn_local(async move {
                *out.borrow_mut() = Some(c2.create_snapshot(&d2, p2).await);
            });
        }
    });
    let info = block_on(c.create_snapshot(&d, plan(&c, &d, "one"))).expect("the first one");
    assert_eq!(info.name, "one");
    kit::wait_until("the second one's answer", Duration::from_secs(5), || {
        second.borrow().is_some()
    });
    assert_eq!(
        second.borrow_mut().take().unwrap().unwrap_err(),
        OperationError::Busy
    );
    let seen = seen.borrow();
    assert_eq!(
        seen.first(),
        Some(&Some((
            "Taking snapshot “one” of test".to_owned(),
            true,
            false
        )))
    );
    assert_eq!(seen.last(), Some(&None), "gone once finished");
    assert!(d.operation().is_none());
}

fn tree_description_revert_delete() {
    let (c, d) = the_vm();
    let changed = Rc::new(std::cell::Cell::new(0));
    let n = changed.clone();
    d.connect_snapshots_changed(move |_| n.set(n.get() + 1));
    for name in ["a", "b", "c"] {
        let p = plan(&c, &d, name);
        // The test driver is not QEMU: it decides for itself, so plans stay plain.
        assert_eq!(p.location, Location::Internal);
        block_on(c.create_snapshot(&d, p)).expect("created");
    }
    assert_eq!(changed.get(), 3);
    let list = block_on(c.snapshots(&d)).unwrap();
    let shape: Vec<(&str, usize, bool)> = list
        .iter()
        .map(|e| (e.info.name.as_str(), e.depth, e.info.is_current))
        .collect();
    assert_eq!(
        shape,
        vec![("a", 0, false), ("b", 1, false), ("c", 2, true)]
    );
    assert!(
        snapshot_thumbnail(&d, "c").is_some(),
        "a running VM's snapshot with memory gets a picture"
    );

    block_on(c.set_snapshot_description(&d, "c", "third & last")).unwrap();
    let list = block_on(c.snapshots(&d)).unwrap();
    assert_eq!(list[2].info.description, "third & last");
    assert!(list[2].info.is_current, "the edit keeps it current");

    let f = block_on(c.snapshot_facts(&d)).unwrap();
    let a = f.snapshots.iter().find(|s| s.name == "a").unwrap();
    let p = plan_revert(a, true, false, RevertStart::AsTaken, f.support);
    assert_eq!(p.after, AfterRevert::Running);
    block_on(c.revert_snapshot(&d, "a", p)).expect("reverted");
    let list = block_on(c.snapshots(&d)).unwrap();
    assert!(list[0].info.is_current);

    let f = block_on(c.snapshot_facts(&d)).unwrap();
    let p = plan_delete(&f.snapshots, "b", true, &f.xml).unwrap();
    assert_eq!(p.names(), vec!["b", "c"]);
    block_on(c.delete_snapshots(&d, p)).expect("deleted");
    let list = block_on(c.snapshots(&d)).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        snapshot_thumbnail(&d, "c"),
        None,
        "its picture went with it"
    );
}
