//! Decode-only SPICE client for tools/bench-spice.sh: Vireo's `SpiceSession` without
//! a widget. It connects to a SPICE server, and on a 60 Hz timer (standing in for a
//! widget's frame clock) reads the frame counter that tools/bench-spice/fbanim.rs
//! draws from the session's pixels whenever damage arrived, optionally copying the
//! whole screen into an opaque texture-sized buffer first (`--copy`, what a widget's
//! upload costs before GTK). Counter changes are frames decoded; nothing is shown.
//!
//! Usage: spice_decode HOST:PORT [--copy] [--remote]
//! Prints "frames N counter V" lines every second (frames decoded so far, the last
//! counter value seen); CPU is measured from outside.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use vireo::display_protocol::spice::{SessionOptions, SpiceSession};
use vireo::display_protocol::{DisplaySession, Pixels, SessionEvent};

const CELL: usize = 32;
const BITS: usize = 16;

/// The counter of tools/bench-vnc.py at 1:1 in the top-left corner, None when torn.
fn read_counter(p: &Pixels<'_>) -> Option<u16> {
    let at = |cx: usize, cy: usize| p.rgb(cx * CELL + CELL / 2, cy * CELL + CELL / 2);
    let red = |c: [u8; 3]| c[0] > 180 && c[1] < 80;
    let green = |c: [u8; 3]| c[1] > 180 && c[0] < 80;
    if !(red(at(0, 0)?) && green(at(1, 0)?)) {
        return None;
    }
    let bright = |c: [u8; 3]| c.iter().map(|&v| v as u32).sum::<u32>() > 382;
    let mut value = 0u16;
    for i in 0..BITS {
        let (top, bottom) = (bright(at(2 + i, 0)?), bright(at(2 + i, 1)?));
        if top == bottom {
            return None;
        }
        value = (value << 1) | top as u16;
    }
    Some(value)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let address = args
        .first()
        .expect("usage: spice_decode HOST:PORT [--copy]");
    let copy = args.iter().any(|a| a == "--copy");
    let (host, port) = address.rsplit_once(':').expect("HOST:PORT");
    let session = SpiceSession::new(SessionOptions {
        share_clipboard: false,
        local: !args.iter().any(|a| a == "--remote"),
    });
    let dirty = Rc::new(Cell::new(false));
    let d = dirty.clone();
    session.connect_event(Box::new(move |event| match event {
        SessionEvent::Damage(_) | SessionEvent::SurfaceCreated { .. } => d.set(true),
        SessionEvent::Disconnected(reason) => {
            eprintln!("disconnected: {reason}");
            std::process::exit(1);
        }
        _ => {}
    }));
    session
        .open_address(host, port.parse().expect("port"), None)
        .expect("open");

    let texture = RefCell::new(Vec::<u8>::new());
    let (frames, last) = (Cell::new(0u64), Cell::new(None::<u16>));
    let second = Cell::new(Instant::now());
    // A 60 Hz timer stands in for the widget's frame clock.
    glib::timeout_add_local(Duration::from_micros(16_667), move || {
        if dirty.replace(false) {
            session.with_pixels(&mut |p| {
                if copy {
                    // What TexturePool::texture does: one opaque copy of the screen.
                    let mut buf = texture.borrow_mut();
                    buf.resize(p.width * p.height * 4, 0);
                    let row = p.width * 4;
                    for (dst, src) in buf.chunks_exact_mut(row).zip(p.data.chunks(p.stride)) {
                        for (d, s) in dst.chunks_exact_mut(4).zip(src[..row].chunks_exact(4)) {
                            let px = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) | 0xff00_0000;
                            d.copy_from_slice(&px.to_le_bytes());
                        }
                    }
                }
                if let Some(v) = read_counter(&p) {
                    if last.replace(Some(v)) != Some(v) {
                        frames.set(frames.get() + 1);
                    }
                }
            });
        }
        if second.get().elapsed() >= Duration::from_secs(1) {
            // The counter's value tells how many frames the guest painted meanwhile.
            match last.get() {
                Some(v) => println!("frames {} counter {v}", frames.get()),
                None => println!("frames {}", frames.get()),
            }
            second.set(Instant::now());
        }
        glib::ControlFlow::Continue
    });
    glib::MainLoop::new(None, false).run();
}
