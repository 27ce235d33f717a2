//! The errors of the document layer.

use super::devices::DeviceKind;

/// What can go wrong reading or editing a domain document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainXmlError {
    /// The text is empty or only white space.
    #[error("the document is empty")]
    Empty,
    /// The text is not well-formed XML (or uses a DTD, which libvirt never writes).
    #[error("the XML is not well formed: {message} (line {line}, column {column})")]
    Malformed {
        /// 1-based line of the problem.
        line: u32,
        /// 1-based column of the problem.
        column: u32,
        /// The parser's description.
        message: String,
    },
    /// The root element is not `<domain>`.
    #[error("the root element is <{0}>, not <domain>")]
    NotADomain(String),
    /// An element handle refers to an element that an edit removed or replaced.
    #[error("the element was removed by an earlier edit")]
    StaleElement,
    /// The text of an element that has child elements cannot be set.
    #[error("<{0}> has child elements, so its text cannot be set")]
    HasChildren(String),
    /// A fragment to insert is not exactly one well-formed element.
    #[error("not a single XML element: {0}")]
    BadFragment(String),
    /// No device of this kind matches the key or selector.
    #[error("no {kind} device matches {what}")]
    DeviceNotFound {
        /// The kind of device looked for.
        kind: DeviceKind,
        /// What was looked for, as the user wrote it or as the key describes it.
        what: String,
    },
    /// Several devices match a key that must designate one.
    #[error("{count} {kind} devices match {what}")]
    AmbiguousDevice {
        /// The kind of device looked for.
        kind: DeviceKind,
        /// The key or selector.
        what: String,
        /// How many matched.
        count: usize,
    },
    /// A value given for a field is not valid for it.
    #[error("invalid {field} '{value}': {reason}")]
    InvalidValue {
        /// The field (as the XML or the command line names it).
        field: String,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// The document lacks an element that the edit needs and cannot create.
    #[error("the document has no <{0}>")]
    Missing(String),
}

impl DomainXmlError {
    /// Shorthand for [`DomainXmlError::InvalidValue`].
    pub fn invalid(field: &str, value: &str, reason: impl Into<String>) -> Self {
        DomainXmlError::InvalidValue {
            field: field.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Result of the document layer.
pub type Result<T> = std::result::Result<T, DomainXmlError>;
