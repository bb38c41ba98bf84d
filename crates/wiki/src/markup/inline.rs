//! Inline wikitext: apostrophes, internal and external links, bare URLs, whitelisted tags,
//! character references and markers. Text between them is escaped; formatting elements are
//! kept on a stack so the output is always balanced.

use super::html::{
    AllowedAttributes, allowed_scheme_len, entity_at, escape, escape_into, is_url_char, safe_url,
    sanitize_attributes,
};
use super::strip::{Marker, marker_at};
use super::title::{Namespace, Title, normalize_title, percent_encode_path};
use super::{MAX_EXPANSION_BYTES, MarkupError, Renderer};

/// Most formatting elements open at once; further openers stay text.
const MAX_INLINE_NESTING: usize = 16;

/// Longest link target read before giving up on a `[[`.
const MAX_LINK_TARGET_BYTES: usize = 1024;

/// How far an inline tag may run before its `>`.
const MAX_TAG_BYTES: usize = 512;

/// How many `[[`…`]]` a file caption may nest.
const MAX_CAPTION_NESTING: usize = 8;

/// Behaviour switches dropped from the text.
const MAGIC_WORDS: &[&str] = &[
    "__NOTOC__",
    "__TOC__",
    "__FORCETOC__",
    "__NOEDITSECTION__",
    "__NEWSECTIONLINK__",
    "__NONEWSECTIONLINK__",
    "__NOGALLERY__",
    "__HIDDENCAT__",
    "__INDEX__",
    "__NOINDEX__",
    "__STATICREDIRECT__",
    "__NOTITLECONVERT__",
    "__NOCONTENTCONVERT__",
    "__SINTDC__",
    "__TDC__",
    "__FORZARTDC__",
    "__SINEDITARSECCIÓN__",
    "__SINGALERÍA__",
    "__CATEGORÍAOCULTA__",
];

/// Image options a file link may carry besides its caption.
const IMAGE_OPTIONS: &[&str] = &[
    "thumb",
    "thumbnail",
    "miniatura",
    "mini",
    "frame",
    "marco",
    "frameless",
    "sinmarco",
    "border",
    "borde",
    "left",
    "right",
    "center",
    "centre",
    "none",
    "izquierda",
    "derecha",
    "centro",
    "ninguno",
    "upright",
    "vertical",
    "baseline",
    "middle",
    "top",
    "bottom",
];

/// Whether links become anchors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkMode {
    /// Normal text.
    Links,
    /// Inside a link's label: anchors cannot nest, so links show only their label.
    LabelsOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Italic,
    Bold,
    Tag(&'static str),
}

#[derive(Debug, Clone)]
struct Open {
    kind: Kind,
    open_html: String,
}

impl Open {
    fn close_html(&self) -> &'static str {
        match self.kind {
            Kind::Italic => "</i>",
            Kind::Bold => "</b>",
            Kind::Tag(tag) => closing_tag(tag),
        }
    }
}

/// The formatting elements open, innermost last.
#[derive(Debug, Default)]
struct Formatting {
    open: Vec<Open>,
}

impl Formatting {
    fn push(&mut self, open: Open, out: &mut String) {
        out.push_str(&open.open_html);
        self.open.push(open);
    }

    fn push_quote(&mut self, kind: Kind, out: &mut String) {
        let open_html = if kind == Kind::Italic { "<i>" } else { "<b>" };
        self.push(
            Open {
                kind,
                open_html: open_html.to_owned(),
            },
            out,
        );
    }

    fn position(&self, kind: Kind) -> Option<usize> {
        self.open.iter().rposition(|open| open.kind == kind)
    }

    /// Closes the element at `index`, closing and reopening the ones inside it.
    fn close_at(&mut self, index: usize, out: &mut String) {
        let inner: Vec<Open> = self.open.drain(index + 1..).collect();
        for open in inner.iter().rev() {
            out.push_str(open.close_html());
        }
        if let Some(open) = self.open.pop() {
            out.push_str(open.close_html());
        }
        for open in inner {
            self.push(open, out);
        }
    }

    /// Closes the innermost element of `kind`; `false` if none is open.
    fn close(&mut self, kind: Kind, out: &mut String) -> bool {
        match self.position(kind) {
            Some(index) => {
                self.close_at(index, out);
                true
            }
            None => false,
        }
    }

    fn toggle(&mut self, kind: Kind, out: &mut String) {
        if !self.close(kind, out) {
            self.push_quote(kind, out);
        }
    }

    /// MediaWiki closes apostrophe formatting at the end of each line.
    fn close_quotes(&mut self, out: &mut String) {
        while let Some(index) = self
            .open
            .iter()
            .rposition(|open| matches!(open.kind, Kind::Italic | Kind::Bold))
        {
            self.close_at(index, out);
        }
    }

    fn close_all(&mut self, out: &mut String) {
        while let Some(open) = self.open.pop() {
            out.push_str(open.close_html());
        }
    }
}

/// The inline HTML tags allowed through (with no attributes, but `class` on `span`).
fn allowed_tag(name: &str) -> Option<&'static str> {
    Some(match name {
        "br" => "br",
        "small" => "small",
        "big" => "big",
        "sup" => "sup",
        "sub" => "sub",
        "code" => "code",
        "s" => "s",
        "u" => "u",
        "del" => "del",
        "ins" => "ins",
        "b" => "b",
        "i" => "i",
        "em" => "em",
        "strong" => "strong",
        "span" => "span",
        _ => return None,
    })
}

fn closing_tag(tag: &str) -> &'static str {
    match tag {
        "small" => "</small>",
        "big" => "</big>",
        "sup" => "</sup>",
        "sub" => "</sub>",
        "code" => "</code>",
        "s" => "</s>",
        "u" => "</u>",
        "del" => "</del>",
        "ins" => "</ins>",
        "b" => "</b>",
        "i" => "</i>",
        "em" => "</em>",
        "strong" => "</strong>",
        _ => "</span>",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Italic,
    Bold,
    Both,
}

/// A run of two or more apostrophes: `literal` of them are text, the rest formatting.
#[derive(Debug, Clone, Copy)]
struct QuoteRun {
    at: usize,
    length: usize,
    literal: usize,
    quote: Quote,
}

/// MediaWiki's reading of apostrophes in one line: 4 are an apostrophe and bold, more than 5
/// are apostrophes and both; if bold and italic counts are both odd, one bold becomes an
/// apostrophe and italic (preferably after a one-letter word, as in `l'''amour''`).
fn plan_quotes(line: &str) -> Vec<QuoteRun> {
    let bytes = line.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\'' {
            i += 1;
            continue;
        }
        let length = bytes[i..].iter().take_while(|&&b| b == b'\'').count();
        let formatting = match length {
            1 => None,
            2 => Some((0, Quote::Italic)),
            3 => Some((0, Quote::Bold)),
            4 => Some((1, Quote::Bold)),
            5 => Some((0, Quote::Both)),
            more => Some((more - 5, Quote::Both)),
        };
        if let Some((literal, quote)) = formatting {
            runs.push(QuoteRun {
                at: i,
                length,
                literal,
                quote,
            });
        }
        i += length;
    }
    let italics = runs.iter().filter(|run| run.quote != Quote::Bold).count();
    let bolds = runs.iter().filter(|run| run.quote != Quote::Italic).count();
    if italics % 2 == 1 && bolds % 2 == 1 {
        let (mut single_letter, mut multi_letter, mut after_space) = (None, None, None);
        for (index, run) in runs
            .iter()
            .enumerate()
            .filter(|(_, run)| run.quote == Quote::Bold)
        {
            let mut before = line[..run.at + run.literal].chars().rev();
            match (before.next(), before.next()) {
                (None | Some(' '), _) => after_space = after_space.or(Some(index)),
                (Some(_), Some(' ')) => single_letter = single_letter.or(Some(index)),
                _ => multi_letter = multi_letter.or(Some(index)),
            }
        }
        if let Some(index) = single_letter.or(multi_letter).or(after_space) {
            runs[index].literal += 1;
            runs[index].quote = Quote::Italic;
        }
    }
    runs
}

/// Where `[[`, `]]` and `]` are in a line, for searches that never rescan.
#[derive(Debug, Default)]
struct Brackets {
    opens: Vec<usize>,
    closes: Vec<usize>,
    single_closes: Vec<usize>,
}

impl Brackets {
    fn new(line: &str) -> Self {
        let bytes = line.as_bytes();
        let mut brackets = Self::default();
        if !bytes.iter().any(|&b| b == b'[' || b == b']') {
            return brackets;
        }
        for (pairs, byte) in [(&mut brackets.opens, b'['), (&mut brackets.closes, b']')] {
            let mut i = 0;
            while i + 1 < bytes.len() {
                if bytes[i] == byte && bytes[i + 1] == byte {
                    pairs.push(i);
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        brackets.single_closes = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b']')
            .map(|(i, _)| i)
            .collect();
        brackets
    }

    fn next_in(positions: &[usize], from: usize) -> Option<usize> {
        positions
            .get(positions.partition_point(|&p| p < from))
            .copied()
    }

    fn count_in(positions: &[usize], from: usize, to: usize) -> usize {
        let start = positions.partition_point(|&p| p < from);
        let end = positions.partition_point(|&p| p < to);
        end.saturating_sub(start)
    }

    fn next_close(&self, from: usize) -> Option<usize> {
        Self::next_in(&self.closes, from)
    }

    fn next_single_close(&self, from: usize) -> Option<usize> {
        Self::next_in(&self.single_closes, from)
    }

    fn opens_between(&self, from: usize, to: usize) -> usize {
        Self::count_in(&self.opens, from, to)
    }

    fn closes_between(&self, from: usize, to: usize) -> usize {
        Self::count_in(&self.closes, from, to)
    }
}

/// A section anchor: whitespace runs become `_`.
pub(crate) fn anchor_of(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("_")
}

/// `&amp;` in a URL as written in wikitext means `&`.
fn decode_url(raw: &str) -> String {
    raw.replace("&amp;", "&")
}

fn is_image_option(option: &str) -> bool {
    let option = option.trim().to_lowercase();
    if IMAGE_OPTIONS.contains(&option.as_str()) {
        return true;
    }
    if let Some(size) = option.strip_suffix("px") {
        return !size.is_empty() && size.chars().all(|c| c.is_ascii_digit() || c == 'x');
    }
    option.split_once('=').is_some_and(|(key, _)| {
        matches!(
            key.trim(),
            "alt"
                | "link"
                | "enlace"
                | "vínculo"
                | "upright"
                | "page"
                | "página"
                | "class"
                | "lang"
                | "border"
        )
    })
}

/// Splits at `|` outside nested `[[…]]`.
fn split_top_level_pipes(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0_usize;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' if bytes.get(i + 1) == Some(&b'[') => {
                depth += 1;
                i += 2;
                continue;
            }
            b']' if bytes.get(i + 1) == Some(&b']') => {
                depth = depth.saturating_sub(1);
                i += 2;
                continue;
            }
            b'|' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

impl Renderer<'_> {
    /// Renders inline wikitext (possibly several lines) into balanced, escaped HTML.
    pub(crate) fn render_inline(&mut self, text: &str, mode: LinkMode, out: &mut String) {
        let mut formatting = Formatting::default();
        for (index, line) in text.split('\n').enumerate() {
            if index > 0 {
                out.push('\n');
            }
            self.render_line(line, mode, &mut formatting, out);
            formatting.close_quotes(out);
        }
        formatting.close_all(out);
    }

    fn render_line(
        &mut self,
        line: &str,
        mode: LinkMode,
        formatting: &mut Formatting,
        out: &mut String,
    ) {
        let quotes = plan_quotes(line);
        let brackets = Brackets::new(line);
        let bytes = line.as_bytes();
        let mut next_quote = 0;
        let mut text_from = 0;
        let mut i = 0;
        while i < bytes.len() {
            let byte = bytes[i];
            if !matches!(
                byte,
                b'\'' | b'[' | b'<' | b'&' | 0x7f | b'_' | b'h' | b'H' | b'm' | b'M'
            ) {
                i += 1;
                continue;
            }
            escape_into(out, &line[text_from..i]);
            text_from = i;
            let handled = match byte {
                b'\'' => {
                    while quotes.get(next_quote).is_some_and(|run| run.at < i) {
                        next_quote += 1;
                    }
                    match quotes.get(next_quote).copied() {
                        Some(run) if run.at == i => {
                            next_quote += 1;
                            for _ in 0..run.literal {
                                out.push_str("&#39;");
                            }
                            apply_quote(formatting, run.quote, out);
                            Some(i + run.length)
                        }
                        _ => None,
                    }
                }
                b'[' if bytes.get(i + 1) == Some(&b'[') => {
                    self.internal_link(line, i, &brackets, mode, out)
                }
                b'[' => self.external_link(line, i, &brackets, mode, out),
                b'<' => inline_tag(line, i, formatting, out),
                b'&' => entity_at(&line[i..]).map(|(html, length)| {
                    out.push_str(&html);
                    i + length
                }),
                0x7f => Some(match marker_at(&line[i..]) {
                    Some((index, length)) => {
                        self.emit_marker(index, mode, out);
                        i + length
                    }
                    None => i + 1,
                }),
                b'_' => MAGIC_WORDS
                    .iter()
                    .find(|word| line[i..].starts_with(*word))
                    .map(|word| i + word.len()),
                _ if mode == LinkMode::Links
                    && line[..i]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !c.is_alphanumeric()) =>
                {
                    bare_url(line, i, out)
                }
                _ => None,
            };
            match handled {
                Some(end) => {
                    i = end;
                    text_from = end;
                }
                None => i += 1,
            }
        }
        escape_into(out, &line[text_from..]);
    }

    /// `[[Página]]`, `[[Página|texto]]`, `[[Página#sección|texto]]`, `[[#sección]]`,
    /// `[[Categoría:X]]`, `[[Archivo:x.png|…]]`, `[[:Categoría:X]]`; `None` leaves the `[` as
    /// text.
    fn internal_link(
        &mut self,
        line: &str,
        at: usize,
        brackets: &Brackets,
        mode: LinkMode,
        out: &mut String,
    ) -> Option<usize> {
        let inner_start = at + 2;
        let first_close = brackets.next_close(inner_start)?;
        let inner = &line[inner_start..first_close];
        let mut target_end = None;
        for (offset, &byte) in inner
            .as_bytes()
            .iter()
            .enumerate()
            .take(MAX_LINK_TARGET_BYTES)
        {
            match byte {
                b'|' => {
                    target_end = Some(offset);
                    break;
                }
                b'[' | b']' | b'{' | b'}' | b'<' | b'>' | 0x7f => return None,
                _ => {}
            }
        }
        let target_end =
            target_end.or_else(|| (inner.len() <= MAX_LINK_TARGET_BYTES).then_some(inner.len()))?;
        let raw_target = &inner[..target_end];
        let label = inner.get(target_end + 1..);
        let (forced, target) = match raw_target.trim_start().strip_prefix(':') {
            Some(target) => (true, target),
            None => (false, raw_target),
        };
        let (page, fragment) = match target.split_once('#') {
            Some((page, fragment)) => (page, Some(fragment)),
            None => (target, None),
        };
        let nested = brackets.opens_between(inner_start, first_close) > 0;
        if page.trim().is_empty() {
            let anchor = anchor_of(fragment?);
            if anchor.is_empty() || nested {
                return None;
            }
            let (label_html, end) =
                self.label_with_trail(line, label, target, first_close + 2, mode);
            match mode {
                LinkMode::LabelsOnly => out.push_str(&label_html),
                LinkMode::Links => {
                    out.push_str("<a href=\"#");
                    escape_into(out, &percent_encode_path(&anchor));
                    out.push_str("\">");
                    out.push_str(&label_html);
                    out.push_str("</a>");
                }
            }
            return Some(end);
        }
        let title = normalize_title(page).ok()?;
        if !forced && title.namespace() == Namespace::File {
            return self.file_link(line, at, &title, brackets, first_close, mode, out);
        }
        if nested {
            return None;
        }
        if !forced && title.namespace() == Namespace::Category {
            self.add_category(title.name());
            return Some(first_close + 2);
        }
        let (label_html, end) = self.label_with_trail(line, label, target, first_close + 2, mode);
        self.add_link(&title);
        match mode {
            LinkMode::LabelsOnly => out.push_str(&label_html),
            LinkMode::Links => self.write_page_link(&title, fragment, &label_html, out),
        }
        Some(end)
    }

    /// The label's HTML (the target as written when there is none) with the letters glued
    /// after `]]` (`[[casa]]s`), and where the link ends.
    fn label_with_trail(
        &mut self,
        line: &str,
        label: Option<&str>,
        target: &str,
        after_close: usize,
        mode: LinkMode,
    ) -> (String, usize) {
        let mut html = match label.filter(|label| !label.trim().is_empty()) {
            Some(label) => self.render_label(label, mode),
            None => escape(target.trim()),
        };
        let trail: usize = line[after_close..]
            .chars()
            .take_while(|c| c.is_alphabetic())
            .map(char::len_utf8)
            .sum();
        escape_into(&mut html, &line[after_close..after_close + trail]);
        (html, after_close + trail)
    }

    /// A label rendered without anchors; inside a label already, as plain text.
    fn render_label(&mut self, label: &str, mode: LinkMode) -> String {
        match mode {
            LinkMode::Links => {
                let mut html = String::new();
                self.render_inline(label.trim(), LinkMode::LabelsOnly, &mut html);
                html
            }
            LinkMode::LabelsOnly => escape(label.trim()),
        }
    }

    fn write_page_link(
        &mut self,
        title: &Title,
        fragment: Option<&str>,
        label_html: &str,
        out: &mut String,
    ) {
        let url = self.page_url(title);
        if self.page_exists(title) {
            out.push_str("<a href=\"");
            escape_into(out, &url);
            if let Some(anchor) = fragment.map(anchor_of).filter(|anchor| !anchor.is_empty()) {
                out.push('#');
                escape_into(out, &percent_encode_path(&anchor));
            }
            out.push_str("\" title=\"");
            escape_into(out, &title.text());
            out.push_str("\">");
        } else if self.offline() {
            write_missing_start(title, out);
            out.push_str(label_html);
            out.push_str("</span>");
            return;
        } else {
            write_red_link_start(title, &url, out);
        }
        out.push_str(label_html);
        out.push_str("</a>");
    }

    /// `[[Archivo:x.png|miniatura|Leyenda con [[enlaces]]]]`: no images yet, a link to the
    /// file's page labelled with the caption.
    #[allow(clippy::too_many_arguments)]
    fn file_link(
        &mut self,
        line: &str,
        at: usize,
        title: &Title,
        brackets: &Brackets,
        first_close: usize,
        mode: LinkMode,
        out: &mut String,
    ) -> Option<usize> {
        let start = at + 2;
        let mut close = first_close;
        for _ in 0..MAX_CAPTION_NESTING {
            if brackets.opens_between(start, close) <= brackets.closes_between(start, close) {
                break;
            }
            close = brackets.next_close(close + 2)?;
        }
        if brackets.opens_between(start, close) > brackets.closes_between(start, close) {
            return None;
        }
        let parts = split_top_level_pipes(&line[start..close]);
        let caption = parts[1..]
            .iter()
            .rev()
            .find(|option| !is_image_option(option))
            .filter(|caption| !caption.trim().is_empty());
        let caption_html = match caption {
            Some(caption) => self.render_label(caption, mode),
            None => escape(&title.text()),
        };
        self.add_link(title);
        match mode {
            LinkMode::LabelsOnly => out.push_str(&caption_html),
            LinkMode::Links if self.offline() && !self.page_exists(title) => {
                write_missing_start(title, out);
                out.push_str(&caption_html);
                out.push_str("</span>");
            }
            LinkMode::Links => {
                let url = self.page_url(title);
                out.push_str("<a href=\"");
                escape_into(out, &url);
                out.push_str("\" class=\"archivo\" title=\"");
                escape_into(out, &title.text());
                out.push_str("\">");
                out.push_str(&caption_html);
                out.push_str("</a>");
            }
        }
        Some(close + 2)
    }

    /// `[https://ejemplo.org texto]` or `[https://ejemplo.org]` (numbered); other schemes
    /// leave the `[` as text.
    fn external_link(
        &mut self,
        line: &str,
        at: usize,
        brackets: &Brackets,
        mode: LinkMode,
        out: &mut String,
    ) -> Option<usize> {
        let rest = &line[at + 1..];
        allowed_scheme_len(rest)?;
        let url_length = rest.find(|c| !is_url_char(c)).unwrap_or(rest.len());
        let url_end = at + 1 + url_length;
        let close = brackets.next_single_close(url_end)?;
        let url = decode_url(&line[at + 1..url_end]);
        safe_url(&url)?;
        let label = line[url_end..close].trim();
        let label_html = if label.is_empty() {
            self.external_links += 1;
            format!("[{}]", self.external_links)
        } else {
            self.render_label(label, mode)
        };
        match mode {
            LinkMode::LabelsOnly => out.push_str(&label_html),
            LinkMode::Links => write_external_link(&url, &label_html, out),
        }
        Some(close + 1)
    }

    /// Writes what a marker stands for.
    fn emit_marker(&mut self, index: usize, mode: LinkMode, out: &mut String) {
        let Some(marker) = self.markers.get(index) else {
            return;
        };
        match marker {
            Marker::Nowiki(html) | Marker::Pre(html) => {
                // A marker can be repeated by templates: its HTML counts against the budget.
                self.marker_bytes = self.marker_bytes.saturating_add(html.len());
                if self.marker_bytes <= MAX_EXPANSION_BYTES {
                    out.push_str(html);
                } else if !self.exhaustion_reported {
                    self.exhaustion_reported = true;
                    let error = MarkupError::ExpansionTooLarge {
                        max: MAX_EXPANSION_BYTES,
                    };
                    self.write_error(error, out);
                }
            }
            Marker::Reference {
                name,
                content,
                define_only,
            } => {
                let (name, content, define_only) = (name.clone(), content.clone(), *define_only);
                self.cite(name.as_deref(), content.as_deref(), define_only, mode, out);
            }
            Marker::References => self.write_references(out),
            Marker::Error(error) => {
                if let Some(error) = self.errors.get(*error) {
                    super::write_error_span(error, out);
                }
            }
            Marker::MissingTemplate(title) => {
                let title = title.clone();
                match mode {
                    LinkMode::LabelsOnly => escape_into(out, &title.text()),
                    LinkMode::Links if self.offline() => {
                        write_missing_start(&title, out);
                        escape_into(out, &title.text());
                        out.push_str("</span>");
                    }
                    LinkMode::Links => {
                        let url = self.page_url(&title);
                        write_red_link_start(&title, &url, out);
                        escape_into(out, &title.text());
                        out.push_str("</a>");
                    }
                }
            }
        }
    }
}

/// A link offline to a page that does not exist: its label, marked, and nothing to follow.
fn write_missing_start(title: &Title, out: &mut String) {
    out.push_str("<span class=\"nuevo\" title=\"");
    escape_into(out, &title.text());
    out.push_str(" (la página no existe)\">");
}

fn write_red_link_start(title: &Title, url: &str, out: &mut String) {
    out.push_str("<a href=\"");
    escape_into(out, url);
    out.push_str(if url.contains('?') { "&amp;" } else { "?" });
    out.push_str("accion=editar\" class=\"nuevo\" title=\"");
    escape_into(out, &title.text());
    out.push_str(" (la página no existe)\">");
}

fn write_external_link(url: &str, label_html: &str, out: &mut String) {
    out.push_str("<a class=\"externo\" rel=\"nofollow noopener\" href=\"");
    escape_into(out, url);
    out.push_str("\">");
    out.push_str(label_html);
    out.push_str("</a>");
}

fn apply_quote(formatting: &mut Formatting, quote: Quote, out: &mut String) {
    match quote {
        Quote::Italic => formatting.toggle(Kind::Italic, out),
        Quote::Bold => formatting.toggle(Kind::Bold, out),
        Quote::Both => match (
            formatting.position(Kind::Italic),
            formatting.position(Kind::Bold),
        ) {
            (Some(italic), Some(bold)) => {
                let (inner, outer) = if italic > bold {
                    (Kind::Italic, Kind::Bold)
                } else {
                    (Kind::Bold, Kind::Italic)
                };
                formatting.close(inner, out);
                formatting.close(outer, out);
            }
            (Some(_), None) => {
                formatting.close(Kind::Italic, out);
                formatting.push_quote(Kind::Bold, out);
            }
            (None, Some(_)) => {
                formatting.close(Kind::Bold, out);
                formatting.push_quote(Kind::Italic, out);
            }
            (None, None) => {
                formatting.push_quote(Kind::Italic, out);
                formatting.push_quote(Kind::Bold, out);
            }
        },
    }
}

/// A whitelisted inline tag at `at`: opened, closed (closing the ones inside it and
/// reopening them) or, for `<br>`, written. Unmatched closing tags vanish; anything else
/// leaves the `<` as text.
fn inline_tag(
    line: &str,
    at: usize,
    formatting: &mut Formatting,
    out: &mut String,
) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut j = at + 1;
    let closing = bytes.get(j) == Some(&b'/');
    if closing {
        j += 1;
    }
    let name_start = j;
    while bytes.get(j).is_some_and(u8::is_ascii_alphanumeric) {
        j += 1;
    }
    let tag = allowed_tag(&line[name_start..j].to_ascii_lowercase())?;
    match bytes.get(j) {
        Some(b'>' | b'/') => {}
        Some(b) if b.is_ascii_whitespace() => {}
        _ => return None,
    }
    let limit = (j + MAX_TAG_BYTES).min(bytes.len());
    let offset = bytes[j..limit]
        .iter()
        .position(|&b| b == b'>' || b == b'<')?;
    let gt = j + offset;
    if bytes[gt] == b'<' {
        return None;
    }
    let end = gt + 1;
    let self_closing = gt > j && bytes[gt - 1] == b'/';
    if tag == "br" {
        out.push_str("<br>");
        return Some(end);
    }
    if closing {
        formatting.close(Kind::Tag(tag), out);
        return Some(end);
    }
    if self_closing {
        return Some(end);
    }
    if formatting.open.len() >= MAX_INLINE_NESTING {
        return None;
    }
    let attributes = if tag == "span" {
        let raw = &line[j..gt];
        sanitize_attributes(raw, AllowedAttributes::Class)
    } else {
        String::new()
    };
    formatting.push(
        Open {
            kind: Kind::Tag(tag),
            open_html: format!("<{tag}{attributes}>"),
        },
        out,
    );
    Some(end)
}

/// A bare `https://…` in the text, trailing punctuation left out.
fn bare_url(line: &str, at: usize, out: &mut String) -> Option<usize> {
    let rest = &line[at..];
    let scheme = allowed_scheme_len(rest)?;
    let mut end = rest.find(|c| !is_url_char(c)).unwrap_or(rest.len());
    if let Some(quotes) = rest[..end].find("''") {
        end = quotes;
    }
    while let Some(last) = rest[..end].chars().next_back() {
        let strip = matches!(last, ',' | ';' | '.' | ':' | '!' | '?')
            || (last == ')' && !rest[..end].contains('('));
        if !strip {
            break;
        }
        end -= last.len_utf8();
    }
    if end <= scheme {
        return None;
    }
    let url = decode_url(&rest[..end]);
    safe_url(&url)?;
    write_external_link(&url, &escape(&rest[..end]), out);
    Some(at + end)
}
