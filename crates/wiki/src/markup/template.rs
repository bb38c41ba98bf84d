//! Templates: `{{Name|a|key=value}}` and parameters `{{{1|default}}}` read into a tree by a
//! stack machine (linear, unclosed braces fall back to text), then expanded with bounded
//! depth, calls and output.

use std::collections::HashMap;
use std::rc::Rc;

use super::strip::{Marker, Mode, clean};
use super::title::{Namespace, Title, normalize_title, percent_encode_path};
use super::{
    MAX_EXPANSION_BYTES, MAX_INPUT_BYTES, MAX_TEMPLATE_CALLS, MAX_TEMPLATE_DEPTH,
    MAX_TEMPLATE_SOURCE_BYTES, MarkupError, Renderer,
};

/// Deepest nesting of braces and links the reader builds; deeper openers stay text, so the
/// tree (and the recursion over it) has a fixed bound.
const MAX_BRACE_NESTING: usize = 40;

/// A piece of wikitext before expansion.
#[derive(Debug)]
pub(crate) enum Node {
    /// Plain text.
    Text(String),
    /// `{{…|…}}`: its parts, split at top-level `|`.
    Template(Vec<Vec<Node>>),
    /// `{{{…|…}}}`: name and default.
    Parameter(Vec<Vec<Node>>),
}

/// Template arguments by name (`1`, `2`… for positional ones).
pub(crate) type Arguments = HashMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Root,
    Braces(usize),
    Link,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    parts: Vec<Vec<Node>>,
}

fn push_text(part: &mut Vec<Node>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Node::Text(last)) = part.last_mut() {
        last.push_str(text);
    } else {
        part.push(Node::Text(text.to_owned()));
    }
}

fn push_node(part: &mut Vec<Node>, node: Node) {
    match node {
        Node::Text(text) => push_text(part, &text),
        other => part.push(other),
    }
}

fn current_part(stack: &mut [Frame]) -> &mut Vec<Node> {
    let frame = stack
        .last_mut()
        .expect("the root frame is never popped while reading");
    frame.parts.last_mut().expect("every frame has a part")
}

/// Turns an unclosed frame back into the text it was read from.
fn flatten(parent: &mut Vec<Node>, frame: Frame) {
    match frame.kind {
        FrameKind::Braces(count) => push_text(parent, &"{".repeat(count)),
        FrameKind::Link => push_text(parent, "[["),
        FrameKind::Root => {}
    }
    for (index, part) in frame.parts.into_iter().enumerate() {
        if index > 0 {
            push_text(parent, "|");
        }
        for node in part {
            push_node(parent, node);
        }
    }
    if frame.kind == FrameKind::Link {
        push_text(parent, "]]");
    }
}

/// Reads wikitext into text, templates and parameters. `[[…]]` inside a template is tracked
/// so that the `|` of a link does not split the template's arguments.
pub(crate) fn parse(text: &str) -> Vec<Node> {
    let bytes = text.as_bytes();
    let mut stack = vec![Frame {
        kind: FrameKind::Root,
        parts: vec![Vec::new()],
    }];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                let count = run_length(bytes, i, b'{');
                if count >= 2 && stack.len() < MAX_BRACE_NESTING {
                    stack.push(Frame {
                        kind: FrameKind::Braces(count),
                        parts: vec![Vec::new()],
                    });
                } else {
                    push_text(current_part(&mut stack), &text[i..i + count]);
                }
                i += count;
            }
            b'}' => {
                let mut count = run_length(bytes, i, b'}');
                i += count;
                close_braces(&mut stack, &mut count);
                push_text(current_part(&mut stack), &"}".repeat(count));
            }
            b'[' if bytes.get(i + 1) == Some(&b'[')
                && stack.len() > 1
                && stack.len() < MAX_BRACE_NESTING =>
            {
                stack.push(Frame {
                    kind: FrameKind::Link,
                    parts: vec![Vec::new()],
                });
                i += 2;
            }
            b']' if bytes.get(i + 1) == Some(&b']')
                && stack
                    .last()
                    .is_some_and(|frame| frame.kind == FrameKind::Link) =>
            {
                let frame = stack.pop().expect("checked above");
                flatten(current_part(&mut stack), frame);
                i += 2;
            }
            b'|' if matches!(
                stack.last().map(|frame| frame.kind),
                Some(FrameKind::Braces(_))
            ) =>
            {
                if let Some(frame) = stack.last_mut() {
                    frame.parts.push(Vec::new());
                }
                i += 1;
            }
            _ => {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|b| matches!(b, b'{' | b'}' | b'[' | b']' | b'|'))
                    .map_or(bytes.len(), |offset| i + 1 + offset);
                push_text(current_part(&mut stack), &text[i..end]);
                i = end;
            }
        }
    }
    while stack.len() > 1 {
        let frame = stack.pop().expect("length checked");
        flatten(current_part(&mut stack), frame);
    }
    stack
        .pop()
        .and_then(|mut root| root.parts.pop())
        .unwrap_or_default()
}

/// Closes brace frames with a run of `}`: three close a parameter, two a template, as
/// MediaWiki pairs them (`{{{{{1}}}}}` is a template named by a parameter).
fn close_braces(stack: &mut Vec<Frame>, count: &mut usize) {
    while *count >= 2 {
        let Some(top) = stack.last_mut() else { return };
        let FrameKind::Braces(open) = top.kind else {
            return;
        };
        let matched = open.min(*count);
        if matched < 2 {
            return;
        }
        let used = if matched >= 3 { 3 } else { 2 };
        let parts = std::mem::take(&mut top.parts);
        let node = if used == 3 {
            Node::Parameter(parts)
        } else {
            Node::Template(parts)
        };
        *count -= used;
        let remaining = open - used;
        if remaining >= 2 {
            top.kind = FrameKind::Braces(remaining);
            top.parts = vec![vec![node]];
        } else {
            stack.pop();
            let part = current_part(stack);
            if remaining == 1 {
                push_text(part, "{");
            }
            push_node(part, node);
        }
    }
}

fn run_length(bytes: &[u8], from: usize, byte: u8) -> usize {
    bytes[from..].iter().take_while(|&&b| b == byte).count()
}

/// Where the first top-level `=` of an argument is: (node index, byte offset in that text).
fn find_equals(part: &[Node]) -> Option<(usize, usize)> {
    part.iter()
        .enumerate()
        .find_map(|(index, node)| match node {
            Node::Text(text) => text.find('=').map(|offset| (index, offset)),
            _ => None,
        })
}

/// Whether template output begins with block syntax, which needs a line of its own.
fn starts_with_block(text: &str) -> bool {
    text.starts_with("{|") || text.starts_with(['*', '#', ':', ';'])
}

/// The title a template call names: without prefix it is in the template namespace; a leading
/// colon names an article.
fn template_title(name: &str) -> Option<Title> {
    if let Some(article) = name.strip_prefix(':') {
        return normalize_title(article)
            .ok()
            .filter(|title| title.namespace() == Namespace::Main);
    }
    let title = normalize_title(name).ok()?;
    Some(match title.namespace() {
        Namespace::Main => title.with_namespace(Namespace::Template),
        _ => title,
    })
}

/// `subst:` and `safesubst:` only matter when saving; when showing, the call is a plain one.
fn strip_substitution(name: &str) -> &str {
    for prefix in ["safesubst:", "subst:"] {
        if let Some(start) = name.get(..prefix.len())
            && start.eq_ignore_ascii_case(prefix)
        {
            return name[prefix.len()..].trim_start();
        }
    }
    name
}

/// Numbers compare as numbers in `#ifeq` and `#switch` (`01` equals `1`).
fn values_equal(left: &str, right: &str) -> bool {
    left == right
        || matches!(
            (left.parse::<f64>(), right.parse::<f64>()),
            (Ok(a), Ok(b)) if a == b
        )
}

impl Renderer<'_> {
    /// Expands `nodes` into `out`, with the arguments of the template being expanded (none at
    /// page level).
    pub(crate) fn expand(
        &mut self,
        nodes: &[Node],
        arguments: Option<&Arguments>,
        depth: usize,
        out: &mut String,
    ) {
        for node in nodes {
            match node {
                Node::Text(text) => {
                    self.spend(text.len());
                    out.push_str(text);
                }
                Node::Parameter(parts) => self.expand_parameter(parts, arguments, depth, out),
                Node::Template(parts) => self.expand_template(parts, arguments, depth, out),
            }
        }
    }

    fn expand_to_string(
        &mut self,
        nodes: &[Node],
        arguments: Option<&Arguments>,
        depth: usize,
    ) -> String {
        let mut out = String::new();
        self.expand(nodes, arguments, depth, &mut out);
        out
    }

    /// Counts expanded bytes; past the limit no further template is expanded.
    fn spend(&mut self, bytes: usize) {
        self.expanded_bytes = self.expanded_bytes.saturating_add(bytes);
        if self.expanded_bytes > MAX_EXPANSION_BYTES && self.exhausted.is_none() {
            self.exhausted = Some(MarkupError::ExpansionTooLarge {
                max: MAX_EXPANSION_BYTES,
            });
        }
    }

    fn expand_parameter(
        &mut self,
        parts: &[Vec<Node>],
        arguments: Option<&Arguments>,
        depth: usize,
        out: &mut String,
    ) {
        let name = self.expand_to_string(&parts[0], arguments, depth);
        let name = name.trim();
        if let Some(value) = arguments.and_then(|arguments| arguments.get(name)) {
            if self.exhausted.is_none() {
                self.spend(value.len());
                out.push_str(value);
            }
            return;
        }
        match parts.get(1) {
            Some(default) => self.expand(default, arguments, depth, out),
            None => {
                out.push_str("{{{");
                out.push_str(name);
                out.push_str("}}}");
            }
        }
    }

    fn expand_template(
        &mut self,
        parts: &[Vec<Node>],
        arguments: Option<&Arguments>,
        depth: usize,
        out: &mut String,
    ) {
        if self.exhausted.is_some() {
            self.report_exhaustion(out);
            return;
        }
        let head = self.expand_to_string(&parts[0], arguments, depth);
        let name = strip_substitution(head.trim());
        match name {
            "!" => return out.push('|'),
            "=" => return out.push('='),
            _ => {}
        }
        if parts.len() == 1
            && let Some(value) = self.magic_variable(name)
        {
            self.spend(value.len());
            out.push_str(&value);
            return;
        }
        if let Some((function, first)) = name.split_once(':') {
            let function = function.trim().to_lowercase();
            if function.starts_with('#')
                || matches!(function.as_str(), "lc" | "uc" | "lcfirst" | "ucfirst")
            {
                let first = first.trim().to_owned();
                return self.parser_function(&function, &first, &parts[1..], arguments, depth, out);
            }
        }
        let Some(title) = template_title(name) else {
            // Not a possible name: the call stays text, as MediaWiki shows it.
            out.push_str("{{");
            out.push_str(&head);
            for part in &parts[1..] {
                out.push('|');
                self.expand(part, arguments, depth, out);
            }
            out.push_str("}}");
            return;
        };
        let error = if depth >= MAX_TEMPLATE_DEPTH {
            Some(MarkupError::TemplateTooDeep {
                name: title.text(),
                max: MAX_TEMPLATE_DEPTH,
            })
        } else if self.template_stack.contains(&title) {
            Some(MarkupError::TemplateLoop { name: title.text() })
        } else {
            None
        };
        if let Some(error) = error {
            out.push_str(&self.error_marker(error));
            return;
        }
        self.template_calls += 1;
        if self.template_calls > MAX_TEMPLATE_CALLS {
            self.exhausted = Some(MarkupError::TooManyTemplates {
                max: MAX_TEMPLATE_CALLS,
            });
            self.report_exhaustion(out);
            return;
        }
        let body = match self.load_template(&title) {
            Ok(Some(body)) => body,
            Ok(None) => {
                out.push_str(&self.add_marker(Marker::MissingTemplate(title)));
                return;
            }
            Err(error) => {
                out.push_str(&self.error_marker(error));
                return;
            }
        };
        let call_arguments = self.call_arguments(&parts[1..], arguments, depth);
        self.template_stack.push(title);
        let expanded = {
            let mut expanded = String::new();
            self.expand(&body, Some(&call_arguments), depth + 1, &mut expanded);
            expanded
        };
        self.template_stack.pop();
        if starts_with_block(&expanded) && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&expanded);
    }

    /// `{{PAGENAME}}`, `{{FULLPAGENAME}}` (and their URL-encoded `E` forms), `{{NAMESPACE}}`,
    /// `{{SITENAME}}`.
    fn magic_variable(&self, name: &str) -> Option<String> {
        let page = || self.context.page_title();
        Some(match name {
            "PAGENAME" => page()
                .map(|title| title.name().to_owned())
                .unwrap_or_default(),
            "PAGENAMEE" => page()
                .map(|title| percent_encode_path(&title.name().replace(' ', "_")))
                .unwrap_or_default(),
            "FULLPAGENAME" => page().map(|title| title.text()).unwrap_or_default(),
            "FULLPAGENAMEE" => page()
                .map(|title| percent_encode_path(&title.key()))
                .unwrap_or_default(),
            "NAMESPACE" => page()
                .map(|title| title.namespace().prefix().to_owned())
                .unwrap_or_default(),
            "SITENAME" => self.context.site_name(),
            _ => return None,
        })
    }

    /// Emits the exhaustion error once; later calls emit nothing.
    fn report_exhaustion(&mut self, out: &mut String) {
        if !self.exhaustion_reported
            && let Some(error) = self.exhausted.clone()
        {
            self.exhaustion_reported = true;
            out.push_str(&self.error_marker(error));
        }
    }

    /// Stores an error and returns the marker that shows it.
    pub(crate) fn error_marker(&mut self, error: MarkupError) -> String {
        let index = self.errors.len();
        self.errors.push(error);
        self.add_marker(Marker::Error(index))
    }

    fn call_arguments(
        &mut self,
        parts: &[Vec<Node>],
        arguments: Option<&Arguments>,
        depth: usize,
    ) -> Arguments {
        let mut call_arguments = Arguments::new();
        let mut position = 0_usize;
        for part in parts {
            if let Some((index, offset)) = find_equals(part) {
                let Node::Text(text) = &part[index] else {
                    continue;
                };
                let mut key = self.expand_to_string(&part[..index], arguments, depth);
                key.push_str(&text[..offset]);
                let mut value = text[offset + 1..].to_owned();
                self.expand(&part[index + 1..], arguments, depth, &mut value);
                call_arguments.insert(key.trim().to_owned(), value.trim().to_owned());
            } else {
                position += 1;
                let value = self.expand_to_string(part, arguments, depth);
                call_arguments.insert(position.to_string(), value);
            }
        }
        call_arguments
    }

    /// The parsed body of a template, read once per render; `None` when it does not exist.
    fn load_template(&mut self, title: &Title) -> Result<Option<Rc<Vec<Node>>>, MarkupError> {
        if let Some(cached) = self.template_cache.get(title) {
            return Ok(cached.clone());
        }
        let Some(source) = self.context.template(title) else {
            self.template_cache.insert(title.clone(), None);
            return Ok(None);
        };
        if source.len() > MAX_INPUT_BYTES {
            self.template_cache.insert(title.clone(), None);
            return Err(MarkupError::TemplateTooLarge {
                name: title.text(),
                bytes: source.len(),
                max: MAX_INPUT_BYTES,
            });
        }
        self.template_source_bytes += source.len();
        if self.template_source_bytes > MAX_TEMPLATE_SOURCE_BYTES {
            let error = MarkupError::ExpansionTooLarge {
                max: MAX_EXPANSION_BYTES,
            };
            self.exhausted = Some(error.clone());
            self.exhaustion_reported = true;
            return Err(error);
        }
        let stripped = self.strip(&clean(&source), Mode::Template);
        let body = Rc::new(parse(&stripped));
        self.template_cache
            .insert(title.clone(), Some(Rc::clone(&body)));
        Ok(Some(body))
    }

    /// `#if`, `#ifeq`, `#switch`, `lc`, `uc`, `lcfirst`, `ucfirst`: only the chosen branch is
    /// expanded.
    fn parser_function(
        &mut self,
        function: &str,
        first: &str,
        rest: &[Vec<Node>],
        arguments: Option<&Arguments>,
        depth: usize,
        out: &mut String,
    ) {
        let branch = |renderer: &mut Self, index: usize, out: &mut String| {
            if let Some(part) = rest.get(index) {
                let value = renderer.expand_to_string(part, arguments, depth);
                out.push_str(value.trim());
            }
        };
        match function {
            "#if" => branch(self, if first.is_empty() { 1 } else { 0 }, out),
            "#ifeq" => {
                let Some(other) = rest.first() else { return };
                let other = self.expand_to_string(other, arguments, depth);
                let index = if values_equal(first, other.trim()) {
                    1
                } else {
                    2
                };
                branch(self, index, out);
            }
            "#switch" => self.switch(first, rest, arguments, depth, out),
            "lc" => out.push_str(&first.to_lowercase()),
            "uc" => out.push_str(&first.to_uppercase()),
            "lcfirst" | "ucfirst" => {
                let mut chars = first.chars();
                if let Some(initial) = chars.next() {
                    if function == "lcfirst" {
                        out.extend(initial.to_lowercase());
                    } else {
                        out.extend(initial.to_uppercase());
                    }
                    out.push_str(chars.as_str());
                }
            }
            _ => {
                let error = MarkupError::UnknownParserFunction {
                    name: function.to_owned(),
                };
                out.push_str(&self.error_marker(error));
            }
        }
    }

    /// `{{#switch: value | a = x | b | c = y | #default = z}}`: `b` falls through to `y`; a last
    /// case without `=` is the default.
    fn switch(
        &mut self,
        value: &str,
        cases: &[Vec<Node>],
        arguments: Option<&Arguments>,
        depth: usize,
        out: &mut String,
    ) {
        let mut matched = false;
        let mut default: Option<String> = None;
        for (index, case) in cases.iter().enumerate() {
            match find_equals(case) {
                Some((node, offset)) => {
                    let Node::Text(text) = &case[node] else {
                        continue;
                    };
                    let mut key = self.expand_to_string(&case[..node], arguments, depth);
                    key.push_str(&text[..offset]);
                    let key = key.trim();
                    if matched || values_equal(key, value) {
                        let mut result = text[offset + 1..].to_owned();
                        self.expand(&case[node + 1..], arguments, depth, &mut result);
                        out.push_str(result.trim());
                        return;
                    }
                    if key == "#default" {
                        let mut result = text[offset + 1..].to_owned();
                        self.expand(&case[node + 1..], arguments, depth, &mut result);
                        default = Some(result.trim().to_owned());
                    }
                }
                None => {
                    let key = self.expand_to_string(case, arguments, depth);
                    if index + 1 == cases.len() {
                        default = Some(key.trim().to_owned());
                    } else if values_equal(key.trim(), value) {
                        matched = true;
                    }
                }
            }
        }
        if let Some(default) = default {
            out.push_str(&default);
        }
    }
}
