//! Snippets as safe HTML: the text escaped, matches in `<b>`.

use std::collections::HashSet;

use tantivy::snippet::Snippet;

use crate::schema;

/// Escapes the characters that matter in HTML text and attribute values.
pub(crate) fn escape_html(text: &str, out: &mut String) {
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
}

/// The snippet's fragment, escaped, matches in `<b>`, with "…" where text was cut.
/// The snippet was cut from a window starting at byte `window_start` of a text of
/// `text_len` bytes.
pub(crate) fn snippet_html(snippet: &Snippet, window_start: usize, text_len: usize) -> String {
    let fragment = snippet.fragment();
    let range = snippet.fragment_range();
    let range = (range.start + window_start)..(range.end + window_start);
    let mut html = String::with_capacity(fragment.len() + 32);
    if range.start > 0 {
        html.push_str("… ");
    }
    let mut at = 0;
    for highlight in snippet.highlighted() {
        // Ranges come sorted and within the fragment; skip any that would not be.
        let (Some(before), Some(word)) = (
            fragment.get(at..highlight.start),
            fragment.get(highlight.start..highlight.end),
        ) else {
            continue;
        };
        escape_html(before, &mut html);
        html.push_str("<b>");
        escape_html(word, &mut html);
        html.push_str("</b>");
        at = highlight.end;
    }
    escape_html(fragment.get(at..).unwrap_or_default(), &mut html);
    if range.end < text_len {
        html.push_str(" …");
    }
    html
}

/// The start of `text`, escaped, when no word of the query is in it (a title-only match).
pub(crate) fn fallback_html(text: &str, max_chars: usize) -> String {
    let mut end = text.len();
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        // Cut at the last space before the limit, so no word is split.
        end = text[..cut].rfind(char::is_whitespace).unwrap_or(cut);
    }
    let mut html = String::with_capacity(end + 8);
    escape_html(text[..end].trim_end(), &mut html);
    if end < text.len() {
        html.push_str(" …");
    }
    html
}

/// Bytes kept before and after the first match when cutting a window for the snippet.
const WINDOW_BEFORE: usize = 240;
const WINDOW_AFTER: usize = 960;

/// The part of `text` around its first word whose stem is one of `stems`, and where that
/// part starts; all of `text` when it is short or nothing matches.
///
/// Stemming every word of a long article to pick a snippet costs more than the search
/// itself, so only words that start with a searched stem (Spanish stems are prefixes of
/// the folded word) are stemmed, and the snippet generator then works on the window.
pub(crate) fn match_window<'a>(text: &'a str, stems: &HashSet<String>) -> (usize, &'a str) {
    if text.len() <= WINDOW_BEFORE + WINDOW_AFTER || stems.is_empty() {
        return (0, text);
    }
    let mut folded = schema::folded_analyzer();
    let mut stemmer = schema::spanish_analyzer();
    let mut stream = folded.token_stream(text);
    let mut found = None;
    while stream.advance() {
        let token = stream.token();
        if stems.iter().any(|s| token.text.starts_with(s.as_str()))
            && schema::tokens(&mut stemmer, &token.text)
                .first()
                .is_some_and(|stem| stems.contains(stem))
        {
            found = Some(token.offset_from);
            break;
        }
    }
    let Some(at) = found else {
        return (0, text);
    };
    let start = floor_char_boundary(text, at.saturating_sub(WINDOW_BEFORE));
    let end = floor_char_boundary(text, at.saturating_add(WINDOW_AFTER).min(text.len()));
    (start, &text[start..end])
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
