//! Which pixel encodings to ask a VNC server for, by where it runs.

/// Encodings in order of preference, as gtk-vnc asks for them: servers use the first
/// pixel encoding they know. `Raw` heads the list for a server on this machine (see
/// `encodings`); tight with JPEG only when `lossy-encoding` is on.
const ENCODINGS: &[gvnc::ConnectionEncoding] = &[
    gvnc::ConnectionEncoding::TightJpeg5,
    gvnc::ConnectionEncoding::Tight,
    gvnc::ConnectionEncoding::ExtKeyEvent,
    gvnc::ConnectionEncoding::ExtendedDesktopResize,
    gvnc::ConnectionEncoding::DesktopResize,
    gvnc::ConnectionEncoding::DesktopName,
    gvnc::ConnectionEncoding::LastRect,
    gvnc::ConnectionEncoding::Wmvi,
    gvnc::ConnectionEncoding::AlphaCursor,
    gvnc::ConnectionEncoding::RichCursor,
    gvnc::ConnectionEncoding::Xcursor,
    gvnc::ConnectionEncoding::PointerChange,
    gvnc::ConnectionEncoding::LedState,
    gvnc::ConnectionEncoding::Zrle,
    gvnc::ConnectionEncoding::Hextile,
    gvnc::ConnectionEncoding::Rre,
    gvnc::ConnectionEncoding::CopyRect,
    gvnc::ConnectionEncoding::Raw,
];

/// The encodings to ask for. Over a local socket bandwidth costs nothing while
/// compressing costs both ends CPU, so a local server sends raw pixels: exact, and the
/// cheapest to show (a third of the CPU of JPEG for a full-screen video in
/// `tools/bench-vnc.sh`). Remote servers compress, losslessly unless `lossy`.
pub fn encodings(local: bool, lossy: bool) -> Vec<gvnc::ConnectionEncoding> {
    let raw = gvnc::ConnectionEncoding::Raw;
    let jpeg = gvnc::ConnectionEncoding::TightJpeg5;
    let mut list: Vec<_> = ENCODINGS
        .iter()
        .copied()
        .filter(|&e| (lossy && !local) || e != jpeg)
        .collect();
    if local {
        list.retain(|&e| e != raw);
        list.insert(0, raw);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use gvnc::ConnectionEncoding as E;

    #[test]
    fn a_local_server_sends_raw_pixels() {
        for lossy in [false, true] {
            let list = encodings(true, lossy);
            assert_eq!(list[0], E::Raw);
            assert!(!list.contains(&E::TightJpeg5));
            assert_eq!(list.iter().filter(|&&e| e == E::Raw).count(), 1);
        }
    }

    #[test]
    fn a_remote_server_compresses_lossily_only_when_allowed() {
        assert_eq!(encodings(false, false)[0], E::Tight);
        assert!(!encodings(false, false).contains(&E::TightJpeg5));
        assert_eq!(encodings(false, true)[0], E::TightJpeg5);
    }
}
