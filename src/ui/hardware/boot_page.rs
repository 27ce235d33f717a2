//! The Boot Options page: the devices to boot from, ticked and ordered with up and
//! down buttons, the firmware's boot menu, the firmware shown. A definition that
//! orders devices one by one (`<boot order>` on disks and NICs) keeps doing so; one
//! that lists kinds of device (`<os><boot dev>`) keeps that.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{Editor, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{device_title, DeviceKey, DeviceKind, DomainXml};

/// One thing the VM can boot from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum BootItem {
    /// A kind of device (`<os><boot dev>`): `hd`, `cdrom`, `network`, `fd`.
    Kind(String),
    /// One device (`<boot order>`).
    Device(DeviceKey),
}

/// An item, what it is called and whether it is ticked.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    item: BootItem,
    label: String,
    enabled: bool,
}

fn kind_label(dev: &str) -> String {
    match dev {
        "hd" => gettext("Hard Disk"),
        "cdrom" => gettext("CD-ROM"),
        "network" => gettext("Network (PXE)"),
        "fd" => gettext("Floppy"),
        other => other.to_owned(),
    }
}

/// The entries of `dom`, in boot order, the ticked ones first.
fn entries(dom: &DomainXml) -> Vec<Entry> {
    let order = dom.boot_order();
    if !order.is_empty() {
        let mut out: Vec<Entry> = order
            .iter()
            .map(|(k, _)| Entry {
                item: BootItem::Device(k.clone()),
                label: device_title(dom, k),
                enabled: true,
            })
            .collect();
        for k in dom.devices() {
            let bootable = matches!(
                k.kind,
                DeviceKind::Disk | DeviceKind::Interface | DeviceKind::Hostdev
            );
            if bootable && !order.iter().any(|(o, _)| *o == k) {
                out.push(Entry {
                    label: device_title(dom, &k),
                    item: BootItem::Device(k),
                    enabled: false,
                });
            }
        }
        return out;
    }
    let devs = dom.os().boot_devs;
    let mut out: Vec<Entry> = devs
        .iter()
        .map(|d| Entry {
            item: BootItem::Kind(d.clone()),
            label: kind_label(d),
            enabled: true,
        })
        .collect();
    for d in crate::model::details::BOOT_DEVICES {
        if !devs.iter().any(|x| x == d) {
            out.push(Entry {
                item: BootItem::Kind(d.to_owned()),
                label: kind_label(d),
                enabled: false,
            });
        }
    }
    out
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-boot-page.ui")]
    pub struct HwBootPage {
        #[template_child]
        pub(super) order_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) menu_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) firmware_row: TemplateChild<adw::ActionRow>,
        pub(super) entries: RefCell<Vec<Entry>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwBootPage {
        const NAME: &'static str = "VireoHwBootPage";
        type Type = super::HwBootPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwBootPage {}
    impl WidgetImpl for HwBootPage {}
    impl BinImpl for HwBootPage {}
}

glib::wrapper! {
    /// The Boot Options page of the hardware view.
    pub struct HwBootPage(ObjectSubclass<imp::HwBootPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for HwBootPage {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl HwBootPage {
    /// The labels of the ticked entries, in boot order.
    pub fn boot_labels(&self) -> Vec<String> {
        self.imp()
            .entries
            .borrow()
            .iter()
            .filter(|e| e.enabled)
            .map(|e| e.label.clone())
            .collect()
    }

    /// Ticks or unticks the entry `label` (as its check button does).
    pub fn set_enabled(&self, label: &str, enabled: bool) {
        if let Some(e) = self
            .imp()
            .entries
            .borrow_mut()
            .iter_mut()
            .find(|e| e.label == label)
        {
            e.enabled = enabled;
        }
        self.fill();
    }

    /// Moves the entry `label` one place up (as its Up button does).
    pub fn move_up(&self, label: &str) {
        let index = self
            .imp()
            .entries
            .borrow()
            .iter()
            .position(|e| e.label == label);
        if let Some(i) = index.filter(|&i| i > 0) {
            self.imp().entries.borrow_mut().swap(i - 1, i);
            self.fill();
        }
    }

    fn fill(&self) {
        let list = &self.imp().order_list;
        while let Some(row) = list.first_child() {
            list.remove(&row);
        }
        let entries = self.imp().entries.borrow().clone();
        let count = entries.len();
        for (i, e) in entries.into_iter().enumerate() {
            let row = adw::ActionRow::builder().title(&e.label).build();
            let check = gtk::CheckButton::builder()
                .active(e.enabled)
                .valign(gtk::Align::Center)
                .build();
            check.update_property(&[gtk::accessible::Property::Label(&gettext_f(
                "Boot From {device}",
                &[("device", &e.label)],
            ))]);
            let label = e.label.clone();
            check.connect_toggled(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |c| {
                    let label = label.clone();
                    let active = c.is_active();
                    // Not while the list is being rebuilt by this very toggle.
                    glib::idle_add_local_once(move || page.set_enabled(&label, active));
                }
            ));
            row.add_prefix(&check);
            row.set_activatable_widget(Some(&check));
            for (up, shown) in [(true, i > 0), (false, i + 1 < count)] {
                let button = gtk::Button::builder()
                    .icon_name(if up {
                        "go-up-symbolic"
                    } else {
                        "go-down-symbolic"
                    })
                    .valign(gtk::Align::Center)
                    .sensitive(shown)
                    .tooltip_text(if up {
                        gettext("Move Up")
                    } else {
                        gettext("Move Down")
                    })
                    .build();
                button.add_css_class("flat");
                let name = if up {
                    gettext_f("Move “{device}” Up", &[("device", &e.label)])
                } else {
                    gettext_f("Move “{device}” Down", &[("device", &e.label)])
                };
                button.update_property(&[gtk::accessible::Property::Label(&name)]);
                let index = i;
                button.connect_clicked(glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    move |_| {
                        let other = if up { index - 1 } else { index + 1 };
                        page.imp().entries.borrow_mut().swap(index, other);
                        page.fill();
                    }
                ));
                row.add_suffix(&button);
            }
            list.append(&row);
        }
    }
}

impl Editor for HwBootPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let imp = self.imp();
        imp.entries.replace(entries(dom));
        self.fill();
        let os = dom.os();
        imp.menu_switch.set_active(os.boot_menu.unwrap_or(false));
        let firmware = match (os.firmware.as_deref(), os.loader.as_deref()) {
            (Some("efi"), _) => gettext("UEFI"),
            (_, Some(loader)) => loader.to_owned(),
            _ => gettext("BIOS"),
        };
        imp.firmware_row.set_subtitle(&firmware);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let shown = self.imp().entries.borrow().clone();
        let enabled: Vec<&BootItem> = shown
            .iter()
            .filter(|e| e.enabled)
            .map(|e| &e.item)
            .collect();
        let before: Vec<BootItem> = entries(dom)
            .into_iter()
            .filter(|e| e.enabled)
            .map(|e| e.item)
            .collect();
        if enabled.iter().copied().ne(before.iter()) {
            let keys: Vec<DeviceKey> = enabled
                .iter()
                .filter_map(|i| match i {
                    BootItem::Device(k) => Some(k.clone()),
                    BootItem::Kind(_) => None,
                })
                .collect();
            let kinds: Vec<&str> = enabled
                .iter()
                .filter_map(|i| match i {
                    BootItem::Kind(k) => Some(k.as_str()),
                    BootItem::Device(_) => None,
                })
                .collect();
            if !keys.is_empty() || dom.os().boot_devs.is_empty() && kinds.is_empty() {
                dom.set_boot_order(&keys).map_err(|e| e.to_string())?;
            } else {
                dom.set_boot_devs(&kinds).map_err(|e| e.to_string())?;
            }
        }
        let menu = self.imp().menu_switch.is_active();
        let mut os = dom.os();
        if os.boot_menu.unwrap_or(false) != menu {
            os.boot_menu = Some(menu);
            dom.set_os(&os).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
