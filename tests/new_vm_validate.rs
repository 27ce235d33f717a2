//! Validation of new-VM specs: each problem lands on the field the wizard marks.

use vireo::virt::new_vm::{
    validate, CloudInit, DiskFormat, Field, Firmware, HostLimits, InstallMethod, MediaSource,
    NetworkChoice, NewVmSpec, Problem, Storage, TreeBoot,
};

fn spec() -> NewVmSpec {
    NewVmSpec {
        name: "web1".into(),
        arch: "x86_64".into(),
        machine: "q35".into(),
        domain_type: "kvm".into(),
        firmware: Firmware::Bios,
        install: InstallMethod::Manual,
        memory_mib: 2048,
        vcpus: 2,
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 20,
        },
        network: NetworkChoice::Nat {
            network: "default".into(),
        },
        os: None,
        display: Default::default(),
    }
}

fn host() -> HostLimits {
    HostLimits {
        memory_mib: 8192,
        max_vcpus: 4,
        existing_names: vec!["db1".into()],
        pool_free: vec![("default".into(), 50 << 30)],
        uefi_available: false,
        local_files: true,
        os_min_memory_mib: 0,
    }
}

#[test]
fn a_good_spec_passes() {
    assert_eq!(validate(&spec(), &host()), vec![]);
}

#[test]
fn each_problem_on_its_field() {
    let mut s = spec();
    s.name = "db1".into();
    s.memory_mib = 16384;
    s.vcpus = 8;
    s.storage = Storage::NewVolume {
        pool: "default".into(),
        size_gib: 100,
    };
    s.firmware = Firmware::Uefi;
    s.install = InstallMethod::LocalMedia(MediaSource::Path("/nonexistent/x.iso".into()));
    let got = validate(&s, &host());
    assert!(got.contains(&(Field::Name, Problem::NameTaken)));
    assert!(got.contains(&(Field::Memory, Problem::MemoryOverHost(8192))));
    assert!(got.contains(&(Field::Vcpus, Problem::VcpusOverMax(4))));
    assert!(got.contains(&(Field::Storage, Problem::DiskOverPool(50 << 30))));
    assert!(got.contains(&(Field::Firmware, Problem::UefiUnavailable)));
    assert!(got.iter().any(|(f, p)| *f == Field::Media
        && matches!(p, Problem::Unreadable(t) if t.contains("No such file"))));
    assert_eq!(got.len(), 6);
}

#[test]
fn remote_paths_are_not_checked_here() {
    let mut s = spec();
    s.install = InstallMethod::ImportDisk {
        format: DiskFormat::Raw,
        path: "/on/the/remote/host.img".into(),
    };
    s.storage = Storage::None;
    let h = HostLimits {
        local_files: false,
        ..host()
    };
    assert_eq!(validate(&s, &h), vec![]);
    // An install medium is a file of this computer even for a remote host: the wizard
    // uploads it into one of the host's pools.
    s.install = InstallMethod::LocalMedia(MediaSource::Path("/nonexistent/x.iso".into()));
    s.storage = spec().storage;
    assert!(matches!(
        validate(&s, &h).as_slice(),
        [(Field::Media, Problem::Unreadable(_))]
    ));
}

#[test]
fn os_minimum_memory() {
    let mut s = spec();
    s.memory_mib = 512;
    let h = HostLimits {
        os_min_memory_mib: 1024,
        ..host()
    };
    assert_eq!(
        validate(&s, &h),
        vec![(Field::Memory, Problem::MemoryTooLow(1024))]
    );
}

#[test]
fn bad_url() {
    let mut s = spec();
    s.install = InstallMethod::NetworkTree {
        url: "mirror.example.org/fedora".into(),
        boot: TreeBoot {
            kernel: "/k".into(),
            initrd: "/i".into(),
            args: String::new(),
        },
    };
    assert_eq!(
        validate(&s, &host()),
        vec![(Field::Url, Problem::UrlInvalid)]
    );
    // Only plain HTTP trees can be fetched.
    if let InstallMethod::NetworkTree { url, .. } = &mut s.install {
        *url = "https://dl.fedoraproject.org/pub/fedora/linux/releases/37/Server/x86_64/os/".into();
    }
    assert_eq!(
        validate(&s, &host()),
        vec![(Field::Url, Problem::UrlInvalid)]
    );
    if let InstallMethod::NetworkTree { url, .. } = &mut s.install {
        *url = "http://dl.fedoraproject.org/pub/fedora/linux/releases/37/Server/x86_64/os/".into();
    }
    assert_eq!(validate(&s, &host()), vec![]);
}

#[test]
fn cloud_init_needs_user_and_credential() {
    let mut s = spec();
    let image = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").to_owned();
    s.install = InstallMethod::CloudImage {
        image: image.clone(),
        format: DiskFormat::Qcow2,
        cloud_init: CloudInit {
            user: "Ada Lovelace".into(),
            password: None,
            ssh_key: None,
        },
    };
    let got = validate(&s, &host());
    assert!(got.contains(&(Field::CloudInit, Problem::CloudUserInvalid)));
    assert!(got.contains(&(Field::CloudInit, Problem::CloudNoCredential)));
    s.install = InstallMethod::CloudImage {
        image,
        format: DiskFormat::Qcow2,
        cloud_init: CloudInit {
            user: "ada".into(),
            password: None,
            ssh_key: Some("not a key".into()),
        },
    };
    s.storage = Storage::None;
    let got = validate(&s, &host());
    assert!(got.contains(&(Field::CloudInit, Problem::SshKeyInvalid)));
    assert!(got.contains(&(Field::Storage, Problem::CloudNeedsVolume)));
}
