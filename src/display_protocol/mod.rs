//! Remote-display protocols without widgets: a session per protocol that opens the
//! connection, keeps the remote screen's pixels, reports what changed, and sends
//! keys and pointer events. The display widget draws and listens; it never speaks a
//! protocol itself. This layer needs GLib's main loop (the protocol libraries run on
//! it) but no GTK, so it is tested against real servers without a window.
//!
//! Today only SPICE lives here ([`spice::SpiceSession`]); the VNC half of
//! `ui::console::GuestDisplay` (its gvnc connection, framebuffer and update requests)
//! is still inside the widget and may move in beside it as a `display::VncSession`.
//!
//! # The shared display
//!
//! One widget, `ui::console::GuestDisplay`, serves both protocols: a VM tab shows a SPICE
//! VM through it with a `Rc<dyn DisplaySession>` (`ui/console/display/session.rs` is the
//! seam: keys and the pointer leave by gvnc or by the session; the session's events
//! become the widget's states and frames). Everything that does not depend on the
//! protocol is shared as it is:
//!
//! | part (today's file) | shared as | protocol-specific |
//! |---|---|---|
//! | canvas, fit / 1:1 / HiDPI (`display/canvas.rs`) | as is | nothing |
//! | frame pipeline, texture pool (`display/frames.rs`, `framebuffer.rs`) | `Damage` marks its tiles dirty; per tick, under cairo the canvas draws [`DisplaySession::image`] (no copy), under GL one texture from [`DisplaySession::with_pixels`] | VNC asks for updates ([`DisplaySession::set_visible`]); SPICE pushes |
//! | X11 shared memory (`display/x11_shm.rs`) | VNC only: gvnc decodes into memory we give it | SPICE decodes into its own memory: a cairo image over it (`ffi::spice::PrimaryImage`), or textures |
//! | keyboard: grab, inhibit, release hint, held keys (`display/input.rs`), qnum table (`keymap.rs`) | as is, keys leave as [`DisplaySession::key`]`(down, keyval, qnum)` | VNC sends keysym + qnum; SPICE sends the XT scancode (E0 keys as 0x100 + code) |
//! | pointer (`display/input.rs`) | widget coordinates -> surface pixels; mode from [`SessionEvent::PointerMode`] | VNC's relative mode is gtk-vnc's 0x7fff origin trick; SPICE has real motion messages |
//! | Send Key menu, type text, screenshot, fullscreen, scale actions (`display/actions.rs`) | as is, through `key` and `with_pixels` | nothing |
//! | states drawn over it (`display/status.rs`) | as is; `Connected` / `Disconnected(reason)` come from [`SessionEvent`] | VNC: password dialog (`display/auth.rs`); SPICE: password from the XML or the same dialog |
//! | clipboard | one Preferences switch; [`SessionEvent::GuestClipboard`] and [`DisplaySession::send_clipboard`] | VNC: cut text, always; SPICE: only with the agent |
//! | guest resize | the widget asks on size-allocate (debounced) with [`DisplaySession::resize_guest`] | VNC: not offered (QEMU's VNC cannot); SPICE: agent with monitor config |
//! | cursor | [`SessionEvent::Cursor`] -> `gdk::Cursor` from a texture | SPICE's cursor channel in client mode; VNC's cursor pseudo-encoding |
//!
//! **Frames.** Both protocols end in "damage, then one frame per tick". A VNC session
//! decodes into memory the widget gives it (X11 shared memory under cairo); a SPICE
//! session decodes into spice-gtk's own primary surface. Under GTK's cairo renderer the
//! canvas draws either straight from that memory ([`DisplaySession::image`], an `ffi`
//! wrapper finished when the surface goes), tile by tile, redrawing only the tiles the
//! damage touched (`display/tiles.rs`); under GL it copies the screen into a pooled
//! texture per tick. A local SPICE server is asked for raw pixels
//! ([`spice::SessionOptions::local`]): decoding raw pixels costs far less than QEMU's
//! default image compression. `tools/bench-spice.sh`, full-screen changes, cairo,
//! frames shown: 1280x800 26.6 frames/s for 9.5 % of a core (remote-viewer 18.5 for
//! 23.9 %); at the same rate (the guest painting 15 frames/s) 6.8 % against 23.2 %.
//!
//! **Where this lives.** `src/display_protocol/` beside `virt/` and `model/`: `ui/`
//! uses it, `model/` and `virt/` never do (sockets reach it as plain `OwnedFd`s from
//! `model::consoles`), and its raw C calls are in `ffi/`.
//!
//! The widget's signals become typed (`connect_run_requested`, `connect_disconnected`
//! with the reason) so the VM tab does not read values by index.
//!
//! **Picking the widget.** The VM tab does not pick a widget: it picks a session.
//! `model::consoles::open_graphics` grows into `GraphicsEndpoint { protocol:
//! GraphicsProtocol::{Vnc, Spice}, way: Socket(fd) | Address(host, port) , password }`
//! read from the first `<graphics>` of the live XML (type `vnc` or `spice`; `rdp`,
//! `egl-headless`, `dbus` get a status page saying what is not supported), and the tab
//! builds `VncSession` or `SpiceSession` for the one `GuestDisplay`. SPICE needs more
//! than one socket (one per channel): the tab passes a [`spice::SocketSource`] that
//! calls `open_graphics` again on the connection's worker for each channel.
//! Actions and menus keep the prefix "display." for both protocols (the `vnc.`
//! prefix becomes an alias until the tab is migrated).
//!
//! **New VM wizard and details page.** Both need `virt::capabilities` to say whether
//! the host's QEMU has SPICE (domain capabilities `<graphics><enum name='type'>`
//! lists `spice`); the wizard's finish page offers "Display: SPICE / VNC" (SPICE the
//! default where available, as virt-manager does, with `<video><model type='qxl'/>` or
//! `virtio`, plus the `spicevmc` agent channel so clipboard and resize work), VNC
//! where SPICE is missing. The details page's display row switches the type by
//! editing only the `<graphics>` element (keeping its listen address and password),
//! adding or removing the `spicevmc` channel, and says a change applies at the next
//! start. Audio and USB redirection show as a tooltip "not supported yet", not as
//! dead controls.

pub mod spice;

/// A rectangle of the remote screen, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

/// How the guest takes the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PointerMode {
    /// Positions on the screen (a tablet, or SPICE's client mouse mode with the
    /// agent): the local pointer is the guest's, no grab needed.
    Absolute,
    /// Motion only (a PS/2 mouse; SPICE's server mouse mode): the guest draws its own
    /// pointer and a display must grab the local one to move it freely.
    #[default]
    Relative,
}

/// What the guest agent (spice-vdagent) offers, when one is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgentState {
    pub connected: bool,
    /// The guest follows a requested display size.
    pub can_resize: bool,
    /// The guest shares its clipboard (text).
    pub can_share_clipboard: bool,
}

/// A pointer image from the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorImage {
    pub width: i32,
    pub height: i32,
    pub hot_x: i32,
    pub hot_y: i32,
    /// Row-major 32-bit pixels, B, G, R, A bytes (GDK's `B8g8r8a8`).
    pub bgra: Vec<u8>,
}

/// The pixels of the remote screen as they are now: 32-bit B, G, R, x bytes (cairo's
/// `RGB24`, GDK's `B8g8r8x8`), rows `stride` bytes apart.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    pub data: &'a [u8],
}

impl Pixels<'_> {
    /// The (R, G, B) of one pixel, or None outside the screen.
    pub fn rgb(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = y * self.stride + x * 4;
        let p = self.data.get(i..i + 3)?;
        Some([p[2], p[1], p[0]])
    }
}

/// What a session reports to its display, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The server accepted the connection.
    Connected,
    /// A new remote screen of this size; its pixels are readable from now on.
    SurfaceCreated {
        width: i32,
        height: i32,
    },
    /// The remote screen is going (mode change, reset); a new one follows. Its pixels
    /// and `image` are readable until the handlers return, no longer.
    SurfaceDestroyed,
    /// These pixels changed.
    Damage(Rect),
    /// The guest's pointer image, or None to hide the pointer.
    Cursor(Option<CursorImage>),
    PointerMode(PointerMode),
    Agent(AgentState),
    /// Text the guest put on its clipboard (only while sharing is on).
    GuestClipboard(String),
    /// The connection ended, with the reason in words (the server's or libvirt's own
    /// when there is one).
    Disconnected(String),
}

/// Why a session could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("not connected")]
    NotConnected,
    #[error("the guest agent is not running")]
    NoAgent,
    #[error("the guest agent cannot {0}")]
    AgentCannot(&'static str),
    #[error("the connection could not be opened: {0}")]
    Open(String),
}

/// A mouse button, as both protocols number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Left,
    Middle,
    Right,
}

/// A wheel step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wheel {
    Up,
    Down,
    Left,
    Right,
}

/// What a display widget needs from a protocol session (see the module docs). All
/// calls are made on the main thread; events arrive there too.
pub trait DisplaySession {
    /// Registers `f` for every event from now on.
    fn connect_event(&self, f: Box<dyn Fn(&SessionEvent)>);
    /// Ends the connection; `Disconnected` follows.
    fn close(&self);
    /// Runs `f` on the screen's pixels; None before the first surface. `f` must not
    /// iterate the main loop.
    fn with_pixels(&self, f: &mut dyn FnMut(Pixels<'_>)) -> Option<()>;
    /// The screen as a cairo `RGB24` image over the protocol library's own memory, for
    /// drawing with no copy (GTK's cairo renderer): its pixels change as updates
    /// arrive (`Damage` says where), and it is finished, so inert, once the handlers
    /// of `SurfaceDestroyed` have run (they may still copy it); ask again after the
    /// next `SurfaceCreated`. None before the
    /// first surface or where the screen is not in that format.
    fn image(&self) -> Option<gtk::cairo::ImageSurface>;
    /// A key, as its keysym (VNC) and its XT "qnum" scancode (E0 keys with bit 7 set,
    /// as `ui::console::display::keymap` gives them).
    fn key(&self, down: bool, keyval: u32, qnum: u16);
    /// The pointer at a pixel of the screen (absolute mode).
    fn pointer_position(&self, x: i32, y: i32);
    /// The pointer moved by this much (relative mode).
    fn pointer_motion(&self, dx: i32, dy: i32);
    fn button(&self, button: Button, down: bool);
    fn wheel(&self, step: Wheel);
    fn pointer_mode(&self) -> PointerMode;
    /// Asks the guest to use this screen size (SPICE with the agent only).
    fn resize_guest(&self, width: u32, height: u32) -> Result<(), SessionError>;
    /// Offers host clipboard text to the guest (dropped while sharing is off).
    fn send_clipboard(&self, text: &str) -> Result<(), SessionError>;
    fn set_share_clipboard(&self, share: bool);
    /// Whether the screen is shown: a VNC session stops asking for updates while
    /// hidden and catches up when shown; SPICE servers push, so it ignores this.
    fn set_visible(&self, visible: bool);
}
