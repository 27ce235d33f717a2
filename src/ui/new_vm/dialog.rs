//! The New Virtual Machine dialog: pages in a stack, Back/Forward/Create, host facts
//! read on the connection's worker, inline problems, creation with rollback.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use adw::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib};

use super::{FinishPage, MethodKind, MethodPage, OsPage, ResourcesPage, StoragePage};
use crate::i18n::gettext_f;
use crate::model::{ConnectionObject, ConnectionState};
use crate::virt::cloud_init;
use crate::virt::new_vm::host::{self, HostInfo};
use crate::virt::new_vm::tree;
use crate::virt::new_vm::{
    create, validate, CloudInit, CreatePlan, Created, DiskFormat, Field, HostLimits, InstallMethod,
    MediaSource, NewVmSpec, OsProfile, Problem, Storage,
};
use crate::virt::osinfo::OsDb;
use crate::virt::uri::UriInfo;

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

    /// Reads the osinfo database on a thread (a few hundred files).
    fn load_osinfo(&self) {
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send_blocking(OsDb::load_system().map(Arc::new));
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            let Ok(r) = rx.recv().await else { return };
            Self::with(&w, |d| match r {
                Ok(db) => {
                    d.inner.os.set_db(db);
                    d.detect_media();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no osinfo database");
                    d.inner.os.detected_row.set_subtitle(&e.to_string());
                }
            });
        });
    }

    /// Reads the chosen host's facts on its worker.
    fn load_host(&self) {
        let Some(conn) = self.connection() else {
            self.show_banner(Some(gettext(
                "No connection is open: connect to a host before creating a virtual machine",
            )));
            return;
        };
        *self.inner.host.borrow_mut() = None;
        self.refresh();
        let fut = conn.with_connect(host::gather);
        let w = self.weak();
        glib::spawn_future_local(async move {
            let r = fut.await;
            Self::with(&w, |d| match r {
                Ok(Ok(h)) => {
                    d.fill_host(&h);
                    *d.inner.host.borrow_mut() = Some(h);
                    d.show_banner(None);
                    d.refresh();
                }
                Ok(Err(e)) => d.show_banner(Some(e.to_string())),
                Err(e) => d.show_banner(Some(e)),
            });
        });
    }

    fn fill_host(&self, h: &HostInfo) {
        let i = &self.inner;
        i.method.fill_host(h);
        i.storage.fill_host(h);
        i.finish.fill_host(h, self.uri().is_session());
        let max = h
            .domcaps
            .as_ref()
            .and_then(|d| d.max_vcpus)
            .unwrap_or(0)
            .max(h.caps.cpus);
        i.res.set_host(h.caps.memory_kib / 1024, h.caps.cpus, max);
        i.res
            .cpus_spin
            .set_value(2.0_f64.min(h.caps.cpus.max(1) as f64));
        let uefi = h.domcaps.as_ref().is_some_and(|d| d.supports_uefi());
        i.finish.firmware_row.set_subtitle(&if uefi {
            String::new()
        } else {
            gettext("No UEFI firmware on this host")
        });
        self.apply_os_defaults();
    }

    /// Re-reads the domain capabilities (UEFI, vCPU limit) for the chosen
    /// architecture and machine type.
    fn reload_domcaps(&self) {
        let (Some(conn), Some(vt)) = (
            self.connection(),
            self.inner
                .host
                .borrow()
                .as_ref()
                .and_then(|h| h.caps.best_domain_type(&self.inner.method.arch())),
        ) else {
            return;
        };
        let (arch, machine) = (self.inner.method.arch(), self.inner.method.machine());
        if machine.is_empty() {
            return;
        }
        let fut = conn.with_connect(move |c| host::domcaps(c, &vt, &arch, &machine));
        let w = self.weak();
        glib::spawn_future_local(async move {
            if let Ok(Ok(dc)) = fut.await {
                Self::with(&w, |d| {
                    if let Some(h) = d.inner.host.borrow_mut().as_mut() {
                        h.domcaps = dc;
                    }
                    d.refresh();
                });
            }
        });
    }

    /// Re-reads the host's domain names (after another client defined one).
    fn reload_names(&self) {
        let Some(conn) = self.connection() else {
            return;
        };
        let fut = conn.with_connect(|c| {
            c.list_all_domains(0)
                .map(|ds| ds.iter().filter_map(|d| d.name().ok()).collect::<Vec<_>>())
                .unwrap_or_default()
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            if let Ok(names) = fut.await {
                Self::with(&w, |d| {
                    if let Some(h) = d.inner.host.borrow_mut().as_mut() {
                        h.domain_names = names;
                    }
                    d.refresh();
                });
            }
        });
    }

    /// Detects the OS of a local ISO on a thread.
    fn detect_media(&self) {
        let path = self.inner.method.iso_row.text().trim().to_owned();
        let Some(db) = self.inner.os.db() else { return };
        if path.is_empty() || self.uri().is_remote() {
            return;
        }
        let arch = self.inner.method.arch();
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || {
            let arch = (!arch.is_empty()).then_some(arch);
            let found = db
                .identify_file(std::path::Path::new(&path), arch.as_deref())
                .ok()
                .flatten()
                .map(|(os, _)| os.id.clone());
            let _ = tx.send_blocking((path, found));
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            let Ok((path, found)) = rx.recv().await else {
                return;
            };
            Self::with(&w, |d| {
                // Only the answer for what the field still says counts.
                if d.inner.method.iso_row.text().trim() == path {
                    d.inner.os.set_detected(found);
                    d.apply_os_defaults();
                    d.refresh();
                }
            });
        });
    }

    /// Memory, CPUs and disk from the chosen OS's recommendations, within the host.
    fn apply_os_defaults(&self) {
        let i = &self.inner;
        let (Some(db), Some(os)) = (i.os.db(), i.os.chosen_os()) else {
            i.res.set_recommendation(None, None);
            return;
        };
        let arch = i.method.arch();
        let r = db.resources(&os, if arch.is_empty() { "x86_64" } else { &arch });
        let mib = |b: u64| b >> 20;
        let ram = r.recommended.ram.or(r.minimum.ram).map(mib).unwrap_or(2048);
        let host_mib = i
            .host
            .borrow()
            .as_ref()
            .map(|h| h.caps.memory_kib / 1024)
            .unwrap_or(0);
        let ram = if host_mib > 0 {
            ram.min(host_mib / 2).max(ram.min(host_mib))
        } else {
            ram
        };
        i.res.memory_spin.set_value(ram as f64);
        // Two processors unless the OS asks for more, never more than the host has.
        let host_cpus = i.host.borrow().as_ref().map(|h| h.caps.cpus).unwrap_or(0);
        let want = r
            .recommended
            .n_cpus
            .or(r.minimum.n_cpus)
            .unwrap_or(1)
            .max(2);
        let cpus = if host_cpus > 0 {
            want.min(host_cpus)
        } else {
            want
        };
        i.res.cpus_spin.set_value(cpus as f64);
        if let Some(s) = r.recommended.storage.or(r.minimum.storage) {
            i.storage.size_spin.set_value((s >> 30).max(1) as f64);
        }
        i.res.set_recommendation(
            r.recommended.ram.map(|b| {
                gettext_f(
                    "{os} recommends {mib} MiB",
                    &[("os", &os.name), ("mib", &mib(b).to_string())],
                )
            }),
            r.minimum.n_cpus.map(|n| {
                gettext_f(
                    "{os} needs at least {n}",
                    &[("os", &os.name), ("n", &n.to_string())],
                )
            }),
        );
    }

    /// The spec as the widgets say now.
    pub fn spec(&self) -> NewVmSpec {
        let i = &self.inner;
        let m = &i.method;
        let image = m.image_row.text().trim().to_owned();
        let fmt = || DiskFormat::sniff(std::path::Path::new(&image)).unwrap_or(DiskFormat::Raw);
        let install = match m.kind() {
            MethodKind::Media => match m.iso_volume() {
                Some((pool, volume)) => {
                    InstallMethod::LocalMedia(MediaSource::Volume { pool, volume })
                }
                None => {
                    InstallMethod::LocalMedia(MediaSource::Path(m.iso_row.text().trim().to_owned()))
                }
            },
            MethodKind::Url => InstallMethod::NetworkTree {
                url: m.url_row.text().trim().to_owned(),
                // The creation step fetches the files and puts their volumes' paths here.
                boot: crate::virt::new_vm::TreeBoot {
                    kernel: tree::KERNEL_PLACEHOLDER.to_owned(),
                    initrd: tree::INITRD_PLACEHOLDER.to_owned(),
                    args: m.kernel_args_row.text().trim().to_owned(),
                },
            },
            MethodKind::Import => InstallMethod::ImportDisk {
                format: if self.uri().is_remote() {
                    DiskFormat::Raw
                } else {
                    fmt()
                },
                path: image.clone(),
            },
            MethodKind::Cloud => InstallMethod::CloudImage {
                format: if self.uri().is_remote() {
                    DiskFormat::Qcow2
                } else {
                    fmt()
                },
                image: image.clone(),
                cloud_init: CloudInit {
                    user: m.cloud_user_row.text().trim().to_owned(),
                    password: Some(m.cloud_password_row.text().to_string())
                        .filter(|p| !p.is_empty()),
                    ssh_key: Some(m.cloud_key_row.text().trim().to_owned())
                        .filter(|k| !k.is_empty()),
                },
            },
            MethodKind::Manual => InstallMethod::Manual,
        };
        let storage = if install.brings_own_disk() {
            Storage::None
        } else {
            i.storage.storage()
        };
        let host = i.host.borrow();
        let arch = m.arch();
        let domain_type = host
            .as_ref()
            .and_then(|h| h.caps.best_domain_type(&arch))
            .unwrap_or_else(|| "qemu".to_owned());
        let os = match (i.os.db(), i.os.chosen_os()) {
            (Some(db), Some(os)) => Some(OsProfile::from_db(&db, &os)),
            _ => None,
        };
        NewVmSpec {
            name: i.finish.name_row.text().trim().to_owned(),
            arch,
            machine: m.machine(),
            domain_type,
            firmware: i.finish.firmware(),
            install,
            memory_mib: i.res.memory_spin.value() as u64,
            vcpus: i.res.cpus_spin.value() as u32,
            storage,
            network: i.finish.network(),
            os,
        }
    }

    fn limits(&self) -> HostLimits {
        let i = &self.inner;
        let host = i.host.borrow();
        let Some(h) = host.as_ref() else {
            return HostLimits::default();
        };
        let arch = i.method.arch();
        let machine = i.method.machine();
        let max_vcpus = h
            .domcaps
            .as_ref()
            .and_then(|d| d.max_vcpus)
            .or_else(|| h.caps.max_cpus(&arch, &machine))
            .unwrap_or(0);
        let min_mem = match (i.os.db(), i.os.chosen_os()) {
            (Some(db), Some(os)) => db
                .resources(&os, &arch)
                .minimum
                .ram
                .map(|b| b >> 20)
                .unwrap_or(0),
            _ => 0,
        };
        HostLimits {
            memory_mib: h.caps.memory_kib / 1024,
            max_vcpus,
            existing_names: h.domain_names.clone(),
            pool_free: h
                .pools
                .iter()
                .filter(|p| p.active)
                .map(|p| (p.name.clone(), p.available))
                .collect(),
            uefi_available: h.domcaps.as_ref().is_some_and(|d| d.supports_uefi()),
            local_files: !self.uri().is_remote(),
            os_min_memory_mib: min_mem,
        }
    }

    fn step_of(field: Field) -> usize {
        match field {
            Field::Media | Field::Url | Field::Image | Field::CloudInit => 0,
            Field::Memory | Field::Vcpus => 2,
            Field::Storage => STORAGE_STEP,
            Field::Name | Field::Firmware => 4,
        }
    }

    /// Every problem of the spec, each with the step that shows it.
    pub fn problems(&self) -> Vec<(Field, Problem)> {
        validate(&self.spec(), &self.limits())
    }

    fn skips_storage(&self) -> bool {
        self.inner.method.kind() == MethodKind::Import
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

    fn update_summary(&self) {
        let s = self.spec();
        let install = match &s.install {
            InstallMethod::LocalMedia(MediaSource::Path(p)) => p.clone(),
            InstallMethod::LocalMedia(MediaSource::Volume { pool, volume }) => {
                format!("{pool}/{volume}")
            }
            InstallMethod::NetworkTree { url, .. } => url.clone(),
            InstallMethod::ImportDisk { path, .. } => path.clone(),
            InstallMethod::CloudImage { image, .. } => image.clone(),
            InstallMethod::Manual => gettext("Manual"),
        };
        let storage = match &s.storage {
            Storage::NewVolume { pool, size_gib } => gettext_f(
                "New {gib} GiB volume in pool “{pool}”",
                &[("gib", &size_gib.to_string()), ("pool", pool)],
            ),
            Storage::Existing { path } => path.clone(),
            Storage::None => gettext("None"),
        };
        let os =
            s.os.as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_else(|| gettext("Generic Operating System"));
        self.inner.finish.set_summary(&[
            (gettext("Operating System"), os),
            (gettext("Install From"), install),
            (
                gettext("Memory"),
                gettext_f("{mib} MiB", &[("mib", &s.memory_mib.to_string())]),
            ),
            (gettext("Processors"), s.vcpus.to_string()),
            (gettext("Storage"), storage),
            (
                gettext("Virtualization"),
                format!("{} · {} · {}", s.domain_type, s.arch, s.machine),
            ),
        ]);
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

    fn suggest_name(&self) -> String {
        let base = self
            .inner
            .os
            .chosen_os()
            .map(|o| o.short_id().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "vm".to_owned());
        let taken = self
            .inner
            .host
            .borrow()
            .as_ref()
            .map(|h| h.domain_names.clone())
            .unwrap_or_default();
        if !taken.contains(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|n| !taken.contains(n))
            .unwrap_or(base)
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

    /// Creates the VM on the connection's worker; closes on success, shows libvirt's
    /// error (after the rollback) on failure.
    fn start_create(&self) {
        let i = &self.inner;
        if i.busy.get() || !self.problems().is_empty() {
            return;
        }
        let Some(conn) = self.connection() else {
            return;
        };
        let spec = self.spec();
        let uri = self.uri();
        let pool_path = if uri.is_session() {
            glib::user_data_dir()
                .join("libvirt/images")
                .to_string_lossy()
                .into_owned()
        } else {
            "/var/lib/libvirt/images".to_owned()
        };
        let customize = i.finish.customize_switch.is_active();
        i.busy.set(true);
        i.spinner.start();
        self.show_banner(None);
        self.refresh();
        let fut = conn.with_connect(move |c| -> Result<Created, String> {
            let mut seed_dir: Option<PathBuf> = None;
            let seed = match &spec.install {
                InstallMethod::CloudImage { cloud_init: ci, .. } => {
                    let dir = std::env::temp_dir().join(format!(
                        "vireo-cidata-{}-{}",
                        spec.name,
                        std::process::id()
                    ));
                    let iid = format!("{}-{}", spec.name, glib::monotonic_time());
                    let p = cloud_init::build_seed_iso(&dir, ci, &spec.name, &iid)
                        .map_err(|e| e.to_string())?;
                    seed_dir = Some(dir);
                    Some(p)
                }
                _ => None,
            };
            let mut plan =
                CreatePlan::from_spec(&spec, seed.as_deref(), Some(pool_path), !customize)
                    .map_err(|e| e.to_string());
            if let (Ok(p), InstallMethod::NetworkTree { url, .. }) = (&mut plan, &spec.install) {
                let dir = std::env::temp_dir().join(format!(
                    "vireo-tree-{}-{}",
                    spec.name,
                    std::process::id()
                ));
                let fetched =
                    tree::fetch_boot_files(url, &spec.arch, &dir).map_err(|e| e.to_string());
                let added = fetched
                    .and_then(|(k, i)| p.add_tree_files(&spec, &k, &i).map_err(|e| e.to_string()));
                seed_dir = Some(dir);
                if let Err(e) = added {
                    plan = Err(e);
                }
            }
            let r = plan.and_then(|p| create(c, &p).map_err(|e| e.to_string()));
            if let Some(d) = seed_dir {
                let _ = std::fs::remove_dir_all(d);
            }
            r
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            let r = fut.await.and_then(|x| x);
            Self::with(&w, |d| {
                d.inner.busy.set(false);
                d.inner.spinner.stop();
                match r {
                    Ok(created) => {
                        tracing::info!(name = %created.name, uuid = %created.uuid, "created a VM");
                        if let Some(f) = d.inner.on_created.borrow().as_ref() {
                            f(&conn, &created, customize);
                        }
                        d.inner.window.close();
                    }
                    Err(e) => {
                        d.show_banner(Some(gettext_f(
                            "The virtual machine could not be created: {reason}",
                            &[("reason", &e)],
                        )));
                        d.reload_names();
                        d.refresh();
                    }
                }
            });
        });
    }
}
