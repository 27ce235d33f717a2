//! The names a person sees for a VM's devices in the Hardware list, as virt-manager
//! names them ("VirtIO Disk 1", "SATA CD-ROM 1", "NIC :12:34:56", "Tablet"), and the
//! icon each kind shows.

use gettextrs::gettext;

use crate::i18n::gettext_f;
use crate::virt::domain_xml::{DeviceKey, DeviceKind, DomainXml};

/// Names people know libvirt's values by, where they differ from the value: buses,
/// protocols and models in their usual spelling, words translated. The Hardware
/// list's titles and the pages' choices both read them; the names are unique, so a
/// choice's value is found back from its name.
pub fn value_names() -> Vec<(&'static str, String)> {
    vec![
        ("virtio", "VirtIO".to_owned()),
        ("sata", "SATA".to_owned()),
        ("scsi", "SCSI".to_owned()),
        ("ide", "IDE".to_owned()),
        ("usb", "USB".to_owned()),
        ("sd", "SD".to_owned()),
        ("pci", "PCI".to_owned()),
        ("ps2", "PS/2".to_owned()),
        ("xen", "Xen".to_owned()),
        ("fdc", gettext("Floppy")),
        ("vnc", "VNC".to_owned()),
        ("spice", "SPICE".to_owned()),
        ("qxl", "QXL".to_owned()),
        ("vga", "VGA".to_owned()),
        ("bochs", "Bochs".to_owned()),
        ("tpm", "TPM".to_owned()),
        ("rng", "RNG".to_owned()),
        ("tablet", gettext("Tablet")),
        ("mouse", gettext("Mouse")),
        ("keyboard", gettext("Keyboard")),
        ("serial", gettext("Serial port")),
        ("isa-serial", "ISA".to_owned()),
        ("usb-serial", gettext("USB serial adapter")),
        ("pci-serial", gettext("PCI serial card")),
        ("ich9", "ICH9 (HD Audio)".to_owned()),
        ("ich6", "ICH6 (HD Audio)".to_owned()),
        ("ac97", "AC'97".to_owned()),
        ("i6300esb", "i6300ESB".to_owned()),
        ("itco", "iTCO".to_owned()),
        ("ib700", "IB700".to_owned()),
        ("tpm-crb", "CRB".to_owned()),
        ("tpm-tis", "TIS".to_owned()),
        ("rtl8139", "RTL8139".to_owned()),
        // A disk's cache modes.
        ("default", gettext("Hypervisor default")),
        ("none", gettext("None")),
        ("writethrough", gettext("Write-through")),
        ("writeback", gettext("Write-back")),
        ("directsync", gettext("Direct sync")),
        ("unsafe", gettext("Unsafe")),
    ]
}

/// The name people know `value` by, when it is not the value itself.
pub fn value_name(value: &str) -> Option<String> {
    value_names()
        .into_iter()
        .find(|(v, _)| *v == value)
        .map(|(_, name)| name)
}

/// A bus or model written as people read it (`virtio` → `VirtIO`, `sata` → `SATA`),
/// else capitalised.
fn pretty(word: &str) -> String {
    value_name(word).unwrap_or_else(|| {
        let mut c = word.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    })
}

/// What the Hardware list calls the device `key` of `dom`.
pub fn device_title(dom: &DomainXml, key: &DeviceKey) -> String {
    let Ok(el) = dom.resolve(key) else {
        return key.to_string();
    };
    let d = dom.doc();
    let attr = |path: &str, name: &str| {
        if path.is_empty() {
            d.attr(el, name).map(str::to_owned)
        } else {
            d.child(el, path)
                .and_then(|c| d.attr(c, name).map(str::to_owned))
        }
    };
    let n = (key.index + 1).to_string();
    match key.kind {
        DeviceKind::Disk => {
            let bus = attr("target", "bus")
                .map(|b| pretty(&b))
                .unwrap_or_default();
            let what = match attr("", "device").as_deref() {
                Some("cdrom") => gettext("CD-ROM"),
                Some("floppy") => gettext("Floppy"),
                Some("lun") => gettext("LUN"),
                _ => gettext("Disk"),
            };
            let target = key.target.clone().unwrap_or(n);
            format!("{bus} {what} {target}").trim().to_owned()
        }
        DeviceKind::Interface => match &key.mac {
            Some(mac) if mac.len() > 8 => gettext_f("NIC {mac}", &[("mac", &mac[8..])]),
            _ => gettext_f("NIC {n}", &[("n", &n)]),
        },
        DeviceKind::Input => {
            let kind = attr("", "type").unwrap_or_default();
            match kind.as_str() {
                "tablet" => gettext("Tablet"),
                "mouse" => gettext("Mouse"),
                "keyboard" => gettext("Keyboard"),
                other => gettext_f("Input {kind}", &[("kind", other)]),
            }
        }
        DeviceKind::Graphics => gettext_f(
            "Display {kind}",
            &[("kind", &pretty(&attr("", "type").unwrap_or_default()))],
        ),
        DeviceKind::Video => gettext_f(
            "Video {model}",
            &[("model", &pretty(&attr("model", "type").unwrap_or_default()))],
        ),
        DeviceKind::Sound => gettext_f(
            "Sound {model}",
            &[("model", &pretty(&attr("", "model").unwrap_or_default()))],
        ),
        DeviceKind::Controller => {
            let kind = pretty(&attr("", "type").unwrap_or_default());
            let index = attr("", "index").unwrap_or_else(|| "0".into());
            gettext_f(
                "Controller {kind} {index}",
                &[("kind", &kind), ("index", &index)],
            )
        }
        DeviceKind::Serial => gettext_f("Serial {n}", &[("n", &n)]),
        DeviceKind::Parallel => gettext_f("Parallel {n}", &[("n", &n)]),
        DeviceKind::Console => gettext_f("Console {n}", &[("n", &n)]),
        DeviceKind::Channel => match attr("target", "name") {
            Some(name) => gettext_f("Channel {name}", &[("name", &name)]),
            None => gettext_f("Channel {n}", &[("n", &n)]),
        },
        // As virt-manager names them: the USB ids, the PCI address.
        DeviceKind::Hostdev => {
            let kind = attr("", "type").unwrap_or_default();
            let source = |tag: &str, name: &str| {
                d.child(el, "source")
                    .and_then(|s| d.child(s, tag))
                    .and_then(|c| d.attr(c, name))
                    .map(|v| v.trim_start_matches("0x").to_owned())
            };
            match (
                kind.as_str(),
                source("vendor", "id"),
                source("product", "id"),
            ) {
                ("usb", Some(vendor), Some(product)) => format!("USB {vendor}:{product}"),
                ("pci", ..) => match (
                    source("address", "domain"),
                    source("address", "bus"),
                    source("address", "slot"),
                    source("address", "function"),
                ) {
                    (Some(dom), Some(bus), Some(slot), Some(function)) => {
                        format!("PCI {dom:0>4}:{bus:0>2}:{slot:0>2}.{function}")
                    }
                    _ => gettext_f("Host Device PCI {n}", &[("n", &n)]),
                },
                _ => gettext_f(
                    "Host Device {kind} {n}",
                    &[("kind", &pretty(&kind)), ("n", &n)],
                ),
            }
        }
        DeviceKind::Redirdev => gettext_f("USB Redirector {n}", &[("n", &n)]),
        DeviceKind::Tpm => gettext("TPM"),
        DeviceKind::Rng => gettext("Random Number Generator"),
        DeviceKind::Watchdog => gettext("Watchdog"),
        DeviceKind::Memballoon => gettext("Memory Balloon"),
        DeviceKind::Panic => gettext("Panic Notifier"),
        DeviceKind::Filesystem => gettext_f(
            "Filesystem {target}",
            &[("target", &key.target.clone().unwrap_or(n))],
        ),
        DeviceKind::Smartcard => gettext("Smartcard"),
        other => format!("{} {n}", pretty(other.element())),
    }
}

/// The symbolic icon the Hardware list shows for a device of kind `kind` whose
/// `<disk device>` is `disk_device`.
pub fn device_icon(kind: DeviceKind, disk_device: Option<&str>) -> &'static str {
    match (kind, disk_device) {
        (DeviceKind::Disk, Some("cdrom")) => "media-optical-symbolic",
        (DeviceKind::Disk, Some("floppy")) => "media-floppy-symbolic",
        (DeviceKind::Disk, _) => "drive-harddisk-symbolic",
        (DeviceKind::Interface, _) => "network-wired-symbolic",
        (DeviceKind::Input, _) => "input-mouse-symbolic",
        (DeviceKind::Graphics | DeviceKind::Video, _) => "video-display-symbolic",
        (DeviceKind::Sound | DeviceKind::Audio, _) => "audio-speakers-symbolic",
        (DeviceKind::Serial | DeviceKind::Console | DeviceKind::Channel, _) => {
            "utilities-terminal-symbolic"
        }
        (DeviceKind::Hostdev | DeviceKind::Redirdev, _) => "media-removable-symbolic",
        (DeviceKind::Memballoon, _) => "drive-multidisk-symbolic",
        (DeviceKind::Filesystem, _) => "folder-symbolic",
        (DeviceKind::Tpm | DeviceKind::Smartcard, _) => "security-high-symbolic",
        (DeviceKind::Watchdog, _) => "alarm-symbolic",
        (DeviceKind::Rng, _) => "media-playlist-shuffle-symbolic",
        (DeviceKind::Panic, _) => "dialog-warning-symbolic",
        _ => "application-x-firmware-symbolic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_has_its_own_name() {
        let names = value_names();
        for (i, (value, name)) in names.iter().enumerate() {
            assert!(
                names[i + 1..].iter().all(|(v, n)| v != value && n != name),
                "{value} / {name} twice"
            );
            // A name that read as another value would find the wrong value back.
            assert!(names.iter().all(|(v, _)| v == value || v != name), "{name}");
        }
        assert_eq!(pretty("virtio"), "VirtIO");
        assert_eq!(pretty("e1000e"), "E1000e");
        assert_eq!(value_name("e1000e"), None);
    }
}
