//! One VM in its own tab: its header (actions, state, views, menu), the running
//! operation (snapshot, clone, move) with Cancel, the console, the details, the
//! snapshots and the XML.
//!
//! The header's buttons and menu are the window's `win.domain-*` actions, which act on
//! the VM of the tab shown: the same actions, shortcuts and confirmations as in the
//! list, enabled by this VM's state.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use crate::model::DomainObject;
use crate::ui::console::GuestDisplay;
use crate::ui::domain_actions::{self, ListAction};
use crate::ui::formatting::state_text;

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
        pub run_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub pause_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub resume_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub state_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub state_label_narrow: TemplateChild<gtk::Label>,
        #[template_child]
        pub state_label_alone: TemplateChild<gtk::Label>,
        #[template_child]
        pub switcher_squeezer: TemplateChild<adw::Squeezer>,
        #[template_child]
        pub switcher_bar: TemplateChild<adw::ViewSwitcherBar>,
        #[template_child]
        pub menu_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub view_stack: TemplateChild<adw::ViewStack>,
        #[template_child]
        pub console_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub console_controls: TemplateChild<gtk::Box>,
        #[template_child]
        pub console_switcher: TemplateChild<gtk::StackSwitcher>,
        #[template_child]
        pub console_switcher_narrow: TemplateChild<gtk::StackSwitcher>,
        #[template_child]
        pub display_notes_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub display_notes_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub send_keys_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub fullscreen_button: TemplateChild<gtk::ToggleButton>,
        pub vnc: GuestDisplay,
        pub serial: std::cell::OnceCell<crate::ui::console::SerialConsole>,
        pub consoles: crate::ui::vm_page_consoles::ConsoleTab,
        #[template_child]
        pub xml_view: TemplateChild<crate::ui::xml_editor::XmlEditor>,
        #[template_child]
        pub operation_bar: TemplateChild<crate::ui::operation_bar::OperationBar>,
        #[template_child]
        pub snapshots_bin: TemplateChild<adw::Bin>,
        #[template_child]
        pub details_bin: TemplateChild<adw::Bin>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VmPage {
        const NAME: &'static str = "VireoVmPage";
        type Type = super::VmPage;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            crate::ui::operation_bar::OperationBar::ensure_type();
            crate::ui::xml_editor::XmlEditor::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BoxLayout>();
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
            obj.setup_header();
            obj.setup_consoles();
            if let Some(domain) = obj.domain() {
                self.operation_bar.set_domain(Some(&domain));
                self.snapshots_bin
                    .set_child(Some(&crate::ui::snapshots_page::SnapshotsPage::new(
                        &domain,
                    )));
                self.details_bin
                    .set_child(Some(&crate::ui::HardwareView::new(&domain)));
            }
            obj.follow_domain();
        }

        fn dispose(&self) {
            if let Some(domain) = self.domain.borrow().as_ref() {
                for handler in self.handlers.take() {
                    domain.disconnect(handler);
                }
            }
            self.obj().follow_connection_in_consoles(None);
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
        if let Some(hardware) = self.hardware() {
            hardware.show_overview();
        }
        self.imp().view_stack.set_visible_child_name("details");
    }

    /// Shows the XML tab.
    pub fn show_xml(&self) {
        self.imp().view_stack.set_visible_child_name("xml");
    }

    /// The XML tab's editor.
    pub fn xml_editor(&self) -> crate::ui::XmlEditor {
        self.imp().xml_view.get()
    }

    pub fn show_snapshots(&self) {
        self.imp().view_stack.set_visible_child_name("snapshots");
    }

    /// The Snapshots page.
    pub fn snapshots_page(&self) -> Option<crate::ui::SnapshotsPage> {
        self.imp().snapshots_bin.child().and_downcast()
    }

    /// Moves the keyboard's focus into the view shown (the console, or the first
    /// control of the details), so that what a person types next goes there.
    pub fn focus_content(&self) {
        let view = self.imp().view_stack.visible_child();
        if !view.is_some_and(|v| v.child_focus(gtk::DirectionType::TabForward)) {
            self.child_focus(gtk::DirectionType::TabForward);
        }
    }

    /// Whether the views' switcher sits in the bar at the bottom (narrow windows).
    pub fn switcher_at_bottom(&self) -> bool {
        self.imp().switcher_bar.reveals()
    }

    fn setup_header(&self) {
        let imp = self.imp();
        // The VM's actions, and in a narrow window the console's views too.
        let menu = gtk::gio::Menu::new();
        menu.append_section(None, &self.console_view_menu());
        menu.append_section(None, &domain_actions::menu_model());
        imp.menu_button.set_menu_model(Some(&menu));
        // When the header has room for the state alone, the switcher bar at the
        // bottom takes the views.
        imp.switcher_squeezer
            .connect_visible_child_notify(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |squeezer| {
                    let alone = squeezer.visible_child().as_ref()
                        == Some(page.imp().state_label_alone.upcast_ref());
                    page.imp().switcher_bar.set_reveal(alone);
                    // (Only the menu's items: this runs while the header is laid out.)
                    page.update_console_view_action();
                }
            ));
    }

    fn follow_domain(&self) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let mut handlers = Vec::new();
        for property in ["state", "state-description"] {
            handlers.push(domain.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    move |_, _| page.update()
                ),
            ));
        }
        // The XML tab shows the saved definition: read again when it changes (an edit
        // in progress is kept, with a notice, by the editor).
        handlers.push(domain.connect_config_changed(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.imp().xml_view.reload(false)
        )));
        imp.handlers.replace(handlers);
        self.follow_connection_in_consoles(domain.connection().as_ref());
        self.update();
        imp.xml_view.set_domain(&domain);
    }

    fn update(&self) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let state = domain.state();
        let state_text = state_text(&domain);
        for label in [
            &imp.state_label,
            &imp.state_label_narrow,
            &imp.state_label_alone,
        ] {
            label.set_label(&state_text);
            label.set_tooltip_text(Some(&state_text));
        }
        // One button plays and pauses: Pause while it runs, Resume while paused, else Run.
        let pause = ListAction::Pause.applies_to(state);
        let resume = ListAction::Resume.applies_to(state);
        imp.pause_button.set_visible(pause);
        imp.resume_button.set_visible(resume);
        imp.run_button.set_visible(!pause && !resume);
        self.follow_state_in_consoles(state);
    }

    /// The addresses the Details page shows, one a line (empty while it shows none).
    pub fn addresses_text(&self) -> String {
        self.overview()
            .map(|o| o.addresses_text())
            .unwrap_or_default()
    }

    /// The Details page's overview.
    pub fn overview(&self) -> Option<crate::ui::VmOverview> {
        self.hardware().and_then(|h| h.overview())
    }

    /// The Details page: the sidebar of the overview and the hardware, and its pages.
    pub fn hardware(&self) -> Option<crate::ui::HardwareView> {
        self.imp().details_bin.child().and_downcast()
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
}
