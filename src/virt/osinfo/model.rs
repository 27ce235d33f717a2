//! The records of the osinfo database (operating systems, media, resources, devices)
//! and the parser of one database file.

use std::sync::OnceLock;

use regex::Regex;

use super::IsoInfo;

/// One operating system of the database.
#[derive(Debug, Clone, Default)]
pub struct OsInfo {
    /// Full id, e.g. `http://debian.org/debian/11`.
    pub id: String,
    /// Short ids, the first is the main one (`debian11`, `debianbullseye`).
    pub short_ids: Vec<String>,
    /// Name in English (`Debian 11`).
    pub name: String,
    /// Vendor (`Debian Project`).
    pub vendor: String,
    /// Version string (`11`).
    pub version: String,
    /// Family (`linux`, `winnt`, `freebsd`, ...).
    pub family: String,
    /// Distribution (`debian`, `fedora`, `win`, ...).
    pub distro: String,
    /// Release date, `YYYY-MM-DD`.
    pub release_date: Option<String>,
    /// End of life, `YYYY-MM-DD`.
    pub eol_date: Option<String>,
    /// The OS this one derives from (its devices are inherited).
    pub derives_from: Option<String>,
    /// The OS this one upgrades.
    pub upgrades: Option<String>,
    /// Resource entries, one per architecture (or "all").
    pub resources: Vec<(String, Resources)>,
    /// Device entries of this OS itself.
    pub devices: Vec<Device>,
    /// Install media.
    pub media: Vec<MediaInfo>,
    /// `<firmware arch type supported>` entries.
    pub firmware: Vec<(String, String, bool)>,
    /// True when the database lists a cloud image with cloud-init for this OS.
    pub cloud_init_image: bool,
}

impl OsInfo {
    /// The main short id.
    pub fn short_id(&self) -> &str {
        self.short_ids.first().map(String::as_str).unwrap_or("")
    }

    /// True once the end-of-life date (`YYYY-MM-DD`) is before `today`.
    pub fn is_eol(&self, today: &str) -> bool {
        self.eol_date.as_deref().is_some_and(|d| d < today)
    }

    pub(super) fn search_text(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.name,
            self.short_ids.join(" "),
            self.vendor,
            self.version,
            self.distro
        )
        .to_lowercase()
    }

    pub(super) fn resources_for(&self, arch: &str) -> Option<Resources> {
        self.resources
            .iter()
            .find(|(a, _)| a == arch)
            .or_else(|| self.resources.iter().find(|(a, _)| a == "all"))
            .map(|(_, r)| *r)
    }

    pub(super) fn firmware_support(&self, arch: &str, kind: &str) -> Option<bool> {
        self.firmware
            .iter()
            .find(|(a, t, _)| (a == arch || a == "all") && t == kind)
            .map(|(_, _, s)| *s)
    }
}

/// Minimum and recommended resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    /// What the OS needs at least.
    pub minimum: ResourceSet,
    /// What the vendor recommends.
    pub recommended: ResourceSet,
}

/// A set of resource figures (any may be missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceSet {
    /// Memory in bytes.
    pub ram: Option<u64>,
    /// CPU count.
    pub n_cpus: Option<u32>,
    /// Disk in bytes.
    pub storage: Option<u64>,
}

/// A device entry: an osinfo device id, supported or (to cancel an inherited one) not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// e.g. `http://pcisig.com/pci/1af4/1041`.
    pub id: String,
    /// False for `supported="false"`.
    pub supported: bool,
}

/// An install medium of an OS and how to recognise it.
#[derive(Debug, Clone, Default)]
pub struct MediaInfo {
    /// Architecture (`x86_64`, ... or `all`).
    pub arch: String,
    /// Variant id (`universal-netinst`, `workstation`, ...).
    pub variant: Option<String>,
    /// Download address.
    pub url: Option<String>,
    /// Regular expressions on the ISO's fields.
    pub volume_id: Option<String>,
    /// See `volume_id`.
    pub system_id: Option<String>,
    /// See `volume_id`.
    pub publisher_id: Option<String>,
    /// See `volume_id`.
    pub application_id: Option<String>,
    /// Exact size of the ISO volume in bytes.
    pub volume_size: Option<u64>,
    /// Boots to a live system.
    pub live: bool,
    /// Kernel path inside the medium or tree.
    pub kernel: Option<String>,
    /// Initrd path inside the medium or tree.
    pub initrd: Option<String>,
    compiled: OnceLock<Option<[Option<Regex>; 4]>>,
}

impl MediaInfo {
    /// Matches an ISO: `None` when it does not, else how many fields were checked
    /// (more checked fields = a more specific match). Media without any ISO field
    /// never match. Patterns the `regex` crate cannot compile (a few use look-ahead)
    /// make their medium unmatchable rather than match everything.
    pub fn matches(&self, iso: &IsoInfo) -> Option<usize> {
        let pats = [
            &self.volume_id,
            &self.system_id,
            &self.publisher_id,
            &self.application_id,
        ];
        if pats.iter().all(|p| p.is_none()) && self.volume_size.is_none() {
            return None;
        }
        let compiled = self.compiled.get_or_init(|| {
            let mut out: [Option<Regex>; 4] = Default::default();
            for (i, p) in pats.iter().enumerate() {
                if let Some(p) = p {
                    match Regex::new(p) {
                        Ok(r) => out[i] = Some(r),
                        Err(e) => {
                            tracing::debug!(pattern = %p, error = %e, "unusable osinfo pattern");
                            return None;
                        }
                    }
                }
            }
            Some(out)
        });
        let compiled = compiled.as_ref()?;
        let values = [
            &iso.volume_id,
            &iso.system_id,
            &iso.publisher_id,
            &iso.application_id,
        ];
        let mut score = 0;
        for (re, v) in compiled.iter().zip(values) {
            if let Some(re) = re {
                if !re.is_match(v) {
                    return None;
                }
                score += 1;
            }
        }
        if let Some(size) = self.volume_size {
            if iso.volume_size != size {
                return None;
            }
            score += 1;
        }
        Some(score)
    }
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name) && !has_lang(*c))
}

fn has_lang(n: roxmltree::Node) -> bool {
    n.attributes().any(|a| a.name() == "lang")
}

fn text_of(n: Option<roxmltree::Node>) -> Option<String> {
    n.and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn attr_bool(n: roxmltree::Node, name: &str, default: bool) -> bool {
    match n.attribute(name) {
        Some("true") | Some("yes") => true,
        Some("false") | Some("no") => false,
        _ => default,
    }
}

fn resource_set(n: Option<roxmltree::Node>) -> ResourceSet {
    let Some(n) = n else {
        return ResourceSet::default();
    };
    let num = |name| text_of(child(n, name)).and_then(|t| t.parse::<u64>().ok());
    ResourceSet {
        ram: num("ram"),
        n_cpus: num("n-cpus").map(|v| v as u32),
        storage: num("storage"),
    }
}

/// Parses one database file into its operating systems.
pub fn parse_file(text: &str) -> Result<Vec<OsInfo>, roxmltree::Error> {
    let doc = roxmltree::Document::parse(text)?;
    let mut out = Vec::new();
    for os in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("os"))
    {
        let Some(id) = os.attribute("id") else {
            continue;
        };
        let mut info = OsInfo {
            id: id.to_owned(),
            short_ids: os
                .children()
                .filter(|c| c.has_tag_name("short-id"))
                .filter_map(|c| text_of(Some(c)))
                .collect(),
            name: text_of(child(os, "name")).unwrap_or_else(|| id.to_owned()),
            vendor: text_of(child(os, "vendor")).unwrap_or_default(),
            version: text_of(child(os, "version")).unwrap_or_default(),
            family: text_of(child(os, "family")).unwrap_or_default(),
            distro: text_of(child(os, "distro")).unwrap_or_default(),
            release_date: text_of(child(os, "release-date")),
            eol_date: text_of(child(os, "eol-date")),
            derives_from: child(os, "derives-from")
                .and_then(|d| d.attribute("id"))
                .map(str::to_owned),
            upgrades: child(os, "upgrades")
                .and_then(|d| d.attribute("id"))
                .map(str::to_owned),
            ..Default::default()
        };
        for r in os.children().filter(|c| c.has_tag_name("resources")) {
            let arch = r.attribute("arch").unwrap_or("all").to_owned();
            info.resources.push((
                arch,
                Resources {
                    minimum: resource_set(child(r, "minimum")),
                    recommended: resource_set(child(r, "recommended")),
                },
            ));
        }
        for devs in os.children().filter(|c| c.has_tag_name("devices")) {
            for d in devs.children().filter(|c| c.has_tag_name("device")) {
                if let Some(did) = d.attribute("id") {
                    info.devices.push(Device {
                        id: did.to_owned(),
                        supported: attr_bool(d, "supported", true),
                    });
                }
            }
        }
        for f in os.children().filter(|c| c.has_tag_name("firmware")) {
            info.firmware.push((
                f.attribute("arch").unwrap_or("all").to_owned(),
                f.attribute("type").unwrap_or_default().to_owned(),
                attr_bool(f, "supported", true),
            ));
        }
        info.cloud_init_image = os
            .children()
            .any(|c| c.has_tag_name("image") && attr_bool(c, "cloud-init", false));
        for m in os.children().filter(|c| c.has_tag_name("media")) {
            let iso = child(m, "iso");
            let field = |name| iso.and_then(|i| text_of(child(i, name)));
            info.media.push(MediaInfo {
                arch: m.attribute("arch").unwrap_or("all").to_owned(),
                variant: child(m, "variant")
                    .and_then(|v| v.attribute("id"))
                    .map(str::to_owned),
                url: text_of(child(m, "url")),
                volume_id: field("volume-id"),
                system_id: field("system-id"),
                publisher_id: field("publisher-id"),
                application_id: field("application-id"),
                volume_size: field("volume-size").and_then(|v| v.parse().ok()),
                live: attr_bool(m, "live", false),
                kernel: text_of(child(m, "kernel")),
                initrd: text_of(child(m, "initrd")),
                compiled: OnceLock::new(),
            });
        }
        out.push(info);
    }
    Ok(out)
}
