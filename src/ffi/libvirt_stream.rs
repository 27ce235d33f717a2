//! libvirt streams: blocking ones for jobs that run off the main thread (a domain's
//! screenshot, volume contents copied between hosts with holes kept, a new VM's
//! uploads), and non-blocking ones read on the main loop through an event callback
//! (serial consoles, see `virt::console_stream`).
//!
//! One owned type, [`StreamRef`], frees itself (aborting an unfinished transfer) on
//! every path; the `virt` crate's `Stream` is not used, as its callback keeps a pointer
//! to the movable wrapper and its `Drop` panics on libvirt errors.

use std::ffi::{c_char, c_int, c_longlong, c_void, CString};
use std::ptr::NonNull;
use std::rc::Rc;

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

/// What a non-blocking read or write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    /// This many bytes were read or written.
    Done(usize),
    /// Nothing now; the stream's event callback says when to try again.
    WouldBlock,
    /// The other end finished (reads only).
    End,
}

unsafe extern "C" fn on_stream_event(_st: sys::virStreamPtr, events: c_int, opaque: *mut c_void) {
    // SAFETY: `opaque` is the boxed callback from `add_callback`, alive until
    // `free_stream_callback`. A clone of the Rc keeps the closure alive even if the
    // callback removes itself and libvirt frees the box while it runs.
    let callback = unsafe { (*(opaque as *const Rc<dyn Fn(c_int)>)).clone() };
    // Never unwind into libvirt.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(events)));
}

unsafe extern "C" fn free_stream_callback(opaque: *mut c_void) {
    // SAFETY: made by Box::into_raw in `add_callback`; libvirt frees it once.
    drop(unsafe { Box::from_raw(opaque as *mut Rc<dyn Fn(c_int)>) });
}

/// An owned stream. Aborted on drop unless [`StreamRef::finish`] ran.
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

    /// A new non-blocking stream on `conn`, for [`Self::try_recv`], [`Self::try_send`]
    /// and an event callback.
    pub fn new_nonblocking(conn: &Connect) -> Result<Self> {
        // SAFETY: valid connection; the result is an owned stream or null.
        let p = unsafe { sys::virStreamNew(conn.as_ptr(), sys::VIR_STREAM_NONBLOCK) };
        NonNull::new(p)
            .map(|ptr| StreamRef { ptr, done: false })
            .ok_or_else(|| VirtError::last("virStreamNew"))
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> sys::virStreamPtr {
        self.ptr.as_ptr()
    }

    /// Reads what is there without blocking (non-blocking streams).
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<Polled> {
        // SAFETY: valid stream; libvirt writes at most buf.len() bytes into buf.
        let n = unsafe { sys::virStreamRecv(self.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            n if n > 0 => Ok(Polled::Done(n as usize)),
            0 => Ok(Polled::End),
            -2 => Ok(Polled::WouldBlock),
            _ => Err(VirtError::last("virStreamRecv")),
        }
    }

    /// Writes what the stream accepts now without blocking (non-blocking streams);
    /// `Done(n)` tells how many bytes went.
    pub fn try_send(&self, data: &[u8]) -> Result<Polled> {
        // SAFETY: valid stream; libvirt reads at most data.len() bytes.
        let n = unsafe { sys::virStreamSend(self.as_ptr(), data.as_ptr().cast(), data.len()) };
        match n {
            n if n >= 0 => Ok(Polled::Done(n as usize)),
            -2 => Ok(Polled::WouldBlock),
            _ => Err(VirtError::last("virStreamSend")),
        }
    }

    /// Listens for `events` (`VIR_STREAM_EVENT_*`) with `callback`, called on the thread
    /// that runs libvirt's event loop with the events that happened. libvirt owns the
    /// callback from here and frees it once [`Self::remove_callback`] ran (or the
    /// stream is freed); a callback running at that moment finishes first.
    pub fn add_callback(&self, events: c_int, callback: Rc<dyn Fn(c_int)>) -> Result<()> {
        let opaque = Box::into_raw(Box::new(callback)) as *mut c_void;
        // SAFETY: valid stream; `on_stream_event` and `free_stream_callback` agree on
        // the data's type, a boxed `Rc<dyn Fn(c_int)>`.
        let r = unsafe {
            sys::virStreamEventAddCallback(
                self.as_ptr(),
                events,
                Some(on_stream_event),
                opaque,
                Some(free_stream_callback),
            )
        };
        if r < 0 {
            let e = VirtError::last("virStreamEventAddCallback");
            // SAFETY: libvirt did not take the data: it is still ours to free.
            unsafe { free_stream_callback(opaque) };
            return Err(e);
        }
        Ok(())
    }

    /// Changes the events the callback listens for.
    pub fn update_callback(&self, events: c_int) -> Result<()> {
        // SAFETY: valid stream with a registered callback.
        let r = unsafe { sys::virStreamEventUpdateCallback(self.as_ptr(), events) };
        check("virStreamEventUpdateCallback", r).map(drop)
    }

    /// Stops the callback (libvirt then frees it). Errors (a dead connection) do not
    /// matter at this point.
    pub fn remove_callback(&self) {
        // SAFETY: valid stream.
        unsafe { sys::virStreamEventRemoveCallback(self.as_ptr()) };
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

/// Opens the console `device` (an alias; `None`: the first console) of `d` into the
/// non-blocking `stream`; `force` takes it over from another client.
pub fn open_console(
    d: &DomainRef,
    device: Option<&str>,
    stream: &StreamRef,
    force: bool,
) -> Result<()> {
    let device = device.map(CString::new).transpose()?;
    let flags = if force {
        sys::VIR_DOMAIN_CONSOLE_FORCE
    } else {
        0
    };
    // SAFETY: valid domain and stream; the device name outlives the call.
    let r = unsafe {
        sys::virDomainOpenConsole(
            d.as_ptr(),
            device.as_ref().map_or(std::ptr::null(), |d| d.as_ptr()),
            stream.as_ptr(),
            flags,
        )
    };
    check("virDomainOpenConsole", r).map(drop)
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
