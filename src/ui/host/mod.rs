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
mod volume_row;

pub use crate::ui::pickers::VolumePicker;
pub use host_page::HostPage;
pub use new_network_dialog::NewNetworkDialog;
pub use new_pool_dialog::NewPoolDialog;
pub use new_volume_dialog::NewVolumeDialog;
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

use crate::ui::string_list;

/// Wires a list beside its detail in a leaflet: activating a row shows the detail,
/// and the detail's back button (shown only while folded) goes back to the list.
fn wire_leaflet(
    leaflet: &adw::Leaflet,
    list: &gtk::ListBox,
    detail: &impl IsA<gtk::Widget>,
    back: &gtk::Button,
) {
    let detail = detail.clone().upcast::<gtk::Widget>();
    list.connect_row_activated(glib::clone!(
        #[weak]
        leaflet,
        move |_, _| leaflet.set_visible_child(&detail)
    ));
    leaflet
        .bind_property("folded", back, "visible")
        .sync_create()
        .build();
    back.connect_clicked(glib::clone!(
        #[weak]
        leaflet,
        move |_| {
            leaflet.navigate(adw::NavigationDirection::Back);
        }
    ));
}

/// Selects the first row of `list` that `wanted` keeps and shows the detail beside
/// it; false when there is none.
fn select_row_where(
    list: &gtk::ListBox,
    leaflet: &adw::Leaflet,
    detail: &impl IsA<gtk::Widget>,
    wanted: impl Fn(&gtk::ListBoxRow) -> bool,
) -> bool {
    let mut i = 0;
    while let Some(row) = list.row_at_index(i) {
        if wanted(&row) {
            list.select_row(Some(&row));
            leaflet.set_visible_child(detail);
            return true;
        }
        i += 1;
    }
    false
}

/// With rows and none selected (the chosen one went), selects the first; false when
/// the list is empty.
fn keep_a_row_selected(list: &gtk::ListBox) -> bool {
    if list.selected_row().is_some() {
        return true;
    }
    match list.row_at_index(0) {
        Some(first) => {
            list.select_row(Some(&first));
            true
        }
        None => false,
    }
}

/// The problems of a form's fields that a person has seen (the fields they edited, or
/// all after Create): "{field}: {problem}" lines, each field's row marked, in the
/// order of `fields`.
fn problem_lines<F: Copy + Eq + std::hash::Hash, P>(
    problems: &[(F, P)],
    touched: &std::collections::HashSet<F>,
    fields: &[F],
    row: impl Fn(F) -> adw::PreferencesRow,
    text: impl Fn(&P) -> String,
) -> Vec<(F, String)> {
    let mut lines = Vec::new();
    for &field in fields {
        let r = row(field);
        let mut any = false;
        for (_, p) in problems
            .iter()
            .filter(|(f, _)| *f == field && touched.contains(f))
        {
            any = true;
            lines.push((
                field,
                crate::i18n::gettext_f(
                    "{field}: {problem}",
                    &[("field", &r.title()), ("problem", &text(p))],
                ),
            ));
        }
        if any {
            r.add_css_class("error");
        } else {
            r.remove_css_class("error");
        }
    }
    lines
}

/// Shows `lines` in a form's problem label (hidden when there are none).
fn show_lines(label: &gtk::Label, lines: &[String]) {
    label.set_visible(!lines.is_empty());
    label.set_label(&lines.join("\n"));
}

/// A form (one of the New … dialogs): busy while its request runs, then closed with
/// a toast in the window below, or kept open with libvirt's reason at its top.
trait Form: IsA<gtk::Window> {
    /// Its spinner, its page of fields and the label at the top that says why the
    /// last request failed.
    fn parts(&self) -> (gtk::Spinner, adw::PreferencesPage, gtk::Label);

    /// Shows the fields' problems again (after a change, or busy or not).
    fn refresh(&self);

    /// True while a request runs.
    fn is_busy(&self) -> bool {
        self.parts().0.is_spinning()
    }

    /// Turns the spinner on and the fields off (or back).
    fn set_busy(&self, busy: bool) {
        let (spinner, page, _) = self.parts();
        spinner.set_spinning(busy);
        spinner.set_visible(busy);
        page.set_sensitive(!busy);
        self.refresh();
    }

    /// Shows why a request failed.
    fn fail(&self, text: &str) {
        let label = self.parts().2;
        label.set_label(text);
        label.set_visible(true);
    }

    /// Runs `request`; `done` is the toast on success, `failed` the sentence with a
    /// `{reason}` for libvirt's words on failure.
    fn submit<T: 'static>(
        &self,
        request: impl Future<Output = Result<T, HostError>> + 'static,
        done: String,
        failed: String,
    ) where
        Self: Sized + 'static,
    {
        self.parts().2.set_visible(false);
        self.set_busy(true);
        let form = self.downgrade();
        glib::spawn_future_local(async move {
            let made = request.await;
            let Some(form) = form.upgrade() else { return };
            form.set_busy(false);
            match made {
                Ok(_) => {
                    if let Some(parent) = form.transient_for() {
                        crate::ui::toast(&parent, &done);
                    }
                    form.close();
                }
                Err(e) => form.fail(&failed.replace("{reason}", &e.to_string())),
            }
        });
    }
}
