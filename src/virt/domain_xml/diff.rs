//! A unified diff of two texts, line by line: what `--print-diff` prints and what the
//! XML page shows before it applies a change.
//!
//! Edits of a document touch few lines, so the common head and tail are cut first and
//! only the middle is compared (longest common subsequence); a middle too large for
//! that is shown as one replaced block.

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// The largest middle part (in lines, old × new) compared line by line.
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Del,
    Add,
}

/// The unified diff of `old` and `new` with `CONTEXT` lines of context, headed by
/// `--- old_name` and `+++ new_name`; empty when the texts are equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let script = edit_script(&a, &b);
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Walk the script, cutting it into hunks separated by more than 2*CONTEXT equal lines.
    let mut i = 0;
    while i < script.len() {
        let Some(first) = script[i..].iter().position(|(op, _, _)| *op != Op::Same) else {
            break;
        };
        let change = i + first;
        let start = change.saturating_sub(CONTEXT).max(i);
        let mut end = change;
        let mut same_run = 0;
        let mut j = change;
        while j < script.len() {
            if script[j].0 == Op::Same {
                same_run += 1;
                if same_run > 2 * CONTEXT {
                    break;
                }
            } else {
                same_run = 0;
                end = j;
            }
            j += 1;
        }
        let stop = (end + 1 + CONTEXT).min(script.len());
        write_hunk(&mut out, &script[start..stop], &a, &b);
        i = stop;
    }
    out
}

/// The edit script: (op, index in a, index in b) for every line.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<(Op, usize, usize)> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    // The common tail is compared too when that is affordable: matching lines from the
    // front places an added block after the lines it repeats (a new device after the
    // last one like it), where cutting the tail first would show it shifted.
    let rest = (a.len() - head).saturating_mul(b.len() - head);
    let tail = if rest <= MAX_CELLS {
        0
    } else {
        a[head..]
            .iter()
            .rev()
            .zip(b[head..].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
    };
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut script: Vec<(Op, usize, usize)> = (0..head).map(|i| (Op::Same, i, i)).collect();
    if ma.len().saturating_mul(mb.len()) > MAX_CELLS {
        script.extend((0..ma.len()).map(|i| (Op::Del, head + i, head)));
        script.extend((0..mb.len()).map(|j| (Op::Add, head + ma.len(), head + j)));
    } else {
        // lcs[i][j]: length of the longest common subsequence of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                script.push((Op::Same, head + i, head + j));
                i += 1;
                j += 1;
            } else if j < mb.len() && (i == ma.len() || lcs[i * w + j + 1] > lcs[(i + 1) * w + j]) {
                script.push((Op::Add, head + i, head + j));
                j += 1;
            } else {
                script.push((Op::Del, head + i, head + j));
                i += 1;
            }
        }
    }
    let (sa, sb) = (a.len() - tail, b.len() - tail);
    script.extend((0..tail).map(|k| (Op::Same, sa + k, sb + k)));
    join_changes(&mut script, a, b);
    // Deletions before additions within a changed block, as diff(1) prints them.
    let mut k = 0;
    while k < script.len() {
        if script[k].0 == Op::Same {
            k += 1;
            continue;
        }
        let end = script[k..]
            .iter()
            .position(|s| s.0 == Op::Same)
            .map_or(script.len(), |p| k + p);
        script[k..end].sort_by_key(|s| s.0 != Op::Del);
        k = end;
    }
    script
}

/// Among equally short scripts, prefers the one that keeps a change in one block: a
/// block of only additions (or only deletions) separated from the change before it by
/// lines equal to its own slides up over them to join it (`-x +y y` rather than
/// `-x y +y` when `y` is repeated), as diff(1) does.
fn join_changes(script: &mut [(Op, usize, usize)], a: &[&str], b: &[&str]) {
    // The line an entry shows on the side its block changes (a Same line is equal on
    // both sides). Sliding only moves which entries are marked changed: the sequence
    // of lines itself stays.
    let content = |e: &(Op, usize, usize), op: Op| if op == Op::Del { a[e.1] } else { b[e.2] };
    let mut s = 0;
    while s < script.len() {
        let op = script[s].0;
        if op == Op::Same {
            s += 1;
            continue;
        }
        let mut e = s;
        while e < script.len() && script[e].0 == op {
            e += 1;
        }
        let n = e - s;
        let mut k = 0;
        while s > k
            && script[s - k - 1].0 == Op::Same
            && content(&script[s - k - 1], op) == content(&script[e - 1 - k], op)
        {
            k += 1;
        }
        let joins = k > 0 && s > k && script[s - k - 1].0 != Op::Same;
        if joins {
            let from = s - k;
            let moved: Vec<(Op, usize, usize)> = script[from..e].to_vec();
            let same: Vec<(Op, usize, usize)> = moved[..k].to_vec();
            for (t, slot) in script[from..e].iter_mut().enumerate() {
                *slot = if t < n {
                    match op {
                        Op::Add => (Op::Add, same[0].1, moved[t].2),
                        _ => (Op::Del, moved[t].1, same[0].2),
                    }
                } else {
                    let m = t - n;
                    match op {
                        Op::Add => (Op::Same, same[m].1, moved[t].2),
                        _ => (Op::Same, moved[t].1, same[m].2),
                    }
                };
            }
        }
        s = e;
    }
}

fn write_hunk(out: &mut String, hunk: &[(Op, usize, usize)], a: &[&str], b: &[&str]) {
    let old_len = hunk.iter().filter(|h| h.0 != Op::Add).count();
    let new_len = hunk.iter().filter(|h| h.0 != Op::Del).count();
    let old_start = hunk
        .iter()
        .find(|h| h.0 != Op::Add)
        .map_or(hunk[0].1, |h| h.1);
    let new_start = hunk
        .iter()
        .find(|h| h.0 != Op::Del)
        .map_or(hunk[0].2, |h| h.2);
    // diff(1) numbers an empty range by the line before it.
    let number = |start: usize, len: usize| if len == 0 { start } else { start + 1 };
    out.push_str(&format!(
        "@@ -{},{old_len} +{},{new_len} @@\n",
        number(old_start, old_len),
        number(new_start, new_len)
    ));
    for &(op, i, j) in hunk {
        let (mark, line) = match op {
            Op::Same => (' ', a[i]),
            Op::Del => ('-', a[i]),
            Op::Add => ('+', b[j]),
        };
        out.push(mark);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "y"), "");
    }

    #[test]
    fn one_changed_line_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified(old, new, "Original XML", "Altered XML"),
            "--- Original XML\n+++ Altered XML\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn distant_changes_make_two_hunks_and_insertions_count_right() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .filter(|&i| i != 18)
            .flat_map(|i| {
                [format!("{i}\n")]
                    .into_iter()
                    .chain((i == 2).then(|| "new\n".into()))
            })
            .collect();
        let d = unified(&old, &new, "a", "b");
        assert!(d.contains("@@ -1,5 +1,6 @@\n 1\n 2\n+new\n 3\n"), "{d}");
        assert!(
            d.contains("@@ -15,6 +16,5 @@\n 15\n 16\n 17\n-18\n 19\n 20\n"),
            "{d}"
        );
    }

    #[test]
    fn an_appended_repeat_is_shown_after_what_it_repeats() {
        let old = "t\nA1\nA2\nA3\nS\n";
        let new = "T\nA1\nA2\nA3\nA1\nB2\nA3\nS\n";
        assert_eq!(
            unified(old, new, "a", "b"),
            "--- a\n+++ b\n@@ -1,5 +1,8 @@\n-t\n+T\n A1\n A2\n A3\n+A1\n+B2\n+A3\n S\n"
        );
    }

    #[test]
    fn a_change_among_repeated_lines_stays_in_one_block() {
        let old = "<s a/>\n<s b/>\n<s a>\n";
        let new = "<s b/>\n<s b/>\n<s a>\n";
        assert_eq!(
            unified(old, new, "a", "b"),
            "--- a\n+++ b\n@@ -1,3 +1,3 @@\n-<s a/>\n+<s b/>\n <s b/>\n <s a>\n"
        );
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let d = unified("a\nb", "a\nc", "x", "y");
        assert!(d.ends_with("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"));
    }
}
