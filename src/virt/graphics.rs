//! Reaching a VM's graphical console: a socket from `virDomainOpenGraphicsFD` (local
//! and remote hosts alike, no extra port), or the VNC address in the live XML.

use std::os::fd::{FromRawFd, OwnedFd};

use virt::connect::Connect;
use virt::sys;

use super::actions::domain_xml;
use super::error::{Result, VirtError};
use super::handles::DomainRef;

/// A connected socket to the VM's first graphics device.
pub fn open_graphics_fd(conn: &Connect, uuid: &str) -> Result<OwnedFd> {
    let domain = DomainRef::lookup_uuid(conn, uuid)?;
    // SAFETY: the domain pointer is valid for the call; a non-negative return is a
    // new descriptor that we own.
    let fd = unsafe {
        sys::virDomainOpenGraphicsFD(domain.as_ptr(), 0, sys::VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
    };
    if fd < 0 {
        return Err(VirtError::last("virDomainOpenGraphicsFD"));
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Where the VM's VNC server listens, from its live XML: (host, port).
pub fn vnc_address(conn: &Connect, uuid: &str) -> Result<(String, u16)> {
    let xml = domain_xml(conn, uuid, false)?;
    parse_vnc_address(&xml).ok_or_else(|| {
        VirtError::InvalidArgument("the machine has no VNC display with a port".into())
    })
}

/// The first `<graphics type='vnc'>` with a port; a listen address of "any" means the
/// host itself.
pub fn parse_vnc_address(xml: &str) -> Option<(String, u16)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let graphics = doc
        .descendants()
        .find(|n| n.has_tag_name("graphics") && n.attribute("type") == Some("vnc"))?;
    let port: i32 = graphics.attribute("port")?.parse().ok()?;
    let port = u16::try_from(port).ok().filter(|p| *p > 0)?;
    let listen = graphics
        .attribute("listen")
        .or_else(|| {
            graphics
                .children()
                .find(|c| c.has_tag_name("listen"))
                .and_then(|l| l.attribute("address"))
        })
        .unwrap_or("127.0.0.1");
    let host = match listen {
        "0.0.0.0" | "::" | "" => "127.0.0.1",
        other => other,
    };
    Some((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::parse_vnc_address;

    #[test]
    fn reads_the_live_vnc_port() {
        let xml = "<domain><devices><graphics type='spice' port='5901'/>\
                   <graphics type='vnc' port='5902' autoport='yes' listen='0.0.0.0'>\
                   <listen type='address' address='0.0.0.0'/></graphics></devices></domain>";
        assert_eq!(parse_vnc_address(xml), Some(("127.0.0.1".into(), 5902)));
    }

    #[test]
    fn a_listen_element_gives_the_address() {
        let xml = "<domain><devices><graphics type='vnc' port='5900'>\
                   <listen type='address' address='192.0.2.7'/></graphics></devices></domain>";
        assert_eq!(parse_vnc_address(xml), Some(("192.0.2.7".into(), 5900)));
    }

    #[test]
    fn no_port_while_shut_off() {
        let xml =
            "<domain><devices><graphics type='vnc' port='-1' autoport='yes'/></devices></domain>";
        assert_eq!(parse_vnc_address(xml), None);
    }
}
