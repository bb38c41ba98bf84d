//! The Enciclopedia over HTTP, on each engine: pages are created, read, edited, compared and
//! rolled back; missing pages are red links; two edits of one revision never overwrite each
//! other (the second gets a merge); pages under pending changes show readers the reviewed
//! revision until a reviewer accepts; protection follows roles and lapses; abuse filters
//! refuse and tag; rate limits hold; an edit is found by search at once; hostile markup never
//! reaches the page as a script; categories and "what links here" list their pages; and a
//! person without JavaScript reads, edits, sees the history and searches through the forms.

use std::time::Duration;

use ceiba_identity::Role;
use ceiba_store::Db;
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use serde_json::{Value, json};

mod support;
use support::{
    Browser, TestServer, assert_problem, form, second_factor_token, sign_in_by_form,
    signed_in_user, unescape_html,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        pages_are_created_read_edited_compared_and_rolled_back,
        a_second_edit_of_one_revision_gets_a_merge_and_overwrites_nothing,
        readers_see_the_reviewed_revision_until_a_reviewer_accepts,
        protection_follows_roles_and_lapses,
        abuse_filters_refuse_and_tag_and_rate_limits_hold,
        an_edit_is_found_by_search_at_once,
        hostile_markup_never_yields_a_script,
        categories_what_links_here_and_redirects,
        a_person_without_javascript_reads_edits_and_searches,
    );
    suite.run()
}

/// A title as a path segment: underscores for spaces, everything else percent-encoded.
fn path_of(title: &str) -> String {
    title
        .replace(' ', "_")
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b':' | b'%' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

async fn put(
    server: &TestServer,
    token: &str,
    title: &str,
    text: &str,
    base: Option<&str>,
) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    server
        .send_json(
            "PUT",
            &format!("/api/v1/wiki/pages/{}", path_of(title)),
            &json!({"text": text, "summary": "prueba", "base_revision_id": base}),
            &[("authorization", &authorization)],
        )
        .await
}

/// Saves and returns the new revision's id.
async fn saved(
    server: &TestServer,
    token: &str,
    title: &str,
    text: &str,
    base: Option<&str>,
) -> Result<String, String> {
    let response = put(server, token, title, text, base).await?;
    if response.status != 200 && response.status != 201 {
        return Err(format!("{title}: {} {}", response.status, response.text()));
    }
    Ok(response.json()?["revision_id"]
        .as_str()
        .ok_or("no revision_id")?
        .to_owned())
}

async fn page_json(server: &TestServer, title: &str) -> Result<Value, String> {
    let response = server.get(&format!("/api/v1/wiki/pages/{title}")).await?;
    if response.status != 200 {
        return Err(format!("{title}: {} {}", response.status, response.text()));
    }
    response.json()
}

async fn get_as(server: &TestServer, token: &str, path: &str) -> Result<Response, String> {
    server.with_token("GET", path, token).await
}

/// Sends a page's form as an API client would (bearer token: no `_csrf` needed).
async fn post_form(
    server: &TestServer,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    send(
        "POST",
        &server.url(path),
        &[
            ("authorization", authorization.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        form(fields).into_bytes(),
    )
    .await
}

async fn audit_kinds(
    db: &Db,
    from: u64,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let mut kinds = Vec::new();
    for entry in db.audit_entries(from, 1000).await? {
        let value: Value = serde_json::from_slice(&entry.data)?;
        kinds.push(value["kind"].as_str().unwrap_or_default().to_owned());
    }
    Ok(kinds)
}

async fn pages_are_created_read_edited_compared_and_rolled_back(
    database: TestDatabase,
) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, ana) = signed_in_user(&server, &db, "+5352000001", "Ana", &[Role::Citizen]).await?;
    let (_, vandal) =
        signed_in_user(&server, &db, "+5352000002", "Vándalo", &[Role::Citizen]).await?;
    let (_, reviewer) =
        signed_in_user(&server, &db, "+5352000003", "Rosa", &[Role::Reviewer]).await?;

    // Anonymous readers cannot edit: the API says why.
    let response = server
        .send_json(
            "PUT",
            "/api/v1/wiki/pages/Historia_de_Cuba",
            &json!({"text": "x"}),
            &[],
        )
        .await?;
    assert_eq!(response.status, 401, "{}", response.text());

    let first = "'''Cuba''' es una isla. Su capital es [[La Habana]].\n\nSegundo párrafo.\n";
    let response = put(&server, &ana, "Historia_de_Cuba", first, None).await?;
    assert_eq!(response.status, 201, "{}", response.text());
    let r1 = response.json()?["revision_id"]
        .as_str()
        .ok_or("id")?
        .to_owned();

    // Read: rendered, and the link to a missing page is red, pointing to its edit form.
    let shown = server.get("/wiki/Historia_de_Cuba").await?;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let html = shown.text();
    assert!(html.contains("<b>Cuba</b>"), "{html}");
    assert!(html.contains("class=\"nuevo\""), "red link: {html}");
    assert!(html.contains("pestana-discusion"), "talk tab: {html}");
    assert!(
        html.contains("/wiki/Discusi%C3%B3n:Historia_de_Cuba"),
        "{html}"
    );
    // Once the page exists, the link is blue.
    saved(&server, &ana, "La_Habana", "Capital.", None).await?;
    let html = server.get("/wiki/Historia_de_Cuba").await?.text();
    assert!(!html.contains("class=\"nuevo\""), "{html}");
    // A missing page answers 404 and offers no creation to anonymous readers.
    let missing = server.get("/wiki/Nada_por_aqu%C3%AD").await?;
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("no-existe"), "{}", missing.text());
    assert!(!missing.text().contains("id=\"crear\""));
    let missing = get_as(&server, &ana, "/wiki/Nada_por_aqu%C3%AD").await?;
    assert!(
        missing.text().contains("Crear esta página"),
        "{}",
        missing.text()
    );
    // `/wiki` leads to the main page.
    let main = server.get("/wiki").await?;
    assert_eq!(main.header("location"), Some("/wiki/Portada"));

    // An edit from the latest revision; the history lists both, newest first.
    let second = first.replace("Segundo párrafo.", "Segundo párrafo, corregido.");
    let r2 = saved(&server, &ana, "Historia_de_Cuba", &second, Some(&r1)).await?;
    let history = server
        .get("/api/v1/wiki/pages/Historia_de_Cuba/history")
        .await?
        .json()?;
    let ids: Vec<&str> = history
        .as_array()
        .ok_or("array")?
        .iter()
        .filter_map(|revision| revision["id"].as_str())
        .collect();
    assert_eq!(ids, vec![r2.as_str(), r1.as_str()]);
    assert_eq!(history[0]["author"], "Ana");
    let page = server
        .get("/wiki/Historia_de_Cuba?accion=historial")
        .await?;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&r2), "{}", page.text());
    let diff = server
        .get(&format!("/wiki/Historia_de_Cuba?diff={r2}&oldid={r1}"))
        .await?;
    assert_eq!(diff.status, 200, "{}", diff.text());
    assert!(diff.text().contains("<ins"), "{}", diff.text());
    assert!(diff.text().contains("corregido"), "{}", diff.text());
    let old = server
        .get(&format!("/wiki/Historia_de_Cuba?oldid={r1}"))
        .await?;
    assert!(old.text().contains("revision-antigua"), "{}", old.text());

    // Vandalism, twice, by one author; a citizen may not roll back, a reviewer may.
    let r3 = saved(&server, &vandal, "Historia_de_Cuba", "BORRADO", Some(&r2)).await?;
    saved(
        &server,
        &vandal,
        "Historia_de_Cuba",
        "BORRADO OTRA VEZ",
        Some(&r3),
    )
    .await?;
    let refused = post_form(&server, &ana, "/wiki/Historia_de_Cuba?accion=revertir", &[]).await?;
    assert_eq!(refused.status, 403, "{}", refused.text());
    let before = db.audit_head().await?.tree_size;
    let done = post_form(
        &server,
        &reviewer,
        "/wiki/Historia_de_Cuba?accion=revertir",
        &[],
    )
    .await?;
    assert_eq!(done.status, 303, "{}", done.text());
    let page = page_json(&server, "Historia_de_Cuba").await?;
    assert_eq!(page["text"], second.as_str());
    assert!(
        audit_kinds(&db, before)
            .await?
            .contains(&"wiki_rollback".to_owned())
    );
    // Bad titles are refused.
    let response = put(&server, &ana, "Mala%5Bp%C3%A1gina%5D", "x", None).await?;
    assert_problem(
        &response,
        422,
        "validation_failed",
        "/api/v1/wiki/pages/Mala%5Bp%C3%A1gina%5D",
    );
    Ok(())
}

async fn a_second_edit_of_one_revision_gets_a_merge_and_overwrites_nothing(
    database: TestDatabase,
) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, ana) = signed_in_user(&server, &db, "+5352000011", "Ana", &[Role::Editor]).await?;
    let (_, luis) = signed_in_user(&server, &db, "+5352000012", "Luis", &[Role::Editor]).await?;
    let base_text = "uno\ndos\ntres\ncuatro\ncinco\n";
    let base = saved(&server, &ana, "Números", base_text, None).await?;
    let anas = "UNO\ndos\ntres\ncuatro\ncinco\n";
    let latest = saved(&server, &ana, "Números", anas, Some(&base)).await?;

    // Luis edited another line of the same base: a clean merge, offered, not saved.
    let luis_text = "uno\ndos\ntres\ncuatro\nCINCO\n";
    let response = put(&server, &luis, "Números", luis_text, Some(&base)).await?;
    let problem = assert_problem(
        &response,
        409,
        "conflict",
        "/api/v1/wiki/pages/N%C3%BAmeros",
    );
    assert_eq!(problem["merge"]["clean"], true, "{problem}");
    assert_eq!(problem["merge"]["text"], "UNO\ndos\ntres\ncuatro\nCINCO\n");
    assert_eq!(problem["merge"]["latest_revision_id"], latest.as_str());
    assert_eq!(page_json(&server, "N%C3%BAmeros").await?["text"], anas);
    // Sending the merge on the latest revision saves it.
    let merged = problem["merge"]["text"].as_str().ok_or("text")?;
    saved(&server, &luis, "Números", merged, Some(&latest)).await?;
    let now = page_json(&server, "N%C3%BAmeros").await?;
    assert_eq!(now["text"], merged);
    let latest = now["revision_id"].as_str().ok_or("id")?.to_owned();

    // Both change one line: a conflict with markers; nothing overwritten.
    let response = put(
        &server,
        &ana,
        "Números",
        "UNO\nDOS de Ana\ntres\ncuatro\nCINCO\n",
        Some(&latest),
    )
    .await?;
    assert_eq!(response.status, 200, "{}", response.text());
    let response = put(
        &server,
        &luis,
        "Números",
        "UNO\nDOS de Luis\ntres\ncuatro\nCINCO\n",
        Some(&latest),
    )
    .await?;
    let problem = assert_problem(
        &response,
        409,
        "conflict",
        "/api/v1/wiki/pages/N%C3%BAmeros",
    );
    assert_eq!(problem["merge"]["clean"], false);
    let text = problem["merge"]["text"].as_str().ok_or("text")?;
    assert!(
        text.contains("<<<<<<<") && text.contains(">>>>>>>"),
        "{text}"
    );
    assert_eq!(problem["merge"]["conflicts"][0]["mine"], "DOS de Luis\n");
    assert_eq!(
        page_json(&server, "N%C3%BAmeros").await?["text"],
        "UNO\nDOS de Ana\ntres\ncuatro\nCINCO\n"
    );
    // The form shows the conflict as a page too.
    let response = post_form(
        &server,
        &luis,
        "/wiki/N%C3%BAmeros",
        &[
            ("texto", "UNO\nDOS de Luis\ntres\ncuatro\nCINCO\n"),
            ("base", &latest),
        ],
    )
    .await?;
    assert_eq!(response.status, 409, "{}", response.text());
    let html = response.text();
    assert!(html.contains("id=\"conflicto\""), "{html}");
    assert!(
        html.contains("DOS de Luis") && html.contains("DOS de Ana"),
        "{html}"
    );
    Ok(())
}

async fn readers_see_the_reviewed_revision_until_a_reviewer_accepts(
    database: TestDatabase,
) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, editor) = signed_in_user(&server, &db, "+5352000021", "Eva", &[Role::Editor]).await?;
    let (_, citizen) =
        signed_in_user(&server, &db, "+5352000022", "Ciro", &[Role::Citizen]).await?;
    let (_, reviewer) =
        signed_in_user(&server, &db, "+5352000023", "Rosa", &[Role::Reviewer]).await?;
    let admin = second_factor_token(&server, &db, "+5352000024", &[Role::Administrator]).await?;
    let first = saved(&server, &editor, "Martí", "Texto revisado.", None).await?;

    let before = db.audit_head().await?.tree_size;
    let response = post_form(
        &server,
        &admin,
        "/wiki/Mart%C3%AD?accion=proteger",
        &[("nivel", "ninguna"), ("pendientes", "1")],
    )
    .await?;
    assert_eq!(response.status, 303, "{}", response.text());
    assert!(
        audit_kinds(&db, before)
            .await?
            .contains(&"wiki_page_protected".to_owned())
    );

    let response = put(
        &server,
        &citizen,
        "Mart%C3%AD",
        "Texto sin revisar.",
        Some(&first),
    )
    .await?;
    assert_eq!(response.status, 200, "{}", response.text());
    let pending = response.json()?;
    assert_eq!(pending["pending"], true);
    let pending_id = pending["revision_id"].as_str().ok_or("id")?.to_owned();
    // Readers see the reviewed text; the reviewer sees the latest and may accept it.
    assert!(
        server
            .get("/wiki/Mart%C3%AD")
            .await?
            .text()
            .contains("Texto revisado.")
    );
    assert_eq!(
        page_json(&server, "Mart%C3%AD").await?["revision_id"],
        first.as_str()
    );
    let html = get_as(&server, &reviewer, "/wiki/Mart%C3%AD").await?.text();
    assert!(
        html.contains("Texto sin revisar.") && html.contains("id=\"pendiente\""),
        "{html}"
    );
    // Someone who may not review cannot accept.
    let refused = post_form(
        &server,
        &citizen,
        &format!("/wiki/Mart%C3%AD?accion=revisar&revision={pending_id}"),
        &[],
    )
    .await?;
    assert_eq!(refused.status, 403);
    let before = db.audit_head().await?.tree_size;
    let accepted = post_form(
        &server,
        &reviewer,
        &format!("/wiki/Mart%C3%AD?accion=revisar&revision={pending_id}"),
        &[],
    )
    .await?;
    assert_eq!(accepted.status, 303, "{}", accepted.text());
    assert!(
        audit_kinds(&db, before)
            .await?
            .contains(&"wiki_revision_reviewed".to_owned())
    );
    assert!(
        server
            .get("/wiki/Mart%C3%AD")
            .await?
            .text()
            .contains("Texto sin revisar.")
    );
    // A reviewer's own edit is published at once.
    let response = put(
        &server,
        &reviewer,
        "Mart%C3%AD",
        "Del revisor.",
        Some(&pending_id),
    )
    .await?;
    assert_eq!(response.json()?["pending"], false);
    assert_eq!(
        page_json(&server, "Mart%C3%AD").await?["text"],
        "Del revisor."
    );
    Ok(())
}

async fn protection_follows_roles_and_lapses(database: TestDatabase) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, editor) = signed_in_user(&server, &db, "+5352000031", "Eva", &[Role::Editor]).await?;
    let (_, citizen) =
        signed_in_user(&server, &db, "+5352000032", "Ciro", &[Role::Citizen]).await?;
    let admin = second_factor_token(&server, &db, "+5352000034", &[Role::Administrator]).await?;
    // An administrator without a second factor is not one to the wiki.
    let (_, weak_admin) =
        signed_in_user(&server, &db, "+5352000035", "Ada", &[Role::Administrator]).await?;
    let first = saved(&server, &editor, "Constitución", "Texto.", None).await?;
    let refused = post_form(
        &server,
        &weak_admin,
        "/wiki/Constituci%C3%B3n?accion=proteger",
        &[("nivel", "total")],
    )
    .await?;
    assert_eq!(refused.status, 403, "{}", refused.text());
    let response = post_form(
        &server,
        &admin,
        "/wiki/Constituci%C3%B3n?accion=proteger",
        &[("nivel", "semi"), ("horas", "2")],
    )
    .await?;
    assert_eq!(response.status, 303, "{}", response.text());

    // A new account may not edit a semi-protected page; the reason says so.
    let response = put(
        &server,
        &citizen,
        "Constituci%C3%B3n",
        "Cambio.",
        Some(&first),
    )
    .await?;
    let problem = assert_problem(
        &response,
        403,
        "forbidden",
        "/api/v1/wiki/pages/Constituci%C3%B3n",
    );
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("protegida")),
        "{problem}"
    );
    let form = get_as(&server, &citizen, "/wiki/Constituci%C3%B3n?accion=editar").await?;
    assert_eq!(form.status, 403);
    assert!(form.text().contains("protegida"), "{}", form.text());
    // An editor may, and edits as a reviewed revision.
    let second = saved(
        &server,
        &editor,
        "Constituci%C3%B3n",
        "Texto 2.",
        Some(&first),
    )
    .await?;

    // Full protection: only administrators.
    post_form(
        &server,
        &admin,
        "/wiki/Constituci%C3%B3n?accion=proteger",
        &[("nivel", "total"), ("horas", "2")],
    )
    .await?;
    let response = put(
        &server,
        &editor,
        "Constituci%C3%B3n",
        "Texto 3.",
        Some(&second),
    )
    .await?;
    assert_eq!(response.status, 403, "{}", response.text());
    let third = saved(
        &server,
        &admin,
        "Constituci%C3%B3n",
        "Texto 3.",
        Some(&second),
    )
    .await?;
    // It lapses after its hours.
    server.clock.advance(Duration::from_secs(3 * 3600));
    // (Sessions idle that long end: sign in again.)
    let citizen = support::token_of(
        &support::sign_in(&server, "+5352000032", support::PASSWORD, None).await?,
    )
    .await?
    .0;
    let response = put(
        &server,
        &citizen,
        "Constituci%C3%B3n",
        "Texto 4.",
        Some(&third),
    )
    .await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(())
}

async fn abuse_filters_refuse_and_tag_and_rate_limits_hold(database: TestDatabase) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, citizen) =
        signed_in_user(&server, &db, "+5352000041", "Ciro", &[Role::Citizen]).await?;
    let admin = second_factor_token(&server, &db, "+5352000044", &[Role::Administrator]).await?;
    let authorization = format!("Bearer {admin}");
    let before = db.audit_head().await?.tree_size;
    let response = server
        .send_json(
            "PUT",
            "/api/v1/wiki/filters/1",
            &json!({"description": "publicidad de fármacos", "enabled": true,
                    "spec": {"conditions": [{"matches": "(?i)viagra"}], "action": "disallow"}}),
            &[("authorization", &authorization)],
        )
        .await?;
    assert_eq!(response.status, 204, "{}", response.text());
    assert!(
        audit_kinds(&db, before)
            .await?
            .contains(&"wiki_filter_changed".to_owned())
    );
    let response = server
        .send_json(
            "PUT",
            "/api/v1/wiki/filters/2",
            &json!({"description": "enlace externo", "enabled": true,
                    "spec": {"conditions": [{"matches": "https?://"}], "action": {"tag": "enlace-externo"}}}),
            &[("authorization", &authorization)],
        )
        .await?;
    assert_eq!(response.status, 204, "{}", response.text());
    // A bad pattern is refused; a citizen may not write filters.
    let response = server
        .send_json(
            "PUT",
            "/api/v1/wiki/filters/3",
            &json!({"description": "roto", "enabled": true,
                    "spec": {"conditions": [{"matches": "(("}], "action": "warn"}}),
            &[("authorization", &authorization)],
        )
        .await?;
    assert_eq!(response.status, 422, "{}", response.text());
    let response = server
        .send_json(
            "PUT",
            "/api/v1/wiki/filters/3",
            &json!({}),
            &[("authorization", &format!("Bearer {citizen}"))],
        )
        .await?;
    assert_eq!(response.status, 403, "{}", response.text());

    let response = put(&server, &citizen, "Anuncio", "Compre VIAGRA aquí", None).await?;
    let problem = assert_problem(&response, 403, "forbidden", "/api/v1/wiki/pages/Anuncio");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("filtro 1")),
        "{problem}"
    );
    assert_eq!(server.get("/api/v1/wiki/pages/Anuncio").await?.status, 404);
    saved(&server, &citizen, "Enlaces", "Vea https://ejemplo.cu", None).await?;
    let history = server
        .get("/api/v1/wiki/pages/Enlaces/history")
        .await?
        .json()?;
    assert_eq!(history[0]["tags"], json!(["enlace-externo"]));

    // A new account creates three pages a minute; the fourth waits.
    saved(&server, &citizen, "Segunda", "x", None).await?;
    saved(&server, &citizen, "Tercera", "x", None).await?;
    let response = put(&server, &citizen, "Cuarta", "x", None).await?;
    assert_problem(&response, 429, "rate_limited", "/api/v1/wiki/pages/Cuarta");
    assert!(response.header("retry-after").is_some(), "{response:?}");
    server.clock.advance(Duration::from_secs(61));
    saved(&server, &citizen, "Cuarta", "x", None).await?;
    Ok(())
}

async fn an_edit_is_found_by_search_at_once(database: TestDatabase) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, editor) = signed_in_user(&server, &db, "+5352000051", "Eva", &[Role::Editor]).await?;
    let first = saved(
        &server,
        &editor,
        "Tecnología en Cuba",
        "Los ordenadores llegaron tarde.",
        None,
    )
    .await?;
    saved(
        &server,
        &editor,
        "Tecnología en Cuba",
        "La '''biotecnología''' cubana produce vacunas.",
        Some(&first),
    )
    .await?;
    let hits = server
        .get("/api/v1/wiki/search?q=biotecnologia")
        .await?
        .json()?;
    assert_eq!(hits[0]["title"], "Tecnología en Cuba", "{hits}");
    assert!(
        hits[0]["snippet_html"]
            .as_str()
            .is_some_and(|s| s.contains("<b>")),
        "{hits}"
    );
    // The old text is gone from the index.
    let hits = server
        .get("/api/v1/wiki/search?q=ordenadores")
        .await?
        .json()?;
    assert_eq!(hits, json!([]));
    let page = server.get("/wiki/Especial:Buscar?q=vacunas").await?;
    assert!(page.text().contains("id=\"resultados\""), "{}", page.text());
    assert!(page.text().contains("<b>vacunas</b>"), "{}", page.text());
    let suggestions = server.get("/api/v1/wiki/suggest?q=tecno").await?.json()?;
    assert_eq!(
        suggestions[0]["title"], "Tecnología en Cuba",
        "{suggestions}"
    );
    assert_eq!(suggestions[0]["url"], "/wiki/Tecnolog%C3%ADa_en_Cuba");
    Ok(())
}

async fn hostile_markup_never_yields_a_script(database: TestDatabase) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, editor) = signed_in_user(&server, &db, "+5352000061", "Eva", &[Role::Editor]).await?;
    let hostile = "<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n\
        [javascript:alert(1) clic]\n<div onclick=\"alert(1)\">x</div>\n\
        {{#if:1|<script>alert(2)</script>}}\n<scr<script>ipt>alert(3)</script>\n\
        [[Archivo:x.png|<script>]]\n";
    let first = saved(&server, &editor, "Peligro", hostile, None).await?;
    saved(
        &server,
        &editor,
        "Peligro",
        &format!("{hostile}\n<SCRIPT>"),
        Some(&first),
    )
    .await?;
    for path in [
        "/wiki/Peligro",
        "/wiki/Peligro?accion=historial",
        "/wiki/Peligro?accion=editar",
        &format!("/wiki/Peligro?oldid={first}"),
    ] {
        let page = get_as(&server, &editor, path).await?;
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        assert!(
            !page.text().to_lowercase().contains("<script"),
            "{path}: {}",
            page.text()
        );
        // Escaped as text, never as tags with handlers.
        assert!(!page.text().contains("<img"), "{path}");
        assert!(!page.text().contains("<div onclick"), "{path}");
    }
    let page = server.get(&format!("/wiki/Peligro?diff={first}")).await?;
    assert!(
        !page.text().to_lowercase().contains("<script"),
        "{}",
        page.text()
    );
    let api = page_json(&server, "Peligro").await?;
    assert!(
        !api["html"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("<script")
    );
    Ok(())
}

async fn categories_what_links_here_and_redirects(database: TestDatabase) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, editor) = signed_in_user(&server, &db, "+5352000071", "Eva", &[Role::Editor]).await?;
    saved(
        &server,
        &editor,
        "Río Cauto",
        "El más largo. Desemboca cerca de [[Manzanillo]].\n[[Categoría:Ríos de Cuba]]",
        None,
    )
    .await?;
    saved(
        &server,
        &editor,
        "Río Toa",
        "Caudaloso.\n[[Categoría:Ríos de Cuba]]",
        None,
    )
    .await?;
    saved(&server, &editor, "Manzanillo", "Ciudad.", None).await?;
    saved(
        &server,
        &editor,
        "Cauto",
        "#REDIRECCIÓN [[Río Cauto]]",
        None,
    )
    .await?;

    let category = server.get("/wiki/Categor%C3%ADa:R%C3%ADos_de_Cuba").await?;
    assert_eq!(category.status, 404, "the category page has no text yet");
    let html = category.text();
    assert!(
        html.contains("Río Cauto") && html.contains("Río Toa"),
        "{html}"
    );
    let page = server.get("/wiki/R%C3%ADo_Cauto").await?.text();
    assert!(
        page.contains("id=\"categorias\"") && page.contains("Ríos de Cuba"),
        "{page}"
    );
    let api = page_json(&server, "R%C3%ADo_Cauto").await?;
    assert_eq!(api["categories"], json!(["Ríos de Cuba"]));

    let links = server
        .get("/wiki/Especial:LoQueEnlazaAqu%C3%AD/Manzanillo")
        .await?;
    assert_eq!(links.status, 200, "{}", links.text());
    assert!(links.text().contains("Río Cauto"), "{}", links.text());
    assert!(!links.text().contains("Río Toa"));

    let redirected = server.get("/wiki/Cauto").await?.text();
    assert!(redirected.contains("Redirigido desde"), "{redirected}");
    assert!(redirected.contains("El más largo"), "{redirected}");
    let itself = server.get("/wiki/Cauto?redirect=no").await?.text();
    assert!(!itself.contains("Redirigido desde"), "{itself}");

    let recent = server.get("/wiki/Especial:CambiosRecientes").await?;
    assert_eq!(recent.status, 200);
    assert!(recent.text().contains("Manzanillo"), "{}", recent.text());
    Ok(())
}

async fn a_person_without_javascript_reads_edits_and_searches(
    database: TestDatabase,
) -> TestResult {
    let db = database.db;
    let server = TestServer::start(&db).await?;
    let (_, editor) = signed_in_user(&server, &db, "+5352000081", "Eva", &[Role::Editor]).await?;
    saved(
        &server,
        &editor,
        "Portada",
        "Bienvenidos a la Enciclopedia.",
        None,
    )
    .await?;
    signed_in_user(&server, &db, "+5352000082", "Pepe", &[Role::Citizen]).await?;
    let mut browser = Browser::new(&server);
    let response = sign_in_by_form(&mut browser, "+5352000082").await?;
    assert_eq!(response.status, 303, "{}", response.text());

    let page = browser.get("/wiki").await?;
    assert_eq!(page.status, 303);
    let page = browser.get("/wiki/Portada").await?;
    assert!(page.text().contains("Bienvenidos"), "{}", page.text());
    let form_page = browser.get("/wiki/Portada?accion=editar").await?;
    assert_eq!(form_page.status, 200, "{}", form_page.text());
    let html = form_page.text();
    let csrf = support::csrf_of(&html).ok_or("no _csrf")?;
    let base = support::field_of(&html, "base").ok_or("no base")?;
    assert!(unescape_html(&html).contains("Bienvenidos a la Enciclopedia."));
    // Without the form's _csrf the cookie alone changes nothing.
    let forged = browser
        .post(
            "/wiki/Portada",
            &[("texto", "Falsificado"), ("base", &base)],
        )
        .await?;
    assert_eq!(forged.status, 403);
    let response = browser
        .post(
            "/wiki/Portada",
            &[
                ("_csrf", &csrf),
                ("base", &base),
                (
                    "texto",
                    "Bienvenidos a la Enciclopedia cubana de los guajiros.\r\n",
                ),
                ("resumen", "más cálido"),
            ],
        )
        .await?;
    assert_eq!(response.status, 303, "{}", response.text());
    let page = browser.get("/wiki/Portada").await?.text();
    assert!(page.contains("guajiros"), "{page}");
    let history = browser.get("/wiki/Portada?accion=historial").await?.text();
    assert!(history.contains("más cálido"), "{history}");
    let found = browser.get("/wiki/Especial:Buscar?q=guajiro").await?.text();
    assert!(found.contains("/wiki/Portada"), "{found}");
    // Watching the page puts its changes on the watchlist.
    let csrf = support::csrf_of(&page).ok_or("no _csrf on the page")?;
    let watched = browser
        .post(
            "/wiki/Portada?accion=vigilar",
            &[("_csrf", &csrf), ("vigilar", "1")],
        )
        .await?;
    assert_eq!(watched.status, 303, "{}", watched.text());
    let list = browser.get("/wiki/Especial:Seguimiento").await?.text();
    assert!(list.contains("más cálido"), "{list}");
    Ok(())
}
