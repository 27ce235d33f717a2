//! The name of the OpenGL renderer behind a GDK GL context (`GL_RENDERER`), read through
//! libepoxy, which GTK itself loads and calls GL through.
//!
//! GTK has no API that says whether its GL is drawn by a GPU or by Mesa's software
//! rasterizer (llvmpipe); the renderer string does. See `startup::renderer`.

use std::ffi::{c_char, c_uint, CStr};

use gtk::gdk;
use gtk::prelude::*;

/// `GL_RENDERER` from the GL headers.
const GL_RENDERER: c_uint = 0x1F01;

/// `glGetString`'s C signature.
type GetString = unsafe extern "C" fn(c_uint) -> *const c_char;

/// The `GL_RENDERER` string of `context` ("llvmpipe (LLVM 15.0.6, 256 bits)", "Mesa
/// Intel(R) UHD Graphics 620 (KBL GT2)"), or `None` when the context cannot be made
/// current or libepoxy is not loaded. Makes `context` current on this thread.
pub fn renderer(context: &gdk::GLContext) -> Option<String> {
    context.make_current();
    if gdk::GLContext::current().as_ref() != Some(context) {
        return None;
    }
    // SAFETY: `epoxy_glGetString` is libepoxy's exported *variable* holding the
    // `glGetString` entry point (a dispatch stub that resolves itself on first call), so
    // dlsym gives the address of a function pointer, read once here. A GL context is
    // current on this thread (checked above), which glGetString requires; it returns a
    // static NUL-terminated string owned by the driver, or NULL, and is copied at once.
    unsafe {
        let slot = libc::dlsym(libc::RTLD_DEFAULT, c"epoxy_glGetString".as_ptr());
        if slot.is_null() {
            return None;
        }
        let get_string = *(slot as *const Option<GetString>);
        let name = get_string?(GL_RENDERER);
        (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned())
    }
}
