//! The disks of a domain and the storage volumes behind them (for the delete dialog).

use std::ffi::CString;

use virt::connect::Connect;
use virt::sys;

use super::error::{check, Result, VirtError};
use super::handles::{take_c_string, PoolRef, VolRef};

/// One disk of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageInfo {
    /// Host path of the disk's source (file or block device).
    pub path: String,
    /// Guest target device, e.g. "vda".
    pub target: String,
    /// "disk", "cdrom", "floppy" or "lun".
    pub device: String,
    /// Capacity in bytes when the path is a known storage volume.
    pub capacity: Option<u64>,
    /// Pool holding the volume, when the path is a known storage volume. Only such
    /// paths can be deleted through libvirt.
    pub pool: Option<String>,
    /// Volume name inside `pool`.
    pub volume: Option<String>,
    /// Marked read-only or shareable in the XML (deleting it would hurt others).
    pub shared: bool,
}

/// A disk as read from the XML, before looking at pools.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlDisk {
    pub path: Option<String>,
    pub pool_volume: Option<(String, String)>,
    pub target: String,
    pub device: String,
    pub shared: bool,
    /// `<disk type>`: "file", "block", "volume", "network", "dir"...
    pub kind: String,
    /// `<driver type>`: "qcow2", "raw"... when given.
    pub format: Option<String>,
    /// Marked `<readonly/>`.
    pub readonly: bool,
    /// Files below the source in its backing chain, top first (live XML only).
    pub backing: Vec<String>,
}

/// The disks of a domain XML (pure).
pub fn disks_from_xml(xml: &str) -> Result<Vec<XmlDisk>> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))?;
    let Some(devices) = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("devices"))
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for disk in devices.children().filter(|n| n.has_tag_name("disk")) {
        let child = |name: &str| disk.children().find(|n| n.has_tag_name(name));
        let source = child("source");
        let path = source.and_then(|s| {
            s.attribute("file")
                .or(s.attribute("dev"))
                .map(str::to_owned)
        });
        let pool_volume = source.and_then(|s| {
            Some((
                s.attribute("pool")?.to_owned(),
                s.attribute("volume")?.to_owned(),
            ))
        });
        out.push(XmlDisk {
            path,
            pool_volume,
            target: child("target")
                .and_then(|t| t.attribute("dev"))
                .unwrap_or_default()
                .to_owned(),
            device: disk.attribute("device").unwrap_or("disk").to_owned(),
            shared: child("readonly").is_some() || child("shareable").is_some(),
            kind: disk.attribute("type").unwrap_or("file").to_owned(),
            format: child("driver")
                .and_then(|d| d.attribute("type"))
                .map(str::to_owned),
            readonly: child("readonly").is_some(),
            backing: backing_chain(disk),
        });
    }
    Ok(out)
}

/// The files of a disk's `<backingStore>` chain, top first.
fn backing_chain(disk: roxmltree::Node) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = disk.children().find(|n| n.has_tag_name("backingStore"));
    while let Some(b) = at {
        if let Some(p) = b
            .children()
            .find(|n| n.has_tag_name("source"))
            .and_then(|s| s.attribute("file").or(s.attribute("dev")))
        {
            out.push(p.to_owned());
        }
        at = b.children().find(|n| n.has_tag_name("backingStore"));
    }
    out
}

fn vol_by_pool(conn: &Connect, pool: &str, vol: &str) -> Result<VolRef> {
    let pool_c = CString::new(pool)?;
    let vol_c = CString::new(vol)?;
    // SAFETY: valid connection and strings; owned results.
    unsafe {
        let p = PoolRef::from_raw(sys::virStoragePoolLookupByName(
            conn.as_ptr(),
            pool_c.as_ptr(),
        ))
        .ok_or_else(|| VirtError::last("virStoragePoolLookupByName"))?;
        let v = sys::virStorageVolLookupByName(p.as_ptr(), vol_c.as_ptr());
        VolRef::from_raw(v).ok_or_else(|| VirtError::last("virStorageVolLookupByName"))
    }
}

/// The disks of a domain with what libvirt's storage knows about them.
pub fn domain_storage(conn: &Connect, uuid: &str) -> Result<Vec<StorageInfo>> {
    let xml = super::actions::domain_xml(conn, uuid, true)?;
    let mut out = Vec::new();
    for disk in disks_from_xml(&xml)? {
        let vol = match (&disk.path, &disk.pool_volume) {
            (_, Some((pool, vol))) => vol_by_pool(conn, pool, vol).ok(),
            (Some(path), None) => VolRef::lookup_path(conn, path).ok(),
            (None, None) => None,
        };
        let mut info = StorageInfo {
            path: disk.path.clone().unwrap_or_default(),
            target: disk.target,
            device: disk.device,
            shared: disk.shared,
            ..Default::default()
        };
        if let Some(v) = vol {
            // SAFETY: valid volume; strings owned by the volume or freed by us.
            unsafe {
                if info.path.is_empty() {
                    info.path =
                        take_c_string(sys::virStorageVolGetPath(v.as_ptr())).unwrap_or_default();
                }
                let name = sys::virStorageVolGetName(v.as_ptr());
                if !name.is_null() {
                    info.volume = Some(
                        std::ffi::CStr::from_ptr(name)
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
                let mut vi: sys::virStorageVolInfo = std::mem::zeroed();
                if check(
                    "virStorageVolGetInfo",
                    sys::virStorageVolGetInfo(v.as_ptr(), &mut vi),
                )
                .is_ok()
                {
                    info.capacity = Some(vi.capacity as u64);
                }
                if let Some(pool) = PoolRef::from_raw(sys::virStoragePoolLookupByVolume(v.as_ptr()))
                {
                    let n = sys::virStoragePoolGetName(pool.as_ptr());
                    if !n.is_null() {
                        info.pool =
                            Some(std::ffi::CStr::from_ptr(n).to_string_lossy().into_owned());
                    }
                }
            }
        }
        if !info.path.is_empty() || info.volume.is_some() {
            out.push(info);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_disks_of_all_source_kinds() {
        let xml = r#"<domain type='kvm'><name>x</name><devices>
            <disk type='file' device='disk'><source file='/var/lib/libvirt/images/x.qcow2'/><target dev='vda' bus='virtio'/></disk>
            <disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdb'/><shareable/></disk>
            <disk type='volume' device='disk'><source pool='default' volume='data.img'/><target dev='vdc'/></disk>
            <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
            <interface type='network'><source network='default'/></interface>
        </devices></domain>"#;
        let d = disks_from_xml(xml).unwrap();
        assert_eq!(d.len(), 4);
        assert_eq!(
            d[0].path.as_deref(),
            Some("/var/lib/libvirt/images/x.qcow2")
        );
        assert_eq!(d[0].target, "vda");
        assert!(!d[0].shared);
        assert_eq!(d[1].path.as_deref(), Some("/dev/sdb"));
        assert!(d[1].shared);
        assert_eq!(
            d[2].pool_volume,
            Some(("default".into(), "data.img".into()))
        );
        assert_eq!(d[3].device, "cdrom");
        assert_eq!(d[3].path, None);
    }
}
