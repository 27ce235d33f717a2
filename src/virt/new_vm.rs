//! A new virtual machine as a typed spec (what the wizard collects), its validation
//! against the host, and the domain and volume XML it becomes.
//!
//! Everything here is pure except [`create()`], which talks to libvirt (on a worker
//! thread) and undoes its own work when a step fails.

pub mod create;
pub mod host;
pub mod tree;
mod validate;
mod xml;

pub use create::{create, CreatePlan, Created, PlannedVolume};
pub use validate::{validate, Field, HostLimits, Problem};
pub use xml::{escape, volume_xml};

use super::osinfo::{DeviceKind, OsDb, OsInfo};

/// BIOS or UEFI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Firmware {
    /// SeaBIOS.
    #[default]
    Bios,
    /// OVMF/AAVMF, picked by libvirt's firmware auto-selection.
    Uefi,
}

/// Disk image format, read from the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiskFormat {
    /// QEMU copy-on-write v2.
    #[default]
    Qcow2,
    /// Raw bytes.
    Raw,
}

impl DiskFormat {
    /// libvirt's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Raw => "raw",
        }
    }

    /// Detects qcow2 by its magic; anything else is raw.
    pub fn sniff(path: &std::path::Path) -> std::io::Result<Self> {
        use std::io::Read;
        let mut magic = [0u8; 4];
        let mut f = std::fs::File::open(path)?;
        let n = f.read(&mut magic)?;
        Ok(if n == 4 && magic == *b"QFI\xfb" {
            DiskFormat::Qcow2
        } else {
            DiskFormat::Raw
        })
    }
}

/// Where an install medium comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// A file on the host running libvirt.
    Path(String),
    /// A volume of a storage pool.
    Volume {
        /// Pool name.
        pool: String,
        /// Volume name.
        volume: String,
    },
}

/// What cloud-init sets up in a cloud image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CloudInit {
    /// The user to create.
    pub user: String,
    /// Its password (`None`: password log-in stays locked).
    pub password: Option<String>,
    /// An SSH public key for the user.
    pub ssh_key: Option<String>,
}

/// Network install: the guest boots the tree's kernel and initrd, already fetched
/// to the host, and the installer reads the rest from `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeBoot {
    /// Host path of the kernel.
    pub kernel: String,
    /// Host path of the initrd.
    pub initrd: String,
    /// Extra kernel arguments (e.g. `console=ttyS0`).
    pub args: String,
}

/// How the guest OS gets onto the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallMethod {
    /// Boot an installer or live ISO.
    LocalMedia(MediaSource),
    /// Install from a distribution tree over the network.
    NetworkTree {
        /// The tree's address (http, https or ftp).
        url: String,
        /// Kernel and initrd fetched from the tree.
        boot: TreeBoot,
    },
    /// Boot an existing disk image as the VM's disk.
    ImportDisk {
        /// Host path of the image.
        path: String,
        /// Its format.
        format: DiskFormat,
    },
    /// A cloud image used as the backing file of a new qcow2 volume, configured on
    /// first boot by cloud-init from a `cidata` seed ISO.
    CloudImage {
        /// Host path of the cloud image.
        image: String,
        /// Its format.
        format: DiskFormat,
        /// User, password, SSH key.
        cloud_init: CloudInit,
    },
    /// An empty VM; the user attaches media later.
    Manual,
}

impl InstallMethod {
    /// True for methods whose disk is the imported image itself.
    pub fn brings_own_disk(&self) -> bool {
        matches!(self, InstallMethod::ImportDisk { .. })
    }

    /// A network install from `url` whose kernel and initrd are not fetched yet: the
    /// creation step fetches them and puts their volumes' paths in place of
    /// [`tree::KERNEL_PLACEHOLDER`] and [`tree::INITRD_PLACEHOLDER`].
    pub fn network_tree(url: &str, kernel_args: &str) -> Self {
        InstallMethod::NetworkTree {
            url: url.to_owned(),
            boot: TreeBoot {
                kernel: tree::KERNEL_PLACEHOLDER.to_owned(),
                initrd: tree::INITRD_PLACEHOLDER.to_owned(),
                args: kernel_args.to_owned(),
            },
        }
    }
}

/// The VM's main disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// A new qcow2 volume in a pool.
    NewVolume {
        /// Pool name.
        pool: String,
        /// Size in GiB.
        size_gib: u64,
    },
    /// An existing file or block device.
    Existing {
        /// Host path.
        path: String,
    },
    /// No disk.
    None,
}

/// The protocol of the VM's graphical display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisplayProtocol {
    /// VNC: every QEMU has it.
    #[default]
    Vnc,
    /// SPICE (virt-manager's default), with the agent channel for clipboard sharing
    /// and a screen that follows the window; only where the host's QEMU has it.
    Spice,
}

/// The VM's network card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkChoice {
    /// A libvirt virtual network (NAT), usually "default".
    Nat {
        /// Network name.
        network: String,
    },
    /// A host bridge.
    Bridge {
        /// Bridge device name.
        name: String,
    },
    /// QEMU's user-mode networking (works without privileges).
    User,
    /// No network card.
    None,
}

/// What the XML needs to know about the guest OS, taken from osinfo (kept apart from
/// the database so specs and golden tests do not depend on the database's version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsProfile {
    /// Full osinfo id, written to the domain's `<metadata>` for other tools.
    pub id: String,
    /// Short id.
    pub short_id: String,
    /// Display name.
    pub name: String,
    /// Family (`linux`, `winnt`, ...).
    pub family: String,
    /// virtio network card.
    pub virtio_net: bool,
    /// virtio disks.
    pub virtio_blk: bool,
    /// virtio RNG.
    pub virtio_rng: bool,
    /// virtio balloon.
    pub virtio_balloon: bool,
    /// virtio console (guest agent channel).
    pub virtio_serial: bool,
    /// virtio GPU.
    pub virtio_gpu: bool,
    /// USB tablet.
    pub usb_tablet: bool,
    /// Can run on Q35.
    pub q35: bool,
}

impl OsProfile {
    /// The profile of an OS from the database.
    pub fn from_db(db: &OsDb, os: &OsInfo) -> Self {
        let s = |k| db.supports(os, k);
        OsProfile {
            id: os.id.clone(),
            short_id: os.short_id().to_owned(),
            name: os.name.clone(),
            family: os.family.clone(),
            virtio_net: s(DeviceKind::VirtioNet),
            virtio_blk: s(DeviceKind::VirtioBlock),
            virtio_rng: s(DeviceKind::VirtioRng),
            virtio_balloon: s(DeviceKind::VirtioBalloon),
            virtio_serial: s(DeviceKind::VirtioSerial),
            virtio_gpu: s(DeviceKind::VirtioGpu),
            usb_tablet: s(DeviceKind::UsbTablet),
            q35: s(DeviceKind::Q35),
        }
    }

    /// An OS nobody told us about: assume a current one (virtio everywhere), which is
    /// what nearly every OS installed today supports.
    pub fn generic() -> Self {
        OsProfile {
            id: String::new(),
            short_id: String::new(),
            name: String::new(),
            family: String::new(),
            virtio_net: true,
            virtio_blk: true,
            virtio_rng: true,
            virtio_balloon: true,
            virtio_serial: true,
            virtio_gpu: true,
            usb_tablet: true,
            q35: true,
        }
    }

    /// True for Windows NT family guests (local-time clock, Hyper-V enlightenments).
    pub fn is_windows(&self) -> bool {
        self.family == "winnt"
    }
}

/// Everything the wizard collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVmSpec {
    /// Domain name (unique on the host).
    pub name: String,
    /// Guest architecture, e.g. "x86_64".
    pub arch: String,
    /// Machine type, e.g. "q35" or "pc".
    pub machine: String,
    /// "kvm", "qemu" (TCG), or the driver's own ("test").
    pub domain_type: String,
    /// BIOS or UEFI.
    pub firmware: Firmware,
    /// How the OS is installed.
    pub install: InstallMethod,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Main disk.
    pub storage: Storage,
    /// Network card.
    pub network: NetworkChoice,
    /// Guest OS, when known.
    pub os: Option<OsProfile>,
    /// The graphical display's protocol.
    pub display: DisplayProtocol,
}

impl NewVmSpec {
    /// The OS profile, or the generic modern one.
    pub fn profile(&self) -> OsProfile {
        self.os.clone().unwrap_or_else(OsProfile::generic)
    }

    /// True on a Q35 machine (PCI Express, SATA CD-ROMs).
    pub fn is_q35(&self) -> bool {
        self.machine == "q35" || self.machine.starts_with("pc-q35")
    }

    /// True for x86 guests.
    pub fn is_x86(&self) -> bool {
        matches!(self.arch.as_str(), "x86_64" | "i686")
    }

    /// Name of the new main volume (`<name>.qcow2`).
    pub fn volume_name(&self) -> String {
        format!("{}.qcow2", self.name)
    }

    /// Name of the cloud-init seed volume.
    pub fn seed_volume_name(&self) -> String {
        format!("{}-cidata.iso", self.name)
    }

    /// The (persistent) domain XML.
    pub fn domain_xml(&self) -> String {
        xml::domain_xml(self, false)
    }

    /// For a network install, the definition of the first boot (started over the
    /// persistent one with `virDomainCreateXML`): the tree's kernel and initrd boot
    /// the installer, and the installer's final reboot stops the VM so that the next
    /// start boots the installed disk. `None` for other methods.
    pub fn install_xml(&self) -> Option<String> {
        matches!(self.install, InstallMethod::NetworkTree { .. })
            .then(|| xml::domain_xml(self, true))
    }

    /// The volumes to create, as (pool, volume XML) pairs (the main disk; the
    /// cloud-init seed is added by [`CreatePlan::from_spec`] once its size is known).
    pub fn volumes(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Storage::NewVolume { pool, size_gib } = &self.storage {
            let backing = match &self.install {
                InstallMethod::CloudImage { image, format, .. } => Some((image.as_str(), *format)),
                _ => None,
            };
            out.push((
                pool.clone(),
                volume_xml(
                    &self.volume_name(),
                    *size_gib << 30,
                    DiskFormat::Qcow2,
                    backing,
                ),
            ));
        }
        out
    }
}

/// The pool virt-manager creates when a host has none: a directory pool named
/// "default". `session` connections keep images in the user's data directory.
pub fn default_pool_xml(path: &str) -> String {
    format!(
        "<pool type='dir'>\n  <name>default</name>\n  <target>\n    <path>{}</path>\n  </target>\n</pool>\n",
        escape(path)
    )
}
