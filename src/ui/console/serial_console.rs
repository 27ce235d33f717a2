//! `SerialConsole`: a VM's serial console in a VTE terminal.
//!
//! The widget follows a [`DomainObject`]: while the domain runs it holds a console
//! stream (`virt::console_stream`) whose bytes go to `Terminal::feed` and into which the
//! terminal's `commit` (typing, pasting) goes back. When the domain stops it says so
//! and offers Run (`run-requested`); when it starts again, or the stream breaks while it
//! runs, it attaches again by itself. Several serial ports or consoles give a device
//! drop-down; a console held by another client gives a Take Over button; a domain with
//! no serial port or console says so (and offers to add one when the owner sets
//! `add-device-available`: `add-device-requested`).
//!
//! The session logic is in `serial/session.rs`, the terminal comforts (clipboard,
//! search, zoom, save, font and palette) in `serial/comforts.rs`.
//!
//! Embedding it (a VM tab):
//!
//! ```ignore
//! let console = SerialConsole::new();
//! console.set_domain(Some(&domain)); // follows domain.state and its connection
//! console.connect_run_requested(move |_| start_the_domain()); // the Run button
//! stack.add_titled(&console, Some("serial"), &gettext("Serial Console"));
//! console.grab_focus(); // focuses the terminal
//! ```

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::sync::OnceLock;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use glib::subclass::Signal;
use gtk::{gio, glib, CompositeTemplate};

use crate::model::DomainObject;
use crate::virt::console_stream::{ConsoleDevice, ConsoleStream};
use vte4::TerminalExt;

/// Where the console stands.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoSerialStatus")]
pub enum SerialStatus {
    /// No domain is set.
    #[default]
    NoDomain,
    /// The domain is shut off.
    NotRunning,
    /// Opening the console.
    Connecting,
    /// The stream is open: output shows, typing goes to the guest.
    Connected,
    /// Another client holds the console; Take Over forces it.
    Busy,
    /// The domain has no serial port or console that libvirt can stream
    /// (`status-text` says which).
    NoDevice,
    /// The stream ended while the domain ran (reattaching is tried by itself).
    Disconnected,
    /// Opening failed; `status-text` holds libvirt's message.
    Failed,
}

/// What the status page's or banner's button does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub(crate) enum ButtonAction {
    #[default]
    None,
    Run,
    TakeOver,
    Reconnect,
    AddDevice,
}

/// Output observers (tests and benchmarks tap the bytes before the terminal).
type OutputTap = Box<dyn Fn(&[u8])>;

pub(crate) mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::SerialConsole)]
    #[template(resource = "/io/github/vireo/Vireo/ui/serial-console.ui")]
    pub struct SerialConsole {
        #[property(get, builder(SerialStatus::default()))]
        pub(crate) status: Cell<SerialStatus>,
        #[property(get)]
        pub(crate) status_text: RefCell<String>,
        /// The alias of the device shown (`serial0`...), empty for the default one.
        #[property(get)]
        pub(crate) device: RefCell<String>,
        /// Whether the owner can add a serial port to a domain without one: the "no
        /// serial port" page then offers it (`add-device-requested`).
        #[property(get, set = Self::set_add_device_available)]
        pub(crate) add_device_available: Cell<bool>,

        #[template_child]
        pub(crate) device_dropdown: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub(crate) status_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(crate) search_button: TemplateChild<gtk::ToggleButton>,
        #[template_child]
        pub(crate) zoom_reset_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(crate) zoom_box: TemplateChild<gtk::Box>,
        #[template_child]
        pub(crate) menu_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub(crate) console_menu: TemplateChild<gio::MenuModel>,
        #[template_child]
        pub(crate) search_bar: TemplateChild<gtk::SearchBar>,
        #[template_child]
        pub(crate) search_entry: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub(crate) banner: TemplateChild<gtk::InfoBar>,
        #[template_child]
        pub(crate) banner_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(crate) banner_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(crate) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(crate) terminal: TemplateChild<vte4::Terminal>,
        #[template_child]
        pub(crate) scrollbar: TemplateChild<gtk::Scrollbar>,
        #[template_child]
        pub(crate) status_page: TemplateChild<adw::StatusPage>,
        #[template_child]
        pub(crate) status_button: TemplateChild<gtk::Button>,

        pub(crate) domain: RefCell<Option<DomainObject>>,
        pub(crate) domain_handlers: RefCell<Vec<glib::SignalHandlerId>>,
        /// The domain's connection and our `notify::state` handler on it.
        pub(crate) connection_handler:
            RefCell<Option<(crate::model::ConnectionObject, glib::SignalHandlerId)>>,
        /// Shared so that a send can run without holding the cell (a failing send ends
        /// the stream, whose handler clears the cell).
        pub(crate) stream: RefCell<Option<Rc<ConsoleStream>>>,
        /// Bumped at every attach or detach: late replies of an older attempt are dropped.
        pub(crate) generation: Cell<u64>,
        pub(crate) devices: RefCell<Vec<ConsoleDevice>>,
        pub(crate) device_model: OnceCell<gtk::StringList>,
        pub(crate) filling_dropdown: Cell<bool>,
        /// Whether the terminal shows anything yet (messages then go to the banner,
        /// leaving the output readable).
        pub(crate) has_output: Cell<bool>,
        pub(crate) button_action: Cell<ButtonAction>,
        /// Automatic reattach attempts since output last arrived.
        pub(crate) retries: Cell<u32>,
        pub(crate) retry_source: RefCell<Option<glib::SourceId>>,
        /// When our own last stream ended: a "busy" answer soon after is libvirt still
        /// releasing it (its lock on the pty), not another client.
        pub(crate) last_close: Cell<Option<std::time::Instant>>,
        pub(crate) taps: RefCell<Vec<OutputTap>>,
        pub(crate) max_per_turn: Cell<usize>,
        pub(crate) settings: OnceCell<gio::Settings>,
        pub(crate) context_menu: OnceCell<gtk::PopoverMenu>,
        pub(crate) save_dialog: RefCell<Option<gtk::FileChooserNative>>,
        pub(crate) style_handler: RefCell<Option<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SerialConsole {
        const NAME: &'static str = "VireoSerialConsole";
        type Type = super::SerialConsole;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            vte4::Terminal::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BoxLayout>();
            klass.set_css_name("serial-console");
            super::super::serial::comforts::install_actions(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SerialConsole {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            if let Some(layout) = obj.layout_manager().and_downcast::<gtk::BoxLayout>() {
                layout.set_orientation(gtk::Orientation::Vertical);
            }
            self.max_per_turn
                .set(crate::virt::console_stream::DEFAULT_MAX_PER_TURN);
            obj.setup_terminal();
            obj.setup_comforts();
            obj.setup_devices();
            obj.show_status(SerialStatus::NoDomain, String::new());
        }

        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    // The person asked to run the (shut off) domain; the owner starts it.
                    Signal::builder("run-requested").build(),
                    // The person asked to add a serial port to a domain without one.
                    Signal::builder("add-device-requested").build(),
                ]
            })
        }

        fn dispose(&self) {
            let obj = self.obj();
            obj.set_domain(None);
            if let Some(handler) = self.style_handler.take() {
                adw::StyleManager::default().disconnect(handler);
            }
            if let Some(menu) = self.context_menu.get() {
                menu.unparent();
            }
            while let Some(child) = obj.first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for SerialConsole {
        fn grab_focus(&self) -> bool {
            self.terminal.grab_focus()
        }
    }

    impl SerialConsole {
        fn set_add_device_available(&self, available: bool) {
            self.add_device_available.set(available);
            let obj = self.obj();
            obj.show_status(obj.status(), self.status_text.borrow().clone());
        }
    }
}

glib::wrapper! {
    /// A VM's serial console: a VTE terminal on the domain's console stream.
    pub struct SerialConsole(ObjectSubclass<imp::SerialConsole>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for SerialConsole {
    fn default() -> Self {
        Self::new()
    }
}

impl SerialConsole {
    /// A console following no domain yet; see [`Self::set_domain`].
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// The terminal itself (tests read its contents; owners may tune it).
    pub fn terminal(&self) -> vte4::Terminal {
        self.imp().terminal.clone()
    }

    /// The domain followed, if any.
    pub fn domain(&self) -> Option<DomainObject> {
        self.imp().domain.borrow().clone()
    }

    /// The domain's serial ports and consoles found at the last attach.
    pub fn devices(&self) -> Vec<ConsoleDevice> {
        self.imp().devices.borrow().clone()
    }

    /// Bytes received from the guest through the current stream.
    pub fn bytes_received(&self) -> u64 {
        self.imp()
            .stream
            .borrow()
            .as_ref()
            .map_or(0, |s| s.bytes_received())
    }

    /// Calls `f` with every chunk of guest output, before the terminal gets it.
    pub fn connect_output<F: Fn(&[u8]) + 'static>(&self, f: F) {
        self.imp().taps.borrow_mut().push(Box::new(f));
    }

    /// Runs `f` when the person asks to run the shut-off domain.
    pub fn connect_run_requested<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "run-requested",
            false,
            glib::closure_local!(move |console: &Self| f(console)),
        )
    }

    /// Runs `f` when the person asks to add a serial port (offered only while
    /// `add-device-available` is set).
    pub fn connect_add_device_requested<F: Fn(&Self) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "add-device-requested",
            false,
            glib::closure_local!(move |console: &Self| f(console)),
        )
    }

    /// How many bytes of guest output one main-loop turn takes at most (default 64 KiB).
    pub fn set_max_bytes_per_turn(&self, bytes: usize) {
        self.imp().max_per_turn.set(bytes);
        if let Some(s) = self.imp().stream.borrow().as_ref() {
            s.set_max_per_turn(bytes);
        }
    }

    /// Everything the terminal holds (scrollback and screen) as plain text.
    pub fn text(&self) -> String {
        let out = gio::MemoryOutputStream::new_resizable();
        let written = self.imp().terminal.write_contents_sync(
            &out,
            vte4::WriteFlags::Default,
            None::<&gio::Cancellable>,
        );
        if let Err(e) = written.and_then(|()| out.close(None::<&gio::Cancellable>)) {
            tracing::warn!(error = %e, "could not read the terminal's contents");
            return String::new();
        }
        String::from_utf8_lossy(&out.steal_as_bytes()).into_owned()
    }

    /// Shows `status`: the terminal (with a banner when there is a problem and output
    /// to keep readable) or a status page.
    pub(crate) fn show_status(&self, status: SerialStatus, text: String) {
        let imp = self.imp();
        let changed = imp.status.replace(status) != status;
        let text_changed = *imp.status_text.borrow() != text;
        imp.status_text.replace(text.clone());
        let (title, description, action) = match status {
            SerialStatus::NoDomain => (
                gettext("No Virtual Machine"),
                String::new(),
                ButtonAction::None,
            ),
            SerialStatus::NotRunning => (
                gettext("The Virtual Machine Is Not Running"),
                gettext("Run it to use its serial console."),
                ButtonAction::Run,
            ),
            SerialStatus::Busy => (
                gettext("The Console Is in Use"),
                gettext(
                    "Another client is connected to this console. Take it over to use it here.",
                ),
                ButtonAction::TakeOver,
            ),
            SerialStatus::NoDevice => (
                gettext("No Serial Console"),
                text.clone(),
                if imp.add_device_available.get() {
                    ButtonAction::AddDevice
                } else {
                    ButtonAction::None
                },
            ),
            SerialStatus::Disconnected => (
                gettext("Console Disconnected"),
                text.clone(),
                ButtonAction::Reconnect,
            ),
            SerialStatus::Failed => (
                gettext("The Console Could Not Be Opened"),
                text.clone(),
                ButtonAction::Reconnect,
            ),
            SerialStatus::Connecting | SerialStatus::Connected => {
                (String::new(), String::new(), ButtonAction::None)
            }
        };
        imp.button_action.set(action);
        let button_label = match action {
            ButtonAction::None => String::new(),
            ButtonAction::Run => gettext("Run"),
            ButtonAction::TakeOver => gettext("Take Over"),
            ButtonAction::Reconnect => gettext("Reconnect"),
            ButtonAction::AddDevice => gettext("Add a Serial Port…"),
        };
        imp.status_label.set_label(&match status {
            SerialStatus::Connecting => gettext("Connecting…"),
            SerialStatus::Connected => self.device_label(),
            _ => title.clone(),
        });
        let quiet = matches!(status, SerialStatus::Connecting | SerialStatus::Connected);
        let terminal_shown = quiet || imp.has_output.get();
        // Search, zoom, save and the menu only make sense with a terminal to look at.
        imp.search_button.set_sensitive(terminal_shown);
        imp.zoom_box.set_sensitive(terminal_shown);
        imp.menu_button.set_sensitive(terminal_shown);
        self.action_set_enabled("console.save", terminal_shown);
        self.action_set_enabled("console.find", terminal_shown);
        if terminal_shown {
            imp.stack.set_visible_child_name("terminal");
            imp.banner.set_revealed(!quiet);
            imp.banner.set_message_type(match status {
                SerialStatus::Failed => gtk::MessageType::Error,
                SerialStatus::NotRunning => gtk::MessageType::Info,
                _ => gtk::MessageType::Warning,
            });
            let sentence = if description.is_empty() {
                title
            } else {
                description
            };
            imp.banner_label.set_label(&sentence);
            imp.banner_button.set_label(&button_label);
            imp.banner_button.set_visible(action != ButtonAction::None);
        } else {
            imp.banner.set_revealed(false);
            imp.stack.set_visible_child_name("status");
            imp.status_page.set_title(&title);
            imp.status_page.set_description(Some(&description));
            imp.status_button.set_label(&button_label);
            imp.status_button.set_visible(action != ButtonAction::None);
        }
        if changed {
            self.notify_status();
        }
        if text_changed {
            self.notify_status_text();
        }
    }

    /// The status page's or banner's button was clicked.
    pub(crate) fn on_status_button(&self) {
        match self.imp().button_action.get() {
            ButtonAction::None => {}
            ButtonAction::Run => self.emit_by_name::<()>("run-requested", &[]),
            ButtonAction::TakeOver => self.take_over(),
            ButtonAction::Reconnect => self.reattach(),
            ButtonAction::AddDevice => self.emit_by_name::<()>("add-device-requested", &[]),
        }
    }

    /// Guest output: to the taps, then to the terminal.
    pub(crate) fn on_output(&self, bytes: &[u8]) {
        let imp = self.imp();
        for tap in imp.taps.borrow().iter() {
            tap(bytes);
        }
        imp.terminal.feed(bytes);
        imp.retries.set(0);
        if !imp.has_output.replace(true) {
            imp.stack.set_visible_child_name("terminal");
            imp.search_button.set_sensitive(true);
            imp.zoom_box.set_sensitive(true);
            imp.menu_button.set_sensitive(true);
            self.action_set_enabled("console.save", true);
            self.action_set_enabled("console.find", true);
        }
    }

    fn setup_terminal(&self) {
        let imp = self.imp();
        let terminal = &*imp.terminal;
        terminal
            .bind_property("vadjustment", &*imp.scrollbar, "adjustment")
            .sync_create()
            .build();
        // Typing and pasting go to the guest.
        terminal.connect_commit(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_, text, _| {
                let stream = this.imp().stream.borrow().clone();
                if let Some(stream) = stream {
                    stream.send(text.as_bytes());
                }
            }
        ));
        for button in [&*imp.status_button, &*imp.banner_button] {
            button.connect_clicked(glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |_| this.on_status_button()
            ));
        }
    }
}
