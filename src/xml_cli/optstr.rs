//! virt-xml's option strings: `--disk path=/a.img,bus=virtio,cache=none`.
//!
//! The string splits on commas, with shell-like quoting (`title="a, b"`, or a
//! backslash before a comma); each piece is `name=value` or a bare value. Leading bare
//! values fill the option's positional names in order (`--disk /a.img` is `path=`,
//! `--vcpus 4` is `vcpu=`). Options that may hold commas (`title`, `description`,
//! `cpuset`) take back the pieces after them that are not option names
//! (`title=a,b=c` is `a,b=c`). An empty value (`cache=`) unsets.

/// Why an option string cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptError(pub String);

/// One option string, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptString {
    /// `(name, value)` in order; `None` for a bare flag (`--boot uefi`).
    pub pairs: Vec<(String, Option<String>)>,
}

/// Splits on commas outside quotes; quotes and backslashes are removed as a POSIX
/// shell would (Python's `shlex` with `,` as the only separator, as virt-xml uses).
fn split(text: &str) -> Result<Vec<String>, OptError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut started = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ',' => {
                if started {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            '\\' => {
                started = true;
                match chars.next() {
                    Some(n) => cur.push(n),
                    None => return Err(OptError("the option string ends with a lone '\\'".into())),
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => {
                                return Err(OptError("unclosed '\"' in the option string".into()))
                            }
                        },
                        Some(n) => cur.push(n),
                        None => return Err(OptError("unclosed '\"' in the option string".into())),
                    }
                }
            }
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err(OptError("unclosed \"'\" in the option string".into())),
                    }
                }
            }
            c => {
                started = true;
                cur.push(c);
            }
        }
    }
    if started {
        out.push(cur);
    }
    Ok(out)
}

impl OptString {
    /// Reads `text`; `positional` names the leading bare values, `comma_names` the
    /// options whose values may hold commas, `known` every option name (what a
    /// comma value does not swallow).
    pub fn parse(
        text: &str,
        positional: &[&str],
        comma_names: &[&str],
        known: &[&str],
    ) -> Result<OptString, OptError> {
        let mut pieces: Vec<(String, Option<String>)> = split(text)?
            .into_iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (p, None),
            })
            .collect();
        for (i, name) in positional.iter().enumerate() {
            match pieces.get_mut(i) {
                Some(p) if p.1.is_none() => {
                    *p = ((*name).to_owned(), Some(std::mem::take(&mut p.0)))
                }
                _ => break,
            }
        }
        let mut pairs: Vec<(String, Option<String>)> = Vec::new();
        let mut in_comma_value = false;
        for (name, value) in pieces {
            if in_comma_value && !known.contains(&name.as_str()) {
                let last = pairs
                    .last_mut()
                    .and_then(|(_, v)| v.as_mut())
                    .expect("a value");
                last.push(',');
                last.push_str(&name);
                if let Some(v) = value {
                    last.push('=');
                    last.push_str(&v);
                }
                continue;
            }
            in_comma_value = value.is_some() && comma_names.contains(&name.as_str());
            pairs.push((name, value));
        }
        Ok(OptString { pairs })
    }

    /// Takes the first of `names` that is present: `Some(Some(value))`, `Some(None)`
    /// for an empty value (unset), `None` when absent. Every occurrence of the names
    /// is consumed; the last one wins, as in virt-xml.
    pub fn take(&mut self, names: &[&str]) -> Option<Option<String>> {
        let mut found = None;
        self.pairs.retain(|(n, v)| {
            if names.contains(&n.as_str()) {
                found = Some(v.clone().filter(|v| !v.is_empty()));
                false
            } else {
                true
            }
        });
        found
    }

    /// Takes a bare flag (`uefi`, `hd`) or a flag with a value.
    pub fn take_flag(&mut self, name: &str) -> bool {
        self.take(&[name]).is_some()
    }

    /// The names left over (unknown options).
    pub fn leftover(&self) -> Vec<String> {
        self.pairs.iter().map(|(n, _)| n.clone()).collect()
    }

    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// virt-xml's on/off values.
pub fn on_off(name: &str, value: Option<&str>) -> Result<bool, OptError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("on" | "yes" | "true" | "1" | "y") => Ok(true),
        Some("off" | "no" | "false" | "0" | "n") => Ok(false),
        Some(other) => Err(OptError(format!("{name}: '{other}' is not on or off"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str, positional: &[&str], comma: &[&str]) -> Vec<(String, Option<String>)> {
        let known = [
            "path",
            "bus",
            "cache",
            "title",
            "description",
            "name",
            "menu",
        ];
        OptString::parse(text, positional, comma, &known)
            .unwrap()
            .pairs
    }

    fn p(n: &str, v: Option<&str>) -> (String, Option<String>) {
        (n.to_owned(), v.map(str::to_owned))
    }

    #[test]
    fn splits_like_virt_xml() {
        assert_eq!(
            pairs("/a.img,bus=virtio,cache=", &["path"], &[]),
            vec![
                p("path", Some("/a.img")),
                p("bus", Some("virtio")),
                p("cache", Some(""))
            ]
        );
        assert_eq!(
            pairs("title=\"a, b\",description='x,y'", &[], &[]),
            vec![p("title", Some("a, b")), p("description", Some("x,y"))]
        );
        // virt-xml's own test: the unknown `funky=` piece belongs to the title.
        assert_eq!(
            pairs("title=This is my,funky=new title", &[], &["title"]),
            vec![p("title", Some("This is my,funky=new title"))]
        );
        assert_eq!(
            pairs("title=a,b,c,name=x", &[], &["title"]),
            vec![p("title", Some("a,b,c")), p("name", Some("x"))]
        );
        assert_eq!(
            pairs("network,cdrom,menu=on", &[], &[]),
            vec![p("network", None), p("cdrom", None), p("menu", Some("on"))]
        );
        assert_eq!(pairs("a\\,b", &["path"], &[]), vec![p("path", Some("a,b"))]);
        assert!(OptString::parse("title=\"open", &[], &[], &[]).is_err());
    }

    #[test]
    fn take_consumes_aliases() {
        let mut o =
            OptString::parse("cache=none,driver.cache=writeback,x=1", &[], &[], &[]).unwrap();
        assert_eq!(
            o.take(&["cache", "driver.cache"]),
            Some(Some("writeback".into()))
        );
        assert_eq!(o.leftover(), vec!["x".to_owned()]);
        assert_eq!(o.take(&["cache"]), None);
        let mut e = OptString::parse("cache=", &[], &[], &[]).unwrap();
        assert_eq!(e.take(&["cache"]), Some(None));
    }
}
