//! The client-side framebuffer gvnc decodes into, and the textures made from it.
//!
//! gvnc writes pixels into memory we own (its `BaseFramebuffer` constructor is not bound
//! in the crate: `crate::ffi::gvnc` wraps it). The local pixel format is 32-bit
//! little-endian BGRx: cairo's `RGB24` as it is, and GDK's `B8G8R8A8_PREMULTIPLIED` once
//! the padding byte is 0xff (the server leaves it 0, so the texture copy sets it).
//! Texture buffers are recycled through a small pool, which saves a fresh 8 MiB
//! allocation (and its page faults) for every 1080p frame.

use std::sync::{Arc, Mutex};

use gtk::cairo;
use gtk::prelude::*;
use gtk::{gdk, glib};

use crate::ffi::gvnc::ImageFramebuffer;

const BYTES_PER_PIXEL: usize = 4;
/// Buffers kept for reuse: one on screen, one being built, one spare.
const POOL_SIZE: usize = 3;

/// The 32-bit true-colour format asked of the server and used locally.
pub fn local_pixel_format() -> gvnc::PixelFormat {
    gvnc::PixelFormat::new_with(
        (255, 255, 255),
        (16, 8, 0),
        24,
        32,
        gvnc::ByteOrder::Little,
        1,
    )
    .expect("a constant pixel format is valid")
}

/// A framebuffer of a given size, registered with the connection.
///
/// The pixels are the data of a cairo `RGB24` image surface (cairo's xRGB32 is this very
/// layout and ignores the padding byte), so the cairo renderer draws straight from the
/// memory gvnc decodes into, with no copy; the GL renderer gets textures instead.
pub struct Framebuffer {
    inner: ImageFramebuffer,
    width: usize,
    height: usize,
    stride: usize,
    /// The pixels live in the image given to `new` (shared memory), not a plain one.
    in_storage: bool,
}

impl Framebuffer {
    /// Allocates a `width` x `height` framebuffer converting from `remote` to the local
    /// format (a plain copy when the server honoured our format).
    ///
    /// `storage`, an RGB24 image of that size, holds the pixels when given (X11 shared
    /// memory, see `crate::ffi::x11_shm`); otherwise a plain image does.
    pub fn new(
        width: u16,
        height: u16,
        remote: &gvnc::PixelFormat,
        storage: Option<cairo::ImageSurface>,
    ) -> Result<Self, cairo::Error> {
        let (w, h) = (width.max(1) as i32, height.max(1) as i32);
        let storage = storage.filter(|image| {
            image.format() == cairo::Format::Rgb24 && (image.width(), image.height()) == (w, h)
        });
        let in_storage = storage.is_some();
        let surface = match storage {
            Some(image) => image,
            None => cairo::ImageSurface::create(cairo::Format::Rgb24, w, h)?,
        };
        let stride = surface.stride() as usize;
        let inner = ImageFramebuffer::new(surface, &local_pixel_format(), remote)?;
        Ok(Self {
            inner,
            width: w as usize,
            height: h as usize,
            stride,
            in_storage,
        })
    }

    pub fn gvnc(&self) -> &gvnc::BaseFramebuffer {
        self.inner.gvnc()
    }

    /// The pixels as a cairo surface (they change under it as updates arrive).
    pub fn surface(&self) -> &cairo::ImageSurface {
        self.inner.surface()
    }

    /// True when the pixels live in the storage given to `new`.
    pub fn in_storage(&self) -> bool {
        self.in_storage
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The raw BGRx pixels, rows `stride` bytes apart.
    fn pixels(&self) -> &[u8] {
        self.inner.pixels()
    }
}

/// Recycles texture buffers once GTK has dropped the textures made from them.
#[derive(Clone, Default)]
pub struct TexturePool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// A pooled buffer that returns itself to the pool when the texture is freed.
struct Pooled {
    data: Vec<u8>,
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Ok(mut free) = self.pool.lock() {
            if free.len() < POOL_SIZE {
                free.push(std::mem::take(&mut self.data));
            }
        }
    }
}

impl TexturePool {
    fn take(&self, len: usize) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut free| {
            let i = free.iter().position(|b| b.len() == len)?;
            Some(free.swap_remove(i))
        });
        reused.unwrap_or_else(|| vec![0u8; len])
    }

    /// An opaque `B8G8R8A8_PREMULTIPLIED` texture of the whole framebuffer as it is now.
    pub fn texture(&self, fb: &Framebuffer) -> gdk::Texture {
        self.texture_of(fb.width, fb.height, fb.stride, fb.pixels())
    }

    /// An opaque texture of `width` x `height` BGRx pixels, rows `stride` bytes apart
    /// (a framebuffer of ours, or a protocol session's screen).
    pub fn texture_of(
        &self,
        width: usize,
        height: usize,
        stride: usize,
        pixels: &[u8],
    ) -> gdk::Texture {
        let row = width * BYTES_PER_PIXEL;
        let mut data = self.take(row * height);
        for (dst, src) in data.chunks_exact_mut(row).zip(pixels.chunks(stride)) {
            copy_opaque(&src[..row], dst);
        }
        let bytes = glib::Bytes::from_owned(Pooled {
            data,
            pool: self.free.clone(),
        });
        gdk::MemoryTexture::new(
            width as i32,
            height as i32,
            gdk::MemoryFormat::B8g8r8a8Premultiplied,
            &bytes,
            row,
        )
        .upcast()
    }
}

/// Copies BGRx pixels setting every padding byte to 0xff. Written over `u32` words so
/// the compiler vectorises it: it runs at about the speed of a plain copy.
fn copy_opaque(src: &[u8], dst: &mut [u8]) {
    for (d, s) in dst
        .chunks_exact_mut(BYTES_PER_PIXEL)
        .zip(src.chunks_exact(BYTES_PER_PIXEL))
    {
        let px = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) | 0xff00_0000;
        d.copy_from_slice(&px.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_becomes_opaque() {
        let src = [1u8, 2, 3, 0, 4, 5, 6, 0];
        let mut dst = [0u8; 8];
        copy_opaque(&src, &mut dst);
        assert_eq!(dst, [1, 2, 3, 255, 4, 5, 6, 255]);
    }
}
