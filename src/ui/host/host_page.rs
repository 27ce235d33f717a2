//! A host in a tab of its own: its overview, storage and networks, switched at the
//! top. Opened from the host's heading in the list; reads the host when it opens and
//! again after a reconnect; says so when the host is not connected.

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::networks_view::NetworksView;
use super::overview::HostOverview;
use super::storage_view::StorageView;
use crate::model::{ConnectionObject, ConnectionState};
use crate::ui::formatting::connection_state_label;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/host-page.ui")]
    pub struct HostPage {
        #[template_child]
        pub title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub subtitle_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub switcher: TemplateChild<adw::ViewSwitcher>,
        #[template_child]
        pub state_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub view_stack: TemplateChild<adw::ViewStack>,
        #[template_child]
        pub overview: TemplateChild<HostOverview>,
        #[template_child]
        pub storage: TemplateChild<StorageView>,
        #[template_child]
        pub networks: TemplateChild<NetworksView>,
        #[template_child]
        pub offline_page: TemplateChild<adw::StatusPage>,
        pub connection: RefCell<Option<ConnectionObject>>,
        pub handlers: RefCell<Vec<(glib::Object, glib::SignalHandlerId)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostPage {
        const NAME: &'static str = "VireoHostPage";
        type Type = super::HostPage;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            HostOverview::ensure_type();
            StorageView::ensure_type();
            NetworksView::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.install_action("host.connect", None, |page, _, _| {
                if let Some(c) = page.connection() {
                    c.open();
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HostPage {
        fn dispose(&self) {
            for (o, h) in self.handlers.take() {
                o.disconnect(h);
            }
            self.dispose_template();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for HostPage {}
}

glib::wrapper! {
    /// A host's page.
    pub struct HostPage(ObjectSubclass<imp::HostPage>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HostPage {
    /// The page of `connection`'s host; starts reading the host.
    pub fn new(connection: &ConnectionObject) -> Self {
        let page: Self = glib::Object::new();
        let imp = page.imp();
        imp.connection.replace(Some(connection.clone()));
        let host = connection.host();
        imp.overview.set_host(&host);
        imp.storage.set_host(&host);
        imp.networks.set_host(&host);
        let mut handlers = Vec::new();
        for property in ["state", "error", "display-name", "hostname"] {
            let h = connection.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak]
                    page,
                    move |_, _| page.update()
                ),
            );
            handlers.push((connection.clone().upcast::<glib::Object>(), h));
        }
        for property in ["loading", "error"] {
            let h = host.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak]
                    page,
                    move |_, _| page.update()
                ),
            );
            handlers.push((host.clone().upcast::<glib::Object>(), h));
        }
        imp.handlers.replace(handlers);
        page.update();
        if !host.loaded() && connection.state() == ConnectionState::Connected {
            glib::spawn_future_local(glib::clone!(
                #[weak]
                page,
                async move {
                    if let Err(e) = host.load().await {
                        crate::ui::toast(
                            &page,
                            &crate::i18n::gettext_f(
                                "The host could not be read: {reason}",
                                &[("reason", &e.to_string())],
                            ),
                        );
                    }
                }
            ));
        }
        page
    }

    /// The connection whose host this is.
    pub fn connection(&self) -> Option<ConnectionObject> {
        self.imp().connection.borrow().clone()
    }

    /// Shows "overview", "storage" or "networks".
    pub fn show_view(&self, name: &str) {
        self.imp().view_stack.set_visible_child_name(name);
    }

    /// The name of the view shown.
    pub fn visible_view(&self) -> Option<String> {
        self.imp().view_stack.visible_child_name().map(Into::into)
    }

    /// The overview.
    pub fn overview(&self) -> HostOverview {
        self.imp().overview.get()
    }

    /// The storage view.
    pub fn storage(&self) -> StorageView {
        self.imp().storage.get()
    }

    /// The networks view.
    pub fn networks(&self) -> NetworksView {
        self.imp().networks.get()
    }

    fn update(&self) {
        let imp = self.imp();
        let Some(c) = self.connection() else { return };
        let host = c.host();
        imp.title_label.set_label(&c.display_name());
        let state = c.state();
        let connected = state == ConnectionState::Connected;
        imp.subtitle_label.set_label(&if connected {
            if c.hostname().is_empty() {
                c.uri().to_string()
            } else {
                format!("{} · {}", c.hostname(), c.uri())
            }
        } else {
            connection_state_label(state)
        });
        let busy = host.loading() || state == ConnectionState::Connecting;
        imp.spinner.set_visible(busy);
        imp.spinner.set_spinning(busy);
        imp.switcher.set_sensitive(connected);
        imp.state_stack
            .set_visible_child_name(if connected { "host" } else { "offline" });
        imp.offline_page.set_description(
            c.error()
                .or_else(|| host.error())
                .map(|e| glib::markup_escape_text(&e).to_string())
                .as_deref(),
        );
        imp.offline_page.set_title(&match state {
            ConnectionState::Connecting => gettext("Connecting…"),
            _ => gettext("Not Connected"),
        });
        self.update_property(&[gtk::accessible::Property::Label(&crate::i18n::gettext_f(
            "Host {name}",
            &[("name", &c.display_name())],
        ))]);
    }
}
