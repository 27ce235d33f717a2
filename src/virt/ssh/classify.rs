//! Reading what `ssh` said (its stderr at `LogLevel=DEBUG2`) into an [`SshError`]
//! (pure). OpenSSH's messages are stable English (it is not translated), so matching
//! them is what every front end does; ssh's own text always travels along.

use super::SshError;

/// What ssh printed so far, sorted while it is read.
#[derive(Debug, Default, Clone)]
pub(crate) struct Diagnostics {
    /// Lines that are not debug output, in order (ssh's words for a person).
    pub lines: Vec<String>,
    /// The host key the server showed ("Server host key: TYPE FP", debug1):
    /// (type as ssh names it in its questions, e.g. "ED25519"; fingerprint).
    pub server_key: Option<(String, String)>,
    /// ssh said that the forwarded channel is open.
    pub forward_ready: bool,
}

/// At most this many lines are kept (a long session prints a few per event).
const MAX_LINES: usize = 200;

impl Diagnostics {
    /// Takes one line of ssh's stderr; true when it says the forwarded channel is
    /// open.
    pub fn push(&mut self, line: &str) -> bool {
        let line = line.trim_end_matches(['\r', '\n']);
        let debug = line
            .strip_prefix("debug1: ")
            .or_else(|| line.strip_prefix("debug2: "));
        if let Some(debug) = debug {
            if let Some(key) = debug.strip_prefix("Server host key: ") {
                let mut words = key.split_whitespace();
                if let (Some(kind), Some(fp)) = (words.next(), words.next()) {
                    self.server_key = Some((key_type_name(kind), fp.to_owned()));
                }
            }
            // The host confirmed the forwarded channel (debug2; the only channel a
            // tunnel's ssh opens, besides the local listener of a stream-local forward,
            // which needs no confirmation). Through a connection that another ssh
            // multiplexes, its master answers once the host confirmed (debug1).
            let confirmed = debug
                .strip_prefix("channel ")
                .and_then(|rest| rest.split_once(": "))
                .is_some_and(|(_, what)| what.starts_with("open confirm "))
                || debug.starts_with("mux_client_request_stdio_fwd: master session id");
            if confirmed {
                self.forward_ready = true;
            }
            return confirmed;
        }
        if line.is_empty() || line.starts_with("debug") {
            return false;
        }
        if self.lines.len() == MAX_LINES {
            self.lines.remove(MAX_LINES / 2);
        }
        self.lines.push(line.to_owned());
        false
    }

    /// The host refused a forwarded channel ("channel N: open failed: ...").
    pub fn channel_failed(&self) -> bool {
        self.lines.iter().any(|l| l.contains(": open failed: "))
    }

    /// ssh's words as one text.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Why ssh failed, from what it said. `host` and `endpoint` name what was asked;
    /// `code` is ssh's exit code (255 for its own errors).
    pub fn classify(&self, host: &str, endpoint: &str, code: Option<i32>) -> SshError {
        let stderr = self.text();
        let has = |needle: &str| self.lines.iter().any(|l| l.contains(needle));
        let find = |needle: &str| self.lines.iter().find(|l| l.contains(needle));
        let host = host.to_owned();

        if has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
            let known_entry = find("Offending ")
                .and_then(|l| l.split(" key in ").nth(1))
                .map(str::to_owned);
            return SshError::HostKeyChanged {
                host,
                key: self.server_key.clone(),
                known_entry,
                stderr,
            };
        }
        if has("Host key verification failed") {
            return SshError::HostKeyUnknown {
                host,
                key: self.server_key.clone(),
                stderr,
            };
        }
        if let Some(line) = find("Permission denied (") {
            let methods = line
                .rsplit_once("Permission denied (")
                .and_then(|(_, rest)| rest.split(')').next())
                .unwrap_or_default()
                .to_owned();
            return SshError::AuthRefused {
                host,
                methods,
                stderr,
            };
        }
        // "channel 0: open failed: connect failed: Connection refused" (then, for -W,
        // "stdio forwarding failed").
        if let Some(line) = find(": open failed: ") {
            let reason = line
                .split_once(": open failed: ")
                .map_or("", |(_, r)| r)
                .to_owned();
            return SshError::ForwardFailed {
                endpoint: endpoint.to_owned(),
                reason,
                stderr,
            };
        }
        // Through a shared connection: "Stdio forwarding request failed: Session open
        // refused by peer".
        if let Some(line) = find("Stdio forwarding request failed: ") {
            let reason = line
                .split_once("request failed: ")
                .map_or("", |(_, r)| r)
                .to_owned();
            return SshError::ForwardFailed {
                endpoint: endpoint.to_owned(),
                reason,
                stderr,
            };
        }
        if has("stdio forwarding failed") {
            return SshError::ForwardFailed {
                endpoint: endpoint.to_owned(),
                reason: String::new(),
                stderr,
            };
        }
        // "ssh: connect to host H port P: REASON", "ssh: Could not resolve hostname H: REASON"
        if let Some(line) =
            find("ssh: connect to host ").or_else(|| find("Could not resolve hostname"))
        {
            let reason = line.rsplit(": ").next().unwrap_or_default().to_owned();
            if reason == "Connection refused" {
                return SshError::ConnectionRefused { host, stderr };
            }
            return SshError::Unreachable {
                host,
                reason,
                stderr,
            };
        }
        if has("not responding")
            || has("closed by remote host")
            || has("Broken pipe")
            || has("Connection reset")
            || has("Connection closed by")
            || has("kex_exchange_identification")
        {
            return SshError::Lost { host, stderr };
        }
        SshError::Failed { code, stderr }
    }
}

/// ssh names key types "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" in debug output
/// and "ED25519", "ECDSA", "RSA" in its questions; the UI shows the latter.
fn key_type_name(kind: &str) -> String {
    let name = if kind.contains("ecdsa") {
        "ECDSA"
    } else if kind.starts_with("sk-ssh-ed25519") {
        "ED25519-SK"
    } else if kind.contains("ed25519") {
        "ED25519"
    } else if kind.contains("rsa") {
        "RSA"
    } else if kind.contains("dss") {
        "DSA"
    } else {
        return kind.to_ascii_uppercase();
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(text: &str) -> Diagnostics {
        let mut d = Diagnostics::default();
        for line in text.lines() {
            d.push(line);
        }
        d
    }

    const KEY: &str =
        "debug1: Server host key: ssh-ed25519 SHA256:2bhWNT+KdhfZV88g1jmw2enQMM7kP6N60kJHgD60Xdw";

    #[test]
    fn debug_lines_are_kept_apart() {
        let mut d = Diagnostics::default();
        assert!(!d.push(KEY));
        assert!(!d.push("debug1: Authenticating to h:22 as 'root'"));
        assert!(!d.push("Authenticated to h ([h]:22) using \"publickey\"."));
        assert!(!d.push("debug2: channel 0: rcvd adjust 65536"));
        assert!(!d.forward_ready);
        assert!(d.push("debug2: channel 0: open confirm rwindow 2097152 rmax 32768"));
        assert!(d.forward_ready);
        assert_eq!(
            d.server_key,
            Some((
                "ED25519".into(),
                "SHA256:2bhWNT+KdhfZV88g1jmw2enQMM7kP6N60kJHgD60Xdw".into()
            ))
        );
        assert_eq!(d.text(), "Authenticated to h ([h]:22) using \"publickey\".");
    }

    #[test]
    fn unknown_and_changed_host_keys() {
        let d = diag(&format!("{KEY}\nHost key verification failed.\n"));
        match d.classify("h", "127.0.0.1:5900", Some(255)) {
            SshError::HostKeyUnknown { host, key, stderr } => {
                assert_eq!(host, "h");
                assert_eq!(key.unwrap().0, "ED25519");
                assert_eq!(stderr, "Host key verification failed.");
            }
            other => panic!("{other:?}"),
        }
        let d = diag(&format!(
            "{KEY}\n@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
             Offending ED25519 key in /tmp/kh:3\nHost key verification failed.\n"
        ));
        match d.classify("h", "x", Some(255)) {
            SshError::HostKeyChanged {
                known_entry, key, ..
            } => {
                assert_eq!(known_entry.as_deref(), Some("/tmp/kh:3"));
                assert!(key.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn login_connection_and_forward_failures() {
        let e = diag("root@10.0.0.2: Permission denied (publickey,password).").classify(
            "10.0.0.2",
            "x",
            Some(255),
        );
        assert!(
            matches!(&e, SshError::AuthRefused { methods, .. } if methods == "publickey,password"),
            "{e:?}"
        );
        let e = diag("ssh: connect to host 10.0.0.2 port 2: Connection refused").classify(
            "10.0.0.2",
            "x",
            Some(255),
        );
        assert!(matches!(e, SshError::ConnectionRefused { .. }), "{e:?}");
        let e = diag("ssh: connect to host 10.0.0.2 port 22: Connection timed out").classify(
            "10.0.0.2",
            "x",
            Some(255),
        );
        assert!(
            matches!(&e, SshError::Unreachable { reason, .. } if reason == "Connection timed out"),
            "{e:?}"
        );
        let e = diag("ssh: Could not resolve hostname nowhere: Name or service not known")
            .classify("nowhere", "x", Some(255));
        assert!(
            matches!(&e, SshError::Unreachable { reason, .. } if reason == "Name or service not known"),
            "{e:?}"
        );
        let e = diag(
            "Authenticated to h ([h]:22) using \"publickey\".\n\
             channel 0: open failed: connect failed: Connection refused\nstdio forwarding failed",
        )
        .classify("h", "127.0.0.1:5999", Some(255));
        assert_eq!(
            e,
            SshError::ForwardFailed {
                endpoint: "127.0.0.1:5999".into(),
                reason: "connect failed: Connection refused".into(),
                stderr: "Authenticated to h ([h]:22) using \"publickey\".\n\
                         channel 0: open failed: connect failed: Connection refused\n\
                         stdio forwarding failed"
                    .into(),
            }
        );
        let e = diag("Timeout, server h not responding.").classify("h", "x", Some(255));
        assert!(matches!(e, SshError::Lost { .. }), "{e:?}");
        let e = diag("something new").classify("h", "x", Some(1));
        assert_eq!(
            e,
            SshError::Failed {
                code: Some(1),
                stderr: "something new".into()
            }
        );
        assert_eq!(e.ssh_message(), "something new");
    }

    #[test]
    fn key_type_names() {
        assert_eq!(key_type_name("ssh-ed25519"), "ED25519");
        assert_eq!(key_type_name("ecdsa-sha2-nistp256"), "ECDSA");
        assert_eq!(key_type_name("ssh-rsa"), "RSA");
        assert_eq!(key_type_name("rsa-sha2-512"), "RSA");
    }

    #[test]
    fn keeps_a_bounded_log() {
        let mut d = Diagnostics::default();
        for i in 0..1000 {
            d.push(&format!("line {i}"));
        }
        assert_eq!(d.lines.len(), MAX_LINES);
        assert_eq!(d.lines[0], "line 0");
        assert_eq!(d.lines.last().unwrap(), "line 999");
    }
}
