//! Step 5: name, network, firmware, "customize before install", and a summary.

use std::cell::RefCell;

use adw::prelude::*;
use gettextrs::gettext;

use super::{messages::problems_text, obj, show_error, string_list};
use crate::virt::new_vm::host::HostInfo;
use crate::virt::new_vm::{Field, Firmware, NetworkChoice, Problem};

/// What a row of the network combo stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NetKind {
    Network(String),
    Bridge,
    User,
    None,
}

/// The widgets of the last page.
pub struct FinishPage {
    pub page: adw::PreferencesPage,
    pub name_row: adw::EntryRow,
    pub name_error: gtk::Label,
    pub network_row: adw::ComboRow,
    pub bridge_row: adw::EntryRow,
    pub firmware_row: adw::ComboRow,
    pub firmware_error: gtk::Label,
    pub customize_switch: gtk::Switch,
    pub summary_group: adw::PreferencesGroup,
    nets: RefCell<Vec<NetKind>>,
    summary_rows: RefCell<Vec<adw::ActionRow>>,
}

impl FinishPage {
    /// Builds the page from its template.
    pub fn new() -> Self {
        let b = gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/new-vm-finish.ui");
        let p = FinishPage {
            page: obj(&b, "page"),
            name_row: obj(&b, "name_row"),
            name_error: obj(&b, "name_error"),
            network_row: obj(&b, "network_row"),
            bridge_row: obj(&b, "bridge_row"),
            firmware_row: obj(&b, "firmware_row"),
            firmware_error: obj(&b, "firmware_error"),
            customize_switch: obj(&b, "customize_switch"),
            summary_group: obj(&b, "summary_group"),
            nets: RefCell::default(),
            summary_rows: RefCell::default(),
        };
        p.firmware_row
            .set_model(Some(&string_list(&[gettext("BIOS"), gettext("UEFI")])));
        p
    }

    /// Lists the host's networks, then bridge, user-mode and none.
    pub fn fill_host(&self, host: &HostInfo, session: bool) {
        let mut kinds: Vec<NetKind> = host
            .networks
            .iter()
            .map(|n| NetKind::Network(n.clone()))
            .collect();
        // A session daemon cannot make taps: user-mode first there.
        if session {
            kinds.insert(0, NetKind::User);
        } else {
            kinds.push(NetKind::User);
        }
        kinds.push(NetKind::Bridge);
        kinds.push(NetKind::None);
        let labels: Vec<String> = kinds
            .iter()
            .map(|k| match k {
                NetKind::Network(n) => {
                    crate::i18n::gettext_f("Virtual network “{name}” (NAT)", &[("name", n)])
                }
                NetKind::Bridge => gettext("Host bridge"),
                NetKind::User => gettext("User-mode networking"),
                NetKind::None => gettext("No network"),
            })
            .collect();
        self.network_row.set_model(Some(&string_list(&labels)));
        self.network_row.set_selected(0);
        *self.nets.borrow_mut() = kinds;
    }

    /// Shows the bridge name only when a bridge is chosen.
    pub fn update_visibility(&self) {
        let k = self
            .nets
            .borrow()
            .get(self.network_row.selected() as usize)
            .cloned();
        self.bridge_row.set_visible(k == Some(NetKind::Bridge));
    }

    /// The chosen network.
    pub fn network(&self) -> NetworkChoice {
        match self.nets.borrow().get(self.network_row.selected() as usize) {
            Some(NetKind::Network(n)) => NetworkChoice::Nat { network: n.clone() },
            Some(NetKind::Bridge) => NetworkChoice::Bridge {
                name: self.bridge_row.text().trim().to_owned(),
            },
            Some(NetKind::User) => NetworkChoice::User,
            _ => NetworkChoice::None,
        }
    }

    /// The chosen firmware.
    pub fn firmware(&self) -> Firmware {
        if self.firmware_row.selected() == 1 {
            Firmware::Uefi
        } else {
            Firmware::Bios
        }
    }

    /// Replaces the summary with (title, value) rows.
    pub fn set_summary(&self, items: &[(String, String)]) {
        for r in self.summary_rows.borrow_mut().drain(..) {
            self.summary_group.remove(&r);
        }
        for (t, v) in items {
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(t).as_str())
                .subtitle(glib::markup_escape_text(v).as_str())
                .build();
            row.add_css_class("property");
            self.summary_group.add(&row);
            self.summary_rows.borrow_mut().push(row);
        }
    }

    /// Marks this page's problems.
    pub fn show_problems(&self, problems: &[(Field, Problem)]) {
        let text = |f: Field| problems_text(problems, |pf| pf == f);
        show_error(
            &self.name_error,
            Some(self.name_row.upcast_ref()),
            text(Field::Name),
        );
        show_error(
            &self.firmware_error,
            Some(self.firmware_row.upcast_ref()),
            text(Field::Firmware),
        );
    }
}

impl Default for FinishPage {
    fn default() -> Self {
        Self::new()
    }
}

use gtk::glib;
