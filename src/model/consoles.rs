//! The ways into a VM's consoles, run on the connection's worker thread.

use std::os::fd::OwnedFd;

use gettextrs::gettext;

use super::{ConnectionObject, DomainObject};
use crate::virt::graphics;
use crate::virt::uri::UriInfo;

/// How to reach a graphical console.
#[derive(Debug)]
pub enum GraphicsEndpoint {
    /// A socket libvirt opened for us (VMs on this machine).
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
        let remote_host = uri.is_remote().then_some(uri.host);
        // Translated here, on the main thread, for the worker to use.
        let out_of_reach = gettext(
            "The display listens only on the loopback address of {host}, out of reach from this computer",
        );
        self.with_connect(move |conn| match graphics::open_graphics_fd(conn, &uuid) {
            Ok(fd) => Ok(GraphicsEndpoint::Socket(fd)),
            Err(socket_error) => {
                tracing::debug!(%socket_error, "no graphics socket, trying the VNC address");
                let Ok((listen, port)) = graphics::vnc_address(conn, &uuid) else {
                    return Err(socket_error.to_string());
                };
                match graphics::reachable_vnc_host(&listen, remote_host.as_deref()) {
                    Some(host) => Ok(GraphicsEndpoint::Address(host, port)),
                    None => {
                        let host = remote_host.unwrap_or_default();
                        Err(format!(
                            "{} ({socket_error})",
                            out_of_reach.replace("{host}", &host)
                        ))
                    }
                }
            }
        })
        .await?
    }
}
