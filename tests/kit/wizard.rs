//! The New Virtual Machine wizard of the in-process app, driven as a person drives it:
//! the dialog is looked up among the toplevel windows each time (a test never keeps it
//! alive: a dropped wizard must go), its controls by the titles and labels on screen
//! (mnemonic underscores ignored), keys pressed through the X server.
//!
//! ```ignore
//! kit::x11::press_keys(&app.window(), "ctrl+n");
//! kit::wizard::host_loaded();
//! kit::wizard::choose("Manual");
//! kit::wizard::click_when_possible("Forward");
//! kit::wizard::entry("Name", "web");
//! assert!(kit::wizard::marked("Name"), "{:?}", kit::wizard::error_near("Name"));
//! ```
//!
//! Everything panics with what it looked for, except the `find_*`, `*_shown`,
//! `sensitive` and `marked` questions.

use adw::prelude::*;

use super::app::{button_text, find_widgets};
use super::screen::save_png;
use super::wait::{settle, wait_until, EVENT};

/// The wizard's window, if one is on screen (looked up afresh).
pub fn wizard() -> Option<gtk::Window> {
    let title = gettextrs::gettext("New Virtual Machine");
    gtk::Window::list_toplevels()
        .into_iter()
        .filter_map(|w| w.downcast::<gtk::Window>().ok())
        .find(|w| w.is_visible() && w.title().as_deref() == Some(title.as_str()))
}

/// The wizard's window; panics if none is on screen.
pub fn shown() -> gtk::Window {
    wizard().expect("the wizard is on screen")
}

/// `text` without mnemonic underscores.
pub fn plain(text: &str) -> String {
    text.replace('_', "")
}

/// The wizard's visible row titled `title`, if there is one.
pub fn find_row<W: IsA<adw::PreferencesRow> + IsA<gtk::Widget>>(title: &str) -> Option<W> {
    find_widgets::<W>(&wizard()?)
        .into_iter()
        .find(|r| plain(&r.title()) == title && r.is_mapped())
}

/// The wizard's visible row titled `title`.
pub fn row<W: IsA<adw::PreferencesRow> + IsA<gtk::Widget>>(title: &str) -> W {
    find_row(title).unwrap_or_else(|| panic!("no visible row “{title}” in the wizard"))
}

/// True when a row titled `title` is on screen.
pub fn row_shown(title: &str) -> bool {
    find_row::<adw::PreferencesRow>(title).is_some()
}

/// The wizard's visible button labelled (or, for icon buttons, named) `label`.
pub fn find_button(label: &str) -> Option<gtk::Button> {
    find_widgets::<gtk::Button>(&wizard()?)
        .into_iter()
        .find(|b| {
            b.is_mapped()
                && (button_text(b).as_deref().map(plain).as_deref() == Some(label)
                    || b.tooltip_text().as_deref() == Some(label))
        })
}

/// The wizard's visible button `label`.
pub fn button(label: &str) -> gtk::Button {
    find_button(label).unwrap_or_else(|| panic!("no visible button “{label}” in the wizard"))
}

/// True when the button `label` is on screen and clickable.
pub fn sensitive(label: &str) -> bool {
    find_button(label).is_some_and(|b| b.is_sensitive())
}

/// Clicks `label`, which must be clickable now.
pub fn click(label: &str) {
    let b = button(label);
    assert!(b.is_sensitive(), "“{label}” is not clickable");
    b.emit_clicked();
    settle();
}

/// Waits until `label` is clickable, then clicks it.
pub fn click_when_possible(label: &str) {
    wait_until(&format!("“{label}” becomes clickable"), EVENT, || {
        sensitive(label)
    });
    click(label);
}

/// The title of the step on screen ("" without a wizard).
pub fn step_title() -> String {
    wizard()
        .and_then(|w| find_widgets::<adw::WindowTitle>(&w).into_iter().next())
        .map(|t| t.title().to_string())
        .unwrap_or_default()
}

/// Types `text` into the entry row `title` (replacing what it held).
pub fn entry(title: &str, text: &str) {
    row::<adw::EntryRow>(title).set_text(text);
    settle();
}

/// The inline error shown in the group of the row titled `title`, if any.
pub fn error_near(title: &str) -> Option<String> {
    let group = row::<adw::PreferencesRow>(title)
        .ancestor(adw::PreferencesGroup::static_type())
        .unwrap_or_else(|| panic!("the row “{title}” is in no group"));
    find_widgets::<gtk::Label>(&group)
        .into_iter()
        .find(|l| l.has_css_class("error") && l.is_mapped() && !l.label().is_empty())
        .map(|l| l.label().to_string())
}

/// True when the row `title` is on screen and marked wrong.
pub fn marked(title: &str) -> bool {
    find_row::<adw::PreferencesRow>(title).is_some_and(|r| r.has_css_class("error"))
}

/// The spin button of the row `title`.
pub fn spin_in(title: &str) -> gtk::SpinButton {
    find_widgets::<gtk::SpinButton>(&row::<adw::ActionRow>(title))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no spin button in “{title}”"))
}

/// What the combo row `title` offers, as shown; empty while it is not on screen.
pub fn combo_items(title: &str) -> Vec<String> {
    let Some(c) = find_row::<adw::ComboRow>(title) else {
        return Vec::new();
    };
    let Some(model) = c.model() else {
        return Vec::new();
    };
    let expr = c.expression();
    (0..model.n_items())
        .filter_map(|i| model.item(i))
        .map(|item| match item.downcast_ref::<gtk::StringObject>() {
            Some(s) => s.string().to_string(),
            None => expr
                .as_ref()
                .and_then(|e| e.evaluate_as::<String, _>(Some(&item)))
                .unwrap_or_default(),
        })
        .collect()
}

/// Chooses the first item of the combo row `title` that contains `item_contains`.
pub fn select(title: &str, item_contains: &str) {
    let items = combo_items(title);
    let i = items
        .iter()
        .position(|s| s.contains(item_contains))
        .unwrap_or_else(|| panic!("“{title}” offers no “{item_contains}”: {items:?}"));
    row::<adw::ComboRow>(title).set_selected(i as u32);
    settle();
}

/// The item chosen in the combo row `title`.
pub fn selected(title: &str) -> String {
    let i = row::<adw::ComboRow>(title).selected() as usize;
    combo_items(title).get(i).cloned().unwrap_or_default()
}

/// Picks an install method, as a click on its row does.
pub fn choose(title: &str) {
    ActionRowExt::activate(&row::<adw::ActionRow>(title));
    settle();
}

/// Saves the wizard as it is to `target/screenshots/NAME`.
pub fn snap(name: &str) {
    save_png(&shown(), name);
}

/// Waits for the wizard and for the host's facts in it.
pub fn host_loaded() {
    wait_until("the wizard is on screen", EVENT, || {
        wizard().is_some_and(|w| w.width() > 0)
    });
    wait_until("the host's architectures are listed", EVENT, || {
        !combo_items("Architecture").is_empty()
            && find_row::<adw::ComboRow>("Architecture").is_some_and(|r| r.is_sensitive())
    });
}
