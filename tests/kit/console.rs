//! A guest's serial console read by the test itself, beside the app: what the guest
//! prints (its ready line, a shell's answers) and a way to type into its shell.
//! `virDomainOpenConsole` on a non-blocking libvirt stream whose callbacks run on the
//! GLib main context (libvirt's default event loop); the received bytes are kept for
//! the test to search.
//!
//! It talks to `virt::sys` directly: the test must not depend on the console code it
//! checks, and the `virt` crate's `Stream` keeps a pointer to itself in the callback
//! and panics in `Drop`.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(
    unsafe_code,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

use std::cell::RefCell;
use std::ffi::{c_int, c_void, CString};
use std::rc::Rc;
use std::time::{Duration, Instant};

use vireo::model::{ConnectionObject, DomainObject};
use vireo::virt::handles::release_connect;
use virt::connect::Connect;
use virt::sys;

use super::wait::wait_until;

#[derive(Default)]
struct Shared {
    bytes: Vec<u8>,
    closed: Option<String>,
}

/// An open serial console. Closed (callback removed, stream aborted) on drop.
pub struct SerialConsole {
    stream: sys::virStreamPtr,
    shared: Rc<RefCell<Shared>>,
}

fn last_error() -> String {
    virt::error::Error::last_error().message().to_owned()
}

unsafe extern "C" fn on_stream(st: sys::virStreamPtr, events: c_int, opaque: *mut c_void) {
    let shared = &*(opaque as *const RefCell<Shared>);
    let mut buf = [0u8; 4096];
    if events & sys::VIR_STREAM_EVENT_READABLE as c_int != 0 {
        loop {
            let n = sys::virStreamRecv(st, buf.as_mut_ptr().cast(), buf.len());
            match n {
                n if n > 0 => shared
                    .borrow_mut()
                    .bytes
                    .extend_from_slice(&buf[..n as usize]),
                -2 => break, // nothing more for now
                0 => {
                    shared.borrow_mut().closed = Some("end of stream".into());
                    break;
                }
                _ => {
                    shared.borrow_mut().closed = Some(last_error());
                    break;
                }
            }
        }
    }
    if events & (sys::VIR_STREAM_EVENT_ERROR | sys::VIR_STREAM_EVENT_HANGUP) as c_int != 0 {
        shared
            .borrow_mut()
            .closed
            .get_or_insert_with(|| "hang-up".into());
    }
    if shared.borrow().closed.is_some() {
        // Stop being called for a stream that is over.
        sys::virStreamEventUpdateCallback(st, 0);
    }
}

unsafe extern "C" fn free_shared(opaque: *mut c_void) {
    drop(Rc::from_raw(opaque as *const RefCell<Shared>));
}

impl SerialConsole {
    /// Opens the first serial console of `d` on `c`'s connection (forcibly); panics
    /// with libvirt's message if it cannot.
    pub fn of(c: &ConnectionObject, d: &DomainObject) -> SerialConsole {
        let raw = c.raw().expect("an open connection");
        let console = SerialConsole::open(&raw, &d.uuid());
        release_connect(raw);
        console.unwrap_or_else(|e| panic!("opening {}'s serial console: {e}", d.name()))
    }

    /// Opens `d`'s serial console again after libvirt restarted its QEMU (a revert):
    /// the new QEMU's console can refuse for a moment ("an unknown libvirt error").
    pub fn reopen(c: &ConnectionObject, d: &DomainObject) -> SerialConsole {
        wait_until(
            &format!("{}'s serial console opens again", d.name()),
            super::wait::EVENT,
            || {
                let raw = c.raw()?;
                let console = SerialConsole::open(&raw, &d.uuid()).ok();
                release_connect(raw);
                console
            },
        )
    }

    /// Opens the first serial console of the domain with `uuid` on `conn` (a
    /// main-thread connection, e.g. `ConnectionObject::raw()`), taking it over from any
    /// other client (`VIR_DOMAIN_CONSOLE_FORCE`).
    pub fn open(conn: &Connect, uuid: &str) -> Result<SerialConsole, String> {
        let c_uuid = CString::new(uuid).map_err(|e| e.to_string())?;
        // SAFETY: plain libvirt calls on valid pointers; every reference taken here is
        // released on each error path or by Drop.
        unsafe {
            let dom = sys::virDomainLookupByUUIDString(conn.as_ptr(), c_uuid.as_ptr());
            if dom.is_null() {
                return Err(last_error());
            }
            let stream = sys::virStreamNew(conn.as_ptr(), sys::VIR_STREAM_NONBLOCK);
            if stream.is_null() {
                let e = last_error();
                sys::virDomainFree(dom);
                return Err(e);
            }
            let r = sys::virDomainOpenConsole(
                dom,
                std::ptr::null(),
                stream,
                sys::VIR_DOMAIN_CONSOLE_FORCE,
            );
            sys::virDomainFree(dom);
            if r < 0 {
                let e = last_error();
                sys::virStreamFree(stream);
                return Err(e);
            }
            let shared = Rc::new(RefCell::new(Shared::default()));
            let opaque = Rc::into_raw(shared.clone()) as *mut c_void;
            let events = sys::VIR_STREAM_EVENT_READABLE
                | sys::VIR_STREAM_EVENT_ERROR
                | sys::VIR_STREAM_EVENT_HANGUP;
            let r = sys::virStreamEventAddCallback(
                stream,
                events as c_int,
                Some(on_stream),
                opaque,
                Some(free_shared),
            );
            if r < 0 {
                let e = last_error();
                free_shared(opaque);
                sys::virStreamAbort(stream);
                sys::virStreamFree(stream);
                return Err(e);
            }
            Ok(SerialConsole { stream, shared })
        }
    }

    /// Everything received so far, as text (CR removed).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.shared.borrow().bytes).replace('\r', "")
    }

    /// How many whole lines equal `line`.
    pub fn count_lines(&self, line: &str) -> usize {
        self.text().lines().filter(|l| l.trim_end() == line).count()
    }

    /// Waits until `n` whole lines equal `line` (say the guest's ready line after
    /// `n` boots); returns how long it took.
    pub fn wait_lines(&self, line: &str, n: usize, timeout: Duration) -> Duration {
        let t = Instant::now();
        wait_until(
            &format!("{line} x{n} on the serial console"),
            timeout,
            || self.count_lines(line) >= n,
        );
        t.elapsed()
    }

    /// Why the stream ended, once it has.
    pub fn closed(&self) -> Option<String> {
        self.shared.borrow().closed.clone()
    }

    /// Runs `command` in the guest's shell and returns its one-line answer: the shell
    /// prints `KEY=<answer>` for `echo "KEY=$(command)"`, and only a whole line that
    /// is not the echo of the typed command counts (`key` must be unique in the test).
    pub fn ask(&self, key: &str, command: &str) -> String {
        self.type_question(key, command);
        wait_until(
            &format!("the guest's answer to {command}"),
            Duration::from_secs(30),
            || self.answer(key),
        )
    }

    /// Runs `command` in the guest's shell again and again (keys `KEY-1`, `KEY-2`, ...)
    /// until `check` accepts its answer, which it returns (and prints, with the time it
    /// took); panics with the last answer after `limit`. For what the guest sees a
    /// moment after the host changed it (a device plugged in, a medium changed), and for
    /// a shell that has just started and may drop what is typed before it reads its
    /// terminal.
    pub fn ask_until(
        &self,
        key: &str,
        command: &str,
        limit: Duration,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        let end = start + limit;
        let mut last = None;
        for attempt in 1.. {
            let key = format!("{key}-{attempt}");
            self.type_question(&key, command);
            let asked = Instant::now();
            while asked.elapsed() < Duration::from_secs(3) {
                super::wait::pump(Duration::from_millis(50));
                if let Some(answer) = self.answer(&key) {
                    if check(&answer) {
                        println!(
                            "  the guest's answer {key}: {answer:?} after {:.1} s",
                            start.elapsed().as_secs_f64()
                        );
                        return answer;
                    }
                    last = Some(answer);
                    break;
                }
            }
            if Instant::now() > end {
                break;
            }
            // Give what is awaited a moment before asking again.
            super::wait::pump(Duration::from_millis(300));
        }
        panic!("the guest's answer to {command} never came right in {limit:?}; last: {last:?}");
    }

    fn type_question(&self, key: &str, command: &str) {
        self.send(&format!("echo \"{key}=$({command})\"\n"))
            .unwrap_or_else(|e| panic!("typing into the guest's shell: {e}"));
    }

    /// The answer to the question `key`, once its whole line has come: not the echo of
    /// the typed command, which holds `$(`.
    fn answer(&self, key: &str) -> Option<String> {
        let prefix = format!("{key}=");
        let text = self.text();
        let whole = &text[..text.rfind('\n').unwrap_or(0)];
        whole
            .lines()
            .find(|l| l.starts_with(&prefix) && !l.contains("$("))
            .map(|l| l[prefix.len()..].trim_end().to_owned())
    }

    /// Types `text` into the guest's serial console (a blocking send of a few bytes).
    pub fn send(&self, text: &str) -> Result<(), String> {
        let mut data = text.as_bytes();
        while !data.is_empty() {
            // SAFETY: valid stream and buffer.
            let n = unsafe { sys::virStreamSend(self.stream, data.as_ptr().cast(), data.len()) };
            match n {
                n if n > 0 => data = &data[n as usize..],
                -2 => std::thread::sleep(Duration::from_millis(5)),
                _ => return Err(last_error()),
            }
        }
        Ok(())
    }
}

impl Drop for SerialConsole {
    fn drop(&mut self) {
        // SAFETY: we own the stream; errors (dead connection) are irrelevant here.
        unsafe {
            sys::virStreamEventRemoveCallback(self.stream);
            sys::virStreamAbort(self.stream);
            sys::virStreamFree(self.stream);
        }
    }
}
