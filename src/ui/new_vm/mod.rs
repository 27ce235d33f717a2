//! The New Virtual Machine wizard: a dialog that walks five pages (install method, OS,
//! memory and processors, storage, name and options). Each page is a widget of its own
//! that shows its problems next to its fields and exposes its part of the new VM's spec
//! and its validity as properties; the dialog binds them, reads the host through the
//! model's typed async methods and creates the VM (with rollback) the same way.
//! The disk and network choosers, and the volume picker for an install medium, are
//! the shared ones of `ui::pickers`.

mod dialog;
mod messages;
mod page_finish;
mod page_method;
mod page_os;
mod page_resources;
mod page_storage;
mod parts;

pub use crate::ui::pickers::{DiskChooser, NetworkChooser};
pub use dialog::NewVmDialog;
pub use parts::{NetworkPart, StoragePart};

use gtk::prelude::*;

pub(crate) use crate::ui::{show_error, string_list};

/// Asks for a local file (transient for `widget`'s window) and hands its path to
/// `chosen`.
fn choose_file(widget: &impl IsA<gtk::Widget>, chosen: impl Fn(String) + 'static) {
    crate::ui::choose_path(
        widget,
        &gettextrs::gettext("Choose a File"),
        gtk::FileChooserAction::Open,
        &gettextrs::gettext("_Open"),
        None,
        move |path| chosen(path.to_string_lossy().into_owned()),
    );
}
