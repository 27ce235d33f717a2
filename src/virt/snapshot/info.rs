//! What a snapshot is, read from its `<domainsnapshot>` XML, and the snapshot tree.

use crate::virt::error::{Result, VirtError};

/// The state the domain was in when the snapshot was taken (`<state>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotState {
    Running,
    Blocked,
    Paused,
    ShuttingDown,
    Shutoff,
    Crashed,
    PmSuspended,
    /// A disk-only snapshot of a running domain (no memory).
    DiskSnapshot,
    #[default]
    NoState,
}

impl SnapshotState {
    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "blocked" => Self::Blocked,
            "paused" => Self::Paused,
            "shutdown" => Self::ShuttingDown,
            "shutoff" => Self::Shutoff,
            "crashed" => Self::Crashed,
            "pmsuspended" => Self::PmSuspended,
            "disk-snapshot" => Self::DiskSnapshot,
            _ => Self::NoState,
        }
    }
}

/// Where a snapshot keeps the domain's memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MemorySnapshot {
    /// No memory: the disks only.
    #[default]
    None,
    /// Inside the qcow2 disk images.
    Internal,
    /// In this file on the host.
    External(String),
}

/// How one disk is kept by a snapshot (`<disks><disk snapshot=...>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskMode {
    /// Not part of the snapshot.
    No,
    /// Inside the disk's own qcow2 image.
    Internal,
    /// The old image was frozen and a new overlay file receives the writes.
    External,
    /// Left to the user (`manual`).
    Manual,
}

/// One disk of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDisk {
    /// Target device ("vda").
    pub target: String,
    pub mode: DiskMode,
    /// For an external disk snapshot: the overlay file that took the writes after it.
    pub overlay: Option<String>,
}

/// One snapshot as Vireo shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotInfo {
    pub name: String,
    pub description: String,
    /// The parent snapshot's name (`None` for a root).
    pub parent: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    pub state: SnapshotState,
    pub memory: MemorySnapshot,
    pub disks: Vec<SnapshotDisk>,
    /// True for the domain's current snapshot.
    pub is_current: bool,
}

impl SnapshotInfo {
    /// Reads a `<domainsnapshot>` document (`is_current` is set by the caller).
    pub fn parse(xml: &str) -> Result<Self> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))?;
        let root = doc.root_element();
        if !root.has_tag_name("domainsnapshot") {
            return Err(VirtError::Xml(format!(
                "expected <domainsnapshot>, found <{}>",
                root.tag_name().name()
            )));
        }
        let child = |name: &str| root.children().find(|n| n.has_tag_name(name));
        let text = |name: &str| child(name).and_then(|n| n.text()).unwrap_or_default();
        let memory = match child("memory")
            .and_then(|m| Some((m.attribute("snapshot")?, m.attribute("file").unwrap_or(""))))
        {
            Some(("internal", _)) => MemorySnapshot::Internal,
            Some(("external", file)) => MemorySnapshot::External(file.to_owned()),
            _ => MemorySnapshot::None,
        };
        let disks = child("disks")
            .map(|d| {
                d.children()
                    .filter(|n| n.has_tag_name("disk"))
                    .map(|n| SnapshotDisk {
                        target: n.attribute("name").unwrap_or_default().to_owned(),
                        mode: match n.attribute("snapshot") {
                            Some("no") => DiskMode::No,
                            Some("external") => DiskMode::External,
                            Some("manual") => DiskMode::Manual,
                            _ => DiskMode::Internal,
                        },
                        overlay: n
                            .children()
                            .find(|s| s.has_tag_name("source"))
                            .and_then(|s| s.attribute("file").or(s.attribute("dev")))
                            .map(str::to_owned),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(SnapshotInfo {
            name: text("name").to_owned(),
            description: text("description").to_owned(),
            parent: child("parent")
                .and_then(|p| p.children().find(|n| n.has_tag_name("name")))
                .and_then(|n| n.text())
                .map(str::to_owned),
            created: text("creationTime").trim().parse().unwrap_or(0),
            state: SnapshotState::parse(text("state").trim()),
            memory,
            disks,
            is_current: false,
        })
    }

    /// True when the snapshot holds the running domain's memory (reverting to it
    /// resumes the domain where it was).
    pub fn has_memory(&self) -> bool {
        self.memory != MemorySnapshot::None
            && matches!(
                self.state,
                SnapshotState::Running | SnapshotState::Paused | SnapshotState::Blocked
            )
    }

    /// True when any part lives outside the disk images (overlay or memory files).
    pub fn is_external(&self) -> bool {
        matches!(self.memory, MemorySnapshot::External(_))
            || self.disks.iter().any(|d| d.mode == DiskMode::External)
    }
}

/// One line of the snapshot tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub info: SnapshotInfo,
    /// 0 for roots.
    pub depth: usize,
    /// Names of the direct children, oldest first.
    pub children: Vec<String>,
}

/// Orders snapshots as a tree, depth first: roots and siblings oldest first (then by
/// name). A snapshot whose parent is unknown is a root.
pub fn tree(snapshots: Vec<SnapshotInfo>) -> Vec<TreeEntry> {
    let mut sorted = snapshots;
    sorted.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
    let known: std::collections::HashSet<String> = sorted.iter().map(|s| s.name.clone()).collect();
    let parent_of = |s: &SnapshotInfo| {
        s.parent
            .clone()
            .filter(|p| known.contains(p) && *p != s.name)
    };
    let children_of = |name: Option<&str>| -> Vec<usize> {
        (0..sorted.len())
            .filter(|&i| parent_of(&sorted[i]).as_deref() == name)
            .collect()
    };
    let mut out = Vec::with_capacity(sorted.len());
    let mut stack: Vec<(usize, usize)> = children_of(None)
        .into_iter()
        .rev()
        .map(|i| (i, 0))
        .collect();
    let mut seen = vec![false; sorted.len()];
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let kids = children_of(Some(&sorted[i].name));
        out.push(TreeEntry {
            info: sorted[i].clone(),
            depth,
            children: kids.iter().map(|&k| sorted[k].name.clone()).collect(),
        });
        stack.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
    }
    // A parent cycle (never made by libvirt, but metadata can be redefined by hand)
    // leaves snapshots unreached: show them as roots rather than hide them.
    for (i, s) in sorted.iter().enumerate() {
        if !seen[i] {
            out.push(TreeEntry {
                info: s.clone(),
                depth: 0,
                children: Vec::new(),
            });
        }
    }
    out
}

/// The names of `name`'s descendants in `entries` (children, their children...).
pub fn descendants(entries: &[TreeEntry], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![name.to_owned()];
    while let Some(n) = todo.pop() {
        if let Some(e) = entries.iter().find(|e| e.info.name == n) {
            for c in &e.children {
                if !out.contains(c) {
                    out.push(c.clone());
                    todo.push(c.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXTERNAL: &str = "<domainsnapshot>
  <name>on2</name>
  <description>before the upgrade &amp; reboot</description>
  <state>running</state>
  <parent><name>base</name></parent>
  <creationTime>1796370732</creationTime>
  <memory snapshot='external' file='/var/lib/libvirt/images/u-on2.mem'/>
  <disks>
    <disk name='vda' snapshot='external' type='file'>
      <driver type='qcow2'/>
      <source file='/var/lib/libvirt/images/u-on2.qcow2'/>
    </disk>
    <disk name='sda' snapshot='no'/>
  </disks>
  <domain type='qemu'><name>u</name></domain>
</domainsnapshot>";

    #[test]
    fn reads_an_external_snapshot_with_memory() {
        let s = SnapshotInfo::parse(EXTERNAL).unwrap();
        assert_eq!(s.name, "on2");
        assert_eq!(s.description, "before the upgrade & reboot");
        assert_eq!(s.parent.as_deref(), Some("base"));
        assert_eq!(s.created, 1796370732);
        assert_eq!(s.state, SnapshotState::Running);
        assert_eq!(
            s.memory,
            MemorySnapshot::External("/var/lib/libvirt/images/u-on2.mem".into())
        );
        assert!(s.has_memory() && s.is_external());
        assert_eq!(s.disks.len(), 2);
        assert_eq!(s.disks[0].mode, DiskMode::External);
        assert_eq!(
            s.disks[0].overlay.as_deref(),
            Some("/var/lib/libvirt/images/u-on2.qcow2")
        );
        assert_eq!(s.disks[1].mode, DiskMode::No);
    }

    #[test]
    fn reads_internal_and_disk_only_snapshots() {
        let s = SnapshotInfo::parse(
            "<domainsnapshot><name>s1</name><state>shutoff</state>\
             <creationTime>5</creationTime><memory snapshot='no'/>\
             <disks><disk name='vda' snapshot='internal'/></disks></domainsnapshot>",
        )
        .unwrap();
        assert!(!s.has_memory() && !s.is_external());
        assert_eq!(s.parent, None);
        assert_eq!(s.description, "");
        let d = SnapshotInfo::parse(
            "<domainsnapshot><name>d</name><state>disk-snapshot</state>\
             <memory snapshot='no'/><disks><disk name='vda' snapshot='external'>\
             <source file='/i/a.d'/></disk></disks></domainsnapshot>",
        )
        .unwrap();
        assert_eq!(d.state, SnapshotState::DiskSnapshot);
        assert!(!d.has_memory() && d.is_external());
        assert!(SnapshotInfo::parse("<domain/>").is_err());
    }

    fn snap(name: &str, parent: Option<&str>, created: i64) -> SnapshotInfo {
        SnapshotInfo {
            name: name.into(),
            parent: parent.map(Into::into),
            created,
            ..Default::default()
        }
    }

    #[test]
    fn orders_a_tree_depth_first_oldest_first() {
        let t = tree(vec![
            snap("c2", Some("b"), 40),
            snap("b", Some("a"), 20),
            snap("a", None, 10),
            snap("c1", Some("b"), 30),
            snap("other-root", None, 15),
            snap("orphan", Some("gone"), 50),
        ]);
        let order: Vec<(&str, usize)> = t.iter().map(|e| (e.info.name.as_str(), e.depth)).collect();
        assert_eq!(
            order,
            vec![
                ("a", 0),
                ("b", 1),
                ("c1", 2),
                ("c2", 2),
                ("other-root", 0),
                ("orphan", 0)
            ]
        );
        assert_eq!(t[1].children, vec!["c1", "c2"]);
        let mut d = descendants(&t, "a");
        d.sort();
        assert_eq!(d, vec!["b", "c1", "c2"]);
        assert!(descendants(&t, "c1").is_empty());
    }

    #[test]
    fn a_parent_cycle_still_shows_every_snapshot() {
        let t = tree(vec![snap("x", Some("y"), 1), snap("y", Some("x"), 2)]);
        assert_eq!(t.len(), 2);
    }
}
