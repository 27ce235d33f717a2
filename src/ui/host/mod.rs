//! The host page: a tab with a host's overview (facts, CPU and memory graphs), its
//! storage (pools, their volumes, transfers) and its virtual networks (with their DHCP
//! leases), each kept current from the model's objects, and the forms that make new
//! pools, volumes and networks. Every request goes through the model's typed async
//! methods; a failure shows libvirt's own words.

mod host_page;
mod load_graph;
mod messages;
mod network_row;
mod network_view;
mod networks_view;
mod new_network_dialog;
mod new_pool_dialog;
mod new_volume_dialog;
mod overview;
mod pool_row;
mod pool_view;
mod storage_view;
mod volume_picker;
mod volume_row;

pub use host_page::HostPage;
pub use new_network_dialog::NewNetworkDialog;
pub use new_pool_dialog::NewPoolDialog;
pub use new_volume_dialog::NewVolumeDialog;
pub use volume_picker::VolumePicker;
pub use volume_row::VolumeRow;

use std::future::Future;

use adw::prelude::*;
use gettextrs::gettext;

use crate::model::host::HostError;

/// Asks before something that cannot be undone: `heading`, `body` saying exactly what
/// goes, Cancel (the default) and a destructive `confirm_label`.
fn confirm(
    widget: &impl IsA<gtk::Widget>,
    heading: &str,
    body: &str,
    confirm_label: &str,
    on_confirm: impl FnOnce() + 'static,
) -> adw::MessageDialog {
    let dialog = adw::MessageDialog::new(
        widget.root().and_downcast_ref::<gtk::Window>(),
        Some(heading),
        Some(body),
    );
    dialog.add_responses(&[("cancel", &gettext("_Cancel")), ("confirm", confirm_label)]);
    dialog.set_response_appearance("confirm", adw::ResponseAppearance::Destructive);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");
    let d = dialog.clone();
    glib::spawn_future_local(async move {
        if crate::ui::choose(&d).await == "confirm" {
            on_confirm();
        }
    });
    dialog
}

/// Runs a request of the model; when it fails, says `what` failed and libvirt's reason
/// in a toast of the window holding `widget`.
fn run_or_toast<T: 'static>(
    widget: &impl IsA<gtk::Widget>,
    what: &str,
    request: impl Future<Output = Result<T, HostError>> + 'static,
) {
    let widget = widget.clone().upcast::<gtk::Widget>();
    let what = what.to_owned();
    glib::spawn_future_local(async move {
        if let Err(e) = request.await {
            tracing::warn!(error = %e, "{what}");
            crate::ui::toast(&widget, &format!("{what}: {e}"));
        }
    });
}

/// Shows (or hides, for `None`) an inline error under a form field and marks the field.
fn show_problem(label: &gtk::Label, field: &impl IsA<gtk::Widget>, text: Option<String>) {
    label.set_visible(text.is_some());
    label.set_label(text.as_deref().unwrap_or(""));
    if text.is_some() {
        field.add_css_class("error");
    } else {
        field.remove_css_class("error");
    }
}

/// A `GtkStringList` of owned strings.
fn string_list(items: &[String]) -> gtk::StringList {
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    gtk::StringList::new(&refs)
}
