//! Typed views of `<cpu>`, `<os>` and `<features>`.
//!
//! Each view is read whole and written back by difference: only the attributes,
//! text and elements whose value changed are touched.

use super::document::NodeId;
use super::domain::DomainXml;
use super::error::{DomainXmlError, Result};
use super::fields::yes_no;

/// `<cpu><topology>`: how the vCPUs are presented to the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topology {
    pub sockets: u32,
    /// Written only when set (libvirt's default is 1).
    pub dies: Option<u32>,
    pub cores: u32,
    pub threads: u32,
}

impl Topology {
    /// The number of vCPUs this topology describes.
    pub fn total(&self) -> u32 {
        self.sockets
            .saturating_mul(self.dies.unwrap_or(1))
            .saturating_mul(self.cores)
            .saturating_mul(self.threads)
    }

    /// The same topology with as many sockets as make `vcpus`, if that is whole.
    pub fn fitted_to(&self, vcpus: u32) -> Option<Topology> {
        let per_socket = self.dies.unwrap_or(1) * self.cores * self.threads;
        (per_socket > 0 && vcpus % per_socket == 0).then_some(Topology {
            sockets: vcpus / per_socket,
            ..*self
        })
    }
}

/// One `<cpu><feature>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuFeature {
    /// `force`, `require`, `optional`, `disable`, `forbid` (libvirt's default: require).
    pub policy: Option<String>,
    pub name: String,
}

/// The `<cpu>` element (all `None`/empty when the domain has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cpu {
    /// `custom`, `host-model`, `host-passthrough` or `maximum` (default custom).
    pub mode: Option<String>,
    /// `minimum`, `exact` or `strict`.
    pub match_: Option<String>,
    pub check: Option<String>,
    pub migratable: Option<String>,
    /// The named model (custom mode).
    pub model: Option<String>,
    /// `allow` or `forbid`.
    pub model_fallback: Option<String>,
    pub vendor: Option<String>,
    pub topology: Option<Topology>,
    pub features: Vec<CpuFeature>,
}

/// The `<os>` element's boot settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Os {
    /// `hvm`, `linux`, `exe`... (the `<type>` text).
    pub os_type: Option<String>,
    pub arch: Option<String>,
    pub machine: Option<String>,
    /// `efi` or `bios`: firmware chosen by libvirt (`<os firmware=...>`).
    pub firmware: Option<String>,
    /// `<loader>`'s path.
    pub loader: Option<String>,
    pub loader_readonly: Option<String>,
    /// `rom` or `pflash`.
    pub loader_type: Option<String>,
    pub loader_secure: Option<String>,
    /// `<nvram>`'s path.
    pub nvram: Option<String>,
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub cmdline: Option<String>,
    pub dtb: Option<String>,
    /// `<boot dev=...>` in order: `hd`, `cdrom`, `network`, `fd`.
    pub boot_devs: Vec<String>,
    /// `<bootmenu enable=...>`.
    pub boot_menu: Option<bool>,
    /// `<bootmenu timeout=...>` in milliseconds.
    pub boot_menu_timeout: Option<u32>,
    /// `<bios useserial=...>`.
    pub bios_useserial: Option<bool>,
}

/// The boot devices libvirt's `<boot dev>` takes.
pub const BOOT_DEVICES: [&str; 4] = ["hd", "cdrom", "network", "fd"];

fn yes_no_str(b: Option<bool>) -> Option<&'static str> {
    b.map(|b| if b { "yes" } else { "no" })
}

impl DomainXml {
    fn cpu_el(&self) -> Option<NodeId> {
        self.doc.child(self.root(), "cpu")
    }

    /// The CPU configuration.
    pub fn cpu(&self) -> Cpu {
        let d = &self.doc;
        let Some(cpu) = self.cpu_el() else {
            return Cpu::default();
        };
        let topology = d.child(cpu, "topology").map(|t| {
            let n = |a| d.attr(t, a).and_then(|v| v.parse().ok());
            Topology {
                sockets: n("sockets").unwrap_or(1),
                dies: n("dies"),
                cores: n("cores").unwrap_or(1),
                threads: n("threads").unwrap_or(1),
            }
        });
        Cpu {
            mode: d.get(cpu, "", "mode"),
            match_: d.get(cpu, "", "match"),
            check: d.get(cpu, "", "check"),
            migratable: d.get(cpu, "", "migratable"),
            model: d.get_text(cpu, "model"),
            model_fallback: d.get(cpu, "model", "fallback"),
            vendor: d.get_text(cpu, "vendor"),
            topology,
            features: d
                .children_named(cpu, "feature")
                .map(|f| CpuFeature {
                    policy: d.attr(f, "policy").map(str::to_owned),
                    name: d.attr(f, "name").unwrap_or("").to_owned(),
                })
                .collect(),
        }
    }

    /// Writes `cpu` where it differs from the document's. A `<cpu>` left empty is
    /// removed.
    pub fn set_cpu(&mut self, cpu: &Cpu) -> Result<()> {
        let old = self.cpu();
        if *cpu == old {
            return Ok(());
        }
        let root = self.root();
        let d = &mut self.doc;
        for (attr, new, was) in [
            ("mode", &cpu.mode, &old.mode),
            ("match", &cpu.match_, &old.match_),
            ("check", &cpu.check, &old.check),
            ("migratable", &cpu.migratable, &old.migratable),
        ] {
            if new != was {
                d.put(root, "cpu", attr, new.as_deref())?;
            }
        }
        if cpu.model != old.model {
            d.put_text(root, "cpu/model", cpu.model.as_deref())?;
        }
        if cpu.model_fallback != old.model_fallback && cpu.model.is_some() {
            d.put(root, "cpu/model", "fallback", cpu.model_fallback.as_deref())?;
        }
        if cpu.vendor != old.vendor {
            d.put_text(root, "cpu/vendor", cpu.vendor.as_deref())?;
        }
        if cpu.topology != old.topology {
            self.set_topology(cpu.topology.as_ref())?;
        }
        if cpu.features != old.features {
            self.set_cpu_features(&old.features, &cpu.features)?;
        }
        Ok(())
    }

    /// Sets or removes `<cpu><topology>`.
    pub fn set_topology(&mut self, topology: Option<&Topology>) -> Result<()> {
        let root = self.root();
        let d = &mut self.doc;
        match topology {
            None => d.put_text(root, "cpu/topology", None),
            Some(t) => {
                if t.total() == 0 {
                    return Err(DomainXmlError::invalid(
                        "topology",
                        "0",
                        "every count must be at least 1",
                    ));
                }
                d.put_num(root, "cpu/topology", "sockets", Some(t.sockets))?;
                d.put_num(root, "cpu/topology", "dies", t.dies)?;
                d.put_num(root, "cpu/topology", "cores", Some(t.cores))?;
                d.put_num(root, "cpu/topology", "threads", Some(t.threads))
            }
        }
    }

    fn set_cpu_features(&mut self, old: &[CpuFeature], new: &[CpuFeature]) -> Result<()> {
        let root = self.root();
        let cpu = self.doc.ensure_child(root, "cpu")?;
        let elements: Vec<NodeId> = self.doc.children_named(cpu, "feature").collect();
        for (el, f) in elements.iter().zip(old) {
            match new.iter().find(|n| n.name == f.name) {
                None => self.doc.remove(*el)?,
                Some(n) if n.policy != f.policy => {
                    self.doc.put(*el, "", "policy", n.policy.as_deref())?
                }
                Some(_) => {}
            }
        }
        for f in new.iter().filter(|n| !old.iter().any(|o| o.name == n.name)) {
            let mut el = super::NewElement::new("feature");
            if let Some(p) = &f.policy {
                el = el.attr("policy", p);
            }
            el = el.attr("name", &f.name);
            let at = super::order::position(&self.doc, cpu, "feature");
            self.doc.insert_element(cpu, at, &el)?;
        }
        self.doc.prune(cpu, root)
    }

    fn os_el(&self) -> Option<NodeId> {
        self.doc.child(self.root(), "os")
    }

    /// The OS and boot configuration.
    pub fn os(&self) -> Os {
        let d = &self.doc;
        let Some(os) = self.os_el() else {
            return Os::default();
        };
        let flag = |path: &str, attr: &str| d.get(os, path, attr).as_deref().and_then(yes_no);
        Os {
            os_type: d.get_text(os, "type"),
            arch: d.get(os, "type", "arch"),
            machine: d.get(os, "type", "machine"),
            firmware: d.get(os, "", "firmware"),
            loader: d.get_text(os, "loader").filter(|t| !t.trim().is_empty()),
            loader_readonly: d.get(os, "loader", "readonly"),
            loader_type: d.get(os, "loader", "type"),
            loader_secure: d.get(os, "loader", "secure"),
            nvram: d.get_text(os, "nvram").filter(|t| !t.trim().is_empty()),
            kernel: d.get_text(os, "kernel"),
            initrd: d.get_text(os, "initrd"),
            cmdline: d.get_text(os, "cmdline"),
            dtb: d.get_text(os, "dtb"),
            boot_devs: d
                .children_named(os, "boot")
                .filter_map(|b| d.attr(b, "dev").map(str::to_owned))
                .collect(),
            boot_menu: flag("bootmenu", "enable"),
            boot_menu_timeout: d
                .get(os, "bootmenu", "timeout")
                .and_then(|t| t.parse().ok()),
            bios_useserial: flag("bios", "useserial"),
        }
    }

    /// Writes `os` where it differs from the document's.
    pub fn set_os(&mut self, os: &Os) -> Result<()> {
        let old = self.os();
        if *os == old {
            return Ok(());
        }
        for dev in &os.boot_devs {
            if !BOOT_DEVICES.contains(&dev.as_str()) {
                return Err(DomainXmlError::invalid(
                    "boot device",
                    dev,
                    "libvirt boots from hd, cdrom, network or fd",
                ));
            }
        }
        let root = self.root();
        let d = &mut self.doc;
        let text_fields = [
            ("os/type", &os.os_type, &old.os_type),
            ("os/kernel", &os.kernel, &old.kernel),
            ("os/initrd", &os.initrd, &old.initrd),
            ("os/cmdline", &os.cmdline, &old.cmdline),
            ("os/dtb", &os.dtb, &old.dtb),
            ("os/nvram", &os.nvram, &old.nvram),
        ];
        for (path, new, was) in text_fields {
            if new != was {
                d.put_text(root, path, new.as_deref())?;
            }
        }
        let attr_fields = [
            ("os/type", "arch", &os.arch, &old.arch),
            ("os/type", "machine", &os.machine, &old.machine),
            ("os", "firmware", &os.firmware, &old.firmware),
        ];
        for (path, attr, new, was) in attr_fields {
            if new != was {
                d.put(root, path, attr, new.as_deref())?;
            }
        }
        self.set_loader(os, &old)?;
        if os.boot_devs != old.boot_devs {
            self.set_boot_devs(&os.boot_devs)?;
        }
        let d = &mut self.doc;
        if os.boot_menu != old.boot_menu {
            d.put(root, "os/bootmenu", "enable", yes_no_str(os.boot_menu))?;
        }
        if os.boot_menu_timeout != old.boot_menu_timeout {
            d.put_num(root, "os/bootmenu", "timeout", os.boot_menu_timeout)?;
        }
        if os.bios_useserial != old.bios_useserial {
            d.put(root, "os/bios", "useserial", yes_no_str(os.bios_useserial))?;
        }
        Ok(())
    }

    fn set_loader(&mut self, os: &Os, old: &Os) -> Result<()> {
        let root = self.root();
        let d = &mut self.doc;
        if os.loader != old.loader {
            match &os.loader {
                Some(path) => d.put_text(root, "os/loader", Some(path))?,
                None => {
                    if let Some(l) = d.find("os/loader") {
                        d.set_text(l, "")?;
                        let os_el = d.parent(l).unwrap_or(root);
                        d.prune(l, os_el)?;
                    }
                }
            }
        }
        for (attr, new, was) in [
            ("readonly", &os.loader_readonly, &old.loader_readonly),
            ("type", &os.loader_type, &old.loader_type),
            ("secure", &os.loader_secure, &old.loader_secure),
        ] {
            if new != was {
                d.put(root, "os/loader", attr, new.as_deref())?;
            }
        }
        Ok(())
    }

    /// Replaces the `<boot dev>` list (`hd`, `cdrom`, `network`, `fd`, in order).
    pub fn set_boot_devs<S: AsRef<str>>(&mut self, devs: &[S]) -> Result<()> {
        let root = self.root();
        let os = self.doc.ensure_child(root, "os")?;
        let old: Vec<NodeId> = self.doc.children_named(os, "boot").collect();
        let same = old.len() == devs.len()
            && old
                .iter()
                .zip(devs)
                .all(|(&b, d)| self.doc.attr(b, "dev") == Some(d.as_ref()));
        if same {
            return Ok(());
        }
        // The new list goes where the old one was (libvirt's place when there was none).
        let first = old
            .first()
            .and_then(|b| self.doc.children(os).position(|c| c == *b));
        for b in old {
            self.doc.remove(b)?;
        }
        let at = first.unwrap_or_else(|| super::order::position(&self.doc, os, "boot"));
        for (i, dev) in devs.iter().enumerate() {
            let el = super::NewElement::new("boot").attr("dev", dev.as_ref());
            self.doc.insert_element(os, at + i, &el)?;
        }
        Ok(())
    }

    /// Names of the enabled `<features>` (`acpi`, `apic`, `smm`...).
    pub fn features(&self) -> Vec<String> {
        let Some(f) = self.doc.child(self.root(), "features") else {
            return Vec::new();
        };
        self.doc
            .children(f)
            .filter(|&c| self.doc.namespace(c).is_none())
            .map(|c| self.doc.name(c).to_owned())
            .collect()
    }

    /// True when `<features>` has `<name>`.
    pub fn has_feature(&self, name: &str) -> bool {
        self.doc.find(&format!("features/{name}")).is_some()
    }

    /// Adds `<name/>` to `<features>` or removes it (with what it holds). An emptied
    /// `<features>` is removed.
    pub fn set_feature(&mut self, name: &str, on: bool) -> Result<()> {
        let root = self.root();
        if on {
            let f = self.doc.ensure_child(root, "features")?;
            return self.doc.put_flag(f, name, true);
        }
        if let Some(f) = self.doc.child(root, "features") {
            if let Some(el) = self.doc.child(f, name) {
                self.doc.remove(el)?;
                self.doc.prune(f, root)?;
            }
        }
        Ok(())
    }
}
