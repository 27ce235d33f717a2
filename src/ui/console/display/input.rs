//! Keyboard and pointer input of `GuestDisplay`: keys go to the guest with their
//! scancodes while the display holds the keyboard grab (desktop shortcuts inhibited,
//! Ctrl+Alt releases it, a hint says so); pointer in absolute or relative mode, buttons
//! and the scroll wheel (buttons 4 to 7).

use std::time::Duration;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gdk, glib};

use super::keymap::hardware_keycode_to_qnum;
use crate::ui::console::GuestDisplay;

/// How long the grab hint stays on screen.
const HINT_TIME: Duration = Duration::from_secs(4);
/// Relative pointer events are offsets from this origin (gtk-vnc's convention).
const RELATIVE_ORIGIN: i32 = 0x7fff;

fn is_ctrl(key: gdk::Key) -> bool {
    matches!(key, gdk::Key::Control_L | gdk::Key::Control_R)
}

fn is_alt(key: gdk::Key) -> bool {
    matches!(
        key,
        gdk::Key::Alt_L | gdk::Key::Alt_R | gdk::Key::Meta_L | gdk::Key::Meta_R
    )
}

/// VNC button mask bit of a GDK button (1 left, 2 middle, 3 right).
fn button_bit(button: u32) -> u8 {
    match button {
        1..=3 => 1 << (button - 1),
        _ => 0,
    }
}

impl GuestDisplay {
    pub(crate) fn setup_input(&self) {
        let keys = gtk::EventControllerKey::new();
        // Capture: the guest gets its keys before any accelerator of the window.
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(glib::clone!(
            #[weak(rename_to = display)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, key, keycode, state| display.on_key(true, key, keycode, state)
        ));
        keys.connect_key_released(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |_, key, keycode, state| {
                display.on_key(false, key, keycode, state);
            }
        ));
        self.add_controller(keys);

        let focus = gtk::EventControllerFocus::new();
        focus.connect_enter(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |_| display.grab_keyboard()
        ));
        focus.connect_leave(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |_| display.ungrab_keyboard()
        ));
        self.add_controller(focus);

        let canvas = self.imp().canvas.clone();
        let motion = gtk::EventControllerMotion::new();
        motion.connect_motion(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |_, x, y| display.on_motion(x, y)
        ));
        motion.connect_leave(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |_| display.imp().last_pointer.set(None)
        ));
        canvas.add_controller(motion);

        let click = gtk::GestureClick::builder().button(0).build();
        click.connect_pressed(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |gesture, _, x, y| {
                if !display.has_focus() {
                    display.grab_focus();
                } else if !display.keyboard_grabbed() {
                    display.grab_keyboard();
                }
                display.on_button(gesture.current_button(), true, x, y);
            }
        ));
        click.connect_released(glib::clone!(
            #[weak(rename_to = display)]
            self,
            move |gesture, _, x, y| display.on_button(gesture.current_button(), false, x, y)
        ));
        canvas.add_controller(click);

        let scroll = gtk::EventControllerScroll::new(
            gtk::EventControllerScrollFlags::BOTH_AXES | gtk::EventControllerScrollFlags::DISCRETE,
        );
        scroll.connect_scroll(glib::clone!(
            #[weak(rename_to = display)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, dx, dy| {
                display.on_scroll(dx, dy);
                glib::Propagation::Stop
            }
        ));
        canvas.add_controller(scroll);
    }

    /// Takes the keyboard: keys go to the guest, desktop shortcuts are inhibited.
    pub fn grab_keyboard(&self) {
        if self.keyboard_grabbed() || !self.is_connected() {
            return;
        }
        if let Some(toplevel) = self
            .native()
            .and_then(|n| n.surface())
            .and_downcast::<gdk::Toplevel>()
        {
            toplevel.inhibit_system_shortcuts(None::<&gdk::Event>);
        }
        self.imp().keyboard_grabbed.set(true);
        self.notify_keyboard_grabbed();
        self.show_hint(&gettext("Press Ctrl+Alt to release the keyboard"));
    }

    /// Gives the keyboard back to the desktop, releasing keys held in the guest.
    pub fn ungrab_keyboard(&self) {
        if !self.keyboard_grabbed() {
            return;
        }
        self.release_keys();
        if let Some(toplevel) = self
            .native()
            .and_then(|n| n.surface())
            .and_downcast::<gdk::Toplevel>()
        {
            toplevel.restore_system_shortcuts();
        }
        self.imp().keyboard_grabbed.set(false);
        self.notify_keyboard_grabbed();
        if self.has_focus() {
            self.show_hint(&gettext("Click the display to send it the keyboard"));
        }
    }

    fn show_hint(&self, text: &str) {
        let imp = self.imp();
        imp.hint_label.set_label(text);
        imp.hint.set_reveal_child(true);
        if let Some(id) = imp.hint_timeout.take() {
            id.remove();
        }
        let weak = self.downgrade();
        let id = glib::timeout_add_local_once(HINT_TIME, move || {
            if let Some(display) = weak.upgrade() {
                display.imp().hint_timeout.take();
                display.imp().hint.set_reveal_child(false);
            }
        });
        imp.hint_timeout.replace(Some(id));
    }

    /// Sends a key up for every key the guest believes is held.
    fn release_keys(&self) {
        let held: Vec<(u32, u16)> = self.imp().pressed_keys.take();
        for (keyval, scancode) in held.into_iter().rev() {
            self.send_key(false, keyval, scancode);
        }
    }

    fn on_key(
        &self,
        down: bool,
        key: gdk::Key,
        keycode: u32,
        state: gdk::ModifierType,
    ) -> glib::Propagation {
        if !self.keyboard_grabbed() {
            return glib::Propagation::Proceed;
        }
        if self.connection().is_none() && !self.is_session() {
            return glib::Propagation::Proceed;
        }
        // Ctrl+Alt, pressed in either order, releases the grab.
        if down
            && ((is_ctrl(key) && state.contains(gdk::ModifierType::ALT_MASK))
                || (is_alt(key) && state.contains(gdk::ModifierType::CONTROL_MASK)))
        {
            self.ungrab_keyboard();
            return glib::Propagation::Stop;
        }
        let keyval = key.into_glib();
        let scancode = hardware_keycode_to_qnum(keycode);
        let imp = self.imp();
        if down {
            imp.pressed_keys.borrow_mut().push((keyval, scancode));
        } else {
            let mut held = imp.pressed_keys.borrow_mut();
            let found = held
                .iter()
                .position(|&(k, s)| (scancode != 0 && s == scancode) || k == keyval);
            match found {
                Some(i) => {
                    held.remove(i);
                }
                // A key up with no key down (pressed before the grab): not ours.
                None => return glib::Propagation::Stop,
            }
        }
        self.send_key(down, keyval, scancode);
        glib::Propagation::Stop
    }

    fn send_pointer(&self, x: f64, y: f64) {
        let imp = self.imp();
        if !self.remote_ready() {
            return;
        }
        let Some((fx, fy)) = imp.canvas.to_framebuffer(x, y) else {
            return;
        };
        if self.is_session() {
            let absolute = imp.absolute_pointer.get();
            let last = imp.last_pointer.replace(Some((fx as f64, fy as f64)));
            let motion = match (absolute, last) {
                (false, Some((lx, ly))) => (fx as i32 - lx as i32, fy as i32 - ly as i32),
                _ => (0, 0),
            };
            self.session_pointer((fx, fy), motion);
            return;
        }
        let Some(connection) = self.connection() else {
            return;
        };
        let mask = imp.button_mask.get();
        if imp.absolute_pointer.get() {
            imp.last_pointer.set(Some((fx as f64, fy as f64)));
            let _ = connection.pointer_event(mask, fx, fy);
            return;
        }
        // Relative mode: send the motion since the last event around the origin.
        let (dx, dy) = match imp.last_pointer.replace(Some((fx as f64, fy as f64))) {
            Some((lx, ly)) => (fx as f64 - lx, fy as f64 - ly),
            None => (0.0, 0.0),
        };
        let clamp = |d: f64| (RELATIVE_ORIGIN + d as i32).clamp(0, u16::MAX as i32) as u16;
        let _ = connection.pointer_event(mask, clamp(dx), clamp(dy));
    }

    fn on_motion(&self, x: f64, y: f64) {
        self.send_pointer(x, y);
    }

    fn on_button(&self, button: u32, down: bool, x: f64, y: f64) {
        let imp = self.imp();
        let bit = button_bit(button);
        if bit == 0 {
            return;
        }
        let mask = imp.button_mask.get();
        imp.button_mask
            .set(if down { mask | bit } else { mask & !bit });
        self.send_pointer(x, y);
        if self.remote_ready() {
            // A session sends buttons on their own; gvnc sent the mask with the pointer.
            self.session_button(button, down);
        }
    }

    /// Wheel steps as presses and releases of buttons 4 (up), 5 (down), 6 (left), 7
    /// (right), at the pointer's last position (absolute mode) or without motion.
    fn on_scroll(&self, dx: f64, dy: f64) {
        let imp = self.imp();
        if self.remote_ready() && self.session_scroll(dx, dy) {
            return;
        }
        let Some(connection) = self.connection().filter(|c| c.is_initialized()) else {
            return;
        };
        // In relative mode a position is a motion: the wheel must not move the pointer.
        let (x, y) = if imp.absolute_pointer.get() {
            imp.last_pointer
                .get()
                .map(|(x, y)| (x as u16, y as u16))
                .unwrap_or((0, 0))
        } else {
            (RELATIVE_ORIGIN as u16, RELATIVE_ORIGIN as u16)
        };
        let click = |bit: u8, steps: f64| {
            for _ in 0..(steps.abs().round() as u32).max(1) {
                let mask = imp.button_mask.get();
                let _ = connection.pointer_event(mask | bit, x, y);
                let _ = connection.pointer_event(mask, x, y);
            }
        };
        if dy < 0.0 {
            click(1 << 3, dy);
        } else if dy > 0.0 {
            click(1 << 4, dy);
        }
        if dx < 0.0 {
            click(1 << 5, dx);
        } else if dx > 0.0 {
            click(1 << 6, dx);
        }
    }
}

use glib::translate::IntoGlib;
