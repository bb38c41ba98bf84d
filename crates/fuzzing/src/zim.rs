use std::collections::BTreeMap;

use ceiba_zim::reader::{Archive, EntryKind, MAX_CLUSTER_SIZE};
use ceiba_zim::writer::{Metadata, ZimWriter};
use md5::{Digest, Md5};

use crate::input::{Unstructured, mutate};

/// ZIM files (`ceiba_zim::reader::Archive::from_bytes`, then everything a reader does with an
/// archive: `check`, the main page, metadata, the title listing, every entry's content).
/// Checked: never a panic; an opened archive's entries are in path order, each found by its
/// path, no more of them than the file has room for, and a resolved entry is not a redirect.
pub fn zim_file(data: &[u8]) {
    exercise(data.to_vec());
}

fn exercise(data: Vec<u8>) -> Option<Archive> {
    let file_len = data.len();
    let archive = match Archive::from_bytes(data) {
        Ok(archive) => archive,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return None;
        }
    };
    let entry_count = usize::try_from(archive.entry_count()).expect("u32 fits usize");
    assert_eq!(archive.entries().len(), entry_count);
    // Each entry has an 8-byte pointer in the path list, inside the file.
    assert!(
        entry_count.saturating_mul(8) <= file_len,
        "{entry_count} entries"
    );
    assert_eq!(archive.entries_by_title().count(), entry_count);
    let mut previous: Option<(char, &str)> = None;
    for (position, entry) in archive.entries().enumerate() {
        assert_eq!(usize::try_from(entry.index).ok(), Some(position));
        let key = (entry.namespace, entry.path.as_str());
        assert!(
            previous.is_none_or(|previous| previous < key),
            "entries out of path order"
        );
        previous = Some(key);
        let found = archive
            .entry_by_path(entry.namespace, &entry.path)
            .expect("an entry is found by its own path");
        assert_eq!(found.index, entry.index);
        match archive.resolve(entry) {
            Ok(target) => assert!(!target.is_redirect()),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
        if let Ok(content) = archive.content(entry) {
            assert!(content.len() <= MAX_CLUSTER_SIZE);
        }
        if let EntryKind::Content { mime_index, .. } = entry.kind {
            assert_eq!(
                archive.mime_type(entry).is_some(),
                usize::from(mime_index) < archive.mime_types().len()
            );
        }
    }
    let _ = archive.check();
    let _ = archive.main_page();
    let _ = archive.metadata("Title");
    let _ = archive.metadata_bytes("Illustration_48x48@1");
    if let Ok(Some(order)) = archive.front_article_order() {
        assert!(
            order
                .iter()
                .all(|index| usize::try_from(*index).is_ok_and(|index| index < entry_count)),
            "the title listing names an entry that does not exist"
        );
    }
    Some(archive)
}

/// A file built by `ceiba_zim::writer::ZimWriter` from the bytes (entries, contents, redirects,
/// main page), which must open, pass `check` and give back every entry as written; then the
/// same file with byte edits from the rest of the input, its MD5 made right again or not, read
/// as [`zim_file`] reads. This gets the fuzzer past the header, the pointer lists and the
/// checksum into the clusters and directory entries.
pub fn zim_built(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let entries = usize::from(input.u8() % 8);
    let mut writer = ZimWriter::new(metadata());
    let mut written: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for index in 0..entries {
        let path = format!("{index}/{}", hex(input.bytes(2)));
        let content = input.short_bytes().to_vec();
        let mime = ["text/html", "image/png", "text/plain"][input.below(3)];
        writer
            .add_entry(&path, &path, mime, content.clone())
            .expect("a fresh path");
        written.insert(path, content);
    }
    let mut redirects = 0;
    if let Some(target) = written.keys().next().cloned() {
        if input.bool() {
            writer
                .add_redirect("redireccion", "Redirección", &target)
                .expect("a fresh path");
            redirects += 1;
        }
        writer.set_main_page(&target);
    }
    let bytes = writer.to_bytes().expect("a valid file is written");
    let archive = exercise(bytes.clone()).expect("a written file opens");
    archive
        .check()
        .expect("a written file passes its own checks");
    let users: Vec<_> = archive
        .entries()
        .filter(|entry| entry.namespace == 'C')
        .collect();
    assert_eq!(users.len(), written.len() + redirects);
    for (path, content) in &written {
        let entry = archive.entry_by_path('C', path).expect("written, so found");
        assert_eq!(
            &archive.content(entry).expect("readable"),
            content,
            "{path}"
        );
    }

    let mut mutated = bytes;
    mutate(&mut mutated, &mut input, 8);
    if input.bool() && mutated.len() >= 16 {
        // A fuzzer cannot guess an MD5: make it right so that `check` looks further.
        let split = mutated.len() - 16;
        let digest = Md5::digest(&mutated[..split]);
        mutated[split..].copy_from_slice(&digest);
    }
    exercise(mutated);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn metadata() -> Metadata {
    Metadata {
        name: "ceiba_es_fuzz".to_owned(),
        title: "Prueba".to_owned(),
        creator: "Ceiba".to_owned(),
        publisher: "Ceiba".to_owned(),
        date: "2026-11-30".to_owned(),
        description: "Archivo para los simulacros".to_owned(),
        language: "spa".to_owned(),
        // Only the PNG signature is checked: the file is never shown.
        illustration_48x48_png: b"\x89PNG\r\n\x1a\n".to_vec(),
        extra: BTreeMap::new(),
    }
}
