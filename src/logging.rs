//! Logging through `tracing`: info by default, `--debug` or `RUST_LOG` for more.

use tracing_subscriber::EnvFilter;

pub fn init(debug: bool) {
    let default = if debug { "vireo=debug,info" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
