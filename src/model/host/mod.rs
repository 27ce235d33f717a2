//! A host's own side as GObjects: [`HostObject`] (facts, CPU and memory load over
//! time, and the lists below), [`PoolObject`]s with their [`VolumeObject`]s, and
//! [`NetworkObject`]s, all kept current from libvirt's pool and network events; plus
//! [`Transfer`], one upload or download of a volume.
//!
//! Every libvirt call runs on the connection's worker (volume transfers on a thread of
//! their own); the objects offer typed async methods whose errors ([`HostError`])
//! carry libvirt's own text. The plain data types the forms fill in come from
//! `virt::host` and are re-exported here, so that widgets need nothing of `virt`.

mod error;
mod host_object;
mod keyed;
mod network_object;
mod pool_object;
mod sync;
mod transfer;
mod volume_object;

pub use error::HostError;
pub use host_object::{HostObject, LoadWatch, LOAD_HISTORY};
pub use network_object::NetworkObject;
pub use pool_object::{PoolObject, PoolStateKind};
pub use transfer::{Transfer, TransferDirection, TransferState};
pub use volume_object::VolumeObject;

pub use crate::virt::host::facts::HostFacts;
pub use crate::virt::host::ip::{Cidr, IpProblem};
pub use crate::virt::host::networks::{
    validate as validate_network, ForwardMode, IpRange, IpSpec, Lease, NetworkField,
    NetworkProblem, NetworkSpec,
};
pub use crate::virt::host::pools::{
    validate as validate_pool, Deleted, PoolField, PoolProblem, PoolSource, PoolSpec, PoolType,
    PoolTypeOffer,
};
pub use crate::virt::host::volumes::{
    validate as validate_volume, VolumeField, VolumeProblem, VolumeSpec,
};
pub use crate::virt::host::NameProblem;
pub use crate::virt::new_vm::DiskFormat;
