//! Vireo's display alone in a window, set up as the app sets it up, for the viewer
//! benchmarks (`tools/bench-vnc.sh`, `tools/bench-spice.sh`) and manual tries:
//! `vnc_viewer HOST:PORT|unix:PATH|spice://HOST:PORT [--size WxH]`. A unix socket
//! stands for what libvirt hands over for a VM on this host; `spice://` shows a SPICE
//! server through the same widget, as a VM tab does for a SPICE VM.
//!
//! Same process set-up as `vireo` (`vireo::startup::prepare_process`: logging,
//! resources, renderer-dependent settings) and the same display configuration as a VM
//! tab (`GuestDisplay::follow_settings` on Vireo's settings: scale mode and clipboard as
//! the person set them, "fit" by default), nothing tuned for the benchmark. The
//! allocator setting is the app's too: the display, when it maps under GTK's cairo
//! renderer, keeps frame-sized heap blocks (`ffi::malloc::keep_frame_sized_blocks`);
//! under GL nothing is changed. No start-up code sets it. `--size`
//! only sizes the window, like a person would. Prints how many frames it showed each
//! second to stderr.

use std::time::Duration;

use adw::prelude::*;
use gtk::glib;
use vireo::ui::console::GuestDisplay;

fn main() -> glib::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(target) = args.iter().find(|a| !a.starts_with("--")).cloned() else {
        eprintln!("usage: vnc_viewer HOST:PORT|unix:PATH|spice://HOST:PORT [--size WxH]");
        return glib::ExitCode::FAILURE;
    };
    let target = target.trim_start_matches("vnc://").to_string();
    let size = args
        .iter()
        .position(|a| a == "--size")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse::<i32>().ok()?, h.parse::<i32>().ok()?)));

    vireo::i18n::init();
    vireo::startup::prepare_process(std::env::var_os("VIREO_DEBUG").is_some());
    adw::init().expect("a display");
    let display = GuestDisplay::new();
    display.follow_settings(&vireo::settings::shared());
    let window = gtk::Window::builder()
        .title(format!("Vireo VNC {target}"))
        .child(&display)
        .build();
    if let Some((w, h)) = size {
        window.set_default_size(w, h);
    }
    let main_loop = glib::MainLoop::new(None, false);
    window.connect_close_request(glib::clone!(
        #[strong]
        main_loop,
        move |_| {
            main_loop.quit();
            glib::Propagation::Proceed
        }
    ));
    display.connect_disconnected(|_, reason| eprintln!("disconnected: {reason}"));
    window.present();
    display.grab_focus();
    let split = |target: &str, default: u16| match target.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse::<u16>().unwrap_or(default)),
        None => (target.to_string(), default),
    };
    if let Some(spice) = target.strip_prefix("spice://") {
        let (host, port) = split(spice, 5900);
        display.open_spice_host(&host, port);
    } else {
        match target.strip_prefix("unix:") {
            Some(path) => match std::os::unix::net::UnixStream::connect(path) {
                Ok(stream) => display.open_fd(stream.into()),
                Err(err) => {
                    eprintln!("{path}: {err}");
                    return glib::ExitCode::FAILURE;
                }
            },
            None => {
                let (host, port) = split(&target, 5900);
                display.open_host(&host, port);
            }
        }
    }

    let mut last = 0;
    glib::timeout_add_local(
        Duration::from_secs(1),
        glib::clone!(
            #[weak]
            display,
            #[upgrade_or]
            glib::ControlFlow::Break,
            move || {
                let frames = display.frames_shown();
                eprintln!("frames/s: {}", frames - last);
                last = frames;
                glib::ControlFlow::Continue
            }
        ),
    );
    main_loop.run();
    glib::ExitCode::SUCCESS
}
