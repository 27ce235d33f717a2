//! The names a person sees for a VM's devices in the Hardware list, as virt-manager
//! names them ("VirtIO Disk 1", "SATA CD-ROM 1", "NIC :12:34:56", "Tablet"), and the
//! icon each kind shows.

use gettextrs::gettext;

use crate::i18n::gettext_f;
use crate::virt::domain_xml::{DeviceKey, DeviceKind, DomainXml};

/// A bus or model written as people read it (`virtio` → `VirtIO`, `sata` → `SATA`).
fn pretty(word: &str) -> String {
    match word {
        "virtio" => "VirtIO".into(),
        "sata" | "scsi" | "ide" | "usb" | "sd" | "vnc" | "qxl" | "vga" | "tpm" | "rng" | "pci" => {
            word.to_uppercase()
        }
        "spice" => "Spice".into(),
        "bochs" => "Bochs".into(),
        "fdc" => gettext("Floppy"),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
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
            &[("model", &attr("", "model").unwrap_or_default())],
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
        DeviceKind::Hostdev => gettext_f(
            "Host Device {kind} {n}",
            &[
                ("kind", &pretty(&attr("", "type").unwrap_or_default())),
                ("n", &n),
            ],
        ),
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
        _ => "application-x-firmware-symbolic",
    }
}
