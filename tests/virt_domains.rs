//! The GTK-free layer on its own: the constant-call fill agrees with per-domain reads,
//! actions return libvirt's words, and the disk listing finds pool volumes.

use std::sync::Arc;

use vireo::virt::actions::{self, Action};
use vireo::virt::connection::Session;
use vireo::virt::domains::{list_all, read_metadata_batch, read_one, RunState};
use vireo::virt::events::EventSink;
use vireo::virt::test_node::{domain_uuid, write_node, NodeSpec};

fn open(name: &str, spec: NodeSpec) -> Session {
    vireo::virt::init();
    let dir = std::env::temp_dir().join(format!("vireo-virt-{}-{name}", std::process::id()));
    let uri = write_node(&dir, "node.xml", &spec).unwrap();
    let sink: EventSink = Arc::new(|_| {});
    let no_auth = |_: Vec<vireo::virt::auth::AuthPrompt>| None;
    Session::open(&uri, &no_auth, sink).expect("open")
}

#[test]
fn bulk_fill_matches_per_domain_reads() {
    let mut s = open(
        "fill",
        NodeSpec {
            domains: 40,
            running_every: 3,
            ..Default::default()
        },
    );
    // Make the flag sets interesting: autostart on one, managed save on another.
    actions::run(s.conn(), &domain_uuid(1), &Action::SetAutostart(true)).unwrap();
    actions::run(s.conn(), &domain_uuid(3), &Action::ManagedSave).unwrap();
    let all = list_all(&mut s).unwrap();
    assert_eq!(all.len(), 40);
    for rec in &all {
        let mut one = read_one(s.conn(), &rec.uuid).unwrap().expect("exists");
        // The fill leaves title and description for later.
        assert_eq!(
            (rec.title.as_deref(), rec.description.as_deref()),
            (None, None)
        );
        one.title = None;
        one.description = None;
        assert_eq!(rec, &one, "bulk and per-domain reads differ");
    }
    let by = |i: usize| all.iter().find(|r| r.uuid == domain_uuid(i)).unwrap();
    assert_eq!(by(0).state, RunState::Running);
    assert_eq!(by(1).state, RunState::Shutoff);
    assert!(by(1).autostart && !by(2).autostart);
    assert!(by(3).has_managed_save && by(3).state == RunState::Shutoff);
    assert!(by(0).id.is_some() && by(1).id.is_none());
    // Metadata comes in batches, all of it eventually.
    let mut seen = 0;
    loop {
        let batch = read_metadata_batch(&mut s, 16);
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 16);
        for (uuid, title, desc) in &batch {
            assert_eq!(title, "");
            assert!(desc.starts_with("Generated test guest"), "{uuid}: {desc}");
        }
        seen += batch.len();
    }
    assert_eq!(seen, 40);
    s.close();
}

#[test]
fn gone_domains_read_as_none_and_actions_keep_libvirts_words() {
    let s = open(
        "gone",
        NodeSpec {
            domains: 2,
            ..Default::default()
        },
    );
    assert_eq!(
        read_one(s.conn(), "12345678-1234-1234-1234-123456789abc").unwrap(),
        None
    );
    let e = actions::run(
        s.conn(),
        "12345678-1234-1234-1234-123456789abc",
        &Action::Start,
    )
    .unwrap_err();
    assert!(e.is_no_domain(), "{e:?}");
    assert!(e.to_string().contains("Domain not found"), "{e}");
    let e = actions::run(s.conn(), &domain_uuid(0), &Action::Rename("x".into())).unwrap_err();
    println!("rename of a running domain: {e}");
    assert!(!e.to_string().is_empty());
    let e = actions::run(s.conn(), &domain_uuid(1), &Action::Resume).unwrap_err();
    assert!(
        e.to_string().contains("not running") || e.to_string().contains("not paused"),
        "{e}"
    );
    s.close();
}

#[test]
fn disks_and_their_volumes() {
    let s = open(
        "disks",
        NodeSpec {
            domains: 3,
            volumes: true,
            ..Default::default()
        },
    );
    let disks = vireo::virt::storage::domain_storage(s.conn(), &domain_uuid(2)).unwrap();
    assert_eq!(disks.len(), 1);
    assert_eq!(disks[0].volume.as_deref(), Some("vm0002.qcow2"));
    assert_eq!(disks[0].capacity, Some(3 << 30));
    let xml = actions::domain_xml(s.conn(), &domain_uuid(2), true).unwrap();
    assert!(xml.contains("<name>vm0002</name>"));
    s.close();
}
