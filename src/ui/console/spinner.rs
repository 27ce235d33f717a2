//! `PatientSpinner`: a spinner that never keeps the main loop from going idle.
//!
//! GTK's own spinner asks for a new frame on every frame-clock tick. Where drawing a
//! frame takes longer than the refresh interval (software GL, a loaded machine), the
//! frame clock is then always due, and GLib never reaches sources of a lower priority
//! than redrawing. gvnc runs its whole protocol from such sources: it starts its
//! connection and emits every signal from `g_idle_add` callbacks (priority
//! `DEFAULT_IDLE`, below GTK's redraw). A stock spinner shown while the VNC handshake
//! runs therefore stopped the very handshake it was waiting for (the console stayed on
//! "Connecting to the display…" for good on a real daemon under Xvfb).
//!
//! This one turns from a `LOW` priority timer instead: it asks for a frame only when
//! nothing else, idle callbacks included, is waiting, so it slows down rather than
//! starving anything. The angle follows the clock, so it turns at the same speed
//! however often it is drawn.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{glib, graphene};

/// One turn per second, like GTK's spinner.
const TURN: Duration = Duration::from_secs(1);
/// How often it asks to be drawn again (when the loop is free).
const STEP: Duration = Duration::from_millis(33);
const SIZE: i32 = 32;

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct PatientSpinner {
        pub image: RefCell<Option<gtk::Image>>,
        pub timer: RefCell<Option<glib::SourceId>>,
        pub started: Cell<Option<Instant>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PatientSpinner {
        const NAME: &'static str = "VireoPatientSpinner";
        type Type = super::PatientSpinner;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            // Not "spinner": Adwaita hides an unchecked spinner (opacity 0).
            klass.set_css_name("patient-spinner");
            klass.set_accessible_role(gtk::AccessibleRole::ProgressBar);
        }
    }

    impl ObjectImpl for PatientSpinner {
        fn constructed(&self) {
            self.parent_constructed();
            let image = gtk::Image::from_icon_name("process-working-symbolic");
            image.set_pixel_size(SIZE);
            image.set_parent(&*self.obj());
            self.image.replace(Some(image));
        }

        fn dispose(&self) {
            self.stop();
            if let Some(image) = self.image.take() {
                image.unparent();
            }
        }
    }

    impl WidgetImpl for PatientSpinner {
        fn measure(&self, orientation: gtk::Orientation, for_size: i32) -> (i32, i32, i32, i32) {
            self.image
                .borrow()
                .as_ref()
                .map_or((SIZE, SIZE, -1, -1), |i| i.measure(orientation, for_size))
        }

        fn size_allocate(&self, width: i32, height: i32, baseline: i32) {
            if let Some(image) = self.image.borrow().as_ref() {
                image.allocate(width, height, baseline, None);
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let obj = self.obj();
            let Some(image) = self.image.borrow().clone() else {
                return;
            };
            let turned = self.started.get().map_or(0.0, |t| {
                (t.elapsed().as_secs_f32() / TURN.as_secs_f32()).fract() * 360.0
            });
            let (cx, cy) = (obj.width() as f32 / 2.0, obj.height() as f32 / 2.0);
            snapshot.save();
            snapshot.translate(&graphene::Point::new(cx, cy));
            snapshot.rotate(turned);
            snapshot.translate(&graphene::Point::new(-cx, -cy));
            obj.snapshot_child(&image, snapshot);
            snapshot.restore();
        }

        fn map(&self) {
            self.parent_map();
            self.start();
        }

        fn unmap(&self) {
            self.stop();
            self.parent_unmap();
        }
    }

    impl PatientSpinner {
        fn start(&self) {
            if self.timer.borrow().is_some() {
                return;
            }
            self.started.set(Some(Instant::now()));
            let this = self.obj().downgrade();
            let id = glib::timeout_add_local_full(STEP, glib::Priority::LOW, move || {
                match this.upgrade() {
                    Some(spinner) => {
                        spinner.queue_draw();
                        glib::ControlFlow::Continue
                    }
                    None => glib::ControlFlow::Break,
                }
            });
            self.timer.replace(Some(id));
        }

        pub(super) fn stop(&self) {
            if let Some(id) = self.timer.take() {
                id.remove();
            }
        }
    }
}

glib::wrapper! {
    /// A busy indicator that turns only while the main loop has nothing else to do.
    pub struct PatientSpinner(ObjectSubclass<imp::PatientSpinner>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for PatientSpinner {
    fn default() -> Self {
        glib::Object::new()
    }
}
