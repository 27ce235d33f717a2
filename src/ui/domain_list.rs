//! The VM list: every connection's header and its VMs in one virtualised list, with
//! search, sorting, multi-selection, a context menu and an action bar.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::OnceLock;

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{gio, glib, CompositeTemplate};

use crate::i18n::ngettext_f;
use crate::model::{ConnectionObject, ConnectionState, DomainObject, DomainState};
use crate::ui::formatting::state_label;
use crate::ui::{ConnectionHeader, DomainRow};

mod keyboard;

/// What the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    State,
    Cpu,
    Memory,
}

impl SortKey {
    pub fn from_name(name: &str) -> Self {
        match name {
            "state" => SortKey::State,
            "cpu" => SortKey::Cpu,
            "memory" => SortKey::Memory,
            _ => SortKey::Name,
        }
    }

    /// Called ~100,000 times by a sort of 10,000 VMs: it reads the domains' fields
    /// directly (`*_now`, cached lower-case names), not through GValue.
    fn compare(self, a: &DomainObject, b: &DomainObject) -> std::cmp::Ordering {
        let by_name = || a.cmp_names(b);
        match self {
            SortKey::Name => by_name(),
            SortKey::State => (a.state_now() as i32)
                .cmp(&(b.state_now() as i32))
                .then_with(by_name),
            SortKey::Cpu => b
                .cpu_percent_now()
                .total_cmp(&a.cpu_percent_now())
                .then_with(by_name),
            SortKey::Memory => b
                .current_memory_kib_now()
                .cmp(&a.current_memory_kib_now())
                .then_with(by_name),
        }
    }
}

/// A search as typed, ready to be matched against thousands of VMs: its words and
/// each state's (translated) name in lower case, made once per search rather than
/// once per VM.
#[derive(Default)]
pub struct Query {
    text: String,
    words: Vec<String>,
    /// The lower-case name of each state, made once per search (it is translated).
    state_labels: Vec<(DomainState, String)>,
}

impl Query {
    pub fn new(text: &str) -> Self {
        let text = text.trim().to_owned();
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        let state_labels = if words.is_empty() {
            Vec::new()
        } else {
            DomainState::ALL
                .iter()
                .map(|&s| (s, state_label(s).to_lowercase()))
                .collect()
        };
        Query {
            text,
            words,
            state_labels,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// True when `domain` has every word in its name, title or state, whatever the
    /// case.
    pub fn matches(&self, domain: &DomainObject) -> bool {
        let state = domain.state_now();
        let label = self
            .state_labels
            .iter()
            .find(|(s, _)| *s == state)
            .map_or("", |(_, label)| label.as_str());
        self.words
            .iter()
            .all(|word| label.contains(word.as_str()) || domain.text_contains(word))
    }
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/domain-list.ui")]
    pub struct DomainListView {
        #[template_child]
        pub search_bar: TemplateChild<gtk::SearchBar>,
        #[template_child]
        pub search_entry: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub list_view: TemplateChild<gtk::ListView>,
        #[template_child]
        pub action_bar: TemplateChild<gtk::ActionBar>,
        #[template_child]
        pub selection_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub run_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub resume_button: TemplateChild<gtk::Button>,
        pub connections: RefCell<Option<gio::ListStore>>,
        /// One model per connection (header + its sorted VMs), flattened.
        pub sections: std::cell::OnceCell<gio::ListStore>,
        /// The search over all of them: one filter above the sections rather than one
        /// per section, so that a keystroke changes the list in one step. (One filter
        /// per section changed it host after host, and GTK 4.8's list view made new
        /// rows for its ~200 realized items at each step: 3,500 rows for one key with
        /// 20 hosts.)
        pub filtered: std::cell::OnceCell<gtk::FilterListModel>,
        pub filter: RefCell<Option<gtk::CustomFilter>>,
        pub sorter: RefCell<Option<gtk::CustomSorter>>,
        pub query: Rc<RefCell<Query>>,
        pub sort_key: Rc<Cell<SortKey>>,
        pub selection: RefCell<Option<gtk::MultiSelection>>,
        /// The selected VMs as last announced, in list order: rows that a search or
        /// a removal takes away leave GTK's selection without it saying so, and
        /// their number is compared again then.
        pub selected: RefCell<Vec<DomainObject>>,
        /// The list changed (a sort) since `selected` was read: its order may be old.
        pub selected_order_stale: Cell<bool>,
        /// Set while the hosts' headings are taken out of the selection, which GTK
        /// announces as a change of its own.
        pub dropping_headings: Cell<bool>,
        pub popover: RefCell<Option<gtk::PopoverMenu>>,
        /// The VMs that have a row now, by UUID: only they need live figures.
        pub bound: RefCell<std::collections::HashMap<String, DomainObject>>,
        pub stats_flush_pending: Cell<bool>,
        /// Rows and headings that were unbound, to use again once their list item is
        /// gone: GTK 4.8's list view makes a new list item for each item it shows
        /// after a change (a search, a sort), and a widget built from its template
        /// costs many times a bind (and an X round trip for each of its tooltips).
        pub spare: RefCell<Vec<gtk::Widget>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainListView {
        const NAME: &'static str = "VireoDomainListView";
        type Type = super::DomainListView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BoxLayout>();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for DomainListView {
        fn signals() -> &'static [glib::subclass::Signal] {
            static SIGNALS: OnceLock<Vec<glib::subclass::Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    glib::subclass::Signal::builder("selection-changed").build(),
                    glib::subclass::Signal::builder("domain-activated")
                        .param_types([DomainObject::static_type()])
                        .build(),
                ]
            })
        }

        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            if let Some(layout) = obj.layout_manager().and_downcast::<gtk::BoxLayout>() {
                layout.set_orientation(gtk::Orientation::Vertical);
            }
            obj.setup();
        }

        fn dispose(&self) {
            if let Some(popover) = self.popover.take() {
                popover.unparent();
            }
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for DomainListView {}
}

glib::wrapper! {
    pub struct DomainListView(ObjectSubclass<imp::DomainListView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for DomainListView {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl DomainListView {
    fn sections(&self) -> &gio::ListStore {
        self.imp()
            .sections
            .get_or_init(gio::ListStore::new::<gio::ListModel>)
    }

    fn setup(&self) {
        let imp = self.imp();
        let query = imp.query.clone();
        // Hosts' headers always show.
        let filter = gtk::CustomFilter::new(move |item| {
            let query = query.borrow();
            query.is_empty()
                || item
                    .downcast_ref::<DomainObject>()
                    .map_or(true, |d| query.matches(d))
        });
        let sort_key = imp.sort_key.clone();
        let sorter = gtk::CustomSorter::new(move |a, b| {
            let (Some(a), Some(b)) = (
                a.downcast_ref::<DomainObject>(),
                b.downcast_ref::<DomainObject>(),
            ) else {
                return gtk::Ordering::Equal;
            };
            sort_key.get().compare(a, b).into()
        });
        let flat = gtk::FlattenListModel::new(Some(self.sections().clone()));
        let filtered = gtk::FilterListModel::new(Some(flat), Some(filter.clone()));
        let _ = imp.filtered.set(filtered.clone());
        imp.filter.replace(Some(filter));
        imp.sorter.replace(Some(sorter));
        let selection = gtk::MultiSelection::new(Some(filtered));
        selection.connect_selection_changed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, _, _| list.selection_changed()
        ));
        selection.connect_items_changed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, _, _, _| {
                list.update_page();
                // GtkMultiSelection drops the rows that leave (a search hides them, a
                // VM is undefined) from its selection without selection-changed; it
                // keeps the others (a sort), so only a smaller count says it changed.
                // (Comparing the VMs themselves here read all 10,000 selected ones at
                // each of the 20 hosts' changes of a sort.)
                let imp = list.imp();
                let count = imp
                    .selection
                    .borrow()
                    .as_ref()
                    .map_or(0, |s| s.selection().size());
                if count != imp.selected.borrow().len() as u64 {
                    list.selection_changed();
                } else if count > 0 {
                    imp.selected_order_stale.set(true);
                }
            }
        ));

        let factory = gtk::SignalListItemFactory::new();
        factory.connect_bind(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, item| {
                let item = item.downcast_ref::<gtk::ListItem>().expect("a list item");
                if let Some(domain) = bind_list_item(item, &list.imp().spare) {
                    list.track_row(&domain, true);
                }
            }
        ));
        factory.connect_unbind(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, item| {
                let item = item.downcast_ref::<gtk::ListItem>().expect("a list item");
                if let Some(row) = item.child().and_downcast::<DomainRow>() {
                    if let Some(domain) = row.domain() {
                        list.track_row(&domain, false);
                    }
                    row.unbind();
                    keep_spare(&list.imp().spare, row.upcast());
                } else if let Some(header) = item.child().and_downcast::<ConnectionHeader>() {
                    header.unbind();
                    keep_spare(&list.imp().spare, header.upcast());
                }
            }
        ));
        imp.list_view.set_factory(Some(&factory));
        imp.list_view.set_model(Some(&selection));
        imp.selection.replace(Some(selection));

        imp.list_view.connect_activate(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |view, position| {
                let item = view.model().and_then(|m| m.item(position));
                if let Some(domain) = item.and_downcast::<DomainObject>() {
                    list.emit_by_name::<()>("domain-activated", &[&domain]);
                }
            }
        ));

        imp.search_entry.connect_search_changed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |entry| list.set_query(&entry.text())
        ));
        imp.search_bar.connect_entry(&*imp.search_entry);

        self.setup_keyboard_and_pointer();
    }

    /// Notes that `domain` got or lost its row; the connections learn once per main-loop
    /// turn which VMs to measure, so a tick costs only what is on screen.
    fn track_row(&self, domain: &DomainObject, bound: bool) {
        let imp = self.imp();
        if bound {
            imp.bound
                .borrow_mut()
                .insert(domain.uuid().to_string(), domain.clone());
        } else {
            imp.bound.borrow_mut().remove(domain.uuid().as_str());
        }
        if !imp.stats_flush_pending.replace(true) {
            glib::idle_add_local_once(glib::clone!(
                #[weak(rename_to = list)]
                self,
                move || list.flush_stats_domains()
            ));
        }
    }

    fn flush_stats_domains(&self) {
        let imp = self.imp();
        imp.stats_flush_pending.set(false);
        let Some(connections) = imp.connections.borrow().clone() else {
            return;
        };
        let bound = imp.bound.borrow();
        for connection in connections.iter::<ConnectionObject>().flatten() {
            let uuids: Vec<String> = bound
                .iter()
                .filter(|(_, d)| d.connection().as_ref() == Some(&connection))
                .map(|(uuid, _)| uuid.clone())
                .collect();
            connection.set_stats_domains(Some(uuids));
        }
    }

    /// Follows `connections`: one section per connection, in order.
    pub fn set_connections(&self, connections: &gio::ListStore) {
        self.imp().connections.replace(Some(connections.clone()));
        self.rebuild_sections(
            connections,
            0,
            self.sections().n_items(),
            connections.n_items(),
        );
        connections.connect_items_changed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |connections, position, removed, added| {
                list.rebuild_sections(connections, position, removed, added)
            }
        ));
    }

    fn rebuild_sections(
        &self,
        connections: &gio::ListStore,
        position: u32,
        removed: u32,
        added: u32,
    ) {
        let sorter = self.imp().sorter.borrow().clone();
        let mut new_sections = Vec::new();
        for index in position..position + added {
            let Some(connection) = connections.item(index).and_downcast::<ConnectionObject>()
            else {
                continue;
            };
            let header = gio::ListStore::new::<ConnectionObject>();
            header.append(&connection);
            let sorted = gtk::SortListModel::new(Some(connection.domains()), sorter.clone());
            let parts = gio::ListStore::new::<gio::ListModel>();
            parts.append(&header);
            parts.append(&sorted);
            new_sections.push(gtk::FlattenListModel::new(Some(parts)).upcast::<glib::Object>());
            connection.connect_state_notify(glib::clone!(
                #[weak(rename_to = list)]
                self,
                move |_| list.update_page()
            ));
        }
        self.sections().splice(position, removed, &new_sections);
        self.update_page();
    }

    fn set_query(&self, text: &str) {
        let imp = self.imp();
        let query = Query::new(text);
        let old = imp.query.replace(query);
        let new = imp.query.borrow();
        if new.text == old.text {
            return;
        }
        // A word typed on narrows the list, one taken away widens it: the filter
        // then looks only at the rows shown (or only at those hidden).
        let change = if new.text.contains(old.text.as_str()) {
            gtk::FilterChange::MoreStrict
        } else if old.text.contains(new.text.as_str()) {
            gtk::FilterChange::LessStrict
        } else {
            gtk::FilterChange::Different
        };
        drop(new);
        if let Some(filter) = imp.filter.borrow().as_ref() {
            filter.changed(change);
        }
        self.update_page();
    }

    pub fn set_sort_key(&self, key: SortKey) {
        let imp = self.imp();
        imp.sort_key.set(key);
        if let Some(sorter) = imp.sorter.borrow().as_ref() {
            sorter.changed(gtk::SorterChange::Different);
        }
    }

    pub fn search_bar(&self) -> gtk::SearchBar {
        self.imp().search_bar.clone()
    }

    /// The number of VMs shown (after the search).
    pub fn visible_domain_count(&self) -> u32 {
        let shown = self.imp().filtered.get().map_or(0, |f| f.n_items());
        // Every host's header shows, one per section.
        shown.saturating_sub(self.sections().n_items())
    }

    /// Which page shows: "list", "empty", "no-vms" or "no-results".
    pub fn visible_page_name(&self) -> String {
        self.imp()
            .stack
            .visible_child_name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    }

    fn update_page(&self) {
        let imp = self.imp();
        let connections = imp.connections.borrow().clone();
        let Some(connections) = connections else {
            return;
        };
        let all_connected_and_empty = connections.n_items() > 0
            && connections
                .iter::<ConnectionObject>()
                .flatten()
                .all(|c| c.state() == ConnectionState::Connected && c.domains().n_items() == 0);
        let page = if connections.n_items() == 0 {
            "empty"
        } else if !imp.query.borrow().is_empty() && self.visible_domain_count() == 0 {
            "no-results"
        } else if all_connected_and_empty {
            "no-vms"
        } else {
            "list"
        };
        imp.stack.set_visible_child_name(page);
    }

    /// The selected VMs, in list order.
    pub fn selected_domains(&self) -> Vec<DomainObject> {
        let imp = self.imp();
        if imp.selected_order_stale.replace(false) {
            let (domains, _) = self.read_selection();
            imp.selected.replace(domains);
        }
        imp.selected.borrow().clone()
    }

    /// The selected VMs in list order, and the positions of the hosts' headings that
    /// are selected, in one pass over the selection.
    fn read_selection(&self) -> (Vec<DomainObject>, gtk::Bitset) {
        let headings = gtk::Bitset::new_empty();
        let mut domains = Vec::new();
        for (position, item) in self.selected_items() {
            match item.downcast::<DomainObject>() {
                Ok(domain) => domains.push(domain),
                Err(_) => {
                    headings.add(position);
                }
            }
        }
        (domains, headings)
    }

    /// What is selected, VMs and hosts' headings alike, with its position.
    fn selected_items(&self) -> Vec<(u32, glib::Object)> {
        let Some(selection) = self.imp().selection.borrow().clone() else {
            return Vec::new();
        };
        let bitset = selection.selection();
        let mut items = Vec::new();
        if let Some((mut iter, first)) = gtk::BitsetIter::init_first(&bitset) {
            let mut position = Some(first);
            while let Some(p) = position {
                if let Some(item) = selection.item(p) {
                    items.push((p, item));
                }
                position = iter.next();
            }
        }
        items
    }

    /// Selects `domain` alone and scrolls to it.
    pub fn select_domain(&self, domain: &DomainObject) -> bool {
        let Some(selection) = self.imp().selection.borrow().clone() else {
            return false;
        };
        let target = domain.upcast_ref::<glib::Object>();
        let position =
            (0..selection.n_items()).find(|&p| selection.item(p).as_ref() == Some(target));
        let Some(position) = position else {
            return false;
        };
        selection.select_item(position, true);
        let _ = self
            .imp()
            .list_view
            .activate_action("list.scroll-to-item", Some(&position.to_variant()));
        true
    }

    pub fn select_all(&self) {
        if let Some(selection) = self.imp().selection.borrow().as_ref() {
            selection.select_all();
        }
    }

    /// Calls `f` when the selected VMs change (a search or a removal that takes
    /// selected rows away counts).
    pub fn connect_selection_changed<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "selection-changed",
            false,
            glib::closure_local!(move |list: &Self| f(list)),
        )
    }

    /// Calls `f` with the VM whose row is activated (double click, Enter).
    pub fn connect_domain_activated<F: Fn(&Self, &DomainObject) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "domain-activated",
            false,
            glib::closure_local!(move |list: &Self, domain: &DomainObject| f(list, domain)),
        )
    }

    /// Of Run and Resume, which both show ▶, the bar shows the ones that apply (Run
    /// when neither does, so that the bar keeps its shape).
    pub fn show_run_and_resume(&self, run: bool, resume: bool) {
        let imp = self.imp();
        imp.run_button.set_visible(run || !resume);
        imp.resume_button.set_visible(resume);
    }

    fn selection_changed(&self) {
        let imp = self.imp();
        if imp.dropping_headings.get() {
            return;
        }
        let (selected, headings) = self.read_selection();
        // Select All (Ctrl+A) takes the hosts' headings too, which then look selected:
        // they are not VMs. They are unselected in one change, which GTK announces
        // and which is not read again (10,000 VMs after Ctrl+A).
        if let (false, Some(selection)) = (headings.is_empty(), imp.selection.borrow().clone()) {
            imp.dropping_headings.set(true);
            selection.set_selection(&gtk::Bitset::new_empty(), &headings);
            imp.dropping_headings.set(false);
        }
        let n = selected.len();
        imp.selected.replace(selected);
        imp.selected_order_stale.set(false);
        imp.action_bar.set_revealed(n > 0);
        imp.selection_label.set_label(&ngettext_f(
            "{n} selected",
            "{n} selected",
            n as u32,
            &[("n", &n.to_string())],
        ));
        self.emit_by_name::<()>("selection-changed", &[]);
    }
}

/// Spare widgets kept at most. GTK 4.8's list view keeps ~220 items (200 around
/// the view and the hosts' headings) and, at a change, binds the new ones before it
/// lets the old ones go; an unbound widget joins the spares while its old item
/// still holds it. With room for only 256, those held ones pushed the free ones
/// out, and each search built ~74 rows from their template anew.
const SPARE_WIDGETS: usize = 1024;

/// Keeps an unbound row or heading for later. Its list item may be bound again (the
/// widget stays its child, and leaves the spares then) or go (GTK takes the widget
/// out): only a widget without a parent is free to use again.
fn keep_spare(spare: &RefCell<Vec<gtk::Widget>>, widget: gtk::Widget) {
    let mut spare = spare.borrow_mut();
    if spare.len() < SPARE_WIDGETS && !spare.contains(&widget) {
        spare.push(widget);
    }
}

/// A spare `T` no list item holds, if there is one.
fn take_spare<T: IsA<gtk::Widget>>(spare: &RefCell<Vec<gtk::Widget>>) -> Option<T> {
    let mut spare = spare.borrow_mut();
    let free = spare
        .iter()
        .rposition(|w| w.parent().is_none() && w.is::<T>())?;
    spare.swap_remove(free).downcast().ok()
}

/// The widget of `item` if it is a `T`, else one from `spare` or a new one put in.
/// A widget bound again in place is no longer spare: left among the spares, in-use
/// widgets filled them up and freed ones were dropped (and built anew).
fn child_or_spare<T: IsA<gtk::Widget> + Default>(
    item: &gtk::ListItem,
    spare: &RefCell<Vec<gtk::Widget>>,
) -> T {
    if let Some(child) = item.child() {
        if let Ok(widget) = child.clone().downcast::<T>() {
            spare.borrow_mut().retain(|w| *w != child);
            return widget;
        }
        item.set_child(gtk::Widget::NONE);
        keep_spare(spare, child);
    }
    let widget = take_spare::<T>(spare).unwrap_or_default();
    item.set_child(Some(&widget));
    widget
}

/// Puts a header or a VM row into a recycled list item, whichever its item is
/// (from `spare` when there is one); returns the VM when it is one.
fn bind_list_item(item: &gtk::ListItem, spare: &RefCell<Vec<gtk::Widget>>) -> Option<DomainObject> {
    let object = item.item();
    if let Some(connection) = object.and_downcast_ref::<ConnectionObject>() {
        let header: ConnectionHeader = child_or_spare(item, spare);
        item.set_selectable(false);
        item.set_activatable(false);
        header.bind(connection);
        None
    } else if let Some(domain) = item.item().and_downcast::<DomainObject>() {
        let row: DomainRow = child_or_spare(item, spare);
        item.set_selectable(true);
        item.set_activatable(true);
        row.bind(&domain);
        Some(domain)
    } else {
        None
    }
}
