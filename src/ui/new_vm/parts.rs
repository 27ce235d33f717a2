//! The parts of a new VM's spec as GLib values, so that pages and choosers can hand
//! them on as properties (boxed copies of the model's plain types).

use gtk::glib;

use crate::model::new_vm::{Created, InstallMethod, MediaSource, NetworkChoice, Storage};

/// How the OS gets onto the VM (the method page's part).
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VireoNewVmInstall")]
pub struct InstallPart(pub InstallMethod);

impl Default for InstallPart {
    fn default() -> Self {
        InstallPart(InstallMethod::LocalMedia(MediaSource::Path(String::new())))
    }
}

/// The VM's main disk (the disk chooser's part).
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VireoNewVmStorage")]
pub struct StoragePart(pub Storage);

impl Default for StoragePart {
    fn default() -> Self {
        StoragePart(Storage::None)
    }
}

/// The VM's network card (the network chooser's part).
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VireoNewVmNetwork")]
pub struct NetworkPart(pub NetworkChoice);

impl Default for NetworkPart {
    fn default() -> Self {
        NetworkPart(NetworkChoice::None)
    }
}

/// What the wizard made, carried by its `created` signal.
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VireoNewVmCreated")]
pub struct CreatedPart(pub Created);
