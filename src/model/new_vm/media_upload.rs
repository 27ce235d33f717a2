//! A local install medium for a VM on a remote host: the host cannot read a file of
//! this computer, so the wizard first uploads it into one of the host's pools (the
//! host model's volume upload, with progress and Cancel) and installs from that
//! volume.

use std::path::{Path, PathBuf};

use gio::prelude::ListModelExtManual;

use super::NewVmError;
use crate::model::host::{
    DiskFormat, HostError, HostObject, PoolObject, PoolSource, PoolSpec, Transfer, VolumeObject,
    VolumeSpec,
};
use crate::model::ConnectionObject;

/// The pool made for new VMs when a host has none, as virt-manager names it.
pub const DEFAULT_POOL: &str = "default";

/// A local medium on its way into a pool of the host.
#[derive(Debug, Clone)]
pub struct MediumUpload {
    /// The pool it goes into.
    pub pool: String,
    /// The new volume the file fills.
    pub volume: VolumeObject,
    /// The copy (progress, Cancel, end).
    pub transfer: Transfer,
}

impl ConnectionObject {
    /// The pool a local install medium is uploaded into on this host: "default" when
    /// the host has it or has no active pool at all (it is then made, as for a new
    /// VM's disk), else the first active one. Reads the host model's pools as they are
    /// now (load them first).
    pub fn media_upload_pool(&self) -> String {
        let pools: Vec<PoolObject> = self
            .host()
            .pools()
            .iter::<PoolObject>()
            .filter_map(Result::ok)
            .filter(PoolObject::active)
            .collect();
        if pools.is_empty() || pools.iter().any(|p| p.name() == DEFAULT_POOL) {
            DEFAULT_POOL.to_owned()
        } else {
            pools[0].name()
        }
    }

    /// Starts uploading the local file `file` into a new raw volume of `pool` (made
    /// when it is the missing "default" pool), named after the file (with a number
    /// when the pool has one of that name). The transfer runs on a thread of its own.
    pub async fn upload_medium(
        &self,
        file: PathBuf,
        pool: String,
    ) -> Result<MediumUpload, NewVmError> {
        let size = std::fs::metadata(&file)?.len();
        let pool_object = self.pool_for_new_volume(&pool).await?;
        let name = unique_volume_name(&file, &pool_object.volume_names());
        let volume = pool_object
            .create_volume(VolumeSpec {
                name,
                format: DiskFormat::Raw,
                capacity: size,
                backing: None,
            })
            .await?;
        match volume.upload(file) {
            Ok(transfer) => Ok(MediumUpload {
                pool,
                volume,
                transfer,
            }),
            Err(e) => {
                let _ = volume.delete().await;
                Err(e.into())
            }
        }
    }

    /// The pool `name` with its volumes read, for a new volume in it: made first
    /// when it is the "default" pool the host does not have yet (as the wizard and
    /// virt-manager do; it stays).
    pub async fn pool_for_new_volume(&self, name: &str) -> Result<PoolObject, NewVmError> {
        let host = self.host();
        if !host.loaded() {
            host.load().await?;
        }
        let pool = match find_pool(&host, name) {
            Some(p) => p,
            None if name == DEFAULT_POOL => {
                host.create_pool(PoolSpec {
                    name: name.to_owned(),
                    source: PoolSource::Dir {
                        target: self.default_pool_path(),
                    },
                    autostart: true,
                    format_devices: false,
                })
                .await?
            }
            None => return Err(HostError::Gone.into()),
        };
        pool.load_volumes().await?;
        Ok(pool)
    }

    /// Where the "default" pool is made: virt-manager's directory for the system
    /// daemon, the user's own for a session one.
    pub(super) fn default_pool_path(&self) -> String {
        let path = if crate::virt::uri::UriInfo::parse(&self.uri()).is_session() {
            glib::user_data_dir().join("libvirt/images")
        } else {
            PathBuf::from("/var/lib/libvirt/images")
        };
        path.to_string_lossy().into_owned()
    }
}

fn find_pool(host: &HostObject, name: &str) -> Option<PoolObject> {
    host.pools()
        .iter::<PoolObject>()
        .filter_map(Result::ok)
        .find(|p| p.name() == name)
}

/// The file's name, or "name-2.iso", "name-3.iso"… when it is taken.
fn unique_volume_name(file: &Path, taken: &[String]) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "install.iso".to_owned());
    if !taken.contains(&name) {
        return name;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
        _ => (name.clone(), String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|n| !taken.contains(n))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_do_not_clash() {
        let taken = vec!["debian.iso".to_owned(), "debian-2.iso".to_owned()];
        assert_eq!(
            unique_volume_name(Path::new("/x/debian.iso"), &taken),
            "debian-3.iso"
        );
        assert_eq!(
            unique_volume_name(Path::new("/x/fedora.iso"), &taken),
            "fedora.iso"
        );
        assert_eq!(
            unique_volume_name(Path::new("/x/.iso"), &[".iso".to_owned()]),
            ".iso-2"
        );
    }
}
