//! What is drawn over the display when it is not showing the guest: the console states
//! (not running with a Run button, connecting, disconnected with the reason,
//! reconnecting) and the VNC password dialog.

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::ui::console::VncDisplay;

/// The state of a console, drawn over the display.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoConsoleState")]
pub enum ConsoleState {
    /// The VM is off: nothing to connect to.
    #[default]
    NotRunning,
    Connecting,
    Connected,
    /// The connection ended; the detail says why.
    Disconnected,
    /// Waiting for the VM to come back (reboot, restart) to connect again.
    Reconnecting,
}

/// The status page over the display, with its buttons.
pub struct StatusOverlay {
    page: adw::StatusPage,
    spinner: gtk::Spinner,
    run: gtk::Button,
    reconnect: gtk::Button,
}

impl StatusOverlay {
    pub fn new(display: &VncDisplay) -> Self {
        let spinner = gtk::Spinner::builder()
            .width_request(32)
            .height_request(32)
            .halign(gtk::Align::Center)
            .build();
        let run = gtk::Button::builder()
            .label(gettext("_Run"))
            .use_underline(true)
            .halign(gtk::Align::Center)
            .css_classes(["pill", "suggested-action"])
            .build();
        run.update_property(&[gtk::accessible::Property::Label(&gettext(
            "Run the virtual machine",
        ))]);
        let reconnect = gtk::Button::builder()
            .label(gettext("Re_connect"))
            .use_underline(true)
            .halign(gtk::Align::Center)
            .css_classes(["pill"])
            .build();
        reconnect.update_property(&[gtk::accessible::Property::Label(&gettext(
            "Connect to the display again",
        ))]);
        let weak = display.downgrade();
        run.connect_clicked(move |_| {
            if let Some(d) = weak.upgrade() {
                d.emit_by_name::<()>("run-requested", &[]);
            }
        });
        let weak = display.downgrade();
        reconnect.connect_clicked(move |_| {
            if let Some(d) = weak.upgrade() {
                d.emit_by_name::<()>("reconnect-requested", &[]);
            }
        });
        let content = gtk::Box::new(gtk::Orientation::Vertical, 12);
        content.append(&spinner);
        content.append(&run);
        content.append(&reconnect);
        let page = adw::StatusPage::builder().child(&content).build();
        // Opaque, so a stale frame never shows through.
        page.add_css_class("background");
        Self {
            page,
            spinner,
            run,
            reconnect,
        }
    }

    pub fn widget(&self) -> &adw::StatusPage {
        &self.page
    }

    pub fn show(&self, state: ConsoleState, detail: Option<&str>) {
        let (icon, title) = match state {
            ConsoleState::NotRunning => (
                "system-shutdown-symbolic",
                gettext("The virtual machine is not running"),
            ),
            ConsoleState::Connecting => ("", gettext("Connecting to the display…")),
            ConsoleState::Connected => ("", String::new()),
            ConsoleState::Disconnected => (
                "network-offline-symbolic",
                gettext("Disconnected from the display"),
            ),
            ConsoleState::Reconnecting => ("", gettext("Reconnecting to the display…")),
        };
        let busy = matches!(state, ConsoleState::Connecting | ConsoleState::Reconnecting);
        self.page.set_visible(state != ConsoleState::Connected);
        self.page.set_icon_name((!icon.is_empty()).then_some(icon));
        self.page.set_title(&title);
        self.page.set_description(detail);
        self.spinner.set_visible(busy);
        self.spinner.set_spinning(busy);
        self.run.set_visible(state == ConsoleState::NotRunning);
        self.reconnect
            .set_visible(state == ConsoleState::Disconnected);
    }

    pub fn run_button(&self) -> &gtk::Button {
        &self.run
    }
}

/// Asks for the VNC password in a dialog over the display's window; `done` gets None
/// when the user cancels.
pub fn ask_password(display: &VncDisplay, done: impl Fn(&VncDisplay, Option<String>) + 'static) {
    let window = display.root().and_downcast::<gtk::Window>();
    let dialog = adw::MessageDialog::new(
        window.as_ref(),
        Some(&gettext("Password Required")),
        Some(&gettext(
            "The display of this virtual machine is protected by a password.",
        )),
    );
    let entry = gtk::PasswordEntry::builder()
        .show_peek_icon(true)
        .activates_default(true)
        .build();
    entry.update_property(&[gtk::accessible::Property::Label(&gettext("Password"))]);
    dialog.set_extra_child(Some(&entry));
    dialog.add_responses(&[
        ("cancel", &gettext("_Cancel")),
        ("connect", &gettext("C_onnect")),
    ]);
    dialog.set_response_appearance("connect", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("connect"));
    dialog.set_close_response("cancel");
    let weak = display.downgrade();
    dialog.connect_response(None, move |_, response| {
        if let Some(display) = weak.upgrade() {
            let password = (response == "connect").then(|| entry.text().to_string());
            done(&display, password);
        }
    });
    dialog.present();
}
