//! What the `vireo` process sets up before its first window: logging, resources, the
//! application name, the renderer GTK draws with ([`renderer`]: cairo where GL is
//! software) and what depends on it. `main`, the test kit's GUI runner and the display
//! benchmark's viewer (`examples/vnc_viewer.rs`) all call [`prepare_process`], so tests
//! and benchmarks run in the app's own configuration.

use gtk::glib;

pub mod renderer;

/// Sets the process up; call once, first thing, before any thread or window.
pub fn prepare_process(debug: bool) {
    crate::logging::init(debug);
    // Before any thread: it forks, and it sets GSK_RENDERER.
    choose_renderer();
    // Before any other thread: it sets SSH_ASKPASS for the ssh libvirt starts (and
    // starts the askpass server's thread).
    crate::model::ssh_login::install();
    crate::resources::register();
    glib::set_application_name("Vireo");
    if renders_with_cairo() {
        avoid_gl_probe();
    }
}

/// Sets `GSK_RENDERER=cairo` where GL is a software rasterizer, unless the user chose.
fn choose_renderer() {
    let choice = renderer::choose();
    match &choice {
        renderer::Choice::User(value) => {
            tracing::info!("renderer: GSK_RENDERER={value}, as set")
        }
        renderer::Choice::CairoForSoftwareGl(name) => {
            tracing::info!("renderer: cairo, as GL is drawn in software ({name})")
        }
        renderer::Choice::Gl(name) => tracing::info!("renderer: GTK's default, GL on {name}"),
        renderer::Choice::Unknown(why) => {
            tracing::info!("renderer: GTK's default; the GL renderer is unknown: {why}")
        }
    }
    if let Some(value) = choice.sets_renderer() {
        // Before any other thread and before GTK reads it (see `prepare_process`).
        std::env::set_var("GSK_RENDERER", value);
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
