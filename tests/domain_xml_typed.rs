//! The typed views of the document layer: what each edit writes (golden diffs in
//! `tests/golden/domain_xml`, `VIREO_UPDATE_GOLDEN=1` rewrites them) and the rules
//! they follow (units, vCPU topology, device keys, new devices' defaults, boot order,
//! metadata).

use std::path::{Path, PathBuf};

use vireo::virt::domain_xml::devices::{
    CharDevice, Controller, Disk, DiskSource, Filesystem, Graphics, Input, Interface, Listen, Rng,
    Sound, Tpm, Video, Watchdog,
};
use vireo::virt::domain_xml::{
    DeviceKind, DomainXml, DomainXmlError, MemorySize, Topology, LIBOSINFO_NS,
};

fn data(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/domain_xml/{name}.diff"))
}

/// Applies `edit` to the document `rel` and compares the diff with the golden file.
fn golden(rel: &str, name: &str, edit: impl FnOnce(&mut DomainXml)) {
    let mut dom = DomainXml::parse(data(rel)).unwrap();
    edit(&mut dom);
    dom.doc().check_index().unwrap();
    let diff = dom.diff();
    assert!(!diff.is_empty(), "{name}: the edit changed nothing");
    let path = golden_path(name);
    if std::env::var_os("VIREO_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &diff).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with VIREO_UPDATE_GOLDEN=1)", path.display()));
    assert!(
        diff == want,
        "{name}: the diff differs from {}:\n{diff}",
        path.display()
    );
}

const MANY: &str = "virt-manager/compare/virt-install-many-devices.xml";
const Q35: &str = "virt-manager/compare/virt-install-amd-sev.xml";
const CRLF: &str = "domain_xml/nasty-crlf-tabs.xml";
const SELF_CLOSING: &str = "domain_xml/nasty-self-closing.xml";
/// A serial port with its console twin, a USB 2 controller with companions, a 9p share.
const SERIAL_USB2_9P: &str = "domain_xml/serial-usb2-9p.xml";
/// A VM with a VNC display (and no SPICE channel).
const VNC: &str = "virt-manager/compare/virt-install-funny-passwords.xml";

fn first<T: vireo::virt::domain_xml::DeviceView>(
    dom: &DomainXml,
) -> vireo::virt::domain_xml::DeviceKey {
    dom.devices_of::<T>().remove(0).0
}

#[test]
fn golden_memory() {
    golden(MANY, "many-devices--memory", |d| {
        d.set_memory_kib(4 * 1024 * 1024).unwrap();
        d.set_current_memory_kib(2 * 1024 * 1024).unwrap();
    });
}

#[test]
fn golden_disk_settings() {
    golden(MANY, "many-devices--disk-cache-discard-readonly", |d| {
        let key = first::<Disk>(d);
        d.edit_device(&key, |x: &mut Disk| {
            x.cache = Some("none".into());
            x.discard = Some("ignore".into());
            x.readonly = true;
        })
        .unwrap();
    });
}

#[test]
fn golden_add_disk() {
    golden(MANY, "many-devices--add-disk", |d| {
        let disk = Disk {
            source: Some(DiskSource::File(
                "/var/lib/libvirt/images/data.qcow2".into(),
            )),
            driver_name: Some("qemu".into()),
            format: Some("qcow2".into()),
            ..Disk::default()
        };
        let key = d.add_device(&disk).unwrap();
        assert_eq!(
            key.target.as_deref(),
            Some("vdy"),
            "the first free virtio name"
        );
    });
}

#[test]
fn golden_remove_and_link() {
    golden(MANY, "many-devices--remove-second-nic", |d| {
        let key = d.devices_of::<Interface>().remove(1).0;
        d.remove_device(&key).unwrap();
    });
    golden(MANY, "many-devices--nic-link-down-model", |d| {
        let (key, _) = d
            .devices_of::<Interface>()
            .into_iter()
            .find(|(_, n)| n.link_up.is_none())
            .unwrap();
        d.edit_device(&key, |x: &mut Interface| {
            x.link_up = Some(false);
            x.model = Some("e1000e".into());
        })
        .unwrap();
    });
}

#[test]
fn golden_graphics() {
    golden(MANY, "many-devices--graphics-listen-password", |d| {
        let (key, _) = d
            .devices_of::<Graphics>()
            .into_iter()
            .find(|(_, g)| g.graphics_type == "spice")
            .unwrap();
        d.edit_device(&key, |x: &mut Graphics| {
            x.listen = Listen::Address("0.0.0.0".into());
            x.password = Some("it's a secret".into());
        })
        .unwrap();
    });
}

#[test]
fn golden_q35_cpu_and_text() {
    golden(Q35, "q35--vcpus-topology-host-model", |d| {
        let mut cpu = d.cpu();
        cpu.mode = Some("host-model".into());
        cpu.topology = Some(Topology {
            sockets: 1,
            dies: None,
            cores: 2,
            threads: 2,
        });
        d.set_vcpus(4, Some(2)).unwrap();
        d.set_cpu(&cpu).unwrap();
    });
    golden(Q35, "q35--title-description-boot-menu", |d| {
        d.set_title(Some("Build server")).unwrap();
        d.set_description(Some("Builds <everything>\n& more"))
            .unwrap();
        let mut os = d.os();
        os.boot_menu = Some(true);
        os.boot_menu_timeout = Some(5000);
        d.set_os(&os).unwrap();
    });
    golden(Q35, "q35--add-virtiofs", |d| {
        d.add_device(&Filesystem::virtiofs("/srv/share", "share"))
            .unwrap();
    });
}

#[test]
fn golden_nasty_documents() {
    golden(CRLF, "crlf-tabs--add-nic-title-setting", |d| {
        let mut nic = Interface::on_network("default", Some("virtio"));
        nic.mac = Some("52:54:00:11:22:33".into());
        d.add_device(&nic).unwrap();
        d.set_title(Some("Nasty")).unwrap();
        d.set_vireo_setting("console-scale", Some("fit")).unwrap();
    });
    golden(CRLF, "crlf-tabs--cdrom-change-remove-serial", |d| {
        let (cdrom, _) = d
            .devices_of::<Disk>()
            .into_iter()
            .find(|(_, x)| x.device == "cdrom")
            .unwrap();
        d.edit_device(&cdrom, |x: &mut Disk| {
            x.source = Some(DiskSource::File("/isos/trixie & more.iso".into()));
        })
        .unwrap();
        let serial = first::<CharDevice>(d);
        assert_eq!(serial.kind, DeviceKind::Serial);
        let removed = d.remove_device(&serial).unwrap();
        assert_eq!(
            removed.len(),
            2,
            "the console twin goes with the serial port"
        );
    });
    golden(SELF_CLOSING, "self-closing--add-disk-feature", |d| {
        let disk = Disk {
            device: "cdrom".into(),
            ..Disk::default()
        };
        d.add_device(&disk).unwrap();
        d.set_feature("acpi", true).unwrap();
    });
}

#[test]
fn memory_keeps_its_unit_when_it_can() {
    let mut d = DomainXml::parse(data(CRLF)).unwrap();
    assert_eq!(d.memory_kib(), Some(2 * 1024 * 1024));
    d.set_memory_kib(6 * 1024 * 1024).unwrap();
    assert_eq!(
        d.memory(),
        Some(MemorySize {
            amount: 6,
            unit: Some("GiB".into())
        })
    );
    d.set_memory_kib(1536 * 1024).unwrap();
    assert_eq!(d.memory(), Some(MemorySize::kib(1536 * 1024)));
    assert_eq!(
        d.current_memory_kib(),
        Some(1536 * 1024),
        "the balloon target comes down with the memory"
    );
    // Raising the balloon target above the memory raises the memory (virt-xml's rule).
    d.set_current_memory_kib(3 * 1024 * 1024).unwrap();
    assert_eq!(d.memory_kib(), Some(3 * 1024 * 1024));
    assert!(matches!(
        d.set_memory_kib(0),
        Err(DomainXmlError::InvalidValue { .. })
    ));
    let weird = MemorySize {
        amount: 1,
        unit: Some("parsec".into()),
    };
    assert!(d.set_memory(&weird).is_err());
}

#[test]
fn vcpus_and_topology() {
    let mut d = DomainXml::parse(data(Q35)).unwrap();
    d.set_topology(Some(&Topology {
        sockets: 1,
        dies: None,
        cores: 2,
        threads: 1,
    }))
    .unwrap();
    d.set_vcpus(2, None).unwrap();
    // 8 vCPUs: two cores per socket, so four sockets.
    d.set_vcpus(8, Some(4)).unwrap();
    assert_eq!(d.cpu().topology.unwrap().sockets, 4);
    assert_eq!(d.vcpus().unwrap().current, Some(4));
    // 7 cannot be cut in sockets of two cores.
    let err = d.set_vcpus(7, None).unwrap_err();
    assert!(err.to_string().contains("topology"), "{err}");
    assert!(d.set_vcpus(4, Some(5)).is_err());
    assert!(d.set_vcpus(0, None).is_err());
    // `current` equal to the maximum is no `current`.
    d.set_vcpus(8, Some(8)).unwrap();
    assert_eq!(d.vcpus().unwrap().current, None);
    assert!(!d.text().contains("current="));
}

#[test]
fn device_keys_follow_devices_between_documents() {
    let persistent = data(CRLF);
    // The live XML: libvirt adds aliases and addresses.
    let live = persistent
        .replace(
            "\t\t\t<target dev='sda' bus='sata'/>\r\n",
            "\t\t\t<target dev='sda' bus='sata'/>\r\n\t\t\t<alias name='sata0-0-0'/>\r\n",
        )
        .replace(
            "\t\t\t<model type='virtio'/>\r\n",
            "\t\t\t<model type='virtio'/>\r\n\t\t\t<alias name='net0'/>\r\n",
        );
    let live = DomainXml::parse(live).unwrap();
    let config = DomainXml::parse(persistent).unwrap();
    // Every live device is found in the persistent XML, and it is the same device.
    for key in live.devices() {
        let in_config = config
            .resolve(&key)
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let back = config.key_of(in_config).unwrap();
        assert_eq!((back.kind, back.index), (key.kind, key.index), "{key}");
    }
    let nic = first::<Interface>(&live);
    assert_eq!(nic.mac.as_deref(), Some("52:54:00:aa:bb:cc"));
    assert_eq!(nic.alias.as_deref(), Some("net0"));
    assert!(
        config.resolve(&nic).is_ok(),
        "the MAC decides, not the alias"
    );
    let mut gone = nic.clone();
    gone.mac = Some("52:54:00:00:00:01".into());
    assert!(matches!(
        config.resolve(&gone),
        Err(DomainXmlError::DeviceNotFound { .. })
    ));
    assert_eq!(gone.to_string(), "interface 52:54:00:00:00:01");
}

#[test]
fn new_devices_get_what_libvirt_needs() {
    let mut d = DomainXml::parse(data(CRLF)).unwrap();
    let cd = Disk {
        device: "cdrom".into(),
        source: Some(DiskSource::File("/isos/x.iso".into())),
        readonly: true,
        ..Disk::default()
    };
    let key = d.add_device(&cd).unwrap();
    // q35: CD-ROMs go on SATA, after sda.
    assert_eq!(key.target.as_deref(), Some("sdb"));
    let added: Disk = d.device(&key).unwrap();
    assert_eq!(added.bus.as_deref(), Some("sata"));
    let nic = d
        .add_device(&Interface::on_network("default", Some("virtio")))
        .unwrap();
    let mac = nic.mac.clone().unwrap();
    assert!(
        mac.starts_with("52:54:00:") && mac != "52:54:00:aa:bb:cc",
        "{mac}"
    );
    // A device given as text, as a person or libvirt wrote it.
    let rng = d
        .add_device_xml(
            "<rng model='virtio'>\n  <backend model='random'>/dev/urandom</backend>\n</rng>",
        )
        .unwrap();
    assert_eq!(rng.kind, DeviceKind::Rng);
    let rng_xml = "\t\t<rng model='virtio'>\r\n\t\t\t<backend model='random'>/dev/urandom</backend>\r\n\t\t</rng>\r\n\t</devices>";
    assert!(d.text().contains(rng_xml), "{}", d.text());
    assert!(d.add_device_xml("<bogus/>").is_err());
    d.doc().check_index().unwrap();
}

#[test]
fn boot_order_moves_to_devices() {
    let mut d = DomainXml::parse(data(CRLF)).unwrap();
    let disks = d.devices_of::<Disk>();
    let nic = first::<Interface>(&d);
    d.set_boot_order(&[disks[1].0.clone(), nic.clone(), disks[0].0.clone()])
        .unwrap();
    assert!(
        d.os().boot_devs.is_empty(),
        "libvirt refuses <boot dev> beside per-device order"
    );
    let order: Vec<_> = d
        .boot_order()
        .into_iter()
        .map(|(k, o)| (k.kind, o))
        .collect();
    assert_eq!(
        order,
        vec![
            (DeviceKind::Disk, 1),
            (DeviceKind::Interface, 2),
            (DeviceKind::Disk, 3)
        ]
    );
    d.doc().check_index().unwrap();
}

#[test]
fn metadata_of_others_is_left_alone() {
    let mut d = DomainXml::parse(data(CRLF)).unwrap();
    assert_eq!(d.os_id(), Some("http://debian.org/debian/12"));
    assert!(d.metadata_element(LIBOSINFO_NS).is_some());
    d.set_vireo_setting("console-scale", Some("1:1")).unwrap();
    d.set_vireo_setting("last-tab", Some("console")).unwrap();
    let settings = d.vireo_settings();
    assert_eq!(
        settings.get("console-scale").map(String::as_str),
        Some("1:1")
    );
    assert_eq!(settings.len(), 2);
    d.set_vireo_setting("console-scale", None).unwrap();
    d.set_vireo_setting("last-tab", None).unwrap();
    assert!(!d.is_changed(), "{}", d.diff());
}

/// Applies `forth`, which must change something, then `back`, which must give the
/// original document byte for byte.
fn round_trip(
    rel: &str,
    what: &str,
    forth: impl FnOnce(&mut DomainXml),
    back: impl FnOnce(&mut DomainXml),
) {
    let text = data(rel);
    let mut dom = DomainXml::parse(text.clone()).unwrap();
    forth(&mut dom);
    dom.doc().check_index().unwrap();
    assert!(dom.is_changed(), "{what}: the edit changed nothing");
    back(&mut dom);
    dom.doc().check_index().unwrap();
    assert!(
        dom.text() == text,
        "{what}: undoing does not give the original:\n{}",
        dom.diff()
    );
}

fn nth<T: vireo::virt::domain_xml::DeviceView>(
    dom: &DomainXml,
    pick: impl Fn(&T) -> bool,
) -> vireo::virt::domain_xml::DeviceKey {
    dom.devices_of::<T>()
        .into_iter()
        .find(|(_, d)| pick(d))
        .expect("such a device")
        .0
}

#[test]
fn golden_graphics_type_switch() {
    // SPICE to VNC: SPICE's own attribute and child go, with the agent channel and
    // the USB redirectors nothing would serve; port and autoport stay.
    golden(Q35, "q35--graphics-spice-to-vnc", |d| {
        let key = first::<Graphics>(d);
        d.set_graphics_type(&key, "vnc").unwrap();
        assert_eq!(d.device::<Graphics>(&key).unwrap().graphics_type, "vnc");
    });
    // VNC to SPICE: the type, and the agent's channel; the password stays.
    golden(VNC, "vnc--graphics-to-spice", |d| {
        let key = first::<Graphics>(d);
        d.set_graphics_type(&key, "spice").unwrap();
        let g: Graphics = d.device(&key).unwrap();
        assert_eq!(g.password.as_deref(), Some("&\""));
    });
    round_trip(
        VNC,
        "VNC to SPICE and back",
        |d| {
            let key = first::<Graphics>(d);
            d.set_graphics_type(&key, "spice").unwrap();
        },
        |d| {
            let key = first::<Graphics>(d);
            d.set_graphics_type(&key, "vnc").unwrap();
        },
    );
    // VNC's websocket goes on SPICE; a second SPICE display keeps the channels.
    let mut d = DomainXml::parse(data(MANY)).unwrap();
    let key = nth::<Graphics>(&d, |g| g.graphics_type == "vnc");
    let channels = d.devices_of::<CharDevice>().len();
    d.set_graphics_type(&key, "spice").unwrap();
    d.set_graphics_type(&key, "vnc").unwrap();
    assert_eq!(
        d.devices_of::<CharDevice>().len(),
        channels,
        "other SPICE displays use them"
    );
    // The same type changes nothing.
    let mut d = DomainXml::parse(data(VNC)).unwrap();
    let key = first::<Graphics>(&d);
    d.set_graphics_type(&key, "vnc").unwrap();
    assert!(!d.is_changed());
}

#[test]
fn golden_video_model() {
    golden(Q35, "q35--video-qxl-vram", |d| {
        let key = first::<Video>(d);
        d.set_video_model(&key, "qxl").unwrap();
        d.edit_device(&key, |v: &mut Video| v.vram = Some(65536))
            .unwrap();
    });
    // QXL's sizes and heads go to virtio, which keeps its 3D acceleration.
    golden(MANY, "many-devices--video-qxl-to-virtio", |d| {
        let key = nth::<Video>(d, |v| v.model.as_deref() == Some("qxl"));
        d.set_video_model(&key, "virtio").unwrap();
        let v: Video = d.device(&key).unwrap();
        assert_eq!((v.vram, v.heads, v.accel3d), (None, None, Some(true)));
    });
    round_trip(
        Q35,
        "virtio to VGA and back",
        |d| {
            let key = first::<Video>(d);
            d.set_video_model(&key, "vga").unwrap();
        },
        |d| {
            let key = first::<Video>(d);
            d.set_video_model(&key, "virtio").unwrap();
        },
    );
}

#[test]
fn golden_sound_input_watchdog() {
    golden(MANY, "many-devices--sound-input-watchdog", |d| {
        let sound = first::<Sound>(d);
        d.edit_device(&sound, |s: &mut Sound| s.model = Some("ac97".into()))
            .unwrap();
        let tablet = nth::<Input>(d, |i| i.input_type.as_deref() == Some("tablet"));
        d.edit_device(&tablet, |i: &mut Input| i.bus = Some("virtio".into()))
            .unwrap();
        let dog = first::<Watchdog>(d);
        d.edit_device(&dog, |w: &mut Watchdog| {
            w.model = Some("i6300esb".into());
            w.action = Some("reset".into());
        })
        .unwrap();
    });
    round_trip(
        MANY,
        "sound, input and watchdog and back",
        |d| {
            let sound = first::<Sound>(d);
            d.edit_device(&sound, |s: &mut Sound| s.model = Some("ac97".into()))
                .unwrap();
            let dog = first::<Watchdog>(d);
            d.edit_device(&dog, |w: &mut Watchdog| w.action = Some("reset".into()))
                .unwrap();
            let tablet = nth::<Input>(d, |i| i.input_type.as_deref() == Some("tablet"));
            d.edit_device(&tablet, |i: &mut Input| i.bus = Some("usb".into()))
                .unwrap();
        },
        |d| {
            let sound = first::<Sound>(d);
            d.edit_device(&sound, |s: &mut Sound| s.model = Some("ich9".into()))
                .unwrap();
            let dog = first::<Watchdog>(d);
            d.edit_device(&dog, |w: &mut Watchdog| w.action = Some("pause".into()))
                .unwrap();
            let tablet = nth::<Input>(d, |i| i.input_type.as_deref() == Some("tablet"));
            d.edit_device(&tablet, |i: &mut Input| i.bus = None)
                .unwrap();
        },
    );
}

#[test]
fn golden_rng_and_tpm_backends() {
    golden(Q35, "q35--rng-source-tpm-version", |d| {
        let rng = first::<Rng>(d);
        d.set_rng_backend(&rng, "random", Some("/dev/random"))
            .unwrap();
        let tpm = first::<Tpm>(d);
        d.set_tpm_backend(&tpm, "emulator", Some("2.0"), None)
            .unwrap();
        d.edit_device(&tpm, |t: &mut Tpm| t.model = Some("tpm-tis".into()))
            .unwrap();
    });
    // Passthrough to the emulator: the host device, the encryption secret and the PCR
    // banks go; the model stays.
    golden(MANY, "many-devices--tpm-passthrough-to-emulator", |d| {
        let tpm = first::<Tpm>(d);
        d.set_tpm_backend(&tpm, "emulator", Some("2.0"), None)
            .unwrap();
        let t: Tpm = d.device(&tpm).unwrap();
        assert_eq!(t.device_path, None);
        assert_eq!(t.model.as_deref(), Some("tpm-crb"));
    });
    round_trip(
        Q35,
        "RNG builtin and back",
        |d| {
            let rng = first::<Rng>(d);
            d.set_rng_backend(&rng, "builtin", None).unwrap();
            assert_eq!(d.device::<Rng>(&rng).unwrap().backend_path, None);
        },
        |d| {
            let rng = first::<Rng>(d);
            d.set_rng_backend(&rng, "random", None).unwrap();
        },
    );
    round_trip(
        Q35,
        "TPM passthrough and back",
        |d| {
            let tpm = first::<Tpm>(d);
            d.set_tpm_backend(&tpm, "passthrough", None, Some("/dev/tpm0"))
                .unwrap();
            let t: Tpm = d.device(&tpm).unwrap();
            assert_eq!(t.device_path.as_deref(), Some("/dev/tpm0"));
        },
        |d| {
            let tpm = first::<Tpm>(d);
            d.set_tpm_backend(&tpm, "emulator", None, None).unwrap();
        },
    );
}

#[test]
fn golden_controller_model() {
    golden(Q35, "q35--usb-controller-model", |d| {
        let usb = nth::<Controller>(d, |c| c.controller_type.as_deref() == Some("usb"));
        d.edit_device(&usb, |c: &mut Controller| {
            c.model = Some("ich9-ehci1".into());
            c.ports = None;
        })
        .unwrap();
    });
}

#[test]
fn golden_serial_controller_filesystem() {
    // The serial port writes to a file, and its console twin with it; USB 3 replaces
    // USB 2 and its companions; the 9p share becomes virtiofs, with shared memory.
    golden(SERIAL_USB2_9P, "serial-usb2-9p--file-usb3-virtiofs", |d| {
        let serial = first::<CharDevice>(d);
        d.set_char_source(&serial, "file", Some("/var/log/guest.log"))
            .unwrap();
        let console = nth::<CharDevice>(d, |c| c.kind == DeviceKind::Console);
        assert_eq!(
            d.device::<CharDevice>(&console)
                .unwrap()
                .source_path
                .as_deref(),
            Some("/var/log/guest.log")
        );
        let usb = first::<Controller>(d);
        d.set_controller_model(&usb, "qemu-xhci").unwrap();
        assert_eq!(d.devices_of::<Controller>().len(), 1, "the companions go");
        let fs = first::<Filesystem>(d);
        d.set_filesystem_driver(&fs, "virtiofs").unwrap();
    });
    // A USB serial port: libvirt picks its model again.
    golden(SERIAL_USB2_9P, "serial-usb2-9p--usb-serial", |d| {
        let serial = first::<CharDevice>(d);
        d.set_char_target_type(&serial, "usb-serial").unwrap();
    });
    round_trip(
        SERIAL_USB2_9P,
        "serial to a socket and back",
        |d| {
            let serial = first::<CharDevice>(d);
            d.set_char_source(&serial, "unix", Some("/run/guest.sock"))
                .unwrap();
            let s: CharDevice = d.device(&serial).unwrap();
            assert_eq!(
                (s.char_type.as_str(), s.source_path.as_deref()),
                ("unix", Some("/run/guest.sock"))
            );
        },
        |d| {
            let serial = first::<CharDevice>(d);
            d.set_char_source(&serial, "pty", None).unwrap();
        },
    );
    round_trip(
        SERIAL_USB2_9P,
        "the share's tag and source and back",
        |d| {
            let fs = first::<Filesystem>(d);
            d.edit_device(&fs, |f: &mut Filesystem| {
                f.source_dir = Some("/srv/other".into());
                f.target_dir = Some("other".into());
            })
            .unwrap();
        },
        |d| {
            let fs = first::<Filesystem>(d);
            d.edit_device(&fs, |f: &mut Filesystem| {
                f.source_dir = Some("/srv/share".into());
                f.target_dir = Some("share".into());
            })
            .unwrap();
        },
    );
}
