//! Golden domain XML for a matrix of new-VM specs (every install method with BIOS and
//! UEFI, with and without a disk, every network kind), plus OS-specific cases; and a
//! check that libvirt's own parser (test driver) accepts every XML of the full matrix.
//!
//! `VIREO_UPDATE_GOLDEN=1 cargo test --test new_vm_golden` rewrites the files in
//! `tests/golden/new_vm/`; review the diff before committing it.

use std::path::PathBuf;

use vireo::virt::new_vm::{
    CloudInit, DiskFormat, Firmware, InstallMethod, MediaSource, NetworkChoice, NewVmSpec,
    OsProfile, Storage, TreeBoot,
};

fn linux() -> OsProfile {
    OsProfile {
        id: "http://debian.org/debian/11".into(),
        short_id: "debian11".into(),
        name: "Debian 11".into(),
        family: "linux".into(),
        ..OsProfile::generic()
    }
}

fn methods() -> Vec<(&'static str, InstallMethod)> {
    vec![
        (
            "iso",
            InstallMethod::LocalMedia(MediaSource::Path(
                "/srv/iso/debian-11.7.0-amd64-netinst.iso".into(),
            )),
        ),
        (
            "isovol",
            InstallMethod::LocalMedia(MediaSource::Volume {
                pool: "isos".into(),
                volume: "debian.iso".into(),
            }),
        ),
        (
            "tree",
            InstallMethod::NetworkTree {
                url: "https://dl.fedoraproject.org/pub/fedora/linux/releases/37/Server/x86_64/os/"
                    .into(),
                boot: TreeBoot {
                    kernel: "/var/lib/libvirt/boot/vireo-vm1-vmlinuz".into(),
                    initrd: "/var/lib/libvirt/boot/vireo-vm1-initrd.img".into(),
                    args: String::new(),
                },
            },
        ),
        (
            "import",
            InstallMethod::ImportDisk {
                path: "/srv/images/appliance.img".into(),
                format: DiskFormat::Raw,
            },
        ),
        (
            "cloud",
            InstallMethod::CloudImage {
                image: "/srv/images/debian-11-genericcloud-amd64.qcow2".into(),
                format: DiskFormat::Qcow2,
                cloud_init: CloudInit {
                    user: "ada".into(),
                    password: Some("secret".into()),
                    ssh_key: None,
                },
            },
        ),
        ("manual", InstallMethod::Manual),
    ]
}

fn networks() -> Vec<(&'static str, NetworkChoice)> {
    vec![
        (
            "nat",
            NetworkChoice::Nat {
                network: "default".into(),
            },
        ),
        ("bridge", NetworkChoice::Bridge { name: "br0".into() }),
        ("user", NetworkChoice::User),
        ("nonet", NetworkChoice::None),
    ]
}

fn spec(install: InstallMethod, fw: Firmware, net: NetworkChoice, disk: bool) -> NewVmSpec {
    let os = match &install {
        InstallMethod::NetworkTree { .. } => OsProfile {
            id: "http://fedoraproject.org/fedora/37".into(),
            short_id: "fedora37".into(),
            name: "Fedora Linux 37".into(),
            ..linux()
        },
        InstallMethod::Manual => return base(install, fw, net, disk, None),
        _ => linux(),
    };
    base(install, fw, net, disk, Some(os))
}

fn base(
    install: InstallMethod,
    fw: Firmware,
    net: NetworkChoice,
    disk: bool,
    os: Option<OsProfile>,
) -> NewVmSpec {
    let storage = if install.brings_own_disk() || !disk {
        Storage::None
    } else {
        Storage::NewVolume {
            pool: "default".into(),
            size_gib: 20,
        }
    };
    NewVmSpec {
        name: "vm1".into(),
        arch: "x86_64".into(),
        machine: "q35".into(),
        domain_type: "kvm".into(),
        firmware: fw,
        install,
        memory_mib: 2048,
        vcpus: 2,
        storage,
        network: net,
        os,
        display: Default::default(),
    }
}

/// The reviewed cases: each method x firmware x disk, the network kind rotating so
/// that every method meets every network kind.
fn golden_cases() -> Vec<(String, NewVmSpec)> {
    let mut out = Vec::new();
    let nets = networks();
    for (mname, m) in methods() {
        let mut i = 0;
        for (fname, fw) in [("bios", Firmware::Bios), ("uefi", Firmware::Uefi)] {
            for disk in [true, false] {
                if m.brings_own_disk() && !disk {
                    continue; // the imported image is the disk
                }
                if matches!(m, InstallMethod::CloudImage { .. }) && !disk {
                    continue; // the cloud image needs its overlay volume
                }
                let (nname, n) = nets[i % nets.len()].clone();
                i += 1;
                let dname = if disk { "disk" } else { "nodisk" };
                out.push((
                    format!("{mname}-{fname}-{nname}-{dname}"),
                    spec(m.clone(), fw, n, disk),
                ));
            }
        }
        if m.brings_own_disk() || matches!(m, InstallMethod::CloudImage { .. }) {
            // Two cases only: add the remaining network kinds.
            for (nname, n) in nets.iter().skip(2) {
                out.push((
                    format!("{mname}-bios-{nname}-disk"),
                    spec(m.clone(), Firmware::Bios, n.clone(), true),
                ));
            }
        }
    }
    // OS-specific defaults.
    let mut xp = spec(
        methods()[0].1.clone(),
        Firmware::Bios,
        networks()[0].1.clone(),
        true,
    );
    xp.machine = "pc".into();
    xp.os = Some(OsProfile {
        id: "http://microsoft.com/win/xp".into(),
        short_id: "winxp".into(),
        name: "Microsoft Windows XP".into(),
        family: "winnt".into(),
        virtio_net: false,
        virtio_blk: false,
        virtio_rng: false,
        virtio_balloon: false,
        virtio_serial: false,
        virtio_gpu: false,
        usb_tablet: true,
        q35: false,
    });
    out.push(("os-winxp-pc-legacy-devices".into(), xp));
    let mut w11 = spec(
        methods()[0].1.clone(),
        Firmware::Uefi,
        networks()[0].1.clone(),
        true,
    );
    w11.os = Some(OsProfile {
        id: "http://microsoft.com/win/11".into(),
        short_id: "win11".into(),
        name: "Microsoft Windows 11".into(),
        family: "winnt".into(),
        virtio_net: false,
        virtio_blk: false,
        virtio_rng: false,
        virtio_serial: false,
        virtio_gpu: false,
        ..OsProfile::generic()
    });
    w11.memory_mib = 4096;
    out.push(("os-win11-uefi".into(), w11));
    let mut tcg = spec(
        methods()[0].1.clone(),
        Firmware::Bios,
        networks()[0].1.clone(),
        true,
    );
    tcg.domain_type = "qemu".into();
    out.push(("tcg-qemu-domain".into(), tcg));
    // SPICE: its graphics and spice-vdagent's channel beside the guest agent's.
    let mut spice = spec(
        methods()[0].1.clone(),
        Firmware::Bios,
        networks()[0].1.clone(),
        true,
    );
    spice.display = vireo::virt::new_vm::DisplayProtocol::Spice;
    out.push(("display-spice".into(), spice));
    out
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/new_vm")
}

#[test]
fn golden_domain_xml() {
    let update = std::env::var_os("VIREO_UPDATE_GOLDEN").is_some();
    let dir = golden_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (name, spec) in golden_cases() {
        let mut got = spec.domain_xml();
        if let Some(ix) = spec.install_xml() {
            got.push_str(&format!("<!-- first boot (install) -->\n{ix}"));
        }
        for (pool, vol) in spec.volumes() {
            got.push_str(&format!("<!-- volume in pool '{pool}' -->\n{vol}"));
        }
        let path = dir.join(format!("{name}.xml"));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(_) => failures.push(format!("{name}: differs from {}", path.display())),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn golden_set_is_the_reviewed_one() {
    let mut names: Vec<String> = golden_cases()
        .into_iter()
        .map(|(n, _)| format!("{n}.xml"))
        .collect();
    names.sort();
    let mut files: Vec<String> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(names, files, "stale or missing golden files");
}

/// Every combination of the full matrix parses, and libvirt's domain parser accepts it.
#[test]
fn full_matrix_is_accepted_by_libvirt() {
    vireo::virt::init();
    let conn = virt::connect::Connect::open(Some("test:///default")).unwrap();
    let mut n = 0;
    let mut all = Vec::new();
    for (mname, m) in methods() {
        for fw in [Firmware::Bios, Firmware::Uefi] {
            for (nname, net) in networks() {
                for disk in [true, false] {
                    let mut s = spec(m.clone(), fw, net.clone(), disk);
                    s.name = format!("m-{mname}-{nname}-{}-{disk}", matches!(fw, Firmware::Uefi));
                    all.push(s);
                }
            }
        }
    }
    for (name, mut s) in golden_cases()
        .into_iter()
        .filter(|(n, _)| !n.contains("-bios-") && !n.contains("-uefi-"))
    {
        s.name = name;
        all.push(s);
    }
    for s in all {
        for xml in [Some(s.domain_xml()), s.install_xml()]
            .into_iter()
            .flatten()
        {
            roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", s.name));
            let d = conn
                .define_domain_xml(&xml)
                .unwrap_or_else(|e| panic!("{}: {e}\n{xml}", s.name));
            let back = d.xml_desc(0).unwrap();
            assert!(back.contains(&format!("<name>{}</name>", s.name)));
            d.undefine().unwrap();
            n += 1;
        }
    }
    // 96 combinations, 16 of them network installs with a first-boot XML, 3 OS cases,
    // a SPICE display.
    assert_eq!(n, 6 * 2 * 4 * 2 + 16 + 3 + 1);
    vireo::virt::handles::release_connect(conn);
}
