//! Owned libvirt handles that release themselves without panicking; they live in the
//! FFI room ([`crate::ffi::libvirt_handles`]) and are named here for the libvirt layer.

pub use crate::ffi::libvirt_handles::{
    clone_connect, format_uuid, release_connect, take_c_string, DomainRef, PoolRef, VolRef,
};
