//! The one room for `unsafe` code: safe wrappers over the C APIs that the Rust bindings
//! leave out (gvnc's framebuffer constructor, SPICE's channels and surfaces, X11 shared
//! memory through cairo, glibc's allocator settings, libvirt's node statistics, DHCP
//! leases, storage pool capabilities and pool refresh events). Every other module is
//! safe Rust and denies `unsafe_code`; each `unsafe` block here says in a `// SAFETY:`
//! comment why it is sound.
#![allow(unsafe_code)]

pub mod gvnc;
pub mod libvirt_events;
pub mod libvirt_host;
pub mod malloc;
pub mod spice;
pub mod x11_shm;
