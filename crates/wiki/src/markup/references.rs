//! `<ref>` citations, numbered by first use, and the list of notes with links back to each use.

use super::inline::LinkMode;
use super::strip::Mode;
use super::{MarkupError, Reference, Renderer, template};

impl Renderer<'_> {
    /// A `<ref>` met in the text: defines its content (rendered once) and, unless it only
    /// defines, writes the numbered citation.
    pub(crate) fn cite(
        &mut self,
        name: Option<&str>,
        content: Option<&str>,
        define_only: bool,
        mode: LinkMode,
        out: &mut String,
    ) {
        if self.in_reference {
            self.write_error(MarkupError::NestedReference, out);
            return;
        }
        let index = match name.and_then(|name| self.reference_names.get(name)) {
            Some(&index) => index,
            None => {
                let index = self.references.len();
                self.references.push(Reference {
                    name: name.map(str::to_owned),
                    ..Reference::default()
                });
                if let Some(name) = name {
                    self.reference_names.insert(name.to_owned(), index);
                }
                index
            }
        };
        if let Some(content) = content
            && self.references[index].html.is_none()
        {
            self.in_reference = true;
            let html = self.render_fragment(content);
            self.in_reference = false;
            self.references[index].html = Some(html);
        }
        if define_only {
            return;
        }
        let number = match self.references[index].number {
            Some(number) => number,
            None => {
                self.cited += 1;
                self.references[index].number = Some(self.cited);
                self.cited
            }
        };
        if mode == LinkMode::LabelsOnly {
            // Inside a link's label a second anchor cannot nest.
            out.push_str(&format!("<sup class=\"referencia\">[{number}]</sup>"));
            return;
        }
        let reference = &mut self.references[index];
        reference.uses += 1;
        let id = citation_id(number, reference.uses);
        out.push_str(&format!(
            "<sup class=\"referencia\" id=\"{id}\"><a href=\"#cite_note-{number}\">[{number}]</a></sup>"
        ));
    }

    /// Writes the notes cited since the last list (`<references/>`, or the end of the page).
    pub(crate) fn write_references(&mut self, out: &mut String) {
        let mut pending: Vec<(usize, usize)> = self
            .references
            .iter()
            .enumerate()
            .filter(|(_, reference)| !reference.listed)
            .filter_map(|(index, reference)| reference.number.map(|number| (number, index)))
            .collect();
        if pending.is_empty() {
            return;
        }
        pending.sort_unstable();
        out.push_str("<ol class=\"referencias\"");
        if let Some(&(first, _)) = pending.first()
            && first != 1
        {
            out.push_str(&format!(" start=\"{first}\""));
        }
        out.push('>');
        for (number, index) in pending {
            self.references[index].listed = true;
            out.push_str(&format!("<li id=\"cite_note-{number}\">"));
            for use_number in 1..=self.references[index].uses {
                out.push_str(&format!(
                    "<a href=\"#{}\">↑</a> ",
                    citation_id(number, use_number)
                ));
            }
            match self.references[index].html.clone() {
                Some(html) => out.push_str(&html),
                None => {
                    let name = self.references[index].name.clone().unwrap_or_default();
                    self.write_error(MarkupError::ReferenceWithoutContent { name }, out);
                }
            }
            out.push_str("</li>");
        }
        out.push_str("</ol>\n");
    }

    /// A reference's wikitext rendered inline (templates expanded).
    fn render_fragment(&mut self, wikitext: &str) -> String {
        let stripped = self.strip(wikitext, Mode::Page);
        let nodes = template::parse(&stripped);
        let mut expanded = String::new();
        self.expand(&nodes, None, 0, &mut expanded);
        let mut html = String::new();
        self.render_inline(expanded.trim(), LinkMode::Links, &mut html);
        html
    }
}

/// The `id` of the n-th use of a citation.
fn citation_id(number: usize, use_number: usize) -> String {
    if use_number <= 1 {
        format!("cite_ref-{number}")
    } else {
        format!("cite_ref-{number}-{}", use_number - 1)
    }
}
