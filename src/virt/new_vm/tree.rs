//! Network install: fetches a distribution tree's kernel and initrd over plain HTTP so
//! that the creation step can upload them into the VM's pool (local and remote hosts
//! alike) for the first, direct-kernel boot.
//!
//! Only `http://` is fetched here (no TLS stack in Vireo); every distribution mirror
//! that virt-install users point at also answers on http.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Placeholder the spec carries for the kernel until its volume exists.
pub const KERNEL_PLACEHOLDER: &str = "vireo:tree-kernel";
/// Placeholder for the initrd.
pub const INITRD_PLACEHOLDER: &str = "vireo:tree-initrd";

/// Errors while fetching.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an http:// address.
    #[error("only http:// addresses can be fetched: {0}")]
    Scheme(String),
    /// Network or file error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server answered with an error status.
    #[error("{url}: the server answered {status}")]
    Status {
        /// What was asked for.
        url: String,
        /// The status line.
        status: String,
    },
    /// None of the usual places of the tree had a kernel and initrd.
    #[error("no kernel and initrd found in the tree at {0}")]
    NotATree(String),
}

/// Where distributions keep the installer's kernel and initrd inside a tree, for an
/// architecture (Red Hat family, SUSE, Debian/Ubuntu netboot, live media).
pub fn boot_file_candidates(arch: &str) -> Vec<(String, String)> {
    let suse_arch = arch;
    let deb = match arch {
        "x86_64" => "amd64",
        "i686" => "i386",
        "aarch64" => "arm64",
        other => other,
    };
    vec![
        (
            "images/pxeboot/vmlinuz".into(),
            "images/pxeboot/initrd.img".into(),
        ),
        (
            format!("boot/{suse_arch}/loader/linux"),
            format!("boot/{suse_arch}/loader/initrd"),
        ),
        (
            format!("main/installer-{deb}/current/images/netboot/debian-installer/{deb}/linux"),
            format!("main/installer-{deb}/current/images/netboot/debian-installer/{deb}/initrd.gz"),
        ),
        (
            format!("debian-installer/{deb}/linux"),
            format!("debian-installer/{deb}/initrd.gz"),
        ),
        ("linux".into(), "initrd.gz".into()),
        ("casper/vmlinuz".into(), "casper/initrd".into()),
        ("isolinux/vmlinuz".into(), "isolinux/initrd.img".into()),
    ]
}

/// GETs an http:// URL (following up to five redirects) into `dest`.
pub fn http_get_to(url: &str, dest: &Path) -> Result<u64, FetchError> {
    let mut url = url.to_owned();
    for _ in 0..5 {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| FetchError::Scheme(url.clone()))?;
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = if hostport.contains(':') && !hostport.ends_with(']') {
            hostport.to_owned()
        } else {
            format!("{hostport}:80")
        };
        let host = hostport
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(hostport);
        let mut s = TcpStream::connect(&addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        // HTTP/1.0: the body ends when the server closes; no chunked encoding.
        write!(
            s,
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: vireo\r\nAccept: */*\r\n\r\n"
        )?;
        let mut r = BufReader::new(s);
        let mut status = String::new();
        r.read_line(&mut status)?;
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut location = None;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("location") {
                    location = Some(v.trim().to_owned());
                }
            }
        }
        match code {
            200 => {
                let mut f = std::fs::File::create(dest)?;
                let n = std::io::copy(&mut r.take(u64::MAX), &mut f)?;
                return Ok(n);
            }
            301 | 302 | 303 | 307 | 308 if location.is_some() => {
                let loc = location.unwrap_or_default();
                url = if loc.starts_with("http") {
                    loc
                } else {
                    format!("http://{hostport}{loc}")
                };
            }
            _ => {
                return Err(FetchError::Status {
                    url,
                    status: status.trim().to_owned(),
                })
            }
        }
    }
    Err(FetchError::Status {
        url,
        status: "too many redirects".into(),
    })
}

/// Fetches the tree's kernel and initrd into `dir`; their local paths.
pub fn fetch_boot_files(
    url: &str,
    arch: &str,
    dir: &Path,
) -> Result<(PathBuf, PathBuf), FetchError> {
    if !url.starts_with("http://") {
        return Err(FetchError::Scheme(url.to_owned()));
    }
    std::fs::create_dir_all(dir)?;
    let base = url.trim_end_matches('/');
    let (k, i) = (dir.join("vmlinuz"), dir.join("initrd"));
    for (kp, ip) in boot_file_candidates(arch) {
        match http_get_to(&format!("{base}/{kp}"), &k) {
            Ok(_) => {
                http_get_to(&format!("{base}/{ip}"), &i)?;
                tracing::info!(url, kernel = %kp, "fetched the tree's boot files");
                return Ok((k, i));
            }
            Err(FetchError::Status { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(FetchError::NotATree(url.to_owned()))
}
