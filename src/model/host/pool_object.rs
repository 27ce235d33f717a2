//! `PoolObject`: one storage pool as a GObject, with its volumes once they are read.

use std::cell::{Cell, RefCell};

use gio::prelude::*;
use glib::subclass::prelude::*;

use super::keyed::{self, Keyed};
use super::{HostError, VolumeObject};
use crate::model::ConnectionObject;
use crate::virt::host::pools::{self, Deleted, PoolInfo, PoolState, PoolType};
use crate::virt::host::usage::{self, DomainUse};
use crate::virt::host::volumes::{self, VolumeSpec};

/// A pool's run state (mirrors virStoragePoolState).
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoPoolState")]
pub enum PoolStateKind {
    /// Not running.
    #[default]
    Inactive,
    /// Being built.
    Building,
    /// Running.
    Running,
    /// Running, degraded.
    Degraded,
    /// Running, its storage out of reach.
    Inaccessible,
}

impl From<PoolState> for PoolStateKind {
    fn from(s: PoolState) -> Self {
        match s {
            PoolState::Inactive => Self::Inactive,
            PoolState::Building => Self::Building,
            PoolState::Running => Self::Running,
            PoolState::Degraded => Self::Degraded,
            PoolState::Inaccessible => Self::Inaccessible,
        }
    }
}

mod imp {
    use super::*;

    #[derive(glib::Properties)]
    #[properties(wrapper_type = super::PoolObject)]
    pub struct PoolObject {
        #[property(name = "name", get, type = String, member = name)]
        #[property(name = "uuid", get, type = String, member = uuid)]
        #[property(name = "capacity", get, type = u64, member = capacity)]
        #[property(name = "allocation", get, type = u64, member = allocation)]
        #[property(name = "available", get, type = u64, member = available)]
        #[property(name = "autostart", get, type = bool, member = autostart)]
        #[property(name = "persistent", get, type = bool, member = persistent)]
        #[property(name = "target-path", get, type = Option<String>, member = target_path)]
        #[property(name = "source", get, type = Option<String>, member = source)]
        #[property(name = "active", get = Self::active, type = bool)]
        #[property(name = "state", get = Self::state, type = PoolStateKind, builder(PoolStateKind::default()))]
        #[property(name = "type-name", get = Self::type_name, type = String)]
        pub(super) info: RefCell<PoolInfo>,
        /// True once the volumes were read (they follow the pool from then on).
        #[property(get)]
        pub(super) volumes_loaded: Cell<bool>,
        pub(super) volumes: gio::ListStore,
        pub(super) connection: glib::WeakRef<ConnectionObject>,
    }

    impl Default for PoolObject {
        fn default() -> Self {
            PoolObject {
                info: RefCell::default(),
                volumes_loaded: Cell::new(false),
                volumes: gio::ListStore::new::<VolumeObject>(),
                connection: glib::WeakRef::new(),
            }
        }
    }

    impl PoolObject {
        fn active(&self) -> bool {
            self.info.borrow().state.is_active()
        }

        fn state(&self) -> PoolStateKind {
            self.info.borrow().state.into()
        }

        fn type_name(&self) -> String {
            self.info
                .borrow()
                .pool_type
                .as_ref()
                .map(|t| t.name().to_owned())
                .unwrap_or_default()
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PoolObject {
        const NAME: &'static str = "VireoPoolObject";
        type Type = super::PoolObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for PoolObject {}
}

glib::wrapper! {
    /// One storage pool of a host.
    pub struct PoolObject(ObjectSubclass<imp::PoolObject>);
}

impl Keyed for PoolObject {
    type Info = PoolInfo;

    fn key_of(info: &PoolInfo) -> &str {
        &info.name
    }

    fn key(&self) -> String {
        self.imp().info.borrow().name.clone()
    }

    fn make(info: PoolInfo) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().info.replace(info);
        obj
    }

    fn apply(&self, info: PoolInfo) {
        if *self.imp().info.borrow() == info {
            return;
        }
        let was_active = self.active();
        self.imp().info.replace(info);
        keyed::notify_all(self, &["volumes-loaded"]);
        // A stopped pool's volumes are out of reach: forget them until it runs again.
        if was_active && !self.active() {
            self.imp().volumes.remove_all();
        }
    }
}

impl PoolObject {
    pub(super) fn set_connection(&self, connection: &ConnectionObject) {
        self.imp().connection.set(Some(connection));
    }

    pub(super) fn connection_object(&self) -> Result<ConnectionObject, HostError> {
        self.imp()
            .connection
            .upgrade()
            .ok_or(HostError::Virt(crate::virt::VirtError::NotConnected))
    }

    /// The host the pool belongs to (`None` once its connection is gone).
    pub fn connection_host(&self) -> Option<super::HostObject> {
        self.imp().connection.upgrade().map(|c| c.host())
    }

    /// The pool's type, typed.
    pub fn pool_type(&self) -> Option<PoolType> {
        self.imp().info.borrow().pool_type.clone()
    }

    /// The volumes read so far (see [`Self::load_volumes`]), sorted by name.
    pub fn volumes(&self) -> gio::ListModel {
        self.imp().volumes.clone().upcast()
    }

    /// The volume named `name`, if read.
    pub fn volume(&self, name: &str) -> Option<VolumeObject> {
        keyed::find(&self.imp().volumes, name)
    }

    /// The names of the volumes read.
    pub fn volume_names(&self) -> Vec<String> {
        keyed::items::<VolumeObject>(&self.imp().volumes)
            .iter()
            .map(|v| v.name())
            .collect()
    }

    /// Runs `f` on the worker with the pool's name, then re-reads the pool (some
    /// changes, such as autostart, raise no event).
    async fn act<R: Send + 'static>(
        &self,
        f: impl FnOnce(&virt::connect::Connect, &str) -> Result<R, crate::virt::VirtError>
            + Send
            + 'static,
    ) -> Result<R, HostError> {
        let connection = self.connection_object()?;
        let name = self.name();
        let r = connection.host_job(move |c| f(c, &name)).await;
        connection.host_pool_changed(&self.name());
        r
    }

    /// Starts the pool.
    pub async fn start(&self) -> Result<(), HostError> {
        self.act(pools::start).await
    }

    /// Stops the pool (its data stays).
    pub async fn stop(&self) -> Result<(), HostError> {
        self.act(pools::stop).await
    }

    /// Re-reads the pool's storage (new files appear as volumes).
    pub async fn refresh(&self) -> Result<(), HostError> {
        self.act(pools::refresh).await
    }

    /// Sets whether the pool starts with the host.
    pub async fn set_autostart(&self, autostart: bool) -> Result<(), HostError> {
        self.act(move |c, n| pools::set_autostart(c, n, autostart))
            .await
    }

    /// Removes the pool from libvirt; its data stays unless `delete_volumes` (see
    /// `virt::host::pools::delete`).
    pub async fn delete(&self, delete_volumes: bool) -> Result<Deleted, HostError> {
        self.act(move |c, n| pools::delete(c, n, delete_volumes))
            .await
    }

    /// Reads the pool's volumes (and which domains use them); from then on they follow
    /// the pool's events.
    pub async fn load_volumes(&self) -> Result<(), HostError> {
        let connection = self.connection_object()?;
        let name = self.name();
        let read = connection
            .host_job(move |c| {
                let vols = volumes::list(c, &name)?;
                let uses = usage::read_all(c)?;
                Ok((vols, uses))
            })
            .await;
        match read {
            Ok((vols, uses)) => {
                self.apply_volumes(vols, &uses);
                Ok(())
            }
            Err(e) => {
                self.imp().volumes.remove_all();
                Err(e)
            }
        }
    }

    pub(super) fn apply_volumes(
        &self,
        vols: Vec<crate::virt::host::volumes::VolumeInfo>,
        uses: &[DomainUse],
    ) {
        let users = usage::users_of_volumes(uses, &self.name(), &vols);
        let infos = vols.into_iter().zip(users).collect();
        keyed::reconcile::<VolumeObject>(&self.imp().volumes, infos);
        for v in keyed::items::<VolumeObject>(&self.imp().volumes) {
            v.set_pool(self);
        }
        if !self.imp().volumes_loaded.replace(true) {
            self.notify_volumes_loaded();
        }
    }

    /// Re-applies who uses each volume after domains changed.
    pub(super) fn apply_uses(&self, uses: &[DomainUse]) {
        let vols = keyed::items::<VolumeObject>(&self.imp().volumes);
        let infos: Vec<_> = vols.iter().map(VolumeObject::info).collect();
        for (v, users) in vols
            .iter()
            .zip(usage::users_of_volumes(uses, &self.name(), &infos))
        {
            v.set_used_by(users);
        }
    }

    /// Makes a new volume in the pool.
    pub async fn create_volume(&self, spec: VolumeSpec) -> Result<VolumeObject, HostError> {
        let connection = self.connection_object()?;
        let name = self.name();
        let info = connection
            .host_job(move |c| volumes::create(c, &name, &spec))
            .await?;
        let key = info.name.clone();
        let vol =
            keyed::upsert::<VolumeObject>(&self.imp().volumes, &key, Some((info, Vec::new())))
                .ok_or(HostError::Gone)?;
        vol.set_pool(self);
        // Its pool's free space changed.
        connection.host_pool_changed(&self.name());
        Ok(vol)
    }

    /// Re-reads one volume (after a resize or upload), removing it when gone.
    pub(super) async fn reread_volume(&self, volume: &str) -> Result<(), HostError> {
        let connection = self.connection_object()?;
        let (pool, vol) = (self.name(), volume.to_owned());
        let info = connection
            .host_job(move |c| volumes::read(c, &pool, &vol))
            .await?;
        let users = self.volume(volume).map(|v| v.used_by()).unwrap_or_default();
        if let Some(v) =
            keyed::upsert::<VolumeObject>(&self.imp().volumes, volume, info.map(|i| (i, users)))
        {
            v.set_pool(self);
        }
        connection.host_pool_changed(&self.name());
        Ok(())
    }
}
