//! Virtual networks: what the host has (forward mode, bridge, addresses, DHCP range,
//! state, autostart), making one from a typed [`NetworkSpec`] (checked by [`validate`],
//! written by [`network_xml`], both pure, with the address maths in [`super::ip`]),
//! starting, stopping and removing them, and their DHCP leases with the domain each
//! belongs to.

use virt::connect::Connect;
use virt::network::Network;

use super::ip::{self, Cidr, IpProblem};
use super::usage::{owner_of_mac, DomainUse};
use super::{call, child, escape, name_problem, optional_list, parse_xml, NameProblem};
use crate::ffi::libvirt_host;
use crate::virt::error::Result;

/// How a network reaches the outside (libvirt's `<forward mode>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ForwardMode {
    /// Guests share the host's address (NAT), the usual default.
    #[default]
    Nat,
    /// Guests' addresses are routed, not translated.
    Route,
    /// Like routed, but libvirt adds no firewall rules.
    Open,
    /// Guests reach each other and the host only.
    Isolated,
    /// Guests join a bridge of the host's own network.
    Bridge,
    /// Any other mode ("hostdev", "passthrough", "vepa", "private").
    Other(String),
}

impl ForwardMode {
    /// From the `<forward>` element's mode (`None`: no `<forward>`, isolated).
    pub fn from_xml(mode: Option<&str>) -> Self {
        match mode {
            None => ForwardMode::Isolated,
            Some("" | "nat") => ForwardMode::Nat,
            Some("route") => ForwardMode::Route,
            Some("open") => ForwardMode::Open,
            Some("bridge") => ForwardMode::Bridge,
            Some(o) => ForwardMode::Other(o.to_owned()),
        }
    }

    /// libvirt's mode name (`None` for isolated, which has no `<forward>`).
    pub fn xml_name(&self) -> Option<&str> {
        match self {
            ForwardMode::Nat => Some("nat"),
            ForwardMode::Route => Some("route"),
            ForwardMode::Open => Some("open"),
            ForwardMode::Isolated => None,
            ForwardMode::Bridge => Some("bridge"),
            ForwardMode::Other(o) => Some(o),
        }
    }

    /// True when libvirt runs a bridge with addresses and DHCP for it (not a bridge
    /// of the host's, not a direct device mode).
    pub fn has_addresses(&self) -> bool {
        matches!(
            self,
            ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open | ForwardMode::Isolated
        )
    }
}

/// One `<ip>` of a network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpRange {
    /// The network in CIDR form ("192.168.122.0/24").
    pub network: String,
    /// The host's own address on it ("192.168.122.1").
    pub address: String,
    /// The DHCP range, when DHCP is on.
    pub dhcp: Option<(String, String)>,
}

/// A virtual network as the host page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkInfo {
    /// Name.
    pub name: String,
    /// UUID.
    pub uuid: String,
    /// Running.
    pub active: bool,
    /// Defined (not transient).
    pub persistent: bool,
    /// Started when the host starts.
    pub autostart: bool,
    /// How it reaches the outside.
    pub mode: ForwardMode,
    /// The host device it forwards through, when limited to one.
    pub forward_dev: Option<String>,
    /// The bridge device (libvirt's own, or the host bridge in bridge mode).
    pub bridge: Option<String>,
    /// IPv4 addresses and DHCP.
    pub ipv4: Option<IpRange>,
    /// IPv6 addresses and DHCP.
    pub ipv6: Option<IpRange>,
}

/// Reads a network's XML into a [`NetworkInfo`] without the run state (pure).
pub fn parse_network_xml(xml: &str) -> Result<NetworkInfo> {
    let doc = parse_xml(xml)?;
    let root = doc.root_element();
    let forward = child(root, "forward");
    let mut info = NetworkInfo {
        name: super::child_text(root, "name").unwrap_or_default(),
        uuid: super::child_text(root, "uuid").unwrap_or_default(),
        mode: ForwardMode::from_xml(forward.map(|f| f.attribute("mode").unwrap_or(""))),
        forward_dev: forward.and_then(|f| f.attribute("dev")).map(str::to_owned),
        bridge: child(root, "bridge")
            .and_then(|b| b.attribute("name"))
            .map(str::to_owned),
        ..Default::default()
    };
    for node in root.children().filter(|n| n.has_tag_name("ip")) {
        let Some(address) = node.attribute("address") else {
            continue;
        };
        let prefix = node
            .attribute("prefix")
            .and_then(|p| p.parse::<u8>().ok())
            .or_else(|| node.attribute("netmask").and_then(ip::netmask_prefix));
        let v6 = node.attribute("family") == Some("ipv6") || address.contains(':');
        let network = prefix
            .and_then(|p| Cidr::parse(&format!("{address}/{p}")).ok())
            .map(|c| c.network_text())
            .unwrap_or_else(|| address.to_owned());
        let dhcp = child(node, "dhcp")
            .and_then(|d| child(d, "range"))
            .and_then(|r| {
                Some((
                    r.attribute("start")?.to_owned(),
                    r.attribute("end")?.to_owned(),
                ))
            });
        let range = IpRange {
            network,
            address: address.to_owned(),
            dhcp,
        };
        let slot = if v6 { &mut info.ipv6 } else { &mut info.ipv4 };
        if slot.is_none() {
            *slot = Some(range);
        }
    }
    Ok(info)
}

fn info_of(net: &Network) -> Result<NetworkInfo> {
    let xml = call("virNetworkGetXMLDesc", net.xml_desc(0))?;
    let mut info = parse_network_xml(&xml)?;
    info.active = call("virNetworkIsActive", net.is_active())?;
    info.persistent = net.is_persistent().unwrap_or(true);
    info.autostart = net.autostart().unwrap_or(false);
    Ok(info)
}

/// Every virtual network of the host, by name.
pub fn list(conn: &Connect) -> Result<Vec<NetworkInfo>> {
    let mut out = Vec::new();
    for n in optional_list("virConnectListAllNetworks", conn.list_all_networks(0))? {
        match info_of(&n) {
            Ok(i) => out.push(i),
            Err(e) => tracing::debug!(error = %e, "network vanished while listed"),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// libvirt's `VIR_ERR_NO_NETWORK`.
pub const ERR_NO_NETWORK: i32 = 43;

fn lookup(conn: &Connect, name: &str) -> Result<Network> {
    call("virNetworkLookupByName", conn.lookup_network_by_name(name))
}

/// The network `name`, `None` when the host has none by that name (any more).
pub fn read(conn: &Connect, name: &str) -> Result<Option<NetworkInfo>> {
    match lookup(conn, name) {
        Ok(n) => info_of(&n).map(Some),
        Err(e) if e.code() == ERR_NO_NETWORK => Ok(None),
        Err(e) => Err(e),
    }
}

/// Starts the network.
pub fn start(conn: &Connect, name: &str) -> Result<()> {
    call("virNetworkCreate", lookup(conn, name)?.create())
}

/// Stops the network: running guests on it lose their connection.
pub fn stop(conn: &Connect, name: &str) -> Result<()> {
    call("virNetworkDestroy", lookup(conn, name)?.destroy())
}

/// Sets whether the network starts with the host.
pub fn set_autostart(conn: &Connect, name: &str, autostart: bool) -> Result<()> {
    call(
        "virNetworkSetAutostart",
        lookup(conn, name)?.set_autostart(autostart),
    )
}

/// Stops the network when it runs and removes its definition.
pub fn delete(conn: &Connect, name: &str) -> Result<()> {
    let n = lookup(conn, name)?;
    if call("virNetworkIsActive", n.is_active())? {
        call("virNetworkDestroy", n.destroy())?;
    }
    if n.is_persistent().unwrap_or(true) {
        call("virNetworkUndefine", n.undefine())?;
    }
    Ok(())
}

/// One address the network's DHCP server handed out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lease {
    /// The client's MAC address.
    pub mac: String,
    /// The address with its prefix ("10.214.1.57/24").
    pub address: String,
    /// IPv6 rather than IPv4.
    pub ipv6: bool,
    /// The name the client gave.
    pub hostname: Option<String>,
    /// When the lease ends, seconds since the epoch.
    pub expiry: i64,
    /// The domain (UUID, name) whose card has this MAC, when one of the host's has.
    pub domain: Option<(String, String)>,
    /// The network that handed it out.
    pub network: String,
}

/// The DHCP leases of the network `name`, each matched to its domain by MAC.
pub fn leases(conn: &Connect, name: &str, uses: &[DomainUse]) -> Result<Vec<Lease>> {
    let n = lookup(conn, name)?;
    let mut out: Vec<Lease> = libvirt_host::dhcp_leases(&n)?
        .into_iter()
        .map(|l| Lease {
            domain: owner_of_mac(uses, &l.mac).map(|u| (u.uuid.clone(), u.name.clone())),
            address: format!("{}/{}", l.address, l.prefix),
            mac: l.mac.to_ascii_lowercase(),
            ipv6: l.ipv6,
            hostname: l.hostname,
            expiry: l.expiry,
            network: name.to_owned(),
        })
        .collect();
    out.sort_by(|a, b| (a.ipv6, &a.address).cmp(&(b.ipv6, &b.address)));
    Ok(out)
}

/// The DHCP leases of one domain: those of the virtual networks its cards are plugged
/// into whose MAC is one of its cards'.
pub fn domain_leases(conn: &Connect, uuid: &str) -> Result<Vec<Lease>> {
    let d = call(
        "virDomainLookupByUUIDString",
        conn.lookup_domain_by_uuid_string(uuid),
    )?;
    let name = call("virDomainGetName", d.name())?;
    let xml = call("virDomainGetXMLDesc", d.xml_desc(0))?;
    let uses = vec![super::usage::from_xml(uuid, &name, &xml)?];
    let mut networks: Vec<&str> = uses[0]
        .nics
        .iter()
        .filter_map(|n| n.network.as_deref())
        .collect();
    networks.sort();
    networks.dedup();
    let mut out = Vec::new();
    for net in networks {
        match leases(conn, net, &uses) {
            Ok(l) => out.extend(l.into_iter().filter(|l| l.domain.is_some())),
            // A stopped or vanished network hands out nothing.
            Err(e) => tracing::debug!(network = net, error = %e, "no leases"),
        }
    }
    Ok(out)
}

/// A network's addresses as typed in the form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpSpec {
    /// The network in CIDR form ("10.214.1.0/24"); the host takes its first address,
    /// or the address typed when it is not the network's own.
    pub network: String,
    /// The DHCP range, when DHCP is wanted.
    pub dhcp: Option<(String, String)>,
}

/// A new network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkSpec {
    /// Its name.
    pub name: String,
    /// Nat, Route, Open, Isolated or Bridge.
    pub mode: ForwardMode,
    /// The host device to forward through ("" for any), for NAT and routed networks.
    pub forward_dev: String,
    /// Bridge mode: the host's bridge (required). Other modes: the name of the bridge
    /// libvirt makes ("" lets libvirt choose virbrN).
    pub bridge: String,
    /// IPv4 addresses, for modes with addresses.
    pub ipv4: Option<IpSpec>,
    /// IPv6 addresses, for modes with addresses.
    pub ipv6: Option<IpSpec>,
    /// Start it with the host.
    pub autostart: bool,
}

/// The field of the new-network form a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkField {
    /// The name.
    Name,
    /// The bridge name.
    Bridge,
    /// The forward device.
    ForwardDev,
    /// The IPv4 network.
    Ipv4,
    /// The IPv4 DHCP range start.
    Ipv4DhcpStart,
    /// The IPv4 DHCP range end.
    Ipv4DhcpEnd,
    /// The IPv6 network.
    Ipv6,
    /// The IPv6 DHCP range start.
    Ipv6DhcpStart,
    /// The IPv6 DHCP range end.
    Ipv6DhcpEnd,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkProblem {
    /// The name.
    Name(NameProblem),
    /// Required and empty.
    Empty,
    /// Not an interface name (up to 15 letters, digits, `.`, `_`, `-`).
    BadInterfaceName,
    /// An address problem.
    Ip(IpProblem),
    /// NAT needs an IPv4 network.
    NatNeedsIpv4,
    /// Routed and open networks need at least one network.
    NeedsAddresses,
}

/// Linux interface names: 1-15 characters, no `/`, spaces or `:`.
fn is_interface_name(s: &str) -> bool {
    (1..=15).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn check_ip(
    spec: &IpSpec,
    v6: bool,
    fields: (NetworkField, NetworkField, NetworkField),
    out: &mut Vec<(NetworkField, NetworkProblem)>,
) {
    let cidr = match Cidr::parse(spec.network.trim()) {
        Ok(c) if c.is_v6() != v6 => {
            out.push((fields.0, NetworkProblem::Ip(IpProblem::WrongFamily)));
            return;
        }
        Ok(c) => c,
        Err(p) => {
            out.push((fields.0, NetworkProblem::Ip(p)));
            return;
        }
    };
    if let Err(p) = cidr.usable() {
        out.push((fields.0, NetworkProblem::Ip(p)));
        return;
    }
    if let Some((start, end)) = &spec.dhcp {
        let s = cidr.check_host(start.trim());
        let e = cidr.check_host(end.trim());
        if let Err(p) = &s {
            out.push((fields.1, NetworkProblem::Ip(p.clone())));
        }
        if let Err(p) = &e {
            out.push((fields.2, NetworkProblem::Ip(p.clone())));
        }
        if let (Ok(s), Ok(e)) = (s, e) {
            if e < s {
                out.push((fields.2, NetworkProblem::Ip(IpProblem::EndBeforeStart)));
            } else if (s..=e).contains(&cidr.gateway()) {
                let field = if s == cidr.gateway() {
                    fields.1
                } else {
                    fields.2
                };
                out.push((field, NetworkProblem::Ip(IpProblem::HoldsHostAddress)));
            }
        }
    }
}

/// Checks `spec` against the networks `existing` (pure).
pub fn validate(spec: &NetworkSpec, existing: &[String]) -> Vec<(NetworkField, NetworkProblem)> {
    let mut out = Vec::new();
    match name_problem(&spec.name) {
        Some(p) => out.push((NetworkField::Name, NetworkProblem::Name(p))),
        None if existing.iter().any(|n| n == &spec.name) => {
            out.push((NetworkField::Name, NetworkProblem::Name(NameProblem::Taken)))
        }
        None => {}
    }
    let bridge = spec.bridge.trim();
    if spec.mode == ForwardMode::Bridge {
        if bridge.is_empty() {
            out.push((NetworkField::Bridge, NetworkProblem::Empty));
        } else if !is_interface_name(bridge) {
            out.push((NetworkField::Bridge, NetworkProblem::BadInterfaceName));
        }
        return out;
    }
    if !bridge.is_empty() && !is_interface_name(bridge) {
        out.push((NetworkField::Bridge, NetworkProblem::BadInterfaceName));
    }
    let dev = spec.forward_dev.trim();
    if matches!(spec.mode, ForwardMode::Nat | ForwardMode::Route)
        && !dev.is_empty()
        && !is_interface_name(dev)
    {
        out.push((NetworkField::ForwardDev, NetworkProblem::BadInterfaceName));
    }
    if let Some(v4) = &spec.ipv4 {
        check_ip(
            v4,
            false,
            (
                NetworkField::Ipv4,
                NetworkField::Ipv4DhcpStart,
                NetworkField::Ipv4DhcpEnd,
            ),
            &mut out,
        );
    } else if spec.mode == ForwardMode::Nat {
        out.push((NetworkField::Ipv4, NetworkProblem::NatNeedsIpv4));
    }
    if let Some(v6) = &spec.ipv6 {
        check_ip(
            v6,
            true,
            (
                NetworkField::Ipv6,
                NetworkField::Ipv6DhcpStart,
                NetworkField::Ipv6DhcpEnd,
            ),
            &mut out,
        );
    }
    if matches!(spec.mode, ForwardMode::Route | ForwardMode::Open)
        && spec.ipv4.is_none()
        && spec.ipv6.is_none()
    {
        out.push((NetworkField::Ipv4, NetworkProblem::NeedsAddresses));
    }
    out
}

fn ip_xml(spec: &IpSpec, v6: bool) -> String {
    // Only called on a validated spec; a bad one is skipped rather than written.
    let Ok(cidr) = Cidr::parse(spec.network.trim()) else {
        return String::new();
    };
    let family = if v6 { " family='ipv6'" } else { "" };
    let mut x = format!(
        "  <ip{family} address='{}' prefix='{}'>\n",
        cidr.gateway_text(),
        cidr.prefix()
    );
    if let Some((start, end)) = &spec.dhcp {
        x.push_str(&format!(
            "    <dhcp>\n      <range start='{}' end='{}'/>\n    </dhcp>\n",
            escape(start.trim()),
            escape(end.trim())
        ));
    }
    x.push_str("  </ip>\n");
    x
}

/// The network's libvirt XML (pure; for a spec [`validate`] passed).
pub fn network_xml(spec: &NetworkSpec) -> String {
    let mut x = format!("<network>\n  <name>{}</name>\n", escape(spec.name.trim()));
    let bridge = spec.bridge.trim();
    if spec.mode == ForwardMode::Bridge {
        x.push_str("  <forward mode='bridge'/>\n");
        x.push_str(&format!("  <bridge name='{}'/>\n", escape(bridge)));
        x.push_str("</network>\n");
        return x;
    }
    if let Some(mode) = spec.mode.xml_name() {
        let dev = spec.forward_dev.trim();
        if dev.is_empty() || matches!(spec.mode, ForwardMode::Open) {
            x.push_str(&format!("  <forward mode='{mode}'/>\n"));
        } else {
            x.push_str(&format!(
                "  <forward mode='{mode}' dev='{}'/>\n",
                escape(dev)
            ));
        }
    }
    if !bridge.is_empty() {
        x.push_str(&format!(
            "  <bridge name='{}' stp='on' delay='0'/>\n",
            escape(bridge)
        ));
    }
    if let Some(v4) = &spec.ipv4 {
        x.push_str(&ip_xml(v4, false));
    }
    if let Some(v6) = &spec.ipv6 {
        x.push_str(&ip_xml(v6, true));
    }
    x.push_str("</network>\n");
    x
}

/// Defines the network `spec` describes, starts it, and marks it to autostart when
/// asked. When a step fails the definition is removed again and that step's libvirt
/// error is returned.
pub fn create(conn: &Connect, spec: &NetworkSpec) -> Result<NetworkInfo> {
    let net = call(
        "virNetworkDefineXML",
        conn.define_network_xml(&network_xml(spec)),
    )?;
    let started = (|| -> Result<()> {
        call("virNetworkCreate", net.create())?;
        if spec.autostart {
            call("virNetworkSetAutostart", net.set_autostart(true))?;
        }
        Ok(())
    })();
    if let Err(e) = started {
        if net.is_active().unwrap_or(false) {
            let _ = net.destroy();
        }
        if let Err(u) = net.undefine() {
            tracing::warn!(error = %u.message(), "could not undefine a network that failed to start");
        }
        return Err(e);
    }
    info_of(&net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nat(name: &str, v4: &str, dhcp: Option<(&str, &str)>) -> NetworkSpec {
        NetworkSpec {
            name: name.into(),
            mode: ForwardMode::Nat,
            bridge: "vireo-br1".into(),
            ipv4: Some(IpSpec {
                network: v4.into(),
                dhcp: dhcp.map(|(a, b)| (a.into(), b.into())),
            }),
            autostart: true,
            ..Default::default()
        }
    }

    #[test]
    fn nat_network_xml_reads_back() {
        let mut spec = nat(
            "lab",
            "10.214.1.0/24",
            Some(("10.214.1.100", "10.214.1.200")),
        );
        spec.forward_dev = "eth0".into();
        spec.ipv6 = Some(IpSpec {
            network: "fd00:214:1::/64".into(),
            dhcp: Some(("fd00:214:1::100".into(), "fd00:214:1::1ff".into())),
        });
        assert_eq!(validate(&spec, &[]), vec![]);
        let x = network_xml(&spec);
        assert!(x.contains("<forward mode='nat' dev='eth0'/>"), "{x}");
        assert!(x.contains("<ip address='10.214.1.1' prefix='24'>"), "{x}");
        assert!(
            x.contains("<ip family='ipv6' address='fd00:214:1::1' prefix='64'>"),
            "{x}"
        );
        let info = parse_network_xml(&x).unwrap();
        assert_eq!(info.mode, ForwardMode::Nat);
        assert_eq!(info.forward_dev.as_deref(), Some("eth0"));
        assert_eq!(info.bridge.as_deref(), Some("vireo-br1"));
        let v4 = info.ipv4.unwrap();
        assert_eq!(v4.network, "10.214.1.0/24");
        assert_eq!(v4.address, "10.214.1.1");
        assert_eq!(
            v4.dhcp,
            Some(("10.214.1.100".into(), "10.214.1.200".into()))
        );
        assert_eq!(info.ipv6.unwrap().network, "fd00:214:1::/64");
    }

    #[test]
    fn reads_netmask_and_modes() {
        let x = "<network><name>default</name><forward/><bridge name='virbr0'/>
          <ip address='192.168.122.1' netmask='255.255.255.0'/></network>";
        let info = parse_network_xml(x).unwrap();
        assert_eq!(info.mode, ForwardMode::Nat);
        assert_eq!(info.ipv4.unwrap().network, "192.168.122.0/24");
        let iso = parse_network_xml("<network><name>i</name></network>").unwrap();
        assert_eq!(iso.mode, ForwardMode::Isolated);
        let br = NetworkSpec {
            name: "host-br".into(),
            mode: ForwardMode::Bridge,
            bridge: "br0".into(),
            ..Default::default()
        };
        assert_eq!(validate(&br, &[]), vec![]);
        let x = network_xml(&br);
        assert_eq!(parse_network_xml(&x).unwrap().mode, ForwardMode::Bridge);
        assert!(!x.contains("<ip"));
    }

    #[test]
    fn problems_name_their_fields() {
        let spec = nat(
            "default",
            "10.214.1.0/24",
            Some(("10.214.1.1", "10.214.2.5")),
        );
        assert_eq!(
            validate(&spec, &["default".into()]),
            vec![
                (NetworkField::Name, NetworkProblem::Name(NameProblem::Taken)),
                (
                    NetworkField::Ipv4DhcpEnd,
                    NetworkProblem::Ip(IpProblem::OutsideNetwork)
                ),
            ]
        );
        let spec = nat("n", "10.214.1.0/24", Some(("10.214.1.1", "10.214.1.9")));
        assert_eq!(
            validate(&spec, &[]),
            vec![(
                NetworkField::Ipv4DhcpStart,
                NetworkProblem::Ip(IpProblem::HoldsHostAddress)
            )]
        );
        let spec = nat("n", "10.214.1.0/24", Some(("10.214.1.90", "10.214.1.9")));
        assert_eq!(
            validate(&spec, &[]),
            vec![(
                NetworkField::Ipv4DhcpEnd,
                NetworkProblem::Ip(IpProblem::EndBeforeStart)
            )]
        );
        let spec = nat("n", "fd00::/64", None);
        assert_eq!(
            validate(&spec, &[]),
            vec![(
                NetworkField::Ipv4,
                NetworkProblem::Ip(IpProblem::WrongFamily)
            )]
        );
        let mut spec = nat("n", "10.0.0.0/24", None);
        spec.ipv4 = None;
        spec.bridge = "a-bridge-name-too-long".into();
        assert_eq!(
            validate(&spec, &[]),
            vec![
                (NetworkField::Bridge, NetworkProblem::BadInterfaceName),
                (NetworkField::Ipv4, NetworkProblem::NatNeedsIpv4)
            ]
        );
        let br = NetworkSpec {
            name: "b".into(),
            mode: ForwardMode::Bridge,
            ..Default::default()
        };
        assert_eq!(
            validate(&br, &[]),
            vec![(NetworkField::Bridge, NetworkProblem::Empty)]
        );
    }
}
