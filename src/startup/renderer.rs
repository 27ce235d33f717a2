//! Which renderer GTK draws Vireo's windows with: GL where a GPU draws it, cairo where
//! GL is Mesa's software rasterizer.
//!
//! GTK 4 picks GL whenever a GL context can be made, also when only llvmpipe provides
//! it (Xvfb, virtual machines, remote X, machines without a GPU driver). There, GL costs
//! more CPU than cairo for the same picture: a console's frame is uploaded as a texture
//! and drawn again by the software rasterizer, where cairo copies it once. In
//! `tools/bench-spice.sh` at 1280x800 the SPICE display took 11 % of a core at 31 fps
//! with cairo and 44 % at the same rate with GL on llvmpipe; Mesa's driver also made the
//! process 140 MiB bigger.
//!
//! So, unless the user chose a renderer (`GSK_RENDERER`), Vireo asks which GL renderer
//! the display has, in a forked child so that the driver is never loaded into Vireo
//! itself, and chooses cairo for a software one. The question is asked once, before the
//! first window; under Xvfb it adds 0.06 s to the start (`tools/bench-startup.sh`), and
//! the start with cairo is still 0.17 s quicker than with GL on llvmpipe.

use std::time::Duration;

use gtk::prelude::*;

/// How long the child may take before GTK's default is kept.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What Vireo tells GTK about the renderer, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The user set `GSK_RENDERER` to this: kept.
    User(String),
    /// The GL renderer is a software one (its name): cairo.
    CairoForSoftwareGl(String),
    /// The GL renderer is hardware (its name): GTK's default, GL.
    Gl(String),
    /// The display has no GL, or the question could not be asked (why): GTK's default,
    /// which falls back to cairo by itself where GL is missing.
    Unknown(String),
}

impl Choice {
    /// The `GSK_RENDERER` value to set, if any.
    pub fn sets_renderer(&self) -> Option<&'static str> {
        matches!(self, Choice::CairoForSoftwareGl(_)).then_some("cairo")
    }
}

/// Decides, reading `GSK_RENDERER` and asking the display's GL renderer only when the
/// user did not set one.
pub fn choose() -> Choice {
    decide(std::env::var("GSK_RENDERER").ok(), || {
        crate::ffi::fork::ask_in_child(PROBE_TIMEOUT, gl_renderer_of_display)
            .map_err(|e| e.to_string())
    })
}

/// The decision, with the environment and the probe given (unit-tested).
fn decide(
    user_setting: Option<String>,
    probe: impl FnOnce() -> Result<Option<String>, String>,
) -> Choice {
    if let Some(user) = user_setting.filter(|v| !v.trim().is_empty()) {
        return Choice::User(user);
    }
    match probe() {
        Ok(Some(renderer)) if is_software(&renderer) => Choice::CairoForSoftwareGl(renderer),
        Ok(Some(renderer)) => Choice::Gl(renderer),
        Ok(None) => Choice::Unknown("no GL context on this display".to_owned()),
        Err(why) => Choice::Unknown(why),
    }
}

/// True for the names Mesa's and others' software rasterizers give as `GL_RENDERER`.
fn is_software(renderer: &str) -> bool {
    let name = renderer.to_ascii_lowercase();
    [
        "llvmpipe",
        "softpipe",
        "swrast",
        "software rasterizer",
        "software renderer",
    ]
    .iter()
    .any(|soft| name.contains(soft))
}

/// Runs in the forked child: opens the display as GTK would and reads the renderer of a
/// GL context made on it.
fn gl_renderer_of_display() -> Option<String> {
    gtk::init().ok()?;
    let display = gtk::gdk::Display::default()?;
    let context = display.create_gl_context().ok()?;
    context.realize().ok()?;
    crate::ffi::gl::renderer(&context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(answer: &str) -> impl FnOnce() -> Result<Option<String>, String> + '_ {
        move || Ok(Some(answer.to_owned()))
    }

    #[test]
    fn software_gl_chooses_cairo() {
        for name in [
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "softpipe",
            "Software Rasterizer",
            "Mesa DRI swrast",
        ] {
            assert_eq!(
                decide(None, probe(name)),
                Choice::CairoForSoftwareGl(name.to_owned())
            );
            assert_eq!(decide(None, probe(name)).sets_renderer(), Some("cairo"));
        }
    }

    #[test]
    fn a_gpu_keeps_gl() {
        for name in [
            "Mesa Intel(R) UHD Graphics 620 (KBL GT2)",
            "AMD Radeon RX 6600 (navi23, LLVM 15.0.6, DRM 3.49, 6.1.0-13-amd64)",
            "NVIDIA GeForce RTX 3060/PCIe/SSE2",
            "virgl (Intel(R) Xe Graphics)",
        ] {
            let choice = decide(None, probe(name));
            assert_eq!(choice, Choice::Gl(name.to_owned()));
            assert_eq!(choice.sets_renderer(), None);
        }
    }

    #[test]
    fn the_users_setting_wins_without_asking() {
        let choice = decide(Some("ngl".to_owned()), || panic!("asked the display"));
        assert_eq!(choice, Choice::User("ngl".to_owned()));
        assert_eq!(choice.sets_renderer(), None);
        // An empty value is no choice.
        let choice = decide(
            Some(" ".to_owned()),
            probe("llvmpipe (LLVM 15.0.6, 256 bits)"),
        );
        assert_eq!(choice.sets_renderer(), Some("cairo"));
    }

    #[test]
    fn no_answer_keeps_gtks_default() {
        assert!(matches!(decide(None, || Ok(None)), Choice::Unknown(_)));
        let choice = decide(
            None,
            || Err("the process already runs 3 threads".to_owned()),
        );
        assert_eq!(
            choice,
            Choice::Unknown("the process already runs 3 threads".to_owned())
        );
        assert_eq!(choice.sets_renderer(), None);
    }
}
