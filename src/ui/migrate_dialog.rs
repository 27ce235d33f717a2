//! Move to Another Host: the destination among the other open, connected hosts;
//! what the move does (live while the VM runs, else offline), which disks are
//! copied and which are on the destination already, the read-only files that must
//! be there, and what stands in the way; both hosts are named in every message.
//! Then the dialog follows the move's operation (progress, Cancel).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};

use crate::i18n::gettext_f;
use crate::model::migration::{MigrateBlock, MigrateMode, MigratePlan, MigrateRequest};
use crate::model::{ConnectionObject, ConnectionState, DomainObject};
use crate::ui::formatting::format_size;
use crate::ui::operation_bar::OperationBar;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::MigrateDialog)]
    #[template(resource = "/io/github/vireo/Vireo/ui/migrate-dialog.ui")]
    pub struct MigrateDialog {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        /// The application's connections, among which the destinations are.
        #[property(get, set, construct_only)]
        pub(super) connections: RefCell<Option<gio::ListModel>>,
        #[template_child]
        pub(super) move_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) destination_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) keep_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) keep_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) address_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) blocked_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) plan_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) operation_bar: TemplateChild<OperationBar>,
        #[template_child]
        pub(super) error_page: TemplateChild<adw::StatusPage>,
        pub(super) destinations: RefCell<Vec<ConnectionObject>>,
        pub(super) plan: RefCell<Option<MigratePlan>>,
        /// Counts the plans asked for, so that only the latest one is shown.
        pub(super) generation: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for MigrateDialog {
        const NAME: &'static str = "VireoMigrateDialog";
        type Type = super::MigrateDialog;
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
    impl ObjectImpl for MigrateDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_default_widget(Some(&*self.move_button));
            if let Some(domain) = obj.domain() {
                self.operation_bar.set_domain(Some(&domain));
                obj.set_title(Some(&gettext_f(
                    "Move “{vm}” to Another Host",
                    &[("vm", &domain.name())],
                )));
            }
            self.destination_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.prepare()
            ));
            self.move_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.start()
            ));
            obj.fill_destinations();
        }
    }

    impl WidgetImpl for MigrateDialog {}
    impl WindowImpl for MigrateDialog {}
    impl AdwWindowImpl for MigrateDialog {}
}

glib::wrapper! {
    pub struct MigrateDialog(ObjectSubclass<imp::MigrateDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl MigrateDialog {
    pub fn new(
        parent: &impl IsA<gtk::Window>,
        domain: &DomainObject,
        connections: &impl IsA<gio::ListModel>,
    ) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("domain", domain)
            .property("connections", connections.upcast_ref::<gio::ListModel>())
            .build()
    }

    fn source(&self) -> Option<ConnectionObject> {
        self.domain()?.connection()
    }

    /// The host's name as people know it: its host name, else the connection's name.
    fn host_name(connection: &ConnectionObject) -> String {
        let host = connection.hostname();
        if host.is_empty() {
            connection.display_name()
        } else {
            host
        }
    }

    fn fill_destinations(&self) {
        let imp = self.imp();
        let Some(source) = self.source() else { return };
        let destinations: Vec<ConnectionObject> = self
            .connections()
            .map(|list| {
                list.iter::<ConnectionObject>()
                    .flatten()
                    .filter(|c| *c != source && c.state() == ConnectionState::Connected)
                    .collect()
            })
            .unwrap_or_default();
        let source_name = Self::host_name(&source);
        imp.keep_row.set_title(&gettext_f(
            "Keep It on {source} Too",
            &[("source", &source_name)],
        ));
        imp.keep_switch
            .update_property(&[gtk::accessible::Property::Label(&gettext_f(
                "Keep It on {source} Too",
                &[("source", &source_name)],
            ))]);
        if destinations.is_empty() {
            imp.error_page.set_description(Some(&gettext_f(
                "To move a machine off {source}, connect to the host it should go to first (Add Connection, Ctrl+Shift+N).",
                &[("source", &source_name)],
            )));
            imp.stack.set_visible_child_name("error");
            return;
        }
        // The host's name in the list (a URI would be cut); the connection's name
        // under it.
        let names: Vec<String> = destinations.iter().map(Self::host_name).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        imp.destinations.replace(destinations);
        imp.destination_row
            .set_model(Some(&gtk::StringList::new(&names)));
        imp.stack.set_visible_child_name("form");
        self.prepare();
    }

    fn destination(&self) -> Option<ConnectionObject> {
        let imp = self.imp();
        imp.destinations
            .borrow()
            .get(imp.destination_row.selected() as usize)
            .cloned()
    }

    /// Asks both hosts what the move would do.
    fn prepare(&self) {
        let (Some(domain), Some(source), Some(dest)) =
            (self.domain(), self.source(), self.destination())
        else {
            return;
        };
        let imp = self.imp();
        imp.destination_row.set_subtitle(&dest.display_name());
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        imp.plan.replace(None);
        imp.move_button.set_sensitive(false);
        imp.blocked_label.set_visible(false);
        imp.plan_label.set_label(&gettext_f(
            "Asking {source} and {dest}…",
            &[
                ("source", &Self::host_name(&source)),
                ("dest", &Self::host_name(&dest)),
            ],
        ));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let result = source.prepare_migration(&domain, &dest).await;
                let imp = dialog.imp();
                if imp.generation.get() != generation {
                    return;
                }
                match result {
                    Ok(plan) => dialog.show_plan(&domain, plan),
                    Err(error) => {
                        imp.blocked_label.set_visible(true);
                        imp.blocked_label.set_label(&gettext_f(
                            "Could not prepare moving “{vm}” from {source} to {dest}: {error}",
                            &[
                                ("vm", &domain.name()),
                                ("source", &Self::host_name(&source)),
                                ("dest", &Self::host_name(&dest)),
                                ("error", &error.text()),
                            ],
                        ));
                        imp.plan_label.set_label("");
                    }
                }
            }
        ));
    }

    fn show_plan(&self, domain: &DomainObject, plan: MigratePlan) {
        let imp = self.imp();
        let blocked: Vec<String> = plan.blocked.iter().map(|b| block_text(b, &plan)).collect();
        imp.blocked_label.set_visible(!blocked.is_empty());
        imp.blocked_label.set_label(&blocked.join("\n\n"));
        imp.plan_label.set_label(&plan_text(&plan));
        imp.address_row.set_visible(plan.mode == MigrateMode::Live);
        if imp.address_row.text().is_empty() {
            if let Some(address) = &plan.address {
                imp.address_row.set_text(address);
            }
        }
        let busy = domain.operation().is_some_and(|o| o.running());
        imp.move_button
            .set_sensitive(plan.blocked.is_empty() && !busy);
        imp.plan.replace(Some(plan));
    }

    fn start(&self) {
        let (Some(domain), Some(source), Some(dest)) =
            (self.domain(), self.source(), self.destination())
        else {
            return;
        };
        let imp = self.imp();
        let Some(plan) = imp.plan.borrow().clone() else {
            return;
        };
        let address = imp.address_row.text().trim().to_owned();
        let request = MigrateRequest {
            keep_source: imp.keep_switch.is_active(),
            address: (!address.is_empty()).then_some(address),
        };
        imp.move_button.set_sensitive(false);
        imp.stack.set_visible_child_name("progress");
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let (vm, from, to) = (
                    domain.name(),
                    plan.source_host.clone(),
                    plan.dest_host.clone(),
                );
                let result = source.migrate(&domain, &dest, plan, request).await;
                let imp = dialog.imp();
                match result {
                    Ok(outcome) => {
                        let mut text = gettext_f(
                            "“{vm}” moved from {source} to {dest}",
                            &[("vm", &vm), ("source", &from), ("dest", &to)],
                        );
                        if let Some(ms) = outcome.downtime_ms {
                            text.push_str(&gettext_f(
                                " (paused for {ms} ms)",
                                &[("ms", &ms.to_string())],
                            ));
                        }
                        if let Some(parent) = dialog.transient_for() {
                            crate::ui::toast(&parent, &text);
                        }
                        dialog.close();
                    }
                    Err(error) => {
                        imp.stack.set_visible_child_name("form");
                        imp.blocked_label.set_visible(true);
                        imp.blocked_label.set_label(&if error.is_cancelled() {
                            gettext_f(
                                "Moving “{vm}” from {source} to {dest} was cancelled; it stays on {source}.",
                                &[("vm", &vm), ("source", &from), ("dest", &to)],
                            )
                        } else {
                            gettext_f(
                                "Could not move “{vm}” from {source} to {dest}: {error}",
                                &[
                                    ("vm", &vm),
                                    ("source", &from),
                                    ("dest", &to),
                                    ("error", &error.text()),
                                ],
                            )
                        });
                        imp.move_button.set_sensitive(true);
                    }
                }
            }
        ));
    }
}

fn block_text(block: &MigrateBlock, plan: &MigratePlan) -> String {
    let args = [
        ("vm", plan.name.as_str()),
        ("source", plan.source_host.as_str()),
        ("dest", plan.dest_host.as_str()),
    ];
    match block {
        MigrateBlock::OnDestination => gettext_f(
            "{dest} has a machine named “{vm}” or with its UUID already; it cannot come from {source} as well.",
            &args,
        ),
        MigrateBlock::Snapshots(n) => crate::i18n::ngettext_f(
            "“{vm}” has {n} snapshot on {source}: libvirt does not move a machine with snapshots to {dest}. Delete the snapshot first.",
            "“{vm}” has {n} snapshots on {source}: libvirt does not move a machine with snapshots to {dest}. Delete them first.",
            *n as u32,
            &[
                ("vm", &plan.name),
                ("n", &n.to_string()),
                ("source", &plan.source_host),
                ("dest", &plan.dest_host),
            ],
        ),
        MigrateBlock::State => gettext_f(
            "“{vm}” can move from {source} to {dest} only while it runs, is paused or is shut off.",
            &args,
        ),
        MigrateBlock::SameHost => gettext_f(
            "{source} and {dest} are the same host.",
            &args,
        ),
    }
}

fn plan_text(plan: &MigratePlan) -> String {
    let args = [
        ("vm", plan.name.as_str()),
        ("source", plan.source_host.as_str()),
        ("dest", plan.dest_host.as_str()),
    ];
    let mut lines = vec![match plan.mode {
        MigrateMode::Live => gettext_f(
            "Live: “{vm}” keeps running while its memory moves from {source} to {dest}, then pauses for a moment as it switches over.",
            &args,
        ),
        MigrateMode::Offline => gettext_f(
            "Offline: the shut-off “{vm}” is defined on {dest} and its disks are copied there from {source}.",
            &args,
        ),
    }];
    for disk in &plan.disks {
        lines.push(if disk.on_destination {
            gettext_f(
                "Disk {disk} ({path}) is on {dest} already and is used as it is.",
                &[
                    ("disk", &disk.target),
                    ("path", &disk.path),
                    ("dest", &plan.dest_host),
                ],
            )
        } else if disk.allocation == 0 {
            gettext_f(
                "Disk {disk} ({path}) is copied to {dest}.",
                &[
                    ("disk", &disk.target),
                    ("path", &disk.path),
                    ("dest", &plan.dest_host),
                ],
            )
        } else {
            gettext_f(
                "Disk {disk} ({path}, {size}) is copied to {dest}.",
                &[
                    ("disk", &disk.target),
                    ("path", &disk.path),
                    ("size", &format_size(disk.allocation)),
                    ("dest", &plan.dest_host),
                ],
            )
        });
    }
    if !plan.shared_files.is_empty() {
        lines.push(gettext_f(
            "These read-only files are not copied and must be at the same place on {dest}: {files}",
            &[
                ("dest", &plan.dest_host),
                ("files", &plan.shared_files.join(", ")),
            ],
        ));
    }
    lines.join("\n\n")
}
