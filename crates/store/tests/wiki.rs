//! Enciclopedia's pages and revisions on SQLite and PostgreSQL: an edit is saved only on the
//! revision it was made from, so two editors of one version never overwrite each other; an
//! import stores each revision once; links, categories, reviews, protection and watchlists.

use ceiba_store::testing::active_citizen;
use ceiba_store::{Db, NewRevision, SaveOutcome};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine(
        "wiki_edits_save_only_on_their_base_and_conflicts_save_nothing",
        edits,
    );
    suite.each_engine("wiki_imports_store_each_revision_once", imports);
    suite.each_engine(
        "wiki_links_categories_reviews_protection_and_watchlists",
        links_and_reviews,
    );
    suite.run()
}

const NOW_MS: i64 = 1_796_000_000_000;
const SHA256_OF_R2: &str = "629d3fe70ba97e0b1e5f6bf14d73ec7d7d3c9e461b79d170811176ae53d6f74b";

fn edit<'a>(
    title: &'a str,
    base: Option<&'a str>,
    text: &'a str,
    id: &'a str,
    at: i64,
) -> NewRevision<'a> {
    NewRevision {
        revision_id: id,
        new_page_id: id,
        namespace: 0,
        title,
        base_revision_id: base,
        author_id: None,
        author_name: "Prueba",
        timestamp_ms: NOW_MS + at,
        summary: "resumen",
        text,
        minor: false,
        tags: "",
        reviewed_by: None,
        links: &[],
        categories: &[],
        redirect_to: None,
        external_id: None,
    }
}

fn saved(outcome: SaveOutcome) -> Result<String, String> {
    match outcome {
        SaveOutcome::Saved { revision_id, .. } => Ok(revision_id),
        other => Err(format!("not saved: {other:?}")),
    }
}

async fn edits(database: TestDatabase) -> TestResult {
    let db: Db = database.db;
    let author = active_citizen(&db, "+5352800001").await?;
    let mut first = edit("La Habana", None, "Capital de Cuba.", "r1", 0);
    first.author_id = Some(&author);
    let r1 = saved(db.save_wiki_revision(&first).await?)?;
    assert_eq!(r1, "r1");
    // Creating it again is a conflict: it exists now.
    assert_eq!(
        db.save_wiki_revision(&edit("La Habana", None, "Otra.", "r0", 1))
            .await?,
        SaveOutcome::Conflict {
            latest_revision_id: Some("r1".to_owned())
        }
    );
    // An edit of a page that does not exist, from a base, is a conflict too.
    assert_eq!(
        db.save_wiki_revision(&edit("Nadie", Some("r1"), "x", "rx", 1))
            .await?,
        SaveOutcome::Conflict {
            latest_revision_id: None
        }
    );
    // Two editors start from r1: the first saves, the second is told what won.
    let r2 = saved(
        db.save_wiki_revision(&edit(
            "La Habana",
            Some("r1"),
            "Capital y mayor ciudad.",
            "r2",
            2,
        ))
        .await?,
    )?;
    assert_eq!(
        db.save_wiki_revision(&edit("La Habana", Some("r1"), "Texto perdido.", "r3", 3))
            .await?,
        SaveOutcome::Conflict {
            latest_revision_id: Some(r2.clone())
        }
    );
    assert_eq!(
        db.wiki_revision("r3").await?,
        None,
        "nothing of the loser saved"
    );
    let page = db.wiki_page(0, "La Habana").await?.ok_or("the page")?;
    assert_eq!(page.latest_revision_id.as_deref(), Some("r2"));
    assert_eq!(page.revisions, 2);
    let revision = db.wiki_revision("r2").await?.ok_or("r2")?;
    assert_eq!(revision.text, "Capital y mayor ciudad.");
    assert_eq!(revision.number, 2);
    assert_eq!(revision.parent_id.as_deref(), Some("r1"));
    assert_eq!(revision.bytes, 23);
    // SHA-256 of "Capital y mayor ciudad.", computed independently (sha256sum).
    assert_eq!(revision.sha256, SHA256_OF_R2);
    let history = db.wiki_history(&page.id, 10).await?;
    let numbers: Vec<u64> = history.iter().map(|revision| revision.number).collect();
    assert_eq!(numbers, [2, 1], "newest first");
    assert!(
        history.iter().all(|revision| revision.text.is_empty()),
        "no text in lists"
    );
    assert_eq!(history[1].author_id.as_deref(), Some(author.as_str()));
    let recent = db.wiki_recent_changes(10).await?;
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].1, "La Habana");
    assert_eq!(recent[0].2.id, "r2");
    Ok(())
}

async fn imports(database: TestDatabase) -> TestResult {
    let db = database.db;
    let mut imported = edit("Trinidad", None, "Villa fundada en 1514.", "i1", 0);
    imported.external_id = Some("ecured:77");
    imported.author_name = "Usuario de EcuRed";
    saved(db.save_wiki_revision(&imported).await?)?;
    // The same revision from a second run of the import: stored once.
    let mut again = imported.clone();
    again.revision_id = "i1-bis";
    assert_eq!(
        db.save_wiki_revision(&again).await?,
        SaveOutcome::AlreadyImported {
            revision_id: "i1".to_owned()
        }
    );
    let page = db.wiki_page(0, "Trinidad").await?.ok_or("page")?;
    assert_eq!(page.revisions, 1);
    assert_eq!(
        db.wiki_revision("i1").await?.and_then(|r| r.external_id),
        Some("ecured:77".to_owned())
    );
    Ok(())
}

async fn links_and_reviews(database: TestDatabase) -> TestResult {
    let db = database.db;
    let reviewer = active_citizen(&db, "+5352800002").await?;
    let reader = active_citizen(&db, "+5352800003").await?;
    let links = vec![
        (0, "Cuba".to_owned()),
        (0, "Trinidad".to_owned()),
        (0, "Cuba".to_owned()),
    ];
    let categories = vec!["Ciudades de Cuba".to_owned()];
    let mut first = edit("Cienfuegos", None, "[[Cuba]] [[Trinidad]]", "c1", 0);
    first.links = &links;
    first.categories = &categories;
    first.reviewed_by = Some(&reviewer);
    saved(db.save_wiki_revision(&first).await?)?;
    saved(
        db.save_wiki_revision(&edit("Cuba", None, "Isla.", "cu1", 1))
            .await?,
    )?;
    assert_eq!(
        db.wiki_links_here(0, "Cuba").await?,
        [(0, "Cienfuegos".to_owned())]
    );
    assert_eq!(
        db.wiki_category_members("Ciudades de Cuba").await?,
        [(0, "Cienfuegos".to_owned())]
    );
    let titles = vec![
        "Cuba".to_owned(),
        "Trinidad".to_owned(),
        "Cienfuegos".to_owned(),
    ];
    let mut existing = db.wiki_existing(0, &titles).await?;
    existing.sort();
    assert_eq!(existing, ["Cienfuegos", "Cuba"], "Trinidad is a red link");

    // Pending changes: a later edit is not shown to readers until reviewed.
    let page = db.wiki_page(0, "Cienfuegos").await?.ok_or("page")?;
    assert_eq!(page.reviewed_revision_id.as_deref(), Some("c1"));
    assert!(
        db.set_wiki_protection(&page.id, Some(("semi", Some(NOW_MS + 86_400_000))), true)
            .await?
    );
    let later = vec![(0, "Cuba".to_owned())];
    let mut second = edit("Cienfuegos", Some("c1"), "[[Cuba]]", "c2", 2);
    second.links = &later;
    saved(db.save_wiki_revision(&second).await?)?;
    let page = db.wiki_page(0, "Cienfuegos").await?.ok_or("page")?;
    assert_eq!(page.latest_revision_id.as_deref(), Some("c2"));
    assert_eq!(
        page.reviewed_revision_id.as_deref(),
        Some("c1"),
        "still the reviewed one"
    );
    assert_eq!(page.protection.as_deref(), Some("semi"));
    assert_eq!(page.protection_expires_ms, Some(NOW_MS + 86_400_000));
    assert!(page.pending_changes);
    // The links and categories follow the latest revision.
    assert!(db.wiki_links_here(0, "Trinidad").await?.is_empty());
    assert!(
        db.wiki_category_members("Ciudades de Cuba")
            .await?
            .is_empty()
    );
    assert!(db.review_wiki_revision("c2", &reviewer, NOW_MS + 3).await?);
    assert!(db.review_wiki_revision("c1", &reviewer, NOW_MS + 4).await?);
    let page = db.wiki_page(0, "Cienfuegos").await?.ok_or("page")?;
    assert_eq!(
        page.reviewed_revision_id.as_deref(),
        Some("c2"),
        "reviewing an older revision does not go back"
    );
    assert!(!db.review_wiki_revision("nada", &reviewer, NOW_MS).await?);
    assert!(db.set_wiki_protection(&page.id, None, false).await?);
    let page = db.wiki_page(0, "Cienfuegos").await?.ok_or("page")?;
    assert_eq!((page.protection, page.pending_changes), (None, false));

    // Watchlists.
    db.set_wiki_watch(&reader, &page.id, true, NOW_MS).await?;
    db.set_wiki_watch(&reader, &page.id, true, NOW_MS).await?;
    let watched = db.wiki_watchlist(&reader, 10).await?;
    let ids: Vec<&str> = watched
        .iter()
        .map(|(_, _, revision)| revision.id.as_str())
        .collect();
    assert_eq!(ids, ["c2", "c1"]);
    db.set_wiki_watch(&reader, &page.id, false, NOW_MS).await?;
    assert!(db.wiki_watchlist(&reader, 10).await?.is_empty());
    Ok(())
}
