//! The reader against openZIM's own test files (from libzim's test data). Expected values
//! come from `zimdump info` (zim-tools 3.1.3) and from the clusters decompressed with the
//! `zstd`/`xz` command-line tools, not from this reader.

use ceiba_zim::reader::{Archive, EntryKind, ZimError};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/zim/");

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn open(name: &str) -> Archive {
    let archive = Archive::from_bytes(bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    archive.check().unwrap_or_else(|e| panic!("{name}: {e}"));
    archive
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Expected {
    file: &'static str,
    version: (u16, u16),
    entries: u32,
    /// Entries of the user namespace (what `zimdump info` calls count-entries).
    user_entries: usize,
    user_namespace: char,
    clusters: u32,
    mime_types: usize,
    /// The MD5 `zimdump info` prints.
    checksum: &'static str,
    main_page: &'static str,
    main_title: &'static str,
    title: Option<&'static str>,
    language: Option<&'static str>,
    date: Option<&'static str>,
    illustration_len: usize,
}

const VALID: &[Expected] = &[
    Expected {
        file: "nons_small.zim",
        version: (6, 1),
        entries: 16,
        user_entries: 2,
        user_namespace: 'C',
        clusters: 2,
        mime_types: 5,
        checksum: "dbf4ab7c1de668876332193f53556af9",
        main_page: "C/main.html",
        main_title: "Test ZIM file",
        title: Some("Test ZIM file"),
        language: Some("en"),
        date: Some("2021-06-02"),
        illustration_len: 3201,
    },
    Expected {
        file: "withns_small.zim",
        version: (5, 0),
        entries: 17,
        user_entries: 1,
        user_namespace: 'A',
        clusters: 2,
        mime_types: 4,
        checksum: "248dc1e1d836172e2d9c2d0d31e336de",
        main_page: "A/main.html",
        main_title: "Test ZIM file",
        title: Some("=Test ZIM file"),
        language: Some("=en"),
        date: Some("2020-11-15"),
        illustration_len: 0,
    },
    Expected {
        file: "noTitleListingV0_small.zim",
        version: (6, 3),
        entries: 16,
        user_entries: 2,
        user_namespace: 'C',
        clusters: 2,
        mime_types: 6,
        checksum: "ad8cc88d89b4cf1e503df44fd13882a8",
        main_page: "C/main.html",
        main_title: "Test ZIM file",
        title: Some("Test ZIM file"),
        language: Some("eng"),
        date: Some("2025-04-16"),
        illustration_len: 3201,
    },
    Expected {
        file: "nons_wikibooks_be_all_nopic_2017-02.zim",
        version: (6, 1),
        entries: 123,
        user_entries: 109,
        user_namespace: 'C',
        clusters: 2,
        mime_types: 8,
        checksum: "52f698dde887551f4672363178209899",
        main_page: "C/Першая_старонка.html",
        main_title: "Першая старонка",
        title: Some("Wikibooks"),
        language: Some("bel"),
        date: Some("2017-02-13"),
        illustration_len: 2091,
    },
];

#[test]
fn every_valid_file_opens_with_the_known_counts_and_metadata() {
    for expected in VALID {
        let file = expected.file;
        let archive = open(file);
        let header = archive.header();
        assert_eq!(
            (header.major_version, header.minor_version),
            expected.version,
            "{file}"
        );
        assert_eq!(archive.entry_count(), expected.entries, "{file}");
        assert_eq!(
            archive.entries().len(),
            usize::try_from(expected.entries).unwrap()
        );
        assert_eq!(archive.cluster_count(), expected.clusters, "{file}");
        assert_eq!(archive.mime_types().len(), expected.mime_types, "{file}");
        let user = archive
            .entries()
            .filter(|e| e.namespace == expected.user_namespace)
            .count();
        assert_eq!(user, expected.user_entries, "{file}");
        let stored: String = bytes(file)[usize::try_from(header.checksum_pos).unwrap()..]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(stored, expected.checksum, "{file}");
        archive.verify_checksum().unwrap();

        let main = archive.main_page().unwrap().expect("main page");
        assert_eq!(main.long_path(), expected.main_page, "{file}");
        assert_eq!(main.title(), expected.main_title, "{file}");
        assert!(!main.is_redirect());
        let html = String::from_utf8(archive.content(main).unwrap()).unwrap();
        assert!(html.contains("<html"), "{file}: {html}");
        assert_eq!(archive.mime_type(main), Some("text/html"), "{file}");

        assert_eq!(
            archive.metadata("Title").as_deref(),
            expected.title,
            "{file}"
        );
        assert_eq!(
            archive.metadata("Language").as_deref(),
            expected.language,
            "{file}"
        );
        assert_eq!(archive.metadata("Date").as_deref(), expected.date, "{file}");
        assert_eq!(archive.metadata("NoSuchThing"), None, "{file}");
        let illustration = archive.metadata_bytes("Illustration_48x48@1").unwrap();
        match expected.illustration_len {
            0 => assert!(illustration.is_none(), "{file}"),
            len => {
                let png = illustration.expect("illustration");
                assert_eq!(png.len(), len, "{file}");
                assert!(png.starts_with(b"\x89PNG"), "{file}");
            }
        }
    }
}

#[test]
fn every_entry_is_found_by_path_and_its_content_reads() {
    for expected in VALID {
        let archive = open(expected.file);
        for entry in archive.entries() {
            let found = archive
                .entry_by_path(entry.namespace, &entry.path)
                .unwrap_or_else(|| panic!("{}: {}", expected.file, entry.long_path()));
            assert_eq!(found, entry);
            assert_eq!(archive.entry_at(entry.index), Some(entry));
            let content = archive.content(entry).unwrap();
            if let EntryKind::Redirect { target } = entry.kind {
                let target = archive.entry_at(target).unwrap();
                assert_eq!(content, archive.content(target).unwrap());
            }
        }
        assert!(archive.entry_by_path('C', "no/such/page.html").is_none());
        // Title order: sorted by (namespace, title) and a permutation of the entries.
        let titles: Vec<(char, String)> = archive
            .entries_by_title()
            .map(|e| (e.namespace, e.title().to_owned()))
            .collect();
        let mut sorted = titles.clone();
        sorted.sort_by(|a, b| (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes())));
        assert_eq!(titles, sorted, "{}", expected.file);
        assert_eq!(titles.len(), archive.entries().len());
    }
}

#[test]
fn known_articles_match_what_zimdump_extracts() {
    // SHA-256 of the files `zimdump dump` writes for these entries.
    let cases = [
        (
            "nons_small.zim",
            "main.html",
            "8cc715ee4a4d923be832972e117c964b65cb22b4ecccd531b663f451f93a9260",
        ),
        (
            "nons_wikibooks_be_all_nopic_2017-02.zim",
            "Слых.html",
            "aea24f8e2b390a8e41f86af6f2d19809203dd17d69fb1f5e2244f58709f77c35",
        ),
    ];
    for (file, path, sha) in cases {
        let archive = open(file);
        let entry = archive.user_entry(path).expect(path);
        assert_eq!(
            sha256_hex(&archive.content(entry).unwrap()),
            sha,
            "{file} {path}"
        );
    }
    // The old-scheme file keeps its page under A/ and its image under I/.
    let old = open("withns_small.zim");
    assert_eq!(
        old.user_entry("main.html").unwrap().long_path(),
        "A/main.html"
    );
    assert_eq!(
        old.user_entry("favicon.png").unwrap().long_path(),
        "I/favicon.png"
    );
    let counter = open("nons_wikibooks_be_all_nopic_2017-02.zim").metadata("Counter");
    assert_eq!(
        counter.as_deref(),
        Some("application/javascript=3;image/gif=2;image/png=32;text/css=1;text/html=66")
    );
}

#[test]
fn every_invalid_file_is_refused_with_a_message_naming_the_problem() {
    type IsExpected = fn(&ZimError) -> bool;
    let cases: [(&str, IsExpected, &str); 4] = [
        (
            "nons_invalid.smaller_than_header.zim",
            |e| matches!(e, ZimError::TooSmall { len: 40 }),
            "el archivo tiene 40 bytes: un ZIM empieza con una cabecera de 80",
        ),
        (
            "nons_invalid.outofbounds_urlptrpos.zim",
            |e| matches!(e, ZimError::SectionOutOfBounds { pos: 41165, .. }),
            "la lista de punteros de rutas (byte 41165, 128 bytes) cae fuera",
        ),
        (
            "nons_invalid.nonsorted_dirent_table.zim",
            |e| matches!(e, ZimError::PathsUnsorted { index: 1, .. }),
            "la lista de rutas no está ordenada en la entrada 1: «C/main.html» no va antes de «C/favicon.png»",
        ),
        (
            "nons_invalid.bad_mimetype_in_dirent.zim",
            |e| {
                matches!(
                    e,
                    ZimError::MimeOutOfRange {
                        mime: 1234,
                        count: 5,
                        ..
                    }
                )
            },
            "tipo MIME 1234 fuera de la lista de 5 en la entrada 8 («M/Publisher»)",
        ),
    ];
    for (file, is_expected, message) in cases {
        // These are refused when opening already; `check` is never reached.
        let error = Archive::from_bytes(bytes(file)).expect_err(file);
        assert!(is_expected(&error), "{file}: {error:?}");
        let text = error.to_string();
        assert!(
            text.contains(message),
            "{file}: «{text}» should contain «{message}»"
        );
    }
}

#[test]
fn a_flipped_content_byte_is_caught_by_check() {
    let mut data = bytes("nons_small.zim");
    // Inside the uncompressed cluster (the PNG), which opening does not read.
    data[1400] ^= 0x55;
    let archive = Archive::from_bytes(data).unwrap();
    let error = archive.check().unwrap_err();
    assert!(
        matches!(error, ZimError::ChecksumMismatch { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("dbf4ab7c1de668876332193f53556af9")
    );
}

#[test]
fn a_bad_magic_number_or_version_is_refused() {
    let mut data = bytes("nons_small.zim");
    data[0] = b'P';
    let error = Archive::from_bytes(data.clone()).unwrap_err();
    assert!(
        error.to_string().contains("no es un archivo ZIM"),
        "{error}"
    );
    data[0] = b'Z';
    data[4] = 9;
    let error = Archive::from_bytes(data).unwrap_err();
    assert!(matches!(
        error,
        ZimError::UnsupportedVersion { major: 9, .. }
    ));
}

/// Opening and fully reading must never panic: errors are fine.
fn exercise(data: Vec<u8>) {
    if let Ok(archive) = Archive::from_bytes(data) {
        let _ = archive.check();
        let _ = archive.main_page();
        let _ = archive.metadata("Title");
        let _ = archive.front_article_order();
        for entry in archive.entries() {
            let _ = archive.content(entry);
        }
        let _ = archive.entries_by_title().count();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(data);
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut data = bytes("nons_small.zim")[..80].to_vec();
        data.extend(tail);
        exercise(data);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        file in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<Option<prop::sample::Index>>(),
    ) {
        let name = ["nons_small.zim", "withns_small.zim", "noTitleListingV0_small.zim"][file];
        let mut data = bytes(name);
        for (at, value) in flips {
            let at = at.index(data.len());
            data[at] = value;
        }
        if let Some(cut) = cut {
            data.truncate(cut.index(data.len()));
        }
        exercise(data);
    }

    #[test]
    fn mutated_structure_bytes_never_panic(
        at in 0usize..400,
        value in any::<u8>(),
        file in 0usize..2,
    ) {
        // Header and directory area, where every byte is a length, offset or index.
        let name = ["nons_small.zim", "withns_small.zim"][file];
        let mut data = bytes(name);
        let base = if at < 80 { 0 } else { data.len() - 900 };
        let at = (base + at).min(data.len() - 1);
        data[at] = value;
        exercise(data);
    }
}
