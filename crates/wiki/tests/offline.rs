//! Rendering for an offline copy (a ZIM file): links to existing pages are relative, so they
//! resolve inside the file; a link to a missing page is plain marked text, since there is no
//! page to create offline; unsafe addresses still fall back to the site's.

use ceiba_wiki::markup::{RenderContext, Title, render};

struct Offline;

impl RenderContext for Offline {
    fn page_exists(&self, title: &Title) -> bool {
        title.name() == "La Habana"
    }

    fn template(&self, _: &Title) -> Option<String> {
        None
    }

    fn page_url(&self, title: &Title) -> String {
        if title.name() == "La Habana" {
            "La_Habana".to_owned()
        } else {
            "javascript:alert(1)".to_owned()
        }
    }

    fn offline(&self) -> bool {
        true
    }
}

#[test]
fn offline_links_are_relative_and_missing_pages_are_text() {
    let html = render("[[La Habana|capital]], [[Trinidad]] y {{Ficha}}", &Offline).html;
    assert!(
        html.contains("<a href=\"La_Habana\" title=\"La Habana\">capital</a>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<span class=\"nuevo\" title=\"Trinidad (la página no existe)\">Trinidad</span>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"nuevo\" title=\"Plantilla:Ficha"),
        "{html}"
    );
    assert!(
        !html.contains("accion=editar"),
        "nothing to edit offline: {html}"
    );
    assert!(!html.contains("javascript"), "{html}");
}

#[test]
fn namespaces_have_mediawiki_numbers_both_ways() {
    use ceiba_wiki::markup::Namespace;
    for (namespace, number) in [
        (Namespace::Main, 0),
        (Namespace::Talk, 1),
        (Namespace::User, 2),
        (Namespace::File, 6),
        (Namespace::Template, 10),
        (Namespace::Category, 14),
    ] {
        assert_eq!(namespace.number(), number);
        assert_eq!(Namespace::from_number(number), Some(namespace));
    }
    assert_eq!(
        Namespace::from_number(828),
        None,
        "Lua modules are not pages here"
    );
}
