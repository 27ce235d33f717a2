//! A video card's page: its model and, for QXL, its video memory. Both apply at the
//! VM's next start.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{choice_value, choices_fill, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Video};

/// The models, named as virt-manager names them; `none` leaves the VM without a card.
fn models() -> Vec<(&'static str, String)> {
    vec![
        ("virtio", "Virtio".into()),
        ("qxl", "QXL".into()),
        ("vga", "VGA".into()),
        ("bochs", "Bochs".into()),
        ("ramfb", "Ramfb".into()),
        ("none", gettext("None")),
    ]
}
/// QXL's video memory when none is written (libvirt's default), in MiB.
const QXL_DEFAULT_VRAM_MIB: f64 = 64.0;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-video-page.ui")]
    pub struct HwVideoPage {
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) vram_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) vram_spin: TemplateChild<gtk::SpinButton>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) models: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwVideoPage {
        const NAME: &'static str = "VireoHwVideoPage";
        type Type = super::HwVideoPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwVideoPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.model_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    let qxl = obj.model().as_deref() == Some("qxl");
                    obj.imp().vram_row.set_visible(qxl);
                }
            ));
        }
    }
    impl WidgetImpl for HwVideoPage {}
    impl BinImpl for HwVideoPage {}
}

glib::wrapper! {
    /// A video card's page of the hardware view.
    pub struct HwVideoPage(ObjectSubclass<imp::HwVideoPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwVideoPage {
    /// The page of the video card `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the model `model`, as its row does.
    pub fn set_model(&self, model: &str) {
        let imp = self.imp();
        let index = imp.models.borrow().iter().position(|m| m == model);
        if let Some(i) = index {
            imp.model_row.set_selected(i as u32);
        }
    }

    fn model(&self) -> Option<String> {
        let imp = self.imp();
        choice_value(&imp.model_row, &imp.models.borrow())
    }

    /// Sets QXL's video memory in MiB, as its spin button does.
    pub fn set_vram_mib(&self, mib: u32) {
        self.imp().vram_spin.set_value(f64::from(mib));
    }
}

impl Editor for HwVideoPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(video) = dom.device::<Video>(&key) else {
            return;
        };
        let imp = self.imp();
        let models = choices_fill(&imp.model_row, &models(), video.model.as_deref());
        imp.models.replace(models);
        imp.vram_spin.set_value(
            video
                .vram
                .map_or(QXL_DEFAULT_VRAM_MIB, |kib| kib as f64 / 1024.0),
        );
        imp.vram_row
            .set_visible(video.model.as_deref() == Some("qxl"));
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        let old = dom.device::<Video>(&key).map_err(|e| e.to_string())?;
        let Some(model) = self.model() else {
            return Ok(());
        };
        if old.model.as_deref() != Some(model.as_str()) {
            dom.set_video_model(&key, &model)
                .map_err(|e| e.to_string())?;
        }
        if model == "qxl" {
            let mut video: Video = dom.device(&key).map_err(|e| e.to_string())?;
            let kib = imp.vram_spin.value() as u64 * 1024;
            let shown = video
                .vram
                .map_or(QXL_DEFAULT_VRAM_MIB as u64 * 1024, |v| v / 1024 * 1024);
            if kib != shown {
                video.vram = Some(kib);
                dom.update_device(&key, &video).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}
