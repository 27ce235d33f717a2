//! Step 2: the guest OS, detected from the medium or picked from a searchable list.

use std::cell::RefCell;
use std::sync::Arc;

use adw::prelude::*;
use gettextrs::gettext;

use super::obj;
use crate::virt::osinfo::{OsDb, OsInfo};

/// Most rows the list shows at once (the database has about 800 OSes).
const MAX_ROWS: usize = 60;

/// The widgets and choice of the OS page.
pub struct OsPage {
    pub page: adw::PreferencesPage,
    pub detected_row: adw::ActionRow,
    pub use_detected: gtk::Button,
    pub chosen_row: adw::ActionRow,
    pub search: gtk::SearchEntry,
    pub list: gtk::ListBox,
    db: RefCell<Option<Arc<OsDb>>>,
    chosen: RefCell<Option<String>>,
    detected: RefCell<Option<String>>,
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
    /// Builds the page from its template.
    pub fn new() -> Self {
        let b = gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/new-vm-os.ui");
        let p = OsPage {
            page: obj(&b, "page"),
            detected_row: obj(&b, "detected_row"),
            use_detected: obj(&b, "use_detected"),
            chosen_row: obj(&b, "chosen_row"),
            search: obj(&b, "search"),
            list: obj(&b, "list"),
            db: RefCell::default(),
            chosen: RefCell::default(),
            detected: RefCell::default(),
        };
        p.show_chosen();
        p
    }

    /// The database, once loaded.
    pub fn db(&self) -> Option<Arc<OsDb>> {
        self.db.borrow().clone()
    }

    /// Sets the loaded database and lists it.
    pub fn set_db(&self, db: Arc<OsDb>) {
        *self.db.borrow_mut() = Some(db);
        self.refill();
    }

    /// Relists the OSes matching the search text (current releases first).
    pub fn refill(&self) {
        while let Some(c) = self.list.first_child() {
            self.list.remove(&c);
        }
        let generic = adw::ActionRow::builder()
            .title(gettext("Generic Operating System"))
            .subtitle(gettext("Modern defaults: virtio devices"))
            .build();
        generic.set_widget_name("");
        self.list.append(&generic);
        let Some(db) = self.db() else { return };
        let today = glib::DateTime::now_utc()
            .ok()
            .and_then(|d| d.format("%Y-%m-%d").ok())
            .map(|s| s.to_string())
            .unwrap_or_default();
        for os in db
            .search(&self.search.text(), &today)
            .into_iter()
            .take(MAX_ROWS)
        {
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(&os.name).as_str())
                .subtitle(glib::markup_escape_text(&describe(os)).as_str())
                .build();
            row.set_widget_name(&os.id);
            self.list.append(&row);
        }
    }

    /// Records the OS a row stands for ("" = generic).
    pub fn choose_row(&self, row: &gtk::ListBoxRow) {
        let id = row.widget_name().to_string();
        *self.chosen.borrow_mut() = (!id.is_empty()).then_some(id);
        self.show_chosen();
    }

    /// Records an OS by id (`None` = generic).
    pub fn choose(&self, id: Option<String>) {
        *self.chosen.borrow_mut() = id;
        self.show_chosen();
    }

    fn show_chosen(&self) {
        let name = self
            .chosen_os()
            .map(|o| o.name)
            .unwrap_or_else(|| gettext("Generic Operating System"));
        self.chosen_row
            .set_subtitle(&glib::markup_escape_text(&name));
    }

    /// The chosen OS.
    pub fn chosen_os(&self) -> Option<OsInfo> {
        let id = self.chosen.borrow().clone()?;
        self.db()?.by_id(&id).cloned()
    }

    /// Shows what detection found (`None`: nothing) and picks it.
    pub fn set_detected(&self, id: Option<String>) {
        let db = self.db();
        let os = id.as_deref().and_then(|i| db.as_ref()?.by_id(i).cloned());
        match &os {
            Some(os) => self
                .detected_row
                .set_subtitle(&glib::markup_escape_text(&os.name)),
            None => self.detected_row.set_subtitle(&gettext("Nothing detected")),
        }
        self.use_detected.set_sensitive(os.is_some());
        *self.detected.borrow_mut() = os.as_ref().map(|o| o.id.clone());
        if os.is_some() {
            self.choose(self.detected.borrow().clone());
        }
    }

    /// The detected OS id.
    pub fn detected(&self) -> Option<String> {
        self.detected.borrow().clone()
    }
}

impl Default for OsPage {
    fn default() -> Self {
        Self::new()
    }
}

use gtk::glib;
