//! Storage volumes of a pool: listing them (format, sizes, backing file), making new
//! ones (qcow2 or raw, a size, optionally on top of a backing volume), growing and
//! deleting them. [`VolumeSpec`] is checked by [`validate`] and written by
//! [`volume_xml`], both pure.

use virt::connect::Connect;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;

use super::pools::lookup;
use super::{bytes_of, call, child, child_text, name_problem, parse_xml, NameProblem};
use crate::virt::error::{Result, ERR_NO_STORAGE_VOL};
use crate::virt::new_vm::{volume_xml as write_volume_xml, DiskFormat};

/// A volume as the pool view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeInfo {
    /// Its name in the pool.
    pub name: String,
    /// Its host path (what a domain's disk points at).
    pub path: String,
    /// The format of its data ("qcow2", "raw", "iso"...), when libvirt knows it.
    pub format: Option<String>,
    /// Its size as the guest sees it, bytes.
    pub capacity: u64,
    /// Host storage it takes, bytes.
    pub allocation: u64,
    /// The path of its backing file, for a qcow2 overlay.
    pub backing_path: Option<String>,
}

/// The format and backing path of a volume, from its XML (pure).
pub fn parse_volume_xml(xml: &str) -> Result<(Option<String>, Option<String>, u64, u64)> {
    let doc = parse_xml(xml)?;
    let root = doc.root_element();
    let format = child(root, "target")
        .and_then(|t| child(t, "format"))
        .and_then(|f| f.attribute("type"))
        .map(str::to_owned);
    let backing = child(root, "backingStore").and_then(|b| child_text(b, "path"));
    Ok((
        format,
        backing,
        bytes_of(child(root, "capacity")),
        bytes_of(child(root, "allocation")),
    ))
}

fn info_of(vol: &StorageVol) -> Result<VolumeInfo> {
    let xml = call("virStorageVolGetXMLDesc", vol.xml_desc(0))?;
    let (format, backing_path, capacity, allocation) = parse_volume_xml(&xml)?;
    Ok(VolumeInfo {
        name: call("virStorageVolGetName", vol.name())?,
        path: vol.path().unwrap_or_default(),
        format,
        capacity,
        allocation,
        backing_path,
    })
}

/// The volumes of the running pool `pool`, by name.
pub fn list(conn: &Connect, pool: &str) -> Result<Vec<VolumeInfo>> {
    let p = lookup(conn, pool)?;
    let mut out = Vec::new();
    for v in call("virStoragePoolListAllVolumes", p.list_all_volumes(0))? {
        match info_of(&v) {
            Ok(i) => out.push(i),
            Err(e) => tracing::debug!(error = %e, "volume vanished while listed"),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn lookup_vol(conn: &Connect, pool: &str, name: &str) -> Result<(StoragePool, StorageVol)> {
    let p = lookup(conn, pool)?;
    let v = call(
        "virStorageVolLookupByName",
        p.lookup_storage_vol_by_name(name),
    )?;
    Ok((p, v))
}

/// The volume `name` of `pool`, `None` when it is gone.
pub fn read(conn: &Connect, pool: &str, name: &str) -> Result<Option<VolumeInfo>> {
    match lookup_vol(conn, pool, name) {
        Ok((_, v)) => info_of(&v).map(Some),
        Err(e) if e.code() == ERR_NO_STORAGE_VOL => Ok(None),
        Err(e) => Err(e),
    }
}

/// A new volume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeSpec {
    /// Its name in the pool.
    pub name: String,
    /// Its format.
    pub format: DiskFormat,
    /// Its size as the guest sees it, bytes.
    pub capacity: u64,
    /// A volume it starts as a copy-on-write overlay of (qcow2 only): its path, its
    /// format and its capacity.
    pub backing: Option<(String, DiskFormat, u64)>,
}

/// The field of the new-volume form a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolumeField {
    /// The name.
    Name,
    /// The size.
    Capacity,
    /// The backing volume.
    Backing,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeProblem {
    /// The name.
    Name(NameProblem),
    /// A size of 0.
    Empty,
    /// Smaller than the backing volume (its capacity in bytes).
    SmallerThanBacking(u64),
    /// Only qcow2 volumes can have a backing volume.
    BackingNeedsQcow2,
    /// This pool's volumes are not files: no qcow2, no backing volume.
    NotFilePool,
}

/// Checks `spec` for a pool whose volumes are called `existing` (pure). `file_pool`:
/// the pool's volumes are files (dir, fs, netfs), which qcow2 and backing files need.
pub fn validate(
    spec: &VolumeSpec,
    existing: &[String],
    file_pool: bool,
) -> Vec<(VolumeField, VolumeProblem)> {
    let mut out = Vec::new();
    match name_problem(&spec.name) {
        Some(p) => out.push((VolumeField::Name, VolumeProblem::Name(p))),
        None if existing.iter().any(|n| n == &spec.name) => {
            out.push((VolumeField::Name, VolumeProblem::Name(NameProblem::Taken)))
        }
        None => {}
    }
    if spec.capacity == 0 {
        out.push((VolumeField::Capacity, VolumeProblem::Empty));
    }
    if !file_pool && spec.format == DiskFormat::Qcow2 {
        out.push((VolumeField::Name, VolumeProblem::NotFilePool));
    }
    if let Some((_, _, backing_capacity)) = &spec.backing {
        if spec.format != DiskFormat::Qcow2 {
            out.push((VolumeField::Backing, VolumeProblem::BackingNeedsQcow2));
        } else if spec.capacity > 0 && spec.capacity < *backing_capacity {
            out.push((
                VolumeField::Capacity,
                VolumeProblem::SmallerThanBacking(*backing_capacity),
            ));
        }
    }
    out
}

/// The volume's libvirt XML (pure): the wizard's writer, so that both make volumes
/// alike (allocated as the guest writes).
pub fn volume_xml(spec: &VolumeSpec) -> String {
    write_volume_xml(
        &spec.name,
        spec.capacity,
        spec.format,
        spec.backing
            .as_ref()
            .map(|(path, format, _)| (path.as_str(), *format)),
    )
}

/// Makes the volume `spec` describes in the pool `pool`.
pub fn create(conn: &Connect, pool: &str, spec: &VolumeSpec) -> Result<VolumeInfo> {
    let p = lookup(conn, pool)?;
    let v = call(
        "virStorageVolCreateXML",
        StorageVol::create_xml(&p, &volume_xml(spec), 0),
    )?;
    info_of(&v)
}

/// Sets the volume's capacity to `capacity` bytes. Shrinking cuts off what the guest
/// wrote past the new end: only with `shrink`.
pub fn resize(conn: &Connect, pool: &str, name: &str, capacity: u64, shrink: bool) -> Result<()> {
    let (_, v) = lookup_vol(conn, pool, name)?;
    let flags = if shrink {
        virt::sys::VIR_STORAGE_VOL_RESIZE_SHRINK
    } else {
        0
    };
    call("virStorageVolResize", v.resize(capacity, flags))
}

/// Deletes the volume and its data.
pub fn delete(conn: &Connect, pool: &str, name: &str) -> Result<()> {
    let (_, v) = lookup_vol(conn, pool, name)?;
    call("virStorageVolDelete", v.delete(0))
}

/// The format a volume of format `name` has as a backing file: qcow2 or raw (ISO
/// images and volumes of unknown format are plain bytes); `None` for other image
/// formats.
pub fn backing_format(name: Option<&str>) -> Option<DiskFormat> {
    match name {
        Some("qcow2") => Some(DiskFormat::Qcow2),
        Some("raw" | "iso" | "none") | None => Some(DiskFormat::Raw),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qcow2_overlay_xml() {
        let spec = VolumeSpec {
            name: "web.qcow2".into(),
            format: DiskFormat::Qcow2,
            capacity: 10 << 30,
            backing: Some((
                "/var/lib/libvirt/images/base.qcow2".into(),
                DiskFormat::Qcow2,
                8 << 30,
            )),
        };
        assert!(validate(&spec, &[], true).is_empty());
        let x = volume_xml(&spec);
        let (format, backing, cap, alloc) = parse_volume_xml(&x).unwrap();
        assert_eq!(format.as_deref(), Some("qcow2"));
        assert_eq!(
            backing.as_deref(),
            Some("/var/lib/libvirt/images/base.qcow2")
        );
        assert_eq!(cap, 10 << 30);
        assert_eq!(alloc, 0);
    }

    #[test]
    fn problems() {
        let existing = vec!["a.img".to_owned()];
        let spec = VolumeSpec {
            name: "a.img".into(),
            format: DiskFormat::Raw,
            capacity: 0,
            backing: Some(("/b".into(), DiskFormat::Raw, 1)),
        };
        assert_eq!(
            validate(&spec, &existing, true),
            vec![
                (VolumeField::Name, VolumeProblem::Name(NameProblem::Taken)),
                (VolumeField::Capacity, VolumeProblem::Empty),
                (VolumeField::Backing, VolumeProblem::BackingNeedsQcow2),
            ]
        );
        let spec = VolumeSpec {
            name: "b".into(),
            format: DiskFormat::Qcow2,
            capacity: 1 << 30,
            backing: Some(("/b".into(), DiskFormat::Raw, 2 << 30)),
        };
        assert_eq!(
            validate(&spec, &existing, true),
            vec![(
                VolumeField::Capacity,
                VolumeProblem::SmallerThanBacking(2 << 30)
            )]
        );
        assert_eq!(
            validate(
                &VolumeSpec {
                    name: "lv".into(),
                    capacity: 1,
                    ..Default::default()
                },
                &[],
                false
            ),
            vec![(VolumeField::Name, VolumeProblem::NotFilePool)]
        );
    }

    #[test]
    fn backing_formats() {
        assert_eq!(backing_format(Some("qcow2")), Some(DiskFormat::Qcow2));
        assert_eq!(backing_format(Some("iso")), Some(DiskFormat::Raw));
        assert_eq!(backing_format(None), Some(DiskFormat::Raw));
        assert_eq!(backing_format(Some("vmdk")), None);
    }

    #[test]
    fn reads_a_volume_of_the_test_driver() {
        let xml = "<volume type='file'><name>v1</name><key>/default-pool/v1</key>
          <capacity unit='bytes'>1048576</capacity><allocation unit='bytes'>4096</allocation>
          <target><path>/default-pool/v1</path><format type='raw'/></target></volume>";
        let (format, backing, cap, alloc) = parse_volume_xml(xml).unwrap();
        assert_eq!(format.as_deref(), Some("raw"));
        assert_eq!(backing, None);
        assert_eq!((cap, alloc), (1048576, 4096));
    }
}
