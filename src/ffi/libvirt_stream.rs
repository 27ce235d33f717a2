//! Blocking libvirt streams for jobs that run off the main thread: a domain's
//! screenshot and volume contents copied between hosts (holes kept).
//!
//! The console streams (non-blocking, with main-loop callbacks) live elsewhere; these
//! are plain blocking reads and writes on a worker or job thread.

use std::ffi::{c_char, c_longlong};
use std::ptr::NonNull;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{check, Result, VirtError};
use crate::virt::handles::{take_c_string, DomainRef};

/// What one read from a stream gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// This many bytes were written to the buffer.
    Data(usize),
    /// A hole of this many bytes (sparse streams only).
    Hole(u64),
    /// The sender finished.
    End,
}

/// An owned blocking stream. Aborted on drop unless [`StreamRef::finish`] ran.
pub struct StreamRef {
    ptr: NonNull<sys::virStream>,
    done: bool,
}

// SAFETY: a libvirt stream may be used from any one thread at a time; the owner moves
// it between threads, never shares it.
unsafe impl Send for StreamRef {}

impl StreamRef {
    /// A new blocking stream on `conn`.
    pub fn new(conn: &Connect) -> Result<Self> {
        // SAFETY: valid connection; the result is an owned stream or null.
        let p = unsafe { sys::virStreamNew(conn.as_ptr(), 0) };
        NonNull::new(p)
            .map(|ptr| StreamRef { ptr, done: false })
            .ok_or_else(|| VirtError::last("virStreamNew"))
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> sys::virStreamPtr {
        self.ptr.as_ptr()
    }

    /// Reads what is there (blocking); on a sparse stream stops at a hole.
    pub fn recv(&mut self, buf: &mut [u8], sparse: bool) -> Result<Received> {
        // SAFETY: valid stream; libvirt writes at most buf.len() bytes into buf. The
        // plain call where holes do not matter: local drivers' streams (the test
        // driver's screenshot) lack virStreamRecvFlags.
        let n = unsafe {
            let data = buf.as_mut_ptr() as *mut c_char;
            if sparse {
                sys::virStreamRecvFlags(
                    self.as_ptr(),
                    data,
                    buf.len(),
                    sys::VIR_STREAM_RECV_STOP_AT_HOLE,
                )
            } else {
                sys::virStreamRecv(self.as_ptr(), data, buf.len())
            }
        };
        match n {
            n if n > 0 => Ok(Received::Data(n as usize)),
            0 => Ok(Received::End),
            -3 => {
                let mut len: c_longlong = 0;
                // SAFETY: valid stream and out pointer; called right after -3 as the
                // API asks.
                let r = unsafe { sys::virStreamRecvHole(self.as_ptr(), &mut len, 0) };
                check("virStreamRecvHole", r)?;
                Ok(Received::Hole(len.max(0) as u64))
            }
            _ => Err(VirtError::last(if sparse {
                "virStreamRecvFlags"
            } else {
                "virStreamRecv"
            })),
        }
    }

    /// Writes all of `data` (blocking).
    pub fn send_all(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            // SAFETY: valid stream; libvirt reads at most data.len() bytes.
            let n = unsafe {
                sys::virStreamSend(self.as_ptr(), data.as_ptr() as *const c_char, data.len())
            };
            let n = check("virStreamSend", n)? as usize;
            data = &data[n..];
        }
        Ok(())
    }

    /// Writes a hole of `len` bytes (sparse streams only).
    pub fn send_hole(&mut self, len: u64) -> Result<()> {
        // SAFETY: valid stream.
        let r = unsafe { sys::virStreamSendHole(self.as_ptr(), len as c_longlong, 0) };
        check("virStreamSendHole", r).map(drop)
    }

    /// Ends the transfer cleanly (the receiving side's job then completes).
    pub fn finish(mut self) -> Result<()> {
        self.done = true;
        // SAFETY: valid stream; freed by Drop.
        let r = unsafe { sys::virStreamFinish(self.as_ptr()) };
        check("virStreamFinish", r).map(drop)
    }
}

impl Drop for StreamRef {
    fn drop(&mut self) {
        // SAFETY: we own the stream; an unfinished transfer is aborted first so the
        // other side's job ends too.
        unsafe {
            if !self.done {
                sys::virStreamAbort(self.as_ptr());
            }
            sys::virStreamFree(self.as_ptr());
        }
    }
}

/// A screenshot of the domain's first screen: the MIME type libvirt gives (QEMU:
/// `image/x-portable-pixmap`) and the picture's bytes. Blocks until all is read.
pub fn screenshot(conn: &Connect, d: &DomainRef) -> Result<(String, Vec<u8>)> {
    let mut st = StreamRef::new(conn)?;
    // SAFETY: valid domain and stream; the returned MIME string is ours to free.
    let mime = unsafe { take_c_string(sys::virDomainScreenshot(d.as_ptr(), st.as_ptr(), 0, 0)) }
        .ok_or_else(|| VirtError::last("virDomainScreenshot"))?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match st.recv(&mut buf, false)? {
            Received::Data(n) => out.extend_from_slice(&buf[..n]),
            Received::Hole(_) => {}
            Received::End => break,
        }
    }
    st.finish()?;
    Ok((mime, out))
}
