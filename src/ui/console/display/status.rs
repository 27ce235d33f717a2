//! What is drawn over the display when it is not showing the guest: the console states
//! (not running with a Run button, no display, connecting, failed with Retry,
//! disconnected with Reconnect, reconnecting) and the VNC password dialog.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::ui::console::spinner::PatientSpinner;
use crate::ui::console::GuestDisplay;

/// The state of a console, drawn over the display.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoConsoleState")]
pub enum ConsoleState {
    /// The VM is off: nothing to connect to.
    #[default]
    NotRunning,
    /// The VM has no graphical display (no `<graphics>` device) at all.
    NoDisplay,
    Connecting,
    Connected,
    /// The connection ended after it had been up; the detail says why.
    Disconnected,
    /// Waiting for the VM to come back (reboot, restart) to connect again.
    Reconnecting,
    /// No connection could be made (libvirt refused, the server did not answer or
    /// refused the handshake); the detail says why, Retry tries again.
    Failed,
}

impl ConsoleState {
    /// A connection attempt is under way (a spinner shows).
    pub fn is_busy(self) -> bool {
        matches!(self, Self::Connecting | Self::Reconnecting)
    }
}

/// The status page over the display, with its buttons.
pub struct StatusOverlay {
    page: adw::StatusPage,
    spinner: PatientSpinner,
    run: gtk::Button,
    reconnect: gtk::Button,
    add_device: gtk::Button,
    /// "Trying again in N s" under the Retry button.
    retry_note: gtk::Label,
    retry_countdown: Rc<RefCell<Option<glib::SourceId>>>,
}

impl StatusOverlay {
    pub fn new(display: &GuestDisplay) -> Self {
        let spinner = PatientSpinner::default();
        spinner.set_halign(gtk::Align::Center);
        spinner.update_property(&[gtk::accessible::Property::Label(&gettext("Connecting"))]);
        let run = pill(&gettext("_Run"), &gettext("Run the virtual machine"));
        run.add_css_class("suggested-action");
        let reconnect = pill(
            &gettext("Re_connect"),
            &gettext("Connect to the display again"),
        );
        let add_device = pill(
            &gettext("_Add a Display…"),
            &gettext("Add a graphical display to the virtual machine"),
        );
        for (button, signal) in [
            (&run, "run-requested"),
            (&reconnect, "reconnect-requested"),
            (&add_device, "add-device-requested"),
        ] {
            let weak = display.downgrade();
            button.connect_clicked(move |_| {
                if let Some(d) = weak.upgrade() {
                    d.emit_by_name::<()>(signal, &[]);
                }
            });
        }
        let retry_note = gtk::Label::builder()
            .wrap(true)
            .justify(gtk::Justification::Center)
            .css_classes(["dim-label"])
            .build();
        let content = gtk::Box::new(gtk::Orientation::Vertical, 12);
        for child in [
            spinner.upcast_ref::<gtk::Widget>(),
            run.upcast_ref(),
            reconnect.upcast_ref(),
            add_device.upcast_ref(),
            retry_note.upcast_ref(),
        ] {
            content.append(child);
        }
        let page = adw::StatusPage::builder().child(&content).build();
        // Opaque, so a stale frame never shows through.
        page.add_css_class("background");
        Self {
            page,
            spinner,
            run,
            reconnect,
            add_device,
            retry_note,
            retry_countdown: Rc::default(),
        }
    }

    pub fn widget(&self) -> &adw::StatusPage {
        &self.page
    }

    /// Shows `state` with `detail` under the title; `can_add_device` offers to add a
    /// display when the VM has none.
    pub fn show(&self, state: ConsoleState, detail: Option<&str>, can_add_device: bool) {
        let (icon, title) = match state {
            ConsoleState::NotRunning => (
                "system-shutdown-symbolic",
                gettext("The Virtual Machine Is Not Running"),
            ),
            ConsoleState::NoDisplay => ("video-display-symbolic", gettext("No Graphical Display")),
            ConsoleState::Connecting => ("", gettext("Connecting to the Display…")),
            ConsoleState::Connected => ("", String::new()),
            ConsoleState::Disconnected => (
                "network-offline-symbolic",
                gettext("Disconnected From the Display"),
            ),
            ConsoleState::Reconnecting => ("", gettext("Reconnecting to the Display…")),
            ConsoleState::Failed => (
                "dialog-warning-symbolic",
                gettext("Could Not Connect to the Display"),
            ),
        };
        let description = match (state, detail) {
            (ConsoleState::NoDisplay, None) => {
                Some(gettext("This virtual machine has no graphical display."))
            }
            (_, detail) => detail.map(str::to_owned),
        };
        self.page.set_visible(state != ConsoleState::Connected);
        self.page.set_icon_name((!icon.is_empty()).then_some(icon));
        self.page.set_title(&title);
        self.page.set_description(description.as_deref());
        self.spinner.set_visible(state.is_busy());
        self.run.set_visible(state == ConsoleState::NotRunning);
        self.reconnect.set_visible(matches!(
            state,
            ConsoleState::Disconnected | ConsoleState::Failed
        ));
        let (label, accessible) = if state == ConsoleState::Failed {
            (
                gettext("_Retry"),
                gettext("Try to connect to the display again"),
            )
        } else {
            (
                gettext("Re_connect"),
                gettext("Connect to the display again"),
            )
        };
        self.reconnect.set_label(&label);
        self.reconnect
            .update_property(&[gtk::accessible::Property::Label(&accessible)]);
        self.add_device
            .set_visible(state == ConsoleState::NoDisplay && can_add_device);
        if state != ConsoleState::Failed {
            self.show_retry_at(None);
        }
    }

    /// Says under the Retry button when the next automatic attempt comes (None: no
    /// automatic attempt is planned), counting down each second.
    pub fn show_retry_at(&self, at: Option<Instant>) {
        if let Some(id) = self.retry_countdown.take() {
            id.remove();
        }
        let Some(at) = at else {
            self.retry_note.set_visible(false);
            return;
        };
        let note = self.retry_note.clone();
        let update = move || {
            let left = at.saturating_duration_since(Instant::now());
            let seconds = left.as_secs_f64().ceil() as u64;
            note.set_label(&if seconds == 0 {
                gettext("Trying again…")
            } else {
                crate::i18n::ngettext_f(
                    "Trying again in {n} second",
                    "Trying again in {n} seconds",
                    seconds as u32,
                    &[("n", &seconds.to_string())],
                )
            });
            seconds > 0
        };
        self.retry_note.set_visible(true);
        update();
        let slot = Rc::downgrade(&self.retry_countdown);
        let id = glib::timeout_add_local(Duration::from_secs(1), move || {
            if update() {
                return glib::ControlFlow::Continue;
            }
            if let Some(slot) = slot.upgrade() {
                slot.take();
            }
            glib::ControlFlow::Break
        });
        self.retry_countdown.replace(Some(id));
    }
}

impl Drop for StatusOverlay {
    fn drop(&mut self) {
        if let Some(id) = self.retry_countdown.take() {
            id.remove();
        }
    }
}

/// A centred pill button with a mnemonic `label` and an accessible name.
fn pill(label: &str, accessible: &str) -> gtk::Button {
    let button = gtk::Button::builder()
        .label(label)
        .use_underline(true)
        .halign(gtk::Align::Center)
        .css_classes(["pill"])
        .build();
    button.update_property(&[gtk::accessible::Property::Label(accessible)]);
    button
}

/// Asks for the VNC password in a dialog over the display's window; `done` gets None
/// when the user cancels.
pub fn ask_password(
    display: &GuestDisplay,
    done: impl Fn(&GuestDisplay, Option<String>) + 'static,
) {
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
