//! Translation checks: every file with user-facing strings is listed in
//! po/POTFILES.in, and every language of po/LINGUAS translates every string.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (context, msgid) of one translatable string.
type Key = (Option<String>, String);

const RUST_KEYWORDS: [&str; 4] = ["gettext(", "gettext_f(", "ngettext(", "ngettext_f("];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// Reads a Rust string literal starting at `text[0] == '"'`; returns it and its length.
fn rust_string(text: &str) -> Option<(String, usize)> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                '\n' => {
                    // A line continuation skips the next line's leading white space.
                    let rest = &text[i + 2..];
                    let skip = rest.len() - rest.trim_start().len();
                    for _ in 0..rest[..skip].chars().count() {
                        chars.next();
                    }
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

fn rust_strings(source: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    for keyword in RUST_KEYWORDS {
        let plural = keyword.starts_with('n');
        let mut from = 0;
        while let Some(found) = source[from..].find(keyword) {
            let at = from + found;
            from = at + keyword.len();
            // `ngettext(` also contains `gettext(`: only count whole names.
            let before = source[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = source[from..].trim_start();
            let Some((singular, len)) = rust_string(rest) else {
                continue;
            };
            keys.push((None, singular));
            if plural {
                let after = rest[len..]
                    .trim_start()
                    .trim_start_matches(',')
                    .trim_start();
                if let Some((plural, _)) = rust_string(after) {
                    keys.push((None, plural));
                }
            }
        }
    }
    keys
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(xml_unescape(&tag[start..end]))
}

fn ui_strings(source: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut from = 0;
    while let Some(found) = source[from..].find("translatable=\"yes\"") {
        let at = from + found;
        from = at + 1;
        let tag_start = source[..at].rfind('<').expect("inside a tag");
        let tag_end = at + source[at..].find('>').expect("tag closes");
        let tag = &source[tag_start..tag_end];
        let text_end = tag_end + 1 + source[tag_end + 1..].find("</").expect("element closes");
        let text = xml_unescape(&source[tag_end + 1..text_end]);
        keys.push((attribute(tag, "context"), text));
    }
    keys
}

fn potfiles() -> Vec<String> {
    std::fs::read_to_string(root().join("po/POTFILES.in"))
        .expect("po/POTFILES.in")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Every (file, strings) pair among the sources and templates.
fn translatable_files() -> Vec<(String, Vec<Key>)> {
    let mut files = Vec::new();
    files_under(&root().join("src"), "rs", &mut files);
    let mut ui = Vec::new();
    files_under(&root().join("data/resources"), "ui", &mut ui);
    let mut out = Vec::new();
    for path in files.into_iter().chain(ui) {
        let source = std::fs::read_to_string(&path).unwrap();
        let keys = if path.extension().is_some_and(|e| e == "ui") {
            ui_strings(&source)
        } else {
            rust_strings(&source)
        };
        let relative = path
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.push((relative, keys));
    }
    out
}

#[test]
fn every_file_with_strings_is_in_potfiles() {
    let listed = potfiles();
    let missing: Vec<String> = translatable_files()
        .into_iter()
        .filter(|(path, keys)| !keys.is_empty() && !listed.contains(path))
        .map(|(path, _)| path)
        .collect();
    assert!(
        missing.is_empty(),
        "add these to po/POTFILES.in: {missing:#?}"
    );
    for path in listed {
        assert!(
            root().join(&path).exists(),
            "po/POTFILES.in lists {path}, which does not exist"
        );
    }
}

/// Parses the translated entries of a .po file: (context, msgid) -> first msgstr,
/// leaving out fuzzy and untranslated entries.
fn po_translations(text: &str) -> BTreeSet<Key> {
    #[derive(Default)]
    struct Entry {
        fuzzy: bool,
        context: Option<String>,
        id: String,
        plural: Option<String>,
        strs: Vec<String>,
    }
    fn finish(entry: Entry, out: &mut BTreeSet<Key>) {
        if !entry.fuzzy
            && !entry.id.is_empty()
            && entry.strs.iter().all(|s| !s.is_empty())
            && !entry.strs.is_empty()
        {
            // The scanner counts an ngettext plural as a string of its own.
            if let Some(plural) = entry.plural {
                out.insert((entry.context.clone(), plural));
            }
            out.insert((entry.context, entry.id));
        }
    }
    fn quoted(line: &str) -> String {
        let inner = line.trim();
        let inner = &inner[1..inner.len() - 1];
        inner
            .replace("\\n", "\n")
            .replace("\\\"", "\"")
            .replace("\\\\", "\\")
    }
    let mut out = BTreeSet::new();
    let mut entry = Entry::default();
    // Which field a continuation line appends to.
    let mut field: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            finish(std::mem::take(&mut entry), &mut out);
            field = None;
        } else if line.starts_with("#,") {
            entry.fuzzy |= line.contains("fuzzy");
        } else if line.starts_with('#') {
            continue;
        } else if let Some(rest) = line.strip_prefix("msgctxt ") {
            if !entry.id.is_empty() || !entry.strs.is_empty() {
                finish(std::mem::take(&mut entry), &mut out);
            }
            entry.context = Some(quoted(rest));
            field = Some("ctxt");
        } else if let Some(rest) = line.strip_prefix("msgid_plural ") {
            entry.plural = Some(quoted(rest));
            field = Some("plural");
        } else if let Some(rest) = line.strip_prefix("msgid ") {
            if !entry.id.is_empty() || !entry.strs.is_empty() {
                finish(std::mem::take(&mut entry), &mut out);
            }
            entry.id = quoted(rest);
            field = Some("id");
        } else if line.starts_with("msgstr") {
            let rest = &line[line.find(' ').expect("msgstr has a value") + 1..];
            entry.strs.push(quoted(rest));
            field = Some("str");
        } else if line.starts_with('"') {
            let value = quoted(line);
            match field {
                Some("ctxt") => entry
                    .context
                    .get_or_insert_with(String::new)
                    .push_str(&value),
                Some("id") => entry.id.push_str(&value),
                Some("plural") => entry
                    .plural
                    .get_or_insert_with(String::new)
                    .push_str(&value),
                Some("str") => entry
                    .strs
                    .last_mut()
                    .expect("after msgstr")
                    .push_str(&value),
                _ => {}
            }
        }
    }
    finish(entry, &mut out);
    out
}

#[test]
fn every_language_translates_every_string() {
    let mut wanted = BTreeSet::new();
    for (_, keys) in translatable_files() {
        wanted.extend(keys);
    }
    assert!(
        wanted.len() > 20,
        "the scanner found only {} strings",
        wanted.len()
    );
    let linguas = std::fs::read_to_string(root().join("po/LINGUAS")).expect("po/LINGUAS");
    for lang in linguas
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let po = std::fs::read_to_string(root().join(format!("po/{lang}.po"))).expect("po file");
        let translated = po_translations(&po);
        let missing: Vec<&Key> = wanted.iter().filter(|k| !translated.contains(*k)).collect();
        assert!(
            missing.is_empty(),
            "{lang}.po lacks {} translations: {missing:#?}",
            missing.len()
        );
    }
}

#[test]
fn the_scanners_read_what_they_should() {
    let rust = "let a = gettext(\"One\");\nngettext_f(\n  \"{n} VM\",\n  \"{n} VMs\", n, &[]);\nfn gettext_f(msgid: &str) {}\nlet b = gettext(\"Say \\\"hi\\\"\");";
    let keys: Vec<String> = rust_strings(rust).into_iter().map(|k| k.1).collect();
    assert_eq!(keys, ["One", "Say \"hi\"", "{n} VM", "{n} VMs"]);
    let ui = r#"<property name="title" translatable="yes" context="shortcut window">Quit &amp; Go</property>"#;
    assert_eq!(
        ui_strings(ui),
        [(Some("shortcut window".into()), "Quit & Go".into())]
    );
    let po = "msgid \"{n} VM\"\nmsgid_plural \"{n} VMs\"\nmsgstr[0] \"x\"\nmsgstr[1] \"y\"\n\nmsgctxt \"c\"\nmsgid \"A\"\nmsgstr \"B\"\n\n#, fuzzy\nmsgid \"C\"\nmsgstr \"D\"\n\nmsgid \"E\"\nmsgstr \"\"\n";
    let translated = po_translations(po);
    assert!(translated.contains(&(Some("c".into()), "A".into())));
    assert!(
        translated.contains(&(None, "{n} VMs".into())),
        "plurals count too"
    );
    assert!(!translated.contains(&(None, "C".into())));
    assert!(!translated.contains(&(None, "E".into())));
}
