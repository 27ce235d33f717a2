//! What the `vireo` process sets up before its first window: logging, resources, the
//! application name, and what depends on the renderer GTK is told to use. `main` and the VNC
//! benchmark's viewer (`examples/vnc_viewer.rs`) both call [`prepare_process`], so the
//! benchmark measures the app's own configuration.

use gtk::glib;

/// Sets the process up; call once, first thing, before any thread or window.
pub fn prepare_process(debug: bool) {
    crate::logging::init(debug);
    // Before any thread: it sets SSH_ASKPASS for the ssh libvirt starts.
    crate::model::ssh_login::install();
    crate::resources::register();
    glib::set_application_name("Vireo");
    if renders_with_cairo() {
        avoid_gl_probe();
    }
}

/// True when GTK is told to draw with cairo (`GSK_RENDERER=cairo`), not GL.
fn renders_with_cairo() -> bool {
    std::env::var("GSK_RENDERER").is_ok_and(|r| r == "cairo")
}

/// With `GSK_RENDERER=cairo` GTK never draws with GL, yet GDK's X11 backend still loads
/// the GL driver (Mesa's llvmpipe is ~50 MiB) to pick a window visual. Telling GDK that
/// GL is off keeps that out of memory.
fn avoid_gl_probe() {
    if std::env::var_os("GDK_DEBUG").is_none() {
        std::env::set_var("GDK_DEBUG", "gl-disable");
    }
}
