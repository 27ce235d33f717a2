//! Pictures: where screenshots go, a widget of the in-process app rendered to PNG, a
//! domain's display through libvirt, the whole X screen, pixels read from them, and
//! the test guest's VGA bands found anywhere on screen at any scale.
//!
//! Screenshots are for people to look at: every test that shows something writes them
//! to `target/screenshots/` (printing the path), and the names say what they show.

use std::ffi::c_int;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use gtk::gdk_pixbuf::{prelude::*, Pixbuf, PixbufLoader};
use gtk::prelude::*;
use virt::connect::Connect;
use virt::sys;

use super::wait::{settle, wait_until, EVENT};

/// Where screenshots go: `target/screenshots/` (made if missing).
pub fn screenshot_dir() -> PathBuf {
    let dir = super::testbed::target_dir().join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Renders `widget` as it is on screen into `target/screenshots/NAME` and returns the
/// path. Waits until it is laid out and has drawn once.
pub fn save_png(widget: &impl IsA<gtk::Widget>, name: &str) -> PathBuf {
    let widget = widget.upcast_ref::<gtk::Widget>();
    settle();
    wait_until(&format!("{name}: the widget is laid out"), EVENT, || {
        widget.width() > 0 && widget.height() > 0
    });
    // A widget that was just mapped may not have drawn yet: wait for its first picture.
    let paintable = gtk::WidgetPaintable::new(Some(widget));
    let node = wait_until(&format!("{name}: the widget draws"), EVENT, || {
        let snapshot = gtk::Snapshot::new();
        paintable.snapshot(
            &snapshot,
            f64::from(widget.width()),
            f64::from(widget.height()),
        );
        snapshot.to_node()
    });
    let renderer = widget
        .native()
        .and_then(|n| n.renderer())
        .unwrap_or_else(|| panic!("{name}: the widget is not realized"));
    let path = screenshot_dir().join(name);
    renderer
        .render_texture(&node, None)
        .save_to_png(&path)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    println!("  screenshot: {}", path.display());
    path
}

fn last_error() -> String {
    virt::error::Error::last_error().message().to_owned()
}

/// The encoded image of screen 0 of the domain with `uuid`, and its MIME type.
/// Blocking: call it on a worker thread (e.g. `ConnectionObject::with_connect`).
pub fn domain_screenshot(conn: &Connect, uuid: &str) -> Result<(String, Vec<u8>), String> {
    let c_uuid = std::ffi::CString::new(uuid).map_err(|e| e.to_string())?;
    // SAFETY: raw libvirt calls on valid pointers; every reference is released on
    // every path.
    unsafe {
        let dom = sys::virDomainLookupByUUIDString(conn.as_ptr(), c_uuid.as_ptr());
        if dom.is_null() {
            return Err(last_error());
        }
        let st = sys::virStreamNew(conn.as_ptr(), 0);
        if st.is_null() {
            let e = last_error();
            sys::virDomainFree(dom);
            return Err(e);
        }
        let mime = sys::virDomainScreenshot(dom, st, 0, 0);
        sys::virDomainFree(dom);
        if mime.is_null() {
            let e = last_error();
            sys::virStreamFree(st);
            return Err(e);
        }
        let mime_s = std::ffi::CStr::from_ptr(mime)
            .to_string_lossy()
            .into_owned();
        libc::free(mime.cast());
        let mut data = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n: c_int = sys::virStreamRecv(st, buf.as_mut_ptr().cast(), buf.len());
            if n > 0 {
                data.extend_from_slice(&buf[..n as usize]);
            } else if n == 0 {
                break;
            } else {
                let e = last_error();
                sys::virStreamAbort(st);
                sys::virStreamFree(st);
                return Err(e);
            }
        }
        let r = sys::virStreamFinish(st);
        let e = (r < 0).then(last_error);
        sys::virStreamFree(st);
        match e {
            Some(e) => Err(e),
            None => Ok((mime_s, data)),
        }
    }
}

/// Decodes an image (PNG, PPM...).
pub fn decode(data: &[u8]) -> Result<Pixbuf, String> {
    let loader = PixbufLoader::new();
    loader.write(data).map_err(|e| e.to_string())?;
    loader.close().map_err(|e| e.to_string())?;
    loader.pixbuf().ok_or_else(|| "no image".to_owned())
}

/// The RGB value at (x, y).
pub fn pixel(p: &Pixbuf, x: u32, y: u32) -> [u8; 3] {
    let bytes = p.read_pixel_bytes();
    let off = y as usize * p.rowstride() as usize + x as usize * p.n_channels() as usize;
    [bytes[off], bytes[off + 1], bytes[off + 2]]
}

/// The whole X screen now: (width, height, RGB bytes), from ImageMagick's `import
/// -window root`; None if it fails. Plain bytes, so that a thread of its own can poll
/// the screen while the test's thread turns the main loop.
pub fn x_screen_rgb() -> Option<(usize, usize, Vec<u8>)> {
    let mut child = Command::new("import")
        .args(["-window", "root", "-depth", "8", "ppm:-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut ppm = Vec::new();
    child.stdout.take()?.read_to_end(&mut ppm).ok()?;
    child.wait().ok()?;
    parse_ppm(&ppm)
}

/// A binary PPM (P6, maxval 255): (width, height, RGB bytes).
fn parse_ppm(data: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data.get(i)?.is_ascii_whitespace() {
            i += 1;
        }
        if data[i] == b'#' {
            while *data.get(i)? != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !data.get(i)?.is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&data[start..i]).ok()?.to_owned());
    }
    let (w, h): (usize, usize) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
    let pixels = data.get(i + 1..i + 1 + w * h * 3)?;
    (fields[0] == "P6" && fields[3] == "255").then(|| (w, h, pixels.to_vec()))
}

/// True when the X screen shows the ready test guest's VGA bands anywhere, at any
/// scale (a console in a window of any size).
pub fn x_screen_shows_guest() -> bool {
    x_screen_rgb().is_some_and(|(w, h, rgb)| shows_vga_bands(w, h, &rgb))
}

/// True when some column of an RGB picture crosses the test guest's VGA bands in their
/// order (blue, red, green, grey, blue: [`super::testbed::VGA_PIXELS`]), each a run of
/// exact pixels.
pub fn shows_vga_bands(w: usize, h: usize, rgb: &[u8]) -> bool {
    let mut bands: Vec<(u32, [u8; 3])> = super::testbed::VGA_PIXELS
        .iter()
        .filter(|(_, _, c)| *c != [0, 0, 0])
        .map(|&(_, y, c)| (y, c))
        .collect();
    bands.sort();
    let bands: Vec<[u8; 3]> = bands.into_iter().map(|(_, c)| c).collect();
    (0..w).step_by(3).any(|x| {
        let mut seen: Vec<[u8; 3]> = Vec::new();
        let mut run = (0, [0u8; 3]);
        for y in 0..h {
            let i = (y * w + x) * 3;
            let px = [rgb[i], rgb[i + 1], rgb[i + 2]];
            run = if px == run.1 {
                (run.0 + 1, px)
            } else {
                (1, px)
            };
            // A band counts once it is a few pixels tall (not a blended edge).
            if run.0 == 3 && bands.contains(&px) && seen.last() != Some(&px) {
                seen.push(px);
            }
        }
        seen.windows(bands.len()).any(|win| win == bands.as_slice())
    })
}
