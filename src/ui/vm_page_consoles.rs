//! The console half of a VM's tab: the graphical console (and the serial one) follow
//! the VM, connecting when it runs and coming back by themselves after a reboot.

use std::time::Duration;

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::glib;
use gtk::prelude::*;

use crate::model::{DomainState, GraphicsEndpoint};
use crate::ui::console::{ConsoleState, ScaleMode, SerialConsole, VncDisplay};
use crate::ui::domain_actions::ListAction;
use crate::ui::VmPage;

/// How long to wait before connecting again after the display dropped while the VM
/// still runs (a reboot resets QEMU's VNC server only briefly).
const RECONNECT_DELAY: Duration = Duration::from_millis(1000);

impl VmPage {
    pub(super) fn setup_consoles(&self) {
        let imp = self.imp();
        let vnc = &imp.vnc;
        vnc.set_hexpand(true);
        vnc.set_vexpand(true);
        let page = imp
            .console_stack
            .add_titled(vnc, Some("graphical"), &gettext("Graphical"));
        page.set_icon_name("video-display-symbolic");
        self.insert_action_group("vnc", Some(&vnc.action_group()));
        let settings = crate::settings::shared();
        settings
            .bind("console-share-clipboard", vnc, "share-clipboard")
            .get_only()
            .build();
        settings
            .bind("console-scale", vnc, "scale-mode")
            .get_only()
            .mapping(|variant, _| {
                let mode = match variant.get::<String>()?.as_str() {
                    "one-to-one" => ScaleMode::OneToOne,
                    _ => ScaleMode::Fit,
                };
                Some(mode.to_value())
            })
            .build();

        let serial = SerialConsole::new();
        serial.set_domain(self.domain().as_ref());
        serial.connect_run_requested(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.run(ListAction::Start)
        ));
        let page = imp
            .console_stack
            .add_titled(&serial, Some("serial"), &gettext("Serial"));
        page.set_icon_name("utilities-terminal-symbolic");
        let _ = imp.serial.set(serial);
        imp.console_stack
            .connect_visible_child_name_notify(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |stack| {
                    let graphical = stack.visible_child_name().as_deref() == Some("graphical");
                    page.imp().send_keys_button.set_visible(graphical);
                }
            ));
        imp.send_keys_button
            .set_menu_model(Some(&VncDisplay::send_keys_menu()));

        vnc.connect_local(
            "run-requested",
            false,
            glib::clone!(
                #[weak(rename_to = page)]
                self,
                #[upgrade_or]
                None,
                move |_| {
                    page.run(ListAction::Start);
                    None
                }
            ),
        );
        for signal in ["reconnect-requested", "disconnected"] {
            vnc.connect_local(
                signal,
                false,
                glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    #[upgrade_or]
                    None,
                    move |_| {
                        page.reconnect_graphics_soon();
                        None
                    }
                ),
            );
        }
        imp.fullscreen_button.connect_toggled(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |button| {
                if let Some(window) = page.root().and_downcast::<gtk::Window>() {
                    window.set_fullscreened(button.is_active());
                }
            }
        ));
    }

    /// Called whenever the VM's state changes.
    pub(super) fn follow_state_in_consoles(&self, state: DomainState) {
        let imp = self.imp();
        let vnc = &imp.vnc;
        let active = state.is_active() && state != DomainState::Crashed;
        imp.send_keys_button.set_sensitive(active);
        if !active {
            imp.graphics_attempt.set(imp.graphics_attempt.get() + 1);
            vnc.close();
            vnc.set_state(ConsoleState::NotRunning, None);
        } else if matches!(vnc.state(), ConsoleState::NotRunning) {
            self.connect_graphics();
        }
        imp.console_switcher
            .set_visible(imp.console_stack.pages().n_items() > 1);
    }

    /// Shows the console view `name`. The keyboard's focus, when it was in the view
    /// that goes, moves to the one shown: left there, GTK drops it a moment later on
    /// the window's first button (the header's New VM), away from the tab Ctrl+O
    /// focused. No cross-fade then, so that only the new view can take it.
    fn show_console_view(&self, name: &str) {
        let imp = self.imp();
        let stack = &imp.console_stack;
        let root = self.root();
        let focus_was_in_view = root
            .as_ref()
            .and_then(|root| root.focus())
            .is_some_and(|focus| focus.is_ancestor(&**stack));
        if !focus_was_in_view {
            stack.set_visible_child_name(name);
            return;
        }
        let transition = stack.transition_type();
        stack.set_transition_type(gtk::StackTransitionType::None);
        stack.set_visible_child_name(name);
        stack.set_transition_type(transition);
        // From nowhere, Tab-forward finds the first control of the view shown (from
        // the old view's widget it would look only past it).
        if let Some(root) = root {
            root.set_focus(None::<&gtk::Widget>);
        }
        self.focus_content();
    }

    fn connect_graphics(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let imp = self.imp();
        let attempt = imp.graphics_attempt.get() + 1;
        imp.graphics_attempt.set(attempt);
        imp.vnc.set_state(ConsoleState::Connecting, None);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let endpoint = connection.open_graphics(&domain).await;
                let imp = page.imp();
                if imp.graphics_attempt.get() != attempt {
                    return;
                }
                match endpoint {
                    Ok(GraphicsEndpoint::Socket(fd)) => imp.vnc.open_fd(fd),
                    Ok(GraphicsEndpoint::Address(host, port)) => imp.vnc.open_host(&host, port),
                    Err(error) => {
                        tracing::warn!("no graphical console for {}: {error}", domain.name());
                        imp.vnc.set_state(ConsoleState::Disconnected, Some(&error));
                        // A machine without a screen is reached through its serial port.
                        page.show_console_view("serial");
                    }
                }
            }
        ));
    }

    /// The display dropped: while the VM runs, connect again shortly.
    fn reconnect_graphics_soon(&self) {
        let Some(domain) = self.domain() else { return };
        if !domain.state().is_active() {
            return;
        }
        let imp = self.imp();
        let attempt = imp.graphics_attempt.get() + 1;
        imp.graphics_attempt.set(attempt);
        imp.vnc.set_state(ConsoleState::Reconnecting, None);
        glib::timeout_add_local_once(
            RECONNECT_DELAY,
            glib::clone!(
                #[weak(rename_to = page)]
                self,
                move || {
                    let still_wanted = page.imp().graphics_attempt.get() == attempt
                        && page.domain().is_some_and(|d| d.state().is_active());
                    if still_wanted {
                        page.connect_graphics();
                    }
                }
            ),
        );
    }

    /// The serial console widget of this tab.
    pub fn serial_console(&self) -> Option<SerialConsole> {
        self.imp().serial.get().cloned()
    }

    /// The graphical console widget of this tab.
    pub fn vnc_display(&self) -> VncDisplay {
        self.imp().vnc.clone()
    }
}
