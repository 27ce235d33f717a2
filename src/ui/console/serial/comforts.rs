//! The serial console's terminal comforts: copy and paste (shortcuts and context menu),
//! search in the scrollback, zoom, saving the output, and the font, palette and
//! scrollback from the settings.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use glib::subclass::types::ObjectSubclass;
use gtk::{gdk, gio, glib};
use vte4::TerminalExt;

use super::palette;
use crate::ui::console::serial_console::{imp, SerialConsole};

/// Zoom levels, as terminals usually step them.
const ZOOM_STEPS: [f64; 13] = [
    0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.2, 1.33, 1.5, 1.7, 2.0, 2.4, 3.0,
];

/// PCRE2 compile flags for VTE's search regex (VTE requires MULTILINE).
const PCRE2_CASELESS: u32 = 0x0000_0008;
const PCRE2_MULTILINE: u32 = 0x0000_0400;
const PCRE2_UTF: u32 = 0x0008_0000;

/// Keyboard shortcuts, caught before the terminal sends the keys to the guest.
const SHORTCUTS: [(&str, &str); 7] = [
    ("<Control><Shift>c", "console.copy"),
    ("<Control><Shift>v", "console.paste"),
    ("<Control><Shift>f", "console.find"),
    ("<Control><Shift>s", "console.save"),
    (
        "<Control>plus|<Control>equal|<Control>KP_Add",
        "console.zoom-in",
    ),
    ("<Control>minus|<Control>KP_Subtract", "console.zoom-out"),
    ("<Control>0|<Control>KP_0", "console.zoom-reset"),
];

/// Installs the `console.*` widget actions.
pub(crate) fn install_actions(klass: &mut <imp::SerialConsole as ObjectSubclass>::Class) {
    klass.install_action("console.copy", None, |obj, _, _| {
        obj.terminal().copy_clipboard_format(vte4::Format::Text);
    });
    klass.install_action("console.paste", None, |obj, _, _| {
        obj.terminal().paste_clipboard()
    });
    klass.install_action("console.select-all", None, |obj, _, _| {
        obj.terminal().select_all()
    });
    klass.install_action("console.find", None, |obj, _, _| obj.show_search());
    klass.install_action("console.find-next", None, |obj, _, _| {
        obj.find(false);
    });
    klass.install_action("console.find-previous", None, |obj, _, _| {
        obj.find(true);
    });
    klass.install_action("console.save", None, |obj, _, _| obj.choose_save_file());
    klass.install_action("console.clear", None, |obj, _, _| {
        obj.terminal().reset(false, true);
    });
    klass.install_action("console.zoom-in", None, |obj, _, _| obj.zoom_step(1));
    klass.install_action("console.zoom-out", None, |obj, _, _| obj.zoom_step(-1));
    klass.install_action("console.zoom-reset", None, |obj, _, _| obj.set_zoom(1.0));
}

/// `text` as a literal PCRE2 pattern.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Search flags: case-insensitive unless the text has a capital ("smart case").
fn search_flags(text: &str) -> u32 {
    let mut flags = PCRE2_UTF | PCRE2_MULTILINE;
    if !text.chars().any(char::is_uppercase) {
        flags |= PCRE2_CASELESS;
    }
    flags
}

impl SerialConsole {
    pub(crate) fn setup_comforts(&self) {
        let imp = self.imp();
        let terminal = &*imp.terminal;

        let shortcuts = gtk::ShortcutController::new();
        shortcuts.set_propagation_phase(gtk::PropagationPhase::Capture);
        for (trigger, action) in SHORTCUTS {
            shortcuts.add_shortcut(gtk::Shortcut::new(
                gtk::ShortcutTrigger::parse_string(trigger),
                Some(gtk::NamedAction::new(action)),
            ));
        }
        self.add_controller(shortcuts);

        // The context menu, on a right click or a long press in the terminal.
        let menu = gtk::PopoverMenu::from_model(Some(&*imp.console_menu));
        menu.set_parent(self);
        menu.set_has_arrow(false);
        menu.set_halign(gtk::Align::Start);
        let _ = imp.context_menu.set(menu);
        let click = gtk::GestureClick::new();
        click.set_button(gdk::BUTTON_SECONDARY);
        click.connect_pressed(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |gesture, _, x, y| {
                gesture.set_state(gtk::EventSequenceState::Claimed);
                this.popup_menu_at(x, y);
            }
        ));
        terminal.add_controller(click);

        self.action_set_enabled("console.copy", false);
        terminal.connect_selection_changed(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |t| this.action_set_enabled("console.copy", t.has_selection())
        ));

        // Search.
        imp.search_button
            .bind_property("active", &*imp.search_bar, "search-mode-enabled")
            .bidirectional()
            .sync_create()
            .build();
        terminal.search_set_wrap_around(true);
        imp.search_entry.connect_search_changed(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |entry| this.set_search_text(&entry.text())
        ));
        imp.search_entry.connect_activate(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_| {
                this.find(false);
            }
        ));
        imp.search_entry.connect_next_match(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_| {
                this.find(false);
            }
        ));
        imp.search_entry.connect_previous_match(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_| {
                this.find(true);
            }
        ));
        imp.search_entry.connect_stop_search(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_| {
                this.imp().search_bar.set_search_mode(false);
                this.imp().terminal.grab_focus();
            }
        ));
        let entry_keys = gtk::ShortcutController::new();
        entry_keys.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string("<Shift>Return|<Shift>KP_Enter"),
            Some(gtk::NamedAction::new("console.find-previous")),
        ));
        imp.search_entry.add_controller(entry_keys);

        self.update_zoom_label();
        self.setup_settings();
    }

    fn popup_menu_at(&self, x: f64, y: f64) {
        let imp = self.imp();
        let Some(menu) = imp.context_menu.get() else {
            return;
        };
        let point = imp
            .terminal
            .compute_point(self, &gtk::graphene::Point::new(x as f32, y as f32))
            .unwrap_or_else(|| gtk::graphene::Point::new(x as f32, y as f32));
        menu.set_pointing_to(Some(&gdk::Rectangle::new(
            point.x() as i32,
            point.y() as i32,
            1,
            1,
        )));
        menu.popup();
    }

    /// Opens the search bar with the focus in it.
    pub fn show_search(&self) {
        let imp = self.imp();
        imp.search_bar.set_search_mode(true);
        imp.search_entry.grab_focus();
    }

    /// Searches the scrollback for `text` (literally); empty clears the search.
    pub fn set_search_text(&self, text: &str) {
        let imp = self.imp();
        let terminal = &*imp.terminal;
        imp.search_entry.remove_css_class("error");
        if text.is_empty() {
            terminal.search_set_regex(None, 0);
            terminal.unselect_all();
            return;
        }
        match vte4::Regex::for_search(&regex_escape(text), search_flags(text)) {
            Ok(regex) => {
                terminal.search_set_regex(Some(&regex), 0);
                // The newest output is at the bottom: look upwards first.
                self.find(true);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not build the search pattern");
                imp.search_entry.add_css_class("error");
            }
        }
    }

    /// Selects the next (or previous) match; false when there is none.
    pub fn find(&self, backwards: bool) -> bool {
        let imp = self.imp();
        let terminal = &*imp.terminal;
        // VTE 0.70 crashes when searching a terminal that is not realized yet.
        if terminal.search_get_regex().is_none() || !terminal.is_realized() {
            return false;
        }
        let found = if backwards {
            terminal.search_find_previous()
        } else {
            terminal.search_find_next()
        };
        if found {
            imp.search_entry.remove_css_class("error");
        } else {
            imp.search_entry.add_css_class("error");
        }
        found
    }

    /// The text scale (1.0 is the font's own size).
    pub fn zoom(&self) -> f64 {
        self.imp().terminal.font_scale()
    }

    /// Sets the text scale, within 0.5–3.
    pub fn set_zoom(&self, scale: f64) {
        let scale = scale.clamp(ZOOM_STEPS[0], ZOOM_STEPS[ZOOM_STEPS.len() - 1]);
        self.imp().terminal.set_font_scale(scale);
        self.update_zoom_label();
    }

    fn zoom_step(&self, direction: i32) {
        let now = self.zoom();
        let next = if direction > 0 {
            ZOOM_STEPS.iter().copied().find(|s| *s > now + 0.001)
        } else {
            ZOOM_STEPS.iter().rev().copied().find(|s| *s < now - 0.001)
        };
        if let Some(scale) = next {
            self.set_zoom(scale);
        }
    }

    fn update_zoom_label(&self) {
        let imp = self.imp();
        let scale = self.zoom();
        imp.zoom_reset_button
            .set_label(&format!("{}%", (scale * 100.0).round()));
        self.action_set_enabled("console.zoom-in", scale < ZOOM_STEPS[ZOOM_STEPS.len() - 1]);
        self.action_set_enabled("console.zoom-out", scale > ZOOM_STEPS[0]);
    }

    fn choose_save_file(&self) {
        let window = self.root().and_downcast::<gtk::Window>();
        let dialog = gtk::FileChooserNative::new(
            Some(&gettext("Save Console Output")),
            window.as_ref(),
            gtk::FileChooserAction::Save,
            Some(&gettext("_Save")),
            Some(&gettext("_Cancel")),
        );
        let name = self
            .domain()
            .map(|d| d.name())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "console".into());
        dialog.set_current_name(&format!("{name}-console.txt"));
        dialog.connect_response(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |dialog, response| {
                this.imp().save_dialog.take();
                let file = dialog
                    .file()
                    .filter(|_| response == gtk::ResponseType::Accept);
                let Some(file) = file else { return };
                glib::spawn_future_local(async move {
                    match this.save_output(&file).await {
                        Ok(()) => crate::ui::toast(&this, &gettext("Console output saved")),
                        Err(e) => crate::ui::toast(
                            &this,
                            &gettext("The console output could not be saved: {}")
                                .replace("{}", e.message()),
                        ),
                    }
                });
            }
        ));
        dialog.show();
        // A native dialog must be kept alive until it answers.
        self.imp().save_dialog.replace(Some(dialog));
    }

    /// Writes the scrollback and screen, as text, to `file`.
    pub async fn save_output(&self, file: &gio::File) -> Result<(), glib::Error> {
        let bytes = self.text().into_bytes();
        file.replace_contents_future(
            bytes,
            None,
            false,
            gio::FileCreateFlags::REPLACE_DESTINATION,
        )
        .await
        .map(|_| ())
        .map_err(|(_, e)| e)
    }

    fn setup_settings(&self) {
        let imp = self.imp();
        let settings = crate::settings::settings();
        settings.connect_changed(
            None,
            glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |_, key| {
                    if key.starts_with("terminal-") {
                        this.apply_settings();
                    }
                }
            ),
        );
        let _ = imp.settings.set(settings);
        let style = adw::StyleManager::default();
        let handler = style.connect_dark_notify(glib::clone!(
            #[weak(rename_to = this)]
            self,
            move |_| this.apply_settings()
        ));
        imp.style_handler.replace(Some(handler));
        self.apply_settings();
    }

    /// Applies the `terminal-font`, `terminal-palette` and `terminal-scrollback` settings.
    fn apply_settings(&self) {
        let imp = self.imp();
        let Some(settings) = imp.settings.get() else {
            return;
        };
        let terminal = &*imp.terminal;
        terminal.set_font(palette::font(&settings.string("terminal-font")).as_ref());
        terminal.set_scrollback_lines(settings.int("terminal-scrollback").into());
        let dark = adw::StyleManager::default().is_dark();
        palette::apply(
            terminal,
            palette::palette(&settings.string("terminal-palette"), dark),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_pattern_character() {
        assert_eq!(regex_escape("a.b*c"), r"a\.b\*c");
        assert_eq!(
            regex_escape(r"[x](y){z}|^$\?+"),
            r"\[x\]\(y\)\{z\}\|\^\$\\\?\+"
        );
        assert_eq!(regex_escape("vireo-guest# "), "vireo-guest# ");
    }

    #[test]
    fn smart_case() {
        assert_ne!(search_flags("ready") & PCRE2_CASELESS, 0);
        assert_eq!(search_flags("READY") & PCRE2_CASELESS, 0);
        assert_ne!(search_flags("x") & PCRE2_MULTILINE, 0);
    }
}
