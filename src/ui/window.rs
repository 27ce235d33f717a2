//! The main window: the VM list in a pinned first tab, each opened VM in a tab of
//! its own, and the VM actions (`win.domain-*`), which act on the VM of the tab shown,
//! or on the list's selection when the list is shown.

use std::collections::HashSet;
use std::rc::Rc;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib, CompositeTemplate};

use crate::application::VireoApplication;
use crate::i18n::gettext_f;
use crate::model::{ConnectionObject, ConnectionState, DomainObject};
use crate::ui::domain_actions::{self, ListAction};
use crate::ui::{
    delete_dialog, AddConnectionDialog, DomainListView, HostPage, NewVmDialog, SortKey, VmPage,
};

mod imp {
    use std::cell::OnceCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/window.ui")]
    pub struct VireoWindow {
        #[template_child]
        pub toast_overlay: TemplateChild<adw::ToastOverlay>,
        #[template_child]
        pub window_title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub search_button: TemplateChild<gtk::ToggleButton>,
        #[template_child]
        pub sort_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub local_hint: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub local_hint_reason: TemplateChild<gtk::Label>,
        #[template_child]
        pub tab_bar: TemplateChild<adw::TabBar>,
        #[template_child]
        pub tab_view: TemplateChild<adw::TabView>,
        pub list: OnceCell<DomainListView>,
        /// `--show-domain-creator` opens the assistant once, with the first host.
        pub creator_shown: std::cell::Cell<bool>,
        /// The VMs the actions act on now, each with its `notify::state` and
        /// `notify::host-unreachable` handlers.
        pub targets:
            std::cell::RefCell<std::collections::HashMap<DomainObject, [glib::SignalHandlerId; 2]>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VireoWindow {
        const NAME: &'static str = "VireoWindow";
        type Type = super::VireoWindow;
        type ParentType = adw::ApplicationWindow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("win.add-connection", None, |window, _, _| {
                AddConnectionDialog::new(window).present();
            });
            klass.install_action("win.new-vm", None, |window, _, _| {
                window.open_new_vm_dialog();
            });
            klass.install_action("win.show-help-overlay", None, |window, _, _| {
                window.show_shortcuts();
            });
            // The host page of the connection with this URI (the hosts' headings in
            // the list and their menus).
            klass.install_action(
                "win.host-details",
                Some(glib::VariantTy::STRING),
                |window, _, target| {
                    let uri = target.and_then(|t| t.get::<String>()).unwrap_or_default();
                    let connection = window
                        .app()
                        .connections()
                        .iter::<ConnectionObject>()
                        .flatten()
                        .find(|c| c.uri() == uri);
                    match connection {
                        Some(c) => {
                            window.open_host(&c);
                        }
                        None => tracing::warn!(uri, "no such connection for its host page"),
                    }
                },
            );
            klass.install_action("win.search", None, |window, _, _| {
                // Searching is the list's: from another tab it goes back to the list.
                let imp = window.imp();
                let on_list = window.list_shown();
                window.show_list();
                imp.search_button
                    .set_active(!(on_list && imp.search_button.is_active()));
            });
            klass.install_action("win.close-tab", None, |window, _, _| {
                window.close_tab_or_window();
            });
            klass.install_action("win.retry-local-hosts", None, |window, _, _| {
                window.app().retry_local_hosts();
            });
            klass.install_action("win.dismiss-local-hint", None, |window, _, _| {
                window.imp().local_hint.set_reveal_child(false);
            });
            for action in ListAction::ALL {
                klass.install_action(
                    &format!("win.{}", action.action_name()),
                    None,
                    move |window, _, _| {
                        window.run_list_action(action);
                    },
                );
            }
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for VireoWindow {}
    impl WidgetImpl for VireoWindow {}

    impl WindowImpl for VireoWindow {
        fn close_request(&self) -> glib::Propagation {
            self.obj().save_window_size();
            self.parent_close_request()
        }
    }

    impl ApplicationWindowImpl for VireoWindow {}
    impl AdwApplicationWindowImpl for VireoWindow {}
}

glib::wrapper! {
    pub struct VireoWindow(ObjectSubclass<imp::VireoWindow>)
        @extends adw::ApplicationWindow, gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Accessible, gtk::Buildable,
            gtk::ConstraintTarget, gtk::Native, gtk::Root, gtk::ShortcutManager;
}

impl VireoWindow {
    pub fn new(app: &VireoApplication) -> Self {
        let window: Self = glib::Object::builder().property("application", app).build();
        window.restore_window_size();
        window.setup_list(app);
        window
    }

    pub fn app(&self) -> VireoApplication {
        self.application()
            .and_downcast::<VireoApplication>()
            .expect("the window belongs to a VireoApplication")
    }

    pub fn list(&self) -> &DomainListView {
        self.imp().list.get().expect("the list is made in new()")
    }

    pub fn show_toast(&self, text: &str) {
        let toast = adw::Toast::new(text);
        toast.set_timeout(8);
        self.imp().toast_overlay.add_toast(toast);
    }

    fn setup_list(&self, app: &VireoApplication) {
        let imp = self.imp();
        let list = DomainListView::default();
        list.set_connections(app.connections());
        let page = imp.tab_view.append_pinned(&list);
        page.set_title(&gettext("Virtual Machines"));
        page.set_icon(Some(&gio::ThemedIcon::new("view-list-symbolic")));
        let _ = imp.list.set(list.clone());
        // The list's own tab is pinned; the bar appears once a VM has a tab.
        imp.tab_view.connect_n_pages_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |view| window.imp().tab_bar.set_visible(view.n_pages() > 1)
        ));
        imp.tab_view.connect_selected_page_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_| window.tab_shown()
        ));

        let search_bar = list.search_bar();
        imp.search_button
            .bind_property("active", &search_bar, "search-mode-enabled")
            .bidirectional()
            .sync_create()
            .build();

        list.connect_selection_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_| window.retarget()
        ));
        list.connect_domain_activated(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, domain| {
                window.open_domain(domain);
            }
        ));

        let sort = gio::SimpleAction::new_stateful(
            "sort-by",
            Some(glib::VariantTy::STRING),
            &"name".to_variant(),
        );
        sort.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |action, target| {
                let Some(key) = target.and_then(|t| t.get::<String>()) else {
                    return;
                };
                action.set_state(&key.to_variant());
                window.list().set_sort_key(SortKey::from_name(&key));
            }
        ));
        self.add_action(&sort);

        let connections = app.connections();
        connections.connect_items_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |connections, position, _removed, added| {
                for index in position..position + added {
                    if let Some(connection) = connections.item(index).and_downcast() {
                        window.watch_connection(&connection);
                    }
                }
                window.update_title();
            }
        ));
        for connection in connections.iter::<ConnectionObject>().flatten() {
            self.watch_connection(&connection);
        }
        self.update_title();
        app.connect_local_daemon_error_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |app| window.show_local_hint(&app.local_daemon_error())
        ));
        self.show_local_hint(&app.local_daemon_error());
        self.tab_shown();
    }

    /// The VM tab shown, if a VM's tab is shown rather than the list.
    pub fn vm_page_shown(&self) -> Option<VmPage> {
        self.imp()
            .tab_view
            .selected_page()
            .and_then(|page| page.child().downcast::<VmPage>().ok())
    }

    /// True while the list's own tab is shown (not a VM's, not a host's).
    pub fn list_shown(&self) -> bool {
        let tab_view = &self.imp().tab_view;
        tab_view.n_pages() == 0 || tab_view.selected_page().as_ref() == Some(&tab_view.nth_page(0))
    }

    /// Shows the list's tab.
    pub fn show_list(&self) {
        let imp = self.imp();
        if let Some(page) = imp.tab_view.pages().item(0).and_downcast::<adw::TabPage>() {
            imp.tab_view.set_selected_page(&page);
        }
    }

    /// A tab was chosen: the header shows what belongs to it, typing searches only on
    /// the list, and the actions turn to its VM.
    fn tab_shown(&self) {
        let imp = self.imp();
        let on_list = self.list_shown();
        imp.search_button.set_visible(on_list);
        imp.sort_button.set_visible(on_list);
        self.list()
            .search_bar()
            .set_key_capture_widget(on_list.then_some(self.upcast_ref::<gtk::Widget>()));
        self.retarget();
    }

    /// Ctrl+W: closes the VM tab shown; on the list, closes the window, as the title
    /// bar's close button does (the machines keep running; nothing is lost).
    fn close_tab_or_window(&self) {
        let tab_view = &self.imp().tab_view;
        match tab_view.selected_page() {
            Some(page) if !page.is_pinned() => tab_view.close_page(&page),
            _ => self.close(),
        }
    }

    /// Says that no local libvirt daemon answers (`reason` in libvirt's words, empty
    /// when one does) and how to start one; the demo host stays to try meanwhile.
    fn show_local_hint(&self, reason: &str) {
        let imp = self.imp();
        imp.local_hint_reason.set_label(reason);
        imp.local_hint.set_reveal_child(!reason.is_empty());
    }

    /// The VMs the actions act on: the tab's VM in a VM's tab, else the list's
    /// selection.
    pub fn action_targets(&self) -> Vec<DomainObject> {
        match self.vm_page_shown() {
            Some(page) => page.domain().into_iter().collect(),
            // A host's tab: the VM actions have nothing to act on.
            None if !self.list_shown() => Vec::new(),
            None => self.list().selected_domains(),
        }
    }

    /// Follows the state of the VMs the actions now act on: handlers go from the VMs
    /// that left and come to those that came (Ctrl+A on 10,000 VMs, then a click).
    fn retarget(&self) {
        let targets: HashSet<DomainObject> = self.action_targets().into_iter().collect();
        let mut watched = self.imp().targets.borrow_mut();
        let gone: Vec<DomainObject> = watched
            .keys()
            .filter(|domain| !targets.contains(*domain))
            .cloned()
            .collect();
        for domain in gone {
            for handler in watched.remove(&domain).into_iter().flatten() {
                domain.disconnect(handler);
            }
        }
        // One weak reference for all the handlers: GLib keeps an object's weak
        // references in a list, and 10,000 of them made each disconnection walk it
        // (a click after Ctrl+A blocked the window for a third of a second).
        let window = Rc::new(self.downgrade());
        for domain in targets {
            if watched.contains_key(&domain) {
                continue;
            }
            let update = {
                let window = window.clone();
                move |_: &DomainObject| {
                    if let Some(window) = window.upgrade() {
                        window.update_action_states();
                    }
                }
            };
            let handlers = [
                domain.connect_state_notify(update.clone()),
                domain.connect_host_unreachable_notify(update),
            ];
            watched.insert(domain, handlers);
        }
        drop(watched);
        self.update_action_states();
    }

    fn update_title(&self) {
        let connections = self.app().connections().clone();
        let demo_only = connections.n_items() > 0
            && connections
                .iter::<ConnectionObject>()
                .flatten()
                .all(|c| c.is_demo());
        self.imp().window_title.set_subtitle(&if demo_only {
            gettext("Demo connection")
        } else {
            String::new()
        });
    }

    /// Each action is enabled only where it applies to one of the VMs it acts on;
    /// Open only from the list. While a VM's host does not answer, what would ask that
    /// host is disabled for it rather than failing (its state is only the last known).
    fn update_action_states(&self) {
        let targets = self.imp().targets.borrow();
        let states: Vec<_> = targets.keys().map(DomainObject::state_now).collect();
        let reachable: Vec<_> = targets
            .keys()
            .filter(|d| !d.host_unreachable_now())
            .map(DomainObject::state_now)
            .collect();
        drop(targets);
        let some_unreachable = reachable.len() < states.len();
        let on_list = self.list_shown();
        for action in ListAction::ALL {
            let enabled = if action.needs_host() {
                // (A one-VM dialog must not open on the unreachable one of two.)
                !(action.one_vm_only() && some_unreachable) && action.enabled_for(&reachable)
            } else {
                action.enabled_for(&states)
            };
            let enabled = enabled && (on_list || action != ListAction::Open);
            self.action_set_enabled(&format!("win.{}", action.action_name()), enabled);
        }
        self.list().show_run_and_resume(
            ListAction::Start.enabled_for(&states),
            ListAction::Resume.enabled_for(&states),
        );
    }

    fn run_list_action(&self, action: ListAction) {
        let selected = self.action_targets();
        if selected.is_empty() {
            return;
        }
        match action {
            ListAction::Open => {
                for domain in &selected {
                    self.open_domain(domain);
                }
            }
            ListAction::TakeSnapshot => {
                crate::ui::SnapshotCreateDialog::new(self, &selected[0]).present();
            }
            ListAction::Snapshots => self.open_domain(&selected[0]).show_snapshots(),
            ListAction::Clone => crate::ui::CloneDialog::new(self, &selected[0]).present(),
            ListAction::Migrate => {
                crate::ui::MigrateDialog::new(self, &selected[0], self.app().connections())
                    .present();
            }
            ListAction::Delete => {
                let window = self.downgrade();
                delete_dialog::present(self.upcast_ref(), selected, move |text| {
                    if let Some(window) = window.upgrade() {
                        window.show_toast(text);
                    }
                });
            }
            _ if action.is_destructive()
                && self.app().settings().boolean("confirm-destructive") =>
            {
                self.confirm_then_run(action, selected);
            }
            _ => self.run_now(action, selected),
        }
    }

    fn run_now(&self, action: ListAction, domains: Vec<DomainObject>) {
        let window = self.downgrade();
        domain_actions::spawn_run(action, domains, move |text| {
            if let Some(window) = window.upgrade() {
                window.show_toast(text);
            }
        });
    }

    fn confirm_then_run(&self, action: ListAction, domains: Vec<DomainObject>) {
        let names: Vec<String> = domains
            .iter()
            .filter(|d| action.applies_to(d.state()))
            .map(|d| d.name().to_string())
            .collect();
        let (heading, body, confirm) = action.confirmation(&names);
        let dialog = adw::MessageDialog::new(Some(self), Some(&heading), Some(&body));
        dialog.add_responses(&[("cancel", &gettext("_Cancel")), ("confirm", &confirm)]);
        dialog.set_response_appearance("confirm", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("cancel"));
        dialog.set_close_response("cancel");
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                if crate::ui::choose(&dialog).await == "confirm" {
                    window.run_now(action, domains);
                }
            }
        ));
    }

    /// The Keyboard Shortcuts window, built when asked and gone when closed. (Not
    /// GTK's automatic help overlay from `gtk/help-overlay.ui`: that one is a hidden
    /// toplevel for the app's whole life, and GTK 4.8 crashes (a NULL object path in
    /// its AT-SPI reply) when a screen reader asks for a window index that a closing
    /// dialog has just freed: it answers with the last toplevel, that hidden window
    /// without an accessible path.)
    fn show_shortcuts(&self) {
        let builder = gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/shortcuts-window.ui");
        let Some(shortcuts) = builder.object::<gtk::ShortcutsWindow>("help_overlay") else {
            tracing::error!("the shortcuts window's resource has no help_overlay");
            return;
        };
        shortcuts.set_transient_for(Some(self));
        // Its entries name actions; their keys are the application's accelerators.
        // (GTK fills them in only for the help overlay of an application window.)
        if let Some(app) = self.application() {
            show_accels(shortcuts.upcast_ref(), &app);
        }
        shortcuts.present();
    }

    /// The New Virtual Machine assistant; the machine it makes opens in its tab, on the
    /// console when it was started, on its details when it is to be customised first.
    pub fn open_new_vm_dialog(&self) -> NewVmDialog {
        let dialog = NewVmDialog::new(self, self.app().connections());
        dialog.connect_created(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |connection, created, customize| {
                window.open_when_listed(connection, created.uuid.clone(), !customize);
            }
        ));
        dialog.present();
        dialog
    }

    /// Opens the VM `uuid` of `connection` once its definition event has listed it.
    fn open_when_listed(&self, connection: &ConnectionObject, uuid: String, console: bool) {
        let open = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |domain: &DomainObject| {
                let page = window.open_domain(domain);
                if console {
                    page.show_console();
                } else {
                    page.show_details();
                }
            }
        );
        let domains = connection.domains();
        if let Some(domain) = domains.by_uuid(&uuid) {
            open(&domain);
            return;
        }
        let handler = std::rc::Rc::new(std::cell::Cell::new(None));
        let id = domains.connect_items_changed(glib::clone!(
            #[strong]
            handler,
            move |domains, _, _, _| {
                if let Some(domain) = domains.by_uuid(&uuid) {
                    if let Some(id) = handler.take() {
                        domains.disconnect(id);
                    }
                    open(&domain);
                }
            }
        ));
        handler.set(Some(id));
    }

    /// Opens (or shows again) the tab of `connection`'s host.
    pub fn open_host(&self, connection: &ConnectionObject) -> HostPage {
        let tab_view = &self.imp().tab_view;
        for index in 0..tab_view.n_pages() {
            let page = tab_view.nth_page(index);
            if let Some(host_page) = page.child().downcast_ref::<HostPage>() {
                if host_page.connection().as_ref() == Some(connection) {
                    tab_view.set_selected_page(&page);
                    return host_page.clone();
                }
            }
        }
        let host_page = HostPage::new(connection);
        let page = tab_view.append(&host_page);
        connection
            .bind_property("display-name", &page, "title")
            .sync_create()
            .build();
        page.set_icon(Some(&gio::ThemedIcon::new("network-server-symbolic")));
        tab_view.set_selected_page(&page);
        host_page
    }

    /// Shows `domain` in its tab, opening one when it has none, with the keyboard's
    /// focus in it.
    pub fn open_domain(&self, domain: &DomainObject) -> VmPage {
        let tab_view = &self.imp().tab_view;
        for index in 0..tab_view.n_pages() {
            let page = tab_view.nth_page(index);
            if let Some(vm_page) = page.child().downcast_ref::<VmPage>() {
                if vm_page.domain().as_ref() == Some(domain) {
                    tab_view.set_selected_page(&page);
                    vm_page.focus_content();
                    return vm_page.clone();
                }
            }
        }
        let vm_page = VmPage::new(domain);
        let page = tab_view.append(&vm_page);
        domain
            .bind_property("name", &page, "title")
            .sync_create()
            .build();
        page.set_icon(Some(&gio::ThemedIcon::new("computer-symbolic")));
        tab_view.set_selected_page(&page);
        vm_page.focus_content();
        // A VM that is undefined elsewhere takes its tab with it.
        if let Some(connection) = domain.connection() {
            let uuid = domain.uuid().to_string();
            connection.domains().connect_items_changed(glib::clone!(
                #[weak]
                page,
                #[weak]
                tab_view,
                move |domains, _, removed, _| {
                    if removed > 0
                        && domains.by_uuid(&uuid).is_none()
                        && tab_view.page_position(&page) >= 0
                    {
                        tab_view.close_page(&page);
                    }
                }
            ));
        }
        vm_page
    }

    /// Logs once when a connection's list is filled and drawn, and handles the
    /// command line's `--show-domain-*` requests once their VM can be found.
    fn watch_connection(&self, connection: &ConnectionObject) {
        connection.connect_credentials_requested(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, request| {
                crate::ui::credentials_dialog::present(window.upcast_ref(), request);
            }
        ));
        connection.connect_state_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |connection| {
                if connection.state() == ConnectionState::Connected {
                    window.after_next_frame(glib::clone!(
                        #[weak]
                        connection,
                        move || {
                            tracing::info!(
                                "connection {} ready: {} domains",
                                connection.uri(),
                                connection.domains().n_items()
                            );
                        }
                    ));
                    window.handle_show_requests(connection);
                }
            }
        ));
    }

    fn after_next_frame(&self, f: impl FnOnce() + 'static) {
        let Some(clock) = self.frame_clock() else {
            glib::idle_add_local_once(f);
            return;
        };
        let f = std::cell::Cell::new(Some(f));
        let handler = std::rc::Rc::new(std::cell::Cell::new(None));
        let id = clock.connect_after_paint(glib::clone!(
            #[strong]
            handler,
            move |clock| {
                if let Some(f) = f.take() {
                    f();
                }
                if let Some(id) = handler.take() {
                    clock.disconnect(id);
                }
            }
        ));
        handler.set(Some(id));
        self.queue_draw();
    }

    fn handle_show_requests(&self, connection: &ConnectionObject) {
        let options = self.app().options();
        if options.show_domain_creator && !self.imp().creator_shown.replace(true) {
            self.open_new_vm_dialog();
        }
        let (name, console) = match (&options.show_domain_console, &options.show_domain_editor) {
            (Some(name), _) => (name.clone(), true),
            (None, Some(name)) => (name.clone(), false),
            (None, None) => return,
        };
        let found = connection
            .domains()
            .iter::<DomainObject>()
            .flatten()
            .find(|d| d.name() == name);
        match found {
            Some(domain) => {
                self.list().select_domain(&domain);
                let page = self.open_domain(&domain);
                if console {
                    page.show_console();
                } else {
                    page.show_details();
                }
            }
            None => self.show_toast(&gettext_f(
                "No virtual machine named “{name}” on {uri}",
                &[("name", &name), ("uri", &connection.uri())],
            )),
        }
    }

    fn restore_window_size(&self) {
        let settings = self.app().settings().clone();
        self.set_default_size(settings.int("window-width"), settings.int("window-height"));
        if settings.boolean("window-maximized") {
            self.maximize();
        }
    }

    fn save_window_size(&self) {
        let settings = self.app().settings().clone();
        let (width, height) = self.default_size();
        let _ = settings.set_int("window-width", width);
        let _ = settings.set_int("window-height", height);
        let _ = settings.set_boolean("window-maximized", self.is_maximized());
    }
}

/// Gives each `GtkShortcutsShortcut` under `widget` that names an action the keys
/// `app` has for it.
fn show_accels(widget: &gtk::Widget, app: &gtk::Application) {
    if let Some(shortcut) = widget.downcast_ref::<gtk::ShortcutsShortcut>() {
        if let Some(action) = shortcut.property::<Option<String>>("action-name") {
            let accels = app.accels_for_action(&action);
            if !accels.is_empty() {
                shortcut.set_property("accelerator", accels.join(" "));
            }
        }
    }
    let mut child = widget.first_child();
    while let Some(c) = child {
        show_accels(&c, app);
        child = c.next_sibling();
    }
}
