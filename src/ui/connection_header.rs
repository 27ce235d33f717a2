//! The heading of one host in the list: its name, state, libvirt's reason when it
//! failed, and Reconnect.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{glib, CompositeTemplate};

use crate::model::{ConnectionObject, ConnectionState};
use crate::ui::formatting::connection_state_label;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/connection-header.ui")]
    pub struct ConnectionHeader {
        #[template_child]
        pub title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub demo_badge: TemplateChild<gtk::Label>,
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub status_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub reconnect_button: TemplateChild<gtk::Button>,
        pub connection: RefCell<Option<ConnectionObject>>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConnectionHeader {
        const NAME: &'static str = "VireoConnectionHeader";
        type Type = super::ConnectionHeader;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("connection.disconnect", None, |header, _, _| {
                if let Some(connection) = header.imp().connection.borrow().clone() {
                    connection.close();
                }
            });
            klass.install_action("connection.details", None, |header, _, _| {
                let uri = header.imp().connection.borrow().as_ref().map(|c| c.uri());
                if let Some(uri) = uri {
                    let _ = header.activate_action("win.host-details", Some(&uri.to_variant()));
                }
            });
            klass.install_action("connection.remove", None, |header, _, _| {
                let connection = header.imp().connection.borrow().clone();
                let app = header
                    .root()
                    .and_downcast::<gtk::Window>()
                    .and_then(|w| w.application())
                    .and_downcast::<crate::application::VireoApplication>();
                if let (Some(connection), Some(app)) = (connection, app) {
                    app.forget_connection(&connection);
                }
            });
            klass.set_layout_manager_type::<gtk::BoxLayout>();
            klass.set_accessible_role(gtk::AccessibleRole::Group);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ConnectionHeader {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            if let Some(layout) = obj.layout_manager().and_downcast::<gtk::BoxLayout>() {
                layout.set_spacing(12);
            }
            self.reconnect_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    let connection = obj.imp().connection.borrow().clone();
                    if let Some(connection) = connection {
                        connection.open();
                    }
                }
            ));
        }

        fn dispose(&self) {
            self.obj().unbind();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for ConnectionHeader {}
}

glib::wrapper! {
    pub struct ConnectionHeader(ObjectSubclass<imp::ConnectionHeader>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for ConnectionHeader {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl ConnectionHeader {
    pub fn bind(&self, connection: &ConnectionObject) {
        self.unbind();
        let mut handlers = Vec::new();
        for property in ["state", "error", "display-name", "awaiting-login"] {
            handlers.push(connection.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak(rename_to = header)]
                    self,
                    move |connection, _| header.update(connection)
                ),
            ));
        }
        let imp = self.imp();
        imp.handlers.replace(handlers);
        imp.connection.replace(Some(connection.clone()));
        self.update(connection);
    }

    pub fn unbind(&self) {
        let imp = self.imp();
        if let Some(connection) = imp.connection.take() {
            for handler in imp.handlers.take() {
                connection.disconnect(handler);
            }
        }
    }

    /// The state line as shown: the URI, or what went wrong in libvirt's words.
    pub fn status_text(&self) -> String {
        self.imp().status_label.label().into()
    }

    fn update(&self, connection: &ConnectionObject) {
        let imp = self.imp();
        let state = connection.state();
        imp.title_label.set_label(&connection.display_name());
        imp.demo_badge.set_visible(connection.is_demo());
        // While the login dialog waits for the person nothing is in progress: a
        // spinner there would redraw the window at frame rate for as long as they take
        // (about two cores under software rendering).
        let connecting = state == ConnectionState::Connecting && !connection.awaiting_login();
        imp.spinner.set_visible(connecting);
        imp.spinner.set_spinning(connecting);
        let status = match (state, connection.error()) {
            (ConnectionState::Failed | ConnectionState::Lost, Some(reason)) => {
                format!("{}: {reason}", connection_state_label(state))
            }
            (ConnectionState::Connected, _) => connection.uri().to_string(),
            (ConnectionState::Connecting, _) if connection.awaiting_login() => {
                gettextrs::gettext("Waiting for your login…")
            }
            _ => connection_state_label(state),
        };
        imp.status_label.set_label(&status);
        if matches!(state, ConnectionState::Failed | ConnectionState::Lost) {
            imp.status_label.remove_css_class("dim-label");
            imp.status_label.add_css_class("error");
        } else {
            imp.status_label.remove_css_class("error");
            imp.status_label.add_css_class("dim-label");
        }
        let reconnect = if state == ConnectionState::Disconnected {
            gettextrs::gettext("_Connect")
        } else {
            gettextrs::gettext("_Reconnect")
        };
        // set_label puts a new label widget in the button (the mnemonic must stay
        // one): only when the words change, not at each bind of a list item.
        if imp.reconnect_button.label().as_deref() != Some(reconnect.as_str()) {
            imp.reconnect_button.set_use_underline(true);
            imp.reconnect_button.set_label(&reconnect);
        }
        self.action_set_enabled(
            "connection.disconnect",
            matches!(
                state,
                ConnectionState::Connected | ConnectionState::Connecting | ConnectionState::Lost
            ),
        );
        imp.reconnect_button.set_visible(matches!(
            state,
            ConnectionState::Failed | ConnectionState::Lost | ConnectionState::Disconnected
        ));
        self.update_property(&[gtk::accessible::Property::Label(&format!(
            "{}, {}",
            connection.display_name(),
            status
        ))]);
    }
}
