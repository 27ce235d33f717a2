//! A window with Vireo's VNC display alone, for the viewer benchmark and manual tries:
//! `vnc_viewer HOST:PORT|unix:PATH [--size WxH] [--fit] [--lossy]` (1:1 by default, like
//! gvncviewer; `--lossy` lets a remote server use JPEG as gvncviewer does). A unix
//! socket stands for what libvirt hands over for a VM on this host.
//! Prints how many frames it showed each second to stderr.

use std::time::Duration;

use adw::prelude::*;
use gtk::glib;
use vireo::ui::console::{ScaleMode, VncDisplay};

fn main() -> glib::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(target) = args.iter().find(|a| !a.starts_with("--")).cloned() else {
        eprintln!("usage: vnc_viewer HOST:PORT|unix:PATH [--size WxH] [--fit] [--lossy]");
        return glib::ExitCode::FAILURE;
    };
    let target = target.trim_start_matches("vnc://").to_string();
    let (host, port) = match target.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse::<u16>().unwrap_or(5900)),
        None => (target.clone(), 5900),
    };
    let size = args
        .iter()
        .position(|a| a == "--size")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse::<i32>().ok()?, h.parse::<i32>().ok()?)));
    let fit = args.iter().any(|a| a == "--fit");
    let lossy = args.iter().any(|a| a == "--lossy");

    vireo::logging::init(std::env::var_os("VIREO_DEBUG").is_some());
    // As Vireo does at start-up (see keep_frame_memory); VIREO_VNC_DEFAULT_MALLOC=1 skips it.
    if std::env::var_os("VIREO_VNC_DEFAULT_MALLOC").is_none() {
        vireo::ui::console::keep_frame_memory();
    }
    adw::init().expect("a display");
    let display = VncDisplay::new();
    display.set_lossy_encoding(lossy);
    display.set_scale_mode(if fit {
        ScaleMode::Fit
    } else {
        ScaleMode::OneToOne
    });
    let window = gtk::Window::builder()
        .title(format!("Vireo VNC {host}:{port}"))
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
    display.connect_local("disconnected", false, move |values| {
        let reason: String = values[1].get().unwrap_or_default();
        eprintln!("disconnected: {reason}");
        None
    });
    window.present();
    display.grab_focus();
    match target.strip_prefix("unix:") {
        Some(path) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(stream) => display.open_fd(stream.into()),
            Err(err) => {
                eprintln!("{path}: {err}");
                return glib::ExitCode::FAILURE;
            }
        },
        None => display.open_host(&host, port),
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
