//! A new pool as the form describes it: a typed [`PoolSpec`] (one [`PoolSource`]
//! shape per pool type), checked field by field by [`validate`] and written as libvirt
//! XML by [`pool_xml`]. Pure: nothing here calls libvirt.

use super::PoolType;
use crate::virt::host::{escape, name_problem, NameProblem};

/// Where a new pool's data is, one shape per pool type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolSource {
    /// A host directory (`target`), made when missing.
    Dir {
        /// The directory.
        target: String,
    },
    /// A block device with a file system, mounted on `target` (made when missing).
    Fs {
        /// The device, e.g. /dev/sdb1.
        device: String,
        /// The file system ("auto" lets mount find it).
        format: String,
        /// The mount point.
        target: String,
    },
    /// A network share mounted on `target` (made when missing).
    Netfs {
        /// The server.
        host: String,
        /// The exported directory (the share name for CIFS).
        source_path: String,
        /// "nfs", "glusterfs", "cifs" or "auto".
        format: String,
        /// The mount point.
        target: String,
    },
    /// An LVM volume group.
    Logical {
        /// The volume group's name.
        vg_name: String,
        /// Devices to make the group on; empty for a group that exists already.
        devices: Vec<String>,
    },
    /// A whole disk whose partitions are the volumes.
    Disk {
        /// The disk, e.g. /dev/sdc.
        device: String,
        /// The partition table ("gpt", "dos"...).
        format: String,
    },
    /// An iSCSI target.
    Iscsi {
        /// The target's host.
        host: String,
        /// The target's IQN.
        target_iqn: String,
        /// This host's initiator IQN, when the target asks for one.
        initiator_iqn: Option<String>,
    },
    /// A Ceph RBD pool.
    Rbd {
        /// Monitor hosts.
        hosts: Vec<String>,
        /// The Ceph pool's name.
        source_name: String,
        /// The Ceph user and the libvirt secret holding its key, when Ceph wants auth.
        auth: Option<(String, String)>,
    },
}

impl PoolSource {
    /// The pool type this source makes.
    pub fn pool_type(&self) -> PoolType {
        match self {
            PoolSource::Dir { .. } => PoolType::Dir,
            PoolSource::Fs { .. } => PoolType::Fs,
            PoolSource::Netfs { .. } => PoolType::Netfs,
            PoolSource::Logical { .. } => PoolType::Logical,
            PoolSource::Disk { .. } => PoolType::Disk,
            PoolSource::Iscsi { .. } => PoolType::Iscsi,
            PoolSource::Rbd { .. } => PoolType::Rbd,
        }
    }
}

/// A new pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub source: PoolSource,
    /// Start it with the host.
    pub autostart: bool,
    /// For a volume group or a disk: write a new group or partition table on the
    /// devices, which ERASES what they hold. Never done unless asked.
    pub format_devices: bool,
}

/// The field of the new-pool form a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolField {
    /// The pool's name.
    Name,
    /// Target directory or mount point.
    Target,
    /// Device path(s).
    Device,
    /// Server host(s).
    Host,
    /// Exported directory or share.
    SourcePath,
    /// Volume group, IQN or Ceph pool name.
    SourceName,
    /// The initiator IQN.
    Initiator,
    /// The Ceph user or secret.
    Auth,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolProblem {
    /// The name.
    Name(NameProblem),
    /// Nothing given where something is needed.
    Empty,
    /// Not an absolute path.
    NotAbsolute,
    /// Not a host name or address.
    BadHost,
    /// A character that cannot be there.
    BadChar(char),
    /// Not a UUID (a libvirt secret).
    BadUuid,
}

fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks `spec` against the names in use; every problem with its field (pure).
pub fn validate(spec: &PoolSpec, existing: &[String]) -> Vec<(PoolField, PoolProblem)> {
    let mut out = Vec::new();
    match name_problem(&spec.name) {
        Some(p) => out.push((PoolField::Name, PoolProblem::Name(p))),
        None if existing.iter().any(|n| n == &spec.name) => {
            out.push((PoolField::Name, PoolProblem::Name(NameProblem::Taken)))
        }
        None => {}
    }
    let mut path = |field: PoolField, p: &str| {
        if p.trim().is_empty() {
            out.push((field, PoolProblem::Empty));
        } else if !p.starts_with('/') {
            out.push((field, PoolProblem::NotAbsolute));
        }
    };
    let mut problems = Vec::new();
    match &spec.source {
        PoolSource::Dir { target } => path(PoolField::Target, target),
        PoolSource::Fs { device, target, .. } => {
            path(PoolField::Device, device);
            path(PoolField::Target, target);
        }
        PoolSource::Netfs {
            host,
            source_path,
            format,
            target,
        } => {
            path(PoolField::Target, target);
            if !is_host_name(host.trim()) {
                problems.push((PoolField::Host, PoolProblem::BadHost));
            }
            if source_path.trim().is_empty() {
                problems.push((PoolField::SourcePath, PoolProblem::Empty));
            } else if format != "cifs" && !source_path.starts_with('/') {
                problems.push((PoolField::SourcePath, PoolProblem::NotAbsolute));
            }
        }
        PoolSource::Logical { vg_name, devices } => {
            for d in devices {
                path(PoolField::Device, d);
            }
            if vg_name.trim().is_empty() {
                problems.push((PoolField::SourceName, PoolProblem::Empty));
            } else if let Some(c) = vg_name
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')))
            {
                problems.push((PoolField::SourceName, PoolProblem::BadChar(c)));
            }
        }
        PoolSource::Disk { device, .. } => path(PoolField::Device, device),
        PoolSource::Iscsi {
            host,
            target_iqn,
            initiator_iqn,
        } => {
            if !is_host_name(host.trim()) {
                problems.push((PoolField::Host, PoolProblem::BadHost));
            }
            if target_iqn.trim().is_empty() {
                problems.push((PoolField::SourceName, PoolProblem::Empty));
            } else if let Some(c) = target_iqn.chars().find(|c| c.is_whitespace()) {
                problems.push((PoolField::SourceName, PoolProblem::BadChar(c)));
            }
            if let Some(c) = initiator_iqn
                .as_deref()
                .and_then(|i| i.chars().find(|c| c.is_whitespace()))
            {
                problems.push((PoolField::Initiator, PoolProblem::BadChar(c)));
            }
        }
        PoolSource::Rbd {
            hosts,
            source_name,
            auth,
        } => {
            if hosts.is_empty() || hosts.iter().any(|h| !is_host_name(h.trim())) {
                problems.push((PoolField::Host, PoolProblem::BadHost));
            }
            if source_name.trim().is_empty() {
                problems.push((PoolField::SourceName, PoolProblem::Empty));
            }
            if let Some((user, secret)) = auth {
                if user.trim().is_empty() {
                    problems.push((PoolField::Auth, PoolProblem::Empty));
                } else if !is_uuid(secret.trim()) {
                    problems.push((PoolField::Auth, PoolProblem::BadUuid));
                }
            }
        }
    }
    out.extend(problems);
    out
}

/// A host entry with an optional `:port`.
fn host_xml(host: &str) -> String {
    let host = host.trim();
    // "[v6]:port" or "name:port"; a bare IPv6 address has several colons.
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) && !n.contains(':') => (n, Some(p)),
        Some((n, p)) if n.ends_with(']') && p.chars().all(|c| c.is_ascii_digit()) => (n, Some(p)),
        _ => (host, None),
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    match port {
        Some(p) => format!("<host name='{}' port='{}'/>", escape(name), p),
        None => format!("<host name='{}'/>", escape(name)),
    }
}

/// The pool's libvirt XML (pure).
pub fn pool_xml(spec: &PoolSpec) -> String {
    let t = spec.source.pool_type();
    let mut x = format!(
        "<pool type='{}'>\n  <name>{}</name>\n",
        t.name(),
        escape(&spec.name)
    );
    let target = |p: &str| {
        format!(
            "  <target>\n    <path>{}</path>\n  </target>\n",
            escape(p.trim())
        )
    };
    match &spec.source {
        PoolSource::Dir { target: path } => x.push_str(&target(path)),
        PoolSource::Fs {
            device,
            format,
            target: path,
        } => {
            x.push_str(&format!(
                "  <source>\n    <device path='{}'/>\n    <format type='{}'/>\n  </source>\n",
                escape(device.trim()),
                escape(format)
            ));
            x.push_str(&target(path));
        }
        PoolSource::Netfs {
            host,
            source_path,
            format,
            target: path,
        } => {
            x.push_str(&format!(
                "  <source>\n    {}\n    <dir path='{}'/>\n    <format type='{}'/>\n  </source>\n",
                host_xml(host),
                escape(source_path.trim()),
                escape(format)
            ));
            x.push_str(&target(path));
        }
        PoolSource::Logical { vg_name, devices } => {
            x.push_str("  <source>\n");
            for d in devices {
                x.push_str(&format!("    <device path='{}'/>\n", escape(d.trim())));
            }
            x.push_str(&format!(
                "    <name>{}</name>\n    <format type='lvm2'/>\n  </source>\n",
                escape(vg_name.trim())
            ));
            x.push_str(&target(&format!("/dev/{}", vg_name.trim())));
        }
        PoolSource::Disk { device, format } => {
            x.push_str(&format!(
                "  <source>\n    <device path='{}'/>\n    <format type='{}'/>\n  </source>\n",
                escape(device.trim()),
                escape(format)
            ));
            x.push_str(&target("/dev"));
        }
        PoolSource::Iscsi {
            host,
            target_iqn,
            initiator_iqn,
        } => {
            x.push_str(&format!(
                "  <source>\n    {}\n    <device path='{}'/>\n",
                host_xml(host),
                escape(target_iqn.trim())
            ));
            if let Some(i) = initiator_iqn.as_deref().filter(|i| !i.trim().is_empty()) {
                x.push_str(&format!(
                    "    <initiator>\n      <iqn name='{}'/>\n    </initiator>\n",
                    escape(i.trim())
                ));
            }
            x.push_str("  </source>\n");
            x.push_str(&target("/dev/disk/by-path"));
        }
        PoolSource::Rbd {
            hosts,
            source_name,
            auth,
        } => {
            x.push_str(&format!(
                "  <source>\n    <name>{}</name>\n",
                escape(source_name.trim())
            ));
            for h in hosts {
                x.push_str(&format!("    {}\n", host_xml(h)));
            }
            if let Some((user, secret)) = auth {
                x.push_str(&format!(
                    "    <auth type='ceph' username='{}'>\n      <secret uuid='{}'/>\n    </auth>\n",
                    escape(user.trim()),
                    escape(secret.trim())
                ));
            }
            x.push_str("  </source>\n");
        }
    }
    x.push_str("</pool>\n");
    x
}

/// libvirt's build flags for a new pool: 0 makes the target directory only (dir, fs,
/// netfs); formatting devices (logical, disk) is asked for explicitly with OVERWRITE.
/// `None`: the type has nothing to build.
pub fn build_flags(spec: &PoolSpec) -> Option<u32> {
    match &spec.source {
        PoolSource::Dir { .. } | PoolSource::Fs { .. } | PoolSource::Netfs { .. } => Some(0),
        PoolSource::Logical { devices, .. } if spec.format_devices && !devices.is_empty() => {
            Some(virt::sys::VIR_STORAGE_POOL_BUILD_OVERWRITE)
        }
        PoolSource::Disk { .. } if spec.format_devices => {
            Some(virt::sys::VIR_STORAGE_POOL_BUILD_OVERWRITE)
        }
        _ => None,
    }
}

impl From<NameProblem> for PoolProblem {
    fn from(p: NameProblem) -> Self {
        PoolProblem::Name(p)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_pool_xml;
    use super::*;

    fn spec(source: PoolSource) -> PoolSpec {
        PoolSpec {
            name: "p".into(),
            source,
            autostart: true,
            format_devices: false,
        }
    }

    #[test]
    fn dir_pool_xml() {
        let x = pool_xml(&spec(PoolSource::Dir {
            target: "/srv/images".into(),
        }));
        assert_eq!(
            x,
            "<pool type='dir'>\n  <name>p</name>\n  <target>\n    <path>/srv/images</path>\n  </target>\n</pool>\n"
        );
        let (t, target, source) = parse_pool_xml(&x).unwrap();
        assert_eq!(t, PoolType::Dir);
        assert_eq!(target.as_deref(), Some("/srv/images"));
        assert_eq!(source, None);
    }

    #[test]
    fn netfs_and_iscsi_and_rbd_xml_read_back() {
        let x = pool_xml(&spec(PoolSource::Netfs {
            host: "nfs.example:2049".into(),
            source_path: "/export/vm".into(),
            format: "nfs".into(),
            target: "/mnt/vm".into(),
        }));
        assert!(x.contains("<host name='nfs.example' port='2049'/>"), "{x}");
        assert!(x.contains("<format type='nfs'/>"));
        let (t, target, source) = parse_pool_xml(&x).unwrap();
        assert_eq!(t, PoolType::Netfs);
        assert_eq!(target.as_deref(), Some("/mnt/vm"));
        assert_eq!(source.as_deref(), Some("nfs.example:/export/vm"));

        let x = pool_xml(&spec(PoolSource::Iscsi {
            host: "san".into(),
            target_iqn: "iqn.2013-06.com.example:pool".into(),
            initiator_iqn: Some("iqn.2013-06.com.example:me".into()),
        }));
        assert!(
            x.contains("<iqn name='iqn.2013-06.com.example:me'/>"),
            "{x}"
        );
        assert!(x.contains("<path>/dev/disk/by-path</path>"));
        assert!(roxmltree::Document::parse(&x).is_ok());

        let x = pool_xml(&spec(PoolSource::Rbd {
            hosts: vec!["mon1".into(), "[::1]:6789".into()],
            source_name: "rbd".into(),
            auth: Some((
                "libvirt".into(),
                "2a0bcf3d-1f9c-4a22-9d5c-3c2f6b2b8a10".into(),
            )),
        }));
        assert!(x.contains("<host name='::1' port='6789'/>"), "{x}");
        assert!(x.contains("username='libvirt'"));
        assert!(!x.contains("<target>"));
        assert_eq!(parse_pool_xml(&x).unwrap().2.as_deref(), Some("mon1/rbd"));
    }

    #[test]
    fn logical_and_disk_format_only_when_asked() {
        let mut s = spec(PoolSource::Logical {
            vg_name: "vg0".into(),
            devices: vec!["/dev/sdb".into()],
        });
        assert_eq!(build_flags(&s), None);
        s.format_devices = true;
        assert_eq!(
            build_flags(&s),
            Some(virt::sys::VIR_STORAGE_POOL_BUILD_OVERWRITE)
        );
        assert!(pool_xml(&s).contains("<path>/dev/vg0</path>"));
        let d = spec(PoolSource::Disk {
            device: "/dev/sdc".into(),
            format: "gpt".into(),
        });
        assert_eq!(build_flags(&d), None);
        assert_eq!(
            build_flags(&spec(PoolSource::Dir {
                target: "/x".into()
            })),
            Some(0)
        );
    }

    #[test]
    fn problems_name_their_fields() {
        let existing = vec!["default".to_owned()];
        let mut s = spec(PoolSource::Dir {
            target: "relative/dir".into(),
        });
        s.name = "default".into();
        assert_eq!(
            validate(&s, &existing),
            vec![
                (PoolField::Name, PoolProblem::Name(NameProblem::Taken)),
                (PoolField::Target, PoolProblem::NotAbsolute)
            ]
        );
        let s = spec(PoolSource::Netfs {
            host: "bad host".into(),
            source_path: "share".into(),
            format: "nfs".into(),
            target: "/mnt".into(),
        });
        assert_eq!(
            validate(&s, &existing),
            vec![
                (PoolField::Host, PoolProblem::BadHost),
                (PoolField::SourcePath, PoolProblem::NotAbsolute)
            ]
        );
        // A CIFS share is a name, not a path.
        let s = spec(PoolSource::Netfs {
            host: "nas".into(),
            source_path: "vms".into(),
            format: "cifs".into(),
            target: "/mnt".into(),
        });
        assert!(validate(&s, &existing).is_empty());
        let s = spec(PoolSource::Rbd {
            hosts: vec!["mon".into()],
            source_name: "".into(),
            auth: Some(("u".into(), "not-a-uuid".into())),
        });
        assert_eq!(
            validate(&s, &existing),
            vec![
                (PoolField::SourceName, PoolProblem::Empty),
                (PoolField::Auth, PoolProblem::BadUuid)
            ]
        );
    }
}
