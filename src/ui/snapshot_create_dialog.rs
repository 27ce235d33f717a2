//! Take Snapshot: a name (the date and time by default), a description, and for a
//! running VM whether the memory is kept. Before anything is made the dialog says
//! what the snapshot will be: inside the disk images (internal) or in new files
//! beside them (external), why it has to be external, which disks it leaves out,
//! and — before it is too late — that this host's libvirt cannot revert to an
//! external snapshot. The plan is worked out again on every change.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use crate::i18n::gettext_f;
use crate::model::snapshots::{
    plan_create, version_text, CreatePlan, CreateRequest, ExternalReason, Location, PlanError,
    SnapshotFacts, EXTERNAL_REVERT_SINCE,
};
use crate::model::DomainObject;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::SnapshotCreateDialog)]
    #[template(resource = "/io/github/vireo/Vireo/ui/snapshot-create-dialog.ui")]
    pub struct SnapshotCreateDialog {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub(super) create_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) description_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) memory_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) memory_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) plan_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) warning_label: TemplateChild<gtk::Label>,
        /// The VM's facts, read once when the dialog opens.
        pub(super) facts: RefCell<Option<SnapshotFacts>>,
        pub(super) plan: RefCell<Option<CreatePlan>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SnapshotCreateDialog {
        const NAME: &'static str = "VireoSnapshotCreateDialog";
        type Type = super::SnapshotCreateDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            crate::ui::close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SnapshotCreateDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_default_widget(Some(&*self.create_button));
            for row in [&*self.name_row, &*self.description_row] {
                row.connect_changed(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update_plan()
                ));
            }
            self.memory_switch.connect_active_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update_plan()
            ));
            self.create_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.create()
            ));
            obj.load();
        }
    }

    impl WidgetImpl for SnapshotCreateDialog {}
    impl WindowImpl for SnapshotCreateDialog {}
    impl AdwWindowImpl for SnapshotCreateDialog {}
}

glib::wrapper! {
    pub struct SnapshotCreateDialog(ObjectSubclass<imp::SnapshotCreateDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl SnapshotCreateDialog {
    /// The dialog for `domain`, over `parent`.
    pub fn new(parent: &impl IsA<gtk::Window>, domain: &DomainObject) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("domain", domain)
            .build()
    }

    /// Reads the VM's facts (off the main thread), then proposes a name.
    fn load(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        self.imp()
            .plan_label
            .set_label(&gettext("Reading the machine's disks…"));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let imp = dialog.imp();
                match connection.snapshot_facts(&domain).await {
                    Ok(facts) => {
                        imp.memory_row.set_visible(facts.active);
                        let name = free_name(&facts);
                        imp.facts.replace(Some(facts));
                        imp.name_row.set_text(&name);
                        imp.name_row.grab_focus();
                        dialog.update_plan();
                    }
                    Err(error) => {
                        imp.plan_label.set_label(&crate::model::error_text(&error));
                    }
                }
            }
        ));
    }

    fn request(&self) -> CreateRequest {
        let imp = self.imp();
        CreateRequest {
            name: imp.name_row.text().trim().to_owned(),
            description: imp.description_row.text().trim().to_owned(),
            with_memory: imp.memory_switch.is_active(),
        }
    }

    fn update_plan(&self) {
        let imp = self.imp();
        let facts = imp.facts.borrow();
        let Some(facts) = facts.as_ref() else { return };
        let plan = plan_create(
            &facts.xml,
            &facts.name,
            facts.active,
            &self.request(),
            &facts.snapshots,
            facts.support,
        );
        let (error, summary, warning) = match &plan {
            Ok(plan) => {
                let (summary, warning) = plan_text(plan, facts);
                (None, summary, warning)
            }
            Err(error) => (Some(plan_error_text(error)), String::new(), None),
        };
        // The name is the field at fault for its own errors.
        let name_error = matches!(
            plan,
            Err(PlanError::EmptyName | PlanError::NameTaken(_) | PlanError::NameInvalid(_))
        );
        if name_error {
            imp.name_row.add_css_class("error");
        } else {
            imp.name_row.remove_css_class("error");
        }
        imp.error_label.set_visible(error.is_some());
        imp.error_label
            .set_label(error.as_deref().unwrap_or_default());
        imp.plan_label.set_visible(!summary.is_empty());
        imp.plan_label.set_label(&summary);
        imp.warning_label.set_visible(warning.is_some());
        imp.warning_label
            .set_label(warning.as_deref().unwrap_or_default());
        imp.create_button.set_sensitive(plan.is_ok());
        imp.plan.replace(plan.ok());
    }

    fn create(&self) {
        let Some(plan) = self.imp().plan.borrow().clone() else {
            return;
        };
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        // The operation shows in the VM's tab and row; the dialog's work is done.
        let parent = self.transient_for();
        self.close();
        glib::spawn_future_local(async move {
            let name = plan.name.clone();
            if let Err(error) = connection.create_snapshot(&domain, plan).await {
                let text = gettext_f(
                    "Could not take snapshot “{name}” of “{vm}”: {error}",
                    &[
                        ("name", &name),
                        ("vm", &domain.name()),
                        ("error", &error.text()),
                    ],
                );
                match parent {
                    Some(parent) => crate::ui::toast(&parent, &text),
                    None => tracing::warn!("{text}"),
                }
            }
        });
    }
}

/// The date and time, made unique among the VM's snapshots.
fn free_name(facts: &SnapshotFacts) -> String {
    let base = glib::DateTime::now_local()
        .and_then(|d| d.format("%Y-%m-%d %H.%M.%S"))
        .map(|s| s.to_string())
        .unwrap_or_else(|_| gettext("snapshot"));
    let taken = |n: &str| facts.snapshots.iter().any(|s| s.name == n);
    let mut name = base.clone();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base} ({n})");
        n += 1;
    }
    name
}

fn plan_error_text(error: &PlanError) -> String {
    match error {
        PlanError::EmptyName => gettext("The snapshot needs a name."),
        PlanError::NameTaken(name) => gettext_f(
            "A snapshot named “{name}” exists already.",
            &[("name", name)],
        ),
        PlanError::NameInvalid(c) => gettext_f(
            "A snapshot name cannot contain “{char}”.",
            &[("char", &c.escape_default().to_string())],
        ),
        PlanError::NoDisk => gettext("The machine has no disk a snapshot could keep."),
        PlanError::NetworkDisk(disk) => gettext_f(
            "Disk {disk} is on the network: an external snapshot cannot put a file of its own beside it.",
            &[("disk", disk)],
        ),
        PlanError::Xml(error) => crate::model::error_text(error),
    }
}

fn reason_text(reason: &ExternalReason) -> String {
    match reason {
        ExternalReason::Pflash => {
            gettext("the machine boots UEFI firmware that keeps its variables in a pflash file")
        }
        ExternalReason::DiskFormat { target, format } => gettext_f(
            "disk {disk} is {format}, not qcow2",
            &[("disk", target), ("format", format)],
        ),
        ExternalReason::RunningWithoutMemory => {
            gettext("the machine runs and its memory is not kept")
        }
    }
}

/// What the snapshot will be, and the warning a person must read before taking it
/// (none when all is well).
pub fn plan_text(plan: &CreatePlan, facts: &SnapshotFacts) -> (String, Option<String>) {
    let mut lines = Vec::new();
    match plan.location {
        Location::Internal => lines.push(gettext(
            "An internal snapshot, kept inside the disk images. You can go back to it at any time.",
        )),
        Location::External => {
            let reasons: Vec<String> = plan.why_external.iter().map(reason_text).collect();
            lines.push(gettext_f(
                "An external snapshot, because {reasons}: the disks' present files stay as they are and new files take the machine's writes.",
                &[("reasons", &reasons.join("; "))],
            ));
            let overlays: Vec<String> = plan
                .overlays
                .iter()
                .map(|(disk, file)| format!("{disk}: {file}"))
                .collect();
            if !overlays.is_empty() {
                lines.push(gettext_f(
                    "New files: {files}",
                    &[("files", &overlays.join(", "))],
                ));
            }
            if let Some(file) = &plan.memory_file {
                lines.push(gettext_f("The memory goes to {file}", &[("file", file)]));
            }
        }
    }
    if plan.with_memory {
        lines.push(gettext(
            "The memory is kept: going back resumes the machine where it is now. The machine pauses briefly while its memory is saved.",
        ));
    } else if facts.active {
        lines.push(gettext(
            "The memory is not kept: going back starts from the disks as if the power had been cut.",
        ));
    }
    if !plan.skipped.is_empty() {
        lines.push(gettext_f(
            "Not in the snapshot: {disks} (removable, read-only or shared).",
            &[("disks", &plan.skipped.join(", "))],
        ));
    }
    if facts.managed_save {
        lines.push(gettext(
            "The machine has saved memory (from Save and Stop); the snapshot keeps its disks only.",
        ));
    }
    let mut warnings = Vec::new();
    if !plan.revertible {
        warnings.push(gettext_f(
            "This host's libvirt ({version}) cannot revert to an external snapshot (libvirt {since} and later can): you will be able to keep and delete it, but not go back to it from Vireo.",
            &[
                ("version", &version_text(facts.support.libvirt_version)),
                ("since", &version_text(EXTERNAL_REVERT_SINCE)),
            ],
        ));
    }
    let only_because_running = plan.why_external == [ExternalReason::RunningWithoutMemory];
    if !plan.revertible && only_because_running {
        warnings.push(gettext(
            "Keep the memory, or shut the machine down first, to take an internal snapshot you can go back to.",
        ));
    }
    if plan.mixes_kinds {
        warnings.push(gettext(
            "This machine has snapshots of the other kind already: mixing internal and external snapshots makes reverting and deleting them harder.",
        ));
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("\n\n"));
    (lines.join("\n\n"), warning)
}
