//! A serial port's, console's, channel's or parallel port's page: what it is
//! connected to on the host (a pseudo terminal, a file, a UNIX socket) and what the
//! guest sees (the target type), for the VM's next start. A console that is serial
//! port 0 seen again says so and is changed through the serial port.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{
    choice_value, choices_fill, clear_field_errors, combo_fill, combo_value, field_error, Editor,
    HostLimits,
};
use crate::model::details::{CharDevice, DeviceKey, DeviceKind, DomainXml};

/// The host sides this page switches between; others are shown as they are.
fn host_sides() -> Vec<(&'static str, String)> {
    vec![
        ("pty", gettext("Pseudo terminal")),
        ("file", gettext("File")),
        ("unix", gettext("UNIX socket")),
    ]
}

/// The guest sides a kind of device can have (empty: not chosen here).
fn targets(kind: DeviceKind) -> &'static [&'static str] {
    match kind {
        DeviceKind::Serial => &["isa-serial", "usb-serial", "pci-serial"],
        DeviceKind::Console => &["serial", "virtio"],
        _ => &[],
    }
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-chardev-page.ui")]
    pub struct HwCharDevicePage {
        #[template_child]
        pub(super) group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) type_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) path_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) target_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) name_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) twin_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) types: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwCharDevicePage {
        const NAME: &'static str = "VireoHwCharDevicePage";
        type Type = super::HwCharDevicePage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwCharDevicePage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            super::super::clear_error_on_edit(&self.path_row, &self.error_label);
            self.type_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.follow_type()
            ));
        }
    }
    impl WidgetImpl for HwCharDevicePage {}
    impl BinImpl for HwCharDevicePage {}
}

glib::wrapper! {
    /// A character device's page of the hardware view.
    pub struct HwCharDevicePage(ObjectSubclass<imp::HwCharDevicePage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwCharDevicePage {
    /// The page of the character device `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Connects it to `char_type` (`pty`, `file`, `unix`) at `path`, as a person does.
    pub fn set_host_side(&self, char_type: &str, path: &str) {
        let imp = self.imp();
        let index = imp.types.borrow().iter().position(|t| t == char_type);
        if let Some(i) = index {
            imp.type_row.set_selected(i as u32);
        }
        imp.path_row.set_text(path);
    }

    /// What the page says is wrong with a field (empty: nothing).
    pub fn problem(&self) -> String {
        let label = &self.imp().error_label;
        if label.is_visible() {
            label.label().to_string()
        } else {
            String::new()
        }
    }

    fn host_side(&self) -> Option<String> {
        let imp = self.imp();
        choice_value(&imp.type_row, &imp.types.borrow())
    }

    fn follow_type(&self) {
        let with_path = matches!(self.host_side().as_deref(), Some("file" | "unix"));
        self.imp().path_row.set_visible(with_path);
    }

    fn kind(&self) -> Option<DeviceKind> {
        self.imp().key.borrow().as_ref().map(|k| k.kind)
    }
}

impl Editor for HwCharDevicePage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(dev) = dom.device::<CharDevice>(&key) else {
            return;
        };
        let imp = self.imp();
        clear_field_errors(&[imp.path_row.upcast_ref()], &imp.error_label);
        imp.group.set_title(&match key.kind {
            DeviceKind::Serial => gettext("Serial Port"),
            DeviceKind::Console => gettext("Console"),
            DeviceKind::Channel => gettext("Channel"),
            _ => gettext("Parallel Port"),
        });
        let types = choices_fill(&imp.type_row, &host_sides(), Some(&dev.char_type));
        let ours = host_sides().iter().any(|(t, _)| *t == dev.char_type);
        imp.types.replace(types);
        imp.path_row
            .set_text(dev.source_path.as_deref().unwrap_or_default());
        let targets = targets(key.kind);
        combo_fill(&imp.target_row, targets, dev.target_type.as_deref());
        imp.target_row.set_visible(!targets.is_empty());
        imp.name_row
            .set_subtitle(dev.target_name.as_deref().unwrap_or_default());
        imp.name_row.set_visible(dev.target_name.is_some());
        // Console 1 of target type serial is serial port 1 seen again.
        let twin = key.kind == DeviceKind::Console
            && dev.target_type.as_deref() == Some("serial")
            && dom
                .devices_of::<CharDevice>()
                .iter()
                .any(|(k, _)| k.kind == DeviceKind::Serial);
        imp.twin_label.set_visible(twin);
        for row in [
            imp.type_row.upcast_ref::<gtk::Widget>(),
            imp.path_row.upcast_ref(),
            imp.target_row.upcast_ref(),
        ] {
            row.set_sensitive(ours && !twin);
        }
        self.follow_type();
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        clear_field_errors(&[imp.path_row.upcast_ref()], &imp.error_label);
        if !imp.type_row.is_sensitive() {
            return Ok(());
        }
        let old = dom.device::<CharDevice>(&key).map_err(|e| e.to_string())?;
        let Some(host_side) = self.host_side() else {
            return Ok(());
        };
        let path = imp.path_row.text().trim().to_owned();
        let with_path = matches!(host_side.as_str(), "file" | "unix");
        // A channel's socket may be left to libvirt, which picks its path.
        let optional = self.kind() == Some(DeviceKind::Channel) && host_side == "unix";
        if with_path && !path.starts_with('/') && !(optional && path.is_empty()) {
            return Err(field_error(
                &*imp.path_row,
                &imp.error_label,
                gettext("Enter a full path on the host, starting with “/”."),
            ));
        }
        let path = (with_path && !path.is_empty()).then_some(path);
        if host_side != old.char_type || (with_path && path != old.source_path) {
            dom.set_char_source(&key, &host_side, path.as_deref())
                .map_err(|e| e.to_string())?;
        }
        if let Some(target) = combo_value(&imp.target_row).filter(|_| imp.target_row.is_visible()) {
            // No type written is the kind's default, the first of its list.
            let default = self.kind().and_then(|k| targets(k).first().copied());
            if old.target_type.as_deref().or(default) != Some(target.as_str()) {
                dom.set_char_target_type(&key, &target)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn shows_problems_on_fields(&self) -> bool {
        true
    }
}
