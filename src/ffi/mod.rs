//! The one room for `unsafe` code: safe wrappers over the C APIs that the Rust bindings
//! leave out or wrap with panicking destructors: libvirt's connections, domains, events,
//! statistics, snapshots, storage, streams and migration, node statistics, DHCP leases,
//! storage pool capabilities; gvnc's framebuffer constructor, SPICE's channels and
//! surfaces, X11 shared memory through cairo, glibc's allocator settings, the GL
//! renderer's name, and questions asked in a forked child. Every other module is safe
//! Rust (the crate denies `unsafe_code`, this module allows it); each `unsafe` block here
//! says in a `// SAFETY:` comment why it is sound.
//!
//! The libvirt wrappers return [`crate::virt::VirtError`] with libvirt's own message and
//! hold their handles in owned types that free themselves without panicking.
#![allow(unsafe_code)]

pub mod fork;
pub mod gl;
pub mod gvnc;
pub mod libvirt_connect;
pub mod libvirt_domain;
pub mod libvirt_events;
pub mod libvirt_handles;
pub mod libvirt_host;
pub mod libvirt_migrate;
pub mod libvirt_snapshot;
pub mod libvirt_stats;
pub mod libvirt_storage;
pub mod libvirt_stream;
pub mod malloc;
pub mod spice;
pub mod x11_shm;
