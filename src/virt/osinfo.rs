//! The osinfo database on the host (`/usr/share/osinfo`, Debian package osinfo-db):
//! the operating systems a new VM can run, their install media (for ISO detection),
//! recommended resources and the virtual devices they support.
//!
//! This reads the XML itself (no libosinfo), following libosinfo's rules: names without
//! `xml:lang`, devices inherited along `<derives-from>` (a `supported="false"` entry
//! removes an inherited one), media matched by unanchored regular expressions on the
//! ISO's volume, system, publisher and application ids.

mod iso;
mod model;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use iso::{read_iso_info, IsoInfo};
pub use model::{Device, MediaInfo, OsInfo, ResourceSet, Resources};

/// Where the database lives unless `OSINFO_SYSTEM_DIR` says otherwise (same variable
/// as libosinfo).
pub const SYSTEM_DIR: &str = "/usr/share/osinfo";

/// Errors while loading the database.
#[derive(Debug, thiserror::Error)]
pub enum OsinfoError {
    /// The directory could not be read.
    #[error("could not read the osinfo database in {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database has no operating system at all.
    #[error("the osinfo database in {0} has no operating systems")]
    Empty(PathBuf),
}

/// A virtual device class the new-VM XML cares about, with the osinfo device ids that
/// stand for it (legacy and modern virtio PCI ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// virtio network card.
    VirtioNet,
    /// virtio block device.
    VirtioBlock,
    /// virtio SCSI controller.
    VirtioScsi,
    /// virtio entropy source.
    VirtioRng,
    /// virtio memory balloon.
    VirtioBalloon,
    /// virtio console/serial (needed by the guest-agent channel).
    VirtioSerial,
    /// virtio GPU.
    VirtioGpu,
    /// USB tablet (absolute pointer).
    UsbTablet,
    /// The Q35 chipset.
    Q35,
}

impl DeviceKind {
    /// The osinfo device ids of this kind.
    pub fn ids(self) -> &'static [&'static str] {
        match self {
            DeviceKind::VirtioNet => &[
                "http://pcisig.com/pci/1af4/1000",
                "http://pcisig.com/pci/1af4/1041",
            ],
            DeviceKind::VirtioBlock => &[
                "http://pcisig.com/pci/1af4/1001",
                "http://pcisig.com/pci/1af4/1042",
            ],
            DeviceKind::VirtioScsi => &[
                "http://pcisig.com/pci/1af4/1004",
                "http://pcisig.com/pci/1af4/1048",
            ],
            DeviceKind::VirtioRng => &[
                "http://pcisig.com/pci/1af4/1005",
                "http://pcisig.com/pci/1af4/1044",
            ],
            DeviceKind::VirtioBalloon => &[
                "http://pcisig.com/pci/1af4/1002",
                "http://pcisig.com/pci/1af4/1045",
            ],
            DeviceKind::VirtioSerial => &[
                "http://pcisig.com/pci/1af4/1003",
                "http://pcisig.com/pci/1af4/1043",
            ],
            DeviceKind::VirtioGpu => &["http://pcisig.com/pci/1af4/1050"],
            DeviceKind::UsbTablet => &["http://usb.org/usb/80ee/0021"],
            DeviceKind::Q35 => &["http://qemu.org/chipset/x86/q35"],
        }
    }
}

/// A detected operating system: which OS and which of its media matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// Index of the OS in [`OsDb::oses`].
    pub os: usize,
    /// Index of the matching medium in that OS's media.
    pub media: usize,
}

/// The loaded database.
#[derive(Debug, Default)]
pub struct OsDb {
    oses: Vec<OsInfo>,
    by_id: HashMap<String, usize>,
    by_short_id: HashMap<String, usize>,
}

impl OsDb {
    /// Loads the host's database (`$OSINFO_SYSTEM_DIR` or [`SYSTEM_DIR`]).
    pub fn load_system() -> Result<Self, OsinfoError> {
        let dir = std::env::var_os("OSINFO_SYSTEM_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SYSTEM_DIR));
        Self::load(&dir)
    }

    /// Loads every `os/**/*.xml` under `dir`.
    pub fn load(dir: &Path) -> Result<Self, OsinfoError> {
        let mut files = Vec::new();
        collect_xml(&dir.join("os"), &mut files)?;
        // Sorted so that the order of OSes (and ties in detection) never depends on the
        // file system's directory order.
        files.sort();
        let mut db = OsDb::default();
        for f in files {
            let text = match std::fs::read_to_string(&f) {
                Ok(t) => t,
                Err(source) => return Err(OsinfoError::Io { path: f, source }),
            };
            match model::parse_file(&text) {
                Ok(oses) => {
                    for os in oses {
                        db.insert(os);
                    }
                }
                Err(e) => tracing::warn!(file = %f.display(), error = %e, "skipping osinfo file"),
            }
        }
        if db.oses.is_empty() {
            return Err(OsinfoError::Empty(dir.to_owned()));
        }
        Ok(db)
    }

    fn insert(&mut self, os: OsInfo) {
        if self.by_id.contains_key(&os.id) {
            // The same id in two files: keep the first (the main file sorts first).
            return;
        }
        let i = self.oses.len();
        self.by_id.insert(os.id.clone(), i);
        for s in &os.short_ids {
            self.by_short_id.entry(s.clone()).or_insert(i);
        }
        self.oses.push(os);
    }

    /// All operating systems, in file order.
    pub fn oses(&self) -> &[OsInfo] {
        &self.oses
    }

    /// An OS by its full id (`http://debian.org/debian/11`).
    pub fn by_id(&self, id: &str) -> Option<&OsInfo> {
        self.by_id.get(id).map(|&i| &self.oses[i])
    }

    /// An OS by any of its short ids (`debian11`).
    pub fn by_short_id(&self, short_id: &str) -> Option<&OsInfo> {
        self.by_short_id.get(short_id).map(|&i| &self.oses[i])
    }

    /// OSes whose name, short id, vendor or version contains every word of `query`
    /// (case-insensitive); newest release first, end-of-life ones last.
    pub fn search(&self, query: &str, today: &str) -> Vec<&OsInfo> {
        let words: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
        let mut hits: Vec<&OsInfo> = self
            .oses
            .iter()
            .filter(|os| {
                let hay = os.search_text();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect();
        hits.sort_by(|a, b| {
            a.is_eol(today)
                .cmp(&b.is_eol(today))
                .then_with(|| b.release_date.cmp(&a.release_date))
                .then_with(|| a.name.cmp(&b.name))
        });
        hits
    }

    fn ancestry<'a>(&'a self, os: &'a OsInfo) -> Vec<&'a OsInfo> {
        // Root first; the chain is short, a depth cap guards against loops.
        let mut chain = vec![];
        let mut cur = Some(os);
        while let Some(o) = cur {
            if chain.len() > 32 || chain.iter().any(|c: &&OsInfo| c.id == o.id) {
                break;
            }
            chain.push(o);
            cur = o.derives_from.as_deref().and_then(|p| self.by_id(p));
        }
        chain.reverse();
        chain
    }

    /// The device ids an OS supports, with those of the OSes it derives from.
    pub fn all_devices(&self, os: &OsInfo) -> Vec<String> {
        let mut set: Vec<String> = Vec::new();
        for o in self.ancestry(os) {
            for d in &o.devices {
                if d.supported {
                    if !set.contains(&d.id) {
                        set.push(d.id.clone());
                    }
                } else {
                    set.retain(|x| *x != d.id);
                }
            }
        }
        set
    }

    /// True when the OS (or an OS it derives from) lists a device of this kind.
    pub fn supports(&self, os: &OsInfo, kind: DeviceKind) -> bool {
        let all = self.all_devices(os);
        kind.ids().iter().any(|id| all.iter().any(|d| d == id))
    }

    /// The resources for an architecture: the OS's own entry for the architecture or
    /// "all", else the nearest ancestor's (so a new release without figures still gets
    /// its predecessor's).
    pub fn resources(&self, os: &OsInfo, arch: &str) -> Resources {
        for o in self.ancestry(os).into_iter().rev() {
            if let Some(r) = o.resources_for(arch) {
                return r;
            }
        }
        Resources::default()
    }

    /// True when the OS can boot with UEFI on `arch`: it says so with `<firmware
    /// type="efi">`, or (the database lists firmware only for a few OSes) it is a Linux
    /// released 2014 or later, or a modern Windows.
    pub fn supports_uefi(&self, os: &OsInfo, arch: &str) -> bool {
        for o in self.ancestry(os).into_iter().rev() {
            if let Some(v) = o.firmware_support(arch, "efi") {
                return v;
            }
        }
        os.release_date.as_deref().is_some_and(|d| d >= "2014")
            && matches!(os.family.as_str(), "linux" | "winnt")
    }

    /// True when the OS refuses to boot with BIOS (Windows 11).
    pub fn requires_uefi(&self, os: &OsInfo, arch: &str) -> bool {
        self.ancestry(os)
            .into_iter()
            .rev()
            .find_map(|o| o.firmware_support(arch, "bios"))
            == Some(false)
    }

    /// Finds the OS of an install medium. Several media can match (Windows 8, 10 and
    /// 11 consumer media share their volume-id pattern); the one that checks more of
    /// the ISO's fields wins, then the newest release (today's downloads are most
    /// likely the current release), then the earlier in file order. `arch` filters media of
    /// other architectures when given.
    pub fn identify(&self, iso: &IsoInfo, arch: Option<&str>) -> Option<Detection> {
        let mut best: Option<(usize, Detection)> = None;
        for (oi, os) in self.oses.iter().enumerate() {
            for (mi, m) in os.media.iter().enumerate() {
                if let Some(a) = arch {
                    if m.arch != a && m.arch != "all" {
                        continue;
                    }
                }
                if let Some(score) = m.matches(iso) {
                    let better = match &best {
                        None => true,
                        Some((s, d)) => {
                            score > *s
                                || (score == *s && os.release_date > self.oses[d.os].release_date)
                        }
                    };
                    if better {
                        best = Some((score, Detection { os: oi, media: mi }));
                    }
                }
            }
        }
        best.map(|(_, d)| d)
    }

    /// Reads an ISO file and identifies its OS: the OS and its medium, or `None`.
    pub fn identify_file(
        &self,
        path: &Path,
        arch: Option<&str>,
    ) -> std::io::Result<Option<(&OsInfo, &MediaInfo)>> {
        let iso = read_iso_info(path)?;
        Ok(self.identify(&iso, arch).map(|d| {
            let os = &self.oses[d.os];
            (os, &os.media[d.media])
        }))
    }
}

fn collect_xml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), OsinfoError> {
    let rd = std::fs::read_dir(dir).map_err(|source| OsinfoError::Io {
        path: dir.to_owned(),
        source,
    })?;
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            // `<os>.d/` directories only carry driver lists for an OS already defined
            // in the main file.
            if p.extension().is_some_and(|x| x == "d") {
                continue;
            }
            collect_xml(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "xml") {
            out.push(p);
        }
    }
    Ok(())
}
