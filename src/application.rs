//! The `adw::Application`: app-wide actions, the style, and which hosts open at start.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib};

use crate::cli::Options;
use crate::config;
use crate::model::{ConnectionObject, ConnectionState};
use crate::ui::{PreferencesWindow, VireoWindow};

/// Local hosts tried in order on the very first start.
const FIRST_START_URIS: [&str; 2] = ["qemu:///system", "qemu:///session"];

mod imp {
    use std::cell::{OnceCell, RefCell};

    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::VireoApplication)]
    pub struct VireoApplication {
        pub options: RefCell<Options>,
        pub settings: OnceCell<gio::Settings>,
        pub connections: OnceCell<gio::ListStore>,
        pub connections_opened: std::cell::Cell<bool>,
        /// The local hosts the first start tries; `None` for the usual ones.
        pub local_uris: RefCell<Option<Vec<String>>>,
        /// True while the local hosts are being tried.
        pub probing_local: std::cell::Cell<bool>,
        /// Why no local libvirt daemon answered the first start, in libvirt's words
        /// (one line per host tried); empty when one answered or none was tried.
        #[property(get)]
        pub local_daemon_error: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VireoApplication {
        const NAME: &'static str = "VireoApplication";
        type Type = super::VireoApplication;
        type ParentType = adw::Application;
    }

    #[glib::derived_properties]
    impl ObjectImpl for VireoApplication {}

    impl ApplicationImpl for VireoApplication {
        fn startup(&self) {
            self.parent_startup();
            let app = self.obj();
            app.setup_actions();
            app.setup_style();
            app.follow_stats_settings();
        }

        fn activate(&self) {
            self.parent_activate();
            let app = self.obj();
            if let Some(window) = app.active_window() {
                window.present();
                return;
            }
            let window = VireoWindow::new(&app);
            window.present();
            // ssh's questions (libvirt's ssh and the consoles' channels) come here, once
            // there is a window to show them over (they wait until then).
            crate::model::SshLogin::shared().connect_question_asked(glib::clone!(
                #[weak]
                app,
                move |_, question| {
                    // Over the window (at start none is active yet).
                    let parent = app
                        .active_window()
                        .or_else(|| app.windows().into_iter().next());
                    crate::ui::present_ssh_question(parent.as_ref(), question);
                }
            ));
            app.open_initial_connections();
        }

        fn shutdown(&self) {
            for connection in self
                .obj()
                .connections()
                .iter::<ConnectionObject>()
                .flatten()
            {
                connection.close();
            }
            crate::model::ssh_login::uninstall();
            self.parent_shutdown();
        }
    }

    impl GtkApplicationImpl for VireoApplication {}
    impl AdwApplicationImpl for VireoApplication {}
}

glib::wrapper! {
    pub struct VireoApplication(ObjectSubclass<imp::VireoApplication>)
        @extends adw::Application, gtk::Application, gio::Application,
        @implements gio::ActionGroup, gio::ActionMap;
}

impl VireoApplication {
    pub fn new(options: Options) -> Self {
        Self::with_id(options, Some(config::APP_ID))
    }

    /// Without an id nothing is exported on the session bus, so several instances can
    /// live one after another in one process, as the UI tests need.
    pub fn with_id(options: Options, application_id: Option<&str>) -> Self {
        let app: Self = glib::Object::builder()
            .property("application-id", application_id)
            .property("resource-base-path", config::RESOURCE_BASE)
            .property("flags", gio::ApplicationFlags::NON_UNIQUE)
            .build();
        app.imp().options.replace(options);
        app
    }

    pub fn options(&self) -> Options {
        self.imp().options.borrow().clone()
    }

    pub fn settings(&self) -> &gio::Settings {
        self.imp().settings.get_or_init(crate::settings::settings)
    }

    /// Every open connection, in the order they appear in the window.
    pub fn connections(&self) -> &gio::ListStore {
        self.imp()
            .connections
            .get_or_init(gio::ListStore::new::<ConnectionObject>)
    }

    /// Adds `uri` to the window unless it is there already, and opens it when `open`.
    pub fn add_connection(&self, uri: &str, open: bool) -> ConnectionObject {
        if let Some(existing) = self
            .connections()
            .iter::<ConnectionObject>()
            .flatten()
            .find(|c| c.uri() == uri)
        {
            return existing;
        }
        let connection = ConnectionObject::new(uri);
        self.apply_stats_settings(&connection);
        self.connections().append(&connection);
        if open {
            connection.open();
        }
        connection
    }

    fn apply_stats_settings(&self, connection: &ConnectionObject) {
        let settings = self.settings();
        connection.set_stats_interval(settings.uint("stats-interval"));
        connection.set_stats_fields(
            settings.boolean("stats-cpu"),
            settings.boolean("stats-memory"),
            settings.boolean("stats-disk"),
            settings.boolean("stats-network"),
        );
    }

    /// Chooses the local hosts the first start tries, instead of the system and
    /// session QEMU daemons (tests use hosts they control). Call before the first start.
    pub fn set_local_uris(&self, uris: &[&str]) {
        self.imp()
            .local_uris
            .replace(Some(uris.iter().map(|u| u.to_string()).collect()));
    }

    fn local_uris(&self) -> Vec<String> {
        self.imp()
            .local_uris
            .borrow()
            .clone()
            .unwrap_or_else(|| FIRST_START_URIS.iter().map(|u| u.to_string()).collect())
    }

    /// `--connect` wins; else the saved connections; on the first start the local
    /// hypervisors are tried in turn and, when none answers, the window says so and
    /// the demo driver is opened to try Vireo meanwhile.
    ///
    /// `main` calls this before GTK starts, so that libvirt opens the hosts on worker
    /// threads while GTK loads; later calls do nothing.
    pub fn open_initial_connections(&self) {
        if self.imp().connections_opened.replace(true) {
            return;
        }
        crate::model::init();
        if let Some(uri) = self.options().connect {
            self.add_connection(&uri, true);
            return;
        }
        let settings = self.settings();
        if settings.boolean("connections-initialized") {
            let autoconnect = settings.strv("autoconnect");
            for uri in settings.strv("connections") {
                self.add_connection(&uri, autoconnect.contains(uri.as_str()));
            }
            return;
        }
        self.try_local_hosts(self.local_uris(), Vec::new(), true);
    }

    /// "Try Again" after no local daemon answered: tries the local hosts once more
    /// (the hint goes while they are tried, and comes back if none answers).
    pub fn retry_local_hosts(&self) {
        if self.imp().probing_local.get() {
            return;
        }
        self.set_local_daemon_error("");
        // A host already in the window (added by hand, say) is left to its own Reconnect.
        let listed: Vec<String> = self
            .connections()
            .iter::<ConnectionObject>()
            .flatten()
            .map(|c| c.uri().to_string())
            .collect();
        let uris = self
            .local_uris()
            .into_iter()
            .filter(|u| !listed.contains(u))
            .collect();
        self.try_local_hosts(uris, Vec::new(), false);
    }

    /// Opens the first of `uris` that answers and forgets the others; a host that
    /// answers is saved so that later starts open it directly. When none answers,
    /// `local-daemon-error` says why (`failures` gathers libvirt's words) and, on the
    /// first start (`demo`), the demo host opens.
    fn try_local_hosts(&self, mut uris: Vec<String>, failures: Vec<String>, demo: bool) {
        self.imp().probing_local.set(!uris.is_empty());
        if uris.is_empty() {
            if failures.is_empty() {
                return;
            }
            self.set_local_daemon_error(&failures.join("\n"));
            if demo {
                tracing::info!("no local host answers; opening the demo host");
                self.add_connection(config::DEMO_URI, true);
            }
            return;
        }
        let uri = uris.remove(0);
        let connection = self.add_connection(&uri, true);
        let handler = std::rc::Rc::new(std::cell::Cell::new(None));
        let id = connection.connect_state_notify(glib::clone!(
            #[weak(rename_to = app)]
            self,
            #[strong]
            handler,
            move |connection| {
                let state = connection.state();
                if !matches!(state, ConnectionState::Connected | ConnectionState::Failed) {
                    return;
                }
                // Only the first answer counts; a later loss is the connection's own business.
                if let Some(id) = handler.take() {
                    connection.disconnect(id);
                }
                if state == ConnectionState::Connected {
                    app.imp().probing_local.set(false);
                    app.set_local_daemon_error("");
                    app.remember_connection(&connection.uri(), true);
                } else {
                    let error = connection.error().unwrap_or_default();
                    tracing::info!("{} did not answer: {error}", connection.uri());
                    let mut failures = failures.clone();
                    failures.push(format!("{}: {error}", connection.uri()));
                    app.remove_connection(connection);
                    app.try_local_hosts(uris.clone(), failures, demo);
                }
            }
        ));
        handler.set(Some(id));
    }

    fn set_local_daemon_error(&self, text: &str) {
        if *self.imp().local_daemon_error.borrow() != text {
            self.imp().local_daemon_error.replace(text.to_owned());
            self.notify_local_daemon_error();
        }
    }

    /// Saves `uri` among the connections, opened at every start when `autoconnect`.
    pub fn remember_connection(&self, uri: &str, autoconnect: bool) {
        let mut saved = self.saved_uris("connections");
        if !saved.iter().any(|u| u == uri) {
            saved.push(uri.to_owned());
        }
        let mut opened_at_start = self.saved_uris("autoconnect");
        opened_at_start.retain(|u| u != uri);
        if autoconnect {
            opened_at_start.push(uri.to_owned());
        }
        self.save_uris("connections", &saved);
        self.save_uris("autoconnect", &opened_at_start);
        let _ = self.settings().set_boolean("connections-initialized", true);
    }

    /// Closes `connection`, takes it out of the window and out of the saved list.
    pub fn forget_connection(&self, connection: &ConnectionObject) {
        let uri = connection.uri();
        for key in ["connections", "autoconnect"] {
            let mut kept = self.saved_uris(key);
            kept.retain(|u| *u != uri);
            self.save_uris(key, &kept);
        }
        self.remove_connection(connection);
    }

    fn saved_uris(&self, key: &str) -> Vec<String> {
        self.settings()
            .strv(key)
            .iter()
            .map(|u| u.to_string())
            .collect()
    }

    fn save_uris(&self, key: &str, uris: &[String]) {
        let _ = self
            .settings()
            .set_strv(key, uris.iter().map(String::as_str).collect::<Vec<_>>());
    }

    pub fn remove_connection(&self, connection: &ConnectionObject) {
        connection.close();
        if let Some(pos) = self.connections().find(connection) {
            self.connections().remove(pos);
        }
    }

    fn setup_actions(&self) {
        let quit = gio::ActionEntry::builder("quit")
            .activate(|app: &Self, _, _| {
                for window in app.windows() {
                    window.close();
                }
                app.quit();
            })
            .build();
        let about = gio::ActionEntry::builder("about")
            .activate(|app: &Self, _, _| app.show_about())
            .build();
        let preferences = gio::ActionEntry::builder("preferences")
            .activate(|app: &Self, _, _| {
                let window = PreferencesWindow::new(app.settings());
                window.set_transient_for(app.active_window().as_ref());
                window.present();
            })
            .build();
        self.add_action_entries([quit, about, preferences]);

        self.set_accels_for_action("app.quit", &["<Control>q"]);
        self.set_accels_for_action("app.preferences", &["<Control>comma"]);
        self.set_accels_for_action("win.close-tab", &["<Control>w"]);
        self.set_accels_for_action("win.search", &["<Control>f"]);
        self.set_accels_for_action("win.add-connection", &["<Control><Shift>n"]);
        self.set_accels_for_action("win.new-vm", &["<Control>n"]);
        self.set_accels_for_action("win.show-help-overlay", &["<Control>question"]);
        for action in crate::ui::ListAction::ALL {
            if action != crate::ui::ListAction::Delete {
                self.set_accels_for_action(
                    &format!("win.{}", action.action_name()),
                    action.accels(),
                );
            }
        }
    }

    /// Preferences about live figures apply to every open connection at once.
    fn follow_stats_settings(&self) {
        self.settings().connect_changed(
            None,
            glib::clone!(
                #[weak(rename_to = app)]
                self,
                move |_, key| {
                    if key.starts_with("stats-") {
                        for connection in app.connections().iter::<ConnectionObject>().flatten() {
                            app.apply_stats_settings(&connection);
                        }
                    }
                }
            ),
        );
    }

    /// The style follows the desktop unless Preferences force light or dark.
    fn setup_style(&self) {
        let settings = self.settings();
        let apply = |settings: &gio::Settings| {
            let scheme = match settings.string("style").as_str() {
                "light" => adw::ColorScheme::ForceLight,
                "dark" => adw::ColorScheme::ForceDark,
                _ => adw::ColorScheme::Default,
            };
            adw::StyleManager::default().set_color_scheme(scheme);
        };
        apply(settings);
        settings.connect_changed(Some("style"), move |settings, _| apply(settings));
    }

    fn show_about(&self) {
        let about = adw::AboutWindow::builder()
            .application_name("Vireo")
            .application_icon(config::APP_ID)
            .developer_name(gettext("The Vireo developers"))
            .version(config::VERSION)
            .comments(gettext(
                "Manage virtual machines on local and remote libvirt hosts",
            ))
            .website("https://github.com/vireo/vireo")
            .issue_url("https://github.com/vireo/vireo/issues")
            .license_type(gtk::License::Gpl30)
            .copyright("© 2026 The Vireo developers")
            // Translators: put your names here, one per line.
            .translator_credits(gettext("translator-credits"))
            .build();
        about.set_transient_for(self.active_window().as_ref());
        about.present();
    }
}

impl Default for VireoApplication {
    fn default() -> Self {
        Self::new(Options::default())
    }
}
