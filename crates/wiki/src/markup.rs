//! Wikitext — the MediaWiki subset real articles use — rendered to HTML that no markup can
//! inject a script into.
//!
//! Supported: headings with anchors; `''italics''`, `'''bold'''` and both; internal links with
//! red links for missing pages, section links and trailing letters; categories (collected, not
//! shown); files as placeholder links; external links and bare URLs (http, https and mailto
//! only); `*`, `#`, `;`/`:` lists; `----`; paragraphs; lines indented with a space as `<pre>`;
//! `<ref>` and `<references/>`; tables; templates with parameters, `#if`, `#ifeq`, `#switch`;
//! `<nowiki>`, `<pre>`, comments; a few inline HTML tags; redirects.
//!
//! Safety rests on one rule: text reaches the output only escaped, attributes only from a
//! whitelist with checked and escaped values, URLs only with a whitelisted scheme. Nothing is
//! ever passed through raw. Every input is bounded ([`MAX_INPUT_BYTES`], template depth, calls
//! and expansion size, nesting of tables, lists and inline tags) and every pass is linear, so
//! hostile text costs time proportional to its length.
//!
//! The passes, as in MediaWiki: [`strip`] sets aside comments, `<nowiki>`, `<pre>` and `<ref>`;
//! [`template`] expands templates; [`block`] reads lines into headings, lists, tables and
//! paragraphs; [`inline`] renders the text inside them.

mod block;
mod html;
mod inline;
mod references;
mod strip;
mod template;
mod title;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

pub use title::{MAX_TITLE_BYTES, Namespace, Title, TitleError, normalize_title};

use html::{escape_into, is_safe_host_url};
use strip::{Marker, Mode, clean};
use template::Node;

/// Largest wikitext accepted by [`render`] (and largest template body).
pub const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

/// Deepest chain of templates including templates.
pub const MAX_TEMPLATE_DEPTH: usize = 8;

/// Most template calls in one page.
pub const MAX_TEMPLATE_CALLS: usize = 2_000;

/// Most bytes template expansion may produce in one page.
pub const MAX_EXPANSION_BYTES: usize = 8 * 1024 * 1024;

/// Most bytes of template source read for one page.
const MAX_TEMPLATE_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// What rendering needs from the encyclopedia.
pub trait RenderContext {
    /// Whether the page exists (a missing one gets a red link to its edit page).
    fn page_exists(&self, title: &Title) -> bool;

    /// The wikitext of a template (`Plantilla:Nombre`), for transclusion; `None` if missing.
    fn template(&self, title: &Title) -> Option<String>;

    /// The address of a page; by default `/wiki/` and the percent-encoded key. An address
    /// that is neither a site path nor http(s) (nor, [`RenderContext::offline`], a relative
    /// path) is replaced by the default.
    fn page_url(&self, title: &Title) -> String {
        title.url_path()
    }

    /// Rendering for an offline copy (a ZIM file): page addresses may be relative, and a link
    /// to a page that does not exist is plain text, since there is no page to edit there.
    fn offline(&self) -> bool {
        false
    }

    /// The title of the page being rendered, for `{{PAGENAME}}` and its kin (empty if none).
    fn page_title(&self) -> Option<Title> {
        None
    }

    /// The encyclopedia's name, for `{{SITENAME}}`.
    fn site_name(&self) -> String {
        "Enciclopedia".to_owned()
    }
}

/// A section heading of the rendered page (for a table of contents).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Its plain text.
    pub text: String,
    /// The `id` of the heading element, unique in the page.
    pub anchor: String,
}

/// A rendered page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// Safe HTML.
    pub html: String,
    /// Category names, without prefix, normalized, in order of appearance, without repeats.
    pub categories: Vec<String>,
    /// Full titles of the pages linked (including files and missing pages), normalized, in
    /// order of appearance, without repeats: for "what links here".
    pub links: Vec<String>,
    /// The target of a `#REDIRECCIÓN [[…]]`, as a normalized title.
    pub redirect: Option<String>,
    /// How many distinct references are cited.
    pub references: usize,
    /// Section headings, in order.
    pub headings: Vec<Heading>,
    /// Problems found; each is also shown in the HTML as `<span class="error">`.
    pub errors: Vec<MarkupError>,
}

/// A problem in the wikitext. Rendering goes on; the problem is shown where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarkupError {
    /// The text is over [`MAX_INPUT_BYTES`].
    #[error("el texto ocupa {bytes} bytes; el máximo es {max}")]
    InputTooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A template includes itself, directly or through others.
    #[error("bucle de plantillas: «{name}» se incluye a sí misma")]
    TemplateLoop {
        /// The template.
        name: String,
    },
    /// Templates nested deeper than [`MAX_TEMPLATE_DEPTH`].
    #[error("la plantilla «{name}» supera la profundidad máxima de {max} plantillas anidadas")]
    TemplateTooDeep {
        /// The template not expanded.
        name: String,
        /// The limit.
        max: usize,
    },
    /// A template body over [`MAX_INPUT_BYTES`].
    #[error("la plantilla «{name}» ocupa {bytes} bytes; el máximo es {max}")]
    TemplateTooLarge {
        /// The template.
        name: String,
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Expansion produced more than [`MAX_EXPANSION_BYTES`].
    #[error(
        "la expansión de plantillas supera {max} bytes; las plantillas siguientes no se expandieron"
    )]
    ExpansionTooLarge {
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_TEMPLATE_CALLS`] template calls.
    #[error("la página usa más de {max} plantillas; las siguientes no se expandieron")]
    TooManyTemplates {
        /// The limit.
        max: usize,
    },
    /// `{{#nombre:…}}` that is not `#if`, `#ifeq` or `#switch`.
    #[error("función desconocida: «{name}»")]
    UnknownParserFunction {
        /// The function name.
        name: String,
    },
    /// A `<ref>` inside another.
    #[error("una referencia (<ref>) no puede contener otra")]
    NestedReference,
    /// `<ref name="x"/>` cited but never given content.
    #[error("la referencia «{name}» se cita pero nunca se define")]
    ReferenceWithoutContent {
        /// Its name.
        name: String,
    },
}

/// A reference being collected.
#[derive(Debug, Default)]
struct Reference {
    name: Option<String>,
    html: Option<String>,
    number: Option<usize>,
    uses: usize,
    listed: bool,
}

/// The state of one render.
pub(crate) struct Renderer<'c> {
    context: &'c dyn RenderContext,
    markers: Vec<Marker>,
    marker_bytes: usize,
    errors: Vec<MarkupError>,
    template_cache: HashMap<Title, Option<Rc<Vec<Node>>>>,
    template_stack: Vec<Title>,
    template_calls: usize,
    template_source_bytes: usize,
    expanded_bytes: usize,
    exhausted: Option<MarkupError>,
    exhaustion_reported: bool,
    references: Vec<Reference>,
    reference_names: HashMap<String, usize>,
    cited: usize,
    in_reference: bool,
    external_links: usize,
    categories: Vec<String>,
    category_set: HashSet<String>,
    links: Vec<String>,
    link_set: HashSet<String>,
    headings: Vec<Heading>,
    anchors: HashSet<String>,
    existence: HashMap<Title, bool>,
}

impl<'c> Renderer<'c> {
    fn new(context: &'c dyn RenderContext) -> Self {
        Self {
            context,
            markers: Vec::new(),
            marker_bytes: 0,
            errors: Vec::new(),
            template_cache: HashMap::new(),
            template_stack: Vec::new(),
            template_calls: 0,
            template_source_bytes: 0,
            expanded_bytes: 0,
            exhausted: None,
            exhaustion_reported: false,
            references: Vec::new(),
            reference_names: HashMap::new(),
            cited: 0,
            in_reference: false,
            external_links: 0,
            categories: Vec::new(),
            category_set: HashSet::new(),
            links: Vec::new(),
            link_set: HashSet::new(),
            headings: Vec::new(),
            anchors: HashSet::new(),
            existence: HashMap::new(),
        }
    }

    /// Whether a page exists, asked once per title.
    fn page_exists(&mut self, title: &Title) -> bool {
        if let Some(&exists) = self.existence.get(title) {
            return exists;
        }
        let exists = self.context.page_exists(title);
        self.existence.insert(title.clone(), exists);
        exists
    }

    /// The page's address from the context, or the default one if the context's is unsafe.
    fn page_url(&self, title: &Title) -> String {
        let url = self.context.page_url(title);
        let relative = self.context.offline()
            && !url.is_empty()
            && !url.starts_with('/')
            && !url.contains(':')
            && !url
                .chars()
                .any(|character| character.is_control() || character.is_whitespace());
        if relative || is_safe_host_url(&url) {
            url
        } else {
            title.url_path()
        }
    }

    /// Whether links to missing pages are plain text (offline copies).
    fn offline(&self) -> bool {
        self.context.offline()
    }

    fn add_link(&mut self, title: &Title) {
        let text = title.text();
        if self.link_set.insert(text.clone()) {
            self.links.push(text);
        }
    }

    fn add_category(&mut self, name: &str) {
        if self.category_set.insert(name.to_owned()) {
            self.categories.push(name.to_owned());
        }
    }

    /// Writes an error where it happened and records it.
    fn write_error(&mut self, error: MarkupError, out: &mut String) {
        write_error_span(&error, out);
        self.errors.push(error);
    }
}

fn write_error_span(error: &MarkupError, out: &mut String) {
    out.push_str("<span class=\"error\">");
    escape_into(out, &error.to_string());
    out.push_str("</span>");
}

/// Renders wikitext to safe HTML, collecting categories, links, references and headings.
/// Never fails: problems are shown in place and listed in [`Rendered::errors`].
#[must_use]
pub fn render(source: &str, context: &dyn RenderContext) -> Rendered {
    if source.len() > MAX_INPUT_BYTES {
        let error = MarkupError::InputTooLarge {
            bytes: source.len(),
            max: MAX_INPUT_BYTES,
        };
        let mut html = String::from("<p>");
        write_error_span(&error, &mut html);
        html.push_str("</p>\n");
        return Rendered {
            html,
            errors: vec![error],
            ..Rendered::default()
        };
    }
    let mut renderer = Renderer::new(context);
    let cleaned = clean(source);
    let (redirect, body) = match parse_redirect(&cleaned) {
        Some((title, end)) => (Some(title), &cleaned[end..]),
        None => (None, cleaned.as_str()),
    };
    let stripped = renderer.strip(body, Mode::Page);
    let nodes = template::parse(&stripped);
    drop(stripped);
    let mut expanded = String::new();
    renderer.expand(&nodes, None, 0, &mut expanded);
    drop(nodes);
    let mut html = String::new();
    if let Some(title) = &redirect {
        html.push_str("<p class=\"redireccion\">Redirección a ");
        renderer.render_inline(
            &format!("[[:{}]]", title.text()),
            inline::LinkMode::Links,
            &mut html,
        );
        html.push_str("</p>\n");
    }
    renderer.render_blocks(&expanded, 0, &mut html);
    renderer.write_references(&mut html);
    Rendered {
        html,
        categories: renderer.categories,
        links: renderer.links,
        redirect: redirect.map(|title| title.text()),
        references: renderer.cited,
        headings: renderer.headings,
        errors: renderer.errors,
    }
}

/// The target of a redirect page (`#REDIRECT [[X]]`, `#REDIRECCIÓN [[X]]`, in any letter
/// case), as a normalized title.
#[must_use]
pub fn redirect_target(source: &str) -> Option<String> {
    parse_redirect(source).map(|(title, _)| title.text())
}

/// The redirect's target and where the directive ends.
fn parse_redirect(source: &str) -> Option<(Title, usize)> {
    let rest = source.trim_start().strip_prefix('#')?;
    let after_keyword = ["redirección", "redireccion", "redirect"]
        .iter()
        .find_map(|keyword| strip_prefix_ignore_case(rest, keyword))?;
    let after = after_keyword.trim_start();
    let after = after.strip_prefix(':').unwrap_or(after).trim_start();
    let inner = after.strip_prefix("[[")?;
    let close = inner.find("]]")?;
    let target = inner[..close].split('|').next()?;
    let target = target.split('#').next()?;
    let title = normalize_title(target).ok()?;
    let end = source.len() - inner.len() + close + 2;
    Some((title, end))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let mut chars = text.chars();
    for expected in prefix.chars() {
        let found = chars.next()?;
        if !found.to_lowercase().eq(expected.to_lowercase()) {
            return None;
        }
    }
    Some(chars.as_str())
}
