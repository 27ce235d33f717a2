//! A VM's Details page as a person uses it: its entries opened from the sidebar, rows
//! found by their titles, entry rows applied, and the lines a change made to libvirt's
//! XML.

use adw::prelude::*;
use vireo::model::DomainObject;
use vireo::ui::{HardwareView, VmPage};

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
