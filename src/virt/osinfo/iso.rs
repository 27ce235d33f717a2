//! Reads the identity of an ISO 9660 image from its primary volume descriptor
//! (sector 16): volume, system, publisher and application ids and the volume size.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const SECTOR: u64 = 2048;

/// The identifying fields of an ISO image, trailing blanks removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IsoInfo {
    /// Volume identifier (32 bytes).
    pub volume_id: String,
    /// System identifier (32 bytes).
    pub system_id: String,
    /// Publisher identifier (128 bytes).
    pub publisher_id: String,
    /// Data preparer / application identifier (128 bytes).
    pub application_id: String,
    /// Volume space size times logical block size, in bytes.
    pub volume_size: u64,
}

fn field(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches([' ', '\0'])
        .to_owned()
}

/// Parses a 2048-byte primary volume descriptor.
pub fn parse_pvd(pvd: &[u8]) -> std::io::Result<IsoInfo> {
    if pvd.len() < 2048 || pvd[0] != 1 || &pvd[1..6] != b"CD001" {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not an ISO 9660 image (no primary volume descriptor)",
        ));
    }
    let le32 = |o: usize| u32::from_le_bytes([pvd[o], pvd[o + 1], pvd[o + 2], pvd[o + 3]]);
    let block = u16::from_le_bytes([pvd[128], pvd[129]]) as u64;
    Ok(IsoInfo {
        system_id: field(&pvd[8..40]),
        volume_id: field(&pvd[40..72]),
        publisher_id: field(&pvd[318..446]),
        application_id: field(&pvd[574..702]),
        volume_size: le32(80) as u64 * block,
    })
}

/// Reads the primary volume descriptor of an ISO file (or a device).
pub fn read_iso_info(path: &Path) -> std::io::Result<IsoInfo> {
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(16 * SECTOR))?;
    let mut buf = vec![0u8; SECTOR as usize];
    f.read_exact(&mut buf)?;
    parse_pvd(&buf)
}
