//! Reaching a VM's graphical console: a socket from `virDomainOpenGraphicsFD` (libvirt
//! passes descriptors only over its local unix socket, so for VMs on this machine), or
//! the VNC or SPICE address in the live XML (remote hosts).

use std::os::fd::OwnedFd;

use virt::connect::Connect;
use virt::sys;

use super::actions::domain_xml;
use super::error::{Result, VirtError};
use super::handles::DomainRef;
use super::uri::is_loopback_host;

/// A connected socket to the VM's first graphics device.
pub fn open_graphics_fd(conn: &Connect, uuid: &str) -> Result<OwnedFd> {
    DomainRef::lookup_uuid(conn, uuid)?.open_graphics_fd(sys::VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
}

/// Where the VM's VNC server listens, from its live XML: (listen address, port).
pub fn vnc_address(conn: &Connect, uuid: &str) -> Result<(String, u16)> {
    let xml = domain_xml(conn, uuid, false)?;
    parse_vnc_address(&xml).ok_or_else(|| {
        VirtError::InvalidArgument("the machine has no VNC display with a port".into())
    })
}

/// The types of the domain's graphical displays (`vnc`, `spice`...), in XML order;
/// empty when it has none.
pub fn display_types(xml: &str) -> Vec<String> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("graphics"))
        .filter_map(|n| n.attribute("type").map(str::to_owned))
        .collect()
}

/// The first `<graphics type='vnc'>` with a port: (listen address, port). The address is
/// as libvirt wrote it ("0.0.0.0" for all of the host's addresses); see
/// `reachable_vnc_host`.
pub fn parse_vnc_address(xml: &str) -> Option<(String, u16)> {
    parse_display_address(xml, "vnc")
}

/// The first `<graphics type='KIND'>` (`vnc`, `spice`) with a plain (not TLS) port:
/// (listen address, port), as [`parse_vnc_address`] reads it.
pub fn parse_display_address(xml: &str, kind: &str) -> Option<(String, u16)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let graphics = doc
        .descendants()
        .find(|n| n.has_tag_name("graphics") && n.attribute("type") == Some(kind))?;
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
    Some((listen.to_owned(), port))
}

/// The unix socket the first `<graphics type='vnc'>` listens on, from the live XML
/// (`<listen type='socket' socket='...'/>`, or the older `socket='...'` attribute).
pub fn parse_vnc_socket(xml: &str) -> Option<std::path::PathBuf> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let graphics = doc
        .descendants()
        .find(|n| n.has_tag_name("graphics") && n.attribute("type") == Some("vnc"))?;
    graphics
        .attribute("socket")
        .or_else(|| {
            graphics
                .children()
                .find(|c| c.has_tag_name("listen") && c.attribute("type") == Some("socket"))
                .and_then(|l| l.attribute("socket"))
        })
        .filter(|s| !s.is_empty())
        .map(std::path::PathBuf::from)
}

/// Where to connect to a VNC server listening on `listen`, on the host of a libvirt
/// connection (`remote_host`, or `None` for this machine). `None` when it listens only
/// on a remote host's loopback, out of reach without a tunnel.
pub fn reachable_vnc_host(listen: &str, remote_host: Option<&str>) -> Option<String> {
    let wildcard = matches!(listen, "" | "0.0.0.0" | "::" | "[::]");
    match remote_host {
        None if wildcard => Some("127.0.0.1".to_owned()),
        Some(host) if wildcard => Some(host.to_owned()),
        Some(_) if is_loopback_host(listen) => None,
        _ => Some(listen.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        display_types, parse_display_address, parse_vnc_address, parse_vnc_socket,
        reachable_vnc_host,
    };

    #[test]
    fn reads_the_live_vnc_socket() {
        let xml = "<domain><devices><graphics type='vnc'>\
                   <listen type='socket' socket='/run/libvirt/qemu/vnc.sock'/></graphics>\
                   </devices></domain>";
        assert_eq!(
            parse_vnc_socket(xml),
            Some("/run/libvirt/qemu/vnc.sock".into())
        );
        assert_eq!(parse_vnc_address(xml), None);
        let old = "<domain><devices><graphics type='vnc' socket='/s'/></devices></domain>";
        assert_eq!(parse_vnc_socket(old), Some("/s".into()));
        let tcp = "<domain><devices><graphics type='vnc' port='5900'/></devices></domain>";
        assert_eq!(parse_vnc_socket(tcp), None);
    }

    #[test]
    fn lists_the_display_types() {
        let xml = "<domain><devices><graphics type='spice' port='5901'/>\
                   <graphics type='vnc' port='5902'/></devices></domain>";
        assert_eq!(display_types(xml), ["spice", "vnc"]);
        let none = "<domain><devices><serial type='pty'/><video/></devices></domain>";
        assert!(display_types(none).is_empty());
    }

    #[test]
    fn reads_the_live_vnc_port() {
        let xml = "<domain><devices><graphics type='spice' port='5901'/>\
                   <graphics type='vnc' port='5902' autoport='yes' listen='0.0.0.0'>\
                   <listen type='address' address='0.0.0.0'/></graphics></devices></domain>";
        assert_eq!(parse_vnc_address(xml), Some(("0.0.0.0".into(), 5902)));
        assert_eq!(
            parse_display_address(xml, "spice"),
            Some(("127.0.0.1".into(), 5901))
        );
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

    #[test]
    fn the_address_to_dial_depends_on_the_host() {
        // This machine: any address, or the one it names.
        assert_eq!(
            reachable_vnc_host("0.0.0.0", None).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            reachable_vnc_host("127.0.0.1", None).as_deref(),
            Some("127.0.0.1")
        );
        // A remote host listening everywhere is reached by its own name...
        assert_eq!(
            reachable_vnc_host("::", Some("h.example")).as_deref(),
            Some("h.example")
        );
        assert_eq!(
            reachable_vnc_host("192.0.2.7", Some("h")).as_deref(),
            Some("192.0.2.7")
        );
        // ...but not when it listens on its own loopback only.
        assert_eq!(reachable_vnc_host("127.0.0.1", Some("h")), None);
        assert_eq!(reachable_vnc_host("::1", Some("h")), None);
    }
}
