//! Actions of `GuestDisplay`: key combinations the desktop would catch (the Send Key
//! menu), typing text as key presses, screenshots, scale mode, fullscreen and releasing
//! the grab.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gdk, gio, glib};

use super::canvas::ScaleMode;
use super::keymap::hardware_keycode_to_qnum;
use crate::ui::console::GuestDisplay;

/// The key combinations of the Send Key menu: (action target, keys).
const COMBOS: &[(&str, &[gdk::Key])] = &[
    (
        "ctrl-alt-delete",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::Delete],
    ),
    (
        "ctrl-alt-backspace",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::BackSpace],
    ),
    (
        "ctrl-alt-f1",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F1],
    ),
    (
        "ctrl-alt-f2",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F2],
    ),
    (
        "ctrl-alt-f3",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F3],
    ),
    (
        "ctrl-alt-f4",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F4],
    ),
    (
        "ctrl-alt-f5",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F5],
    ),
    (
        "ctrl-alt-f6",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F6],
    ),
    (
        "ctrl-alt-f7",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F7],
    ),
    (
        "ctrl-alt-f8",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F8],
    ),
    (
        "ctrl-alt-f9",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F9],
    ),
    (
        "ctrl-alt-f10",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F10],
    ),
    (
        "ctrl-alt-f11",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F11],
    ),
    (
        "ctrl-alt-f12",
        &[gdk::Key::Control_L, gdk::Key::Alt_L, gdk::Key::F12],
    ),
    ("print", &[gdk::Key::Print]),
];

/// Scancodes of keys the typed text may need whatever the keymap says.
const SHIFT_L: (gdk::Key, u16) = (gdk::Key::Shift_L, 0x2a);

impl GuestDisplay {
    pub(crate) fn setup_actions(&self) {
        let group = self.imp().actions.clone();
        let weak = self.downgrade();
        let send = gio::SimpleAction::new("send-keys", Some(glib::VariantTy::STRING));
        send.connect_activate(glib::clone!(
            #[strong]
            weak,
            move |_, target| {
                let (Some(display), Some(name)) = (
                    weak.upgrade(),
                    target.and_then(|t| t.str().map(str::to_owned)),
                ) else {
                    return;
                };
                if let Some((_, keys)) = COMBOS.iter().find(|(n, _)| *n == name) {
                    let keyvals: Vec<u32> = keys.iter().map(|k| k.into_glib()).collect();
                    display.send_keys(&keyvals);
                }
            }
        ));
        group.add_action(&send);

        // Actions that only call one method of the display; those that talk to the
        // guest are disabled while there is none.
        type Method = fn(&GuestDisplay);
        let plain: [(&str, Method, bool); 3] = [
            ("type-clipboard", GuestDisplay::type_clipboard, true),
            ("screenshot", GuestDisplay::save_screenshot_dialog, true),
            ("release-keyboard", GuestDisplay::ungrab_keyboard, false),
        ];
        let mut need_guest = vec![send.clone()];
        for (name, method, needs_guest) in plain {
            let action = gio::SimpleAction::new(name, None);
            action.connect_activate(glib::clone!(
                #[strong]
                weak,
                move |_, _| {
                    if let Some(display) = weak.upgrade() {
                        method(&display);
                    }
                }
            ));
            group.add_action(&action);
            if needs_guest {
                need_guest.push(action);
            }
        }

        let fullscreen = gio::SimpleAction::new_stateful("fullscreen", None, &false.to_variant());
        fullscreen.connect_change_state(glib::clone!(
            #[strong]
            weak,
            move |action, value| {
                let (Some(display), Some(on)) = (weak.upgrade(), value.and_then(|v| v.get()))
                else {
                    return;
                };
                if let Some(window) = display.root().and_downcast::<gtk::Window>() {
                    window.set_fullscreened(on);
                    action.set_state(&on.to_variant());
                }
            }
        ));
        group.add_action(&fullscreen);

        let scale = gio::SimpleAction::new_stateful(
            "scale-mode",
            Some(glib::VariantTy::STRING),
            &"fit".to_variant(),
        );
        scale.connect_change_state(glib::clone!(
            #[strong]
            weak,
            move |action, value| {
                let (Some(display), Some(value)) = (weak.upgrade(), value) else {
                    return;
                };
                let mode = match value.str() {
                    Some("1:1") => ScaleMode::OneToOne,
                    _ => ScaleMode::Fit,
                };
                display.set_scale_mode(mode);
                action.set_state(value);
            }
        ));
        group.add_action(&scale);
        self.connect_scale_mode_notify(glib::clone!(
            #[weak]
            scale,
            move |display| {
                let name = match display.scale_mode() {
                    ScaleMode::Fit => "fit",
                    ScaleMode::OneToOne => "1:1",
                };
                scale.set_state(&name.to_variant());
            }
        ));

        self.connect_state_notify(move |display| {
            let up = display.is_connected();
            for action in &need_guest {
                action.set_enabled(up);
            }
        });
        self.insert_action_group("vnc", Some(&group));
    }

    /// The Send Key menu (items use the "vnc" action group, see `Self::action_group`).
    pub fn send_keys_menu() -> gio::Menu {
        let menu = gio::Menu::new();
        let item = |label: &str, target: &str| {
            gio::MenuItem::new(Some(label), Some(&format!("vnc.send-keys::{target}")))
        };
        let section = gio::Menu::new();
        section.append_item(&item(&gettext("Ctrl+Alt+_Delete"), "ctrl-alt-delete"));
        section.append_item(&item(&gettext("Ctrl+Alt+_Backspace"), "ctrl-alt-backspace"));
        section.append_item(&item(&gettext("_Print Screen"), "print"));
        menu.append_section(None, &section);
        let consoles = gio::Menu::new();
        for n in 1..=12 {
            // Translators: a key combination, {} is a number from 1 to 12.
            let label = gettext("Ctrl+Alt+F{}").replace("{}", &n.to_string());
            consoles.append_item(&item(&label, &format!("ctrl-alt-f{n}")));
        }
        menu.append_submenu(Some(&gettext("_Virtual Consoles")), &consoles);
        let other = gio::Menu::new();
        other.append(
            Some(&gettext("_Type Clipboard Text")),
            Some("vnc.type-clipboard"),
        );
        other.append(Some(&gettext("Take _Screenshot…")), Some("vnc.screenshot"));
        menu.append_section(None, &other);
        menu
    }

    /// Scancode of a keyval in the current keymap (first key producing it), or 0.
    fn scancode_of(&self, keyval: u32) -> (u16, bool) {
        // Any u32 is a keyval (unknown ones map to no key); a GValue converts it safely.
        let Ok(key) = keyval.to_value().get::<gdk::Key>() else {
            return (0, false);
        };
        let entry = self.display().map_keyval(key).and_then(|keys| {
            keys.into_iter()
                .filter(|k| k.group() == 0 && k.level() <= 1)
                .min_by_key(|k| k.level())
        });
        match entry {
            Some(k) => (hardware_keycode_to_qnum(k.keycode()), k.level() == 1),
            None => (0, false),
        }
    }

    /// Presses `keyvals` in order, then releases them in reverse (a key combination).
    pub fn send_keys(&self, keyvals: &[u32]) {
        if !self.remote_ready() {
            return;
        }
        let codes: Vec<(u32, u16)> = keyvals
            .iter()
            .map(|&k| (k, self.scancode_of(k).0))
            .collect();
        for &(k, s) in &codes {
            self.send_key(true, k, s);
        }
        for &(k, s) in codes.iter().rev() {
            self.send_key(false, k, s);
        }
    }

    /// Types `text` as key presses, one character after the other (Shift added where
    /// the host keymap needs it; a guest with another layout may differ).
    pub fn type_text(&self, text: &str) {
        if !self.remote_ready() {
            return;
        }
        for ch in text.chars() {
            let keyval = match ch {
                '\n' | '\r' => gdk::Key::Return.into_glib(),
                '\t' => gdk::Key::Tab.into_glib(),
                _ => gdk::unicode_to_keyval(ch as u32),
            };
            let (scancode, shifted) = self.scancode_of(keyval);
            if shifted {
                self.send_key(true, SHIFT_L.0.into_glib(), SHIFT_L.1);
            }
            self.send_key(true, keyval, scancode);
            self.send_key(false, keyval, scancode);
            if shifted {
                self.send_key(false, SHIFT_L.0.into_glib(), SHIFT_L.1);
            }
        }
    }

    /// Types the desktop clipboard's text into the guest.
    pub fn type_clipboard(&self) {
        let weak = self.downgrade();
        self.clipboard()
            .read_text_async(None::<&gio::Cancellable>, move |result| {
                if let (Some(display), Ok(Some(text))) = (weak.upgrade(), result) {
                    display.type_text(&text);
                }
            });
    }

    /// Saves the remote screen to a PNG chosen in a file dialog.
    pub fn save_screenshot_dialog(&self) {
        let Some(texture) = self.screenshot_texture() else {
            return;
        };
        let window = self.root().and_downcast::<gtk::Window>();
        let chooser = gtk::FileChooserNative::new(
            Some(&gettext("Save Screenshot")),
            window.as_ref(),
            gtk::FileChooserAction::Save,
            Some(&gettext("_Save")),
            Some(&gettext("_Cancel")),
        );
        let name = glib::DateTime::now_local()
            .and_then(|t| t.format("%Y-%m-%d %H-%M-%S"))
            .map(|t| t.to_string())
            .unwrap_or_default();
        chooser.set_current_name(&format!("{} {name}.png", gettext("Screenshot")));
        let filter = gtk::FileFilter::new();
        filter.add_mime_type("image/png");
        filter.set_name(Some(&gettext("PNG images")));
        chooser.add_filter(&filter);
        let weak = self.downgrade();
        chooser.connect_response(move |chooser, response| {
            let path = chooser.file().and_then(|f| f.path());
            if let (gtk::ResponseType::Accept, Some(path)) = (response, path) {
                if let Err(err) = texture.save_to_png(&path) {
                    tracing::warn!("screenshot not saved to {}: {err}", path.display());
                    if let Some(display) = weak.upgrade() {
                        display.error_bell();
                    }
                }
            }
            chooser.destroy();
        });
        chooser.show();
    }
}

use glib::translate::IntoGlib;
