//! A host device's page: which of the host's USB devices or PCI functions the VM has
//! (named from the host's list of devices when it is plugged in there, else by the ids
//! or the address its XML gives), where it is on the host, the host driver holding it,
//! and, for PCI, whether libvirt detaches it from the host by itself. Other kinds of
//! host device (SCSI, mediated devices) show their XML's type only.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{Editor, HardwareView, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{DeviceKey, DomainXml, HostDevice, Hostdev, HostdevSource};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-hostdev-page.ui")]
    pub struct HwHostdevPage {
        #[template_child]
        pub(super) device_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) address_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) driver_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) managed_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) managed_switch: TemplateChild<gtk::Switch>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        /// The device's source, as last loaded.
        pub(super) source: RefCell<Option<HostdevSource>>,
        /// The host's devices, once read (`None` before, or where they cannot be).
        pub(super) host_devices: RefCell<Option<Vec<HostDevice>>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwHostdevPage {
        const NAME: &'static str = "VireoHwHostdevPage";
        type Type = super::HwHostdevPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwHostdevPage {}

    impl WidgetImpl for HwHostdevPage {
        fn map(&self) {
            self.parent_map();
            // The host's devices name the VM's once the page knows its VM's host.
            if self.host_devices.borrow().is_none() {
                self.obj().read_host_devices();
            }
        }
    }

    impl BinImpl for HwHostdevPage {}
}

glib::wrapper! {
    /// A host device's page of the hardware view.
    pub struct HwHostdevPage(ObjectSubclass<imp::HwHostdevPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwHostdevPage {
    /// The page of the host device `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// What the page calls the device (its Device row).
    pub fn device_text(&self) -> String {
        self.imp()
            .device_row
            .subtitle()
            .unwrap_or_default()
            .to_string()
    }

    fn read_host_devices(&self) {
        let Some(connection) = self
            .ancestor(HardwareView::static_type())
            .and_downcast::<HardwareView>()
            .and_then(|view| view.domain())
            .and_then(|domain| domain.connection())
        else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                match connection.host_devices().await {
                    Ok(devices) => {
                        page.imp().host_devices.replace(Some(devices));
                        page.show_device();
                    }
                    Err(e) => tracing::info!(error = %e, "the host's devices are not listed"),
                }
            }
        ));
    }

    /// Fills the rows from the source loaded and the host's devices.
    fn show_device(&self) {
        let imp = self.imp();
        let Some(source) = imp.source.borrow().clone() else {
            return;
        };
        let on_host = imp
            .host_devices
            .borrow()
            .as_ref()
            .and_then(|all| all.iter().find(|d| d.is_named_by(&source)).cloned());
        let listed = imp.host_devices.borrow().is_some();
        let (device, place) = match (&on_host, &source) {
            (Some(d), _) => (d.description(), d.address.to_string()),
            (
                None,
                HostdevSource::Usb {
                    vendor,
                    product,
                    bus,
                    device,
                },
            ) => (
                match (vendor, product) {
                    (Some(v), Some(p)) => gettext_f(
                        "USB device {vendor}:{product}",
                        &[
                            ("vendor", v.trim_start_matches("0x")),
                            ("product", p.trim_start_matches("0x")),
                        ],
                    ),
                    _ => gettext("USB device"),
                },
                match (bus, device) {
                    (Some(b), Some(d)) => format!("USB {b}:{d}"),
                    _ => gettext("Any port"),
                },
            ),
            (
                None,
                HostdevSource::Pci {
                    domain,
                    bus,
                    slot,
                    function,
                },
            ) => (
                gettext("PCI device"),
                format!(
                    "{:0>4}:{:0>2}:{:0>2}.{}",
                    domain.trim_start_matches("0x"),
                    bus.trim_start_matches("0x"),
                    slot.trim_start_matches("0x"),
                    function.trim_start_matches("0x")
                ),
            ),
            (None, HostdevSource::Other(kind)) => (
                gettext_f("Host device ({kind})", &[("kind", kind)]),
                String::new(),
            ),
        };
        let place = if on_host.is_none() && listed && !matches!(source, HostdevSource::Other(_)) {
            gettext_f(
                "{place} · not plugged into the host now",
                &[("place", &place)],
            )
        } else {
            place
        };
        imp.device_row
            .set_subtitle(&glib::markup_escape_text(&device));
        imp.address_row
            .set_subtitle(&glib::markup_escape_text(&place));
        imp.address_row.set_visible(!place.is_empty());
        let driver = on_host.and_then(|d| d.driver);
        imp.driver_row.set_visible(driver.is_some());
        imp.driver_row.set_subtitle(&glib::markup_escape_text(
            driver.as_deref().unwrap_or_default(),
        ));
    }
}

impl Editor for HwHostdevPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(hostdev) = dom.device::<Hostdev>(&key) else {
            return;
        };
        let imp = self.imp();
        let pci = matches!(hostdev.source, HostdevSource::Pci { .. });
        imp.managed_row.set_visible(pci);
        imp.managed_switch
            .set_active(hostdev.managed.unwrap_or(false));
        imp.source.replace(Some(hostdev.source));
        self.show_device();
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        if !imp.managed_row.is_visible() {
            return Ok(());
        }
        let managed = imp.managed_switch.is_active();
        dom.edit_device(&key, |h: &mut Hostdev| {
            // No attribute reads as "no": only a real change is written.
            if h.managed.unwrap_or(false) != managed {
                h.managed = Some(managed);
            }
        })
        .map_err(|e| e.to_string())
    }
}
