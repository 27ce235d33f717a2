//! `GuestDisplay`: Vireo's GTK4 console widget for a guest's screen, VNC over gvnc or SPICE
//! through a `display_protocol` session (the connection, the frame
//! pipeline and the public API). Frames, authentication, input, states and actions
//! live in `display/`.
//!
//! Encodings: raw pixels from a server on this machine, compressed ones from a remote
//! one (`display::encodings`).
//!
//! Frames: gvnc (or a SPICE session) decodes into memory and reports damaged
//! rectangles; we only note what changed. On the next frame-clock tick the canvas shows
//! it: under GTK's cairo renderer drawn straight from that memory, only the tiles the
//! rectangles touched; under GL one texture built from the whole screen. However many
//! rectangles the server sends, the widget costs at most one redraw per displayed frame. The next incremental update is requested as soon as
//! an update starts arriving (so the server prepares it while we decode) but at most
//! once per tick, and a hidden display (no ticks) stops asking the server for frames.
//!
//! Connecting: a handshake that does not reach "initialized" within a few seconds ends
//! in `ConsoleState::Failed` with the reason (`display::connection`); nothing waits for good.
//!
//! Embedding it in a VM tab:
//!
//! ```ignore
//! let display = GuestDisplay::new();
//! tab.insert_action_group("vnc", Some(&display.action_group()));
//! send_key_button.set_menu_model(Some(&GuestDisplay::send_keys_menu()));
//! display.connect_run_requested(|_| /* start the domain */);
//! display.connect_reconnect_requested(|_| /* Retry or Reconnect: connect again */);
//! display.connect_disconnected(|display, reason| /* display.state(): Failed or Disconnected */);
//! // When the domain runs: an fd from virDomainOpenGraphicsFD (on a worker thread).
//! display.open_fd(fd);                  // or open_host("127.0.0.1", port)
//! // When it stops: display.close(); display.set_state(ConsoleState::NotRunning, None);
//! // After a restart: set_state(ConsoleState::Reconnecting, None) then open_fd(new fd).
//! ```

use std::cell::{Cell, RefCell};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::Instant;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use glib::translate::IntoGlib;
use gtk::{gdk, gio, glib};

use super::display::canvas::{DisplayCanvas, ScaleMode};
use super::display::encodings::encodings;
use super::display::framebuffer::{local_pixel_format, Framebuffer, TexturePool};
use super::display::status::ConsoleState;
use crate::model::is_loopback_host;

pub(crate) mod imp {
    use std::sync::OnceLock;

    use glib::subclass::Signal;

    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::GuestDisplay)]
    pub struct GuestDisplay {
        #[property(get, set = Self::set_scale_mode, builder(ScaleMode::default()))]
        pub scale_mode: Cell<ScaleMode>,
        #[property(get, set, default = true)]
        pub share_clipboard: Cell<bool>,
        /// Let a remote server send JPEG (less bandwidth, not pixel-exact).
        #[property(get, set = Self::set_lossy_encoding)]
        pub lossy_encoding: Cell<bool>,
        /// The server runs on this machine (a socket from libvirt, or a loopback address).
        pub local_server: Cell<bool>,
        #[property(get, builder(ConsoleState::default()))]
        pub state: Cell<ConsoleState>,
        /// The text shown under the state's title.
        pub detail: RefCell<Option<String>>,
        /// True while keys go to the guest and desktop shortcuts are inhibited.
        #[property(get)]
        pub keyboard_grabbed: Cell<bool>,
        /// Textures shown since the widget was made (for tests and the benchmark).
        #[property(get)]
        pub frames_shown: Cell<u64>,
        /// The VNC password, if known; asked for in a dialog when the server wants one.
        #[property(get, set, nullable)]
        pub password: RefCell<Option<String>>,
        /// Whether the owner can add a display to a VM without one: the "no display"
        /// page then offers it ("add-device-requested").
        #[property(get, set = Self::set_add_device_available)]
        pub add_device_available: Cell<bool>,

        pub overlay: gtk::Overlay,
        pub scroller: gtk::ScrolledWindow,
        pub canvas: DisplayCanvas,
        pub status: RefCell<Option<super::super::display::status::StatusOverlay>>,
        pub hint: gtk::Revealer,
        pub hint_label: gtk::Label,
        pub hint_timeout: RefCell<Option<glib::SourceId>>,

        pub connection: RefCell<Option<gvnc::Connection>>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
        /// Our own handle on the socket given to gvnc, to shut it down (`display::connection`).
        pub socket: RefCell<Option<UnixStream>>,
        /// The handshake's deadline (`display::connection`).
        pub handshake: RefCell<Option<glib::SourceId>>,
        /// The current connection reached "initialized".
        pub initialized: Cell<bool>,
        /// When the current connection was opened, and whether its first frame is still
        /// to come (logged, for the tests and the first-frame figure).
        pub opened_at: Cell<Option<Instant>>,
        pub first_frame_pending: Cell<bool>,
        pub framebuffer: RefCell<Option<Framebuffer>>,
        pub pool: TexturePool,
        /// Something changed since the last frame (pixels, cursor, size).
        pub dirty: Cell<bool>,
        /// When the last rectangle arrived.
        pub last_rect: Cell<Option<std::time::Instant>>,
        pub tick: RefCell<Option<gtk::TickCallbackId>>,
        pub idle_ticks: Cell<u32>,
        pub watchdog: RefCell<Option<glib::SourceId>>,
        pub last_request: Cell<Option<std::time::Instant>>,
        /// Why the connection ended, from gvnc's error and auth signals.
        pub disconnect_reason: RefCell<Option<String>>,

        pub absolute_pointer: Cell<bool>,
        pub button_mask: Cell<u8>,
        pub last_pointer: Cell<Option<(f64, f64)>>,
        /// Keys pressed in the guest: (keyval, scancode), released on ungrab.
        pub pressed_keys: RefCell<Vec<(u32, u16)>>,
        pub actions: gio::SimpleActionGroup,

        /// The protocol session shown instead of a gvnc connection (SPICE; `display::session`).
        pub session: RefCell<Option<std::rc::Rc<dyn crate::display_protocol::DisplaySession>>>,
        /// What the session's guest agent offers (None: no session).
        pub agent: Cell<Option<crate::display_protocol::AgentState>>,
        /// The agent had its moment to show up since the display came up.
        pub agent_grace_over: Cell<bool>,
        pub agent_check: RefCell<Option<glib::SourceId>>,
        pub resize_pending: RefCell<Option<glib::SourceId>>,
        /// What the display cannot do, in words (see `GuestDisplay::notes`).
        pub notes: RefCell<String>,
        /// The last text the guest put on the desktop's clipboard.
        pub clipboard_from_guest: RefCell<Option<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for GuestDisplay {
        const NAME: &'static str = "VireoGuestDisplay";
        type Type = super::GuestDisplay;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.set_css_name("vnc-display");
            klass.set_accessible_role(gtk::AccessibleRole::Group);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for GuestDisplay {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    // The user pressed Run on the "not running" page.
                    Signal::builder("run-requested").build(),
                    // The user pressed Reconnect ("disconnected") or Retry ("failed").
                    Signal::builder("reconnect-requested").build(),
                    // The user asked to add a display to a VM without one.
                    Signal::builder("add-device-requested").build(),
                    // The display is up: first frame requested.
                    Signal::builder("connected").build(),
                    // The connection ended or could not be made (state Disconnected or
                    // Failed); the argument is the reason shown to the user.
                    Signal::builder("disconnected")
                        .param_types([String::static_type()])
                        .build(),
                    // The remote desktop changed size (width, height).
                    Signal::builder("desktop-resized")
                        .param_types([i32::static_type(), i32::static_type()])
                        .build(),
                    // What the display cannot do changed (`GuestDisplay::notes`).
                    Signal::builder("notes-changed").build(),
                ]
            })
        }

        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.build_children();
            obj.setup_input();
            obj.setup_actions();
            obj.set_state(ConsoleState::NotRunning, None);
            obj.connect_share_clipboard_notify(|display| {
                if let Some(session) = display.imp().session.borrow().as_ref() {
                    session.set_share_clipboard(display.share_clipboard());
                }
            });
            obj.clipboard().connect_changed(glib::clone!(
                #[weak]
                obj,
                move |clipboard| {
                    // Our own writes (the guest's text) are not offered back.
                    if !clipboard.is_local() {
                        obj.offer_clipboard_to_guest();
                    }
                }
            ));
        }

        fn dispose(&self) {
            self.obj().close();
            if let Some(id) = self.hint_timeout.take() {
                id.remove();
            }
            if let Some(tick) = self.tick.take() {
                tick.remove();
            }
            self.overlay.unparent();
        }
    }

    impl WidgetImpl for GuestDisplay {
        fn size_allocate(&self, width: i32, height: i32, baseline: i32) {
            self.parent_size_allocate(width, height, baseline);
            self.obj().queue_guest_resize();
        }

        fn map(&self) {
            self.parent_map();
            let obj = self.obj();
            if self.canvas.renders_with_cairo() {
                // GTK's cairo renderer needs it to stream frames without page faults;
                // with GL (or no VNC display shown) the process keeps glibc's defaults.
                crate::ffi::malloc::keep_frame_sized_blocks();
            }
            // A framebuffer made before the display had a window is in plain memory:
            // move it to the window's shared memory now, with the whole screen again.
            let plain = self
                .framebuffer
                .borrow()
                .as_ref()
                .is_some_and(|fb| !fb.in_storage());
            if plain && self.canvas.can_share_memory() {
                obj.init_framebuffer(None);
                obj.request_update(false);
                return;
            }
            // Frames are only asked for while shown: catch up on what was missed (an
            // incremental request brings everything changed since the last update).
            obj.request_update(true);
            obj.mark_dirty();
        }

        fn unmap(&self) {
            self.obj().ungrab_keyboard();
            self.parent_unmap();
        }
    }

    impl GuestDisplay {
        fn set_lossy_encoding(&self, lossy: bool) {
            if self.lossy_encoding.replace(lossy) != lossy {
                self.obj().send_encodings();
            }
        }

        fn set_add_device_available(&self, available: bool) {
            self.add_device_available.set(available);
            let obj = self.obj();
            obj.set_state(obj.state(), self.detail.borrow().clone().as_deref());
        }

        fn set_scale_mode(&self, mode: ScaleMode) {
            self.scale_mode.set(mode);
            self.canvas.set_scale_mode(mode);
            let policy = match mode {
                ScaleMode::Fit => gtk::PolicyType::Never,
                ScaleMode::OneToOne => gtk::PolicyType::Automatic,
            };
            self.scroller.set_policy(policy, policy);
        }
    }
}

glib::wrapper! {
    /// A VNC console: draws a remote screen and sends it keys and pointer events.
    pub struct GuestDisplay(ObjectSubclass<imp::GuestDisplay>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for GuestDisplay {
    fn default() -> Self {
        Self::new()
    }
}

impl GuestDisplay {
    pub fn new() -> Self {
        glib::Object::new()
    }

    fn build_children(&self) {
        let imp = self.imp();
        self.set_focusable(true);
        self.set_hexpand(true);
        self.set_vexpand(true);
        imp.scroller.set_child(Some(&imp.canvas));
        imp.scroller
            .set_policy(gtk::PolicyType::Never, gtk::PolicyType::Never);
        imp.overlay.set_child(Some(&imp.scroller));

        imp.hint_label.add_css_class("osd");
        imp.hint_label.add_css_class("toolbar");
        imp.hint.set_child(Some(&imp.hint_label));
        imp.hint.set_halign(gtk::Align::Center);
        imp.hint.set_valign(gtk::Align::Start);
        imp.hint.set_margin_top(12);
        imp.hint.set_can_target(false);
        imp.hint
            .set_transition_type(gtk::RevealerTransitionType::Crossfade);
        imp.overlay.add_overlay(&imp.hint);

        let status = super::display::status::StatusOverlay::new(self);
        imp.overlay.add_overlay(status.widget());
        imp.status.replace(Some(status));
        imp.overlay.set_parent(self);

        self.update_property(&[gtk::accessible::Property::Label(&gettext(
            "Virtual machine display",
        ))]);
        self.add_css_class("vnc-display");
    }

    /// Follows the person's console preferences in `settings` (Vireo's GSettings):
    /// clipboard sharing and scale mode. The VM tab and the benchmark's viewer both
    /// set their display up this way.
    pub fn follow_settings(&self, settings: &gio::Settings) {
        settings
            .bind("console-share-clipboard", self, "share-clipboard")
            .get_only()
            .build();
        settings
            .bind("console-scale", self, "scale-mode")
            .get_only()
            .mapping(|variant, _| {
                let mode = match variant.get::<String>()?.as_str() {
                    "one-to-one" => ScaleMode::OneToOne,
                    _ => ScaleMode::Fit,
                };
                Some(mode.to_value())
            })
            .build();
    }

    /// The action group of the display ("send-keys", "type-clipboard", "screenshot",
    /// "scale-mode" ("fit" or "1:1"), "fullscreen", "release-keyboard"). Insert it as "vnc" on a widget that holds both
    /// the display and the header, so `Self::send_keys_menu` items resolve.
    pub fn action_group(&self) -> gio::SimpleActionGroup {
        self.imp().actions.clone()
    }

    /// Connects through a socket from libvirt's `virDomainOpenGraphicsFD` (or any
    /// connected socket); gvnc takes the descriptor over and closes it with the
    /// connection.
    pub fn open_fd(&self, fd: OwnedFd) {
        // libvirt passes descriptors only over local sockets: the VM runs on this host.
        self.imp().local_server.set(true);
        self.open_socket(fd);
    }

    /// Connects through a socket that reaches a server on another host (an SSH
    /// channel): compressed encodings, as over the network.
    pub fn open_remote_fd(&self, fd: OwnedFd) {
        self.imp().local_server.set(false);
        self.open_socket(fd);
    }

    /// Connects over TCP (the fallback when `virDomainOpenGraphicsFD` is unavailable).
    pub fn open_host(&self, host: &str, port: u16) {
        self.imp().local_server.set(is_loopback_host(host));
        self.open_address(host, port);
    }

    /// Ends the connection, if any, at once and without a "disconnected" signal; the
    /// state is the caller's to set.
    pub fn close(&self) {
        self.drop_connection();
    }

    pub fn is_connected(&self) -> bool {
        self.state() == ConsoleState::Connected
    }

    /// Shows `state` over the display, with `detail` (a reason, or what is happening)
    /// under the title. The tab drives NotRunning, NoDisplay and Reconnecting (and
    /// Failed when libvirt gives no way in); Connecting, Connected, Disconnected and
    /// Failed also follow from the connection by themselves.
    pub fn set_state(&self, state: ConsoleState, detail: Option<&str>) {
        let imp = self.imp();
        imp.state.set(state);
        imp.detail.replace(detail.map(str::to_owned));
        if let Some(status) = imp.status.borrow().as_ref() {
            status.show(state, detail, imp.add_device_available.get());
        }
        if state != ConsoleState::Connected {
            self.ungrab_keyboard();
        }
        self.notify_state();
    }

    /// On the "failed" page, says when the next automatic attempt comes (None: none
    /// is planned).
    pub fn show_retry_at(&self, at: Option<Instant>) {
        if let Some(status) = self.imp().status.borrow().as_ref() {
            status.show_retry_at(at.filter(|_| self.state() == ConsoleState::Failed));
        }
    }

    /// The remote screen as it is now, or None before the first frame.
    pub fn screenshot_texture(&self) -> Option<gdk::Texture> {
        if self.is_session() {
            return self.session_texture();
        }
        let imp = self.imp();
        let framebuffer = imp.framebuffer.borrow();
        framebuffer.as_ref().map(|fb| imp.pool.texture(fb))
    }

    /// The remote desktop's name, once connected.
    pub fn desktop_name(&self) -> Option<String> {
        let connection = self.imp().connection.borrow();
        connection
            .as_ref()
            .and_then(|c| c.name())
            .map(|n| n.to_string())
    }

    pub(crate) fn connection(&self) -> Option<gvnc::Connection> {
        self.imp().connection.borrow().clone()
    }

    pub(crate) fn on_initialized(&self) {
        let Some(connection) = self.connection() else {
            return;
        };
        // Ask for our own format so gvnc copies pixels instead of converting them.
        if connection.set_pixel_format(&local_pixel_format()).is_err() {
            self.fail(&gettext("The display rejected the pixel format"));
            return;
        }
        let imp = self.imp();
        if let Some(id) = imp.handshake.take() {
            id.remove();
        }
        imp.initialized.set(true);
        self.init_framebuffer(None);
        self.send_encodings();
        imp.absolute_pointer.set(connection.is_abs_pointer());
        self.request_update(false);
        self.start_watchdog();
        self.set_state(ConsoleState::Connected, None);
        if self.has_focus() {
            self.grab_keyboard();
        }
        self.emit_by_name::<()>("connected", &[]);
        tracing::info!(
            "VNC display up: {}x{} {:?}",
            connection.width(),
            connection.height(),
            connection.name()
        );
    }

    fn send_encodings(&self) {
        let Some(connection) = self.connection().filter(|c| c.is_initialized()) else {
            return;
        };
        let local = self.imp().local_server.get();
        let encodings: Vec<i32> = encodings(local, self.lossy_encoding())
            .into_iter()
            .map(|e| e.into_glib())
            .collect();
        if connection.set_encodings(&encodings).is_err() {
            self.fail(&gettext("The display rejected the encodings"));
        }
    }

    /// (Re)makes the framebuffer at the connection's size, converting from `remote`
    /// (or the connection's current format).
    pub(crate) fn init_framebuffer(&self, remote: Option<&gvnc::PixelFormat>) {
        let Some(connection) = self.connection() else {
            return;
        };
        let Some(format) = remote.cloned().or_else(|| connection.pixel_format()) else {
            return;
        };
        let (w, h) = (connection.width().max(1), connection.height().max(1));
        let storage = self.imp().canvas.shared_image(w, h);
        let framebuffer = match Framebuffer::new(w as u16, h as u16, &format, storage) {
            Ok(framebuffer) => framebuffer,
            Err(err) => {
                tracing::warn!("no framebuffer of {w}x{h}: {err}");
                self.fail(&gettext("The display could not be set up"));
                return;
            }
        };
        if connection.set_framebuffer(framebuffer.gvnc()).is_err() {
            self.fail(&gettext("The display could not be set up"));
            return;
        }
        self.imp().framebuffer.replace(Some(framebuffer));
        self.mark_dirty();
    }

    pub(crate) fn on_desktop_resize(&self, width: i32, height: i32) {
        self.init_framebuffer(None);
        self.request_update(false);
        self.emit_by_name::<()>("desktop-resized", &[&width, &height]);
    }

    pub(crate) fn set_remote_cursor(&self, cursor: Option<&gvnc::Cursor>) {
        let gdk_cursor = cursor.filter(|c| c.width() > 0 && c.height() > 0).map(|c| {
            let (w, h) = (c.width() as i32, c.height() as i32);
            let bytes = glib::Bytes::from(c.data());
            let texture =
                gdk::MemoryTexture::new(w, h, gdk::MemoryFormat::R8g8b8a8, &bytes, w as usize * 4);
            gdk::Cursor::from_texture(&texture, c.hotx() as i32, c.hoty() as i32, None)
        });
        self.imp().canvas.set_cursor(gdk_cursor.as_ref());
        // The update that carried the cursor may hold no pixels: keep asking.
        self.mark_dirty();
    }
}
