//! The New Storage Pool form: a name, one of the pool types the host offers, and the
//! fields that type needs, each checked as it is typed (a problem shows once the field
//! was edited, or on Create); libvirt's reason shows at the top when it refuses.
//! Formatting devices (a volume group, a partition table) erases them: it is a switch
//! of its own, off until turned on.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::messages::{pool_problem_text, pool_type_label};
use super::{problem_lines, show_lines, string_list, Form};
use crate::i18n::gettext_f;
use crate::model::host::{
    validate_pool, HostObject, PoolField, PoolProblem, PoolSource, PoolSpec, PoolType,
    PoolTypeOffer,
};
use crate::ui::close_on_escape;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-pool-dialog.ui")]
    pub struct NewPoolDialog {
        #[template_child]
        pub create_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub form: TemplateChild<adw::PreferencesPage>,
        #[template_child]
        pub failure_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub type_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub name_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub source_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub host_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub source_path_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub source_name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub device_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub format_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub target_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub initiator_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub auth_user_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub auth_secret_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub format_devices_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub format_devices_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub source_problems: TemplateChild<gtk::Label>,
        pub host: RefCell<Option<HostObject>>,
        pub offers: RefCell<Vec<PoolTypeOffer>>,
        /// Fields a person edited: only their problems show before Create.
        pub touched: RefCell<HashSet<PoolField>>,
        /// The target follows the name until a person edits it.
        pub target_edited: Cell<bool>,
        pub setting_target: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NewPoolDialog {
        const NAME: &'static str = "VireoNewPoolDialog";
        type Type = super::NewPoolDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("pool-form.create", None, |dialog, _, _| dialog.create());
            close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NewPoolDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let rows: [(&adw::EntryRow, PoolField); 8] = [
                (&self.name_row, PoolField::Name),
                (&self.host_row, PoolField::Host),
                (&self.source_path_row, PoolField::SourcePath),
                (&self.source_name_row, PoolField::SourceName),
                (&self.device_row, PoolField::Device),
                (&self.target_row, PoolField::Target),
                (&self.initiator_row, PoolField::Initiator),
                (&self.auth_user_row, PoolField::Auth),
            ];
            for (row, field) in rows {
                row.connect_changed(glib::clone!(
                    #[weak]
                    obj,
                    move |_| {
                        obj.imp().touched.borrow_mut().insert(field);
                        obj.field_changed(field);
                    }
                ));
            }
            self.auth_secret_row.connect_changed(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    obj.imp().touched.borrow_mut().insert(PoolField::Auth);
                    obj.update();
                }
            ));
            self.type_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.type_changed()
            ));
            self.format_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            self.format_devices_switch
                .connect_active_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
        }
    }

    impl WidgetImpl for NewPoolDialog {}
    impl WindowImpl for NewPoolDialog {}
    impl AdwWindowImpl for NewPoolDialog {}
}

glib::wrapper! {
    /// The New Storage Pool form.
    pub struct NewPoolDialog(ObjectSubclass<imp::NewPoolDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl NewPoolDialog {
    /// The form for a new pool of `host`, over `parent`. It reads the pool types the
    /// host offers first.
    pub fn new(parent: Option<&gtk::Window>, host: &HostObject) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        let imp = dialog.imp();
        imp.host.replace(Some(host.clone()));
        let mut n = 1;
        let names = host.pool_names();
        let mut name = "pool".to_owned();
        while names.contains(&name) {
            n += 1;
            name = format!("pool{n}");
        }
        imp.name_row.set_text(&name);
        imp.touched.borrow_mut().clear();
        dialog.set_busy(true);
        glib::spawn_future_local(glib::clone!(
            #[weak]
            dialog,
            #[strong]
            host,
            async move {
                let offers = host.pool_types().await;
                dialog.set_busy(false);
                match offers {
                    Ok(o) if !o.is_empty() => dialog.set_offers(o),
                    Ok(_) => dialog.fail(&gettext("This host offers no storage pool types")),
                    Err(e) => dialog.fail(&e.to_string()),
                }
            }
        ));
        dialog
    }

    fn set_offers(&self, offers: Vec<PoolTypeOffer>) {
        let imp = self.imp();
        let labels: Vec<String> = offers
            .iter()
            .map(|o| pool_type_label(&o.pool_type))
            .collect();
        imp.offers.replace(offers);
        imp.source_group.set_visible(true);
        imp.type_row.set_model(Some(&string_list(&labels)));
        imp.type_row.set_selected(0);
        self.type_changed();
    }

    fn offer(&self) -> Option<PoolTypeOffer> {
        let imp = self.imp();
        imp.offers
            .borrow()
            .get(imp.type_row.selected() as usize)
            .cloned()
    }

    fn type_changed(&self) {
        let imp = self.imp();
        let Some(offer) = self.offer() else { return };
        let t = &offer.pool_type;
        use PoolType as T;
        let show = |row: &adw::PreferencesRow, visible: bool, title: Option<String>| {
            row.set_visible(visible);
            if let Some(title) = title {
                row.set_title(&title);
            }
        };
        show(
            imp.host_row.upcast_ref(),
            matches!(t, T::Netfs | T::Iscsi | T::Rbd),
            Some(match t {
                T::Rbd => gettext("Monitor Hosts (comma-separated)"),
                T::Iscsi => gettext("Target Host"),
                _ => gettext("Server"),
            }),
        );
        show(imp.source_path_row.upcast_ref(), *t == T::Netfs, None);
        show(
            imp.source_name_row.upcast_ref(),
            matches!(t, T::Logical | T::Iscsi | T::Rbd),
            Some(match t {
                T::Iscsi => gettext("Target IQN"),
                T::Rbd => gettext("Ceph Pool"),
                _ => gettext("Volume Group"),
            }),
        );
        show(
            imp.device_row.upcast_ref(),
            matches!(t, T::Fs | T::Disk | T::Logical),
            Some(match t {
                T::Disk => gettext("Disk"),
                T::Logical => gettext("Devices (optional, comma-separated)"),
                _ => gettext("Device"),
            }),
        );
        show(
            imp.format_row.upcast_ref(),
            matches!(t, T::Fs | T::Netfs | T::Disk),
            Some(match t {
                T::Netfs => gettext("Protocol"),
                T::Disk => gettext("Partition Table"),
                _ => gettext("File System"),
            }),
        );
        imp.format_row
            .set_model(Some(&string_list(&offer.source_formats)));
        // A disk's default "unknown" is not a choice; the others start on libvirt's.
        imp.format_row.set_selected(0);
        show(
            imp.target_row.upcast_ref(),
            matches!(t, T::Dir | T::Fs | T::Netfs),
            Some(match t {
                T::Dir => gettext("Directory"),
                _ => gettext("Mount Point"),
            }),
        );
        show(imp.initiator_row.upcast_ref(), *t == T::Iscsi, None);
        show(imp.auth_user_row.upcast_ref(), *t == T::Rbd, None);
        show(imp.auth_secret_row.upcast_ref(), *t == T::Rbd, None);
        show(
            imp.format_devices_row.upcast_ref(),
            matches!(t, T::Logical | T::Disk),
            Some(match t {
                T::Disk => gettext("Write a New Partition Table"),
                _ => gettext("Make the Volume Group on the Devices"),
            }),
        );
        imp.format_devices_switch.set_active(false);
        self.follow_name();
        self.update();
    }

    fn field_changed(&self, field: PoolField) {
        let imp = self.imp();
        match field {
            PoolField::Name => self.follow_name(),
            PoolField::Target if !imp.setting_target.get() => imp.target_edited.set(true),
            _ => {}
        }
        self.update();
    }

    /// A new directory pool's target follows its name until a person edits it.
    fn follow_name(&self) {
        let imp = self.imp();
        if imp.target_edited.get() {
            return;
        }
        let Some(host) = imp.host.borrow().clone() else {
            return;
        };
        let name = imp.name_row.text();
        let target = match self.offer().map(|o| o.pool_type) {
            Some(PoolType::Dir) => format!("{}/{}", host.default_pool_parent(), name.trim()),
            Some(PoolType::Fs | PoolType::Netfs) => format!("/mnt/{}", name.trim()),
            _ => return,
        };
        imp.setting_target.set(true);
        imp.target_row.set_text(&target);
        imp.setting_target.set(false);
        imp.touched.borrow_mut().remove(&PoolField::Target);
    }

    fn text(row: &adw::EntryRow) -> String {
        row.text().trim().to_owned()
    }

    fn list(row: &adw::EntryRow) -> Vec<String> {
        row.text()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The spec the fields describe now.
    fn spec(&self) -> Option<PoolSpec> {
        let imp = self.imp();
        let offer = self.offer()?;
        let format = offer
            .source_formats
            .get(imp.format_row.selected() as usize)
            .cloned()
            .unwrap_or_default();
        let source = match offer.pool_type {
            PoolType::Dir => PoolSource::Dir {
                target: Self::text(&imp.target_row),
            },
            PoolType::Fs => PoolSource::Fs {
                device: Self::text(&imp.device_row),
                format,
                target: Self::text(&imp.target_row),
            },
            PoolType::Netfs => PoolSource::Netfs {
                host: Self::text(&imp.host_row),
                source_path: Self::text(&imp.source_path_row),
                format,
                target: Self::text(&imp.target_row),
            },
            PoolType::Logical => PoolSource::Logical {
                vg_name: Self::text(&imp.source_name_row),
                devices: Self::list(&imp.device_row),
            },
            PoolType::Disk => PoolSource::Disk {
                device: Self::text(&imp.device_row),
                format,
            },
            PoolType::Iscsi => PoolSource::Iscsi {
                host: Self::text(&imp.host_row),
                target_iqn: Self::text(&imp.source_name_row),
                initiator_iqn: Some(Self::text(&imp.initiator_row)).filter(|s| !s.is_empty()),
            },
            PoolType::Rbd => PoolSource::Rbd {
                hosts: Self::list(&imp.host_row),
                source_name: Self::text(&imp.source_name_row),
                auth: Some((
                    Self::text(&imp.auth_user_row),
                    Self::text(&imp.auth_secret_row),
                ))
                .filter(|(u, s)| !u.is_empty() || !s.is_empty()),
            },
            PoolType::Other(_) => return None,
        };
        Some(PoolSpec {
            name: Self::text(&imp.name_row),
            source,
            autostart: imp.autostart_switch.is_active(),
            format_devices: imp.format_devices_switch.is_active(),
        })
    }

    fn problems(&self) -> Vec<(PoolField, PoolProblem)> {
        let names = self
            .imp()
            .host
            .borrow()
            .as_ref()
            .map(HostObject::pool_names)
            .unwrap_or_default();
        self.spec()
            .map(|s| validate_pool(&s, &names))
            .unwrap_or_default()
    }

    fn field_row(&self, field: PoolField) -> adw::EntryRow {
        let imp = self.imp();
        match field {
            PoolField::Name => imp.name_row.get(),
            PoolField::Target => imp.target_row.get(),
            PoolField::Device => imp.device_row.get(),
            PoolField::Host => imp.host_row.get(),
            PoolField::SourcePath => imp.source_path_row.get(),
            PoolField::SourceName => imp.source_name_row.get(),
            PoolField::Initiator => imp.initiator_row.get(),
            PoolField::Auth => imp.auth_user_row.get(),
        }
    }

    /// Shows the problems of the touched fields; Create stays available (with problems
    /// it shows them all).
    fn update(&self) {
        let imp = self.imp();
        let lines = problem_lines(
            &self.problems(),
            &imp.touched.borrow(),
            &[
                PoolField::Name,
                PoolField::Host,
                PoolField::SourcePath,
                PoolField::SourceName,
                PoolField::Device,
                PoolField::Target,
                PoolField::Initiator,
                PoolField::Auth,
            ],
            |f| self.field_row(f).upcast(),
            pool_problem_text,
        );
        let (name, source): (Vec<_>, Vec<_>) =
            lines.into_iter().partition(|(f, _)| *f == PoolField::Name);
        show_lines(
            &imp.name_problems,
            &name.into_iter().map(|(_, l)| l).collect::<Vec<_>>(),
        );
        show_lines(
            &imp.source_problems,
            &source.into_iter().map(|(_, l)| l).collect::<Vec<_>>(),
        );
        self.action_set_enabled(
            "pool-form.create",
            !self.is_busy() && self.offer().is_some(),
        );
    }

    /// Create: with problems, shows all of them; else makes the pool and closes, or
    /// shows libvirt's reason and stays.
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
            self.field_row(problems[0].0).grab_focus();
            return;
        }
        let (Some(spec), Some(host)) = (self.spec(), imp.host.borrow().clone()) else {
            return;
        };
        let name = spec.name.clone();
        self.submit(
            async move { host.create_pool(spec).await },
            gettext_f("Storage pool “{name}” created", &[("name", &name)]),
            gettext("The pool could not be created: {reason}"),
        );
    }
}

impl Form for NewPoolDialog {
    fn parts(&self) -> (gtk::Spinner, adw::PreferencesPage, gtk::Label) {
        let imp = self.imp();
        (imp.spinner.get(), imp.form.get(), imp.failure_label.get())
    }

    fn refresh(&self) {
        self.update();
    }
}
