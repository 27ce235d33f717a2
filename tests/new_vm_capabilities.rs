//! Host and domain capabilities parsing against real XML from virt-manager's test suite.

use vireo::virt::capabilities::{DomainCapabilities, HostCapabilities};

fn data(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/capabilities/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn kvm_x86_64_host() {
    let caps = HostCapabilities::parse(&data("kvm-x86_64.xml")).unwrap();
    assert_eq!(caps.host_arch, "x86_64");
    assert_eq!(caps.memory_kib, 32731708);
    assert_eq!(caps.cpus, 8);
    assert_eq!(caps.hvm_arches()[0], "x86_64");
    assert!(caps.hvm_arches().iter().any(|a| a == "aarch64"));
    assert!(caps.has_kvm("x86_64"));
    assert!(!caps.has_kvm("aarch64"));
    assert_eq!(caps.best_domain_type("x86_64").as_deref(), Some("kvm"));
    assert_eq!(caps.best_domain_type("aarch64").as_deref(), Some("qemu"));
    assert_eq!(caps.default_machine("x86_64").as_deref(), Some("q35"));
    assert_eq!(caps.default_machine("aarch64").as_deref(), Some("virt"));
    let m = caps.machine_choices("x86_64");
    assert_eq!(m[0].name, "q35");
    assert_eq!(m[0].canonical.as_deref(), Some("pc-q35-6.1"));
    assert_eq!(m[1].name, "pc");
    assert_eq!(caps.max_cpus("x86_64", "q35"), Some(288));
    assert_eq!(caps.max_cpus("x86_64", "pc"), Some(255));
}

#[test]
fn qemu_without_kvm() {
    let caps = HostCapabilities::parse(&data("test-qemu-no-kvm.xml")).unwrap();
    assert!(!caps.has_kvm("x86_64"));
    assert_eq!(caps.best_domain_type("x86_64").as_deref(), Some("qemu"));
    // No q35 on this old host: "pc" is the default.
    assert_eq!(caps.default_machine("x86_64").as_deref(), Some("pc"));
}

#[test]
fn domcaps_latest_has_uefi() {
    let dc = DomainCapabilities::parse(&data("kvm-x86_64-domcaps-latest.xml")).unwrap();
    assert_eq!(dc.domain, "kvm");
    assert_eq!(dc.machine, "pc-q35-9.0");
    assert_eq!(dc.max_vcpus, Some(4096));
    assert_eq!(dc.firmware, vec!["efi"]);
    assert!(dc.supports_uefi());
    assert!(dc.secure_boot);
    assert!(dc.video_models.iter().any(|v| v == "virtio"));
    assert!(dc.rng_models.iter().any(|v| v == "virtio"));
    assert!(dc.disk_buses.iter().any(|v| v == "virtio"));
    assert!(dc.graphics_types.iter().any(|v| v == "vnc"));
}

#[test]
fn domcaps_old_firmware_lists_loader_only() {
    let dc = DomainCapabilities::parse(&data("kvm-x86_64-domcaps-oldfirmware.xml")).unwrap();
    assert!(dc.firmware.is_empty());
    assert_eq!(
        dc.loaders,
        vec!["/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd"]
    );
    assert!(dc.supports_uefi());
}

#[test]
fn domcaps_without_loader_has_no_uefi() {
    let xml = "<domainCapabilities><domain>qemu</domain><arch>x86_64</arch>\
               <os supported='yes'><loader supported='no'/></os></domainCapabilities>";
    let dc = DomainCapabilities::parse(xml).unwrap();
    assert!(!dc.supports_uefi());
}

#[test]
fn test_driver_live() {
    vireo::virt::init();
    let conn = virt::connect::Connect::open(Some("test:///default")).unwrap();
    let caps = vireo::virt::capabilities::host_capabilities(&conn).unwrap();
    assert_eq!(caps.memory_kib, 3145728);
    assert_eq!(caps.cpus, 16);
    assert_eq!(caps.best_domain_type("i686").as_deref(), Some("test"));
    let dc = vireo::virt::capabilities::domain_capabilities(&conn, "test", "i686", "pc").unwrap();
    assert!(dc.is_none(), "the test driver has no domcaps");
    vireo::virt::handles::release_connect(conn);
}
