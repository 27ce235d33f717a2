//! The VNC display on a window of scale factor 2 (GDK_SCALE=2, as on a HiDPI screen):
//! at 1:1 each framebuffer pixel lands on exactly one device pixel, so what the
//! renderer draws at the window's scale is the server's picture, pixel for pixel.
//! Drawn with GTK's cairo renderer, where on X11 the framebuffer lives in shared memory
//! (the other VNC tests take the default renderer, which draws textures): also when the
//! display connected before it had a window, and moved its framebuffer there once shown.
//!
//! Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_hidpi

mod vnc_support;

use std::time::Duration;

use gtk::graphene;
use gtk::prelude::*;
use vireo::ui::console::{ConsoleState, ScaleMode, VncDisplay};
use vnc_support::*;

const W: usize = 320;
const H: usize = 240;

fn main() {
    // Read by GDK and GSK when they start, which run_cases does.
    std::env::set_var("GDK_SCALE", "2");
    std::env::set_var("GSK_RENDERER", "cairo");
    run_cases(&[
        (
            "one_to_one_is_exact_in_device_pixels",
            one_to_one_is_exact_in_device_pixels,
        ),
        ("shown_after_connecting", shown_after_connecting),
    ]);
}

fn window_with(display: &VncDisplay) -> gtk::Window {
    display.set_scale_mode(ScaleMode::OneToOne);
    gtk::Window::builder()
        .default_width(400)
        .default_height(300)
        .child(display)
        .build()
}

fn one_to_one_is_exact_in_device_pixels() -> Result<(), String> {
    let picture = pattern(W, H, 3);
    let server = RawServer::start(W, H, &picture, &[])?;
    let display = VncDisplay::new();
    let window = window_with(&display);
    window.present();
    display.open_host("127.0.0.1", server.port);
    let result = check(&window, &display, &picture);
    window.destroy();
    result
}

/// A VM tab opened in the background connects before it is ever drawn.
fn shown_after_connecting() -> Result<(), String> {
    let picture = pattern(W, H, 4);
    let server = RawServer::start(W, H, &picture, &[])?;
    let display = VncDisplay::new();
    let window = window_with(&display);
    display.open_host("127.0.0.1", server.port);
    let connected = wait_until(Duration::from_secs(15), || {
        display.state() == ConsoleState::Connected
    });
    pump(Duration::from_millis(300));
    window.present();
    let result = if connected {
        check(&window, &display, &picture)
    } else {
        Err(format!("not connected while hidden: {:?}", display.state()))
    };
    window.destroy();
    result
}

fn check(window: &gtk::Window, display: &VncDisplay, picture: &[u8]) -> Result<(), String> {
    if !wait_until(Duration::from_secs(15), || {
        display.state() == ConsoleState::Connected && display.frames_shown() > 0
    }) {
        return Err(format!("not connected: state {:?}", display.state()));
    }
    let canvas = canvas_of(display)?;
    let scale = canvas.scale_factor();
    if scale != 2 {
        return Err(format!("the window has scale factor {scale}, not 2"));
    }
    // Half the framebuffer's size in logical pixels is its whole size on the screen.
    let wanted = (
        canvas.measure(gtk::Orientation::Horizontal, -1).0,
        canvas.measure(gtk::Orientation::Vertical, -1).0,
    );
    if wanted != (W as i32 / 2, H as i32 / 2) {
        return Err(format!("the canvas asks for {wanted:?} logical pixels"));
    }
    let renderer = window
        .native()
        .and_then(|n| n.renderer())
        .ok_or("no renderer")?;
    if renderer.type_().name() != "GskCairoRenderer" {
        return Err(format!("drawn by {}, not cairo", renderer.type_().name()));
    }
    let mut drawn = Err("nothing drawn".to_string());
    wait_until(Duration::from_secs(10), || {
        drawn = draw_in_device_pixels(&canvas, &renderer)
            .and_then(|texture| compare(&texture, picture, W));
        drawn.is_ok()
    });
    drawn.map_err(|e| format!("drawn at scale 2: {e}"))
}

/// Draws the canvas as the window does at scale 2 and cuts out the frame.
fn draw_in_device_pixels(
    canvas: &gtk::Widget,
    renderer: &gtk::gsk::Renderer,
) -> Result<gtk::gdk::Texture, String> {
    let bounds = canvas.compute_bounds(canvas).ok_or("canvas not laid out")?;
    // The frame is centred in the canvas, on device pixels.
    let x = ((bounds.width() * 2.0 - W as f32) / 2.0).max(0.0).round();
    let y = ((bounds.height() * 2.0 - H as f32) / 2.0).max(0.0).round();
    let paintable = gtk::WidgetPaintable::new(Some(canvas));
    let snapshot = gtk::Snapshot::new();
    snapshot.scale(2.0, 2.0);
    paintable.snapshot(&snapshot, canvas.width() as f64, canvas.height() as f64);
    let node = snapshot.to_node().ok_or("the canvas drew nothing")?;
    let viewport = graphene::Rect::new(x, y, W as f32, H as f32);
    Ok(renderer.render_texture(&node, Some(&viewport)))
}
