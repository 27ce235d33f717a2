//! A VM's overview: name, title and description changed in place (each with its
//! Apply button; a wrong value or libvirt's refusal shows under the list and changes
//! nothing), the state, the OS from the libosinfo metadata, CPUs, memory, UUID,
//! autostart, and the guest's addresses (guest agent, else DHCP leases, else ARP) with
//! a copy button each. A running VM also shows how long it has run, graphs of its
//! recent use, and, when its saved configuration differs from the live one, what its
//! next start changes (read by the model on the connection's worker, again at each
//! configuration or state change).

mod pending;
mod performance;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use crate::i18n::gettext_f;
use crate::model::details::{AddressSource, GuestAddress};
use crate::model::{error_text, DomainObject};
use crate::ui::formatting::{format_kib, state_text};
use crate::ui::Sparkline;

/// How often a shown VM's addresses are read again.
const ADDRESSES_EVERY_S: u32 = 10;

/// How often the uptime is written again (it shows minutes).
const UPTIME_EVERY_S: u32 = 20;

/// Which of the texts a row edits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Name,
    Title,
    Description,
}

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::VmOverview)]
    #[template(resource = "/io/github/vireo/Vireo/ui/vm-overview.ui")]
    pub struct VmOverview {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub(super) name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) title_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) description_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) state_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) os_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) cpus_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) current_memory_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) max_memory_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) uuid_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) addresses_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) addresses_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) pending_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) pending_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) uptime_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) performance_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) cpu_graph_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) cpu_graph: TemplateChild<Sparkline>,
        #[template_child]
        pub(super) memory_graph_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) memory_graph: TemplateChild<Sparkline>,
        #[template_child]
        pub(super) disk_graph_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) disk_graph: TemplateChild<Sparkline>,
        #[template_child]
        pub(super) net_graph_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) net_graph: TemplateChild<Sparkline>,
        /// Writes the uptime again while the page is on screen.
        pub(super) uptime_timer: RefCell<Option<glib::SourceId>>,
        /// The pending changes shown, one a line (tests, accessible description).
        pub(super) pending_text: RefCell<String>,
        /// The performance figures shown, one a line.
        pub(super) performance_text: RefCell<String>,
        /// Counts the reads of the pending changes, so that only the latest shows.
        pub(super) pending_generation: std::cell::Cell<u64>,
        pub(super) handlers: RefCell<Vec<glib::SignalHandlerId>>,
        /// Reads the VM's addresses again while the page is on screen.
        pub(super) addresses_timer: RefCell<Option<glib::SourceId>>,
        /// The addresses shown, one a line (for tests and the accessible text).
        pub(super) addresses_text: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VmOverview {
        const NAME: &'static str = "VireoVmOverview";
        type Type = super::VmOverview;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            Sparkline::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VmOverview {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().setup();
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

    impl WidgetImpl for VmOverview {
        fn map(&self) {
            self.parent_map();
            let obj = self.obj();
            obj.read_addresses();
            // Guests take addresses without any libvirt event: look again now and then.
            let weak = obj.downgrade();
            let id = glib::timeout_add_seconds_local(ADDRESSES_EVERY_S, move || {
                let Some(page) = weak.upgrade() else {
                    return glib::ControlFlow::Break;
                };
                page.read_addresses();
                glib::ControlFlow::Continue
            });
            self.addresses_timer.replace(Some(id));
            obj.read_pending_changes();
            obj.show_uptime();
            obj.show_performance();
            let weak = obj.downgrade();
            let id = glib::timeout_add_seconds_local(UPTIME_EVERY_S, move || {
                let Some(page) = weak.upgrade() else {
                    return glib::ControlFlow::Break;
                };
                page.show_uptime();
                glib::ControlFlow::Continue
            });
            self.uptime_timer.replace(Some(id));
        }

        fn unmap(&self) {
            if let Some(id) = self.addresses_timer.take() {
                id.remove();
            }
            if let Some(id) = self.uptime_timer.take() {
                id.remove();
            }
            self.parent_unmap();
        }
    }
}

glib::wrapper! {
    /// The Overview page of a VM's details.
    pub struct VmOverview(ObjectSubclass<imp::VmOverview>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl VmOverview {
    /// The overview of `domain`.
    pub fn new(domain: &DomainObject) -> Self {
        glib::Object::builder().property("domain", domain).build()
    }

    /// The addresses shown, one a line (empty while the VM does not run).
    pub fn addresses_text(&self) -> String {
        if self.imp().addresses_group.is_visible() {
            self.imp().addresses_text.borrow().clone()
        } else {
            String::new()
        }
    }

    /// The changes waiting for the next start, one a line ("what: now…, at the next
    /// start…"); empty when the notice is hidden.
    pub fn pending_text(&self) -> String {
        if self.imp().pending_group.is_visible() {
            self.imp().pending_text.borrow().clone()
        } else {
            String::new()
        }
    }

    /// The uptime shown and its tooltip (empty while the VM does not run).
    pub fn uptime_text(&self) -> (String, String) {
        let row = &self.imp().uptime_row;
        if !row.is_visible() {
            return Default::default();
        }
        (
            row.subtitle().unwrap_or_default().to_string(),
            row.tooltip_text().unwrap_or_default().to_string(),
        )
    }

    /// The performance figures shown, one a line (empty while the VM does not run).
    pub fn performance_text(&self) -> String {
        if self.imp().performance_group.is_visible() {
            self.imp().performance_text.borrow().clone()
        } else {
            String::new()
        }
    }

    /// The error shown under the name, title and description (empty: none).
    pub fn error_text(&self) -> String {
        let label = &self.imp().error_label;
        if label.is_visible() {
            label.label().to_string()
        } else {
            String::new()
        }
    }

    fn setup(&self) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let mut handlers = Vec::new();
        for property in [
            "name",
            "title",
            "description",
            "state",
            "state-description",
            "vcpus",
            "current-memory-kib",
            "max-memory-kib",
            "autostart",
        ] {
            handlers.push(domain.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    move |_, spec| page.update(Some(spec.name()))
                ),
            ));
        }
        handlers.push(domain.connect_config_changed(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| {
                page.read_os();
                page.read_pending_changes();
            }
        )));
        handlers.push(domain.connect_stats_updated(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |_| page.show_performance()
        )));
        imp.handlers.replace(handlers);
        imp.uuid_row.set_subtitle(&domain.uuid());
        for (row, field) in [
            (&imp.name_row, Field::Name),
            (&imp.title_row, Field::Title),
            (&imp.description_row, Field::Description),
        ] {
            row.connect_apply(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |row| page.apply(field, row.text().to_string())
            ));
        }
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
        self.update(None);
        self.read_os();
    }

    /// Shows the domain's values; `changed` names the property that changed (`None`:
    /// all). A text row follows only its own property, so that what a person is typing
    /// elsewhere stays.
    fn update(&self, changed: Option<&str>) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let all = changed.is_none();
        if all || changed == Some("name") {
            imp.name_row.set_text(&domain.name());
        }
        if all || changed == Some("title") {
            imp.title_row.set_text(&domain.title());
        }
        if all || changed == Some("description") {
            imp.description_row.set_text(&domain.description());
        }
        imp.state_row.set_subtitle(&state_text(&domain));
        imp.cpus_row.set_subtitle(&domain.vcpus().to_string());
        imp.current_memory_row
            .set_subtitle(&format_kib(domain.current_memory_kib()));
        imp.max_memory_row
            .set_subtitle(&format_kib(domain.max_memory_kib()));
        if imp.autostart_switch.is_active() != domain.autostart() {
            imp.autostart_switch.set_active(domain.autostart());
        }
        if changed == Some("state") {
            self.read_addresses();
            self.read_pending_changes();
            self.show_uptime();
            self.show_performance();
        }
    }

    /// Shows how long the VM has run (hidden while it does not).
    fn show_uptime(&self) {
        let Some(domain) = self.domain() else { return };
        let row = &self.imp().uptime_row;
        match domain.active_since().filter(|_| domain.state().is_active()) {
            Some(active) => {
                let (text, tooltip) =
                    performance::uptime_texts(active, std::time::SystemTime::now());
                row.set_subtitle(&text);
                row.set_tooltip_text(Some(&tooltip));
                row.update_property(&[gtk::accessible::Property::Description(&tooltip)]);
                row.set_visible(true);
            }
            None => row.set_visible(false),
        }
    }

    /// Draws the model's histories (on each stats tick while the page is on screen).
    fn show_performance(&self) {
        let Some(domain) = self.domain() else { return };
        let imp = self.imp();
        let active = domain.state().is_active();
        imp.performance_group.set_visible(active);
        if !active || !self.is_mapped() {
            return;
        }
        let graphs = performance::Graphs {
            cpu: (&imp.cpu_graph_row, &imp.cpu_graph),
            memory: (&imp.memory_graph_row, &imp.memory_graph),
            disk: (&imp.disk_graph_row, &imp.disk_graph),
            net: (&imp.net_graph_row, &imp.net_graph),
        };
        imp.performance_text
            .replace(performance::show(&domain, &graphs));
    }

    /// Asks the model what differs between the running VM and its saved
    /// configuration, and lists it (the group hides when nothing does).
    fn read_pending_changes(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let imp = self.imp();
        if !domain.state().is_active() {
            imp.pending_group.set_visible(false);
            return;
        }
        if !self.is_mapped() {
            return;
        }
        let generation = imp.pending_generation.get() + 1;
        imp.pending_generation.set(generation);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let r = connection.pending_changes(&domain).await;
                let imp = page.imp();
                if imp.pending_generation.get() != generation {
                    return;
                }
                match r {
                    Ok(changes) => {
                        let text = pending::fill(&imp.pending_list, &changes);
                        imp.pending_list
                            .update_property(&[gtk::accessible::Property::Description(&text)]);
                        imp.pending_text.replace(text);
                        imp.pending_group
                            .set_visible(!changes.is_empty() && domain.state().is_active());
                    }
                    Err(e) => {
                        // The VM stopped meanwhile, or the host went: nothing to say.
                        tracing::debug!(error = %e, "no pending changes read");
                        imp.pending_group.set_visible(false);
                    }
                }
            }
        ));
    }

    fn show_error(&self, field: Option<Field>, text: &str) {
        let imp = self.imp();
        for (row, f) in [
            (&imp.name_row, Field::Name),
            (&imp.title_row, Field::Title),
            (&imp.description_row, Field::Description),
        ] {
            if Some(f) == field {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
        imp.error_label.set_label(text);
        imp.error_label.set_visible(!text.is_empty());
    }

    /// Changes the name, title or description to `text` (the row's Apply).
    fn apply(&self, field: Field, text: String) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        let current = match field {
            Field::Name => domain.name(),
            Field::Title => domain.title(),
            Field::Description => domain.description(),
        };
        if field == Field::Name && text.trim().is_empty() {
            self.show_error(
                Some(field),
                &gettext("A virtual machine needs a name; the name was not changed."),
            );
            return;
        }
        if text == current.as_str() {
            self.show_error(None, "");
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let r = match field {
                    Field::Name => connection.rename_domain(&domain, &text).await,
                    Field::Title => {
                        connection
                            .set_title_or_description(&domain, false, &text)
                            .await
                    }
                    Field::Description => {
                        connection
                            .set_title_or_description(&domain, true, &text)
                            .await
                    }
                };
                match r {
                    Ok(()) => page.show_error(None, ""),
                    Err(e) => {
                        let what = match field {
                            Field::Name => gettext("The name was not changed: {error}"),
                            Field::Title => gettext("The title was not changed: {error}"),
                            Field::Description => {
                                gettext("The description was not changed: {error}")
                            }
                        };
                        page.show_error(Some(field), &what.replace("{error}", &error_text(&e)));
                    }
                }
            }
        ));
    }

    /// Shows the OS recorded in the libosinfo metadata (hidden when none is).
    fn read_os(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let id = match connection.domain_document(&domain, false).await {
                    Ok(doc) => doc.os_id().map(str::to_owned),
                    Err(e) => {
                        tracing::debug!(error = %e, "no definition for the OS row");
                        None
                    }
                };
                let row = &page.imp().os_row;
                match id {
                    Some(id) => {
                        row.set_subtitle(&crate::model::details::os_name(&id).await);
                        row.set_visible(true);
                    }
                    None => row.set_visible(false),
                }
            }
        ));
    }

    /// Lists the running guest's addresses (the group hides while it does not run).
    fn read_addresses(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        if !domain.state().is_active() {
            self.imp().addresses_group.set_visible(false);
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let r = connection.guest_addresses(&domain).await;
                page.show_addresses(r.map_err(|e| error_text(&e)));
                page.imp()
                    .addresses_group
                    .set_visible(domain.state().is_active());
            }
        ));
    }

    fn show_addresses(&self, addresses: Result<Vec<GuestAddress>, String>) {
        let imp = self.imp();
        let list = &imp.addresses_list;
        while let Some(row) = list.first_child() {
            list.remove(&row);
        }
        let mut lines = Vec::new();
        match addresses {
            Ok(addresses) if addresses.is_empty() => {
                let row = adw::ActionRow::builder()
                    .title(gettext("None known yet"))
                    .subtitle(gettext(
                        "Neither a guest agent, nor a virtual network’s DHCP, nor the host’s ARP table knows an address",
                    ))
                    .subtitle_lines(3)
                    .build();
                list.append(&row);
            }
            Ok(addresses) => {
                for a in addresses {
                    let text = format!("{}/{}", a.address, a.prefix);
                    let source = match a.source {
                        AddressSource::Agent => gettext("guest agent"),
                        AddressSource::Lease => gettext("DHCP lease"),
                        AddressSource::Arp => gettext("ARP table"),
                    };
                    let subtitle = match &a.mac {
                        Some(mac) => format!("{} · {mac} · {source}", a.interface),
                        None => format!("{} · {source}", a.interface),
                    };
                    lines.push(format!("{text} {subtitle}"));
                    list.append(&address_row(&text, &a.address, &subtitle));
                }
            }
            Err(text) => {
                let row = adw::ActionRow::builder()
                    .title(gettext("The addresses could not be read"))
                    .subtitle(glib::markup_escape_text(&text))
                    .subtitle_lines(3)
                    .build();
                list.append(&row);
                lines.push(text);
            }
        }
        imp.addresses_text.replace(lines.join("\n"));
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
                        &gettext_f(
                            "Could not change autostart of “{name}”: {error}",
                            &[("name", &domain.name()), ("error", &error_text(&error))],
                        ),
                    );
                    page.imp().autostart_switch.set_active(domain.autostart());
                }
            }
        ));
    }
}

/// A row for one address: the address with its prefix, where it is, and a button that
/// copies the bare address.
fn address_row(text: &str, address: &str, subtitle: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(text)
        .subtitle(glib::markup_escape_text(subtitle))
        .title_selectable(true)
        .build();
    row.add_css_class("property");
    let copy = gtk::Button::builder()
        .icon_name("edit-copy-symbolic")
        .valign(gtk::Align::Center)
        .tooltip_text(gettext("Copy Address"))
        .build();
    copy.add_css_class("flat");
    copy.update_property(&[gtk::accessible::Property::Label(&gettext_f(
        "Copy {address}",
        &[("address", address)],
    ))]);
    let address = address.to_owned();
    copy.connect_clicked(move |button| {
        button.clipboard().set_text(&address);
        crate::ui::toast(button, &gettext("Address copied"));
    });
    row.add_suffix(&copy);
    row
}
