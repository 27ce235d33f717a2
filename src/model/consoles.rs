//! The ways into a VM's consoles, run on the connection's worker thread.

use std::os::fd::OwnedFd;

use gettextrs::gettext;

use super::connection_object::error_text;
use super::{ConnectionObject, DomainObject};
use crate::virt::console_stream;
pub use crate::virt::console_stream::{
    is_busy_error, is_not_running_error, CloseReason as ConsoleCloseReason, ConsoleDevice,
    ConsoleEvent, ConsoleStream, Defer, DeviceKind, OpenedConsole, DEFAULT_MAX_PER_TURN,
};
use crate::virt::graphics;
use crate::virt::uri::UriInfo;
use crate::virt::VirtError;

/// How to reach a graphical console.
#[derive(Debug)]
pub enum GraphicsEndpoint {
    /// A socket libvirt opened for us (VMs on this machine).
    Socket(OwnedFd),
    /// The display server's address, when the host cannot hand out a socket.
    Address(String, u16),
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
        /// Why libvirt could not hand out a socket instead.
        cause: VirtError,
    },
    /// The host's driver cannot hand out a socket to the display
    /// (`VIR_ERR_NO_SUPPORT`, as the test driver) and the live XML gives no address to
    /// dial instead: asking again cannot help while the VM keeps its devices.
    #[error("the host cannot open the display and it has no address to dial: {0}")]
    NoWayIn(VirtError),
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
            Self::OutOfReach { host, cause } => format!(
                "{} ({})",
                gettext(
                    "The display listens only on the loopback address of {host}, out of reach from this computer",
                )
                .replace("{host}", host),
                error_text(cause)
            ),
            Self::NoWayIn(cause) => format!(
                "{} ({})",
                gettext(
                    "The host cannot open this display for Vireo, and the display has no address to connect to",
                ),
                error_text(cause)
            ),
            Self::Virt(e) => error_text(e),
        }
    }

    /// True when no attempt can succeed while the VM keeps its devices.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::NoDisplay | Self::Unsupported(_) | Self::NoWayIn(_)
        )
    }
}

impl ConnectionObject {
    /// A way into `domain`'s graphical console and its protocol: libvirt's socket to
    /// the first display when it can give one, else the address of the first VNC or
    /// SPICE display in the live XML.
    pub async fn open_graphics(
        &self,
        domain: &DomainObject,
    ) -> Result<GraphicsAccess, GraphicsError> {
        let uuid = domain.uuid().to_string();
        let uri = UriInfo::parse(&self.uri());
        let remote_host = uri.is_remote().then_some(uri.host);
        self.worker()
            .run(move |st| {
                let conn = st.session()?.conn();
                let xml = crate::virt::actions::domain_xml(conn, &uuid, false)?;
                let types = graphics::display_types(&xml);
                let Some(first) = types.first() else {
                    return Err(GraphicsError::NoDisplay);
                };
                // libvirt opens the first display (index 0) for us, when it is one of ours.
                let socket_error = match GraphicsProtocol::from_type(first) {
                    Some(protocol) => match graphics::open_graphics_fd(conn, &uuid) {
                        Ok(fd) => {
                            return Ok(GraphicsAccess {
                                protocol,
                                endpoint: GraphicsEndpoint::Socket(fd),
                            })
                        }
                        Err(e) => Some(e),
                    },
                    None => None,
                };
                tracing::debug!(?socket_error, "no graphics socket, reading the live XML");
                let Some(protocol) = types.iter().find_map(|t| GraphicsProtocol::from_type(t))
                else {
                    return Err(GraphicsError::Unsupported(first.clone()));
                };
                let socket_error = socket_error.unwrap_or_else(|| {
                    VirtError::InvalidArgument(format!("the first display is {first}"))
                });
                let Some((listen, port)) =
                    graphics::parse_display_address(&xml, protocol.xml_type())
                else {
                    // A driver that never offers the socket will not offer it on the
                    // next try either; anything else (a VM still starting) may pass.
                    if socket_error.is_unsupported() {
                        return Err(GraphicsError::NoWayIn(socket_error));
                    }
                    return Err(socket_error.into());
                };
                match graphics::reachable_vnc_host(&listen, remote_host.as_deref()) {
                    Some(host) => Ok(GraphicsAccess {
                        protocol,
                        endpoint: GraphicsEndpoint::Address(host, port),
                    }),
                    None => Err(GraphicsError::OutOfReach {
                        host: remote_host.unwrap_or_default(),
                        cause: socket_error,
                    }),
                }
            })
            .await?
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
