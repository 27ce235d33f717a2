//! Document layer benchmark: prints figures, never passes or fails on time.
//!
//! - parse + print of the whole virt-manager corpus (`tests/data/virt-manager`): files
//!   per second and MB per second;
//! - opening a VM with 60 devices into typed views (what the details pages do);
//! - a set of edits on that VM: microseconds per edit (each on a fresh copy of the
//!   parsed document; the copy's cost is given apart), and the diff shown before
//!   applying.
//!
//! Times are the CPU time of the benchmark's thread, so that other work on the machine
//! does not inflate them.
//!
//! Run: `cargo bench --bench domain_xml` (under `cargo test` it makes one quick pass).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use vireo::virt::domain_xml::devices::{
    CharDevice, Controller, Disk, DiskSource, Filesystem, Graphics, Hostdev, Input, Interface,
    Listen, Rng, Sound, Tpm, Video, Watchdog,
};
use vireo::virt::domain_xml::{DeviceKey, DomainXml, XmlDoc};

/// CPU time this thread has used so far (`CLOCK_THREAD_CPUTIME_ID`, which counts the
/// current time slice too, unlike the per-tick figures of /proc).
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Time of `f` per call: the median of `rounds` rounds of `per_round` calls.
fn time_per_call(rounds: usize, per_round: usize, mut f: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = cpu_now();
            for _ in 0..per_round {
                f();
            }
            (cpu_now() - start) / per_round as u32
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/virt-manager");
    let mut out = Vec::new();
    for dir in ["compare", "xmlparse"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("tests/data/virt-manager")
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| std::fs::read_to_string(p).unwrap()));
    }
    out
}

/// A VM with 60 devices, written as libvirt writes one.
fn sixty_devices() -> String {
    let mut d = String::from(
        "<domain type='kvm'>\n  <name>sixty</name>\n  <uuid>2b3c4d5e-0000-4000-8000-000000000060</uuid>\n  \
         <memory unit='KiB'>4194304</memory>\n  <currentMemory unit='KiB'>4194304</currentMemory>\n  \
         <vcpu placement='static'>4</vcpu>\n  <os>\n    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n    \
         <boot dev='hd'/>\n  </os>\n  <features>\n    <acpi/>\n    <apic/>\n  </features>\n  \
         <cpu mode='host-passthrough' check='none' migratable='on'/>\n  <clock offset='utc'/>\n  <devices>\n    \
         <emulator>/usr/bin/qemu-system-x86_64</emulator>\n",
    );
    let letters = |i: usize| ((b'a' + i as u8) as char).to_string();
    for i in 0..20 {
        d += &format!(
            "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2' discard='unmap'/>\n      \
             <source file='/var/lib/libvirt/images/sixty-{i}.qcow2'/>\n      <target dev='vd{}' bus='virtio'/>\n      \
             <address type='pci' domain='0x0000' bus='0x{:02x}' slot='0x00' function='0x0'/>\n    </disk>\n",
            letters(i),
            i + 1
        );
    }
    d += "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n";
    for i in 0..6 {
        d += &format!(
            "    <controller type='pci' index='{}' model='pcie-root-port'/>\n",
            i + 1
        );
    }
    for i in 0..10 {
        d += &format!(
            "    <interface type='network'>\n      <mac address='52:54:00:00:60:{i:02x}'/>\n      \
             <source network='default'/>\n      <model type='virtio'/>\n    </interface>\n"
        );
    }
    d += "    <serial type='pty'>\n      <target type='isa-serial' port='0'/>\n    </serial>\n    \
          <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n    \
          <channel type='unix'>\n      <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n";
    for bus in ["usb", "ps2", "virtio", "usb"] {
        d += &format!("    <input type='tablet' bus='{bus}'/>\n");
    }
    d += "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n    \
          <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>\n      <listen type='address' address='127.0.0.1'/>\n    </graphics>\n    \
          <graphics type='spice' autoport='yes'>\n      <listen type='address'/>\n    </graphics>\n    \
          <sound model='ich9'/>\n    <video>\n      <model type='virtio' heads='1' primary='yes'/>\n    </video>\n";
    for i in 0..5 {
        d += &format!(
            "    <hostdev mode='subsystem' type='usb' managed='yes'>\n      <source>\n        \
             <vendor id='0x046d'/>\n        <product id='0x0a{i:02x}'/>\n      </source>\n    </hostdev>\n"
        );
    }
    for i in 0..3 {
        d += &format!(
            "    <filesystem type='mount' accessmode='passthrough'>\n      <driver type='virtiofs'/>\n      \
             <source dir='/srv/share{i}'/>\n      <target dir='share{i}'/>\n    </filesystem>\n"
        );
    }
    d += "    <watchdog model='itco' action='reset'/>\n    <memballoon model='virtio'/>\n    \
          <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n  </devices>\n</domain>\n";
    d
}

/// Everything a details page reads when it opens.
fn open_views(text: &str) -> usize {
    let dom = DomainXml::parse(text.to_owned()).expect("valid");
    let mut n = 0;
    black_box((
        dom.name(),
        dom.title(),
        dom.memory(),
        dom.current_memory(),
        dom.vcpus(),
    ));
    black_box((
        dom.cpu(),
        dom.os(),
        dom.features(),
        dom.os_id(),
        dom.boot_order(),
    ));
    n += dom.devices().len();
    n += black_box(dom.devices_of::<Disk>()).len();
    n += black_box(dom.devices_of::<Interface>()).len();
    n += black_box(dom.devices_of::<Graphics>()).len();
    n += black_box(dom.devices_of::<Video>()).len();
    n += black_box(dom.devices_of::<Sound>()).len();
    n += black_box(dom.devices_of::<Input>()).len();
    n += black_box(dom.devices_of::<CharDevice>()).len();
    n += black_box(dom.devices_of::<Hostdev>()).len();
    n += black_box(dom.devices_of::<Tpm>()).len();
    n += black_box(dom.devices_of::<Rng>()).len();
    n += black_box(dom.devices_of::<Watchdog>()).len();
    n += black_box(dom.devices_of::<Controller>()).len();
    n += black_box(dom.devices_of::<Filesystem>()).len();
    n
}

/// The keys the edits use, read once (a details page holds them).
struct Keys {
    disk17: DeviceKey,
    cdrom: DeviceKey,
    nic8: DeviceKey,
    nic5: DeviceKey,
    vnc: DeviceKey,
    boot: [DeviceKey; 2],
}

impl Keys {
    fn of(d: &DomainXml) -> Keys {
        let disks = d.devices_of::<Disk>();
        let nics = d.devices_of::<Interface>();
        Keys {
            disk17: disks[16].0.clone(),
            cdrom: disks[20].0.clone(),
            nic8: nics[7].0.clone(),
            nic5: nics[4].0.clone(),
            vnc: d.devices_of::<Graphics>()[0].0.clone(),
            boot: [disks[2].0.clone(), nics[0].0.clone()],
        }
    }
}

type Edit = (&'static str, fn(&mut DomainXml, &Keys));

fn edits() -> Vec<Edit> {
    vec![
        ("memory (set 6 GiB)", |d, _| {
            d.set_memory_kib(6 << 20).unwrap()
        }),
        ("vCPUs (set 8, 4 online)", |d, _| {
            d.set_vcpus(8, Some(4)).unwrap()
        }),
        ("title", |d, _| d.set_title(Some("Sixty devices")).unwrap()),
        ("disk 17: cache, read-only", |d, k| {
            d.edit_device(&k.disk17, |x: &mut Disk| {
                x.cache = Some("none".into());
                x.readonly = true;
            })
            .unwrap()
        }),
        ("CD-ROM: insert medium", |d, k| {
            d.edit_device(&k.cdrom, |x: &mut Disk| {
                x.source = Some(DiskSource::File("/isos/a.iso".into()))
            })
            .unwrap()
        }),
        ("NIC 8: link down", |d, k| {
            d.edit_device(&k.nic8, |x: &mut Interface| x.link_up = Some(false))
                .unwrap()
        }),
        ("VNC: listen, password", |d, k| {
            d.edit_device(&k.vnc, |x: &mut Graphics| {
                x.listen = Listen::Address("0.0.0.0".into());
                x.password = Some("secret".into());
            })
            .unwrap()
        }),
        ("add a disk (free target)", |d, _| {
            let disk = Disk {
                source: Some(DiskSource::File("/var/lib/libvirt/images/new.qcow2".into())),
                format: Some("qcow2".into()),
                ..Disk::default()
            };
            d.add_device(&disk).unwrap();
        }),
        ("add a NIC (new MAC)", |d, _| {
            d.add_device(&Interface::on_network("default", Some("virtio")))
                .unwrap();
        }),
        ("remove NIC 5", |d, k| {
            d.remove_device(&k.nic5).unwrap();
        }),
        ("boot order: disk 3, NIC 1", |d, k| {
            d.set_boot_order(&k.boot).unwrap()
        }),
    ]
}

/// Time per edit: applied once to each of `copies` copies made beforehand, so that
/// copying is not counted; the median of `rounds` rounds.
fn time_edit(
    dom: &DomainXml,
    keys: &Keys,
    edit: fn(&mut DomainXml, &Keys),
    rounds: usize,
    copies: usize,
) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let mut docs: Vec<DomainXml> = (0..copies).map(|_| dom.clone()).collect();
            let start = cpu_now();
            for d in &mut docs {
                edit(d, keys);
            }
            let t = (cpu_now() - start) / copies as u32;
            black_box(docs);
            t
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, scale) = if full { (9, 1) } else { (1, 0) };
    println!(
        "domain_xml benchmark ({}; times are this thread's CPU time)",
        if full { "full" } else { "quick pass" }
    );

    let docs = corpus();
    let bytes: usize = docs.iter().map(String::len).sum();
    let passes = if full { 50 } else { 1 };
    let start = cpu_now();
    for _ in 0..passes {
        for text in &docs {
            let doc = XmlDoc::parse(text.clone()).expect("corpus document");
            black_box(doc.text().as_bytes());
        }
    }
    let secs = (cpu_now() - start).as_secs_f64();
    let files = (docs.len() * passes) as f64;
    println!(
        "corpus parse + print: {} files, {:.0} KiB; {:.0} files/s, {:.1} MB/s ({:.1} µs per file)",
        docs.len(),
        bytes as f64 / 1024.0,
        files / secs,
        (bytes * passes) as f64 / secs / 1e6,
        secs / files * 1e6
    );

    let sixty = sixty_devices();
    let dom = DomainXml::parse(sixty.clone()).expect("the 60-device VM");
    assert_eq!(dom.devices().len(), 60, "the VM has 60 devices");
    let per = 20 + 200 * scale;
    println!(
        "60-device VM: {} lines, {:.1} KiB",
        sixty.lines().count(),
        sixty.len() as f64 / 1024.0
    );
    println!(
        "  open into typed views: {}",
        us(time_per_call(rounds, per, || {
            black_box(open_views(&sixty));
        }))
    );
    println!(
        "  parse only: {}",
        us(time_per_call(rounds, per, || {
            black_box(DomainXml::parse(sixty.clone()).unwrap());
        }))
    );
    println!(
        "  copy of the parsed document: {}",
        us(time_per_call(rounds, per, || {
            black_box(dom.clone());
        }))
    );
    let keys = Keys::of(&dom);
    for (name, edit) in edits() {
        println!(
            "  edit: {name}: {}",
            us(time_edit(&dom, &keys, edit, rounds, per))
        );
    }
    let mut edited = dom.clone();
    for (_, edit) in edits() {
        edit(&mut edited, &keys);
    }
    println!(
        "  diff of all these edits ({} lines): {}",
        edited.diff().lines().count(),
        us(time_per_call(rounds, per, || {
            black_box(edited.diff());
        }))
    );
}
