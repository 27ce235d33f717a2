//! VNC helpers: x11vnc serving a known raw framebuffer (killed on drop) whose input
//! events are logged through `-pipeinput`, test pictures in which any offset, swap or
//! scaling shows, their comparison with what the display shows, and the pointer moved
//! over a framebuffer pixel of an in-process `GuestDisplay`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gtk::gdk;
use gtk::prelude::*;

use super::wait::pump;
use super::x11::xdotool;

/// The widget inside a `GuestDisplay` that draws the frame.
pub fn canvas_of(display: &vireo::ui::console::GuestDisplay) -> Result<gtk::Widget, String> {
    display
        .first_child()
        .and_then(|overlay| overlay.first_child())
        .and_then(|scroller| scroller.first_child())
        .and_then(|viewport| viewport.first_child())
        .ok_or_else(|| "no canvas".to_string())
}

/// A test picture in x11vnc's 32-bit format (BGRx in memory): every pixel differs from
/// its neighbours in all three channels, so any offset, swap or scaling shows.
pub fn pattern(width: usize, height: usize, seed: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity(width * height * 4);
    for y in 0..height as u32 {
        for x in 0..width as u32 {
            let b = (x.wrapping_mul(7) + y + seed) & 0xff;
            let g = (y.wrapping_mul(3) + seed.wrapping_mul(5)) & 0xff;
            let r = ((x ^ y) + seed.wrapping_mul(11)) & 0xff;
            data.extend_from_slice(&[b as u8, g as u8, r as u8, 0]);
        }
    }
    data
}

/// The pixels of a texture as opaque BGRA bytes (GDK's download format).
pub fn texture_bytes(texture: &gdk::Texture) -> Vec<u8> {
    let stride = texture.width() as usize * 4;
    let mut data = vec![0u8; stride * texture.height() as usize];
    texture.download(&mut data, stride);
    data
}

/// True when `display` shows the test-bed guest's ready picture: its VGA size and the
/// colours of [`super::testbed::VGA_PIXELS`], and of `more` points where a test needs
/// them (its right edge, so that a screen updated only in part does not pass).
pub fn shows_guest_picture(
    display: &vireo::ui::console::GuestDisplay,
    more: &[(u32, u32, [u8; 3])],
) -> bool {
    use super::testbed::{VGA_PIXELS, VGA_SIZE};
    let Some(shot) = display.screenshot_texture() else {
        return false;
    };
    if (shot.width() as u32, shot.height() as u32) != VGA_SIZE {
        return false;
    }
    let bytes = texture_bytes(&shot);
    VGA_PIXELS.iter().chain(more).all(|&(x, y, rgb)| {
        let i = ((y * VGA_SIZE.0 + x) * 4) as usize;
        // Downloaded as BGRA.
        [bytes[i + 2], bytes[i + 1], bytes[i]] == rgb
    })
}

/// Compares a downloaded texture with a BGRx pattern; Err says where they differ.
pub fn compare(texture: &gdk::Texture, expected: &[u8], width: usize) -> Result<(), String> {
    let got = texture_bytes(texture);
    if got.len() != expected.len() {
        return Err(format!(
            "size {}x{} instead of {} bytes",
            texture.width(),
            texture.height(),
            expected.len()
        ));
    }
    let mut bad = 0usize;
    let mut first = None;
    for (i, (g, e)) in got
        .chunks_exact(4)
        .zip(expected.chunks_exact(4))
        .enumerate()
    {
        if g[..3] != e[..3] || g[3] != 0xff {
            bad += 1;
            first.get_or_insert((i % width, i / width, g.to_vec(), e.to_vec()));
        }
    }
    match first {
        None => Ok(()),
        Some((x, y, g, e)) => Err(format!(
            "{bad} pixels differ; first at ({x},{y}): got {g:?} expected {e:?}"
        )),
    }
}

/// x11vnc serving a raw framebuffer file, with its input events logged.
pub struct RawServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    /// The file served now.
    file: PathBuf,
    pub width: usize,
    pub height: usize,
}

impl RawServer {
    /// Serves `pixels` (BGRx, `width` x `height`); `extra` are more x11vnc arguments.
    pub fn start(
        width: usize,
        height: usize,
        pixels: &[u8],
        extra: &[&str],
    ) -> Result<Self, String> {
        Self::start_on(None, width, height, pixels, extra)
    }

    /// The same on `port` (None: the first free one from 6100).
    pub fn start_on(
        port: Option<u16>,
        width: usize,
        height: usize,
        pixels: &[u8],
        extra: &[&str],
    ) -> Result<Self, String> {
        let port_args = match port {
            Some(p) => ["-rfbport".to_owned(), p.to_string()],
            None => ["-autoport".to_owned(), "6100".to_owned()],
        };
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("vireo-vnc-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("fb.raw"), pixels).map_err(|e| e.to_string())?;
        let input_log = dir.join("input.log");
        std::fs::write(&input_log, b"").map_err(|e| e.to_string())?;
        let mut child = Command::new("x11vnc")
            .arg("-rawfb")
            // "+" keeps the X display open: its remote-control channel is how `resize`
            // switches the picture.
            .arg(format!("+{}", rawfb(&dir.join("fb.raw"), width, height)))
            .arg("-pipeinput")
            .arg(format!("cat >> {}", input_log.display()))
            .args(&port_args)
            .args(["-localhost", "-forever", "-shared", "-nocursor"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("x11vnc: {e}"))?;
        // x11vnc prints the port it listens on as PORT=N once ready.
        let stdout = child.stdout.take().ok_or("no x11vnc stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("PORT=") {
                    let _ = tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(Some(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("x11vnc did not start".into());
            }
        };
        Ok(Self {
            child,
            port,
            file: dir.join("fb.raw"),
            dir,
            width,
            height,
        })
    }

    /// Overwrites the served picture in place (x11vnc maps the file and polls it).
    pub fn repaint(&self, pixels: &[u8]) -> Result<(), String> {
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.file)
            .map_err(|e| e.to_string())?;
        f.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| e.to_string())?;
        f.write_all(pixels).map_err(|e| e.to_string())
    }

    /// Key events x11vnc received: (down, keysym name), in order.
    pub fn keys(&self) -> Vec<(bool, String)> {
        let log = std::fs::read_to_string(self.dir.join("input.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.first() == Some(&"Keysym") && f.len() >= 5)
                    .then(|| (f[2] == "1", f[4].to_string()))
            })
            .collect()
    }

    /// Pointer events x11vnc received: (x, y, button mask).
    pub fn pointer(&self) -> Vec<(i32, i32, i32)> {
        let log = std::fs::read_to_string(self.dir.join("input.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.first() != Some(&"Pointer") || f.len() < 5 {
                    return None;
                }
                Some((f[2].parse().ok()?, f[3].parse().ok()?, f[4].parse().ok()?))
            })
            .collect()
    }

    /// Serves a picture of another size (`pixels`, BGRx): the server tells its clients
    /// the desktop was resized. Only one server may run on the display meanwhile.
    pub fn resize(&mut self, width: usize, height: usize, pixels: &[u8]) -> Result<(), String> {
        let file = self.dir.join(format!("fb-{width}x{height}.raw"));
        std::fs::write(&file, pixels).map_err(|e| e.to_string())?;
        let status = Command::new("x11vnc")
            .arg("-R")
            .arg(format!("rawfb:+{}", rawfb(&file, width, height)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("x11vnc -R: {e}"))?;
        if !status.success() {
            return Err(format!("x11vnc -R: {status}"));
        }
        (self.file, self.width, self.height) = (file, width, height);
        Ok(())
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// x11vnc's `-rawfb` description of a BGRx file.
fn rawfb(file: &Path, width: usize, height: usize) -> String {
    format!(
        "map:{}@{width}x{height}x32:ff0000/00ff00/0000ff",
        file.display()
    )
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Moves the X pointer over framebuffer pixel (`fx`, `fy`) of `display` in `window`.
pub fn move_pointer_to(
    window: &gtk::Window,
    display: &vireo::ui::console::GuestDisplay,
    fx: f32,
    fy: f32,
) -> Result<(), String> {
    let (x, y) = window_point(window, display, fx, fy)?;
    let title = format!("vireo-vnc-pointer-{}", std::process::id());
    window.set_title(Some(&title));
    pump(Duration::from_millis(200));
    xdotool(&[
        "search",
        "--sync",
        "--name",
        &title,
        "mousemove",
        "--window",
        "%1",
        &x.to_string(),
        &y.to_string(),
    ]);
    Ok(())
}

/// Where framebuffer pixel (`fx`, `fy`) of `display` is, in `window`'s X11 window
/// coordinates (what `xdotool mousemove --window` takes).
fn window_point(
    window: &gtk::Window,
    display: &vireo::ui::console::GuestDisplay,
    fx: f32,
    fy: f32,
) -> Result<(i32, i32), String> {
    let canvas = canvas_of(display)?
        .downcast::<vireo::ui::console::display::canvas::DisplayCanvas>()
        .map_err(|_| "the canvas is not a DisplayCanvas")?;
    let rect = canvas.frame_rect().ok_or("no frame")?;
    let point = canvas
        .compute_point(
            window,
            &gtk::graphene::Point::new(rect.x() + fx + 0.5, rect.y() + fy + 0.5),
        )
        .ok_or("no point")?;
    let (sx, sy) = window.native().ok_or("no native")?.surface_transform();
    Ok((
        (point.x() as f64 + sx) as i32,
        (point.y() as f64 + sy) as i32,
    ))
}
