//! Storage pools: what the host has (type, state, autostart, sizes, where), which pool
//! types it offers, and making, starting, stopping, refreshing and removing them.
//!
//! A new pool is described by a typed [`PoolSpec`] (one shape per pool type), checked
//! by [`validate`] field by field, and written as libvirt XML by [`pool_xml`]; both are
//! pure and live in `pools/spec.rs`. Removing a pool undefines it: its data stays
//! unless the caller asks for its volumes to be deleted too (see [`delete`]).

mod spec;

use virt::connect::Connect;
use virt::storage_pool::StoragePool;

use super::{call, child, child_text, optional_list, parse_xml};
use crate::ffi::libvirt_host;
use crate::virt::error::Result;

pub use spec::{build_flags, pool_xml, validate, PoolField, PoolProblem, PoolSource, PoolSpec};

/// A pool type libvirt knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PoolType {
    /// A directory on the host.
    Dir,
    /// A file system on a host block device, mounted by libvirt.
    Fs,
    /// A network file system (NFS, GlusterFS, CIFS), mounted by libvirt.
    Netfs,
    /// An LVM volume group.
    Logical,
    /// A whole disk; volumes are its partitions.
    Disk,
    /// An iSCSI target; volumes are its LUNs (made on the target, not here).
    Iscsi,
    /// A Ceph RADOS block device pool.
    Rbd,
    /// Any other type ("scsi", "mpath", "zfs", ...), by libvirt's name.
    Other(String),
}

impl PoolType {
    /// The types a new pool can be made of here, in the order offered.
    pub const CREATABLE: [PoolType; 7] = [
        PoolType::Dir,
        PoolType::Fs,
        PoolType::Netfs,
        PoolType::Logical,
        PoolType::Disk,
        PoolType::Iscsi,
        PoolType::Rbd,
    ];

    /// From libvirt's name.
    pub fn from_name(name: &str) -> PoolType {
        match name {
            "dir" => PoolType::Dir,
            "fs" => PoolType::Fs,
            "netfs" => PoolType::Netfs,
            "logical" => PoolType::Logical,
            "disk" => PoolType::Disk,
            "iscsi" => PoolType::Iscsi,
            "rbd" => PoolType::Rbd,
            other => PoolType::Other(other.to_owned()),
        }
    }

    /// libvirt's name.
    pub fn name(&self) -> &str {
        match self {
            PoolType::Dir => "dir",
            PoolType::Fs => "fs",
            PoolType::Netfs => "netfs",
            PoolType::Logical => "logical",
            PoolType::Disk => "disk",
            PoolType::Iscsi => "iscsi",
            PoolType::Rbd => "rbd",
            PoolType::Other(n) => n,
        }
    }

    /// True when volumes can be created in such a pool through libvirt.
    pub fn can_create_volumes(&self) -> bool {
        match self {
            PoolType::Iscsi => false,
            PoolType::Other(n) => !matches!(n.as_str(), "scsi" | "mpath" | "iscsi-direct"),
            _ => true,
        }
    }

    /// True when its volumes are files, which take qcow2 and a backing file.
    pub fn has_file_volumes(&self) -> bool {
        matches!(self, PoolType::Dir | PoolType::Fs | PoolType::Netfs)
    }
}

/// virStoragePoolState.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolState {
    /// Not running.
    #[default]
    Inactive,
    /// Being built.
    Building,
    /// Running.
    Running,
    /// Running, but degraded.
    Degraded,
    /// Running, but not reachable.
    Inaccessible,
}

impl PoolState {
    /// From virStoragePoolState.
    pub fn from_raw(v: u32) -> Self {
        match v {
            1 => PoolState::Building,
            2 => PoolState::Running,
            3 => PoolState::Degraded,
            4 => PoolState::Inaccessible,
            _ => PoolState::Inactive,
        }
    }

    /// True when the pool can be used (its volumes listed).
    pub fn is_active(self) -> bool {
        !matches!(self, PoolState::Inactive)
    }
}

/// A storage pool as the host page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolInfo {
    /// Name.
    pub name: String,
    /// UUID.
    pub uuid: String,
    /// Type.
    pub pool_type: Option<PoolType>,
    /// Run state.
    pub state: PoolState,
    /// Defined (survives a stop), not transient.
    pub persistent: bool,
    /// Started when the host starts.
    pub autostart: bool,
    /// Size, bytes (0 when inactive).
    pub capacity: u64,
    /// In use, bytes.
    pub allocation: u64,
    /// Free, bytes.
    pub available: u64,
    /// Where its volumes appear on the host (`<target><path>`), if anywhere.
    pub target_path: Option<String>,
    /// Where its data comes from, for people ("nfs.example:/export", "/dev/sdb").
    pub source: Option<String>,
}

/// The type, target path and source of a pool, from its XML (pure).
pub fn parse_pool_xml(xml: &str) -> Result<(PoolType, Option<String>, Option<String>)> {
    let doc = parse_xml(xml)?;
    let root = doc.root_element();
    let pool_type = PoolType::from_name(root.attribute("type").unwrap_or_default());
    let target = child(root, "target").and_then(|t| child_text(t, "path"));
    let source = child(root, "source").and_then(|s| {
        let host = child(s, "host").and_then(|h| h.attribute("name"));
        let dir = child(s, "dir").and_then(|d| d.attribute("path"));
        let devices: Vec<&str> = s
            .children()
            .filter(|n| n.has_tag_name("device"))
            .filter_map(|d| d.attribute("path"))
            .collect();
        let name = child_text(s, "name");
        let text = match (host, dir, name) {
            (Some(h), Some(d), _) => format!("{h}:{d}"),
            (Some(h), None, Some(n)) => format!("{h}/{n}"),
            (Some(h), None, None) if !devices.is_empty() => format!("{h} {}", devices.join(", ")),
            (Some(h), None, None) => h.to_owned(),
            (None, _, Some(n)) if devices.is_empty() => n,
            (None, _, Some(n)) => format!("{n} ({})", devices.join(", ")),
            (None, _, None) if !devices.is_empty() => devices.join(", "),
            _ => return None,
        };
        Some(text)
    });
    Ok((pool_type, target, source))
}

fn info_of(pool: &StoragePool) -> Result<PoolInfo> {
    let name = call("virStoragePoolGetName", pool.name())?;
    let info = call("virStoragePoolGetInfo", pool.info())?;
    let xml = call("virStoragePoolGetXMLDesc", pool.xml_desc(0))?;
    let (pool_type, target_path, source) = parse_pool_xml(&xml)?;
    Ok(PoolInfo {
        name,
        uuid: pool.uuid_string().unwrap_or_default(),
        pool_type: Some(pool_type),
        state: PoolState::from_raw(info.state),
        persistent: pool.is_persistent().unwrap_or(true),
        autostart: pool.autostart().unwrap_or(false),
        capacity: info.capacity,
        allocation: info.allocation,
        available: info.available,
        target_path,
        source,
    })
}

/// Every pool of the host, by name.
pub fn list(conn: &Connect) -> Result<Vec<PoolInfo>> {
    let mut out = Vec::new();
    for p in optional_list(
        "virConnectListAllStoragePools",
        conn.list_all_storage_pools(0),
    )? {
        match info_of(&p) {
            Ok(i) => out.push(i),
            // Removed between the list and the read.
            Err(e) => tracing::debug!(error = %e, "pool vanished while listed"),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The pool `name`, or `None` when the host has none by that name (any more).
pub fn read(conn: &Connect, name: &str) -> Result<Option<PoolInfo>> {
    match lookup(conn, name) {
        Ok(p) => info_of(&p).map(Some),
        Err(e) if e.code() == ERR_NO_STORAGE_POOL => Ok(None),
        Err(e) => Err(e),
    }
}

/// libvirt's `VIR_ERR_NO_STORAGE_POOL`.
pub const ERR_NO_STORAGE_POOL: i32 = 49;

pub(super) fn lookup(conn: &Connect, name: &str) -> Result<StoragePool> {
    call(
        "virStoragePoolLookupByName",
        conn.lookup_storage_pool_by_name(name),
    )
}

/// Starts the pool.
pub fn start(conn: &Connect, name: &str) -> Result<()> {
    call("virStoragePoolCreate", lookup(conn, name)?.create(0))
}

/// Stops the pool (its data stays; its volumes are out of reach until it starts).
pub fn stop(conn: &Connect, name: &str) -> Result<()> {
    call("virStoragePoolDestroy", lookup(conn, name)?.destroy())
}

/// Re-reads the pool's volumes and sizes from its storage.
pub fn refresh(conn: &Connect, name: &str) -> Result<()> {
    call("virStoragePoolRefresh", lookup(conn, name)?.refresh(0))
}

/// Sets whether the pool starts with the host.
pub fn set_autostart(conn: &Connect, name: &str, autostart: bool) -> Result<()> {
    call(
        "virStoragePoolSetAutostart",
        lookup(conn, name)?.set_autostart(autostart),
    )
}

/// What [`delete`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deleted {
    /// The volumes deleted, by name.
    pub volumes: Vec<String>,
}

/// Removes the pool from libvirt: stops it when it runs and undefines it. Its storage
/// (directory, disk, volume group...) and the data in it stay, unless
/// `delete_volumes`, which first deletes every volume of the running pool (and stops
/// at the first that libvirt refuses, leaving the pool defined).
pub fn delete(conn: &Connect, name: &str, delete_volumes: bool) -> Result<Deleted> {
    let pool = lookup(conn, name)?;
    let mut done = Deleted::default();
    let active = call("virStoragePoolIsActive", pool.is_active())?;
    if delete_volumes && active {
        for vol in call("virStoragePoolListAllVolumes", pool.list_all_volumes(0))? {
            let vol_name = vol.name().unwrap_or_default();
            call("virStorageVolDelete", vol.delete(0))?;
            done.volumes.push(vol_name);
        }
    }
    if active {
        call("virStoragePoolDestroy", pool.destroy())?;
    }
    if call("virStoragePoolIsPersistent", pool.is_persistent())? {
        call("virStoragePoolUndefine", pool.undefine())?;
    }
    Ok(done)
}

/// One pool type as the host offers it (from the storage pool capabilities).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolTypeOffer {
    /// The type.
    pub pool_type: PoolType,
    /// The host can make such pools (its storage backend is installed).
    pub supported: bool,
    /// Formats of the pool's source ("nfs", "gpt", "ext4"...), the default first.
    pub source_formats: Vec<String>,
}

/// Reads `virConnectGetStoragePoolCapabilities` XML (pure).
pub fn parse_capabilities(xml: &str) -> Result<Vec<PoolTypeOffer>> {
    let doc = parse_xml(xml)?;
    let mut out = Vec::new();
    for pool in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("pool"))
    {
        let Some(t) = pool.attribute("type") else {
            continue;
        };
        let mut source_formats = Vec::new();
        if let Some(opts) = child(pool, "poolOptions") {
            let default = child(opts, "defaultFormat").and_then(|d| d.attribute("type"));
            if let Some(d) = default {
                source_formats.push(d.to_owned());
            }
            for v in opts
                .descendants()
                .filter(|n| n.has_tag_name("value"))
                .filter_map(|n| n.text())
            {
                let v = v.trim();
                // "unknown" is libvirt's placeholder, not a choice.
                if v != "unknown" && !source_formats.iter().any(|f| f == v) {
                    source_formats.push(v.to_owned());
                }
            }
        }
        out.push(PoolTypeOffer {
            pool_type: PoolType::from_name(t),
            supported: pool.attribute("supported") == Some("yes"),
            source_formats,
        });
    }
    Ok(out)
}

/// The source formats libvirt knows for a type, for drivers without capabilities.
fn known_source_formats(t: &PoolType) -> Vec<String> {
    let list: &[&str] = match t {
        PoolType::Fs => &[
            "auto", "ext4", "ext3", "ext2", "xfs", "vfat", "iso9660", "udf",
        ],
        PoolType::Netfs => &["auto", "nfs", "glusterfs", "cifs"],
        PoolType::Logical => &["lvm2"],
        PoolType::Disk => &["gpt", "dos", "dvh", "mac", "bsd", "pc98", "sun", "lvm2"],
        _ => &[],
    };
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The pool types a new pool can be made of on this host: those of
/// [`PoolType::CREATABLE`] its storage pool capabilities support, or, for drivers
/// that cannot say (the test driver, older daemons), all of them.
pub fn offered_types(conn: &Connect) -> Vec<PoolTypeOffer> {
    let from_caps = libvirt_host::storage_pool_capabilities(conn)
        .and_then(|x| parse_capabilities(&x))
        .map_err(|e| tracing::debug!(error = %e, "no storage pool capabilities"))
        .ok();
    PoolType::CREATABLE
        .iter()
        .filter_map(|t| match &from_caps {
            Some(caps) => caps
                .iter()
                .find(|o| &o.pool_type == t && o.supported)
                .map(|o| PoolTypeOffer {
                    source_formats: if o.source_formats.is_empty() {
                        known_source_formats(t)
                    } else {
                        o.source_formats.clone()
                    },
                    ..o.clone()
                }),
            None => Some(PoolTypeOffer {
                pool_type: t.clone(),
                supported: true,
                source_formats: known_source_formats(t),
            }),
        })
        .collect()
}

/// Defines, builds (see [`build_flags`]) and starts the pool `spec` describes, and
/// marks it to autostart when asked. When a step fails the definition is removed
/// again (a directory already made stays: it may hold nothing of ours) and that step's
/// libvirt error is returned.
pub fn create(conn: &Connect, spec: &PoolSpec) -> Result<PoolInfo> {
    let xml = pool_xml(spec);
    let pool = call(
        "virStoragePoolDefineXML",
        conn.define_storage_pool_xml(&xml, 0),
    )?;
    let started = (|| -> Result<()> {
        if let Some(flags) = build_flags(spec) {
            call("virStoragePoolBuild", pool.build(flags))?;
        }
        call("virStoragePoolCreate", pool.create(0))?;
        if spec.autostart {
            call("virStoragePoolSetAutostart", pool.set_autostart(true))?;
        }
        Ok(())
    })();
    if let Err(e) = started {
        if pool.is_active().unwrap_or(false) {
            let _ = pool.destroy();
        }
        if let Err(u) = pool.undefine() {
            tracing::warn!(error = %u.message(), "could not undefine a pool that failed to start");
        }
        return Err(e);
    }
    info_of(&pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_of_this_host_kind() {
        let xml = r#"<storagepoolCapabilities>
          <pool type='dir' supported='yes'><volOptions><defaultFormat type='raw'/></volOptions></pool>
          <pool type='netfs' supported='yes'><poolOptions><defaultFormat type='auto'/>
            <enum name='sourceFormatType'><value>auto</value><value>nfs</value><value>cifs</value></enum>
          </poolOptions></pool>
          <pool type='logical' supported='yes'><poolOptions><defaultFormat type='lvm2'/>
            <enum name='sourceFormatType'><value>unknown</value><value>lvm2</value></enum></poolOptions></pool>
          <pool type='rbd' supported='no'/>
        </storagepoolCapabilities>"#;
        let caps = parse_capabilities(xml).unwrap();
        assert_eq!(caps.len(), 4);
        assert_eq!(caps[1].source_formats, vec!["auto", "nfs", "cifs"]);
        assert_eq!(caps[2].source_formats, vec!["lvm2"]);
        assert!(!caps[3].supported);
    }
}
