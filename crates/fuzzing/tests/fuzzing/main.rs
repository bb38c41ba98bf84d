//! Every check function of `ceiba-fuzzing`, run by proptest on arbitrary bytes and on
//! structure-aware inputs built from real samples (the shared data, the repository's fixtures,
//! this crate's `seeds/`), and every kept failure replayed from `regressions/<target>/`.
//!
//! Bounded for CI: the whole binary runs in well under a minute in a debug build. More cases
//! with `RUN_SLOW_TESTS=1` (twenty times as many) or `PROPTEST_CASES=n` (exactly n).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use ceiba_fuzzing::{TARGETS, Unstructured};
use ceiba_wiki::mediawiki::MediaWikiReader;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

const CRATE: &str = env!("CARGO_MANIFEST_DIR");

fn shared_data(path: &str) -> Vec<u8> {
    let full = format!("{CRATE}/../../../shared/data/{path}");
    std::fs::read(&full).unwrap_or_else(|error| {
        panic!("{full}: {error}: the shared test data (../shared/data) must be present")
    })
}

fn repository_file(path: &str) -> Vec<u8> {
    let full = format!("{CRATE}/../../{path}");
    std::fs::read(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

/// The files of a folder of this crate (sorted, so failures name the same file every run);
/// none when the folder does not exist.
fn files_in(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    files_in(&Path::new(CRATE).join("seeds").join(target))
        .iter()
        .map(|path| std::fs::read(path).expect("a readable seed"))
        .collect()
}

/// Cases for a property: `cases` by default, twenty times as many with `RUN_SLOW_TESTS=1`,
/// exactly `PROPTEST_CASES` when set.
fn config(cases: u32) -> ProptestConfig {
    let cases = match std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(cases) => cases,
        None if std::env::var_os("RUN_SLOW_TESTS").is_some() => cases * 20,
        None => cases,
    };
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// A sample with up to `edits_max` byte edits (overwrite, remove, insert) and perhaps cut short.
fn mutations_of(samples: &'static [Vec<u8>], edits_max: usize) -> impl Strategy<Value = Vec<u8>> {
    (
        any::<Index>(),
        vec((any::<Index>(), any::<u8>(), 0u8..3), 0..=edits_max),
        any::<Option<Index>>(),
    )
        .prop_map(move |(sample, edits, cut)| {
            let mut bytes = sample.get(samples).clone();
            for (at, value, kind) in edits {
                if bytes.is_empty() {
                    bytes.push(value);
                    continue;
                }
                let at = at.index(bytes.len());
                match kind {
                    0 => bytes[at] = value,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, value),
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

/// Pieces of a format, joined in any order: gets a fuzzer past tokenising into the grammar.
fn token_soup(tokens: &'static [&'static str], count_max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(select(tokens), 0..count_max).prop_map(|tokens| tokens.concat().into_bytes())
}

static EMV_VECTORS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    String::from_utf8(shared_data("emvqr/vectors.txt"))
        .expect("UTF-8")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.as_bytes().to_vec())
        .collect()
});

static MEDIAWIKI_EXPORTS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    vec![
        shared_data("mediawiki/mwxml_dump.xml"),
        shared_data("mediawiki/testmw_pages_current.xml"),
    ]
});

/// The wikitext of every revision of the real exports: articles with templates, tables,
/// references and categories.
static WIKITEXTS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut texts = Vec::new();
    for export in MEDIAWIKI_EXPORTS.iter() {
        let reader = MediaWikiReader::new(export.as_slice()).expect("a real export opens");
        for page in reader.flatten() {
            for revision in page.revisions {
                if let Some(text) = revision.text.filter(|text| text.len() <= 16 * 1024) {
                    texts.push(text.into_bytes());
                }
            }
        }
    }
    assert!(texts.len() > 100, "the exports hold many pages");
    texts
});

static ZIM_FILES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    [
        "nons_small.zim",
        "withns_small.zim",
        "noTitleListingV0_small.zim",
    ]
    .iter()
    .map(|name| shared_data(&format!("zim/{name}")))
    .collect()
});

static CHECKPOINTS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    vec![repository_file(
        "crates/audit/tests/snapshots/signed_checkpoint.txt",
    )]
});

macro_rules! seeded {
    ($name:ident, $target:literal) => {
        static $name: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
            let seeds = seeds($target);
            assert!(!seeds.is_empty(), "seeds/{} is empty", $target);
            seeds
        });
    };
}

seeded!(USSD_SEEDS, "ussd_input");
seeded!(PHONE_SEEDS, "phone_number");
seeded!(NATIONAL_ID_SEEDS, "national_id");
seeded!(BILLS_SEEDS, "bills_import");
seeded!(PAYOUTS_SEEDS, "payouts_import");
seeded!(CASES_CSV_SEEDS, "cases_csv");
seeded!(CASES_JSON_SEEDS, "cases_json");
seeded!(CASES_ARCHIVE_SEEDS, "cases_archive");

const WIKITEXT_TOKENS: &[&str] = &[
    "[[",
    "]]",
    "[[Cuba|",
    "[[Categoría:Historia]]",
    "[[Archivo:Mapa.png|miniatura|",
    "{{",
    "}}",
    "{{{1}}}",
    "{{{1|x}}}",
    "{{#if:",
    "{{#ifeq:a|a|",
    "{{#switch:",
    "{{Doble}}",
    "{{Bucle}}",
    "{{Hola|",
    "{{T0}}",
    "{{T1|a=b}}",
    "{{PAGENAME}}",
    "|",
    "=",
    "'''",
    "''",
    "\n",
    "\n*",
    "\n#",
    "\n;",
    "\n:",
    "\n{|",
    "\n|-",
    "\n|",
    "||",
    "\n!",
    "\n|}",
    "\n==",
    "==\n",
    "\n----\n",
    "\n ",
    "<ref>",
    "</ref>",
    "<ref name=\"a\"/>",
    "<references/>",
    "<nowiki>",
    "</nowiki>",
    "<pre>",
    "</pre>",
    "<!--",
    "-->",
    "<span style=\"color:red\">",
    "</span>",
    "<div class=\"x\">",
    "</div>",
    "<script>",
    "<b onclick=\"x\">",
    "&amp;",
    "&#58;",
    "&lt;",
    "[http://ejemplo.cu ",
    "]",
    "https://a.cu/b?c=d",
    "javascript:alert(1)",
    "[javascript:x y]",
    "mailto:a@b.cu",
    "#REDIRECCIÓN [[Cuba]]\n",
    "__TOC__",
    "Cuba",
    "Año",
    " ",
    "\0",
    "\0{{T0}}",
    "\0{{{1}}}",
];

const USSD_TOKENS: &[&str] = &[
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "0",
    "9",
    "00",
    "2468",
    "1357",
    "1234",
    "0000",
    "52001002",
    "+53 5200 1002",
    "5320010022",
    "100",
    "12,50",
    "0.01",
    "99999999999",
    "-5",
    "A-100",
    "usuario@nauta.com.cu",
    "x@y",
    "",
    " ",
    "*",
    "*",
    "*",
    "*",
    "\0",
    "\x01",
    "\x05",
    "Ana",
];

const MEDIAWIKI_TOKENS: &[&str] = &[
    "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\" version=\"0.11\">",
    "</mediawiki>",
    "<siteinfo>",
    "</siteinfo>",
    "<namespaces>",
    "</namespaces>",
    "<namespace key=\"10\" case=\"first-letter\">Plantilla</namespace>",
    "<page>",
    "</page>",
    "<title>Cuba</title>",
    "<title>Plantilla:Ficha</title>",
    "<ns>0</ns>",
    "<ns>10</ns>",
    "<id>1</id>",
    "<id>2</id>",
    "<redirect title=\"Cuba\"/>",
    "<revision>",
    "</revision>",
    "<parentid>1</parentid>",
    "<timestamp>2020-01-01T00:00:00Z</timestamp>",
    "<timestamp>mal</timestamp>",
    "<contributor>",
    "</contributor>",
    "<username>Ana</username>",
    "<ip>127.0.0.1</ip>",
    "<contributor deleted=\"deleted\"/>",
    "<minor/>",
    "<comment>c</comment>",
    "<model>wikitext</model>",
    "<format>text/x-wiki</format>",
    "<text xml:space=\"preserve\">",
    "</text>",
    "<text deleted=\"deleted\"/>",
    "<sha1>abc</sha1>",
    "a &amp; b",
    "&lt;",
    "&#x41;",
    "&bogus;",
    "<![CDATA[x]]>",
    "<!-- c -->",
    "<?xml version=\"1.0\"?>",
    "\n",
];

fn check_on(target: &str, data: &[u8]) {
    let check = ceiba_fuzzing::target(target).expect("a target of TARGETS");
    check(data);
}

proptest! {
    // Fifteen targets share these cases: about a hundred each.
    #![proptest_config(config(1536))]

    #[test]
    fn every_target_on_arbitrary_bytes(
        target in 0..TARGETS.len(),
        data in vec(any::<u8>(), 0..512),
    ) {
        (TARGETS[target].1)(&data);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn emv_qr_on_mutated_vectors(data in mutations_of(&EMV_VECTORS, 4)) {
        check_on("emv_qr", &data);
    }

    #[test]
    fn ussd_on_sessions(
        data in prop_oneof![token_soup(USSD_TOKENS, 24), mutations_of(&USSD_SEEDS, 4)],
    ) {
        check_on("ussd_input", &data);
    }

    #[test]
    fn phone_numbers_as_people_write_them(
        text in "[ (+]{0,2}(00)?(53)?[ .-]?[(]?5[)]?[0-9]{3}[ .-]?[0-9]{2,5}",
        data in mutations_of(&PHONE_SEEDS, 3),
    ) {
        check_on("phone_number", text.as_bytes());
        check_on("phone_number", &data);
    }

    #[test]
    fn national_ids_with_dates(
        text in " ?[0-9]{2}(0[1-9]|1[0-2]|00|13)([0-2][0-9]|3[01])[0-9]{5} ?",
        data in mutations_of(&NATIONAL_ID_SEEDS, 3),
    ) {
        check_on("national_id", text.as_bytes());
        check_on("national_id", &data);
    }

    #[test]
    fn wikitext_of_token_soup(data in token_soup(WIKITEXT_TOKENS, 48)) {
        check_on("wikitext", &data);
    }

    #[test]
    fn mediawiki_of_token_soup(data in token_soup(MEDIAWIKI_TOKENS, 40)) {
        let mut document = MEDIAWIKI_TOKENS[0].as_bytes().to_vec();
        document.extend(data);
        check_on("mediawiki_xml", &document);
    }

    #[test]
    fn bills_and_payouts_from_real_files(
        bills in mutations_of(&BILLS_SEEDS, 6),
        payouts in mutations_of(&PAYOUTS_SEEDS, 6),
    ) {
        check_on("bills_import", &bills);
        check_on("payouts_import", &payouts);
    }

    #[test]
    fn cases_from_line_lists(
        csv in mutations_of(&CASES_CSV_SEEDS, 6),
        json in mutations_of(&CASES_JSON_SEEDS, 6),
        archive in mutations_of(&CASES_ARCHIVE_SEEDS, 6),
    ) {
        check_on("cases_csv", &csv);
        check_on("cases_json", &json);
        check_on("cases_archive", &archive);
    }

    #[test]
    fn audit_proofs_and_checkpoints(
        data in vec(any::<u8>(), 0..400),
        checkpoint in mutations_of(&CHECKPOINTS, 3),
    ) {
        check_on("audit_proof", &data);
        check_on("audit_checkpoint", &checkpoint);
        check_on("audit_checkpoint", &data);
    }
}

// Real files are large for a debug build: fewer cases, each costly.
proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn wikitext_of_real_articles_mutated(data in mutations_of(&WIKITEXTS, 8)) {
        check_on("wikitext", &data);
    }

    #[test]
    fn mediawiki_exports_mutated(data in mutations_of(&MEDIAWIKI_EXPORTS, 8)) {
        check_on("mediawiki_xml", &data);
    }

    #[test]
    fn zim_files_mutated(data in mutations_of(&ZIM_FILES, 4)) {
        check_on("zim_file", &data);
    }

    #[test]
    fn zim_files_built_then_mutated(data in vec(any::<u8>(), 0..600)) {
        check_on("zim_built", &data);
    }
}

/// The real samples, unmutated: each must be accepted where it is valid, and pass the checks.
#[test]
fn real_samples_pass_every_check() {
    for vector in EMV_VECTORS.iter() {
        check_on("emv_qr", vector);
    }
    let accepted = EMV_VECTORS
        .iter()
        .filter(|vector| ceiba_emvqr::decode_bytes(vector).is_ok())
        .count();
    assert_eq!(
        accepted, 2,
        "the two published vectors decode; the third is refused"
    );
    for export in MEDIAWIKI_EXPORTS.iter() {
        check_on("mediawiki_xml", export);
    }
    for text in WIKITEXTS.iter().take(40) {
        check_on("wikitext", text);
    }
    for name in [
        "nons_small.zim",
        "withns_small.zim",
        "noTitleListingV0_small.zim",
        "nons_invalid.bad_mimetype_in_dirent.zim",
        "nons_invalid.nonsorted_dirent_table.zim",
        "nons_invalid.outofbounds_urlptrpos.zim",
        "nons_invalid.smaller_than_header.zim",
    ] {
        check_on("zim_file", &shared_data(&format!("zim/{name}")));
    }
    for checkpoint in CHECKPOINTS.iter() {
        check_on("audit_checkpoint", checkpoint);
        let text = std::str::from_utf8(checkpoint).expect("UTF-8");
        assert!(ceiba_audit::SignedCheckpoint::parse(text).is_ok());
    }
}

/// Every seed goes through its target, and the seeds of the importers are what they claim:
/// they reach the rows, not just the header.
#[test]
fn seeds_pass_their_checks() {
    for (target, check) in TARGETS {
        for seed in seeds(target) {
            check(&seed);
        }
    }
    let good = &CASES_CSV_SEEDS;
    assert!(good.iter().any(|seed| {
        let context = ceiba_surveillance::line_list::Context {
            province_of: &|code: &str| Some(code.get(..2)?.to_owned()),
            today: ceiba_surveillance::covid19cubadata::Date {
                year: 2026,
                month: 11,
                day: 30,
            },
        };
        let text = std::str::from_utf8(seed).expect("UTF-8");
        ceiba_surveillance::line_list::read_csv(text, &context)
            .is_ok_and(|list| list.entries.len() >= 3)
    }));
}

/// Each file of `regressions/<target>/` is an input that once broke that target (its name
/// says how): it is replayed through the same check function, and must now pass.
#[test]
fn regressions_replay() {
    let folder = Path::new(CRATE).join("regressions");
    let mut replayed = 0;
    for target_folder in std::fs::read_dir(&folder).expect("regressions/ exists") {
        let target_folder = target_folder.expect("a readable folder").path();
        if !target_folder.is_dir() {
            continue;
        }
        let name = target_folder
            .file_name()
            .and_then(|name| name.to_str())
            .expect("a UTF-8 name");
        let check = ceiba_fuzzing::target(name)
            .unwrap_or_else(|| panic!("regressions/{name} names no target of TARGETS"));
        for file in files_in(&target_folder) {
            let data = std::fs::read(&file).expect("a readable regression");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails again", file.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression was replayed");
}

/// One fuzz target per check function: `fuzz/fuzz_targets/<name>.rs` and its `[[bin]]`.
#[test]
fn every_target_has_its_fuzz_target() {
    let manifest = String::from_utf8(repository_file("fuzz/Cargo.toml")).expect("UTF-8");
    for (name, _) in TARGETS {
        let source = String::from_utf8(repository_file(&format!("fuzz/fuzz_targets/{name}.rs")))
            .expect("UTF-8");
        assert!(
            source.contains(&format!("ceiba_fuzzing::{name}(")),
            "fuzz/fuzz_targets/{name}.rs does not call ceiba_fuzzing::{name}"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
    let files = files_in(&Path::new(CRATE).join("../../fuzz/fuzz_targets"));
    assert_eq!(
        files.len(),
        TARGETS.len(),
        "a fuzz target without a check function"
    );
}

/// The input reader the structure-aware targets share reads zeros past the end, so that
/// every input is a whole program.
#[test]
fn unstructured_reads_zeros_past_the_end() {
    let mut input = Unstructured::new(&[1, 2, 3]);
    assert_eq!(input.u16(), 0x0201);
    assert_eq!(input.u64(), 3);
    assert!(input.is_empty());
    assert_eq!(input.below(10), 0);
    assert_eq!(input.short_bytes(), &[] as &[u8]);
}
