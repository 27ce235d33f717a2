//! The order in which libvirt writes the children of the elements Vireo adds to, so
//! that a new element lands where `virsh dumpxml` would show it (libvirt accepts any
//! order; this only keeps the document the way people expect to read it).

use super::document::{NodeId, XmlDoc};

/// Children of `<domain>`, as libvirt formats them.
const DOMAIN: &[&str] = &[
    "name",
    "uuid",
    "genid",
    "title",
    "description",
    "metadata",
    "maxMemory",
    "memory",
    "currentMemory",
    "blkiotune",
    "memtune",
    "memoryBacking",
    "vcpu",
    "vcpus",
    "iothreads",
    "iothreadids",
    "defaultiothread",
    "cputune",
    "numatune",
    "resource",
    "sysinfo",
    "bootloader",
    "bootloader_args",
    "os",
    "idmap",
    "features",
    "cpu",
    "clock",
    "on_poweroff",
    "on_reboot",
    "on_crash",
    "on_lockfailure",
    "pm",
    "perf",
    "devices",
    "seclabel",
    "keywrap",
    "launchSecurity",
];

/// Children of `<devices>`: libvirt's (and virt-manager's) device order.
pub const DEVICES: &[&str] = &[
    "emulator",
    "disk",
    "controller",
    "lease",
    "filesystem",
    "interface",
    "smartcard",
    "serial",
    "parallel",
    "console",
    "channel",
    "input",
    "tpm",
    "graphics",
    "sound",
    "audio",
    "video",
    "hostdev",
    "redirdev",
    "redirfilter",
    "hub",
    "watchdog",
    "memballoon",
    "rng",
    "panic",
    "shmem",
    "memory",
    "iommu",
    "vsock",
    "crypto",
    "pstore",
];

const OS: &[&str] = &[
    "type", "firmware", "loader", "nvram", "kernel", "initrd", "cmdline", "dtb", "acpi", "boot",
    "bootmenu", "smbios", "bios",
];

const CPU: &[&str] = &[
    "model",
    "vendor",
    "topology",
    "cache",
    "maxphysaddr",
    "feature",
    "numa",
];

/// The children every device may have at its end, in libvirt's order.
const DEVICE_TAIL: &[&str] = &["boot", "alias", "acpi", "address"];

const DISK: &[&str] = &[
    "driver",
    "auth",
    "source",
    "backingStore",
    "geometry",
    "blockio",
    "target",
    "iotune",
    "readonly",
    "shareable",
    "transient",
    "serial",
    "wwn",
    "vendor",
    "product",
    "encryption",
];

const INTERFACE: &[&str] = &[
    "mac",
    "source",
    "virtualport",
    "ip",
    "route",
    "script",
    "target",
    "guest",
    "model",
    "driver",
    "backend",
    "filterref",
    "tune",
    "teaming",
    "link",
    "mtu",
    "bandwidth",
    "vlan",
    "port",
    "coalesce",
    "rom",
];

const GRAPHICS: &[&str] = &[
    "listen",
    "channel",
    "image",
    "jpeg",
    "zlib",
    "playback",
    "streaming",
    "clipboard",
    "mouse",
    "filetransfer",
    "gl",
    "audio",
];

/// The order of the children of an element named `parent` (whose own parent is named
/// `grandparent`), when Vireo knows it.
fn order(parent: &str, grandparent: &str) -> Option<Vec<&'static str>> {
    let device = |own: &[&'static str]| Some(own.iter().chain(DEVICE_TAIL).copied().collect());
    match (grandparent, parent) {
        (_, "domain") => Some(DOMAIN.to_vec()),
        ("domain", "devices") => Some(DEVICES.to_vec()),
        ("domain", "os") => Some(OS.to_vec()),
        ("domain", "cpu") => Some(CPU.to_vec()),
        ("devices", "disk") => device(DISK),
        ("devices", "interface") => device(INTERFACE),
        ("devices", "graphics") => device(GRAPHICS),
        ("devices", _) => device(&["driver", "source", "target", "model", "backend"]),
        _ => None,
    }
}

/// Where a new child named `name` goes among `parent`'s children: after the last one
/// of the same name when there is one (the document's own order wins), else after the
/// last child that libvirt writes before it (or at the end when the order is unknown).
pub(super) fn position(doc: &XmlDoc, parent: NodeId, name: &str) -> usize {
    let grandparent = doc.parent(parent).map_or("", |g| doc.name(g));
    let kids: Vec<NodeId> = doc.children(parent).collect();
    if let Some(last) = kids.iter().rposition(|&k| doc.is(k, name)) {
        return last + 1;
    }
    let Some(order) = order(doc.name(parent), grandparent) else {
        return kids.len();
    };
    let rank = |n: &str| order.iter().position(|o| *o == n);
    let Some(mine) = rank(name) else {
        return kids.len();
    };
    let mut at = 0;
    for (i, &k) in kids.iter().enumerate() {
        if doc.namespace(k).is_some() {
            continue;
        }
        if rank(doc.name(k)).is_some_and(|r| r <= mine) {
            at = i + 1;
        }
    }
    at
}
