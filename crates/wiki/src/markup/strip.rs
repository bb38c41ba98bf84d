//! The first pass over wikitext: comments are dropped, and the content of `<nowiki>`, `<pre>`
//! and `<ref>` is set aside behind markers so that no later pass reads markup inside it.
//!
//! A marker is `\u{7f}` + index + `\u{7f}`; [`clean`] removes that character from every outside
//! text first, so only this module can write one.

use super::Renderer;
use super::html::{escape, parse_attributes};
use super::title::Title;

/// Delimits a marker.
pub(crate) const MARK: char = '\u{7f}';

/// Longest `name` a reference may have.
const MAX_REFERENCE_NAME_BYTES: usize = 200;

/// How far a tag may run before its `>`.
const MAX_TAG_BYTES: usize = 2048;

/// Something set aside, emitted when the inline pass meets its marker.
#[derive(Debug, Clone)]
pub(crate) enum Marker {
    /// `<nowiki>` content, already escaped.
    Nowiki(String),
    /// A whole `<pre>` block, already escaped.
    Pre(String),
    /// `<ref>`: its name, its raw wikitext, and whether it only defines content
    /// (inside `<references>…</references>`) instead of citing.
    Reference {
        name: Option<String>,
        content: Option<String>,
        define_only: bool,
    },
    /// `<references/>`: where the list of notes goes.
    References,
    /// An error found while expanding templates (index into the renderer's errors).
    Error(usize),
    /// A template that does not exist: rendered as a red link to it.
    MissingTemplate(Title),
}

impl Marker {
    /// Whether it renders as a block (outside paragraphs).
    pub(crate) fn is_block(&self) -> bool {
        matches!(self, Self::Pre(_) | Self::References)
    }
}

/// What the text being stripped is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A page shown as itself: `<includeonly>` parts dropped.
    Page,
    /// A template being transcluded: `<noinclude>` parts dropped, `<onlyinclude>` honoured.
    Template,
    /// The inside of `<references>…</references>`: references there only define content.
    ReferenceList,
}

/// Outside text without control characters other than line breaks and tabs (which also
/// removes `\r` and the marker delimiter).
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

/// The index of the marker `text` starts with, and the marker's length.
pub(crate) fn marker_at(text: &str) -> Option<(usize, usize)> {
    let body = text.strip_prefix(MARK)?;
    let end = body.find(MARK)?;
    let digits = &body[..end];
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, end + 2 * MARK.len_utf8()))
}

/// A search for one needle whose starting points only move forward: each later search reuses
/// the earlier answer, so many unclosed tags cost one scan, not one scan each.
#[derive(Debug)]
struct Finder {
    needle: &'static str,
    searched_from: Option<usize>,
    found: Option<usize>,
}

impl Finder {
    fn new(needle: &'static str) -> Self {
        Self {
            needle,
            searched_from: None,
            found: None,
        }
    }

    fn find(&mut self, haystack: &str, from: usize) -> Option<usize> {
        if let Some(searched_from) = self.searched_from
            && from >= searched_from
            && self.found.is_none_or(|found| from <= found)
        {
            return self.found;
        }
        self.searched_from = Some(from);
        self.found = haystack
            .get(from..)
            .and_then(|rest| rest.find(self.needle))
            .map(|at| at + from);
        self.found
    }
}

/// A tag read at a `<`, in the lowercased text.
#[derive(Debug)]
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    self_closing: bool,
    attributes: (usize, usize),
    end: usize,
}

/// Tags this pass handles; any other is left for the inline pass.
const STRIPPED_TAGS: &[&str] = &[
    "nowiki",
    "pre",
    "ref",
    "references",
    "noinclude",
    "includeonly",
    "onlyinclude",
];

fn parse_tag(lower: &str, at: usize) -> Option<Tag<'_>> {
    let bytes = lower.as_bytes();
    let mut j = at + 1;
    let closing = bytes.get(j) == Some(&b'/');
    if closing {
        j += 1;
    }
    let name_start = j;
    while bytes.get(j).is_some_and(u8::is_ascii_lowercase) {
        j += 1;
    }
    let name = &lower[name_start..j];
    if !STRIPPED_TAGS.contains(&name) {
        return None;
    }
    match bytes.get(j) {
        Some(b'>' | b'/') => {}
        Some(b) if b.is_ascii_whitespace() => {}
        _ => return None,
    }
    let limit = (j + MAX_TAG_BYTES).min(bytes.len());
    let offset = bytes[j..limit]
        .iter()
        .position(|&b| b == b'>' || b == b'<')?;
    let close = j + offset;
    if bytes[close] == b'<' {
        return None;
    }
    let self_closing = close > j && bytes[close - 1] == b'/';
    let attributes = (j, if self_closing { close - 1 } else { close });
    Some(Tag {
        name,
        closing,
        self_closing,
        attributes,
        end: close + 1,
    })
}

/// The text of the `<onlyinclude>` sections, if the template has any.
fn only_included(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut sections = String::new();
    let mut from = 0;
    let mut found = false;
    while let Some(start) = lower[from..].find("<onlyinclude>").map(|s| s + from + 13) {
        found = true;
        let end = lower[start..]
            .find("</onlyinclude>")
            .map_or(text.len(), |e| e + start);
        sections.push_str(&text[start..end]);
        from = end;
    }
    found.then_some(sections)
}

/// Only the markers of a stripped text.
fn markers_only(text: &str) -> String {
    let mut markers = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        rest = &rest[at..];
        match marker_at(rest) {
            Some((_, length)) => {
                markers.push_str(&rest[..length]);
                rest = &rest[length..];
            }
            None => rest = &rest[MARK.len_utf8()..],
        }
    }
    markers
}

/// How many spaces and tabs start `text`.
fn leading_blanks(text: &str) -> usize {
    text.bytes()
        .take_while(|&b| b == b' ' || b == b'\t')
        .count()
}

impl Renderer<'_> {
    /// Stores a marker and returns its text.
    pub(crate) fn add_marker(&mut self, marker: Marker) -> String {
        let index = self.markers.len();
        self.markers.push(marker);
        format!("{MARK}{index}{MARK}")
    }

    /// Drops comments and sets aside `<nowiki>`, `<pre>`, `<ref>` and `<references>`; `text`
    /// must already be [`clean`].
    pub(crate) fn strip(&mut self, text: &str, mode: Mode) -> String {
        if mode == Mode::Template
            && let Some(sections) = only_included(text)
        {
            return self.strip_sections(&sections, mode);
        }
        self.strip_sections(text, mode)
    }

    fn strip_sections(&mut self, text: &str, mode: Mode) -> String {
        // ASCII lowercasing keeps every byte offset, so positions found in `lower` cut `text`.
        let lower = text.to_ascii_lowercase();
        let mut comment_end = Finder::new("-->");
        let mut nowiki_end = Finder::new("</nowiki>");
        let mut pre_end = Finder::new("</pre>");
        let mut ref_end = Finder::new("</ref>");
        let mut references_end = Finder::new("</references>");
        let mut noinclude_end = Finder::new("</noinclude>");
        let mut includeonly_end = Finder::new("</includeonly>");
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut i = 0;
        while let Some(offset) = lower[i..].find('<') {
            let at = i + offset;
            if lower[at..].starts_with("<!--") {
                out.push_str(&text[copied..at]);
                let end = comment_end
                    .find(&lower, at + 4)
                    .map_or(text.len(), |e| e + 3);
                copied = end;
                i = end;
                continue;
            }
            let Some(tag) = parse_tag(&lower, at) else {
                i = at + 1;
                continue;
            };
            let replacement: Option<(String, usize)> = match (tag.name, tag.closing) {
                ("nowiki", false) if tag.self_closing => {
                    Some((self.add_marker(Marker::Nowiki(String::new())), tag.end))
                }
                ("nowiki", false) => nowiki_end.find(&lower, tag.end).map(|close| {
                    let content = escape(&text[tag.end..close]);
                    (
                        self.add_marker(Marker::Nowiki(content)),
                        close + "</nowiki>".len(),
                    )
                }),
                ("pre", false) if !tag.self_closing => pre_end.find(&lower, tag.end).map(|close| {
                    let html = format!("<pre>{}</pre>", escape(&text[tag.end..close]));
                    let marker = self.add_marker(Marker::Pre(html));
                    let end = close + "</pre>".len();
                    (format!("\n{marker}\n"), end + leading_blanks(&text[end..]))
                }),
                ("ref", false) => {
                    let (from, to) = tag.attributes;
                    let name = reference_name(&text[from..to]);
                    let define_only = mode == Mode::ReferenceList;
                    if tag.self_closing {
                        let marker = Marker::Reference {
                            name,
                            content: None,
                            define_only,
                        };
                        Some((self.add_marker(marker), tag.end))
                    } else {
                        ref_end.find(&lower, tag.end).map(|close| {
                            let content = Some(text[tag.end..close].to_owned());
                            let marker = Marker::Reference {
                                name,
                                content,
                                define_only,
                            };
                            (self.add_marker(marker), close + "</ref>".len())
                        })
                    }
                }
                ("references", false) if mode == Mode::ReferenceList => {
                    Some((String::new(), tag.end))
                }
                ("references", false) => {
                    let (definitions, end) = if tag.self_closing {
                        (String::new(), tag.end)
                    } else {
                        match references_end.find(&lower, tag.end) {
                            Some(close) => {
                                let inner =
                                    self.strip_sections(&text[tag.end..close], Mode::ReferenceList);
                                (markers_only(&inner), close + "</references>".len())
                            }
                            None => (String::new(), tag.end),
                        }
                    };
                    let marker = self.add_marker(Marker::References);
                    Some((
                        format!("\n{definitions}{marker}\n"),
                        end + leading_blanks(&text[end..]),
                    ))
                }
                ("references", true) | ("onlyinclude", _) => Some((String::new(), tag.end)),
                ("noinclude", false) if mode == Mode::Template => {
                    let end = noinclude_end
                        .find(&lower, tag.end)
                        .map_or(text.len(), |close| close + "</noinclude>".len());
                    Some((String::new(), end))
                }
                ("includeonly", false) if mode != Mode::Template => {
                    let end = includeonly_end
                        .find(&lower, tag.end)
                        .map_or(text.len(), |close| close + "</includeonly>".len());
                    Some((String::new(), end))
                }
                ("noinclude" | "includeonly", _) => Some((String::new(), tag.end)),
                _ => None,
            };
            match replacement {
                Some((replacement, end)) => {
                    out.push_str(&text[copied..at]);
                    out.push_str(&replacement);
                    copied = end;
                    i = end;
                }
                None => i = at + 1,
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// The `name` attribute of a `<ref>`, if it has a usable one.
fn reference_name(attributes: &str) -> Option<String> {
    parse_attributes(attributes)
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("name"))
        .map(|(_, value)| value.trim().to_owned())
        .filter(|name| !name.is_empty() && name.len() <= MAX_REFERENCE_NAME_BYTES)
}
