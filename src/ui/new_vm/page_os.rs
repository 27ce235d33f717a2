//! Step 2: the guest OS, detected from the install medium or picked from a searchable
//! list of the osinfo database (current releases first).

use std::sync::Arc;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use crate::model::new_vm::{self, OsDb, OsInfo, OsProfile, Resources};

/// Most rows the list shows at once (the database has about 800 OSes).
const MAX_ROWS: usize = 60;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::OsPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-vm-os.ui")]
    pub struct OsPage {
        /// The chosen OS's osinfo id ("": a generic modern OS).
        #[property(get)]
        pub os_id: RefCell<String>,
        /// A local install medium to detect the OS of ("": none).
        #[property(get, set = Self::set_media_path)]
        pub media_path: RefCell<String>,
        /// The VM's architecture (detection prefers media of it).
        #[property(get, set)]
        pub arch: RefCell<String>,
        /// Any choice will do: always true.
        #[property(get)]
        pub valid: Cell<bool>,
        #[template_child]
        pub detected_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub chosen_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub list: TemplateChild<gtk::ListBox>,
        pub db: RefCell<Option<Arc<OsDb>>>,
        pub detected: RefCell<Option<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OsPage {
        const NAME: &'static str = "VireoNewVmOsPage";
        type Type = super::OsPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("os.use-detected", None, |page, _, _| {
                page.choose(page.imp().detected.borrow().clone());
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl OsPage {
        fn set_media_path(&self, path: String) {
            if *self.media_path.borrow() != path {
                self.media_path.replace(path);
                self.obj().detect();
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for OsPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.valid.set(true);
            self.search.connect_search_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.refill()
            ));
            self.list.connect_row_selected(glib::clone!(
                #[weak]
                obj,
                move |_, row| {
                    if let Some(row) = row {
                        let id = row.widget_name().to_string();
                        obj.choose((!id.is_empty()).then_some(id));
                    }
                }
            ));
            obj.action_set_enabled("os.use-detected", false);
            obj.show_chosen();
            obj.load();
        }
    }

    impl WidgetImpl for OsPage {}
    impl PreferencesPageImpl for OsPage {}
}

glib::wrapper! {
    /// The wizard's OS page.
    pub struct OsPage(ObjectSubclass<imp::OsPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

/// One line describing an OS: vendor, release year, short id.
fn describe(os: &OsInfo) -> String {
    let year = os
        .release_date
        .as_deref()
        .map(|d| d.get(..4).unwrap_or(d))
        .unwrap_or("");
    [os.vendor.as_str(), year, os.short_id()]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ")
}

impl OsPage {
    /// Reads the osinfo database (once per process) and lists it.
    fn load(&self) {
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                match new_vm::os_database().await {
                    Ok(db) => {
                        page.imp().db.replace(Some(db));
                        page.refill();
                        page.show_chosen();
                        page.detect();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "no osinfo database");
                        page.imp().detected_row.set_subtitle(&e.to_string());
                        page.refill();
                    }
                }
            }
        ));
    }

    /// The chosen OS, when it is not the generic one.
    pub fn chosen(&self) -> Option<OsInfo> {
        let id = self.os_id();
        self.imp().db.borrow().as_ref()?.by_id(&id).cloned()
    }

    /// What the spec needs to know of the chosen OS (`None`: generic).
    pub fn profile(&self) -> Option<OsProfile> {
        let db = self.imp().db.borrow().clone()?;
        let os = db.by_id(&self.os_id())?.clone();
        Some(OsProfile::from_db(&db, &os))
    }

    /// The chosen OS's name and the resources it asks for on `arch`.
    pub fn resources(&self, arch: &str) -> Option<(String, Resources)> {
        let db = self.imp().db.borrow().clone()?;
        let os = db.by_id(&self.os_id())?;
        let arch = if arch.is_empty() { "x86_64" } else { arch };
        Some((os.name.clone(), db.resources(os, arch)))
    }

    /// Relists the OSes matching the search text (current releases first).
    fn refill(&self) {
        let imp = self.imp();
        while let Some(c) = imp.list.first_child() {
            imp.list.remove(&c);
        }
        let generic = adw::ActionRow::builder()
            .title(gettext("Generic Operating System"))
            .subtitle(gettext("Modern defaults: virtio devices"))
            .activatable(true)
            .build();
        imp.list.append(&generic);
        let Some(db) = imp.db.borrow().clone() else {
            return;
        };
        let today = glib::DateTime::now_utc()
            .ok()
            .and_then(|d| d.format("%Y-%m-%d").ok())
            .map(|s| s.to_string())
            .unwrap_or_default();
        for os in db
            .search(&imp.search.text(), &today)
            .into_iter()
            .take(MAX_ROWS)
        {
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(&os.name).as_str())
                .subtitle(glib::markup_escape_text(&describe(os)).as_str())
                .activatable(true)
                .build();
            // The row's name carries the OS id (the generic row has none).
            row.set_widget_name(&os.id);
            imp.list.append(&row);
        }
    }

    /// Chooses an OS by id (`None`: the generic one).
    fn choose(&self, id: Option<String>) {
        let id = id.unwrap_or_default();
        if *self.imp().os_id.borrow() != id {
            self.imp().os_id.replace(id);
            self.show_chosen();
            self.notify_os_id();
        }
    }

    fn show_chosen(&self) {
        let name = self
            .chosen()
            .map(|o| o.name)
            .unwrap_or_else(|| gettext("Generic Operating System"));
        self.imp()
            .chosen_row
            .set_subtitle(&glib::markup_escape_text(&name));
    }

    /// Detects the OS of the medium (on a thread), and picks it when found.
    fn detect(&self) {
        let path = self.media_path();
        let Some(db) = self.imp().db.borrow().clone() else {
            return;
        };
        if path.is_empty() {
            self.set_detected(None);
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let found = new_vm::identify_medium(db, path.clone(), page.arch()).await;
                // Only the answer for the medium still chosen counts.
                if page.media_path() == path {
                    page.set_detected(found);
                }
            }
        ));
    }

    fn set_detected(&self, id: Option<String>) {
        let imp = self.imp();
        let os = id
            .as_deref()
            .and_then(|i| imp.db.borrow().as_ref()?.by_id(i).cloned());
        match &os {
            Some(os) => imp
                .detected_row
                .set_subtitle(&glib::markup_escape_text(&os.name)),
            None => imp.detected_row.set_subtitle(&gettext("Nothing detected")),
        }
        self.action_set_enabled("os.use-detected", os.is_some());
        let id = os.map(|o| o.id);
        imp.detected.replace(id.clone());
        if id.is_some() {
            self.choose(id);
        }
    }
}
