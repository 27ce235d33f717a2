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
//! The stream itself is the FFI room's owned [`StreamRef`], which frees itself (aborted)
//! on every path.

use std::cell::{Cell, RefCell};
use std::ffi::c_int;
use std::rc::{Rc, Weak};

use virt::connect::Connect;
use virt::sys;

use super::error::{Result, VirtError};
use super::handles::DomainRef;
use crate::ffi::libvirt_stream::{open_console, Polled, StreamRef};

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
    stream: StreamRef,
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
    let stream = StreamRef::new_nonblocking(conn)?;
    open_console(&dom, device, &stream, force)?;
    Ok(OpenedConsole { stream })
}

/// The owner's callback.
type Handler = Box<dyn FnMut(ConsoleEvent<'_>)>;

struct Inner {
    /// `None` once released.
    stream: RefCell<Option<StreamRef>>,
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
        let inner = Rc::new(Inner {
            stream: RefCell::new(None),
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
        // The registration owns one strong reference, dropped when libvirt frees the
        // callback.
        let registered = inner.clone();
        let callback = Rc::new(move |events: c_int| on_event(&registered, events));
        if let Err(e) = self.stream.add_callback(inner.interest(), callback) {
            inner.closed.set(true);
            // Dropping the stream aborts and frees it.
            return Err(e);
        }
        inner.stream.replace(Some(self.stream));
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
        if self.closed.get() {
            return;
        }
        let r = match self.stream.borrow().as_ref() {
            Some(stream) => stream.update_callback(self.interest()),
            None => return,
        };
        if let Err(e) = r {
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
            // The borrow ends before the handler runs (it may close the stream).
            let polled = match self.stream.borrow().as_ref() {
                Some(stream) => stream.try_recv(&mut buf[..want]),
                None => return None,
            };
            match polled {
                Ok(Polled::Done(n)) => {
                    total += n;
                    self.bytes_in.set(self.bytes_in.get() + n as u64);
                    self.emit(ConsoleEvent::Data(&buf[..n]));
                }
                Ok(Polled::WouldBlock) => return None,
                Ok(Polled::End) => return Some(CloseReason::EndOfStream),
                Err(e) => return Some(CloseReason::Error(e)),
            }
        }
        None
    }

    fn flush(&self) {
        loop {
            if self.closed.get() {
                return;
            }
            let sent = {
                let pending = self.pending_out.borrow();
                if pending.is_empty() {
                    break;
                }
                match self.stream.borrow().as_ref() {
                    Some(stream) => stream.try_send(&pending),
                    None => return,
                }
            };
            match sent {
                // libvirt's send returns 0 only for an empty buffer: treat it as full.
                Ok(Polled::Done(n)) if n > 0 => {
                    self.pending_out.borrow_mut().drain(..n);
                    self.bytes_out.set(self.bytes_out.get() + n as u64);
                }
                // Full: the WRITABLE event (asked for below) continues.
                Ok(_) => break,
                Err(e) => {
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
        let stream = self.stream.borrow_mut().take();
        if let Some(stream) = &stream {
            stream.remove_callback();
        }
        if let Some(reason) = reason {
            self.emit(ConsoleEvent::Closed(reason));
        }
        let handler = self
            .handler
            .try_borrow_mut()
            .ok()
            .and_then(|mut h| h.take());
        (self.defer)(Box::new(move || {
            drop(handler);
            // Aborts and frees the stream.
            drop(stream);
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

/// The stream's event callback (libvirt's event loop, the main thread).
fn on_event(inner: &Rc<Inner>, events: c_int) {
    // A strong reference of our own, so that `shut` cannot free `inner` under us.
    let inner = inner.clone();
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
