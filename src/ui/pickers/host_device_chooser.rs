//! One of the host's USB devices or PCI functions, chosen from the list of them
//! (Add Hardware's "USB Host Device" and "PCI Host Device"): each row names the device
//! (vendor and product), where it is, its ids and the host driver that holds it. A
//! search narrows the list; the devices this VM already has are shown but cannot be
//! chosen; a host with none of them says so.

use std::cell::{Cell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::show_error;
use crate::i18n::gettext_f;
use crate::model::details::{HostDevice, HostdevSource};
use crate::model::{error_text, ConnectionObject};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/host-device-chooser.ui")]
    pub struct HostDeviceChooser {
        #[template_child]
        pub(super) search_entry: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub(super) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) empty_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        /// Every device of the host, as last read.
        pub(super) devices: RefCell<Vec<HostDevice>>,
        /// The rows shown: the device, its row and its check button.
        pub(super) rows: RefCell<Vec<(HostDevice, adw::ActionRow, gtk::CheckButton)>>,
        /// What this VM is already given.
        pub(super) taken: RefCell<Vec<HostdevSource>>,
        /// True: USB devices; false: PCI functions.
        pub(super) usb: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostDeviceChooser {
        const NAME: &'static str = "VireoHostDeviceChooser";
        type Type = super::HostDeviceChooser;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HostDeviceChooser {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.usb.set(true);
            self.search_entry.connect_search_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.filter()
            ));
        }
    }

    impl WidgetImpl for HostDeviceChooser {}
    impl BinImpl for HostDeviceChooser {}
}

glib::wrapper! {
    /// A list of the host's USB devices or PCI functions to choose one from.
    pub struct HostDeviceChooser(ObjectSubclass<imp::HostDeviceChooser>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for HostDeviceChooser {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl HostDeviceChooser {
    /// Reads the devices of `connection`'s host (on its worker) and lists them;
    /// libvirt's refusal shows instead of the list.
    pub fn load(&self, connection: &ConnectionObject) {
        let imp = self.imp();
        imp.stack.set_visible_child_name("loading");
        let connection = connection.clone();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = chooser)]
            self,
            async move {
                match connection.host_devices().await {
                    Ok(devices) => {
                        chooser.imp().devices.replace(devices);
                        chooser.fill();
                    }
                    Err(e) => {
                        chooser.set_error(Some(error_text(&e)));
                        chooser.imp().stack.set_visible_child_name("empty");
                        chooser.imp().empty_label.set_label("");
                    }
                }
            }
        ));
    }

    /// Lists USB devices (`true`) or PCI functions (`false`).
    pub fn set_usb(&self, usb: bool) {
        if self.imp().usb.replace(usb) != usb {
            self.fill();
        }
    }

    /// The devices the VM already has: listed, not offered.
    pub fn set_taken(&self, taken: Vec<HostdevSource>) {
        self.imp().taken.replace(taken);
        self.fill();
    }

    /// The device chosen, and whether another device of its vendor and product is
    /// plugged into the host (then its address must say which: see
    /// [`HostDevice::source`]).
    pub fn chosen(&self) -> Option<(HostDevice, bool)> {
        let imp = self.imp();
        let rows = imp.rows.borrow();
        let (device, _, _) = rows.iter().find(|(_, _, check)| check.is_active())?;
        let twins = imp
            .devices
            .borrow()
            .iter()
            .filter(|d| d.is_usb() && d.vendor == device.vendor && d.product == device.product)
            .count();
        Some((device.clone(), twins > 1))
    }

    /// The descriptions of the rows offered (shown and choosable), in order.
    pub fn offered(&self) -> Vec<String> {
        self.imp()
            .rows
            .borrow()
            .iter()
            .filter(|(_, row, _)| row.is_visible() && row.is_sensitive())
            .map(|(d, _, _)| d.description())
            .collect()
    }

    /// Chooses the first device offered whose description contains `text`, as a click
    /// does; false when none does.
    pub fn choose(&self, text: &str) -> bool {
        let rows = self.imp().rows.borrow();
        let found = rows.iter().find(|(d, row, _)| {
            row.is_visible() && row.is_sensitive() && d.description().contains(text)
        });
        if let Some((_, _, check)) = found {
            check.set_active(true);
        }
        found.is_some()
    }

    /// What the chooser says instead of a list (no device, none matching), if it does.
    pub fn empty_text(&self) -> String {
        let imp = self.imp();
        if imp.stack.visible_child_name().as_deref() == Some("empty") {
            imp.empty_label.label().to_string()
        } else {
            String::new()
        }
    }

    /// The widget a problem marks and focuses (the list).
    pub fn problem_widget(&self) -> gtk::Widget {
        self.imp().list.get().upcast()
    }

    /// What the chooser says is wrong, if anything.
    pub fn error(&self) -> Option<String> {
        let label = &self.imp().error_label;
        label.is_visible().then(|| label.label().to_string())
    }

    /// Shows `text` under the list (and marks it), or clears it.
    pub fn set_error(&self, text: Option<String>) {
        let imp = self.imp();
        if text.is_some() {
            imp.list.add_css_class("error");
        } else {
            imp.list.remove_css_class("error");
        }
        show_error(&imp.error_label, Some(imp.list.upcast_ref()), text);
    }

    /// Builds the rows of the devices of the bus shown.
    fn fill(&self) {
        let imp = self.imp();
        while let Some(row) = imp.list.first_child() {
            imp.list.remove(&row);
        }
        let usb = imp.usb.get();
        let devices: Vec<HostDevice> = imp
            .devices
            .borrow()
            .iter()
            .filter(|d| d.is_usb() == usb)
            .cloned()
            .collect();
        let mut group: Option<gtk::CheckButton> = None;
        let mut rows = Vec::new();
        for device in devices {
            let taken = imp.taken.borrow().iter().any(|s| device.is_named_by(s));
            let check = gtk::CheckButton::new();
            check.set_group(group.as_ref());
            group.get_or_insert_with(|| check.clone());
            check.connect_toggled(glib::clone!(
                #[weak(rename_to = chooser)]
                self,
                move |c| {
                    if c.is_active() {
                        chooser.set_error(None);
                    }
                }
            ));
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(&device.description()).as_str())
                .subtitle(glib::markup_escape_text(&details(&device, taken)).as_str())
                .activatable_widget(&check)
                .sensitive(!taken)
                .build();
            row.add_prefix(&check);
            check.update_property(&[gtk::accessible::Property::Label(&device.description())]);
            imp.list.append(&row);
            rows.push((device, row, check));
        }
        imp.rows.replace(rows);
        self.filter();
    }

    /// Shows the rows the search matches, or says why there is nothing to choose.
    fn filter(&self) {
        let imp = self.imp();
        // Nothing to search among: no search entry.
        imp.search_entry.set_visible(!imp.rows.borrow().is_empty());
        let needle = imp.search_entry.text().to_lowercase();
        let mut shown = 0;
        for (device, row, _) in imp.rows.borrow().iter() {
            let visible = needle.is_empty()
                || format!("{} {}", device.description(), details(device, false))
                    .to_lowercase()
                    .contains(&needle);
            row.set_visible(visible);
            shown += usize::from(visible);
        }
        if shown > 0 {
            imp.stack.set_visible_child_name("list");
            return;
        }
        let text = match (imp.rows.borrow().is_empty(), imp.usb.get()) {
            (false, _) => gettext_f(
                "No device of the host matches “{search}”.",
                &[("search", &imp.search_entry.text())],
            ),
            (true, true) => gettext("The host has no USB device to give to a virtual machine."),
            (true, false) => gettext("The host has no PCI device to give to a virtual machine."),
        };
        imp.empty_label.set_label(&text);
        imp.stack.set_visible_child_name("empty");
    }
}

/// A row's second line: where the device is, its ids, its host driver, and whether the
/// VM already has it.
fn details(device: &HostDevice, taken: bool) -> String {
    let mut parts = vec![device.address.to_string()];
    if let (Some(v), Some(p)) = (&device.vendor, &device.product) {
        parts.push(format!(
            "{}:{}",
            v.id.trim_start_matches("0x"),
            p.id.trim_start_matches("0x")
        ));
    }
    if let Some(driver) = &device.driver {
        parts.push(gettext_f("driver {driver}", &[("driver", driver)]));
    }
    if let Some(group) = device.iommu_group {
        parts.push(gettext_f(
            "IOMMU group {group}",
            &[("group", &group.to_string())],
        ));
    }
    if taken {
        parts.push(gettext("this virtual machine has it already"));
    }
    parts.join(" · ")
}
