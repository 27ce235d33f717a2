//! The overview's list of changes waiting for the next start: one row for each thing
//! in which a running VM's saved configuration differs from the live one.

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::i18n::gettext_f;
use crate::model::details::{DeviceField, Drift, DriftValue, PendingChange, Setting};
use crate::ui::formatting::format_kib;

/// Fills `list` with a row for each change and returns their texts, one a line (the
/// accessible description of the list and what tests read).
pub(super) fn fill(list: &gtk::ListBox, changes: &[PendingChange]) -> String {
    while let Some(row) = list.first_child() {
        list.remove(&row);
    }
    let mut lines = Vec::new();
    for change in changes {
        let (title, subtitle) = texts(change);
        lines.push(format!("{title}: {subtitle}"));
        let row = adw::ActionRow::builder()
            .title(glib::markup_escape_text(&title))
            .subtitle(glib::markup_escape_text(&subtitle))
            .subtitle_lines(3)
            .build();
        let icon = gtk::Image::from_icon_name(match change.drift {
            Drift::DeviceAdded(_) => "list-add-symbolic",
            Drift::DeviceRemoved(_) => "list-remove-symbolic",
            _ => "document-edit-symbolic",
        });
        icon.set_accessible_role(gtk::AccessibleRole::Presentation);
        row.add_prefix(&icon);
        list.append(&row);
    }
    lines.join("\n")
}

/// A row's title (what) and subtitle (now → at the next start).
fn texts(change: &PendingChange) -> (String, String) {
    let device = change.device.clone().unwrap_or_default();
    match &change.drift {
        Drift::Setting { setting, now, next } => (setting_name(*setting), now_next(now, next)),
        Drift::DeviceAdded(_) => (device, gettext("Added: it comes at the next start")),
        Drift::DeviceRemoved(_) => (device, gettext("Removed: it goes at the next start")),
        Drift::DeviceChanged {
            field, now, next, ..
        } => (
            gettext_f(
                "{device}: {field}",
                &[("device", &device), ("field", &field_name(*field))],
            ),
            now_next(now, next),
        ),
    }
}

fn now_next(now: &DriftValue, next: &DriftValue) -> String {
    gettext_f(
        "Now {now}, at the next start {next}",
        &[("now", &value_text(now)), ("next", &value_text(next))],
    )
}

fn setting_name(setting: Setting) -> String {
    match setting {
        Setting::Memory => gettext("Memory"),
        Setting::CurrentMemory => gettext("Current memory"),
        Setting::MaxVcpus => gettext("Maximum vCPUs"),
        Setting::Vcpus => gettext("Virtual CPUs"),
        Setting::CpuMode => gettext("CPU mode"),
        Setting::CpuModel => gettext("CPU model"),
        Setting::Topology => gettext("CPU topology (sockets × cores × threads)"),
    }
}

fn field_name(field: DeviceField) -> String {
    match field {
        DeviceField::Source => gettext("source"),
        DeviceField::Bus => gettext("bus"),
        DeviceField::Format => gettext("format"),
        DeviceField::Cache => gettext("cache"),
        DeviceField::ReadOnly => gettext("read-only"),
        DeviceField::Shareable => gettext("shareable"),
        DeviceField::Model => gettext("model"),
        DeviceField::Link => gettext("link up"),
    }
}

fn value_text(value: &DriftValue) -> String {
    match value {
        DriftValue::Kib(kib) => format_kib(*kib),
        DriftValue::Count(n) => n.to_string(),
        DriftValue::Text(t) => t.clone(),
        DriftValue::Flag(true) => gettext("yes"),
        DriftValue::Flag(false) => gettext("no"),
        DriftValue::Unset => gettext("none"),
    }
}
