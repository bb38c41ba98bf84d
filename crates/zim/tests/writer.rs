//! The writer: a small encyclopedia is written, checked by openZIM's own `zimcheck -A` when
//! installed (zim-tools), and read back with this crate's reader.

use std::collections::BTreeMap;
use std::process::Command;

use ceiba_zim::reader::{Archive, EntryKind};
use ceiba_zim::writer::{Metadata, WriteError, ZimWriter};

/// A valid 48×48 RGBA PNG, drawn here so the test needs no file.
fn illustration() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 48, 48);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..48 * 48)
        .flat_map(|i: u32| {
            let [x, y] = [i % 48, i / 48].map(|v| u8::try_from(v * 5).unwrap());
            [x, y, 200, 255]
        })
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

fn metadata() -> Metadata {
    Metadata {
        name: "ceiba_es_prueba".to_owned(),
        title: "Enciclopedia de prueba".to_owned(),
        creator: "Ceiba".to_owned(),
        publisher: "Ceiba".to_owned(),
        date: "2026-11-30".to_owned(),
        description: "Una enciclopedia pequeña para las pruebas".to_owned(),
        language: "spa".to_owned(),
        illustration_48x48_png: illustration(),
        extra: BTreeMap::from([("Tags".to_owned(), "_category:wikipedia".to_owned())]),
    }
}

const PROVINCES: [&str; 20] = [
    "Pinar_del_Río",
    "Artemisa",
    "La_Habana",
    "Mayabeque",
    "Matanzas",
    "Cienfuegos",
    "Villa_Clara",
    "Sancti_Spíritus",
    "Ciego_de_Ávila",
    "Camagüey",
    "Las_Tunas",
    "Holguín",
    "Granma",
    "Santiago_de_Cuba",
    "Guantánamo",
    "Isla_de_la_Juventud",
    "Ceiba_(árbol)",
    "Tocororo",
    "Son_cubano",
    "Zunzuncito",
];

fn page(title: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"UTF-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    )
    .into_bytes()
}

/// A main page, 20 articles linking to each other, a redirect and an image.
fn encyclopedia() -> ZimWriter {
    let mut writer = ZimWriter::new(metadata());
    let mut index = String::from("<ul>");
    for (i, path) in PROVINCES.iter().enumerate() {
        let title = path.replace('_', " ");
        let next = PROVINCES[(i + 1) % PROVINCES.len()];
        let body = format!(
            "<p>Artículo {i} sobre {title}. Véase también <a href=\"{next}\">{next}</a> y la \
             <a href=\"Portada\">portada</a>.</p><img src=\"imagenes/mapa.png\" alt=\"mapa\">"
        );
        writer
            .add_entry(path, &title, "text/html", page(&title, &body))
            .unwrap();
        index.push_str(&format!("<li><a href=\"{path}\">{title}</a></li>"));
    }
    index.push_str("</ul><p><a href=\"Habana\">La capital</a></p>");
    writer
        .add_entry("Portada", "Portada", "text/html", page("Portada", &index))
        .unwrap();
    writer
        .add_redirect("Habana", "Habana", "La_Habana")
        .unwrap();
    writer
        .add_entry("imagenes/mapa.png", "", "image/png", illustration())
        .unwrap();
    writer.set_main_page("Portada");
    writer
}

#[test]
fn a_written_encyclopedia_reads_back_entry_by_entry() {
    let writer = encyclopedia();
    let bytes = writer.to_bytes().unwrap();
    let archive = Archive::from_bytes(bytes).unwrap();
    archive.check().unwrap();
    archive.verify_checksum().unwrap();

    let header = archive.header();
    assert_eq!((header.major_version, header.minor_version), (6, 1));
    assert!(header.uses_new_namespace_scheme());
    let main = archive.main_page().unwrap().unwrap();
    assert_eq!(main.long_path(), "C/Portada");
    assert_eq!(
        archive
            .entry_at(header.main_page.unwrap())
            .unwrap()
            .long_path(),
        "W/mainPage"
    );

    for (i, path) in PROVINCES.iter().enumerate() {
        let entry = archive.entry_by_path('C', path).expect(path);
        assert_eq!(entry.title(), path.replace('_', " "));
        assert_eq!(archive.mime_type(entry), Some("text/html"));
        let html = String::from_utf8(archive.content(entry).unwrap()).unwrap();
        assert!(html.contains(&format!("Artículo {i} sobre")), "{html}");
    }
    let image = archive.entry_by_path('C', "imagenes/mapa.png").unwrap();
    assert_eq!(archive.content(image).unwrap(), illustration());
    assert_eq!(image.title(), "imagenes/mapa.png");
    assert_eq!(archive.mime_type(image), Some("image/png"));

    let redirect = archive.entry_by_path('C', "Habana").unwrap();
    assert!(redirect.is_redirect());
    let target = archive.resolve(redirect).unwrap();
    assert_eq!(target.long_path(), "C/La_Habana");
    assert_eq!(
        archive.content(redirect).unwrap(),
        archive.content(target).unwrap()
    );

    let meta = metadata();
    for (name, value) in [
        ("Name", &meta.name),
        ("Title", &meta.title),
        ("Creator", &meta.creator),
        ("Publisher", &meta.publisher),
        ("Date", &meta.date),
        ("Description", &meta.description),
        ("Language", &meta.language),
    ] {
        assert_eq!(archive.metadata(name).as_ref(), Some(value), "{name}");
    }
    assert_eq!(
        archive.metadata("Tags").as_deref(),
        Some("_category:wikipedia")
    );
    assert_eq!(
        archive.metadata("Counter").as_deref(),
        Some("image/png=1;text/html=21")
    );
    assert_eq!(
        archive.metadata_bytes("Illustration_48x48@1").unwrap(),
        Some(illustration())
    );

    // 21 pages + redirect + image, 10 metadata, W/mainPage, 2 listings.
    assert_eq!(archive.entry_count(), 23 + 10 + 1 + 2);
    let titles: Vec<(char, String)> = archive
        .entries_by_title()
        .map(|e| (e.namespace, e.title().to_owned()))
        .collect();
    let mut sorted = titles.clone();
    sorted.sort_by(|a, b| (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes())));
    assert_eq!(titles, sorted);

    // v1 lists the front articles (HTML pages and redirects of C/) by title.
    let front: Vec<String> = archive
        .front_article_order()
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|i| archive.entry_at(i).unwrap().title().to_owned())
        .collect();
    assert_eq!(front.len(), 22);
    assert!(front.windows(2).all(|w| w[0].as_bytes() <= w[1].as_bytes()));
    assert!(front.contains(&"Habana".to_owned()));

    // Text goes to zstd clusters, the images to uncompressed ones.
    let kinds: Vec<&EntryKind> = archive.entries().map(|e| &e.kind).collect();
    assert!(kinds.iter().all(|kind| !matches!(kind, EntryKind::Deleted)));
}

#[test]
fn output_is_deterministic_and_depends_on_content() {
    let first = encyclopedia().to_bytes().unwrap();
    let second = encyclopedia().to_bytes().unwrap();
    assert_eq!(first, second);
    let mut changed = encyclopedia();
    changed
        .add_entry("Otra", "Otra", "text/html", page("Otra", "<p>nueva</p>"))
        .unwrap();
    let third = changed.to_bytes().unwrap();
    let uuid = |bytes: &[u8]| bytes[8..24].to_vec();
    assert_ne!(uuid(&first), uuid(&third));
    let mut sink = Vec::new();
    let written = encyclopedia().write_to(&mut sink).unwrap();
    assert_eq!(sink, first);
    assert_eq!(written, u64::try_from(first.len()).unwrap());
}

#[test]
fn large_text_is_split_into_several_clusters() {
    let mut writer = ZimWriter::new(metadata());
    for i in 0..6_u64 {
        // ~400 KiB each of poorly compressible text, so clusters close at ~1 MiB.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ i;
        let body: String = (0..400 * 1024 / 16)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{state:016x}")
            })
            .collect();
        writer
            .add_entry(&format!("p{i}"), "", "text/html", page("p", &body))
            .unwrap();
    }
    writer.set_main_page("p0");
    let archive = Archive::from_bytes(writer.to_bytes().unwrap()).unwrap();
    archive.check().unwrap();
    // A cluster closes once it reaches 1 MiB: pages 0–2 and 3–5 fill two, the metadata
    // text (after C/ in path order) a third; then the media cluster and the listings.
    assert_eq!(archive.cluster_count(), 5);
    let clusters: std::collections::BTreeSet<u32> = archive
        .entries()
        .filter(|e| e.namespace == 'C')
        .filter_map(|e| match e.kind {
            EntryKind::Content { cluster, .. } => Some(cluster),
            _ => None,
        })
        .collect();
    assert_eq!(clusters.len(), 2);
    for entry in archive.entries().filter(|e| e.namespace == 'C') {
        assert!(archive.content(entry).unwrap().len() > 400 * 1024);
    }
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let mut writer = encyclopedia();
    let duplicate = writer
        .add_entry("Portada", "x", "text/html", vec![])
        .unwrap_err();
    assert!(matches!(duplicate, WriteError::Duplicate { .. }));
    assert_eq!(duplicate.to_string(), "la ruta «Portada» está repetida");
    assert!(matches!(
        writer.add_entry("", "x", "text/html", vec![]),
        Err(WriteError::EmptyPath)
    ));
    let long = "a".repeat(4097);
    let error = writer
        .add_entry(&long, "x", "text/html", vec![])
        .unwrap_err();
    assert!(
        error.to_string().contains("4097 bytes; el máximo es 4096"),
        "{error}"
    );
    let error = writer
        .add_entry("nulo", "ti\0tulo", "text/html", vec![])
        .unwrap_err();
    assert!(matches!(error, WriteError::NulByte { .. }));
    let error = writer
        .add_entry("grande", "", "text/html", vec![0; 64 * 1024 * 1024 + 1])
        .unwrap_err();
    assert!(matches!(error, WriteError::TooLarge { .. }), "{error}");

    let mut broken = encyclopedia();
    broken.add_redirect("Perdida", "", "No_existe").unwrap();
    let error = broken.to_bytes().unwrap_err();
    assert_eq!(
        error.to_string(),
        "la redirección «Perdida» apunta a «No_existe», que no existe"
    );

    let mut looping = encyclopedia();
    looping.add_redirect("A", "", "B").unwrap();
    looping.add_redirect("B", "", "A").unwrap();
    assert!(matches!(
        looping.to_bytes(),
        Err(WriteError::RedirectLoop { .. })
    ));

    let mut no_main = encyclopedia();
    no_main.set_main_page("Nada");
    assert!(matches!(
        no_main.to_bytes(),
        Err(WriteError::MissingMainPage { .. })
    ));

    for (change, name) in [
        (
            (|m: &mut Metadata| m.language = "es".to_owned()) as fn(&mut Metadata),
            "Language",
        ),
        (|m: &mut Metadata| m.date = "30/11/2026".to_owned(), "Date"),
        (|m: &mut Metadata| m.creator = String::new(), "Creator"),
        (
            |m: &mut Metadata| m.illustration_48x48_png = b"GIF89a".to_vec(),
            "Illustration_48x48@1",
        ),
        (
            |m: &mut Metadata| m.description = "x".repeat(81),
            "Description",
        ),
    ] {
        let mut meta = metadata();
        change(&mut meta);
        let error = ZimWriter::new(meta).to_bytes().unwrap_err();
        assert!(
            matches!(&error, WriteError::Metadata { name: n, .. } if n == name),
            "{name}: {error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with(&format!("el metadato {name} no es válido"))
        );
    }
}

#[test]
fn zimcheck_passes_the_written_file() {
    let available = Command::new("zimcheck").arg("--version").output().is_ok();
    if !available {
        assert!(
            std::env::var("CEIBA_TEST_REQUIRE_ALL").as_deref() != Ok("1"),
            "zimcheck no está instalado: instale zim-tools (apt-get install zim-tools)"
        );
        // zimcheck (zim-tools) is not installed: nothing to compare against here.
        return;
    }
    let dir = std::env::temp_dir().join(format!("ceiba-zim-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("enciclopedia.zim");
    std::fs::write(&path, encyclopedia().to_bytes().unwrap()).unwrap();
    let output = Command::new("zimcheck")
        .arg("-A")
        .arg(&path)
        .output()
        .unwrap();
    // CEIBA_KEEP_ZIM=1 keeps the file to open it by hand (zimdump, Kiwix).
    if std::env::var_os("CEIBA_KEEP_ZIM").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "zimcheck -A falló:\n{report}");
    assert!(report.contains("Overall Test Status: Pass"), "{report}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Any set of entries (odd paths and titles, text or binary content, redirects) reads
    /// back exactly, with both listings sorted.
    #[test]
    fn any_entries_round_trip(
        items in proptest::collection::btree_map(
            "[a-zA-Z0-9_/ .áéñ()-]{1,24}",
            ("[a-zA-Z0-9 áéñ]{0,12}", 0usize..3, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)),
            1..30,
        ),
        redirect_to in proptest::prelude::any::<proptest::sample::Index>(),
    ) {
        const MIMES: [&str; 3] = ["text/html", "image/jpeg", "application/javascript"];
        let mut writer = ZimWriter::new(metadata());
        for (path, (title, mime, content)) in &items {
            writer.add_entry(path, title, MIMES[*mime], content.clone()).unwrap();
        }
        let paths: Vec<&String> = items.keys().collect();
        let target: &String = paths[redirect_to.index(paths.len())];
        let redirect = format!("{target}~alias");
        writer.add_redirect(&redirect, "", target).unwrap();
        writer.set_main_page(target);
        let archive = Archive::from_bytes(writer.to_bytes().unwrap()).unwrap();
        archive.check().unwrap();
        for (path, (title, mime, content)) in &items {
            let entry = archive.entry_by_path('C', path).unwrap();
            let expected_title = if title.is_empty() { path } else { title };
            proptest::prop_assert_eq!(entry.title(), expected_title.as_str());
            proptest::prop_assert_eq!(archive.mime_type(entry), Some(MIMES[*mime]));
            proptest::prop_assert_eq!(&archive.content(entry).unwrap(), content);
        }
        let alias = archive.entry_by_path('C', &redirect).unwrap();
        proptest::prop_assert_eq!(&archive.resolve(alias).unwrap().path, target);
        proptest::prop_assert_eq!(&archive.main_page().unwrap().unwrap().path, target);
        let titles: Vec<(char, Vec<u8>)> = archive
            .entries_by_title()
            .map(|e| (e.namespace, e.title().as_bytes().to_vec()))
            .collect();
        proptest::prop_assert!(titles.windows(2).all(|w| w[0] <= w[1]));
    }
}
