//! `GuestDisplay` over a protocol session ([`DisplaySession`]): SPICE today. Everything
//! else of the widget (canvas and scaling, keyboard grab and scancodes, pointer, Send
//! Key menu, screenshot, fullscreen, the states drawn over it) is the VNC display's
//! own and serves both; this file opens the session, turns its events into the
//! widget's states and frames, and is the seam where keys and the pointer leave by
//! gvnc or by the session.
//!
//! What SPICE adds needs the guest agent (spice-vdagent): the clipboard both ways and
//! the guest display following the widget's size. Without it, or where the agent
//! cannot do one of them, the widget says what is missing in its `notes` (the VM tab
//! shows them behind an information button) instead of failing quietly.

use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::time::Duration;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gdk, glib};

use super::status::ConsoleState;
use crate::display_protocol::spice::{SessionOptions, SocketSource, SpiceSession};
use crate::display_protocol::{
    AgentState, Button, CursorImage, DisplaySession, PointerMode, SessionEvent, Wheel,
};
use crate::model::is_loopback_host;
use crate::ui::console::GuestDisplay;

/// How long the agent may take to say hello after the display is up before the
/// widget says it is missing (spice-vdagent starts late in a booting guest).
const AGENT_GRACE: Duration = Duration::from_secs(5);
/// Size requests to the guest wait for the widget to stop changing size this long.
const RESIZE_SETTLE: Duration = Duration::from_millis(300);

impl GuestDisplay {
    /// Connects to a SPICE server through `fd`, a socket from libvirt's
    /// `virDomainOpenGraphicsFD`; each further channel (display, inputs, cursor) gets
    /// its own socket from `more`.
    pub fn open_spice_fd(&self, fd: OwnedFd, more: SocketSource) {
        let session = self.new_session(true);
        if let Err(err) = session.open_socket(fd, more) {
            self.fail(&err.to_string());
        }
    }

    /// Connects to a SPICE server over TCP (a remote host that gives no socket).
    pub fn open_spice_host(&self, host: &str, port: u16) {
        let session = self.new_session(is_loopback_host(host));
        if let Err(err) = session.open_address(host, port, self.password().as_deref()) {
            self.fail(&err.to_string());
        }
    }

    /// True while the display shows a protocol session (SPICE) rather than gvnc.
    pub fn is_session(&self) -> bool {
        self.imp().session.borrow().is_some()
    }

    /// Drops any previous connection and makes a session wired to this widget.
    fn new_session(&self, local: bool) -> Rc<SpiceSession> {
        let imp = self.imp();
        self.drop_connection();
        self.reset_for_new_connection(local);
        let session = Rc::new(SpiceSession::new(SessionOptions {
            share_clipboard: self.share_clipboard(),
            local,
        }));
        let weak = self.downgrade();
        // Only the current session speaks to the widget (an old one may still be
        // winding down while its successor connects).
        let id = Rc::as_ptr(&session) as *const ();
        session.connect_event(Box::new(move |event| {
            let Some(display) = weak.upgrade() else {
                return;
            };
            let current = display
                .imp()
                .session
                .borrow()
                .as_ref()
                .map(|s| Rc::as_ptr(s) as *const ());
            if current == Some(id) {
                display.on_session_event(event);
            }
        }));
        imp.session
            .replace(Some(session.clone() as Rc<dyn DisplaySession>));
        imp.agent.set(Some(AgentState::default()));
        self.update_notes();
        self.start_handshake_deadline();
        session
    }

    /// Ends the session quietly (see `drop_connection`).
    pub(crate) fn drop_session(&self) {
        let imp = self.imp();
        for source in [imp.agent_check.take(), imp.resize_pending.take()]
            .into_iter()
            .flatten()
        {
            source.remove();
        }
        // Dropped, not closed: a session that goes away says nothing more, where
        // `close` would report `Disconnected` to a widget that has moved on.
        drop(imp.session.take());
        if imp.agent.take().is_some() {
            self.update_notes();
        }
    }

    fn session(&self) -> Option<Rc<dyn DisplaySession>> {
        self.imp().session.borrow().clone()
    }

    fn on_session_event(&self, event: &SessionEvent) {
        let imp = self.imp();
        match event {
            SessionEvent::Connected => self.on_session_up(),
            SessionEvent::SurfaceCreated { width, height } => {
                tracing::info!("SPICE display surface {width}x{height}");
                self.mark_dirty();
                self.emit_by_name::<()>("desktop-resized", &[width, height]);
            }
            // A new surface follows; the last picture stays until then (copied out of
            // the session's memory, which goes now).
            SessionEvent::SurfaceDestroyed => imp.canvas.keep_own_copy(),
            SessionEvent::Damage(r) => {
                imp.last_rect.set(Some(std::time::Instant::now()));
                self.mark_damaged(r.x, r.y, r.width, r.height);
            }
            SessionEvent::Cursor(image) => self.set_session_cursor(image.as_ref()),
            SessionEvent::PointerMode(mode) => {
                imp.absolute_pointer.set(*mode == PointerMode::Absolute);
                imp.last_pointer.set(None);
            }
            SessionEvent::Agent(state) => {
                imp.agent.set(Some(*state));
                self.update_notes();
                self.queue_guest_resize();
            }
            SessionEvent::GuestClipboard(text) => {
                if self.share_clipboard() {
                    imp.clipboard_from_guest.replace(Some(text.clone()));
                    self.clipboard().set_text(text);
                }
            }
            SessionEvent::Disconnected(reason) => self.end_connection(Some(reason.clone())),
        }
    }

    fn on_session_up(&self) {
        let imp = self.imp();
        if let Some(id) = imp.handshake.take() {
            id.remove();
        }
        imp.initialized.set(true);
        if let Some(session) = self.session() {
            imp.absolute_pointer
                .set(session.pointer_mode() == PointerMode::Absolute);
        }
        self.set_state(ConsoleState::Connected, None);
        if self.has_focus() {
            self.grab_keyboard();
        }
        self.emit_by_name::<()>("connected", &[]);
        tracing::info!("SPICE display up");
        // The agent gets a moment to say hello before the notes call it missing.
        let weak = self.downgrade();
        let id = glib::timeout_add_local_once(AGENT_GRACE, move || {
            if let Some(display) = weak.upgrade() {
                display.imp().agent_check.take();
                display.imp().agent_grace_over.set(true);
                display.update_notes();
            }
        });
        if let Some(old) = imp.agent_check.replace(Some(id)) {
            old.remove();
        }
    }

    fn set_session_cursor(&self, image: Option<&CursorImage>) {
        let cursor = match image {
            Some(c) => {
                let bytes = glib::Bytes::from(&c.bgra[..]);
                let texture = gdk::MemoryTexture::new(
                    c.width,
                    c.height,
                    gdk::MemoryFormat::B8g8r8a8,
                    &bytes,
                    c.width as usize * 4,
                );
                gdk::Cursor::from_texture(&texture, c.hot_x, c.hot_y, None)
            }
            // The guest hides its pointer (or draws it itself).
            None => gdk::Cursor::from_name("none", None)
                .unwrap_or_else(|| gdk::Cursor::from_texture(&transparent_pixel(), 0, 0, None)),
        };
        self.imp().canvas.set_cursor(Some(&cursor));
    }

    /// The session's screen as a texture, or None before its first surface.
    pub(crate) fn session_texture(&self) -> Option<gdk::Texture> {
        let session = self.session()?;
        let pool = &self.imp().pool;
        let mut texture = None;
        session.with_pixels(&mut |p| {
            texture = Some(pool.texture_of(p.width, p.height, p.stride, p.data));
        })?;
        texture
    }

    /// What the display cannot do for want of the guest agent, in words; empty for
    /// VNC and while a SPICE guest's agent does everything.
    pub fn notes(&self) -> String {
        self.imp().notes.borrow().clone()
    }

    /// The notes change: the VM tab updates its information button.
    pub fn connect_notes_changed<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "notes-changed",
            false,
            glib::closure_local!(move |display: &Self| f(display)),
        )
    }

    fn update_notes(&self) {
        let imp = self.imp();
        let mut lines = Vec::new();
        if let Some(agent) = imp.agent.get() {
            let grace_over = imp.agent_grace_over.get();
            if !agent.connected && grace_over {
                lines.push(gettext(
                    "The guest agent (spice-vdagent) is not running in the virtual machine: the clipboard is not shared and the guest’s screen does not follow the window size. Install and start spice-vdagent in the guest to have both.",
                ));
            } else if agent.connected {
                if !agent.can_share_clipboard {
                    lines.push(gettext("The guest agent cannot share the clipboard."));
                }
                if !agent.can_resize {
                    lines.push(gettext(
                        "The guest agent cannot change the guest’s screen size.",
                    ));
                }
            }
            lines.push(gettext(
                "Sound and USB redirection are not supported yet for SPICE displays.",
            ));
        }
        let notes = lines.join("\n\n");
        if *imp.notes.borrow() != notes {
            imp.notes.replace(notes);
            self.update_property(&[gtk::accessible::Property::Description(&self.notes())]);
            self.emit_by_name::<()>("notes-changed", &[]);
        }
    }

    /// After the widget changed size, asks a guest whose agent can do it to use the
    /// widget's size in device pixels (once the size has settled; only in Fit mode,
    /// where the picture follows the window).
    pub(crate) fn queue_guest_resize(&self) {
        let imp = self.imp();
        let can = imp.agent.get().is_some_and(|a| a.can_resize)
            && self.scale_mode() == super::canvas::ScaleMode::Fit;
        if !can || !imp.initialized.get() {
            return;
        }
        let weak = self.downgrade();
        let id = glib::timeout_add_local_once(RESIZE_SETTLE, move || {
            let Some(display) = weak.upgrade() else {
                return;
            };
            display.imp().resize_pending.take();
            let scale = display.scale_factor().max(1);
            let (w, h) = (display.width() * scale, display.height() * scale);
            if let (Some(session), true) = (display.session(), w > 0 && h > 0) {
                if let Err(err) = session.resize_guest(w as u32, h as u32) {
                    tracing::info!("guest display not resized: {err}");
                }
            }
        });
        if let Some(old) = imp.resize_pending.replace(Some(id)) {
            old.remove();
        }
    }

    /// The desktop clipboard changed: offer its text to the guest (SPICE with the
    /// agent; VNC servers get the text from gvnc when they ask).
    pub(crate) fn offer_clipboard_to_guest(&self) {
        let imp = self.imp();
        if !self.share_clipboard() || !imp.initialized.get() || self.session().is_none() {
            return;
        }
        let weak = self.downgrade();
        self.clipboard()
            .read_text_async(None::<&gtk::gio::Cancellable>, move |result| {
                let (Some(display), Ok(Some(text))) = (weak.upgrade(), result) else {
                    return;
                };
                // Our own copy of the guest's text coming back: not news to it.
                if display.imp().clipboard_from_guest.borrow().as_deref() == Some(text.as_str()) {
                    return;
                }
                if let Some(session) = display.session() {
                    if let Err(err) = session.send_clipboard(&text) {
                        tracing::info!("clipboard not offered to the guest: {err}");
                    }
                }
            });
    }

    // The seam: what the shared input code sends, by whichever protocol is up.

    /// True when keys and the pointer can reach the guest now.
    pub(crate) fn remote_ready(&self) -> bool {
        match self.session() {
            Some(_) => self.imp().initialized.get(),
            None => self.connection().is_some_and(|c| c.is_initialized()),
        }
    }

    /// A key by its keysym and its qnum scancode.
    pub(crate) fn send_key(&self, down: bool, keyval: u32, scancode: u16) {
        tracing::trace!("key {keyval:#x} (qnum {scancode:#x}) down: {down}");
        if let Some(session) = self.session() {
            session.key(down, keyval, scancode);
        } else if let Some(connection) = self.connection() {
            let _ = connection.key_event(down, keyval, scancode);
        }
    }

    /// The pointer to a framebuffer pixel (absolute) or by an offset (relative), for
    /// a session. Returns false when no session is up (gvnc's path then runs).
    pub(crate) fn session_pointer(&self, at: (u16, u16), motion: (i32, i32)) -> bool {
        let Some(session) = self.session() else {
            return false;
        };
        if self.imp().absolute_pointer.get() {
            session.pointer_position(at.0.into(), at.1.into());
        } else if motion != (0, 0) {
            session.pointer_motion(motion.0, motion.1);
        }
        true
    }

    /// A GDK button (1 left, 2 middle, 3 right) for a session; false when none is up.
    pub(crate) fn session_button(&self, button: u32, down: bool) -> bool {
        let Some(session) = self.session() else {
            return false;
        };
        let button = match button {
            1 => Button::Left,
            2 => Button::Middle,
            3 => Button::Right,
            _ => return true,
        };
        session.button(button, down);
        true
    }

    /// Wheel steps for a session; false when none is up.
    pub(crate) fn session_scroll(&self, dx: f64, dy: f64) -> bool {
        let Some(session) = self.session() else {
            return false;
        };
        let steps = |d: f64| (d.abs().round() as u32).max(1);
        for (delta, less, more) in [
            (dy, Wheel::Up, Wheel::Down),
            (dx, Wheel::Left, Wheel::Right),
        ] {
            if delta != 0.0 {
                let step = if delta < 0.0 { less } else { more };
                for _ in 0..steps(delta) {
                    session.wheel(step);
                }
            }
        }
        true
    }
}

/// A 1x1 transparent texture: an invisible pointer where the theme has no "none".
fn transparent_pixel() -> gdk::Texture {
    gdk::MemoryTexture::new(
        1,
        1,
        gdk::MemoryFormat::B8g8r8a8,
        &glib::Bytes::from_static(&[0, 0, 0, 0]),
        4,
    )
    .upcast()
}
