//! The one room for `unsafe` code: safe wrappers over the C APIs that the Rust bindings
//! leave out. Every other module is safe Rust; each `unsafe` block here says in a
//! `// SAFETY:` comment why it is sound.
#![allow(unsafe_code)]

pub mod libvirt_events;
pub mod libvirt_host;
