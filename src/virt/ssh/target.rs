//! Where a libvirt host is reached over SSH, read from its connection URI the way
//! libvirt reads it, and the `ssh` options that follow from it (pure).

use std::ffi::OsString;
use std::path::PathBuf;

use super::SshError;
use crate::virt::uri::UriInfo;

/// How ssh treats the host's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyCheck {
    /// ssh's own setting (the person's config; `ask` by default, so an unknown key
    /// fails in batch mode and is asked about through askpass).
    #[default]
    Default,
    /// Accept keys of hosts not yet known and refuse changed ones
    /// (`known_hosts_verify=auto` of libvirt's libssh transports).
    AcceptNew,
    /// No strict checking, as libvirt does for `no_verify=1` (ssh transport) or
    /// `known_hosts_verify=ignore` (libssh): `StrictHostKeyChecking=no`.
    Off,
}

/// A host reached over SSH, with the settings of its libvirt URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// Host name or address (no brackets).
    pub host: String,
    /// Login name, when the URI gives one (else ssh's config or the local user).
    pub user: Option<String>,
    /// SSH port, when the URI gives one.
    pub port: Option<u16>,
    /// `keyfile=`: the private key to offer (`ssh -i`).
    pub keyfile: Option<PathBuf>,
    /// `known_hosts=` (libssh transports only; libvirt's ssh transport ignores it).
    pub known_hosts: Option<PathBuf>,
    /// How the host key is checked.
    pub host_key_check: HostKeyCheck,
    /// The ssh program: `command=` of the ssh transport, else `ssh`.
    pub program: PathBuf,
}

impl SshTarget {
    /// Reads a `driver+ssh://[user@]host[:port]/path?params` URI (also `+libssh` and
    /// `+libssh2`, reached with OpenSSH here too). Parameters as libvirt documents them
    /// for each transport: `keyfile`, `command` and `no_verify` for ssh; `keyfile`,
    /// `known_hosts` and `known_hosts_verify` for libssh/libssh2.
    pub fn from_uri(uri: &str) -> Result<Self, SshError> {
        let info = UriInfo::parse(uri);
        let libssh = matches!(info.transport.as_str(), "libssh" | "libssh2");
        if info.transport != "ssh" && !libssh {
            return Err(SshError::NotSsh(uri.to_owned()));
        }
        let host = if info.host.is_empty() {
            // libvirt's remote driver uses "localhost" when the URI names no host.
            "localhost".to_owned()
        } else {
            info.host.clone()
        };
        let non_empty = |name: &str| info.param(name).filter(|v| !v.is_empty());
        let host_key_check = if libssh {
            match info.param("known_hosts_verify").as_deref() {
                Some("auto") => HostKeyCheck::AcceptNew,
                Some("ignore") => HostKeyCheck::Off,
                _ => HostKeyCheck::Default,
            }
        } else if info
            .param("no_verify")
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|v| v != 0)
        {
            HostKeyCheck::Off
        } else {
            HostKeyCheck::Default
        };
        Ok(SshTarget {
            host,
            user: (!info.user.is_empty()).then(|| info.user.clone()),
            port: info.port,
            keyfile: non_empty("keyfile").map(PathBuf::from),
            known_hosts: non_empty("known_hosts")
                .filter(|_| libssh)
                .map(PathBuf::from),
            host_key_check,
            program: non_empty("command")
                .filter(|_| !libssh)
                .map_or_else(|| PathBuf::from("ssh"), PathBuf::from),
        })
    }

    /// The options that name the login and check the host, before the destination:
    /// `-p`, `-l`, `-i`, known hosts and host-key checking.
    pub(crate) fn login_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(port) = self.port {
            args.extend(["-p".into(), port.to_string().into()]);
        }
        if let Some(user) = &self.user {
            args.extend(["-l".into(), user.into()]);
        }
        if let Some(key) = &self.keyfile {
            args.extend(["-i".into(), key.into()]);
        }
        if let Some(file) = &self.known_hosts {
            let mut opt = OsString::from("UserKnownHostsFile=");
            opt.push(quote_option_value(file.as_os_str()));
            args.extend(["-o".into(), opt]);
        }
        match self.host_key_check {
            HostKeyCheck::Default => {}
            HostKeyCheck::AcceptNew => {
                args.extend(["-o".into(), "StrictHostKeyChecking=accept-new".into()]);
            }
            HostKeyCheck::Off => {
                args.extend(["-o".into(), "StrictHostKeyChecking=no".into()]);
            }
        }
        args
    }
}

/// ssh splits `-o` values at white space unless they are in double quotes.
fn quote_option_value(value: &std::ffi::OsStr) -> OsString {
    let text = value.to_string_lossy();
    if text.contains(char::is_whitespace) {
        let mut quoted = OsString::from("\"");
        quoted.push(value);
        quoted.push("\"");
        quoted
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(t: &SshTarget) -> Vec<String> {
        t.login_args()
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn reads_an_ssh_uri_like_libvirt() {
        let t = SshTarget::from_uri(
            "qemu+ssh://admin@host.example:2222/system?keyfile=/k/id%20x&command=/opt/ssh&no_verify=1&known_hosts=/ignored",
        )
        .unwrap();
        assert_eq!(t.host, "host.example");
        assert_eq!(t.user.as_deref(), Some("admin"));
        assert_eq!(t.port, Some(2222));
        assert_eq!(t.keyfile, Some(PathBuf::from("/k/id x")));
        // The ssh transport has no known_hosts parameter: libvirt ignores it, so do we.
        assert_eq!(t.known_hosts, None);
        assert_eq!(t.host_key_check, HostKeyCheck::Off);
        assert_eq!(t.program, PathBuf::from("/opt/ssh"));
        assert_eq!(
            args(&t),
            [
                "-p",
                "2222",
                "-l",
                "admin",
                "-i",
                "/k/id x",
                "-o",
                "StrictHostKeyChecking=no"
            ]
        );
    }

    #[test]
    fn plain_uri_leaves_everything_to_ssh() {
        let t = SshTarget::from_uri("qemu+ssh://h/system?no_verify=0").unwrap();
        assert_eq!((t.user.as_deref(), t.port), (None, None));
        assert_eq!(t.host_key_check, HostKeyCheck::Default);
        assert_eq!(t.program, PathBuf::from("ssh"));
        assert!(args(&t).is_empty());
    }

    #[test]
    fn libssh_parameters() {
        let t = SshTarget::from_uri(
            "qemu+libssh://[fd00::5]/system?known_hosts=/a%20b/kh&known_hosts_verify=auto&command=/x",
        )
        .unwrap();
        assert_eq!(t.host, "fd00::5");
        assert_eq!(t.program, PathBuf::from("ssh"));
        assert_eq!(
            args(&t),
            [
                "-o",
                "UserKnownHostsFile=\"/a b/kh\"",
                "-o",
                "StrictHostKeyChecking=accept-new"
            ]
        );
        let t = SshTarget::from_uri("qemu+libssh2://h/system?known_hosts_verify=ignore").unwrap();
        assert_eq!(t.host_key_check, HostKeyCheck::Off);
    }

    #[test]
    fn other_transports_are_refused() {
        for uri in ["qemu:///system", "qemu+tls://h/system", "qemu://h/system"] {
            assert_eq!(
                SshTarget::from_uri(uri),
                Err(SshError::NotSsh(uri.to_owned()))
            );
        }
        assert_eq!(
            SshTarget::from_uri("qemu+ssh:///system").unwrap().host,
            "localhost"
        );
    }
}
