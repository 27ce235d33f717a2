//! VM creation with rollback on libvirt's test driver: the volume, the definition and
//! the start happen, and a creation forced to fail leaves no volume and no domain.

use vireo::virt::new_vm::{
    create, CloudInit, CreatePlan, DiskFormat, Firmware, InstallMethod, NetworkChoice, NewVmSpec,
    Storage,
};
use virt::connect::Connect;

fn conn() -> Connect {
    vireo::virt::init();
    Connect::open(Some("test:///default")).unwrap()
}

fn spec(name: &str, pool: &str) -> NewVmSpec {
    NewVmSpec {
        name: name.into(),
        arch: "i686".into(),
        machine: "pc".into(),
        domain_type: "test".into(),
        firmware: Firmware::Bios,
        install: InstallMethod::Manual,
        memory_mib: 512,
        vcpus: 1,
        storage: Storage::NewVolume {
            pool: pool.into(),
            size_gib: 4,
        },
        network: NetworkChoice::Nat {
            network: "default".into(),
        },
        os: None,
        display: Default::default(),
    }
}

fn volumes(c: &Connect, pool: &str) -> Vec<String> {
    let p = c.lookup_storage_pool_by_name(pool).unwrap();
    p.refresh(0).unwrap();
    p.list_volumes().unwrap()
}

fn domain_names(c: &Connect) -> Vec<String> {
    c.list_all_domains(0)
        .unwrap()
        .iter()
        .map(|d| d.name().unwrap())
        .collect()
}

#[test]
fn creates_volume_domain_and_starts() {
    let c = conn();
    let s = spec("made-ok", "default-pool");
    let plan = CreatePlan::from_spec(&s, None, None, true).unwrap();
    let made = create(&c, &plan).unwrap();
    assert_eq!(made.name, "made-ok");
    assert!(made.started);
    assert!(volumes(&c, "default-pool").contains(&"made-ok.qcow2".to_owned()));
    let d = c.lookup_domain_by_name("made-ok").unwrap();
    assert!(d.is_active().unwrap());
    assert_eq!(d.uuid_string().unwrap(), made.uuid);
    assert!(d.xml_desc(0).unwrap().contains("volume='made-ok.qcow2'"));
}

#[test]
fn makes_default_pool_when_missing() {
    let c = conn();
    assert!(c.lookup_storage_pool_by_name("default").is_err());
    let s = spec("needs-default-pool", "default");
    let plan =
        CreatePlan::from_spec(&s, None, Some("/var/lib/libvirt/images".into()), false).unwrap();
    let made = create(&c, &plan).unwrap();
    assert!(made.made_default_pool);
    assert!(!made.started);
    let p = c.lookup_storage_pool_by_name("default").unwrap();
    assert!(p.is_active().unwrap());
    assert!(p.xml_desc(0).unwrap().contains("/var/lib/libvirt/images"));
    assert!(volumes(&c, "default").contains(&"needs-default-pool.qcow2".to_owned()));
}

#[test]
fn missing_pool_other_than_default_is_an_error() {
    let c = conn();
    let s = spec("no-such-pool-vm", "nosuchpool");
    let plan = CreatePlan::from_spec(&s, None, Some("/x".into()), false).unwrap();
    let e = create(&c, &plan).unwrap_err();
    assert!(e.to_string().contains("nosuchpool"), "{e}");
    assert!(!domain_names(&c).contains(&"no-such-pool-vm".to_owned()));
}

#[test]
fn failed_define_removes_the_volume() {
    let c = conn();
    // "test" exists on the test driver with another UUID: the define fails after the
    // volume was made.
    let s = spec("test", "default-pool");
    let before = c
        .lookup_domain_by_name("test")
        .unwrap()
        .uuid_string()
        .unwrap();
    let plan = CreatePlan::from_spec(&s, None, None, true).unwrap();
    let e = create(&c, &plan).unwrap_err();
    assert!(
        e.to_string().contains("already exists"),
        "libvirt's text: {e}"
    );
    assert!(!volumes(&c, "default-pool").contains(&"test.qcow2".to_owned()));
    // Other tests of this process add domains concurrently: look at "test" itself.
    let after = c
        .lookup_domain_by_name("test")
        .unwrap()
        .uuid_string()
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(domain_names(&c).iter().filter(|n| *n == "test").count(), 1);
}

#[test]
fn failed_start_removes_domain_and_volume() {
    let c = conn();
    let s = spec("start-fails", "default-pool");
    let mut plan = CreatePlan::from_spec(&s, None, None, true).unwrap();
    // A first-boot definition whose name differs from the defined one: libvirt refuses
    // to start it, after the volume and the definition were made.
    plan.install_xml = Some(
        s.domain_xml()
            .replace("<name>start-fails</name>", "<name>other</name>"),
    );
    let e = create(&c, &plan).unwrap_err();
    assert!(!e.to_string().is_empty());
    assert!(!volumes(&c, "default-pool").contains(&"start-fails.qcow2".to_owned()));
    assert!(!domain_names(&c).contains(&"start-fails".to_owned()));
    assert!(!domain_names(&c).contains(&"other".to_owned()));
}

#[test]
fn failed_seed_upload_removes_both_volumes() {
    let c = conn();
    let dir = std::env::temp_dir().join(format!("vireo-seed-{}", std::process::id()));
    let ci = CloudInit {
        user: "ada".into(),
        password: Some("pw".into()),
        ssh_key: None,
    };
    let seed = vireo::virt::cloud_init::build_seed_iso(&dir, &ci, "cloudy", "iid-1").unwrap();
    let iso = vireo::virt::osinfo::read_iso_info(&seed).unwrap();
    assert_eq!(iso.volume_id, "cidata");
    let mut s = spec("cloudy", "default-pool");
    s.install = InstallMethod::CloudImage {
        image: "/default-pool/base.qcow2".into(),
        format: DiskFormat::Qcow2,
        cloud_init: ci,
    };
    let plan = CreatePlan::from_spec(&s, Some(&seed), None, true).unwrap();
    assert_eq!(plan.volumes.len(), 2);
    // The test driver cannot upload into volumes: a real failure after two volumes.
    match create(&c, &plan) {
        Err(e) => {
            assert!(!e.to_string().is_empty());
            let v = volumes(&c, "default-pool");
            assert!(!v.iter().any(|n| n.starts_with("cloudy")), "{v:?}");
            assert!(!domain_names(&c).contains(&"cloudy".to_owned()));
        }
        Ok(_) => {
            // A driver that can upload: then everything must exist.
            let v = volumes(&c, "default-pool");
            assert!(v.contains(&"cloudy-cidata.iso".to_owned()));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// libvirt takes names with spaces ("Web Server 2"), so the wizard does too: the VM
/// and its disk are made under that name, and a cloud image's guest gets a host name
/// it can use ("web-server-2").
#[test]
fn a_name_with_spaces_makes_a_vm_and_a_usable_host_name() {
    let c = conn();
    let s = spec("Web Server 2", "default-pool");
    let plan = CreatePlan::from_spec(&s, None, None, false).unwrap();
    let made = create(&c, &plan).unwrap();
    assert_eq!(made.name, "Web Server 2");
    assert!(domain_names(&c).contains(&"Web Server 2".to_owned()));
    assert!(volumes(&c, "default-pool").contains(&"Web Server 2.qcow2".to_owned()));

    let dir = std::env::temp_dir().join(format!("vireo-seed-spaces-{}", std::process::id()));
    let ci = CloudInit {
        user: "ada".into(),
        password: Some("pw".into()),
        ssh_key: None,
    };
    vireo::virt::cloud_init::build_seed_iso(&dir, &ci, "Web Server 2", "iid-2").unwrap();
    let meta = std::fs::read_to_string(dir.join("cidata/meta-data")).unwrap();
    assert!(meta.contains("web-server-2"), "{meta}");
    assert!(!meta.contains("Web Server 2"), "{meta}");
    let _ = std::fs::remove_dir_all(dir);
}
