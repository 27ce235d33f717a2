//! `vireo-askpass`: Vireo's `SSH_ASKPASS` program. ssh runs it with a question as its
//! argument; it hands the question to the Vireo process that started that ssh (over
//! the socket of a `vireo::virt::ssh::AskpassServer`) and prints the answer for ssh.
//! Exit status 1 when the question was cancelled or Vireo cannot be reached.
//!
//! Installed next to the `vireo` binary; never run by people.

use std::process::ExitCode;

use vireo::virt::ssh::askpass::wire;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next();
    let prompt = args
        .next()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hint = std::env::var("SSH_ASKPASS_PROMPT").unwrap_or_default();
    let Some(socket) = wire::socket_for(std::env::var_os(wire::SOCKET_ENV), argv0) else {
        eprintln!("vireo-askpass: run by ssh for Vireo only (no socket to ask)");
        return ExitCode::from(1);
    };
    match wire::ask(&socket, &hint, &prompt) {
        Ok(Some(answer)) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::from(1),
        Err(e) => {
            eprintln!(
                "vireo-askpass: cannot ask Vireo ({}): {e}",
                socket.display()
            );
            ExitCode::from(1)
        }
    }
}
