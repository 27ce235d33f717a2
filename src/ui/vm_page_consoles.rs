//! The console half of a VM's tab: the graphical console (and the serial one) follow
//! the VM, connecting when it runs and coming back by themselves after a reboot.
//!
//! When the graphical console cannot be reached, the display says why (libvirt's or
//! the VNC server's words) with Retry, and the tab tries again by itself after 1, 2,
//! 4… seconds, at most `RETRY_DELAY_MAX` apart, for as long as the VM runs. A VM
//! without a graphical display says so, and its tab opens on the serial console unless
//! the person chose a view. The console's controls show on the Console page only; when
//! the header has room for the VM's state alone, the choice of view (Graphical,
//! Serial) is in the tab's menu.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::prelude::*;
use gtk::{gio, glib};

use crate::display_protocol::spice::SocketSource;
use crate::model::{
    ConnectionObject, ConnectionState, DisplayTunnel, DomainState, GraphicsAccess,
    GraphicsEndpoint, GraphicsError, GraphicsProtocol,
};
use crate::ui::console::{ConsoleState, GuestDisplay, SerialConsole};
use crate::ui::domain_actions::ListAction;
use crate::ui::VmPage;

/// How long to wait before connecting again after the display dropped while the VM
/// still runs (a reboot resets QEMU's VNC server only briefly).
const RECONNECT_DELAY: Duration = Duration::from_millis(1000);
/// The first automatic retry after a failed attempt; each next one waits twice as long.
const RETRY_DELAY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between automatic retries.
const RETRY_DELAY_MAX: Duration = Duration::from_secs(30);

/// The tab's console bookkeeping (a field of `VmPage`'s private part).
#[derive(Default)]
pub struct ConsoleTab {
    /// Bumped on every (re)connection attempt, so a stale answer is dropped.
    attempt: Cell<u64>,
    /// Failed attempts in a row (sets the next retry's delay).
    failures: Cell<u32>,
    /// The automatic retry waiting to run.
    retry: RefCell<Option<glib::SourceId>>,
    /// The person picked Graphical or Serial: never switch views for them again.
    view_chosen: Cell<bool>,
    /// The tab itself is switching views (not the person).
    switching_view: Cell<bool>,
    /// `tab.console-view`, enabled (shown in the menu) in a narrow window.
    view_action: RefCell<Option<gio::SimpleAction>>,
    /// The SSH channel the display goes through (remote hosts); ended with the display.
    tunnel: RefCell<Option<DisplayTunnel>>,
    /// The host's connection and the handlers that follow its state and error.
    connection: RefCell<Option<(glib::WeakRef<ConnectionObject>, Vec<glib::SignalHandlerId>)>>,
}

impl ConsoleTab {
    /// A new attempt number; answers to older ones are dropped.
    fn next_attempt(&self) -> u64 {
        self.cancel_retry();
        self.attempt.set(self.attempt.get() + 1);
        self.attempt.get()
    }

    fn is_current(&self, attempt: u64) -> bool {
        self.attempt.get() == attempt
    }

    fn cancel_retry(&self) {
        if let Some(id) = self.retry.take() {
            id.remove();
        }
    }
}

/// The tab's action that shows a console view by name ("graphical", "serial"), in the
/// "tab" group: the menu's radio items of a narrow window.
const CONSOLE_VIEW_ACTION: &str = "console-view";

/// The wait before the automatic retry that follows `failures` failed attempts.
fn retry_delay(failures: u32) -> Duration {
    RETRY_DELAY_FIRST
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(RETRY_DELAY_MAX)
}

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
        vnc.follow_settings(&crate::settings::shared());

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
        imp.send_keys_button
            .set_menu_model(Some(&GuestDisplay::send_keys_menu()));

        let view_action = gio::SimpleAction::new_stateful(
            CONSOLE_VIEW_ACTION,
            Some(glib::VariantTy::STRING),
            &"graphical".to_variant(),
        );
        view_action.connect_activate(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_, name| {
                // The person's choice, as with the header's switcher.
                if let Some(name) = name.and_then(|n| n.str()) {
                    page.imp().console_stack.set_visible_child_name(name);
                }
            }
        ));
        let tab_actions = gio::SimpleActionGroup::new();
        tab_actions.add_action(&view_action);
        self.insert_action_group("tab", Some(&tab_actions));
        imp.consoles.view_action.replace(Some(view_action));

        imp.console_stack
            .connect_visible_child_name_notify(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |stack| {
                    let consoles = &page.imp().consoles;
                    if !consoles.switching_view.get() {
                        consoles.view_chosen.set(true);
                    }
                    if let (Some(action), Some(name)) = (
                        consoles.view_action.borrow().as_ref(),
                        stack.visible_child_name(),
                    ) {
                        action.set_state(&name.to_variant());
                    }
                    page.update_console_controls();
                }
            ));
        imp.view_stack
            .connect_visible_child_name_notify(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |_| page.update_console_controls()
            ));
        vnc.connect_state_notify(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.update_console_controls()
        ));
        vnc.connect_notes_changed(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.update_console_controls()
        ));

        vnc.connect_run_requested(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.run(ListAction::Start)
        ));
        vnc.connect_reconnect_requested(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |vnc| {
                // The person asked: start afresh, and show that it is trying.
                page.imp().consoles.failures.set(0);
                let connection = page.domain().and_then(|d| d.connection());
                match connection {
                    // The host first: the display follows once it is back.
                    Some(c) if c.state() != ConnectionState::Connected => c.open(),
                    _ => {
                        vnc.set_state(ConsoleState::Connecting, None);
                        page.connect_graphics();
                    }
                }
            }
        ));
        vnc.connect_connected(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.imp().consoles.failures.set(0)
        ));
        vnc.connect_disconnected(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |vnc, _reason| match vnc.state() {
                ConsoleState::Failed => page.retry_graphics_later(),
                _ => page.reconnect_graphics_soon(),
            }
        ));
        imp.fullscreen_button.connect_toggled(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |button| {
                if let Some(window) = page.root().and_downcast::<gtk::Window>() {
                    window.set_fullscreened(button.is_active());
                }
            }
        ));
        self.update_console_controls();
    }

    /// The radio items of the console's views for the tab's menu, shown while
    /// `tab.console-view` is enabled (in a narrow window).
    pub(super) fn console_view_menu(&self) -> gio::Menu {
        let menu = gio::Menu::new();
        for (label, name) in [
            (gettext("_Graphical Console"), "graphical"),
            (gettext("_Serial Console"), "serial"),
        ] {
            let item = gio::MenuItem::new(Some(&label), None);
            item.set_action_and_target_value(
                Some(&format!("tab.{CONSOLE_VIEW_ACTION}")),
                Some(&name.to_variant()),
            );
            item.set_attribute_value("hidden-when", Some(&"action-disabled".to_variant()));
            menu.append_item(&item);
        }
        menu
    }

    /// Whether the person can choose between the console's views now.
    fn console_views_offered(&self) -> bool {
        let imp = self.imp();
        imp.view_stack.visible_child_name().as_deref() == Some("console")
            && imp.console_stack.pages().n_items() > 1
    }

    /// The menu's console views show when the header has no room for their switcher.
    pub(super) fn update_console_view_action(&self) {
        if let Some(action) = self.imp().consoles.view_action.borrow().as_ref() {
            action.set_enabled(self.console_views_offered() && self.switcher_at_bottom());
        }
    }

    /// The console's controls show on the Console page only; Send Keys with the
    /// graphical view of a VM that has a display, usable while it shows the guest.
    fn update_console_controls(&self) {
        let imp = self.imp();
        let on_console = imp.view_stack.visible_child_name().as_deref() == Some("console");
        let graphical = imp.console_stack.visible_child_name().as_deref() == Some("graphical");
        let has_display = imp.vnc.state() != ConsoleState::NoDisplay;
        // The group too, or its padding stays in the header on the other pages.
        imp.console_controls.set_visible(on_console);
        // A switcher in each of the header's wide and narrow layouts (the squeezer's).
        let views = self.console_views_offered();
        imp.console_switcher.set_visible(views);
        imp.console_switcher_narrow.set_visible(views);
        self.update_console_view_action();
        imp.fullscreen_button.set_visible(on_console);
        imp.send_keys_button
            .set_visible(on_console && graphical && has_display);
        imp.send_keys_button.set_sensitive(imp.vnc.is_connected());
        let notes = imp.vnc.notes();
        imp.display_notes_button
            .set_visible(on_console && graphical && imp.vnc.is_connected() && !notes.is_empty());
        imp.display_notes_button
            .set_tooltip_text((!notes.is_empty()).then_some(notes.as_str()));
        imp.display_notes_label.set_label(&notes);
    }

    /// Shows the `name` console view, unless the person already chose one.
    fn suggest_console_view(&self, name: &str) {
        let imp = self.imp();
        if imp.consoles.view_chosen.get() {
            return;
        }
        imp.consoles.switching_view.set(true);
        self.show_console_view(name);
        imp.consoles.switching_view.set(false);
    }

    /// Follows the host's connection: while it is lost the display says so and waits
    /// (no attempts that cannot succeed); once it is back the display connects again.
    pub(super) fn follow_connection_in_consoles(&self, connection: Option<&ConnectionObject>) {
        let consoles = &self.imp().consoles;
        if let Some((weak, handlers)) = consoles.connection.take() {
            if let Some(old) = weak.upgrade() {
                for handler in handlers {
                    old.disconnect(handler);
                }
            }
        }
        let Some(connection) = connection else { return };
        // The error too: while lost, each attempt's failure says more (libvirt's words).
        let handlers = ["state", "error"]
            .into_iter()
            .map(|property| {
                connection.connect_notify_local(
                    Some(property),
                    glib::clone!(
                        #[weak(rename_to = page)]
                        self,
                        move |connection, _| page.connection_state_changed(connection)
                    ),
                )
            })
            .collect();
        consoles
            .connection
            .replace(Some((connection.downgrade(), handlers)));
    }

    fn connection_state_changed(&self, connection: &ConnectionObject) {
        let imp = self.imp();
        let vnc = &imp.vnc;
        match connection.state() {
            ConnectionState::Connected => {
                let running = self.domain().is_some_and(|d| d.state().is_active());
                if running && !vnc.is_connected() {
                    imp.consoles.failures.set(0);
                    vnc.set_state(ConsoleState::Connecting, None);
                    self.connect_graphics();
                }
            }
            ConnectionState::Connecting => {}
            ConnectionState::Lost | ConnectionState::Failed | ConnectionState::Disconnected => {
                if matches!(
                    vnc.state(),
                    ConsoleState::NotRunning | ConsoleState::NoDisplay
                ) {
                    return;
                }
                imp.consoles.next_attempt();
                vnc.close();
                imp.consoles.tunnel.take();
                let text = gettext("The connection to the host was lost.");
                let detail = match connection.error() {
                    Some(reason) => format!("{text} ({reason})"),
                    None => text,
                };
                vnc.set_state(ConsoleState::Disconnected, Some(&detail));
            }
        }
    }

    /// Called whenever the VM's state changes.
    pub(super) fn follow_state_in_consoles(&self, state: DomainState) {
        let imp = self.imp();
        let vnc = &imp.vnc;
        let active = state.is_active() && state != DomainState::Crashed;
        if !active {
            imp.consoles.next_attempt();
            imp.consoles.failures.set(0);
            vnc.close();
            imp.consoles.tunnel.take();
            vnc.set_state(ConsoleState::NotRunning, None);
        } else if vnc.state() == ConsoleState::NotRunning {
            vnc.set_state(ConsoleState::Connecting, None);
            self.connect_graphics();
        }
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

    /// Asks libvirt for a way into the display and opens it.
    fn connect_graphics(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let attempt = self.imp().consoles.next_attempt();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let endpoint = connection.open_graphics(&domain).await;
                let imp = page.imp();
                if !imp.consoles.is_current(attempt) {
                    return;
                }
                // A channel of an earlier attempt ends here, the display's with it.
                imp.consoles.tunnel.take();
                // The display widget is the same for both protocols; the session differs.
                match endpoint {
                    Ok(GraphicsAccess {
                        protocol: GraphicsProtocol::Vnc,
                        endpoint,
                    }) => match endpoint {
                        GraphicsEndpoint::Socket(fd) => imp.vnc.open_fd(fd),
                        GraphicsEndpoint::Address(host, port) => imp.vnc.open_host(&host, port),
                        GraphicsEndpoint::Tunnel(fd, tunnel) => {
                            imp.consoles.tunnel.replace(Some(tunnel));
                            imp.vnc.open_remote_fd(fd);
                        }
                    },
                    Ok(GraphicsAccess {
                        protocol: GraphicsProtocol::Spice,
                        endpoint,
                    }) => match endpoint {
                        GraphicsEndpoint::Socket(fd) => {
                            // Each further SPICE channel asks libvirt for its own socket.
                            let source: SocketSource = Rc::new(move || {
                                let (connection, domain) = (connection.clone(), domain.clone());
                                Box::pin(
                                    async move { connection.open_graphics_socket(&domain).await },
                                )
                            });
                            imp.vnc.open_spice_fd(fd, source);
                        }
                        GraphicsEndpoint::Address(host, port) => {
                            imp.vnc.open_spice_host(&host, port)
                        }
                        // A remote host's display: each further channel through an
                        // SSH channel of its own, on the host's one login.
                        GraphicsEndpoint::Tunnel(fd, tunnel) => {
                            let more = tunnel.more_channels();
                            imp.consoles.tunnel.replace(Some(tunnel));
                            let source: SocketSource = Rc::new(move || {
                                let more = more.clone();
                                Box::pin(async move { more.open().await })
                            });
                            imp.vnc.open_spice_fd(fd, source);
                        }
                    },
                    Err(error) if error.is_permanent() => {
                        tracing::info!("no graphical console for {}: {error}", domain.name());
                        let detail = match error {
                            GraphicsError::NoDisplay => None,
                            other => Some(other.text()),
                        };
                        imp.vnc
                            .set_state(ConsoleState::NoDisplay, detail.as_deref());
                        // Such a machine is reached through its serial port.
                        page.suggest_console_view("serial");
                    }
                    Err(error) if error.was_declined() => {
                        // The person said no: Retry asks again, nothing does by itself.
                        tracing::info!("graphical console of {}: {error}", domain.name());
                        imp.vnc.set_state(ConsoleState::Failed, Some(&error.text()));
                    }
                    Err(error) => {
                        tracing::warn!("no graphical console for {}: {error}", domain.name());
                        imp.vnc.set_state(ConsoleState::Failed, Some(&error.text()));
                        page.retry_graphics_later();
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
        imp.vnc.set_state(ConsoleState::Reconnecting, None);
        self.connect_graphics_after(RECONNECT_DELAY);
    }

    /// An attempt failed: while the VM runs, try again after a growing delay.
    fn retry_graphics_later(&self) {
        if !self.domain().is_some_and(|d| d.state().is_active()) {
            return;
        }
        let consoles = &self.imp().consoles;
        let failures = consoles.failures.get() + 1;
        consoles.failures.set(failures);
        let delay = retry_delay(failures);
        tracing::info!("graphical console: attempt {failures} failed, next in {delay:?}");
        self.imp().vnc.show_retry_at(Some(Instant::now() + delay));
        self.connect_graphics_after(delay);
    }

    fn connect_graphics_after(&self, delay: Duration) {
        let consoles = &self.imp().consoles;
        let attempt = consoles.next_attempt();
        let id = glib::timeout_add_local_once(
            delay,
            glib::clone!(
                #[weak(rename_to = page)]
                self,
                move || {
                    let consoles = &page.imp().consoles;
                    consoles.retry.take();
                    let still_wanted = consoles.is_current(attempt)
                        && page.domain().is_some_and(|d| d.state().is_active());
                    if still_wanted {
                        page.connect_graphics();
                    }
                }
            ),
        );
        consoles.retry.replace(Some(id));
    }

    /// The serial console widget of this tab.
    pub fn serial_console(&self) -> Option<SerialConsole> {
        self.imp().serial.get().cloned()
    }

    /// The graphical console widget of this tab.
    pub fn guest_display(&self) -> GuestDisplay {
        self.imp().vnc.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_bound() {
        let delays: Vec<u64> = (1..=8).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_delay(u32::MAX), RETRY_DELAY_MAX);
    }
}
