//! Escaping of the values Vireo writes into a document.
//!
//! Attribute values escape the quote they sit in, `&` and `<`, and the white space that
//! an XML parser would otherwise normalise to a plain space (tab, newline, carriage
//! return), so that what libvirt reads back is exactly the value that was set. Text
//! escapes `&`, `<` and `>` (the last so that `]]>` can never appear), and carriage
//! returns, which a parser would otherwise fold into the line end before them.

use std::borrow::Cow;

/// `value` escaped for an attribute delimited by `quote` (`b'\''` or `b'"'`).
pub fn escape_attr(value: &str, quote: u8) -> Cow<'_, str> {
    let needs = |c: char| {
        matches!(c, '&' | '<' | '\t' | '\n' | '\r')
            || (c == '\'' && quote == b'\'')
            || (c == '"' && quote == b'"')
    };
    if !value.chars().any(needs) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\'' if quote == b'\'' => out.push_str("&apos;"),
            '"' if quote == b'"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `value` escaped as element text.
pub fn escape_text(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '<', '>', '\r']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_attr(escaped: &str, quote: char) -> String {
        let doc = format!("<a v={quote}{escaped}{quote}/>");
        let parsed = roxmltree::Document::parse(&doc).expect("well formed");
        parsed.root_element().attribute("v").unwrap().to_owned()
    }

    #[test]
    fn attribute_values_survive_a_parser() {
        for value in [
            "plain",
            "it's",
            "say \"hi\"",
            "a&b<c>d",
            "tab\there",
            "two\nlines\r\n",
            "&apos; literally",
        ] {
            for quote in ['\'', '"'] {
                let escaped = escape_attr(value, quote as u8);
                assert_eq!(parse_attr(&escaped, quote), value, "{value:?} in {quote}");
            }
        }
    }

    #[test]
    fn text_survives_a_parser() {
        for value in ["plain", "a & b < c > d", "]]>", "line\r\nend", "ünïcødé"] {
            let doc = format!("<a>{}</a>", escape_text(value));
            let parsed = roxmltree::Document::parse(&doc).expect("well formed");
            assert_eq!(parsed.root_element().text().unwrap_or(""), value);
        }
    }

    #[test]
    fn unchanged_values_are_borrowed() {
        assert!(matches!(escape_attr("vda", b'\''), Cow::Borrowed(_)));
        assert!(matches!(escape_text("4194304"), Cow::Borrowed(_)));
    }
}
