//! The New Volume form of a pool: name, format (qcow2 for file pools, raw), size and
//! an optional backing volume, checked as typed; libvirt's reason shows when it refuses.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::messages::volume_problem_text;
use super::{problem_lines, show_lines, string_list, Form};
use crate::i18n::gettext_f;
use crate::model::host::{
    validate_volume, DiskFormat, PoolObject, VolumeField, VolumeProblem, VolumeSpec,
};
use crate::ui::close_on_escape;
use crate::ui::formatting::format_size;
use crate::ui::pickers::VolumePicker;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-volume-dialog.ui")]
    pub struct NewVolumeDialog {
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub form: TemplateChild<adw::PreferencesPage>,
        #[template_child]
        pub failure_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub format_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub size_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub size_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub backing_picker: TemplateChild<VolumePicker>,
        #[template_child]
        pub hint_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub problems_label: TemplateChild<gtk::Label>,
        pub pool: RefCell<Option<PoolObject>>,
        pub formats: RefCell<Vec<DiskFormat>>,
        pub touched: RefCell<HashSet<VolumeField>>,
        /// The name follows the format's extension until a person edits it.
        pub name_edited: Cell<bool>,
        pub setting_name: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NewVolumeDialog {
        const NAME: &'static str = "VireoNewVolumeDialog";
        type Type = super::NewVolumeDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            VolumePicker::ensure_type();
            klass.bind_template();
            klass.install_action("volume-form.create", None, |dialog, _, _| dialog.create());
            close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NewVolumeDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.name_row.connect_changed(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    let imp = obj.imp();
                    if !imp.setting_name.get() {
                        imp.name_edited.set(true);
                        imp.touched.borrow_mut().insert(VolumeField::Name);
                    }
                    obj.update();
                }
            ));
            self.format_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    obj.follow_format();
                    obj.update();
                }
            ));
            self.size_spin.connect_value_changed(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    obj.imp().touched.borrow_mut().insert(VolumeField::Capacity);
                    obj.update();
                }
            ));
            self.backing_picker.connect_volume_notify(glib::clone!(
                #[weak]
                obj,
                move |picker| {
                    // An overlay is as big as its base unless asked otherwise.
                    if let Some(v) = picker.volume() {
                        let imp = obj.imp();
                        let gib = v.capacity() as f64 / (1u64 << 30) as f64;
                        if imp.size_spin.value() < gib {
                            imp.size_spin.set_value((gib * 10.0).ceil() / 10.0);
                        }
                        imp.touched.borrow_mut().insert(VolumeField::Backing);
                    }
                    obj.update();
                }
            ));
        }
    }

    impl WidgetImpl for NewVolumeDialog {}
    impl WindowImpl for NewVolumeDialog {}
    impl AdwWindowImpl for NewVolumeDialog {}
}

glib::wrapper! {
    /// The New Volume form.
    pub struct NewVolumeDialog(ObjectSubclass<imp::NewVolumeDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl NewVolumeDialog {
    /// The form for a new volume in `pool`, over `parent`.
    pub fn new(parent: Option<&gtk::Window>, pool: &PoolObject) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        let imp = dialog.imp();
        imp.pool.replace(Some(pool.clone()));
        dialog.set_title(Some(&gettext_f(
            "New Volume in “{pool}”",
            &[("pool", &pool.name())],
        )));
        let file_pool = pool.pool_type().is_some_and(|t| t.has_file_volumes());
        let formats = if file_pool {
            vec![DiskFormat::Qcow2, DiskFormat::Raw]
        } else {
            vec![DiskFormat::Raw]
        };
        let labels: Vec<String> = formats
            .iter()
            .map(|f| match f {
                DiskFormat::Qcow2 => gettext("qcow2 (grows as used, snapshots)"),
                DiskFormat::Raw => gettext("raw (plain bytes, fastest)"),
            })
            .collect();
        imp.formats.replace(formats);
        imp.format_row.set_model(Some(&string_list(&labels)));
        imp.backing_picker.set_visible(file_pool);
        if file_pool {
            if let Some(host) = pool.connection_host() {
                // Only file volumes can back a qcow2 file.
                imp.backing_picker.set_host(
                    &host,
                    Some(Box::new(|v| {
                        v.pool()
                            .and_then(|p| p.pool_type())
                            .is_some_and(|t| t.has_file_volumes())
                    })),
                );
            }
        }
        imp.hint_label.set_label(&gettext_f(
            "The pool has {free} free. A new volume takes space only as the guest writes to it.",
            &[("free", &format_size(pool.available()))],
        ));
        dialog.follow_format();
        imp.touched.borrow_mut().clear();
        dialog.update();
        dialog
    }

    fn format(&self) -> DiskFormat {
        let imp = self.imp();
        imp.formats
            .borrow()
            .get(imp.format_row.selected() as usize)
            .copied()
            .unwrap_or_default()
    }

    /// A fresh name with the format's extension, until a person edits the name.
    fn follow_format(&self) {
        let imp = self.imp();
        if imp.name_edited.get() {
            return;
        }
        let Some(pool) = imp.pool.borrow().clone() else {
            return;
        };
        let ext = match self.format() {
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Raw => "img",
        };
        let names = pool.volume_names();
        let mut n = 1;
        let mut name = format!("volume.{ext}");
        while names.contains(&name) {
            n += 1;
            name = format!("volume{n}.{ext}");
        }
        imp.setting_name.set(true);
        imp.name_row.set_text(&name);
        imp.setting_name.set(false);
    }

    fn spec(&self) -> VolumeSpec {
        let imp = self.imp();
        VolumeSpec {
            name: imp.name_row.text().trim().to_owned(),
            format: self.format(),
            capacity: (imp.size_spin.value() * (1u64 << 30) as f64).round() as u64,
            backing: imp.backing_picker.volume().and_then(|v| v.as_backing()),
        }
    }

    fn problems(&self) -> Vec<(VolumeField, VolumeProblem)> {
        let Some(pool) = self.imp().pool.borrow().clone() else {
            return Vec::new();
        };
        let file_pool = pool.pool_type().is_some_and(|t| t.has_file_volumes());
        validate_volume(&self.spec(), &pool.volume_names(), file_pool)
    }

    fn update(&self) {
        let imp = self.imp();
        let lines = problem_lines(
            &self.problems(),
            &imp.touched.borrow(),
            &[
                VolumeField::Name,
                VolumeField::Capacity,
                VolumeField::Backing,
            ],
            |f| match f {
                VolumeField::Name => imp.name_row.get().upcast(),
                VolumeField::Capacity => imp.size_row.get().upcast(),
                VolumeField::Backing => imp.backing_picker.get().upcast(),
            },
            volume_problem_text,
        );
        show_lines(
            &imp.problems_label,
            &lines.into_iter().map(|(_, l)| l).collect::<Vec<_>>(),
        );
        self.action_set_enabled("volume-form.create", !self.is_busy());
    }

    fn create(&self) {
        let imp = self.imp();
        if self.is_busy() {
            return;
        }
        let problems = self.problems();
        if !problems.is_empty() {
            imp.touched
                .borrow_mut()
                .extend(problems.iter().map(|(f, _)| *f));
            self.update();
            return;
        }
        let Some(pool) = imp.pool.borrow().clone() else {
            return;
        };
        let spec = self.spec();
        let name = spec.name.clone();
        self.submit(
            async move { pool.create_volume(spec).await },
            gettext_f("Volume “{name}” created", &[("name", &name)]),
            gettext("The volume could not be created: {reason}"),
        );
    }
}

impl Form for NewVolumeDialog {
    fn parts(&self) -> (gtk::Spinner, adw::PreferencesPage, gtk::Label) {
        let imp = self.imp();
        (imp.spinner.get(), imp.form.get(), imp.failure_label.get())
    }

    fn refresh(&self) {
        self.update();
    }
}
