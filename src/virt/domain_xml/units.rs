//! Memory sizes as libvirt writes them: a number and an optional `unit` attribute.
//!
//! libvirt's formatdomain: the unit defaults to KiB; "b"/"bytes" are bytes, "KB",
//! "MB", "GB", "TB" are powers of 1000, "k"/"KiB", "M"/"MiB", "G"/"GiB", "T"/"TiB" are
//! powers of 1024 (libvirt also takes P/PiB/PB and E/EiB/EB, and matches case
//! insensitively); values are rounded up to the next KiB.

use super::error::{DomainXmlError, Result};

/// A memory size as written: the number and the unit it was written in, so that a
/// value read and written back is the same text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemorySize {
    /// The number as libvirt reads it.
    pub amount: u64,
    /// The unit attribute as written; `None` when absent (KiB).
    pub unit: Option<String>,
}

impl MemorySize {
    /// A size in KiB, with `unit='KiB'` written out as libvirt writes it.
    pub fn kib(kib: u64) -> Self {
        MemorySize {
            amount: kib,
            unit: Some("KiB".to_owned()),
        }
    }

    /// A size in MiB, written as KiB (libvirt's own output unit).
    pub fn mib(mib: u64) -> Self {
        Self::kib(mib.saturating_mul(1024))
    }

    /// The size in KiB, rounded up as libvirt does; `None` for an unknown unit or an
    /// overflow.
    pub fn to_kib(&self) -> Option<u64> {
        let bytes_per = unit_bytes(self.unit.as_deref().unwrap_or("KiB"))?;
        let bytes = (self.amount as u128).checked_mul(bytes_per as u128)?;
        u64::try_from(bytes.div_ceil(1024)).ok()
    }

    /// This size in the unit `unit`, when it is a whole number there.
    pub fn in_unit(kib: u64, unit: &str) -> Option<MemorySize> {
        let per = unit_bytes(unit)? as u128;
        let bytes = kib as u128 * 1024;
        if bytes % per != 0 {
            return None;
        }
        Some(MemorySize {
            amount: u64::try_from(bytes / per).ok()?,
            unit: Some(unit.to_owned()),
        })
    }
}

/// Bytes in one `unit`, or `None` when libvirt would refuse the unit.
pub fn unit_bytes(unit: &str) -> Option<u64> {
    let u = unit.to_ascii_lowercase();
    if matches!(u.as_str(), "b" | "byte" | "bytes") {
        return Some(1);
    }
    let mut chars = u.chars();
    let power = match chars.next()? {
        'k' => 1,
        'm' => 2,
        'g' => 3,
        't' => 4,
        'p' => 5,
        'e' => 6,
        _ => return None,
    };
    let base: u64 = match chars.as_str() {
        "" | "ib" => 1024,
        "b" => 1000,
        _ => return None,
    };
    base.checked_pow(power)
}

/// Parses a size the way a person types it on a command line or in a field: a number
/// with an optional unit suffix (`"2048"`, `"2 GiB"`, `"512M"`, `"1.5G"`), with
/// `default_unit` when there is none. Returns KiB, rounded up.
pub fn parse_size_kib(text: &str, default_unit: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let unit = if unit.is_empty() { default_unit } else { unit };
    let bad = |why: &str| DomainXmlError::invalid("size", text, why);
    let per = unit_bytes(unit).ok_or_else(|| bad("unknown unit"))? as f64;
    let value: f64 = number.parse().map_err(|_| bad("not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(bad("not a size"));
    }
    let kib = (value * per / 1024.0).ceil();
    if kib > u64::MAX as f64 {
        return Err(bad("too large"));
    }
    Ok(kib as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_units() {
        assert_eq!(unit_bytes("KiB"), Some(1024));
        assert_eq!(unit_bytes("k"), Some(1024));
        assert_eq!(unit_bytes("KB"), Some(1000));
        assert_eq!(unit_bytes("M"), Some(1 << 20));
        assert_eq!(unit_bytes("GB"), Some(1_000_000_000));
        assert_eq!(unit_bytes("TiB"), Some(1 << 40));
        assert_eq!(unit_bytes("bytes"), Some(1));
        assert_eq!(unit_bytes("qb"), None);
        assert_eq!(unit_bytes("Mx"), None);
    }

    #[test]
    fn to_kib_rounds_up_like_libvirt() {
        let size = |amount, unit: &str| MemorySize {
            amount,
            unit: Some(unit.into()),
        };
        assert_eq!(size(4, "GiB").to_kib(), Some(4 * 1024 * 1024));
        assert_eq!(size(1000, "b").to_kib(), Some(1));
        assert_eq!(size(1, "MB").to_kib(), Some(977));
        let none = MemorySize {
            amount: 2048,
            unit: None,
        };
        assert_eq!(none.to_kib(), Some(2048));
        assert_eq!(size(u64::MAX, "EiB").to_kib(), None);
    }

    #[test]
    fn whole_numbers_in_other_units() {
        assert_eq!(
            MemorySize::in_unit(2 * 1024 * 1024, "GiB"),
            Some(MemorySize {
                amount: 2,
                unit: Some("GiB".into())
            })
        );
        assert_eq!(MemorySize::in_unit(1536 * 1024, "GiB"), None);
    }

    #[test]
    fn sizes_typed_by_people() {
        assert_eq!(parse_size_kib("2048", "MiB").unwrap(), 2048 * 1024);
        assert_eq!(parse_size_kib("2 GiB", "MiB").unwrap(), 2 * 1024 * 1024);
        assert_eq!(parse_size_kib("1.5G", "MiB").unwrap(), 1536 * 1024);
        assert!(parse_size_kib("lots", "MiB").is_err());
        assert!(parse_size_kib("12 parsecs", "MiB").is_err());
    }
}
