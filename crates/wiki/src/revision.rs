//! Revisions: every edit is a revision with author, time and summary. This module compares
//! two texts ([`diff`], line by line with word-level detail inside changed lines), merges two
//! concurrent edits of the same base ([`merge3`], a diff3 that never silently picks a side)
//! and finds the revision a MediaWiki-style rollback returns to ([`rollback_target`]).

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffOp, capture_diff_slices};
use thiserror::Error;

/// One revision of a page, without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionMeta {
    /// Revision id, unique in the wiki.
    pub id: u64,
    /// The revision this one was edited from (`None` for a page's first revision).
    pub parent: Option<u64>,
    /// Account name (or IP address, for imported anonymous edits) of the author.
    pub author: String,
    /// When it was saved, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The edit summary the author wrote.
    pub summary: String,
    /// Size of the revision's text in bytes.
    pub bytes: usize,
    /// Whether the author marked it as a minor edit.
    pub minor: bool,
}

/// Beyond this many lines (both sides together, after the common start and end are set
/// aside) the line diff stops looking for a minimal edit script and reports the middle as one
/// replaced block: Myers' algorithm costs O(N·D), and a wiki text may be 4 MiB.
pub const MAX_DIFF_LINES: usize = 20_000;

/// Beyond this many tokens (both sides together) a changed block gets no word-level detail.
pub const MAX_WORD_DIFF_TOKENS: usize = 4_000;

/// Unchanged lines shown around each change by [`Diff::to_html`].
pub const DEFAULT_CONTEXT_LINES: usize = 3;

/// Whether a piece of text is kept, removed or added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentKind {
    /// In both texts.
    Same,
    /// Only in the old text.
    Removed,
    /// Only in the new text.
    Added,
}

/// A run of words inside a changed block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Kept, removed or added.
    pub kind: SegmentKind,
    /// The text, newlines included.
    pub text: String,
}

/// A run of consecutive lines with the same fate. Every line keeps its `\n` (the last line of
/// a text may lack one), so concatenating the old sides gives back the old text exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// Lines in both texts.
    Same {
        /// The lines.
        lines: Vec<String>,
    },
    /// Lines only in the old text.
    Removed {
        /// The lines.
        lines: Vec<String>,
    },
    /// Lines only in the new text.
    Added {
        /// The lines.
        lines: Vec<String>,
    },
    /// Old lines replaced by new ones, with the word-level detail of what changed.
    Changed {
        /// The old lines.
        old: Vec<String>,
        /// The new lines.
        new: Vec<String>,
        /// The words of both sides interleaved; empty when the block was too large to compare
        /// word by word (then it is shown as all removed, then all added).
        words: Vec<Segment>,
    },
}

/// The difference between two texts, as a sequence of line blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// The blocks, in text order.
    pub blocks: Vec<Block>,
}

/// Applying a diff to a text that is not the one it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A line the diff expected differs from the text's.
    #[error("la diferencia no corresponde al texto: la línea {line} no coincide")]
    Mismatch {
        /// 1-based line of the text where it differs.
        line: usize,
    },
    /// The text has lines left after the diff ended, or ended before it.
    #[error("la diferencia no corresponde al texto: la longitud no coincide (línea {line})")]
    LengthMismatch {
        /// 1-based line where the mismatch was noticed.
        line: usize,
    },
}

/// Compares two texts line by line, with word-level detail inside changed lines.
#[must_use]
pub fn diff(old: &str, new: &str) -> Diff {
    let old_lines = split_lines(old);
    let new_lines = split_lines(new);
    let mut blocks = Vec::new();
    for op in line_ops(&old_lines, &new_lines) {
        let old_part = to_owned_lines(&old_lines[op.old_range()]);
        let new_part = to_owned_lines(&new_lines[op.new_range()]);
        let block = match op {
            DiffOp::Equal { .. } => Block::Same { lines: old_part },
            DiffOp::Delete { .. } => Block::Removed { lines: old_part },
            DiffOp::Insert { .. } => Block::Added { lines: new_part },
            DiffOp::Replace { .. } => {
                let words = word_segments(&old_part.concat(), &new_part.concat());
                Block::Changed {
                    old: old_part,
                    new: new_part,
                    words,
                }
            }
        };
        blocks.push(block);
    }
    Diff { blocks }
}

impl Diff {
    /// Whether the two texts are identical.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.blocks.iter().all(|b| matches!(b, Block::Same { .. }))
    }

    /// Lines only in the new text (a changed block's new lines count).
    #[must_use]
    pub fn lines_added(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Added { lines } => lines.len(),
                Block::Changed { new, .. } => new.len(),
                _ => 0,
            })
            .sum()
    }

    /// Lines only in the old text (a changed block's old lines count).
    #[must_use]
    pub fn lines_removed(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Removed { lines } => lines.len(),
                Block::Changed { old, .. } => old.len(),
                _ => 0,
            })
            .sum()
    }

    /// Bytes of text added: added lines, and added words inside changed lines.
    #[must_use]
    pub fn bytes_added(&self) -> usize {
        self.added_text().len()
    }

    /// Bytes of text removed: removed lines, and removed words inside changed lines.
    #[must_use]
    pub fn bytes_removed(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Removed { lines } => lines.iter().map(String::len).sum(),
                Block::Changed { old, words, .. } if words.is_empty() => {
                    old.iter().map(String::len).sum()
                }
                Block::Changed { words, .. } => words
                    .iter()
                    .filter(|s| s.kind == SegmentKind::Removed)
                    .map(|s| s.text.len())
                    .sum(),
                _ => 0,
            })
            .sum()
    }

    /// Size of the new text minus size of the old, in bytes (MediaWiki's "+123").
    #[must_use]
    pub fn size_delta(&self) -> i64 {
        let old: usize = self.old_text().len();
        let new: usize = self.new_text().len();
        i64::try_from(new).unwrap_or(i64::MAX) - i64::try_from(old).unwrap_or(i64::MAX)
    }

    /// The text this edit added (added lines and added words, in order, joined by newlines
    /// where they came from different places): what abuse filters look at.
    #[must_use]
    pub fn added_text(&self) -> String {
        let mut out = String::new();
        let mut push = |piece: &str| {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(piece);
        };
        for block in &self.blocks {
            match block {
                Block::Added { lines } => push(&lines.concat()),
                Block::Changed { new, words, .. } if words.is_empty() => push(&new.concat()),
                Block::Changed { words, .. } => {
                    for segment in words.iter().filter(|s| s.kind == SegmentKind::Added) {
                        push(&segment.text);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The old text, rebuilt from the diff.
    #[must_use]
    pub fn old_text(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Same { lines } | Block::Removed { lines } => {
                    out.extend(lines.iter().map(String::as_str))
                }
                Block::Changed { old, .. } => out.extend(old.iter().map(String::as_str)),
                Block::Added { .. } => {}
            }
        }
        out
    }

    /// The new text, rebuilt from the diff.
    #[must_use]
    pub fn new_text(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Same { lines } | Block::Added { lines } => {
                    out.extend(lines.iter().map(String::as_str))
                }
                Block::Changed { new, .. } => out.extend(new.iter().map(String::as_str)),
                Block::Removed { .. } => {}
            }
        }
        out
    }

    /// Applies the diff to `old`, checking line by line that `old` is the text it was
    /// computed from, and returns the new text.
    ///
    /// # Errors
    /// [`ApplyError`] when `old` is not the diff's old text.
    pub fn apply(&self, old: &str) -> Result<String, ApplyError> {
        let lines = split_lines(old);
        let mut at = 0usize;
        let mut out = String::with_capacity(old.len());
        for block in &self.blocks {
            let (expected, replacement): (&[String], Option<&[String]>) = match block {
                Block::Same { lines } => (lines, None),
                Block::Removed { lines } => (lines, Some(&[])),
                Block::Added { lines } => (&[], Some(lines)),
                Block::Changed { old, new, .. } => (old, Some(new)),
            };
            for line in expected {
                match lines.get(at) {
                    Some(actual) if *actual == line.as_str() => at += 1,
                    Some(_) => return Err(ApplyError::Mismatch { line: at + 1 }),
                    None => return Err(ApplyError::LengthMismatch { line: at + 1 }),
                }
            }
            match replacement {
                None => out.extend(expected.iter().map(String::as_str)),
                Some(new) => out.extend(new.iter().map(String::as_str)),
            }
        }
        if at == lines.len() {
            Ok(out)
        } else {
            Err(ApplyError::LengthMismatch { line: at + 1 })
        }
    }

    /// Renders the diff as HTML with [`DEFAULT_CONTEXT_LINES`] of context around changes.
    #[must_use]
    pub fn to_html(&self) -> String {
        self.to_html_with_context(DEFAULT_CONTEXT_LINES)
    }

    /// Renders the diff as HTML: removed text in `<del>`, added text in `<ins>`, unchanged
    /// runs longer than twice `context` lines folded. All text is escaped, so a diff of any
    /// text is safe to embed in a page.
    #[must_use]
    pub fn to_html_with_context(&self, context: usize) -> String {
        let mut html = String::from("<div class=\"diff\">\n");
        let last = self.blocks.len().saturating_sub(1);
        for (index, block) in self.blocks.iter().enumerate() {
            match block {
                Block::Same { lines } => {
                    let head = if index == 0 { 0 } else { context };
                    let tail = if index == last { 0 } else { context };
                    if lines.len() > head + tail {
                        push_lines(&mut html, "diff-same", None, &lines[..head]);
                        let hidden = lines.len() - head - tail;
                        html.push_str(&format!(
                            "<div class=\"diff-skip\">({hidden} líneas sin cambios)</div>\n"
                        ));
                        push_lines(&mut html, "diff-same", None, &lines[lines.len() - tail..]);
                    } else {
                        push_lines(&mut html, "diff-same", None, lines);
                    }
                }
                Block::Removed { lines } => {
                    push_lines(&mut html, "diff-removed", Some("del"), lines)
                }
                Block::Added { lines } => push_lines(&mut html, "diff-added", Some("ins"), lines),
                Block::Changed { old, new, words } if words.is_empty() => {
                    push_lines(&mut html, "diff-removed", Some("del"), old);
                    push_lines(&mut html, "diff-added", Some("ins"), new);
                }
                Block::Changed { words, .. } => {
                    html.push_str("<div class=\"diff-changed\">");
                    for segment in words {
                        let text = escape_html(&segment.text);
                        match segment.kind {
                            SegmentKind::Same => html.push_str(&text),
                            SegmentKind::Removed => {
                                html.push_str("<del>");
                                html.push_str(&text);
                                html.push_str("</del>");
                            }
                            SegmentKind::Added => {
                                html.push_str("<ins>");
                                html.push_str(&text);
                                html.push_str("</ins>");
                            }
                        }
                    }
                    html.push_str("</div>\n");
                }
            }
        }
        html.push_str("</div>\n");
        html
    }
}

fn push_lines(html: &mut String, class: &str, tag: Option<&str>, lines: &[String]) {
    for line in lines {
        let text = escape_html(line.strip_suffix('\n').unwrap_or(line));
        match tag {
            Some(tag) => html.push_str(&format!(
                "<div class=\"{class}\"><{tag}>{text}</{tag}></div>\n"
            )),
            None => html.push_str(&format!("<div class=\"{class}\">{text}</div>\n")),
        }
    }
}

/// Escapes the five characters that matter in HTML text and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits a text into lines, each keeping its `\n` (the last may lack one).
fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn to_owned_lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| (*l).to_owned()).collect()
}

/// Line diff ops, bounded in cost: the common start and end are matched directly, and a
/// middle larger than [`MAX_DIFF_LINES`] becomes one replaced block instead of a Myers search.
fn line_ops(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let mut ops = Vec::new();
    if prefix > 0 {
        ops.push(DiffOp::Equal {
            old_index: 0,
            new_index: 0,
            len: prefix,
        });
    }
    if old_mid.len() + new_mid.len() <= MAX_DIFF_LINES {
        for op in capture_diff_slices(Algorithm::Myers, old_mid, new_mid) {
            ops.push(shift(op, prefix));
        }
    } else {
        ops.push(DiffOp::Replace {
            old_index: prefix,
            old_len: old_mid.len(),
            new_index: prefix,
            new_len: new_mid.len(),
        });
    }
    if suffix > 0 {
        ops.push(DiffOp::Equal {
            old_index: old.len() - suffix,
            new_index: new.len() - suffix,
            len: suffix,
        });
    }
    ops
}

fn shift(op: DiffOp, by: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + by,
            new_index: new_index + by,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + by,
            old_len,
            new_index: new_index + by,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + by,
            new_index: new_index + by,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + by,
            old_len,
            new_index: new_index + by,
            new_len,
        },
    }
}

/// Splits text into words (runs of alphanumeric characters), runs of whitespace, and single
/// other characters (punctuation, wiki markup), so `[[Cuba]]` changes show as `Cuba` alone.
fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut previous: Option<u8> = None;
    for (index, c) in text.char_indices() {
        let class = if c.is_alphanumeric() {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        };
        if index > start && (previous != Some(class) || class == 2) {
            tokens.push(&text[start..index]);
            start = index;
        }
        previous = Some(class);
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// Word-level segments of a changed block; empty when it is too large to compare.
fn word_segments(old: &str, new: &str) -> Vec<Segment> {
    let old_tokens = tokenize(old);
    let new_tokens = tokenize(new);
    if old_tokens.len() + new_tokens.len() > MAX_WORD_DIFF_TOKENS {
        return Vec::new();
    }
    let mut segments: Vec<Segment> = Vec::new();
    let mut push = |kind: SegmentKind, tokens: &[&str]| {
        if tokens.is_empty() {
            return;
        }
        let text = tokens.concat();
        match segments.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(&text),
            _ => segments.push(Segment { kind, text }),
        }
    };
    for op in capture_diff_slices(Algorithm::Myers, &old_tokens, &new_tokens) {
        let old_part = &old_tokens[op.old_range()];
        let new_part = &new_tokens[op.new_range()];
        match op {
            DiffOp::Equal { .. } => push(SegmentKind::Same, old_part),
            DiffOp::Delete { .. } => push(SegmentKind::Removed, old_part),
            DiffOp::Insert { .. } => push(SegmentKind::Added, new_part),
            DiffOp::Replace { .. } => {
                push(SegmentKind::Removed, old_part);
                push(SegmentKind::Added, new_part);
            }
        }
    }
    segments
}

/// Marker opening a conflict: the editor's own text follows.
pub const MARKER_MINE: &str = "<<<<<<< su versión";
/// Marker between the two sides of a conflict.
pub const MARKER_SEPARATOR: &str = "=======";
/// Marker closing a conflict: the text saved meanwhile precedes it.
pub const MARKER_THEIRS: &str = ">>>>>>> versión actual";

/// One region both sides changed differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The region in the common base.
    pub base: String,
    /// The editor's version of it.
    pub mine: String,
    /// The version saved meanwhile.
    pub theirs: String,
    /// 1-based line of the conflict's opening marker in [`Merge::Conflict`]'s text.
    pub line: usize,
}

/// The outcome of a three-way merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Merge {
    /// The edits touched different lines (or made the same change): the merged text.
    Clean(String),
    /// Some lines were changed differently by both sides; nothing was picked.
    Conflict {
        /// The merged text with each conflict between [`MARKER_MINE`], [`MARKER_SEPARATOR`]
        /// and [`MARKER_THEIRS`].
        text_with_markers: String,
        /// The conflicts, in text order.
        conflicts: Vec<Conflict>,
    },
}

/// Merges the editor's text (`mine`) and the text saved meanwhile (`theirs`), both edited
/// from `base` (diff3). Regions only one side changed take that side; regions both changed
/// the same way take that change; regions changed differently — including changes to
/// adjacent lines — become conflicts.
#[must_use]
pub fn merge3(base: &str, mine: &str, theirs: &str) -> Merge {
    let base_lines = split_lines(base);
    let mine_lines = split_lines(mine);
    let theirs_lines = split_lines(theirs);
    let to_mine = matches(&base_lines, &mine_lines);
    let to_theirs = matches(&base_lines, &theirs_lines);

    let mut out = String::new();
    let mut out_lines = 0usize;
    let mut conflicts = Vec::new();
    let (mut o, mut a, mut b) = (0usize, 0usize, 0usize);
    loop {
        // A stable run: base, mine and theirs advance together.
        let mut run = 0;
        while o + run < base_lines.len()
            && to_mine[o + run] == Some(a + run)
            && to_theirs[o + run] == Some(b + run)
        {
            run += 1;
        }
        if run > 0 {
            for line in &base_lines[o..o + run] {
                out.push_str(line);
            }
            out_lines += run;
            o += run;
            a += run;
            b += run;
            continue;
        }
        if o == base_lines.len() && a == mine_lines.len() && b == theirs_lines.len() {
            break;
        }
        // An unstable region: up to the next base line both sides kept.
        let next = (o..base_lines.len()).find(|&j| to_mine[j].is_some() && to_theirs[j].is_some());
        let (o_end, a_end, b_end) = match next {
            Some(j) => (j, to_mine[j].unwrap_or(a), to_theirs[j].unwrap_or(b)),
            None => (base_lines.len(), mine_lines.len(), theirs_lines.len()),
        };
        let base_part = &base_lines[o..o_end];
        let mine_part = &mine_lines[a..a_end];
        let theirs_part = &theirs_lines[b..b_end];
        let take = if mine_part == base_part || mine_part == theirs_part {
            Some(theirs_part)
        } else if theirs_part == base_part {
            Some(mine_part)
        } else {
            None
        };
        match take {
            Some(lines) => {
                for line in lines {
                    out.push_str(line);
                }
                out_lines += lines.len();
            }
            None => {
                conflicts.push(Conflict {
                    base: base_part.concat(),
                    mine: mine_part.concat(),
                    theirs: theirs_part.concat(),
                    line: out_lines + 1,
                });
                out_lines += push_conflict(&mut out, mine_part, theirs_part);
            }
        }
        o = o_end;
        a = a_end;
        b = b_end;
    }
    if conflicts.is_empty() {
        Merge::Clean(out)
    } else {
        Merge::Conflict {
            text_with_markers: out,
            conflicts,
        }
    }
}

/// Writes one conflict with its markers; returns the number of lines written.
fn push_conflict(out: &mut String, mine: &[&str], theirs: &[&str]) -> usize {
    out.push_str(MARKER_MINE);
    out.push('\n');
    push_side_into(out, mine);
    out.push_str(MARKER_SEPARATOR);
    out.push('\n');
    push_side_into(out, theirs);
    out.push_str(MARKER_THEIRS);
    out.push('\n');
    mine.len() + theirs.len() + 3
}

fn push_side_into(out: &mut String, side: &[&str]) {
    for line in side {
        out.push_str(line);
    }
    if side.last().is_some_and(|l| !l.ends_with('\n')) {
        out.push('\n');
    }
}

/// For each base line, the index of the line it matches in `other`, if it was kept.
fn matches(base: &[&str], other: &[&str]) -> Vec<Option<usize>> {
    let mut map = vec![None; base.len()];
    for op in line_ops(base, other) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                map[old_index + k] = Some(new_index + k);
            }
        }
    }
    map
}

/// The revision a rollback of `author_to_undo`'s edits returns to: the newest revision by
/// someone else. `history` is in chronological order (oldest first). `None` when the history
/// is empty, when the latest revision is not by `author_to_undo` (someone edited since, as
/// MediaWiki refuses), or when every revision is theirs (nothing to return to).
#[must_use]
pub fn rollback_target(history: &[RevisionMeta], author_to_undo: &str) -> Option<u64> {
    let latest = history.last()?;
    if latest.author != author_to_undo {
        return None;
    }
    history
        .iter()
        .rev()
        .find(|revision| revision.author != author_to_undo)
        .map(|revision| revision.id)
}
