//! The XML options of `vireo-xml` and what their option strings do to a domain, in
//! virt-xml's terms: `--memory`, `--vcpus`, `--boot` and `--metadata` edit the domain
//! as a whole; `--disk`, `--network` and `--graphics` edit, add, or remove devices
//! (see [`super::devices`]).

use gettextrs::gettext;

use super::optstr::{on_off, OptError, OptString};
use crate::i18n::gettext_f;
use crate::virt::domain_xml::{parse_size_kib, DeviceKind, DomainXml, Topology, BOOT_DEVICES};

/// An XML option (one per invocation, as in virt-xml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlOption {
    Disk,
    Network,
    Graphics,
    Boot,
    Metadata,
    Memory,
    Vcpus,
}

/// How an option string of one option is read.
pub struct Spec {
    /// Names of the leading bare values.
    pub positional: &'static [&'static str],
    /// Options whose values may contain commas.
    pub comma: &'static [&'static str],
    /// Every sub-option name (what `--disk=?` lists).
    pub names: &'static [&'static str],
}

impl XmlOption {
    /// Every option, in the order `--help` lists them.
    pub const ALL: [XmlOption; 7] = [
        XmlOption::Disk,
        XmlOption::Network,
        XmlOption::Graphics,
        XmlOption::Boot,
        XmlOption::Metadata,
        XmlOption::Memory,
        XmlOption::Vcpus,
    ];

    /// The option's name on the command line, without dashes.
    pub fn name(self) -> &'static str {
        match self {
            XmlOption::Disk => "disk",
            XmlOption::Network => "network",
            XmlOption::Graphics => "graphics",
            XmlOption::Boot => "boot",
            XmlOption::Metadata => "metadata",
            XmlOption::Memory => "memory",
            XmlOption::Vcpus => "vcpus",
        }
    }

    /// The device kind the option edits, for device options.
    pub fn device_kind(self) -> Option<DeviceKind> {
        match self {
            XmlOption::Disk => Some(DeviceKind::Disk),
            XmlOption::Network => Some(DeviceKind::Interface),
            XmlOption::Graphics => Some(DeviceKind::Graphics),
            _ => None,
        }
    }

    /// How the option's strings are read.
    pub fn spec(self) -> Spec {
        match self {
            XmlOption::Disk => Spec {
                positional: &["path"],
                comma: &[],
                names: super::devices::DISK_NAMES,
            },
            XmlOption::Network => Spec {
                positional: &["type"],
                comma: &[],
                names: super::devices::NETWORK_NAMES,
            },
            XmlOption::Graphics => Spec {
                positional: &["type"],
                comma: &[],
                names: super::devices::GRAPHICS_NAMES,
            },
            XmlOption::Boot => Spec {
                positional: &[],
                comma: &["cmdline", "extra_args", "kernel_args"],
                names: &[
                    "hd",
                    "cdrom",
                    "network",
                    "fd",
                    "menu",
                    "bootmenu.enable",
                    "bootmenu.timeout",
                    "firmware",
                    "uefi",
                    "kernel",
                    "initrd",
                    "dtb",
                    "cmdline",
                    "extra_args",
                    "kernel_args",
                    "loader",
                    "loader.readonly",
                    "loader_ro",
                    "loader.type",
                    "loader_type",
                    "loader.secure",
                    "loader_secure",
                    "nvram",
                    "machine",
                    "arch",
                    "useserial",
                    "bios.useserial",
                ],
            },
            XmlOption::Metadata => Spec {
                positional: &[],
                comma: &["name", "title", "description"],
                names: &["name", "title", "description"],
            },
            XmlOption::Memory => Spec {
                positional: &["memory"],
                comma: &[],
                names: &[
                    "memory",
                    "maxmemory",
                    "currentMemory",
                    "maxMemory",
                    "maxMemory.slots",
                    "hotplugmemorymax",
                    "hotplugmemoryslots",
                ],
            },
            XmlOption::Vcpus => Spec {
                positional: &["vcpu"],
                comma: &["cpuset", "vcpu.cpuset"],
                names: &[
                    "vcpu",
                    "vcpus",
                    "maxvcpus",
                    "vcpu.current",
                    "cpuset",
                    "vcpu.cpuset",
                    "placement",
                    "vcpu.placement",
                    "sockets",
                    "dies",
                    "cores",
                    "threads",
                ],
            },
        }
    }

    /// Reads an option string of this option.
    pub fn parse(self, text: &str) -> Result<OptString, OptError> {
        let spec = self.spec();
        OptString::parse(text, spec.positional, spec.comma, spec.names)
    }
}

/// Fails when sub-options are left that the option does not know.
pub fn check_leftover(option: XmlOption, opts: &OptString) -> Result<(), OptError> {
    if opts.is_empty() {
        return Ok(());
    }
    Err(OptError(gettext_f(
        "Unknown --{option} options: {names} (--{option}=? lists them)",
        &[
            ("option", option.name()),
            ("names", &opts.leftover().join(", ")),
        ],
    )))
}

fn err(text: String) -> OptError {
    OptError(text)
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, OptError> {
    value.trim().parse().map_err(|_| {
        err(gettext_f(
            "{name}: '{value}' is not a whole number",
            &[("name", name), ("value", value)],
        ))
    })
}

fn mib(name: &str, value: &str) -> Result<u64, OptError> {
    // virt-xml takes MiB; a unit suffix (`2GiB`) is accepted too.
    parse_size_kib(value, "MiB").map_err(|_| {
        err(gettext_f(
            "{name}: '{value}' is not a size in MiB",
            &[("name", name), ("value", value)],
        ))
    })
}

fn required(name: &str, value: Option<String>) -> Result<String, OptError> {
    value.ok_or_else(|| err(gettext_f("{name} needs a value", &[("name", name)])))
}

fn domain_err(e: crate::virt::domain_xml::DomainXmlError) -> OptError {
    OptError(e.to_string())
}

/// `--memory`: sizes in MiB. As in virt-xml, the plain value (`--memory 2048`) and
/// `memory=` set the current allocation unless `currentMemory=` is given, and
/// `maxmemory=` sets `<memory>`.
pub fn apply_memory(dom: &mut DomainXml, mut opts: OptString) -> Result<(), OptError> {
    let mut memory = opts.take(&["memory"]);
    let mut current = opts.take(&["currentMemory"]);
    let maxmemory = opts.take(&["maxmemory"]);
    let max_memory = opts.take(&["maxMemory", "hotplugmemorymax"]);
    let slots = opts.take(&["maxMemory.slots", "hotplugmemoryslots"]);
    check_leftover(XmlOption::Memory, &opts)?;
    // virt-xml's back-compat: memory means currentMemory unless currentMemory is given.
    if current.is_some() {
        if maxmemory.is_some() {
            memory = maxmemory;
        }
    } else if maxmemory.is_some() {
        if memory.is_some() {
            current = memory;
        }
        memory = maxmemory;
    } else if memory.is_some() {
        current = memory.take();
    }
    if let Some(v) = memory {
        let kib = mib("memory", &required("memory", v)?)?;
        dom.set_memory_kib(kib).map_err(domain_err)?;
    }
    if let Some(v) = current {
        let kib = mib("currentMemory", &required("currentMemory", v)?)?;
        dom.set_current_memory_kib(kib).map_err(domain_err)?;
    }
    if max_memory.is_some() || slots.is_some() {
        match max_memory {
            Some(None) => dom.set_max_memory(None).map_err(domain_err)?,
            _ => {
                let (size, old_slots) = match (&max_memory, dom.max_memory()) {
                    (Some(Some(v)), old) => (
                        crate::virt::domain_xml::MemorySize::kib(mib("maxMemory", v)?),
                        old.and_then(|o| o.1),
                    ),
                    (_, Some(old)) => old,
                    (_, None) => return Err(err(gettext("maxMemory.slots needs maxMemory"))),
                };
                let slots = match slots.flatten() {
                    Some(s) => number("maxMemory.slots", &s)?,
                    None => old_slots.unwrap_or(16),
                };
                dom.set_max_memory(Some((&size, slots)))
                    .map_err(domain_err)?;
            }
        }
    }
    Ok(())
}

/// `--vcpus`: as in virt-xml, the plain value (`--vcpus 4`) is the count, which is
/// the online count when `maxvcpus=` is given; `sockets`, `cores`, `threads` set the
/// topology (and the count, when none is given).
pub fn apply_vcpus(dom: &mut DomainXml, mut opts: OptString) -> Result<(), OptError> {
    let mut vcpu = opts.take(&["vcpu", "vcpus"]).flatten();
    let mut current = opts.take(&["vcpu.current"]).flatten();
    let maxvcpus = opts.take(&["maxvcpus"]).flatten();
    let cpuset = opts.take(&["cpuset", "vcpu.cpuset"]);
    let placement = opts.take(&["placement", "vcpu.placement"]);
    let topo: Vec<Option<u32>> = ["sockets", "dies", "cores", "threads"]
        .iter()
        .map(|n| opts.take(&[n]).flatten().map(|v| number(n, &v)).transpose())
        .collect::<Result<_, _>>()?;
    check_leftover(XmlOption::Vcpus, &opts)?;
    if current.is_some() {
        if maxvcpus.is_some() {
            vcpu = maxvcpus;
        }
    } else if maxvcpus.is_some() {
        if vcpu.is_some() {
            current = vcpu;
        }
        vcpu = maxvcpus;
    }
    let old = dom.vcpus();
    let topology = topo.iter().any(Option::is_some).then(|| {
        let base = dom.cpu().topology;
        Topology {
            sockets: topo[0].or(base.map(|t| t.sockets)).unwrap_or(1),
            dies: topo[1].or(base.and_then(|t| t.dies)),
            cores: topo[2].or(base.map(|t| t.cores)).unwrap_or(1),
            threads: topo[3].or(base.map(|t| t.threads)).unwrap_or(1),
        }
    });
    let mut max = vcpu.map(|v| number::<u32>("vcpu", &v)).transpose()?;
    if let (None, Some(t)) = (max, topology) {
        max = Some(t.total());
    }
    if let (Some(m), Some(t)) = (max, topology) {
        if t.total() != m {
            return Err(err(gettext_f(
                "the topology ({total} vCPUs) does not match the vCPU count {count}",
                &[("total", &t.total().to_string()), ("count", &m.to_string())],
            )));
        }
        dom.set_topology(Some(&t)).map_err(domain_err)?;
    }
    let current = current
        .map(|c| number::<u32>("vcpu.current", &c))
        .transpose()?;
    match (max, &old) {
        (Some(m), _) => {
            // A lower maximum takes a higher online count down with it (virt-install).
            let cur = current.or(old.as_ref().and_then(|o| o.current).filter(|&c| c < m));
            dom.set_vcpus(m, cur).map_err(domain_err)?;
        }
        (None, Some(o)) if current.is_some() => {
            dom.set_vcpus(o.max, current).map_err(domain_err)?
        }
        (None, None) if current.is_some() => {
            return Err(err(gettext("vcpu.current needs a vCPU count")));
        }
        _ => {}
    }
    if let Some(c) = cpuset {
        dom.set_vcpu_cpuset(c.as_deref()).map_err(domain_err)?;
    }
    if let Some(p) = placement {
        dom.set_vcpu_placement(p.as_deref()).map_err(domain_err)?;
    }
    Ok(())
}

/// `--metadata name=,title=,description=`.
pub fn apply_metadata(dom: &mut DomainXml, mut opts: OptString) -> Result<(), OptError> {
    let name = opts.take(&["name"]);
    let title = opts.take(&["title"]);
    let description = opts.take(&["description"]);
    check_leftover(XmlOption::Metadata, &opts)?;
    if let Some(n) = name {
        dom.set_name(&required("name", n)?).map_err(domain_err)?;
    }
    if let Some(t) = title {
        dom.set_title(t.as_deref()).map_err(domain_err)?;
    }
    if let Some(d) = description {
        dom.set_description(d.as_deref()).map_err(domain_err)?;
    }
    Ok(())
}

/// `--boot`: boot devices in order (`hd,cdrom`), `menu=on`, firmware, direct kernel
/// boot and loader settings.
pub fn apply_boot(dom: &mut DomainXml, mut opts: OptString) -> Result<(), OptError> {
    let mut os = dom.os();
    let devs: Vec<String> = opts
        .pairs
        .iter()
        .filter(|(n, v)| v.is_none() && BOOT_DEVICES.contains(&n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    for d in BOOT_DEVICES {
        opts.take(&[d]);
    }
    if !devs.is_empty() {
        os.boot_devs = devs;
    }
    if let Some(v) = opts.take(&["menu", "bootmenu.enable"]) {
        os.boot_menu = v.map(|v| on_off("menu", Some(&v))).transpose()?;
    }
    if let Some(v) = opts.take(&["bootmenu.timeout"]) {
        os.boot_menu_timeout = v.map(|v| number("bootmenu.timeout", &v)).transpose()?;
    }
    if let Some(v) = opts.take(&["useserial", "bios.useserial"]) {
        os.bios_useserial = v.map(|v| on_off("useserial", Some(&v))).transpose()?;
    }
    if opts.take_flag("uefi") {
        os.firmware = Some("efi".into());
    }
    let fields: [(&[&str], &mut Option<String>); 12] = [
        (&["firmware"], &mut os.firmware),
        (&["kernel"], &mut os.kernel),
        (&["initrd"], &mut os.initrd),
        (&["dtb"], &mut os.dtb),
        (&["cmdline", "extra_args", "kernel_args"], &mut os.cmdline),
        (&["loader"], &mut os.loader),
        (&["loader.readonly", "loader_ro"], &mut os.loader_readonly),
        (&["loader.type", "loader_type"], &mut os.loader_type),
        (&["loader.secure", "loader_secure"], &mut os.loader_secure),
        (&["nvram"], &mut os.nvram),
        (&["machine"], &mut os.machine),
        (&["arch"], &mut os.arch),
    ];
    for (names, field) in fields {
        if let Some(v) = opts.take(names) {
            // These two are yes/no in the XML, on/off on the command line.
            let yes_no = matches!(names[0], "loader.readonly" | "loader.secure");
            *field = match (v, yes_no) {
                (Some(v), true) => Some(
                    if on_off(names[0], Some(&v))? {
                        "yes"
                    } else {
                        "no"
                    }
                    .into(),
                ),
                (v, _) => v,
            };
        }
    }
    check_leftover(XmlOption::Boot, &opts)?;
    if !os.boot_devs.is_empty()
        && !dom.boot_order().is_empty()
        && dom.os().boot_devs != os.boot_devs
    {
        // Boot devices and per-device boot order exclude each other (libvirt).
        let keys: Vec<_> = dom.boot_order().into_iter().map(|(k, _)| k).collect();
        for k in keys {
            dom.set_device_boot_order(&k, None).map_err(domain_err)?;
        }
    }
    dom.set_os(&os).map_err(domain_err)
}
