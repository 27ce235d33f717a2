//! A VM's Details page as a person uses it: its entries opened from the sidebar, rows
//! found by their titles, entry rows applied, combo rows chosen from, the Add Hardware
//! dialog opened with its button, and the lines a change made to libvirt's XML.

use adw::prelude::*;
use vireo::model::DomainObject;
use vireo::ui::{AddHardwareDialog, HardwareView, VmPage};

use super::app::{find_widgets, TestApp};
use super::wait::{settle, wait_until, EVENT};

/// Opens `domain`'s tab on Details and waits for the sidebar to list its devices.
pub fn open_details(app: &TestApp, domain: &DomainObject) -> (VmPage, HardwareView) {
    let page = app.window().open_domain(domain);
    page.show_details();
    settle();
    let hw = page.hardware().expect("the hardware view");
    wait_until("the sidebar lists the devices", EVENT, || {
        hw.titles().len() > 4
    });
    (page, hw)
}

/// Opens the sidebar's entry `title` and returns its page.
pub fn open<W: IsA<gtk::Widget>>(hw: &HardwareView, title: &str) -> W {
    assert!(hw.select(title), "no “{title}” in {:?}", hw.titles());
    settle();
    hw.page()
        .and_downcast::<W>()
        .unwrap_or_else(|| panic!("“{title}” opens another page"))
}

/// The spin button of the row titled `title` (with its mnemonic underscore).
pub fn spin(root: &impl IsA<gtk::Widget>, title: &str) -> gtk::SpinButton {
    find_widgets::<gtk::SpinButton>(root)
        .into_iter()
        .find(|s| {
            s.ancestor(adw::ActionRow::static_type())
                .and_downcast::<adw::ActionRow>()
                .is_some_and(|r| r.title() == title)
        })
        .unwrap_or_else(|| panic!("no spin button “{title}”"))
}

/// The shown entry row titled `title`.
pub fn entry(root: &impl IsA<gtk::Widget>, title: &str) -> adw::EntryRow {
    find_widgets::<adw::EntryRow>(root)
        .into_iter()
        .find(|r| r.title() == title && r.is_mapped())
        .unwrap_or_else(|| panic!("no entry row “{title}”"))
}

/// The shown row of `root` titled `title` (with its mnemonic underscore).
pub fn row<W: IsA<adw::PreferencesRow> + IsA<gtk::Widget>>(
    root: &impl IsA<gtk::Widget>,
    title: &str,
) -> W {
    find_widgets::<W>(root)
        .into_iter()
        .find(|r| r.title() == title && r.is_mapped())
        .unwrap_or_else(|| panic!("no row “{title}”"))
}

/// What the combo row offers, as its list shows it.
pub fn combo_items(row: &adw::ComboRow) -> Vec<String> {
    let Some(model) = row.model() else {
        return Vec::new();
    };
    (0..model.n_items())
        .filter_map(|i| model.item(i).and_downcast::<gtk::StringObject>())
        .map(|s| s.string().to_string())
        .collect()
}

/// Chooses the item of the combo row `title` that contains `item`, once it is offered
/// (a pool or a network appears when the host model has read it).
pub fn select(root: &impl IsA<gtk::Widget>, title: &str, item: &str) {
    let combo: adw::ComboRow = row(root, title);
    let i = wait_until(&format!("“{title}” offers “{item}”"), EVENT, || {
        combo_items(&combo).iter().position(|s| s.contains(item))
    });
    combo.set_selected(i as u32);
    settle();
}

/// Clicks the row `title` (its check button, for a choice among rows).
pub fn choose(root: &impl IsA<gtk::Widget>, title: &str) {
    ActionRowExt::activate(&row::<adw::ActionRow>(root, title));
    settle();
}

/// Opens the Add Hardware dialog with the button under `hw`'s sidebar.
pub fn add_hardware(hw: &HardwareView) -> AddHardwareDialog {
    find_widgets::<gtk::Button>(hw)
        .into_iter()
        .find(|b| {
            b.child()
                .and_downcast::<adw::ButtonContent>()
                .is_some_and(|c| c.label() == "Add _Hardware")
        })
        .expect("the Add Hardware button")
        .emit_clicked();
    let dialog = wait_until("the Add Hardware dialog", EVENT, || {
        gtk::Window::list_toplevels().into_iter().find_map(|w| {
            w.downcast::<AddHardwareDialog>()
                .ok()
                .filter(|d| d.is_visible())
        })
    });
    settle();
    dialog
}

/// Types `text` into the row and presses its Apply.
pub fn apply_entry(row: &adw::EntryRow, text: &str) {
    row.set_text(text);
    row.emit_by_name::<()>("apply", &[]);
    settle();
}

/// The lines of `after` not in `before`, and those of `before` not in `after`,
/// trimmed.
pub fn changed_lines(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let b: Vec<&str> = before.lines().collect();
    let a: Vec<&str> = after.lines().collect();
    let added = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| l.trim().to_owned())
        .collect();
    let gone = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| l.trim().to_owned())
        .collect();
    (added, gone)
}

/// The XML tab of `page`, once it shows the definition of the VM named `name`.
pub fn xml_tab(page: &VmPage, name: &str) -> vireo::ui::XmlEditor {
    page.show_xml();
    let editor = page.xml_editor();
    let tag = format!("<name>{name}</name>");
    wait_until("the XML tab shows the VM's XML", EVENT, || {
        editor.text().contains(&tag)
    });
    editor
}

/// The dialog with the diff that the XML tab's Apply opens, once shown.
pub fn diff_dialog() -> adw::MessageDialog {
    wait_until("the diff dialog shows", EVENT, || {
        gtk::Window::list_toplevels()
            .into_iter()
            .filter_map(|w| w.downcast::<adw::MessageDialog>().ok())
            .find(|d| d.is_visible())
    })
}
