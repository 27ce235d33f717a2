//! Builds a libvirt URI from the Add Connection dialog's fields, or says what is wrong.

use gettextrs::gettext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HypervisorKind {
    QemuSystem,
    QemuSession,
    Custom,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteHost {
    pub user: String,
    pub host: String,
    pub port: String,
}

/// Which field is wrong, with the message shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    Uri(String),
    User(String),
    Host(String),
    Port(String),
}

pub fn build_uri(
    kind: HypervisorKind,
    custom: &str,
    remote: Option<&RemoteHost>,
) -> Result<String, UriError> {
    let path = match kind {
        HypervisorKind::Custom => {
            return crate::cli::parse_uri(custom.trim()).map_err(UriError::Uri);
        }
        HypervisorKind::QemuSystem => "system",
        HypervisorKind::QemuSession => "session",
    };
    let Some(remote) = remote else {
        return Ok(format!("qemu:///{path}"));
    };
    let user = remote.user.trim();
    if user.contains(['@', '/', ':', ' ']) {
        return Err(UriError::User(gettext(
            "A user name cannot contain @, /, : or spaces",
        )));
    }
    let host = remote.host.trim();
    if host.is_empty() {
        return Err(UriError::Host(gettext("Enter the host to connect to")));
    }
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    if !host_ok {
        return Err(UriError::Host(gettext(
            "This is not a valid host name or address",
        )));
    }
    let port = remote.port.trim();
    if !port.is_empty() && !matches!(port.parse::<u16>(), Ok(p) if p > 0) {
        return Err(UriError::Port(gettext(
            "A port is a number from 1 to 65535",
        )));
    }
    let mut authority = String::new();
    if !user.is_empty() {
        authority.push_str(user);
        authority.push('@');
    }
    authority.push_str(host);
    if !port.is_empty() {
        authority.push(':');
        authority.push_str(port);
    }
    Ok(format!("qemu+ssh://{authority}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(user: &str, host: &str, port: &str) -> RemoteHost {
        RemoteHost {
            user: user.into(),
            host: host.into(),
            port: port.into(),
        }
    }

    #[test]
    fn local_and_remote_uris() {
        assert_eq!(
            build_uri(HypervisorKind::QemuSystem, "", None).unwrap(),
            "qemu:///system"
        );
        assert_eq!(
            build_uri(HypervisorKind::QemuSession, "", None).unwrap(),
            "qemu:///session"
        );
        assert_eq!(
            build_uri(
                HypervisorKind::QemuSystem,
                "",
                Some(&remote("root", "h.example", "2222"))
            )
            .unwrap(),
            "qemu+ssh://root@h.example:2222/system"
        );
        assert_eq!(
            build_uri(HypervisorKind::QemuSession, "", Some(&remote("", "h", ""))).unwrap(),
            "qemu+ssh://h/session"
        );
        assert_eq!(
            build_uri(HypervisorKind::Custom, " test:///default ", None).unwrap(),
            "test:///default"
        );
    }

    #[test]
    fn each_wrong_field_is_named() {
        let sys = HypervisorKind::QemuSystem;
        assert!(matches!(
            build_uri(sys, "", Some(&remote("root", "", ""))),
            Err(UriError::Host(_))
        ));
        assert!(matches!(
            build_uri(sys, "", Some(&remote("root", "a b", ""))),
            Err(UriError::Host(_))
        ));
        assert!(matches!(
            build_uri(sys, "", Some(&remote("a@b", "h", ""))),
            Err(UriError::User(_))
        ));
        assert!(matches!(
            build_uri(sys, "", Some(&remote("u", "h", "99999"))),
            Err(UriError::Port(_))
        ));
        assert!(matches!(
            build_uri(sys, "", Some(&remote("u", "h", "0"))),
            Err(UriError::Port(_))
        ));
        assert!(matches!(
            build_uri(HypervisorKind::Custom, "nonsense", None),
            Err(UriError::Uri(_))
        ));
    }
}
