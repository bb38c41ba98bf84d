use std::collections::HashSet;

use ceiba_wiki::markup::{MAX_EXPANSION_BYTES, RenderContext, Title, render};
use ceiba_wiki::mediawiki::{ImportError, Limits, MediaWikiReader};

/// A wiki whose templates come from the input itself: the parts after the first NUL are the
/// templates `T0`, `T1` …; a few fixed ones loop and multiply, to reach the limits.
struct FuzzWiki {
    templates: Vec<String>,
    offline: bool,
}

impl RenderContext for FuzzWiki {
    fn page_exists(&self, title: &Title) -> bool {
        title.name().len().is_multiple_of(2)
    }

    fn template(&self, title: &Title) -> Option<String> {
        let name = title.name();
        match name {
            "Bucle" => Some("{{Bucle}}".to_owned()),
            "Doble" => Some("{{Doble}}{{Doble}}{{Doble}}{{Doble}}x".to_owned()),
            "Hola" => Some("Hola, {{{1|mundo}}} {{#if:{{{2|}}}|sí|no}}".to_owned()),
            _ => {
                let index: usize = name.strip_prefix('T')?.parse().ok()?;
                self.templates.get(index).cloned()
            }
        }
    }

    fn offline(&self) -> bool {
        self.offline
    }

    fn page_title(&self) -> Option<Title> {
        ceiba_wiki::markup::normalize_title("Prueba").ok()
    }
}

/// Wikitext (`ceiba_wiki::markup::render`): the page is the bytes before the first NUL, the
/// templates `T0`, `T1` … the parts after it. Checked: rendering never panics; the HTML has
/// only tags a page may have, no event-handler attribute and no script URL; anchors are unique
/// and categories and links come without repeats; and the HTML stays within a fixed multiple of
/// what went in (the page, or the expansion limit when templates are used).
pub fn wikitext(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let page = parts.next().unwrap_or_default();
    let wiki = FuzzWiki {
        templates: parts.map(str::to_owned).collect(),
        offline: data.len() % 2 == 1,
    };
    let rendered = render(page, &wiki);
    check_html(&rendered.html);
    let mut anchors = HashSet::new();
    for heading in &rendered.headings {
        assert!((1..=6).contains(&heading.level), "{heading:?}");
        assert!(
            anchors.insert(heading.anchor.as_str()),
            "anchor {:?} twice",
            heading.anchor
        );
    }
    assert_eq!(
        rendered.categories.iter().collect::<HashSet<_>>().len(),
        rendered.categories.len(),
        "a category twice"
    );
    assert_eq!(
        rendered.links.iter().collect::<HashSet<_>>().len(),
        rendered.links.len(),
        "a link twice"
    );
    // Escaping and markup multiply text by a bounded factor (a link writes its target in the
    // address, the title and the text); anything beyond it is a blow-up.
    const GROWTH_MAX: usize = 64;
    let budget = if text.contains("{{") {
        text.len() + MAX_EXPANSION_BYTES
    } else {
        text.len()
    };
    assert!(
        rendered.html.len() <= GROWTH_MAX * budget + 4096,
        "{} bytes of HTML from {} of text",
        rendered.html.len(),
        text.len()
    );
    for error in &rendered.errors {
        assert!(!error.to_string().is_empty());
    }
}

/// Elements a rendered page must never contain, whatever the wikitext.
const FORBIDDEN_TAGS: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta",
    "base", "form", "input", "button", "textarea", "select", "svg", "math", "template", "img",
];

/// Checks every tag of `html`: text is escaped, so every `<` starts a tag the renderer wrote.
fn check_html(html: &str) {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').expect("a tag that never closes");
        let tag = &after[..end];
        rest = &after[end + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let name: String = tag
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(!name.is_empty(), "a tag without a name: <{tag}>");
        assert!(!FORBIDDEN_TAGS.contains(&name.as_str()), "<{tag}>");
        for attribute in attributes(tag) {
            let (key, value) = attribute;
            let key = key.to_ascii_lowercase();
            assert!(!key.starts_with("on"), "an event handler: <{tag}>");
            if matches!(key.as_str(), "href" | "src" | "action" | "formaction") {
                let value: String = value
                    .replace("&#58;", ":")
                    .replace("&colon;", ":")
                    .replace("&#x3a;", ":")
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(!value.starts_with(scheme), "a script URL: <{tag}>");
                }
            }
        }
    }
}

/// `name="value"` pairs of a tag's text (the renderer always quotes with `"`).
fn attributes(tag: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut rest = tag;
    while let Some(equals) = rest.find("=\"") {
        let key = rest[..equals]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default();
        let after = &rest[equals + 2..];
        let close = after.find('"').unwrap_or(after.len());
        found.push((key, &after[..close]));
        rest = after.get(close + 1..).unwrap_or_default();
    }
    found
}

/// MediaWiki XML exports (`ceiba_wiki::mediawiki::MediaWikiReader`), read to the end with small
/// limits. Checked: nothing comes after a fatal error; every page and revision respects the
/// limits; a page costs at least the bytes of its tags; the reader never claims to have read
/// more than the input; every error has a message.
pub fn mediawiki_xml(data: &[u8]) {
    let limits = Limits {
        max_text_bytes: 64 * 1024,
        max_field_bytes: 4 * 1024,
        max_revisions_per_page: 64,
        max_token_bytes: 256 * 1024,
        max_depth: 16,
    };
    let reader = match MediaWikiReader::with_limits(data, limits.clone()) {
        Ok(reader) => reader,
        Err(error) => {
            assert!(error.is_fatal(), "a page error before the first page");
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let mut reader = reader;
    let mut pages = 0usize;
    let mut fatal = false;
    while let Some(item) = reader.next() {
        assert!(!fatal, "an item after a fatal error");
        assert!(reader.bytes_read() <= data.len() as u64);
        match item {
            Ok(page) => {
                pages += 1;
                assert!(page.title.len() <= limits.max_field_bytes);
                assert!(page.revisions.len() <= limits.max_revisions_per_page);
                let mut ids = HashSet::new();
                for revision in &page.revisions {
                    assert!(ids.insert(revision.id), "revision {} twice", revision.id);
                    let text_bytes = revision.text.as_ref().map_or(0, String::len);
                    assert!(text_bytes <= limits.max_text_bytes);
                    let comment_bytes = revision.comment.as_ref().map_or(0, String::len);
                    assert!(comment_bytes <= limits.max_field_bytes);
                }
            }
            Err(error) => {
                fatal = error.is_fatal();
                assert!(!error.to_string().is_empty());
                if let ImportError::Page(page) = &error {
                    assert!(page.byte <= data.len() as u64);
                }
            }
        }
    }
    // `<page></page>` is 13 bytes: more pages than that allows were made out of nothing.
    assert!(
        pages <= data.len() / 13,
        "{pages} pages from {} bytes",
        data.len()
    );
}
