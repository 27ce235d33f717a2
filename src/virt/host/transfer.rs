//! Copying a file into a storage volume and a volume into a file through libvirt's
//! stream (works for remote hosts too), in chunks, with progress and cancel.
//!
//! Both block for as long as the copy takes: run them on a thread of their own, never
//! on the GTK main thread and not on the connection's worker (a gigabyte would hold up
//! every other request of the host). The stream rides the same connection as every
//! other call; libvirt's client serialises the traffic.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use virt::connect::Connect;
use virt::stream::Stream;

use super::call;
use super::pools::lookup;
use crate::virt::error::VirtError;

/// Bytes per stream message: libvirt's largest stream payload (256 KiB), as virsh uses.
pub const CHUNK: usize = 256 * 1024;

/// Why a transfer stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// libvirt refused or the connection failed; libvirt's text.
    #[error(transparent)]
    Virt(#[from] VirtError),
    /// The local file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Cancelled by the person (or the transfer's owner went away).
    #[error("cancelled")]
    Cancelled,
}

/// Progress: bytes done, bytes in all (0 when unknown).
pub type ProgressFn<'a> = &'a mut dyn FnMut(u64, u64);

fn new_stream(conn: &Connect) -> Result<Stream, VirtError> {
    call("virStreamNew", Stream::new(conn, 0))
}

fn abort(stream: Stream) {
    if let Err(e) = stream.abort() {
        tracing::debug!(error = %e.message(), "stream abort");
    }
}

/// Writes the whole of `data` to the stream (a send may take only part of it).
fn send_all(stream: &Stream, mut data: &[u8]) -> Result<(), VirtError> {
    while !data.is_empty() {
        let n = call("virStreamSend", stream.send(data))?;
        if n <= 0 {
            // Only non-blocking streams answer "try again"; ours blocks.
            return Err(VirtError::InvalidArgument("stream refused data".into()));
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// Copies the local file `file` over the start of the volume `volume` of `pool`,
/// reporting progress after each chunk; the volume's old bytes up to the file's
/// length are replaced. `cancel` stops it between two chunks (the volume then holds
/// part of the file). Returns the bytes sent.
pub fn upload(
    conn: &Connect,
    pool: &str,
    volume: &str,
    file: &Path,
    cancel: &AtomicBool,
    progress: ProgressFn,
) -> Result<u64, TransferError> {
    let mut f = File::open(file)?;
    let total = f.metadata()?.len();
    let p = lookup(conn, pool)?;
    let vol = call(
        "virStorageVolLookupByName",
        p.lookup_storage_vol_by_name(volume),
    )?;
    let stream = new_stream(conn)?;
    call("virStorageVolUpload", vol.upload(&stream, 0, total, 0))?;
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    progress(0, total);
    loop {
        if cancel.load(Ordering::Relaxed) {
            abort(stream);
            return Err(TransferError::Cancelled);
        }
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                abort(stream);
                return Err(e.into());
            }
        };
        if let Err(e) = send_all(&stream, &buf[..n]) {
            abort(stream);
            return Err(e.into());
        }
        done += n as u64;
        progress(done, total);
    }
    call("virStreamFinish", stream.finish())?;
    Ok(done)
}

/// The file a download writes to until it is complete.
pub fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    file.with_file_name(name)
}

/// Copies the volume `volume` of `pool` into the local file `file`, reporting
/// progress after each chunk. The bytes go to `<file>.part` first, which replaces
/// `file` only once complete: a failed or cancelled download leaves `file` as it was.
/// Returns the bytes received.
pub fn download(
    conn: &Connect,
    pool: &str,
    volume: &str,
    file: &Path,
    cancel: &AtomicBool,
    progress: ProgressFn,
) -> Result<u64, TransferError> {
    let p = lookup(conn, pool)?;
    let vol = call(
        "virStorageVolLookupByName",
        p.lookup_storage_vol_by_name(volume),
    )?;
    // The bytes on the host: for a qcow2 file its length, not the guest's size.
    let total = vol
        .info_flags(virt::sys::VIR_STORAGE_VOL_GET_PHYSICAL)
        .or_else(|_| vol.info())
        .map(|i| i.allocation)
        .unwrap_or(0);
    let part = partial_path(file);
    let received = (|| -> Result<u64, TransferError> {
        let mut out = File::create(&part)?;
        let stream = new_stream(conn)?;
        call("virStorageVolDownload", vol.download(&stream, 0, 0, 0))?;
        let mut buf = vec![0u8; CHUNK];
        let mut done = 0u64;
        progress(0, total);
        loop {
            if cancel.load(Ordering::Relaxed) {
                abort(stream);
                return Err(TransferError::Cancelled);
            }
            let n = match call("virStreamRecv", stream.recv(&mut buf)) {
                Ok(0) => break,
                Ok(n) if n > 0 => n as usize,
                Ok(_) => continue,
                Err(e) => {
                    abort(stream);
                    return Err(e.into());
                }
            };
            if let Err(e) = out.write_all(&buf[..n]) {
                abort(stream);
                return Err(e.into());
            }
            done += n as u64;
            progress(done, total.max(done));
        }
        call("virStreamFinish", stream.finish())?;
        out.flush()?;
        Ok(done)
    })();
    match received {
        Ok(n) => {
            std::fs::rename(&part, file)?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_sits_beside_the_target() {
        assert_eq!(
            partial_path(Path::new("/tmp/disk.img")),
            PathBuf::from("/tmp/disk.img.part")
        );
    }
}
