//! GObjects that the widgets bind to (no widgets here).
//!
//! `ConnectionObject` owns a worker thread per libvirt connection and a `DomainList`
//! of `DomainObject`s that follow libvirt's events on the main loop.

mod actions;
pub mod clones;
mod connection_object;
mod connection_sync;
pub mod consoles;
mod credentials_request;
pub mod details;
mod device_titles;
mod domain_list;
mod domain_object;
mod history;
pub mod host;
mod host_devices;
pub mod migration;
pub mod new_vm;
mod operation;
mod reconnect;
mod snapshot_thumbnails;
pub mod snapshots;
pub mod ssh_login;
mod stage_text;
mod state_text;

pub use crate::virt::uri::is_loopback_host;
pub use crate::virt::VirtError;
pub use actions::{DomainAction, StorageInfo};
pub use connection_object::{error_text, ConnectionObject, ConnectionState, StatsCost};
pub use consoles::{
    DisplayTunnel, GraphicsAccess, GraphicsEndpoint, GraphicsError, GraphicsProtocol, MoreChannels,
};
pub use credentials_request::CredentialsRequest;
pub use domain_list::DomainList;
pub use domain_object::{ActiveSince, DomainObject, DomainState};
pub use history::{StatKind, HISTORY_LEN};
pub use operation::{OperationError, OperationObject};
pub use ssh_login::{LoginQuestion, SshLogin, SshQuestion};

/// Prepares libvirt for the GLib main loop: installs libvirt's default event
/// implementation (which runs on GLib's default main context) and silences libvirt's
/// printing of errors. Call once before the first connection opens.
pub fn init() {
    crate::virt::init();
}
