//! Reading a libvirt URI: which driver, which host, which instance (pure).

/// True when `host` ("localhost", "127.0.0.1", "`[::1]`"...) names this machine.
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
    /// Port after the host, if given.
    pub port: Option<u16>,
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
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (host, after) = h.split_once(']').unwrap_or((h, ""));
            (host, after.strip_prefix(':'))
        } else {
            let (host, port) = hostport.split_once(':').unwrap_or((hostport, ""));
            (host, Some(port))
        };
        UriInfo {
            driver: driver.to_ascii_lowercase(),
            transport: transport.to_ascii_lowercase(),
            host: host.to_owned(),
            user: user.to_owned(),
            port: port.and_then(|p| p.parse().ok()),
            path: path.to_owned(),
            query: query.to_owned(),
        }
    }

    /// The value of query parameter `name` (`keyfile`, `no_verify`, ...), with its
    /// %XX escapes decoded; the last one wins when it is repeated, as in libvirt.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query
            .rsplit('&')
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| percent_decode(value))
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

/// Decodes %XX escapes (and leaves anything malformed as it is).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
        assert_eq!(u.port, Some(2222));
        assert!(u.is_remote());
        let u = UriInfo::parse("qemu+tls://[fe80::1]:16514/session");
        assert_eq!(u.host, "fe80::1");
        assert_eq!(u.port, Some(16514));
        assert!(u.is_session());
        let u = UriInfo::parse("test:///tmp/node.xml");
        assert!(u.is_test());
        assert_eq!(u.path, "/tmp/node.xml");
        assert!(UriInfo::parse("qemu:///embed?root=/tmp/x").is_embed());
    }

    #[test]
    fn query_parameters() {
        let u = UriInfo::parse(
            "qemu+ssh://root@h/system?keyfile=/home/a%20b/key&no_verify=1&no_tty&keyfile=/k2",
        );
        assert_eq!(u.port, None);
        assert_eq!(u.param("keyfile").as_deref(), Some("/k2"));
        assert_eq!(u.param("no_verify").as_deref(), Some("1"));
        assert_eq!(u.param("no_tty").as_deref(), Some(""));
        assert_eq!(u.param("command"), None);
        let u = UriInfo::parse("qemu+ssh://h/system?command=/x%2Fy%zz%4");
        assert_eq!(u.param("command").as_deref(), Some("/x/y%zz%4"));
    }
}
