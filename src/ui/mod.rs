//! Widgets, one per file, each with its template in `data/resources/ui/`. C calls the
//! bindings lack go through `crate::ffi`, the one module allowed raw code.

mod add_connection_dialog;
mod clone_dialog;
mod connection_header;
mod connection_uri;
pub mod console;
mod credentials_dialog;
mod delete_dialog;
mod domain_actions;
mod domain_list;
mod domain_row;
mod formatting;
mod hardware;
pub mod host;
mod migrate_dialog;
pub mod new_vm;
mod operation_bar;
pub mod pickers;
mod preferences_window;
pub mod probe;
mod snapshot_create_dialog;
mod snapshot_questions;
mod snapshot_row;
mod snapshots_page;
mod sparkline;
mod ssh_question_dialog;
mod vm_overview;
mod vm_page;
mod vm_page_consoles;
mod window;
mod xml_editor;

pub use add_connection_dialog::AddConnectionDialog;
pub use clone_dialog::CloneDialog;
pub use connection_header::ConnectionHeader;
pub use domain_actions::ListAction;
pub use domain_list::{DomainListView, SortKey};
pub use domain_row::DomainRow;
pub use hardware::{
    AddHardwareDialog, HardwareView, HwBootPage, HwCharDevicePage, HwControllerPage, HwCpuPage,
    HwDevicePage, HwDiskPage, HwFilesystemPage, HwGraphicsPage, HwHostdevPage, HwInputPage,
    HwMemoryPage, HwNicPage, HwRngPage, HwSoundPage, HwTpmPage, HwVideoPage, HwWatchdogPage,
};
pub use host::HostPage;
pub use migrate_dialog::MigrateDialog;
pub use new_vm::NewVmDialog;
pub use operation_bar::OperationBar;
pub use preferences_window::PreferencesWindow;
pub use snapshot_create_dialog::SnapshotCreateDialog;
pub use snapshot_row::SnapshotRow;
pub use snapshots_page::SnapshotsPage;
pub use sparkline::Sparkline;
pub use ssh_question_dialog::present as present_ssh_question;
pub use vm_overview::VmOverview;
pub use vm_page::VmPage;
pub use window::VireoWindow;
pub use xml_editor::XmlEditor;

/// Shows `text` as a toast in the main window that holds `widget`.
pub fn toast(widget: &impl gtk::prelude::IsA<gtk::Widget>, text: &str) {
    use gtk::prelude::*;
    if let Some(window) = widget.as_ref().root().and_downcast::<VireoWindow>() {
        window.show_toast(text);
    } else {
        tracing::warn!("{text}");
    }
}

/// Presents `dialog` and waits for the person's answer (libadwaita 1.2 has no
/// `choose`): the response id, or the close response when dismissed.
pub async fn choose(dialog: &adw::MessageDialog) -> String {
    use adw::prelude::*;
    let (sender, receiver) = async_channel::bounded(1);
    dialog.connect_response(None, move |_, response| {
        let _ = sender.try_send(response.to_owned());
    });
    dialog.present();
    receiver.recv().await.unwrap_or_default()
}

/// Escape closes a dialog window, as its Cancel button does.
pub(crate) fn close_on_escape(klass: &mut impl gtk::subclass::widget::WidgetClassExt) {
    klass.add_binding_action(
        gtk::gdk::Key::Escape,
        gtk::gdk::ModifierType::empty(),
        "window.close",
    );
}

/// Shows (or hides, for `None`) an inline error label and marks `field` as wrong.
pub(crate) fn show_error(label: &gtk::Label, field: Option<&gtk::Widget>, text: Option<String>) {
    use gtk::prelude::*;
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
pub(crate) fn string_list(items: &[String]) -> gtk::StringList {
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    gtk::StringList::new(&refs)
}

/// Asks for a local path with the desktop's file chooser (transient for `widget`'s
/// window): `action` opens or saves, `accept` labels its button, `current_name`
/// suggests a name to save as. Hands the chosen path to `chosen`.
pub(crate) fn choose_path(
    widget: &impl gtk::prelude::IsA<gtk::Widget>,
    title: &str,
    action: gtk::FileChooserAction,
    accept: &str,
    current_name: Option<&str>,
    chosen: impl Fn(std::path::PathBuf) + 'static,
) {
    use gtk::prelude::*;
    let parent = widget.root().and_downcast::<gtk::Window>();
    let dialog = gtk::FileChooserNative::new(
        Some(title),
        parent.as_ref(),
        action,
        Some(accept),
        Some(&gettextrs::gettext("_Cancel")),
    );
    dialog.set_modal(true);
    if let Some(name) = current_name {
        dialog.set_current_name(name);
    }
    // The native dialog must stay referenced until it answers.
    let keep = std::cell::RefCell::new(Some(dialog.clone()));
    dialog.connect_response(move |d, response| {
        if response == gtk::ResponseType::Accept {
            if let Some(path) = d.file().and_then(|f| f.path()) {
                chosen(path);
            }
        }
        keep.take();
    });
    dialog.show();
}
