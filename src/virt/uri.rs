//! Reading a libvirt URI: which driver, which host, which instance (pure).

/// True when `host` ("localhost", "127.0.0.1", "[::1]"...) names this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The parts of a libvirt URI that matter for naming a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UriInfo {
    /// Driver: "qemu", "test", "lxc", "xen", "ch", "vbox"...
    pub driver: String,
    /// Transport after '+', e.g. "ssh", "tls", "unix"; empty when none.
    pub transport: String,
    /// Remote host name (without user and port); empty for local URIs.
    pub host: String,
    /// User part, if any.
    pub user: String,
    /// Path, e.g. "/system", "/session", "/default" or a test driver file.
    pub path: String,
    /// Query string without '?'.
    pub query: String,
}

impl UriInfo {
    /// Splits `uri`; never fails (unknown shapes give mostly empty fields).
    pub fn parse(uri: &str) -> Self {
        let (scheme, rest) = uri.split_once(':').unwrap_or((uri, ""));
        let (driver, transport) = scheme.split_once('+').unwrap_or((scheme, ""));
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (user, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
        let host = if let Some(h) = hostport.strip_prefix('[') {
            h.split(']').next().unwrap_or(h)
        } else {
            hostport.split(':').next().unwrap_or(hostport)
        };
        UriInfo {
            driver: driver.to_ascii_lowercase(),
            transport: transport.to_ascii_lowercase(),
            host: host.to_owned(),
            user: user.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
        }
    }

    /// True for the test driver (demo data, in-process or through a daemon).
    pub fn is_test(&self) -> bool {
        self.driver == "test"
    }

    /// True when the URI names another machine.
    pub fn is_remote(&self) -> bool {
        !self.host.is_empty() && !is_loopback_host(&self.host)
    }

    /// True for a per-user ("session") instance.
    pub fn is_session(&self) -> bool {
        self.path == "/session"
    }

    /// True for the embedded QEMU driver.
    pub fn is_embed(&self) -> bool {
        self.path == "/embed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in ["example.org", "192.168.1.2", "::", ""] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn parses_common_uris() {
        let u = UriInfo::parse("qemu:///system");
        assert_eq!(
            (u.driver.as_str(), u.path.as_str(), u.is_remote()),
            ("qemu", "/system", false)
        );
        let u = UriInfo::parse("qemu+ssh://root@host.example:2222/system?keyfile=/k");
        assert_eq!(u.transport, "ssh");
        assert_eq!(u.user, "root");
        assert_eq!(u.host, "host.example");
        assert_eq!(u.query, "keyfile=/k");
        assert!(u.is_remote());
        let u = UriInfo::parse("qemu+tls://[fe80::1]:16514/session");
        assert_eq!(u.host, "fe80::1");
        assert!(u.is_session());
        let u = UriInfo::parse("test:///tmp/node.xml");
        assert!(u.is_test());
        assert_eq!(u.path, "/tmp/node.xml");
        assert!(UriInfo::parse("qemu:///embed?root=/tmp/x").is_embed());
    }
}
