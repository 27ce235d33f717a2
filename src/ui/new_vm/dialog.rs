//! The New Virtual Machine dialog: five pages in a stack, Cancel, Back, Forward and
//! Create as actions whose state follows the pages' validity, the host's facts read
//! through the model, and creation with rollback.
//!
//! The dialog is a toplevel window: once presented GTK holds it until it closes, so
//! whoever opens it need not keep it. Its parts: `host` (reading the host and the OS
//! defaults), `spec` (the pages' parts as one spec, its validation, the summary) and
//! `creation`.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib, CompositeTemplate};

use super::page_finish::FinishPage;
use super::page_method::MethodPage;
use super::page_os::OsPage;
use super::page_resources::ResourcesPage;
use super::page_storage::StoragePage;
use super::parts::CreatedPart;
use crate::i18n::gettext_f;
use crate::model::host::Transfer;
use crate::model::new_vm::{Created, HostInfo, InstallMethod};
use crate::model::ConnectionObject;

mod creation;
mod host;
mod spec;

/// The steps, in order.
const STEPS: u32 = 5;
/// The storage step (skipped when an imported disk is the VM's disk).
const STORAGE_STEP: u32 = 3;
/// The last step.
const LAST_STEP: u32 = STEPS - 1;

mod imp {
    use std::cell::{Cell, RefCell};
    use std::sync::OnceLock;

    use glib::subclass::Signal;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::NewVmDialog)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-vm-dialog.ui")]
    pub struct NewVmDialog {
        /// Every connection of the app (the connected ones are offered).
        #[property(get, set, construct_only)]
        pub connections: RefCell<Option<gio::ListModel>>,
        /// The step on screen, from 0.
        #[property(get)]
        pub step: Cell<u32>,
        /// True while the VM is being created (the dialog cannot close then).
        #[property(get)]
        pub busy: Cell<bool>,
        #[template_child]
        pub title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub forward_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub create_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub banner: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub banner_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub upload_bar: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub upload_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub upload_progress: TemplateChild<gtk::ProgressBar>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub method_page: TemplateChild<MethodPage>,
        #[template_child]
        pub os_page: TemplateChild<OsPage>,
        #[template_child]
        pub resources_page: TemplateChild<ResourcesPage>,
        #[template_child]
        pub storage_page: TemplateChild<StoragePage>,
        #[template_child]
        pub finish_page: TemplateChild<FinishPage>,
        /// The chosen host's facts, once read.
        pub host: RefCell<Option<HostInfo>>,
        /// Bumped at every host change: an older host's answers are dropped.
        pub host_generation: Cell<u64>,
        /// The install medium's upload to a remote host, while it runs.
        pub upload: RefCell<Option<Transfer>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NewVmDialog {
        const NAME: &'static str = "VireoNewVmDialog";
        type Type = super::NewVmDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            MethodPage::ensure_type();
            OsPage::ensure_type();
            ResourcesPage::ensure_type();
            StoragePage::ensure_type();
            FinishPage::ensure_type();
            klass.bind_template();
            klass.install_action("wizard.cancel", None, |dialog, _, _| dialog.close());
            klass.install_action("wizard.back", None, |dialog, _, _| dialog.go_back());
            klass.install_action("wizard.forward", None, |dialog, _, _| dialog.go_forward());
            klass.install_action("wizard.create", None, |dialog, _, _| dialog.start_create());
            klass.install_action("wizard.stop-upload", None, |dialog, _, _| {
                if let Some(t) = dialog.imp().upload.borrow().as_ref() {
                    t.cancel();
                }
            });
            let none = gtk::gdk::ModifierType::empty();
            let alt = gtk::gdk::ModifierType::ALT_MASK;
            klass.add_binding_action(gtk::gdk::Key::Escape, none, "window.close");
            klass.add_binding_action(gtk::gdk::Key::Left, alt, "wizard.back");
            klass.add_binding_action(gtk::gdk::Key::Right, alt, "wizard.forward");
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for NewVmDialog {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    // A VM was made: its connection, what was made, and whether it is to
                    // be customised before its first start (it was not started then).
                    Signal::builder("created")
                        .param_types([
                            ConnectionObject::static_type(),
                            CreatedPart::static_type(),
                            bool::static_type(),
                        ])
                        .build(),
                ]
            })
        }

        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.wire_pages();
            self.method_page.set_connections(obj.connections());
            obj.show_step();
            obj.action_set_enabled("wizard.stop-upload", false);
            // Keyboard users start in the page, not on Cancel.
            obj.connect_map(|dialog| dialog.focus_page());
        }
    }

    impl WidgetImpl for NewVmDialog {}

    impl WindowImpl for NewVmDialog {
        fn close_request(&self) -> glib::Propagation {
            // Creation runs on the host and cleans up after itself: the dialog stays to
            // say how it ended.
            if self.busy.get() {
                return glib::Propagation::Stop;
            }
            self.parent_close_request()
        }
    }

    impl AdwWindowImpl for NewVmDialog {}
}

glib::wrapper! {
    /// The New Virtual Machine wizard.
    pub struct NewVmDialog(ObjectSubclass<imp::NewVmDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl NewVmDialog {
    /// A wizard over the connected connections among `connections` (a list of
    /// [`ConnectionObject`]s), transient for `parent`. Present it and let it go: it
    /// lives until it closes.
    pub fn new(parent: &impl IsA<gtk::Window>, connections: &impl IsA<gio::ListModel>) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("connections", connections)
            .build()
    }

    /// Called after a VM was created, with its connection, what was made and whether
    /// the person asked to customise it before its first start (it was not started).
    pub fn connect_created<F: Fn(&ConnectionObject, &Created, bool) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "created",
            false,
            glib::closure_local!(move |_: &Self,
                                       connection: &ConnectionObject,
                                       created: &CreatedPart,
                                       customize: bool| {
                f(connection, &created.0, customize);
            }),
        )
    }

    /// Follows what the pages produce.
    fn wire_pages(&self) {
        let imp = self.imp();
        let revalidate = glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            move || dialog.revalidate()
        );
        let method = &*imp.method_page;
        method.connect_connection_notify(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            move |_| dialog.load_host()
        ));
        for property in ["arch", "machine"] {
            method.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak(rename_to = dialog)]
                    self,
                    move |_, _| {
                        dialog.reload_domcaps();
                        dialog.revalidate();
                    }
                ),
            );
        }
        method.connect_install_notify(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            move |page| {
                // A cloud image's changes need a volume of their own.
                let cloud = matches!(page.install().0, InstallMethod::CloudImage { .. });
                dialog.imp().storage_page.set_new_only(cloud);
                dialog.update_step_count();
                dialog.revalidate();
            }
        ));
        method
            .bind_property("media-path", &*imp.os_page, "media-path")
            .sync_create()
            .build();
        method
            .bind_property("arch", &*imp.os_page, "arch")
            .sync_create()
            .build();
        imp.os_page.connect_os_id_notify(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            move |_| {
                dialog.apply_os_defaults();
                dialog.revalidate();
            }
        ));
        let pages: [(&glib::Object, &[&str]); 3] = [
            (imp.resources_page.upcast_ref(), &["memory-mib", "vcpus"]),
            (imp.storage_page.upcast_ref(), &["storage"]),
            (imp.finish_page.upcast_ref(), &["name", "uefi", "network"]),
        ];
        for (page, properties) in pages {
            for property in properties {
                let revalidate = revalidate.clone();
                page.connect_notify_local(Some(property), move |_, _| revalidate());
            }
        }
        for page in self.pages() {
            page.connect_notify_local(
                Some("valid"),
                glib::clone!(
                    #[weak(rename_to = dialog)]
                    self,
                    move |_, _| dialog.update_actions()
                ),
            );
        }
    }

    /// The pages, in step order.
    fn pages(&self) -> [adw::PreferencesPage; STEPS as usize] {
        let imp = self.imp();
        [
            imp.method_page.clone().upcast(),
            imp.os_page.clone().upcast(),
            imp.resources_page.clone().upcast(),
            imp.storage_page.clone().upcast(),
            imp.finish_page.clone().upcast(),
        ]
    }

    fn page_valid(&self, step: u32) -> bool {
        self.pages()
            .get(step as usize)
            .is_some_and(|p| p.property::<bool>("valid"))
    }

    /// True when an imported disk is the VM's disk: no storage step then.
    fn skips_storage(&self) -> bool {
        self.imp().method_page.install().0.brings_own_disk()
    }

    /// True when every page the VM needs is valid and nothing is in the way.
    fn can_create(&self) -> bool {
        let imp = self.imp();
        !imp.busy.get()
            && imp.host.borrow().is_some()
            && (0..STEPS)
                .filter(|s| *s != STORAGE_STEP || !self.skips_storage())
                .all(|s| self.page_valid(s))
    }

    /// Enables Cancel, Back, Forward and Create as the pages' validity allows.
    fn update_actions(&self) {
        let imp = self.imp();
        let step = imp.step.get();
        let busy = imp.busy.get();
        let loaded = imp.host.borrow().is_some();
        self.action_set_enabled("wizard.cancel", !busy);
        self.action_set_enabled("wizard.back", !busy && step > 0);
        self.action_set_enabled(
            "wizard.forward",
            !busy && loaded && step < LAST_STEP && self.page_valid(step),
        );
        self.action_set_enabled("wizard.create", self.can_create());
        imp.spinner.set_visible(busy);
        imp.spinner.set_spinning(busy);
    }

    /// Shows the current step's page, title and buttons.
    fn show_step(&self) {
        let imp = self.imp();
        let step = imp.step.get();
        imp.stack.set_visible_child_name(&step.to_string());
        let titles = [
            gettext("Connection and Install Method"),
            gettext("Operating System"),
            gettext("Memory and Processors"),
            gettext("Storage"),
            gettext("Name and Options"),
        ];
        imp.title.set_title(&titles[step as usize]);
        self.update_step_count();
        imp.back_button.set_visible(step > 0);
        imp.forward_button.set_visible(step < LAST_STEP);
        imp.create_button.set_visible(step == LAST_STEP);
        if step == LAST_STEP {
            imp.finish_page.suggest_name(&self.suggest_name());
            self.update_summary();
        }
        self.update_actions();
        self.focus_page();
    }

    /// Moves the keyboard focus to the first control of the page on screen.
    fn focus_page(&self) {
        if let Some(page) = self.imp().stack.visible_child() {
            page.child_focus(gtk::DirectionType::TabForward);
        }
    }

    /// "Step n of total": an imported disk has no storage step.
    fn update_step_count(&self) {
        let imp = self.imp();
        let step = imp.step.get();
        let skipped = self.skips_storage();
        let (shown, total) = match (skipped, step > STORAGE_STEP) {
            (true, true) => (step, STEPS - 1),
            (true, false) => (step + 1, STEPS - 1),
            _ => (step + 1, STEPS),
        };
        imp.title.set_subtitle(&gettext_f(
            "Step {n} of {total}",
            &[("n", &shown.to_string()), ("total", &total.to_string())],
        ));
    }

    fn go_back(&self) {
        let imp = self.imp();
        let step = imp.step.get();
        if step == 0 || imp.busy.get() {
            return;
        }
        let mut previous = step - 1;
        if previous == STORAGE_STEP && self.skips_storage() {
            previous -= 1;
        }
        imp.step.set(previous);
        self.notify_step();
        self.show_step();
    }

    fn go_forward(&self) {
        let imp = self.imp();
        let step = imp.step.get();
        if step >= LAST_STEP || !self.page_valid(step) || imp.busy.get() {
            return;
        }
        let mut next = step + 1;
        if next == STORAGE_STEP && self.skips_storage() {
            next += 1;
        }
        imp.step.set(next);
        self.notify_step();
        self.show_step();
    }

    /// Shows (or hides, for `None`) a problem of the whole wizard above the pages.
    fn show_banner(&self, text: Option<String>) {
        let imp = self.imp();
        if let Some(t) = &text {
            imp.banner_label.set_label(t);
        }
        imp.banner.set_reveal_child(text.is_some());
        imp.banner.set_visible(text.is_some());
    }
}
