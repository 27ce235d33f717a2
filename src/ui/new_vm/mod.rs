//! The New Virtual Machine wizard: one page per step, host choices read on the
//! connection's worker, problems shown next to their field, creation with rollback.

mod dialog;
mod messages;
mod page_finish;
mod page_method;
mod page_os;
mod page_resources;
mod page_storage;

pub use dialog::NewVmDialog;
pub use page_finish::FinishPage;
pub use page_method::{MethodKind, MethodPage};
pub use page_os::OsPage;
pub use page_resources::ResourcesPage;
pub use page_storage::StoragePage;

use gtk::prelude::*;

/// An object of a page's builder file (the ids are fixed in the .ui files).
fn obj<T: IsA<glib::Object>>(b: &gtk::Builder, id: &str) -> T {
    b.object(id)
        .unwrap_or_else(|| panic!("new-VM page template lacks “{id}”"))
}

/// Shows (or hides, for `None`) an inline error under a field and marks the field.
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

use gtk::glib;
