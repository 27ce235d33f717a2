//! The AT-SPI side of the real binary's driver: the helper process
//! (`atspi.py` beside this file, Debian's python3 with `gir1.2-atspi-2.0`) and the
//! elements of the accessible tree it reports.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

use crate::kit::testbed::repo;

/// Debian's python, the one with `gi` (not a virtualenv's or pyenv's).
pub const PYTHON: &str = "/usr/bin/python3";

/// An element of the app's accessible tree, as it was when found.
#[derive(Debug, Clone)]
pub struct Element {
    pub(super) id: u64,
    /// AT-SPI's role name ("push button", "label"...).
    pub role: String,
    /// The accessible name (a label's text, a button's label or accessible label).
    pub name: String,
    pub description: String,
    /// AT-SPI state names ("sensitive", "focused", "checked", "selected"...).
    pub states: Vec<String>,
    /// The names of its actions ("click", "activate", "toggle"...).
    pub actions: Vec<String>,
    /// x, y, width, height in its window's coordinates, if it has a place.
    pub extents: Option<[i32; 4]>,
    /// Which of the app's windows holds it (its index among them).
    pub toplevel: i64,
}

impl Element {
    pub fn from_json(v: &Value) -> Element {
        let strings = |key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let extents = v["extents"].as_array().and_then(|a| {
            let n: Vec<i32> = a
                .iter()
                .filter_map(|x| x.as_i64().map(|x| x as i32))
                .collect();
            (n.len() == 4).then(|| [n[0], n[1], n[2], n[3]])
        });
        Element {
            id: v["id"].as_u64().unwrap_or_default(),
            role: v["role"].as_str().unwrap_or_default().to_owned(),
            name: v["name"].as_str().unwrap_or_default().to_owned(),
            description: v["description"].as_str().unwrap_or_default().to_owned(),
            states: strings("states"),
            actions: strings("actions"),
            extents,
            toplevel: v["toplevel"].as_i64().unwrap_or(-1),
        }
    }

    /// True when it has the AT-SPI state `state`.
    pub fn is(&self, state: &str) -> bool {
        self.states.iter().any(|s| s == state)
    }

    /// True when it takes a place on screen (GTK 4.8 never says "showing").
    pub fn on_screen(&self) -> bool {
        self.extents.is_some_and(|[_, _, w, h]| w > 0 && h > 0)
    }
}

/// The AT-SPI helper process.
pub struct Helper {
    pub child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Helper {
    pub fn start(env: &[(&str, String)]) -> Helper {
        let mut child = Command::new(PYTHON)
            .arg(repo().join("tests/kit/binary/atspi.py"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the AT-SPI helper (/usr/bin/python3 tests/kit/binary/atspi.py)");
        let stdin = child.stdin.take().expect("helper stdin");
        let stdout = BufReader::new(child.stdout.take().expect("helper stdout"));
        Helper {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends one request; the helper's answer or its error text.
    pub fn ask(&mut self, request: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{request}").map_err(|e| format!("AT-SPI helper gone: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("AT-SPI helper: {e}"))?;
        if line.is_empty() {
            return Err("the AT-SPI helper ended".into());
        }
        let reply: Value =
            serde_json::from_str(&line).map_err(|e| format!("AT-SPI helper said {line:?}: {e}"))?;
        match reply.get("error") {
            Some(e) => Err(e.as_str().unwrap_or_default().to_owned()),
            None => Ok(reply["ok"].clone()),
        }
    }
}
