//! One snapshot in the Snapshots page: indented by its depth in the tree, its
//! thumbnail when it kept the memory (else a disk), name, date, state, description,
//! "Current", and its menu (also on a right click, Shift+F10 and the Menu key).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib, CompositeTemplate};

use crate::i18n::gettext_f;
use crate::model::snapshots::{SnapshotEntry, SnapshotInfo, SnapshotState};

/// Pixels of indentation per level of the tree.
const INDENT: i32 = 24;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::SnapshotRow)]
    #[template(resource = "/io/github/vireo/Vireo/ui/snapshot-row.ui")]
    pub struct SnapshotRow {
        /// The snapshot's name.
        #[property(get)]
        pub(super) name: RefCell<String>,
        /// The VM's disks now continue from this snapshot.
        #[property(get)]
        pub(super) current: Cell<bool>,
        #[template_child]
        pub(super) indent: TemplateChild<gtk::Box>,
        #[template_child]
        pub(super) picture_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) thumbnail: TemplateChild<gtk::Picture>,
        #[template_child]
        pub(super) kind_icon: TemplateChild<gtk::Image>,
        #[template_child]
        pub(super) current_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) menu_button: TemplateChild<gtk::MenuButton>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SnapshotRow {
        const NAME: &'static str = "VireoSnapshotRow";
        type Type = super::SnapshotRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            for key in [gtk::gdk::Key::F10, gtk::gdk::Key::Menu] {
                let modifiers = if key == gtk::gdk::Key::F10 {
                    gtk::gdk::ModifierType::SHIFT_MASK
                } else {
                    gtk::gdk::ModifierType::empty()
                };
                klass.add_binding(key, modifiers, |row| {
                    row.imp().menu_button.popup();
                    glib::Propagation::Stop
                });
            }
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SnapshotRow {
        fn constructed(&self) {
            self.parent_constructed();
            // A right click opens the row's menu, as in a list of files.
            let click = gtk::GestureClick::builder()
                .button(gtk::gdk::BUTTON_SECONDARY)
                .build();
            click.connect_pressed(glib::clone!(
                #[weak(rename_to = row)]
                self.obj(),
                move |gesture, _, _, _| {
                    gesture.set_state(gtk::EventSequenceState::Claimed);
                    row.imp().menu_button.popup();
                }
            ));
            self.obj().add_controller(click);
        }
    }

    impl WidgetImpl for SnapshotRow {}
    impl ListBoxRowImpl for SnapshotRow {}
    impl PreferencesRowImpl for SnapshotRow {}
    impl ActionRowImpl for SnapshotRow {}
}

glib::wrapper! {
    pub struct SnapshotRow(ObjectSubclass<imp::SnapshotRow>)
        @extends adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Accessible, gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl SnapshotRow {
    /// A row for `entry`, with its thumbnail file when there is one and `menu` as its
    /// menu.
    pub fn new(
        entry: &SnapshotEntry,
        thumbnail: Option<std::path::PathBuf>,
        menu: &gio::MenuModel,
    ) -> Self {
        let row: Self = glib::Object::new();
        let imp = row.imp();
        let info = &entry.info;
        imp.name.replace(info.name.clone());
        imp.current.set(info.is_current);
        row.set_title(&info.name);
        let mut subtitle = format!("{} · {}", date_text(info.created), state_text(info));
        if !info.description.is_empty() {
            subtitle.push('\n');
            subtitle.push_str(&info.description);
        }
        row.set_subtitle(&subtitle);
        let depth = i32::try_from(entry.depth).unwrap_or(i32::MAX / INDENT);
        imp.indent.set_visible(depth > 0);
        imp.indent
            .set_size_request(depth.saturating_mul(INDENT), -1);
        imp.current_label.set_visible(info.is_current);
        match thumbnail.filter(|_| info.has_memory()) {
            Some(path) => {
                imp.thumbnail.set_filename(Some(&path));
                imp.thumbnail.set_alternative_text(Some(&gettext_f(
                    "The screen when “{name}” was taken",
                    &[("name", &info.name)],
                )));
                imp.picture_stack.set_visible_child_name("thumbnail");
            }
            None => {
                imp.kind_icon.set_icon_name(Some(if info.has_memory() {
                    "media-memory-symbolic"
                } else {
                    "drive-harddisk-symbolic"
                }));
                imp.picture_stack.set_visible_child_name("icon");
            }
        }
        imp.menu_button.set_menu_model(Some(menu));
        imp.menu_button
            .update_property(&[gtk::accessible::Property::Label(&gettext_f(
                "Menu of snapshot “{name}”",
                &[("name", &info.name)],
            ))]);
        let mut label = vec![info.name.clone()];
        if info.is_current {
            label.push(gettext("current"));
        }
        label.push(subtitle.replace('\n', ", "));
        row.update_property(&[gtk::accessible::Property::Label(&label.join(", "))]);
        row
    }

    /// Opens the row's menu (what its button, a right click and Shift+F10 do).
    pub fn popup_menu(&self) {
        self.imp().menu_button.popup();
    }
}

/// When the snapshot was taken, in the person's locale.
fn date_text(created: i64) -> String {
    glib::DateTime::from_unix_local(created)
        .and_then(|d| d.format("%x %X"))
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// What the snapshot kept: "Running, with its memory", "Shut off", "Disks only"; and
/// "external" when its data lives in files of its own.
pub fn state_text(info: &SnapshotInfo) -> String {
    let state = match (info.state, info.has_memory()) {
        (SnapshotState::Running | SnapshotState::Blocked, true) => {
            gettext("Running, with its memory")
        }
        (SnapshotState::Paused, true) => gettext("Paused, with its memory"),
        (SnapshotState::Shutoff, _) => gettext("Shut off"),
        (SnapshotState::DiskSnapshot, _) | (SnapshotState::Running, false) => {
            gettext("Running, disks only")
        }
        _ => gettext("Disks only"),
    };
    if info.is_external() {
        gettext_f("{state} · external", &[("state", &state)])
    } else {
        state
    }
}
