//! A graph of a host's load over the last minutes (CPU or memory): a line with the
//! area under it filled, quarter lines behind, the newest value at the right edge. The
//! points are placed by the sparkline's own maths; this one is bigger and framed.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{glib, graphene};

use crate::model::host::LOAD_HISTORY;
use crate::ui::sparkline::line_points;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Debug, Default, glib::Properties)]
    #[properties(wrapper_type = super::LoadGraph)]
    pub struct LoadGraph {
        /// The value at the top of the graph (100 for percentages, total memory...).
        #[property(get, set = Self::set_maximum, minimum = 0.0)]
        pub maximum: Cell<f64>,
        pub values: RefCell<Vec<f64>>,
    }

    impl LoadGraph {
        fn set_maximum(&self, maximum: f64) {
            self.maximum.set(maximum);
            self.obj().queue_draw();
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for LoadGraph {
        const NAME: &'static str = "VireoLoadGraph";
        type Type = super::LoadGraph;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("loadgraph");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for LoadGraph {}

    impl WidgetImpl for LoadGraph {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match orientation {
                gtk::Orientation::Horizontal => (120, 360, -1, -1),
                _ => (80, 120, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let widget = self.obj();
            let (width, height) = (widget.width() as f64, widget.height() as f64);
            if width < 4.0 || height < 4.0 {
                return;
            }
            #[allow(deprecated)]
            let fg = widget.style_context().color();
            #[allow(deprecated)]
            let accent = widget
                .style_context()
                .lookup_color("accent_color")
                .unwrap_or_else(|| gtk::gdk::RGBA::new(0.21, 0.52, 0.89, 1.0));
            let bounds = graphene::Rect::new(0.0, 0.0, width as f32, height as f32);
            let cr = snapshot.append_cairo(&bounds);
            let (r, g, b) = (fg.red() as f64, fg.green() as f64, fg.blue() as f64);

            // Frame and quarter lines, faint, so that an idle host still shows a scale.
            cr.set_line_width(1.0);
            cr.set_source_rgba(r, g, b, 0.08);
            for q in 1..4 {
                let y = (height * q as f64 / 4.0).round() + 0.5;
                cr.move_to(0.0, y);
                cr.line_to(width, y);
            }
            let _ = cr.stroke();
            cr.set_source_rgba(r, g, b, 0.2);
            cr.rectangle(0.5, 0.5, width - 1.0, height - 1.0);
            let _ = cr.stroke();

            let values = self.values.borrow();
            let points = line_points(&values, LOAD_HISTORY, self.maximum.get(), width, height);
            let (Some(&(first_x, _)), Some(&(last_x, _))) = (points.first(), points.last()) else {
                return;
            };
            for &(x, y) in &points {
                cr.line_to(x, y);
            }
            let (ar, ag, ab) = (
                accent.red() as f64,
                accent.green() as f64,
                accent.blue() as f64,
            );
            cr.set_source_rgba(ar, ag, ab, 1.0);
            cr.set_line_width(2.0);
            cr.set_line_join(gtk::cairo::LineJoin::Round);
            let _ = cr.stroke_preserve();
            cr.line_to(last_x, height);
            cr.line_to(first_x, height);
            cr.close_path();
            cr.set_source_rgba(ar, ag, ab, 0.2);
            let _ = cr.fill();
        }
    }
}

glib::wrapper! {
    /// A host load graph.
    pub struct LoadGraph(ObjectSubclass<imp::LoadGraph>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for LoadGraph {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl LoadGraph {
    /// Replaces the values drawn (oldest first) and says what they show for screen
    /// readers.
    pub fn set_values(&self, values: Vec<f64>, description: &str) {
        self.imp().values.replace(values);
        self.update_property(&[gtk::accessible::Property::Label(description)]);
        self.queue_draw();
    }
}
