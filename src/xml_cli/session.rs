//! vireo-xml's connection to libvirt: opened with credentials asked on the terminal,
//! closed without the `virt` crate's panicking drop.

use std::io::{IsTerminal, Write};

use crate::virt::auth::{open_with_auth, AuthPrompt};
use crate::virt::handles::release_connect;
use crate::virt::VirtError;

/// Opens `uri` (libvirt's default when empty), asking for credentials on the terminal.
pub(super) fn open(uri: &str) -> Result<Connection, VirtError> {
    open_with_auth(uri, &terminal_auth).map(|c| Connection(Some(c)))
}

/// An open connection, closed without the `virt` crate's panicking drop.
pub(super) struct Connection(Option<virt::connect::Connect>);

impl Connection {
    /// The libvirt connection.
    pub(super) fn get(&self) -> &virt::connect::Connect {
        self.0.as_ref().expect("open until dropped")
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            release_connect(c);
        }
    }
}

/// Answers libvirt's credential questions on the terminal (user names, passwords:
/// the latter without echo where `stty` can turn it off).
fn terminal_auth(prompts: Vec<AuthPrompt>) -> Option<Vec<String>> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let mut answers = Vec::new();
    for p in prompts {
        eprint!("{}: ", p.prompt);
        let _ = std::io::stderr().flush();
        let hide = p.is_secret();
        if hide {
            let _ = std::process::Command::new("stty").arg("-echo").status();
        }
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line);
        if hide {
            let _ = std::process::Command::new("stty").arg("echo").status();
            eprintln!();
        }
        read.ok()?;
        answers.push(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    Some(answers)
}
