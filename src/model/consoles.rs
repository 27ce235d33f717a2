//! The ways into a VM's consoles, run on the connection's worker thread.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use gettextrs::gettext;

use super::connection_object::error_text;
use super::{ConnectionObject, DomainObject};
use crate::virt::console_stream;
pub use crate::virt::console_stream::{
    is_busy_error, is_not_running_error, CloseReason as ConsoleCloseReason, ConsoleDevice,
    ConsoleEvent, ConsoleStream, Defer, DeviceKind, OpenedConsole, DEFAULT_MAX_PER_TURN,
};
use crate::virt::graphics;
use crate::virt::ssh::{Endpoint, SshError, SshProcess, SshTarget, SshTunnel, TunnelOptions};
use crate::virt::uri::UriInfo;
use crate::virt::VirtError;

/// How to reach a graphical console.
#[derive(Debug)]
pub enum GraphicsEndpoint {
    /// A socket libvirt opened for us (VMs on this machine).
    Socket(OwnedFd),
    /// The display server's address, when the host cannot hand out a socket.
    Address(String, u16),
    /// A socket through an SSH channel to a `qemu+ssh://` host, whose display listens
    /// on that host's loopback or on a unix socket there. Keep the [`DisplayTunnel`] as
    /// long as the display is open: dropping it ends the channel.
    Tunnel(OwnedFd, DisplayTunnel),
}

/// The SSH channels of a console to a remote host (the first one, and those
/// [`MoreChannels`] opened since); their `ssh` processes stop on drop.
#[derive(Debug)]
pub struct DisplayTunnel {
    shared: Arc<TunnelShared>,
}

#[derive(Debug)]
struct TunnelShared {
    target: SshTarget,
    endpoint: Endpoint,
    options: TunnelOptions,
    /// Held, never read: each channel lives as long as its ssh.
    channels: Mutex<Vec<SshProcess>>,
}

impl TunnelShared {
    /// Opens one more channel (blocks: on GLib's thread pool) and keeps its ssh.
    async fn open_channel(self: &Arc<Self>) -> Result<OwnedFd, SshError> {
        let shared = self.clone();
        let tunnel = gio::spawn_blocking(move || {
            SshTunnel::open(&shared.target, &shared.endpoint, &shared.options)
        })
        .await
        .map_err(|_| SshError::Local("the channel's thread panicked".into()))??;
        self.channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tunnel.process);
        Ok(tunnel.socket)
    }
}

impl DisplayTunnel {
    /// Opens further channels to the same display (SPICE: one per channel kind), for
    /// as long as this tunnel lives.
    pub fn more_channels(&self) -> MoreChannels {
        MoreChannels(Arc::downgrade(&self.shared))
    }
}

/// Opens another SSH channel to a tunnelled display; kept by the display's session,
/// it does not keep the tunnel alive.
#[derive(Debug, Clone)]
pub struct MoreChannels(Weak<TunnelShared>);

impl MoreChannels {
    /// A socket through a new channel (through the host's shared login: no question
    /// again); ssh's reason in words when it cannot open.
    pub async fn open(&self) -> Result<OwnedFd, String> {
        let Some(shared) = self.0.upgrade() else {
            return Err(gettext("The display’s SSH connection was closed"));
        };
        shared
            .open_channel()
            .await
            .map_err(|e| tunnel_error_text(&e))
    }
}

/// The protocol a VM's graphical console speaks (its `<graphics type=…>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphicsProtocol {
    Vnc,
    Spice,
}

impl GraphicsProtocol {
    fn from_type(kind: &str) -> Option<Self> {
        match kind {
            "vnc" => Some(Self::Vnc),
            "spice" => Some(Self::Spice),
            _ => None,
        }
    }

    fn xml_type(self) -> &'static str {
        match self {
            Self::Vnc => "vnc",
            Self::Spice => "spice",
        }
    }
}

/// A way into a VM's graphical console and the protocol spoken there.
#[derive(Debug)]
pub struct GraphicsAccess {
    pub protocol: GraphicsProtocol,
    pub endpoint: GraphicsEndpoint,
}

/// Why a VM's graphical console cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum GraphicsError {
    /// The VM has no graphical display device at all.
    #[error("the virtual machine has no graphical display")]
    NoDisplay,
    /// Its displays are all of a kind Vireo does not show (the first one's type).
    #[error("the virtual machine's display is {0}, neither VNC nor SPICE")]
    Unsupported(String),
    /// The VNC server listens only on the loopback address of the remote `host`.
    #[error("the display listens only on the loopback address of {host}")]
    OutOfReach {
        host: String,
        /// Why libvirt could not hand out a socket instead (`None`: the connection
        /// cannot carry one).
        cause: Option<VirtError>,
    },
    /// The host's driver cannot hand out a socket to the display
    /// (`VIR_ERR_NO_SUPPORT`, as the test driver, or a connection that cannot carry
    /// one) and the live XML gives no address to dial instead: asking again cannot help
    /// while the VM keeps its devices.
    #[error("the host cannot open the display and it has no address to dial")]
    NoWayIn(Option<VirtError>),
    /// The SSH channel to the display could not be opened (ssh's reason).
    #[error(transparent)]
    Tunnel(#[from] SshError),
    /// libvirt (or the connection) failed.
    #[error(transparent)]
    Virt(#[from] VirtError),
}

impl GraphicsError {
    /// The sentence shown to the person: libvirt's own words when libvirt failed.
    pub fn text(&self) -> String {
        match self {
            Self::NoDisplay => gettext("This virtual machine has no graphical display."),
            Self::Unsupported(kind) => gettext(
                "This virtual machine’s display uses {kind}, which Vireo cannot show yet.",
            )
            .replace("{kind}", &kind.to_uppercase()),
            Self::OutOfReach { host, cause } => with_cause(
                gettext(
                    "The display listens only on the loopback address of {host}, out of reach from this computer",
                )
                .replace("{host}", host),
                cause.as_ref(),
            ),
            Self::NoWayIn(cause) => with_cause(
                gettext(
                    "The host cannot open this display for Vireo, and the display has no address to connect to",
                ),
                cause.as_ref(),
            ),
            Self::Tunnel(e) => tunnel_error_text(e),
            Self::Virt(e) => error_text(e),
        }
    }

    /// True when the person declined a question of the login (a passphrase, a host
    /// key): asking again by itself would only nag; Retry asks again.
    pub fn was_declined(&self) -> bool {
        matches!(self, Self::Tunnel(SshError::Cancelled { .. }))
    }

    /// True when no attempt can succeed while the VM keeps its devices.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::NoDisplay | Self::Unsupported(_) | Self::NoWayIn(_)
        )
    }
}

/// "what (libvirt's words)", or `what` alone.
fn with_cause(what: String, cause: Option<&VirtError>) -> String {
    match cause {
        Some(cause) => format!("{what} ({})", error_text(cause)),
        None => what,
    }
}

/// What the person reads when the channel to a display failed: what happened, then
/// ssh's own words.
fn tunnel_error_text(e: &SshError) -> String {
    let what = match e {
        SshError::HostKeyUnknown { host, .. } => {
            gettext("The identity of {host} is not known").replace("{host}", host)
        }
        SshError::HostKeyChanged { host, .. } => {
            gettext("The identity of {host} has changed").replace("{host}", host)
        }
        SshError::AuthRefused { host, .. } => {
            gettext("{host} refused the login").replace("{host}", host)
        }
        SshError::Cancelled { .. } => gettext("The login was cancelled"),
        SshError::Lost { host, .. } => {
            gettext("The connection to {host} was lost").replace("{host}", host)
        }
        SshError::TimedOut { host, seconds } => gettext("{host} did not answer within {n} s")
            .replace("{host}", host)
            .replace("{n}", &seconds.to_string()),
        _ => gettext("Could not open an SSH channel to the display"),
    };
    let words = e.ssh_message().trim();
    if words.is_empty() {
        format!("{what} ({e})")
    } else {
        format!("{what} ({words})")
    }
}

/// Where a display is, once libvirt's answer was read on the worker.
enum Way {
    Ready(GraphicsEndpoint),
    /// Through an SSH channel to the host, to this endpoint as the host sees it.
    ThroughSsh(Endpoint),
}

impl ConnectionObject {
    /// A way into `domain`'s graphical console and its protocol: libvirt's socket to
    /// the first display when it can give one (VMs on this machine); for a
    /// `qemu+ssh://` host's display, an SSH channel with the connection's user, port
    /// and key to the display's address (or a VNC display's socket) as the host sees
    /// them (asking the person through [`super::SshLogin`] when ssh needs to; further
    /// channels of a SPICE display through [`DisplayTunnel::more_channels`], on the
    /// same login); else the address of the first VNC or SPICE display in the live
    /// XML.
    pub async fn open_graphics(
        &self,
        domain: &DomainObject,
    ) -> Result<GraphicsAccess, GraphicsError> {
        let uuid = domain.uuid().to_string();
        let uri_text = self.uri();
        let uri = UriInfo::parse(&uri_text);
        let ssh = SshTarget::from_uri(&uri_text).ok();
        let over_ssh = ssh.is_some();
        // libvirt hands out the socket as a descriptor, which only its local unix
        // socket can carry: asked over ssh or TLS, the reply breaks the connection
        // ("client socket is closed").
        let passes_fds = uri.host.is_empty() || uri.transport == "unix";
        let remote_host = uri.is_remote().then_some(uri.host);
        let (protocol, way) = self
            .worker()
            .run(move |st| {
                let conn = st.session()?.conn();
                let xml = crate::virt::actions::domain_xml(conn, &uuid, false)?;
                let types = graphics::display_types(&xml);
                let Some(first) = types.first() else {
                    return Err(GraphicsError::NoDisplay);
                };
                // libvirt opens the first display (index 0) for us, when it is one of ours.
                let socket_error = match GraphicsProtocol::from_type(first) {
                    Some(protocol) if passes_fds => match graphics::open_graphics_fd(conn, &uuid) {
                        Ok(fd) => return Ok((protocol, Way::Ready(GraphicsEndpoint::Socket(fd)))),
                        Err(e) => {
                            tracing::debug!(%e, "no graphics socket, reading the live XML");
                            Some(e)
                        }
                    },
                    _ => None,
                };
                let Some(protocol) = types.iter().find_map(|t| GraphicsProtocol::from_type(t))
                else {
                    return Err(GraphicsError::Unsupported(first.clone()));
                };
                let tunnel = over_ssh;
                if tunnel && protocol == GraphicsProtocol::Vnc {
                    if let Some(path) = graphics::parse_vnc_socket(&xml) {
                        return Ok((protocol, Way::ThroughSsh(Endpoint::Unix(path))));
                    }
                }
                let Some((listen, port)) =
                    graphics::parse_display_address(&xml, protocol.xml_type())
                else {
                    // A driver that never offers the socket will not offer it on the
                    // next try either; anything else (a VM still starting) may pass.
                    return Err(match socket_error {
                        Some(e) if !e.is_unsupported() => e.into(),
                        cause => GraphicsError::NoWayIn(cause),
                    });
                };
                if tunnel {
                    // As the host sees it: its loopback for "every address".
                    let host = graphics::reachable_vnc_host(&listen, None).unwrap_or(listen);
                    return Ok((protocol, Way::ThroughSsh(Endpoint::Tcp { host, port })));
                }
                match graphics::reachable_vnc_host(&listen, remote_host.as_deref()) {
                    Some(host) => Ok((protocol, Way::Ready(GraphicsEndpoint::Address(host, port)))),
                    None => Err(GraphicsError::OutOfReach {
                        host: remote_host.unwrap_or_default(),
                        cause: socket_error,
                    }),
                }
            })
            .await??;
        let endpoint = match way {
            Way::Ready(endpoint) => return Ok(GraphicsAccess { protocol, endpoint }),
            Way::ThroughSsh(endpoint) => endpoint,
        };
        let Some(target) = ssh else {
            return Err(SshError::NotSsh(uri_text).into());
        };
        // ssh may wait for the person's answer: a thread of its own, not the
        // connection's worker, which keeps serving the list meanwhile.
        // One login per host for every channel (a passphrase is asked once).
        let options = TunnelOptions {
            askpass: super::ssh_login::askpass(),
            share: crate::virt::ssh::mux::control_dir(),
            ..TunnelOptions::default()
        };
        let shared = Arc::new(TunnelShared {
            target,
            endpoint,
            options,
            channels: Mutex::default(),
        });
        let started = std::time::Instant::now();
        let socket = shared.open_channel().await?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "SSH channel to the display open"
        );
        Ok(GraphicsAccess {
            protocol,
            endpoint: GraphicsEndpoint::Tunnel(socket, DisplayTunnel { shared }),
        })
    }

    /// One more socket to `domain`'s first display, for a SPICE channel after the
    /// first (each channel is a connection of its own); libvirt's words on failure.
    pub async fn open_graphics_socket(&self, domain: &DomainObject) -> Result<OwnedFd, String> {
        let uuid = domain.uuid().to_string();
        self.worker()
            .run(move |st| graphics::open_graphics_fd(st.session()?.conn(), &uuid))
            .await
            .and_then(|r| r)
            .map_err(|e| error_text(&e))
    }
}

impl ConnectionObject {
    /// The serial ports and consoles of `domain`'s live XML, in order.
    pub async fn console_devices(
        &self,
        domain: &DomainObject,
    ) -> Result<Vec<ConsoleDevice>, VirtError> {
        let uuid = domain.uuid().to_string();
        self.worker()
            .run(move |st| {
                let xml = crate::virt::actions::domain_xml(st.session()?.conn(), &uuid, false)?;
                console_stream::console_devices(&xml)
            })
            .await?
    }

    /// Opens `domain`'s console `device` (an alias such as `serial0`; `None`: its first
    /// console) on the worker; `force` takes it over from another client. The stream is
    /// then read on the main loop ([`OpenedConsole::start`]).
    pub async fn open_console(
        &self,
        domain: &DomainObject,
        device: Option<String>,
        force: bool,
    ) -> Result<OpenedConsole, VirtError> {
        let uuid = domain.uuid().to_string();
        self.worker()
            .run(move |st| {
                console_stream::open(st.session()?.conn(), &uuid, device.as_deref(), force)
            })
            .await?
    }
}
