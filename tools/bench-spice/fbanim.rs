//! Guest side of tools/bench-spice.sh: repaints the whole Linux framebuffer (/dev/fb0)
//! as fast as asked (default 60 times a second), with the frame counter of
//! tools/bench-vnc.py in the top-left corner, so a viewer's frames can be counted off
//! its screen. Prints "VIREO-FBANIM <w>x<h> fps=<n>" every 5 s on standard output.
//!
//! Built static (std only) by the bench script and put into the guest's initramfs:
//!     rustc -O -C target-feature=+crt-static tools/bench-spice/fbanim.rs
//! Usage: fbanim [FPS]

use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

const CELL: usize = 32;
const BITS: usize = 16;
const RED: u32 = 0xff0000;
const GREEN: u32 = 0x00ff00;
const WHITE: u32 = 0xffffff;
const BLACK: u32 = 0x000000;

fn sysfs(name: &str) -> String {
    fs::read_to_string(format!("/sys/class/graphics/fb0/{name}"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The moving gradients of bench-vnc.py's source: frame `i` of the cycle.
fn render(w: usize, h: usize, stride: usize, i: usize) -> Vec<u8> {
    let s = 24 * i;
    let mut data = vec![0u8; stride * h];
    for y in 0..h {
        let row = &mut data[y * stride..y * stride + w * 4];
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let r = ((x + s) & 255) * 3 / 4;
            let g = (y + 2 * s) & 255;
            let b = ((x ^ y) + 3 * s) & 255;
            px.copy_from_slice(&[b as u8, g as u8, r as u8, 0]);
        }
    }
    data
}

fn fill(data: &mut [u8], stride: usize, cx: usize, cy: usize, rgb: u32) {
    let px = [(rgb & 0xff) as u8, (rgb >> 8) as u8, (rgb >> 16) as u8, 0];
    for y in cy * CELL..(cy + 1) * CELL {
        for x in cx * CELL..(cx + 1) * CELL {
            let i = y * stride + x * 4;
            data[i..i + 4].copy_from_slice(&px);
        }
    }
}

/// Red and green markers, then the bits of `value` (white = 1) and below them the
/// inverted bits, as bench-vnc.py draws and reads them.
fn counter(data: &mut [u8], stride: usize, value: u16) {
    fill(data, stride, 0, 0, RED);
    fill(data, stride, 1, 1, RED);
    fill(data, stride, 1, 0, GREEN);
    fill(data, stride, 0, 1, GREEN);
    for i in 0..BITS {
        let bit = (value >> (BITS - 1 - i)) & 1 == 1;
        fill(data, stride, 2 + i, 0, if bit { WHITE } else { BLACK });
        fill(data, stride, 2 + i, 1, if bit { BLACK } else { WHITE });
    }
}

fn main() {
    let fps: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(60.0);
    let size = sysfs("virtual_size");
    let (w, h) = size
        .split_once(',')
        .and_then(|(w, h)| Some((w.parse::<usize>().ok()?, h.parse::<usize>().ok()?)))
        .expect("/sys/class/graphics/fb0/virtual_size");
    let stride: usize = sysfs("stride").parse().unwrap_or(w * 4);
    assert_eq!(sysfs("bits_per_pixel"), "32", "a 32-bit framebuffer");
    let mut frames: Vec<Vec<u8>> = (0..8).map(|i| render(w, h, stride, i)).collect();
    let mut fb = File::options().write(true).open("/dev/fb0").expect("/dev/fb0");
    let period = Duration::from_secs_f64(1.0 / fps);
    let (mut due, mut n, mut report, mut since) = (Instant::now(), 0usize, Instant::now(), 0);
    println!("VIREO-FBANIM {w}x{h} started");
    loop {
        let frame = &mut frames[n % 8];
        counter(frame, stride, n as u16);
        fb.seek(SeekFrom::Start(0)).expect("seek");
        fb.write_all(frame).expect("write /dev/fb0");
        n += 1;
        since += 1;
        if report.elapsed() >= Duration::from_secs(5) {
            println!(
                "VIREO-FBANIM {w}x{h} fps={:.1}",
                since as f64 / report.elapsed().as_secs_f64()
            );
            report = Instant::now();
            since = 0;
        }
        due += period;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > Duration::from_secs(1) {
            due = now;
        }
    }
}
