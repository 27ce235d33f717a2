//! `VolumeObject`: one storage volume as a GObject, with the domains that use it.

use std::cell::RefCell;
use std::path::PathBuf;

use glib::prelude::*;
use glib::subclass::prelude::*;

use super::keyed::{self, Keyed};
use super::{HostError, PoolObject, Transfer, TransferDirection};
use crate::virt::host::volumes::{self, VolumeInfo};
use crate::virt::new_vm::DiskFormat;

mod imp {
    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::VolumeObject)]
    pub struct VolumeObject {
        #[property(name = "name", get, type = String, member = name)]
        #[property(name = "path", get, type = String, member = path)]
        #[property(name = "format", get, type = Option<String>, member = format)]
        #[property(name = "capacity", get, type = u64, member = capacity)]
        #[property(name = "allocation", get, type = u64, member = allocation)]
        #[property(name = "backing-path", get, type = Option<String>, member = backing_path)]
        pub(super) info: RefCell<VolumeInfo>,
        /// The names of the domains whose disks are this volume (or have it as a
        /// backing file), sorted.
        #[property(get)]
        pub(super) used_by: RefCell<Vec<String>>,
        /// The upload or download running now, if any.
        #[property(get, nullable)]
        pub(super) transfer: RefCell<Option<Transfer>>,
        pub(super) pool: glib::WeakRef<PoolObject>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VolumeObject {
        const NAME: &'static str = "VireoVolumeObject";
        type Type = super::VolumeObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for VolumeObject {}
}

glib::wrapper! {
    /// One storage volume of a pool.
    pub struct VolumeObject(ObjectSubclass<imp::VolumeObject>);
}

impl Keyed for VolumeObject {
    type Info = (VolumeInfo, Vec<String>);

    fn key_of(info: &Self::Info) -> &str {
        &info.0.name
    }

    fn key(&self) -> String {
        self.imp().info.borrow().name.clone()
    }

    fn make(info: Self::Info) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().info.replace(info.0);
        obj.imp().used_by.replace(info.1);
        obj
    }

    fn apply(&self, (info, users): Self::Info) {
        if *self.imp().info.borrow() != info {
            self.imp().info.replace(info);
            keyed::notify_all(self, &["used-by", "transfer"]);
        }
        self.set_used_by(users);
    }
}

impl VolumeObject {
    pub(super) fn set_pool(&self, pool: &PoolObject) {
        self.imp().pool.set(Some(pool));
    }

    pub(super) fn info(&self) -> VolumeInfo {
        self.imp().info.borrow().clone()
    }

    pub(super) fn set_used_by(&self, users: Vec<String>) {
        if *self.imp().used_by.borrow() != users {
            self.imp().used_by.replace(users);
            self.notify_used_by();
        }
    }

    /// The pool holding the volume (weak: `None` once the pool is gone).
    pub fn pool(&self) -> Option<PoolObject> {
        self.imp().pool.upgrade()
    }

    fn pool_or_gone(&self) -> Result<PoolObject, HostError> {
        self.pool().ok_or(HostError::Gone)
    }

    /// Sets the volume's size; shrinking (which cuts off data) only with `shrink`.
    pub async fn resize(&self, capacity: u64, shrink: bool) -> Result<(), HostError> {
        let pool = self.pool_or_gone()?;
        let connection = pool.connection_object()?;
        let (p, v) = (pool.name(), self.name());
        let r = connection
            .host_job(move |c| volumes::resize(c, &p, &v, capacity, shrink))
            .await;
        let _ = pool.reread_volume(&self.name()).await;
        r
    }

    /// Deletes the volume and its data.
    pub async fn delete(&self) -> Result<(), HostError> {
        let pool = self.pool_or_gone()?;
        let connection = pool.connection_object()?;
        let (p, v) = (pool.name(), self.name());
        connection
            .host_job(move |c| volumes::delete(c, &p, &v))
            .await?;
        pool.reread_volume(&self.name()).await
    }

    /// Starts copying the local file `file` over the volume (on a thread of its own);
    /// the transfer reports progress and can be cancelled. One transfer per volume at
    /// a time.
    pub fn upload(&self, file: PathBuf) -> Result<Transfer, HostError> {
        self.start_transfer(TransferDirection::Upload, file)
    }

    /// Starts copying the volume into the local file `file`.
    pub fn download(&self, file: PathBuf) -> Result<Transfer, HostError> {
        self.start_transfer(TransferDirection::Download, file)
    }

    fn start_transfer(
        &self,
        direction: TransferDirection,
        file: PathBuf,
    ) -> Result<Transfer, HostError> {
        if self.transfer().is_some() {
            return Err(HostError::Busy);
        }
        let pool = self.pool_or_gone()?;
        let connection = pool.connection_object()?;
        let transfer = Transfer::start(&connection, &pool, self, direction, file)?;
        self.imp().transfer.replace(Some(transfer.clone()));
        self.notify_transfer();
        transfer.connect_state_notify(glib::clone!(
            #[weak(rename_to = volume)]
            self,
            move |t| {
                if !t.is_running() && volume.transfer().as_ref() == Some(t) {
                    volume.imp().transfer.replace(None);
                    volume.notify_transfer();
                }
            }
        ));
        Ok(transfer)
    }

    /// The volume's path, format and size as the backing volume of a new one; `None`
    /// for image formats other than qcow2 and raw.
    pub fn as_backing(&self) -> Option<(String, DiskFormat, u64)> {
        let i = self.imp().info.borrow();
        let format = volumes::backing_format(i.format.as_deref())?;
        Some((i.path.clone(), format, i.capacity))
    }
}
