//! Storage volumes for any file on a host, and copies between volumes.
//!
//! libvirt copies, creates and deletes files only as volumes of a storage pool. Disks
//! and NVRAM files often live in directories no pool covers (an NVRAM directory, a
//! disk imported from elsewhere), so [`Pools`] makes a transient `dir` pool on such a
//! directory for as long as a job needs it; destroying a transient pool leaves its
//! files alone, so nothing of the pool remains afterwards. A directory may also belong
//! to a defined pool that is not running (a host's `default` pool that never started):
//! libvirt then refuses a second pool on it, so that pool is started for the job and
//! stopped again afterwards, as it was found.

use std::sync::atomic::{AtomicU32, Ordering};

use virt::connect::Connect;

use crate::ffi::libvirt_storage::{
    pool_build, pool_by_name, pool_by_target_path, pool_create_transient, pool_destroy, pool_name,
    pool_of_vol, pool_refresh, pool_start, vol_info, vol_xml, VolInfo,
};
use crate::ffi::libvirt_storage::{vol_download, vol_upload};
use crate::ffi::libvirt_stream::{Received, StreamRef};
use crate::virt::error::{Result, VirtError};
use crate::virt::handles::{PoolRef, VolRef};
use crate::virt::host::pools::PoolState;
use crate::virt::job::{CancelToken, JobError, JobResult};
use crate::virt::xml_edits::escape;

/// The directory part of a path ("/" for a file at the root).
pub fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// The file name part of a path.
pub fn file_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Pools found or made for a job; the transient ones go at [`Pools::release`], and
/// the inactive ones started for it are stopped again.
#[derive(Default)]
pub struct Pools {
    transient: Vec<PoolRef>,
    started: Vec<PoolRef>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Pools {
    /// No pools yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The pool whose directory is `dir`: an existing one, else a transient one.
    pub fn for_dir(&mut self, conn: &Connect, dir: &str) -> Result<PoolRef> {
        self.for_dir_made(conn, dir, false)
    }

    /// Like [`Self::for_dir`], making the directory when `build` and it is missing (on
    /// a host that receives a VM's disks).
    pub fn for_dir_made(&mut self, conn: &Connect, dir: &str, build: bool) -> Result<PoolRef> {
        if let Ok(p) = pool_by_target_path(conn, dir) {
            return Ok(p);
        }
        // libvirt looks up only running pools by path.
        if let Some(name) = inactive_pool_on(conn, dir)? {
            let pool = pool_by_name(conn, &name)?;
            if build {
                pool_build(&pool)?;
            }
            pool_start(&pool)?;
            tracing::debug!(dir, pool = %name, "inactive pool started for a job");
            self.started.push(pool);
            return pool_by_name(conn, &name);
        }
        let name = format!(
            "vireo-job-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let xml = format!(
            "<pool type='dir'><name>{name}</name><target><path>{}</path></target></pool>",
            escape(dir)
        );
        self.transient
            .push(pool_create_transient(conn, &xml, build)?);
        tracing::debug!(dir, pool = %name, "transient pool for a job");
        // A reference of the caller's own; the list keeps the first for release().
        pool_by_target_path(conn, dir)
    }

    /// The volume of the file at `path` (through a transient pool when no pool covers
    /// its directory; a pool that does is refreshed when it does not know the file).
    pub fn volume(&mut self, conn: &Connect, path: &str) -> Result<VolRef> {
        if let Ok(v) = VolRef::lookup_path(conn, path) {
            return Ok(v);
        }
        let pool = self.for_dir(conn, dir_of(path))?;
        pool_refresh(&pool)?;
        VolRef::lookup_path(conn, path)
    }

    /// Destroys the transient pools (their files stay). Returns what could not be
    /// destroyed, as pool names.
    pub fn release(self) -> Vec<String> {
        let mut left = Vec::new();
        for p in self.transient.into_iter().chain(self.started) {
            if let Err(e) = pool_destroy(&p) {
                let name = pool_name(&p).unwrap_or_default();
                tracing::warn!(pool = %name, error = %e, "could not remove a transient pool");
                left.push(name);
            }
        }
        left
    }
}

/// The name of a defined pool that is not running and whose directory is `dir`.
fn inactive_pool_on(conn: &Connect, dir: &str) -> Result<Option<String>> {
    let same = |path: &str| path.trim_end_matches('/') == dir.trim_end_matches('/');
    Ok(crate::virt::host::pools::list(conn)?
        .into_iter()
        .find(|p| p.state == PoolState::Inactive && p.target_path.as_deref().is_some_and(same))
        .map(|p| p.name))
}

/// What the host says about a volume: its figures and its format.
pub fn describe(v: &VolRef) -> Result<(VolInfo, Option<String>)> {
    let info = vol_info(v)?;
    let xml = vol_xml(v)?;
    let doc = roxmltree::Document::parse(&xml).map_err(|e| VirtError::Xml(e.to_string()))?;
    let format = doc
        .descendants()
        .find(|n| n.has_tag_name("target"))
        .and_then(|t| t.children().find(|n| n.has_tag_name("format")))
        .and_then(|f| f.attribute("type"))
        .map(str::to_owned);
    Ok((info, format))
}

/// The name of the pool holding `v`.
pub fn pool_name_of(v: &VolRef) -> Result<String> {
    pool_name(&pool_of_vol(v)?)
}

/// XML of a new volume named `name` of `capacity` bytes in `format`, allocated as it
/// fills (so a copy's growing allocation shows its progress), optionally a thin
/// overlay on `backing` (a file in `backing_format`).
pub fn new_volume_xml(
    name: &str,
    capacity: u64,
    format: Option<&str>,
    backing: Option<(&str, &str)>,
) -> String {
    let format = format
        .map(|f| format!("<format type='{}'/>", escape(f)))
        .unwrap_or_default();
    let backing = backing
        .map(|(path, f)| {
            format!(
                "<backingStore><path>{}</path><format type='{}'/></backingStore>",
                escape(path),
                escape(f)
            )
        })
        .unwrap_or_default();
    format!(
        "<volume><name>{}</name><capacity unit='bytes'>{capacity}</capacity>\
         <allocation unit='bytes'>0</allocation><target>{format}</target>{backing}</volume>",
        escape(name)
    )
}

/// Copies the contents of `src` (a volume on `from`) into `dst` (a volume on `to`)
/// through this process, holes kept, with `progress` told the data bytes moved so
/// far. Cancel aborts both streams at the next chunk; `dst` is then half written and
/// the caller deletes it.
pub fn transfer(
    from: &Connect,
    src: &VolRef,
    to: &Connect,
    dst: &VolRef,
    progress: &mut dyn FnMut(u64),
    cancel: &CancelToken,
) -> JobResult<()> {
    let mut down = StreamRef::new(from)?;
    vol_download(src, &down, true)?;
    let mut up = StreamRef::new(to)?;
    vol_upload(dst, &up, true)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        if cancel.is_cancelled() {
            // Dropping both streams aborts them on both hosts.
            return Err(JobError::Cancelled);
        }
        match down.recv(&mut buf, true)? {
            Received::Data(n) => {
                up.send_all(&buf[..n])?;
                done += n as u64;
                progress(done);
            }
            Received::Hole(len) => up.send_hole(len)?,
            Received::End => break,
        }
    }
    down.finish()?;
    up.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split() {
        assert_eq!(dir_of("/a/b/c.qcow2"), "/a/b");
        assert_eq!(dir_of("/c"), "/");
        assert_eq!(file_of("/a/b/c.qcow2"), "c.qcow2");
    }

    #[test]
    fn new_volumes_start_empty() {
        assert_eq!(
            new_volume_xml("a&b.qcow2", 1024, Some("qcow2"), Some(("/i/o.img", "raw"))),
            "<volume><name>a&amp;b.qcow2</name><capacity unit='bytes'>1024</capacity>\
             <allocation unit='bytes'>0</allocation><target><format type='qcow2'/></target>\
             <backingStore><path>/i/o.img</path><format type='raw'/></backingStore></volume>"
        );
    }
}
