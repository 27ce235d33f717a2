//! The unsafe edges of spice-client-glib: handing sockets over to a session or a
//! channel, and reading the pixels of the display channel's primary surface (borrowed
//! for a moment, or as a cairo image over that memory for the cairo renderer).
//!
//! Everything here runs on the thread that owns the GLib main context the SPICE
//! session lives on: spice-gtk runs its channels as coroutines of that context, so no
//! other thread writes the surface, and nothing changes while we hold a borrow unless
//! the main loop is iterated.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use gtk::{cairo, glib};
use spice_client_glib as spice;
use spice_client_glib::prelude::*;

/// SPICE's `SPICE_SURFACE_FMT_32_xRGB`: B, G, R, x bytes in little-endian memory,
/// which is cairo's `RGB24`.
const FORMAT_XRGB32: i32 = 32;

/// Hands `fd` to `session` as the socket of its main channel. spice-gtk owns the
/// descriptor once this returns true; on false it is closed here.
pub fn give_session_socket(session: &spice::Session, fd: OwnedFd) -> bool {
    let raw = fd.into_raw_fd();
    let taken = session.open_fd(raw);
    if !taken {
        // SAFETY: spice-gtk refused the descriptor before starting a connection with
        // it (a precondition failed), so it is still ours and nothing else closes it.
        drop(unsafe { OwnedFd::from_raw_fd(raw) });
    }
    taken
}

/// Hands `fd` to `channel`, which asked for one with its "open-fd" signal. Ownership
/// as in [`give_session_socket`].
pub fn give_channel_socket(channel: &spice::Channel, fd: OwnedFd) -> bool {
    let raw = fd.into_raw_fd();
    let taken = channel.open_fd(raw);
    if !taken {
        // SAFETY: as in give_session_socket: refused, so still ours.
        drop(unsafe { OwnedFd::from_raw_fd(raw) });
    }
    taken
}

/// A borrowed view of the primary surface: 32-bit pixels, rows `stride` bytes apart.
#[derive(Debug, Clone, Copy)]
pub struct PrimaryPixels<'a> {
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    /// SPICE's surface format (`spice::SurfaceFormat` as a number); 32 is xRGB, which
    /// in little-endian memory is B, G, R, x bytes.
    pub format: i32,
    pub pixels: &'a [u8],
}

/// Runs `f` on the pixels of `display`'s primary surface as they are now; None when
/// the channel has no primary surface.
///
/// The view cannot outlive `f`, and `f` must not iterate the main loop: a surface may
/// be destroyed (and its memory freed) by the next message the channel handles.
pub fn with_primary<R>(
    display: &spice::DisplayChannel,
    f: impl FnOnce(PrimaryPixels<'_>) -> R,
) -> Option<R> {
    let raw = RawPrimary::of(display)?;
    // SAFETY: spice_display_channel_get_primary just returned the channel's current
    // primary surface: `data` is its canvas memory of `stride * height` bytes (checked
    // by `RawPrimary::of`), owned by the channel and freed only when the surface is
    // destroyed, which happens while the main loop handles a message. `f` runs
    // synchronously on this (the main) thread and the slice cannot escape it, so the
    // memory stays valid and unwritten meanwhile.
    let pixels = unsafe { std::slice::from_raw_parts(raw.data, raw.stride * raw.height) };
    Some(f(PrimaryPixels {
        width: raw.width,
        height: raw.height,
        stride: raw.stride,
        format: raw.format,
        pixels,
    }))
}

/// The primary surface as spice-gtk describes it, sizes checked.
struct RawPrimary {
    data: *mut u8,
    width: usize,
    height: usize,
    stride: usize,
    format: i32,
}

impl RawPrimary {
    /// `display`'s primary surface now; None when there is none, or its memory is
    /// missing or too short for its size.
    fn of(display: &spice::DisplayChannel) -> Option<Self> {
        let mut primary = spice::DisplayPrimary::new();
        display.get_primary(0, &mut primary).ok()?;
        let raw = primary.as_ptr();
        // SAFETY: `raw` points into `primary`, a plain struct filled just above.
        let (data, width, height, stride, format) = unsafe {
            (
                (*raw).data,
                (*raw).width,
                (*raw).height,
                (*raw).stride,
                (*raw).format,
            )
        };
        let (Ok(width), Ok(height), Ok(stride)) = (
            usize::try_from(width),
            usize::try_from(height),
            usize::try_from(stride),
        ) else {
            return None;
        };
        (!data.is_null() && width > 0 && height > 0 && stride >= width * 4).then_some(Self {
            data,
            width,
            height,
            stride,
            format,
        })
    }
}

/// A cairo `RGB24` image whose pixels ARE the display channel's primary surface: SPICE
/// decodes into it and cairo draws straight from it, with no copy (what gvnc's
/// framebuffer is for VNC, see `ffi::gvnc`).
///
/// spice-gtk frees that memory only after emitting "display-primary-destroy" (a new
/// size, the guest's surface destroyed, the channel cleared) or when the channel is
/// finalized. The image holds the channel, so it is not finalized meanwhile, and
/// finishes the cairo surface in that signal's handler, before the memory goes:
/// from then on cairo neither reads nor hands out the pixels (drawing from a finished
/// surface fails, cairo-rs's `data()` refuses it), and snapshots cairo took of it (a
/// render node still holding the last frame) are copied out first. Dropping the image
/// finishes the surface too, so clones of it outliving this object are inert.
pub struct PrimaryImage {
    surface: cairo::ImageSurface,
    display: spice::DisplayChannel,
    destroy_handler: Option<glib::SignalHandlerId>,
}

impl PrimaryImage {
    /// The current primary surface of `display` as a cairo image; None when there is
    /// none or it is not 32-bit xRGB.
    pub fn new(display: &spice::DisplayChannel) -> Option<Self> {
        let raw = RawPrimary::of(display).filter(|p| p.format == FORMAT_XRGB32)?;
        let (Ok(width), Ok(height), Ok(stride)) = (
            i32::try_from(raw.width),
            i32::try_from(raw.height),
            i32::try_from(raw.stride),
        ) else {
            return None;
        };
        // SAFETY: `raw.data` is the primary surface's canvas memory, `stride * height`
        // bytes of 32-bit pixels owned by the channel (checked above: 32-bit xRGB, rows
        // long enough), and cairo touches no byte outside it. The memory outlives the surface's use: see the type's docs (channel held, surface
        // finished on "display-primary-destroy", before spice-gtk frees it). The call
        // returns a new reference (or an error surface), which `from_raw_full` takes.
        let surface = unsafe {
            cairo::ImageSurface::from_raw_full(cairo::ffi::cairo_image_surface_create_for_data(
                raw.data,
                cairo::ffi::FORMAT_RGB24,
                width,
                height,
                stride,
            ))
        }
        .ok()?;
        let doomed = surface.clone();
        // spice-gtk emits it (in the main context) before it frees the memory.
        let destroy_handler = display.connect_display_primary_destroy(move |_| doomed.finish());
        Some(Self {
            surface,
            display: display.clone(),
            destroy_handler: Some(destroy_handler),
        })
    }

    /// The image; it changes under cairo as the channel decodes (never drawn into).
    /// Finished (inert) once the primary surface is destroyed.
    pub fn surface(&self) -> &cairo::ImageSurface {
        &self.surface
    }
}

impl Drop for PrimaryImage {
    fn drop(&mut self) {
        if let Some(id) = self.destroy_handler.take() {
            glib::prelude::ObjectExt::disconnect(&self.display, id);
        }
        self.surface.finish();
    }
}
