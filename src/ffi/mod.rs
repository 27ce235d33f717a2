//! The one room for `unsafe` code: raw FFI (libvirt, gvnc, SPICE, X11) wrapped in safe
//! functions and types, each `unsafe` block with a `// SAFETY:` comment. Every other
//! file of the crate is safe Rust.

pub mod spice;
