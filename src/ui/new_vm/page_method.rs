//! Step 1: the host (among the connected ones), the architecture and machine type, and
//! how the OS gets onto the VM (install medium, network tree, existing disk, cloud
//! image, or nothing).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib, CompositeTemplate};

use super::messages::problems_text;
use super::parts::InstallPart;
use super::{choose_file, show_error, string_list};
use crate::i18n::gettext_f;
use crate::model::new_vm::{
    CloudInit, DiskFormat, Field, HostCapabilities, HostInfo, InstallMethod, MediaSource, Problem,
    UriInfo,
};
use crate::model::{ConnectionObject, ConnectionState};
use crate::ui::pickers::VolumePicker;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::MethodPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-vm-method.ui")]
    pub struct MethodPage {
        /// Every connection of the app; the connected ones are offered.
        #[property(get, set = Self::set_connections, nullable)]
        pub connections: RefCell<Option<gio::ListModel>>,
        /// The chosen host.
        #[property(get)]
        pub connection: RefCell<Option<ConnectionObject>>,
        /// The chosen architecture ("" until the host is read).
        #[property(get)]
        pub arch: RefCell<String>,
        /// The chosen machine type.
        #[property(get)]
        pub machine: RefCell<String>,
        /// How the OS gets onto the VM.
        #[property(get)]
        pub install: RefCell<InstallPart>,
        /// The install medium as a local file whose OS can be detected ("" otherwise).
        #[property(get)]
        pub media_path: RefCell<String>,
        /// The remote host's pool the local install medium is uploaded into ("" when
        /// nothing is uploaded: a local host reads the file itself).
        #[property(get)]
        pub upload_pool: RefCell<String>,
        /// No problem on this page, and the host is read.
        #[property(get)]
        pub valid: Cell<bool>,
        #[template_child]
        pub connection_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub arch_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub machine_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub virt_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub media_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub url_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub import_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub cloud_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub manual_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub media_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub url_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub image_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub cloud_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub iso_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub iso_volume_row: TemplateChild<VolumePicker>,
        #[template_child]
        pub media_upload_note: TemplateChild<gtk::Label>,
        #[template_child]
        pub media_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub url_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub kernel_args_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub url_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub image_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub image_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub cloud_user_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub cloud_password_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub cloud_key_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub cloud_error: TemplateChild<gtk::Label>,
        pub caps: RefCell<Option<HostCapabilities>>,
        pub arches: RefCell<Vec<String>>,
        pub machines: RefCell<Vec<String>>,
        /// This page's problems, as last given.
        pub has_problems: Cell<bool>,
        pub state_handlers: RefCell<Vec<(ConnectionObject, glib::SignalHandlerId)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for MethodPage {
        const NAME: &'static str = "VireoNewVmMethodPage";
        type Type = super::MethodPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            VolumePicker::ensure_type();
            klass.bind_template();
            klass.install_action("method.browse-iso", None, |page, _, _| {
                let row = page.imp().iso_row.get();
                choose_file(page, move |path| row.set_text(&path));
            });
            klass.install_action("method.browse-image", None, |page, _, _| {
                let row = page.imp().image_row.get();
                choose_file(page, move |path| row.set_text(&path));
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl MethodPage {
        fn set_connections(&self, connections: Option<gio::ListModel>) {
            self.obj().offer_connections(connections.clone());
            self.connections.replace(connections);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for MethodPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            // The guest user is named after the local one (not "root": cloud images keep
            // root locked and expect an ordinary sudo user).
            let me = glib::user_name().to_string_lossy().to_lowercase();
            self.cloud_user_row
                .set_text(if me == "root" { "user" } else { me.as_str() });
            self.connection_row
                .set_expression(Some(gtk::PropertyExpression::new(
                    ConnectionObject::static_type(),
                    None::<gtk::Expression>,
                    "display-name",
                )));
            self.connection_row
                .connect_selected_item_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |row| {
                        let chosen = row.selected_item().and_downcast::<ConnectionObject>();
                        if *obj.imp().connection.borrow() != chosen {
                            // Install media in the pools of the chosen host; the
                            // pool a local medium goes to follows its pools.
                            if let Some(c) = &chosen {
                                obj.imp().iso_volume_row.set_host(
                                    &c.host(),
                                    Some(Box::new(|v| {
                                        v.name().to_ascii_lowercase().ends_with(".iso")
                                    })),
                                );
                                c.host().pools().connect_items_changed(glib::clone!(
                                    #[weak]
                                    obj,
                                    move |_, _, _, _| obj.update()
                                ));
                            }
                            obj.imp().connection.replace(chosen);
                            obj.set_host(None);
                            obj.notify_connection();
                        }
                    }
                ));
            self.arch_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    obj.fill_machines();
                    obj.update();
                }
            ));
            for check in [
                &*self.media_check,
                &*self.url_check,
                &*self.import_check,
                &*self.cloud_check,
                &*self.manual_check,
            ] {
                check.connect_toggled(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
            }
            self.machine_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            self.iso_volume_row.connect_volume_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            for entry in [
                self.iso_row.upcast_ref::<gtk::Editable>(),
                self.url_row.upcast_ref(),
                self.kernel_args_row.upcast_ref(),
                self.image_row.upcast_ref(),
                self.cloud_user_row.upcast_ref(),
                self.cloud_password_row.upcast_ref(),
                self.cloud_key_row.upcast_ref(),
            ] {
                entry.connect_changed(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
            }
            obj.set_host(None);
        }

        fn dispose(&self) {
            for (c, id) in self.state_handlers.take() {
                c.disconnect(id);
            }
        }
    }

    impl WidgetImpl for MethodPage {}
    impl PreferencesPageImpl for MethodPage {}
}

glib::wrapper! {
    /// The wizard's first page.
    pub struct MethodPage(ObjectSubclass<imp::MethodPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

/// The install method chosen by the radio rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MethodKind {
    Media,
    Url,
    Import,
    Cloud,
    Manual,
}

impl MethodPage {
    /// Offers the connected connections of `connections`, following their states.
    fn offer_connections(&self, connections: Option<gio::ListModel>) {
        let imp = self.imp();
        for (c, id) in imp.state_handlers.take() {
            c.disconnect(id);
        }
        let filter = gtk::CustomFilter::new(|item| {
            item.downcast_ref::<ConnectionObject>()
                .is_some_and(|c| c.state() == ConnectionState::Connected)
        });
        let mut handlers = Vec::new();
        if let Some(model) = &connections {
            for c in model.iter::<ConnectionObject>().flatten() {
                let id = c.connect_state_notify(glib::clone!(
                    #[weak]
                    filter,
                    move |_| filter.changed(gtk::FilterChange::Different)
                ));
                handlers.push((c, id));
            }
        }
        imp.state_handlers.replace(handlers);
        let connected = gtk::FilterListModel::new(connections, Some(filter));
        connected.connect_items_changed(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |model, _, _, _| {
                let row = &page.imp().connection_row;
                if row.selected() == gtk::INVALID_LIST_POSITION && model.n_items() > 0 {
                    row.set_selected(0);
                }
            }
        ));
        imp.connection_row.set_model(Some(&connected));
    }

    /// Fills the host's choices (`None`: the host is being read, nothing to choose).
    pub fn set_host(&self, host: Option<&HostInfo>) {
        let imp = self.imp();
        let arches = host.map(|h| h.caps.hvm_arches()).unwrap_or_default();
        imp.caps.replace(host.map(|h| h.caps.clone()));
        imp.arches.replace(arches.clone());
        imp.arch_row.set_model(Some(&string_list(&arches)));
        imp.arch_row.set_selected(0);
        imp.arch_row.set_sensitive(!arches.is_empty());
        self.fill_machines();
        if host.is_none() {
            imp.virt_row.set_subtitle(&gettext("Reading the host…"));
        }
        self.update();
    }

    /// Refills the machine types for the chosen architecture.
    fn fill_machines(&self) {
        let imp = self.imp();
        let arch = self.chosen_arch();
        let caps = imp.caps.borrow();
        let machines: Vec<String> = caps
            .as_ref()
            .map(|c| {
                c.machine_choices(&arch)
                    .into_iter()
                    .map(|m| m.name)
                    .collect()
            })
            .unwrap_or_default();
        let default = caps
            .as_ref()
            .and_then(|c| c.default_machine(&arch))
            .unwrap_or_default();
        imp.machine_row.set_model(Some(&string_list(&machines)));
        let i = machines.iter().position(|m| *m == default).unwrap_or(0);
        imp.machine_row.set_selected(i as u32);
        imp.machine_row.set_sensitive(!machines.is_empty());
        imp.machines.replace(machines);
        if let Some(c) = caps.as_ref() {
            let text = match c.best_domain_type(&arch).as_deref() {
                Some("kvm") => gettext("KVM (hardware acceleration)"),
                Some("qemu") => gettext("QEMU emulation (no KVM on this host: slower)"),
                Some(other) => other.to_owned(),
                None => gettext("Unavailable"),
            };
            imp.virt_row.set_subtitle(&text);
        }
    }

    fn chosen_arch(&self) -> String {
        let imp = self.imp();
        imp.arches
            .borrow()
            .get(imp.arch_row.selected() as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn kind(&self) -> MethodKind {
        let imp = self.imp();
        if imp.url_check.is_active() {
            MethodKind::Url
        } else if imp.import_check.is_active() {
            MethodKind::Import
        } else if imp.cloud_check.is_active() {
            MethodKind::Cloud
        } else if imp.manual_check.is_active() {
            MethodKind::Manual
        } else {
            MethodKind::Media
        }
    }

    fn is_remote(&self) -> bool {
        self.connection()
            .is_some_and(|c| UriInfo::parse(&c.uri()).is_remote())
    }

    /// The install method as the fields say now.
    fn read_install(&self) -> InstallMethod {
        let imp = self.imp();
        let remote = self.is_remote();
        let image = imp.image_row.text().trim().to_owned();
        // A remote host's file cannot be read from here: its usual format is assumed.
        let format = |remote_default| {
            if remote {
                remote_default
            } else {
                DiskFormat::sniff(std::path::Path::new(&image)).unwrap_or(DiskFormat::Raw)
            }
        };
        match self.kind() {
            MethodKind::Media => {
                let volume = imp
                    .iso_volume_row
                    .volume()
                    .and_then(|v| Some((v.pool()?.name(), v.name())));
                InstallMethod::LocalMedia(match volume {
                    Some((pool, volume)) => MediaSource::Volume { pool, volume },
                    None => MediaSource::Path(imp.iso_row.text().trim().to_owned()),
                })
            }
            MethodKind::Url => InstallMethod::network_tree(
                imp.url_row.text().trim(),
                imp.kernel_args_row.text().trim(),
            ),
            MethodKind::Import => InstallMethod::ImportDisk {
                format: format(DiskFormat::Raw),
                path: image.clone(),
            },
            MethodKind::Cloud => InstallMethod::CloudImage {
                format: format(DiskFormat::Qcow2),
                image: image.clone(),
                cloud_init: CloudInit {
                    user: imp.cloud_user_row.text().trim().to_owned(),
                    password: Some(imp.cloud_password_row.text().to_string())
                        .filter(|p| !p.is_empty()),
                    ssh_key: Some(imp.cloud_key_row.text().trim().to_owned())
                        .filter(|k| !k.is_empty()),
                },
            },
            MethodKind::Manual => InstallMethod::Manual,
        }
    }

    /// Shows the inputs of the chosen method, and hands on what changed.
    fn update(&self) {
        let imp = self.imp();
        let kind = self.kind();
        imp.media_group.set_visible(kind == MethodKind::Media);
        imp.url_group.set_visible(kind == MethodKind::Url);
        imp.image_group
            .set_visible(matches!(kind, MethodKind::Import | MethodKind::Cloud));
        imp.cloud_group.set_visible(kind == MethodKind::Cloud);
        imp.image_group.set_title(&if kind == MethodKind::Cloud {
            gettext("Cloud Image")
        } else {
            gettext("Disk Image")
        });
        imp.iso_row
            .set_sensitive(imp.iso_volume_row.volume().is_none());

        let arch = self.chosen_arch();
        if *imp.arch.borrow() != arch {
            imp.arch.replace(arch);
            self.notify_arch();
        }
        let machine = imp
            .machines
            .borrow()
            .get(imp.machine_row.selected() as usize)
            .cloned()
            .unwrap_or_default();
        if *imp.machine.borrow() != machine {
            imp.machine.replace(machine);
            self.notify_machine();
        }
        let install = self.read_install();
        // The medium is a file of this computer, on every host.
        let media_path = match &install {
            InstallMethod::LocalMedia(MediaSource::Path(p)) => p.clone(),
            _ => String::new(),
        };
        self.show_upload_pool(&install);
        if imp.install.borrow().0 != install {
            imp.install.replace(InstallPart(install));
            self.notify_install();
        }
        if *imp.media_path.borrow() != media_path {
            imp.media_path.replace(media_path);
            self.notify_media_path();
        }
        self.update_valid();
    }

    /// On a remote host, says which of its pools a local medium is uploaded into.
    fn show_upload_pool(&self, install: &InstallMethod) {
        let imp = self.imp();
        let uploading =
            self.is_remote() && matches!(install, InstallMethod::LocalMedia(MediaSource::Path(_)));
        let pool = match (uploading, self.connection()) {
            (true, Some(c)) => {
                let pool = c.media_upload_pool();
                imp.media_upload_note.set_label(&gettext_f(
                    "The file is on this computer: creating the virtual machine first uploads it into the storage pool “{pool}” of {host}.",
                    &[("pool", &pool), ("host", &c.display_name())],
                ));
                pool
            }
            _ => String::new(),
        };
        imp.media_upload_note.set_visible(!pool.is_empty());
        if *imp.upload_pool.borrow() != pool {
            imp.upload_pool.replace(pool);
            self.notify_upload_pool();
        }
    }

    fn update_valid(&self) {
        let imp = self.imp();
        // (The test driver has no machine types: none is not a problem.)
        let valid = !imp.has_problems.get()
            && self.connection().is_some()
            && !imp.arches.borrow().is_empty();
        if imp.valid.replace(valid) != valid {
            self.notify_valid();
        }
    }

    /// Shows this page's problems next to their fields.
    pub fn set_problems(&self, problems: &[(Field, Problem)]) {
        let imp = self.imp();
        let text = |f: Field| problems_text(problems, |pf| pf == f);
        show_error(
            &imp.media_error,
            Some(imp.iso_row.upcast_ref()),
            text(Field::Media),
        );
        show_error(
            &imp.url_error,
            Some(imp.url_row.upcast_ref()),
            text(Field::Url),
        );
        show_error(
            &imp.image_error,
            Some(imp.image_row.upcast_ref()),
            text(Field::Image),
        );
        show_error(&imp.cloud_error, None, text(Field::CloudInit));
        // Each cloud-init problem marks the field it is about.
        let has = |p: Problem| problems.contains(&(Field::CloudInit, p));
        let no_credential = has(Problem::CloudNoCredential);
        for (row, bad) in [
            (
                imp.cloud_user_row.upcast_ref::<gtk::Widget>(),
                has(Problem::CloudUserInvalid),
            ),
            (imp.cloud_password_row.upcast_ref(), no_credential),
            (
                imp.cloud_key_row.upcast_ref(),
                no_credential || has(Problem::SshKeyInvalid),
            ),
        ] {
            if bad {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
        imp.has_problems.set(problems.iter().any(|(f, _)| {
            matches!(
                f,
                Field::Media | Field::Url | Field::Image | Field::CloudInit
            )
        }));
        self.update_valid();
    }
}
