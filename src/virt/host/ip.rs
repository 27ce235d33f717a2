//! IPv4 and IPv6 networks in CIDR form, for the new-network form: parsing what a
//! person typed, the host's address on the network, whether a DHCP address fits, and
//! a default DHCP range (pure; IPv4 and IPv6 share the maths on 128-bit numbers).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What is wrong with an address or network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpProblem {
    /// Not an IP address.
    NotAddress,
    /// A network needs its prefix length ("/24").
    MissingPrefix,
    /// A prefix length the family does not have.
    BadPrefix,
    /// IPv6 where IPv4 is wanted or the other way round.
    WrongFamily,
    /// Too few addresses for the host and a guest (the longest prefix allowed).
    TooSmall(u8),
    /// Not inside the network.
    OutsideNetwork,
    /// The network's own address or its broadcast address.
    NetworkOrBroadcast,
    /// The range ends before it starts.
    EndBeforeStart,
    /// The range holds the host's own address.
    HoldsHostAddress,
}

/// A network typed as `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    typed: u128,
    prefix: u8,
    v6: bool,
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl Cidr {
    /// Parses `address/prefix`.
    pub fn parse(text: &str) -> Result<Cidr, IpProblem> {
        let (addr, prefix) = text.trim().split_once('/').ok_or_else(|| {
            if text.trim().parse::<IpAddr>().is_ok() {
                IpProblem::MissingPrefix
            } else {
                IpProblem::NotAddress
            }
        })?;
        let addr: IpAddr = addr.trim().parse().map_err(|_| IpProblem::NotAddress)?;
        let prefix: u8 = prefix.trim().parse().map_err(|_| IpProblem::BadPrefix)?;
        let v6 = addr.is_ipv6();
        if prefix > if v6 { 128 } else { 32 } {
            return Err(IpProblem::BadPrefix);
        }
        Ok(Cidr {
            typed: to_u128(addr),
            prefix,
            v6,
        })
    }

    /// True for IPv6.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn bits(&self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    fn host_mask(&self) -> u128 {
        let host_bits = self.bits() - self.prefix as u32;
        if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    fn network(&self) -> u128 {
        self.typed & !self.host_mask()
    }

    fn last(&self) -> u128 {
        self.network() | self.host_mask()
    }

    fn text(&self, v: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(v).to_string()
        } else {
            Ipv4Addr::from(v as u32).to_string()
        }
    }

    /// The network in CIDR form ("10.214.1.0/24").
    pub fn network_text(&self) -> String {
        format!("{}/{}", self.text(self.network()), self.prefix)
    }

    /// The host's address on the network: the one typed, or the first one when the
    /// network's own address was typed.
    pub fn gateway(&self) -> u128 {
        if self.typed == self.network() {
            self.network() + 1
        } else {
            self.typed
        }
    }

    /// [`Self::gateway`] as text.
    pub fn gateway_text(&self) -> String {
        self.text(self.gateway())
    }

    /// Fine for a libvirt network: room for the host and guests (IPv4 up to /30,
    /// IPv6 up to /126).
    pub fn usable(&self) -> Result<(), IpProblem> {
        let longest = if self.v6 { 126 } else { 30 };
        if self.prefix > longest {
            return Err(IpProblem::TooSmall(longest));
        }
        if self.prefix < 8 {
            return Err(IpProblem::BadPrefix);
        }
        if !self.v6 && self.gateway() == self.last() {
            return Err(IpProblem::NetworkOrBroadcast);
        }
        Ok(())
    }

    /// Parses a host address of this network (not the network's own address, nor the
    /// IPv4 broadcast address).
    pub fn check_host(&self, text: &str) -> Result<u128, IpProblem> {
        let a: IpAddr = text.parse().map_err(|_| IpProblem::NotAddress)?;
        if a.is_ipv6() != self.v6 {
            return Err(IpProblem::WrongFamily);
        }
        let v = to_u128(a);
        if v & !self.host_mask() != self.network() {
            return Err(IpProblem::OutsideNetwork);
        }
        if v == self.network() || (!self.v6 && v == self.last()) {
            return Err(IpProblem::NetworkOrBroadcast);
        }
        Ok(v)
    }

    /// A DHCP range to offer by default: the upper half of an IPv4 network (the
    /// lower half stays for fixed addresses, as virt-manager does), or ::100-::1ff
    /// of an IPv6 one.
    pub fn default_dhcp(&self) -> (String, String) {
        let (start, end) = if self.v6 {
            (
                self.network() + 0x100,
                self.network() + 0x1ff.min(self.host_mask()),
            )
        } else {
            let size = self.host_mask() + 1;
            let start = (self.network() + size / 2).max(self.gateway() + 1);
            (start, self.last() - 1)
        };
        (self.text(start), self.text(end))
    }
}

/// The prefix length of an IPv4 netmask ("255.255.255.0" -> 24).
pub fn netmask_prefix(mask: &str) -> Option<u8> {
    let m = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let ones = m.leading_ones();
    (m.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_network() {
        let c = Cidr::parse("10.214.7.0/24").unwrap();
        assert_eq!(c.network_text(), "10.214.7.0/24");
        assert_eq!(c.gateway_text(), "10.214.7.1");
        assert_eq!(
            c.default_dhcp(),
            ("10.214.7.128".into(), "10.214.7.254".into())
        );
        assert!(c.usable().is_ok());
        assert!(c.check_host("10.214.7.20").is_ok());
        assert_eq!(c.check_host("10.214.8.1"), Err(IpProblem::OutsideNetwork));
        assert_eq!(
            c.check_host("10.214.7.255"),
            Err(IpProblem::NetworkOrBroadcast)
        );
        assert_eq!(c.check_host("fd00::1"), Err(IpProblem::WrongFamily));
        assert_eq!(c.check_host("10.214.7"), Err(IpProblem::NotAddress));
        // A host address typed becomes the host's own.
        let c = Cidr::parse("192.168.5.9/16").unwrap();
        assert_eq!(c.network_text(), "192.168.0.0/16");
        assert_eq!(c.gateway_text(), "192.168.5.9");
        assert_eq!(
            Cidr::parse("10.0.0.0/31").unwrap().usable(),
            Err(IpProblem::TooSmall(30))
        );
        assert_eq!(Cidr::parse("10.0.0.0"), Err(IpProblem::MissingPrefix));
        assert_eq!(Cidr::parse("10.0.0.0/33"), Err(IpProblem::BadPrefix));
        assert_eq!(Cidr::parse("nonsense/24"), Err(IpProblem::NotAddress));
    }

    #[test]
    fn ipv6_network() {
        let c = Cidr::parse("fd00:214:1::/64").unwrap();
        assert!(c.is_v6());
        assert_eq!(c.gateway_text(), "fd00:214:1::1");
        assert_eq!(
            c.default_dhcp(),
            ("fd00:214:1::100".into(), "fd00:214:1::1ff".into())
        );
        assert!(c.check_host("fd00:214:1::ffff:1").is_ok());
        assert_eq!(
            c.check_host("fd00:214:2::1"),
            Err(IpProblem::OutsideNetwork)
        );
    }

    #[test]
    fn netmasks() {
        assert_eq!(netmask_prefix("255.255.255.0"), Some(24));
        assert_eq!(netmask_prefix("255.255.0.0"), Some(16));
        assert_eq!(netmask_prefix("255.0.255.0"), None);
        assert_eq!(netmask_prefix("0.0.0.0"), Some(0));
    }
}
