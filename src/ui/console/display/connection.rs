//! The life of `GuestDisplay`'s gvnc connection: opening it, wiring gvnc's signals to
//! the widget, the handshake deadline, and ending it with a reason.
//!
//! gvnc reports everything (authentication, "initialized", errors, "disconnected")
//! from idle callbacks, which a busy main loop runs late or, while something redraws
//! without pause, never (see `crate::ui::console::spinner`). So the widget does not
//! wait on gvnc to learn that a handshake went nowhere: past a deadline it ends the
//! connection itself, tells the server by shutting the socket down, and says why at
//! once, with Retry.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use super::status::ConsoleState;
use crate::i18n::ngettext_f;
use crate::ui::console::GuestDisplay;

/// How long a server on this machine may take from the socket to a working display.
const LOCAL_HANDSHAKE: Duration = Duration::from_secs(5);
/// The same for a remote server (a slow link, a busy host).
const REMOTE_HANDSHAKE: Duration = Duration::from_secs(15);

impl GuestDisplay {
    /// Opens the display through `fd`, a connected socket (see `GuestDisplay::open_fd`).
    pub(crate) fn open_socket(&self, fd: OwnedFd) {
        let connection = self.new_connection();
        // A second handle on the socket, to shut it down for good even if gvnc never
        // gets to start (it wraps the descriptor only once its coroutine runs).
        match fd.try_clone() {
            Ok(guard) => {
                self.imp().socket.replace(Some(UnixStream::from(guard)));
            }
            Err(err) => tracing::warn!("no second handle on the display socket: {err}"),
        }
        if let Err(err) = crate::ffi::gvnc::open_fd(&connection, fd) {
            self.fail_to_open(&err.to_string());
        }
    }

    /// Opens the display over TCP (see `GuestDisplay::open_host`).
    pub(crate) fn open_address(&self, host: &str, port: u16) {
        let connection = self.new_connection();
        if let Err(err) = connection.open_host(host, &port.to_string()) {
            self.fail_to_open(&err.to_string());
        }
    }

    /// Ends the connection now, quietly: no "disconnected" follows and the state stays
    /// what it is (the caller sets the next one).
    pub(crate) fn drop_connection(&self) {
        let imp = self.imp();
        self.drop_session();
        if let Some(old) = imp.connection.take() {
            // Its late signals must not reach us.
            self.unwire(&old);
            if old.is_open() {
                old.shutdown();
            }
        }
        if let Some(socket) = imp.socket.take() {
            // The server sees the end even if gvnc never took the descriptor over.
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
        for source in [imp.watchdog.take(), imp.handshake.take()]
            .into_iter()
            .flatten()
        {
            source.remove();
        }
        imp.initialized.set(false);
    }

    /// Ends the connection and says why: `Failed` when it never came up, `Disconnected`
    /// when it had; then emits "disconnected" with the reason.
    pub(crate) fn end_connection(&self, reason: Option<String>) {
        let imp = self.imp();
        let was_up = imp.initialized.get();
        let protocol = if self.is_session() { "SPICE" } else { "VNC" };
        self.drop_connection();
        let reason = reason
            .or_else(|| imp.disconnect_reason.take())
            .unwrap_or_else(|| {
                if was_up {
                    gettext("The display connection was closed")
                } else {
                    gettext("The display closed the connection before it was ready")
                }
            });
        imp.disconnect_reason.replace(None);
        let state = if was_up {
            ConsoleState::Disconnected
        } else {
            ConsoleState::Failed
        };
        tracing::info!("{protocol} display {state:?}: {reason}");
        self.set_state(state, Some(&reason));
        self.emit_by_name::<()>("disconnected", &[&reason]);
    }

    /// Ends the connection with `reason` (an error found on our side).
    pub(crate) fn fail(&self, reason: &str) {
        self.end_connection(Some(reason.to_string()));
    }

    fn fail_to_open(&self, message: &str) {
        tracing::warn!("VNC open failed: {message}");
        self.fail(&gettext("Could not open the display connection"));
    }

    /// Drops any previous connection and makes a new one wired to this widget.
    fn new_connection(&self) -> gvnc::Connection {
        let imp = self.imp();
        self.drop_connection();
        let connection = gvnc::Connection::new();
        let _ = connection.set_shared(true);
        self.wire(&connection);
        imp.connection.replace(Some(connection.clone()));
        self.reset_for_new_connection(imp.local_server.get());
        self.start_handshake_deadline();
        connection
    }

    /// Forgets the last connection's leftovers and shows that a new one is coming,
    /// whichever protocol it speaks; `local`: the server runs on this machine.
    pub(crate) fn reset_for_new_connection(&self, local: bool) {
        let imp = self.imp();
        imp.local_server.set(local);
        imp.disconnect_reason.replace(None);
        imp.button_mask.set(0);
        imp.last_pointer.set(None);
        imp.opened_at.set(Some(Instant::now()));
        imp.first_frame_pending.set(true);
        imp.agent_grace_over.set(false);
        // An automatic attempt after a failure or a drop keeps its page (no flicker).
        if !matches!(
            self.state(),
            ConsoleState::Reconnecting | ConsoleState::Failed
        ) {
            self.set_state(ConsoleState::Connecting, None);
        }
    }

    /// Gives the handshake until its deadline to reach "initialized".
    pub(crate) fn start_handshake_deadline(&self) {
        let imp = self.imp();
        if let Some(old) = imp.handshake.take() {
            old.remove();
        }
        let limit = if imp.local_server.get() {
            LOCAL_HANDSHAKE
        } else {
            REMOTE_HANDSHAKE
        };
        let this = self.downgrade();
        // Default priority: it fires even when redraws keep idle callbacks waiting.
        let id = glib::timeout_add_local_once(limit, move || {
            if let Some(display) = this.upgrade() {
                display.imp().handshake.take();
                display.on_handshake_overdue(limit);
            }
        });
        imp.handshake.replace(Some(id));
    }

    /// No deadline while the person types a password.
    pub(crate) fn pause_handshake_deadline(&self) {
        if let Some(id) = self.imp().handshake.take() {
            id.remove();
        }
    }

    fn on_handshake_overdue(&self, limit: Duration) {
        let seconds = limit.as_secs() as u32;
        let silence = ngettext_f(
            "The display did not answer within {n} second.",
            "The display did not answer within {n} seconds.",
            seconds,
            &[("n", &seconds.to_string())],
        );
        // What gvnc said so far, if anything, is the better reason.
        let reason = self.imp().disconnect_reason.take().unwrap_or(silence);
        tracing::warn!("VNC handshake overdue after {limit:?}: {reason}");
        self.end_connection(Some(reason));
    }

    fn on_disconnected(&self) {
        self.end_connection(None);
    }

    fn unwire(&self, connection: &gvnc::Connection) {
        for id in self.imp().handlers.take() {
            connection.disconnect(id);
        }
    }

    fn wire(&self, c: &gvnc::Connection) {
        let this = self.downgrade();
        let mut ids = Vec::new();
        macro_rules! on {
            ($connect:ident, |$d:ident $(, $arg:ident)*| $body:expr) => {{
                let this = this.clone();
                ids.push(c.$connect(move |_c $(, $arg)*| {
                    if let Some($d) = this.upgrade() {
                        $body
                    }
                }));
            }};
        }
        on!(connect_vnc_auth_choose_type, |d, types| d
            .choose_auth(types));
        on!(connect_vnc_auth_choose_subtype, |d, kind, _subtypes| {
            d.fail(&gettext(
                "The display asks for an unsupported security type",
            ));
            tracing::warn!("VNC auth subtype for type {kind} unsupported");
        });
        on!(connect_vnc_auth_credential, |d, creds| d
            .provide_credentials(creds));
        on!(connect_vnc_auth_failure, |d, reason| {
            d.imp().password.replace(None);
            d.imp().disconnect_reason.replace(Some(format!(
                "{}: {reason}",
                gettext("Authentication failed")
            )));
        });
        on!(connect_vnc_auth_unsupported, |d, kind| {
            tracing::warn!("VNC auth type {kind} unsupported");
            d.imp().disconnect_reason.replace(Some(gettext(
                "The display asks for an unsupported security type",
            )));
        });
        on!(connect_vnc_error, |d, message| {
            tracing::warn!("VNC error: {message}");
            if d.imp().disconnect_reason.borrow().is_none() {
                d.imp().disconnect_reason.replace(Some(message.to_string()));
            }
        });
        on!(connect_vnc_initialized, |d| d.on_initialized());
        on!(connect_vnc_framebuffer_update, |d, x, y, w, h| {
            tracing::trace!("update {x},{y} {w}x{h}");
            d.on_rect(x, y, w, h);
        });
        on!(connect_vnc_desktop_resize, |d, w, h| d
            .on_desktop_resize(w, h));
        on!(connect_vnc_pixel_format_changed, |d, format| d
            .init_framebuffer(Some(format)));
        on!(connect_vnc_cursor_changed, |d, cursor| d
            .set_remote_cursor(cursor));
        on!(connect_vnc_pointer_mode_changed, |d, absolute| {
            d.imp().absolute_pointer.set(absolute);
            d.imp().last_pointer.set(None);
        });
        on!(connect_vnc_server_cut_text, |d, text| {
            if d.share_clipboard() {
                d.clipboard().set_text(text);
            }
        });
        on!(connect_vnc_bell, |d| d.error_bell());
        on!(connect_vnc_disconnected, |d| d.on_disconnected());
        self.imp().handlers.replace(ids);
    }
}
