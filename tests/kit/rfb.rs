//! A minimal VNC (RFB 3.8) client for tests that check what reaches a socket: version
//! string, security type None, one full frame in raw encoding, 32-bit pixels. Enough
//! to prove that a socket leads to a real VNC server and what its screen shows.

use std::io::{self, Read, Write};
use std::time::Duration;

/// One full frame.
pub struct Frame {
    /// The server's version string ("RFB 003.008").
    pub version: String,
    /// The desktop's name ("QEMU (NAME)").
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGB, row by row.
    pub rgb: Vec<u8>,
}

impl Frame {
    /// The pixel at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let at = ((y * self.width + x) * 3) as usize;
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }
}

fn read_n(s: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

fn be16(b: &[u8]) -> u32 {
    u32::from(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads just the server's version string (the first thing a VNC server says).
pub fn version(stream: &mut std::os::unix::net::UnixStream) -> io::Result<String> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(String::from_utf8_lossy(&read_n(stream, 12)?)
        .trim()
        .to_owned())
}

/// Handshakes and fetches one full frame; every read waits at most `timeout`.
pub fn capture(
    stream: &mut std::os::unix::net::UnixStream,
    timeout: Duration,
) -> io::Result<Frame> {
    stream.set_read_timeout(Some(timeout))?;
    let version = String::from_utf8_lossy(&read_n(stream, 12)?)
        .trim()
        .to_owned();
    if !version.starts_with("RFB ") {
        return Err(bad(format!("not an RFB server: {version:?}")));
    }
    stream.write_all(b"RFB 003.008\n")?;
    let count = read_n(stream, 1)?[0] as usize;
    if count == 0 {
        let len = be32(&read_n(stream, 4)?) as usize;
        let why = String::from_utf8_lossy(&read_n(stream, len)?).into_owned();
        return Err(bad(format!("server refused: {why}")));
    }
    if !read_n(stream, count)?.contains(&1) {
        return Err(bad("no security type None".into()));
    }
    stream.write_all(&[1])?;
    if be32(&read_n(stream, 4)?) != 0 {
        return Err(bad("security handshake failed".into()));
    }
    stream.write_all(&[1])?; // ClientInit: shared
    let init = read_n(stream, 24)?;
    let (width, height) = (be16(&init[0..2]), be16(&init[2..4]));
    let name_len = be32(&init[20..24]) as usize;
    let name = String::from_utf8_lossy(&read_n(stream, name_len)?).into_owned();
    // SetPixelFormat: 32 bpp, depth 24, little endian, true colour, B G R X in memory.
    let mut msg = vec![
        0u8, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
    ];
    // SetEncodings: raw only.
    msg.extend_from_slice(&[2, 0, 0, 1, 0, 0, 0, 0]);
    // FramebufferUpdateRequest, not incremental, the whole screen.
    msg.extend_from_slice(&[3, 0, 0, 0, 0, 0]);
    msg.extend_from_slice(&(width as u16).to_be_bytes());
    msg.extend_from_slice(&(height as u16).to_be_bytes());
    stream.write_all(&msg)?;
    let mut rgb = vec![0u8; (width * height * 3) as usize];
    let mut covered = 0u64;
    while covered < u64::from(width * height) {
        let head = read_n(stream, 4)?;
        if head[0] != 0 {
            return Err(bad(format!("unexpected server message {}", head[0])));
        }
        for _ in 0..be16(&head[2..4]) {
            let r = read_n(stream, 12)?;
            let (x, y, w, h) = (
                be16(&r[0..2]),
                be16(&r[2..4]),
                be16(&r[4..6]),
                be16(&r[6..8]),
            );
            if be32(&r[8..12]) != 0 {
                return Err(bad("unexpected encoding".into()));
            }
            let data = read_n(stream, (w * h * 4) as usize)?;
            for row in 0..h {
                for col in 0..w {
                    let src = ((row * w + col) * 4) as usize;
                    let dst = (((y + row) * width + x + col) * 3) as usize;
                    rgb[dst..dst + 3].copy_from_slice(&[data[src + 2], data[src + 1], data[src]]);
                }
            }
            covered += u64::from(w * h);
        }
    }
    Ok(Frame {
        version,
        name,
        width,
        height,
        rgb,
    })
}
