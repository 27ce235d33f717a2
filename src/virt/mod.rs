//! The GTK-free libvirt layer: connections, events, stats and actions.
//!
//! Nothing here imports GTK or GLib. Blocking libvirt calls run on a [`worker::Worker`]
//! thread owned by each connection; libvirt's event callbacks (registered once the
//! default event implementation is installed by [`init`]) run wherever the default
//! event loop runs, which since libvirt 6 is GLib's default main context.

pub mod actions;
pub mod auth;
pub mod capabilities;
pub mod clone;
pub mod cloud_init;
pub mod connection;
pub mod console_stream;
pub mod domain_details;
pub mod domain_xml;
pub mod domains;
pub mod error;
pub mod events;
pub mod graphics;
pub mod handles;
pub mod host;
pub mod job;
pub mod migrate;
pub mod new_vm;
pub mod osinfo;
pub mod snapshot;
pub mod ssh;
pub mod stats;
pub mod storage;
pub mod test_node;
pub mod uri;
pub mod volumes;
pub mod worker;
pub mod xml_edits;

pub use error::VirtError;

use std::sync::Once;

static INIT: Once = Once::new();

/// Installs libvirt's default event implementation and silences libvirt's own printing
/// of errors to stderr (we log them ourselves with their full text).
///
/// Must run once before the first connection opens. Safe to call many times.
pub fn init() {
    INIT.call_once(|| {
        virt::error::clear_error_callback();
        if let Err(e) = virt::event::event_register_default_impl() {
            tracing::error!(error = %e.message(), "could not register libvirt's default event loop");
        }
    });
}
