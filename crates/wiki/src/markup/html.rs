//! The only ways text reaches the HTML: escaped, as a whitelisted attribute, or as a URL whose
//! scheme was checked.

/// Schemes an external link may use; `javascript:`, `data:`, `vbscript:`… stay text.
const ALLOWED_SCHEMES: &[&str] = &["https://", "http://", "mailto:"];

/// Named entities passed through as written: common in articles, and an entity can only ever
/// become text, never markup.
const NAMED_ENTITIES: &[&str] = &[
    "nbsp", "amp", "lt", "gt", "quot", "apos", "ndash", "mdash", "laquo", "raquo", "lsquo",
    "rsquo", "ldquo", "rdquo", "bdquo", "sbquo", "copy", "reg", "trade", "deg", "middot", "hellip",
    "times", "divide", "minus", "plusmn", "frac12", "frac14", "frac34", "sup1", "sup2", "sup3",
    "euro", "cent", "pound", "yen", "bull", "iexcl", "iquest", "ordf", "ordm", "sect", "para",
    "micro", "larr", "rarr", "uarr", "darr", "harr", "thinsp", "ensp", "emsp", "shy", "aacute",
    "eacute", "iacute", "oacute", "uacute", "Aacute", "Eacute", "Iacute", "Oacute", "Uacute",
    "ntilde", "Ntilde", "uuml", "Uuml", "auml", "ouml", "Auml", "Ouml", "ccedil", "Ccedil",
    "agrave", "egrave", "ograve", "szlig", "alpha", "beta", "gamma", "delta", "pi", "sigma",
    "omega", "Omega", "mu", "lambda", "theta", "infin", "asymp", "ne", "le", "ge", "prime",
    "Prime", "dagger", "Dagger", "permil", "zwj", "zwnj", "lrm", "rlm",
];

/// Appends `text` with `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
}

/// `text` escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// The length of the allowed scheme `text` starts with, in any letter case.
pub(crate) fn allowed_scheme_len(text: &str) -> Option<usize> {
    ALLOWED_SCHEMES.iter().find_map(|scheme| {
        text.get(..scheme.len())
            .filter(|start| start.eq_ignore_ascii_case(scheme))
            .map(|_| scheme.len())
    })
}

/// Whether a character may be part of a URL written in wikitext (MediaWiki's class).
pub(crate) fn is_url_char(character: char) -> bool {
    !(character.is_control()
        || character.is_whitespace()
        || matches!(
            character,
            '[' | ']' | '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`' | '\u{FFFD}'
        ))
}

/// The URL if it has an allowed scheme, something after it, and only URL characters.
pub(crate) fn safe_url(url: &str) -> Option<&str> {
    let scheme = allowed_scheme_len(url)?;
    (url.len() > scheme && url.chars().all(is_url_char)).then_some(url)
}

/// A URL that came from the host (the context's page address): kept if it is a site path or
/// an allowed absolute URL.
pub(crate) fn is_safe_host_url(url: &str) -> bool {
    ((url.starts_with('/') && !url.starts_with("//")) || safe_url(url).is_some())
        && !url
            .chars()
            .any(|character| character.is_control() || character.is_whitespace())
}

/// If `text` starts with a character reference (`&nbsp;`, `&#233;`, `&#x1F600;`), the HTML to
/// emit for it and the length consumed.
pub(crate) fn entity_at(text: &str) -> Option<(String, usize)> {
    let body = text.strip_prefix('&')?;
    let end = body
        .char_indices()
        .take(33)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i)?;
    let name = &body[..end];
    let consumed = end + 2;
    if let Some(number) = name.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.len() <= 6 => u32::from_str_radix(hex, 16).ok(),
            None if !number.is_empty() && number.len() <= 7 => number.parse().ok(),
            _ => None,
        }?;
        let character = char::from_u32(value)
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .filter(|&c| c != '\u{7f}')?;
        return Some((escape(&character.to_string()), consumed));
    }
    NAMED_ENTITIES
        .contains(&name)
        .then(|| (format!("&{name};"), consumed))
}

/// The attributes a tag may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllowedAttributes {
    /// Only `class` (tables, rows, captions, spans).
    Class,
    /// `class`, `colspan`, `rowspan` (table cells).
    Cell,
}

/// Parses wikitext attributes (`class="x" colspan=2 style='…'`) and keeps only the allowed ones,
/// with checked, escaped values; returns them ready to follow a tag name (` class="x"`).
pub(crate) fn sanitize_attributes(raw: &str, allowed: AllowedAttributes) -> String {
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in parse_attributes(raw).into_iter().take(32) {
        let name = name.to_ascii_lowercase();
        let kept = match name.as_str() {
            "class" => Some(("class", sanitize_class(&value))),
            "colspan" | "rowspan" if allowed == AllowedAttributes::Cell => value
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|span| (1..=1000).contains(span))
                .map(|span| {
                    (
                        if name == "colspan" {
                            "colspan"
                        } else {
                            "rowspan"
                        },
                        span.to_string(),
                    )
                }),
            _ => None,
        };
        if let Some((name, value)) = kept
            && !value.is_empty()
            && !seen.contains(&name)
        {
            seen.push(name);
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_into(&mut out, &value);
            out.push('"');
        }
    }
    out
}

/// Class names: letters, digits, `-` and `_`, separated by single spaces.
fn sanitize_class(value: &str) -> String {
    value
        .split_whitespace()
        .filter(|class| {
            class
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
        .take(16)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A tolerant attribute tokenizer: `name`, `name=value`, `name="value"`, `name='value'`; junk
/// between attributes is skipped, an unclosed quote runs to the end.
pub(crate) fn parse_attributes(raw: &str) -> Vec<(String, String)> {
    let bytes = raw.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':');
    let mut attributes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_name(bytes[i]) {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < bytes.len() && is_name(bytes[i]) {
            i += 1;
        }
        let name = &raw[name_start..i];
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            attributes.push((name.to_owned(), String::new()));
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let (value, next) = match bytes.get(j) {
            Some(&quote @ (b'"' | b'\'')) => {
                let start = j + 1;
                let end = raw[start..]
                    .find(char::from(quote))
                    .map_or(raw.len(), |e| start + e);
                (&raw[start..end], (end + 1).min(raw.len()))
            }
            Some(_) => {
                let end = raw[j..]
                    .find(|c: char| c.is_ascii_whitespace())
                    .map_or(raw.len(), |e| j + e);
                (&raw[j..end], end)
            }
            None => ("", j),
        };
        attributes.push((name.to_owned(), value.to_owned()));
        i = next;
    }
    attributes
}

/// Plain text of rendered HTML: tags dropped, the common entities decoded.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
