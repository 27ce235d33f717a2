//! The New Virtual Machine wizard: a dialog that walks five pages (install method, OS,
//! memory and processors, storage, name and options). Each page is a widget of its own
//! that shows its problems next to its fields and exposes its part of the new VM's spec
//! and its validity as properties; the dialog binds them, reads the host through the
//! model's typed async methods and creates the VM (with rollback) the same way.
//! The disk and network choosers are widgets of their own, for the hardware editor and
//! the host pages to reuse.

mod dialog;
mod disk_chooser;
mod host_link;
mod messages;
mod network_chooser;
mod page_finish;
mod page_method;
mod page_os;
mod page_resources;
mod page_storage;
mod parts;

pub use dialog::NewVmDialog;
pub use disk_chooser::DiskChooser;
pub use network_chooser::NetworkChooser;

use gtk::prelude::*;

/// Shows (or hides, for `None`) an inline error label and marks `field` as wrong.
fn show_error(label: &gtk::Label, field: Option<&gtk::Widget>, text: Option<String>) {
    label.set_visible(text.is_some());
    label.set_label(text.as_deref().unwrap_or(""));
    if let Some(f) = field {
        if text.is_some() {
            f.add_css_class("error");
        } else {
            f.remove_css_class("error");
        }
    }
}

/// A `GtkStringList` of owned strings.
fn string_list(items: &[String]) -> gtk::StringList {
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    gtk::StringList::new(&refs)
}

/// Asks for a local file (transient for `widget`'s window) and hands its path to
/// `chosen`.
fn choose_file(widget: &impl IsA<gtk::Widget>, chosen: impl Fn(String) + 'static) {
    let parent = widget.root().and_downcast::<gtk::Window>();
    let dialog = gtk::FileChooserNative::new(
        Some(&gettextrs::gettext("Choose a File")),
        parent.as_ref(),
        gtk::FileChooserAction::Open,
        Some(&gettextrs::gettext("_Open")),
        Some(&gettextrs::gettext("_Cancel")),
    );
    // The native dialog must stay referenced until it answers.
    let keep = std::cell::RefCell::new(Some(dialog.clone()));
    dialog.connect_response(move |d, response| {
        if response == gtk::ResponseType::Accept {
            if let Some(path) = d.file().and_then(|f| f.path()) {
                chosen(path.to_string_lossy().into_owned());
            }
        }
        keep.take();
    });
    dialog.show();
}
