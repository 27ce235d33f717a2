//! The New Virtual Machine dialog: pages in a stack, Back/Forward/Create, host facts
//! read on the connection's worker, inline problems, creation with rollback.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use adw::prelude::*;
use gettextrs::gettext;
use gtk::gio;

use super::{FinishPage, MethodKind, MethodPage, OsPage, ResourcesPage, StoragePage};
use crate::i18n::gettext_f;
use crate::model::{ConnectionObject, ConnectionState};
use crate::virt::new_vm::host::HostInfo;
use crate::virt::new_vm::Created;
use crate::virt::uri::UriInfo;

mod creation;
mod loading;
mod spec;

const STEPS: usize = 5;
const STORAGE_STEP: usize = 3;

type CreatedFn = Box<dyn Fn(&ConnectionObject, &Created, bool)>;

struct Inner {
    window: adw::Window,
    stack: gtk::Stack,
    title: adw::WindowTitle,
    back: gtk::Button,
    forward: gtk::Button,
    create: gtk::Button,
    spinner: gtk::Spinner,
    banner: gtk::Label,
    method: MethodPage,
    os: OsPage,
    res: ResourcesPage,
    storage: StoragePage,
    finish: FinishPage,
    connections: Vec<ConnectionObject>,
    host: RefCell<Option<HostInfo>>,
    step: Cell<usize>,
    busy: Cell<bool>,
    on_created: RefCell<Option<CreatedFn>>,
}

/// The wizard window. Clone it freely (it is a handle).
#[derive(Clone)]
pub struct NewVmDialog {
    inner: Rc<Inner>,
}

impl NewVmDialog {
    /// A wizard over the connected connections of `connections` (a store of
    /// [`ConnectionObject`]s), transient for `parent`.
    pub fn new(parent: &impl IsA<gtk::Window>, connections: &gio::ListStore) -> Self {
        let conns: Vec<ConnectionObject> = (0..connections.n_items())
            .filter_map(|i| connections.item(i).and_downcast::<ConnectionObject>())
            .filter(|c| c.state() == ConnectionState::Connected)
            .collect();
        let window = adw::Window::builder()
            .title(gettext("New Virtual Machine"))
            .modal(true)
            .transient_for(parent)
            .default_width(620)
            .default_height(700)
            .build();
        let title = adw::WindowTitle::new(&gettext("New Virtual Machine"), "");
        let header = adw::HeaderBar::builder()
            .title_widget(&title)
            .show_end_title_buttons(false)
            .build();
        let back = gtk::Button::with_mnemonic(&gettext("_Cancel"));
        let forward = gtk::Button::with_mnemonic(&gettext("_Forward"));
        forward.add_css_class("suggested-action");
        let create = gtk::Button::with_mnemonic(&gettext("C_reate"));
        create.add_css_class("suggested-action");
        create.set_visible(false);
        let spinner = gtk::Spinner::new();
        header.pack_start(&back);
        header.pack_end(&forward);
        header.pack_end(&create);
        header.pack_end(&spinner);
        let banner = gtk::Label::builder()
            .wrap(true)
            .xalign(0.0)
            .visible(false)
            .margin_start(12)
            .margin_end(12)
            .margin_top(6)
            .margin_bottom(6)
            .selectable(true)
            .build();
        banner.add_css_class("error");
        let stack = gtk::Stack::builder()
            .transition_type(gtk::StackTransitionType::SlideLeftRight)
            .vexpand(true)
            .build();
        let (method, os, res, storage, finish) = (
            MethodPage::new(),
            OsPage::new(),
            ResourcesPage::new(),
            StoragePage::new(),
            FinishPage::new(),
        );
        for (i, p) in [
            &method.page,
            &os.page,
            &res.page,
            &storage.page,
            &finish.page,
        ]
        .into_iter()
        .enumerate()
        {
            stack.add_named(p, Some(&i.to_string()));
        }
        let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
        content.append(&header);
        content.append(&banner);
        content.append(&stack);
        window.set_content(Some(&content));

        let labels: Vec<String> = conns.iter().map(|c| c.display_name()).collect();
        method
            .connection_row
            .set_model(Some(&super::string_list(&labels)));

        let inner = Rc::new(Inner {
            window,
            stack,
            title,
            back,
            forward,
            create,
            spinner,
            banner,
            method,
            os,
            res,
            storage,
            finish,
            connections: conns,
            host: RefCell::default(),
            step: Cell::new(0),
            busy: Cell::new(false),
            on_created: RefCell::default(),
        });
        let d = NewVmDialog { inner };
        d.wire();
        d.load_osinfo();
        d.load_host();
        d.show_step();
        d
    }

    /// Shows the window.
    pub fn present(&self) {
        self.inner.window.present();
    }

    /// The window (for tests and for closing).
    pub fn window(&self) -> adw::Window {
        self.inner.window.clone()
    }

    /// Called after a VM was created, with its connection, what was made and whether
    /// the user asked to customize it before the first start (then it was not started).
    pub fn connect_created(&self, f: impl Fn(&ConnectionObject, &Created, bool) + 'static) {
        *self.inner.on_created.borrow_mut() = Some(Box::new(f));
    }

    /// The pages, for tests that walk the wizard with its widgets.
    pub fn method_page(&self) -> &MethodPage {
        &self.inner.method
    }
    /// See [`Self::method_page`].
    pub fn os_page(&self) -> &OsPage {
        &self.inner.os
    }
    /// See [`Self::method_page`].
    pub fn resources_page(&self) -> &ResourcesPage {
        &self.inner.res
    }
    /// See [`Self::method_page`].
    pub fn storage_page(&self) -> &StoragePage {
        &self.inner.storage
    }
    /// See [`Self::method_page`].
    pub fn finish_page(&self) -> &FinishPage {
        &self.inner.finish
    }
    /// The step shown (0..5).
    pub fn step(&self) -> usize {
        self.inner.step.get()
    }
    /// The Forward button.
    pub fn forward_button(&self) -> gtk::Button {
        self.inner.forward.clone()
    }
    /// The Back/Cancel button.
    pub fn back_button(&self) -> gtk::Button {
        self.inner.back.clone()
    }
    /// The Create button.
    pub fn create_button(&self) -> gtk::Button {
        self.inner.create.clone()
    }
    /// The error shown above the pages (creation failures), empty when none.
    pub fn banner_text(&self) -> String {
        if self.inner.banner.is_visible() {
            self.inner.banner.label().to_string()
        } else {
            String::new()
        }
    }
    /// True once the host's facts are loaded.
    pub fn host_loaded(&self) -> bool {
        self.inner.host.borrow().is_some()
    }
    /// True while creating.
    pub fn is_busy(&self) -> bool {
        self.inner.busy.get()
    }

    fn weak(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    fn with(weak: &Weak<Inner>, f: impl FnOnce(&NewVmDialog)) {
        if let Some(inner) = weak.upgrade() {
            f(&NewVmDialog { inner });
        }
    }

    fn wire(&self) {
        let i = &self.inner;
        let w = self.weak();
        let refresh = move || Self::with(&w, |d| d.refresh());
        let r = refresh.clone();
        for c in [
            &i.method.media_check,
            &i.method.url_check,
            &i.method.import_check,
            &i.method.cloud_check,
            &i.method.manual_check,
            &i.storage.new_check,
            &i.storage.existing_check,
            &i.storage.none_check,
        ] {
            let r = r.clone();
            c.connect_toggled(move |_| r());
        }
        for e in [
            &i.method.url_row,
            &i.method.image_row,
            &i.method.cloud_user_row,
            &i.method.cloud_key_row,
            &i.storage.path_row,
            &i.finish.name_row,
            &i.finish.bridge_row,
        ] {
            let r = r.clone();
            e.connect_changed(move |_| r());
        }
        {
            let r = r.clone();
            i.method.cloud_password_row.connect_changed(move |_| r());
        }
        for s in [&i.res.memory_spin, &i.res.cpus_spin, &i.storage.size_spin] {
            let r = r.clone();
            s.connect_value_changed(move |_| r());
        }
        for c in [
            &i.storage.pool_row,
            &i.finish.network_row,
            &i.finish.firmware_row,
            &i.method.machine_row,
            &i.method.iso_volume_row,
        ] {
            let r = r.clone();
            c.connect_selected_notify(move |_| r());
        }
        let w = self.weak();
        i.method.iso_row.connect_changed(move |_| {
            Self::with(&w, |d| {
                d.detect_media();
                d.refresh();
            })
        });
        let w = self.weak();
        i.method.arch_row.connect_selected_notify(move |_| {
            Self::with(&w, |d| {
                if let Some(h) = d.inner.host.borrow().as_ref() {
                    d.inner.method.fill_machines(h);
                }
                d.reload_domcaps();
                d.refresh();
            })
        });
        let w = self.weak();
        i.method
            .machine_row
            .connect_selected_notify(move |_| Self::with(&w, |d| d.reload_domcaps()));
        let w = self.weak();
        i.method
            .connection_row
            .connect_selected_notify(move |_| Self::with(&w, |d| d.load_host()));
        let w = self.weak();
        i.os.search
            .connect_search_changed(move |_| Self::with(&w, |d| d.inner.os.refill()));
        let w = self.weak();
        i.os.list.connect_row_selected(move |_, row| {
            if let Some(row) = row {
                Self::with(&w, |d| {
                    d.inner.os.choose_row(row);
                    d.apply_os_defaults();
                    d.refresh();
                })
            }
        });
        let w = self.weak();
        i.os.use_detected.connect_clicked(move |_| {
            Self::with(&w, |d| {
                d.inner.os.choose(d.inner.os.detected());
                d.apply_os_defaults();
                d.refresh();
            })
        });
        let w = self.weak();
        i.back
            .connect_clicked(move |_| Self::with(&w, |d| d.go_back()));
        let w = self.weak();
        i.forward
            .connect_clicked(move |_| Self::with(&w, |d| d.go_forward()));
        let w = self.weak();
        i.create
            .connect_clicked(move |_| Self::with(&w, |d| d.start_create()));
        let w = self.weak();
        i.method
            .iso_browse
            .connect_clicked(move |_| Self::with(&w, |d| d.browse(d.inner.method.iso_row.clone())));
        let w = self.weak();
        i.method.image_browse.connect_clicked(move |_| {
            Self::with(&w, |d| d.browse(d.inner.method.image_row.clone()))
        });
        let close = gtk::ShortcutController::new();
        close.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string("Escape"),
            Some(gtk::NamedAction::new("window.close")),
        ));
        i.window.add_controller(close);
    }

    fn browse(&self, row: adw::EntryRow) {
        let chooser = gtk::FileChooserNative::new(
            Some(&gettext("Choose a File")),
            Some(&self.inner.window),
            gtk::FileChooserAction::Open,
            Some(&gettext("_Open")),
            Some(&gettext("_Cancel")),
        );
        chooser.connect_response(move |c, resp| {
            if resp == gtk::ResponseType::Accept {
                if let Some(p) = c.file().and_then(|f| f.path()) {
                    row.set_text(&p.to_string_lossy());
                }
            }
        });
        chooser.show();
    }

    fn connection(&self) -> Option<ConnectionObject> {
        self.inner
            .connections
            .get(self.inner.method.connection_row.selected() as usize)
            .cloned()
    }

    fn uri(&self) -> UriInfo {
        UriInfo::parse(&self.connection().map(|c| c.uri()).unwrap_or_default())
    }

    /// Re-validates and updates visibility, errors, buttons and the summary.
    fn refresh(&self) {
        let i = &self.inner;
        i.method.update_visibility();
        i.storage.update_visibility();
        i.finish.update_visibility();
        if i.method.kind() == MethodKind::Cloud {
            // The cloud image's changes need their own volume.
            i.storage.new_check.set_active(true);
        }
        let problems = self.problems();
        i.method.show_problems(&problems);
        i.res.show_problems(&problems);
        i.storage.show_problems(&problems);
        i.finish.show_problems(&problems);
        let step = i.step.get();
        let loaded = i.host.borrow().is_some();
        let here_ok = !problems.iter().any(|(f, _)| Self::step_of(*f) == step);
        let busy = i.busy.get();
        i.forward.set_sensitive(loaded && here_ok && !busy);
        i.create
            .set_sensitive(loaded && problems.is_empty() && !busy);
        i.back.set_sensitive(!busy);
        if step == STEPS - 1 {
            self.update_summary();
        }
    }

    fn show_step(&self) {
        let i = &self.inner;
        let step = i.step.get();
        i.stack.set_visible_child_name(&step.to_string());
        let titles = [
            gettext("Connection and Install Method"),
            gettext("Operating System"),
            gettext("Memory and Processors"),
            gettext("Storage"),
            gettext("Name and Options"),
        ];
        i.title.set_title(&titles[step]);
        i.title.set_subtitle(&gettext_f(
            "Step {n} of {total}",
            &[
                ("n", &(step + 1).to_string()),
                ("total", &STEPS.to_string()),
            ],
        ));
        i.back.set_label(&if step == 0 {
            gettext("_Cancel")
        } else {
            gettext("_Back")
        });
        i.forward.set_visible(step < STEPS - 1);
        i.create.set_visible(step == STEPS - 1);
        if step == STEPS - 1 && i.finish.name_row.text().is_empty() {
            i.finish.name_row.set_text(&self.suggest_name());
        }
        self.refresh();
    }

    fn go_back(&self) {
        let i = &self.inner;
        let step = i.step.get();
        if step == 0 {
            i.window.close();
            return;
        }
        let mut prev = step - 1;
        if prev == STORAGE_STEP && self.skips_storage() {
            prev -= 1;
        }
        i.step.set(prev);
        self.show_step();
    }

    fn go_forward(&self) {
        let i = &self.inner;
        let step = i.step.get();
        if step + 1 >= STEPS || !i.forward.is_sensitive() {
            return;
        }
        let mut next = step + 1;
        if next == STORAGE_STEP && self.skips_storage() {
            next += 1;
        }
        i.step.set(next);
        self.show_step();
    }

    fn show_banner(&self, text: Option<String>) {
        self.inner.banner.set_visible(text.is_some());
        self.inner.banner.set_label(text.as_deref().unwrap_or(""));
    }
}
