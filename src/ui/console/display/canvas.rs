//! The widget that draws the remote screen, scaled to fit or 1:1 in device pixels,
//! centred, with its aspect ratio kept; it also maps widget coordinates back to
//! framebuffer pixels for the pointer.
//!
//! It draws either a texture (GL renderer) or, under the cairo renderer, the
//! framebuffer's own cairo surface: no copy at all per frame, and only the tiles the
//! remote screen's damage touched (`tiles.rs`).

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{cairo, gdk, glib, graphene};

use super::tiles::Tiles;

/// What the canvas shows.
#[derive(Clone)]
pub enum Frame {
    Texture(gdk::Texture),
    /// Drawn straight from memory that changes under it.
    Surface(cairo::ImageSurface),
}

impl Frame {
    pub fn size(&self) -> (i32, i32) {
        match self {
            Frame::Texture(t) => (t.width(), t.height()),
            Frame::Surface(s) => (s.width(), s.height()),
        }
    }
}

/// How the remote screen is sized in the widget.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoVncScaleMode")]
pub enum ScaleMode {
    /// Scaled (up or down) to fit the widget, aspect ratio kept.
    #[default]
    Fit,
    /// One framebuffer pixel per device pixel, scrolled when larger than the widget.
    OneToOne,
}

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default)]
    pub struct DisplayCanvas {
        pub frame: RefCell<Option<Frame>>,
        pub scale_mode: Cell<ScaleMode>,
        /// The render nodes of an image frame, kept while their pixels do not change.
        pub tiles: RefCell<Tiles>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DisplayCanvas {
        const NAME: &'static str = "VireoDisplayCanvas";
        type Type = super::DisplayCanvas;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("vnc-canvas");
        }
    }

    impl ObjectImpl for DisplayCanvas {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_hexpand(true);
            obj.set_vexpand(true);
            obj.set_overflow(gtk::Overflow::Hidden);
            // A new scale factor changes what 1:1 means in logical pixels.
            obj.connect_scale_factor_notify(|c| c.queue_resize());
        }
    }

    impl WidgetImpl for DisplayCanvas {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            let obj = self.obj();
            let Some((width, height)) = self.frame.borrow().as_ref().map(Frame::size) else {
                return (0, 0, -1, -1);
            };
            let pixels = match orientation {
                gtk::Orientation::Horizontal => width,
                _ => height,
            };
            let logical = (pixels as f64 / obj.scale_factor().max(1) as f64).ceil() as i32;
            match self.scale_mode.get() {
                ScaleMode::Fit => (0, logical, -1, -1),
                ScaleMode::OneToOne => (logical, logical, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let frame = self.frame.borrow();
            let (Some(frame), Some(rect)) = (frame.as_ref(), self.obj().frame_rect()) else {
                return;
            };
            match frame {
                Frame::Texture(texture) => snapshot.append_texture(texture, &rect),
                Frame::Surface(image) => {
                    let scale_factor = self.obj().scale_factor();
                    self.tiles
                        .borrow_mut()
                        .snapshot(snapshot, image, &rect, scale_factor);
                }
            }
        }
    }
}

glib::wrapper! {
    pub struct DisplayCanvas(ObjectSubclass<imp::DisplayCanvas>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for DisplayCanvas {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl DisplayCanvas {
    /// Shows a new frame; resizes only when the frame size changed.
    pub fn set_frame(&self, frame: Option<Frame>) {
        let size = frame.as_ref().map(Frame::size);
        if !matches!(frame, Some(Frame::Surface(_))) {
            self.imp().tiles.borrow_mut().invalidate_all();
        }
        let old = self.imp().frame.replace(frame);
        if old.as_ref().map(Frame::size) != size {
            self.queue_resize();
        }
        self.queue_draw();
    }

    /// Makes the frame shown independent of the memory it is drawn from (that memory
    /// is about to go): an image over someone else's pixels becomes a private copy.
    pub fn keep_own_copy(&self) {
        let imp = self.imp();
        let Some(Frame::Surface(image)) = imp.frame.borrow().clone() else {
            return;
        };
        let copy = cairo::ImageSurface::create(image.format(), image.width(), image.height())
            .and_then(|copy| {
                let cr = cairo::Context::new(&copy)?;
                cr.set_source_surface(&image, 0.0, 0.0)?;
                cr.set_operator(cairo::Operator::Source);
                cr.paint()?;
                drop(cr);
                Ok(copy)
            });
        // Without a copy (no memory) the finished image draws nothing until the next
        // frame.
        if let Ok(copy) = copy {
            imp.frame.replace(Some(Frame::Surface(copy)));
        }
    }

    /// These pixels of the frame changed (an image frame shows them at the next
    /// draw; a texture frame is new each time anyway).
    pub fn damage(&self, x: i32, y: i32, width: i32, height: i32) {
        self.imp().tiles.borrow_mut().damage(x, y, width, height);
    }

    /// Any pixel of the frame may have changed.
    pub fn damage_all(&self) {
        self.imp().tiles.borrow_mut().invalidate_all();
    }

    pub fn frame(&self) -> Option<Frame> {
        self.imp().frame.borrow().clone()
    }

    /// True when the window draws with cairo, so frames can be drawn from memory.
    pub fn renders_with_cairo(&self) -> bool {
        self.native()
            .and_then(|n| n.renderer())
            .is_some_and(|r| r.type_().name() == "GskCairoRenderer")
    }

    /// An image in shared memory of this canvas's X display, to hold the framebuffer
    /// (see `crate::ffi::x11_shm`; only under the cairo renderer, the GL renderer takes textures).
    pub fn shared_image(&self, width: i32, height: i32) -> Option<cairo::ImageSurface> {
        if !self.renders_with_cairo() {
            return None;
        }
        // Checks for X11 itself.
        crate::ffi::x11_shm::shared_image(&self.native()?, width, height)
    }

    /// True when `shared_image` can give an image now (realized, cairo, X11).
    pub fn can_share_memory(&self) -> bool {
        self.renders_with_cairo()
            && self
                .native()
                .is_some_and(|n| crate::ffi::x11_shm::on_x11(&n))
    }

    pub fn set_scale_mode(&self, mode: ScaleMode) {
        if self.imp().scale_mode.replace(mode) != mode {
            self.queue_resize();
        }
    }

    /// Where the frame is drawn, in widget coordinates, snapped to device pixels so
    /// 1:1 is exact.
    pub fn frame_rect(&self) -> Option<graphene::Rect> {
        let (tw, th) = self.imp().frame.borrow().as_ref().map(Frame::size)?;
        let (tw, th) = (tw as f64, th as f64);
        let (ww, wh) = (self.width() as f64, self.height() as f64);
        if tw <= 0.0 || th <= 0.0 || ww <= 0.0 || wh <= 0.0 {
            return None;
        }
        let sf = self.scale_factor().max(1) as f64;
        let scale = match self.imp().scale_mode.get() {
            ScaleMode::Fit => (ww / tw).min(wh / th),
            ScaleMode::OneToOne => 1.0 / sf,
        };
        let (dw, dh) = (tw * scale, th * scale);
        let snap = |v: f64| (v * sf).round() / sf;
        let x = snap(((ww - dw) / 2.0).max(0.0));
        let y = snap(((wh - dh) / 2.0).max(0.0));
        Some(graphene::Rect::new(
            x as f32, y as f32, dw as f32, dh as f32,
        ))
    }

    /// Widget coordinates to framebuffer pixels, clamped to the framebuffer.
    pub fn to_framebuffer(&self, x: f64, y: f64) -> Option<(u16, u16)> {
        let rect = self.frame_rect()?;
        let (tw, th) = self.imp().frame.borrow().as_ref().map(Frame::size)?;
        let (tw, th) = (tw as f64, th as f64);
        let fx = (x - rect.x() as f64) * tw / rect.width() as f64;
        let fy = (y - rect.y() as f64) * th / rect.height() as f64;
        let clamp = |v: f64, max: f64| v.floor().clamp(0.0, (max - 1.0).max(0.0)) as u16;
        Some((clamp(fx, tw), clamp(fy, th)))
    }
}
