//! Block structure, line by line: headings, lists, tables, rules, `<pre>` lines and
//! paragraphs, each holding inline text.

use super::html::{AllowedAttributes, escape_into, html_to_text, sanitize_attributes};
use super::inline::{LinkMode, anchor_of};
use super::strip::{MARK, Marker, marker_at};
use super::{Heading, Renderer};

/// Deepest nesting of tables; deeper `{|` lines stay text.
const MAX_TABLE_NESTING: usize = 6;

/// Deepest list; further prefix characters are text.
const MAX_LIST_DEPTH: usize = 32;

/// One open list level.
#[derive(Debug)]
struct ListLevel {
    /// The prefix character, with `;` read as `:` (both make a `<dl>`).
    kind: u8,
    list: &'static str,
    item: &'static str,
}

fn list_tag(prefix: u8) -> &'static str {
    match prefix {
        b'*' => "ul",
        b'#' => "ol",
        _ => "dl",
    }
}

fn item_tag(prefix: u8) -> &'static str {
    match prefix {
        b'*' | b'#' => "li",
        b';' => "dt",
        _ => "dd",
    }
}

fn same_list(prefix: u8) -> u8 {
    if prefix == b';' { b':' } else { prefix }
}

/// `== Título ==` → level and inner text; the level is the smaller side, at most 6.
fn heading(line: &str) -> Option<(u8, &str)> {
    let line = line.trim_end();
    if !line.starts_with('=') || !line.ends_with('=') {
        return None;
    }
    let left = line.bytes().take_while(|&b| b == b'=').count();
    if left == line.len() {
        return None;
    }
    let right = line.bytes().rev().take_while(|&b| b == b'=').count();
    let level = left.min(right).min(6);
    let inner = line[level..line.len() - level].trim();
    if inner.is_empty() {
        return None;
    }
    Some((u8::try_from(level).ok()?, inner))
}

/// The line after a `{|` line where its table ends (after the matching `|}`).
fn table_end(lines: &[&str], start: usize) -> usize {
    let mut depth = 0_usize;
    for (index, line) in lines.iter().enumerate().skip(start) {
        let line = line.trim_start();
        if line.starts_with("{|") {
            depth += 1;
        } else if line.starts_with("|}") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return index + 1;
            }
        }
    }
    lines.len()
}

/// The `:` that separates `; término : definición`, outside links and URLs.
fn definition_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0_usize;
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && !text[i + 1..].starts_with("//") => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits a table line into cells at `||` (and `!!` for headers).
fn split_cells(text: &str, header: bool) -> Vec<&str> {
    let mut cells = Vec::new();
    let mut rest = text;
    loop {
        let bars = rest.find("||");
        let bangs = if header { rest.find("!!") } else { None };
        let next = match (bars, bangs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match next {
            Some(at) => {
                cells.push(&rest[..at]);
                rest = &rest[at + 2..];
            }
            None => {
                cells.push(rest);
                return cells;
            }
        }
    }
}

/// `atributos | contenido` → both; a `|` inside a link or after a marker is content.
fn split_cell_attributes(cell: &str) -> (&str, &str) {
    match cell.find('|') {
        Some(at) if !cell[..at].contains(['[', MARK]) => (&cell[..at], &cell[at + 1..]),
        _ => ("", cell),
    }
}

/// A table cell being read: its first line and any continuation lines.
#[derive(Debug)]
struct Cell {
    tag: &'static str,
    attributes: String,
    lines: Vec<String>,
}

/// A table's open row.
#[derive(Debug, Default)]
struct Row {
    open: bool,
    attributes: String,
}

impl Renderer<'_> {
    /// Renders block-level wikitext; `depth` counts tables inside table cells.
    pub(crate) fn render_blocks(&mut self, text: &str, depth: usize, out: &mut String) {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut paragraph: Vec<&str> = Vec::new();
        let mut preformatted: Vec<&str> = Vec::new();
        let mut list: Vec<ListLevel> = Vec::new();
        let mut index = 0;
        while index < lines.len() {
            let line = lines[index];
            index += 1;
            let is_list = line.starts_with(['*', '#', ':', ';']);
            if !is_list {
                close_lists(&mut list, out);
            }
            if line.trim_start().starts_with("{|") && depth < MAX_TABLE_NESTING {
                self.flush_paragraph(&mut paragraph, out);
                self.flush_preformatted(&mut preformatted, out);
                let end = table_end(&lines, index - 1);
                self.render_table(&lines[index - 1..end], depth, out);
                index = end;
                continue;
            }
            if self.is_block_marker_line(line) {
                self.flush_paragraph(&mut paragraph, out);
                self.flush_preformatted(&mut preformatted, out);
                self.render_inline(line.trim(), LinkMode::Links, out);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                continue;
            }
            if let Some((level, inner)) = heading(line) {
                self.flush_paragraph(&mut paragraph, out);
                self.flush_preformatted(&mut preformatted, out);
                self.write_heading(level, inner, out);
                continue;
            }
            if line.starts_with("----") {
                self.flush_paragraph(&mut paragraph, out);
                self.flush_preformatted(&mut preformatted, out);
                out.push_str("<hr>\n");
                let rest = line.trim_start_matches('-');
                if !rest.trim().is_empty() {
                    paragraph.push(rest);
                }
                continue;
            }
            if is_list {
                self.flush_paragraph(&mut paragraph, out);
                self.flush_preformatted(&mut preformatted, out);
                self.list_line(line, &mut list, out);
            } else if line.trim().is_empty() {
                self.flush_paragraph(&mut paragraph, out);
                self.flush_preformatted(&mut preformatted, out);
            } else if let Some(content) = line.strip_prefix(' ') {
                self.flush_paragraph(&mut paragraph, out);
                preformatted.push(content);
            } else {
                self.flush_preformatted(&mut preformatted, out);
                paragraph.push(line);
            }
        }
        close_lists(&mut list, out);
        self.flush_paragraph(&mut paragraph, out);
        self.flush_preformatted(&mut preformatted, out);
    }

    /// A line of nothing but markers, one of them a block (`<pre>`, `<references/>`).
    fn is_block_marker_line(&self, line: &str) -> bool {
        let mut rest = line.trim();
        if !rest.starts_with(MARK) {
            return false;
        }
        let mut block = false;
        while !rest.is_empty() {
            let Some((index, length)) = marker_at(rest) else {
                return false;
            };
            block |= self.markers.get(index).is_some_and(Marker::is_block);
            rest = rest[length..].trim_start();
        }
        block
    }

    fn flush_paragraph(&mut self, paragraph: &mut Vec<&str>, out: &mut String) {
        if paragraph.is_empty() {
            return;
        }
        let text = paragraph.join("\n");
        paragraph.clear();
        let mut html = String::new();
        self.render_inline(&text, LinkMode::Links, &mut html);
        // A line of only categories or magic words leaves nothing to show.
        if html.trim().is_empty() {
            return;
        }
        out.push_str("<p>");
        out.push_str(html.trim());
        out.push_str("</p>\n");
    }

    fn flush_preformatted(&mut self, lines: &mut Vec<&str>, out: &mut String) {
        if lines.is_empty() {
            return;
        }
        let text = lines.join("\n");
        lines.clear();
        out.push_str("<pre>");
        self.render_inline(&text, LinkMode::Links, out);
        out.push_str("</pre>\n");
    }

    fn write_heading(&mut self, level: u8, inner: &str, out: &mut String) {
        let mut html = String::new();
        self.render_inline(inner, LinkMode::Links, &mut html);
        let text = html_to_text(&html)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let base = match anchor_of(&text) {
            anchor if anchor.is_empty() => "seccion".to_owned(),
            anchor => anchor,
        };
        let mut anchor = base.clone();
        let mut suffix = 2;
        while !self.anchors.insert(anchor.clone()) {
            anchor = format!("{base}_{suffix}");
            suffix += 1;
        }
        out.push_str(&format!("<h{level} id=\""));
        escape_into(out, &anchor);
        out.push_str("\">");
        out.push_str(&html);
        out.push_str(&format!("</h{level}>\n"));
        self.headings.push(Heading {
            level,
            text,
            anchor,
        });
    }

    /// One line of a list, following MediaWiki: the prefix shared with the previous line keeps
    /// its lists open, deeper levels close, new ones open.
    fn list_line(&mut self, line: &str, levels: &mut Vec<ListLevel>, out: &mut String) {
        let prefix_length = line
            .bytes()
            .take_while(|b| matches!(b, b'*' | b'#' | b':' | b';'))
            .count()
            .min(MAX_LIST_DEPTH);
        let prefix = &line.as_bytes()[..prefix_length];
        let content = &line[prefix_length..];
        let common = levels
            .iter()
            .zip(prefix)
            .take_while(|(level, byte)| level.kind == same_list(**byte))
            .count();
        while levels.len() > common {
            if let Some(level) = levels.pop() {
                out.push_str(&format!("</{}></{}>", level.item, level.list));
            }
        }
        if prefix_length == common
            && let Some(level) = levels.last_mut()
        {
            let item = item_tag(prefix[common - 1]);
            out.push_str(&format!("</{}><{item}>", level.item));
            level.item = item;
        }
        while levels.len() < prefix_length {
            let byte = prefix[levels.len()];
            let (list, item) = (list_tag(byte), item_tag(byte));
            out.push_str(&format!("<{list}><{item}>"));
            levels.push(ListLevel {
                kind: same_list(byte),
                list,
                item,
            });
        }
        let content = content.trim();
        match definition_colon(content).filter(|_| prefix.last() == Some(&b';')) {
            Some(colon) => {
                self.render_inline(content[..colon].trim(), LinkMode::Links, out);
                out.push_str("</dt><dd>");
                if let Some(level) = levels.last_mut() {
                    level.item = "dd";
                }
                self.render_inline(content[colon + 1..].trim(), LinkMode::Links, out);
            }
            None => self.render_inline(content, LinkMode::Links, out),
        }
    }

    /// A `{| … |}` table; `lines` runs from the `{|` line to the `|}` line (or the end).
    fn render_table(&mut self, lines: &[&str], depth: usize, out: &mut String) {
        let first = lines[0].trim_start();
        let attributes = sanitize_attributes(&first[2..], AllowedAttributes::Class);
        out.push_str(&format!("<table{attributes}>\n"));
        let mut row = Row::default();
        let mut cell: Option<Cell> = None;
        let mut trailing = "";
        let mut index = 1;
        while index < lines.len() {
            let line = lines[index];
            let trimmed = line.trim_start();
            if trimmed.starts_with("{|") {
                let end = table_end(lines, index);
                let nested = lines[index..end].iter().map(|line| (*line).to_owned());
                match &mut cell {
                    Some(cell) => cell.lines.extend(nested),
                    None => {
                        cell = Some(Cell {
                            tag: "td",
                            attributes: String::new(),
                            lines: nested.collect(),
                        });
                    }
                }
                index = end;
                continue;
            }
            index += 1;
            if let Some(rest) = trimmed.strip_prefix("|}") {
                trailing = rest;
                break;
            }
            if let Some(rest) = trimmed.strip_prefix("|+") {
                self.flush_cell(&mut cell, &mut row, depth, out);
                let (raw_attributes, content) = split_cell_attributes(rest);
                let attributes = sanitize_attributes(raw_attributes, AllowedAttributes::Class);
                out.push_str(&format!("<caption{attributes}>"));
                self.render_inline(content.trim(), LinkMode::Links, out);
                out.push_str("</caption>\n");
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix("|-") {
                self.flush_cell(&mut cell, &mut row, depth, out);
                if row.open {
                    out.push_str("</tr>\n");
                }
                let attributes =
                    sanitize_attributes(rest.trim_start_matches('-'), AllowedAttributes::Class);
                row = Row {
                    open: false,
                    attributes,
                };
                continue;
            }
            let cells = match (trimmed.strip_prefix('!'), trimmed.strip_prefix('|')) {
                (Some(rest), _) => Some(("th", split_cells(rest, true))),
                (None, Some(rest)) => Some(("td", split_cells(rest, false))),
                (None, None) => None,
            };
            let Some((tag, cells)) = cells else {
                match &mut cell {
                    Some(cell) => cell.lines.push(line.to_owned()),
                    None if line.trim().is_empty() => {}
                    None => {
                        let lines = vec![line.to_owned()];
                        cell = Some(Cell {
                            tag: "td",
                            attributes: String::new(),
                            lines,
                        });
                    }
                }
                continue;
            };
            self.flush_cell(&mut cell, &mut row, depth, out);
            let count = cells.len();
            for (position, text) in cells.into_iter().enumerate() {
                let (raw_attributes, content) = split_cell_attributes(text);
                let attributes = sanitize_attributes(raw_attributes, AllowedAttributes::Cell);
                // The first line follows the `|`: its leading spaces are not a `<pre>`.
                let lines = vec![content.trim_start().to_owned()];
                cell = Some(Cell {
                    tag,
                    attributes,
                    lines,
                });
                // Only the last cell of a line can continue on the next lines.
                if position + 1 < count {
                    self.flush_cell(&mut cell, &mut row, depth, out);
                }
            }
        }
        self.flush_cell(&mut cell, &mut row, depth, out);
        if row.open {
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        if !trailing.trim().is_empty() {
            self.render_blocks(trailing, depth + 1, out);
        }
    }

    fn flush_cell(
        &mut self,
        cell: &mut Option<Cell>,
        row: &mut Row,
        depth: usize,
        out: &mut String,
    ) {
        let Some(mut cell) = cell.take() else { return };
        if !row.open {
            out.push_str(&format!("<tr{}>\n", row.attributes));
            row.open = true;
        }
        while cell.lines.len() > 1 && cell.lines.last().is_some_and(|line| line.trim().is_empty()) {
            cell.lines.pop();
        }
        out.push_str(&format!("<{}{}>", cell.tag, cell.attributes));
        if let [line] = cell.lines.as_slice() {
            self.render_inline(line.trim(), LinkMode::Links, out);
        } else {
            let mut html = String::new();
            self.render_blocks(&cell.lines.join("\n"), depth + 1, &mut html);
            out.push_str(html.trim_end());
        }
        out.push_str(&format!("</{}>\n", cell.tag));
    }
}

fn close_lists(levels: &mut Vec<ListLevel>, out: &mut String) {
    if levels.is_empty() {
        return;
    }
    while let Some(level) = levels.pop() {
        out.push_str(&format!("</{}></{}>", level.item, level.list));
    }
    out.push('\n');
}
