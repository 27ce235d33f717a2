//! Pictures of a VM's screen taken when a snapshot with memory is made, kept in
//! Vireo's cache directory: `$XDG_CACHE_HOME/vireo/snapshots/<domain UUID>/<name>.png`.
//!
//! Why the cache and not the domain's `<metadata>`: a picture is tens of kilobytes,
//! and `<metadata>` travels with every read of the domain's XML (list refreshes,
//! details pages, each round trip to a remote host) and is copied into the domain XML
//! of every later snapshot, so each snapshot would carry all earlier pictures; and
//! reverting restores the metadata of the snapshot's time, which would drop or bring
//! back pictures of other snapshots. A cache costs nothing when lost but the pictures
//! themselves. The UUID key survives renames; snapshot names are unique per domain.
//! The price: another computer (or tool) shows no picture, and the page then says so.

use std::path::PathBuf;

use gtk::gdk_pixbuf::{InterpType, PixbufLoader};
use gtk::prelude::*;

/// Widest thumbnail kept, in pixels.
pub const THUMBNAIL_WIDTH: i32 = 320;

fn dir(uuid: &str) -> PathBuf {
    glib::user_cache_dir()
        .join("vireo")
        .join("snapshots")
        .join(file_safe(uuid))
}

/// A snapshot name as a file name: bytes outside `[A-Za-z0-9._-]` (and a leading
/// dot) percent-encoded, so every name maps to one file and back.
fn file_safe(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where the thumbnail of snapshot `name` of the domain `uuid` lives (it may not
/// exist).
pub fn path(uuid: &str, name: &str) -> PathBuf {
    dir(uuid).join(format!("{}.png", file_safe(name)))
}

/// The thumbnail's file, when there is one.
pub fn existing(uuid: &str, name: &str) -> Option<PathBuf> {
    Some(path(uuid, name)).filter(|p| p.is_file())
}

/// Saves a screenshot (as libvirt gave it: `mime` and bytes) scaled down to
/// [`THUMBNAIL_WIDTH`] as the snapshot's thumbnail. Runs on any thread.
pub fn save(uuid: &str, name: &str, mime: &str, bytes: &[u8]) -> Result<PathBuf, glib::Error> {
    let loader = PixbufLoader::with_mime_type(mime)?;
    loader.write(bytes)?;
    loader.close()?;
    let pixbuf = loader
        .pixbuf()
        .ok_or_else(|| glib::Error::new(glib::FileError::Inval, "no picture in the screenshot"))?;
    let (w, h) = (pixbuf.width(), pixbuf.height());
    let scaled = if w > THUMBNAIL_WIDTH {
        let nh = ((h as f64) * THUMBNAIL_WIDTH as f64 / w as f64)
            .round()
            .max(1.0) as i32;
        pixbuf
            .scale_simple(THUMBNAIL_WIDTH, nh, InterpType::Bilinear)
            .unwrap_or(pixbuf)
    } else {
        pixbuf
    };
    let target = path(uuid, name);
    std::fs::create_dir_all(dir(uuid)).map_err(|e| {
        glib::Error::new(
            glib::FileError::Failed,
            &format!("{}: {e}", dir(uuid).display()),
        )
    })?;
    // Written aside and renamed, so a reader never sees half a file.
    let tmp = target.with_extension("png.part");
    scaled.savev(&tmp, "png", &[])?;
    std::fs::rename(&tmp, &target)
        .map_err(|e| glib::Error::new(glib::FileError::Failed, &e.to_string()))?;
    Ok(target)
}

/// Forgets the thumbnails of snapshots that are gone: those in `gone`, or when `keep`
/// is given, every one whose snapshot is not in it.
pub fn remove(uuid: &str, gone: &[String], keep: Option<&[String]>) {
    for n in gone {
        let _ = std::fs::remove_file(path(uuid, n));
    }
    if let Some(keep) = keep {
        let wanted: Vec<String> = keep
            .iter()
            .map(|n| format!("{}.png", file_safe(n)))
            .collect();
        if let Ok(entries) = std::fs::read_dir(dir(uuid)) {
            for e in entries.flatten() {
                let f = e.file_name().to_string_lossy().into_owned();
                if !wanted.contains(&f) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_distinct_file_names() {
        assert_eq!(file_safe("before upgrade"), "before%20upgrade");
        assert_eq!(file_safe(".hidden/x"), "%2Ehidden%2Fx");
        assert_eq!(file_safe("a.b-c_d"), "a.b-c_d");
        assert_ne!(file_safe("a b"), file_safe("a_b"));
    }

    #[test]
    fn a_ppm_screenshot_becomes_a_small_png() {
        let dir = std::env::temp_dir().join(format!("vireo-thumbs-{}", std::process::id()));
        std::env::set_var("XDG_CACHE_HOME", &dir);
        // 640x400, red: what QEMU's screendump gives, as libvirt passes it on.
        let mut ppm = b"P6\n640 400\n255\n".to_vec();
        ppm.extend(std::iter::repeat([200u8, 0, 0]).take(640 * 400).flatten());
        let p = save("u-1", "s 1", "image/x-portable-pixmap", &ppm).unwrap();
        let back = gtk::gdk_pixbuf::Pixbuf::from_file(&p).unwrap();
        assert_eq!((back.width(), back.height()), (320, 200));
        assert_eq!(existing("u-1", "s 1"), Some(p.clone()));
        remove("u-1", &[], Some(&["other".to_owned()]));
        assert_eq!(existing("u-1", "s 1"), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
