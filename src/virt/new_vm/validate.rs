//! Checks a [`NewVmSpec`] against the host before anything is created, and says which
//! field is wrong and why (the wizard shows the problem next to that field).

use super::{Firmware, InstallMethod, MediaSource, NewVmSpec, Storage};

/// What the host allows, read on the connection's worker before validation.
#[derive(Debug, Clone, Default)]
pub struct HostLimits {
    /// Host memory in MiB.
    pub memory_mib: u64,
    /// Most vCPUs for the chosen machine (0: unknown).
    pub max_vcpus: u32,
    /// Names of the domains already defined.
    pub existing_names: Vec<String>,
    /// Free bytes of each active pool, by name. A pool missing here (the "default"
    /// pool that creation makes) is not checked.
    pub pool_free: Vec<(String, u64)>,
    /// The chosen domain type/arch/machine can boot UEFI.
    pub uefi_available: bool,
    /// Host paths can be checked from here (the connection is local).
    pub local_files: bool,
    /// Minimum memory of the chosen OS, MiB (0: none).
    pub os_min_memory_mib: u64,
}

/// The field a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The VM's name.
    Name,
    /// Memory.
    Memory,
    /// vCPUs.
    Vcpus,
    /// Disk size or path.
    Storage,
    /// Install medium (ISO path or volume).
    Media,
    /// Network install address.
    Url,
    /// Imported disk or cloud image.
    Image,
    /// cloud-init user, password, key.
    CloudInit,
    /// BIOS/UEFI.
    Firmware,
}

/// Something wrong with the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No name.
    NameEmpty,
    /// A character libvirt tools handle badly.
    NameInvalidChar(char),
    /// Longer than 64 characters.
    NameTooLong,
    /// A domain with this name exists.
    NameTaken,
    /// Less than 64 MiB, or less than the OS's minimum.
    MemoryTooLow(u64),
    /// More than the host has (MiB).
    MemoryOverHost(u64),
    /// Zero vCPUs.
    VcpusZero,
    /// More than the machine allows.
    VcpusOverMax(u32),
    /// Disk of 0 GiB.
    DiskTooSmall,
    /// Disk larger than the pool's free space (bytes free).
    DiskOverPool(u64),
    /// No path given.
    PathEmpty,
    /// The file cannot be read: the OS error text.
    Unreadable(String),
    /// Not an http:// address with a host.
    UrlInvalid,
    /// cloud-init needs a user name of lower-case letters, digits, `_` and `-`.
    CloudUserInvalid,
    /// cloud-init needs a password or an SSH key, else nobody can log in.
    CloudNoCredential,
    /// The SSH key does not look like one (`ssh-ed25519 AAAA...`).
    SshKeyInvalid,
    /// UEFI asked for but no firmware for it.
    UefiUnavailable,
    /// A cloud image needs a new volume in a pool (its overlay).
    CloudNeedsVolume,
}

/// Checks the spec; every problem found, each with its field.
pub fn validate(spec: &NewVmSpec, host: &HostLimits) -> Vec<(Field, Problem)> {
    let mut out = Vec::new();
    if let Some(p) = name_problem(&spec.name, &host.existing_names) {
        out.push((Field::Name, p));
    }
    let min = host.os_min_memory_mib.max(64);
    if spec.memory_mib < min {
        out.push((Field::Memory, Problem::MemoryTooLow(min)));
    } else if host.memory_mib > 0 && spec.memory_mib > host.memory_mib {
        out.push((Field::Memory, Problem::MemoryOverHost(host.memory_mib)));
    }
    if spec.vcpus == 0 {
        out.push((Field::Vcpus, Problem::VcpusZero));
    } else if host.max_vcpus > 0 && spec.vcpus > host.max_vcpus {
        out.push((Field::Vcpus, Problem::VcpusOverMax(host.max_vcpus)));
    }
    match &spec.storage {
        Storage::NewVolume { pool, size_gib } => {
            if *size_gib == 0 {
                out.push((Field::Storage, Problem::DiskTooSmall));
            } else if let Some((_, free)) = host.pool_free.iter().find(|(n, _)| n == pool) {
                // qcow2 grows on demand, but a disk that can never fill is a trap.
                if size_gib << 30 > *free {
                    out.push((Field::Storage, Problem::DiskOverPool(*free)));
                }
            }
        }
        Storage::Existing { path } => {
            if let Some(p) = path_problem(path, host.local_files) {
                out.push((Field::Storage, p));
            }
        }
        Storage::None => {}
    }
    match &spec.install {
        InstallMethod::LocalMedia(MediaSource::Path(p)) => {
            // A file of this computer, also for a remote host (uploaded into its pool).
            if let Some(p) = path_problem(p, true) {
                out.push((Field::Media, p));
            }
        }
        InstallMethod::LocalMedia(MediaSource::Volume { volume, .. }) => {
            if volume.is_empty() {
                out.push((Field::Media, Problem::PathEmpty));
            }
        }
        InstallMethod::NetworkTree { url, .. } => {
            // The tree's kernel is fetched over plain HTTP (see `tree`).
            if !url_ok(url) || !url.starts_with("http://") {
                out.push((Field::Url, Problem::UrlInvalid));
            }
        }
        InstallMethod::ImportDisk { path, .. } => {
            if let Some(p) = path_problem(path, host.local_files) {
                out.push((Field::Image, p));
            }
        }
        InstallMethod::CloudImage {
            image, cloud_init, ..
        } => {
            if let Some(p) = path_problem(image, host.local_files) {
                out.push((Field::Image, p));
            }
            if !matches!(spec.storage, Storage::NewVolume { .. }) {
                out.push((Field::Storage, Problem::CloudNeedsVolume));
            }
            let user_ok = !cloud_init.user.is_empty()
                && cloud_init.user.len() <= 32
                && cloud_init
                    .user
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && cloud_init
                    .user
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !user_ok {
                out.push((Field::CloudInit, Problem::CloudUserInvalid));
            }
            let key = cloud_init
                .ssh_key
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty());
            let pw = cloud_init.password.as_deref().filter(|p| !p.is_empty());
            if let Some(k) = key {
                if !ssh_key_ok(k) {
                    out.push((Field::CloudInit, Problem::SshKeyInvalid));
                }
            } else if pw.is_none() {
                out.push((Field::CloudInit, Problem::CloudNoCredential));
            }
        }
        InstallMethod::Manual => {}
    }
    if spec.firmware == Firmware::Uefi && !host.uefi_available {
        out.push((Field::Firmware, Problem::UefiUnavailable));
    }
    out
}

/// The problem with a name, if any.
pub fn name_problem(name: &str, existing: &[String]) -> Option<Problem> {
    if name.is_empty() {
        return Some(Problem::NameEmpty);
    }
    if name.chars().count() > 64 {
        return Some(Problem::NameTooLong);
    }
    // What libvirt refuses: '/' (the name becomes the name of files) and line breaks;
    // other control characters hide in lists. Spaces are fine ("Fedora 39"): the
    // guest's host name is derived apart (cloud_init::hostname_for).
    if let Some(c) = name.chars().find(|c| *c == '/' || c.is_control()) {
        return Some(Problem::NameInvalidChar(c));
    }
    if name.starts_with(['.', '-']) {
        return Some(Problem::NameInvalidChar(name.chars().next().unwrap_or('.')));
    }
    if existing.iter().any(|n| n == name) {
        return Some(Problem::NameTaken);
    }
    None
}

fn path_problem(path: &str, local: bool) -> Option<Problem> {
    if path.trim().is_empty() {
        return Some(Problem::PathEmpty);
    }
    if local {
        if let Err(e) = std::fs::File::open(path) {
            return Some(Problem::Unreadable(e.to_string()));
        }
    }
    None
}

fn url_ok(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https" | "ftp") {
        return false;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    let host_only = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    !host_only.is_empty()
        && !url.chars().any(char::is_whitespace)
        && host_only
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

fn ssh_key_ok(key: &str) -> bool {
    let mut parts = key.split_whitespace();
    let (Some(kind), Some(body)) = (parts.next(), parts.next()) else {
        return false;
    };
    let kinds = [
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "sk-ssh-ed25519@openssh.com",
    ];
    (kinds.contains(&kind) || kind.starts_with("ecdsa-sha2-") || kind.starts_with("sk-ecdsa-"))
        && body.starts_with("AAAA")
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(url_ok(
            "http://deb.debian.org/debian/dists/bookworm/main/installer-amd64/"
        ));
        assert!(url_ok("https://user@[::1]:8080/tree"));
        assert!(url_ok("ftp://mirror.example.org/fedora"));
        assert!(!url_ok("deb.debian.org/debian"));
        assert!(!url_ok("file:///srv/tree"));
        assert!(!url_ok("http:///nohost"));
        assert!(!url_ok("http://bad host/"));
    }

    #[test]
    fn names() {
        let taken = vec!["web".to_owned()];
        assert_eq!(name_problem("", &taken), Some(Problem::NameEmpty));
        assert_eq!(name_problem("web", &taken), Some(Problem::NameTaken));
        assert_eq!(name_problem("my vm", &taken), None);
        assert_eq!(name_problem("Fedora 39 (test)", &taken), None);
        assert_eq!(
            name_problem("a\nb", &taken),
            Some(Problem::NameInvalidChar('\n'))
        );
        assert_eq!(
            name_problem("a/b", &taken),
            Some(Problem::NameInvalidChar('/'))
        );
        assert_eq!(
            name_problem("-x", &taken),
            Some(Problem::NameInvalidChar('-'))
        );
        assert_eq!(name_problem("debian-12.2_test+1", &taken), None);
        assert_eq!(
            name_problem(&"x".repeat(65), &taken),
            Some(Problem::NameTooLong)
        );
    }

    #[test]
    fn ssh_keys() {
        assert!(ssh_key_ok(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx me@host"
        ));
        assert!(!ssh_key_ok("ssh-ed25519"));
        assert!(!ssh_key_ok("hello AAAAC3Nza"));
    }
}
