//! Add Connection: a local hypervisor, a remote one over SSH, or any libvirt URI.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use crate::ui::connection_uri::{build_uri, HypervisorKind, RemoteHost, UriError};
use crate::ui::VireoWindow;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/add-connection-dialog.ui")]
    pub struct AddConnectionDialog {
        #[template_child]
        pub kind_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub uri_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub remote_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub remote_row: TemplateChild<adw::ExpanderRow>,
        #[template_child]
        pub user_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub host_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub port_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub autoconnect_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub preview_row: TemplateChild<adw::ActionRow>,
        pub window: RefCell<Option<VireoWindow>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for AddConnectionDialog {
        const NAME: &'static str = "VireoAddConnectionDialog";
        type Type = super::AddConnectionDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("dialog.connect", None, |dialog, _, _| {
                dialog.connect_clicked()
            });
            crate::ui::close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for AddConnectionDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let update = glib::clone!(
                #[weak]
                obj,
                move || {
                    obj.validate();
                }
            );
            let on_change = {
                let update = update.clone();
                move |_: &adw::EntryRow| update()
            };
            for row in [
                &*self.uri_row,
                &*self.user_row,
                &*self.host_row,
                &*self.port_row,
            ] {
                row.connect_changed(on_change.clone());
                row.connect_entry_activated(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.connect_clicked()
                ));
            }
            let on_notify = {
                let update = update.clone();
                move |_: &glib::Object| update()
            };
            let notify = on_notify.clone();
            self.kind_row
                .connect_selected_notify(move |row| notify(row.upcast_ref()));
            self.remote_row
                .connect_enable_expansion_notify(move |row| on_notify(row.upcast_ref()));
            name_enable_switch(&self.remote_row);
            obj.validate();
        }
    }

    impl WidgetImpl for AddConnectionDialog {}
    impl WindowImpl for AddConnectionDialog {}
    impl AdwWindowImpl for AddConnectionDialog {}
}

glib::wrapper! {
    pub struct AddConnectionDialog(ObjectSubclass<imp::AddConnectionDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// libadwaita 1.2 leaves an expander row's enable switch without an accessible name:
/// a screen reader would announce a bare "switch". It gets the row's title.
fn name_enable_switch(row: &adw::ExpanderRow) {
    let mut pending: Vec<gtk::Widget> = vec![row.clone().upcast()];
    while let Some(widget) = pending.pop() {
        if let Some(switch) = widget.downcast_ref::<gtk::Switch>() {
            let title = row.title().replace('_', "");
            switch.update_property(&[gtk::accessible::Property::Label(&title)]);
            return;
        }
        let mut child = widget.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            pending.push(c);
        }
    }
}

impl AddConnectionDialog {
    pub fn new(window: &VireoWindow) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", window)
            .build();
        dialog.imp().window.replace(Some(window.clone()));
        dialog
    }

    /// Whether Connect can be pressed now.
    pub fn connect_enabled(&self) -> bool {
        self.validate().is_some()
    }

    /// The URI as shown under Address (or what is wrong).
    pub fn uri_preview(&self) -> String {
        self.imp()
            .preview_row
            .subtitle()
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    /// Presses Connect.
    pub fn activate_connect(&self) {
        self.connect_clicked();
    }

    fn kind(&self) -> HypervisorKind {
        match self.imp().kind_row.selected() {
            0 => HypervisorKind::QemuSystem,
            1 => HypervisorKind::QemuSession,
            _ => HypervisorKind::Custom,
        }
    }

    fn uri(&self) -> Result<String, UriError> {
        let imp = self.imp();
        let remote = imp.remote_row.enables_expansion().then(|| RemoteHost {
            user: imp.user_row.text().into(),
            host: imp.host_row.text().into(),
            port: imp.port_row.text().into(),
        });
        build_uri(self.kind(), &imp.uri_row.text(), remote.as_ref())
    }

    /// Shows the URI being built, or marks the one wrong field, and enables Connect
    /// only when the URI is whole.
    fn validate(&self) -> Option<String> {
        let imp = self.imp();
        let custom = self.kind() == HypervisorKind::Custom;
        imp.uri_row.set_visible(custom);
        imp.remote_group.set_visible(!custom);

        let result = self.uri();
        let rows = [
            (&*imp.uri_row, matches!(result, Err(UriError::Uri(_)))),
            (&*imp.user_row, matches!(result, Err(UriError::User(_)))),
            (&*imp.host_row, matches!(result, Err(UriError::Host(_)))),
            (&*imp.port_row, matches!(result, Err(UriError::Port(_)))),
        ];
        // An empty field is not yet an error worth painting red.
        for (row, wrong) in rows {
            if wrong && !row.text().is_empty() {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
        let (subtitle, uri) = match result {
            Ok(uri) => (uri.clone(), Some(uri)),
            Err(UriError::Uri(m) | UriError::User(m) | UriError::Host(m) | UriError::Port(m)) => {
                (m, None)
            }
        };
        imp.preview_row.set_subtitle(&subtitle);
        self.action_set_enabled("dialog.connect", uri.is_some());
        uri
    }

    fn connect_clicked(&self) {
        let Some(uri) = self.validate() else { return };
        let Some(window) = self.imp().window.borrow().clone() else {
            return;
        };
        let app = window.app();
        app.remember_connection(&uri, self.imp().autoconnect_switch.is_active());
        app.add_connection(&uri, true);
        self.close();
    }
}
