//! cloud-init NoCloud seed: `user-data` and `meta-data` for a cloud image, packed into
//! an ISO 9660 image with the volume id `cidata` (made with xorriso on this machine,
//! then uploaded into a storage volume by the creation step).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::new_vm::CloudInit;

/// Errors while making the seed ISO.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Writing the files failed.
    #[error("could not write the cloud-init files: {0}")]
    Io(#[from] std::io::Error),
    /// xorriso is missing or failed; its message.
    #[error("could not make the cloud-init ISO: {0}")]
    Xorriso(String),
}

// YAML is a superset of JSON: a JSON string is a safely quoted YAML scalar.
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The `#cloud-config` user data: one user with sudo rights, its password (plain text:
/// cloud-init hashes it in the guest) and/or SSH key.
pub fn user_data(ci: &CloudInit, hostname: &str) -> String {
    let mut s = String::from("#cloud-config\n");
    s.push_str(&format!("hostname: {}\n", q(hostname)));
    s.push_str("users:\n");
    s.push_str(&format!("  - name: {}\n", q(&ci.user)));
    s.push_str("    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n");
    s.push_str("    shell: /bin/bash\n");
    let pw = ci.password.as_deref().filter(|p| !p.is_empty());
    if let Some(pw) = pw {
        s.push_str("    lock_passwd: false\n");
        s.push_str(&format!("    plain_text_passwd: {}\n", q(pw)));
    }
    if let Some(k) = ci
        .ssh_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        s.push_str("    ssh_authorized_keys:\n");
        s.push_str(&format!("      - {}\n", q(k)));
    }
    s.push_str(&format!("ssh_pwauth: {}\n", pw.is_some()));
    s
}

/// The meta data: an instance id (new per VM, so cloud-init runs on first boot) and
/// the host name.
pub fn meta_data(instance_id: &str, hostname: &str) -> String {
    format!(
        "instance-id: {}\nlocal-hostname: {}\n",
        q(instance_id),
        q(hostname)
    )
}

/// The guest's host name for a VM named `vm_name`: VM names may hold spaces and
/// other characters ("Web Server 2"), host names only letters, digits and inner
/// hyphens ("web-server-2").
pub fn hostname_for(vm_name: &str) -> String {
    let mut out = String::new();
    for c in vm_name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.chars().take(63).collect();
    match out.trim_end_matches('-') {
        "" => "guest".to_owned(),
        name => name.to_owned(),
    }
}

/// Writes the seed ISO into `dir` and returns its path; the guest's host name comes
/// from `vm_name` (see [`hostname_for`]).
pub fn build_seed_iso(
    dir: &Path,
    ci: &CloudInit,
    vm_name: &str,
    instance_id: &str,
) -> Result<PathBuf, SeedError> {
    let hostname = hostname_for(vm_name);
    let hostname = hostname.as_str();
    let src = dir.join("cidata");
    std::fs::create_dir_all(&src)?;
    std::fs::write(src.join("user-data"), user_data(ci, hostname))?;
    std::fs::write(src.join("meta-data"), meta_data(instance_id, hostname))?;
    let out = dir.join("cidata.iso");
    let r = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-V", "cidata", "-J", "-r", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .map_err(|e| SeedError::Xorriso(e.to_string()))?;
    if !r.status.success() {
        return Err(SeedError::Xorriso(
            String::from_utf8_lossy(&r.stderr).trim().to_owned(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_names_come_from_vm_names() {
        assert_eq!(super::hostname_for("Web Server 2"), "web-server-2");
        assert_eq!(super::hostname_for("debian-12.2_test"), "debian-12-2-test");
        assert_eq!(super::hostname_for("  ~~ "), "guest");
    }
}
