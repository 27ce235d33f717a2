//! A VM's Details as virt-manager lays them out: a sidebar with the overview, CPUs,
//! memory, boot options and every device of the definition, and a page for the one
//! chosen, with Apply and Revert ([`HardwareView`]).
//!
//! Each page shows the persistent definition (a [`DomainXml`] document) and writes
//! what a person changed back into a copy of it, so that everything else of the XML
//! stays byte for byte; the view saves that copy (nothing when nothing changed) or,
//! for what a running VM can change at once (media, link state), hands libvirt the
//! one device.

mod add_hardware_dialog;
mod boot_page;
mod chardev_page;
mod controller_page;
mod cpu_page;
mod device_page;
mod disk_page;
mod filesystem_page;
mod graphics_page;
mod hardware_view;
mod hostdev_page;
mod input_page;
mod memory_page;
mod nic_page;
mod page_for;
mod rng_page;
mod sound_page;
mod tpm_page;
mod video_page;
mod watchdog_page;

pub use add_hardware_dialog::AddHardwareDialog;
pub use boot_page::HwBootPage;
pub use chardev_page::HwCharDevicePage;
pub use controller_page::HwControllerPage;
pub use cpu_page::HwCpuPage;
pub use device_page::HwDevicePage;
pub use disk_page::HwDiskPage;
pub use filesystem_page::HwFilesystemPage;
pub use graphics_page::HwGraphicsPage;
pub use hardware_view::HardwareView;
pub use hostdev_page::HwHostdevPage;
pub use input_page::HwInputPage;
pub use memory_page::HwMemoryPage;
pub use nic_page::HwNicPage;
pub use rng_page::HwRngPage;
pub use sound_page::HwSoundPage;
pub use tpm_page::HwTpmPage;
pub use video_page::HwVideoPage;
pub use watchdog_page::HwWatchdogPage;

use gtk::prelude::IsA;

use crate::model::details::{value_name, value_names, DomainXml};

/// What a page is told of the host.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HostLimits {
    /// The host's memory in KiB (0: unknown).
    pub memory_kib: u64,
}

/// One page of the hardware view.
pub(crate) trait Editor {
    /// The page's widget.
    fn widget(&self) -> gtk::Widget;
    /// Shows the values of the definition `dom`.
    fn load(&self, dom: &DomainXml);
    /// Writes the page's values into `dom`; `Err` says which value is wrong and why.
    fn write(&self, dom: &mut DomainXml, limits: &HostLimits) -> Result<(), String>;
    /// Whether the page shows `write`'s problems itself, on the wrong field with the
    /// text under it (and clears them on `load` and the next `write`); the view's
    /// message line then stays empty instead of repeating them.
    fn shows_problems_on_fields(&self) -> bool {
        false
    }
    /// For a running VM: the device's new XML when everything that changed between
    /// `before` and `after` can change at once (media, link state); `None` when the
    /// change waits for the next boot.
    fn live_update(&self, _before: &DomainXml, _after: &DomainXml) -> Option<String> {
        None
    }
    /// For a running VM: the memory (KiB) to give it now through its balloon, when
    /// the page's change between `before` and `after` is the current allocation alone
    /// and the VM has a balloon; `None` when the change waits for the next start.
    fn live_memory(&self, _before: &DomainXml, _after: &DomainXml) -> Option<u64> {
        None
    }
}

/// The name `value` shows by in a row's list (`virtio` → `VirtIO`, see
/// [`value_names`]); a value without one shows as libvirt writes it (`e1000e`).
fn value_label(value: &str) -> String {
    value_name(value).unwrap_or_else(|| value.to_owned())
}

/// The libvirt value of the choice selected in a row that [`combo_fill`] filled.
pub(crate) fn combo_value(row: &adw::ComboRow) -> Option<String> {
    use adw::prelude::*;
    let shown = row
        .selected_item()
        .and_downcast::<gtk::StringObject>()?
        .string();
    Some(
        value_names()
            .into_iter()
            .find(|(_, name)| *name == shown)
            .map_or_else(|| shown.to_string(), |(value, _)| value.to_owned()),
    )
}

/// Fills `row` with `values` (and `current` when it is not among them), each shown by
/// its name ([`value_names`]), and selects `current` (the first value when `None`).
pub(crate) fn combo_fill(row: &adw::ComboRow, values: &[&str], current: Option<&str>) {
    use adw::prelude::*;
    let mut all: Vec<&str> = values.to_vec();
    if let Some(c) = current.filter(|c| !values.contains(c)) {
        all.push(c);
    }
    let labels: Vec<String> = all.iter().map(|v| value_label(v)).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let list = gtk::StringList::new(&labels);
    row.set_model(Some(&list));
    let index = current
        .and_then(|c| all.iter().position(|v| *v == c))
        .unwrap_or(0);
    row.set_selected(index as u32);
}

/// Fills `row` with the labels of `choices` (value, label shown), adding `current`
/// as its own label when it is not among them, selects `current` (the first choice
/// when `None`) and returns the values in the row's order, for [`choice_value`].
pub(crate) fn choices_fill(
    row: &adw::ComboRow,
    choices: &[(&str, String)],
    current: Option<&str>,
) -> Vec<String> {
    use adw::prelude::*;
    let mut values: Vec<String> = choices.iter().map(|(v, _)| (*v).to_owned()).collect();
    let mut labels: Vec<String> = choices.iter().map(|(_, l)| l.clone()).collect();
    if let Some(c) = current.filter(|c| !values.iter().any(|v| v == c)) {
        values.push(c.to_owned());
        labels.push(c.to_owned());
    }
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    row.set_model(Some(&gtk::StringList::new(&labels)));
    let index = current
        .and_then(|c| values.iter().position(|v| v == c))
        .unwrap_or(0);
    row.set_selected(index as u32);
    values
}

/// The value of the choice selected in a row that [`choices_fill`] filled.
pub(crate) fn choice_value(row: &adw::ComboRow, values: &[String]) -> Option<String> {
    use adw::prelude::*;
    values.get(row.selected() as usize).cloned()
}

/// Marks `row` as wrong and says why in `label` (the page's line under its fields);
/// returns the sentence, for [`Editor::write`].
pub(crate) fn field_error(
    row: &(impl IsA<gtk::Widget> + IsA<gtk::Accessible>),
    label: &gtk::Label,
    text: String,
) -> String {
    use gtk::prelude::*;
    crate::ui::show_error(label, Some(row.upcast_ref()), Some(text.clone()));
    row.update_state(&[gtk::accessible::State::Invalid(
        gtk::AccessibleInvalidState::True,
    )]);
    text
}

/// Clears what [`field_error`] marked on `rows` and `label`.
pub(crate) fn clear_field_errors(rows: &[&gtk::Widget], label: &gtk::Label) {
    use gtk::prelude::*;
    for row in rows {
        crate::ui::show_error(label, Some(row), None);
        row.reset_state(gtk::AccessibleState::Invalid);
    }
    crate::ui::show_error(label, None, None);
}

/// Clears the error [`field_error`] put on the entry row `row` as soon as it is
/// edited again.
pub(crate) fn clear_error_on_edit(row: &adw::EntryRow, label: &gtk::Label) {
    use adw::prelude::*;
    let label = label.clone();
    row.connect_changed(move |row| {
        if row.has_css_class("error") {
            clear_field_errors(&[row.upcast_ref()], &label);
        }
    });
}

/// Selects the value `value` of a row that [`combo_fill`] filled (as a click does).
pub(crate) fn combo_select(row: &adw::ComboRow, value: &str) {
    use adw::prelude::*;
    let Some(model) = row.model() else { return };
    let index = (0..model.n_items()).find(|&i| {
        model
            .item(i)
            .and_downcast::<gtk::StringObject>()
            .is_some_and(|s| s.string() == value_label(value))
    });
    if let Some(i) = index {
        row.set_selected(i);
    }
}
