//! gvnc beyond its bindings: a framebuffer over memory we own (`BaseFramebuffer::new`
//! is not bound), and handing a socket descriptor to a connection.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use glib::translate::{from_glib_full, ToGlibPtr};
use gtk::prelude::*;
use gtk::{cairo, glib};

/// A gvnc framebuffer whose pixels are the data of a cairo image surface: gvnc decodes
/// straight into the surface, which cairo (or a texture copy) then shows.
pub struct ImageFramebuffer {
    fb: gvnc::BaseFramebuffer,
    surface: cairo::ImageSurface,
    pixels: *const u8,
    len: usize,
}

impl ImageFramebuffer {
    /// Registers `surface` (32 bits per pixel, in the `local` format) as the memory gvnc
    /// writes into, converting from the server's `remote` format.
    pub fn new(
        surface: cairo::ImageSurface,
        local: &gvnc::PixelFormat,
        remote: &gvnc::PixelFormat,
    ) -> Result<Self, cairo::Error> {
        surface.flush();
        let (width, height, stride) = (surface.width(), surface.height(), surface.stride());
        let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
            return Err(cairo::Error::InvalidSize);
        };
        // SAFETY: the surface is a live image surface; its data pointer stays valid and
        // in place for as long as the surface lives (we hold it, see below).
        let pixels = unsafe { cairo::ffi::cairo_image_surface_get_data(surface.to_raw_none()) };
        if pixels.is_null() {
            return Err(cairo::Error::NullPointer);
        }
        // SAFETY: `pixels` points to `stride * height` bytes that outlive the framebuffer
        // object (the surface is attached to it below, so even a connection that keeps
        // the framebuffer after we drop ours keeps the memory alive); both pixel formats
        // are valid boxed values that gvnc copies. The constructor returns a new reference.
        let fb: gvnc::BaseFramebuffer = unsafe {
            from_glib_full(gvnc::ffi::vnc_base_framebuffer_new(
                pixels,
                w,
                h,
                stride,
                local.to_glib_none().0,
                remote.to_glib_none().0,
            ))
        };
        // SAFETY: the key is ours alone and always holds a `cairo::ImageSurface`.
        unsafe { fb.set_data("vireo-pixels", surface.clone()) };
        Ok(Self {
            fb,
            surface,
            pixels,
            len: stride as usize * height as usize,
        })
    }

    /// The framebuffer to give the connection.
    pub fn gvnc(&self) -> &gvnc::BaseFramebuffer {
        &self.fb
    }

    /// The pixels as a cairo surface (they change under it as updates arrive).
    pub fn surface(&self) -> &cairo::ImageSurface {
        &self.surface
    }

    /// The pixels as they are now, rows `surface().stride()` bytes apart.
    pub fn pixels(&self) -> &[u8] {
        // SAFETY: the memory belongs to `self.surface`, alive as long as `self`; gvnc
        // writes it only from its coroutine on the main thread, which never runs while
        // this borrow (taken on the main thread) lasts.
        unsafe { std::slice::from_raw_parts(self.pixels, self.len) }
    }
}

/// Hands `fd` (a connected socket) to `connection`, which closes it with the
/// connection; closed here when the connection refuses it.
pub fn open_fd(connection: &gvnc::Connection, fd: OwnedFd) -> Result<(), glib::BoolError> {
    let raw = fd.into_raw_fd();
    connection.open_fd(raw).inspect_err(|_| {
        // SAFETY: the connection did not take `raw` over, so it is still ours alone.
        drop(unsafe { OwnedFd::from_raw_fd(raw) });
    })
}
