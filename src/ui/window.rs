//! The main window: every open host with its VMs, in one list.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};

use crate::application::VireoApplication;
use crate::i18n::gettext_f;
use crate::model::{ConnectionObject, ConnectionState, DomainObject};
use crate::ui::{AddConnectionDialog, ConnectionHeader, DomainRow};

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
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub list_view: TemplateChild<gtk::ListView>,
        pub selection: OnceCell<gtk::SingleSelection>,
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
            klass.add_binding_action(
                gtk::gdk::Key::n,
                gtk::gdk::ModifierType::CONTROL_MASK | gtk::gdk::ModifierType::SHIFT_MASK,
                "win.add-connection",
            );
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
        window.setup_list(app.connections());
        window
    }

    pub fn app(&self) -> VireoApplication {
        self.application()
            .and_downcast::<VireoApplication>()
            .expect("the window belongs to a VireoApplication")
    }

    pub fn show_toast(&self, text: &str) {
        self.imp().toast_overlay.add_toast(adw::Toast::new(text));
    }

    /// The list shows, for each connection, a header item then its VMs sorted by name.
    /// One flat model in one `GtkListView` keeps only the visible rows alive.
    fn setup_list(&self, connections: &gio::ListStore) {
        let per_connection = gtk::MapListModel::new(Some(connections.clone()), |item| {
            let connection = item
                .downcast_ref::<ConnectionObject>()
                .expect("the connection list holds connections");
            let header = gio::ListStore::new::<ConnectionObject>();
            header.append(connection);
            let sorter = gtk::StringSorter::new(Some(gtk::PropertyExpression::new(
                DomainObject::static_type(),
                None::<gtk::Expression>,
                "name",
            )));
            let domains = gtk::SortListModel::new(Some(connection.domains()), Some(sorter));
            let parts = gio::ListStore::new::<gio::ListModel>();
            parts.append(&header);
            parts.append(&domains);
            gtk::FlattenListModel::new(Some(parts)).upcast::<glib::Object>()
        });
        let flat = gtk::FlattenListModel::new(Some(per_connection));
        let selection = gtk::SingleSelection::new(Some(flat));
        selection.set_autoselect(false);
        selection.set_can_unselect(true);

        let factory = gtk::SignalListItemFactory::new();
        factory.connect_bind(|_, item| {
            let item = item.downcast_ref::<gtk::ListItem>().expect("a list item");
            bind_list_item(item);
        });
        factory.connect_unbind(|_, item| {
            let item = item.downcast_ref::<gtk::ListItem>().expect("a list item");
            if let Some(row) = item.child().and_downcast::<DomainRow>() {
                row.unbind();
            } else if let Some(header) = item.child().and_downcast::<ConnectionHeader>() {
                header.unbind();
            }
        });

        let imp = self.imp();
        imp.list_view.set_factory(Some(&factory));
        imp.list_view.set_model(Some(&selection));
        let _ = imp.selection.set(selection);

        connections.connect_items_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |connections, position, _removed, added| {
                for index in position..position + added {
                    if let Some(connection) = connections.item(index).and_downcast() {
                        window.watch_connection(&connection);
                    }
                }
                window.update_page();
            }
        ));
        for connection in connections.iter::<ConnectionObject>().flatten() {
            self.watch_connection(&connection);
        }
        self.update_page();
    }

    fn update_page(&self) {
        let connections = self.app().connections().clone();
        let imp = self.imp();
        let page = if connections.n_items() == 0 {
            "empty"
        } else {
            "list"
        };
        imp.stack.set_visible_child_name(page);
        let demo_only = connections.n_items() > 0
            && connections
                .iter::<ConnectionObject>()
                .flatten()
                .all(|c| c.is_demo());
        imp.window_title.set_subtitle(&if demo_only {
            gettextrs::gettext("Demo connection")
        } else {
            String::new()
        });
    }

    /// Logs once when a connection's list is filled and drawn, and handles the
    /// command line's `--show-domain-*` requests once their VM can be found.
    fn watch_connection(&self, connection: &ConnectionObject) {
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
        let wanted = options
            .show_domain_console
            .as_deref()
            .or(options.show_domain_editor.as_deref());
        let Some(name) = wanted else { return };
        let domains = connection.domains();
        let found = domains
            .iter::<DomainObject>()
            .flatten()
            .find(|d| d.name() == name);
        match found {
            Some(domain) => self.select_domain(&domain),
            None => self.show_toast(&gettext_f(
                "No virtual machine named “{name}” on {uri}",
                &[("name", name), ("uri", &connection.uri())],
            )),
        }
    }

    pub fn select_domain(&self, domain: &DomainObject) {
        let Some(selection) = self.imp().selection.get() else {
            return;
        };
        let position = selection
            .iter::<glib::Object>()
            .flatten()
            .position(|item| item == *domain.upcast_ref::<glib::Object>());
        if let Some(position) = position {
            selection.set_selected(position as u32);
            self.imp()
                .list_view
                .activate_action("list.scroll-to-item", Some(&(position as u32).to_variant()))
                .ok();
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

/// Puts a header or a VM row into a recycled list item, whichever its item is.
fn bind_list_item(item: &gtk::ListItem) {
    let object = item.item();
    if let Some(connection) = object.and_downcast_ref::<ConnectionObject>() {
        let header = item
            .child()
            .and_downcast::<ConnectionHeader>()
            .unwrap_or_else(|| {
                let header = ConnectionHeader::default();
                item.set_child(Some(&header));
                header
            });
        item.set_selectable(false);
        item.set_activatable(false);
        header.bind(connection);
    } else if let Some(domain) = item.item().and_downcast_ref::<DomainObject>() {
        let row = item.child().and_downcast::<DomainRow>().unwrap_or_else(|| {
            let row = DomainRow::default();
            item.set_child(Some(&row));
            row
        });
        item.set_selectable(true);
        item.set_activatable(true);
        row.bind(domain);
    }
}
