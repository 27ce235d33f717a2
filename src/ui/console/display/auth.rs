//! The VNC security handshake of `GuestDisplay`: which authentication to use (none, or
//! VNC's password scheme) and the credentials, asking the user for the password when
//! none is known.

use gettextrs::gettext;
use glib::translate::IntoGlib;
use gtk::glib;

use crate::ui::console::GuestDisplay;

impl GuestDisplay {
    pub(crate) fn choose_auth(&self, types: &glib::ValueArray) {
        let offered: Vec<gvnc::ConnectionAuth> = types
            .iter()
            .filter_map(|v| v.get::<gvnc::ConnectionAuth>().ok())
            .collect();
        tracing::debug!("VNC auth types offered: {offered:?}");
        let chosen = [gvnc::ConnectionAuth::None, gvnc::ConnectionAuth::Vnc]
            .into_iter()
            .find(|t| offered.contains(t));
        let connection = self.connection();
        match (chosen, connection) {
            (Some(auth), Some(c)) => {
                let _ = c.set_auth_type(auth.into_glib() as u32);
            }
            _ => self.fail(&gettext(
                "The display asks for an unsupported security type",
            )),
        }
    }

    pub(crate) fn provide_credentials(&self, creds: &glib::ValueArray) {
        let wanted: Vec<gvnc::ConnectionCredential> = creds
            .iter()
            .filter_map(|v| v.get::<gvnc::ConnectionCredential>().ok())
            .collect();
        let Some(connection) = self.connection() else {
            return;
        };
        let needs_password = wanted.contains(&gvnc::ConnectionCredential::Password);
        for cred in &wanted {
            let value = match cred {
                gvnc::ConnectionCredential::Username => String::new(),
                gvnc::ConnectionCredential::Clientname => "vireo".to_string(),
                _ => continue,
            };
            let _ = connection.set_credential(cred.into_glib(), &value);
        }
        if !needs_password {
            return;
        }
        if let Some(password) = self.password() {
            let _ = connection
                .set_credential(gvnc::ConnectionCredential::Password.into_glib(), &password);
            return;
        }
        // The person takes their time: no handshake deadline meanwhile.
        self.pause_handshake_deadline();
        super::status::ask_password(self, move |display, password| match password {
            Some(password) => {
                display.start_handshake_deadline();
                display.set_password(Some(password.as_str()));
                let _ = connection
                    .set_credential(gvnc::ConnectionCredential::Password.into_glib(), &password);
            }
            None => display.fail(&gettext("No password given")),
        });
    }
}
