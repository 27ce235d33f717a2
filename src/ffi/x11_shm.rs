//! Framebuffer memory in X11 shared memory (MIT-SHM), for windows GTK draws with cairo
//! on X11.
//!
//! Under GTK's cairo renderer on X11 every frame ends with cairo sending the window's
//! new pixels to the X server through shared memory. cairo takes that memory from pools
//! it frees as soon as they are idle, so a full-screen update every frame mapped a fresh
//! segment and faulted in every page of it: a third of the viewer's CPU in profiles at
//! 1280x800. A framebuffer that is itself one of cairo's shared images keeps a pool
//! alive, and the uploads reuse its pages (viewer CPU 21 % -> 14 % in
//! `tools/bench-vnc.sh`). gtk-vnc's GTK 3 widget keeps its framebuffer in such memory
//! too.
//!
//! The X11 entry points are looked up at run time, so Vireo neither links libX11 nor
//! needs GTK's X11 backend: on Wayland, or where anything is missing, there is simply no
//! shared image and the framebuffer lives in ordinary memory. Used by the VNC console's
//! canvas (`ui::console::display::canvas`).

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};

use glib::translate::ToGlibPtr;
use gtk::prelude::*;
use gtk::{cairo, gdk, glib};

type GetXDisplay = unsafe extern "C" fn(*mut gdk::ffi::GdkDisplay) -> *mut c_void;
type GetXid = unsafe extern "C" fn(*mut gdk::ffi::GdkSurface) -> c_ulong;
type DefaultScreen = unsafe extern "C" fn(*mut c_void) -> c_int;
type DefaultVisual = unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void;
type XlibSurfaceCreate = unsafe extern "C" fn(
    *mut c_void,
    c_ulong,
    *mut c_void,
    c_int,
    c_int,
) -> *mut cairo::ffi::cairo_surface_t;

/// Looks a symbol up among the libraries already loaded into the process.
///
/// # Safety
/// `T` must be the symbol's function pointer type.
unsafe fn symbol<T: Copy>(name: &CStr) -> Option<T> {
    // SAFETY: dlsym only reads the NUL-terminated name; the caller vouches that `T` is
    // the symbol's function pointer type, which has the size of a data pointer.
    unsafe {
        let pointer = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char);
        (!pointer.is_null()).then(|| std::mem::transmute_copy(&pointer))
    }
}

/// True when `native` is realized on an X11 display.
pub fn on_x11(native: &impl IsA<gtk::Native>) -> bool {
    native
        .as_ref()
        .surface()
        .is_some_and(|s| s.display().type_().name() == "GdkX11Display")
}

/// A `width` x `height` RGB24 image in shared memory of the X display showing `native`,
/// or `None` when that display is not X11. Without MIT-SHM on the server, cairo makes
/// an ordinary image instead.
pub fn shared_image(
    native: &impl IsA<gtk::Native>,
    width: i32,
    height: i32,
) -> Option<cairo::ImageSurface> {
    if !on_x11(native) {
        return None;
    }
    let surface = native.as_ref().surface()?;
    let display = surface.display();
    // SAFETY: each symbol is cast to its documented C signature; the X display and the
    // window outlive these calls (they belong to the realized GTK surface); the cairo
    // surface comes back as a new reference, which `from_raw_full` takes over.
    unsafe {
        let get_xdisplay: GetXDisplay = symbol(c"gdk_x11_display_get_xdisplay")?;
        let get_xid: GetXid = symbol(c"gdk_x11_surface_get_xid")?;
        let default_screen: DefaultScreen = symbol(c"XDefaultScreen")?;
        let default_visual: DefaultVisual = symbol(c"XDefaultVisual")?;
        let xlib_surface_create: XlibSurfaceCreate = symbol(c"cairo_xlib_surface_create")?;

        let xdisplay = get_xdisplay(display.to_glib_none().0);
        let window = get_xid(surface.to_glib_none().0);
        if xdisplay.is_null() || window == 0 {
            return None;
        }
        let visual = default_visual(xdisplay, default_screen(xdisplay));
        // Only a handle on the X display: cairo makes shared images per display.
        let anchor =
            cairo::Surface::from_raw_full(xlib_surface_create(xdisplay, window, visual, 1, 1))
                .ok()?;
        anchor
            .create_similar_image(cairo::Format::Rgb24, width, height)
            .ok()
    }
}
