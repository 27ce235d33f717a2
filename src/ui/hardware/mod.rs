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
mod cpu_page;
mod device_page;
mod disk_page;
mod hardware_view;
mod memory_page;
mod nic_page;

pub use add_hardware_dialog::AddHardwareDialog;
pub use boot_page::HwBootPage;
pub use cpu_page::HwCpuPage;
pub use device_page::HwDevicePage;
pub use disk_page::HwDiskPage;
pub use hardware_view::HardwareView;
pub use memory_page::HwMemoryPage;
pub use nic_page::HwNicPage;

use crate::model::details::DomainXml;

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
}

/// The selected string of a combo row whose model is a `GtkStringList`.
pub(crate) fn combo_value(row: &adw::ComboRow) -> Option<String> {
    use adw::prelude::*;
    row.selected_item()
        .and_downcast::<gtk::StringObject>()
        .map(|s| s.string().to_string())
}

/// Fills `row` with `values` (and `current` when it is not among them) and selects
/// `current` (the first value when `None`).
pub(crate) fn combo_fill(row: &adw::ComboRow, values: &[&str], current: Option<&str>) {
    use adw::prelude::*;
    let mut all: Vec<&str> = values.to_vec();
    if let Some(c) = current.filter(|c| !values.contains(c)) {
        all.push(c);
    }
    let list = gtk::StringList::new(&all);
    row.set_model(Some(&list));
    let index = current
        .and_then(|c| all.iter().position(|v| *v == c))
        .unwrap_or(0);
    row.set_selected(index as u32);
}
