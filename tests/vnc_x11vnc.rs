//! The VNC display against a real VNC server: x11vnc serving a known raw framebuffer.
//! Pixel-exact frames at 1:1 (the texture and what the renderer draws), updates, a
//! desktop resize, the server's cursor shape, aspect-kept scaling, keys and pointer
//! reaching the server, password auth, and the disconnected state when the server goes
//! away.
//!
//! Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_x11vnc

mod kit;

use std::time::Duration;

use gtk::prelude::*;
use gtk::{glib, graphene};
use kit::vnc::{canvas_of, compare, move_pointer_to, pattern, RawServer};
use kit::x11::xdotool;
use kit::{pump, test, wait_until, Runner};
use vireo::ui::console::{ConsoleState, GuestDisplay, ScaleMode};

const W: usize = 640;
const H: usize = 480;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

fn main() {
    // Each test in its own process: a failed one leaves its window behind.
    Runner::new().gui().fresh_process().run(vec![
        test("pixels_exact_at_1to1", pixels_exact_at_1to1),
        test("updates_follow_the_server", updates_follow_the_server),
        test("desktop_resize_is_followed", desktop_resize_is_followed),
        test("remote_cursor_is_shown", remote_cursor_is_shown),
        test("fit_keeps_aspect_ratio", fit_keeps_aspect_ratio),
        test("keys_reach_the_server", keys_reach_the_server),
        test("send_keys_and_type_text", send_keys_and_type_text),
        test("pointer_reaches_the_server", pointer_reaches_the_server),
        test("password_auth", password_auth),
        test("wrong_password_is_reported", wrong_password_is_reported),
        test("server_gone_is_reported", server_gone_is_reported),
    ]);
}

/// A window with a display connected to `server`, once its first frame is shown.
fn connected(server: &RawServer, mode: ScaleMode) -> Result<(gtk::Window, GuestDisplay), String> {
    let display = GuestDisplay::new();
    display.set_scale_mode(mode);
    let window = gtk::Window::builder()
        .default_width(800)
        .default_height(600)
        .child(&display)
        .build();
    window.present();
    display.grab_focus();
    display.open_host("127.0.0.1", server.port);
    wait_until("connected, a frame shown", CONNECT_TIMEOUT, || {
        if display.state() == ConsoleState::Connected && display.frames_shown() > 0 {
            Ok(())
        } else {
            Err(format!("state {:?}", display.state()))
        }
    });
    Ok((window, display))
}

/// Waits until the texture on screen equals `expected`.
fn wait_for_picture(display: &GuestDisplay, expected: &[u8]) -> Result<(), String> {
    wait_for_picture_of_width(display, expected, W)
}

fn wait_for_picture_of_width(
    display: &GuestDisplay,
    expected: &[u8],
    width: usize,
) -> Result<(), String> {
    wait_until(
        "the picture on screen",
        Duration::from_secs(10),
        || match display.screenshot_texture() {
            Some(t) => compare(&t, expected, width),
            None => Err("no frame".into()),
        },
    );
    Ok(())
}

fn pixels_exact_at_1to1() -> Result<(), String> {
    let picture = pattern(W, H, 1);
    let server = RawServer::start(W, H, &picture, &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    wait_for_picture(&display, &picture).map_err(|e| format!("texture: {e}"))?;
    let shot = display.screenshot_texture().ok_or("no screenshot")?;
    compare(&shot, &picture, W).map_err(|e| format!("screenshot: {e}"))?;

    // What the renderer draws for the canvas, cut to the frame, is the picture too.
    let canvas = canvas_of(&display)?;
    let (x, y) = {
        let rect = canvas
            .compute_bounds(&canvas)
            .ok_or("canvas not laid out")?;
        let free_w = rect.width() - W as f32;
        let free_h = rect.height() - H as f32;
        (
            (free_w / 2.0).max(0.0).round(),
            (free_h / 2.0).max(0.0).round(),
        )
    };
    let renderer = window
        .native()
        .and_then(|n| n.renderer())
        .ok_or("no renderer")?;
    let viewport = graphene::Rect::new(x, y, W as f32, H as f32);
    // The canvas shows the framebuffer from the next frame tick on.
    wait_until("the picture drawn at 1:1", Duration::from_secs(5), || {
        let paintable = gtk::WidgetPaintable::new(Some(&canvas));
        let snapshot = gtk::Snapshot::new();
        paintable.snapshot(&snapshot, canvas.width() as f64, canvas.height() as f64);
        match snapshot.to_node() {
            Some(node) => compare(
                &renderer.render_texture(&node, Some(&viewport)),
                &picture,
                W,
            ),
            None => Err("canvas drew nothing".into()),
        }
    });
    window.destroy();
    Ok(())
}

fn updates_follow_the_server() -> Result<(), String> {
    let first = pattern(W, H, 1);
    let server = RawServer::start(W, H, &first, &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    wait_for_picture(&display, &first)?;
    let frames = display.frames_shown();
    for seed in [2u32, 3] {
        let next = pattern(W, H, seed);
        server.repaint(&next)?;
        wait_for_picture(&display, &next).map_err(|e| format!("after repaint {seed}: {e}"))?;
    }
    // Two repaints need at least two more frames, but not one per rectangle.
    let more = display.frames_shown() - frames;
    window.destroy();
    if more < 2 {
        return Err(format!("only {more} new frames"));
    }
    Ok(())
}

fn desktop_resize_is_followed() -> Result<(), String> {
    let mut server = RawServer::start(W, H, &pattern(W, H, 1), &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    wait_for_picture(&display, &pattern(W, H, 1))?;
    let sizes = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    display.connect_desktop_resized(glib::clone!(
        #[strong]
        sizes,
        move |_, w, h| sizes.borrow_mut().push((w, h))
    ));

    let (w2, h2) = (800, 600);
    let bigger = pattern(w2, h2, 7);
    server.resize(w2, h2, &bigger)?;
    let shown = wait_for_picture_of_width(&display, &bigger, w2);
    // At 1:1 the canvas asks for the new size, in logical pixels.
    let canvas = canvas_of(&display)?;
    let wanted = (
        canvas.measure(gtk::Orientation::Horizontal, -1).0,
        canvas.measure(gtk::Orientation::Vertical, -1).0,
    );
    let sf = canvas.scale_factor();
    window.destroy();
    shown.map_err(|e| format!("after the resize: {e}"))?;
    if !sizes.borrow().contains(&(w2 as i32, h2 as i32)) {
        return Err(format!("desktop-resized gave {:?}", sizes.borrow()));
    }
    if wanted != (w2 as i32 / sf, h2 as i32 / sf) {
        return Err(format!("the canvas asks for {wanted:?} at scale {sf}"));
    }
    Ok(())
}

fn remote_cursor_is_shown() -> Result<(), String> {
    // x11vnc sends its arrow as a cursor shape (rich cursor) when asked to show one.
    let server = RawServer::start(W, H, &pattern(W, H, 1), &["-cursor", "arrow"])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    let canvas = canvas_of(&display)?;
    let (w, h) = wait_until(
        "a cursor shape from the server",
        Duration::from_secs(10),
        || {
            canvas
                .cursor()
                .and_then(|c| c.texture())
                .map(|t| (t.width(), t.height()))
        },
    );
    window.destroy();
    if w > 0 && h > 0 {
        Ok(())
    } else {
        Err(format!("an empty cursor shape from the server: {w}x{h}"))
    }
}

fn fit_keeps_aspect_ratio() -> Result<(), String> {
    let picture = pattern(W, H, 4);
    let server = RawServer::start(W, H, &picture, &[])?;
    let (window, display) = connected(&server, ScaleMode::Fit)?;
    window.set_default_size(1000, 500);
    pump(Duration::from_millis(300));
    let canvas = canvas_of(&display)?
        .downcast::<vireo::ui::console::display::canvas::DisplayCanvas>()
        .map_err(|_| "the canvas is not a DisplayCanvas")?;
    let rect = canvas.frame_rect().ok_or("no frame rect")?;
    let (cw, ch) = (canvas.width() as f32, canvas.height() as f32);
    let aspect = rect.width() / rect.height();
    window.destroy();
    if (aspect - W as f32 / H as f32).abs() > 0.01 {
        return Err(format!("aspect {aspect} in {rect:?}"));
    }
    // Fills one dimension of the widget and fits in the other.
    let fills = (rect.width() - cw).abs() < 1.0 || (rect.height() - ch).abs() < 1.0;
    if !fills || rect.width() > cw + 0.5 || rect.height() > ch + 0.5 {
        return Err(format!("{rect:?} in {cw}x{ch}"));
    }
    Ok(())
}

fn key_names(server: &RawServer) -> Vec<String> {
    server
        .keys()
        .into_iter()
        .map(|(down, name)| format!("{}{name}", if down { "+" } else { "-" }))
        .collect()
}

fn keys_reach_the_server() -> Result<(), String> {
    let server = RawServer::start(W, H, &pattern(W, H, 5), &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    if !display.keyboard_grabbed() {
        return Err("focused display did not grab the keyboard".into());
    }
    xdotool(&["key", "v", "shift+i", "F5", "Super_L"]);
    // Ctrl+Alt releases the grab: the keys after it stay on the desktop.
    xdotool(&["key", "ctrl+alt"]);
    pump(Duration::from_millis(300));
    let grabbed_after = display.keyboard_grabbed();
    xdotool(&["key", "z"]);
    pump(Duration::from_millis(500));
    let got = key_names(&server);
    window.destroy();
    let expected = [
        "+v",
        "-v",
        "+Shift_L",
        "+I",
        "-Shift_L",
        "-i",
        "+F5",
        "-F5",
        "+Super_L",
        "-Super_L",
        "+Control_L",
    ];
    let head: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .take(expected.len())
        .collect();
    if head != expected {
        return Err(format!("server got {got:?}"));
    }
    if grabbed_after {
        return Err("Ctrl+Alt did not release the keyboard".into());
    }
    if got.iter().any(|k| k.ends_with('z')) {
        return Err(format!(
            "a key after the release reached the guest: {got:?}"
        ));
    }
    // The release sent key ups for what the guest held.
    if got.last().map(String::as_str) != Some("-Control_L") {
        return Err(format!("Control left held in the guest: {got:?}"));
    }
    Ok(())
}

fn send_keys_and_type_text() -> Result<(), String> {
    let server = RawServer::start(W, H, &pattern(W, H, 6), &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    display
        .action_group()
        .activate_action("send-keys", Some(&"ctrl-alt-delete".to_variant()));
    display.type_text("Hi!");
    pump(Duration::from_millis(800));
    let got = key_names(&server);
    window.destroy();
    let expected = [
        "+Control_L",
        "+Alt_L",
        "+Delete",
        "-Delete",
        "-Alt_L",
        "-Control_L",
        "+Shift_L",
        "+H",
        "-H",
        "-Shift_L",
        "+i",
        "-i",
        "+Shift_L",
        "+exclam",
        "-exclam",
        "-Shift_L",
    ];
    if got != expected {
        return Err(format!("server got {got:?}"));
    }
    Ok(())
}

fn pointer_reaches_the_server() -> Result<(), String> {
    let server = RawServer::start(W, H, &pattern(W, H, 7), &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    move_pointer_to(&window, &display, 100.0, 50.0)?;
    xdotool(&["click", "3"]);
    xdotool(&["click", "4"]);
    pump(Duration::from_millis(500));
    let got = server.pointer();
    window.destroy();
    let at = |mask: i32| {
        got.iter()
            .any(|&(x, y, m)| x == 100 && y == 50 && m == mask)
    };
    if !(at(0) && at(4) && at(8)) {
        return Err(format!("server got {got:?}"));
    }
    Ok(())
}

fn password_auth() -> Result<(), String> {
    let server = RawServer::start(W, H, &pattern(W, H, 8), &["-passwd", "s3cret"])?;
    let display = GuestDisplay::new();
    display.set_password(Some("s3cret"));
    let window = gtk::Window::builder().child(&display).build();
    window.present();
    display.open_host("127.0.0.1", server.port);
    wait_until("a frame with the password", CONNECT_TIMEOUT, || {
        if display.frames_shown() > 0 {
            Ok(())
        } else {
            Err(format!("state {:?}", display.state()))
        }
    });
    window.destroy();
    Ok(())
}

fn wrong_password_is_reported() -> Result<(), String> {
    let server = RawServer::start(W, H, &pattern(W, H, 9), &["-passwd", "s3cret"])?;
    let display = GuestDisplay::new();
    display.set_password(Some("wrong"));
    let window = gtk::Window::builder().child(&display).build();
    window.present();
    let reason = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
    display.connect_disconnected(glib::clone!(
        #[strong]
        reason,
        move |_, why| {
            reason.replace(Some(why.to_owned()));
        }
    ));
    display.open_host("127.0.0.1", server.port);
    wait_until("the disconnected signal", CONNECT_TIMEOUT, || {
        reason.borrow().is_some()
    });
    window.destroy();
    let reason = reason.borrow().clone().ok_or("no disconnected signal")?;
    // It never came up: a failed connection, not a dropped one.
    if display.state() != ConsoleState::Failed || !reason.contains("uthentication") {
        return Err(format!("state {:?}, reason {reason:?}", display.state()));
    }
    if display.password().is_some() {
        return Err("the rejected password was kept".into());
    }
    Ok(())
}

fn server_gone_is_reported() -> Result<(), String> {
    let mut server = RawServer::start(W, H, &pattern(W, H, 10), &[])?;
    let (window, display) = connected(&server, ScaleMode::OneToOne)?;
    let fired = std::rc::Rc::new(std::cell::Cell::new(false));
    display.connect_disconnected(glib::clone!(
        #[strong]
        fired,
        move |_, _| fired.set(true)
    ));
    server.stop();
    wait_until("the disconnected signal", Duration::from_secs(10), || {
        fired.get()
    });
    let state = display.state();
    window.destroy();
    if !fired.get() || state != ConsoleState::Disconnected {
        return Err(format!("signal {}, state {state:?}", fired.get()));
    }
    Ok(())
}
