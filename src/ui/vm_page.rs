//! One VM in its own tab: its own action buttons, the console and the details.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use crate::model::DomainObject;
use crate::ui::console::VncDisplay;
use crate::ui::domain_actions::{self, ListAction};
use crate::ui::formatting::{format_kib, state_label};

/// The page's actions and the list action each one runs.
const PAGE_ACTIONS: [(&str, ListAction); 4] = [
    ("start", ListAction::Start),
    ("pause", ListAction::Pause),
    ("resume", ListAction::Resume),
    ("shutdown", ListAction::Shutdown),
];

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::VmPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/vm-page.ui")]
    pub struct VmPage {
        #[property(get, set, construct_only)]
        pub domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub state_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub view_stack: TemplateChild<adw::ViewStack>,
        #[template_child]
        pub console_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub console_switcher: TemplateChild<gtk::StackSwitcher>,
        #[template_child]
        pub send_keys_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub fullscreen_button: TemplateChild<gtk::ToggleButton>,
        pub vnc: VncDisplay,
        pub serial: std::cell::OnceCell<crate::ui::console::SerialConsole>,
        pub consoles: crate::ui::vm_page_consoles::ConsoleTab,
        #[template_child]
        pub state_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub cpus_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub memory_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub uuid_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub xml_view: TemplateChild<gtk::TextView>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VmPage {
        const NAME: &'static str = "VireoVmPage";
        type Type = super::VmPage;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BoxLayout>();
            for (name, action) in PAGE_ACTIONS {
                klass.install_action(&format!("vm.{name}"), None, move |page, _, _| {
                    page.run(action);
                });
            }
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VmPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            if let Some(layout) = obj.layout_manager().and_downcast::<gtk::BoxLayout>() {
                layout.set_orientation(gtk::Orientation::Vertical);
            }
            obj.setup_consoles();
            obj.follow_domain();
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

    impl WidgetImpl for VmPage {}
}

glib::wrapper! {
    pub struct VmPage(ObjectSubclass<imp::VmPage>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl VmPage {
    pub fn new(domain: &DomainObject) -> Self {
        glib::Object::builder().property("domain", domain).build()
    }

    pub fn show_console(&self) {
        self.imp().view_stack.set_visible_child_name("console");
    }

    pub fn show_details(&self) {
        self.imp().view_stack.set_visible_child_name("details");
    }

    fn follow_domain(&self) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let mut handlers = Vec::new();
        for property in ["state", "state-reason", "vcpus", "memory-kib", "autostart"] {
            handlers.push(domain.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    move |_, _| page.update()
                ),
            ));
        }
        // The XML changes with the state (live devices, ports), so it is read again then.
        handlers.push(domain.connect_notify_local(
            Some("state"),
            glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |_, _| page.load_xml()
            ),
        ));
        imp.handlers.replace(handlers);
        imp.uuid_row.set_subtitle(&domain.uuid());
        imp.autostart_switch.connect_state_set(glib::clone!(
            #[weak(rename_to = page)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, wanted| {
                page.set_autostart(wanted);
                glib::Propagation::Proceed
            }
        ));
        self.update();
        self.load_xml();
    }

    fn update(&self) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let state = domain.state();
        let reason = domain.state_reason();
        let state_text = if reason.is_empty() {
            state_label(state)
        } else {
            format!("{} ({reason})", state_label(state))
        };
        imp.state_label.set_label(&state_text);
        imp.state_row.set_subtitle(&state_text);
        imp.cpus_row.set_subtitle(&domain.vcpus().to_string());
        imp.memory_row
            .set_subtitle(&format_kib(domain.memory_kib()));
        if imp.autostart_switch.is_active() != domain.autostart() {
            imp.autostart_switch.set_active(domain.autostart());
        }
        for (name, action) in PAGE_ACTIONS {
            self.action_set_enabled(&format!("vm.{name}"), action.applies_to(state));
        }
        self.follow_state_in_consoles(state);
    }

    fn load_xml(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let text = match connection.domain_xml(&domain, false).await {
                    Ok(xml) => xml,
                    Err(error) => error,
                };
                page.imp().xml_view.buffer().set_text(&text);
            }
        ));
    }

    pub(super) fn run(&self, action: ListAction) {
        let Some(domain) = self.domain() else { return };
        let page = self.downgrade();
        domain_actions::spawn_run(action, vec![domain], move |text| {
            if let Some(page) = page.upgrade() {
                crate::ui::toast(&page, text);
            }
        });
    }

    fn set_autostart(&self, wanted: bool) {
        let Some(domain) = self.domain() else { return };
        if domain.autostart() == wanted {
            return;
        }
        let Some(connection) = domain.connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let action = crate::model::DomainAction::SetAutostart(wanted);
                if let Err(error) = connection.run_action(&domain, action).await {
                    crate::ui::toast(
                        &page,
                        &crate::i18n::gettext_f(
                            "Could not change autostart of “{name}”: {error}",
                            &[("name", &domain.name()), ("error", &error)],
                        ),
                    );
                    page.imp().autostart_switch.set_active(domain.autostart());
                }
            }
        ));
    }
}
