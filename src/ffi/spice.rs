//! The unsafe edges of spice-client-glib: handing sockets over to a session or a
//! channel, and reading the pixels of the display channel's primary surface.
//!
//! Everything here runs on the thread that owns the GLib main context the SPICE
//! session lives on: spice-gtk runs its channels as coroutines of that context, so no
//! other thread writes the surface, and nothing changes while we hold a borrow unless
//! the main loop is iterated.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use spice_client_glib as spice;
use spice_client_glib::prelude::*;

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
    if data.is_null() || stride < width * 4 {
        return None;
    }
    // SAFETY: spice_display_channel_get_primary just returned the channel's current
    // primary surface: `data` is its canvas memory of `stride * height` bytes, owned by
    // the channel and freed only when the surface is destroyed, which happens while the
    // main loop handles a message. `f` runs synchronously on this (the main) thread and
    // the slice cannot escape it, so the memory stays valid and unwritten meanwhile.
    let pixels = unsafe { std::slice::from_raw_parts(data, stride * height) };
    Some(f(PrimaryPixels {
        width,
        height,
        stride,
        format,
        pixels,
    }))
}
