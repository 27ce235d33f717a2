//! The document layer (placeholder docs; filled in below).

mod diff;
mod document;
mod edit;
mod error;
mod escape;
mod fields;
mod fragment;
mod order;
mod units;

pub mod devices;

pub use diff::unified as unified_diff;
pub use document::{NodeId, XmlDoc};
pub use error::{DomainXmlError, Result};
pub use fragment::NewElement;
pub use units::{parse_size_kib, unit_bytes, MemorySize};
