//! The serial console's session: following the domain's state, choosing the device,
//! opening the console on the connection's worker and reading it on the main loop.

use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::model::{ConnectionObject, ConnectionState, DomainObject};
use crate::ui::console::serial_console::{SerialConsole, SerialStatus};
use crate::virt::console_stream::{
    self, CloseReason, ConsoleDevice, ConsoleEvent, Defer, DeviceKind, OpenedConsole,
};
use crate::virt::VirtError;
use vte4::TerminalExt;

/// Automatic reattach attempts after a broken stream, before waiting for the person.
const MAX_RETRIES: u32 = 3;
/// Delay before an automatic reattach (a restarting QEMU needs a moment for its pty).
const RETRY_DELAY: Duration = Duration::from_millis(700);
/// How long after our own stream ended a "busy" answer is taken for libvirt still
/// releasing that stream.
const OWN_RELEASE_TIME: Duration = Duration::from_secs(10);

/// The text shown for an error: libvirt's own message when libvirt failed.
fn error_text(e: &VirtError) -> String {
    match e {
        VirtError::Libvirt { message, .. } => message.clone(),
        VirtError::NotConnected => gettext("Not connected to the host"),
        other => other.to_string(),
    }
}

/// The label of a device in the drop-down and the status line.
pub fn device_label(d: &ConsoleDevice) -> String {
    let port = d.port.unwrap_or(0).to_string();
    let text = match (d.kind, d.target_type.as_deref()) {
        (DeviceKind::Serial, _) | (DeviceKind::Console, Some("serial")) => {
            gettext("Serial port {}")
        }
        (DeviceKind::Console, Some("virtio")) => gettext("Virtio console {}"),
        (DeviceKind::Console, _) => gettext("Console {}"),
    };
    text.replace("{}", &port)
}

impl SerialConsole {
    /// Follows `domain` (or nothing): attaches while it runs, says when it does not.
    pub fn set_domain(&self, domain: Option<&DomainObject>) {
        let imp = self.imp();
        if imp.domain.borrow().as_ref() == domain {
            return;
        }
        if let Some(old) = imp.domain.take() {
            for h in imp.domain_handlers.take() {
                old.disconnect(h);
            }
        }
        if let Some((connection, h)) = imp.connection_handler.take() {
            connection.disconnect(h);
        }
        self.close_stream();
        imp.devices.borrow_mut().clear();
        imp.device.replace(String::new());
        self.fill_dropdown();
        imp.has_output.set(false);
        imp.terminal.reset(true, true);
        let Some(domain) = domain else {
            self.show_status(SerialStatus::NoDomain, String::new());
            return;
        };
        imp.domain.replace(Some(domain.clone()));
        let h = domain.connect_state_notify(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_| this.on_domain_state()
        ));
        imp.domain_handlers.borrow_mut().push(h);
        if let Some(connection) = domain.connection() {
            let h = connection.connect_state_notify(glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |c| this.on_connection_state(c)
            ));
            imp.connection_handler.replace(Some((connection, h)));
        }
        self.attach(false);
    }

    /// Attaches again if the console is not open (call it on lifecycle events; the
    /// widget also does it by itself when the domain's state changes).
    pub fn reattach(&self) {
        let open = self
            .imp()
            .stream
            .borrow()
            .as_ref()
            .is_some_and(|s| !s.is_closed());
        if !open {
            self.attach(false);
        }
    }

    /// Takes the console over from another client (`VIR_DOMAIN_CONSOLE_FORCE`).
    pub fn take_over(&self) {
        self.attach(true);
    }

    /// Shows the device with this alias (`serial0`, `console1`...).
    pub fn select_device(&self, alias: &str) {
        let imp = self.imp();
        if *imp.device.borrow() == alias {
            return;
        }
        imp.device.replace(alias.to_owned());
        self.notify_device();
        self.sync_dropdown_selection();
        // Each device has its own output: do not mix them in one scrollback.
        imp.terminal.reset(true, true);
        imp.has_output.set(false);
        self.attach(false);
    }

    /// Closes the console stream and stops following the domain.
    pub fn detach(&self) {
        self.set_domain(None);
    }

    fn on_domain_state(&self) {
        let Some(domain) = self.domain() else { return };
        if domain.state().is_active() {
            let status = self.status();
            if !matches!(status, SerialStatus::Connected | SerialStatus::Connecting) {
                self.imp().retries.set(0);
                self.attach(false);
            }
        } else {
            self.close_stream();
            self.show_status(SerialStatus::NotRunning, String::new());
        }
    }

    /// A lost connection ends the stream; once it is back, attach again.
    fn on_connection_state(&self, connection: &ConnectionObject) {
        if connection.state() == ConnectionState::Connected {
            if matches!(
                self.status(),
                SerialStatus::Disconnected | SerialStatus::Failed
            ) {
                self.imp().retries.set(0);
                self.attach(false);
            }
        } else if !matches!(self.status(), SerialStatus::NoDomain) {
            self.close_stream();
            self.show_status(
                SerialStatus::Disconnected,
                gettext("The connection to the host is closed. The console comes back when the connection does."),
            );
        }
    }

    fn close_stream(&self) {
        let imp = self.imp();
        imp.generation.set(imp.generation.get() + 1);
        if let Some(source) = imp.retry_source.take() {
            source.remove();
        }
        if let Some(stream) = imp.stream.take() {
            stream.close();
            imp.last_close.set(Some(Instant::now()));
        }
    }

    /// Opens the console of the chosen device (the live XML is read first, since
    /// devices can be hot-plugged); `force` takes it over from another client.
    fn attach(&self, force: bool) {
        self.close_stream();
        let Some(domain) = self.domain() else {
            self.show_status(SerialStatus::NoDomain, String::new());
            return;
        };
        if !domain.state().is_active() {
            self.show_status(SerialStatus::NotRunning, String::new());
            return;
        }
        let Some(connection) = domain.connection() else {
            self.show_status(SerialStatus::Failed, gettext("Not connected to the host"));
            return;
        };
        let generation = self.imp().generation.get();
        self.show_status(SerialStatus::Connecting, String::new());
        let this = self.downgrade();
        glib::spawn_future_local(async move {
            let xml = connection.domain_xml(&domain, false).await;
            let Some(obj) = this
                .upgrade()
                .filter(|o| o.imp().generation.get() == generation)
            else {
                return;
            };
            let (devices, listed) = match xml.map(|x| console_stream::console_devices(&x)) {
                Ok(Ok(d)) => (d, true),
                // Without the list, libvirt's default console is still worth a try.
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not read the console devices");
                    (Vec::new(), false)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the domain's live XML");
                    (Vec::new(), false)
                }
            };
            if listed && devices.is_empty() {
                obj.set_devices(devices);
                obj.show_status(
                    SerialStatus::NoDevice,
                    gettext("This virtual machine has no serial port or console."),
                );
                return;
            }
            let had_devices = !devices.is_empty();
            obj.set_devices(devices);
            let alias = obj.imp().device.borrow().clone();
            if had_devices && alias.is_empty() {
                obj.show_status(
                    SerialStatus::NoDevice,
                    gettext("This virtual machine's serial ports are not pseudo-terminals, so their output cannot be shown here."),
                );
                return;
            }
            let device = (!alias.is_empty()).then_some(alias);
            let uuid = domain.uuid();
            let opened = connection
                .with_connect(move |c| console_stream::open(c, &uuid, device.as_deref(), force))
                .await;
            let Some(obj) = this
                .upgrade()
                .filter(|o| o.imp().generation.get() == generation)
            else {
                return;
            };
            match opened {
                Ok(Ok(opened)) => obj.start_stream(opened),
                Ok(Err(e)) => obj.open_failed(&domain, &e),
                Err(message) => obj.show_status(SerialStatus::Failed, message),
            }
        });
    }

    fn open_failed(&self, domain: &DomainObject, e: &VirtError) {
        let message = error_text(e);
        if console_stream::is_busy_error(e) {
            self.show_status(SerialStatus::Busy, message);
            let ours = self
                .imp()
                .last_close
                .get()
                .is_some_and(|t| t.elapsed() < OWN_RELEASE_TIME);
            if ours {
                self.schedule_retry(SerialStatus::Busy);
            }
        } else if console_stream::is_not_running_error(e) || !domain.state().is_active() {
            self.show_status(SerialStatus::NotRunning, String::new());
        } else if e.is_no_domain() {
            self.show_status(SerialStatus::NoDomain, message);
        } else if e.code() == crate::virt::error::ERR_NO_SUPPORT {
            self.show_status(SerialStatus::NoDevice, message);
        } else {
            self.show_status(SerialStatus::Failed, message);
        }
    }

    fn start_stream(&self, opened: OpenedConsole) {
        let imp = self.imp();
        // Later turns run after drawing: an idle has a lower priority than redraws.
        let defer: Defer = Rc::new(|f: Box<dyn FnOnce()>| {
            glib::idle_add_local_once(f);
        });
        let this = self.downgrade();
        let started = opened.start(defer, move |event| {
            let Some(obj) = this.upgrade() else { return };
            match event {
                ConsoleEvent::Data(bytes) => obj.on_output(bytes),
                ConsoleEvent::Closed(reason) => obj.on_stream_closed(reason),
            }
        });
        match started {
            Ok(stream) => {
                stream.set_max_per_turn(imp.max_per_turn.get());
                imp.stream.replace(Some(Rc::new(stream)));
                self.show_status(SerialStatus::Connected, String::new());
            }
            Err(e) => self.show_status(SerialStatus::Failed, error_text(&e)),
        }
    }

    fn on_stream_closed(&self, reason: CloseReason) {
        let imp = self.imp();
        // Released by the stream itself; only forget it here.
        if let Some(stream) = imp.stream.take() {
            stream.close();
        }
        imp.last_close.set(Some(Instant::now()));
        let running = self.domain().is_some_and(|d| d.state().is_active());
        if !running {
            self.show_status(SerialStatus::NotRunning, String::new());
            return;
        }
        let text = match &reason {
            CloseReason::EndOfStream | CloseReason::HangUp => gettext(
                "The console connection ended: the virtual machine restarted or another client took the console.",
            ),
            CloseReason::Error(e) => gettext("The console connection broke: {}")
                .replace("{}", &error_text(e)),
        };
        tracing::info!(?reason, "serial console stream ended");
        self.show_status(SerialStatus::Disconnected, text);
        // The domain may be restarting (new QEMU, new pty): try again shortly, a few
        // times; its state change reattaches too.
        self.schedule_retry(SerialStatus::Disconnected);
    }

    /// Attaches again after a short delay if the status is still `status` then (at most
    /// `MAX_RETRIES` times in a row).
    fn schedule_retry(&self, status: SerialStatus) {
        let imp = self.imp();
        let tries = imp.retries.get();
        if tries >= MAX_RETRIES {
            return;
        }
        imp.retries.set(tries + 1);
        let generation = imp.generation.get();
        let this = self.downgrade();
        let source = glib::timeout_add_local_once(RETRY_DELAY, move || {
            let Some(obj) = this.upgrade() else { return };
            obj.imp().retry_source.take();
            if obj.imp().generation.get() == generation && obj.status() == status {
                obj.attach(false);
            }
        });
        if let Some(old) = imp.retry_source.replace(Some(source)) {
            old.remove();
        }
    }

    /// Sets up the device drop-down.
    pub(crate) fn setup_devices(&self) {
        let imp = self.imp();
        let model = gtk::StringList::new(&[]);
        imp.device_dropdown.set_model(Some(&model));
        let _ = imp.device_model.set(model);
        imp.device_dropdown.connect_selected_notify(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |dropdown| {
                let imp = this.imp();
                if imp.filling_dropdown.get() {
                    return;
                }
                let alias = imp
                    .devices
                    .borrow()
                    .iter()
                    .filter(|d| d.can_open())
                    .nth(dropdown.selected() as usize)
                    .map(|d| d.alias.clone());
                if let Some(alias) = alias {
                    this.select_device(&alias);
                }
            }
        ));
    }

    /// Stores the device list and keeps the chosen device if it is still there, else
    /// takes the first one libvirt can stream.
    fn set_devices(&self, devices: Vec<ConsoleDevice>) {
        let imp = self.imp();
        let current = imp.device.borrow().clone();
        let openable: Vec<&ConsoleDevice> = devices.iter().filter(|d| d.can_open()).collect();
        let chosen = openable
            .iter()
            .find(|d| d.alias == current)
            .or_else(|| openable.first())
            .map(|d| d.alias.clone())
            .unwrap_or_default();
        drop(openable);
        imp.devices.replace(devices);
        if chosen != current {
            imp.device.replace(chosen);
            self.notify_device();
        }
        self.fill_dropdown();
    }

    fn fill_dropdown(&self) {
        let imp = self.imp();
        let Some(model) = imp.device_model.get() else {
            return;
        };
        let labels: Vec<String> = imp
            .devices
            .borrow()
            .iter()
            .filter(|d| d.can_open())
            .map(device_label)
            .collect();
        imp.filling_dropdown.set(true);
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        model.splice(0, model.n_items(), &refs);
        imp.filling_dropdown.set(false);
        imp.device_dropdown.set_visible(labels.len() > 1);
        self.sync_dropdown_selection();
    }

    fn sync_dropdown_selection(&self) {
        let imp = self.imp();
        let current = imp.device.borrow().clone();
        let index = imp
            .devices
            .borrow()
            .iter()
            .filter(|d| d.can_open())
            .position(|d| d.alias == current);
        if let Some(index) = index {
            imp.filling_dropdown.set(true);
            imp.device_dropdown.set_selected(index as u32);
            imp.filling_dropdown.set(false);
        }
    }

    /// "Serial port 0" for the device shown, or a plain "Connected".
    pub(crate) fn device_label(&self) -> String {
        let imp = self.imp();
        let current = imp.device.borrow();
        imp.devices
            .borrow()
            .iter()
            .find(|d| d.alias == *current)
            .map(|d| gettext("Connected to {}").replace("{}", &device_label(d)))
            .unwrap_or_else(|| gettext("Connected"))
    }
}
