//! The actions the UI can ask of a domain, and the storage listing for deletion.
//!
//! The model uses the libvirt layer's action type as is: it is plain data, and one
//! definition keeps the two from drifting apart.

pub use crate::virt::actions::Action as DomainAction;
pub use crate::virt::storage::StorageInfo;
