//! How a VM's row lays out its parts: a line of columns (state icon, name and
//! subtitle, figures), like a horizontal box, but measured once for all rows.
//!
//! GTK 4.8's list view keeps ~200 rows around what shows and, at each change of the
//! list (a search, a sort), binds new VMs to them and measures every one of them
//! again. A box measures its labels for that, which shapes each name and subtitle
//! with Pango two or three times per row: most of the time a search took. Rows of
//! plain text all have the same height, and the list gives each the whole width, so
//! this layout measures one row for the rest and lets the name take whatever width
//! the fixed columns leave.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

/// Space between the columns, in pixels.
const SPACING: i32 = 12;

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct RowLayout;

    #[glib::object_subclass]
    impl ObjectSubclass for RowLayout {
        const NAME: &'static str = "VireoRowLayout";
        type Type = super::RowLayout;
        type ParentType = gtk::LayoutManager;
    }

    impl ObjectImpl for RowLayout {}

    impl LayoutManagerImpl for RowLayout {
        fn request_mode(&self, _widget: &gtk::Widget) -> gtk::SizeRequestMode {
            gtk::SizeRequestMode::ConstantSize
        }

        fn measure(
            &self,
            widget: &gtk::Widget,
            orientation: gtk::Orientation,
            _for_size: i32,
        ) -> (i32, i32, i32, i32) {
            let key = size_key(widget, orientation);
            if let Some(size) = key.and_then(cached) {
                return size;
            }
            let size = measure_columns(widget, orientation);
            if let Some(key) = key {
                remember(key, size);
            }
            size
        }

        fn allocate(&self, widget: &gtk::Widget, width: i32, height: i32, _baseline: i32) {
            allocate_columns(widget, width, height);
        }
    }
}

glib::wrapper! {
    /// The layout of `DomainRow`: columns in a line, the expanding one (name and
    /// subtitle) taking the width the others leave.
    pub struct RowLayout(ObjectSubclass<imp::RowLayout>)
        @extends gtk::LayoutManager;
}

/// The shown children, in order.
fn columns(widget: &gtk::Widget) -> Vec<gtk::Widget> {
    let mut children = Vec::new();
    let mut child = widget.first_child();
    while let Some(c) = child {
        child = c.next_sibling();
        if c.should_layout() {
            children.push(c);
        }
    }
    children
}

/// What a horizontal box would ask for: the columns side by side, as tall as the
/// tallest.
fn measure_columns(widget: &gtk::Widget, orientation: gtk::Orientation) -> (i32, i32, i32, i32) {
    let children = columns(widget);
    let (mut minimum, mut natural) = (0, 0);
    for child in &children {
        let (min, nat, _, _) = child.measure(orientation, -1);
        if orientation == gtk::Orientation::Horizontal {
            minimum += min;
            natural += nat;
        } else {
            minimum = minimum.max(min);
            natural = natural.max(nat);
        }
    }
    if orientation == gtk::Orientation::Horizontal {
        let gaps = SPACING * (children.len() as i32 - 1).max(0);
        minimum += gaps;
        natural += gaps;
    }
    (minimum, natural, -1, -1)
}

/// Gives each fixed column its natural width and the expanding one the rest, in
/// reading order (right to left for a right-to-left language).
fn allocate_columns(widget: &gtk::Widget, width: i32, height: i32) {
    let children = columns(widget);
    let widths: Vec<Option<i32>> = children
        .iter()
        .map(|child| {
            (!child.compute_expand(gtk::Orientation::Horizontal))
                .then(|| child.measure(gtk::Orientation::Horizontal, height).1)
        })
        .collect();
    let fixed: i32 = widths.iter().flatten().sum();
    let gaps = SPACING * (children.len() as i32 - 1).max(0);
    let flexible = widths.iter().filter(|w| w.is_none()).count().max(1) as i32;
    let rest = ((width - fixed - gaps) / flexible).max(0);
    let rtl = widget.direction() == gtk::TextDirection::Rtl;
    let mut x = 0;
    for (child, w) in children.iter().zip(widths) {
        let w = w.unwrap_or(rest);
        let left = if rtl { width - x - w } else { x };
        child.size_allocate(&gtk::Allocation::new(left, 0, w, height), -1);
        x += w + SPACING;
    }
}

/// What a row's size depends on when the texts are plain: which columns show, the
/// display's scale. `None` for rows whose names or titles are not plain ASCII:
/// another script or an emoji may need a taller line, so they are measured.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SizeKey {
    vertical: bool,
    shown: u32,
    scale: i32,
}

fn size_key(widget: &gtk::Widget, orientation: gtk::Orientation) -> Option<SizeKey> {
    let row = widget.downcast_ref::<super::DomainRow>()?;
    if !row.has_plain_text() {
        return None;
    }
    let mut shown = 0u32;
    let mut child = widget.first_child();
    let mut bit = 1u32;
    while let Some(c) = child {
        if c.should_layout() {
            shown |= bit;
        }
        bit <<= 1;
        child = c.next_sibling();
    }
    if row.operation_shown() {
        shown |= 1 << 31;
    }
    Some(SizeKey {
        vertical: orientation == gtk::Orientation::Vertical,
        shown,
        scale: widget.scale_factor(),
    })
}

type Size = (i32, i32, i32, i32);

thread_local! {
    static SIZES: RefCell<HashMap<SizeKey, Size>> = RefCell::new(HashMap::new());
    static FOLLOWING_STYLE: Cell<bool> = const { Cell::new(false) };
}

fn cached(key: SizeKey) -> Option<Size> {
    SIZES.with(|sizes| sizes.borrow().get(&key).copied())
}

fn remember(key: SizeKey, size: Size) {
    if !FOLLOWING_STYLE.replace(true) {
        forget_on_style_changes();
    }
    SIZES.with(|sizes| sizes.borrow_mut().insert(key, size));
}

/// A new font, text scaling or theme changes every row's size: measure again.
fn forget_on_style_changes() {
    let forget = || SIZES.with(|sizes| sizes.borrow_mut().clear());
    if let Some(settings) = gtk::Settings::default() {
        for property in [
            "gtk-font-name",
            "gtk-xft-dpi",
            "gtk-theme-name",
            "gtk-xft-hinting",
            "gtk-xft-hintstyle",
        ] {
            settings.connect_notify_local(Some(property), move |_, _| forget());
        }
    }
    adw::StyleManager::default().connect_high_contrast_notify(move |_| forget());
}
