//! The ways into a VM's consoles, run on the connection's worker thread.

use std::os::fd::OwnedFd;

use gettextrs::gettext;

use super::connection_object::error_text;
use super::{ConnectionObject, DomainObject};
use crate::virt::graphics;
use crate::virt::uri::UriInfo;
use crate::virt::VirtError;

/// How to reach a graphical console.
#[derive(Debug)]
pub enum GraphicsEndpoint {
    /// A socket libvirt opened for us (VMs on this machine).
    Socket(OwnedFd),
    /// A VNC server's address, when the host cannot hand out a socket.
    Address(String, u16),
}

/// Why a VM's graphical console cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum GraphicsError {
    /// The VM has no graphical display device at all.
    #[error("the virtual machine has no graphical display")]
    NoDisplay,
    /// Its displays are all of a kind Vireo does not show (the first one's type).
    #[error("the virtual machine's display is {0}, not VNC")]
    Unsupported(String),
    /// The VNC server listens only on the loopback address of the remote `host`.
    #[error("the display listens only on the loopback address of {host}")]
    OutOfReach {
        host: String,
        /// Why libvirt could not hand out a socket instead.
        cause: VirtError,
    },
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
            Self::Virt(e) => error_text(e),
        }
    }

    /// True when no attempt can succeed while the VM keeps its devices.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::NoDisplay | Self::Unsupported(_))
    }
}

impl ConnectionObject {
    /// A way into `domain`'s graphical console: libvirt's socket when it can give one,
    /// else the VNC address of the live XML.
    pub async fn open_graphics(
        &self,
        domain: &DomainObject,
    ) -> Result<GraphicsEndpoint, GraphicsError> {
        let uuid = domain.uuid().to_string();
        let uri = UriInfo::parse(&self.uri());
        let remote_host = uri.is_remote().then_some(uri.host);
        self.worker()
            .run(move |st| {
                let conn = st.session()?.conn();
                let socket_error = match graphics::open_graphics_fd(conn, &uuid) {
                    Ok(fd) => return Ok(GraphicsEndpoint::Socket(fd)),
                    Err(e) => e,
                };
                tracing::debug!(%socket_error, "no graphics socket, reading the live XML");
                let xml = crate::virt::actions::domain_xml(conn, &uuid, false)?;
                let types = graphics::display_types(&xml);
                if types.is_empty() {
                    return Err(GraphicsError::NoDisplay);
                }
                if !types.iter().any(|t| t == "vnc") {
                    return Err(GraphicsError::Unsupported(types[0].clone()));
                }
                let Some((listen, port)) = graphics::parse_vnc_address(&xml) else {
                    return Err(socket_error.into());
                };
                match graphics::reachable_vnc_host(&listen, remote_host.as_deref()) {
                    Some(host) => Ok(GraphicsEndpoint::Address(host, port)),
                    None => Err(GraphicsError::OutOfReach {
                        host: remote_host.unwrap_or_default(),
                        cause: socket_error,
                    }),
                }
            })
            .await?
    }
}
