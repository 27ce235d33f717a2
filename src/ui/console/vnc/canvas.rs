//! The widget that draws the remote screen texture, scaled to fit or 1:1 in device
//! pixels, centred, with its aspect ratio kept; it also maps widget coordinates back to
//! framebuffer pixels for the pointer.

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib, graphene};

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
    pub struct VncCanvas {
        pub texture: RefCell<Option<gdk::Texture>>,
        pub scale_mode: Cell<ScaleMode>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VncCanvas {
        const NAME: &'static str = "VireoVncCanvas";
        type Type = super::VncCanvas;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("vnc-canvas");
        }
    }

    impl ObjectImpl for VncCanvas {
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

    impl WidgetImpl for VncCanvas {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            let obj = self.obj();
            let Some(texture) = self.texture.borrow().clone() else {
                return (0, 0, -1, -1);
            };
            let pixels = match orientation {
                gtk::Orientation::Horizontal => texture.width(),
                _ => texture.height(),
            };
            let logical = (pixels as f64 / obj.scale_factor().max(1) as f64).ceil() as i32;
            match self.scale_mode.get() {
                ScaleMode::Fit => (0, logical, -1, -1),
                ScaleMode::OneToOne => (logical, logical, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let texture = self.texture.borrow();
            if let (Some(texture), Some(rect)) = (texture.as_ref(), self.obj().frame_rect()) {
                snapshot.append_texture(texture, &rect);
            }
        }
    }
}

glib::wrapper! {
    pub struct VncCanvas(ObjectSubclass<imp::VncCanvas>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for VncCanvas {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl VncCanvas {
    /// Shows a new frame; resizes only when the frame size changed.
    pub fn set_texture(&self, texture: Option<gdk::Texture>) {
        let old = self.imp().texture.replace(texture.clone());
        let size = |t: &Option<gdk::Texture>| t.as_ref().map(|t| (t.width(), t.height()));
        if size(&old) != size(&texture) {
            self.queue_resize();
        }
        self.queue_draw();
    }

    pub fn texture(&self) -> Option<gdk::Texture> {
        self.imp().texture.borrow().clone()
    }

    pub fn set_scale_mode(&self, mode: ScaleMode) {
        if self.imp().scale_mode.replace(mode) != mode {
            self.queue_resize();
        }
    }

    /// Where the frame is drawn, in widget coordinates, snapped to device pixels so
    /// 1:1 is exact.
    pub fn frame_rect(&self) -> Option<graphene::Rect> {
        let texture = self.imp().texture.borrow().clone()?;
        let (tw, th) = (texture.width() as f64, texture.height() as f64);
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
        let texture = self.texture()?;
        let (tw, th) = (texture.width() as f64, texture.height() as f64);
        let fx = (x - rect.x() as f64) * tw / rect.width() as f64;
        let fy = (y - rect.y() as f64) * th / rect.height() as f64;
        let clamp = |v: f64, max: f64| v.floor().clamp(0.0, (max - 1.0).max(0.0)) as u16;
        Some((clamp(fx, tw), clamp(fy, th)))
    }
}
