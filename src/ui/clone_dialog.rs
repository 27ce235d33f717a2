//! Clone: a free name in virt-clone's style, and for each disk Copy, Overlay or
//! Share (what the disk allows, its default first, with why a disk is shared). A
//! running original offers Shut Down, as its disks are copied only while it is shut
//! off. Then the dialog follows the clone's operation (progress, Cancel), which also
//! shows in the VM's tab and row if the dialog is closed.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use crate::i18n::gettext_f;
use crate::model::clones::{
    action_for, check_request, CloneDisk, ClonePlan, CloneRequest, CloneRequestError, DiskAction,
    DiskNote,
};
use crate::model::{error_text, DomainAction, DomainObject};
use crate::ui::formatting::format_size;
use crate::ui::operation_bar::OperationBar;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::CloneDialog)]
    #[template(resource = "/io/github/vireo/Vireo/ui/clone-dialog.ui")]
    pub struct CloneDialog {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub(super) clone_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) shutdown_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) shutdown_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) shutdown_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) disks_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) note_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) operation_bar: TemplateChild<OperationBar>,
        #[template_child]
        pub(super) error_page: TemplateChild<adw::StatusPage>,
        pub(super) plan: RefCell<Option<ClonePlan>>,
        /// Each disk's row and the actions its choices stand for.
        pub(super) disk_rows: RefCell<Vec<(String, Vec<DiskAction>, adw::ComboRow)>>,
        pub(super) state_handler: RefCell<Option<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CloneDialog {
        const NAME: &'static str = "VireoCloneDialog";
        type Type = super::CloneDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            OperationBar::ensure_type();
            klass.bind_template();
            crate::ui::close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CloneDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_default_widget(Some(&*self.clone_button));
            if let Some(domain) = obj.domain() {
                self.operation_bar.set_domain(Some(&domain));
                obj.set_title(Some(&gettext_f("Clone “{vm}”", &[("vm", &domain.name())])));
                // Shut down (here or elsewhere): the disks can now be copied.
                let handler = domain.connect_state_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
                self.state_handler.replace(Some(handler));
            }
            self.name_row.connect_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            self.shutdown_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.shut_down_original()
            ));
            self.clone_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.start()
            ));
            obj.load();
        }

        fn dispose(&self) {
            if let (Some(domain), Some(handler)) =
                (self.domain.borrow().as_ref(), self.state_handler.take())
            {
                domain.disconnect(handler);
            }
        }
    }

    impl WidgetImpl for CloneDialog {}
    impl WindowImpl for CloneDialog {}
    impl AdwWindowImpl for CloneDialog {}
}

glib::wrapper! {
    pub struct CloneDialog(ObjectSubclass<imp::CloneDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl CloneDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, domain: &DomainObject) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("domain", domain)
            .build()
    }

    /// Reads the clone's plan on the connection's worker.
    fn load(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let imp = dialog.imp();
                match connection.prepare_clone(&domain).await {
                    Ok(plan) => {
                        imp.name_row.set_text(&plan.name);
                        dialog.fill_disks(&plan);
                        imp.note_label.set_visible(plan.tpm_not_copied);
                        imp.note_label.set_label(&gettext(
                            "The TPM's state belongs to the original and is not copied: the clone starts with an empty TPM.",
                        ));
                        imp.plan.replace(Some(plan));
                        imp.stack.set_visible_child_name("form");
                        imp.name_row.grab_focus();
                        dialog.update();
                    }
                    Err(error) => {
                        imp.error_page
                            .set_description(Some(&crate::model::error_text(&error)));
                        imp.stack.set_visible_child_name("error");
                    }
                }
            }
        ));
    }

    fn fill_disks(&self, plan: &ClonePlan) {
        let imp = self.imp();
        let mut rows = Vec::new();
        for disk in &plan.disks {
            let labels: Vec<String> = disk.actions.iter().map(|a| action_label(*a)).collect();
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            let row = adw::ComboRow::builder()
                .title(disk_title(disk))
                .subtitle(disk_subtitle(disk))
                .subtitle_lines(3)
                .use_markup(false)
                .model(&gtk::StringList::new(&labels))
                .build();
            row.connect_selected_notify(glib::clone!(
                #[weak(rename_to = dialog)]
                self,
                move |_| dialog.update()
            ));
            imp.disks_group.add(&row);
            rows.push((disk.target.clone(), disk.actions.clone(), row));
        }
        imp.disks_group.set_visible(!rows.is_empty());
        imp.disk_rows.replace(rows);
    }

    fn request(&self) -> CloneRequest {
        let imp = self.imp();
        CloneRequest {
            name: imp.name_row.text().trim().to_owned(),
            disks: imp
                .disk_rows
                .borrow()
                .iter()
                .filter_map(|(target, actions, row)| {
                    let action = *actions.get(row.selected() as usize)?;
                    Some((target.clone(), action))
                })
                .collect(),
        }
    }

    /// The plan as it stands now: it waits for a shut-off original only when a disk
    /// is copied or overlaid while the original runs.
    fn current_plan(&self, request: &CloneRequest) -> Option<ClonePlan> {
        let mut plan = self.imp().plan.borrow().clone()?;
        let runs = self.domain().is_some_and(|d| d.state().is_active());
        plan.needs_shutdown = runs
            && plan
                .disks
                .iter()
                .any(|d| action_for(d, request) != DiskAction::Share);
        Some(plan)
    }

    fn update(&self) {
        let imp = self.imp();
        let Some(domain) = self.domain() else { return };
        let request = self.request();
        let Some(plan) = self.current_plan(&request) else {
            return;
        };
        let taken = domain
            .connection()
            .map(|c| c.listed_domain_names())
            .unwrap_or_default();
        let check = check_request(&plan, &request, &taken);
        imp.shutdown_group.set_visible(plan.needs_shutdown);
        imp.shutdown_row
            .set_title(&gettext_f("“{vm}” Is Running", &[("vm", &domain.name())]));
        let name_error = match &check {
            Err(CloneRequestError::EmptyName) => Some(gettext("The clone needs a name.")),
            Err(CloneRequestError::NameTaken(name)) => Some(gettext_f(
                "A machine named “{name}” exists already on this host.",
                &[("name", name)],
            )),
            Err(CloneRequestError::NameInvalid(c)) => Some(gettext_f(
                "A machine name cannot contain “{char}”.",
                &[("char", &c.escape_default().to_string())],
            )),
            _ => None,
        };
        if name_error.is_some() {
            imp.name_row.add_css_class("error");
        } else {
            imp.name_row.remove_css_class("error");
        }
        imp.error_label.set_visible(name_error.is_some());
        imp.error_label
            .set_label(name_error.as_deref().unwrap_or_default());
        let busy = domain.operation().is_some_and(|o| o.running());
        imp.clone_button.set_sensitive(check.is_ok() && !busy);
    }

    fn shut_down_original(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let imp = self.imp();
        imp.shutdown_button.set_sensitive(false);
        imp.shutdown_row.set_subtitle(&gettext(
            "Waiting for the machine to shut down; the guest may take a while or refuse",
        ));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                if let Err(error) = connection.run_action(&domain, DomainAction::Shutdown).await {
                    let imp = dialog.imp();
                    imp.shutdown_button.set_sensitive(true);
                    imp.shutdown_row.set_subtitle(&gettext_f(
                        "Could not shut down “{vm}”: {error}",
                        &[("vm", &domain.name()), ("error", &error_text(&error))],
                    ));
                }
            }
        ));
    }

    fn start(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let request = self.request();
        let Some(plan) = self.current_plan(&request) else {
            return;
        };
        let imp = self.imp();
        imp.clone_button.set_sensitive(false);
        imp.stack.set_visible_child_name("progress");
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let clone = request.name.clone();
                let result = connection.clone_domain(&domain, plan, request).await;
                let result = result.map(|_| ()).map_err(|e| (e.is_cancelled(), e.text()));
                dialog.finish(&domain, &clone, result);
            }
        ));
    }

    fn finish(&self, domain: &DomainObject, clone: &str, result: Result<(), (bool, String)>) {
        let imp = self.imp();
        let vm = domain.name();
        match result {
            Ok(()) => {
                if let Some(parent) = self.transient_for() {
                    crate::ui::toast(
                        &parent,
                        &gettext_f(
                            "“{vm}” was cloned as “{clone}”",
                            &[("vm", &vm), ("clone", clone)],
                        ),
                    );
                }
                self.close();
            }
            Err((cancelled, text)) => {
                imp.stack.set_visible_child_name("form");
                imp.error_label.set_visible(true);
                imp.error_label.set_label(&if cancelled {
                    gettext("Cloning was cancelled; what it had made was removed.")
                } else {
                    gettext_f(
                        "Could not clone “{vm}”: {error}",
                        &[("vm", &vm), ("error", &text)],
                    )
                });
                self.update();
            }
        }
    }
}

fn action_label(action: DiskAction) -> String {
    match action {
        DiskAction::Copy => gettext("Copy"),
        DiskAction::Overlay => gettext("Overlay on the original"),
        DiskAction::Share => gettext("Share with the original"),
    }
}

fn disk_title(disk: &CloneDisk) -> String {
    match disk.device.as_str() {
        "cdrom" => gettext_f("CD-ROM {disk}", &[("disk", &disk.target)]),
        "floppy" => gettext_f("Floppy {disk}", &[("disk", &disk.target)]),
        _ => gettext_f("Disk {disk}", &[("disk", &disk.target)]),
    }
}

fn disk_subtitle(disk: &CloneDisk) -> String {
    let mut parts = Vec::new();
    parts.push(disk.source.clone().unwrap_or_else(|| gettext("No medium")));
    if disk.capacity > 0 {
        parts.push(gettext_f(
            "{size}, {used} used on the host",
            &[
                ("size", &format_size(disk.capacity)),
                ("used", &format_size(disk.allocation)),
            ],
        ));
    }
    if let Some(note) = disk.note {
        parts.push(match note {
            DiskNote::Removable => gettext("Removable media are shared"),
            DiskNote::ReadOnly => gettext("Read-only: shared"),
            DiskNote::Shareable => gettext("Marked shareable: shared"),
            DiskNote::Empty => gettext("Empty: nothing to copy"),
            DiskNote::Network => gettext("A network disk cannot be copied here"),
        });
    }
    parts.join(" · ")
}
