//! Keys and the pointer of `SpiceSession`, through the inputs channel.
//!
//! Keys travel as PC XT (set 1) scancodes; spice-gtk numbers E0-prefixed keys as 0x100
//! plus the code, where the qnum codes the display widget computes (shared with VNC)
//! set bit 7 instead. The pointer is absolute in SPICE's client mouse mode and
//! relative in its server mode (what the main channel says).
//!
//! Keys are paced: QEMU hands SPICE keys straight to the guest's PS/2 keyboard, whose
//! queue holds 16 bytes and drops the rest, so a burst (typed text, keys queued while
//! the main loop was busy) would lose most of itself. (QEMU's VNC server spaces keys
//! by itself, 10 ms apart; for SPICE the client does it.)

use std::rc::Rc;
use std::time::Duration;

use spice_client_glib as spice;

use super::session::Inner;
use crate::display_protocol::{Button, PointerMode, Wheel};

/// The gap between two key events sent to the guest (QEMU's VNC key delay).
const KEY_GAP: Duration = Duration::from_millis(10);

/// SPICE's mouse mode numbers (`SpiceMouseMode`).
const MOUSE_MODE_CLIENT: i32 = 2;

/// spice-gtk's scancode of a qnum code (0 when there is none).
pub(super) fn spice_scancode(qnum: u16) -> u32 {
    let qnum = u32::from(qnum);
    if qnum & 0x80 != 0 {
        0x100 | (qnum & 0x7f)
    } else {
        qnum
    }
}

/// SPICE's button number and mask bit.
fn button_code(button: Button) -> (i32, i32) {
    let code = match button {
        Button::Left => spice::MouseButton::Left,
        Button::Middle => spice::MouseButton::Middle,
        Button::Right => spice::MouseButton::Right,
    } as i32;
    (code, 1 << (code - 1))
}

impl Inner {
    fn inputs(&self) -> Option<spice::InputsChannel> {
        self.channels.borrow().inputs.clone()
    }

    /// Queues a key event; the queue is sent one event every `KEY_GAP`.
    pub(super) fn key(self: &Rc<Self>, down: bool, qnum: u16) {
        let code = spice_scancode(qnum);
        if code == 0 || self.inputs().is_none() {
            return;
        }
        self.keys.borrow_mut().push_back((down, code));
        if self.key_timer.borrow().is_some() {
            return;
        }
        // The first goes at once; the timer sends the rest and stops when done.
        self.send_next_key();
        let weak = Rc::downgrade(self);
        let id = glib::timeout_add_local(KEY_GAP, move || {
            let Some(me) = weak.upgrade() else {
                return glib::ControlFlow::Break;
            };
            if me.send_next_key() {
                return glib::ControlFlow::Continue;
            }
            me.key_timer.take();
            glib::ControlFlow::Break
        });
        self.key_timer.replace(Some(id));
    }

    /// Sends the oldest queued key event; false when there was none.
    fn send_next_key(&self) -> bool {
        let Some((down, code)) = self.keys.borrow_mut().pop_front() else {
            return false;
        };
        if let Some(inputs) = self.inputs() {
            if down {
                inputs.key_press(code);
            } else {
                inputs.key_release(code);
            }
        }
        true
    }

    pub(super) fn pointer_mode(&self) -> PointerMode {
        let main = self.channels.borrow().main.clone();
        match main.map(|m| m.mouse_mode()) {
            Some(MOUSE_MODE_CLIENT) => PointerMode::Absolute,
            _ => PointerMode::Relative,
        }
    }

    pub(super) fn pointer_position(&self, x: i32, y: i32) {
        if let Some(inputs) = self.inputs() {
            inputs.position(x, y, 0, self.buttons.get());
        }
    }

    pub(super) fn pointer_motion(&self, dx: i32, dy: i32) {
        if let Some(inputs) = self.inputs() {
            inputs.motion(dx, dy, self.buttons.get());
        }
    }

    /// A button press or release; spice-gtk takes the buttons held before it.
    pub(super) fn button(&self, button: Button, down: bool) {
        let Some(inputs) = self.inputs() else { return };
        let (code, bit) = button_code(button);
        let held = self.buttons.get();
        if down {
            inputs.button_press(code, held);
            self.buttons.set(held | bit);
        } else {
            inputs.button_release(code, held);
            self.buttons.set(held & !bit);
        }
    }

    /// One wheel step: a press and release of SPICE's wheel buttons (up, down) or of
    /// the side buttons, which guests read as horizontal scrolling.
    pub(super) fn wheel(&self, step: Wheel) {
        let Some(inputs) = self.inputs() else { return };
        let code = match step {
            Wheel::Up => spice::MouseButton::Up,
            Wheel::Down => spice::MouseButton::Down,
            Wheel::Left => spice::MouseButton::Side,
            Wheel::Right => spice::MouseButton::Extra,
        } as i32;
        let held = self.buttons.get();
        inputs.button_press(code, held);
        inputs.button_release(code, held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e0_keys_move_to_the_second_page() {
        // A, Esc, F12 as they are; Right Ctrl, AltGr, Up arrow, Delete as 0x100 + code.
        assert_eq!(spice_scancode(0x1e), 0x1e);
        assert_eq!(spice_scancode(0x01), 0x01);
        assert_eq!(spice_scancode(0x58), 0x58);
        assert_eq!(spice_scancode(0x9d), 0x11d);
        assert_eq!(spice_scancode(0xb8), 0x138);
        assert_eq!(spice_scancode(0xc8), 0x148);
        assert_eq!(spice_scancode(0xd3), 0x153);
        assert_eq!(spice_scancode(0), 0);
    }

    #[test]
    fn buttons_have_their_mask_bits() {
        assert_eq!(button_code(Button::Left), (1, 1));
        assert_eq!(button_code(Button::Middle), (2, 2));
        assert_eq!(button_code(Button::Right), (3, 4));
    }
}
