//! Vireo's entry point: command line, logging, translations, resources, then the app.

use std::process::ExitCode;

use gtk::glib;
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
    vireo::logging::init(options.debug);
    tracing::info!("Vireo {} starting", config::VERSION);

    vireo::resources::register();
    glib::set_application_name("Vireo");
    avoid_gl_probe_for_cairo();

    let app = VireoApplication::new(options);
    vireo::ui::probe::install_from_env(&app);
    app.open_initial_connections();
    // The command line was parsed above; GApplication must not parse it again.
    let status = app.run_with_args::<&str>(&[]);
    ExitCode::from(status.get())
}

/// With `GSK_RENDERER=cairo` GTK never draws with GL, yet GDK's X11 backend still loads
/// the GL driver (Mesa's llvmpipe is ~50 MiB) to pick a window visual. Telling GDK that
/// GL is off keeps that out of memory.
fn avoid_gl_probe_for_cairo() {
    if std::env::var("GSK_RENDERER").is_ok_and(|r| r == "cairo")
        && std::env::var_os("GDK_DEBUG").is_none()
    {
        std::env::set_var("GDK_DEBUG", "gl-disable");
    }
}
