//! What a host can run: parsed `virConnectGetCapabilities` and
//! `virConnectGetDomainCapabilities` XML, as the new-VM wizard needs it (architectures,
//! machine types, KVM or plain QEMU, UEFI firmware, vCPU and memory limits).

use std::ffi::CString;

use virt::connect::Connect;
use virt::sys;

use super::error::{Result, VirtError};
use super::handles::take_c_string;

/// One architecture a host can emulate or virtualise (a `<guest><arch>` of capabilities).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestArch {
    /// libvirt's architecture name, e.g. "x86_64".
    pub arch: String,
    /// "hvm" for full virtualisation (others: "xen", "exe", ...).
    pub os_type: String,
    /// The default emulator binary.
    pub emulator: Option<String>,
    /// Machine types, aliases ("q35", "pc") included, in libvirt's order.
    pub machines: Vec<Machine>,
    /// Domain types ("kvm", "qemu", "test", ...) this architecture can use.
    pub domain_types: Vec<String>,
}

/// A machine type of an architecture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Machine {
    /// Name as the XML gives it (an alias such as "q35" or a versioned type).
    pub name: String,
    /// The versioned type an alias stands for.
    pub canonical: Option<String>,
    /// Most vCPUs the machine type allows.
    pub max_cpus: Option<u32>,
}

/// The host part of capabilities plus its guests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostCapabilities {
    /// Host CPU architecture.
    pub host_arch: String,
    /// Host CPU model as libvirt names it ("Skylake-Client-IBRS"), when given.
    pub host_cpu_model: Option<String>,
    /// Host CPU vendor ("Intel", "AMD"), when given.
    pub host_cpu_vendor: Option<String>,
    /// Total host memory over all NUMA cells, KiB (0 when the XML has no topology).
    pub memory_kib: u64,
    /// Host CPU count over all NUMA cells (0 when unknown).
    pub cpus: u32,
    /// The architectures guests can use.
    pub guests: Vec<GuestArch>,
}

impl HostCapabilities {
    /// Parses `virConnectGetCapabilities` XML.
    pub fn parse(xml: &str) -> Result<Self> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))?;
        let root = doc.root_element();
        let mut caps = HostCapabilities::default();
        if let Some(host) = child(root, "host") {
            caps.host_arch = child(host, "cpu")
                .and_then(|c| child(c, "arch"))
                .and_then(|a| a.text())
                .unwrap_or_default()
                .trim()
                .to_owned();
            let cpu_text = |name: &str| {
                child(host, "cpu")
                    .and_then(|c| child(c, name))
                    .and_then(|n| n.text())
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
            };
            caps.host_cpu_model = cpu_text("model");
            caps.host_cpu_vendor = cpu_text("vendor");
            for cell in host.descendants().filter(|n| n.has_tag_name("cell")) {
                if let Some(m) = child(cell, "memory") {
                    caps.memory_kib += to_kib(m);
                }
                if let Some(c) = child(cell, "cpus") {
                    caps.cpus += c.attribute("num").and_then(|n| n.parse().ok()).unwrap_or(0);
                }
            }
        }
        for guest in root.children().filter(|n| n.has_tag_name("guest")) {
            let os_type = text(child(guest, "os_type"));
            let Some(arch) = child(guest, "arch") else {
                continue;
            };
            let mut g = GuestArch {
                arch: arch.attribute("name").unwrap_or_default().to_owned(),
                os_type,
                emulator: child(arch, "emulator").map(|e| text(Some(e))),
                ..Default::default()
            };
            // Older libvirt lists extra machines (and emulators) inside <domain>.
            let machine_nodes = arch.children().chain(
                arch.children()
                    .filter(|n| n.has_tag_name("domain"))
                    .flat_map(|d| d.children()),
            );
            for m in machine_nodes.filter(|n| n.has_tag_name("machine")) {
                let name = text(Some(m));
                if !g.machines.iter().any(|x| x.name == name) {
                    g.machines.push(Machine {
                        name,
                        canonical: m.attribute("canonical").map(str::to_owned),
                        max_cpus: m.attribute("maxCpus").and_then(|v| v.parse().ok()),
                    });
                }
            }
            for d in arch.children().filter(|n| n.has_tag_name("domain")) {
                if let Some(t) = d.attribute("type") {
                    if !g.domain_types.iter().any(|x| x == t) {
                        g.domain_types.push(t.to_owned());
                    }
                }
            }
            caps.guests.push(g);
        }
        Ok(caps)
    }

    /// The full-virtualisation ("hvm") guest entry of an architecture.
    pub fn hvm_guest(&self, arch: &str) -> Option<&GuestArch> {
        self.guests
            .iter()
            .find(|g| g.arch == arch && g.os_type == "hvm")
    }

    /// Architectures with an "hvm" guest, the host's own first.
    pub fn hvm_arches(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for g in self.guests.iter().filter(|g| g.os_type == "hvm") {
            if !out.contains(&g.arch) {
                out.push(g.arch.clone());
            }
        }
        if let Some(i) = out.iter().position(|a| *a == self.host_arch) {
            let a = out.remove(i);
            out.insert(0, a);
        }
        out
    }

    /// The best domain type for an architecture: "kvm" when offered, else "qemu",
    /// else whatever the driver offers (the test driver says "test").
    pub fn best_domain_type(&self, arch: &str) -> Option<String> {
        let g = self.hvm_guest(arch)?;
        for want in ["kvm", "qemu"] {
            if g.domain_types.iter().any(|t| t == want) {
                return Some(want.to_owned());
            }
        }
        g.domain_types.first().cloned()
    }

    /// True when the host offers KVM for this architecture.
    pub fn has_kvm(&self, arch: &str) -> bool {
        self.hvm_guest(arch)
            .is_some_and(|g| g.domain_types.iter().any(|t| t == "kvm"))
    }

    /// The machine types to offer for an architecture: the aliases first ("q35", "pc",
    /// "virt"), the versioned types after them.
    pub fn machine_choices(&self, arch: &str) -> Vec<Machine> {
        let Some(g) = self.hvm_guest(arch) else {
            return Vec::new();
        };
        let mut aliases: Vec<Machine> = g
            .machines
            .iter()
            .filter(|m| m.canonical.is_some())
            .cloned()
            .collect();
        aliases.sort_by_key(|m| preferred_rank(&m.name));
        let rest = g.machines.iter().filter(|m| m.canonical.is_none()).cloned();
        aliases.into_iter().chain(rest).collect()
    }

    /// The machine type a new VM of this architecture gets: q35 on x86 when the host
    /// has it (PCIe, modern devices), "virt" on ARM and RISC-V, else the first alias.
    pub fn default_machine(&self, arch: &str) -> Option<String> {
        let choices = self.machine_choices(arch);
        choices
            .iter()
            .find(|m| preferred_rank(&m.name) == 0)
            .or(choices.first())
            .map(|m| m.name.clone())
    }

    /// Most vCPUs a machine type allows (from capabilities; domcaps may say more).
    pub fn max_cpus(&self, arch: &str, machine: &str) -> Option<u32> {
        let g = self.hvm_guest(arch)?;
        g.machines
            .iter()
            .find(|m| m.name == machine || m.canonical.as_deref() == Some(machine))
            .and_then(|m| m.max_cpus)
    }
}

fn preferred_rank(name: &str) -> u8 {
    match name {
        "q35" | "virt" => 0,
        "pc" => 1,
        _ => 2,
    }
}

/// What a domain type + architecture + machine can use (`domcapabilities`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainCapabilities {
    /// "kvm" or "qemu".
    pub domain: String,
    /// Architecture.
    pub arch: String,
    /// The versioned machine type libvirt resolved.
    pub machine: String,
    /// Most vCPUs.
    pub max_vcpus: Option<u32>,
    /// Firmware auto-selection values (`<os><enum name='firmware'>`: "efi", "bios").
    pub firmware: Vec<String>,
    /// Loader (UEFI) binaries libvirt knows.
    pub loaders: Vec<String>,
    /// Secure boot can be asked for.
    pub secure_boot: bool,
    /// Video models.
    pub video_models: Vec<String>,
    /// Disk buses.
    pub disk_buses: Vec<String>,
    /// RNG models; empty when the RNG device is unsupported.
    pub rng_models: Vec<String>,
    /// Graphics types.
    pub graphics_types: Vec<String>,
    /// TPM backends.
    pub tpm_backends: Vec<String>,
}

impl DomainCapabilities {
    /// Parses `virConnectGetDomainCapabilities` XML.
    pub fn parse(xml: &str) -> Result<Self> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))?;
        let root = doc.root_element();
        let mut dc = DomainCapabilities {
            domain: text(child(root, "domain")),
            arch: text(child(root, "arch")),
            machine: text(child(root, "machine")),
            max_vcpus: child(root, "vcpu")
                .and_then(|v| v.attribute("max"))
                .and_then(|v| v.parse().ok()),
            ..Default::default()
        };
        if let Some(os) = child(root, "os").filter(|o| supported(*o)) {
            dc.firmware = enum_values(os, "firmware");
            if let Some(loader) = child(os, "loader").filter(|l| supported(*l)) {
                dc.loaders = loader
                    .children()
                    .filter(|n| n.has_tag_name("value"))
                    .map(|n| text(Some(n)))
                    .collect();
                dc.secure_boot = enum_values(loader, "secure").iter().any(|v| v == "yes");
            }
        }
        if let Some(devices) = child(root, "devices") {
            let dev = |name: &str, en: &str| {
                child(devices, name)
                    .filter(|d| supported(*d))
                    .map(|d| enum_values(d, en))
                    .unwrap_or_default()
            };
            dc.video_models = dev("video", "modelType");
            dc.disk_buses = dev("disk", "bus");
            dc.rng_models = dev("rng", "model");
            dc.graphics_types = dev("graphics", "type");
            dc.tpm_backends = dev("tpm", "backendModel");
        }
        Ok(dc)
    }

    /// True when UEFI can be chosen: firmware auto-selection offers "efi", or (older
    /// libvirt without the enum) an OVMF/AAVMF-style loader is listed.
    pub fn supports_uefi(&self) -> bool {
        if self.firmware.iter().any(|f| f == "efi") {
            return true;
        }
        self.loaders.iter().any(|l| {
            let l = l.to_ascii_lowercase();
            ["ovmf", "aavmf", "edk2", "uefi"]
                .iter()
                .any(|k| l.contains(k))
        })
    }
}

/// The host's capabilities, read on the connection's worker.
pub fn host_capabilities(conn: &Connect) -> Result<HostCapabilities> {
    // SAFETY: valid connection; the string is ours to free.
    let xml = unsafe { take_c_string(sys::virConnectGetCapabilities(conn.as_ptr())) }
        .ok_or_else(|| VirtError::last("virConnectGetCapabilities"))?;
    let mut caps = HostCapabilities::parse(&xml)?;
    // virNodeGetInfo gives the memory the host really has; the NUMA cells of
    // capabilities are only a fallback (the test driver's cells even disagree with it).
    if let Ok(info) = conn.node_info() {
        if info.memory > 0 {
            caps.memory_kib = info.memory;
        }
        if info.cpus > 0 {
            caps.cpus = info.cpus;
        }
    }
    Ok(caps)
}

/// Domain capabilities for a domain type, architecture and machine. `Ok(None)` when the
/// driver does not implement them (the test driver), so callers fall back to defaults.
pub fn domain_capabilities(
    conn: &Connect,
    virttype: &str,
    arch: &str,
    machine: &str,
) -> Result<Option<DomainCapabilities>> {
    let vt = CString::new(virttype)?;
    let a = CString::new(arch)?;
    let m = CString::new(machine)?;
    // SAFETY: valid connection and strings; the result is ours to free.
    let xml = unsafe {
        take_c_string(sys::virConnectGetDomainCapabilities(
            conn.as_ptr(),
            std::ptr::null(),
            a.as_ptr(),
            m.as_ptr(),
            vt.as_ptr(),
            0,
        ))
    };
    match xml {
        Some(x) => DomainCapabilities::parse(&x).map(Some),
        None => {
            let e = VirtError::last("virConnectGetDomainCapabilities");
            if e.code() == super::error::ERR_NO_SUPPORT {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn text(n: Option<roxmltree::Node>) -> String {
    n.and_then(|n| n.text())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn supported(n: roxmltree::Node) -> bool {
    n.attribute("supported") != Some("no")
}

fn enum_values(n: roxmltree::Node, name: &str) -> Vec<String> {
    n.children()
        .find(|c| c.has_tag_name("enum") && c.attribute("name") == Some(name))
        .map(|e| {
            e.children()
                .filter(|v| v.has_tag_name("value"))
                .map(|v| text(Some(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn to_kib(n: roxmltree::Node) -> u64 {
    let v: u64 = text(Some(n)).parse().unwrap_or(0);
    match n.attribute("unit").unwrap_or("KiB") {
        "b" | "bytes" => v / 1024,
        "MiB" | "M" => v * 1024,
        "GiB" | "G" => v * 1024 * 1024,
        _ => v,
    }
}
