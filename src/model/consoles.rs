//! The ways into a VM's consoles, run on the connection's worker thread.

use std::os::fd::OwnedFd;

use super::{ConnectionObject, DomainObject};
use crate::virt::graphics;
use crate::virt::uri::UriInfo;

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How to reach a graphical console.
#[derive(Debug)]
pub enum GraphicsEndpoint {
    /// A socket libvirt opened for us (works for remote hosts without extra ports).
    Socket(OwnedFd),
    /// A VNC server's address, when the host cannot hand out a socket.
    Address(String, u16),
}

impl ConnectionObject {
    /// A way into `domain`'s graphical console: libvirt's socket when it can give one,
    /// else the VNC address of the live XML. The error is libvirt's own text.
    pub async fn open_graphics(&self, domain: &DomainObject) -> Result<GraphicsEndpoint, String> {
        let uuid = domain.uuid().to_string();
        let uri = UriInfo::parse(&self.uri());
        self.with_connect(move |conn| match graphics::open_graphics_fd(conn, &uuid) {
            Ok(fd) => Ok(GraphicsEndpoint::Socket(fd)),
            Err(socket_error) => {
                tracing::debug!(%socket_error, "no graphics socket, trying the VNC address");
                match graphics::vnc_address(conn, &uuid) {
                    // A remote VM listening on the remote host's loopback is out of reach.
                    Ok((host, _)) if uri.is_remote() && is_loopback(&host) => {
                        Err(socket_error.to_string())
                    }
                    Ok((host, port)) => Ok(GraphicsEndpoint::Address(host, port)),
                    Err(_) => Err(socket_error.to_string()),
                }
            }
        })
        .await?
    }
}
