//! A small line graph of recent values (CPU %, rates), drawn with cairo.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{glib, graphene};

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Debug, Default, glib::Properties)]
    #[properties(wrapper_type = super::Sparkline)]
    pub struct Sparkline {
        /// The value drawn at the top; 0 scales to the largest value shown.
        #[property(get, set = Self::set_maximum, minimum = 0.0)]
        pub maximum: Cell<f64>,
        /// How many samples fit across the widget.
        #[property(get, set, minimum = 2, default = 40)]
        pub capacity: Cell<u32>,
        pub values: RefCell<Vec<f64>>,
        /// The accessible label last set.
        pub description: RefCell<String>,
    }

    impl Sparkline {
        fn set_maximum(&self, maximum: f64) {
            self.maximum.set(maximum);
            self.obj().queue_draw();
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Sparkline {
        const NAME: &'static str = "VireoSparkline";
        type Type = super::Sparkline;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("sparkline");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for Sparkline {
        fn constructed(&self) {
            self.parent_constructed();
            self.capacity.set(40);
        }
    }

    impl WidgetImpl for Sparkline {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match orientation {
                gtk::Orientation::Horizontal => (40, 64, -1, -1),
                _ => (16, 24, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let widget = self.obj();
            let (width, height) = (widget.width() as f64, widget.height() as f64);
            let values = self.values.borrow();
            // A stopped machine has no graph at all rather than a flat line.
            if width < 2.0 || height < 2.0 || values.is_empty() {
                return;
            }
            let color = widget.style_context().color();
            let bounds = graphene::Rect::new(0.0, 0.0, width as f32, height as f32);
            let cr = snapshot.append_cairo(&bounds);

            // A faint base line so that an idle or stopped machine still shows a graph.
            cr.set_source_rgba(
                color.red() as f64,
                color.green() as f64,
                color.blue() as f64,
                0.15,
            );
            cr.set_line_width(1.0);
            cr.move_to(0.0, height - 0.5);
            cr.line_to(width, height - 0.5);
            let _ = cr.stroke();

            let points = line_points(
                &values,
                self.capacity.get() as usize,
                self.maximum.get(),
                width,
                height,
            );
            let Some(&(first_x, _)) = points.first() else {
                return;
            };
            for &(x, y) in &points {
                cr.line_to(x, y);
            }
            let accent = accent_color(&widget);
            cr.set_source_rgba(accent.0, accent.1, accent.2, 1.0);
            cr.set_line_width(1.5);
            cr.set_line_join(gtk::cairo::LineJoin::Round);
            let _ = cr.stroke_preserve();
            // Fill under the line.
            let last_x = points.last().map_or(first_x, |p| p.0);
            cr.line_to(last_x, height);
            cr.line_to(first_x, height);
            cr.close_path();
            cr.set_source_rgba(accent.0, accent.1, accent.2, 0.25);
            let _ = cr.fill();
        }
    }
}

glib::wrapper! {
    pub struct Sparkline(ObjectSubclass<imp::Sparkline>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for Sparkline {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl Sparkline {
    /// Replaces the values drawn (oldest first) and describes them for screen readers.
    ///
    /// Only what changed is passed on: a list binds hundreds of rows at a search, and
    /// each accessible property set is a message to screen readers.
    pub fn set_values(&self, values: Vec<f64>, description: &str) {
        let imp = self.imp();
        if *imp.values.borrow() != values {
            imp.values.replace(values);
            self.queue_draw();
        }
        if *imp.description.borrow() != description {
            imp.description.replace(description.to_owned());
            self.update_property(&[gtk::accessible::Property::Label(description)]);
        }
    }
}

/// The theme's accent colour, read from the named colour libadwaita defines.
fn accent_color(widget: &Sparkline) -> (f64, f64, f64) {
    #[allow(deprecated)]
    let context = widget.style_context();
    #[allow(deprecated)]
    let color = context
        .lookup_color("accent_color")
        .unwrap_or_else(|| gtk::gdk::RGBA::new(0.21, 0.52, 0.89, 1.0));
    (
        color.red() as f64,
        color.green() as f64,
        color.blue() as f64,
    )
}

/// Where each of the newest `capacity` values goes, right-aligned, scaled so that
/// `maximum` (or the largest value when it is 0) touches the top.
pub fn line_points(
    values: &[f64],
    capacity: usize,
    maximum: f64,
    width: f64,
    height: f64,
) -> Vec<(f64, f64)> {
    let shown = &values[values.len().saturating_sub(capacity)..];
    if shown.is_empty() || capacity < 2 {
        return Vec::new();
    }
    let top = if maximum > 0.0 {
        maximum
    } else {
        shown
            .iter()
            .copied()
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE)
    };
    let step = width / (capacity - 1) as f64;
    let start = width - step * (shown.len() - 1) as f64;
    // Keep the 1.5 px line inside the widget.
    let usable = height - 2.0;
    shown
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let ratio = (v / top).clamp(0.0, 1.0);
            (start + step * i as f64, 1.0 + usable * (1.0 - ratio))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::line_points;

    #[test]
    fn newest_value_sits_at_the_right_edge() {
        let points = line_points(&[0.0, 50.0, 100.0], 3, 100.0, 20.0, 12.0);
        assert_eq!(points, vec![(0.0, 11.0), (10.0, 6.0), (20.0, 1.0)]);
    }

    #[test]
    fn only_the_newest_values_that_fit_are_drawn() {
        let points = line_points(&[1.0, 2.0, 3.0, 4.0], 2, 4.0, 10.0, 10.0);
        assert_eq!(points.len(), 2);
        assert_eq!(points[1].0, 10.0);
    }

    #[test]
    fn zero_maximum_scales_to_the_largest_value() {
        let points = line_points(&[5.0, 10.0], 2, 0.0, 10.0, 10.0);
        assert_eq!(points[1].1, 1.0);
    }

    #[test]
    fn nothing_to_draw_without_values() {
        assert!(line_points(&[], 40, 100.0, 64.0, 24.0).is_empty());
    }
}
