//! A screenshot of a domain's display, taken through a libvirt connection and decoded
//! with gdk-pixbuf, so tests can check the guest's VGA picture pixel by pixel.
//!
//! `virDomainScreenshot` streams the image (PNG or PPM, whatever QEMU produced); the
//! blocking stream is read on the connection's worker thread, never the main thread.

#![allow(dead_code)]

use std::ffi::c_int;

use gtk::gdk_pixbuf::{prelude::*, Pixbuf, PixbufLoader};
use virt::connect::Connect;
use virt::sys;

fn last_error() -> String {
    virt::error::Error::last_error().message().to_owned()
}

/// The encoded image of screen 0 of the domain with `uuid`, and its MIME type.
/// Blocking: call it on a worker thread (e.g. `ConnectionObject::with_connect`).
pub fn screenshot_bytes(conn: &Connect, uuid: &str) -> Result<(String, Vec<u8>), String> {
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

/// Decodes an image libvirt sent.
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
