//! A domain's serial console as a non-blocking libvirt stream read in bounded chunks.
//!
//! [`open`] runs `virDomainOpenConsole` (a blocking call: run it on a worker thread) and
//! returns an [`OpenedConsole`] that can cross threads. [`OpenedConsole::start`], on the
//! thread that runs libvirt's event loop (GLib's default main context in Vireo), adds the
//! stream callback and gives a [`ConsoleStream`].
//!
//! Flow control: a guest flooding its console keeps the stream readable at every poll,
//! and libvirt's fd watch has GLib's default priority, above drawing: reading whenever
//! readable would starve redraws. So every readable callback reads at most
//! `max_per_turn` bytes, then stops listening for READABLE and asks the caller's
//! `defer` hook (an idle of lower priority than drawing) to listen again. Each main-loop
//! turn thus reads one bounded chunk and still draws.
//!
//! The `virt` crate's `Stream` is not used: its callback keeps a pointer to the (movable)
//! wrapper and its `Drop` panics on libvirt errors. The raw stream is owned here instead.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void, CString};
use std::ptr::NonNull;
use std::rc::{Rc, Weak};

use virt::connect::Connect;
use virt::sys;

use super::error::{Result, VirtError};
use super::handles::DomainRef;

/// How many bytes one main-loop turn reads at most, by default.
pub const DEFAULT_MAX_PER_TURN: usize = 64 * 1024;
/// One `virStreamRecv` call's buffer.
const READ_CHUNK: usize = 16 * 1024;
/// libvirt's `VIR_ERR_OPERATION_FAILED`: what `virDomainOpenConsole` reports when another
/// client holds the console ("Active console session exists for this domain").
pub const ERR_OPERATION_FAILED: i32 = sys::VIR_ERR_OPERATION_FAILED as i32;
/// libvirt's `VIR_ERR_OPERATION_INVALID` ("domain is not running").
pub const ERR_OPERATION_INVALID: i32 = sys::VIR_ERR_OPERATION_INVALID as i32;

/// Schedules work for a later main-loop turn (after drawing). Vireo passes a GLib idle.
pub type Defer = Rc<dyn Fn(Box<dyn FnOnce()>)>;

/// What the stream tells its owner.
#[derive(Debug)]
pub enum ConsoleEvent<'a> {
    /// Bytes from the guest.
    Data(&'a [u8]),
    /// The stream is over; no event follows.
    Closed(CloseReason),
}

/// Why a console stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The other end closed the stream (the guest's QEMU went away, or libvirt gave the
    /// console to another client).
    EndOfStream,
    /// The stream reported a hang-up or an error event without a message.
    HangUp,
    /// A libvirt call on the stream failed (libvirt's message).
    Error(VirtError),
}

/// True when `virDomainOpenConsole` failed because another client holds the console.
pub fn is_busy_error(e: &VirtError) -> bool {
    e.code() == ERR_OPERATION_FAILED
}

/// True when `virDomainOpenConsole` failed because the domain is not running.
pub fn is_not_running_error(e: &VirtError) -> bool {
    e.code() == ERR_OPERATION_INVALID
}

/// A console stream opened but not yet listened to. Aborted and freed if dropped.
pub struct OpenedConsole {
    stream: NonNull<sys::virStream>,
}

// SAFETY: libvirt streams are thread safe objects; ownership of the one reference moves.
unsafe impl Send for OpenedConsole {}

impl Drop for OpenedConsole {
    fn drop(&mut self) {
        release_stream(self.stream.as_ptr(), true);
    }
}

/// Opens the console `device` (a device alias such as `serial0` or `console1`; `None` is
/// the domain's first console) of the running domain `uuid`. `force` takes the console
/// over from another client. Blocking: call it on a worker thread.
pub fn open(
    conn: &Connect,
    uuid: &str,
    device: Option<&str>,
    force: bool,
) -> Result<OpenedConsole> {
    let dom = DomainRef::lookup_uuid(conn, uuid)?;
    let device = device.map(CString::new).transpose()?;
    // SAFETY: valid connection; the new stream reference is owned by `opened` at once.
    let raw = unsafe { sys::virStreamNew(conn.as_ptr(), sys::VIR_STREAM_NONBLOCK) };
    let stream = NonNull::new(raw).ok_or_else(|| VirtError::last("virStreamNew"))?;
    let opened = OpenedConsole { stream };
    let flags = if force {
        sys::VIR_DOMAIN_CONSOLE_FORCE
    } else {
        0
    };
    // SAFETY: valid domain and stream; the device name outlives the call.
    let r = unsafe {
        sys::virDomainOpenConsole(
            dom.as_ptr(),
            device.as_ref().map_or(std::ptr::null(), |d| d.as_ptr()),
            opened.stream.as_ptr(),
            flags,
        )
    };
    if r < 0 {
        return Err(VirtError::last("virDomainOpenConsole"));
    }
    Ok(opened)
}

/// The owner's callback.
type Handler = Box<dyn FnMut(ConsoleEvent<'_>)>;

struct Inner {
    /// Null once released.
    stream: Cell<sys::virStreamPtr>,
    handler: RefCell<Option<Handler>>,
    defer: Defer,
    max_per_turn: Cell<usize>,
    /// Bytes typed but not yet accepted by the stream.
    pending_out: RefCell<Vec<u8>>,
    reading: Cell<bool>,
    resume_scheduled: Cell<bool>,
    closed: Cell<bool>,
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
}

/// A listening console stream. Closed (callback removed, stream aborted) on drop.
pub struct ConsoleStream {
    inner: Rc<Inner>,
}

impl OpenedConsole {
    /// Starts listening: `handler` receives the guest's bytes and, once, the end of the
    /// stream. Call on the thread that runs libvirt's event loop.
    pub fn start(
        self,
        defer: Defer,
        handler: impl FnMut(ConsoleEvent<'_>) + 'static,
    ) -> Result<ConsoleStream> {
        let stream = self.stream.as_ptr();
        std::mem::forget(self);
        let inner = Rc::new(Inner {
            stream: Cell::new(stream),
            handler: RefCell::new(Some(Box::new(handler))),
            defer,
            max_per_turn: Cell::new(DEFAULT_MAX_PER_TURN),
            pending_out: RefCell::default(),
            reading: Cell::new(true),
            resume_scheduled: Cell::new(false),
            closed: Cell::new(false),
            bytes_in: Cell::new(0),
            bytes_out: Cell::new(0),
        });
        // The registration owns one strong reference, given back in `free_opaque`.
        let opaque = Rc::into_raw(inner.clone()) as *mut c_void;
        // SAFETY: valid stream; `on_event` and `free_opaque` agree on the opaque type.
        let r = unsafe {
            sys::virStreamEventAddCallback(
                stream,
                inner.interest(),
                Some(on_event),
                opaque,
                Some(free_opaque),
            )
        };
        if r < 0 {
            let e = VirtError::last("virStreamEventAddCallback");
            // SAFETY: libvirt did not take the opaque pointer.
            unsafe { free_opaque(opaque) };
            inner.closed.set(true);
            release_stream(inner.stream.replace(std::ptr::null_mut()), true);
            return Err(e);
        }
        Ok(ConsoleStream { inner })
    }
}

impl ConsoleStream {
    /// Queues `data` for the guest and sends what the stream accepts now; the rest goes
    /// when the stream becomes writable. Errors end the stream (reported to the handler).
    pub fn send(&self, data: &[u8]) {
        let inner = &self.inner;
        if inner.closed.get() || data.is_empty() {
            return;
        }
        inner.pending_out.borrow_mut().extend_from_slice(data);
        inner.flush();
    }

    /// Changes how many bytes one main-loop turn reads at most (at least 1 KiB).
    pub fn set_max_per_turn(&self, bytes: usize) {
        self.inner.max_per_turn.set(bytes.max(1024));
    }

    /// Bytes received from the guest so far.
    pub fn bytes_received(&self) -> u64 {
        self.inner.bytes_in.get()
    }

    /// Bytes sent to the guest so far.
    pub fn bytes_sent(&self) -> u64 {
        self.inner.bytes_out.get()
    }

    /// True once the stream ended or was closed.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// Stops listening and releases the stream (safe inside the handler). No event is
    /// delivered after this.
    pub fn close(&self) {
        self.inner.shut(None);
    }
}

impl Drop for ConsoleStream {
    fn drop(&mut self) {
        self.inner.shut(None);
    }
}

impl Inner {
    fn interest(&self) -> c_int {
        let mut events = sys::VIR_STREAM_EVENT_ERROR | sys::VIR_STREAM_EVENT_HANGUP;
        if self.reading.get() {
            events |= sys::VIR_STREAM_EVENT_READABLE;
        }
        if !self.pending_out.borrow().is_empty() {
            events |= sys::VIR_STREAM_EVENT_WRITABLE;
        }
        events as c_int
    }

    fn update_interest(&self) {
        let stream = self.stream.get();
        if self.closed.get() || stream.is_null() {
            return;
        }
        // SAFETY: valid stream with a registered callback.
        if unsafe { sys::virStreamEventUpdateCallback(stream, self.interest()) } < 0 {
            let e = VirtError::last("virStreamEventUpdateCallback");
            self.shut(Some(CloseReason::Error(e)));
        }
    }

    fn emit(&self, event: ConsoleEvent<'_>) {
        // A handler that closes the stream from inside is fine (`shut` defers the drop);
        // a handler re-entering with another event cannot happen (one thread, no
        // nested dispatch of this callback).
        if let Ok(mut h) = self.handler.try_borrow_mut() {
            if let Some(h) = h.as_mut() {
                h(event);
            }
        }
    }

    /// Reads one bounded chunk; returns why the stream ended, if it did.
    fn read_turn(&self) -> Option<CloseReason> {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut total = 0usize;
        let max = self.max_per_turn.get();
        while total < max && !self.closed.get() {
            let want = READ_CHUNK.min(max - total);
            let stream = self.stream.get();
            // SAFETY: valid stream and buffer of at least `want` bytes.
            let n = unsafe { sys::virStreamRecv(stream, buf.as_mut_ptr().cast(), want) };
            match n {
                n if n > 0 => {
                    let n = n as usize;
                    total += n;
                    self.bytes_in.set(self.bytes_in.get() + n as u64);
                    self.emit(ConsoleEvent::Data(&buf[..n]));
                }
                -2 => return None,
                0 => return Some(CloseReason::EndOfStream),
                _ => return Some(CloseReason::Error(VirtError::last("virStreamRecv"))),
            }
        }
        None
    }

    fn flush(&self) {
        loop {
            let stream = self.stream.get();
            if self.closed.get() || stream.is_null() {
                return;
            }
            let n = {
                let pending = self.pending_out.borrow();
                if pending.is_empty() {
                    break;
                }
                // SAFETY: valid stream and buffer.
                unsafe { sys::virStreamSend(stream, pending.as_ptr().cast(), pending.len()) }
            };
            match n {
                n if n > 0 => {
                    self.pending_out.borrow_mut().drain(..n as usize);
                    self.bytes_out.set(self.bytes_out.get() + n as u64);
                }
                // Full: the WRITABLE event (asked for below) continues.
                -2 => break,
                _ => {
                    let e = VirtError::last("virStreamSend");
                    self.shut(Some(CloseReason::Error(e)));
                    return;
                }
            }
        }
        self.update_interest();
    }

    /// Ends the stream: removes the callback, tells the handler `reason` (if any), then
    /// releases the stream and the handler on a later turn (we may be inside libvirt's
    /// callback or the handler itself).
    fn shut(&self, reason: Option<CloseReason>) {
        if self.closed.replace(true) {
            return;
        }
        let stream = self.stream.replace(std::ptr::null_mut());
        if !stream.is_null() {
            // SAFETY: valid stream; the callback's opaque is freed by libvirt later.
            unsafe { sys::virStreamEventRemoveCallback(stream) };
        }
        if let Some(reason) = reason {
            self.emit(ConsoleEvent::Closed(reason));
        }
        let handler = self
            .handler
            .try_borrow_mut()
            .ok()
            .and_then(|mut h| h.take());
        let stream_addr = stream as usize;
        (self.defer)(Box::new(move || {
            drop(handler);
            release_stream(stream_addr as sys::virStreamPtr, true);
        }));
    }

    fn schedule_resume(self: &Rc<Self>) {
        if self.resume_scheduled.replace(true) {
            return;
        }
        let weak: Weak<Inner> = Rc::downgrade(self);
        (self.defer)(Box::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.resume_scheduled.set(false);
                inner.reading.set(true);
                inner.update_interest();
            }
        }));
    }
}

unsafe extern "C" fn on_event(_st: sys::virStreamPtr, events: c_int, opaque: *mut c_void) {
    // SAFETY: `opaque` is the registration's strong reference (alive until free_opaque).
    // Take a temporary strong reference so that `shut` cannot free it under us.
    let inner = unsafe {
        Rc::increment_strong_count(opaque as *const Inner);
        Rc::from_raw(opaque as *const Inner)
    };
    if inner.closed.get() {
        return;
    }
    let events = events as u32;
    if events & sys::VIR_STREAM_EVENT_WRITABLE != 0 {
        inner.flush();
    }
    if inner.closed.get() {
        return;
    }
    let broken = events & (sys::VIR_STREAM_EVENT_ERROR | sys::VIR_STREAM_EVENT_HANGUP) != 0;
    if events & sys::VIR_STREAM_EVENT_READABLE != 0 || broken {
        // On a hang-up, what is still buffered is read first.
        if let Some(reason) = inner.read_turn() {
            inner.shut(Some(reason));
            return;
        }
        if broken {
            inner.shut(Some(CloseReason::HangUp));
            return;
        }
        // Pause reading until a later turn: drawing gets its share (see module docs).
        inner.reading.set(false);
        inner.update_interest();
        inner.schedule_resume();
    }
}

unsafe extern "C" fn free_opaque(opaque: *mut c_void) {
    // SAFETY: the strong reference made in `start`.
    drop(unsafe { Rc::from_raw(opaque as *const Inner) });
}

/// Aborts (when `abort`) and frees one stream reference; null is ignored. Errors (a dead
/// connection) do not matter any more at this point.
fn release_stream(stream: sys::virStreamPtr, abort: bool) {
    if stream.is_null() {
        return;
    }
    // SAFETY: the caller owns this reference.
    unsafe {
        if abort {
            sys::virStreamAbort(stream);
        }
        sys::virStreamFree(stream);
    }
}

/// What kind of element a console device is in the domain XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// `<serial>`.
    Serial,
    /// `<console>` (virtio console, or the alias of a serial port).
    Console,
}

/// One serial port or console of a running domain, from its live XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleDevice {
    /// The alias `virDomainOpenConsole` takes (`serial0`, `console1`...).
    pub alias: String,
    pub kind: DeviceKind,
    /// `<target port>`.
    pub port: Option<u32>,
    /// `<target type>` (`isa-serial`, `virtio`, `serial`...).
    pub target_type: Option<String>,
    /// The host side (`pty`, `unix`, `file`, `null`...).
    pub source_type: String,
}

impl ConsoleDevice {
    /// libvirt can stream only pseudo-terminals and UNIX sockets.
    pub fn can_open(&self) -> bool {
        matches!(self.source_type.as_str(), "pty" | "unix")
    }
}

/// The serial ports and consoles of a domain's live XML, in document order, each alias
/// once (libvirt repeats the first serial port as `<console>` with the same alias).
/// Devices without an alias (inactive XML) are left out.
pub fn console_devices(xml: &str) -> Result<Vec<ConsoleDevice>> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))?;
    let mut found: Vec<ConsoleDevice> = Vec::new();
    let Some(devices) = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("devices"))
    else {
        return Ok(found);
    };
    for node in devices.children().filter(|n| n.is_element()) {
        let kind = match node.tag_name().name() {
            "serial" => DeviceKind::Serial,
            "console" => DeviceKind::Console,
            _ => continue,
        };
        let child = |name: &str| node.children().find(|c| c.has_tag_name(name));
        let Some(alias) = child("alias").and_then(|a| a.attribute("name")) else {
            continue;
        };
        if found.iter().any(|d| d.alias == alias) {
            continue;
        }
        let target = child("target");
        found.push(ConsoleDevice {
            alias: alias.to_owned(),
            kind,
            port: target
                .and_then(|t| t.attribute("port"))
                .and_then(|p| p.parse().ok()),
            target_type: target.and_then(|t| t.attribute("type")).map(str::to_owned),
            source_type: node.attribute("type").unwrap_or("pty").to_owned(),
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = r#"<domain type='qemu' id='3'><name>g</name><devices>
      <disk type='file' device='disk'><alias name='virtio-disk0'/></disk>
      <serial type='pty'><source path='/dev/pts/3'/>
        <target type='isa-serial' port='0'><model name='isa-serial'/></target>
        <alias name='serial0'/></serial>
      <serial type='file'><source path='/tmp/log'/>
        <target type='isa-serial' port='1'/><alias name='serial1'/></serial>
      <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/>
        <target type='serial' port='0'/><alias name='serial0'/></console>
      <console type='pty'><source path='/dev/pts/4'/>
        <target type='virtio' port='1'/><alias name='console1'/></console>
    </devices></domain>"#;

    #[test]
    fn lists_each_alias_once_in_order() {
        let d = console_devices(LIVE).unwrap();
        let aliases: Vec<_> = d.iter().map(|d| d.alias.as_str()).collect();
        assert_eq!(aliases, ["serial0", "serial1", "console1"]);
        assert_eq!(d[0].kind, DeviceKind::Serial);
        assert_eq!(d[0].port, Some(0));
        assert_eq!(d[0].target_type.as_deref(), Some("isa-serial"));
        assert!(d[0].can_open());
        assert_eq!(d[1].source_type, "file");
        assert!(!d[1].can_open());
        assert_eq!(d[2].kind, DeviceKind::Console);
        assert_eq!(d[2].target_type.as_deref(), Some("virtio"));
        assert_eq!(d[2].port, Some(1));
    }

    #[test]
    fn inactive_xml_without_aliases_gives_nothing() {
        let xml = "<domain><devices><serial type='pty'><target port='0'/></serial>\
                   <console type='pty'><target type='serial' port='0'/></console>\
                   </devices></domain>";
        assert!(console_devices(xml).unwrap().is_empty());
        assert!(console_devices("<domain/>").unwrap().is_empty());
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(matches!(
            console_devices("<domain>"),
            Err(VirtError::Xml(_))
        ));
    }

    #[test]
    fn error_classes() {
        let busy = VirtError::Libvirt {
            op: "virDomainOpenConsole",
            code: ERR_OPERATION_FAILED,
            message: "operation failed: Active console session exists for this domain".into(),
        };
        assert!(is_busy_error(&busy));
        assert!(!is_not_running_error(&busy));
        let off = VirtError::Libvirt {
            op: "virDomainOpenConsole",
            code: ERR_OPERATION_INVALID,
            message: "Requested operation is not valid: domain is not running".into(),
        };
        assert!(is_not_running_error(&off));
        assert!(!is_busy_error(&VirtError::NotConnected));
    }
}
