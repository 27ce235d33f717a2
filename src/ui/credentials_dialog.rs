//! Asks for what libvirt's login needs (user name, password, passphrase) when a host
//! wants it, and hands the answers back to the waiting connection.

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::i18n::gettext_f;
use crate::model::CredentialsRequest;

/// Presents the questions of `request` over `parent`; answers or cancels it.
pub fn present(parent: &gtk::Window, request: &CredentialsRequest) {
    let dialog = adw::MessageDialog::new(
        Some(parent),
        Some(&gettext("Log In to Host")),
        Some(&gettext_f(
            "{uri} asks for a login",
            &[("uri", &request.uri())],
        )),
    );
    let fields = gtk::Box::new(gtk::Orientation::Vertical, 6);
    let mut entries = Vec::new();
    for (prompt, secret) in request.prompts() {
        let label = gtk::Label::new(Some(prompt.trim_end_matches(':')));
        label.set_xalign(0.0);
        fields.append(&label);
        let entry: gtk::Widget = if secret {
            let entry = gtk::PasswordEntry::new();
            entry.set_show_peek_icon(true);
            entry.upcast()
        } else {
            gtk::Entry::new().upcast()
        };
        entry.update_property(&[gtk::accessible::Property::Label(&prompt)]);
        fields.append(&entry);
        entries.push(entry);
    }
    chain_enter(&entries);
    dialog.set_extra_child(Some(&fields));
    dialog.add_responses(&[
        ("cancel", &gettext("_Cancel")),
        ("login", &gettext("_Log In")),
    ]);
    dialog.set_response_appearance("login", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("login"));
    dialog.set_close_response("cancel");
    let request = request.clone();
    glib::spawn_future_local(async move {
        if crate::ui::choose(&dialog).await == "login" {
            let answers = entries
                .iter()
                .map(|e| {
                    e.downcast_ref::<gtk::Editable>()
                        .map(|e| e.text().to_string())
                        .unwrap_or_default()
                })
                .collect();
            request.respond(answers);
        } else {
            request.cancel();
        }
    });
}

/// Enter in a field moves to the next one; in the last it logs in through the default
/// response, which (unlike `MessageDialog::response`) also closes the dialog.
fn chain_enter(entries: &[gtk::Widget]) {
    for (entry, next) in entries.iter().zip(entries.iter().skip(1)) {
        let next = next.downgrade();
        entry.connect_closure(
            "activate",
            false,
            glib::closure_local!(move |_: gtk::Widget| {
                if let Some(next) = next.upgrade() {
                    next.grab_focus();
                }
            }),
        );
    }
    if let Some(last) = entries.last() {
        last.set_property("activates-default", true);
    }
}
