//! `SpiceSession`: the connection's life (open, channels, errors, end), the remote
//! screen (primary surface and damage) and the cursor. Input lives in `input.rs`, the
//! guest agent (clipboard, display size) in `agent.rs`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use gettextrs::gettext;
use spice_client_glib as spice;
use spice_client_glib::prelude::*;

use crate::display_protocol::{
    Button, CursorImage, DisplaySession, Pixels, PointerMode, Rect, SessionError, SessionEvent,
    Wheel,
};
use crate::ffi::spice as ffi;

/// A new socket to the same SPICE server, or the error in words (libvirt's own).
pub type SocketFuture = Pin<Box<dyn Future<Output = Result<OwnedFd, String>>>>;
/// Gives a new socket to the session's server each time it is called.
pub type SocketSource = Rc<dyn Fn() -> SocketFuture>;

/// SPICE's surface format number for 32-bit xRGB (B, G, R, x bytes in memory).
const FORMAT_XRGB32: i32 = 32;
/// SPICE's `SPICE_IMAGE_COMPRESSION_OFF`: raw pixels.
const COMPRESSION_OFF: i32 = 1;

/// How a session starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOptions {
    /// Share the clipboard with the guest (the Preferences switch).
    pub share_clipboard: bool,
    /// The server runs on this machine: ask for raw pixels, as compressing and
    /// decompressing costs more CPU than copying them through a local socket.
    pub local: bool,
}

/// A SPICE session: one connection, from `open_*` to `Disconnected` (a new one is
/// made to connect again; the guest's reboots do not end it). Dropping it ends the
/// connection.
pub struct SpiceSession {
    inner: Rc<Inner>,
}

/// The channels in use (channel 0 of each kind: one monitor).
#[derive(Default)]
pub(super) struct Channels {
    pub main: Option<spice::MainChannel>,
    pub display: Option<spice::DisplayChannel>,
    pub inputs: Option<spice::InputsChannel>,
    pub cursor: Option<spice::CursorChannel>,
}

type Handler = Rc<dyn Fn(&SessionEvent)>;

pub(super) struct Inner {
    pub session: spice::Session,
    pub channels: RefCell<Channels>,
    /// The screen as a cairo image over the primary surface's memory, made on first
    /// use and dropped (finished) when that surface is destroyed.
    image: RefCell<Option<ffi::PrimaryImage>>,
    handlers: RefCell<Vec<Handler>>,
    sockets: RefCell<Option<SocketSource>>,
    pub share_clipboard: Cell<bool>,
    local: bool,
    /// SPICE's button mask of the buttons held in the guest.
    pub buttons: Cell<i32>,
    /// Key events waiting to be sent (down, scancode), and the timer sending them
    /// (`input.rs`).
    pub keys: RefCell<std::collections::VecDeque<(bool, u32)>>,
    pub key_timer: RefCell<Option<glib::SourceId>>,
    /// Host clipboard text the guest may ask for (we hold its clipboard).
    pub host_clipboard: RefCell<Option<String>>,
    /// Why the connection is ending, first reason wins.
    reason: RefCell<Option<String>>,
    /// `Disconnected` was reported.
    ended: Cell<bool>,
}

impl SpiceSession {
    pub fn new(options: SessionOptions) -> Self {
        let session = spice::Session::new();
        // Not offered yet (see issue 16): no channels, no sockets for them.
        session.set_enable_audio(false);
        session.set_enable_usbredir(false);
        session.set_enable_smartcard(false);
        let inner = Rc::new(Inner {
            session,
            channels: RefCell::default(),
            image: RefCell::default(),
            handlers: RefCell::default(),
            sockets: RefCell::default(),
            share_clipboard: Cell::new(options.share_clipboard),
            local: options.local,
            buttons: Cell::new(0),
            keys: RefCell::default(),
            key_timer: RefCell::default(),
            host_clipboard: RefCell::default(),
            reason: RefCell::default(),
            ended: Cell::new(false),
        });
        inner
            .session
            .connect_channel_new(while_alive!(&inner, |me, _, channel| {
                me.on_channel_new(channel)
            }));
        inner
            .session
            .connect_channel_destroy(while_alive!(&inner, |me, _, channel| {
                me.on_channel_destroy(channel)
            }));
        inner
            .session
            .connect_disconnected(while_alive!(&inner, |me, _| me.end(None)));
        Self { inner }
    }

    /// Connects through `fd`, a socket to the server (from `virDomainOpenGraphicsFD`);
    /// each further channel gets its socket from `more`.
    pub fn open_socket(&self, fd: OwnedFd, more: SocketSource) -> Result<(), SessionError> {
        self.inner.sockets.replace(Some(more));
        if ffi::give_session_socket(&self.inner.session, fd) {
            Ok(())
        } else {
            Err(SessionError::Open(gettext(
                "The display connection could not be started",
            )))
        }
    }

    /// Connects over TCP to `host:port`, with the display's password if it has one.
    pub fn open_address(
        &self,
        host: &str,
        port: u16,
        password: Option<&str>,
    ) -> Result<(), SessionError> {
        let session = &self.inner.session;
        session.set_host(Some(host));
        session.set_port(Some(&port.to_string()));
        session.set_password(password);
        if session.connect() {
            Ok(())
        } else {
            Err(SessionError::Open(gettext(
                "The display connection could not be started",
            )))
        }
    }

    /// The remote screen's size, once there is one.
    pub fn surface_size(&self) -> Option<(usize, usize)> {
        let display = self.inner.channels.borrow().display.clone()?;
        ffi::with_primary(&display, |p| (p.width, p.height))
    }

    /// What the guest agent offers now.
    pub fn agent(&self) -> crate::display_protocol::AgentState {
        self.inner.agent_state()
    }
}

impl Drop for SpiceSession {
    fn drop(&mut self) {
        // Late signals find no Inner (weak references) and do nothing.
        self.inner.ended.set(true);
        self.inner.image.take();
        if let Some(id) = self.inner.key_timer.take() {
            id.remove();
        }
        self.inner.session.disconnect();
    }
}

impl DisplaySession for SpiceSession {
    fn connect_event(&self, f: Box<dyn Fn(&SessionEvent)>) {
        self.inner.handlers.borrow_mut().push(Rc::from(f));
    }

    fn close(&self) {
        self.inner.session.disconnect();
    }

    fn with_pixels(&self, f: &mut dyn FnMut(Pixels<'_>)) -> Option<()> {
        let display = self.inner.channels.borrow().display.clone()?;
        ffi::with_primary(&display, |p| {
            if p.format != FORMAT_XRGB32 {
                tracing::warn!("SPICE surface format {} is not xRGB32", p.format);
                return None;
            }
            f(Pixels {
                width: p.width,
                height: p.height,
                stride: p.stride,
                data: p.pixels,
            });
            Some(())
        })
        .flatten()
    }

    fn image(&self) -> Option<gtk::cairo::ImageSurface> {
        let mut image = self.inner.image.borrow_mut();
        if image.is_none() {
            let display = self.inner.channels.borrow().display.clone()?;
            *image = ffi::PrimaryImage::new(&display);
        }
        image.as_ref().map(|i| i.surface().clone())
    }

    fn key(&self, down: bool, _keyval: u32, qnum: u16) {
        Inner::key(&self.inner, down, qnum);
    }

    fn pointer_position(&self, x: i32, y: i32) {
        self.inner.pointer_position(x, y);
    }

    fn pointer_motion(&self, dx: i32, dy: i32) {
        self.inner.pointer_motion(dx, dy);
    }

    fn button(&self, button: Button, down: bool) {
        self.inner.button(button, down);
    }

    fn wheel(&self, step: Wheel) {
        self.inner.wheel(step);
    }

    fn pointer_mode(&self) -> PointerMode {
        self.inner.pointer_mode()
    }

    fn resize_guest(&self, width: u32, height: u32) -> Result<(), SessionError> {
        self.inner.resize_guest(width, height)
    }

    fn send_clipboard(&self, text: &str) -> Result<(), SessionError> {
        self.inner.send_clipboard(text)
    }

    fn set_share_clipboard(&self, share: bool) {
        self.inner.set_share_clipboard(share);
    }

    fn set_visible(&self, _visible: bool) {
        // The server pushes updates whether or not they are shown.
    }
}

impl Inner {
    pub(super) fn emit(&self, event: SessionEvent) {
        // A handler may register another or call back into the session: no borrow held.
        let handlers: Vec<Handler> = self.handlers.borrow().clone();
        for handler in handlers {
            handler(&event);
        }
    }

    /// Reports the end once, with the first reason given, and closes every channel.
    fn end(&self, reason: Option<String>) {
        if let Some(reason) = reason {
            self.reason.borrow_mut().get_or_insert(reason);
        }
        if self.ended.replace(true) {
            return;
        }
        let reason = self
            .reason
            .borrow()
            .clone()
            .unwrap_or_else(|| gettext("The display connection was closed"));
        tracing::info!("SPICE session ended: {reason}");
        self.session.disconnect();
        self.emit(SessionEvent::Disconnected(reason));
    }

    fn on_channel_new(self: &Rc<Self>, channel: &spice::Channel) {
        channel.connect_open_fd(while_alive!(self, |me, channel, _with_tls| {
            me.give_socket(channel)
        }));
        channel.connect_channel_event(while_alive!(self, |me, channel, event| {
            me.on_channel_event(channel, event)
        }));
        // The session connects its main channel itself; the others are connected here
        // (with a socket from libvirt, a channel then asks for one through "open-fd").
        // Channels Vireo does not use (ports, webdav...) stay unconnected: no socket.
        if let Some(main) = channel.downcast_ref::<spice::MainChannel>() {
            self.channels.borrow_mut().main = Some(main.clone());
            self.wire_main(main);
        } else if let Some(display) = channel.downcast_ref::<spice::DisplayChannel>() {
            if display.channel_id() == 0 {
                self.channels.borrow_mut().display = Some(display.clone());
                self.wire_display(display);
                ChannelExt::connect(display);
            }
        } else if let Some(inputs) = channel.downcast_ref::<spice::InputsChannel>() {
            self.channels.borrow_mut().inputs = Some(inputs.clone());
            ChannelExt::connect(inputs);
        } else if let Some(cursor) = channel.downcast_ref::<spice::CursorChannel>() {
            if cursor.channel_id() == 0 {
                self.channels.borrow_mut().cursor = Some(cursor.clone());
                self.wire_cursor(cursor);
                ChannelExt::connect(cursor);
            }
        }
    }

    fn on_channel_destroy(&self, channel: &spice::Channel) {
        let mut channels = self.channels.borrow_mut();
        let same = |c: Option<&spice::Channel>| c == Some(channel);
        if same(channels.main.as_ref().map(|c| c.upcast_ref())) {
            channels.main = None;
        }
        if same(channels.display.as_ref().map(|c| c.upcast_ref())) {
            channels.display = None;
            self.image.take();
        }
        if same(channels.inputs.as_ref().map(|c| c.upcast_ref())) {
            channels.inputs = None;
        }
        if same(channels.cursor.as_ref().map(|c| c.upcast_ref())) {
            channels.cursor = None;
        }
    }

    /// A channel asked for its socket: get one from the source, off the main loop.
    fn give_socket(self: &Rc<Self>, channel: &spice::Channel) {
        let Some(source) = self.sockets.borrow().clone() else {
            return;
        };
        let weak: Weak<Inner> = Rc::downgrade(self);
        let channel = channel.clone();
        glib::spawn_future_local(async move {
            let result = source().await;
            // A session that is gone or ending drops the socket, which closes it.
            let Some(inner) = weak.upgrade().filter(|inner| !inner.ended.get()) else {
                return;
            };
            match result {
                Ok(fd) => {
                    if !ffi::give_channel_socket(&channel, fd) {
                        tracing::warn!(
                            "SPICE channel {} refused its socket",
                            channel.channel_type()
                        );
                    }
                }
                // libvirt's words.
                Err(error) => inner.end(Some(error)),
            }
        });
    }

    fn on_channel_event(&self, channel: &spice::Channel, event: spice::ChannelEvent) {
        use spice::ChannelEvent as E;
        let kind = channel.channel_type();
        let is = |t: spice::ChannelType| kind == t as i32;
        let main = is(spice::ChannelType::Main);
        // The display is unusable without these; the others are extras.
        let essential = main
            || is(spice::ChannelType::Display)
            || is(spice::ChannelType::Inputs)
            || is(spice::ChannelType::Cursor);
        tracing::debug!("SPICE channel {kind}: {event:?}");
        match event {
            E::Opened if main => self.emit(SessionEvent::Connected),
            E::Opened if self.local => {
                // Sent only once the channel is up and the server said it takes the
                // request (spice-gtk drops it before that).
                if let Some(display) = channel.downcast_ref::<spice::DisplayChannel>() {
                    display.change_preferred_compression(COMPRESSION_OFF);
                }
            }
            E::Closed if main => self.end(None),
            E::ErrorConnect | E::ErrorTls | E::ErrorLink | E::ErrorAuth | E::ErrorIo => {
                // The server's own words when spice-gtk kept them.
                let words = channel
                    .error()
                    .map(|e| e.message().to_owned())
                    .unwrap_or_else(|| default_words(event));
                if essential {
                    self.end(Some(words));
                } else {
                    tracing::info!("SPICE channel {kind} failed: {words}");
                }
            }
            _ => {}
        }
    }

    fn wire_display(self: &Rc<Self>, display: &spice::DisplayChannel) {
        display.connect_display_primary_create(while_alive!(self, |me, display| {
            if let Some((w, h)) = ffi::with_primary(display, |p| (p.width, p.height)) {
                me.emit(SessionEvent::SurfaceCreated {
                    width: w as i32,
                    height: h as i32,
                });
            }
        }));
        display.connect_display_primary_destroy(while_alive!(self, |me, _| {
            // The memory is still there while handlers run (they may copy the last
            // picture out of the image); spice-gtk frees it once this returns.
            me.emit(SessionEvent::SurfaceDestroyed);
            me.image.take();
        }));
        display.connect_display_invalidate(while_alive!(self, |me, _, x, y, width, height| {
            me.emit(SessionEvent::Damage(Rect {
                x,
                y,
                width,
                height,
            }))
        }));
    }

    fn wire_cursor(self: &Rc<Self>, cursor: &spice::CursorChannel) {
        cursor.connect_cursor_notify(while_alive!(self, |me, cursor| {
            if let Some(image) = cursor.cursor().as_ref().and_then(cursor_image) {
                me.emit(SessionEvent::Cursor(Some(image)));
            }
        }));
        cursor.connect_cursor_hide(while_alive!(self, |me, _| {
            me.emit(SessionEvent::Cursor(None))
        }));
    }

    fn wire_main(self: &Rc<Self>, main: &spice::MainChannel) {
        main.connect_mouse_mode_notify(while_alive!(self, |me, _| {
            let mode = me.pointer_mode();
            me.emit(SessionEvent::PointerMode(mode));
        }));
        self.wire_agent(main);
    }
}

/// The pointer image of a cursor shape; spice-gtk gives every shape as 32-bit ARGB
/// words (B, G, R, A bytes here).
fn cursor_image(shape: &spice::CursorShape) -> Option<CursorImage> {
    let (width, height) = (shape.width(), shape.height());
    if width <= 0 || height <= 0 {
        return None;
    }
    let data = shape.data().ok()?;
    let len = width as usize * height as usize * 4;
    Some(CursorImage {
        width,
        height,
        hot_x: shape.hot_x(),
        hot_y: shape.hot_y(),
        bgra: data.get(..len)?.to_vec(),
    })
}

/// What to say when a channel failed and spice-gtk kept no message.
fn default_words(event: spice::ChannelEvent) -> String {
    use spice::ChannelEvent as E;
    match event {
        E::ErrorConnect => gettext("Could not connect to the display"),
        E::ErrorTls => gettext("The display's secure connection failed"),
        E::ErrorLink => gettext("The display server refused the connection"),
        E::ErrorAuth => gettext("The display server refused the password"),
        _ => gettext("The display connection broke"),
    }
}
