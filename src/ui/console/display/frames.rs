//! The frame pipeline of `GuestDisplay`: damage from gvnc or a session marks the display
//! dirty, the frame clock turns it into one drawn frame per tick, and update requests keep the
//! server sending while the display is shown (a watchdog asks again if it goes quiet).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use super::canvas::Frame;
use crate::ui::console::GuestDisplay;

/// Ask again for an update when none was asked for this long (a server may answer a
/// request with a message that carries no framebuffer rectangle).
const WATCHDOG: std::time::Duration = std::time::Duration::from_millis(1000);

impl GuestDisplay {
    /// Notes that anything on the screen may have changed; the next frame-clock tick
    /// shows it.
    pub(crate) fn mark_dirty(&self) {
        self.imp().canvas.damage_all();
        self.schedule_frame();
    }

    /// Notes that these pixels of the remote screen changed; the next frame-clock
    /// tick shows them (under cairo, redrawing only what they touch).
    pub(crate) fn mark_damaged(&self, x: i32, y: i32, width: i32, height: i32) {
        self.imp().canvas.damage(x, y, width, height);
        self.schedule_frame();
    }

    fn schedule_frame(&self) {
        let imp = self.imp();
        imp.dirty.set(true);
        imp.idle_ticks.set(0);
        if imp.tick.borrow().is_some() {
            return;
        }
        let id = self.add_tick_callback(|display, _clock| {
            display.on_tick();
            glib::ControlFlow::Continue
        });
        imp.tick.replace(Some(id));
    }

    pub(crate) fn on_tick(&self) {
        let imp = self.imp();
        if !imp.dirty.get() {
            // Idle for a second: stop waking up every frame.
            let idle = imp.idle_ticks.get() + 1;
            imp.idle_ticks.set(idle);
            if idle > 60 {
                if let Some(tick) = imp.tick.take() {
                    tick.remove();
                }
            }
            return;
        }
        imp.dirty.set(false);
        let started = std::time::Instant::now();
        // Under cairo the canvas draws straight from the memory the screen is decoded
        // into (ours for VNC, the protocol library's for a session): no copy at all.
        // GL needs a texture: one copy of the whole screen.
        let frame = match imp.canvas.renders_with_cairo() {
            true => self.screen_image().map(Frame::Surface),
            false => None,
        }
        .or_else(|| self.screenshot_texture().map(Frame::Texture));
        tracing::trace!("frame built in {:?}", started.elapsed());
        if let Some(frame) = frame {
            if imp.first_frame_pending.replace(false) {
                let (w, h) = frame.size();
                let since = imp.opened_at.get().map(|t| t.elapsed()).unwrap_or_default();
                // Tests and the first-frame figure read this line.
                let protocol = if self.is_session() { "SPICE" } else { "VNC" };
                tracing::info!(
                    "{protocol} first frame: {w}x{h}, {} ms after opening",
                    since.as_millis()
                );
            }
            imp.canvas.set_frame(Some(frame));
            imp.frames_shown.set(imp.frames_shown.get() + 1);
        }
    }

    /// The remote screen as a cairo image over the memory it is decoded into, or None
    /// before the first frame.
    fn screen_image(&self) -> Option<gtk::cairo::ImageSurface> {
        let imp = self.imp();
        if let Some(session) = imp.session.borrow().as_ref() {
            return session.image();
        }
        let framebuffer = imp.framebuffer.borrow();
        framebuffer.as_ref().map(|fb| fb.surface().clone())
    }

    /// A rectangle arrived: the server is answering, so ask for the next update at once
    /// (as gtk-vnc does). Servers merge pending requests, and a request that is already
    /// pending keeps the server sending as soon as it has changes, while we decode. A
    /// hidden display stops asking: it catches up when mapped again.
    pub(crate) fn on_rect(&self, x: i32, y: i32, width: i32, height: i32) {
        let imp = self.imp();
        imp.last_rect.set(Some(std::time::Instant::now()));
        self.mark_damaged(x, y, width, height);
        if self.is_mapped() {
            self.request_update(true);
        }
    }

    /// Asks the server for the next update of the whole screen.
    pub(crate) fn request_update(&self, incremental: bool) {
        let Some(connection) = self.connection() else {
            return;
        };
        if !connection.is_initialized() {
            return;
        }
        let (w, h) = (connection.width(), connection.height());
        tracing::trace!("update request (incremental: {incremental})");
        let _ = connection.framebuffer_update_request(incremental, 0, 0, w as u16, h as u16);
        self.imp().last_request.set(Some(std::time::Instant::now()));
    }

    pub(crate) fn start_watchdog(&self) {
        let imp = self.imp();
        if let Some(id) = imp.watchdog.take() {
            id.remove();
        }
        let this = self.downgrade();
        let id = glib::timeout_add_local(WATCHDOG, move || {
            let Some(display) = this.upgrade() else {
                return glib::ControlFlow::Break;
            };
            let stale = display
                .imp()
                .last_request
                .get()
                .map_or(true, |t| t.elapsed() >= WATCHDOG);
            if stale && display.is_mapped() {
                display.request_update(true);
            }
            glib::ControlFlow::Continue
        });
        imp.watchdog.replace(Some(id));
    }
}
