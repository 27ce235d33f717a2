//! What ssh asks while Vireo logs in to a remote host (for libvirt's connection or a
//! console's channel): a key's passphrase or a password in the login dialog, or, for a
//! host whose key is not yet known, its fingerprint to accept or refuse.

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::i18n::gettext_f;
use crate::model::{LoginQuestion, SshQuestion};

/// Presents `question` over `parent`; answers or refuses it.
pub fn present(parent: Option<&gtk::Window>, question: &SshQuestion) {
    let asked = question.question();
    // (Host, key file, fingerprint: nothing secret.)
    tracing::info!(question = ?asked, "ssh asks");
    let (heading, body, field, accept) = match &asked {
        LoginQuestion::KeyPassphrase { key } => (
            gettext("Unlock SSH Key"),
            gettext_f(
                "Enter the passphrase of the key {key} to log in to the host.",
                &[("key", key)],
            ),
            Some((gettext("Passphrase"), true)),
            gettext("_Unlock"),
        ),
        LoginQuestion::Password { user, host } => (
            gettext("Log In to Host"),
            gettext_f(
                "Enter the password of {user} on {host}.",
                &[("user", user), ("host", host)],
            ),
            Some((gettext("Password"), true)),
            gettext("_Log In"),
        ),
        LoginQuestion::UnknownHostKey {
            host,
            key_type,
            fingerprint,
        } => (
            gettext("Unknown Host"),
            gettext_f(
                "The identity of {host} cannot be checked: this computer has not connected to it before. Its {type} key has the fingerprint\n\n{fingerprint}\n\nConnect only if this is the fingerprint the host’s administrator gave you; Vireo will then remember it.",
                &[("host", host), ("type", key_type), ("fingerprint", fingerprint)],
            ),
            None,
            gettext("_Connect"),
        ),
        LoginQuestion::Other { prompt, confirm } => (
            gettext("Log In to Host"),
            prompt.clone(),
            (!confirm).then(|| (gettext("Answer"), true)),
            gettext("_Continue"),
        ),
    };
    let dialog = adw::MessageDialog::new(parent, Some(&heading), Some(&body));
    dialog.set_body_use_markup(false);
    // Its window's name too (window lists, screen readers' window switchers).
    dialog.set_title(Some(&heading));
    let entry = field.map(|(label, secret)| {
        let entry: gtk::Widget = if secret {
            let entry = gtk::PasswordEntry::new();
            entry.set_show_peek_icon(true);
            entry.set_activates_default(true);
            entry.upcast()
        } else {
            let entry = gtk::Entry::new();
            entry.set_activates_default(true);
            entry.upcast()
        };
        entry.update_property(&[gtk::accessible::Property::Label(&label)]);
        dialog.set_extra_child(Some(&entry));
        entry
    });
    let is_host_key = matches!(asked, LoginQuestion::UnknownHostKey { .. });
    let cancel = if is_host_key {
        gettext("_Refuse")
    } else {
        gettext("_Cancel")
    };
    dialog.add_responses(&[("cancel", &cancel), ("accept", &accept)]);
    dialog.set_response_appearance("accept", adw::ResponseAppearance::Suggested);
    // An unknown host is not connected to by a stray Enter.
    dialog.set_default_response(Some(if is_host_key { "cancel" } else { "accept" }));
    dialog.set_close_response("cancel");
    let question = question.clone();
    glib::spawn_future_local(async move {
        let response = crate::ui::choose(&dialog).await;
        match (response.as_str(), entry) {
            ("accept", _) if is_host_key => question.accept_host_key(),
            ("accept", Some(entry)) => {
                let text = entry
                    .downcast_ref::<gtk::Editable>()
                    .map(|e| e.text().to_string())
                    .unwrap_or_default();
                question.answer(&text);
            }
            ("accept", None) => question.answer("yes"),
            _ => question.refuse(),
        }
    });
}
