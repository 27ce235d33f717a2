//! The VNC display on a window of scale factor 2 (GDK_SCALE=2, as on a HiDPI screen):
//! at 1:1 each framebuffer pixel lands on exactly one device pixel, so what the
//! renderer draws at the window's scale is the server's picture, pixel for pixel.
//! Drawn with GTK's cairo renderer, where on X11 the framebuffer lives in shared memory
//! (the other VNC tests take the default renderer, which draws textures): also when the
//! display connected before it had a window, and moved its framebuffer there once shown.
//!
//! Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_hidpi

mod kit;

use std::time::Duration;

use gtk::graphene;
use gtk::prelude::*;
use kit::vnc::{canvas_of, compare, pattern, RawServer};
use kit::{pump, test, wait_until, Runner};
use vireo::ui::console::{ConsoleState, GuestDisplay, ScaleMode};

const W: usize = 320;
const H: usize = 240;

fn main() {
    // Read by GDK and GSK when they start, which the runner does.
    std::env::set_var("GDK_SCALE", "2");
    std::env::set_var("GSK_RENDERER", "cairo");
    Runner::new().gui().fresh_process().run(vec![
        test(
            "one_to_one_is_exact_in_device_pixels",
            one_to_one_is_exact_in_device_pixels,
        ),
        test("shown_after_connecting", shown_after_connecting),
    ]);
}

fn window_with(display: &GuestDisplay) -> gtk::Window {
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
    let display = GuestDisplay::new();
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
    let display = GuestDisplay::new();
    let window = window_with(&display);
    display.open_host("127.0.0.1", server.port);
    wait_until("connected while hidden", Duration::from_secs(15), || {
        if display.state() == ConsoleState::Connected {
            Ok(())
        } else {
            Err(format!("state {:?}", display.state()))
        }
    });
    pump(Duration::from_millis(300));
    window.present();
    let result = check(&window, &display, &picture);
    window.destroy();
    result
}

fn check(window: &gtk::Window, display: &GuestDisplay, picture: &[u8]) -> Result<(), String> {
    wait_until("connected, a frame shown", Duration::from_secs(15), || {
        if display.state() == ConsoleState::Connected && display.frames_shown() > 0 {
            Ok(())
        } else {
            Err(format!("state {:?}", display.state()))
        }
    });
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
    wait_until(
        "the picture drawn at scale 2",
        Duration::from_secs(10),
        || {
            draw_in_device_pixels(&canvas, &renderer)
                .and_then(|texture| compare(&texture, picture, W))
        },
    );
    Ok(())
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
