//! Step 4: a new volume in a pool, an existing disk, or none.

use std::cell::RefCell;

use adw::prelude::*;

use super::{messages::problems_text, obj, show_error, string_list};
use crate::i18n::gettext_f;
use crate::virt::new_vm::host::HostInfo;
use crate::virt::new_vm::{Field, Problem, Storage};

/// The widgets of the storage page.
pub struct StoragePage {
    pub page: adw::PreferencesPage,
    pub new_check: gtk::CheckButton,
    pub existing_check: gtk::CheckButton,
    pub none_check: gtk::CheckButton,
    pub new_group: adw::PreferencesGroup,
    pub existing_group: adw::PreferencesGroup,
    pub pool_row: adw::ComboRow,
    pub size_row: adw::ActionRow,
    pub size_spin: gtk::SpinButton,
    pub path_row: adw::EntryRow,
    pub error: gtk::Label,
    pools: RefCell<Vec<String>>,
}

impl StoragePage {
    /// Builds the page from its template.
    pub fn new() -> Self {
        let b = gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/new-vm-storage.ui");
        StoragePage {
            page: obj(&b, "page"),
            new_check: obj(&b, "new_check"),
            existing_check: obj(&b, "existing_check"),
            none_check: obj(&b, "none_check"),
            new_group: obj(&b, "new_group"),
            existing_group: obj(&b, "existing_group"),
            pool_row: obj(&b, "pool_row"),
            size_row: obj(&b, "size_row"),
            size_spin: obj(&b, "size_spin"),
            path_row: obj(&b, "path_row"),
            error: obj(&b, "error"),
            pools: RefCell::default(),
        }
    }

    /// Lists the host's pools; "default" is offered even when missing (it is made).
    pub fn fill_host(&self, host: &HostInfo) {
        let mut names: Vec<String> = host
            .pools
            .iter()
            .filter(|p| p.active)
            .map(|p| p.name.clone())
            .collect();
        if !host.pools.iter().any(|p| p.name == "default") {
            names.insert(0, "default".to_owned());
        }
        let labels: Vec<String> = names
            .iter()
            .map(|n| match host.pools.iter().find(|p| &p.name == n) {
                Some(p) => gettext_f(
                    "{pool} ({gib} GiB free)",
                    &[("pool", n), ("gib", &(p.available >> 30).to_string())],
                ),
                None => gettext_f("{pool} (will be created)", &[("pool", n)]),
            })
            .collect();
        self.pool_row.set_model(Some(&string_list(&labels)));
        self.pool_row.set_selected(0);
        *self.pools.borrow_mut() = names;
    }

    /// Shows the inputs of the chosen kind of disk.
    pub fn update_visibility(&self) {
        self.new_group.set_visible(self.new_check.is_active());
        self.existing_group
            .set_visible(self.existing_check.is_active());
    }

    /// The chosen storage.
    pub fn storage(&self) -> Storage {
        if self.existing_check.is_active() {
            Storage::Existing {
                path: self.path_row.text().trim().to_owned(),
            }
        } else if self.none_check.is_active() {
            Storage::None
        } else {
            Storage::NewVolume {
                pool: self
                    .pools
                    .borrow()
                    .get(self.pool_row.selected() as usize)
                    .cloned()
                    .unwrap_or_else(|| "default".to_owned()),
                size_gib: self.size_spin.value() as u64,
            }
        }
    }

    /// Marks this page's problems.
    pub fn show_problems(&self, problems: &[(Field, Problem)]) {
        let text = problems_text(problems, |f| f == Field::Storage);
        let field: &gtk::Widget = if self.existing_check.is_active() {
            self.path_row.upcast_ref()
        } else {
            self.size_row.upcast_ref()
        };
        show_error(&self.error, Some(field), text);
    }
}

impl Default for StoragePage {
    fn default() -> Self {
        Self::new()
    }
}
