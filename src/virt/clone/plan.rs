//! What a clone will be, worked out before anything is made (pure functions).

use crate::virt::storage::XmlDisk;

/// What happens to one disk of the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskAction {
    /// The host copies it into a new volume beside the original.
    Copy,
    /// The clone uses the same disk (CD-ROMs, read-only and shareable disks).
    Share,
    /// A new thin qcow2 volume whose backing file is the original: quick and small,
    /// but the original must never change again while the clone lives.
    Overlay,
}

/// Why a disk is shared by default or cannot be copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskNote {
    /// A CD-ROM or floppy drive.
    Removable,
    /// Marked read-only.
    ReadOnly,
    /// Marked shareable.
    Shareable,
    /// No medium or source.
    Empty,
    /// A network disk (RBD, iSCSI...): libvirt's pools cannot copy it here.
    Network,
}

/// One disk of the original and what the clone may do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneDisk {
    pub target: String,
    /// "disk", "cdrom", "floppy", "lun".
    pub device: String,
    /// The original's file or device on the host.
    pub source: Option<String>,
    /// The original's image format ("qcow2", "raw").
    pub format: Option<String>,
    /// Size the guest sees and bytes used on the host, when known.
    pub capacity: u64,
    pub allocation: u64,
    /// What this disk allows, the default first.
    pub actions: Vec<DiskAction>,
    /// Why it is shared by default (or cannot be copied).
    pub note: Option<DiskNote>,
    /// The new volume's name for Copy and Overlay with the proposed clone name (free
    /// in the original's directory); the job names it after the name finally chosen.
    pub new_volume: String,
}

impl CloneDisk {
    /// The default action.
    pub fn default_action(&self) -> DiskAction {
        self.actions[0]
    }
}

/// Facts about one disk that only the host knows (sizes, names in use).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskFacts {
    pub capacity: u64,
    pub allocation: u64,
    /// File names already present in the disk's directory pool (for free names).
    pub taken: Vec<String>,
}

/// What the clone dialog shows and the clone job follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClonePlan {
    /// The original's name and definition (with secrets: the clone keeps them).
    pub original: String,
    pub original_xml: String,
    /// A free name in virt-clone's style ("web-clone", "web-clone1"...).
    pub name: String,
    pub disks: Vec<CloneDisk>,
    /// The original's UEFI variables file; the clone gets a copy next to it.
    pub nvram: Option<String>,
    /// The original runs and has disks to copy: QEMU holds them (and a copy of disks
    /// in use would be torn anyway), so, as virt-clone, the clone waits until the
    /// original is shut off.
    pub needs_shutdown: bool,
    /// The original has a TPM: its state belongs to the original's UUID and is not
    /// copied (the clone starts with an empty TPM).
    pub tpm_not_copied: bool,
}

/// What a person chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneRequest {
    pub name: String,
    /// The action for each disk by target; disks not listed take their default.
    pub disks: Vec<(String, DiskAction)>,
}

/// Why a clone cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloneRequestError {
    #[error("the clone needs a name")]
    EmptyName,
    #[error("a VM named {0} exists already")]
    NameTaken(String),
    #[error("a VM name cannot contain {0:?}")]
    NameInvalid(char),
    #[error("disk {0} cannot be handled that way")]
    ActionNotAllowed(String),
    #[error("the original VM must be shut off first")]
    OriginalRuns,
}

/// The first free name in virt-clone's style: "web" -> "web-clone", then
/// "web-clone1"...; a clone of "web-clone" is "web-clone1", not "web-clone-clone".
pub fn clone_name(original: &str, taken: &[String]) -> String {
    let (base, mut n) = match original.rfind("-clone") {
        Some(i) if original[i + 6..].chars().all(|c| c.is_ascii_digit()) => {
            let n = original[i + 6..].parse::<u32>().unwrap_or(0);
            (&original[..i], Some(n + 1))
        }
        _ => (original, None),
    };
    loop {
        let candidate = match n {
            None => format!("{base}-clone"),
            Some(k) => format!("{base}-clone{k}"),
        };
        if !taken.contains(&candidate) {
            return candidate;
        }
        n = Some(n.map_or(1, |k| k + 1));
    }
}

/// A free file name for the clone's copy of `file` in its directory: the original's
/// name replaced by the clone's, else "-clone" before the extension; "-1", "-2"...
/// when taken.
pub fn volume_name(file: &str, original: &str, clone: &str, taken: &[String]) -> String {
    let renamed = crate::virt::xml_edits::renamed_path(file, original, clone);
    let (stem, ext) = match renamed.rfind('.') {
        Some(i) if i > 0 && renamed.len() - i <= 8 => (&renamed[..i], &renamed[i..]),
        _ => (renamed.as_str(), ""),
    };
    let mut candidate = renamed.clone();
    let mut k = 1;
    while taken.contains(&candidate) {
        candidate = format!("{stem}-{k}{ext}");
        k += 1;
    }
    candidate
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Works out the clone of a domain (`xml`: its definition; `runs`: it runs now).
/// `facts` gives the host's figures per target; `taken_names` the VMs on the host.
pub fn plan_clone(
    original: &str,
    xml: &str,
    disks: &[XmlDisk],
    facts: &[(String, DiskFacts)],
    nvram: Option<String>,
    runs: bool,
    taken_names: &[String],
) -> ClonePlan {
    let name = clone_name(original, taken_names);
    let disks: Vec<CloneDisk> = disks
        .iter()
        .map(|d| {
            let f = facts
                .iter()
                .find(|(t, _)| *t == d.target)
                .map(|(_, f)| f.clone())
                .unwrap_or_default();
            let note = if matches!(d.device.as_str(), "cdrom" | "floppy") {
                Some(DiskNote::Removable)
            } else if d.readonly {
                Some(DiskNote::ReadOnly)
            } else if d.shared {
                Some(DiskNote::Shareable)
            } else if d.kind == "network" {
                Some(DiskNote::Network)
            } else if d.path.is_none() {
                Some(DiskNote::Empty)
            } else {
                None
            };
            let can_copy = d.path.is_some() && d.kind != "network";
            let actions = match (note, can_copy) {
                (None, true) => vec![DiskAction::Copy, DiskAction::Overlay, DiskAction::Share],
                (Some(DiskNote::Empty | DiskNote::Network), _) | (_, false) => {
                    vec![DiskAction::Share]
                }
                (Some(_), true) => vec![DiskAction::Share, DiskAction::Copy],
            };
            let new_volume = d
                .path
                .as_deref()
                .map(|p| volume_name(file_name(p), original, &name, &f.taken))
                .unwrap_or_default();
            CloneDisk {
                target: d.target.clone(),
                device: d.device.clone(),
                source: d.path.clone(),
                format: d.format.clone(),
                capacity: f.capacity,
                allocation: f.allocation,
                actions,
                note,
                new_volume,
            }
        })
        .collect();
    let needs_shutdown = runs
        && disks
            .iter()
            .any(|d| d.default_action() != DiskAction::Share);
    ClonePlan {
        original: original.to_owned(),
        original_xml: xml.to_owned(),
        name,
        disks,
        nvram,
        needs_shutdown,
        tpm_not_copied: xml.contains("<tpm "),
    }
}

/// Checks a request against the plan and the names in use.
pub fn check_request(
    plan: &ClonePlan,
    request: &CloneRequest,
    taken_names: &[String],
) -> Result<(), CloneRequestError> {
    let name = request.name.as_str();
    if name.trim().is_empty() {
        return Err(CloneRequestError::EmptyName);
    }
    if let Some(c) = name.chars().find(|c| *c == '/' || c.is_control()) {
        return Err(CloneRequestError::NameInvalid(c));
    }
    if name == plan.original || taken_names.iter().any(|t| t == name) {
        return Err(CloneRequestError::NameTaken(name.to_owned()));
    }
    if plan.needs_shutdown {
        return Err(CloneRequestError::OriginalRuns);
    }
    for (target, action) in &request.disks {
        let allowed = plan
            .disks
            .iter()
            .find(|d| d.target == *target)
            .is_some_and(|d| d.actions.contains(action));
        if !allowed {
            return Err(CloneRequestError::ActionNotAllowed(target.clone()));
        }
    }
    Ok(())
}

/// The action chosen for `disk` (its default unless the request says otherwise).
pub fn action_for(disk: &CloneDisk, request: &CloneRequest) -> DiskAction {
    request
        .disks
        .iter()
        .find(|(t, _)| *t == disk.target)
        .map_or_else(|| disk.default_action(), |(_, a)| *a)
}

/// The clone's NVRAM file: `<dir>/<clone>_VARS.fd` beside the original's.
pub fn nvram_path(original_nvram: &str, clone: &str) -> String {
    let (dir, file) = original_nvram
        .rsplit_once('/')
        .unwrap_or(("", original_nvram));
    let ext = file
        .rfind('.')
        .map(|i| &file[i..])
        .filter(|e| e.len() <= 5)
        .unwrap_or(".fd");
    format!("{dir}/{clone}_VARS{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virt::storage::disks_from_xml;

    const XML: &str = "<domain><name>web</name><os><nvram>/n/web_VARS.fd</nvram></os><devices>\
        <disk type='file' device='disk'><driver type='qcow2'/><source file='/i/web.qcow2'/><target dev='vda'/></disk>\
        <disk type='file' device='disk'><driver type='raw'/><source file='/i/data.img'/><target dev='vdb'/><shareable/></disk>\
        <disk type='file' device='cdrom'><source file='/isos/d.iso'/><target dev='sda'/><readonly/></disk>\
        <disk type='network' device='disk'><source protocol='rbd' name='p/x'/><target dev='vdc'/></disk>\
        <disk type='file' device='cdrom'><target dev='sdb'/><readonly/></disk>\
        </devices></domain>";

    #[test]
    fn names_follow_virt_clone() {
        assert_eq!(clone_name("web", &[]), "web-clone");
        let taken = vec!["web-clone".to_owned(), "web-clone1".to_owned()];
        assert_eq!(clone_name("web", &taken), "web-clone2");
        assert_eq!(clone_name("web-clone", &taken), "web-clone2");
        assert_eq!(clone_name("web-clone3", &[]), "web-clone4");
        assert_eq!(
            volume_name("web.qcow2", "web", "web-clone", &[]),
            "web-clone.qcow2"
        );
        let taken = vec!["disk-clone.img".to_owned()];
        assert_eq!(
            volume_name("disk.img", "web", "x", &taken),
            "disk-clone-1.img"
        );
        assert_eq!(
            nvram_path("/n/web_VARS.fd", "web-clone"),
            "/n/web-clone_VARS.fd"
        );
    }

    #[test]
    fn disks_are_copied_shared_or_overlaid_as_they_allow() {
        let disks = disks_from_xml(XML).unwrap();
        let facts = vec![(
            "vda".to_owned(),
            DiskFacts {
                capacity: 10 << 30,
                allocation: 2 << 30,
                taken: vec!["web-clone.qcow2".into()],
            },
        )];
        let plan = plan_clone(
            "web",
            XML,
            &disks,
            &facts,
            Some("/n/web_VARS.fd".into()),
            false,
            &[],
        );
        assert_eq!(plan.name, "web-clone");
        let by = |t: &str| plan.disks.iter().find(|d| d.target == t).unwrap();
        assert_eq!(
            by("vda").actions,
            vec![DiskAction::Copy, DiskAction::Overlay, DiskAction::Share]
        );
        assert_eq!(by("vda").new_volume, "web-clone-1.qcow2");
        assert_eq!(by("vda").capacity, 10 << 30);
        assert_eq!(by("vdb").note, Some(DiskNote::Shareable));
        assert_eq!(by("vdb").default_action(), DiskAction::Share);
        assert_eq!(by("sda").note, Some(DiskNote::Removable));
        assert_eq!(by("vdc").actions, vec![DiskAction::Share]);
        assert_eq!(by("sdb").actions, vec![DiskAction::Share]);
        assert!(!plan.tpm_not_copied);

        let running = plan_clone("web", XML, &disks, &facts, None, true, &[]);
        assert!(
            running.needs_shutdown,
            "QEMU holds the disks of a running VM"
        );
    }

    #[test]
    fn requests_are_checked() {
        let disks = disks_from_xml(XML).unwrap();
        let running = plan_clone("web", XML, &disks, &[], None, true, &[]);
        let plan = plan_clone("web", XML, &disks, &[], None, false, &[]);
        let taken = vec!["db".to_owned()];
        let ask = |name: &str, disks: Vec<(String, DiskAction)>| {
            check_request(
                &plan,
                &CloneRequest {
                    name: name.into(),
                    disks,
                },
                &taken,
            )
        };
        let req = CloneRequest {
            name: "x".into(),
            disks: vec![],
        };
        assert_eq!(
            check_request(&running, &req, &taken),
            Err(CloneRequestError::OriginalRuns)
        );
        assert_eq!(ask("", vec![]), Err(CloneRequestError::EmptyName));
        assert_eq!(
            ask("db", vec![]),
            Err(CloneRequestError::NameTaken("db".into()))
        );
        assert_eq!(
            ask("web", vec![]),
            Err(CloneRequestError::NameTaken("web".into()))
        );
        assert_eq!(ask("a/b", vec![]), Err(CloneRequestError::NameInvalid('/')));
        assert_eq!(
            ask("x", vec![("vdc".into(), DiskAction::Copy)]),
            Err(CloneRequestError::ActionNotAllowed("vdc".into()))
        );
        assert_eq!(ask("x", vec![("vda".into(), DiskAction::Share)]), Ok(()));
        let req = CloneRequest {
            name: "x".into(),
            disks: vec![("vda".into(), DiskAction::Share)],
        };
        assert_eq!(action_for(&plan.disks[0], &req), DiskAction::Share);
        assert_eq!(action_for(&plan.disks[2], &req), DiskAction::Share);
    }
}
