//! Vireo's entry point: command line, logging, translations, resources, then the app.

use std::process::ExitCode;

use gtk::prelude::*;
use vireo::{application::VireoApplication, cli, config, i18n};

fn main() -> ExitCode {
    i18n::init();
    let options = match cli::Options::try_parse_from(std::env::args_os()) {
        Ok(options) => options,
        Err(err) => {
            // clap prints the usage with the error; exit 2 for bad input, 0 for --help.
            let _ = err.print();
            if err.kind() == clap::error::ErrorKind::DisplayVersion {
                println!();
            }
            return ExitCode::from(err.exit_code() as u8);
        }
    };
    vireo::startup::prepare_process(options.debug);
    tracing::info!("Vireo {} starting", config::VERSION);

    let app = VireoApplication::new(options);
    vireo::ui::probe::install_from_env(&app);
    app.open_initial_connections();
    // The command line was parsed above; GApplication must not parse it again.
    let status = app.run_with_args::<&str>(&[]);
    ExitCode::from(status.get())
}
