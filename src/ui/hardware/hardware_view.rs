//! The hardware view: the sidebar of a VM's details (Overview, CPUs, Memory, Boot
//! Options, every device), the page chosen, and Apply, Revert and Remove.
//!
//! Apply writes the page's values into a copy of the persistent definition and saves
//! it (nothing when nothing changed; refused, and read again, when the definition
//! changed meanwhile); on a running VM, what can change at once (a CD's medium, a
//! link) goes to libvirt as the one device, now and for the next boots, and anything
//! else says that it waits for the next start.

use std::cell::{Cell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::add_hardware_dialog::AddHardwareDialog;
use super::boot_page::HwBootPage;
use super::cpu_page::HwCpuPage;
use super::memory_page::HwMemoryPage;
use super::page_for::device_page;
use super::{Editor, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{
    device_icon, device_title, Affect, DetailsError, DeviceKey, DeviceKind, Disk, DomainXml,
};
use crate::model::{error_text, DomainObject};
use crate::ui::vm_overview::VmOverview;

/// True when `a` and `b` open the same page: the same entry, or the same device
/// whose identity (a share's mount tag) was edited.
fn same_place(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (Some(Entry::Device(x)), Some(Entry::Device(y))) => x.kind == y.kind && x.index == y.index,
        _ => a == b,
    }
}

/// What a sidebar row opens.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Overview,
    Cpu,
    Memory,
    Boot,
    Device(DeviceKey),
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::HardwareView)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hardware-view.ui")]
    pub struct HardwareView {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub(super) leaflet: TemplateChild<adw::Leaflet>,
        #[template_child]
        pub(super) sidebar: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) page_title: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) message_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) action_bar: TemplateChild<gtk::ActionBar>,
        #[template_child]
        pub(super) remove_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) add_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) apply_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) revert_button: TemplateChild<gtk::Button>,
        pub(super) overview: RefCell<Option<VmOverview>>,
        /// The persistent definition the pages show, as last read.
        pub(super) doc: RefCell<Option<DomainXml>>,
        /// The sidebar's entries, in its order.
        pub(super) entries: RefCell<Vec<(Entry, String)>>,
        pub(super) selected: RefCell<Option<Entry>>,
        pub(super) editor: RefCell<Option<Box<dyn Editor>>>,
        pub(super) limits: Cell<HostLimits>,
        /// Counts the reads, so that only the latest one is shown.
        pub(super) generation: Cell<u64>,
        /// True while the sidebar is refilled (its selection then opens nothing).
        pub(super) filling: Cell<bool>,
        pub(super) handlers: RefCell<Vec<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HardwareView {
        const NAME: &'static str = "VireoHardwareView";
        type Type = super::HardwareView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for HardwareView {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().setup();
        }

        fn dispose(&self) {
            if let Some(domain) = self.domain.borrow().as_ref() {
                for handler in self.handlers.take() {
                    domain.disconnect(handler);
                }
            }
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for HardwareView {}
}

glib::wrapper! {
    /// A VM's details with their sidebar.
    pub struct HardwareView(ObjectSubclass<imp::HardwareView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HardwareView {
    /// The details of `domain`.
    pub fn new(domain: &DomainObject) -> Self {
        glib::Object::builder().property("domain", domain).build()
    }

    /// The overview page.
    pub fn overview(&self) -> Option<VmOverview> {
        self.imp().overview.borrow().clone()
    }

    /// The sidebar's titles, in order (empty until the definition is read).
    pub fn titles(&self) -> Vec<String> {
        self.imp()
            .entries
            .borrow()
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Opens the sidebar's entry `title` (as clicking it does); false when there is none.
    pub fn select(&self, title: &str) -> bool {
        let index = self
            .imp()
            .entries
            .borrow()
            .iter()
            .position(|(_, t)| t == title);
        let Some(row) = index.and_then(|i| self.imp().sidebar.row_at_index(i as i32)) else {
            return false;
        };
        self.imp().sidebar.select_row(Some(&row));
        true
    }

    /// Shows the overview.
    pub fn show_overview(&self) {
        if let Some(row) = self.imp().sidebar.row_at_index(0) {
            self.imp().sidebar.select_row(Some(&row));
        }
    }

    /// The page shown (the overview, or a hardware page).
    pub fn page(&self) -> Option<gtk::Widget> {
        self.imp().stack.visible_child()
    }

    /// What the last Apply, Revert or Remove said (empty: nothing).
    pub fn message(&self) -> String {
        let label = &self.imp().message_label;
        if label.is_visible() {
            label.label().to_string()
        } else {
            String::new()
        }
    }

    /// Applies the page shown (its Apply button).
    pub fn apply(&self) {
        self.imp().apply_button.emit_clicked();
    }

    /// Shows the page's values as saved again (its Revert button).
    pub fn revert(&self) {
        self.imp().revert_button.emit_clicked();
    }

    /// Opens the Add Hardware dialog (its button under the sidebar) and returns it.
    pub fn add_hardware(&self) -> Option<AddHardwareDialog> {
        let domain = self.domain()?;
        let parent = self.root().and_downcast::<gtk::Window>();
        let dialog = AddHardwareDialog::new(&domain, parent.as_ref());
        dialog.connect_added(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, text| {
                crate::ui::toast(&view, text);
                view.load();
            }
        ));
        dialog.present();
        Some(dialog)
    }

    /// Asks to remove the device shown (its Remove button).
    pub fn remove(&self) {
        self.imp().remove_button.emit_clicked();
    }

    fn setup(&self) {
        let imp = self.imp();
        let Some(domain) = self.domain() else { return };
        let overview = VmOverview::new(&domain);
        imp.stack.add_named(&overview, Some("overview"));
        imp.overview.replace(Some(overview));
        imp.sidebar.connect_row_selected(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, row| {
                if view.imp().filling.get() {
                    return;
                }
                let Some(index) = row.map(|r| r.index()) else {
                    return;
                };
                let entry = view
                    .imp()
                    .entries
                    .borrow()
                    .get(index as usize)
                    .map(|(e, _)| e.clone());
                if let Some(entry) = entry {
                    view.open(entry);
                    view.imp()
                        .leaflet
                        .navigate(adw::NavigationDirection::Forward);
                }
            }
        ));
        // Narrow, a row that is already selected still opens its page.
        imp.sidebar.connect_row_activated(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, _| {
                view.imp()
                    .leaflet
                    .navigate(adw::NavigationDirection::Forward);
            }
        ));
        imp.back_button.connect_clicked(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| {
                view.imp().leaflet.navigate(adw::NavigationDirection::Back);
            }
        ));
        imp.apply_button.connect_clicked(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| view.apply_page()
        ));
        imp.revert_button.connect_clicked(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| view.revert_page()
        ));
        imp.add_button.connect_clicked(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| {
                view.add_hardware();
            }
        ));
        imp.remove_button.connect_clicked(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| {
                glib::spawn_future_local(async move { view.ask_remove().await });
            }
        ));
        let mut handlers = Vec::new();
        handlers.push(domain.connect_config_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| view.load()
        )));
        // Started or stopped, libvirt may write the saved definition out differently.
        handlers.push(domain.connect_notify_local(
            Some("state"),
            glib::clone!(
                #[weak(rename_to = view)]
                self,
                move |_, _| view.load()
            ),
        ));
        imp.handlers.replace(handlers);
        self.open(Entry::Overview);
        self.read_limits();
        self.load();
    }

    fn read_limits(&self) {
        let Some(connection) = self.domain().and_then(|d| d.connection()) else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                if let Ok(kib) = connection.host_memory_kib().await {
                    view.imp().limits.set(HostLimits { memory_kib: kib });
                    if let Some(page) = view.imp().stack.child_by_name("page") {
                        if let Some(memory) = page.downcast_ref::<HwMemoryPage>() {
                            memory.set_limits(&view.imp().limits.get());
                        }
                    }
                }
            }
        ));
    }

    /// Reads the persistent definition and shows it: the sidebar, and the page shown.
    fn load(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let generation = self.imp().generation.get() + 1;
        self.imp().generation.set(generation);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let r = connection.domain_document(&domain, false).await;
                if view.imp().generation.get() != generation {
                    return;
                }
                match r {
                    Ok(doc) => view.show_document(doc),
                    Err(e) => view.say(&error_text(&e), true),
                }
            }
        ));
    }

    fn show_document(&self, doc: DomainXml) {
        let imp = self.imp();
        // The same text again (a state change, Vireo's own event after a save that
        // changed nothing): keep the pages, and what a person typed in them.
        if imp
            .doc
            .borrow()
            .as_ref()
            .is_some_and(|old| old.original() == doc.original())
        {
            return;
        }
        // Another client (or Vireo's own save of another page) changed the definition:
        // the page shown takes the new values, and says what it dropped.
        let dropped_edits = self.page_edits_lost_by(&doc);
        let mut entries = vec![
            (Entry::Overview, gettext("Overview")),
            (Entry::Cpu, gettext("CPUs")),
            (Entry::Memory, gettext("Memory")),
            (Entry::Boot, gettext("Boot Options")),
        ];
        let mut icons = vec![
            "document-properties-symbolic",
            "system-run-symbolic",
            "drive-multidisk-symbolic",
            "system-reboot-symbolic",
        ];
        for key in doc.devices() {
            let disk_device = (key.kind == DeviceKind::Disk)
                .then(|| doc.device::<Disk>(&key).ok().map(|d| d.device))
                .flatten();
            icons.push(device_icon(key.kind, disk_device.as_deref()));
            entries.push((Entry::Device(key.clone()), device_title(&doc, &key)));
        }
        imp.filling.set(true);
        let sidebar = &imp.sidebar;
        while let Some(row) = sidebar.first_child() {
            sidebar.remove(&row);
        }
        for ((_, title), icon) in entries.iter().zip(icons) {
            let item = gtk::Box::builder().spacing(12).build();
            item.append(&gtk::Image::from_icon_name(icon));
            item.append(
                &gtk::Label::builder()
                    .label(title)
                    .xalign(0.0)
                    .ellipsize(gtk::pango::EllipsizeMode::End)
                    .build(),
            );
            sidebar.append(&item);
        }
        let selected = imp.selected.borrow().clone();
        // A device whose identity was edited (a share's mount tag) is still the one
        // at its place among its kind.
        let index = entries
            .iter()
            .position(|(e, _)| Some(e) == selected.as_ref())
            .or_else(|| match &selected {
                Some(old @ Entry::Device(_)) => entries
                    .iter()
                    .position(|(e, _)| same_place(Some(e), Some(old))),
                _ => None,
            });
        if let Some(entry) = index.map(|i| entries[i].0.clone()) {
            if selected.as_ref() != Some(&entry) {
                // Its page opens again on the new key, keeping what it said.
                imp.selected.replace(Some(entry));
                imp.editor.replace(None);
            }
        }
        imp.entries.replace(entries);
        imp.doc.replace(Some(doc));
        if let Some(row) = sidebar.row_at_index(index.unwrap_or(0) as i32) {
            sidebar.select_row(Some(&row));
        }
        imp.filling.set(false);
        match index {
            // The page shown stays, with the new definition's values.
            Some(_) if imp.editor.borrow().is_some() => {
                if let (Some(editor), Some(doc)) =
                    (imp.editor.borrow().as_ref(), imp.doc.borrow().as_ref())
                {
                    editor.load(doc);
                }
            }
            Some(i) => {
                let entry = imp.entries.borrow()[i].0.clone();
                self.open(entry);
            }
            // Its device went: the overview.
            None => self.open(Entry::Overview),
        }
        if dropped_edits {
            self.say(
                &gettext("The configuration was changed elsewhere. The page shows it now; what you had not applied is gone."),
                true,
            );
        }
    }

    /// True when the page shown holds values that are not saved (written into the
    /// definition it was loaded from, they change it) and that `new` lacks too: showing
    /// `new` loses them. After Vireo's own Apply, `new` has them. A value that cannot be
    /// written (half typed) counts as one that would be lost.
    fn page_edits_lost_by(&self, new: &DomainXml) -> bool {
        let imp = self.imp();
        let (editor, old) = (imp.editor.borrow(), imp.doc.borrow());
        let (Some(editor), Some(old)) = (editor.as_ref(), old.as_ref()) else {
            return false;
        };
        let limits = imp.limits.get();
        let changes = |doc: &DomainXml| {
            let mut copy = doc.clone();
            editor
                .write(&mut copy, &limits)
                .map_or(true, |()| copy.is_changed())
        };
        changes(old) && changes(new)
    }

    /// Shows the page of `entry`.
    fn open(&self, entry: Entry) {
        let imp = self.imp();
        let keep_message = imp.selected.borrow().as_ref() == Some(&entry);
        if !keep_message {
            self.say("", false);
        }
        imp.selected.replace(Some(entry.clone()));
        let title = imp
            .entries
            .borrow()
            .iter()
            .find(|(e, _)| *e == entry)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| gettext("Overview"));
        imp.page_title.set_label(&title);
        if let Some(old) = imp.stack.child_by_name("page") {
            imp.stack.remove(&old);
        }
        imp.editor.replace(None);
        let editor: Box<dyn Editor> = match &entry {
            Entry::Overview => {
                imp.stack.set_visible_child_name("overview");
                imp.action_bar.set_visible(false);
                return;
            }
            Entry::Cpu => Box::new(HwCpuPage::default()),
            Entry::Memory => {
                let page = HwMemoryPage::default();
                page.set_limits(&imp.limits.get());
                Box::new(page)
            }
            Entry::Boot => Box::new(HwBootPage::default()),
            Entry::Device(key) => device_page(key),
        };
        if let Some(doc) = imp.doc.borrow().as_ref() {
            editor.load(doc);
        }
        imp.stack.add_named(&editor.widget(), Some("page"));
        imp.stack.set_visible_child_name("page");
        let is_device = matches!(entry, Entry::Device(_));
        imp.remove_button.set_visible(is_device);
        imp.remove_button
            .update_property(&[gtk::accessible::Property::Label(&gettext_f(
                "Remove {device}",
                &[("device", &title)],
            ))]);
        imp.action_bar.set_visible(true);
        imp.editor.replace(Some(editor));
    }

    /// Shows `text` under the page (`error`: in the error style); empty hides it.
    fn say(&self, text: &str, error: bool) {
        let label = &self.imp().message_label;
        label.set_label(text);
        label.set_visible(!text.is_empty());
        if error {
            label.add_css_class("error");
            label.remove_css_class("dim-label");
        } else {
            label.remove_css_class("error");
            label.add_css_class("dim-label");
        }
    }

    fn revert_page(&self) {
        let imp = self.imp();
        if let (Some(editor), Some(doc)) = (imp.editor.borrow().as_ref(), imp.doc.borrow().as_ref())
        {
            editor.load(doc);
        }
        self.say("", false);
    }

    fn apply_page(&self) {
        let imp = self.imp();
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let Some(before) = imp.doc.borrow().clone() else {
            return;
        };
        let mut after = before.clone();
        let written = imp
            .editor
            .borrow()
            .as_ref()
            .map(|e| e.write(&mut after, &imp.limits.get()))
            .unwrap_or(Ok(()));
        if let Err(text) = written {
            let on_field = imp
                .editor
                .borrow()
                .as_ref()
                .is_some_and(|e| e.shows_problems_on_fields());
            self.say(if on_field { "" } else { &text }, true);
            return;
        }
        if !after.is_changed() {
            self.say(
                &gettext("Nothing to apply: the page shows what is saved."),
                false,
            );
            return;
        }
        let running = domain.state().is_active();
        let (live, live_memory) = match imp.editor.borrow().as_ref() {
            Some(e) if running => (
                e.live_update(&before, &after),
                e.live_memory(&before, &after),
            ),
            _ => (None, None),
        };
        imp.apply_button.set_sensitive(false);
        let applied_on = imp.selected.borrow().clone();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let now = Affect {
                    live: true,
                    config: domain.persistent(),
                };
                let r = match (live, live_memory) {
                    (Some(xml), _) => connection
                        .update_device(&domain, xml, now)
                        .await
                        .map(|()| gettext("Changed now, and for the next starts."))
                        .map_err(DetailsError::Virt),
                    (None, Some(kib)) => connection
                        .set_current_memory(&domain, kib, now)
                        .await
                        .map(|()| gettext("Changed now, and for the next starts."))
                        .map_err(DetailsError::Virt),
                    (None, None) => connection.save_definition(&domain, after).await.map(|_| {
                        if running {
                            gettext("Saved. The change takes effect when the virtual machine next starts.")
                        } else {
                            gettext("Saved.")
                        }
                    }),
                };
                view.imp().apply_button.set_sensitive(true);
                let (text, error) = match r {
                    Ok(text) => (text, false),
                    Err(e) => {
                        if matches!(e, DetailsError::ChangedMeanwhile) {
                            view.load();
                        }
                        (e.text(), true)
                    }
                };
                // Another page opened meanwhile: the answer must not read as its own.
                let shown = view.imp().selected.borrow().clone();
                if same_place(shown.as_ref(), applied_on.as_ref()) {
                    view.say(&text, error);
                } else {
                    crate::ui::toast(&view, &text);
                }
            }
        ));
    }

    /// Asks whether to remove the device shown, naming it and saying what stays, then
    /// removes it: unplugged now and for good from a running VM, from the definition
    /// of one that is off.
    async fn ask_remove(&self) {
        let imp = self.imp();
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let Some(Entry::Device(key)) = imp.selected.borrow().clone() else {
            return;
        };
        let Some(doc) = imp.doc.borrow().clone() else {
            return;
        };
        let title = device_title(&doc, &key);
        let running = domain.state().is_active();
        let mut body = if running {
            gettext_f(
                "{device} is unplugged from “{vm}” now, and is gone from its configuration.",
                &[("device", &title), ("vm", &domain.name())],
            )
        } else {
            gettext_f(
                "{device} is removed from the configuration of “{vm}”.",
                &[("device", &title), ("vm", &domain.name())],
            )
        };
        if let Some(path) = doc
            .device::<Disk>(&key)
            .ok()
            .and_then(|d| d.path().map(str::to_owned))
        {
            body.push(' ');
            body.push_str(&gettext_f(
                "Its file {path} stays on the host.",
                &[("path", &path)],
            ));
        }
        let parent = self.root().and_downcast::<gtk::Window>();
        let dialog = adw::MessageDialog::new(
            parent.as_ref(),
            Some(&gettext_f("Remove {device}?", &[("device", &title)])),
            Some(&body),
        );
        dialog.add_responses(&[
            ("cancel", &gettext("_Cancel")),
            ("remove", &gettext("_Remove")),
        ]);
        dialog.set_response_appearance("remove", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("cancel"));
        dialog.set_close_response("cancel");
        let answer = crate::ui::choose(&dialog).await;
        dialog.close();
        if answer != "remove" {
            return;
        }
        let r = if running {
            match doc.device_xml(&key) {
                Ok(xml) => {
                    let affect = Affect {
                        live: true,
                        config: domain.persistent(),
                    };
                    connection
                        .detach_device(&domain, xml, affect)
                        .await
                        .map_err(DetailsError::Virt)
                }
                Err(e) => Err(DetailsError::Document(e)),
            }
        } else {
            let mut after = doc.clone();
            match after.remove_device(&key) {
                Ok(_) => connection.save_definition(&domain, after).await.map(|_| ()),
                Err(e) => Err(DetailsError::Document(e)),
            }
        };
        match r {
            Ok(()) => {
                self.imp().selected.replace(Some(Entry::Overview));
                self.show_overview();
                crate::ui::toast(self, &gettext_f("{device} removed", &[("device", &title)]));
            }
            Err(e) => {
                if matches!(e, DetailsError::ChangedMeanwhile) {
                    self.load();
                }
                self.say(&e.text(), true);
            }
        }
    }
}
