//! What differs between a running domain and its saved definition: the changes that
//! wait for the next start.
//!
//! The live XML is not compared as text: libvirt fills it with what only a running
//! domain has (aliases, the host-side NIC name, a graphics port, the source's
//! `portid`, the expanded `host-model` CPU, backing chains). Only what a person
//! configures is compared: memory, vCPUs, the CPU's mode and topology, which devices
//! there are, and the fields of disks and NICs Vireo edits. A device is matched by its
//! [`DeviceKey`] (target, MAC, address, position), as the Hardware pages match it.

use super::devices::{Disk, DiskSource, Interface, InterfaceSource};
use super::{DeviceKey, DeviceKind, DomainXml};

/// A setting of the domain itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `<memory>`.
    Memory,
    /// `<currentMemory>`.
    CurrentMemory,
    /// `<vcpu>`: the maximum.
    MaxVcpus,
    /// `<vcpu current>`: the vCPUs online at boot.
    Vcpus,
    /// `<cpu mode>`.
    CpuMode,
    /// `<cpu><model>`.
    CpuModel,
    /// `<cpu><topology>`.
    Topology,
}

/// A field of a disk or NIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceField {
    /// A disk's medium or image, a NIC's network or bridge.
    Source,
    /// A disk's bus.
    Bus,
    /// A disk's image format.
    Format,
    /// A disk's cache mode.
    Cache,
    /// A disk is read-only.
    ReadOnly,
    /// A disk is shareable.
    Shareable,
    /// A NIC's model.
    Model,
    /// A NIC's link state.
    Link,
}

/// One value on either side of a difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An amount of memory.
    Kib(u64),
    /// A count.
    Count(u32),
    /// A word or path as libvirt writes it.
    Text(String),
    /// Yes or no.
    Flag(bool),
    /// Not set (libvirt's default; an empty drive).
    Unset,
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::Unset, Value::Text)
    }
}

/// One thing that differs: the first value is the running domain's, the second the
/// saved definition's (what the next start uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// A setting of the domain.
    Setting {
        setting: Setting,
        now: Value,
        next: Value,
    },
    /// A device only in the saved definition: it comes at the next start (its key in
    /// the saved document).
    DeviceAdded(DeviceKey),
    /// A device only in the running domain: it goes at the next start (its key in the
    /// live document).
    DeviceRemoved(DeviceKey),
    /// A device in both whose field differs (its key in the saved document).
    DeviceChanged {
        key: DeviceKey,
        field: DeviceField,
        now: Value,
        next: Value,
    },
}

/// What differs between the running domain's XML `live` and its saved definition
/// `saved`, settings first, then devices in the saved document's order, then devices
/// the running domain has and the saved one does not. Empty when they agree.
pub fn drift(live: &DomainXml, saved: &DomainXml) -> Vec<Drift> {
    let mut out = Vec::new();
    settings(live, saved, &mut out);
    devices(live, saved, &mut out);
    out
}

fn settings(live: &DomainXml, saved: &DomainXml, out: &mut Vec<Drift>) {
    let mut setting = |setting, now: Value, next: Value| {
        if now != next {
            out.push(Drift::Setting { setting, now, next });
        }
    };
    let kib = |v: Option<u64>| v.map_or(Value::Unset, Value::Kib);
    setting(
        Setting::Memory,
        kib(live.memory_kib()),
        kib(saved.memory_kib()),
    );
    setting(
        Setting::CurrentMemory,
        kib(live.current_memory_kib()),
        kib(saved.current_memory_kib()),
    );
    let (lv, sv) = (live.vcpus(), saved.vcpus());
    let max = |v: &Option<super::Vcpus>| v.as_ref().map_or(Value::Unset, |v| Value::Count(v.max));
    let online = |v: &Option<super::Vcpus>| {
        v.as_ref()
            .map_or(Value::Unset, |v| Value::Count(v.current.unwrap_or(v.max)))
    };
    setting(Setting::MaxVcpus, max(&lv), max(&sv));
    setting(Setting::Vcpus, online(&lv), online(&sv));

    let (lc, sc) = (live.cpu(), saved.cpu());
    // A running host-model CPU is written out as the custom model it became.
    if sc.mode.as_deref() != Some("host-model") {
        let mode = |m: &Option<String>| Value::Text(m.clone().unwrap_or_else(|| "custom".into()));
        setting(Setting::CpuMode, mode(&lc.mode), mode(&sc.mode));
        let custom = |m: &Option<String>| m.as_deref().map_or(true, |m| m == "custom");
        if custom(&lc.mode) && custom(&sc.mode) {
            setting(
                Setting::CpuModel,
                lc.model.clone().into(),
                sc.model.clone().into(),
            );
        }
    }
    let topology = |t: Option<super::Topology>| {
        t.map_or(Value::Unset, |t| {
            Value::Text(format!("{}×{}×{}", t.sockets, t.cores, t.threads))
        })
    };
    setting(
        Setting::Topology,
        topology(lc.topology),
        topology(sc.topology),
    );
}

fn devices(live: &DomainXml, saved: &DomainXml, out: &mut Vec<Drift>) {
    let mut matched = Vec::new();
    for key in saved.devices() {
        if ignored(key.kind) {
            continue;
        }
        let Some(live_key) = live.resolve(&key).ok().and_then(|el| live.key_of(el)) else {
            out.push(Drift::DeviceAdded(key));
            continue;
        };
        matched.push(live_key.clone());
        match key.kind {
            DeviceKind::Disk => {
                if let (Ok(now), Ok(next)) = (live.device(&live_key), saved.device(&key)) {
                    disk_fields(&key, &now, &next, out);
                }
            }
            DeviceKind::Interface => {
                if let (Ok(now), Ok(next)) = (live.device(&live_key), saved.device(&key)) {
                    nic_fields(&key, &now, &next, out);
                }
            }
            _ => {}
        }
    }
    for key in live.devices() {
        if !ignored(key.kind) && !matched.contains(&key) {
            out.push(Drift::DeviceRemoved(key));
        }
    }
}

/// Devices libvirt itself adds to or drops from the running domain (the `<emulator>`
/// path is no device; a lease or an audio backend is not a person's change).
fn ignored(kind: DeviceKind) -> bool {
    matches!(kind, DeviceKind::Audio | DeviceKind::Lease)
}

fn push_field(key: &DeviceKey, field: DeviceField, now: Value, next: Value, out: &mut Vec<Drift>) {
    if now != next {
        out.push(Drift::DeviceChanged {
            key: key.clone(),
            field,
            now,
            next,
        });
    }
}

fn disk_fields(key: &DeviceKey, now: &Disk, next: &Disk, out: &mut Vec<Drift>) {
    let source = |d: &Disk| match &d.source {
        None => Value::Unset,
        Some(DiskSource::Volume { pool, volume }) => Value::Text(format!("{pool}/{volume}")),
        Some(DiskSource::Network { protocol, name, .. }) => {
            Value::Text(format!("{protocol}:{}", name.as_deref().unwrap_or("")))
        }
        Some(_) => d.path().map_or(Value::Unset, |p| Value::Text(p.to_owned())),
    };
    push_field(key, DeviceField::Source, source(now), source(next), out);
    push_field(
        key,
        DeviceField::Bus,
        now.bus.clone().into(),
        next.bus.clone().into(),
        out,
    );
    // A running empty drive loses its format: it has no image to have one.
    if now.source.is_some() && next.source.is_some() {
        push_field(
            key,
            DeviceField::Format,
            now.format.clone().into(),
            next.format.clone().into(),
            out,
        );
    }
    push_field(
        key,
        DeviceField::Cache,
        now.cache.clone().into(),
        next.cache.clone().into(),
        out,
    );
    push_field(
        key,
        DeviceField::ReadOnly,
        Value::Flag(now.readonly),
        Value::Flag(next.readonly),
        out,
    );
    push_field(
        key,
        DeviceField::Shareable,
        Value::Flag(now.shareable),
        Value::Flag(next.shareable),
        out,
    );
}

fn nic_fields(key: &DeviceKey, now: &Interface, next: &Interface, out: &mut Vec<Drift>) {
    let source = |n: &Interface| match &n.source {
        InterfaceSource::Network(s) | InterfaceSource::Bridge(s) => Value::Text(s.clone()),
        InterfaceSource::Direct { dev, .. } => Value::Text(dev.clone()),
        InterfaceSource::User => Value::Text("user".into()),
        InterfaceSource::Other(t) => Value::Text(t.clone()),
    };
    push_field(key, DeviceField::Source, source(now), source(next), out);
    push_field(
        key,
        DeviceField::Model,
        now.model.clone().into(),
        next.model.clone().into(),
        out,
    );
    let link = |n: &Interface| Value::Flag(n.link_up.unwrap_or(true));
    push_field(key, DeviceField::Link, link(now), link(next), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A saved definition as `virsh dumpxml --inactive` gives it.
    const SAVED: &str = "<domain type='kvm'>
  <name>demo</name>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <cpu mode='host-model' check='partial'/>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <input type='tablet' bus='usb'>
      <address type='usb' bus='0' port='1'/>
    </input>
    <graphics type='vnc' port='-1' autoport='yes'>
      <listen type='address'/>
    </graphics>
  </devices>
</domain>
";

    /// The same domain running, with everything libvirt adds at start.
    const LIVE: &str = "<domain type='kvm' id='3'>
  <name>demo</name>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>Skylake-Client-IBRS</model>
    <feature policy='require' name='ss'/>
  </cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/demo.qcow2' index='2'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <alias name='sata0-0-0'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default' portid='5c1e' bridge='virbr0'/>
      <target dev='vnet2'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <input type='tablet' bus='usb'>
      <alias name='input0'/>
      <address type='usb' bus='0' port='1'/>
    </input>
    <audio id='1' type='none'/>
    <graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>
";

    fn docs(live: &str, saved: &str) -> (DomainXml, DomainXml) {
        (
            DomainXml::parse(live).expect("live parses"),
            DomainXml::parse(saved).expect("saved parses"),
        )
    }

    #[test]
    fn what_libvirt_adds_at_start_is_no_difference() {
        let (live, saved) = docs(LIVE, SAVED);
        assert_eq!(drift(&live, &saved), Vec::new());
    }

    #[test]
    fn settings_saved_for_the_next_start() {
        let saved = SAVED
            .replace(
                "<memory unit='KiB'>2097152</memory>",
                "<memory unit='GiB'>4</memory>",
            )
            .replace(
                "<vcpu placement='static'>2</vcpu>",
                "<vcpu placement='static'>4</vcpu>",
            )
            .replace(
                "<cpu mode='host-model' check='partial'/>",
                "<cpu mode='host-passthrough'>\n    <topology sockets='1' cores='2' threads='2'/>\n  </cpu>",
            );
        let (live, saved) = docs(LIVE, &saved);
        let d = drift(&live, &saved);
        assert!(d.contains(&Drift::Setting {
            setting: Setting::Memory,
            now: Value::Kib(2097152),
            next: Value::Kib(4194304),
        }));
        assert!(d.contains(&Drift::Setting {
            setting: Setting::Vcpus,
            now: Value::Count(2),
            next: Value::Count(4),
        }));
        assert!(d.contains(&Drift::Setting {
            setting: Setting::CpuMode,
            now: Value::Text("custom".into()),
            next: Value::Text("host-passthrough".into()),
        }));
        assert!(d.contains(&Drift::Setting {
            setting: Setting::Topology,
            now: Value::Unset,
            next: Value::Text("1×2×2".into()),
        }));
        // currentMemory follows memory when absent in neither: unchanged here.
        assert!(!d.iter().any(|x| matches!(
            x,
            Drift::Setting {
                setting: Setting::CurrentMemory,
                ..
            }
        )));
    }

    #[test]
    fn device_fields_added_and_removed_devices() {
        let saved = SAVED
            .replace("<source network='default'/>", "<source network='isolated'/>")
            .replace(
                "<model type='virtio'/>",
                "<model type='e1000e'/>\n      <link state='down'/>",
            )
            .replace(
                "    <input type='tablet' bus='usb'>\n      <address type='usb' bus='0' port='1'/>\n    </input>\n",
                "    <sound model='ich9'/>\n",
            );
        let live = LIVE.replace(
            "<target dev='sda' bus='sata'/>",
            "<source file='/isos/new.iso' index='1'/>\n      <target dev='sda' bus='sata'/>",
        );
        let (live, saved) = docs(&live, &saved);
        let d = drift(&live, &saved);
        let fields: Vec<(String, DeviceField)> = d
            .iter()
            .filter_map(|x| match x {
                Drift::DeviceChanged { key, field, .. } => Some((key.to_string(), *field)),
                _ => None,
            })
            .collect();
        assert_eq!(
            fields,
            vec![
                ("disk sda".to_owned(), DeviceField::Source),
                (
                    "interface 52:54:00:aa:bb:cc".to_owned(),
                    DeviceField::Source
                ),
                ("interface 52:54:00:aa:bb:cc".to_owned(), DeviceField::Model),
                ("interface 52:54:00:aa:bb:cc".to_owned(), DeviceField::Link),
            ]
        );
        assert!(d.contains(&Drift::DeviceChanged {
            key: saved.devices()[1].clone(),
            field: DeviceField::Source,
            now: Value::Text("/isos/new.iso".into()),
            next: Value::Unset,
        }));
        assert!(d
            .iter()
            .any(|x| matches!(x, Drift::DeviceAdded(k) if k.kind == DeviceKind::Sound)));
        assert!(d
            .iter()
            .any(|x| matches!(x, Drift::DeviceRemoved(k) if k.kind == DeviceKind::Input)));
        assert_eq!(d.len(), 6, "{d:#?}");
    }
}
