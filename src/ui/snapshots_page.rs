//! The Snapshots page of a VM's tab: the snapshot tree, one row a snapshot (indented
//! by depth, the current one marked), Take Snapshot, and each row's Revert, Edit
//! Description and Delete (`snapshot.*` actions with the snapshot's name), which ask
//! first and say what happens (`snapshot_questions`). The list is read again when
//! the model says the snapshots changed, when the VM's state changes and when the
//! page is shown.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};

use crate::i18n::ngettext_f;
use crate::model::snapshots::{snapshot_thumbnail, SnapshotEntry};
use crate::model::DomainObject;
use crate::ui::snapshot_questions;
use crate::ui::snapshot_row::SnapshotRow;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::SnapshotsPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/snapshots-page.ui")]
    pub struct SnapshotsPage {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub(super) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) count_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) error_page: TemplateChild<adw::StatusPage>,
        pub(super) handlers: RefCell<Vec<glib::SignalHandlerId>>,
        /// Counts the reads, so that only the latest one fills the list.
        pub(super) generation: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SnapshotsPage {
        const NAME: &'static str = "VireoSnapshotsPage";
        type Type = super::SnapshotsPage;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
            // The rows' menus: each item carries the snapshot's name.
            let name = Some(glib::VariantTy::STRING);
            klass.install_action("snapshot.revert", name, |page, _, target| {
                page.ask(target, |parent, domain, name| {
                    glib::spawn_future_local(snapshot_questions::revert(parent, domain, name));
                });
            });
            klass.install_action("snapshot.describe", name, |page, _, target| {
                page.ask(target, |parent, domain, name| {
                    glib::spawn_future_local(snapshot_questions::describe(parent, domain, name));
                });
            });
            klass.install_action("snapshot.delete", name, |page, _, target| {
                page.ask(target, |parent, domain, name| {
                    glib::spawn_future_local(snapshot_questions::delete(
                        parent, domain, name, false,
                    ));
                });
            });
            klass.install_action("snapshot.delete-tree", name, |page, _, target| {
                page.ask(target, |parent, domain, name| {
                    glib::spawn_future_local(snapshot_questions::delete(
                        parent, domain, name, true,
                    ));
                });
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SnapshotsPage {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().follow_domain();
        }

        fn dispose(&self) {
            if let Some(domain) = self.domain.borrow().as_ref() {
                for handler in self.handlers.take() {
                    domain.disconnect(handler);
                }
            }
            self.dispose_template();
        }
    }

    impl WidgetImpl for SnapshotsPage {
        fn map(&self) {
            self.parent_map();
            // Snapshots taken elsewhere (virsh, another manager) send no event.
            self.obj().reload();
        }
    }
}

glib::wrapper! {
    pub struct SnapshotsPage(ObjectSubclass<imp::SnapshotsPage>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl SnapshotsPage {
    pub fn new(domain: &DomainObject) -> Self {
        glib::Object::builder().property("domain", domain).build()
    }

    /// The rows shown, in tree order.
    pub fn rows(&self) -> Vec<SnapshotRow> {
        let mut rows = Vec::new();
        let mut child = self.imp().list.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            if let Ok(row) = c.downcast::<SnapshotRow>() {
                rows.push(row);
            }
        }
        rows
    }

    fn follow_domain(&self) {
        let Some(domain) = self.domain() else { return };
        let reload = glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_: &DomainObject| page.reload()
        );
        let handlers = vec![
            domain.connect_snapshots_changed(reload.clone()),
            domain.connect_state_notify(reload),
        ];
        self.imp().handlers.replace(handlers);
    }

    /// Reads the snapshots again and shows them (only the latest read is shown).
    pub fn reload(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let imp = self.imp();
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        if self.rows().is_empty() && imp.stack.visible_child_name().as_deref() != Some("empty") {
            imp.stack.set_visible_child_name("loading");
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let result = connection.snapshots(&domain).await;
                if page.imp().generation.get() != generation {
                    return;
                }
                match result {
                    Ok(entries) => page.show(&domain, &entries),
                    Err(error) => {
                        let imp = page.imp();
                        imp.error_page
                            .set_description(Some(&crate::model::error_text(&error)));
                        imp.stack.set_visible_child_name("error");
                    }
                }
            }
        ));
    }

    fn show(&self, domain: &DomainObject, entries: &[SnapshotEntry]) {
        let imp = self.imp();
        // Keep the focus on the same snapshot when the list is refilled.
        let focused = self
            .rows()
            .into_iter()
            .find(|r| r.has_focus() || r.focus_child().is_some())
            .map(|r| r.name());
        while let Some(child) = imp.list.first_child() {
            imp.list.remove(&child);
        }
        for entry in entries {
            let row = SnapshotRow::new(
                entry,
                snapshot_thumbnail(domain, &entry.info.name),
                &row_menu(&entry.info.name, !entry.children.is_empty()),
            );
            imp.list.append(&row);
            if focused.as_deref() == Some(entry.info.name.as_str()) {
                row.grab_focus();
            }
        }
        imp.count_label.set_label(&ngettext_f(
            "{n} Snapshot",
            "{n} Snapshots",
            entries.len() as u32,
            &[("n", &entries.len().to_string())],
        ));
        imp.stack
            .set_visible_child_name(if entries.is_empty() { "empty" } else { "list" });
    }

    /// Runs one of the rows' questions with this page's window, VM and the snapshot
    /// named by the action's target.
    fn ask(
        &self,
        target: Option<&glib::Variant>,
        question: impl FnOnce(gtk::Widget, DomainObject, String),
    ) {
        let (Some(domain), Some(name)) = (self.domain(), target.and_then(|t| t.str())) else {
            return;
        };
        question(self.clone().upcast(), domain, name.to_owned());
    }
}

/// A snapshot row's menu: Revert, Edit Description, Delete (and with children).
fn row_menu(name: &str, has_children: bool) -> gio::MenuModel {
    let target = name.to_variant();
    let item = |label: &str, action: &str| {
        let item = gio::MenuItem::new(Some(label), None);
        item.set_action_and_target_value(Some(action), Some(&target));
        item
    };
    let menu = gio::Menu::new();
    let first = gio::Menu::new();
    first.append_item(&item(
        &gettextrs::gettext("_Revert to This Snapshot…"),
        "snapshot.revert",
    ));
    first.append_item(&item(
        &gettextrs::gettext("_Edit Description…"),
        "snapshot.describe",
    ));
    menu.append_section(None, &first);
    let second = gio::Menu::new();
    second.append_item(&item(&gettextrs::gettext("_Delete…"), "snapshot.delete"));
    if has_children {
        second.append_item(&item(
            &gettextrs::gettext("Delete With _Children…"),
            "snapshot.delete-tree",
        ));
    }
    menu.append_section(None, &second);
    menu.upcast()
}
