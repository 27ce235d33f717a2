//! Turns a [`NewVmSpec`] into domain XML with modern defaults for its OS, and writes
//! storage volume XML.

use std::fmt::Write;

use super::{
    DiskFormat, DisplayProtocol, Firmware, InstallMethod, MediaSource, NetworkChoice, NewVmSpec,
    Storage,
};

/// Escapes text for XML attributes and content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Volume XML: `capacity` in bytes, allocated lazily; `backing` makes it a
/// copy-on-write overlay of another image (cloud images stay untouched).
pub fn volume_xml(
    name: &str,
    capacity: u64,
    format: DiskFormat,
    backing: Option<(&str, DiskFormat)>,
) -> String {
    let mut x = String::new();
    let _ = writeln!(x, "<volume type='file'>");
    let _ = writeln!(x, "  <name>{}</name>", escape(name));
    let _ = writeln!(x, "  <capacity unit='bytes'>{capacity}</capacity>");
    let _ = writeln!(x, "  <allocation unit='bytes'>0</allocation>");
    let _ = writeln!(x, "  <target>");
    let _ = writeln!(x, "    <format type='{}'/>", format.as_str());
    let _ = writeln!(x, "  </target>");
    if let Some((path, fmt)) = backing {
        let _ = writeln!(x, "  <backingStore>");
        let _ = writeln!(x, "    <path>{}</path>", escape(path));
        let _ = writeln!(x, "    <format type='{}'/>", fmt.as_str());
        let _ = writeln!(x, "  </backingStore>");
    }
    let _ = writeln!(x, "</volume>");
    x
}

/// Free PCIe root ports left on a Q35 machine for devices hot-plugged later (libvirt
/// adds the ports the defined devices need on top of these, they are not used up).
const SPARE_ROOT_PORTS: usize = 4;

struct Buses {
    disk_bus: &'static str,
    disk_prefix: &'static str,
    cdrom_bus: &'static str,
    cdrom_prefix: &'static str,
}

fn buses(spec: &NewVmSpec) -> Buses {
    let p = spec.profile();
    let (cdrom_bus, cdrom_prefix) = if spec.is_q35() || !spec.is_x86() {
        // Q35 has no IDE; SATA (AHCI) CD-ROMs boot everywhere.
        ("sata", "sd")
    } else {
        ("ide", "hd")
    };
    let (disk_bus, disk_prefix) = if p.virtio_blk {
        ("virtio", "vd")
    } else {
        (cdrom_bus, cdrom_prefix)
    };
    Buses {
        disk_bus,
        disk_prefix,
        cdrom_bus,
        cdrom_prefix,
    }
}

/// Hands out target names per prefix, so that a disk and a CD-ROM on the same bus
/// get `hda` and `hdb`, never the same name.
#[derive(Default)]
struct Targets(Vec<(&'static str, u8)>);

impl Targets {
    fn next(&mut self, prefix: &'static str) -> String {
        let i = match self.0.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.0.push((prefix, 1));
                0
            }
        };
        format!("{prefix}{}", (b'a' + i) as char)
    }
}

/// The domain XML of a spec. `install` gives the first boot's (transient) definition
/// of a network install: the tree's kernel and initrd, and a stop at the installer's
/// reboot; the persistent definition boots the installed disk.
pub(super) fn domain_xml(spec: &NewVmSpec, install: bool) -> String {
    let p = spec.profile();
    let x86 = spec.is_x86();
    let hw = matches!(spec.domain_type.as_str(), "kvm" | "qemu");
    let mut x = String::new();
    let w = &mut x;
    let _ = writeln!(w, "<domain type='{}'>", escape(&spec.domain_type));
    let _ = writeln!(w, "  <name>{}</name>", escape(&spec.name));
    if !p.id.is_empty() {
        // The same metadata virt-install writes: other tools read the OS from it.
        let _ = writeln!(w, "  <metadata>");
        let _ = writeln!(
            w,
            "    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>"
        );
        let _ = writeln!(w, "      <libosinfo:os id='{}'/>", escape(&p.id));
        let _ = writeln!(w, "    </libosinfo:libosinfo>");
        let _ = writeln!(w, "  </metadata>");
    }
    let _ = writeln!(w, "  <memory unit='MiB'>{}</memory>", spec.memory_mib);
    let _ = writeln!(
        w,
        "  <currentMemory unit='MiB'>{}</currentMemory>",
        spec.memory_mib
    );
    let _ = writeln!(w, "  <vcpu>{}</vcpu>", spec.vcpus);

    // <os>
    let fw = match spec.firmware {
        Firmware::Bios => String::new(),
        Firmware::Uefi => " firmware='efi'".to_owned(),
    };
    let _ = writeln!(w, "  <os{fw}>");
    // Drivers without machine types (the test driver) get none.
    let machine = if spec.machine.is_empty() {
        String::new()
    } else {
        format!(" machine='{}'", escape(&spec.machine))
    };
    let _ = writeln!(
        w,
        "    <type arch='{}'{machine}>hvm</type>",
        escape(&spec.arch)
    );
    if let (true, InstallMethod::NetworkTree { url, boot }) = (install, &spec.install) {
        let _ = writeln!(w, "    <kernel>{}</kernel>", escape(&boot.kernel));
        let _ = writeln!(w, "    <initrd>{}</initrd>", escape(&boot.initrd));
        let args = [tree_cmdline(&p.short_id, url), boot.args.trim().to_owned()]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !args.is_empty() {
            let _ = writeln!(w, "    <cmdline>{}</cmdline>", escape(&args));
        }
    }
    let _ = writeln!(w, "  </os>");

    if x86 {
        let _ = writeln!(w, "  <features>");
        let _ = writeln!(w, "    <acpi/>");
        let _ = writeln!(w, "    <apic/>");
        if p.is_windows() && spec.domain_type == "kvm" {
            let _ = writeln!(w, "    <hyperv mode='custom'>");
            let _ = writeln!(w, "      <relaxed state='on'/>");
            let _ = writeln!(w, "      <vapic state='on'/>");
            let _ = writeln!(w, "      <spinlocks state='on' retries='8191'/>");
            let _ = writeln!(w, "    </hyperv>");
        }
        if hw {
            // VMware's backdoor port is only useful to VMware tools.
            let _ = writeln!(w, "    <vmport state='off'/>");
        }
        let _ = writeln!(w, "  </features>");
    }
    if spec.domain_type == "kvm" {
        // The host's own CPU: fastest; new VMs are not migration candidates yet.
        let _ = writeln!(
            w,
            "  <cpu mode='host-passthrough' check='none' migratable='on'/>"
        );
    }
    let offset = if p.is_windows() { "localtime" } else { "utc" };
    if x86 {
        let _ = writeln!(w, "  <clock offset='{offset}'>");
        let _ = writeln!(w, "    <timer name='rtc' tickpolicy='catchup'/>");
        let _ = writeln!(w, "    <timer name='pit' tickpolicy='delay'/>");
        let _ = writeln!(w, "    <timer name='hpet' present='no'/>");
        let _ = writeln!(w, "  </clock>");
        // S3/S4 inside guests confuse more than they help.
        let _ = writeln!(w, "  <pm>");
        let _ = writeln!(w, "    <suspend-to-mem enabled='no'/>");
        let _ = writeln!(w, "    <suspend-to-disk enabled='no'/>");
        let _ = writeln!(w, "  </pm>");
    } else {
        let _ = writeln!(w, "  <clock offset='{offset}'/>");
    }

    let _ = writeln!(w, "  <devices>");
    write_disks(w, spec);
    if p.virtio_net {
        // USB 3: every OS new enough for virtio has an xHCI driver. Older OSes get
        // libvirt's default (UHCI/EHCI) controller.
        let _ = writeln!(
            w,
            "    <controller type='usb' model='qemu-xhci' ports='15'/>"
        );
    }
    if spec.is_q35() {
        let _ = writeln!(w, "    <controller type='pci' model='pcie-root'/>");
        for _ in 0..SPARE_ROOT_PORTS {
            let _ = writeln!(w, "    <controller type='pci' model='pcie-root-port'/>");
        }
    }
    write_network(w, spec);
    // A serial port with the console on it: the serial console works from the first
    // boot of most installers (and of every cloud image).
    let _ = writeln!(w, "    <serial type='pty'>");
    let _ = writeln!(w, "      <target port='0'/>");
    let _ = writeln!(w, "    </serial>");
    let _ = writeln!(w, "    <console type='pty'>");
    let _ = writeln!(w, "      <target type='serial' port='0'/>");
    let _ = writeln!(w, "    </console>");
    if p.virtio_serial {
        let _ = writeln!(w, "    <channel type='unix'>");
        let _ = writeln!(w, "      <source mode='bind'/>");
        let _ = writeln!(
            w,
            "      <target type='virtio' name='org.qemu.guest_agent.0'/>"
        );
        let _ = writeln!(w, "    </channel>");
        if spec.display == DisplayProtocol::Spice {
            // spice-vdagent's channel: clipboard sharing and the screen size.
            let _ = writeln!(w, "    <channel type='spicevmc'>");
            let _ = writeln!(w, "      <target type='virtio' name='com.redhat.spice.0'/>");
            let _ = writeln!(w, "    </channel>");
        }
    }
    if p.usb_tablet {
        // Absolute pointer: the console needs no pointer grab.
        let _ = writeln!(w, "    <input type='tablet' bus='usb'/>");
    }
    // On loopback: Vireo connects through virDomainOpenGraphicsFD (local and remote
    // alike) and other tools (virt-viewer over SSH) still find a port.
    let kind = match spec.display {
        DisplayProtocol::Vnc => "vnc",
        DisplayProtocol::Spice => "spice",
    };
    let _ = writeln!(w, "    <graphics type='{kind}' autoport='yes'>");
    let _ = writeln!(w, "      <listen type='address' address='127.0.0.1'/>");
    let _ = writeln!(w, "    </graphics>");
    let video = if p.virtio_gpu { "virtio" } else { "vga" };
    let _ = writeln!(w, "    <video>");
    let _ = writeln!(w, "      <model type='{video}'/>");
    let _ = writeln!(w, "    </video>");
    if p.virtio_balloon {
        let _ = writeln!(w, "    <memballoon model='virtio'/>");
    } else {
        let _ = writeln!(w, "    <memballoon model='none'/>");
    }
    if p.virtio_rng {
        let _ = writeln!(w, "    <rng model='virtio'>");
        let _ = writeln!(w, "      <backend model='random'>/dev/urandom</backend>");
        let _ = writeln!(w, "    </rng>");
    }
    let _ = writeln!(w, "  </devices>");
    if install {
        let _ = writeln!(w, "  <on_reboot>destroy</on_reboot>");
    }
    let _ = writeln!(w, "</domain>");
    x
}

/// The kernel arguments that point an installer at its tree: Red Hat family
/// installers take `inst.repo=`, SUSE's `install=`; Debian and Ubuntu netboot
/// installers ask for a mirror themselves.
fn tree_cmdline(short_id: &str, url: &str) -> String {
    let redhat = [
        "fedora",
        "rhel",
        "centos",
        "rocky",
        "alma",
        "silverblue",
        "ol",
    ];
    let suse = ["opensuse", "sle", "suse"];
    if redhat.iter().any(|p| short_id.starts_with(p)) {
        format!("inst.repo={url}")
    } else if suse.iter().any(|p| short_id.starts_with(p)) {
        format!("install={url}")
    } else {
        String::new()
    }
}

fn write_disks(w: &mut String, spec: &NewVmSpec) {
    let b = buses(spec);
    let targets = std::cell::RefCell::new(Targets::default());
    // Boot order: a new, empty disk first — firmware skips an unbootable disk and
    // boots the installer, and after the install the VM boots the installed system
    // with no reconfiguration. An existing disk may already boot, so media go first.
    let new_disk = matches!(spec.storage, Storage::NewVolume { .. })
        && !matches!(spec.install, InstallMethod::CloudImage { .. });
    let media_first = !new_disk;
    let mut order = 1;
    let mut next_order = || {
        let o = order;
        order += 1;
        o
    };
    let main_disk = |w: &mut String, source: String, format: DiskFormat, order: usize| {
        let _ = writeln!(
            w,
            "    <disk type='{}' device='disk'>",
            source_type(&source)
        );
        let _ = writeln!(
            w,
            "      <driver name='qemu' type='{}' discard='unmap'/>",
            format.as_str()
        );
        let _ = writeln!(w, "      {}", source_elem(&source));
        let _ = writeln!(
            w,
            "      <target dev='{}' bus='{}'/>",
            targets.borrow_mut().next(b.disk_prefix),
            b.disk_bus
        );
        let _ = writeln!(w, "      <boot order='{order}'/>");
        let _ = writeln!(w, "    </disk>");
    };
    let media = |w: &mut String, source: Option<String>, order: Option<usize>| {
        let st = source.as_deref().map(source_type).unwrap_or("file");
        let _ = writeln!(w, "    <disk type='{st}' device='cdrom'>");
        let _ = writeln!(w, "      <driver name='qemu' type='raw'/>");
        if let Some(s) = &source {
            let _ = writeln!(w, "      {}", source_elem(s));
        }
        let _ = writeln!(
            w,
            "      <target dev='{}' bus='{}'/>",
            targets.borrow_mut().next(b.cdrom_prefix),
            b.cdrom_bus
        );
        let _ = writeln!(w, "      <readonly/>");
        if let Some(o) = order {
            let _ = writeln!(w, "      <boot order='{o}'/>");
        }
        let _ = writeln!(w, "    </disk>");
    };

    let install_media = match &spec.install {
        InstallMethod::LocalMedia(MediaSource::Path(p)) => Some(format!("file:{p}")),
        InstallMethod::LocalMedia(MediaSource::Volume { pool, volume }) => {
            Some(format!("volume:{pool}/{volume}"))
        }
        _ => None,
    };
    let media_order = if media_first && install_media.is_some() {
        Some(next_order())
    } else {
        None
    };
    match (&spec.install, &spec.storage) {
        (InstallMethod::ImportDisk { path, format }, _) => {
            let o = next_order();
            main_disk(w, format!("file:{path}"), *format, o);
        }
        (_, Storage::NewVolume { pool, .. }) => {
            let o = next_order();
            main_disk(
                w,
                format!("volume:{pool}/{}", spec.volume_name()),
                DiskFormat::Qcow2,
                o,
            );
        }
        (_, Storage::Existing { path }) => {
            let o = next_order();
            let fmt = if path.ends_with(".qcow2") {
                DiskFormat::Qcow2
            } else {
                DiskFormat::Raw
            };
            main_disk(w, format!("file:{path}"), fmt, o);
        }
        (_, Storage::None) => {}
    }
    match &spec.install {
        InstallMethod::LocalMedia(_) => {
            let o = media_order.or_else(|| Some(next_order()));
            media(w, install_media, o);
        }
        InstallMethod::CloudImage { .. } => {
            let pool = match &spec.storage {
                Storage::NewVolume { pool, .. } => pool.clone(),
                _ => "default".to_owned(),
            };
            media(
                w,
                Some(format!("volume:{pool}/{}", spec.seed_volume_name())),
                None,
            );
        }
        // An empty drive so that an ISO can be inserted later without new hardware.
        InstallMethod::Manual
        | InstallMethod::NetworkTree { .. }
        | InstallMethod::ImportDisk { .. } => media(w, None, None),
    }
}

fn source_type(source: &str) -> &'static str {
    if source.starts_with("volume:") {
        "volume"
    } else if source.starts_with("file:/dev/") {
        "block"
    } else {
        "file"
    }
}

fn source_elem(source: &str) -> String {
    if let Some(v) = source.strip_prefix("volume:") {
        let (pool, vol) = v.split_once('/').unwrap_or((v, ""));
        format!("<source pool='{}' volume='{}'/>", escape(pool), escape(vol))
    } else {
        let path = source.strip_prefix("file:").unwrap_or(source);
        if path.starts_with("/dev/") {
            format!("<source dev='{}'/>", escape(path))
        } else {
            format!("<source file='{}'/>", escape(path))
        }
    }
}

fn write_network(w: &mut String, spec: &NewVmSpec) {
    let p = spec.profile();
    let model = if p.virtio_net {
        "virtio"
    } else if spec.is_q35() {
        "e1000e"
    } else {
        "e1000"
    };
    let (ty, source) = match &spec.network {
        NetworkChoice::None => return,
        NetworkChoice::Nat { network } => (
            "network",
            Some(format!("<source network='{}'/>", escape(network))),
        ),
        NetworkChoice::Bridge { name } => (
            "bridge",
            Some(format!("<source bridge='{}'/>", escape(name))),
        ),
        NetworkChoice::User => ("user", None),
    };
    let _ = writeln!(w, "    <interface type='{ty}'>");
    if let Some(s) = source {
        let _ = writeln!(w, "      {s}");
    }
    let _ = writeln!(w, "      <model type='{model}'/>");
    let _ = writeln!(w, "    </interface>");
}
