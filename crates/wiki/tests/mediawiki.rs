//! The MediaWiki XML export reader, on real exports and on broken ones.

use ceiba_wiki::mediawiki::{Contributor, ImportError, Limits, MediaWikiReader, Page};
use proptest::prelude::*;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mediawiki/"
);

fn read_data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).expect("the test data is present")
}

/// Reads every item; the reader must stop after a fatal error.
fn collect(bytes: &[u8]) -> Result<Vec<Result<Page, ImportError>>, ImportError> {
    let reader = MediaWikiReader::new(bytes)?;
    let items: Vec<_> = reader.collect();
    if let Some(position) = items
        .iter()
        .position(|i| i.as_ref().is_err_and(ImportError::is_fatal))
    {
        assert_eq!(position, items.len() - 1, "nothing after a fatal error");
    }
    Ok(items)
}

fn pages(bytes: &[u8]) -> Vec<Page> {
    collect(bytes)
        .expect("opens")
        .into_iter()
        .map(|p| p.expect("every page is good"))
        .collect()
}

#[test]
fn mwxml_dump_pages_and_revisions() {
    let bytes = read_data("mwxml_dump.xml");
    let reader = MediaWikiReader::new(bytes.as_slice()).unwrap();
    assert_eq!(reader.export_version(), "0.8");
    let site = reader.site_info().clone();
    assert_eq!(site.sitename, "Wikipedia");
    assert_eq!(site.dbname, "enwiki");
    assert_eq!(site.base, "http://en.wikipedia.org/wiki/Main_Page");
    assert_eq!(site.namespaces.len(), 2);
    assert_eq!(site.namespace_name(1), "Talk");
    let pages: Vec<Page> = reader.map(Result::unwrap).collect();
    assert_eq!(pages.len(), 2);
    let foo = &pages[0];
    assert_eq!((foo.title.as_str(), foo.ns, foo.id), ("Foo", 0, 1));
    assert_eq!(foo.namespace_prefix, "");
    let ids: Vec<u64> = foo.revisions.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![1, 2]);
    // 2004-08-09T09:04:08Z and 2004-08-10T09:04:08Z (date -u -d … +%s).
    assert_eq!(foo.revisions[0].timestamp_ms, 1_092_042_248_000);
    assert_eq!(foo.revisions[1].timestamp_ms, 1_092_128_648_000);
    assert_eq!(
        foo.revisions[0].contributor,
        Contributor::User {
            name: "Gen0cide".to_owned(),
            id: Some(92182)
        }
    );
    assert_eq!(
        foo.revisions[1].contributor,
        Contributor::Ip("222.152.210.109".to_owned())
    );
    assert_eq!(foo.revisions[0].comment, None);
    assert_eq!(foo.revisions[1].comment.as_deref(), Some("Comment 2"));
    assert_eq!(foo.revisions[1].text.as_deref(), Some("Revision 2 text"));
    assert_eq!(foo.revisions[1].model.as_deref(), Some("wikitext"));
    assert_eq!(foo.revisions[1].format.as_deref(), Some("text/x-wiki"));
    assert_eq!(
        foo.revisions[1].sha1.as_deref(),
        Some("g9chqqg94myzq11c56ixvq7o1yg75n9")
    );
    let bar = &pages[1];
    assert_eq!((bar.title.as_str(), bar.ns, bar.id), ("Bar", 1, 2));
    assert_eq!(bar.namespace_prefix, "Talk");
    assert_eq!(bar.revisions.len(), 1);
    assert_eq!(bar.revisions[0].id, 3);
}

#[test]
fn testmw_current_pages() {
    let bytes = read_data("testmw_pages_current.xml");
    let raw = String::from_utf8(bytes.clone()).unwrap();
    let mut reader = MediaWikiReader::new(bytes.as_slice()).unwrap();
    assert_eq!(reader.export_version(), "0.11");
    assert_eq!(reader.site_info().sitename, "Test Wiki");
    assert_eq!(reader.site_info().namespaces.len(), 38);
    assert_eq!(reader.site_info().namespace_name(828), "Module");
    let first = reader.next().unwrap().unwrap();
    let progress = reader.bytes_read();
    assert!(progress > 0 && progress < bytes.len() as u64);
    let mut pages = vec![first];
    pages.extend(reader.by_ref().map(Result::unwrap));
    assert_eq!(reader.bytes_read(), bytes.len() as u64);

    // Counts checked with grep: 177 pages, one revision each, 5 redirects, 83 minor edits,
    // 123 templates, 5 Lua modules.
    assert_eq!(pages.len(), raw.matches("<page>").count());
    assert_eq!(pages.len(), 177);
    let revisions: Vec<_> = pages.iter().flat_map(|p| &p.revisions).collect();
    assert_eq!(revisions.len(), 177);
    assert_eq!(pages.iter().filter(|p| p.redirect.is_some()).count(), 5);
    assert_eq!(revisions.iter().filter(|r| r.minor).count(), 83);
    assert_eq!(pages.iter().filter(|p| p.ns == 10).count(), 123);
    assert_eq!(pages.iter().filter(|p| p.ns == 828).count(), 5);
    assert!(
        pages
            .iter()
            .filter(|p| p.ns == 828)
            .all(|p| p.namespace_prefix == "Module" && p.title.starts_with("Module:"))
    );
    assert_eq!(
        revisions
            .iter()
            .filter(|r| r.model.as_deref() == Some("Scribunto"))
            .count(),
        5
    );

    // Independent reference: each <text bytes="N"> attribute is the unescaped text's size.
    let declared: Vec<usize> = raw
        .split("<text bytes=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect();
    let actual: Vec<usize> = revisions
        .iter()
        .map(|r| r.text.as_ref().map_or(0, String::len))
        .collect();
    assert_eq!(actual, declared);

    let album = &pages[0];
    assert_eq!(album.title, "Template:Album");
    assert_eq!((album.ns, album.id), (10, 2));
    assert_eq!(album.namespace_prefix, "Template");
    let revision = &album.revisions[0];
    assert_eq!(revision.id, 2);
    assert_eq!(revision.parent_id, None);
    assert_eq!(revision.timestamp_ms, 1_656_349_818_000);
    assert_eq!(
        revision.contributor,
        Contributor::User {
            name: "FANDOM".to_owned(),
            id: Some(32_769_624)
        }
    );
    let text = revision.text.as_deref().unwrap();
    assert!(
        text.starts_with("<includeonly><infobox type=\"Album\">\n\t<title source=\"title\"/>"),
        "{text}"
    );
    assert!(text.ends_with("<noinclude>{{Documentation}}</noinclude>"));
    let redirect = pages
        .iter()
        .find(|p| p.redirect.as_deref() == Some("Template:Clear"))
        .unwrap();
    assert!(
        redirect.revisions[0]
            .text
            .as_deref()
            .unwrap()
            .contains("#REDIRECT")
    );
}

const HEAD: &str = r#"<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="es">
  <siteinfo>
    <sitename>EcuRed</sitename>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="10" case="first-letter">Plantilla</namespace>
    </namespaces>
  </siteinfo>
"#;

fn page_xml(title: &str, id: u64, revisions: &[(u64, &str, &str)]) -> String {
    let mut xml =
        format!("  <page>\n    <title>{title}</title>\n    <ns>0</ns>\n    <id>{id}</id>\n");
    for (rev, timestamp, text) in revisions {
        xml.push_str(&format!(
            "    <revision>\n      <id>{rev}</id>\n      <timestamp>{timestamp}</timestamp>\n      \
             <contributor><username>Ana</username><id>7</id></contributor>\n      \
             <comment>resumen</comment>\n      <text xml:space=\"preserve\">{text}</text>\n    \
             </revision>\n"
        ));
    }
    xml.push_str("  </page>\n");
    xml
}

fn document(pages: &[String]) -> String {
    format!("{HEAD}{}</mediawiki>\n", pages.concat())
}

#[test]
fn bad_pages_are_reported_and_the_rest_imported() {
    let good = |title: &str, id| page_xml(title, id, &[(id * 10, "2020-01-01T00:00:00Z", "Texto")]);
    let cases: [(String, &str); 5] = [
        (
            "  <page>\n    <ns>0</ns>\n    <id>5</id>\n  </page>\n".to_owned(),
            "falta el título",
        ),
        (
            page_xml("Fecha mala", 5, &[(50, "ayer", "x")]),
            "fecha no válida: «ayer»",
        ),
        (
            page_xml(
                "Repetida",
                5,
                &[
                    (50, "2020-01-01T00:00:00Z", "a"),
                    (50, "2020-01-02T00:00:00Z", "b"),
                ],
            ),
            "la revisión 50 aparece dos veces",
        ),
        (
            page_xml(
                "Grande",
                5,
                &[(50, "2020-01-01T00:00:00Z", &"x".repeat(2000))],
            ),
            "texto de más de 1000 bytes",
        ),
        (
            page_xml("Entidad", 5, &[(50, "2020-01-01T00:00:00Z", "&nbsp;")]),
            "entidad desconocida",
        ),
    ];
    let limits = Limits {
        max_text_bytes: 1000,
        ..Limits::default()
    };
    for (bad, reason) in cases {
        let xml = document(&[good("Uno", 1), bad, good("Tres", 3)]);
        let items: Vec<_> = MediaWikiReader::with_limits(xml.as_bytes(), limits.clone())
            .unwrap()
            .collect();
        assert_eq!(items.len(), 3, "{reason}");
        assert_eq!(items[0].as_ref().unwrap().title, "Uno");
        assert_eq!(items[2].as_ref().unwrap().title, "Tres");
        let Err(ImportError::Page(error)) = &items[1] else {
            panic!("expected a bad page for {reason}: {:?}", items[1]);
        };
        assert!(error.reason.contains(reason), "{error}");
        // The report names where the bad page starts.
        let start = xml.match_indices("<page>").nth(1).unwrap().0;
        assert_eq!(error.byte, start as u64, "{error}");
        assert_eq!(
            error.line,
            xml[..start].matches('\n').count() as u64 + 1,
            "{error}"
        );
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn revisions_and_namespace_details() {
    let xml = format!(
        "{HEAD}  <page>\n    <title>Plantilla:Ficha</title>\n    <id>9</id>\n    \
         <redirect title=\"Plantilla:Otra\" />\n    <revision>\n      <id>1</id>\n      \
         <timestamp>2021-03-04T05:06:07Z</timestamp>\n      <contributor deleted=\"deleted\" />\n      \
         <minor />\n      <comment deleted=\"deleted\" />\n      <text deleted=\"deleted\" />\n    \
         </revision>\n    <revision>\n      <id>2</id>\n      <parentid>1</parentid>\n      \
         <timestamp>2021-03-05T05:06:07Z</timestamp>\n      <contributor><ip>10.0.0.1</ip></contributor>\n      \
         <text bytes=\"0\" />\n    </revision>\n    <revision>\n      <id>3</id>\n      <parentid>2</parentid>\n      \
         <timestamp>2021-03-06T05:06:07Z</timestamp>\n      <contributor><username>Beto</username></contributor>\n      \
         <text>a &amp; b &#233; &lt;br&gt;<![CDATA[<c>]]></text>\n    </revision>\n  </page>\n</mediawiki>"
    );
    let pages = pages(xml.as_bytes());
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    // Without <ns>, the namespace comes from the title's prefix.
    assert_eq!((page.ns, page.namespace_prefix.as_str()), (10, "Plantilla"));
    assert_eq!(page.redirect.as_deref(), Some("Plantilla:Otra"));
    let [hidden, anonymous, named] = page.revisions.as_slice() else {
        panic!("three revisions");
    };
    assert_eq!(hidden.contributor, Contributor::Hidden);
    assert!(hidden.minor);
    assert_eq!(
        (hidden.comment.as_deref(), hidden.text.as_deref()),
        (None, None)
    );
    assert_eq!(
        anonymous.contributor,
        Contributor::Ip("10.0.0.1".to_owned())
    );
    assert_eq!(anonymous.parent_id, Some(1));
    assert_eq!(anonymous.text.as_deref(), Some(""));
    assert!(!anonymous.minor);
    assert_eq!(
        named.contributor,
        Contributor::User {
            name: "Beto".to_owned(),
            id: None
        }
    );
    assert_eq!(named.text.as_deref(), Some("a & b é <br><c>"));
}

#[test]
fn versions_and_roots() {
    let opened =
        |xml: &str| MediaWikiReader::new(xml.as_bytes()).map(|r| r.export_version().to_owned());
    assert_eq!(
        opened(r#"<mediawiki version="0.11"></mediawiki>"#),
        Ok("0.11".to_owned())
    );
    assert_eq!(
        opened(
            r#"<?xml version="1.0"?><mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/"></mediawiki>"#
        ),
        Ok("0.10".to_owned())
    );
    let refused = opened(r#"<mediawiki version="1.0"></mediawiki>"#).unwrap_err();
    assert!(matches!(refused, ImportError::UnsupportedVersion { .. }));
    assert!(
        refused.to_string().contains("«1.0» no admitida"),
        "{refused}"
    );
    assert!(matches!(
        opened("<mediawiki></mediawiki>"),
        Err(ImportError::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        opened(r#"<rss version="0.1"></rss>"#),
        Err(ImportError::NotAnExport { .. })
    ));
    assert!(matches!(opened(""), Err(ImportError::NotAnExport { .. })));
    // An export with no page at all.
    assert_eq!(pages(format!("{HEAD}</mediawiki>").as_bytes()).len(), 0);
}

#[test]
fn broken_xml_stops_with_its_line() {
    let good = page_xml("Uno", 1, &[(10, "2020-01-01T00:00:00Z", "Texto")]);
    let broken = "  <page>\n    <title>Dos</titulo>\n  </page>\n";
    let xml = document(&[good, broken.to_owned()]);
    let items = collect(xml.as_bytes()).unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let error = items[1].as_ref().unwrap_err();
    let line = xml.lines().position(|l| l.contains("</titulo>")).unwrap() as u64 + 1;
    assert!(
        matches!(error, ImportError::Xml { line: l, .. } if *l == line),
        "{error} (expected line {line})"
    );
    assert!(
        error.to_string().contains(&format!("línea {line}")),
        "{error}"
    );
}

#[test]
fn truncated_file_ends_with_an_error() {
    let bytes = read_data("testmw_pages_current.xml");
    for cut in [
        bytes.len() / 3,
        bytes.len() / 2 + 7,
        bytes.len() - 20,
        bytes.len() - 3,
    ] {
        let items = collect(&bytes[..cut]).unwrap();
        let last = items.last().unwrap();
        assert!(
            last.as_ref().is_err_and(ImportError::is_fatal),
            "cut at {cut}: {last:?}"
        );
        assert!(items[..items.len() - 1].iter().all(Result::is_ok));
    }
}

#[test]
fn limits_refuse_deep_nesting_and_huge_tokens() {
    let deep = format!(
        "{HEAD}  <page>{}{}</page></mediawiki>",
        "<x>".repeat(100),
        "</x>".repeat(100)
    );
    let items = collect(deep.as_bytes()).unwrap();
    assert!(
        matches!(items.last(), Some(Err(ImportError::TooDeep { .. }))),
        "{items:?}"
    );

    let huge = document(&[page_xml(
        "Enorme",
        1,
        &[(1, "2020-01-01T00:00:00Z", &"y".repeat(10_000))],
    )]);
    let limits = Limits {
        max_token_bytes: 4096,
        ..Limits::default()
    };
    let items: Vec<_> = MediaWikiReader::with_limits(huge.as_bytes(), limits)
        .unwrap()
        .collect();
    assert!(
        matches!(items.last(), Some(Err(ImportError::TokenTooLarge { .. }))),
        "{:?}",
        items.last().map(|i| i.as_ref().err())
    );
}

fn small_export() -> String {
    document(&[
        page_xml(
            "Uno",
            1,
            &[
                (10, "2020-01-01T00:00:00Z", "a &amp; b"),
                (11, "2020-01-02T00:00:00Z", "c"),
            ],
        ),
        page_xml("Dos", 2, &[(20, "2020-01-03T00:00:00Z", "[[Cuba]]")]),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_exports_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut bytes = small_export().into_bytes();
        for (index, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = index.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => { bytes.remove(at); }
                _ => bytes.insert(at, byte),
            }
        }
        if let Ok(reader) = MediaWikiReader::new(bytes.as_slice()) {
            let mut fatal = false;
            for item in reader {
                prop_assert!(!fatal, "an item after a fatal error");
                if let Err(error) = item {
                    fatal = error.is_fatal();
                    prop_assert!(!error.to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn truncations_never_panic(cut in 0usize..2000) {
        let bytes = small_export().into_bytes();
        let cut = cut.min(bytes.len());
        if let Ok(reader) = MediaWikiReader::new(&bytes[..cut]) {
            let items: Vec<_> = reader.collect();
            if cut < bytes.len() - 1 {
                prop_assert!(items.last().is_some_and(|i| i.as_ref().is_err_and(ImportError::is_fatal)));
            }
        }
    }
}
