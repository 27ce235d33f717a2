//! The list from the keyboard and the pointer: Delete, the context menu (right click,
//! Shift+F10 or the Menu key, at the row concerned) and Tab, which leaves the list as
//! in other GNOME lists.

use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;

use super::DomainListView;
use crate::ui::domain_actions;
use crate::ui::DomainRow;

impl DomainListView {
    pub(super) fn setup_keyboard_and_pointer(&self) {
        let imp = self.imp();
        // The Delete key deletes only while the list has focus, never in the search.
        let shortcuts = gtk::ShortcutController::new();
        shortcuts.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string("Delete"),
            Some(gtk::NamedAction::new("win.domain-delete")),
        ));
        shortcuts.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string("<Shift>F10|Menu"),
            Some(gtk::CallbackAction::new(glib::clone!(
                #[weak(rename_to = list)]
                self,
                #[upgrade_or]
                glib::Propagation::Proceed,
                move |_, _| {
                    list.popup_context_menu(None);
                    glib::Propagation::Stop
                }
            ))),
        ));
        imp.list_view.add_controller(shortcuts);

        // GTK 4.8's list view walks Tab from item to item, and stops for good after a
        // header's buttons. GNOME lists move with the arrows and are left with Tab
        // (GTK 4.12's tab-behavior "item"): Tab goes through the focused item's own
        // buttons, then out of the list.
        let tab = gtk::EventControllerKey::new();
        tab.set_propagation_phase(gtk::PropagationPhase::Capture);
        tab.connect_key_pressed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, key, _, state| {
                use gtk::gdk::{Key, ModifierType};
                // Ctrl+Tab belongs to the tabs.
                if state.contains(ModifierType::CONTROL_MASK) {
                    return glib::Propagation::Proceed;
                }
                let forward = match key {
                    Key::Tab | Key::KP_Tab => !state.contains(ModifierType::SHIFT_MASK),
                    Key::ISO_Left_Tab => false,
                    _ => return glib::Propagation::Proceed,
                };
                if list.move_focus_on(forward) {
                    glib::Propagation::Stop
                } else {
                    glib::Propagation::Proceed
                }
            }
        ));
        imp.list_view.add_controller(tab);

        let right_click = gtk::GestureClick::new();
        right_click.set_button(gtk::gdk::BUTTON_SECONDARY);
        right_click.connect_pressed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |gesture, _, x, y| {
                gesture.set_state(gtk::EventSequenceState::Claimed);
                list.select_row_at(x, y);
                list.popup_context_menu(Some((x, y)));
            }
        ));
        imp.list_view.add_controller(right_click);
    }

    /// A right click on a VM that is not selected selects it alone first.
    fn select_row_at(&self, x: f64, y: f64) {
        let imp = self.imp();
        let mut widget = imp.list_view.pick(x, y, gtk::PickFlags::DEFAULT);
        while let Some(w) = widget {
            if let Some(row) = w.downcast_ref::<DomainRow>() {
                if let Some(domain) = row.domain() {
                    if !self.selected_domains().contains(&domain) {
                        self.select_domain(&domain);
                    }
                }
                return;
            }
            widget = w.parent();
        }
    }

    /// Tab inside the list: to the next button of the focused item, else out of the
    /// list to the widget that comes after (or before) it in the window.
    fn move_focus_on(&self, forward: bool) -> bool {
        let list_view = &self.imp().list_view;
        let Some(root) = list_view.root() else {
            return false;
        };
        let direction = if forward {
            gtk::DirectionType::TabForward
        } else {
            gtk::DirectionType::TabBackward
        };
        let mut item = root.focus();
        while let Some(widget) = item.clone() {
            if widget.parent().as_ref() == Some(list_view.upcast_ref()) {
                break;
            }
            item = widget.parent();
        }
        if item.is_some_and(|item| item.child_focus(direction)) {
            return true;
        }
        // With the list out of the focus chain for a moment, GTK finds its neighbour.
        list_view.set_can_focus(false);
        let moved = root.child_focus(direction);
        list_view.set_can_focus(true);
        moved
    }

    /// Opens the context menu at the pointer (`at`, in the list view's coordinates),
    /// or, from the keyboard, under the name of the row that has the focus.
    fn popup_context_menu(&self, at: Option<(f64, f64)>) {
        if self.selected_domains().is_empty() {
            return;
        }
        let imp = self.imp();
        let popover = imp
            .popover
            .borrow_mut()
            .get_or_insert_with(|| {
                let popover = gtk::PopoverMenu::from_model(Some(&domain_actions::menu_model()));
                popover.set_has_arrow(false);
                popover.set_halign(gtk::Align::Start);
                popover.set_parent(self);
                popover
            })
            .clone();
        let target = match at {
            Some((x, y)) => imp
                .list_view
                .translate_coordinates(self, x, y)
                .map(|(x, y)| gtk::gdk::Rectangle::new(x as i32, y as i32, 1, 1)),
            None => self.focused_row_area(),
        };
        popover.set_pointing_to(target.as_ref());
        popover.popup();
    }

    /// Where the keyboard's context menu points: the focused row (or else the first
    /// selected one on screen), so that the menu opens just under it; in this
    /// widget's coordinates.
    fn focused_row_area(&self) -> Option<gtk::gdk::Rectangle> {
        // The list view's children are its items' widgets, each holding a row.
        let mut rows = Vec::new();
        let mut item = self.imp().list_view.first_child();
        while let Some(widget) = item {
            if let Some(row) = widget.first_child().and_downcast::<DomainRow>() {
                rows.push(row);
            }
            item = widget.next_sibling();
        }
        let row = rows
            .iter()
            .find(|r| r.parent().is_some_and(|item| item.has_focus()))
            .or_else(|| {
                let selected = self.selected_domains();
                rows.iter()
                    .filter(|r| r.is_mapped())
                    .find(|r| r.domain().is_some_and(|d| selected.contains(&d)))
            })?;
        let bounds = row.compute_bounds(self)?;
        let inset = 12.0_f32.min(bounds.width());
        Some(gtk::gdk::Rectangle::new(
            (bounds.x() + inset) as i32,
            bounds.y() as i32,
            1,
            bounds.height() as i32,
        ))
    }

    /// The context menu, when it is open.
    pub fn context_menu(&self) -> Option<gtk::PopoverMenu> {
        self.imp()
            .popover
            .borrow()
            .clone()
            .filter(|p| p.is_visible())
    }
}
