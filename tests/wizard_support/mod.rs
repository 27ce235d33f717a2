//! Finding and driving the New Virtual Machine wizard the way a person does, for the
//! wizard's UI tests: the dialog is looked up among the toplevel windows each time (a
//! test never keeps it alive), its controls by the titles and labels on screen.

use std::process::Command;

use adw::prelude::*;

use crate::ui_support::{find_widgets, save_png, settle, wait_until};

/// The wizard's window, looked up afresh (the test never keeps it alive itself).
pub fn wizard() -> Option<gtk::Window> {
    let title = gettextrs::gettext("New Virtual Machine");
    gtk::Window::list_toplevels()
        .into_iter()
        .filter_map(|w| w.downcast::<gtk::Window>().ok())
        .find(|w| w.is_visible() && w.title().as_deref() == Some(title.as_str()))
}

pub fn wizard_or_err() -> Result<gtk::Widget, String> {
    wizard()
        .map(|w| w.upcast())
        .ok_or_else(|| "the wizard is not on screen".to_owned())
}

pub fn plain(text: &str) -> String {
    text.replace('_', "")
}

/// The wizard's visible row titled `title` (mnemonic underscores ignored).
pub fn row<W: IsA<adw::PreferencesRow> + IsA<gtk::Widget>>(title: &str) -> Result<W, String> {
    let root = wizard_or_err()?;
    find_widgets::<W>(&root)
        .into_iter()
        .find(|r| plain(&r.title()) == title && r.is_mapped())
        .ok_or_else(|| format!("no visible row “{title}” in the wizard"))
}

/// True when a row titled `title` is on screen.
pub fn row_shown(title: &str) -> bool {
    row::<adw::PreferencesRow>(title).is_ok()
}

/// The wizard's visible button labelled (or, for icon buttons, named) `label`.
pub fn button(label: &str) -> Result<gtk::Button, String> {
    let root = wizard_or_err()?;
    find_widgets::<gtk::Button>(&root)
        .into_iter()
        .find(|b| {
            b.is_mapped()
                && (b.label().as_deref().map(plain).as_deref() == Some(label)
                    || b.tooltip_text().as_deref() == Some(label))
        })
        .ok_or_else(|| format!("no visible button “{label}” in the wizard"))
}

pub fn sensitive(label: &str) -> bool {
    button(label).is_ok_and(|b| b.is_sensitive())
}

pub fn click(label: &str) -> Result<(), String> {
    let b = button(label)?;
    if !b.is_sensitive() {
        return Err(format!("“{label}” is not clickable"));
    }
    b.emit_clicked();
    settle();
    Ok(())
}

/// The title of the step on screen.
pub fn step_title() -> String {
    wizard()
        .and_then(|w| {
            find_widgets::<adw::WindowTitle>(w.upcast_ref())
                .into_iter()
                .next()
        })
        .map(|t| t.title().to_string())
        .unwrap_or_default()
}

pub fn entry(title: &str, text: &str) -> Result<(), String> {
    row::<adw::EntryRow>(title)?.set_text(text);
    settle();
    Ok(())
}

/// The inline error shown in the group of the row titled `title`.
pub fn error_near(title: &str) -> Result<Option<String>, String> {
    let r = row::<adw::PreferencesRow>(title)?;
    let group = r
        .ancestor(adw::PreferencesGroup::static_type())
        .ok_or("the row is in no group")?;
    Ok(find_widgets::<gtk::Label>(&group)
        .into_iter()
        .find(|l| l.has_css_class("error") && l.is_mapped() && !l.label().is_empty())
        .map(|l| l.label().to_string()))
}

pub fn marked(title: &str) -> bool {
    row::<adw::PreferencesRow>(title).is_ok_and(|r| r.has_css_class("error"))
}

pub fn spin_in(title: &str) -> Result<gtk::SpinButton, String> {
    let r = row::<adw::ActionRow>(title)?;
    find_widgets::<gtk::SpinButton>(r.upcast_ref())
        .into_iter()
        .next()
        .ok_or_else(|| format!("no spin button in “{title}”"))
}

pub fn combo_items(title: &str) -> Result<Vec<String>, String> {
    let c = row::<adw::ComboRow>(title)?;
    let Some(model) = c.model() else {
        return Ok(Vec::new());
    };
    let expr = c.expression();
    Ok((0..model.n_items())
        .filter_map(|i| model.item(i))
        .map(|item| match item.downcast_ref::<gtk::StringObject>() {
            Some(s) => s.string().to_string(),
            None => expr
                .as_ref()
                .and_then(|e| e.evaluate_as::<String, _>(Some(&item)))
                .unwrap_or_default(),
        })
        .collect())
}

pub fn select(title: &str, item_contains: &str) -> Result<(), String> {
    let items = combo_items(title)?;
    let i = items
        .iter()
        .position(|s| s.contains(item_contains))
        .ok_or_else(|| format!("“{title}” offers no “{item_contains}”: {items:?}"))?;
    row::<adw::ComboRow>(title)?.set_selected(i as u32);
    settle();
    Ok(())
}

pub fn selected(title: &str) -> Result<String, String> {
    let i = row::<adw::ComboRow>(title)?.selected() as usize;
    Ok(combo_items(title)?.get(i).cloned().unwrap_or_default())
}

/// Picks an install method, as a click on its row does.
pub fn choose(title: &str) -> Result<(), String> {
    ActionRowExt::activate(&row::<adw::ActionRow>(title)?);
    settle();
    Ok(())
}

pub fn snap(name: &str) -> Result<(), String> {
    save_png(&wizard_or_err()?, name).map(|_| ())
}

/// Waits for the wizard and for the host's facts in it.
pub fn host_loaded() -> Result<(), String> {
    wait_until("the wizard is on screen", || {
        wizard().is_some_and(|w| w.width() > 0)
    })?;
    wait_until("the host's architectures are listed", || {
        combo_items("Architecture").is_ok_and(|a| !a.is_empty())
            && row::<adw::ComboRow>("Architecture").is_ok_and(|r| r.is_sensitive())
    })
}

/// Presses keys on the X display (`xdotool`), e.g. Ctrl+N on the focused window.
pub fn xdotool(args: &[&str]) -> Result<(), String> {
    let out = Command::new("xdotool")
        .args(args)
        .output()
        .map_err(|e| format!("xdotool (tools/install-deps.sh test): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Gives the X window titled `title` the keyboard focus (for `xdotool key`).
fn focus_titled(title: &str) -> Result<(), String> {
    xdotool(&[
        "search",
        "--sync",
        "--name",
        &format!("^{title}$"),
        "windowfocus",
        "--sync",
    ])?;
    settle();
    Ok(())
}

/// Gives the wizard's window the keyboard focus.
pub fn focus_wizard() -> Result<(), String> {
    focus_titled(&wizard().and_then(|w| w.title()).ok_or("no wizard")?)
}

/// Gives `window` the keyboard focus and presses Ctrl+N, as a person does.
pub fn press_ctrl_n(window: &impl IsA<gtk::Window>) -> Result<(), String> {
    let title = format!("vireo-wizard-test-{}", std::process::id());
    window.set_title(Some(&title));
    window.present();
    settle();
    focus_titled(&title)?;
    xdotool(&["key", "ctrl+n"])
}
