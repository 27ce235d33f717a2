//! Which renderer the real `vireo` draws with (tier 5, the binary from outside): where
//! the display's GL is Mesa's software rasterizer, as under the tests' Xvfb, Vireo draws
//! with cairo and never loads the GL driver into itself; a renderer the user chose with
//! `GSK_RENDERER` is kept. What a process has loaded is read from `/proc/PID/maps`.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" cargo test --test renderer_choice`.

mod kit;

use kit::binary::{self, App};
use kit::{test, Runner};

fn main() {
    binary::require();
    Runner::new().run(vec![
        test("software_gl_draws_with_cairo", software_gl_draws_with_cairo),
        test("the_users_renderer_is_kept", the_users_renderer_is_kept),
    ]);
}

/// Under Xvfb GL is llvmpipe: Vireo says so, chooses cairo, and has no Mesa driver in
/// its memory once its window shows the demo host's VM.
fn software_gl_draws_with_cairo() {
    let app = App::launch_with_env(&["--connect", "test:///default"], &[]);
    app.wait_ready();
    let drivers = gl_drivers_loaded(app.pid());
    app.screenshot("app-renderer-cairo.png");
    let log = app.quit();
    assert!(
        log.contains("renderer: cairo, as GL is drawn in software (llvmpipe"),
        "Vireo did not choose cairo for llvmpipe; its log:\n{log}"
    );
    assert!(
        drivers.is_empty(),
        "the GL driver is loaded in Vireo: {drivers:?}"
    );
}

/// `GSK_RENDERER=gl` from the user: Vireo does not ask, and GTK draws with GL (Mesa's
/// driver is in the process).
fn the_users_renderer_is_kept() {
    let app = App::launch_with_env(&["--connect", "test:///default"], &[("GSK_RENDERER", "gl")]);
    app.wait_ready();
    let drivers = gl_drivers_loaded(app.pid());
    let log = app.quit();
    assert!(
        log.contains("renderer: GSK_RENDERER=gl, as set"),
        "Vireo did not keep the user's renderer; its log:\n{log}"
    );
    assert!(
        !drivers.is_empty(),
        "GSK_RENDERER=gl, yet no GL driver is loaded: the check cannot see one"
    );
}

/// The Mesa GL libraries mapped into process `pid` (its DRI driver, gallium, the
/// vendor libraries of GLX and EGL).
fn gl_drivers_loaded(pid: u32) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("the app's maps");
    let mut found: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|path| {
            let file = path.rsplit('/').next().unwrap_or(path);
            file.ends_with("_dri.so")
                || file.starts_with("libgallium")
                || file.starts_with("libGLX_mesa")
                || file.starts_with("libEGL_mesa")
        })
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}
